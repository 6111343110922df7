# Sourced by the dist scripts: `cross_tools` puts `zig` on PATH from PyPI's ziglang (in the
# repo's venv), the linker maturin --zig, cargo-zigbuild and napi build --cross-compile use,
# and adds cargo-zigbuild (crates.io) and the Rust targets, for cross builds. This machine's
# own packages (the scripts' `host` mode, make test) are built without them.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# A fixed folder: the linker's path is part of what cargo's cache keys on.
zig_dir=$root/target/zig
export PATH="$zig_dir:$root/.venv/bin:$HOME/.cargo/bin:$PATH"
cross_tools() {
  "$root/.venv/bin/python" -c "import ziglang" 2>/dev/null || "$root/.venv/bin/python" -m pip install --quiet ziglang
  mkdir -p "$zig_dir"
  ln -sf "$("$root/.venv/bin/python" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')" "$zig_dir/zig"
  command -v cargo-zigbuild >/dev/null || cargo install --quiet --locked cargo-zigbuild
  # The Rust standard library of every target built here.
  if command -v rustup >/dev/null; then rustup target add "$@" >/dev/null 2>&1; fi
}
