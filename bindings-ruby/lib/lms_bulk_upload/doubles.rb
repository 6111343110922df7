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

    # How many times each store method was called, by name (`:find_users`...).
    def calls
      Native.call { LmsBulkUpload.from_json(@native.calls_json) }
    end

    # Adds a group; returns the store.
    def add_group(id, name)
      Native.call { @native.add_group(id.to_s, name.to_s) }
      self
    end

    # Adds a course, collection or campaign (`{kind: "course", id: "c1"}`); returns the store.
    def add_content(content)
      Native.call { @native.add_content(JSON.generate(HostAdapter.plain(content))) }
      self
    end

    # Adds an existing user (as a store's `find_users` returns one: `id`, `email`, `profile`
    # or its fields, `groups`, `enrolments`, `protected`...); returns the store.
    def add_user(user)
      Native.call { @native.add_user(JSON.generate(HostAdapter.plain(user))) }
      self
    end

    # The argon2id PHC string of the password of the user with `email`, or nil.
    def password_hash(email)
      Native.call { @native.password_hash(email) }
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

    # Forgets the messages.
    def clear
      Native.call { @native.clear }
      self
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
