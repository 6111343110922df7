"""Every host-protocol vector of tests/host-protocol/ run through the Python binding with a
native scripted Python host, judged by the core's one judge (format:
docs/host-protocol.md).

The scripted host is a plain Python object built from the vector: a method listed as
missing does not exist; every other method exists, answers its replies in order (the last
one repeats; none: ``None``) and records its calls. This runner only runs the vector and
builds the outcome; the judge compares.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

import lms_bulk_upload as lbu
from lms_bulk_upload import _testing

from conftest import ROOT, error_outcome

VECTORS = ROOT / "tests" / "host-protocol"
DIRS = sorted(p for p in VECTORS.iterdir() if (p / "vector.json").is_file())
Call = List[Any]


class ScriptedFailure(Exception):
    """What a scripted method raises: the vector's message, transient or not."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def native(value: Any) -> Any:
    """A vector's JSON value as a Python value (``{"$bigint": "digits"}`` → int)."""
    if isinstance(value, dict):
        if set(value) == {"$bigint"}:
            return int(value["$bigint"])
        return {k: native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [native(v) for v in value]
    return value


def scripted(role: str, spec: Optional[Dict[str, Any]], calls: List[Call]) -> Any:
    """The native host object of one role (``store``, ``mailer``, ``journal``)."""
    if spec is None:
        return None
    missing = set(spec.get("missing", []))
    replies: Dict[str, List[Dict[str, Any]]] = spec.get("replies", {})
    answered: Dict[str, int] = {}

    def method(name: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            calls.append([role, name, json.loads(json.dumps(list(args)))])
            script = replies.get(name, [])
            if not script:
                return None
            reply = script[min(answered.get(name, 0), len(script) - 1)]
            answered[name] = answered.get(name, 0) + 1
            if "raise" in reply:
                raise ScriptedFailure(reply["raise"], bool(reply.get("transient", False)))
            return native(reply.get("return"))
        return call

    class Scripted:
        def __getattr__(self, name: str) -> Callable[..., Any]:
            if name.startswith("_") or name in missing:
                raise AttributeError(name)
            return method(name)

    return Scripted()


def outcome(vector: Dict[str, Any]) -> Dict[str, Any]:
    """Runs the vector through the public API: parse, settings, plan, execute."""
    calls: List[Call] = []
    host = vector.get("host", {})
    store, mailer, journal = (scripted(role, host.get(role), calls) for role in ("store", "mailer", "journal"))
    stage = "plan"
    try:
        upload = lbu.parse(vector["upload"], **(vector.get("parse_options") or {}))
        plan = lbu.plan(upload, lbu.Settings(**(vector.get("settings") or {})), store)
        stage = "execute"
        results = plan.execute(store, mailer, journal=journal, **(vector.get("execute") or {}))
    except lbu.BulkUploadError as e:
        return {"error": error_outcome(e), "stage": stage, "results_json": None, "calls": calls}
    return {"error": None, "stage": None, "results_json": results.to_json(), "calls": calls}


def test_there_are_vectors() -> None:
    assert len(DIRS) >= 20, f"the vectors of {VECTORS}"


@pytest.mark.parametrize("folder", DIRS, ids=[d.name for d in DIRS])
def test_vector(folder: Path) -> None:
    vector = json.loads((folder / "vector.json").read_text(encoding="utf-8"))
    _testing.judge_protocol_folder(str(folder), json.dumps(outcome(vector)))
