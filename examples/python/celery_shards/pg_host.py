"""The host's PostgreSQL side (psycopg 3): the `Store`, the `Journal` and an outbox `Mailer`
on ONE connection, so the users, memberships, enrolments, journal entries and queued emails
of a batch of rows commit together in `checkpoint()` — or not at all when a worker dies.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Union, cast

import psycopg
from psycopg.types.json import Jsonb

import lms_bulk_upload as lbu

PG_URL = os.environ.get("LBU_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    first_name TEXT, last_name TEXT, phone_number TEXT, unique_id TEXT,
    country TEXT, organisation TEXT, language_code TEXT,
    password_hash TEXT, force_password_reset BOOLEAN NOT NULL DEFAULT false,
    is_admin BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS groups (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS members (user_id BIGINT, group_id BIGINT, PRIMARY KEY (user_id, group_id));
CREATE TABLE IF NOT EXISTS content (kind TEXT, id TEXT, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS enrolments (user_id BIGINT, kind TEXT, content_id TEXT, PRIMARY KEY (user_id, kind, content_id));
-- The engine's journal: one entry per begun row, with the finished row once done.
CREATE TABLE IF NOT EXISTS journal (fingerprint TEXT, line INT, result JSONB, PRIMARY KEY (fingerprint, line));
-- Emails queued in the same transaction as the writes; a sender process delivers them.
CREATE TABLE IF NOT EXISTS outbox (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, to_addr TEXT NOT NULL,
    subject TEXT NOT NULL, body TEXT NOT NULL, fields JSONB NOT NULL);
-- One upload: its plan, how many shards, each shard's results, and whether it is finished.
CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, plan_json TEXT NOT NULL, shard_count INT NOT NULL,
    merged_json TEXT, confirmed BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS shard_results (upload_id TEXT, idx INT, results_json TEXT NOT NULL,
    PRIMARY KEY (upload_id, idx));
-- Which process is running which shard (for operators, and for the kill test).
CREATE TABLE IF NOT EXISTS running (fingerprint TEXT PRIMARY KEY, pid INT NOT NULL);
"""

PROFILE = ["first_name", "last_name", "phone_number", "unique_id", "country", "organisation", "language_code"]


def connect(schema: Optional[str] = None) -> psycopg.Connection[Any]:
    """A connection whose tables are those of `schema` (LBU_PG_SCHEMA by default)."""
    schema = schema or os.environ.get("LBU_PG_SCHEMA", "public")
    return psycopg.connect(PG_URL, options=f"-c search_path={schema}")


