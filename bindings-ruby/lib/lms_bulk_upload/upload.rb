# frozen_string_literal: true

module LmsBulkUpload
  # A parsed file: rows (Row structs, read from the native upload on demand) and issues.
  class Upload
    include Enumerable

    CHUNK = 1024
    private_constant :CHUNK

    attr_reader :native

    def initialize(native)
      @native = native
    end

    # Data rows (blank lines are not rows).
    def size
      @native.row_count
    end
    alias length size

    # Rows without errors.
    def valid_count
      @native.valid_count
    end

    def errors?
      @native.has_errors
    end

    # Every issue: file-level ones first, then by line.
    def issues
      @issues ||= JSON.parse(@native.issues_json).map { |i| Issue.from_h(i) }.freeze
    end

    # The row at `index` (0-based), or nil.
    def [](index)
      index += size if index.negative?
      return nil if index.negative?

      rows_from(index, 1).first
    end

    def each(&block)
      return enum_for(:each) { size } unless block

      (0...size).step(CHUNK) { |start| rows_from(start, CHUNK).each(&block) }
      self
    end

    def rows
      to_a
    end

    # Encoding, delimiter, header, counts and issues, as a Hash.
    def report
      LmsBulkUpload.from_json(@native.report_json)
    end

    def inspect
      "#<LmsBulkUpload::Upload rows=#{size} valid=#{valid_count} issues=#{issues.size}>"
    end

    private

    def rows_from(start, count)
      JSON.parse(@native.rows_json(start, count)).map { |r| Row.from_h(r) }
    end
  end
end
