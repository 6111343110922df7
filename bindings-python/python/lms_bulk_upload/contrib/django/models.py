"""The screens' records (upload sessions, plans, runs, journals, sessions) in the host's
database: JSON documents by kind and id, versioned for compare-and-set
(``docs/web-host-protocol.md``)."""

from __future__ import annotations

from django.db import models  # type: ignore[import-untyped]


class Record(models.Model):  # type: ignore[misc]
    seq = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    version = models.BigIntegerField()
    doc = models.JSONField()

    class Meta:
        app_label = "lms_bulk_upload"
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="lms_bulk_upload_record_kind_key")]
        indexes = [models.Index(fields=["kind", "-seq"], name="lms_bulk_upload_record_list")]
        permissions = [("bulk_upload", "Can bulk upload users")]
