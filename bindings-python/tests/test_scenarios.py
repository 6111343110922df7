"""Every scenario of tests/scenarios/ run through the Python binding's public API, judged by
the core's one judge (formats: tests/scenarios/README.md, docs/scenario-format.md).

This runner only runs a scenario — parse, settings, plan against a ``MemoryStore``, apply
the ``store_changes``, execute with a ``RecordingMailer``, and for a scenario with ``undo``,
plan, execute (interrupted and resumed when asked) and try to undo again the undo — and
collects the raw outcome; the judge compares.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

import lms_bulk_upload as lbu
from lms_bulk_upload import _testing

from conftest import CHEAP_HASH, ROOT, error_outcome

SCENARIOS = ROOT / "tests" / "scenarios"
DIRS = sorted(p for p in SCENARIOS.iterdir() if (p / "scenario.json").is_file())


def outcome(scenario: Dict[str, Any], data: bytes) -> Dict[str, Any]:
    """Runs the scenario as far as it goes."""
    out: Dict[str, Any] = {}
    try:
        upload = lbu.parse(data, **(scenario.get("parse_options") or {}))
    except lbu.BulkUploadError as e:
        return {"parse_error": error_outcome(e)}
    out["upload"] = upload.report()
    if "settings" not in scenario:
        return out
    store = lbu.MemoryStore(scenario.get("store"))
    try:
        plan = lbu.plan(upload, lbu.Settings(**scenario["settings"]), store)
    except lbu.BulkUploadError as e:
        return {**out, "settings_error": error_outcome(e)}
    out["plan"] = json.loads(plan.to_json())
    if "store_changes" in scenario:  # the store changes between planning and execution
        changes = json.dumps(scenario["store_changes"])
        store = lbu.MemoryStore(json.loads(_testing.apply_store_changes(json.dumps(scenario.get("store")), changes)))
    mailer = lbu.RecordingMailer()
    results = None
    try:
        results = plan.execute(store, mailer, hash_params=CHEAP_HASH, retry_delay_ms=0)
        out["results"] = json.loads(results.to_json())
    except lbu.BulkUploadError as e:
        out["execute_error"] = error_outcome(e)
    out.update(store=store.state(), emails=mailer.messages)
    if "undo" in scenario and results is not None:
        out["undo"] = undo_outcome(scenario["undo"], results, store)
    return out


def undo_outcome(undo: Dict[str, Any], results: lbu.Results, store: lbu.MemoryStore) -> Dict[str, Any]:
    """The undo part: plan the undo of ``results`` against the store after the upload (and the
    undo's ``store_changes``), execute it with a journal (cancelled once ``cancel_after`` rows
    are done, then run again to finish), then try to undo the undo."""
    out: Dict[str, Any] = {}
    changes = json.dumps(undo.get("store_changes") or [])
    store = lbu.MemoryStore(json.loads(_testing.apply_store_changes(json.dumps(store.state()), changes)))
    try:
        plan = lbu.plan_undo(results, store, undo.get("options"))
    except lbu.BulkUploadError as e:
        return {"error": error_outcome(e)}
    out["plan"] = json.loads(plan.to_json())
    journal = lbu.MemoryJournal()
    mailer = lbu.RecordingMailer()
    try:
        if "cancel_after" in undo:
            n: int = undo["cancel_after"]
            cancel = lbu.CancelToken()

            def stop_after_n(p: lbu.Progress) -> None:
                if p.done >= n:
                    cancel.cancel()

            first = plan.execute(store, mailer, journal=journal, progress=stop_after_n, cancel=cancel,
                                 hash_params=CHEAP_HASH, retry_delay_ms=0)
            out["first_results"] = json.loads(first.to_json())
        again = plan.execute(store, mailer, journal=journal, hash_params=CHEAP_HASH, retry_delay_ms=0)
        out["results"] = json.loads(again.to_json())
        try:
            lbu.plan_undo(again, store)
        except lbu.BulkUploadError as e:
            out["again_error"] = error_outcome(e)
    except lbu.BulkUploadError as e:
        out["execute_error"] = error_outcome(e)
    return {**out, "store": store.state(), "emails": mailer.messages}


def test_there_are_scenarios() -> None:
    assert len(DIRS) >= 60, f"the scenarios of {SCENARIOS}"


@pytest.mark.parametrize("folder", DIRS, ids=[d.name for d in DIRS])
def test_scenario(folder: Path) -> None:
    scenario = (folder / "scenario.json").read_text(encoding="utf-8")
    # upload.csv, or a spreadsheet: upload.xlsx, upload.xls, upload.ods
    upload = next(folder / f"upload.{ext}" for ext in ("csv", "xlsx", "xls", "ods") if (folder / f"upload.{ext}").is_file())
    data = upload.read_bytes()
    _testing.judge_scenario(scenario, json.dumps(outcome(json.loads(scenario), data)))
