"""New users with personal sign-in links through the Python binding, with a Python host
store on SQLite (the standard library's sqlite3) and an outbox mailer: what a Django or
Flask host's own store costs, beside the CLI's figures (`make bench-invite`).

    python bindings-python/bench/bench_invite.py [--rows N] [--password-sample N]

Sign-in links (a 256-bit token, its SHA-256 digest kept, the link emailed) are measured on
N new users (100,000); generated passwords (argon2id at OWASP's cost) on a sample
(1,000), extrapolated to N.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import lms_bulk_upload as lbu


class SqliteStore:
    """A host's store on SQLite: users and invitations (digests only), one transaction per
    batch of rows (committed at the engine's checkpoint)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level="DEFERRED")
        self.db.executescript(
            """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
            CREATE TABLE users (id INTEGER PRIMARY KEY, email_key TEXT UNIQUE NOT NULL,
                email TEXT NOT NULL, first_name TEXT, last_name TEXT, password_hash TEXT,
                force_password_reset INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE invitations (digest TEXT PRIMARY KEY, user_id INTEGER NOT NULL,
                upload TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0)
                WITHOUT ROWID;
            CREATE INDEX invitations_by_user ON invitations (user_id);
            """
        )

    def find_users(self, emails: List[str]) -> List[lbu.ExistingUser]:
        keys = [lbu.email_key(e) for e in emails]
        found: List[lbu.ExistingUser] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.db.execute(
                f"SELECT id, email, first_name, last_name FROM users WHERE email_key IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.extend({"id": r[0], "email": r[1], "profile": {"first_name": r[2], "last_name": r[3]}}
                         for r in rows)
        return found

    def find_groups(self, names: List[str]) -> List[Any]:
        return []

    def find_content(self, refs: List[Any]) -> List[Any]:
        return []

    def create_user(self, user: Any) -> int:
        profile = user["profile"]
        cur = self.db.execute(
            "INSERT INTO users (email_key, email, first_name, last_name, password_hash, force_password_reset) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (lbu.email_key(user["email"]), user["email"], profile.get("first_name"), profile.get("last_name"),
             user["password_hash"], int(user["force_password_reset"])),
        )
        return int(cur.lastrowid or 0)

    def update_profile(self, user_id: str, changes: Any) -> None: ...

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None:
        self.db.execute("UPDATE users SET password_hash = ?, force_password_reset = ? WHERE id = ?",
                        (password_hash, int(force_reset), int(user_id)))

    def add_to_group(self, user_id: str, group: Any) -> None: ...
    def remove_from_group(self, user_id: str, group: Any) -> None: ...
    def enrol(self, user_id: str, content: Any) -> None: ...

    def checkpoint(self) -> None:
        self.db.commit()

    def add_invitation(self, invitation: Any) -> None:
        user = int(invitation["user"])
        self.db.execute("DELETE FROM invitations WHERE user_id = ? AND used = 0 AND upload <> ?",
                        (user, invitation["upload"]))
        self.db.execute("INSERT INTO invitations (digest, user_id, upload, expires_at) VALUES (?, ?, ?, ?)",
                        (invitation["digest"], user, invitation["upload"], invitation["expires_at"]))

    def find_invitation(self, digest: str) -> Optional[Dict[str, Any]]:
        row = self.db.execute("SELECT user_id, digest, expires_at, used FROM invitations WHERE digest = ?",
                              (digest,)).fetchone()
        return None if row is None else {"user": row[0], "digest": row[1], "expires_at": row[2], "used": bool(row[3])}

    def redeem_invitation(self, digest: str) -> bool:
        cur = self.db.execute("UPDATE invitations SET used = 1 WHERE digest = ? AND used = 0", (digest,))
        return cur.rowcount == 1


class OutboxMailer:
    """Queues the batch's messages; `flush` appends them to one outbox file (mbox-like)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queue: List[str] = []
        self.sent = 0

    def send(self, message: Any) -> None:
        self.queue.append(f"From bulk-upload\nTo: {message['to']}\nSubject: {message['subject']}\n\n{message['text']}\n")

    def flush(self) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write("".join(self.queue))
        self.sent += len(self.queue)
        self.queue.clear()


def run(rows: int, settings: lbu.Settings, folder: Path, name: str) -> float:
    csv = "firstname,lastname,emailaddress\n" + "".join(
        f"Person{i},Bench,person{i}@example.org\n" for i in range(rows))
    store = SqliteStore(folder / f"{name}.sqlite3")
    mailer = OutboxMailer(folder / f"{name}.outbox")
    start = time.perf_counter()
    plan = lbu.plan(lbu.parse(csv.encode()), settings, store)
    results = plan.execute(store, mailer)
    seconds = time.perf_counter() - start
    assert results.summary["created"] == rows and mailer.sent == rows, results.summary
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--password-sample", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        links = run(args.rows, lbu.Settings(send_invitations=True), folder, "links")
        sample = run(args.password_sample, lbu.Settings(), folder, "passwords")
    estimate = sample * args.rows / args.password_sample
    print(f"python host store on SQLite | {args.rows} new users | sign-in links {links:.2f} s "
          f"({args.rows / links:,.0f}/s) | generated passwords ~{estimate:,.0f} s "
          f"({args.password_sample / sample:,.0f}/s; {args.password_sample} took {sample:.2f} s)")


if __name__ == "__main__":
    main()
