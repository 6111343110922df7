"""The child process of ``test_process_exit.py``: a ``WebApi`` whose hooks have no
``enqueue_run`` (records in a sqlite3 file), over the examples' SQLite store on a file.
``approve``: it signs in, uploads ``ROWS`` new users, plans, approves (the run starts on
the API's own thread) and lets its main thread end at once. ``queue``: the same, with an
``enqueue_run`` whose worker never comes (the run stays queued). ``resume``: over the
files ``queue`` left, ``resume_unfinished`` (the run on the API's own thread), and the
main thread ends. The parent reads both files afterwards.

Usage: ``python own_thread_child.py <folder> approve|queue|resume``."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "examples" / "python"))
from sqlite_store import OutboxMailer, SqliteStore  # noqa: E402

from lms_bulk_upload.web import WebApi  # noqa: E402
from record_hooks import ADMIN, PASSWORD, RecordHooks  # noqa: E402

ORIGIN = "http://lms.test"
ROWS = 300
CHEAP_HASH = {"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": True}


class QueueHooks(RecordHooks):
    """Hooks whose queue's worker never comes."""

    def enqueue_run(self, run_id: str) -> None:
        pass


def call(api: WebApi, method: str, target: str, body: bytes, cookie: str = "", csrf: str = "",
         kind: str = "application/json") -> Any:
    path, _, query = target.partition("?")
    headers = [("origin", ORIGIN), ("content-type", kind), ("cookie", cookie), ("x-csrf-token", csrf)]
    status, pairs, content = api.handle(method, path, query, headers, body, "127.0.0.1")
    assert isinstance(content, bytes) and status < 300, (status, content)
    answer = json.loads(content)
    cookie_header = dict(pairs).get("set-cookie")
    if cookie_header:
        answer["_cookie"] = cookie_header.split(";")[0]
    return answer


def main(folder: Path, mode: str) -> None:
    hooks = QueueHooks(folder / "records.sqlite3") if mode == "queue" else RecordHooks(folder / "records.sqlite3")
    db = sqlite3.connect(str(folder / "lms.sqlite3"), check_same_thread=False)
    db.row_factory = sqlite3.Row
    store = SqliteStore(db)
    store.db.execute("INSERT OR IGNORE INTO groups (name) VALUES ('Sales')")
    store.db.commit()
    api = WebApi(hooks, store, OutboxMailer(), site_url=ORIGIN + "/admin/bulk-upload", secret="s" * 40,
                 execute={"hash_params": CHEAP_HASH, "threads": 1})
    if mode == "resume":
        print(json.dumps({"resumed": api.resume_unfinished()}), flush=True)
        return  # The main thread ends here, the run in flight on the API's own thread.
    session = call(api, "POST", "/api/session", json.dumps({"email": ADMIN, "password": PASSWORD}).encode())
    cookie, csrf = session["_cookie"], session["csrf_token"]
    lines = ["firstname,lastname,email,addgroup"] + [f"First{i},Last{i},user{i}@example.com,Sales" for i in range(ROWS)]
    upload = call(api, "POST", "/api/uploads?filename=staff.csv", "\n".join(lines).encode(), cookie, csrf,
                  "application/octet-stream")
    plan = call(api, "POST", f"/api/uploads/{upload['id']}/plans", b'{"settings": {}}', cookie, csrf)
    run = call(api, "POST", f"/api/plans/{plan['id']}/approve", b"{}", cookie, csrf)
    print(json.dumps({"run": run["id"], "state": run["state"]}), flush=True)
    # The main thread ends here, the run in flight on the API's own thread.


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
