"""The Python API: sources, errors with codes, issues, settings, plan JSON, execution
options, progress and cancellation, secrets."""

from __future__ import annotations

import gc
import json
import pickle
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import lms_bulk_upload as lbu
from lms_bulk_upload import _native

CSV = b"First Name,Last Name,Email,addgroup\nAna,Lopez,ana@example.com,Sales\nBo,,bo@example\nCy,Diaz,cy@example.com,\n"
GROUPS = {"groups": [{"id": "g1", "name": "Sales"}], "content": [{"kind": "course", "id": "c1"}]}


# ---- parse ---------------------------------------------------------------------------


def test_parse_accepts_bytes_str_bytearray_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(CSV)
    uploads = [lbu.parse(CSV), lbu.parse(CSV.decode()), lbu.parse(bytearray(CSV)), lbu.parse(path), lbu.parse(str(path).encode() and path)]
    for upload in uploads:
        assert len(upload) == 3
        assert [r.email for r in upload.rows] == ["ana@example.com", "bo@example", "cy@example.com"]


def test_an_upload_keeps_the_bytes_it_shares() -> None:
    """UTF-8 bytes are read in place: the upload holds the object (a reference more, let
    go with the upload), so its rows read the same after the caller lets go of it (and
    after a collection), on one thread and on two. Bytes in another encoding are decoded,
    as a copy would be, and not held."""
    for threads in (1, 2):
        data = bytes(big_csv())  # an object of its own, not shared with another test
        upload = lbu.parse(data, threads=threads)
        expected = [r.to_dict() for r in lbu.parse(bytearray(data), threads=threads).rows]
        del data
        gc.collect()
        assert [r.to_dict() for r in upload.rows] == expected
        assert upload.rows[4001].email == "user4001@example.com"
    # The upload holds the object itself (one reference more), and lets it go with it.
    data = bytes(big_csv())
    held = sys.getrefcount(data)
    upload = lbu.parse(data)
    assert sys.getrefcount(data) == held + 1
    del upload
    gc.collect()
    assert sys.getrefcount(data) == held
    latin = "firstname,lastname,email\nZo\u00eb,Ngata,zoe@example.nz\n".encode("cp1252")
    held = sys.getrefcount(latin)
    upload = lbu.parse(latin)
    assert sys.getrefcount(latin) == held  # not UTF-8: decoded into text of the upload's own
    assert (upload.encoding, upload.rows[0].first_name) == ("windows-1252", "Zo\u00eb")
    named = lbu.parse("firstname,lastname,email\nZo\u00eb,Ngata,zoe@example.nz\n".encode(), encoding="windows-1252")
    assert named.rows[0].first_name == "Zo\u00c3\u00ab"


def test_parse_rejects_other_types_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        lbu.parse(42)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        lbu.parse(tmp_path / "nope.csv")


def test_parse_options() -> None:
    upload = lbu.parse(b"firstname|lastname|email|addgroup\nA|B|a@x.com|S1, S2\n", delimiter="|", group_separator=",")
    assert upload.delimiter == "|"
    assert upload.rows[0].add_groups == ["S1", "S2"]
    for bad in [{"delimiter": ";;"}, {"delimiter": '"'}, {"delimter": ";"}, {"max_rows": -1}]:
        with pytest.raises(lbu.SettingsError) as bad_option:
            lbu.parse(CSV, **bad)  # type: ignore[arg-type]
        assert bad_option.value.code == "invalid_option"
    with pytest.raises(lbu.FileError) as e:
        lbu.parse(CSV, max_rows=2)
    assert e.value.code == "too_many_rows"


def big_csv() -> bytes:
    """8,000 rows (some 300 KiB: read in chunks on 2 threads), a bad address near the
    middle and a duplicate, in another case, of a row far before it."""
    lines = [b"firstname,lastname,email"] + [b"First%d,Last%d,user%d@example.com" % (i, i, i) for i in range(8000)]
    lines[4000] = b"Bad,Row,not-an-address"
    lines[7000] = b"Dup,Other,USER1@example.com"
    return b"\n".join(lines) + b"\n"


