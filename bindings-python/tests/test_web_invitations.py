"""Sign-in links through ``lms_bulk_upload.web.WebApi`` (a framework mount): an upload planned
with ``send_invitations`` and run by the worker emails a link below the mount point; the
link's page and its two routes (``/api/invitations/verify``, ``/api/invitations/redeem``)
answer as the reference server's, over a Python store keeping only digests in a real
sqlite3 file; a store without the methods has them answer 404."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

import lms_bulk_upload as lbu
from lms_bulk_upload.web import WebApi

from conftest import CHEAP_HASH
from record_hooks import ADMIN, PASSWORD
from test_web import CSV, SITE, Client, Hooks
from sqlite_store import OutboxMailer, SqliteStore  # examples/python, on the path (test_web)

LINKS = """
CREATE TABLE IF NOT EXISTS invitations (
    digest TEXT PRIMARY KEY, user_id INTEGER NOT NULL, upload TEXT NOT NULL,
    expires_at INTEGER NOT NULL, used_at TEXT
);
"""


class LinkStore(SqliteStore):
    """The examples' SQLite store with the four sign-in link methods."""

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__(db)
        self.db.executescript(LINKS)

    def add_invitation(self, invitation: Dict[str, Any]) -> None:
        user = int(invitation["user"])
        self.db.execute("DELETE FROM invitations WHERE user_id = ? AND used_at IS NULL AND upload <> ?", (user, invitation["upload"]))
        self.db.execute("INSERT OR REPLACE INTO invitations VALUES (?, ?, ?, ?, NULL)",
                        (invitation["digest"], user, invitation["upload"], invitation["expires_at"]))

    def find_invitation(self, digest: str) -> Optional[Dict[str, Any]]:
        row = self.db.execute("SELECT user_id, expires_at, used_at FROM invitations WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            return None
        return {"user": str(row[0]), "digest": digest, "expires_at": row[1], "used": row[2] is not None}

    def redeem_invitation(self, digest: str) -> bool:
        used = self.db.execute("UPDATE invitations SET used_at = datetime('now') WHERE digest = ? AND used_at IS NULL", (digest,))
        if used.rowcount != 1:
            return False
        self.db.execute("DELETE FROM invitations WHERE used_at IS NULL AND user_id = (SELECT user_id FROM invitations WHERE digest = ?)", (digest,))
        return True

    def revoke_invitations(self, user_id: str, upload: str) -> None:
        self.db.execute("DELETE FROM invitations WHERE user_id = ? AND upload = ? AND used_at IS NULL", (int(user_id), upload))


def world(tmp_path: Path, store: SqliteStore) -> Tuple[WebApi, Hooks, OutboxMailer]:
    hooks = Hooks(tmp_path / "records.sqlite3")
    store.db.execute("INSERT INTO groups (name) VALUES ('Sales')")
    store.db.commit()
    mailer = OutboxMailer()
    api = WebApi(hooks, store, mailer, site_url=SITE, secret="s" * 40, execute={"hash_params": CHEAP_HASH, "threads": 1})
    return api, hooks, mailer


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path))
    db.row_factory = sqlite3.Row
    return db


def signed_in(api: WebApi) -> Client:
    c = Client(api)
    status, session = c.json("POST", "/api/session", {"email": ADMIN, "password": PASSWORD})
    assert status == 200
    c.csrf = session["csrf_token"]
    return c


def test_links_are_issued_below_the_mount_point_and_work_once(tmp_path: Path) -> None:
    store = LinkStore(connect(tmp_path / "lms.sqlite3"))
    api, hooks, mailer = world(tmp_path, store)
    c = signed_in(api)
    status, _, content = c.call("POST", "/api/uploads?filename=staff.csv", CSV, "application/octet-stream")
    assert status == 201, content
    upload = json.loads(content)
    status, plan = c.json("POST", f"/api/uploads/{upload['id']}/plans", {"settings": {"send_invitations": True}})
    assert status == 201, plan
    assert plan["summary"]["invitations"] == 2 and plan["summary"]["passwords"] == 0
    status, run = c.json("POST", f"/api/plans/{plan['id']}/approve", {})
    assert status == 202
    assert api.run(run["id"]) == "ended"

    welcomes = [m for m in mailer.outbox if m["to"] in ("ana@x.com", "bo@x.com")]
    assert len(welcomes) == 2 and not any("Password: " in m["text"] for m in welcomes)
    tokens = [re.search(re.escape(SITE) + r"/invitations/([A-Za-z0-9_-]{43})\b", m["text"]) for m in welcomes]
    assert all(tokens), [m["text"] for m in welcomes]
    token = tokens[0].group(1)  # type: ignore[union-attr]
    # Only digests: the token is in no record and no store row.
    assert token not in hooks.everything()
    assert not any(token in str(tuple(r)) for r in store.db.execute("SELECT * FROM invitations"))

    # The page the link opens, below the mount point.
    status, headers, page = api.handle("GET", f"/invitations/{token}", "", [], b"")
    assert status == 200 and isinstance(page, bytes) and headers
    assert b'src="/admin/bulk-upload/assets/invitation.js"' in page

    learner = Client(api)  # no session: the routes are public
    assert learner.json("POST", "/api/invitations/verify", {"token": token}) == (200, {"valid": True})
    status, problem = learner.json("POST", "/api/invitations/verify", {"token": "A" * 43})
    assert (status, problem["code"]) == (404, "invitation_unknown")
    status, problem = learner.json("POST", "/api/invitations/redeem", {"token": token, "password": "password123"})
    assert (status, problem["code"]) == (422, "weak_password")
    chosen = "Kowhai-tree-by-the-river-42"
    status, done = learner.json("POST", "/api/invitations/redeem", {"token": token, "password": chosen})
    assert status == 200 and done == {"password_set": True, "sign_in_url": SITE}

    with pytest.raises(lbu.InvitationError) as e:  # the engine's own check agrees: used up
        lbu.verify_invitation(store, token)
    assert e.value.code == "invitation_used"
    (phc,) = store.db.execute("SELECT password_hash FROM users WHERE email = 'ana@x.com'").fetchone()
    assert phc.startswith("$argon2id$") and lbu.verify_password(phc, chosen)
    status, problem = learner.json("POST", "/api/invitations/redeem", {"token": token, "password": chosen})
    assert (status, problem["code"]) == (410, "invitation_used")
    # The other user's link is untouched.
    assert learner.json("POST", "/api/invitations/verify", {"token": tokens[1].group(1)}) == (200, {"valid": True})  # type: ignore[union-attr]


def test_a_store_without_the_methods_serves_no_links(tmp_path: Path) -> None:
    api, _, _ = world(tmp_path, SqliteStore(connect(tmp_path / "lms.sqlite3")))
    status, problem = Client(api).json("POST", "/api/invitations/verify", {"token": "A" * 43})
    assert (status, problem["code"]) == (404, "not_found")
    c = signed_in(api)
    status, _, content = c.call("POST", "/api/uploads?filename=staff.csv", CSV, "application/octet-stream")
    upload = json.loads(content)
    status, problem = c.json("POST", f"/api/uploads/{upload['id']}/plans", {"settings": {"send_invitations": True}})
    assert status >= 400 and problem["code"] == "host_method_missing"
