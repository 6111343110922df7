#!/usr/bin/env python3
"""One version and one licence for every package, from the workspace.

The version is `[workspace.package] version` in Cargo.toml. The Python wheel takes it from
Cargo (maturin, `dynamic = ["version"]`) and the gem reads it from Cargo.toml itself; the
Node packages are JSON that npm reads as it is, so this script writes it there:
`bindings-node/package.json`, every platform package under `bindings-node/npm/`, and the
platform packages' names are the ones `make dist` adds to the main package's
`optionalDependencies` when it packs it (left out of the committed manifest, whose lock
could not hold packages that are not published yet). The licence texts at the root are copied into
each package's folder (a package ships the files of its own folder).

    python3 scripts/release-metadata.py          # check (make test): exit 1 naming what differs
    python3 scripts/release-metadata.py --write  # make them agree (make metadata)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LICENCES = ("LICENSE-MIT", "LICENSE-APACHE")
PACKAGES = ("bindings-python", "bindings-node", "bindings-ruby")


def table(path: Path, name: str) -> str:
    """The text of a TOML file's `[name]` table (enough for these flat keys; Python 3.9 has no
    tomllib)."""
    text = path.read_text(encoding="utf-8")
    found = re.search(rf"^\[{re.escape(name)}\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    return found.group(1) if found else ""


def workspace_version() -> str:
    found = re.search(r'^version\s*=\s*"([^"]+)"', table(ROOT / "Cargo.toml", "workspace.package"), re.M)
    if not found:
        raise SystemExit("Cargo.toml: no [workspace.package] version")
    return found.group(1)


def node_manifests() -> list[Path]:
    return [ROOT / "bindings-node/package.json", *sorted((ROOT / "bindings-node/npm").glob("*/package.json"))]


def node_problems(version: str, write: bool) -> list[str]:
    problems = []
    for path in node_manifests():
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        wanted = dict(data, version=version)
        if wanted != data:
            problems.append(f"{path.relative_to(ROOT)}: version {data.get('version')} differs from {version}")
            if write:
                path.write_text(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return problems


def python_problems() -> list[str]:
    project = table(ROOT / "bindings-python/pyproject.toml", "project")
    if re.search(r"^version\s*=", project, re.M) or not re.search(r'^dynamic\s*=\s*\[[^\]]*"version"', project, re.M):
        return ["bindings-python/pyproject.toml: the version must be dynamic (maturin reads Cargo's)"]
    return []


def ruby_problems() -> list[str]:
    gemspec = (ROOT / "bindings-ruby/lms_bulk_upload.gemspec").read_text(encoding="utf-8")
    if not re.search(r"spec\.version\s*=\s*version\b", gemspec) or "../Cargo.toml" not in gemspec:
        return ["bindings-ruby/lms_bulk_upload.gemspec: the version must be read from the workspace"]
    return []


def licence_problems(write: bool) -> list[str]:
    problems = []
    for package in PACKAGES:
        for name in LICENCES:
            source, copy = ROOT / name, ROOT / package / name
            if not copy.exists() or copy.read_bytes() != source.read_bytes():
                problems.append(f"{package}/{name} differs from the root's {name}")
                if write:
                    copy.write_bytes(source.read_bytes())
    return problems


def main() -> int:
    write = "--write" in sys.argv[1:]
    version = workspace_version()
    problems = node_problems(version, write) + python_problems() + ruby_problems() + licence_problems(write)
    if problems and not write:
        print("\n".join(problems), file=sys.stderr)
        print("run `make metadata` (python3 scripts/release-metadata.py --write)", file=sys.stderr)
        return 1
    for line in problems:
        print(f"written: {line}")
    print(f"every package is version {version}, MIT OR Apache-2.0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
