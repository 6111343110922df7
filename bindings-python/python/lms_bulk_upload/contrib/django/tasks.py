"""The Celery task of a run (``"QUEUE": "celery"``): the worker executes it in Rust."""

from __future__ import annotations

from typing import Any

from celery import shared_task  # type: ignore[import-untyped]

from .store import run_in_this_thread


@shared_task(bind=True, name="lms_bulk_upload.run", acks_late=True, reject_on_worker_lost=True, max_retries=None)  # type: ignore[untyped-decorator]
def run_upload(self: Any, run_id: str) -> str:
    """Executes the run; while another worker's heartbeat is fresh ("busy": it may have been
    killed), tries again a few seconds later, and takes the run over once it is stale."""
    outcome = run_in_this_thread(run_id)
    if outcome == "busy":
        raise self.retry(countdown=3)
    return outcome
