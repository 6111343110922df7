"""``path("admin/bulk-upload/", include("lms_bulk_upload.contrib.django.urls"))``"""

from __future__ import annotations

from django.urls import path, re_path  # type: ignore[import-untyped]

from .views import screens

app_name = "lms_bulk_upload"
urlpatterns = [
    path("", screens, name="screens"),
    re_path(r"^(?P<path>.+)$", screens),
]
