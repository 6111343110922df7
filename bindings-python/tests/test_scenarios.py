"""Every scenario of tests/scenarios/ run through the Python binding.

The format is tests/scenarios/README.md (parse part) and docs/scenario-format.md (plan and
execute part); this runner mirrors core/tests/scenarios.rs and fails loudly on any key it
does not understand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

import lms_bulk_upload as lbu

from conftest import CHEAP_HASH, ROOT

SCENARIOS = ROOT / "tests" / "scenarios"
DIRS = sorted(p for p in SCENARIOS.iterdir() if (p / "scenario.json").is_file())

PARSE_KEYS = {"parse_error", "issues", "rows", "valid_rows"}
FLOW_KEYS = PARSE_KEYS | {"settings_error", "plan", "store", "emails", "results"}
KIND = {
    lbu.FileError: "file",
    lbu.SettingsError: "settings",
    lbu.PlanError: "plan",
    lbu.StoreError: "store",
    lbu.MailerError: "mailer",
}


class ScenarioError(AssertionError):
    pass


def known_keys(mapping: dict[str, Any], known: set[str] | list[str], what: str) -> None:
    unknown = [k for k in mapping if k not in known]
    if unknown:
        raise ScenarioError(f"{what}: unknown key {unknown[0]!r} (this runner understands {sorted(known)})")


def subset(expected: Any, actual: Any, path: str) -> None:
    """`expected` is a subset of `actual`: object keys not given are not checked (a key
    missing from `actual` only matches None), lists have the same length and compare
    element-wise, everything else is equal."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise ScenarioError(f"{path}: expected an object {expected}, got {actual!r}")
        for key, value in expected.items():
            if key in actual:
                subset(value, actual[key], f"{path}.{key}")
            elif value is not None:
                raise ScenarioError(f"{path}.{key}: expected {value!r}, but there is no such key in {actual!r}")
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            raise ScenarioError(f"{path}: expected {len(expected)} elements {expected!r}, got {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            subset(e, a, f"{path}[{i}]")
    elif type(expected) is not type(actual) and not (
        isinstance(expected, (int, float)) and isinstance(actual, (int, float))
        and not isinstance(expected, bool) and not isinstance(actual, bool)
    ):
        raise ScenarioError(f"{path}: expected {expected!r}, got {actual!r}")
    elif expected != actual:
        raise ScenarioError(f"{path}: expected {expected!r}, got {actual!r}")


def check_issues(expected: Any, actual: list[lbu.Issue], path: str) -> None:
    if not isinstance(expected, list):
        raise ScenarioError(f"{path} must be a list")
    codes = [i.code for i in actual]
    if len(expected) != len(actual):
        raise ScenarioError(f"{path}: expected {len(expected)} issues {expected}, got {codes} ({actual})")
    for i, (e, a) in enumerate(zip(expected, actual)):
        here = f"{path}[{i}]"
        assert isinstance(a, lbu.Issue)
        if isinstance(e, str):
            if e != a.code:
                raise ScenarioError(f"{here}: expected {e}, got {codes}")
        elif isinstance(e, dict):
            known_keys(e, ["code", "severity", "line", "column", "message_contains"], here)
            e = dict(e)
            needle = e.pop("message_contains", None)
            if needle is not None and needle not in a.message:
                raise ScenarioError(f"{here}: message {a.message!r} does not contain {needle!r}")
            subset(e, a.to_dict(), here)
        else:
            raise ScenarioError(f"{here}: an issue is a code or an object, not {e!r}")


def check_error(expected: Any, error: lbu.BulkUploadError, path: str) -> None:
    if not isinstance(expected, dict):
        raise ScenarioError(f"{path} must be an object")
    known_keys(expected, ["code", "kind", "line", "column", "message_contains"], path)
    kind = next((k for cls, k in KIND.items() if isinstance(error, cls)), "?")
    actual = {"code": error.code, "kind": kind, "line": error.line, "column": error.column}
    e = dict(expected)
    needle = e.pop("message_contains", None)
    if needle is not None and needle not in error.message:
        raise ScenarioError(f"{path}: message {error.message!r} does not contain {needle!r}")
    subset(e, actual, path)


def parse_kwargs(options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ScenarioError("parse_options must be an object")
    known_keys(
        options,
        ["delimiter", "group_separator", "max_file_bytes", "max_rows", "max_field_bytes", "max_columns", "max_value_chars"],
        "parse_options",
    )
    return dict(options)


def check_parse(expect: dict[str, Any], upload: lbu.Upload) -> None:
    if "issues" in expect:
        check_issues(expect["issues"], upload.issues, "expect.issues")
    rows = expect.get("rows")
    if isinstance(rows, int) and not isinstance(rows, bool):
        subset(rows, len(upload), "expect.rows")
    elif isinstance(rows, list):
        subset(rows, [r.to_dict() for r in upload.rows], "expect.rows")
    elif rows is not None:
        raise ScenarioError(f"expect.rows must be a number or a list, not {rows!r}")
    if "valid_rows" in expect:
        subset(expect["valid_rows"], upload.valid_count, "expect.valid_rows")
        subset(expect["valid_rows"], sum(1 for r in upload.rows if r.valid), "expect.valid_rows")


def row_view(row: lbu.PlanRow) -> dict[str, Any]:
    return {
        "line": row.line,
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "action": row.action,
        "user_id": row.user_id,
        "operations": [op["op"] for op in row.operations],
        "operation_details": row.operations,
        "noops": [n["noop"] for n in row.noops],
    }


def check_plan(expected: Any, plan: lbu.Plan) -> None:
    if not isinstance(expected, dict):
        raise ScenarioError("expect.plan must be an object")
    known_keys(expected, ["summary", "rows", "file_issues"], "expect.plan")
    if "summary" in expected:
        summary = plan.summary
        for key in expected["summary"]:
            if key not in summary:
                raise ScenarioError(f"expect.plan.summary: unknown key {key!r}")
        subset(expected["summary"], summary, "expect.plan.summary")
    if "file_issues" in expected:
        check_issues(expected["file_issues"], plan.file_issues, "expect.plan.file_issues")
    if "rows" in expected:
        rows = expected["rows"]
        actual = list(plan.rows)
        if len(rows) != len(actual):
            raise ScenarioError(
                f"expect.plan.rows: expected {len(rows)} rows, the plan has {len(actual)}: {[row_view(r) for r in actual]}"
            )
        for i, (e, a) in enumerate(zip(rows, actual)):
            path = f"expect.plan.rows[{i}]"
            known_keys(
                e,
                ["line", "email", "first_name", "last_name", "action", "user_id", "operations", "operation_details", "noops", "issues"],
                path,
            )
            e = dict(e)
            if "issues" in e:
                check_issues(e.pop("issues"), a.issues, f"{path}.issues")
            subset(e, row_view(a), path)


USER_KEYS = [
    "id", "email", "first_name", "last_name", "phone_number", "unique_id", "country",
    "organisation", "language_code", "groups", "enrolments", "protected", "has_password",
    "force_password_reset",
]


def check_store(expected: Any, store: lbu.MemoryStore) -> None:
    if not isinstance(expected, dict):
        raise ScenarioError("expect.store must be an object")
    known_keys(expected, ["groups", "content", "users"], "expect.store")
    actual: dict[str, Any] = dict(store.state())
    expected = json.loads(json.dumps(expected))
    for state in (actual, expected):
        for user in state.get("users", []):
            user.pop("id", None)
    for i, user in enumerate(expected.get("users", [])):
        known_keys(user, USER_KEYS, f"expect.store.users[{i}]")
    subset(expected, actual, "expect.store")


def check_emails(expected: Any, messages: list[lbu.Message]) -> None:
    if not isinstance(expected, list):
        raise ScenarioError("expect.emails must be a list")
    if len(expected) != len(messages):
        raise ScenarioError(
            f"expect.emails: expected {len(expected)} messages, got {len(messages)}: "
            f"{[(m['kind'], m['to']) for m in messages]}"
        )
    for i, (e, m) in enumerate(zip(expected, messages)):
        path = f"expect.emails[{i}]"
        known_keys(e, ["kind", "to", "subject", "has_password", "counts", "text_contains"], path)
        e = dict(e)
        if "has_password" in e:
            has = e.pop("has_password")
            password = m["fields"].get("password")
            if has and (password is None or password not in m["text"]):
                raise ScenarioError(f"{path}: expected a password in the fields and the text")
            if not has and password is not None:
                raise ScenarioError(f"{path}: has_password false, but the message has a password")
        for needle in e.pop("text_contains", []):
            if needle not in m["text"]:
                raise ScenarioError(f"{path}: the text does not contain {needle!r}: {m['text']!r}")
        view = {"kind": m["kind"], "to": m["to"], "subject": m["subject"], "counts": m["fields"].get("counts", {})}
        subset(e, view, path)


def check_results(expected: Any, results: lbu.Results) -> None:
    if not isinstance(expected, dict):
        raise ScenarioError("expect.results must be an object")
    known_keys(expected, ["summary", "rows", "cancelled"], "expect.results")
    actual = json.loads(results.to_json())
    for key in expected.get("summary", {}):
        if key not in actual["summary"]:
            raise ScenarioError(f"expect.results.summary: unknown key {key!r}")
    # The typed objects say the same as the JSON.
    assert results.summary == actual["summary"]
    assert [r.to_dict() for r in results.rows] == actual["rows"]
    subset(expected, actual, "expect.results")


def apply_store_changes(state: Any, changes: Any) -> dict[str, Any]:
    """What happens to the store between plan and execute (docs/scenario-format.md)."""
    state = json.loads(json.dumps(state))
    if not isinstance(changes, list):
        raise ScenarioError("store_changes must be a list")

    def same_email(user: Any, email: str) -> bool:
        return str(user.get("email", "")).lower() == email.lower()

    def remove(key: str, keep: Callable[[Any], bool], here: str) -> None:
        before = state.get(key, [])
        state[key] = [item for item in before if keep(item)]
        if len(state[key]) == len(before):
            raise ScenarioError(f"{here} matches nothing")

    for i, change in enumerate(changes):
        here = f"store_changes[{i}]"
        if not isinstance(change, dict) or len(change) != 1:
            raise ScenarioError(f"{here} must be an object with one key")
        ((op, arg),) = change.items()
        if op == "remove_user":
            remove("users", lambda u: not same_email(u, arg), here)
        elif op == "add_user":
            state.setdefault("users", []).append(dict(arg))
        elif op == "update_user":
            found = [u for u in state.get("users", []) if same_email(u, arg["email"])]
            if not found:
                raise ScenarioError(f"{here}: no user {arg['email']}")
            found[0].update(arg)
        elif op == "remove_group":
            remove("groups", lambda g: g.get("name") != arg, here)
        elif op == "add_group":
            state.setdefault("groups", []).append(dict(arg))
        elif op == "remove_content":
            remove("content", lambda c: c != arg, here)
        else:
            raise ScenarioError(f"{here}: unknown change {op!r}")
    return dict(state)


def snake_case(settings: dict[str, Any]) -> dict[str, Any]:
    """Python takes the SPEC's snake_case names; a scenario written with Node's camelCase
    keys (the core's serde aliases) is given in the Python spelling."""
    return {re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), k): v for k, v in settings.items()}


