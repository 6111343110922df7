# frozen_string_literal: true

module LmsBulkUpload
  # Base of every error the engine raises (also named LmsBulkUpload::Error). `code` is a
  # stable snake_case code (see LmsBulkUpload.issue_codes); `kind` the part of the flow
  # ("file", "settings", "plan", "store", "mailer": one subclass each); `message` the text
  # for people; `line` and `column` say where, for file errors that have a place;
  # `transient?` whether trying again may succeed. `to_s` is
  # "line 3: emailaddress: message [code]" (the place when there is one), as in every
  # language.
  class BulkUploadError < StandardError
    attr_reader :code, :line, :column, :kind

    # The kind of this class's errors.
    def self.kind
      "error"
    end

    def initialize(message = nil, code: "error", line: nil, column: nil, transient: false, kind: nil)
      super(message)
      @text = message.to_s
      @code = code
      @line = line
      @column = column
      @transient = transient
      @kind = kind || self.class.kind
    end

    def message
      @text
    end

    def to_s
      "#{line && "line #{line}: "}#{column && "#{column}: "}#{@text} [#{code}]"
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
        "store" => StoreError, "mailer" => MailerError, "invitation" => InvitationError }.fetch(kind, BulkUploadError)
    end

    def self.from_native(error)
      for_kind(error.kind).new(error.message, code: error.code, line: error.line, column: error.column,
                                              transient: error.transient, kind: error.kind)
    end
  end

  # The idiomatic Ruby name of the base class: `rescue LmsBulkUpload::Error`.
  Error = BulkUploadError

  # The file cannot be used at all (parse): empty, not CSV, a required column missing, a
  # limit passed.
  class FileError < Error
    def self.kind
      "file"
    end
  end

  # The settings or options are contradictory, incomplete or unknown, or name groups or
  # content that do not exist.
  class SettingsError < Error
    def self.kind
      "settings"
    end
  end

  # A plan cannot be read, was altered after planning, or cannot be executed as given.
  class PlanError < Error
    def self.kind
      "plan"
    end
  end

  # The host's store (or journal) failed outside a row, or does not follow the protocol.
  class StoreError < Error
    def self.kind
      "store"
    end
  end

  # The host's mailer failed outside a row, or does not follow the protocol.
  class MailerError < Error
    def self.kind
      "mailer"
    end
  end

  # A sign-in link that does not work: `invitation_unknown` (never issued, replaced by a newer
  # one, or revoked by an undo), `invitation_used` or `invitation_expired`.
  class InvitationError < Error
    def self.kind
      "invitation"
    end
  end

  # Raise it (or any exception whose `transient?` is true) from a host store or mailer
  # method to say that trying again may succeed: the engine retries a bounded number of
  # times.
  class TransientError < StandardError
    def transient?
      true
    end
  end
end
