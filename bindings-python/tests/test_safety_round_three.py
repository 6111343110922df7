"""Issue 19 (part B) through the Python binding's public API: nesting and cycles in
arguments and host replies raise coded errors (never a crash), the reactivation setting,
the IDNA identity, the missing-users threshold and secret settings never echoed."""

from __future__ import annotations

from typing import Any, List

import pytest

import lms_bulk_upload as lbu


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def user(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "first_name": "A", "last_name": "X", **extra}


def test_an_argument_nested_2000_deep_raises_a_coded_error() -> None:
    with pytest.raises(lbu.BulkUploadError) as e:
        lbu.Settings(enrolments=nested(2000))
    assert e.value.code == "invalid_option"
    assert "deep" in e.value.message


def test_a_list_that_contains_itself_raises_a_coded_error() -> None:
    loop: List[Any] = []
    loop.append(loop)
    with pytest.raises(lbu.BulkUploadError) as e:
        lbu.Settings(groups=loop)
    assert e.value.code == "invalid_option"
    looped: dict[str, Any] = {}
    looped["self"] = looped
    with pytest.raises(lbu.BulkUploadError) as e:
        lbu.MemoryStore(looped)
    assert e.value.code == "invalid_option"


class DeepStore:
    """A host store whose find_users answers a value nested 2,000 deep, or a cycle."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def find_users(self, emails: List[str]) -> Any:
        return self.reply

    def find_groups(self, names: List[str]) -> Any:
        return []

    def find_content(self, refs: Any) -> Any:
        return []

    def create_user(self, *args: Any) -> Any:
        return "1"

    update_profile = set_password = add_to_group = remove_from_group = enrol = create_user


def test_a_host_reply_nested_2000_deep_or_cyclic_is_invalid_host_reply() -> None:
    upload = lbu.parse(b"firstname,lastname,email\nAna,X,ana@x.com\n")
    loop: List[Any] = []
    loop.append(loop)
    for reply in (nested(2000), loop):
        with pytest.raises(lbu.StoreError) as e:
            lbu.plan(upload, lbu.Settings(), DeepStore(reply))
        assert e.value.code == "invalid_host_reply"


def test_reactivation_is_its_own_setting() -> None:
    upload = lbu.parse(b"firstname,lastname,email\nEd,X,ed@x.com\nBo,X,bo@x.com\n")
    state: Any = {"users": [user("ed@x.com", suspended=True),
                            user("bo@x.com", suspended=True, suspended_by_upload=True)]}
    plan = lbu.plan(upload, lbu.Settings(update_existing_profiles=True), lbu.MemoryStore(state))
    assert all("reactivate_user" not in [o["op"] for o in r.operations] for r in plan.rows)
    settings = lbu.Settings(reactivate_suspended_users=True)
    assert settings.reactivate_suspended_users and not lbu.Settings().reactivate_suspended_users
    plan = lbu.plan(upload, settings, lbu.MemoryStore(state))
    assert [[o["op"] for o in r.operations] for r in plan.rows] == [[], ["reactivate_user"]]
    assert "user_suspended" in [i.code for i in plan.rows[0].issues]


def test_idna_domains_are_one_identity() -> None:
    upload = lbu.parse("firstname,lastname,email\nAna,Y,ana@bücher.de\n".encode())
    store = lbu.MemoryStore({"users": [user("ana@xn--bcher-kva.de")]})
    plan = lbu.plan(upload, lbu.Settings(update_existing_profiles=True), store)
    assert plan.rows[0].action == "update"
    assert plan.summary["create"] == 0


def test_the_threshold_counts_only_users_who_can_be_suspended() -> None:
    users = [user(f"u{i}@x.com", suspended=i < 9) for i in range(12)]
    store = lbu.MemoryStore({"users": users})
    upload = lbu.parse(b"firstname,lastname,email\nA,X,u9@x.com\n")
    with pytest.raises(lbu.SettingsError) as e:
        lbu.plan(upload, lbu.Settings(suspend_missing_users=True, missing_users_threshold=50), store)
    assert e.value.code == "missing_users_threshold" and "2 of the 3" in e.value.message


@pytest.mark.parametrize("value", [31415926535, 2.718281828, ["Sekr3t-pass-9"], True])
def test_a_secret_setting_of_the_wrong_type_is_never_echoed(value: Any) -> None:
    with pytest.raises(lbu.SettingsError) as e:
        lbu.Settings(generate_passwords=False, default_password=value)
    assert e.value.code == "invalid_setting"
    for text in ("31415926535", "718281828", "Sekr3t"):
        assert text not in str(e.value) and text not in e.value.message


def test_weak_default_password_is_refused_with_a_reason() -> None:
    with pytest.raises(lbu.SettingsError) as e:
        lbu.Settings(generate_passwords=False, default_password="Welcome2024!")
    assert e.value.code == "weak_default_password"
    assert "zxcvbn" in e.value.message and "Welcome2024!" not in e.value.message


MEMORY_PROBE = """
import json, resource, sys
import lms_bulk_upload as lbu
text = open(sys.argv[1]).read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
results = lbu.Results.from_json(text)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
assert len(results) == int(sys.argv[2])
print((after - before) / len(text))
"""


def test_results_from_json_takes_a_small_multiple_of_the_json(tmp_path: Any) -> None:
    """Results.from_json took 19 x the JSON's size (a JSON value of every row besides the
    rows): now the rows are held once (about 2 x). Peak RSS, in a process of its own."""
    import json
    import subprocess
    import sys

    n = 100_000
    rows = [{"line": i + 2, "email": f"user{i}@example.com", "status": "created", "user_id": str(1000 + i),
             "done": [{"op": "create_user"}, {"op": "add_to_group", "group": "Sales"},
                      {"op": "send_email", "kind": "welcome"}], "error": None} for i in range(n)]
    summary = {"rows": n, "created": n, "updated": 0, "unchanged": 0, "rejected": 0, "failed": 0,
               "emails_sent": n, "resumed": 0}
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"fingerprint": "sha256:" + "0" * 64, "summary": summary, "rows": rows,
                                "cancelled": False, "confirmation_error": None}))
    del rows
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path), str(n)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) <= 4.0, done.stdout


def test_email_key_is_the_engines_identity() -> None:
    assert lbu.email_key("Ana@Bücher.de") == "ana@xn--bcher-kva.de"
    assert lbu.email_key("ANA@XN--BCHER-KVA.DE") == "ana@xn--bcher-kva.de"


class QuotingMailer:
    """A mailer whose exception quotes the message it could not send."""

    def send(self, message: lbu.Message) -> None:
        raise RuntimeError(f"SMTP 554 rejected: {message['text']}")


def test_a_password_quoted_by_a_mailer_exception_is_scrubbed(cheap_hash: lbu.HashParams) -> None:
    upload = lbu.parse(b"firstname,lastname,email\nAna,X,ana@x.com\n")
    store = lbu.MemoryStore()
    plan = lbu.plan(upload, lbu.Settings(), store)
    journal = lbu.MemoryJournal()
    results = plan.execute(store, QuotingMailer(), hash_params=cheap_hash, retry_delay_ms=0, journal=journal)
    error = results.rows[0].error
    assert error is not None and error["code"] == "mailer_failed"
    assert "SMTP 554" in error["message"] and "[REDACTED]" in error["message"]
    hashed = store.state()["users"][0]
    assert hashed["has_password"]
    # No 16-character run of the generated alphabet is left in what is stored.
    import re
    for text in (results.to_json(), repr(journal.entries() if hasattr(journal, "entries") else "")):
        assert not re.search(r"(?<![A-Za-z0-9])[A-HJ-NP-Za-km-z2-9]{16}(?![A-Za-z0-9])", text.replace("[REDACTED]", "")), text
