"""A Flask-shaped upload screen without Flask: handlers as a web app would route them.

    POST /uploads/validate   the file → the validation report (rows, issues)
    POST /uploads/plan       the file + settings → an upload id and the plan to show
    POST /uploads/apply      the upload id (the approval) → results
    POST /uploads/undo       an applied upload's id → an undo id and its plan, to approve
                             and apply like any other

Each handler takes a small request object and returns (body, status), as a Flask view
would return `jsonify(body), status`.

Nothing the browser sends is trusted but the file, the settings and an id: the server keeps
every plan, signed with its own key, and every results JSON in its own table, signed too (`uploads`),
keyed by an id. Approving names the id only, so an edited plan in a request changes nothing;
an undo reads the results the server stored, never results sent back by the browser.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import lms_bulk_upload as lbu
from sqlite_store import OutboxMailer, SqliteStore, open_store

Response = Tuple[Dict[str, Any], int]
CHEAP_HASH: lbu.HashParams = {"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": True}  # demo only

UPLOADS = """
CREATE TABLE IF NOT EXISTS uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    undo_of INTEGER REFERENCES uploads (id),
    plan TEXT NOT NULL,          -- signed with the server's key
    results TEXT,                -- set once applied; only the server writes it
    undone INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass
class Request:
    files: Dict[str, bytes] = field(default_factory=dict)
    form: Dict[str, str] = field(default_factory=dict)


class Server:
    """The store, the mailer, the signing key (kept where only the server reads it: here in
    memory) and the table of uploads."""

    def __init__(self, store: SqliteStore, mailer: OutboxMailer) -> None:
        self.store, self.mailer, self.key = store, mailer, lbu.PlanKey.generate()
        self.db: sqlite3.Connection = store.db
        self.db.executescript(UPLOADS)

    def keep(self, plan: lbu.Plan, undo_of: Optional[int] = None) -> int:
        cursor = self.db.execute("INSERT INTO uploads (plan, undo_of) VALUES (?, ?)",
                                 (plan.to_signed_json(self.key), undo_of))
        self.db.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def row(self, upload_id: str) -> Optional[sqlite3.Row]:
        if not upload_id.isdigit():
            return None
        cursor = self.db.cursor()
        cursor.row_factory = sqlite3.Row
        found: Optional[sqlite3.Row] = cursor.execute(
            "SELECT * FROM uploads WHERE id = ?", (int(upload_id),)).fetchone()
        return found


def error_response(e: lbu.BulkUploadError, status: int = 400) -> Response:
    return {"error": {"code": e.code, "message": e.message, "line": e.line, "column": e.column}}, status


def not_found(what: str) -> Response:
    return {"error": {"code": "not_found", "message": f"no such {what}"}}, 404


def shown(upload_id: int, plan: lbu.Plan) -> Dict[str, Any]:
    """What the browser sees of a plan: to read, never to send back."""
    return {"id": upload_id, "summary": plan.summary, "rows": [r.to_dict() for r in plan.rows]}


def validate(request: Request) -> Response:
    try:
        upload = lbu.parse(request.files["file"])
    except lbu.FileError as e:
        return error_response(e, 422)
    return {"rows": len(upload), "valid": upload.valid_count, "issues": [i.to_dict() for i in upload.issues]}, 200


def make_plan(request: Request, server: Server) -> Response:
    try:
        upload = lbu.parse(request.files["file"])
        settings = lbu.Settings(**json.loads(request.form.get("settings", "{}")))
        plan = lbu.plan(upload, settings, server.store)
    except lbu.BulkUploadError as e:
        return error_response(e, 422)
    return shown(server.keep(plan), plan), 200


def apply(request: Request, server: Server) -> Response:
    """Approval names the upload's id; the plan is the server's signed one, whatever else the
    request carries."""
    row = server.row(request.form.get("id", ""))
    if row is None:
        return not_found("upload")
    if row["results"] is not None:
        return {"error": {"code": "already_applied", "message": "this plan has run already"}}, 409
    try:
        plan = lbu.Plan.from_signed_json(row["plan"], server.key)
    except lbu.PlanError as e:
        return error_response(e, 409)
    results = plan.execute(server.store, server.mailer, hash_params=CHEAP_HASH)
    server.db.execute("UPDATE uploads SET results = ? WHERE id = ?", (results.to_signed_json(server.key), row["id"]))
    if row["undo_of"] is not None:
        server.db.execute("UPDATE uploads SET undone = 1 WHERE id = ?", (row["undo_of"],))
    server.db.commit()
    return {"id": row["id"], "summary": results.summary, "csv": results.to_csv()}, 200


