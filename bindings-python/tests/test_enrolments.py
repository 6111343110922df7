"""Per-row enrolments (course, collection, campaign columns) through the public API."""

from __future__ import annotations

import lms_bulk_upload as lbu

from conftest import CHEAP_HASH

CSV = (
    "firstname,lastname,email,course,campaign\n"
    "Ana,Lopez,ana@x.com,c2;c1,\n"
    "Bo,Chan,bo@x.com,intro-110,\n"
    "Cy,Diaz,cy@x.com,,camp1\n"
)
STATE: lbu.StoreState = {
    "content": [{"kind": "course", "id": "c1"}, {"kind": "course", "id": "c2"},
                {"kind": "course", "id": "intro-101"}, {"kind": "campaign", "id": "camp1"}],
    "users": [],
}


def test_per_row_enrolments_are_planned_executed_and_undone() -> None:
    store = lbu.MemoryStore(STATE)
    upload = lbu.parse(CSV)
    assert upload.rows[0].values["course"] == "c2;c1"
    plan = lbu.plan(upload, lbu.Settings(enrolments=[("course", "c1")]), store)
    ana, bo, cy = plan.rows
    enrols = [op["content"] for op in ana.operations if op["op"] == "enrol"]
    assert enrols == [{"kind": "course", "id": "c1"}, {"kind": "course", "id": "c2"}]
    assert bo.action == "rejected" and bo.issues[0].code == "unknown_content"
    assert bo.issues[0].column == "course"
    assert [op["content"]["id"] for op in cy.operations if op["op"] == "enrol"] == ["c1", "camp1"]

    results = plan.execute(store, lbu.RecordingMailer(), hash_params=CHEAP_HASH)
    users = {u["email"]: u for u in store.state()["users"]}
    assert len(users["ana@x.com"]["enrolments"]) == 2
    undo = lbu.plan_undo(results, store, {})
    assert undo.summary.get("withdrawals") == 4
    undo.execute(store, lbu.RecordingMailer())
    assert all(not u["enrolments"] for u in store.state()["users"])
