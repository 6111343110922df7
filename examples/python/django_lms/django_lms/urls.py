from django.urls import include, path  # type: ignore[import-untyped]

urlpatterns = [
    path("admin/bulk-upload/", include("lms_bulk_upload.contrib.django.urls")),
]
