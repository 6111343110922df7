"""The screens' hooks of the ``WebApi`` tests (``test_web.py`` and the child process of
``test_process_exit.py``): records in a real sqlite3 file."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Optional

from lms_bulk_upload.web import Catalog, Record, RecordPage

ADMIN, PASSWORD = "admin@lms.test", "correct horse battery staple"


class RecordHooks:
    """The screens' hooks: the administrator, records in a sqlite3 file (one connection,
    locked: the API calls from several threads; a file opened again keeps them), the
    catalog. No ``enqueue_run``: an approved run executes on the API's own thread."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, key TEXT, version INTEGER, doc TEXT, UNIQUE (kind, key))"
        )
        self.lock = threading.Lock()

    def authenticate(self, email: str, password: str) -> Optional[str]:
        return ADMIN if (email, password) == (ADMIN, PASSWORD) else None

    def get_record(self, kind: str, id: str) -> Optional[Record]:
        with self.lock:
            row = self.db.execute("SELECT version, doc FROM records WHERE kind = ? AND key = ?", (kind, id)).fetchone()
        return None if row is None else {"version": row[0], "doc": json.loads(row[1])}

    def put_record(self, kind: str, id: str, doc: Any, expected: Optional[int]) -> bool:
        text = json.dumps(doc)
        with self.lock, self.db:
            if expected is None:
                sql = ("INSERT INTO records (kind, key, version, doc) VALUES (?, ?, 1, ?) "
                       "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc, version = version + 1")
                return self.db.execute(sql, (kind, id, text)).rowcount == 1
            if expected == 0:
                sql = "INSERT INTO records (kind, key, version, doc) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING"
                return self.db.execute(sql, (kind, id, text)).rowcount == 1
            sql = "UPDATE records SET doc = ?, version = version + 1 WHERE kind = ? AND key = ? AND version = ?"
            return self.db.execute(sql, (text, kind, id, expected)).rowcount == 1

    def list_records(self, kind: str, offset: int, limit: int) -> RecordPage:
        with self.lock:
            total = self.db.execute("SELECT count(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0]
            rows = self.db.execute(
                "SELECT key, doc FROM records WHERE kind = ? ORDER BY seq DESC LIMIT ? OFFSET ?", (kind, limit, offset)
            ).fetchall()
        return {"total": total, "items": [{"id": k, "doc": json.loads(d)} for k, d in rows]}

    def delete_record(self, kind: str, id: str) -> None:
        with self.lock, self.db:
            self.db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, id))

    def catalog(self) -> Catalog:
        return {"groups": [{"id": 1, "name": "Sales"}], "content": [{"kind": "course", "id": "c-101", "title": "Induction"}]}

    def everything(self) -> str:
        with self.lock:
            return "\n".join(d for (d,) in self.db.execute("SELECT doc FROM records"))
