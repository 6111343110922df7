# frozen_string_literal: true

# An example Rails LMS with the bulk upload screens at /admin/bulk-upload/. From the
# environment: DATABASE_URL (PostgreSQL; unset: SQLite in db/lms.sqlite3), PORT (3000),
# SITE_URL (the screens' public URL), REDIS_URL (runs as ActiveJob jobs on Sidekiq; unset:
# ActiveJob's async adapter, in this process), BULK_UPLOAD_QUEUE (the jobs' queue),
# EMAIL_OUTBOX (a folder for .eml files; unset: the log), SECRET (32+ bytes).
require_relative "boot"

require "rails"
require "active_record/railtie"
require "active_job/railtie"
require "action_controller/railtie"
require "lms_bulk_upload"
require "sidekiq" unless ENV["REDIS_URL"].to_s.empty?

module RailsLms
  class Application < Rails::Application
    config.load_defaults 6.1
    config.root = File.expand_path("..", __dir__)
    # Every class loaded at boot: the screens' host methods may run on a thread that is not
    # the request's (ruby-ffi's callback thread, for a run's heartbeat), where autoloading
    # could wait for the request that waits for them.
    config.eager_load = true
    config.cache_classes = true
    config.secret_key_base = ENV.fetch("SECRET_KEY_BASE") { "example only: set SECRET_KEY_BASE" * 2 }
    config.logger = ActiveSupport::Logger.new($stdout)
    config.log_level = :warn
    config.hosts.clear
    config.active_job.queue_adapter = ENV["REDIS_URL"].to_s.empty? ? :async : :sidekiq
  end
end
