# frozen_string_literal: true

module LmsBulkUpload
  # Base of every error the engine raises. `code` is a stable snake_case code (see
  # LmsBulkUpload.issue_codes); `line` and `column` say where, for file errors that have a
  # place; `transient?` whether trying again may succeed.
  class Error < StandardError
    attr_reader :code, :line, :column

    def initialize(message = nil, code: "error", line: nil, column: nil, transient: false)
      super(message)
      @code = code
      @line = line
      @column = column
      @transient = transient
    end

    def transient?
      @transient
    end

    def inspect
      place = [line && "line #{line}", column].compact.join(", ")
      "#<#{self.class.name} #{code}#{place.empty? ? '' : " (#{place})"}: #{message}>"
    end

    # The exception class for each kind of native error: the one table.
    def self.for_kind(kind)
      { "file" => FileError, "settings" => SettingsError, "plan" => PlanError,
        "store" => StoreError, "mailer" => MailerError, "invitation" => InvitationError }.fetch(kind, Error)
    end

    def self.from_native(error)
      for_kind(error.kind).new(error.message, code: error.code, line: error.line,
                                              column: error.column, transient: error.transient)
    end
  end

  # The file cannot be used at all (parse): empty, not CSV, a required column missing, a
  # limit passed.
  class FileError < Error; end

  # The settings or options are contradictory, incomplete or unknown, or name groups or
  # content that do not exist.
  class SettingsError < Error; end

  # A plan cannot be read, was altered after planning, or cannot be executed as given.
  class PlanError < Error; end

  # The host's store (or journal) failed outside a row, or does not follow the protocol.
  class StoreError < Error; end

  # The host's mailer failed outside a row, or does not follow the protocol.
  class MailerError < Error; end

  # A sign-in link that does not work: `invitation_unknown` (never issued, replaced by a newer
  # one, or revoked by an undo), `invitation_used` or `invitation_expired`.
  class InvitationError < Error; end

  # Raise it (or any exception whose `transient?` is true) from a host store or mailer
  # method to say that trying again may succeed: the engine retries a bounded number of
  # times.
  class TransientError < StandardError
    def transient?
      true
    end
  end
end
