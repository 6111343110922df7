"""Parse + validate of the 1,000,000-row file: through the binding, in pure Python, and
(the floor) in Rust, side by side.

    make bench-python          # builds the extension in release mode first
    python bindings-python/bench/bench_parse.py [--no-rust] [--runs N]

The file is bench-data/users-1m.csv at the workspace root (BENCH_DATA=path for another),
the same one `cargo bench -p lms-bulk-upload --bench parse` generates and measures; this
script runs that Rust bench to get the Rust figure (and to generate the file when it is
absent). Pure Python does the same work in the usual way: the csv module, header
matching, trimmed values, required values, an email regex, a set of lowercased emails for
duplicates. Targets: binding >= 10x faster than pure Python, within 1.3x of Rust.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Tuple, TypeVar

import lms_bulk_upload as lbu

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# WHATWG "valid e-mail address".
EMAIL = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
ALIASES = {"email": "emailaddress", "phone": "phonenumber", "first": "firstname", "last": "lastname"}
REQUIRED = ("firstname", "lastname", "emailaddress")


def pure_python(data: bytes) -> Tuple[int, int, int]:
    """Returns (rows, valid rows, issues)."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    columns = []
    for cell in header:
        key = re.sub(r"[\s_-]", "", cell.strip().lower())
        columns.append(ALIASES.get(key, key))
    index = {c: i for i, c in enumerate(columns)}
    required = [(c, index[c]) for c in REQUIRED]
    email_at = index["emailaddress"]
    seen: set[str] = set()
    rows = valid = issues = 0
    for record in reader:
        if not record or record == [""]:
            continue
        rows += 1
        values = [v.strip() for v in record]
        ok = True
        for _name, i in required:
            if i >= len(values) or not values[i]:
                issues += 1
                ok = False
        email = values[email_at] if email_at < len(values) else ""
        if email:
            if len(email) > 254 or not EMAIL.match(email) or len(email.split("@", 1)[0]) > 64:
                issues += 1
                ok = False
            key = email.lower()
            if key in seen:
                issues += 1
                ok = False
            else:
                seen.add(key)
        valid += ok
    return rows, valid, issues


def binding(data: bytes) -> Tuple[int, int, int]:
    upload = lbu.parse(data)
    return len(upload), upload.valid_count, len(upload.issues)


def best_of(runs: int, f: Callable[[], T]) -> Tuple[float, T]:
    best = float("inf")
    result: Optional[T] = None
    for _ in range(runs):
        start = time.perf_counter()
        result = f()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def rust_figure(path: Path) -> Optional[float]:
    """Runs the core's parse bench on the same file; returns its parse+validate seconds."""
    env = dict(os.environ, BENCH_DATA=str(path))
    cmd = ["cargo", "bench", "-q", "-p", "lms-bulk-upload", "--bench", "parse"]
    print("$", " ".join(cmd), flush=True)
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"(no Rust figure: {e})")
        return None
    match = re.search(r"^parse \+ validate\s+([\d.]+) ms", done.stdout, re.M)
    if done.returncode != 0 or not match:
        print(f"(no Rust figure: the Rust bench said)\n{done.stdout}{done.stderr}")
        return None
    return float(match.group(1)) / 1e3


def line(name: str, size: int, rows: int, secs: float) -> None:
    print(f"{name:<34} {secs * 1e3:>9.1f} ms {size / 1e6 / secs:>8.1f} MB/s {rows / secs:>12,.0f} rows/s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-rust", action="store_true", help="skip the Rust bench (no Rust figure)")
    args = parser.parse_args()

    path = Path(os.environ.get("BENCH_DATA", ROOT / "bench-data" / "users-1m.csv"))
    rust = None if args.no_rust else rust_figure(path)  # also generates the file if absent
    if not path.exists():
        print(f"{path} is missing: run `make bench-rust` (or this script without --no-rust) first")
        return 2
    data = path.read_bytes()
    print(f"\n{path}: {len(data) / 1e6:.1f} MB, best of {args.runs} runs, Python {sys.version.split()[0]}")

    t_binding, (rows, valid, issues) = best_of(args.runs, lambda: binding(data))
    t_python, (p_rows, p_valid, p_issues) = best_of(args.runs, lambda: pure_python(data))
    assert rows == p_rows, (rows, p_rows)

    if rust is not None:
        line("Rust core: parse + validate", len(data), rows, rust)
    line("Python binding: lbu.parse(bytes)", len(data), rows, t_binding)
    line("pure Python: csv + regex + set", len(data), p_rows, t_python)
    print(f"rows {rows}, valid {valid} (pure Python: {p_valid}), issues {issues} (pure Python: {p_issues})")
    speedup = t_python / t_binding
    ok = speedup >= 10
    print(f"binding vs pure Python: {speedup:.1f}x faster (target >= 10x) {'OK' if ok else 'MISSED'}")
    if rust is not None:
        overhead = t_binding / rust
        ok_rust = overhead <= 1.3
        print(f"binding vs Rust:        {overhead:.2f}x the Rust time (target <= 1.3x) {'OK' if ok_rust else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
