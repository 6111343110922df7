"""An upload spread over Celery workers, against PostgreSQL: see README.md."""
