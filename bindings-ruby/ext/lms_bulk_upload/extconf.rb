# frozen_string_literal: true

# The source gem's build (`gem install lms_bulk_upload-<version>.gem`, platform "ruby"): where
# no platform gem fits, the native library is compiled here from the Rust sources the gem
# carries (this folder is a Cargo workspace: the engine, the Ruby binding and its Cargo.lock)
# and put next to the generated module in lib/lms_bulk_upload/, where it is loaded from.
#
# Cargo is found as: $CARGO, else `cargo` on the PATH, else ~/.cargo/bin/cargo (where rustup
# puts it); Rust >= 1.88 is needed (https://rustup.rs). The build needs crates.io, or a
# vendored registry, for the dependencies. CARGO_TARGET_DIR is honoured.

# No mkmf: it wants Ruby's C headers, and nothing here is C.
require "rbconfig"

def cargo_path
  on_path = ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).flat_map do |dir|
    ["cargo", "cargo.exe"].map { |name| File.join(dir, name) }
  end
  [ENV.fetch("CARGO", nil), *on_path, File.join(Dir.home, ".cargo", "bin", "cargo")]
    .compact.find { |path| File.file?(path) && File.executable?(path) }
end

cargo = cargo_path or abort <<~MESSAGE
  lms_bulk_upload: building from source needs Rust's cargo (Rust >= 1.88): install it with
  rustup (https://rustup.rs), or set CARGO to its path. Platform gems need none.
MESSAGE

windows = RbConfig::CONFIG["host_os"].match?(/mswin|mingw|cygwin/)
suffix = if windows then "dll"
         elsif RbConfig::CONFIG["host_os"].include?("darwin") then "dylib"
         else "so"
         end
built = windows ? "lms_bulk_upload_ruby.dll" : "liblms_bulk_upload_ruby.#{suffix}"
here = __dir__
target_dir = ENV.fetch("CARGO_TARGET_DIR", File.join(here, "target"))
destination = File.expand_path("../../lib/lms_bulk_upload/liblms_bulk_upload_ruby.#{suffix}", here)

File.write("Makefile", <<~MAKE)
  all:
  \t"#{cargo}" build --release -p lms-bulk-upload-ruby --lib --manifest-path "#{here}/Cargo.toml" --target-dir "#{target_dir}"
  \t"#{RbConfig.ruby}" -e 'require "fileutils"; FileUtils.cp(ARGV[0], ARGV[1])' "#{target_dir}/release/#{built}" "#{destination}"
  install:
  \t@true
  clean:
  \t@true
MAKE
