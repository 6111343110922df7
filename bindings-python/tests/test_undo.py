"""Undo through the public API: ``plan_undo`` with the ``MemoryStore``, with a host store
written in Python (the core's host protocol, optional undo methods), and on SQLite (the
example store), comparing the database after the undo with the database before the upload.
What is reversed and what is refused is the core's (scenarios 74-87, run by
test_scenarios.py); this checks the binding's part of it."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple, cast

import pytest

import lms_bulk_upload as lbu

from conftest import CHEAP_HASH, ROOT

sys.path.insert(0, str(ROOT / "examples" / "python"))
from sqlite_store import OutboxMailer, SqliteStore, open_store  # noqa: E402

CSV = (
    "firstname,lastname,email,country,addgroup,removegroup\n"
    "Ana,Lopez,ana@x.com,AU,Sales,Support\n"  # existing: country, +Sales, -Support
    "Bo,Chan,bo@x.com,NZ,Sales,\n"  # new
    "Cy,Diaz,cy@x.com,,,\n"  # new
)
SETTINGS: Dict[str, Any] = {"update_existing_profiles": True, "enrol_existing_users": True,
                            "enrolments": [("course", "c1")]}
STATE: lbu.StoreState = {
    "groups": [{"id": "g1", "name": "Sales"}, {"id": "g2", "name": "Support"}],
    "content": [{"kind": "course", "id": "c1"}],
    "users": [{"id": "u1", "email": "ana@x.com", "first_name": "Ana", "last_name": "Lopez", "country": "NZ",
               "groups": ["Support"]}],
}


def upload(store: Any) -> lbu.Results:
    plan = lbu.plan(lbu.parse(CSV), lbu.Settings(**SETTINGS), store)
    results = plan.execute(store, OutboxMailer(), hash_params=CHEAP_HASH)
    assert [r.status for r in results.rows] == ["updated", "created", "created"]
    return results


# -- MemoryStore ----------------------------------------------------------------------------


def test_undo_with_the_memory_store() -> None:
    store = lbu.MemoryStore(STATE)
    results = upload(store)
    assert results.undo_of is None
    undo = lbu.plan_undo(results, store, {"uploader_email": "admin@x.com"})
    assert undo.undo_of == results.fingerprint
    assert undo.summary["update"] == 3 and undo.summary.get("suspensions") == 2
    assert undo.summary.get("withdrawals") == 3 and undo.summary["deletions"] == 0
    assert [op["op"] for op in undo.rows[1].operations] == ["withdraw", "remove_from_group", "suspend_user"]
    assert lbu.Plan.from_json(undo.to_json()).undo_of == results.fingerprint

    mailer = lbu.RecordingMailer()
    undone = undo.execute(store, mailer, hash_params=CHEAP_HASH)
    assert undone.undo_of == results.fingerprint
    assert [r.status for r in undone.rows] == ["updated", "updated", "updated"]
    assert [m["to"] for m in mailer.messages] == ["admin@x.com"]  # only the uploader is told
    users = {u["email"]: u for u in store.state()["users"]}
    assert (users["ana@x.com"].get("country"), users["ana@x.com"]["groups"]) == ("NZ", ["Support"])
    assert not users["ana@x.com"]["enrolments"] and not users["ana@x.com"]["suspended"]
    for email in ("bo@x.com", "cy@x.com"):
        assert users[email]["suspended"] and not users[email]["groups"] and not users[email]["enrolments"]


def test_delete_created_users_with_the_memory_store() -> None:
    store = lbu.MemoryStore(STATE)
    results = upload(store)
    undo = lbu.plan_undo(results, store, {"delete_created_users": True})
    assert undo.summary.get("deletions") == 2 and undo.summary["suspensions"] == 0
    undo.execute(store, lbu.RecordingMailer())
    assert [u["email"] for u in store.state()["users"]] == ["ana@x.com"]


def test_the_results_of_an_undo_cannot_be_undone() -> None:
    store = lbu.MemoryStore(STATE)
    undone = lbu.plan_undo(upload(store), store).execute(store, lbu.RecordingMailer())
    for results in (undone, lbu.Results.from_json(undone.to_json())):  # also once stored as JSON
        with pytest.raises(lbu.PlanError) as e:
            lbu.plan_undo(results, store)
        assert e.value.code == "undo_of_undo"


def test_results_read_back_unsigned_drive_no_undo_and_signed_ones_do() -> None:
    store = lbu.MemoryStore(STATE)
    results = upload(store)
    assert results.verified
    key = lbu.PlanKey.generate()
    stored = lbu.Results.from_json(results.to_json())
    assert not stored.verified
    with pytest.raises(lbu.PlanError) as e:
        lbu.plan_undo(stored, store)
    assert e.value.code == "results_unsigned"
    vouched = lbu.plan_undo(stored, store, {"results_from_trusted_storage": True})
    assert vouched.summary["suspensions"] == 0  # unverified results suspend no one
    signed = lbu.Results.from_signed_json(results.to_signed_json(key), key)
    assert signed.verified and lbu.plan_undo(signed, store).summary.get("suspensions") == 2
    with pytest.raises(lbu.PlanError) as e:
        lbu.Results.from_signed_json(results.to_signed_json(key).replace("bo@x.com", "ann@x.com"), key)
    assert e.value.code == "results_signature_invalid"
    with pytest.raises(lbu.PlanError) as e:
        lbu.Results.from_signed_json(results.to_json(), key)
    assert e.value.code == "results_unsigned"


def test_options_are_decoded_by_the_core() -> None:
    store = lbu.MemoryStore(STATE)
    results = upload(store)
    state = store.state()
    with pytest.raises(lbu.SettingsError) as e:
        lbu.plan_undo(results, store, {"delete_users": True})  # type: ignore[arg-type]
    assert e.value.code == "invalid_option"
    with pytest.raises(lbu.SettingsError) as e:
        lbu.plan_undo(results, store, {"uploader_email": "not-an-email"})
    assert e.value.code == "invalid_setting"
    camel: Any = {"deleteCreatedUsers": True}  # the core's camelCase spellings, as everywhere
    assert lbu.plan_undo(results, store, camel).summary.get("deletions") == 2
    assert store.state() == state  # planning wrote nothing


def test_a_memory_store_that_lacks_withdraw_refuses_the_undo() -> None:
    store = lbu.MemoryStore(STATE)
    results = upload(store)
    lacking = lbu.MemoryStore({**store.state(), "lacks": ["withdraw"]})
    with pytest.raises(lbu.StoreError) as e:
        lbu.plan_undo(results, lacking)
    assert e.value.code == "undo_unsupported" and "withdraw" in e.value.message


# -- a host store in Python -------------------------------------------------------------------


class DictStore:
    """A plain Python object with the nine store methods, ``suspend_user`` and ``withdraw``,
    but no ``delete_user``; users are dicts keyed by id."""

    def __init__(self) -> None:
        self.groups = {"Sales": "10", "Support": "11"}
        self.users: Dict[str, Dict[str, Any]] = {
            "7": {"email": "ana@x.com", "first_name": "Ana", "last_name": "Lopez", "country": "NZ",
                  "groups": {"Support"}, "enrolments": set(), "suspended": False},
        }
        self.calls: List[str] = []

    def find_users(self, emails: List[str]) -> List[lbu.ExistingUser]:
        wanted = {e.lower() for e in emails}
        return [cast(lbu.ExistingUser, {
            "id": int(i), **u, "groups": sorted(u["groups"]),
            "enrolments": [{"kind": k, "id": c} for (k, c) in sorted(u["enrolments"])],
        }) for i, u in self.users.items() if u["email"].lower() in wanted]

    def find_groups(self, names: List[str]) -> List[lbu.Group]:
        return [{"id": self.groups[n], "name": n} for n in names if n in self.groups]

    def find_content(self, refs: List[lbu.ContentRef]) -> List[lbu.ContentRef]:
        return [r for r in refs if (r["kind"], r["id"]) == ("course", "c1")]

    def create_user(self, user: lbu.NewUser) -> int:
        new = str(100 + len(self.users))
        self.users[new] = {"email": user["email"], **user["profile"], "groups": set(), "enrolments": set(),
                           "suspended": False}
        return int(new)

    def update_profile(self, user_id: str, changes: lbu.Profile) -> None:
        self.users[user_id].update(changes)

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None:
        self.users[user_id]["password_hash"] = password_hash

    def add_to_group(self, user_id: str, group: lbu.Group) -> None:
        self.users[user_id]["groups"].add(group["name"])

    def remove_from_group(self, user_id: str, group: lbu.Group) -> None:
        self.users[user_id]["groups"].discard(group["name"])

    def enrol(self, user_id: str, content: lbu.ContentRef) -> None:
        self.users[user_id]["enrolments"].add((content["kind"], content["id"]))

    def suspend_user(self, user_id: str) -> None:
        self.calls.append(f"suspend_user {user_id}")
        self.users[user_id]["suspended"] = True

    def withdraw(self, user_id: str, content: lbu.ContentRef) -> None:
        self.calls.append(f"withdraw {user_id} {content['id']}")
        self.users[user_id]["enrolments"].discard((content["kind"], content["id"]))


def test_a_python_host_without_delete_user() -> None:
    store = DictStore()
    before = {i: {**u, "groups": set(u["groups"])} for i, u in store.users.items()}
    results = upload(store)
    assert [r.user_id for r in results.rows] == ["7", "101", "102"]

    with pytest.raises(lbu.StoreError) as e:
        lbu.plan_undo(results, store, {"delete_created_users": True})
    assert e.value.code == "undo_unsupported" and "delete_user" in e.value.message
    assert store.calls == []  # refused before anything was written

    undo = lbu.plan_undo(results, store)
    undone = undo.execute(store, lbu.RecordingMailer())
    assert [r.status for r in undone.rows] == ["updated", "updated", "updated"]
    assert sorted(store.calls) == ["suspend_user 101", "suspend_user 102", "withdraw 101 c1", "withdraw 102 c1",
                                   "withdraw 7 c1"]
    ana = store.users["7"]
    assert ana == {**before["7"], "country": "NZ"}  # country restored, Sales left, Support back, c1 withdrawn
    for new in ("101", "102"):
        user = store.users[new]
        assert user["suspended"] and user["groups"] == set() and user["enrolments"] == set()

    with pytest.raises(lbu.PlanError) as refused:
        lbu.plan_undo(undone, store)
    assert refused.value.code == "undo_of_undo"


def test_a_host_exception_while_planning_the_undo_is_a_store_error() -> None:
    store = DictStore()
    results = upload(store)

    class Broken(DictStore):
        def find_users(self, emails: List[str]) -> List[lbu.ExistingUser]:
            raise ConnectionResetError("connection lost")

    with pytest.raises(lbu.StoreError) as e:
        lbu.plan_undo(results, Broken())
    assert "connection lost" in str(e.value.__cause__)
    assert isinstance(e.value.__cause__, ConnectionResetError)


# -- SQLite (examples/python/sqlite_store.py) ------------------------------------------------


Tables = Dict[str, Set[Tuple[Any, ...]]]


def tables(db: sqlite3.Connection) -> Tables:
    """Every table's rows, read through a fresh connection."""
    names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: set(db.execute(f"SELECT * FROM {n}")) for n in names}


