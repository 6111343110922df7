# frozen_string_literal: true

# The gem ships the native library inside lib/lms_bulk_upload/, next to the generated
# module that loads it from there: build it first (`make ruby-native`, or `make ruby-gem`
# for a release build), then `gem build lms_bulk_upload.gemspec` (offline).

native = Dir[File.join(__dir__, "lib/lms_bulk_upload/liblms_bulk_upload_ruby.{so,dylib}")]
  .map { |f| f.delete_prefix("#{__dir__}/") }
if native.empty?
  raise "lib/lms_bulk_upload/liblms_bulk_upload_ruby.so is missing: run `make ruby-native` (or `make ruby-gem`) first"
end

workspace = File.read(File.join(__dir__, "../Cargo.toml"))
version = workspace[/^\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"/m, 1] || raise("no workspace version")

Gem::Specification.new do |spec|
  spec.name = "lms_bulk_upload"
  spec.version = version
  spec.summary = "The engine behind an LMS's \"bulk upload users from a CSV\" screen (Rust core)."
  spec.description = "Parse a CSV of users (any encoding Excel writes), validate settings, plan " \
                     "deterministically against the host's user store, execute with a journal; " \
                     "host stores, mailers and journals are plain Ruby objects."
  spec.authors = ["lms-bulk-upload contributors"]
  spec.licenses = ["MIT", "Apache-2.0"]
  spec.required_ruby_version = ">= 3.0"
  # A native library inside: the gem is for the platform it was built on.
  spec.platform = Gem::Platform.local
  spec.files = Dir.chdir(__dir__) { Dir["lib/**/*.rb"] } + native + ["README.md", "LICENSE-MIT", "LICENSE-APACHE"]
  spec.require_paths = ["lib"]
  spec.add_dependency "ffi", ">= 1.15"
end
