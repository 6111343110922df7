"""``lms_bulk_upload.web.WebApi``: the screens' API over Python hooks (records in a real
sqlite3 file), the SQLite store of the examples and a mailer; a run queued and executed by
the "worker" (``api.run``), its events streamed, nothing secret in the records."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import lms_bulk_upload as lbu
from lms_bulk_upload.web import WebApi

from conftest import CHEAP_HASH, ROOT
from record_hooks import ADMIN, PASSWORD, RecordHooks

sys.path.insert(0, str(ROOT / "examples" / "python"))
from sqlite_store import OutboxMailer, open_store  # noqa: E402

SITE = "http://lms.test/admin/bulk-upload"
ORIGIN = "http://lms.test"


class Hooks(RecordHooks):
    """The records' hooks, and runs queued for the test's "worker" (``api.run``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.queue: List[str] = []

    def enqueue_run(self, run_id: str) -> None:
        self.queue.append(run_id)


class Client:
    """A browser: the session cookie and CSRF token."""

    def __init__(self, api: WebApi) -> None:
        self.api, self.cookie, self.csrf = api, "", ""

    def call(self, method: str, target: str, body: bytes = b"", kind: str = "application/json") -> Tuple[int, Dict[str, str], Any]:
        path, _, query = target.partition("?")
        headers = [("origin", ORIGIN), ("content-type", kind), ("cookie", self.cookie), ("x-csrf-token", self.csrf)]
        status, pairs, content = self.api.handle(method, path, query, headers, body, "127.0.0.1")
        answer = dict(pairs)
        return status, answer, content

    def json(self, method: str, target: str, value: Any = None) -> Tuple[int, Any]:
        status, headers, content = self.call(method, target, b"" if value is None else json.dumps(value).encode())
        assert isinstance(content, bytes)
        if "set-cookie" in headers:
            self.cookie = headers["set-cookie"].split(";")[0]
        return status, (json.loads(content) if content else None)


def world(tmp_path: Path) -> Tuple[WebApi, Hooks, Any, OutboxMailer]:
    hooks = Hooks(tmp_path / "records.sqlite3")
    store = open_store(str(tmp_path / "lms.sqlite3"))
    store.db.execute("INSERT INTO groups (name) VALUES ('Sales')")
    store.db.execute("INSERT INTO content VALUES ('course', 'c-101')")
    store.db.commit()
    mailer = OutboxMailer()
    api = WebApi(hooks, store, mailer, site_url=SITE, secret="s" * 40, execute={"hash_params": CHEAP_HASH, "threads": 1})
    return api, hooks, store, mailer


CSV = b"firstname,lastname,email,addgroup\nAna,Lopez,ana@x.com,Sales\nBo,Chan,bo@x.com,\n"


def test_sign_in_upload_plan_approve_and_the_worker_runs_it(tmp_path: Path) -> None:
    api, hooks, store, mailer = world(tmp_path)
    c = Client(api)
    assert c.json("POST", "/api/session", {"email": ADMIN, "password": "wrong"})[1]["code"] == "invalid_credentials"
    status, session = c.json("POST", "/api/session", {"email": ADMIN, "password": PASSWORD})
    assert status == 200 and session["email"] == ADMIN
    c.csrf = session["csrf_token"]

    status, _, content = c.call("POST", "/api/uploads?filename=staff.csv", CSV, "application/octet-stream")
    assert status == 201, content
    upload = json.loads(content)
    status, plan = c.json("POST", f"/api/uploads/{upload['id']}/plans", {"settings": {}})
    assert status == 201, plan
    status, run = c.json("POST", f"/api/plans/{plan['id']}/approve", {})
    assert status == 202 and run["state"] == "queued"
    assert hooks.queue == [run["id"]]

    assert api.run(run["id"]) == "ended"
    assert api.run(run["id"]) == "already_ended"
    status, ended = c.json("GET", f"/api/runs/{run['id']}")
    assert ended["state"] == "finished" and ended["counts"]["created"] == 2
    assert [r[0] for r in store.db.execute("SELECT email FROM users ORDER BY id")] == ["ana@x.com", "bo@x.com"]

    # The run's events: a stream of chunks, ending with the run.
    status, headers, events = c.call("GET", f"/api/runs/{run['id']}/events")
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert not isinstance(events, bytes)
    text = b"".join(events).decode()
    assert '"state":"finished"' in text

    # Generated passwords went out by email, and are in no record.
    passwords = [line.split(": ", 1)[1] for m in mailer.outbox for line in m["text"].splitlines() if line.startswith("Password: ")]
    assert len(passwords) == 2
    records = hooks.everything()
    assert not any(p in records for p in passwords)
    assert PASSWORD not in records


def test_the_screens_page_below_the_mount_point(tmp_path: Path) -> None:
    api, *_ = world(tmp_path)
    status, headers, page = api.handle("GET", "/runs", "", [], b"")
    assert status == 200 and isinstance(page, bytes)
    assert b'<meta name="bu-base" content="/admin/bulk-upload">' in page
    assert b'src="/admin/bulk-upload/assets/app.js"' in page
    assert api.body_limit("POST", "/api/uploads") > api.body_limit("POST", "/api/session")
    status, _, body = api.too_large(10)
    assert status == 413 and b"body_too_large" in body


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    hooks = Hooks(tmp_path / "r.sqlite3")
    try:
        WebApi(hooks, open_store(), OutboxMailer(), site_url=SITE, secret="short")
    except ValueError as e:
        assert "at least 32" in str(e)
    else:
        raise AssertionError("a short secret was taken")
    assert lbu.__version__


def test_column_assignments_are_each_uploads_not_the_hosts(tmp_path: Path) -> None:
    hooks = Hooks(tmp_path / "r.sqlite3")
    try:
        WebApi(hooks, open_store(), OutboxMailer(), site_url=SITE, secret="s" * 40,
               parse_options={"column_assignments": {0: None}})
    except ValueError as e:
        assert "column_assignments" in str(e)
    else:
        raise AssertionError("column_assignments were taken for every upload")
