"""The example LMS's own data: its users are Django's, with a learner profile; groups
(cohorts), content and enrolments are its models."""

from django.conf import settings  # type: ignore[import-untyped]
from django.db import models  # type: ignore[import-untyped]


class Learner(models.Model):  # type: ignore[misc]
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner")
    phone_number = models.CharField(max_length=100, blank=True, default="")
    unique_id = models.CharField(max_length=200, blank=True, default="")
    country = models.CharField(max_length=100, blank=True, default="")
    organisation = models.CharField(max_length=200, blank=True, default="")
    language_code = models.CharField(max_length=20, blank=True, default="")
    force_password_reset = models.BooleanField(default=False)
    protected = models.BooleanField(default=False)
    suspended_by_upload = models.BooleanField(default=False)
    login_method = models.CharField(max_length=50, default="password")


class Cohort(models.Model):  # type: ignore[misc]
    name = models.CharField(max_length=200, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="cohorts", blank=True)


class Content(models.Model):  # type: ignore[misc]
    kind = models.CharField(max_length=20)
    slug = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "slug"], name="lms_content_kind_slug")]


class Enrolment(models.Model):  # type: ignore[misc]
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    content = models.ForeignKey(Content, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "content"], name="lms_enrolment_once")]


class Invitation(models.Model):  # type: ignore[misc]
    """A sign-in link an upload emailed: only the SHA-256 digest of its token (hex), never the
    token; its expiry (seconds since the Unix epoch), when it was used, and the upload (plan
    fingerprint) that issued it, for undo. The primary key is the digest (looked up by it); the
    foreign key is indexed (a user's links are dropped together)."""

    digest = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    upload = models.CharField(max_length=200)
    expires_at = models.BigIntegerField()
    used_at = models.DateTimeField(null=True, blank=True)
