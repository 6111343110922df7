"""A host `Store` for lms_bulk_upload over the standard library's sqlite3.

This is what an LMS embeds: its own database behind the `Store` protocol. Lookups are
batched (one query per call, many emails), writes happen per user, and `checkpoint()`
commits, so every batch of rows is one transaction. `suspend_user`, `delete_user` and
`withdraw` are the optional writes that undoing an upload needs. Run it to see a whole
upload, and its undo.
"""

from __future__ import annotations

import sqlite3
from typing import Any, List, cast

import lms_bulk_upload as lbu

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    first_name TEXT, last_name TEXT, phone_number TEXT, unique_id TEXT,
    country TEXT, organisation TEXT, language_code TEXT,
    password_hash TEXT, force_password_reset INTEGER NOT NULL DEFAULT 0,
    is_admin INTEGER NOT NULL DEFAULT 0,
    suspended INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS members (user_id INTEGER, group_id INTEGER, PRIMARY KEY (user_id, group_id));
CREATE TABLE IF NOT EXISTS content (kind TEXT, id TEXT, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS enrolments (user_id INTEGER, kind TEXT, content_id TEXT, PRIMARY KEY (user_id, kind, content_id));
"""

PROFILE = ["first_name", "last_name", "phone_number", "unique_id", "country", "organisation", "language_code"]


def email_key(email: str) -> str:
    # The engine's identity of an address (lowercase, IDNA domain); so is this store's.
    return lbu.email_key(email)


class SqliteStore:
    """Implements lms_bulk_upload.Store over a sqlite3 connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(SCHEMA)

    # -- reads (batched) --------------------------------------------------------------
    def find_users(self, emails: List[str]) -> List[lbu.ExistingUser]:
        keys = sorted({email_key(e) for e in emails})
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(f"SELECT * FROM users WHERE email_key IN ({marks})", keys).fetchall()
        users: List[lbu.ExistingUser] = []
        for row in rows:
            groups = [g for (g,) in self.db.execute(
                "SELECT g.name FROM members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ?", (row["id"],))]
            enrolments: List[lbu.ContentRef] = [
                {"kind": k, "id": c} for (k, c) in self.db.execute(
                    "SELECT kind, content_id FROM enrolments WHERE user_id = ?", (row["id"],))]
            user: lbu.ExistingUser = {
                "id": row["id"],  # an int: the engine turns it into text and gives it back
                "email": row["email"],
                "profile": cast(lbu.Profile, {f: row[f] for f in PROFILE}),
                "groups": groups,
                "enrolments": enrolments,
                "protected": bool(row["is_admin"]),
                "suspended": bool(row["suspended"]),
            }
            users.append(user)
        return users

    def find_groups(self, names: List[str]) -> List[lbu.Group]:
        marks = ",".join("?" * len(names))
        rows = self.db.execute(f"SELECT id, name FROM groups WHERE name IN ({marks})", names)
        return [{"id": str(i), "name": n} for (i, n) in rows]

    def find_content(self, refs: List[lbu.ContentRef]) -> List[lbu.ContentRef]:
        return [r for r in refs if self.db.execute(
            "SELECT 1 FROM content WHERE kind = ? AND id = ?", (r["kind"], r["id"])).fetchone()]

    def all_group_names(self) -> List[str]:
        return [n for (n,) in self.db.execute("SELECT name FROM groups")]

    # -- writes -----------------------------------------------------------------------
    def create_user(self, user: lbu.NewUser) -> int:
        profile = user["profile"]
        cur = self.db.execute(
            "INSERT INTO users (email, email_key, first_name, last_name, phone_number, unique_id, country,"
            " organisation, language_code, password_hash, force_password_reset) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (user["email"], email_key(user["email"]), *(profile.get(f) for f in PROFILE),
             user["password_hash"], int(user["force_password_reset"])),
        )
        return int(cur.lastrowid or 0)

    def update_profile(self, user_id: str, changes: lbu.Profile) -> None:
        fields = [f for f in PROFILE if f in changes]
        if fields:
            sets = ", ".join(f"{f} = ?" for f in fields)
            # "" clears a field (an undo restoring one that was empty): stored as NULL.
            values = (changes[f] or None for f in fields)  # type: ignore[literal-required]
            self.db.execute(f"UPDATE users SET {sets} WHERE id = ?", (*values, int(user_id)))

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None:
        self.db.execute("UPDATE users SET password_hash = ?, force_password_reset = ? WHERE id = ?",
                        (password_hash, int(force_reset), int(user_id)))

    def add_to_group(self, user_id: str, group: lbu.Group) -> None:
        self.db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (int(user_id), int(group["id"])))

    def remove_from_group(self, user_id: str, group: lbu.Group) -> None:
        self.db.execute("DELETE FROM members WHERE user_id = ? AND group_id = ?", (int(user_id), int(group["id"])))

    def enrol(self, user_id: str, content: lbu.ContentRef) -> None:
        self.db.execute("INSERT OR IGNORE INTO enrolments VALUES (?, ?, ?)", (int(user_id), content["kind"], content["id"]))

    def checkpoint(self) -> None:
        self.db.commit()

    # -- the writes of an undo (optional) ----------------------------------------------
    def suspend_user(self, user_id: str) -> None:
        self.db.execute("UPDATE users SET suspended = 1 WHERE id = ?", (int(user_id),))

    def delete_user(self, user_id: str) -> bool:
        # The engine has removed the groups and enrolments the upload gave; anything still
        # attached was added since, and this LMS keeps such a user (the engine suspends it).
        uid = int(user_id)
        for table in ("members", "enrolments"):
            if self.db.execute(f"SELECT 1 FROM {table} WHERE user_id = ?", (uid,)).fetchone():
                return False
        self.db.execute("DELETE FROM users WHERE id = ?", (uid,))
        return True

    def withdraw(self, user_id: str, content: lbu.ContentRef) -> None:
        self.db.execute("DELETE FROM enrolments WHERE user_id = ? AND kind = ? AND content_id = ?",
                        (int(user_id), content["kind"], content["id"]))


