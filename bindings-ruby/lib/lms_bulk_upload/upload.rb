# frozen_string_literal: true

module LmsBulkUpload
  # A parsed file: rows (Row structs, read from the native upload on demand) and issues.
  class Upload
    include NativeRows

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

    # Format, sheet, encoding, delimiter, header, counts and issues, as a Hash.
    def report
      LmsBulkUpload.from_json(@native.report_json)
    end

    # What was read: "csv", "xlsx", "xls" or "ods".
    def format
      head[:format]
    end

    # The sheet read, for a spreadsheet (nil for a CSV).
    def sheet
      head[:sheet]
    end

    # The encoding the file was read with ("utf-8" for a spreadsheet).
    def encoding
      head[:encoding]
    end

    def delimiter
      head[:delimiter]
    end

    def group_separator
      head[:group_separator]
    end

    # The header cells and the columns they were read as.
    def header
      head[:header]
    end

    def inspect
      "#<LmsBulkUpload::Upload rows=#{size} valid=#{valid_count} issues=#{issues.size}>"
    end

    private

    def head
      @head ||= LmsBulkUpload.from_json(@native.head_json)
    end

    def row_from(hash)
      Row.from_h(hash)
    end
  end
end
