# frozen_string_literal: true

# Rails 6.1 and Sidekiq from Debian's packages (ruby-rails, ruby-sidekiq, puma, ruby-pg,
# ruby-sqlite3), no Bundler: the system's gems. The lms_bulk_upload gem when it is installed,
# else this repository's bindings-ruby/lib (its native library built by `make ruby-native`).
begin
  gem "lms_bulk_upload"
rescue Gem::LoadError
  $LOAD_PATH.unshift File.expand_path("../../../../bindings-ruby/lib", __dir__)
end
