"""The one ``WebApi`` of this process, built from ``settings.LMS_BULK_UPLOAD``."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional

from django.conf import settings  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from ...web import WebApi
from .hooks import CeleryHooks, ThreadHooks

_lock = threading.Lock()
_api: Optional[WebApi] = None
_resumed = False


def options() -> Dict[str, Any]:
    return dict(getattr(settings, "LMS_BULK_UPLOAD", {}))


def _load(value: Any) -> Any:
    """A dotted path's object, called when it is a class or factory."""
    obj = import_string(value) if isinstance(value, str) else value
    return obj() if callable(obj) else obj


def get_api(resume: bool = False) -> WebApi:
    """The API (built once per process); ``resume`` queues the runs a stop left unfinished,
    once per process (the web process asks, not the workers)."""
    global _api, _resumed
    with _lock:
        if _api is None:
            conf = options()
            store = _load(conf["STORE"])
            mailer = _load(conf.get("MAILER", "lms_bulk_upload.contrib.django.mail.DjangoMailer"))
            catalog: Callable[[], Any] = getattr(store, "catalog", None) or (lambda: {"groups": [], "content": []})
            hooks_class = CeleryHooks if conf.get("QUEUE", "thread") == "celery" else ThreadHooks
            _api = WebApi(
                hooks_class(catalog),
                store,
                mailer,
                site_url=conf["SITE_URL"],
                secret=("lms-bulk-upload:" + str(settings.SECRET_KEY)).encode(),
                parse_options=conf.get("PARSE_OPTIONS"),
                execute=conf.get("EXECUTE"),
                secure_cookies=bool(conf.get("SECURE_COOKIES", False)),
            )
        if resume and not _resumed:
            # Once per process; a failure is tried again at the next request.
            _api.resume_unfinished()
            _resumed = True
        return _api
