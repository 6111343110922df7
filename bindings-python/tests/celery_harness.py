"""Real servers for the Celery example's tests: PostgreSQL and Redis on localhost (or
LBU_PG_URL / LBU_REDIS_URL), a fresh schema and queue per run, worker subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import psycopg
import pytest
import redis

import lms_bulk_upload as lbu
from conftest import ROOT

EXAMPLES = ROOT / "examples" / "python"
sys.path.insert(0, str(EXAMPLES))

PG_URL = os.environ.get("LBU_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LBU_REDIS_URL", "redis://127.0.0.1:6379/0")
START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = ("redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no"
               " --dir /var/lib/redis --logfile /var/log/redis/ci.log")


def require_servers() -> None:
    """Fails (never skips) when a server is absent, saying how to start it."""
    try:
        psycopg.connect(PG_URL, connect_timeout=5).close()
    except psycopg.Error as e:
        pytest.fail(f"PostgreSQL is not reachable at LBU_PG_URL={PG_URL} ({e}); start it with: {START_PG}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable at LBU_REDIS_URL={REDIS_URL} ({e}); start it with: {START_REDIS}")


class Workers:
    """Celery worker processes (`--pool=solo`) on one run's schema and queue."""

    def __init__(self, env: Dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: List[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        log = open(self.logs / f"worker{n}.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_shards.app", "worker", "--pool=solo",
             "-Q", self.env["LBU_QUEUE"], "-n", f"w{n}-{self.env['LBU_QUEUE']}@%h", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=EXAMPLES, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)

    def log_text(self) -> str:
        return "\n".join(f.read_text(errors="replace")[-3000:] for f in sorted(self.logs.glob("worker*.log")))


def run_env(**extra: str) -> Iterator[Dict[str, str]]:
    """A fresh schema and queue; dropped and deleted afterwards."""
    from celery_shards.pg_host import create_schema, drop_schema

    require_servers()
    name = f"lbu_{uuid.uuid4().hex[:12]}"
    create_schema(name)
    # One key per run, as an installation has one: the web process and the workers share it.
    key = os.environ.get("LBU_PLAN_KEY") or lbu.PlanKey.generate().to_hex()
    env = dict(os.environ, LBU_PG_URL=PG_URL, LBU_REDIS_URL=REDIS_URL, LBU_PG_SCHEMA=name, LBU_QUEUE=name,
               LBU_PLAN_KEY=key,
               PYTHONPATH=os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")]), **extra)
    try:
        yield env
    finally:
        drop_schema(name)
        redis.Redis.from_url(REDIS_URL).delete(name)