def create_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    with connect(schema) as conn:
        conn.execute(SCHEMA)


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class PgHost:
    """`Store`, `Journal` and `Mailer` over one psycopg connection; `checkpoint()` commits."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    # -- Store: reads (batched) ---------------------------------------------------------
    def find_users(self, emails: List[str]) -> List[lbu.ExistingUser]:
        keys = sorted({lbu.email_key(e) for e in emails})
        cols = ", ".join(["id", "email", "is_admin", *PROFILE])
        rows = self.conn.execute(f"SELECT {cols} FROM users WHERE email_key = ANY(%s)", (keys,)).fetchall()
        users: List[lbu.ExistingUser] = []
        for row in rows:
            uid = row[0]
            groups = [g for (g,) in self.conn.execute(
                "SELECT g.name FROM members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = %s", (uid,))]
            enrolments: List[lbu.ContentRef] = [{"kind": k, "id": c} for (k, c) in self.conn.execute(
                "SELECT kind, content_id FROM enrolments WHERE user_id = %s", (uid,))]
            users.append({
                "id": str(uid), "email": row[1], "protected": bool(row[2]),
                "profile": cast(lbu.Profile, dict(zip(PROFILE, row[3:]))),
                "groups": groups, "enrolments": enrolments,
            })
        return users

    def find_groups(self, names: List[str]) -> List[lbu.Group]:
        rows = self.conn.execute("SELECT id, name FROM groups WHERE name = ANY(%s)", (names,))
        return [{"id": str(i), "name": n} for (i, n) in rows]

    def find_content(self, refs: List[lbu.ContentRef]) -> List[lbu.ContentRef]:
        return [r for r in refs if self.conn.execute(
            "SELECT 1 FROM content WHERE kind = %s AND id = %s", (r["kind"], r["id"])).fetchone()]

    # -- Store: writes --------------------------------------------------------------------
    def create_user(self, user: lbu.NewUser) -> str:
        profile = cast(Dict[str, Any], user["profile"])
        row = self.conn.execute(
            "INSERT INTO users (email, email_key, first_name, last_name, phone_number, unique_id, country,"
            " organisation, language_code, password_hash, force_password_reset)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
            (user["email"], lbu.email_key(user["email"]), *(profile.get(f) for f in PROFILE),
             user["password_hash"], user["force_password_reset"]),
        ).fetchone()
        assert row is not None
        return str(row[0])

    def update_profile(self, user_id: str, changes: lbu.Profile) -> None:
        values = cast(Dict[str, Any], changes)
        fields = [f for f in PROFILE if f in values]
        if fields:
            sets = ", ".join(f"{f} = %s" for f in fields)
            self.conn.execute(f"UPDATE users SET {sets} WHERE id = %s", (*(values[f] for f in fields), int(user_id)))

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None:
        self.conn.execute("UPDATE users SET password_hash = %s, force_password_reset = %s WHERE id = %s",
                          (password_hash, force_reset, int(user_id)))

    def add_to_group(self, user_id: str, group: lbu.Group) -> None:
        self.conn.execute("INSERT INTO members VALUES (%s, %s) ON CONFLICT DO NOTHING", (int(user_id), int(group["id"])))

    def remove_from_group(self, user_id: str, group: lbu.Group) -> None:
        self.conn.execute("DELETE FROM members WHERE user_id = %s AND group_id = %s", (int(user_id), int(group["id"])))

    def enrol(self, user_id: str, content: lbu.ContentRef) -> None:
        self.conn.execute("INSERT INTO enrolments VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                          (int(user_id), content["kind"], content["id"]))

    def checkpoint(self) -> None:
        self.conn.commit()

    # -- Journal (same connection, same transaction) -----------------------------------------
    def load(self, fingerprint: str) -> Dict[int, Union[None, str, lbu.ResultRowDict]]:
        rows = self.conn.execute("SELECT line, result FROM journal WHERE fingerprint = %s", (fingerprint,))
        return {line: result for (line, result) in rows}

    def begin(self, fingerprint: str, line: int) -> None:
        self.conn.execute("INSERT INTO journal VALUES (%s, %s, NULL) ON CONFLICT DO NOTHING", (fingerprint, line))

    def created(self, fingerprint: str, line: int, user_id: str) -> None:
        """The id the store gave the row's new user: what lets a resumed run adopt it."""
        self.conn.execute("UPDATE journal SET result = %s WHERE fingerprint = %s AND line = %s",
                          (Jsonb(user_id), fingerprint, line))

    def finish(self, fingerprint: str, row: lbu.ResultRowDict) -> None:
        self.conn.execute(
            "INSERT INTO journal VALUES (%s, %s, %s) ON CONFLICT (fingerprint, line) DO UPDATE SET result = EXCLUDED.result",
            (fingerprint, row["line"], Jsonb(row)))

    # -- Mailer: an outbox in the same transaction -------------------------------------------
    def send(self, message: lbu.Message) -> None:
        self.conn.execute("INSERT INTO outbox (kind, to_addr, subject, body, fields) VALUES (%s, %s, %s, %s, %s)",
                          (message["kind"], message["to"], message["subject"], message["text"],
                           Jsonb(dict(message["fields"]))))


def journal_rows(conn: psycopg.Connection[Any], fingerprint: str) -> Mapping[str, int]:
    """How many rows of a plan the journal holds as begun and as finished (committed)."""
    row = conn.execute("SELECT count(*), count(*) FILTER (WHERE jsonb_typeof(result) = 'object') FROM journal"
                       " WHERE fingerprint = %s", (fingerprint,)).fetchone()
    assert row is not None
    return {"begun": int(row[0]), "finished": int(row[1])}
