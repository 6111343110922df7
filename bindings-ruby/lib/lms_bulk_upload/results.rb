# frozen_string_literal: true

module LmsBulkUpload
  # What an execution did, row by row; `to_json` is the same bytes in every language.
  class Results
    include Enumerable

    attr_reader :native

    # The results of every shard of `parent` (each exactly once, any order) merged into the
    # parent's: rows in the parent's order, the counts made again. Raises PlanError
    # (`shard_missing`, `shard_duplicate`, `shard_foreign`, `shard_result_mismatch` for a row
    # naming another person than the parent's row on its line).
    def self.merge(parent, results)
      raise TypeError, "merge takes an LmsBulkUpload::Plan, not #{parent.class}" unless parent.is_a?(Plan)

      natives = results.map do |r|
        raise TypeError, "merge takes LmsBulkUpload::Results, not #{r.class}" unless r.is_a?(Results)

        r.native
      end
      Native.call { new(LmsBulkUploadNative::Results.merge(parent.native, natives)) }
    end

    # Results read back from `to_json` (a shard's for `merge`). Raises PlanError
    # (`invalid_results`) for JSON that is not results or whose summary does not match its
    # rows. They are not `verified?`: `plan_undo` refuses them unless the options say
    # `results_from_trusted_storage`; keep results with `to_signed_json` instead.
    def self.from_json(json)
      raise TypeError, "from_json takes a String, not #{json.class}" unless json.is_a?(String)

      Native.call { new(LmsBulkUploadNative::Results.from_json(json)) }
    end

    # Results written by `to_signed_json` with the same PlanKey (kept where others can
    # write); raises PlanError (`results_unsigned`, `results_signature_invalid`) otherwise.
    # The results are `verified?`.
    def self.from_signed_json(json, key)
      raise TypeError, "from_signed_json takes a String, not #{json.class}" unless json.is_a?(String)
      raise TypeError, "from_signed_json takes an LmsBulkUpload::PlanKey, not #{key.class}" unless key.is_a?(PlanKey)

      Native.call { new(LmsBulkUploadNative::Results.from_signed_json(json, key.native)) }
    end

    def initialize(native)
      @native = native
    end

    # The results' JSON with an HMAC-SHA-256 `signature` under `key`.
    def to_signed_json(key)
      raise TypeError, "to_signed_json takes an LmsBulkUpload::PlanKey, not #{key.class}" unless key.is_a?(PlanKey)

      @native.to_signed_json(key.native)
    end

    # Whether the engine vouches for these results (from `execute` in this process,
    # `from_signed_json`, or merged from such): `plan_undo` refuses others
    # (`results_unsigned`) unless the options say `results_from_trusted_storage`.
    def verified?
      @native.verified
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
      @json = @to_h = @head = nil
    end

    def to_json(*_args)
      @json ||= @native.to_json
    end

    # Formula-safe CSV (`line,email,status,user_id,done,error`) for a spreadsheet.
    def to_csv
      @native.to_csv
    end

    # The whole results as a Hash (Symbol keys), as in their JSON.
    def to_h
      @to_h ||= LmsBulkUpload.from_json(to_json)
    end

    # The counts (`rows`, `created`, `updated`, `unchanged`, `rejected`, `failed`, ...),
    # every one present (0 included).
    def summary
      head[:summary]
    end

    # One ResultRow per row: `line`, `email`, `status`, `user_id`, `done`, `error`.
    def rows
      to_a
    end

    def size
      @native.row_count
    end
    alias length size

    def each(&block)
      return enum_for(:each) { size } unless block

      (0...size).step(NativeRows::CHUNK) do |start|
        LmsBulkUpload.from_json(@native.rows_json(start, NativeRows::CHUNK)).each { |r| block.call(ResultRow.from_h(r)) }
      end
      self
    end

    def cancelled?
      head[:cancelled]
    end

    def fingerprint
      head[:fingerprint]
    end

    # For the results of an undo: the fingerprint of the upload it reversed; nil otherwise.
    def undo_of
      head[:undo_of]
    end

    # Why the uploader's confirmation was not sent (`{code:, message:}`), or nil.
    def confirmation_error
      head[:confirmation_error]
    end

    # Which shard these are the results of (`{parent:, index:, count:}`), or nil.
    def shard
      head[:shard]
    end

    # Whether the uploader's confirmation is still to be sent (a shard's results, or merged
    # results before `send_confirmation`).
    def confirmation_deferred?
      head[:confirmation_deferred]
    end

    def inspect
      "#<LmsBulkUpload::Results #{summary}>"
    end

    private

    def head
      @head ||= LmsBulkUpload.from_json(@native.head_json)
    end
  end
end
