# frozen_string_literal: true

module LmsBulkUpload
  # The engine's store in memory, for tests and previews: `MemoryStore.new(state)` with a
  # StoreState Hash (`groups`, `content`, `users`) or nothing.
  class MemoryStore
    attr_reader :native

    def initialize(state = nil)
      json = state.is_a?(String) ? state : JSON.generate(HostAdapter.plain(state))
      @native = Native.call { LmsBulkUploadNative::MemoryStore.new(json) }
    end

    # What the store holds now, as a StoreState Hash (Symbol keys).
    def state
      Native.call { LmsBulkUpload.from_json(@native.state_json) }
    end

    # How many times each store method was called.
    def calls
      Native.call { LmsBulkUpload.from_json(@native.calls_json) }
    end

    # Whether `password` is the one stored (as its argon2id hash) for the user with `email`.
    def verify_password(email, password)
      Native.call { @native.verify_password(email, password) }
    end
  end

  # A mailer that keeps every message (for tests): `messages` are Hashes as a host mailer's
  # `send` gets them, the password included when the message carries one.
  class RecordingMailer
    attr_reader :native

    def initialize
      @native = LmsBulkUploadNative::RecordingMailer.new
    end

    def messages
      Native.call { LmsBulkUpload.from_json(@native.messages_json) }
    end
  end

  # A journal in memory: pass the same one again to resume a cancelled execution.
  class MemoryJournal
    attr_reader :native

    def initialize
      @native = LmsBulkUploadNative::MemoryJournal.new
    end
  end

  # Stops an execution between rows once `cancel` is called (from any thread, or from a
  # host method or the progress callable).
  class CancelToken
    attr_reader :native

    def initialize
      @native = LmsBulkUploadNative::CancelToken.new
    end

    def cancel
      @native.cancel
    end

    def cancelled?
      @native.is_cancelled
    end
  end
end
