"""A Flask-shaped upload screen without Flask: three handlers as a web app would route them.

    POST /uploads/validate   the file → the validation report (rows, issues)
    POST /uploads/plan       the file + settings → the plan to show and approve (JSON)
    POST /uploads/apply      the approved plan JSON → results
    POST /uploads/undo       an upload's results JSON → the plan that undoes it, to approve
                             and apply like any other

Each handler takes a small request object and returns (body, status), as a Flask view
would return `jsonify(body), status`. The plan travels as JSON between requests (it could
be stored in a table, approved by someone else and run by a worker): the fingerprint makes
sure that what runs is what was approved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

import lms_bulk_upload as lbu
from sqlite_store import OutboxMailer, SqliteStore, open_store

Response = Tuple[Dict[str, Any], int]
CHEAP_HASH: lbu.HashParams = {"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": True}  # demo only
# The server's key (a real host loads it from where only it can read): results handed to the
# browser are signed, and read back verified, so edited results drive no undo.
KEY = lbu.PlanKey.generate()


@dataclass
class Request:
    files: Dict[str, bytes] = field(default_factory=dict)
    form: Dict[str, str] = field(default_factory=dict)


def error_response(e: lbu.BulkUploadError, status: int = 400) -> Response:
    return {"error": {"code": e.code, "message": e.message, "line": e.line, "column": e.column}}, status


def validate(request: Request) -> Response:
    try:
        upload = lbu.parse(request.files["file"])
    except lbu.FileError as e:
        return error_response(e, 422)
    return {"rows": len(upload), "valid": upload.valid_count, "issues": [i.to_dict() for i in upload.issues]}, 200


def make_plan(request: Request, store: SqliteStore) -> Response:
    try:
        upload = lbu.parse(request.files["file"])
        settings = lbu.Settings(**json.loads(request.form.get("settings", "{}")))
        plan = lbu.plan(upload, settings, store)
    except lbu.BulkUploadError as e:
        return error_response(e, 422)
    return {"fingerprint": plan.fingerprint, "summary": plan.summary, "plan": plan.to_json()}, 200


def apply(request: Request, store: SqliteStore, mailer: OutboxMailer) -> Response:
    try:
        plan = lbu.Plan.from_json(request.form["plan"])
    except lbu.PlanError as e:
        return error_response(e, 409)
    if plan.fingerprint != request.form.get("approved_fingerprint"):
        return {"error": {"code": "not_approved", "message": "this plan was not the one approved"}}, 409
    results = plan.execute(store, mailer, hash_params=CHEAP_HASH)
    return {"summary": results.summary, "csv": results.to_csv(), "results": results.to_signed_json(KEY)}, 200


def make_undo(request: Request, store: SqliteStore) -> Response:
    try:
        results = lbu.Results.from_signed_json(request.form["results"], KEY)
        plan = lbu.plan_undo(results, store, {"uploader_email": request.form.get("uploader_email")})
    except lbu.BulkUploadError as e:
        return error_response(e, 409 if e.code == "undo_of_undo" else 422)
    return {"fingerprint": plan.fingerprint, "summary": plan.summary, "plan": plan.to_json()}, 200


def main() -> None:
    store = open_store()
    store.db.execute("INSERT INTO groups (name) VALUES ('Sales')")
    store.db.commit()
    mailer = OutboxMailer()
    file = b"First Name,Last Name,E-mail Address,Groups\nAna,Lopez,ana@example.com,Sales\nBo,Chan,bo@example\n"

    body, status = validate(Request(files={"file": file}))
    assert status == 200 and body["valid"] == 1 and body["issues"][0]["code"] == "invalid_email"

    body, status = validate(Request(files={"file": b"name\nAna\n"}))
    assert status == 422 and body["error"]["code"] == "missing_required_column"

    settings = json.dumps({"uploader_email": "admin@example.com"})
    body, status = make_plan(Request(files={"file": file}, form={"settings": settings}), store)
    assert status == 200 and body["summary"]["create"] == 1
    plan_json, approved = body["plan"], body["fingerprint"]

    tampered = plan_json.replace("ana@example.com", "eve@example.com")
    body, status = apply(Request(form={"plan": tampered, "approved_fingerprint": approved}), store, mailer)
    assert status == 409 and body["error"]["code"] == "fingerprint_mismatch"

    body, status = apply(Request(form={"plan": plan_json, "approved_fingerprint": approved}), store, mailer)
    assert status == 200 and body["summary"]["created"] == 1, body
    assert [m["to"] for m in mailer.outbox] == ["ana@example.com", "admin@example.com"]
    print(body["csv"])

    # Undo it: the stored results → the undo plan, approved and applied like any plan.
    form = {"results": body["results"], "uploader_email": "admin@example.com"}
    body, status = make_undo(Request(form=form), store)
    assert status == 200 and body["summary"]["suspensions"] == 1, body
    form = {"plan": body["plan"], "approved_fingerprint": body["fingerprint"]}
    body, status = apply(Request(form=form), store, mailer)
    assert status == 200 and body["summary"]["updated"] == 1, body
    assert store.db.execute("SELECT suspended FROM users WHERE email_key = 'ana@example.com'").fetchone()[0] == 1
    assert store.db.execute("SELECT COUNT(*) FROM members").fetchone()[0] == 0
    assert mailer.outbox[-1]["to"] == "admin@example.com"

    # The results of an undo cannot be undone.
    body, status = make_undo(Request(form={"results": body["results"]}), store)
    assert status == 409 and body["error"]["code"] == "undo_of_undo"


if __name__ == "__main__":
    main()
