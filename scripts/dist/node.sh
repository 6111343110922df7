#!/usr/bin/env bash
# The npm packages, built and checked: node.sh all|host [OUT]
#   all:  the addon for linux x64 and arm64, glibc and musl (napi build --cross-compile:
#         cargo-zigbuild), each packed as its platform package (npm/<platform>/), and the
#         main package (the loader and the types only: no .node inside);
#   host: this machine's platform package and the main package (make test), with the addon
#         of the tests' own debug build (target/debug: only the binding is compiled again, by
#         napi, for its generated files; the addon's debug info left out of the package).
#         What it tests is the packaging, which the profile does not change; the release
#         packages are `make dist`'s.
# The index.d.ts / index.js napi generates are compared with the committed ones; the main
# tarball's files are checked, and it is installed with this machine's platform tarball into
# an empty npm project (offline) that runs the README's Node quickstart.
set -euo pipefail
mode=${1:-all}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/dist/node}
node_dir=$root/bindings-node
# shellcheck source=zig.sh
source "$root/scripts/dist/zig.sh"
host=$(rustc -vV | sed -n 's/^host: //p')

case $mode in
  all) read -r -a targets <<<"${DIST_TARGETS:-x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl}" ;;
  host) targets=("$host") ;;
  *) echo "usage: $0 all|host [OUT]" >&2; exit 2 ;;
esac
[ "$mode" = all ] && cross_tools "${targets[@]}"

