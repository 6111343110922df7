"""The engine's store on the LMS's own models (Django's users, Learner, Cohort, Content,
Enrolment, Invitation): what plans read and runs write. Every method of the host protocol's
store (docs/host-protocol.md), the undo ones and the sign-in link ones included, and
``catalog()`` for the settings screen. The argon2id hashes the engine gives are Django's own
Argon2 format once prefixed."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from django.contrib.auth import get_user_model  # type: ignore[import-untyped]
from django.db.models.functions import Lower  # type: ignore[import-untyped]
from django.utils import timezone  # type: ignore[import-untyped]

import lms_bulk_upload as lbu
from lms_bulk_upload.contrib.django.store import BatchStore

from .models import Cohort, Content, Enrolment, Invitation, Learner

PROFILE = ("phone_number", "unique_id", "country", "organisation", "language_code")


def _user_model() -> Any:
    return get_user_model()


def _record(user: Any) -> Dict[str, Any]:
    learner = getattr(user, "learner", None)
    record: Dict[str, Any] = {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name or None,
        "last_name": user.last_name or None,
        "groups": [c.name for c in user.cohorts.all()],
        "enrolments": [{"kind": e.content.kind, "id": e.content.slug} for e in user.enrolments.select_related("content")],
        "suspended": not user.is_active,
        "protected": bool(learner and learner.protected) or user.is_staff,
    }
    if learner is not None:
        for field in PROFILE:
            record[field] = getattr(learner, field) or None
        record["suspended_by_upload"] = learner.suspended_by_upload
        record["login_method"] = learner.login_method
    return record


def _django_hash(phc: str) -> str:
    """An argon2id PHC string (``$argon2id$...``) as Django's Argon2 hasher stores it."""
    return "argon2" + phc


