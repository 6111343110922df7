# frozen_string_literal: true

# The screens of lms_bulk_upload as this LMS mounts them (config/routes.rb): its hooks,
# store and mailer, one Rack app per process (web server and Sidekiq worker alike).
module BulkUploadScreens
  module_function

  def app
    @app ||= LmsBulkUpload::Web.new(
      hooks: LmsHooks.new,
      store: LmsStore.new,
      mailer: OutboxMailer.new(ENV["EMAIL_OUTBOX"]),
      site_url: ENV.fetch("SITE_URL") { "http://127.0.0.1:#{ENV.fetch('PORT', 3000)}/admin/bulk-upload" },
      secret: ENV.fetch("SECRET") { "example only: set SECRET, 32 characters or more, the same for every process" },
      execute: hash_params,
      parse_options: ENV["BULK_UPLOAD_MAX_FILE_BYTES"] ? { max_file_bytes: Integer(ENV["BULK_UPLOAD_MAX_FILE_BYTES"]) } : nil
    )
  end

  # The cost of the passwords' argon2id hashes, from the environment (the tests' cheap one).
  def hash_params
    p = {}
    p[:memory_kib] = Integer(ENV["BULK_UPLOAD_ARGON2_MEMORY_KIB"]) if ENV["BULK_UPLOAD_ARGON2_MEMORY_KIB"]
    p[:iterations] = Integer(ENV["BULK_UPLOAD_ARGON2_ITERATIONS"]) if ENV["BULK_UPLOAD_ARGON2_ITERATIONS"]
    p[:insecure_for_tests] = true if ENV["BULK_UPLOAD_INSECURE_FAST_HASHING"] == "1"
    p.empty? ? nil : { hash_params: p }
  end
end
