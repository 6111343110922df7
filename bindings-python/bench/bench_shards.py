"""`make bench-shards-python`: one 4,000-row upload with generated passwords (argon2id at the
default OWASP cost) through the Celery example on 1 worker, then on 2 workers, against the
real PostgreSQL and Redis; prints each wall time and the ratio (target >= 1.8x on 2 cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import lms_bulk_upload as lbu  # noqa: E402
from celery_harness import Workers, run_env  # noqa: E402

ROWS = int(os.environ.get("BENCH_SHARD_ROWS", "4000"))
ROWS_PER_SHARD = 100


def one_run(workers: int) -> float:
    for env in run_env():
        for k in ("LBU_PG_URL", "LBU_REDIS_URL", "LBU_PG_SCHEMA", "LBU_QUEUE", "LBU_PLAN_KEY"):
            os.environ[k] = env[k]
        import celery_shards.app as appmod
        from celery_shards.pg_host import connect

        with connect() as conn:
            conn.execute("INSERT INTO groups (name) VALUES ('Sales')")
            conn.commit()
        with tempfile.TemporaryDirectory() as logs:
            pool = Workers(env, Path(logs))
            try:
                for _ in range(workers):
                    pool.start()
                for _ in range(600):  # bounded: every worker answers a ping before timing
                    if len(appmod.app.control.ping(timeout=0.5)) >= workers:
                        break
                lines = ["firstname,lastname,email,addgroup"] + [f"U{i},L{i},u{i}@example.com,Sales" for i in range(ROWS)]
                started = time.perf_counter()
                upload_id = appmod.dispatch(("\n".join(lines) + "\n").encode(), lbu.Settings(), ROWS_PER_SHARD)
                with connect() as conn:
                    conn.autocommit = True
                    for _ in range(12000):  # bounded: at most ~20 minutes
                        row = conn.execute("SELECT confirmed FROM uploads WHERE id = %s", (upload_id,)).fetchone()
                        if row and row[0]:
                            return time.perf_counter() - started
                        time.sleep(0.05)
                raise SystemExit("the upload did not finish\n" + pool.log_text())
            finally:
                pool.stop()
    raise SystemExit("no run environment")


def timed(workers: int) -> float:
    """One run in a fresh process (the example reads its queue and schema at import)."""
    out = subprocess.run([sys.executable, __file__, str(workers)], check=True, capture_output=True, text=True,
                         timeout=1500).stdout
    seconds = float(out.split()[-1])
    print(f"celery shards, {ROWS} generated passwords, {workers} worker(s): {seconds:7.1f} s"
          f" ({ROWS / seconds:6.1f} rows/s)", flush=True)
    return seconds


def main() -> None:
    if len(sys.argv) > 1:
        print(one_run(int(sys.argv[1])))
        return
    one, two = timed(1), timed(2)
    print(f"scaling 1 -> 2 workers: {one / two:.2f}x (target >= 1.8x on 2 cores)")


if __name__ == "__main__":
    main()
