"""An example Django LMS with the bulk upload screens mounted at /admin/bulk-upload/."""

from .celery import app as celery_app

__all__ = ["celery_app"]