def run(folder: Path) -> None:
    scenario = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    known_keys(scenario, ["description", "parse_options", "settings", "store", "store_changes", "expect"], "scenario.json")
    expect = scenario.get("expect")
    if not isinstance(expect, dict):
        raise ScenarioError("expect must be an object")
    settings = scenario.get("settings")
    if settings is None:
        known_keys(expect, PARSE_KEYS, "expect (parse-only scenario)")
        if "parse_error" not in expect and "issues" not in expect:
            raise ScenarioError("a parse-only scenario gives parse_error or issues")
    else:
        known_keys(expect, FLOW_KEYS, "expect")

    data = (folder / "upload.csv").read_bytes()
    kwargs = parse_kwargs(scenario.get("parse_options"))
    try:
        upload = lbu.parse(data, **kwargs)
    except lbu.FileError as e:
        if "parse_error" not in expect:
            raise ScenarioError(f"parse failed: {e!r} {e.code}") from e
        check_error(expect["parse_error"], e, "expect.parse_error")
        # The same error through the other source types.
        with pytest.raises(lbu.FileError) as other:
            lbu.parse(bytearray(data), **kwargs)
        assert other.value.code == e.code
        return
    if "parse_error" in expect:
        raise ScenarioError(f"expected the parse error {expect['parse_error']}, but parse succeeded")
    check_parse(expect, upload)
    if settings is None:
        return

    default_password = settings.get("default_password", settings.get("defaultPassword")) or None
    store = lbu.MemoryStore(scenario.get("store"))
    try:
        plan = lbu.plan(upload, lbu.Settings(**snake_case(settings)), store)
    except (lbu.SettingsError, lbu.PlanError, lbu.StoreError) as e:
        if "settings_error" not in expect:
            raise ScenarioError(f"settings or plan failed: {e!r} {e.code}") from e
        check_error(expect["settings_error"], e, "expect.settings_error")
        for key in ("plan", "store", "emails", "results"):
            if key in expect:
                raise ScenarioError(f"expect.{key} cannot be checked with a settings_error")
        return
    if "settings_error" in expect:
        raise ScenarioError(f"expected the settings error {expect['settings_error']}, but planning succeeded")
    if "plan" in expect:
        check_plan(expect["plan"], plan)

    # The plan survives its JSON form: same fingerprint, same bytes.
    again = lbu.Plan.from_json(plan.to_json())
    assert again.fingerprint == plan.fingerprint
    assert again.to_json() == plan.to_json()

    if "store_changes" in scenario:
        store = lbu.MemoryStore(apply_store_changes(scenario.get("store") or {}, scenario["store_changes"]))
    mailer = lbu.RecordingMailer()
    results = again.execute(
        store, mailer, default_password=default_password, hash_params=CHEAP_HASH, retry_delay_ms=0
    )
    messages = mailer.messages
    if default_password:
        for i, m in enumerate(messages):
            for part in ("subject", "text", "html"):
                if default_password in m[part]:
                    raise ScenarioError(f"email {i} carries the default password in its {part}")
    if "store" in expect:
        check_store(expect["store"], store)
    if "emails" in expect:
        check_emails(expect["emails"], messages)
    if "results" in expect:
        check_results(expect["results"], results)


def test_there_are_scenarios() -> None:
    assert len(DIRS) > 0, f"no scenario in {SCENARIOS}"


@pytest.mark.parametrize("folder", DIRS, ids=[d.name for d in DIRS])
def test_scenario(folder: Path) -> None:
    run(folder)
