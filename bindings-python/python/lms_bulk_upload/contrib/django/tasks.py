"""The Celery task of a run (``"QUEUE": "celery"``): the worker executes it in Rust."""

from __future__ import annotations

from celery import shared_task  # type: ignore[import-untyped]

from .conf import get_api


@shared_task(name="lms_bulk_upload.run", acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def run_upload(run_id: str) -> str:
    return get_api().run(run_id)
