"""Sign-in links through the Python API: the ``send_invitations`` setting, the link in the
message (never a password), ``verify_invitation`` / ``redeem_invitation`` with their codes,
and a Python host store keeping only digests through the host protocol."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

import lms_bulk_upload as lbu
from conftest import CHEAP_HASH as FAST

CSV = b"firstname,lastname,email\nAna,Lee,ana@x.com\nBo,Chan,bo@x.com\n"


def token_of(message: Any) -> str:
    link = message["fields"]["invitation_url"]
    assert "password" not in message["fields"]
    assert link in message["text"]
    return str(link.rsplit("/", 1)[1])


def test_the_setting_and_its_rules() -> None:
    settings = lbu.Settings(send_invitations=True, invitation_url="https://lms.example.com/welcome?t={token}")
    assert settings.send_invitations and not settings.generate_passwords
    assert settings.invitation_url == "https://lms.example.com/welcome?t={token}"
    with pytest.raises(lbu.SettingsError) as e:
        lbu.Settings(send_invitations=True, send_notification_email=False)
    assert e.value.code == "notification_required_for_invitations"
    with pytest.raises(lbu.SettingsError) as e:
        lbu.Settings(send_invitations=True, invitation_url="https://lms.example.com/x{token}")
    assert e.value.code == "invalid_setting"


def test_links_verify_and_work_once_with_a_memory_store() -> None:
    store = lbu.MemoryStore()
    mailer = lbu.RecordingMailer()
    upload = lbu.parse(CSV)
    plan = lbu.plan(upload, lbu.Settings(send_invitations=True), store)
    assert plan.summary["invitations"] == 2 and plan.summary["passwords"] == 0
    results = plan.execute(store, mailer, hash_params=FAST)
    token = token_of(mailer.messages[0])
    assert token not in results.to_json() and token not in plan.to_json()
    user = lbu.verify_invitation(store, token)
    assert lbu.redeem_invitation(store, token) == user
    with pytest.raises(lbu.InvitationError) as e:
        lbu.redeem_invitation(store, token)
    assert e.value.code == "invitation_used"
    with pytest.raises(lbu.InvitationError) as e:
        lbu.verify_invitation(store, token_of(mailer.messages[1]), now=2**62)
    assert e.value.code == "invitation_expired"
    with pytest.raises(lbu.InvitationError) as e:
        lbu.verify_invitation(store, "nope")
    assert e.value.code == "invitation_unknown"


class LinkStore:
    """A Python host store with the four invitation methods, keeping digests in a dict."""

    def __init__(self) -> None:
        self.users: Dict[str, Dict[str, Any]] = {}
        self.links: Dict[str, Dict[str, Any]] = {}

    def find_users(self, emails: List[str]) -> Any:
        wanted = {e.lower() for e in emails}
        return [dict(u, id=i) for i, u in self.users.items() if u["email"] in wanted]

    def find_groups(self, names: List[str]) -> Any:
        return []

    def find_content(self, refs: List[Any]) -> Any:
        return []

    def create_user(self, user: Any) -> str:
        uid = str(len(self.users) + 1)
        self.users[uid] = {"email": user["email"].lower(), "password_hash": user["password_hash"]}
        return uid

    def update_profile(self, user_id: str, changes: Any) -> None: ...
    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None: ...
    def add_to_group(self, user_id: str, group: Any) -> None: ...
    def remove_from_group(self, user_id: str, group: Any) -> None: ...
    def enrol(self, user_id: str, content: Any) -> None: ...

    def add_invitation(self, invitation: Any) -> None:
        for digest in [d for d, l in self.links.items()
                       if l["user"] == invitation["user"] and not l["used"] and l["upload"] != invitation["upload"]]:
            del self.links[digest]
        self.links[invitation["digest"]] = dict(invitation, used=False)

    def find_invitation(self, digest: str) -> Optional[Dict[str, Any]]:
        return self.links.get(digest)

    def redeem_invitation(self, digest: str) -> bool:
        link = self.links.get(digest)
        if link is None or link["used"]:
            return False
        link["used"] = True
        for other in [d for d, l in self.links.items() if l["user"] == link["user"] and not l["used"]]:
            del self.links[other]
        return True

    def revoke_invitations(self, user_id: str, upload: str) -> None: ...


def test_a_python_store_keeps_only_digests() -> None:
    store = LinkStore()
    mailer = lbu.RecordingMailer()
    plan = lbu.plan(lbu.parse(CSV), lbu.Settings(send_invitations=True), store)
    plan.execute(store, mailer, hash_params=FAST)
    assert all(u["password_hash"] is None for u in store.users.values())
    token = token_of(mailer.messages[0])
    assert len(store.links) == 2
    assert all(len(d) == 64 and token not in repr(link) for d, link in store.links.items())
    assert lbu.verify_invitation(store, token) == "1"
    assert lbu.redeem_invitation(store, token) == "1"
    with pytest.raises(lbu.InvitationError) as e:
        lbu.verify_invitation(store, token)
    assert e.value.code == "invitation_used"


def test_a_store_without_the_methods_is_refused_when_planned() -> None:
    class Plain(LinkStore):
        find_invitation = None  # type: ignore[assignment]

    with pytest.raises(lbu.StoreError) as e:
        lbu.plan(lbu.parse(CSV), lbu.Settings(send_invitations=True), Plain())
    assert e.value.code == "host_method_missing"
