"""Every request below the mount point goes to ``WebApi.handle``: the Django view is only the
mapping of its request and response. The API has its own session cookie, CSRF token and
``Origin`` check, so Django's CSRF middleware stands aside for it. A request leaves no
transaction open: what the store began but did not commit (``BatchStore``: a sign-in link
used up whose password could not be set) is rolled back."""

from __future__ import annotations

from typing import Any, List, Tuple, Union

from django.db import transaction  # type: ignore[import-untyped]
from django.http import HttpResponse, StreamingHttpResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

from ...web import ResponseChunks
from .conf import get_api


@csrf_exempt  # type: ignore[untyped-decorator]
def screens(request: Any, path: str = "") -> Any:
    api = get_api(resume=True)
    sub = "/" + path
    method = request.method or "GET"
    limit = api.body_limit(method, sub)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    body = b"" if declared > limit else request.read(limit + 1)
    status: int
    headers: List[Tuple[str, str]]
    content: Union[bytes, ResponseChunks]
    if declared > limit or len(body) > limit:
        status, headers, content = api.too_large(limit)
    else:
        try:
            status, headers, content = api.handle(
                method,
                sub,
                request.META.get("QUERY_STRING", ""),
                list(request.headers.items()),
                body,
                request.META.get("REMOTE_ADDR"),
            )
        finally:
            if not transaction.get_autocommit():
                transaction.rollback()
                transaction.set_autocommit(True)
    response = HttpResponse(content, status=status) if isinstance(content, bytes) else StreamingHttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    return response
