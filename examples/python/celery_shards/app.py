"""The Celery application: one task per shard, a finaliser after all of them (a `chord`).

Broker and result backend are Redis (LBU_REDIS_URL); the host's database is PostgreSQL
(LBU_PG_URL, tables in the schema LBU_PG_SCHEMA). Run workers with
`celery -A celery_shards.app worker --pool=solo -Q $LBU_QUEUE` from examples/python/.

`run_shard` is `acks_late` and `reject_on_worker_lost`: a shard whose worker dies is
delivered again, which is safe because executing a shard twice finishes it (the journal,
committed with the writes, and the engine's re-check of the store) without duplicating
anyone.

Every plan that leaves the web process (the uploads row, each shard task in Redis) is signed
with the installation's `PlanKey` (LBU_PLAN_KEY, hex, required): whoever can write the
database or Redis but cannot read the key cannot change what a worker executes.
"""

from __future__ import annotations

import json
import os
from typing import Any, List

from celery import Celery, chord  # type: ignore[import-untyped]

import lms_bulk_upload as lbu

from .pg_host import PgHost, connect

REDIS_URL = os.environ.get("LBU_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = os.environ.get("LBU_QUEUE", "lbu-shards")
# Argon2 cost: the default (OWASP) unless LBU_HASH_PARAMS gives a JSON object.
HASH_PARAMS: lbu.HashParams = json.loads(os.environ.get("LBU_HASH_PARAMS", "{}"))
# Rows per transaction (the engine commits through `checkpoint()` after each batch).
BATCH_SIZE = int(os.environ.get("LBU_BATCH_SIZE", "256"))
# One hashing thread per worker process: a host scales a big upload by running more workers
# (each of Celery's processes would otherwise hash on every core and fight the others).
HASH_THREADS = int(os.environ.get("LBU_HASH_THREADS", "1"))

def plan_key() -> lbu.PlanKey:
    """The installation's key (LBU_PLAN_KEY, the hex of at least 32 bytes)."""
    key = os.environ.get("LBU_PLAN_KEY")
    if not key:
        raise RuntimeError("LBU_PLAN_KEY (the hex PlanKey plans are signed with) is required")
    return lbu.PlanKey.from_hex(key)


KEY = plan_key()

app = Celery("celery_shards", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_default_queue=QUEUE,
    worker_prefetch_multiplier=1,  # a worker holds one shard at a time
    # An unacknowledged shard (its worker died) is given to another worker after this long:
    # longer than a shard takes, or a slow shard is run twice (harmless, but wasted work).
    broker_transport_options={"visibility_timeout": int(os.environ.get("LBU_VISIBILITY_TIMEOUT", "3600"))},
    result_expires=3600,
)


@app.task(acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def run_shard(shard_json: str) -> int:
    """Executes one shard against PostgreSQL; stores its results for the finaliser."""
    shard = lbu.Plan.from_signed_json(shard_json, KEY)
    ref = shard.shard
    assert ref is not None, "run_shard is given shards"
    with connect() as conn:
        # One execution of a shard at a time (a redelivery waits for a slow first run); the
        # lock goes with the session, so a killed worker releases it.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (shard.fingerprint,))
        conn.execute("INSERT INTO running VALUES (%s, %s) ON CONFLICT (fingerprint) DO UPDATE SET pid = EXCLUDED.pid",
                     (shard.fingerprint, os.getpid()))
        conn.commit()
        host = PgHost(conn)
        results = shard.execute(host, host, journal=host, hash_params=HASH_PARAMS, batch_size=BATCH_SIZE,
                                threads=HASH_THREADS)
        conn.execute("INSERT INTO shard_results VALUES (%s, %s, %s) ON CONFLICT (upload_id, idx)"
                     " DO UPDATE SET results_json = EXCLUDED.results_json",
                     (ref["parent"], ref["index"], results.to_signed_json(KEY)))
        conn.commit()
    return ref["index"]


@app.task(bind=True, max_retries=60)  # type: ignore[untyped-decorator]
def finalise(self: Any, _indexes: List[int], upload_id: str) -> lbu.ResultSummary:
    """Merges the shards' results and sends the uploader's confirmation, once: the
    outbox row and the `confirmed` flag commit together."""
    with connect() as conn:
        row = conn.execute("SELECT plan_json, shard_count, confirmed, merged_json FROM uploads WHERE id = %s FOR UPDATE",
                           (upload_id,)).fetchone()
        assert row is not None, f"unknown upload {upload_id}"
        plan_json, count, confirmed, merged_json = row
        if confirmed:
            return lbu.Results.from_signed_json(merged_json, KEY).summary
        stored = [j for (j,) in conn.execute("SELECT results_json FROM shard_results WHERE upload_id = %s", (upload_id,))]
        if len(stored) < count:  # a duplicate delivery completed the chord early: wait
            conn.rollback()
            raise self.retry(countdown=1)
        plan = lbu.Plan.from_signed_json(plan_json, KEY)
        # Signed by the shard jobs: a row edited in the table is refused, not merged.
        merged = lbu.Results.merge(plan, [lbu.Results.from_signed_json(j, KEY) for j in stored])
        host = PgHost(conn)
        merged = merged.send_confirmation(plan, host)
        conn.execute("UPDATE uploads SET confirmed = true, merged_json = %s WHERE id = %s",
                     (merged.to_signed_json(KEY), upload_id))
        conn.commit()
        return merged.summary


def dispatch(csv: bytes, settings: lbu.Settings, rows_per_shard: int) -> str:
    """The web process: plan (reads the store, writes nothing), record the upload, enqueue a
    chord of shard tasks with the finaliser. Returns the upload's id (the plan fingerprint)."""
    with connect() as conn:
        plan = lbu.plan(lbu.parse(csv), settings, PgHost(conn))
        shards = plan.shards(rows_per_shard)
        conn.execute("INSERT INTO uploads (id, plan_json, shard_count) VALUES (%s, %s, %s)",
                     (plan.fingerprint, plan.to_signed_json(KEY), len(shards)))
        conn.commit()
    result = chord([run_shard.s(s.to_signed_json(KEY)) for s in shards])(finalise.s(plan.fingerprint))
    # The web process does not wait for the upload (its state is in PostgreSQL): stop
    # listening for the finaliser's result.
    result.backend.remove_pending_result(result)
    return plan.fingerprint