def make_undo(request: Request, server: Server) -> Response:
    """The results undone are those the server stored for that upload, never the request's."""
    row = server.row(request.form.get("upload_id", ""))
    if row is None or row["results"] is None:
        return not_found("applied upload")
    if row["undone"]:
        return {"error": {"code": "already_undone", "message": "this upload was undone already"}}, 409
    try:
        results = lbu.Results.from_signed_json(row["results"], server.key)
        plan = lbu.plan_undo(results, server.store, {"uploader_email": request.form.get("uploader_email")})
    except lbu.BulkUploadError as e:
        return error_response(e, 409 if e.code == "undo_of_undo" else 422)
    return shown(server.keep(plan, undo_of=row["id"]), plan), 200


def main() -> None:
    store = open_store()
    store.db.execute("INSERT INTO groups (name) VALUES ('Sales')")
    store.db.commit()
    server = Server(store, OutboxMailer())
    file = b"First Name,Last Name,E-mail Address,Groups\nAna,Lopez,ana@example.com,Sales\nBo,Chan,bo@example\n"

    body, status = validate(Request(files={"file": file}))
    assert status == 200 and body["valid"] == 1 and body["issues"][0]["code"] == "invalid_email"

    body, status = validate(Request(files={"file": b"name\nAna\n"}))
    assert status == 422 and body["error"]["code"] == "missing_required_column"

    settings = json.dumps({"uploader_email": "admin@example.com"})
    body, status = make_plan(Request(files={"file": file}, form={"settings": settings}), server)
    assert status == 200 and body["summary"]["create"] == 1 and "plan" not in body
    upload_id = str(body["id"])

    # An edited plan (an outside address to create and email) sent with the approval changes
    # nothing: the server runs the plan it stored and signed.
    other = lbu.plan(lbu.parse(b"firstname,lastname,email\nEve,X,eve@evil.example\n"), lbu.Settings(), store)
    forged = {"id": upload_id, "plan": other.to_json(), "approved_fingerprint": other.fingerprint}
    body, status = apply(Request(form=forged), server)
    assert status == 200 and body["summary"]["created"] == 1, body
    emails = {k for (k,) in store.db.execute("SELECT email_key FROM users")}
    assert "eve@evil.example" not in emails and "ana@example.com" in emails
    assert [m["to"] for m in server.mailer.outbox] == ["ana@example.com", "admin@example.com"]
    print(body["csv"])

    body, status = apply(Request(form={"id": upload_id}), server)
    assert status == 409 and body["error"]["code"] == "already_applied"
    assert apply(Request(form={"id": "999"}), server)[1] == 404

    # Undo it: edited results in the request (claiming the run created a user it did not)
    # are ignored; the undo plan comes from the results the server stored.
    store.db.execute("INSERT INTO users (email, email_key, first_name, last_name) "
                     "VALUES ('root@example.com', 'root@example.com', 'Root', 'Admin')")
    store.db.commit()
    forged_results = json.dumps({"rows": [{"line": 2, "email": "root@example.com", "status": "created"}]})
    form = {"upload_id": upload_id, "uploader_email": "admin@example.com", "results": forged_results}
    body, status = make_undo(Request(form=form), server)
    assert status == 200 and body["summary"]["suspensions"] == 1, body
    assert [r["email"] for r in body["rows"]] == ["ana@example.com"]
    body, status = apply(Request(form={"id": str(body["id"])}), server)
    assert status == 200 and body["summary"]["updated"] == 1, body
    assert store.db.execute("SELECT suspended FROM users WHERE email_key = 'ana@example.com'").fetchone()[0] == 1
    assert store.db.execute("SELECT suspended FROM users WHERE email_key = 'root@example.com'").fetchone()[0] == 0
    assert store.db.execute("SELECT COUNT(*) FROM members").fetchone()[0] == 0
    assert server.mailer.outbox[-1]["to"] == "admin@example.com"

    # The same upload cannot be undone twice; an undo's results cannot be undone.
    body, status = make_undo(Request(form={"upload_id": upload_id}), server)
    assert status == 409 and body["error"]["code"] == "already_undone"
    body, status = make_undo(Request(form={"upload_id": str(int(upload_id) + 1)}), server)
    assert status == 409 and body["error"]["code"] == "undo_of_undo"


if __name__ == "__main__":
    main()