class LmsStore(BatchStore):
    def _users(self) -> Any:
        return _user_model().objects.select_related("learner").prefetch_related("cohorts")

    def _learner(self, user_id: str) -> Any:
        learner, _ = Learner.objects.get_or_create(user_id=int(user_id))
        return learner

    # ---- reads
    def find_users(self, emails: Sequence[str]) -> List[Dict[str, Any]]:
        keys = [lbu.email_key(e) for e in emails]
        users = self._users().annotate(key=Lower("email")).filter(key__in=keys)
        return [_record(u) for u in users]

    def find_groups(self, names: Sequence[str]) -> List[Dict[str, Any]]:
        return [{"id": c.pk, "name": c.name} for c in Cohort.objects.filter(name__in=list(names))]

    def find_content(self, refs: Sequence[lbu.ContentRef]) -> List[lbu.ContentRef]:
        found: List[lbu.ContentRef] = []
        for ref in refs:
            if Content.objects.filter(kind=ref["kind"], slug=ref["id"]).exists():
                found.append({"kind": ref["kind"], "id": ref["id"]})
        return found

    def all_group_names(self) -> List[str]:
        return list(Cohort.objects.order_by("name").values_list("name", flat=True))

    def scope_users(self, after: Optional[str], limit: int) -> Dict[str, Any]:
        users = self._users().filter(is_staff=False).order_by("pk")
        if after is not None:
            users = users.filter(pk__gt=int(after))
        page = list(users[:limit])
        return {"users": [_record(u) for u in page], "next": str(page[-1].pk) if len(page) == limit else None}

    def catalog(self) -> Dict[str, List[Dict[str, Any]]]:
        return {
            "groups": [{"id": c.pk, "name": c.name} for c in Cohort.objects.order_by("name")],
            "content": [{"kind": c.kind, "id": c.slug, "title": c.title} for c in Content.objects.order_by("kind", "title")],
        }

    # ---- writes
    def create_user(self, user: lbu.NewUser) -> int:
        self.writing()
        profile: Dict[str, Any] = dict(user["profile"])
        phc = user["password_hash"]
        created = _user_model().objects.create(
            username=lbu.email_key(user["email"])[:150],
            email=user["email"],
            first_name=profile.get("first_name") or "",
            last_name=profile.get("last_name") or "",
            password=_django_hash(phc) if phc else "!",
        )
        Learner.objects.create(
            user=created,
            force_password_reset=user["force_password_reset"],
            login_method=user["login_method"],
            **{f: profile.get(f) or "" for f in PROFILE},
        )
        return int(created.pk)

    def update_profile(self, user_id: str, changes: Dict[str, Any]) -> None:
        self.writing()
        user = _user_model().objects.get(pk=int(user_id))
        for field in ("first_name", "last_name"):
            if field in changes:
                setattr(user, field, changes[field] or "")
        user.save()
        learner = self._learner(user_id)
        for field in PROFILE:
            if field in changes:
                setattr(learner, field, changes[field] or "")
        learner.save()

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None:
        self.writing()
        _user_model().objects.filter(pk=int(user_id)).update(password=_django_hash(password_hash))
        Learner.objects.filter(user_id=int(user_id)).update(force_password_reset=force_reset)

    def add_to_group(self, user_id: str, group: lbu.Group) -> None:
        self.writing()
        membership = Cohort.members.through(cohort_id=int(group["id"]), user_id=int(user_id))
        Cohort.members.through.objects.bulk_create([membership], ignore_conflicts=True)

    def remove_from_group(self, user_id: str, group: lbu.Group) -> None:
        self.writing()
        Cohort.members.through.objects.filter(cohort_id=int(group["id"]), user_id=int(user_id)).delete()

    def enrol(self, user_id: str, content: lbu.ContentRef) -> None:
        self.writing()
        item = Content.objects.get(kind=content["kind"], slug=content["id"])
        Enrolment.objects.get_or_create(user_id=int(user_id), content=item)

    def withdraw(self, user_id: str, content: lbu.ContentRef) -> None:
        self.writing()
        Enrolment.objects.filter(user_id=int(user_id), content__kind=content["kind"], content__slug=content["id"]).delete()

    def suspend_user(self, user_id: str) -> None:
        self.writing()
        _user_model().objects.filter(pk=int(user_id)).update(is_active=False)
        self._learner(user_id)
        Learner.objects.filter(user_id=int(user_id)).update(suspended_by_upload=True)

    def reactivate_user(self, user_id: str) -> None:
        self.writing()
        _user_model().objects.filter(pk=int(user_id)).update(is_active=True)
        Learner.objects.filter(user_id=int(user_id)).update(suspended_by_upload=False)

    def delete_user(self, user_id: str) -> bool:
        self.writing()
        _user_model().objects.filter(pk=int(user_id)).delete()
        return True

    def set_login_method(self, user_id: str, method: str) -> None:
        self.writing()
        self._learner(user_id)
        Learner.objects.filter(user_id=int(user_id)).update(login_method=method)

    # ---- sign-in links: the digest and expiry kept, never the token
    def add_invitation(self, invitation: Dict[str, Any]) -> None:
        self.writing()
        user_id = int(invitation["user"])
        # A newer link revokes the user's unused ones from other uploads (a resumed run's
        # earlier link for this upload keeps working).
        Invitation.objects.filter(user_id=user_id, used_at__isnull=True).exclude(upload=invitation["upload"]).delete()
        Invitation.objects.update_or_create(
            digest=invitation["digest"],
            defaults={"user_id": user_id, "upload": invitation["upload"], "expires_at": invitation["expires_at"]},
        )

    def find_invitation(self, digest: str) -> Optional[Dict[str, Any]]:
        row = Invitation.objects.filter(digest=digest).values("user_id", "digest", "expires_at", "used_at").first()
        if row is None:
            return None
        return {"user": str(row["user_id"]), "digest": row["digest"], "expires_at": row["expires_at"], "used": row["used_at"] is not None}

    def redeem_invitation(self, digest: str) -> bool:
        # In the batch's transaction: the password the page sets next commits with it (at
        # checkpoint), or neither does. Of two concurrent redemptions, PostgreSQL's row lock
        # lets one update the row; the other finds it used.
        self.writing()
        if not Invitation.objects.filter(digest=digest, used_at__isnull=True).update(used_at=timezone.now()):
            return False
        user_id = Invitation.objects.filter(digest=digest).values_list("user_id", flat=True).first()
        Invitation.objects.filter(user_id=user_id, used_at__isnull=True).delete()
        return True

    def revoke_invitations(self, user_id: str, upload: str) -> None:
        self.writing()
        Invitation.objects.filter(user_id=int(user_id), upload=upload, used_at__isnull=True).delete()
