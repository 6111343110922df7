#!/usr/bin/env bash
# The gems, built and checked: ruby.sh all|host [OUT]
#   all:  platform gems for linux x86_64 and aarch64, glibc and musl (x86_64-linux,
#         aarch64-linux, x86_64-linux-musl, aarch64-linux-musl; cross-built with
#         cargo-zigbuild), and the source gem (platform "ruby": the Rust sources, compiled by
#         cargo when installed);
#   host: this machine's platform gem only (make test), with the library of the tests' own
#         debug build (target/debug, this machine's target: compiled once for the tests and
#         the packages; its debug info left out of the gem's copy). What it tests is the
#         packaging, which the profile does not change; the release gems are `make dist`'s.
# Each platform gem's library is checked for its architecture and C library, and each gem is
# installed into an empty GEM_HOME; this machine's gem (and, with all, the source gem, which
# compiles there) then runs the README's Ruby quickstart.
set -euo pipefail
mode=${1:-all}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/dist/ruby}
# shellcheck source=zig.sh
source "$root/scripts/dist/zig.sh"
host=$(rustc -vV | sed -n 's/^host: //p')
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")
so=liblms_bulk_upload_ruby.so

case $mode in
  all) read -r -a targets <<<"${DIST_TARGETS:-x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl}" ;;
  host) targets=("$host") ;;
  *) echo "usage: $0 all|host [OUT]" >&2; exit 2 ;;
esac
[ "$mode" = all ] && cross_tools "${targets[@]}"

