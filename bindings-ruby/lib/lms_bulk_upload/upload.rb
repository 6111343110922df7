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

    def inspect
      "#<LmsBulkUpload::Upload rows=#{size} valid=#{valid_count} issues=#{issues.size}>"
    end

    private

    def row_from(hash)
      Row.from_h(hash)
    end
  end
end
