# frozen_string_literal: true

module LmsBulkUpload
  # One issue of a file or a row: a stable code, its severity, where, and what.
  Issue = Struct.new(:code, :severity, :line, :column, :message, keyword_init: true) do
    def error?
      severity == "error"
    end

    def warning?
      severity == "warning"
    end

    def self.from_h(hash)
      new(**hash.transform_keys(&:to_sym))
    end
  end

  # One data row of an upload: `values` maps canonical column names ("emailaddress",
  # "firstname"...) to the cell's text.
  Row = Struct.new(:line, :values, :add_groups, :remove_groups, :valid, :issues, keyword_init: true) do
    def valid?
      valid
    end

    def [](column)
      column.is_a?(Symbol) || column.is_a?(String) ? values[column.to_s] : super
    end

    def email
      values["emailaddress"]
    end

    def self.from_h(hash)
      new(line: hash["line"], values: hash["values"], add_groups: hash["add_groups"],
          remove_groups: hash["remove_groups"], valid: hash["valid"],
          issues: hash["issues"].map { |i| Issue.from_h(i) })
    end
  end

  # An issue or error code with its severity and meaning.
  CodeInfo = Struct.new(:code, :severity, :meaning, keyword_init: true)

  # Given to the `progress:` callable after every row.
  Progress = Struct.new(:done, :total, :failed, keyword_init: true)

  # Parses the core's JSON into Hashes with Symbol keys (frozen: they are views).
  def self.from_json(text)
    JSON.parse(text, symbolize_names: true, freeze: true)
  end
end
