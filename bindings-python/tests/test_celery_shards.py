"""The Celery example against real PostgreSQL and Redis: 1,000 rows with generated passwords
at the real argon2 cost, in shards on two `--pool=solo` workers, one of them killed with
SIGKILL in the middle of a shard. Fails (never skips) when a server is absent."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import argon2
import pytest

import lms_bulk_upload as lbu
from celery_harness import Workers, run_env

ROWS, ROWS_PER_SHARD, BATCH = 1000, 100, 20


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, str]]:
    for e in run_env(LBU_BATCH_SIZE=str(BATCH), LBU_VISIBILITY_TIMEOUT="10"):
        for k in ("LBU_PG_URL", "LBU_REDIS_URL", "LBU_PG_SCHEMA", "LBU_QUEUE", "LBU_PLAN_KEY"):
            monkeypatch.setenv(k, e[k])
        yield e


def csv(n: int) -> bytes:
    lines = ["firstname,lastname,email,addgroup"] + [f"U{i},L{i},u{i}@example.com,Sales" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def mid_shard(conn: object, pids: set[int]) -> Optional[Tuple[int, str]]:
    """A worker pid and the shard it is in the middle of (some batches committed, not all)."""
    from celery_shards.pg_host import journal_rows
    import psycopg

    assert isinstance(conn, psycopg.Connection)
    for fingerprint, pid in conn.execute("SELECT fingerprint, pid FROM running").fetchall():
        done = journal_rows(conn, fingerprint)["finished"]
        if pid in pids and 0 < done < ROWS_PER_SHARD:
            return pid, fingerprint
    return None


def test_two_workers_one_killed_mid_shard(env: Dict[str, str], tmp_path: Path) -> None:
    from celery_shards.app import dispatch
    from celery_shards.pg_host import connect

    with connect() as conn:
        conn.execute("INSERT INTO groups (name) VALUES ('Sales')")
        conn.execute("INSERT INTO content VALUES ('course', 'c1')")
        conn.commit()
    workers = Workers(env, tmp_path)
    try:
        pids = {workers.start().pid, workers.start().pid}
        settings = lbu.Settings(uploader_email="admin@example.com", enrolments=[("course", "c1")])
        upload_id = dispatch(csv(ROWS), settings, ROWS_PER_SHARD)

        killed: Optional[Tuple[int, str]] = None
        confirmed = False
        with connect() as conn:
            conn.autocommit = True
            for _ in range(6000):  # bounded: at most ~10 minutes of polling
                if killed is None and (found := mid_shard(conn, pids)):
                    os.kill(found[0], signal.SIGKILL)
                    killed = found
                row = conn.execute("SELECT confirmed FROM uploads WHERE id = %s", (upload_id,)).fetchone()
                if row and row[0]:
                    confirmed = True
                    break
                time.sleep(0.1)
        assert killed is not None, "no worker was caught in the middle of a shard\n" + workers.log_text()
        assert confirmed, "the upload did not finish\n" + workers.log_text()
    finally:
        workers.stop()

    with connect() as conn:
        # The killed shard was finished by the other worker (its journal is complete).
        assert conn.execute("SELECT count(*) FROM journal WHERE fingerprint = %s AND result IS NOT NULL",
                            (killed[1],)).fetchone() == (ROWS_PER_SHARD,)
        emails = [e for (e,) in conn.execute("SELECT email_key FROM users ORDER BY id")]
        assert sorted(emails) == sorted(f"u{i}@example.com" for i in range(ROWS))  # each once
        assert conn.execute("SELECT count(*) FROM members m JOIN groups g ON g.id = m.group_id"
                            " WHERE g.name = 'Sales'").fetchone() == (ROWS,)
        assert conn.execute("SELECT count(*) FROM enrolments WHERE kind = 'course' AND content_id = 'c1'"
                            ).fetchone() == (ROWS,)
        last = conn.execute(
            "SELECT DISTINCT ON (o.to_addr) o.to_addr, o.fields->>'password', u.password_hash FROM outbox o"
            " JOIN users u ON u.email_key = lower(o.to_addr) WHERE o.kind = 'welcome'"
            " ORDER BY o.to_addr, o.id DESC").fetchall()
        confirmations = conn.execute("SELECT to_addr, fields FROM outbox WHERE kind = 'upload_complete'").fetchall()
    assert len(last) == ROWS
    # Every stored hash is argon2id at the real cost, each its own; the last emailed password
    # verifies against it for one user in ten, ten in every shard (each verification is a real
    # argon2 hash: all of them took half of this test's time, and a shard's users are made by
    # one code path).
    assert all(h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for (_, _, h) in last)
    assert len({h for (_, _, h) in last}) == ROWS
    sample = [r for r in last if int(r[0].split("@")[0][1:]) % 10 == 0]
    assert len(sample) == ROWS // 10
    hasher = argon2.PasswordHasher()
    with ThreadPoolExecutor(max_workers=2) as pool:  # argon2-cffi releases the GIL
        verified = list(pool.map(lambda r: hasher.verify(r[2], r[1]), sample))
    assert all(verified)
    assert len(confirmations) == 1
    to, fields = confirmations[0]
    assert to == "admin@example.com" and fields["counts"]["created"] == ROWS


def test_a_shard_not_signed_with_the_installation_key_is_refused(env: Dict[str, str]) -> None:
    """Whoever can write Redis but not read LBU_PLAN_KEY cannot make a worker run a plan:
    an unsigned shard, one signed with another key, and a signed one edited afterwards are
    refused before the worker touches the database."""
    from celery_shards.app import KEY, run_shard

    upload = lbu.parse(csv(3))
    store = lbu.MemoryStore({"groups": [{"id": "g1", "name": "Sales"}]})
    shard = lbu.plan(upload, lbu.Settings(), store).shards(2)[0]
    other = lbu.PlanKey.generate()
    signed = shard.to_signed_json(KEY)
    edited = signed.replace("u0@example.com", "attacker@example.com")
    for forged, code in [(shard.to_json(), "plan_unsigned"), (shard.to_signed_json(other), "plan_signature_invalid"),
                         (edited, "fingerprint_mismatch")]:
        with pytest.raises(lbu.PlanError) as e:
            run_shard.run(forged)
        assert e.value.code == code
    assert lbu.Plan.from_signed_json(signed, KEY).fingerprint == shard.fingerprint
