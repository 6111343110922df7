"""The administrator's screens inside a Python web app: ``WebApi`` answers the screens'
requests (the same API and pages as ``bulk-upload serve``) over the host's own objects.

The host supplies three objects (``docs/web-host-protocol.md``):

- ``hooks`` (:class:`WebHooks`): who is an administrator, a record store of JSON documents
  in the host's database, what the settings screen offers, and optionally how a run is
  queued (``enqueue_run``; the job then calls ``WebApi.run(run_id)``);
- ``store`` and ``mailer``: the :class:`lms_bulk_upload.Store` and
  :class:`lms_bulk_upload.Mailer` of the engine.

Signing and verifying plans, executing runs with their journal, progress, cancel, results
and undo are the Rust core's; a framework adapter only maps its request and response
(``lms_bulk_upload.contrib.django`` for Django).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Protocol, Union

from ._native import ResponseChunks, WebApi

__all__ = ["WebApi", "WebHooks", "Record", "RecordPage", "ResponseChunks", "Catalog"]

JsonDoc = Any
Record = Dict[str, Any]
"""``{"version": int, "doc": <JSON value>}``"""
RecordPage = Dict[str, Any]
"""``{"total": int, "items": [{"id": str, "doc": <JSON value>}, ...]}``"""
Catalog = Dict[str, List[Dict[str, Any]]]
"""``{"groups": [{"id", "name"}], "content": [{"kind", "id", "title"}]}``"""


class WebHooks(Protocol):
    """The host's primitives; ``enqueue_run(run_id)`` is optional (without it a run
    executes on a thread of the process that approved it, which holds the interpreter:
    the process ends once the run has, not under it)."""

    def authenticate(self, email: str, password: str) -> Optional[str]:
        """The administrator's email, or ``None`` (wrong credentials, or no administrator)."""

    def get_record(self, kind: str, id: str) -> Optional[Record]: ...

    def put_record(self, kind: str, id: str, doc: JsonDoc, expected: Optional[int]) -> bool:
        """``expected`` ``None``: create or replace; ``0``: create only; ``n``: replace the
        record at version ``n`` only. Whether it was stored."""

    def list_records(self, kind: str, offset: int, limit: int) -> RecordPage:
        """Newest first (reverse order of creation)."""

    def delete_record(self, kind: str, id: str) -> None: ...

    def catalog(self) -> Catalog: ...


def headers_of(pairs: Union[Mapping[str, str], List[tuple[str, str]]]) -> List[tuple[str, str]]:
    """Header pairs from a mapping or a list."""
    return list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
