"""Settings of the example LMS. From the environment: DATABASE_URL (PostgreSQL, default
the local server's `django_lms` database), SITE_URL (the screens' public URL, default
http://127.0.0.1:8000/admin/bulk-upload), CELERY_BROKER_URL (Redis: runs on Celery; unset:
on a thread of the web process), EMAIL_OUTBOX (a folder: each email as an .eml file;
unset: Django's console backend)."""

import os
from typing import Any, Dict
from urllib.parse import urlsplit

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only: set DJANGO_SECRET_KEY in production, 50 characters or more")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "lms",
    "lms_bulk_upload.contrib.django",  # the screens' app
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "django_lms.urls"
WSGI_APPLICATION = "django_lms.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
APPEND_SLASH = False

_db = urlsplit(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/django_lms"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": str(_db.port or 5432),
    }
}

# The engine hashes passwords with argon2id: Django reads them with its Argon2 hasher.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

DEFAULT_FROM_EMAIL = "LMS <no-reply@lms.example.com>"
if os.environ.get("EMAIL_OUTBOX"):
    EMAIL_BACKEND = "lms.mail.OutboxBackend"
    EMAIL_OUTBOX = os.environ["EMAIL_OUTBOX"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True

# Argon2 cost of the passwords an upload sets: the engine's defaults unless told (the
# browser tests make it cheap with BULK_UPLOAD_INSECURE_FAST_HASHING=1).
_hash: Dict[str, Any] = {}
if os.environ.get("BULK_UPLOAD_ARGON2_MEMORY_KIB"):
    _hash["memory_kib"] = int(os.environ["BULK_UPLOAD_ARGON2_MEMORY_KIB"])
if os.environ.get("BULK_UPLOAD_ARGON2_ITERATIONS"):
    _hash["iterations"] = int(os.environ["BULK_UPLOAD_ARGON2_ITERATIONS"])
if os.environ.get("BULK_UPLOAD_INSECURE_FAST_HASHING") == "1":
    _hash["insecure_for_tests"] = True

# The lines a host adds for the screens (with the app above and the URL in urls.py).
LMS_BULK_UPLOAD: Dict[str, Any] = {
    "STORE": "lms.bulk_upload.LmsStore",
    "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000/admin/bulk-upload"),
    "QUEUE": "celery" if CELERY_BROKER_URL else "thread",
    "EXECUTE": {"hash_params": _hash} if _hash else {},
}
if os.environ.get("BULK_UPLOAD_MAX_FILE_BYTES"):
    LMS_BULK_UPLOAD["PARSE_OPTIONS"] = {"max_file_bytes": int(os.environ["BULK_UPLOAD_MAX_FILE_BYTES"])}
