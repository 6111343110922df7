"""Parse + validate of the 1,000,000-row file, side by side, in one run:

    core in Rust    the core's parse timed inside Rust (no Python boundary), 1 thread and
                    every core (``_native._bench_parse_rust``): the text shared, as
                    ``lbu.parse`` shares a UTF-8 ``bytes`` object's (its UTF-8 checked by
                    the binding, which the binding's figure includes)
    binding         ``lbu.parse(data, threads=1)`` and ``lbu.parse(data)`` (the default:
                    every core), timed from Python (rows stay native, read on demand)
    pure Python     the csv module, header matching, trimmed values, required values, an
                    email regex, a set of lowercased emails for duplicates
    polars          ``polars.read_csv(data)`` in a child process with POLARS_MAX_THREADS=1,
                    then every core: a bare read (no validation, no duplicates), a process
                    a run, in the same turns as the binding
    pandas          ``pandas.read_csv`` (its C parser, one thread): a bare read

    make bench-python          # builds the extension in release mode, installs polars and pandas
    python bindings-python/bench/bench_parse.py [--runs N]

The file is bench-data/users-1m.csv at the workspace root (BENCH_DATA=path for another),
the one `cargo bench -p lms-bulk-upload --bench parse` generates (run here when it is
absent). The core, the binding and pure Python are timed in turns, so that a busy machine
weighs on them alike; each figure is the best of the runs, wall time and the process's CPU
time (user + sys, every thread) over the same call. Goals: the binding >= 25x pure Python,
and faster (with its validation) than polars' bare read on the same number of threads.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import lms_bulk_upload as lbu
from lms_bulk_upload import _native

ROOT = Path(__file__).resolve().parents[2]

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


# A bare read by polars or pandas, in a process of its own (POLARS_MAX_THREADS is read when
# polars is imported): argv = library, file, runs (after one untimed read). Prints
# {"wall": [...], "cpu": [...], "rows": n, "threads": n, "version": "..."} (seconds). Not
# type-checked: polars and pandas are installed by `make bench-python`, not by `make test`.
CHILD = r"""
import gc, io, json, sys, time
library, path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
if library == "polars":
    import polars as pl
    read = lambda: pl.read_csv(data)
    threads, version = pl.thread_pool_size(), pl.__version__
else:
    import pandas as pd
    read = lambda: pd.read_csv(io.BytesIO(data))
    threads, version = 1, pd.__version__
# One read first, untimed: a process's first read pays for its start (the thread pool,
# fresh pages), which the binding, timed in a warm process, does not.
read()
wall, cpu = [], []
for _ in range(runs):
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    frame = read()
    t1, c1 = time.perf_counter(), time.process_time()
    wall.append(t1 - t0)
    cpu.append(c1 - c0)
    rows = len(frame)
    del frame
print(json.dumps({"wall": wall, "cpu": cpu, "rows": rows, "threads": threads, "version": version}))
"""


# The peak memory of `lbu.parse(data)` (every core), in a process of its own: argv = file.
# Prints {"file": bytes, "peak": bytes}: the process's peak resident set (VmHWM: getrusage's
# ru_maxrss would carry the parent's over the exec) less what it held before the call, plus
# the file's bytes themselves (held by Python all along), so that the figure compares with
# `make bench-parse`'s peak RSS of `examples/parse_file`.
PEAK = r"""
import gc, json, sys
import lms_bulk_upload as lbu
def kib(field):
    line = next(l for l in open("/proc/self/status") if l.startswith(field + ":"))
    return int(line.split()[1]) * 1024