gem_platform() { # x86_64-unknown-linux-gnu -> x86_64-linux, ...-musl -> x86_64-linux-musl
  local arch=${1%%-*} libc=${1##*-}
  if [ "$libc" = musl ]; then echo "$arch-linux-musl"; else echo "$arch-linux"; fi
}

# The ELF library's machine and C library, as "x86_64 gnu" / "aarch64 musl".
library_kind() {
  python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
machine = {0x3E: "x86_64", 0xB7: "aarch64"}.get(int.from_bytes(data[18:20], "little"), "other")
print(machine, "gnu" if b"libc.so.6\0" in data else "musl")
PY
}

# A gem's folder: the Ruby sources, the gemspec, README and licences, and the workspace
# manifest one level up (the gemspec reads the version there).
stage_gem() {
  mkdir -p "$1/gem"
  cp "$root/Cargo.toml" "$1/"
  (cd "$root/bindings-ruby" && cp -r lms_bulk_upload.gemspec README.md LICENSE-MIT LICENSE-APACHE "$1/gem/" &&
    mkdir -p "$1/gem/lib/lms_bulk_upload" && cp lib/*.rb "$1/gem/lib/" && cp lib/lms_bulk_upload/*.rb "$1/gem/lib/lms_bulk_upload/")
}

# Installs a gem into an empty GEM_HOME (ffi from the system's gems); prints that folder.
install_gem() {
  local home
  home=$(mktemp -d -p "$staging")
  GEM_HOME=$home GEM_PATH="$home:$(ruby -e 'print Gem.default_path.join(":")')" \
    gem install --local --no-document "$1" >/dev/null
  echo "$home"
}

# An empty GEM_HOME with the gem, running the quickstart.
run_quickstart() {
  local gem=$1 home
  home=$(install_gem "$gem")
  bash "$root/scripts/dist/quickstart.sh" Ruby > "$home/quickstart.rb"
  (cd "$home" && env -u LMS_BULK_UPLOAD_NATIVE_LIB -u RUBYLIB GEM_HOME="$home" \
    GEM_PATH="$home:$(ruby -e 'print Gem.default_path.join(":")')" ruby quickstart.rb > quickstart.out)
  echo "$(basename "$gem"): installed into an empty GEM_HOME, the quickstart ran"
}

rm -rf "$out" && mkdir -p "$out"
staging=$(mktemp -d) && trap 'rm -rf "$staging"' EXIT
for target in "${targets[@]}"; do
  platform=$(gem_platform "$target")
  if [ "$mode" = host ]; then
    (cd "$root" && cargo build --quiet -p lms-bulk-upload-ruby --lib)
    library=$staging/$so && cp "${CARGO_TARGET_DIR:-$root/target}/debug/$so" "$library"
    strip -S "$library" 2>/dev/null || true
  else
    if [ "$target" = "$host" ]; then build=(cargo build); else build=(cargo zigbuild); fi
    (cd "$root" && "${build[@]}" --quiet --release -p lms-bulk-upload-ruby --lib --target "$target")
    library=$root/target/$target/release/$so
  fi
  kind=$(library_kind "$library")
  expected="${target%%-*} ${target##*-}"
  [ "$kind" = "$expected" ] || { echo "$library is $kind, not $expected" >&2; exit 1; }
  stage_gem "$staging/$platform"
  cp "$library" "$staging/$platform/gem/lib/lms_bulk_upload/$so"
  (cd "$staging/$platform/gem" && LMS_BULK_UPLOAD_GEM_PLATFORM=$platform \
    gem build --quiet lms_bulk_upload.gemspec -o "$out/lms_bulk_upload-$version-$platform.gem" >/dev/null)
  install_gem "$out/lms_bulk_upload-$version-$platform.gem" >/dev/null
  echo "lms_bulk_upload-$version-$platform.gem: $(du -k "$out/lms_bulk_upload-$version-$platform.gem" | cut -f1) kB, library: $kind, installs"
done

if [ "$mode" = all ]; then
  # The source gem: ext/lms_bulk_upload/ is a Cargo workspace of the engine (with the bench
  # files its manifest names), the vectors' judge and the screens' HTTP API with their built
  # assets (dependencies of the binding; the API's test-only dependencies left out of its
  # manifest, since a workspace member's must be there) and the Ruby binding, with the
  # repository's lock, and the workspace-hack crate they depend on.
  src=$staging/source && stage_gem "$src"
  ext=$src/gem/ext/lms_bulk_upload && mkdir -p "$ext/bindings-ruby" "$ext/.cargo"
  cp "$root/bindings-ruby/ext/lms_bulk_upload/extconf.rb" "$ext/"
  cp "$root/Cargo.lock" "$ext/" && cp "$root/.cargo/config.toml" "$ext/.cargo/"
  sed -e 's/^members = .*/members = ["core", "vectors", "web", "bindings-ruby", "workspace-hack"]/' -e '/^default-members/d' \
    "$root/Cargo.toml" > "$ext/Cargo.toml"
  (cd "$root" && cp -r --parents core/Cargo.toml core/README.md core/src core/benches vectors/Cargo.toml vectors/src \
      web/README.md web/openapi.yaml web/src web/ui/dist workspace-hack "$ext/" &&
    cp -r bindings-ruby/Cargo.toml bindings-ruby/uniffi-bindgen.rs bindings-ruby/uniffi.toml bindings-ruby/src "$ext/bindings-ruby/")
  awk '/^\[/ { skip = ($0 == "[dev-dependencies]") } !skip' "$root/web/Cargo.toml" > "$ext/web/Cargo.toml"
  (cd "$src/gem" && LMS_BULK_UPLOAD_GEM_PLATFORM=ruby \
    gem build --quiet lms_bulk_upload.gemspec -o "$out/lms_bulk_upload-$version.gem" >/dev/null)
  echo "lms_bulk_upload-$version.gem (source): $(du -k "$out/lms_bulk_upload-$version.gem" | cut -f1) kB"
  # Compiled where it is installed, from the sources it carries (a target folder of its own).
  CARGO_TARGET_DIR=$root/target/source-gem run_quickstart "$out/lms_bulk_upload-$version.gem"
fi

host_gem=$out/lms_bulk_upload-$version-$(gem_platform "$host").gem
if [ -f "$host_gem" ]; then run_quickstart "$host_gem"; fi # unless not among DIST_TARGETS