platform_of() { # the napi platform name of a target triple: linux-x64-gnu ...
  local arch=${1%%-*} libc=${1##*-}
  case $arch in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; esac
  echo "linux-$arch-$libc"
}

rm -rf "$out" && mkdir -p "$out"
staging=$(mktemp -d) && trap 'rm -rf "$staging"' EXIT
if [ "$mode" = host ]; then
  # napi build always passes --target, with which cargo compiles every crate a second time
  # into target/<triple>/ (minutes of CI). For this machine's own target, napi is given a
  # cargo (CARGO, which napi runs when set) that leaves --target out, so the build is the
  # tests' own in target/debug, and then puts the library where napi looks for it.
  target_dir=$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")
  cat > "$staging/napi-cargo" <<EOF
#!/usr/bin/env bash
set -euo pipefail
args=()
while [ \$# -gt 0 ]; do
  if [ "\$1" = --target ]; then shift 2; else args+=("\$1"); shift; fi
done
env -u CARGO cargo "\${args[@]}"
if [ "\${args[0]}" = build ]; then
  mkdir -p "$target_dir/$host/debug"
  cp "$target_dir/debug/liblms_bulk_upload_node.so" "$target_dir/$host/debug/"
fi
EOF
  chmod +x "$staging/napi-cargo"
  napi=(env CARGO="$staging/napi-cargo" npx napi build --platform)
else
  napi=(npx napi build --platform --release)
fi
for target in "${targets[@]}"; do
  platform=$(platform_of "$target")
  cross=()
  [ "$target" != "$host" ] && cross=(--cross-compile)
  (cd "$node_dir" && "${napi[@]}" --target "$target" "${cross[@]}" \
    --output-dir "$staging/$platform" >/dev/null)
  # The loader and the types napi generates (the same for every target) are the committed
  # ones, which the main package ships (the tests build the addon with plain cargo).
  for generated in index.d.ts index.js; do
    diff -u "$node_dir/$generated" "$staging/$platform/$generated" >&2 || {
      echo "bindings-node/$generated differs from the one napi build generates: commit that one (cd bindings-node && npx napi build --platform)" >&2
      exit 1
    }
  done
  pkg=$node_dir/npm/$platform
  cp "$staging/$platform/lms-bulk-upload.$platform.node" "$pkg/"
  [ "$mode" = host ] && { strip -S "$pkg/lms-bulk-upload.$platform.node" 2>/dev/null || true; }
  cp "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$pkg/"
  (cd "$pkg" && npm pack --silent --pack-destination "$out" >/dev/null)
  rm "$pkg/lms-bulk-upload.$platform.node"
done
# The main package, with the platform packages as optional dependencies (added here, as
# `napi prepublish` would: the committed manifest's lock cannot hold unpublished packages).
version=$(node -p "require('$node_dir/package.json').version")
main_dir=$staging/main && mkdir -p "$main_dir"
(cd "$node_dir" && cp package.json README.md lms.js lms.d.ts testing.js index.js index.d.ts "$main_dir/")
cp "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$main_dir/"
(cd "$node_dir/npm" && node -e '
  const fs = require("node:fs")
  const manifest = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))
  manifest.optionalDependencies = Object.fromEntries(fs.readdirSync(".").sort()
    .map((dir) => [JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8")).name, manifest.version]))
  fs.writeFileSync(process.argv[1], JSON.stringify(manifest, null, 2) + "\n")
' "$main_dir/package.json")
(cd "$main_dir" && npm pack --silent --pack-destination "$out" >/dev/null)
main=$out/lms-bulk-upload-$version.tgz
listed=$(tar -tzf "$main" | sort | tr '\n' ' ')
expected="package/LICENSE-APACHE package/LICENSE-MIT package/README.md package/index.d.ts package/index.js package/lms.d.ts package/lms.js package/package.json package/testing.js "
if [ "$listed" != "$expected" ]; then
  echo "$main holds: $listed (expected: $expected)" >&2
  exit 1
fi
for tarball in "$out"/*.tgz; do echo "$(basename "$tarball"): $(du -k "$tarball" | cut -f1) kB"; done

# Each platform package installs, and its addon is the machine code and C library its name,
# and its manifest's cpu and libc, say. Another platform's package is refused by npm here
# (its os, cpu or libc: EBADPLATFORM), then installed with --force to be looked at.
for target in "${targets[@]}"; do
  platform=$(platform_of "$target")
  project=$staging/installs-$platform && mkdir -p "$project"
  tarball=$out/lms-bulk-upload-$platform-$version.tgz
  force=()
  if [ "$target" != "$host" ]; then
    if (cd "$project" && npm init -y >/dev/null && npm install --offline --no-audit --no-fund --silent "$tarball" >/dev/null 2>&1); then
      echo "lms-bulk-upload-$platform: npm installed it on $host" >&2
      exit 1
    fi
    force=(--force)
  fi
  (cd "$project" && npm init -y >/dev/null &&
    npm install --offline --no-audit --no-fund --silent "${force[@]}" "$tarball" >/dev/null 2>&1)
  installed=$project/node_modules/lms-bulk-upload-$platform
  kind=$(python3 - "$installed/lms-bulk-upload.$platform.node" "$installed/package.json" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
machine = {0x3E: "x64", 0xB7: "arm64"}.get(int.from_bytes(data[18:20], "little"), "other")
libc = "gnu" if b"libc.so.6\0" in data else "musl"
manifest = json.load(open(sys.argv[2]))
said = f"{manifest['cpu'][0]} {'gnu' if manifest['libc'][0] == 'glibc' else 'musl'}"
print(f"{machine} {libc}" if said == f"{machine} {libc}" else f"{machine} {libc}, but the manifest says {said}")
PY
)
  expected=${platform#linux-} && expected="${expected%-*} ${platform##*-}"
  [ "$kind" = "$expected" ] || { echo "lms-bulk-upload-$platform: the addon is $kind, not $expected" >&2; exit 1; }
  echo "lms-bulk-upload-$platform-$version.tgz: installs; addon: linux $kind"
done

# The main package and this machine's platform package, in an empty project, offline.
case $host in
  *-linux-gnu | *-linux-musl)
    [ -f "$out/lms-bulk-upload-$(platform_of "$host")-$version.tgz" ] || exit 0 # not among DIST_TARGETS
    project=$staging/project && mkdir -p "$project"
    (cd "$project" && npm init -y >/dev/null &&
      npm install --offline --no-audit --no-fund --omit=optional --silent \
        "$main" "$out/lms-bulk-upload-$(platform_of "$host")-$version.tgz" >/dev/null)
    bash "$root/scripts/dist/quickstart.sh" Node > "$project/quickstart.js"
    (cd "$project" && node quickstart.js > quickstart.out)
    echo "lms-bulk-upload-$version.tgz + $(platform_of "$host"): installed in an empty project, the quickstart ran"
    ;;
esac
