#!/usr/bin/env bash
# The Python distributions, built and checked: python.sh all|host [OUT]
#   all:  abi3 wheels (CPython >= 3.9) for manylinux2014 and musllinux_1_2 on x86_64 and
#         aarch64, cross-built with maturin --zig (zig from PyPI's ziglang), and the sdist;
#   host: this machine's wheel only (make test), from the tests' own debug build, tagged
#         `linux`.
# Each manylinux wheel's platform tag is checked with `auditwheel show`; this machine's wheel
# is installed into a fresh venv (no index) that runs the README's Python quickstart.
set -euo pipefail
mode=${1:-all}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/dist/python}
venv=$root/.venv
export VIRTUAL_ENV=$venv
# shellcheck source=zig.sh
source "$root/scripts/dist/zig.sh"
host=$(rustc -vV | sed -n 's/^host: //p')

case $mode in
  all) read -r -a targets <<<"${DIST_TARGETS:-x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl}" ;;
  host) targets=("$host") ;;
  *) echo "usage: $0 all|host [OUT]" >&2; exit 2 ;;
esac
[ "$mode" = all ] && cross_tools "${targets[@]}"
# zig links the wheels against an old glibc (manylinux2014) whatever the machine; cargo counts
# the linker in the fingerprint of every crate it builds, so those wheels get a target folder
# of their own. `make test` (host) packs this machine's wheel from the build its tests
# already made (the dev profile, this machine's target, target/debug: `maturin develop`'s,
# so nothing is compiled again), tagged plain `linux` (it needs this machine's glibc), and
# checks it the same way once installed: what it tests is the packaging, which the profile
# does not change. The release wheels, the manylinux ones and their auditwheel check are
# `make dist`'s.
[ "$mode" = all ] && export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/zig}

rm -rf "$out" && mkdir -p "$out"
for target in "${targets[@]}"; do
  case $mode-$target in
    host-*) build=(--compatibility linux) ;;
    *-musl) build=(--release --zig --target "$target" --compatibility musllinux_1_2) ;;
    *) build=(--release --zig --target "$target" --compatibility manylinux2014) ;;
  esac
  maturin build --quiet "${build[@]}" -m "$root/bindings-python/Cargo.toml" -o "$out"
done
[ "$mode" = all ] && maturin sdist -m "$root/bindings-python/Cargo.toml" -o "$out"

for wheel in "$out"/*.whl; do
  tag=$(basename "$wheel" .whl | awk -F- '{ print $NF }')
  if [[ $tag == linux_* ]]; then
    echo "$(basename "$wheel"): $(du -k "$wheel" | cut -f1) kB, this machine's own, a debug build (make dist builds the release wheels and audits the manylinux ones)"
    continue
  fi
  if [[ $tag == musllinux* && $host != *-musl ]]; then
    # auditwheel judges a musllinux wheel against the musl libc of the system it runs on:
    # here maturin's own audit (at build time) and the install check below stand for it.
    echo "$(basename "$wheel"): $(du -k "$wheel" | cut -f1) kB, audited by maturin (auditwheel show needs a musl system)"
    continue
  fi
  shown=$(python -m auditwheel show "$wheel")
  # auditwheel names the policy the wheel meets; it must be the one its tag claims.
  policy=$(grep -oE '(many|musl)linux_[0-9]+_[0-9]+' <<<"$tag" | head -n 1)
  if ! grep -q "$policy" <<<"$shown"; then
    printf '%s\n' "$shown" >&2
    echo "$wheel: auditwheel does not find it $policy" >&2
    exit 1
  fi
  echo "$(basename "$wheel"): $(du -k "$wheel" | cut -f1) kB, auditwheel: $policy"
done

# This machine's wheel, alone in a fresh venv, runs the quickstart.
case $mode-$host in
  host-*) tag=linux_${host%%-*} ;;
  *-x86_64-unknown-linux-gnu) tag=manylinux_2_17_x86_64 ;;
  *-aarch64-unknown-linux-gnu) tag=manylinux_2_17_aarch64 ;;
  *) tag="" ;;
esac
wheel=$(ls "$out"/*"${tag:-none}"*.whl 2>/dev/null || true)
[ -n "$wheel" ] || tag="" # this machine's wheel was not among DIST_TARGETS
if [ -n "$tag" ]; then
  scratch=$(mktemp -d) && trap 'rm -rf "$scratch"' EXIT
  python3 -m venv "$scratch/venv"
  "$scratch/venv/bin/python" -m pip install --quiet --no-index "$wheel"
  bash "$root/scripts/dist/quickstart.sh" Python > "$scratch/quickstart.py"
  (cd "$scratch" && "$scratch/venv/bin/python" quickstart.py > quickstart.out)
  echo "$(basename "$wheel"): installed in a fresh venv, the quickstart ran"
fi

# The wheels of other platforms install where their tags say (pip is told the platform).
for wheel in "$out"/*.whl; do
  [ -n "$tag" ] && [[ $wheel == *"$tag"* ]] && continue
  platform=$(basename "$wheel" .whl | awk -F- '{ print $NF }' | tr '.' '\n' | tail -n 1)
  python -m pip install --quiet --no-index --no-deps --only-binary=:all: --python-version 3.9 \
    --implementation cp --platform "$platform" --target "$(mktemp -d)" "$wheel"
  echo "$(basename "$wheel"): installs for $platform"
done

# The sdist builds from source (maturin; a target folder of its own, so that every crate is
# compiled from what the sdist holds) into a wheel that runs the quickstart in a fresh venv.
if [ "$mode" = all ] && [ -n "$tag" ]; then
  sdist=$(ls "$out"/*.tar.gz)
  MATURIN_PEP517_ARGS="--target $host --zig --compatibility manylinux2014" CARGO_TARGET_DIR=$root/target/sdist \
    python -m pip wheel --quiet --no-cache-dir --no-deps --no-build-isolation -w "$scratch/from-sdist" "$sdist"
  python3 -m venv "$scratch/sdist-venv"
  "$scratch/sdist-venv/bin/python" -m pip install --quiet --no-index "$scratch"/from-sdist/*.whl
  (cd "$scratch" && "$scratch/sdist-venv/bin/python" quickstart.py > quickstart.out)
  echo "$(basename "$sdist"): built from source, installed in a fresh venv, the quickstart ran"
fi
