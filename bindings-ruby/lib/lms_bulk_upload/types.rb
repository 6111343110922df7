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
  # `email`, `first_name` and `last_name` as written; `custom` the cells of the host's
  # declared profile fields, by field name (empty when none).
  Row = Struct.new(:line, :values, :email, :first_name, :last_name, :add_groups, :remove_groups, :custom,
                   :valid, :issues, keyword_init: true) do
    def valid?
      valid
    end

    def [](column)
      column.is_a?(Symbol) || column.is_a?(String) ? values[column.to_sym] : super
    end

    def self.from_h(hash)
      new(**hash.slice(*members), issues: hash[:issues].map { |i| Issue.from_h(i) })
    end
  end

  # The plan for one row: `action` ("create", "update", "unchanged", "rejected"),
  # `user_id` (nil for a new user), `operations` and `noops` (Hashes tagged by `:op`, `[]`
  # when none), `issues` (Issue structs). `row[:operations]` reads a field too.
  PlanRow = Struct.new(:line, :email, :first_name, :last_name, :action, :user_id, :operations, :noops, :issues,
                       keyword_init: true) do
    def self.from_h(hash)
      new(**hash.slice(*members), issues: hash[:issues].map { |i| Issue.from_h(i) })
    end
  end

  # The outcome of one row: `status` ("created", "updated", "unchanged", "rejected",
  # "failed"), `user_id`, `done` (what was done, Hashes tagged by `:op`, `[]` when nothing),
  # `error` (a Hash `{code:, message:}`, or nil).
  ResultRow = Struct.new(:line, :email, :status, :user_id, :done, :error, keyword_init: true) do
    def self.from_h(hash)
      new(**hash.slice(*members))
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
