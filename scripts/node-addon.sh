#!/usr/bin/env bash
# The Node addon's debug build for the tests (make test-node, test-browsers, the examples):
# a plain `cargo build` of bindings-node, copied to the file name the generated loader
# (bindings-node/index.js) looks for first, lms-bulk-upload.<platform>.node.
# Why not `napi build --platform`: it always passes `--target`, so cargo builds into
# target/<triple>/debug and compiles the core and every dependency a second time (about 2
# minutes of CI on 2 cores); this build shares target/debug with the tests, the CLI and the
# other bindings. index.d.ts and index.js, which napi generates, are checked against napi's
# own (release) build by `make test-packages` (scripts/dist/node.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
cargo build --quiet -p lms-bulk-upload-node
case $(uname -s) in
  Darwin) library=liblms_bulk_upload_node.dylib ;;
  MINGW* | MSYS* | CYGWIN*) library=lms_bulk_upload_node.dll ;;
  *) library=liblms_bulk_upload_node.so ;;
esac
# napi-rs's platform names: linux-x64-gnu, linux-arm64-musl, darwin-arm64, win32-x64-msvc, ...
platform=$(node -e '
  const { platform, arch } = process;
  const linux = () => (process.report.getReport().header.glibcVersionRuntime ? "gnu" : "musl");
  const abi = { linux, win32: () => "msvc" }[platform];
  console.log([platform, arch, ...(abi ? [abi()] : [])].join("-"));')
cp "$target_dir/debug/$library" "$root/bindings-node/lms-bulk-upload.$platform.node"
