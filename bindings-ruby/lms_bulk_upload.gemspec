# frozen_string_literal: true

# The gem ships the native library inside lib/lms_bulk_upload/, next to the generated
# module that loads it from there: build it first (`make ruby-native`, or `make ruby-gem`
# for a release build), then `gem build lms_bulk_upload.gemspec` (offline). The gem is for
# this machine's platform, or for LMS_BULK_UPLOAD_GEM_PLATFORM (`aarch64-linux-musl`...: the
# library in lib/ must be that platform's, as `make dist` arranges). With
# LMS_BULK_UPLOAD_GEM_PLATFORM=ruby it is the source gem instead: no library, the Rust
# sources in ext/lms_bulk_upload/ (a Cargo workspace `make dist` assembles), compiled by
# cargo when installed (ext/lms_bulk_upload/extconf.rb says how it finds cargo).

platform = ENV.fetch("LMS_BULK_UPLOAD_GEM_PLATFORM", nil)
source_gem = platform == "ruby"
native = Dir[File.join(__dir__, "lib/lms_bulk_upload/liblms_bulk_upload_ruby.{so,dylib,dll}")]
  .map { |f| f.delete_prefix("#{__dir__}/") }
if native.empty? && !source_gem
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
  licence = ["README.md", "LICENSE-MIT", "LICENSE-APACHE"]
  ruby_files = Dir.chdir(__dir__) { Dir["lib/**/*.rb"] }
  if source_gem
    spec.platform = Gem::Platform::RUBY
    spec.files = ruby_files + licence + Dir.chdir(__dir__) { Dir.glob("ext/lms_bulk_upload/**/*", File::FNM_DOTMATCH).select { |f| File.file?(f) } }
    spec.extensions = ["ext/lms_bulk_upload/extconf.rb"]
  else
    # A native library inside: the gem is for the platform it was built for.
    spec.platform = platform ? Gem::Platform.new(platform) : Gem::Platform.local
    spec.files = ruby_files + native + licence
  end
  spec.require_paths = ["lib"]
  spec.add_dependency "ffi", "~> 1.15"
end
