# frozen_string_literal: true

# lms_bulk_upload — the engine behind an LMS's "bulk upload users from a CSV" screen.
#
#   upload   = LmsBulkUpload.parse(Pathname("users.csv"))        # rows + issues
#   settings = LmsBulkUpload::Settings.new(generate_passwords: true)
#   plan     = LmsBulkUpload.plan(upload, settings, store)        # reads the store only
#   results  = plan.execute(store, mailer)                        # writes, sends mail
#   undo     = LmsBulkUpload.plan_undo(results, store)            # a Plan that reverses it
#
# The work is done by the Rust core (through the uniffi-generated LmsBulkUploadNative
# module); this gem converts types. A host's store, mailer or journal is any Ruby object
# with the methods (see README.md); structured values are Hashes with Symbol keys, made
# from the core's own JSON.

require "json"
require "pathname"

require_relative "lms_bulk_upload/native"
require_relative "lms_bulk_upload/errors"
require_relative "lms_bulk_upload/types"
require_relative "lms_bulk_upload/host_adapter"
require_relative "lms_bulk_upload/upload"
require_relative "lms_bulk_upload/doubles"
require_relative "lms_bulk_upload/plan"
require_relative "lms_bulk_upload/results"
require_relative "lms_bulk_upload/web"
require_relative "lms_bulk_upload/rack"