def open_store(path: str = ":memory:") -> SqliteStore:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return SqliteStore(db)


class OutboxMailer:
    """A Mailer that keeps what it would send (a real host hands it to SMTP)."""

    def __init__(self) -> None:
        self.outbox: List[dict[str, Any]] = []

    def send(self, message: lbu.Message) -> None:
        self.outbox.append({"to": message["to"], "subject": message["subject"], "text": message["text"]})


def main() -> None:
    store = open_store()
    store.db.executemany("INSERT INTO groups (name) VALUES (?)", [("Sales",), ("Support",)])
    store.db.execute("INSERT INTO content VALUES ('course', 'c-101')")
    store.db.execute("INSERT INTO users (email, email_key, first_name, last_name, is_admin) VALUES "
                     "('Boss@Example.com', 'boss@example.com', 'Big', 'Boss', 1)")
    store.db.commit()

    csv = ("firstname,lastname,email,addgroup\n"
           "Ana,Lopez,ana@example.com,Sales\n"
           "Big,Boss,boss@example.com,Support\n"
           "Cy,Diaz,cy@example.com,Suport\n")
    upload = lbu.parse(csv)
    settings = lbu.Settings(enrolments=[("course", "c-101")], update_existing_profiles=True)
    plan = lbu.plan(upload, settings, store)
    for row in plan.rows:
        print(row.line, row.email, row.action, [i.message for i in row.issues])
    mailer = OutboxMailer()
    results = plan.execute(store, mailer, hash_params={"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": True})
    print(results.to_csv())
    assert [r.status for r in results.rows] == ["created", "rejected", "rejected"]
    assert "did you mean 'Support'?" in plan.rows[2].issues[0].message
    assert len(mailer.outbox) == 1

    # Undo the upload (results kept as signed JSON, read back with Results.from_signed_json:
    # results read back unsigned drive no undo): Ana, whom it created, is taken out of Sales
    # and c-101 and suspended.
    key = lbu.PlanKey.generate()
    undo = lbu.plan_undo(lbu.Results.from_signed_json(results.to_signed_json(key), key), store)
    assert undo.undo_of == plan.fingerprint and undo.summary.get("suspensions") == 1
    undone = undo.execute(store, mailer)
    assert undone.undo_of == plan.fingerprint
    row = store.db.execute("SELECT suspended, (SELECT COUNT(*) FROM members WHERE user_id = users.id)"
                           " FROM users WHERE email_key = 'ana@example.com'").fetchone()
    assert tuple(row) == (1, 0)


if __name__ == "__main__":
    main()