def test_parse_on_one_or_two_threads_gives_the_same_upload() -> None:
    data = big_csv()
    one, two = lbu.parse(data, threads=1), lbu.parse(data, threads=2)
    assert one.report() == two.report()
    assert [r.to_dict() for r in one.rows] == [r.to_dict() for r in two.rows]
    codes = [(i["line"], i["code"]) for i in one.report()["issues"]]
    assert (4001, "invalid_email") in codes and (7001, "duplicate_email") in codes
    assert one.report()["valid_rows"] == 7998
    with pytest.raises(lbu.SettingsError) as bad:
        lbu.parse(data, threads=-1)
    assert bad.value.code == "invalid_option"


def test_the_bench_helper_times_the_core_alone_on_one_or_two_threads() -> None:
    data = big_csv()
    for threads in (1, 2):
        ms = _native._bench_parse_rust(data, 2, threads)
        assert isinstance(ms, float) and 0 <= ms < 60_000
    with pytest.raises(lbu.FileError):
        _native._bench_parse_rust(b"", 1, 1)


def test_upload_rows_are_a_lazy_sequence() -> None:
    upload = lbu.parse(CSV)
    rows = upload.rows
    assert isinstance(rows, Sequence)
    assert len(rows) == 3
    assert rows[-1].email == "cy@example.com"
    assert [r.line for r in rows[0:3:2]] == [2, 4]
    with pytest.raises(IndexError):
        rows[3]
    row = rows[0]
    assert row.values["firstname"] == "Ana" and row.get("emailaddress") == "ana@example.com"
    assert row.first_name == "Ana" and row.last_name == "Lopez" and row.valid
    assert row.add_groups == ["Sales"] and row.remove_groups == []
    assert row.to_dict()["values"]["emailaddress"] == "ana@example.com"
    assert not rows[1].valid and [i.code for i in rows[1].issues] == ["missing_value", "invalid_email"]
    assert upload.valid_count == 2 and upload.has_errors
    assert upload.encoding == "utf-8"
    assert upload.header[0] == {"header": "First Name", "column": "firstname"}
    assert upload.report()["valid_rows"] == 2


def test_issues_are_objects() -> None:
    upload = lbu.parse(b"firstname,lastname,email,shoe size\nA,B,a@x.com,42\n")
    (issue,) = upload.issues
    assert isinstance(issue, lbu.Issue)
    assert (issue.code, issue.severity, issue.line, issue.column) == ("unknown_column", "warning", 1, "shoe size")
    assert not issue.is_error
    assert "shoe size" in issue.message
    assert issue.to_dict() == {"code": "unknown_column", "severity": "warning", "line": 1, "column": "shoe size", "message": issue.message}
    assert issue == lbu.parse(b"firstname,lastname,email,shoe size\nA,B,a@x.com,42\n").issues[0]
    assert "unknown_column" in repr(issue) and "unknown_column" in str(issue)
    assert len({issue, issue}) == 1


# ---- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty_file"), (b"firstname,lastname\nA,B\n", "missing_required_column"), (b"firstname,lastname,email\n", "no_data_rows")],
)
def test_file_errors_carry_codes(data: bytes, code: str) -> None:
    with pytest.raises(lbu.FileError) as e:
        lbu.parse(data)
    err = e.value
    assert isinstance(err, lbu.BulkUploadError) and isinstance(err, Exception)
    assert err.code == code
    assert hasattr(err, "line") and hasattr(err, "column") and err.message
    assert f"[{code}]" in str(err)


def test_file_error_has_a_place() -> None:
    with pytest.raises(lbu.FileError) as e:
        lbu.parse(b"firstname,lastname,email,email\nA,B,a@x.com,b@x.com\n")
    assert (e.value.code, e.value.line) == ("duplicate_column", 1)
    assert e.value.column is not None