module LmsBulkUpload
  # The engine's version.
  VERSION = LmsBulkUploadNative.version
  # The plan format version this engine writes and reads.
  PLAN_FORMAT_VERSION = LmsBulkUploadNative.plan_format_version

  module_function

  # Parses an uploaded file: a String of its bytes (any encoding Excel writes), a Pathname,
  # or an IO. Options (`delimiter:`, `group_separator:`, `max_file_bytes:`, `max_rows:`,
  # `max_field_bytes:`, `max_columns:`, `max_value_chars:`, `max_issues_per_row:`,
  # `max_issues:`, `clear_token:` (default "#clear", "" for none), `fields:` (the host's own
  # profile fields: `[{name: "department", aliases: ["dept"], kind: "text" | "one_of" |
  # "date" | "number", values: [...], required: true, max_length: 40}]`), `login_methods:`
  # (besides "password": `["saml"]`, the `auth` column's values), `sheet:` (a workbook's
  # sheet by name: see `sheet_names`), `encoding:` (`"windows-1250"`...),
  # `column_assignments:` (columns matched by hand: `{1 => "last name", 3 => nil}`, a header
  # cell's 0-based position to the name of a column or declared field, or nil to ignore
  # it), `threads:`) are decoded by the core.
  # Raises FileError when the file cannot be used at all, SettingsError (`invalid_option`)
  # for an unknown option, a bad declaration, or a column assignment past the header or to
  # an unknown name.
  def parse(data, **options)
    bytes = file_bytes(data, "parse")
    Native.call { Upload.new(Native.parse(bytes, JSON.generate(options))) }
  end

  # The names of a workbook's sheets (.xlsx, .xls, .ods, recognised by content), in the
  # workbook's order, for the administrator to choose one (`parse(data, sheet: name)`);
  # `[]` for a CSV file. Takes what `parse` takes, options included (their limits hold
  # before the workbook is opened). Raises FileError when the file cannot be read,
  # SettingsError (`invalid_option`) for an unknown option.
  def sheet_names(data, **options)
    bytes = file_bytes(data, "sheet_names")
    Native.call { LmsBulkUploadNative.sheet_names(bytes, JSON.generate(options)) }
  end

  # The bytes of a file given as a String, a Pathname or an IO.
  def file_bytes(data, method)
    case data
    when Pathname then File.binread(data)
    when String then data
    else
      raise TypeError, "#{method} takes a String, a Pathname or an IO, not #{data.class}" unless data.respond_to?(:read)

      data.read
    end
  end
  private_class_method :file_bytes

  # Plans an upload against a store (a MemoryStore or any object with the store's methods),
  # which is only read. `settings`: Settings, or a Hash of its keyword arguments. Raises
  # SettingsError or StoreError.
  def plan(upload, settings, store)
    raise TypeError, "plan takes an LmsBulkUpload::Upload, not #{upload.class}" unless upload.is_a?(Upload)

    settings = Settings.new(**settings.transform_keys(&:to_sym)) if settings.is_a?(Hash)
    raise TypeError, "plan takes LmsBulkUpload::Settings or a Hash, not #{settings.class}" unless settings.is_a?(Settings)

    adapter = Native.store_arg(store)
    Native.call(adapter) do
      Plan.new(LmsBulkUploadNative.plan(upload.native, settings.native, adapter.arg))
    end
  end

  # Plans the undo of an upload from its Results (options as a Hash or as keywords) (`Results.from_json` reads back results kept
  # as JSON) against the store as it is now, which is only read: an ordinary Plan (preview
  # it, keep it, sign it, execute it), whose `undo_of` is the upload's fingerprint. Options
  # are decoded by the core: `delete_created_users:` (default false: suspend them),
  # `uploader_email:` (who gets the confirmation), `results_url:`. Raises SettingsError
  # (`invalid_option`, `invalid_setting`), PlanError (`undo_of_undo`: these are the results
  # of an undo) or StoreError (`undo_unsupported`: the undo needs a store method the store
  # lacks, `suspend_user`, `delete_user` or `withdraw`; nothing was written).
  def plan_undo(results, store, given = nil, **options)
    raise TypeError, "plan_undo takes LmsBulkUpload::Results, not #{results.class}" unless results.is_a?(Results)
    raise TypeError, "plan_undo's options are a Hash, not #{given.class}" unless given.nil? || given.is_a?(Hash)

    options = given.merge(options) if given

    adapter = Native.store_arg(store)
    Native.call(adapter) do
      Plan.new(LmsBulkUploadNative.plan_undo(results.native, adapter.arg, Native.options_json(options)))
    end
  end

  # The invited user's id when a sign-in link's token works (checked through the store's
  # `find_invitation`, compared in constant time); raises InvitationError
  # (`invitation_unknown`, `invitation_used`, `invitation_expired`) otherwise. Does not use
  # the link up. `now:` seconds since the Unix epoch (default: now).
  def verify_invitation(store, token, now: nil)
    adapter = Native.store_arg(store)
    Native.call(adapter) { LmsBulkUploadNative.verify_invitation(adapter.arg, token.to_s, false, now) }
  end

  # verify_invitation, then uses the link up through the store's `redeem_invitation` (once:
  # a second call raises `invitation_used`); the store drops the user's other links. Set the
  # password the user chose, then commit.
  def redeem_invitation(store, token, now: nil)
    adapter = Native.store_arg(store)
    Native.call(adapter) { LmsBulkUploadNative.verify_invitation(adapter.arg, token.to_s, true, now) }
  end

  # The identity of an address, as the engine compares them: lowercase, the domain mapped
  # to ASCII by IDNA ("ana@Bücher.de" is "ana@xn--bcher-kva.de"). A store that looks users
  # up itself keys them by it.
  def email_key(email)
    LmsBulkUploadNative.email_key(email.to_s)
  end

  # Whether `password` matches a stored argon2id PHC hash ("$argon2id$v=19$..."): a host's
  # login check, or a test of what an upload stored in the host's own database.
  def verify_password(phc, password)
    LmsBulkUploadNative.verify_password(phc.to_s, password.to_s)
  end

  # Every issue and error code: CodeInfo (code, severity, meaning) structs.
  def issue_codes
    JSON.parse(LmsBulkUploadNative.issue_codes_json).map { |c| CodeInfo.new(**c.transform_keys(&:to_sym).slice(*CodeInfo.members)) }
  end
end
