"""The Django app of the administrator's screens."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]


class BulkUploadConfig(AppConfig):  # type: ignore[misc]
    name = "lms_bulk_upload.contrib.django"
    label = "lms_bulk_upload"
    verbose_name = "Bulk upload users"
    default_auto_field = "django.db.models.BigAutoField"
