"""Adapters of the administrator's screens (``lms_bulk_upload.web``) to web frameworks."""