data = open(sys.argv[1], "rb").read()
gc.collect()
before = kib("VmRSS")
upload = lbu.parse(data)
print(json.dumps({"file": len(data), "peak": kib("VmHWM") - before + len(data), "rows": len(upload)}))
"""


def peak_memory(path: Path) -> Optional[Tuple[int, int]]:
    """(peak bytes, file bytes) of `lbu.parse` in a child process; None where /proc is not."""
    if not Path("/proc/self/status").exists():
        return None
    done = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, timeout=600, check=True)
    out = json.loads(done.stdout)
    return int(out["peak"]), int(out["file"])


@dataclass
class Figure:
    """The runs of one way of reading the file: wall and CPU seconds each."""

    name: str
    wall: List[float] = field(default_factory=list)
    cpu: List[float] = field(default_factory=list)
    note: str = ""

    def best(self) -> float:
        return min(self.wall)

    def cpu_of_best(self) -> float:
        return self.cpu[self.wall.index(self.best())]


def timed(figure: Figure, f: Callable[[], Any], inner: Optional[Callable[[Any], float]] = None) -> Any:
    """One run of `f`, after a full collection; the result is returned, to be dropped by the
    caller after the clock has stopped. `inner` reads a wall time (s) from the result
    instead (the core's own figure, taken inside Rust)."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    result = f()
    t1, c1 = time.perf_counter(), time.process_time()
    figure.wall.append(inner(result) if inner else t1 - t0)
    figure.cpu.append(c1 - c0)
    return result


def child(library: str, path: Path, runs: int, threads: Optional[int]) -> Optional[Figure]:
    env = dict(os.environ)
    if threads is not None:
        env["POLARS_MAX_THREADS"] = str(threads)
    cmd = [sys.executable, "-c", CHILD, library, str(path), str(runs)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        print(f"({library}: {last}; `make bench-python` installs it)")
        return None
    out = json.loads(done.stdout)
    name = f"{library} {out['version']}: read_csv, {out['threads']} thread{'s' if out['threads'] > 1 else ''}"
    figure = Figure(name, [float(w) for w in out["wall"]], [float(c) for c in out["cpu"]])
    figure.note = f"rows {out['rows']}"
    return figure


def with_run(figure: Optional[Figure], run: Optional[Figure]) -> Optional[Figure]:
    """`figure` with the runs of `run` added (`run` itself at the first turn); None once a
    run failed (the library is not installed: `child` said so)."""
    if run is None:
        return None
    if figure is None:
        return run
    figure.wall += run.wall
    figure.cpu += run.cpu
    return figure


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: int = max(1, args.runs)

    path = Path(os.environ.get("BENCH_DATA", ROOT / "bench-data" / "users-1m.csv"))
    if not path.exists():
        cmd = ["cargo", "bench", "-q", "-p", "lms-bulk-upload", "--bench", "parse"]
        print(f"{path} is absent: $ {' '.join(cmd)} (generates it)", flush=True)
        subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, BENCH_DATA=str(path)), check=True)
    data = path.read_bytes()
    cores = min(os.cpu_count() or 1, 16)
    counts = [1, cores] if cores > 1 else [1]
    load = os.getloadavg()
    print(
        f"{path}: {len(data) / 1e6:.1f} MB, best of {runs} runs, Python {sys.version.split()[0]}, "
        f"{cores} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )

    def plural(n: int) -> str:
        return f"{n} thread{'s' if n > 1 else ''}"

    rust: Dict[int, Figure] = {n: Figure(f"core in Rust: parse + validate, {plural(n)}") for n in counts}
    binding: Dict[int, Figure] = {
        n: Figure(
            f"binding: lbu.parse(data{', threads=1' if n == 1 else ''}), {plural(n)}"
            + (" (default)" if n == cores else "")
        )
        for n in counts
    }
    python = Figure("pure Python: csv + regex + set, 1 thread")
    polars: Dict[int, Optional[Figure]] = {n: None for n in counts}
    rows = valid = issues = 0
    for turn in range(runs):
        for n in counts:
            timed(rust[n], lambda: _native._bench_parse_rust(data, 1, n), lambda ms: float(ms) / 1e3)
        for n in counts:
            upload = timed(binding[n], lambda: lbu.parse(data) if n == cores else lbu.parse(data, threads=n))
            assert isinstance(upload, lbu.Upload)
            rows, valid, issues = len(upload), upload.valid_count, len(upload.issues)
            del upload
        result = timed(python, lambda: pure_python(data))
        assert result == (rows, valid, issues), (result, (rows, valid, issues))
        # polars in the same turns (a process a run): its best and the binding's are taken
        # over the same minutes, which on a shared machine differ by more than the goal.
        for n in counts:
            if turn == 0 or polars[n] is not None:
                polars[n] = with_run(polars[n], child("polars", path, 1, n))

    print("(pandas, in a process of its own ...)", flush=True)
    pandas = child("pandas", path, runs, None)
    for figure in [*polars.values(), pandas]:
        if figure is not None and figure.note != f"rows {rows}":
            print(f"({figure.name} read {figure.note}, the binding {rows})")

    print(f"\n{'':<52} {'wall':>9} {'CPU':>9} {'MB/s':>8} {'rows/s':>12}  (best run; CPU: user + sys, every thread)")
    figures: List[Optional[Figure]] = [*rust.values(), *binding.values(), python, *polars.values(), pandas]
    for figure in figures:
        if figure is None:
            continue
        secs = figure.best()
        print(
            f"{figure.name:<52} {secs * 1e3:>6.1f} ms {figure.cpu_of_best() * 1e3:>6.0f} ms "
            f"{len(data) / 1e6 / secs:>8.1f} {rows / secs:>12,.0f}"
        )
    print(f"rows {rows}, valid {valid}, issues {issues} (the same for pure Python)")
    print("(core in Rust: wall timed inside Rust, the parse alone; CPU over the helper's whole call, freeing the upload too)")

    print()
    every = binding[cores].best()
    speedup = python.best() / every
    cpu = python.cpu_of_best() / binding[cores].cpu_of_best()
    print(
        f"binding ({plural(cores)}) vs pure Python:    {speedup:5.1f}x faster (goal >= 25x) "
        f"{'MET' if speedup >= 25 else 'MISSED'}; {cpu:.1f}x less CPU"
    )
    if cores > 1:
        one = python.best() / binding[1].best()
        print(f"binding (1 thread) vs pure Python:     {one:5.1f}x faster; {python.cpu_of_best() / binding[1].cpu_of_best():.1f}x less CPU")
    for n in counts:
        ratio = binding[n].best() / rust[n].best()
        print(f"binding / core in Rust, {plural(n):<10}     {ratio:5.2f}x (the binding's own cost)")
    for n in counts:
        bare = polars[n]
        if bare is None:
            continue
        ratio = bare.best() / binding[n].best()
        verdict = "MET" if ratio > 1 else "MISSED"
        print(
            f"polars' bare read / binding, {plural(n):<10} {ratio:5.2f}x (goal > 1: the binding, validating, faster) "
            f"{verdict}; CPU {bare.cpu_of_best() / binding[n].cpu_of_best():.2f}x"
        )
    if pandas is not None:
        print(
            f"pandas' bare read / binding, 1 thread   {pandas.best() / binding[1].best():5.2f}x; "
            f"CPU {pandas.cpu_of_best() / binding[1].cpu_of_best():.2f}x"
        )
    print("(wall-time ratios only mean something on an idle machine; the CPU ones are steadier on a busy one)")
    memory = peak_memory(path)
    if memory is not None:
        peak, size = memory
        print(
            f"peak memory of lbu.parse(data): {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file, the file's bytes "
            f"included = {peak / size:.2f}x the file (goal <= 1.5x) {'MET' if peak <= 1.5 * size else 'MISSED'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
