"""Issue 15 through the public API with a host store written in Python: users missing from
the file suspended through the host's ``scope_users`` (paged) and ``suspend_user``, a host
without ``scope_users`` refused at planning, SSO users created without a password, and a
custom profile field reaching ``create_user`` / ``update_profile`` and read back by
``find_users``. What is decided is the core's (scenarios 88-106, run by test_scenarios.py);
this checks that it reaches a Python host, and back."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, cast

import pytest

import lms_bulk_upload as lbu

from conftest import CHEAP_HASH

PER_PAGE = 2


class Directory:
    """A Python host store: users are dicts keyed by id, in insertion order; every write and
    every ``scope_users`` page is recorded."""

    def __init__(self, users: List[Dict[str, Any]]) -> None:
        self.users: Dict[str, Dict[str, Any]] = {}
        for user in users:
            self.users[str(user.pop("id"))] = {"custom": {}, "suspended": False, "login_method": None, **user}
        self.calls: List[Tuple[Any, ...]] = []

    def _user(self, user_id: str) -> lbu.ExistingUser:
        u = self.users[user_id]
        return cast(lbu.ExistingUser, {"id": user_id, **u, "custom": dict(u["custom"])})

    def find_users(self, emails: List[str]) -> List[lbu.ExistingUser]:
        wanted = {e.lower() for e in emails}
        return [self._user(i) for i, u in self.users.items() if u["email"].lower() in wanted]

    def find_groups(self, names: List[str]) -> List[lbu.Group]:
        return []

    def find_content(self, refs: List[lbu.ContentRef]) -> List[lbu.ContentRef]:
        return []

    def create_user(self, user: lbu.NewUser) -> str:
        self.calls.append(("create_user", user))
        new = str(100 + len(self.users))
        profile = dict(user["profile"])
        custom = cast(Dict[str, str], profile.pop("custom", {}))
        self.users[new] = {"email": user["email"], **profile, "custom": custom, "suspended": False,
                           "login_method": None if user["login_method"] == "password" else user["login_method"],
                           "password_hash": user["password_hash"]}
        return new

    def update_profile(self, user_id: str, changes: lbu.Profile) -> None:
        self.calls.append(("update_profile", user_id, changes))
        user = self.users[user_id]
        for key, value in changes.items():
            if key == "custom":
                for name, text in cast(Dict[str, str], value).items():
                    if text:
                        user["custom"][name] = text
                    else:
                        user["custom"].pop(name, None)  # "" clears the field
            else:
                user[key] = value or None

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None:
        self.calls.append(("set_password", user_id))

    def add_to_group(self, user_id: str, group: lbu.Group) -> None: ...
    def remove_from_group(self, user_id: str, group: lbu.Group) -> None: ...
    def enrol(self, user_id: str, content: lbu.ContentRef) -> None: ...

    def suspend_user(self, user_id: str) -> None:
        self.calls.append(("suspend_user", user_id))
        self.users[user_id]["suspended"] = True

    def reactivate_user(self, user_id: str) -> None:
        self.calls.append(("reactivate_user", user_id))
        self.users[user_id]["suspended"] = False

    def set_login_method(self, user_id: str, method: str) -> None:
        self.calls.append(("set_login_method", user_id, method))
        self.users[user_id]["login_method"] = None if method == "password" else method


class ScopedDirectory(Directory):
    """A directory that lists its scope, ``PER_PAGE`` users a page (whatever ``limit`` asks),
    with the position of the next page as the cursor."""

    def scope_users(self, after: Optional[str], limit: int) -> lbu.ScopePage:
        self.calls.append(("scope_users", after, limit))
        start = int(after) if after is not None else 0
        ids = list(self.users)
        end = min(start + PER_PAGE, len(ids))
        return {"users": [self._user(i) for i in ids[start:end]], "next": str(end) if end < len(ids) else None}


class Outbox:
    def __init__(self) -> None:
        self.sent: List[lbu.Message] = []

    def send(self, message: lbu.Message) -> None:
        self.sent.append(message)


def people(*names: str, **extra: Any) -> List[Dict[str, Any]]:
    return [{"id": f"e{i}", "email": f"{n.lower()}@x.com", "first_name": n, "last_name": "X", **extra}
            for i, n in enumerate(names, 1)]


def calls(store: Directory, name: str) -> List[Tuple[Any, ...]]:
    return [c[1:] for c in store.calls if c[0] == name]


# -- users missing from the file ------------------------------------------------------------


def test_users_missing_from_the_file_are_suspended_through_the_host() -> None:
    store = ScopedDirectory(people("Ana", "Bo", "Cy", "Di", "Ed", "Flo"))
    store.users["e4"]["protected"] = True  # never touched
    store.users["e6"]["suspended"] = True  # suspended already
    csv = "firstname,lastname,email\nAna,X,ana@x.com\nCy,X,CY@x.com\n"
    settings = lbu.Settings(suspend_missing_users=True, missing_users_threshold=50)
    assert (settings.suspend_missing_users, settings.missing_users_threshold) == (True, 50)

    plan = lbu.plan(lbu.parse(csv), settings, store)
    pages = calls(store, "scope_users")
    assert [after for after, _ in pages] == [None, "2", "4"]  # every page, in order
    assert plan.summary.get("suspensions") == 2
    missing = [r for r in plan.rows if r.operations and r.operations[0]["op"] == "suspend_user"]
    assert [(r.line, r.email, r.user_id) for r in missing] == [(4, "bo@x.com", "e2"), (5, "ed@x.com", "e5")]
    assert all([i.code for i in r.issues] == ["missing_from_file"] for r in missing)
    assert not calls(store, "suspend_user")  # planning writes nothing

    results = plan.execute(store, Outbox(), hash_params=CHEAP_HASH)
    assert calls(store, "suspend_user") == [("e2",), ("e5",)]
    assert [(r.line, r.status, r.done) for r in results.rows[2:]] == [
        (4, "updated", [{"op": "suspend_user"}]), (5, "updated", [{"op": "suspend_user"}])]
    suspended = {u["email"] for u in store.find_users([u["email"] for u in store.users.values()])
                 if u.get("suspended")}
    assert suspended == {"bo@x.com", "ed@x.com", "flo@x.com"}


def test_more_missing_users_than_the_threshold_allows_is_refused() -> None:
    store = ScopedDirectory(people("Ana", "Bo", "Cy"))
    with pytest.raises(lbu.SettingsError) as e:  # 2 of 3 missing, over the default 10 %
        lbu.plan(lbu.parse("firstname,lastname,email\nAna,X,ana@x.com\n"),
                 lbu.Settings(suspend_missing_users=True), store)
    assert e.value.code == "missing_users_threshold"
    assert not calls(store, "suspend_user")


def test_a_host_without_scope_users_is_refused_at_planning() -> None:
    store = Directory(people("Ana", "Bo"))
    upload = lbu.parse("firstname,lastname,email\nAna,X,ana@x.com\n")
    with pytest.raises(lbu.StoreError) as e:
        lbu.plan(upload, lbu.Settings(suspend_missing_users=True, missing_users_threshold=100), store)
    assert e.value.code == "host_method_missing" and "scope_users" in e.value.message
    assert lbu.plan(upload, lbu.Settings(), store).summary["unchanged"] == 1  # without the setting it is not needed


def test_a_suspended_user_in_the_file_is_reactivated_through_the_host() -> None:
    upload = lbu.parse("firstname,lastname,email\nAna,X,ana@x.com\n")
    # Suspended by someone else (no suspended_by_upload): never reactivated.
    by_hand = Directory(people("Ana", suspended=True))
    plan = lbu.plan(upload, lbu.Settings(update_existing_profiles=True, reactivate_suspended_users=True), by_hand)
    assert plan.summary["reactivations"] == 0
    store = Directory(people("Ana", suspended=True, suspended_by_upload=True))
    plan = lbu.plan(upload, lbu.Settings(update_existing_profiles=True), store)
    assert plan.summary["reactivations"] == 0, "update_existing_profiles alone never reactivates"
    plan = lbu.plan(upload, lbu.Settings(reactivate_suspended_users=True), store)
    assert plan.summary.get("reactivations") == 1
    results = plan.execute(store, Outbox())
    assert calls(store, "reactivate_user") == [("e1",)] and not store.users["e1"]["suspended"]
    assert results.rows[0].done == [{"op": "reactivate_user"}]


# -- login methods (SSO) --------------------------------------------------------------------


def test_sso_users_are_created_without_a_password() -> None:
    store = Directory(people("Ana"))
    csv = "firstname,lastname,email,auth\nBo,Chan,bo@x.com,\nCy,Diaz,cy@x.com,password\nAna,X,ana@x.com,SAML\n"
    options: lbu.ParseOptions = {"login_methods": ["saml"]}
    upload = lbu.parse(csv, **options)
    assert [r.get("auth") for r in upload.rows] == ["", "password", "SAML"]
    settings = lbu.Settings(default_login_method="saml", update_existing_profiles=True)
    assert settings.default_login_method == "saml" and settings.to_dict()["default_login_method"] == "saml"

    plan = lbu.plan(upload, settings, store)
    bo, cy, ana = plan.rows
    assert bo.operations[0] == {"op": "create_user", "login_method": "saml",
                                "profile": {"first_name": "Bo", "last_name": "Chan"}}
    assert "login_method" not in cy.operations[0]
    assert ana.operations == [{"op": "set_login_method", "method": "saml"}]
    assert plan.summary["passwords"] == 1 and plan.summary.get("login_method_changes") == 1

    mailer = Outbox()
    results = plan.execute(store, mailer, hash_params=CHEAP_HASH)
    created = {u["email"]: u for (u,) in calls(store, "create_user")}
    assert (created["bo@x.com"]["password_hash"], created["bo@x.com"]["login_method"]) == (None, "saml")
    cy_hash = created["cy@x.com"]["password_hash"]
    assert cy_hash is not None and cy_hash.startswith("$argon2id$")
    assert created["cy@x.com"]["login_method"] == "password"
    assert calls(store, "set_login_method") == [("e1", "saml")]
    assert results.rows[2].done == [{"op": "set_login_method", "method": "saml", "before": "password"}]
    welcome = {m["to"]: m for m in mailer.sent if m["kind"] == "welcome"}
    assert "password" not in welcome["bo@x.com"]["fields"]  # nothing to sign in with but the SSO
    assert "password" in welcome["cy@x.com"]["fields"]
    assert welcome["cy@x.com"]["fields"]["password"] not in welcome["bo@x.com"]["text"]
    assert [u.get("login_method") for u in store.find_users(["ana@x.com", "bo@x.com"])] == ["saml", "saml"]


def test_an_unknown_login_method_is_refused_by_the_core() -> None:
    with pytest.raises(lbu.SettingsError) as e:
        lbu.plan(lbu.parse("firstname,lastname,email\nBo,Chan,bo@x.com\n", login_methods=["saml"]),
                 lbu.Settings(default_login_method="oidc"), Directory([]))
    assert e.value.code == "unknown_login_method"


# -- custom profile fields ------------------------------------------------------------------


FIELDS: List[lbu.ProfileField] = [
    {"name": "department", "aliases": ["dept"], "max_length": 20},
    {"name": "grade", "kind": "one_of", "values": ["A", "B"]},
]


def test_a_custom_field_reaches_the_host_and_is_read_back() -> None:
    store = Directory(people("Ana"))
    store.users["e1"]["custom"] = {"department": "Sales", "grade": "B"}
    csv = "firstname,lastname,email,Dept,Grade\nAna,X,ana@x.com,Support,B\nBo,Chan,bo@x.com,R&D,a\n"
    upload = lbu.parse(csv, fields=FIELDS)
    assert [h.get("field") for h in upload.header][3:] == ["department", "grade"]
    settings = lbu.Settings(update_existing_profiles=True)

    plan = lbu.plan(upload, settings, store)
    ana, bo = plan.rows
    assert ana.operations == [{"op": "update_profile", "changes": {"custom": {"department": "Support"}}}]
    assert bo.operations[0]["profile"]["custom"] == {"department": "R&D", "grade": "A"}  # stored as declared

    results = plan.execute(store, Outbox(), hash_params=CHEAP_HASH)
    assert [r.status for r in results.rows] == ["updated", "created"]
    (new,) = calls(store, "create_user")
    assert new[0]["profile"]["custom"] == {"department": "R&D", "grade": "A"}
    assert calls(store, "update_profile") == [("e1", {"custom": {"department": "Support"}})]
    assert results.rows[0].done[0]["before"] == {"custom": {"department": "Sales"}}

    # find_users gives the values back: the same file again changes nothing.
    found = {u["email"]: u.get("custom") for u in store.find_users(["ana@x.com", "bo@x.com"])}
    assert found == {"ana@x.com": {"department": "Support", "grade": "B"},
                     "bo@x.com": {"department": "R&D", "grade": "A"}}
    assert lbu.plan(lbu.parse(csv, fields=FIELDS), settings, store).summary["unchanged"] == 2

    # The clear token empties a field of an existing user.
    clear = lbu.parse("firstname,lastname,email,dept\nAna,X,ana@x.com,#clear\n", fields=FIELDS)
    cleared = lbu.plan(clear, settings, store)
    assert cleared.rows[0].operations == [{"op": "update_profile", "changes": {"custom": {"department": ""}}}]
    cleared.execute(store, Outbox())
    assert store.users["e1"]["custom"] == {"grade": "B"}


def test_a_bad_custom_value_or_declaration_is_reported_by_the_core() -> None:
    upload = lbu.parse("firstname,lastname,email,grade\nBo,Chan,bo@x.com,C\n", fields=FIELDS)
    assert [(i.code, i.column) for i in upload.issues] == [("invalid_field_value", "grade")]
    with pytest.raises(lbu.SettingsError) as e:
        lbu.parse("email\n", fields=[{"name": "email"}])  # a built-in column
    assert e.value.code == "invalid_option"
