"""The LMS's Celery app (used when CELERY_BROKER_URL is set): `celery -A django_lms worker`."""

import os

from celery import Celery  # type: ignore[import-untyped]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_lms.settings")

app = Celery("django_lms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["lms_bulk_upload.contrib.django"])
