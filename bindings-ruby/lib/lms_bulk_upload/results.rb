# frozen_string_literal: true

module LmsBulkUpload
  # What an execution did, row by row; `to_json` is the same bytes in every language.
  class Results
    include Enumerable

    attr_reader :native

    # The results of every shard of `parent` (each exactly once, any order) merged into the
    # parent's: rows in the parent's order, the counts made again. Raises PlanError
    # (`shard_missing`, `shard_duplicate`, `shard_foreign`).
    def self.merge(parent, results)
      raise TypeError, "merge takes an LmsBulkUpload::Plan, not #{parent.class}" unless parent.is_a?(Plan)

      natives = results.map do |r|
        raise TypeError, "merge takes LmsBulkUpload::Results, not #{r.class}" unless r.is_a?(Results)

        r.native
      end
      Native.call { new(LmsBulkUploadNative::Results.merge(parent.native, natives)) }
    end

    # Results read back from `to_json` (kept by the host, to undo the upload later, or a
    # shard's for `merge`). Raises PlanError (`invalid_results`) for JSON that is not
    # results or whose summary does not match its rows.
    def self.from_json(json)
      raise TypeError, "from_json takes a String, not #{json.class}" unless json.is_a?(String)

      Native.call { new(LmsBulkUploadNative::Results.from_json(json)) }
    end

    def initialize(native)
      @native = native
    end

    # Sends the uploader of `parent` the one confirmation with these (merged) results' counts,
    # through `mailer` (a RecordingMailer or any object with `send`); `templates:` as for
    # `Plan#execute`. Raises MailerError (its outcome is in `to_h[:confirmation_error]`).
    # The engine does not remember having sent it: a finaliser that may run twice records it.
    def send_confirmation(parent, mailer, templates: nil)
      raise TypeError, "send_confirmation takes an LmsBulkUpload::Plan, not #{parent.class}" unless parent.is_a?(Plan)

      adapter = Native.mailer_arg(mailer)
      json = JSON.generate(templates && HostAdapter.plain(templates))
      Native.call(adapter) { @native.send_confirmation(parent.native, adapter.arg, json) }
    ensure
      @json = @to_h = nil
    end

    def to_json(*_args)
      @json ||= @native.to_json
    end

    # Formula-safe CSV (`line,email,status,user_id,done,error`) for a spreadsheet.
    def to_csv
      @native.to_csv
    end

    # The whole results as a Hash (Symbol keys).
    def to_h
      @to_h ||= LmsBulkUpload.from_json(to_json)
    end

    # The counts (`rows`, `created`, `updated`, `unchanged`, `rejected`, `failed`, ...).
    def summary
      to_h[:summary]
    end

    # One Hash per row: `line`, `email`, `status`, `user_id`, `done`, `error`.
    def rows
      to_h[:rows]
    end

    def each(&block)
      rows.each(&block)
    end

    def cancelled?
      to_h[:cancelled]
    end

    def fingerprint
      to_h[:fingerprint]
    end

    # For the results of an undo: the fingerprint of the upload it reversed; nil otherwise.
    def undo_of
      to_h[:undo_of]
    end

    def inspect
      "#<LmsBulkUpload::Results #{summary}>"
    end
  end
end
