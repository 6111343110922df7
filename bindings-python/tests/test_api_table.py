"""Walks the table of the public API (docs/api.md): every Python name on its object, with the
shape the table gives. A name missing or renamed here, or a value of another shape, fails."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import lms_bulk_upload as lbu
import lms_bulk_upload.web as web

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "python"))
from sqlite_store import OutboxMailer, open_store  # noqa: E402

TABLE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
CHEAP: lbu.HashParams = {"memory_kib": 8, "iterations": 1, "parallelism": 1, "insecure_for_tests": True}


def tables(text: str, column: str) -> Dict[str, List[Tuple[str, str, str]]]:
    """``{context: [(what, cell, shape)]}`` of every table whose first header cell is a name."""
    out: Dict[str, List[Tuple[str, str, str]]] = {}
    context = None
    index = -1
    for line in text.splitlines():
        if not line.startswith("|"):
            context = None
            continue
        cells = [c.strip() for c in line.split("|")[1:-1]]
        head = re.fullmatch(r"`(\w+)`", cells[0])
        if head and column in cells:
            context, index = head.group(1), cells.index(column)
            out.setdefault(context, [])
        elif context and not re.fullmatch(r"-+", cells[0]):
            out[context].append((cells[0], cells[index].replace("`", ""), cells[-1]))
    return out


def shape_ok(value: Any, shape: str) -> bool:
    if shape.endswith("?") and value is None:
        return True
    base = shape.rstrip("?")
    if base == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if base == "str":
        return isinstance(value, str)
    if base == "bool":
        return isinstance(value, bool)
    if base == "list":
        return isinstance(value, Sequence) and not isinstance(value, str)
    if base == "map":
        return isinstance(value, Mapping)
    if base in ("function", "method"):
        return callable(value)
    if base == "class":
        return isinstance(value, type)
    raise AssertionError(f"unknown shape {shape}")


def read(obj: Any, cell: str, shape: str) -> Any:
    key = re.fullmatch(r'\["(\w+)"\]', cell)
    if key:
        assert key.group(1) in obj, f"{key.group(1)} is present"
        return obj[key.group(1)]
    name = re.sub(r"\(.*\)$", "", cell)
    if cell == "len()":
        return len(obj)
    if cell == "str()":
        return str(obj)
    if shape in ("method", "function", "class"):
        return getattr(obj, name)
    if cell.endswith("()"):
        return getattr(obj, name)()
    return getattr(obj, name)


class NoHooks:
    """The screens' hooks of a host with no administrator and no records."""

    def authenticate(self, email: str, password: str) -> None:
        return None

    def get_record(self, kind: str, id: str) -> None:
        return None

    def put_record(self, kind: str, id: str, doc: Any, expected: Any) -> bool:
        return False

    def list_records(self, kind: str, offset: int, limit: int) -> Dict[str, Any]:
        return {"total": 0, "items": []}

    def delete_record(self, kind: str, id: str) -> None:
        return None

    def catalog(self) -> Dict[str, Any]:
        return {"groups": [], "content": []}


def contexts() -> Dict[str, Any]:
    store = lbu.MemoryStore({
        "groups": [{"id": "g1", "name": "Sales"}],
        "users": [{"id": "u9", "email": "bo@example.com", "first_name": "Bo", "last_name": "Old"}],
    })
    upload = lbu.parse("email,firstname,lastname\nana@example.com,Ana,New\nbo@example.com,Bo,Old\nnot-an-email,Cy,Bad\n")
    plan = lbu.plan(upload, {"generate_passwords": True}, store)
    mailer = lbu.RecordingMailer()
    results = plan.execute(store, mailer, hash_params=CHEAP)
    with pytest.raises(lbu.FileError) as error:
        lbu.parse("")
    return {
        "module": lbu,
        "upload": upload,
        "upload_row": upload.rows[0],
        "issue": upload.issues[0],
        "code_info": lbu.issue_codes()[0],
        "settings": lbu.Settings(generate_passwords=True),
        "plan": plan,
        "Plan": lbu.Plan,
        "plan_row": next(r for r in plan.rows if r.action == "unchanged"),
        "plan_summary": plan.summary,
        "results": results,
        "Results": lbu.Results,
        "result_row": next(r for r in results.rows if r.status == "unchanged"),
        "result_summary": results.summary,
        "error": error.value,
        "store": store,
        "mailer": mailer,
        "PlanKey": lbu.PlanKey,
        "plan_key": lbu.PlanKey.generate(),
        "web": web,
        # over a store and mailer written in Python, as a host's are
        "web_api": web.WebApi(NoHooks(), open_store(), OutboxMailer(),
                              site_url="https://lms.example.com/admin/bulk-upload/", secret="s" * 40),
    }


def test_every_name_of_the_table_exists_in_python_with_its_shape() -> None:
    table = tables(TABLE.read_text(encoding="utf-8"), "Python")
    objects = contexts()
    assert sorted(table) == sorted(objects), "a context for every table"
    checked = 0
    for context, rows in table.items():
        for what, cell, shape in rows:
            if cell == "—":
                continue
            value = read(objects[context], cell, shape)
            assert shape_ok(value, shape), f"{context}: {cell} ({what}) is a {shape}, not {value!r}"
            checked += 1
    assert checked > 150, f"checked {checked} names"


def test_nothing_to_do_is_an_empty_list_or_zero_not_absent() -> None:
    objects = contexts()
    row, done = objects["plan_row"], objects["result_row"]
    assert row.operations == [] and isinstance(row.noops, list) and isinstance(row.issues, list)
    assert (done.done, done.error) == ([], None)
    assert objects["plan_summary"]["suspensions"] == 0 and objects["result_summary"]["suspended"] == 0
    error = objects["error"]
    assert error.kind == "file" and str(error) == f"{error.message} [{error.code}]"
    assert all(isinstance(c, lbu.CodeInfo) for c in lbu.issue_codes())


def test_the_store_double_add_methods_return_the_store() -> None:
    store = lbu.MemoryStore()
    assert store.add_group("g1", "Sales") is store
    assert store.add_content({"kind": "course", "id": "c1"}) is store
    assert store.add_user({"id": "u1", "email": "ana@example.com"}) is store
    assert store.password_hash("ana@example.com") is None and not store.verify_password("ana@example.com", "x")
    upload = lbu.parse("email,firstname,lastname\ncy@example.com,Cy,New\n")
    settings = {"generate_passwords": False, "default_password": "Kowhai-Tree-2026!"}
    lbu.plan(upload, settings, store).execute(store, lbu.RecordingMailer(), hash_params=CHEAP,
                                              default_password="Kowhai-Tree-2026!")
    phc = store.password_hash("cy@example.com")
    assert phc is not None and phc.startswith("$argon2id$")
    assert lbu.verify_password(phc, "Kowhai-Tree-2026!") and store.verify_password("cy@example.com", "Kowhai-Tree-2026!")
    assert store.calls["create_user"] == 1