def seeded(path: Path) -> SqliteStore:
    store = open_store(str(path))
    store.db.executemany("INSERT INTO groups (name) VALUES (?)", [("Sales",), ("Support",)])
    store.db.execute("INSERT INTO content VALUES ('course', 'c1')")
    store.db.execute("INSERT INTO users (email, email_key, first_name, last_name, country) "
                     "VALUES ('Ana@X.com', 'ana@x.com', 'Ana', 'Lopez', NULL)")
    store.db.execute("INSERT INTO members VALUES (1, 2)")  # Ana is in Support
    store.db.execute("INSERT INTO users (email, email_key, first_name, last_name, is_admin) "
                     "VALUES ('root@x.com', 'root@x.com', 'Root', 'Admin', 1)")
    store.db.commit()
    return store


def test_undo_on_sqlite_gives_back_the_tables_but_suspended_users(tmp_path: Path) -> None:
    path = tmp_path / "lms.db"
    store = seeded(path)
    before = tables(sqlite3.connect(path))
    results = upload(store)
    after_upload = tables(sqlite3.connect(path))
    assert after_upload != before

    undone = lbu.plan_undo(results, store).execute(store, OutboxMailer())
    assert undone.undo_of == results.fingerprint
    now = tables(sqlite3.connect(path))  # a fresh connection: the undo was committed
    assert {n: rows for n, rows in now.items() if n != "users"} == {n: r for n, r in before.items() if n != "users"}
    suspended = {row for row in now["users"] if row[-1] == 1}  # suspended is the last column
    assert {row[1] for row in suspended} == {"bo@x.com", "cy@x.com"}  # the users the upload created
    assert now["users"] - suspended == before["users"]  # Ana's country is NULL again, as before


def test_undo_on_sqlite_deleting_created_users(tmp_path: Path) -> None:
    path = tmp_path / "lms.db"
    store = seeded(path)
    before = tables(sqlite3.connect(path))
    results = upload(store)
    # Since the upload, someone put Cy in Support: the store keeps Cy (delete_user says
    # False) and the engine suspends Cy instead.
    store.db.execute("INSERT INTO members SELECT id, 2 FROM users WHERE email_key = 'cy@x.com'")
    store.db.commit()

    undo = lbu.plan_undo(results, store, {"delete_created_users": True})
    assert undo.summary.get("deletions") == 2
    undone = undo.execute(store, OutboxMailer())
    assert [d["op"] for d in undone.rows[1].done][-1] == "delete_user"
    assert [d["op"] for d in undone.rows[2].done][-1] == "suspend_user"
    now = tables(sqlite3.connect(path))
    cy = {row for row in now["users"] if row[1] == "cy@x.com"}
    assert [row[-1] for row in cy] == [1]  # kept and suspended
    assert now["users"] - cy == before["users"]  # Bo is gone, Ana is as before
    assert now["enrolments"] == before["enrolments"]
    assert now["members"] == before["members"] | {(next(iter(cy))[0], 2)}  # Cy's Support stays
