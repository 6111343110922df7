"""The administrator's screens as a Django app.

In the host's settings::

    INSTALLED_APPS += ["lms_bulk_upload.contrib.django"]
    LMS_BULK_UPLOAD = {
        "STORE": "lms.bulk_upload.LmsStore",   # the engine's Store over the host's models
        "SITE_URL": "https://lms.example.com/admin/bulk-upload",
        "QUEUE": "celery",                     # or "thread" (the default)
    }

and in its URLconf::

    path("admin/bulk-upload/", include("lms_bulk_upload.contrib.django.urls")),

then ``python manage.py migrate``. Upload sessions, plans, runs and their journal are rows of
the app's ``Record`` model in the host's database; administrators are the host's users who
are staff with the ``lms_bulk_upload.bulk_upload`` permission (superusers have it); emails
go through ``django.core.mail``; with ``"QUEUE": "celery"`` a run is the Celery task
``lms_bulk_upload.run`` (``lms_bulk_upload.contrib.django.tasks``). Everything else is the
Rust core's, reached through :class:`lms_bulk_upload.web.WebApi`.
"""
