# frozen_string_literal: true

module LmsBulkUpload
  # What an execution did, row by row; `to_json` is the same bytes in every language.
  class Results
    include Enumerable

    def initialize(native)
      @native = native
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

    def inspect
      "#<LmsBulkUpload::Results #{summary}>"
    end
  end
end
