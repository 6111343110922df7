# frozen_string_literal: true

module LmsBulkUpload
  # The administrator's choices, from keyword arguments (snake_case, as the core names them:
  # `enrol_existing_users:`, `generate_passwords:`, `default_password:`,
  # `enrolments: [{kind: "course", id: "c1"}]`, `groups: ["Sales"]`, `uploader_email:`,
  # `default_login_method:` (how new users without an `auth` value sign in: nil/"password"
  # or one of the parse option `login_methods`), `suspend_missing_users:` (suspend the users
  # of the store's `scope_users` the file does not name), `missing_users_threshold:` (at
  # most this percentage of them, default 10)...), decoded and validated by the core.
  # Raises SettingsError.
  class Settings
    attr_reader :native

    def initialize(**settings)
      json = JSON.generate(HostAdapter.plain(settings))
      @native = Native.call { LmsBulkUploadNative::Settings.new(json) }
    end

    # The settings as a Hash, without the default password (`has_default_password` says
    # whether one is set).
    def to_h
      LmsBulkUpload.from_json(@native.to_json)
    end

    def inspect
      "#<LmsBulkUpload::Settings #{to_h}>"
    end
  end

  # A host's key for signing plans (HMAC-SHA-256, 32 bytes at least): `PlanKey.generate`,
  # `PlanKey.from_hex(hex)`, `PlanKey.new(bytes)`. `inspect` never shows it; `to_hex` does,
  # for the host to store where only it can read it.
  class PlanKey
    attr_reader :native

    def self.generate
      allocate.tap { |k| k.instance_variable_set(:@native, LmsBulkUploadNative::PlanKey.generate) }
    end

    def self.from_hex(hex)
      allocate.tap { |k| k.instance_variable_set(:@native, Native.call { LmsBulkUploadNative::PlanKey.from_hex(hex) }) }
    end

    def initialize(bytes)
      @native = Native.call { LmsBulkUploadNative::PlanKey.from_bytes(bytes) }
    end

    def to_hex
      @native.to_hex
    end

    def inspect
      "#<LmsBulkUpload::PlanKey [REDACTED]>"
    end
    alias to_s inspect
  end

  # A deterministic plan: what execution will do, row by row. Its JSON holds no password.
  # Enumerating it gives PlanRow structs (`line`, `email`, `action`, `operations`,
  # `noops`, `issues`...).
  class Plan
    include NativeRows

    # Reads a plan back; raises PlanError for another format version or altered content.
    # A plan made with a default password needs it again: `execute(..., default_password:)`.
    def self.from_json(json)
      new(Native.call { LmsBulkUploadNative::Plan.from_json(json) })
    end

    # Reads a plan written by `to_signed_json` with the same PlanKey; raises PlanError
    # (`plan_unsigned`, `plan_signature_invalid`, ...) otherwise.
    def self.from_signed_json(json, key)
      new(Native.call { LmsBulkUploadNative::Plan.from_signed_json(json, key.native) })
    end

    def to_json(*_args, pretty: false)
      @native.to_json(pretty)
    end

    # The plan JSON with an HMAC-SHA-256 `signature` under `key` (a PlanKey): a plan that
    # travels through hands or storage the host does not trust.
    def to_signed_json(key)
      @native.to_signed_json(key.native)
    end

    # "sha256:..." of the plan's content.
    def fingerprint
      @native.fingerprint
    end

    # The counts (`rows`, `create`, `update`, `unchanged`, `rejected`, ...), Symbol keys,
    # every one present (0 included).
    def summary
      @summary ||= LmsBulkUpload.from_json(@native.summary_json)
    end

    # The settings the plan was made with.
    def settings
      LmsBulkUpload.from_json(@native.settings_json)
    end

    def file_issues
      JSON.parse(@native.file_issues_json).map { |i| Issue.from_h(i) }
    end

    # Performs the plan against the store (a MemoryStore or any object with the store's
    # methods) and the mailer (a RecordingMailer or any object with `send`), returning
    # Results. `journal:` (a MemoryJournal or an object with `load`, `begin`, `finish`)
    # makes it resumable; `progress:` is called with a Progress after every row (false stops);
    # `cancel:` a CancelToken. Other options go to the core as they are: `default_password:`,
    # `hash_params: {memory_kib:, iterations:, parallelism:}` (weaker than OWASP only with
    # `insecure_for_tests: true`), `batch_size:`, `retries:`,
    # `retry_delay_ms:`, `threads:`, `templates:`.
    def execute(store, mailer, journal: nil, progress: nil, cancel: nil, **options)
      cancel ||= CancelToken.new
      args = [Native.store_arg(store), Native.mailer_arg(mailer), Native.journal_arg(journal)].compact
      args.each { |a| a.cancel = cancel if a.respond_to?(:cancel=) }
      sink = progress && ProgressAdapter.new(progress)
      store_arg, mailer_arg, journal_arg = args[0].arg, args[1].arg, journal && args[2].arg
      Native.call(*args, *sink) do
        Results.new(@native.execute(store_arg, mailer_arg, journal_arg, Native.options_json(options),
                                    sink, cancel.native))
      end
    end

    # The plan cut into shards (Plans) of `rows_per_shard` rows, in row order, for workers to
    # execute independently (docs/shards.md). A plan that sets the default password needs it
    # here, `default_password:`, hashed once at `hash_params:` so that the shards carry only
    # its hash. Raises PlanError (`plan_is_shard`, `default_password_required`,
    # `invalid_option` for 0 rows).
    def shards(rows_per_shard, default_password: nil, hash_params: nil)
      raise TypeError, "rows_per_shard must be an Integer, not #{rows_per_shard.class}" unless rows_per_shard.is_a?(Integer)
      raise ArgumentError, "rows_per_shard must not be negative" if rows_per_shard.negative?

      params = JSON.generate(hash_params && HostAdapter.plain(hash_params))
      Native.call { @native.shards(rows_per_shard, default_password, params).map { |n| Plan.new(n) } }
    end

    # The fingerprint of the upload this plan undoes (LmsBulkUpload.plan_undo), or nil for a
    # plan that is no undo.
    def undo_of
      @native.undo_of
    end

    # Which shard this plan is, `{parent: "sha256:...", index:, count:}`, or nil for a whole plan.
    def shard
      LmsBulkUpload.from_json(@native.shard_json)
    end

    def inspect
      "#<LmsBulkUpload::Plan #{fingerprint} #{summary}>"
    end

    private

    def row_from(hash)
      PlanRow.from_h(hash)
    end
  end
end
