"""A Python process ends once a run on the WebApi's own thread has ended, not under it: a
child ``python`` (``own_thread_child.py``) approves a run whose hooks have no
``enqueue_run``, or resumes an unfinished one, and lets its main thread end at once. It
must exit by itself with code 0 (killed, and the test failed, if still running after
60 s), the run finished and every user written in its files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from own_thread_child import ROWS  # noqa: E402


def child(folder: Path, mode: str) -> Dict[str, Any]:
    """Runs the child in ``mode``; what it printed last (as JSON), once it has exited with code 0."""
    process = subprocess.Popen([sys.executable, str(HERE / "own_thread_child.py"), str(folder), mode],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"the process did not exit on its own (killed after 60 s):\n{out!r}\n{err!r}")
    assert process.returncode == 0, (process.returncode, out, err)
    printed: Dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return printed


def run_record(folder: Path, run_id: str) -> Dict[str, Any]:
    records = sqlite3.connect(str(folder / "records.sqlite3"))
    (doc,) = records.execute("SELECT doc FROM records WHERE kind = 'run' AND key = ?", (run_id,)).fetchone()
    run: Dict[str, Any] = json.loads(doc)
    return run


def assert_every_user_written(folder: Path, run_id: str) -> None:
    run = run_record(folder, run_id)
    assert run["state"] == "finished", run
    assert run["done"] == ROWS and run["counts"]["created"] == ROWS, run
    lms = sqlite3.connect(str(folder / "lms.sqlite3"))
    emails = [e for (e,) in lms.execute("SELECT email FROM users ORDER BY id")]
    assert emails == [f"user{i}@example.com" for i in range(ROWS)]
    assert lms.execute("SELECT count(*) FROM members").fetchone()[0] == ROWS


def test_the_process_waits_for_a_run_on_the_apis_own_thread(tmp_path: Path) -> None:
    queued = child(tmp_path, "approve")
    assert queued["state"] == "queued"
    assert_every_user_written(tmp_path, queued["run"])


def test_the_process_waits_for_a_resumed_run(tmp_path: Path) -> None:
    queued = child(tmp_path, "queue")
    assert run_record(tmp_path, queued["run"])["state"] == "queued"
    assert child(tmp_path, "resume")["resumed"] == [queued["run"]]
    assert_every_user_written(tmp_path, queued["run"])