def test_error_classes_and_pickling() -> None:
    for cls in (lbu.FileError, lbu.SettingsError, lbu.PlanError, lbu.StoreError, lbu.MailerError):
        assert issubclass(cls, lbu.BulkUploadError)
    err = lbu.SettingsError("boom", code="invalid_setting")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is lbu.SettingsError and again.code == "invalid_setting" and again.message == "boom"


def test_issue_codes() -> None:
    codes = lbu.issue_codes()
    names = {c.code for c in codes}
    for required in [
        "empty_file", "no_data_rows", "missing_required_column", "duplicate_column", "unknown_column",
        "malformed_csv", "encoding_guessed", "file_too_large", "too_many_rows", "field_too_long",
        "missing_value", "invalid_email", "duplicate_email", "invalid_languagecode", "control_character",
        "group_conflict", "unknown_group", "protected_user",
    ]:
        assert required in names
    assert all(c.severity in ("error", "warning") and c.meaning for c in codes)


# ---- settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"generate_passwords": False}, "default_password_required"),
        ({"send_notification_email": False}, "notification_required_for_generated_passwords"),
        ({"generate_passwords": False, "default_password": "password"}, "weak_default_password"),
        ({"default_password": "Welcome-to-Intuto-2026"}, "default_password_with_generated"),
        ({"uploader_email": "not an email"}, "invalid_setting"),
        ({"enrolments": [{"kind": "lesson", "id": "x"}]}, "invalid_setting"),
        ({"generate_passwords": "yes"}, "invalid_setting"),
    ],
)
def test_settings_errors(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(lbu.SettingsError) as e:
        lbu.Settings(**kwargs)
    assert e.value.code == code


def test_settings_keywords() -> None:
    s = lbu.Settings(
        generate_passwords=False,
        default_password="Welcome-to-Intuto-2026",
        send_notification_email=False,
        enrolments=[("course", "c1"), {"kind": "campaign", "id": "m1"}, ("course", "c1")],
        groups=["Sales", "Sales"],
        password_policy={"min_length": 12},
    )
    assert s.enrolments == [{"kind": "course", "id": "c1"}, {"kind": "campaign", "id": "m1"}]
    assert s.groups == ["Sales"]
    assert s.has_default_password and not s.generate_passwords
    assert s.password_policy["min_length"] == 12
    assert "Welcome-to-Intuto-2026" not in repr(s) and "has_default_password=True" in repr(s)
    assert "Welcome-to-Intuto-2026" not in json.dumps(s.to_dict())
    assert s.to_dict()["has_default_password"] is True
    with pytest.raises(lbu.SettingsError) as e:
        lbu.Settings(generate_password=False)  # type: ignore[call-arg]
    assert e.value.code == "invalid_setting"


def test_settings_unknown_group_is_found_when_planning() -> None:
    with pytest.raises(lbu.SettingsError) as e:
        lbu.plan(lbu.parse(CSV), lbu.Settings(groups=["Slaes"]), lbu.MemoryStore(GROUPS))
    assert e.value.code == "unknown_group" and "Sales" in e.value.message


# ---- plan ----------------------------------------------------------------------------


def make_plan(**settings: Any) -> tuple[lbu.Plan, lbu.MemoryStore]:
    store = lbu.MemoryStore(GROUPS)
    return lbu.plan(lbu.parse(CSV), lbu.Settings(**settings), store), store


def test_plan_summary_rows_and_json_round_trip() -> None:
    plan, store = make_plan(enrolments=[("course", "c1")])
    assert plan.summary["create"] == 2 and plan.summary["rejected"] == 1
    assert len(plan) == len(plan.rows) == 3
    row = plan.rows[0]
    assert row.action == "create" and row.email == "ana@example.com"
    assert [op["op"] for op in row.operations] == ["create_user", "add_to_group", "enrol", "send_email"]
    assert plan.rows[1].action == "rejected" and plan.rows[1].issues[0].code == "missing_value"
    assert row.to_dict()["action"] == "create"
    assert plan.fingerprint.startswith("sha256:")
    text = plan.to_json()
    again = lbu.Plan.from_json(text)
    assert again.fingerprint == plan.fingerprint and again.to_json() == text
    assert lbu.Plan.from_json(text.encode()).fingerprint == plan.fingerprint
    assert json.loads(plan.to_json(pretty=True)) == json.loads(text)
    # Deterministic: the same inputs give the same bytes.
    assert make_plan(enrolments=[("course", "c1")])[0].to_json() == text
    assert plan.settings["enrolments"] == [{"kind": "course", "id": "c1"}]
    assert store.calls.get("find_users") == 1


def test_tampered_plan_is_refused() -> None:
    plan, _ = make_plan()
    doc = json.loads(plan.to_json())
    doc["rows"][0]["email"] = "mallory@example.com"
    with pytest.raises(lbu.PlanError) as e:
        lbu.Plan.from_json(json.dumps(doc))
    assert e.value.code == "fingerprint_mismatch"
    with pytest.raises(lbu.PlanError) as e:
        lbu.Plan.from_json("{not json")
    assert e.value.code == "invalid_plan"
    doc["format_version"] = 999
    with pytest.raises(lbu.PlanError) as e:
        lbu.Plan.from_json(json.dumps(doc))
    assert e.value.code == "unsupported_plan_version"


def test_default_password_never_in_the_plan_and_needed_again(cheap_hash: lbu.HashParams) -> None:
    secret = "Welcome-to-Intuto-2026"
    plan, store = make_plan(generate_passwords=False, default_password=secret)
    assert secret not in plan.to_json() and secret not in repr(plan)
    stored = lbu.Plan.from_json(plan.to_json())
    with pytest.raises(lbu.PlanError) as e:
        stored.execute(store, lbu.RecordingMailer(), hash_params=cheap_hash)
    assert e.value.code == "default_password_required"
    mailer = lbu.RecordingMailer()
    results = stored.execute(store, mailer, default_password=secret, hash_params=cheap_hash)
    assert results.summary["created"] == 2
    assert store.verify_password("ana@example.com", secret)
    assert all(secret not in m["text"] + m["html"] + m["subject"] for m in mailer.messages)
    assert secret not in results.to_json() and secret not in results.to_csv()
    # with_default_password is the other way to give it back.
    store2 = lbu.MemoryStore(GROUPS)
    plan2 = lbu.plan(lbu.parse(CSV), lbu.Settings(generate_passwords=False, default_password=secret), store2)
    lbu.Plan.from_json(plan2.to_json()).with_default_password(secret).execute(store2, lbu.RecordingMailer(), hash_params=cheap_hash)
    assert store2.verify_password("cy@example.com", secret)


# ---- execute -------------------------------------------------------------------------


def test_execute_results(cheap_hash: lbu.HashParams) -> None:
    plan, store = make_plan(uploader_email="admin@example.com")
    mailer = lbu.RecordingMailer()
    results = plan.execute(store, mailer, hash_params=cheap_hash)
    assert [r.status for r in results.rows] == ["created", "rejected", "created"]
    assert results.summary["created"] == 2 and results.summary["emails_sent"] == 2
    assert results.fingerprint == plan.fingerprint and not results.cancelled and results.confirmation_error is None
    assert results.rows[0].user_id and results.rows[0].done[0] == {"op": "create_user"}
    rejected = results.rows[1].error
    assert rejected is not None and rejected["code"] == "missing_value"
    assert results.to_csv().splitlines()[0] == '"line","email","status","user_id","done","error"'
    # The JSON leaves out the counts that are 0 and only exist for some uploads; the object has them all.
    assert json.loads(results.to_json())["summary"].items() <= results.summary.items()
    assert results.summary["suspended"] == 0
    kinds = [m["kind"] for m in mailer.messages]
    assert kinds == ["welcome", "welcome", "upload_complete"]
    welcome = mailer.messages[0]
    password = welcome["fields"]["password"]
    assert password in welcome["text"] and store.verify_password("ana@example.com", password)
    assert (store.password_hash("ana@example.com") or "").startswith("$argon2id$")
    assert "password" not in mailer.messages[2]["fields"]
    assert mailer.messages[2]["fields"]["counts"]["created"] == 2
    assert password not in repr(results) and password not in results.to_json()
    assert len(mailer) == 3
    mailer.clear()
    assert mailer.messages == []


def test_progress_callback_and_cancel(cheap_hash: lbu.HashParams) -> None:
    seen: list[tuple[int, int]] = []

    def progress(p: lbu.Progress) -> None:
        seen.append((p.done, p.total))

    plan, store = make_plan()
    plan.execute(store, lbu.RecordingMailer(), progress=progress, hash_params=cheap_hash)
    assert seen == [(1, 3), (2, 3), (3, 3)]

    plan, store = make_plan()
    results = plan.execute(store, lbu.RecordingMailer(), progress=lambda p: p.done < 1, hash_params=cheap_hash, batch_size=1)
    assert results.cancelled
    assert [r.status for r in results.rows] == ["created", "failed", "failed"]
    cancelled = results.rows[2].error
    assert cancelled is not None and cancelled["code"] == "cancelled"


def test_exception_in_progress_cancels_and_propagates(cheap_hash: lbu.HashParams) -> None:
    def progress(p: lbu.Progress) -> None:
        raise KeyError("stop")

    plan, store = make_plan()
    with pytest.raises(KeyError):
        plan.execute(store, lbu.RecordingMailer(), progress=progress, hash_params=cheap_hash, batch_size=1)
    assert len(store) == 1  # the first row was done, the rest cancelled


def test_cancel_token_and_journal_resume(cheap_hash: lbu.HashParams) -> None:
    plan, store = make_plan()
    journal = lbu.MemoryJournal()
    token = lbu.CancelToken()

    def progress(p: lbu.Progress) -> None:
        if p.done == 1:
            token.cancel()

    first = plan.execute(store, lbu.RecordingMailer(), progress=progress, cancel=token, journal=journal, hash_params=cheap_hash, batch_size=1)
    assert first.cancelled and token.cancelled
    second = plan.execute(store, lbu.RecordingMailer(), journal=journal, hash_params=cheap_hash)
    assert [r.status for r in second.rows] == ["created", "rejected", "created"]
    assert second.summary["resumed"] == 1


def test_python_journal(cheap_hash: lbu.HashParams) -> None:
    class Journal:
        def __init__(self) -> None:
            self.entries: dict[str, dict[int, Any]] = {}

        def load(self, fingerprint: str) -> dict[int, Any]:
            return dict(self.entries.get(fingerprint, {}))

        def begin(self, fingerprint: str, line: int) -> None:
            self.entries.setdefault(fingerprint, {})[line] = None

        def finish(self, fingerprint: str, row: lbu.ResultRowDict) -> None:
            self.entries.setdefault(fingerprint, {})[row["line"]] = row

    plan, store = make_plan()
    journal = Journal()
    plan.execute(store, lbu.RecordingMailer(), journal=journal, hash_params=cheap_hash)
    assert journal.entries[plan.fingerprint][2]["status"] == "created"
    again = plan.execute(store, lbu.RecordingMailer(), journal=journal, hash_params=cheap_hash)
    assert again.summary["resumed"] == 2


class FlakyMailer:
    def __init__(self, fail_for: str, transient_failures: int = 0) -> None:
        self.sent: list[lbu.Message] = []
        self.fail_for = fail_for
        self.transient_failures = transient_failures

    def send(self, message: lbu.Message) -> None:
        if message["to"] == self.fail_for:
            raise ConnectionRefusedError("smtp is down")
        if self.transient_failures:
            self.transient_failures -= 1
            raise lbu.TransientError("try again")
        self.sent.append(message)


def test_mailer_exception_fails_the_row_only(cheap_hash: lbu.HashParams) -> None:
    plan, store = make_plan()
    mailer = FlakyMailer("ana@example.com", transient_failures=1)
    results = plan.execute(store, mailer, hash_params=cheap_hash, retry_delay_ms=0)
    assert [r.status for r in results.rows] == ["failed", "rejected", "created"]
    error = results.rows[0].error
    assert error is not None and error["code"] == "mailer_failed"
    assert error["message"] == "smtp is down"
    assert [m["to"] for m in mailer.sent] == ["cy@example.com"]  # retried after the transient failure


def test_store_and_mailer_arguments_are_checked(cheap_hash: lbu.HashParams) -> None:
    plan, store = make_plan()
    with pytest.raises(lbu.MailerError, match="send") as mailer_error:
        plan.execute(store, object(), hash_params=cheap_hash)  # type: ignore[arg-type]
    assert mailer_error.value.code == "host_method_missing"
    with pytest.raises(lbu.StoreError, match="find_users") as store_error:
        lbu.plan(lbu.parse(CSV), lbu.Settings(), object())  # type: ignore[arg-type]
    assert store_error.value.code == "host_method_missing"
    for bad, code in [({"hash_params": {"memory_kib": 1}}, "weak_hash_params"), ({"retry_delay_ms": -1}, "invalid_option"),
                      ({"retry_delay": 0}, "invalid_option"), ({"batch_size": 0}, "invalid_option")]:
        with pytest.raises(lbu.SettingsError) as e:
            plan.execute(store, lbu.RecordingMailer(), **bad)  # type: ignore[arg-type]
        assert e.value.code == code, bad
    assert len(store) == 0


def test_memory_store_state_round_trip() -> None:
    state = {
        "groups": [{"id": "g1", "name": "Sales"}],
        "content": [{"kind": "course", "id": "c1"}],
        "users": [{"id": "e1", "email": "Ana@X.com", "first_name": "Ana", "groups": ["Sales"], "protected": True}],
    }
    store = lbu.MemoryStore(state)
    got = store.state()
    assert got["users"][0]["email"] == "Ana@X.com" and got["users"][0]["protected"] is True
    assert got["users"][0]["groups"] == ["Sales"]
    store.add_group("g2", "Support")
    store.add_content({"kind": "campaign", "id": "m1"})
    assert len(store.state()["groups"]) == 2 and len(store.state()["content"]) == 2
    with pytest.raises(ValueError):
        store.add_content({"kind": "lesson", "id": "x"})  # type: ignore[typeddict-item]
    with pytest.raises(ValueError):
        lbu.MemoryStore({"users": [{"no_email": 1}]})
    assert "MemoryStore" in repr(store) and len(store) == 1


def test_the_gil_is_released_while_hashing() -> None:
    """Another Python thread runs while the engine hashes passwords."""
    csv = "firstname,lastname,email\n" + "".join(f"U{i},L{i},u{i}@x.com\n" for i in range(6))
    store = lbu.MemoryStore()
    plan = lbu.plan(lbu.parse(csv), lbu.Settings(), store)
    ticks = 0
    done = threading.Event()

    def work() -> None:
        plan.execute(store, lbu.RecordingMailer(), hash_params={"memory_kib": 8192, "iterations": 2, "insecure_for_tests": True}, threads=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
        done.wait(0.001)
    t.join()
    assert ticks > 3
    assert len(store) == 6


def test_version() -> None:
    assert lbu.__version__ and lbu.PLAN_FORMAT_VERSION == 1


def test_templates_can_be_replaced(cheap_hash: lbu.HashParams) -> None:
    plan, store = make_plan()
    mailer = lbu.RecordingMailer()
    template: lbu.EmailTemplate = {"subject": "Kia ora {{first_name}}", "text": "{{login}} / {{password}}", "html": "<p>{{login}}</p>"}
    plan.execute(store, mailer, hash_params=cheap_hash, templates={"welcome_with_password": template})
    m = mailer.messages[0]
    assert m["subject"] == "Kia ora Ana" and m["text"] == f"ana@example.com / {m['fields']['password']}"
    with pytest.raises(lbu.SettingsError) as e:
        plan.execute(store, mailer, templates={"welcome": {"subject": "{{nope}}", "text": "", "html": ""}})
    assert e.value.code == "invalid_template"
    with pytest.raises(lbu.SettingsError) as e:
        plan.execute(store, mailer, templates={"goodbye": template})
    assert e.value.code == "invalid_option"
