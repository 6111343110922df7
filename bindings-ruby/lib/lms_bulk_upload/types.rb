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
      new(**hash.transform_keys(&:to_sym).slice(*members))
    end
  end

  # One data row of an upload: `values` maps canonical column names (:emailaddress,
  # :firstname...) to the cell's text; :course, :collection and :campaign hold the ids the
  # row enrols in (several separated by the group separator), enrolled beside the
  # settings' enrolments.
  Row = Struct.new(:line, :values, :add_groups, :remove_groups, :valid, :issues, keyword_init: true) do
    def valid?
      valid
    end

    def [](column)
      column.is_a?(Symbol) || column.is_a?(String) ? values[column.to_sym] : super
    end

    def email
      values[:emailaddress]
    end

    def self.from_h(hash)
      new(**hash.slice(*members), issues: hash[:issues].map { |i| Issue.from_h(i) })
    end
  end

  # An issue or error code with its severity and meaning.
  CodeInfo = Struct.new(:code, :severity, :meaning, keyword_init: true)

  # Given to the `progress:` callable after every row.
  Progress = Struct.new(:done, :total, :failed, keyword_init: true)

  # The rows of a native Upload or Plan, read in chunks as they are enumerated: the
  # including class defines `row_from(hash)`.
  module NativeRows
    include Enumerable

    CHUNK = 1024

    attr_reader :native

    def initialize(native)
      @native = native
    end

    def size
      @native.row_count
    end
    alias length size

    def each(&block)
      return enum_for(:each) { size } unless block

      (0...size).step(CHUNK) { |start| rows_from(start, CHUNK).each(&block) }
      self
    end

    def rows
      to_a
    end

    private

    def rows_from(start, count)
      LmsBulkUpload.from_json(@native.rows_json(start, count)).map { |r| row_from(r) }
    end
  end

  # Parses the core's JSON into Hashes with Symbol keys (frozen: they are views).
  def self.from_json(text)
    JSON.parse(text, symbolize_names: true, freeze: true)
  end
end
