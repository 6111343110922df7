"""A base for a host's store on the Django ORM: a batch of rows in one transaction.

The engine writes a run batch by batch and calls the store's ``checkpoint()`` after each
(``docs/host-protocol.md``). :class:`BatchStore` opens a transaction at a batch's first write
(``self.writing()``, called by each write method) and commits it at ``checkpoint()``: one
commit per batch rather than one per statement, and the run's journal entries (written on
the same thread, so on the same connection) commit with the rows they describe, as the
reference host's do. A run that stops mid-batch rolls the batch back
(:func:`run_in_this_thread`); its journal resumes it from the last commit."""

from __future__ import annotations

import time

from django.db import close_old_connections, transaction  # type: ignore[import-untyped]

from .conf import get_api


class BatchStore:
    """Mix into the host's store; call ``self.writing()`` first in each write method."""

    def writing(self) -> None:
        if transaction.get_autocommit():
            transaction.set_autocommit(False)

    def checkpoint(self) -> None:
        if not transaction.get_autocommit():
            transaction.commit()
            transaction.set_autocommit(True)


def run_in_this_thread(run_id: str, wait: bool = False) -> str:
    """Executes a run on this thread (a Celery task's, or one of our own), leaving its
    database connection as it found it. With ``wait``, waits while another worker has the
    run (its heartbeat fresh) and takes it over if that worker died."""
    try:
        while True:
            outcome = get_api().run(run_id)
            if outcome != "busy" or not wait:
                return outcome
            time.sleep(1)
    finally:
        if not transaction.get_autocommit():
            transaction.rollback()
            transaction.set_autocommit(True)
        close_old_connections()
