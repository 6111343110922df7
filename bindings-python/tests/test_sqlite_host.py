"""A host store written in Python over sqlite3 (a real database file), end to end."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any, List

import pytest

import lms_bulk_upload as lbu

from conftest import CHEAP_HASH, ROOT

sys.path.insert(0, str(ROOT / "examples" / "python"))
from sqlite_store import OutboxMailer, SqliteStore, open_store  # noqa: E402


def seeded(path: Path) -> SqliteStore:
    store = open_store(str(path))
    store.db.executemany("INSERT INTO groups (name) VALUES (?)", [("Sales",), ("Support",)])
    store.db.executemany("INSERT INTO content VALUES (?, ?)", [("course", "c1"), ("campaign", "m1")])
    store.db.execute(
        "INSERT INTO users (email, email_key, first_name, last_name, country) VALUES ('Ana@X.com', 'ana@x.com', 'Ana', 'Lopez', 'NZ')"
    )
    store.db.execute("INSERT INTO members VALUES (1, 2)")  # Ana is in Support
    store.db.execute(
        "INSERT INTO users (email, email_key, first_name, last_name, is_admin) VALUES ('root@x.com', 'root@x.com', 'Root', 'Admin', 1)"
    )
    store.db.commit()
    return store


CSV = (
    "firstname,lastname,email,country,addgroup,removegroup\n"
    "Ana,Lopez,ana@x.com,AU,Sales,Support\n"  # existing: country, +Sales, -Support
    "Root,Admin,ROOT@x.com,,,\n"  # protected
    "Bo,Chan,bo@x.com,NZ,Sales,\n"  # new
    "Cy,Diaz,cy@x.com,,,\n"  # new
    "Dup,Licate,bo@X.com,,,\n"  # duplicate in the file
)


def test_end_to_end_on_sqlite(tmp_path: Path) -> None:
    db_path = tmp_path / "lms.db"
    store = seeded(db_path)
    settings = lbu.Settings(update_existing_profiles=True, enrol_existing_users=True, enrolments=[("course", "c1")],
                            uploader_email="admin@x.com")
    plan = lbu.plan(lbu.parse(CSV), settings, store)
    assert [r.action for r in plan.rows] == ["update", "rejected", "create", "create", "rejected"]
    assert plan.rows[0].user_id == "1"  # the int id came back as text
    assert plan.rows[1].issues[0].code == "protected_user"
    assert plan.rows[4].issues[0].code == "duplicate_email"

    mailer = OutboxMailer()
    progress: List[int] = []
    results = lbu.Plan.from_json(plan.to_json()).execute(store, mailer, hash_params=CHEAP_HASH,
                                                         progress=lambda p: progress.append(p.done))
    assert [r.status for r in results.rows] == ["updated", "rejected", "created", "created", "rejected"]
    assert progress == [1, 2, 3, 4, 5]
    assert [m["to"] for m in mailer.outbox] == ["bo@x.com", "cy@x.com", "admin@x.com"]

    # Read the database back through a fresh connection: everything was committed.
    db = sqlite3.connect(db_path)
    users = {e: (c, h) for (e, c, h) in db.execute("SELECT email, country, password_hash FROM users")}
    assert users["Ana@X.com"][0] == "AU"
    assert users["Ana@X.com"][1] is None  # passwords of existing users untouched
    assert users["bo@x.com"][1].startswith("$argon2id$")
    groups = set(db.execute("SELECT u.email, g.name FROM members m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id"))
    assert groups == {("Ana@X.com", "Sales"), ("bo@x.com", "Sales")}
    enrolled = {e for (e,) in db.execute("SELECT u.email FROM enrolments n JOIN users u ON u.id = n.user_id")}
    assert enrolled == {"Ana@X.com", "bo@x.com", "cy@x.com"}
    assert db.execute("SELECT COUNT(*) FROM users WHERE email_key = 'root@x.com' AND password_hash IS NULL").fetchone()[0] == 1


class CountingStore(SqliteStore):
    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__(db)
        self.lookups: List[int] = []

    def find_users(self, emails: List[str]) -> List[lbu.ExistingUser]:
        self.lookups.append(len(emails))
        return super().find_users(emails)


def test_lookups_are_batched(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "big.db")
    db.row_factory = sqlite3.Row
    store = CountingStore(db)
    csv = "firstname,lastname,email\n" + "".join(f"F{i},L{i},u{i}@x.com\n" for i in range(2500))
    plan = lbu.plan(lbu.parse(csv), lbu.Settings(), store)
    assert plan.summary["create"] == 2500
    assert store.lookups == [1000, 1000, 500]


class FailingStore(SqliteStore):
    """Fails for one email; fails transiently once for another."""

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__(db)
        self.transient_left = 1

    def create_user(self, user: lbu.NewUser) -> int:
        if user["email"] == "cy@x.com":
            raise sqlite3.IntegrityError("CHECK constraint failed: users")
        if user["email"] == "bo@x.com" and self.transient_left:
            self.transient_left -= 1
            err = sqlite3.OperationalError("database is locked")
            err.transient = True  # type: ignore[attr-defined]
            raise err
        return super().create_user(user)


def test_an_exception_in_the_store_is_a_failed_row(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "f.db")
    db.row_factory = sqlite3.Row
    store = FailingStore(db)
    store.db.execute("INSERT INTO groups (name) VALUES ('Sales')")
    csv = "firstname,lastname,email\nBo,Chan,bo@x.com\nCy,Diaz,cy@x.com\nDi,Eve,di@x.com\n"
    plan = lbu.plan(lbu.parse(csv), lbu.Settings(), store)
    results = plan.execute(store, OutboxMailer(), hash_params=CHEAP_HASH, retry_delay_ms=0)
    assert [r.status for r in results.rows] == ["created", "failed", "created"]
    assert results.rows[1].error == {"code": "store_failed", "message": "CHECK constraint failed: users"}
    assert results.summary["failed"] == 1
    assert store.transient_left == 0  # the transient failure was retried


def test_a_store_exception_while_planning_is_a_store_error() -> None:
    class Broken(SqliteStore):
        def find_users(self, emails: List[str]) -> Any:
            raise RuntimeError("connection lost")

    store = Broken(sqlite3.connect(":memory:"))
    with pytest.raises(lbu.StoreError) as e:
        lbu.plan(lbu.parse(CSV), lbu.Settings(), store)
    assert e.value.code == "store_failed" and "connection lost" in e.value.message
    assert isinstance(e.value.__cause__, RuntimeError)


def test_a_bad_return_value_is_a_store_error() -> None:
    class Wrong(SqliteStore):
        def find_users(self, emails: List[str]) -> Any:
            return [{"email": "a@x.com"}]  # no id

    with pytest.raises(lbu.StoreError) as e:
        lbu.plan(lbu.parse(CSV), lbu.Settings(), Wrong(sqlite3.connect(":memory:")))
    assert "find_users" in e.value.message
