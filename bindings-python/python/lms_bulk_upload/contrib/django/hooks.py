"""The web host's hooks on Django: administrators are the host's users, records are rows of
:class:`Record`, a run is queued on Celery (``QUEUE = "celery"``) or a thread."""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Optional

from django.contrib.auth import get_user_model  # type: ignore[import-untyped]
from django.db import IntegrityError, connection, transaction  # type: ignore[import-untyped]

from ...web import Catalog, Record as RecordReply, RecordPage
from .models import Record

PERMISSION = "lms_bulk_upload.bulk_upload"


def is_administrator(user: Any) -> bool:
    """Staff with the app's permission (superusers have every permission)."""
    return bool(user.is_active and user.is_staff and user.has_perm(PERMISSION))


class DjangoHooks:
    """Who is an administrator, the records, the catalog (the store's ``catalog()``)."""

    def __init__(self, catalog: Callable[[], Catalog], is_admin: Callable[[Any], bool] = is_administrator) -> None:
        self._catalog = catalog
        self._is_admin = is_admin

    def authenticate(self, email: str, password: str) -> Optional[str]:
        users = get_user_model()
        user = users._default_manager.filter(email__iexact=email).order_by("pk").first()
        if user is None:
            # As long as a wrong password: Django's own defence against user enumeration.
            users().set_password(password)
            return None
        if not user.check_password(password) or not self._is_admin(user):
            return None
        return str(user.email)

    def get_record(self, kind: str, id: str) -> Optional[RecordReply]:
        row = Record.objects.filter(kind=kind, key=id).values("version", "doc").first()
        return None if row is None else {"version": row["version"], "doc": row["doc"]}

    def put_record(self, kind: str, id: str, doc: Any, expected: Optional[int]) -> bool:
        if expected is None:
            return _upsert(kind, id, doc)
        if expected == 0:
            try:
                with transaction.atomic():
                    Record.objects.create(kind=kind, key=id, version=1, doc=doc)
                return True
            except IntegrityError:
                return False
        return bool(Record.objects.filter(kind=kind, key=id, version=expected).update(doc=doc, version=expected + 1))

    def list_records(self, kind: str, offset: int, limit: int) -> RecordPage:
        rows = Record.objects.filter(kind=kind)
        items = rows.order_by("-seq").values("key", "doc")[offset : offset + limit]
        return {"total": rows.count(), "items": [{"id": r["key"], "doc": r["doc"]} for r in items]}

    def delete_record(self, kind: str, id: str) -> None:
        Record.objects.filter(kind=kind, key=id).delete()

    def catalog(self) -> Catalog:
        return self._catalog()


class ThreadHooks(DjangoHooks):
    """:class:`DjangoHooks` whose runs execute on a thread of the web process."""

    def enqueue_run(self, run_id: str) -> None:
        from .store import run_in_this_thread

        threading.Thread(target=run_in_this_thread, args=(run_id, True), name=f"bulk-upload {run_id}", daemon=True).start()


class CeleryHooks(DjangoHooks):
    """:class:`DjangoHooks` whose runs are the Celery task ``lms_bulk_upload.run``."""

    def enqueue_run(self, run_id: str) -> None:
        from .tasks import run_upload

        transaction.on_commit(lambda: run_upload.delay(run_id))


def _upsert(kind: str, id: str, doc: Any) -> bool:
    """Creates or replaces a record in one statement (PostgreSQL, SQLite): a run's journal
    writes one per row."""
    table = connection.ops.quote_name(Record._meta.db_table)
    value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, key, version, doc) VALUES (%s, %s, 1, {value}) "
            f"ON CONFLICT (kind, key) DO UPDATE SET doc = EXCLUDED.doc, version = {table}.version + 1",
            [kind, id, json.dumps(doc)],
        )
    return True
