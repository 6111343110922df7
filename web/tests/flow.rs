//! The screens' whole flow through `Api::handle`, on the SQLite hooks and a real database:
//! upload → report → assign a column → fix a cell → plan with a settings error → plan →
//! rows with old → new → exclusion → approve → run → results → CSV → undo.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, ADMIN, PASSWORD};
use serde_json::json;

/// "Surnme" is no column (so the file lacks a last name until it is assigned), Cy's email
/// is wrong, Bo exists and changes surname, Di is excluded later, and the values carry HTML.
const FILE: &str = "First Name,Surnme,Email,addgroup\n\
Ana,<b>Lopez</b>,ana@example.com,Sales\n\
Bo,Chan-Lee,bo@example.com,\n\
Cy,Egan,cy@example,\n\
Di,Fox,di@example.com,\n";

#[test]
fn the_seeds_flow_end_to_end() {
    let env = common::env();
    let mut c = Client::signed_in(&env);

    // Upload: the header lacks a last name; the file is kept so a column can be assigned.
    let a = c.upload("staff.csv", FILE.as_bytes());
    assert_eq!(a.status, 201, "{}", a.text());
    let report = a.json();
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(report["can_plan"], false);
    assert_eq!(report["file_issues"][0]["code"], "missing_required_column");
    assert_eq!(report["columns"][1]["header"], "Surnme");
    assert_eq!(report["columns"][1]["field"], serde_json::Value::Null);
    assert_eq!(report["columns"][1]["suggestion"], "lastname");

    // Column matching by hand, re-validated.
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/columns"),
        json!({"assign": {"1": "lastname"}}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let report = a.json();
    assert_eq!(report["can_plan"], true);
    assert_eq!(report["columns"][1]["field"], "lastname");
    assert_eq!(report["columns"][1]["assigned"], true);
    assert_eq!(report["rows"], 4);
    assert_eq!(report["error_rows"], 1);
    let version = report["version"].as_u64().unwrap();

    // Issues, rows with errors only; values are strings, HTML included as text.
    let a = c.get(&format!("/api/uploads/{id}/issues?severity=error"));
    let issues = a.json();
    assert_eq!(issues["total"], 1);
    let issue = &issues["items"][0];
    assert_eq!(issue["code"], "invalid_email");
    assert_eq!(issue["line"], 4);
    assert_eq!(issue["column"], "Email");
    assert_eq!(issue["value"], "cy@example");
    let a = c.get(&format!("/api/uploads/{id}/rows?errors_only=true"));
    assert_eq!(a.json()["total"], 1);
    let a = c.get(&format!("/api/uploads/{id}/rows?page=1&per_page=2"));
    let rows = a.json();
    assert_eq!(rows["total"], 4);
    assert_eq!(rows["items"].as_array().unwrap().len(), 2);
    assert_eq!(rows["items"][0]["cells"][1], "<b>Lopez</b>");

    // Fix the cell in place: the engine re-validates the row.
    let a = c.send(
        "PATCH",
        &format!("/api/uploads/{id}/cells"),
        json!({"line": 4, "column": 2, "value": "still wrong"}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["row"]["valid"], false);
    let a = c.send(
        "PATCH",
        &format!("/api/uploads/{id}/cells"),
        json!({"line": 4, "column": 2, "value": "cy@example.com"}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let fixed = a.json();
    assert_eq!(fixed["row"]["valid"], true);
    assert_eq!(fixed["row"]["cells"][2], "cy@example.com");
    assert_eq!(fixed["report"]["error_rows"], 0);
    assert!(fixed["report"]["version"].as_u64().unwrap() > version);

    // The corrected file: fixes and the assigned header, UTF-8 with a BOM.
    let a = c.get(&format!("/api/uploads/{id}/file"));
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").unwrap().starts_with("text/csv"));
    assert!(a.body.starts_with(b"\xEF\xBB\xBF"));
    let text = a.text();
    assert!(text.contains("First Name,lastname,Email"), "{text}");
    assert!(text.contains("cy@example.com"));

    // A settings error: 422 with the engine's code.
    let a = c.send(
        "POST",
        &format!("/api/uploads/{id}/plans"),
        json!({"settings": {"groups": ["No Such Group"]}}),
    );
    assert_eq!(a.status, 422, "{}", a.text());
    assert_eq!(a.code(), "unknown_group");
    let a = c.send(
        "POST",
        &format!("/api/uploads/{id}/plans"),
        json!({"settings": {"update_existing_profiles": true, "generate_passwords": false}}),
    );
    assert_eq!(a.status, 422, "{}", a.text());

    // The plan, with Bo's old → new surname.
    let settings = json!({"update_existing_profiles": true, "groups": ["Managers"],
        "enrolments": [{"kind": "course", "id": "induction-101"}]});
    let a = c.send(
        "POST",
        &format!("/api/uploads/{id}/plans"),
        json!({"settings": settings}),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    let plan = a.json();
    assert_eq!(plan["summary"]["create"], 3);
    assert_eq!(plan["summary"]["update"], 1);
    assert_eq!(plan["settings"]["update_existing_profiles"], true);
    assert!(plan["settings"].get("default_password").is_none());
    let a = c.get(&format!(
        "/api/plans/{}/rows?action=update",
        plan["id"].as_str().unwrap()
    ));
    let rows = a.json();
    assert_eq!(rows["total"], 1);
    let bo = &rows["items"][0];
    assert_eq!(bo["email"], "bo@example.com");
    assert!(bo["changes"]
        .as_array()
        .unwrap()
        .contains(&json!({"field": "last_name", "before": "Chan", "after": "Chan-Lee"})));

    // Exclude Di (line 5): the plan is made again without the line.
    let a = c.send(
        "POST",
        &format!("/api/uploads/{id}/plans"),
        json!({"settings": settings, "exclude_lines": [5]}),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    let plan = a.json();
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    assert_eq!(plan["excluded_lines"], json!([5]));
    assert_eq!(plan["summary"]["create"], 2);
    let a = c.get(&format!("/api/plans/{plan_id}/rows"));
    assert!(!a.text().contains("di@example.com"));

    // Approve: 202 and a run, which the server executes in the background.
    let a = c.send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}));
    assert_eq!(a.status, 202, "{}", a.text());
    let run = a.json();
    let run_id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(run["plan_id"], plan_id.as_str());
    assert_eq!(run["uploader"], ADMIN);
    let done = c.wait(&run_id);
    assert_eq!(done["state"], "finished");
    assert_eq!(done["counts"]["created"], 2);
    assert_eq!(done["counts"]["updated"], 1);
    assert_eq!(
        c.get(&format!("/api/plans/{plan_id}")).json()["approved_run"],
        run_id.as_str()
    );

    // The progress stream of an ended run ends at once with the final run.
    let a = c.get(&format!("/api/runs/{run_id}/events"));
    assert_eq!(a.header("content-type"), Some("text/event-stream"));
    assert!(a.text().contains("event: end\ndata: {"), "{}", a.text());

    // Results, paged and filtered; the CSV.
    let a = c.get(&format!("/api/runs/{run_id}/results"));
    let results = a.json();
    assert_eq!(results["total"], 3);
    assert_eq!(
        c.get(&format!("/api/runs/{run_id}/results?status=failed"))
            .json()["total"],
        0
    );
    let a = c.get(&format!("/api/runs/{run_id}/results.csv"));
    assert!(a.body.starts_with(b"\xEF\xBB\xBF"));
    assert!(a.text().contains("ana@example.com"));

    // The uploader's confirmation links to the results screen of this run.
    let mut mails: Vec<_> = std::fs::read_dir(env.outbox())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    mails.sort();
    let confirmation = mails
        .iter()
        .find(|p| p.to_string_lossy().contains("upload_complete"))
        .unwrap();
    let text = std::fs::read_to_string(confirmation).unwrap();
    assert!(
        text.contains(&format!("http://bulk.test/runs/{run_id}/results")),
        "{text}"
    );

    // The history.
    let a = c.get("/api/runs");
    assert_eq!(a.json()["items"][0]["id"], run_id.as_str());

    // Undo: its plan previewed, approved and run like any other; once.
    let a = c.send(
        "POST",
        &format!("/api/runs/{run_id}/undo"),
        json!({"delete_created_users": false}),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    let undo = a.json();
    assert_eq!(undo["undo_of_run"], run_id.as_str());
    let undo_id = undo["id"].as_str().unwrap().to_owned();
    let a = c.send("POST", &format!("/api/plans/{undo_id}/approve"), json!({}));
    assert_eq!(a.status, 202, "{}", a.text());
    let undo_run = a.json()["id"].as_str().unwrap().to_owned();
    let done = c.wait(&undo_run);
    assert_eq!(done["kind"], "undo");
    assert_eq!(done["undo_of"], run_id.as_str());
    assert_eq!(
        c.get(&format!("/api/runs/{run_id}")).json()["undone_by"],
        undo_run.as_str()
    );
    let a = c.send("POST", &format!("/api/runs/{run_id}/undo"), json!({}));
    assert_eq!(a.status, 409);
    assert_eq!(a.code(), "already_undone");
    let surname: String = env
        .db()
        .conn()
        .query_row(
            "SELECT last_name FROM users WHERE email_key = 'bo@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(surname, "Chan", "the undo put Bo's surname back");

    // No password in any answer.
    for seen in &c.seen {
        assert!(!seen.contains(PASSWORD));
    }
}

#[test]
fn a_default_password_is_used_by_the_run_and_never_shown_stored_or_echoed() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let file = "firstname,lastname,email\nAna,Lopez,ana@example.com\n";
    let id = c.upload("a.csv", file.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = "Default-Passw0rd-4-all";
    let plan_id = c.plan(
        &id,
        json!({"generate_passwords": false, "default_password": secret}),
    );
    let a = c.send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}));
    assert_eq!(a.status, 202, "{}", a.text());
    let run = a.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(c.wait(&run)["counts"]["created"], 1);
    let hash: String = env
        .db()
        .conn()
        .query_row(
            "SELECT password_hash FROM users WHERE email_key = 'ana@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(lms_bulk_upload::PasswordHash::from_phc(hash).verify(secret));
    let stored: String = env
        .db()
        .conn()
        .query_row(
            "SELECT group_concat(plan_json || settings_json) FROM web_plans",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!stored.contains(secret));
    for seen in &c.seen {
        assert!(!seen.contains(secret), "{seen}");
    }
}

#[test]
fn a_cancelled_run_stops_between_rows_keeps_what_was_written_and_can_be_undone() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let mut file = String::from("firstname,lastname,email\n");
    for i in 0..3000 {
        file.push_str(&format!("P{i},Tester,p{i}@example.org\n"));
    }
    let id = c.upload("many.csv", file.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan = c
        .send("POST", &format!("/api/uploads/{id}/plans"), json!({}))
        .json();
    let plan_id = plan["id"].as_str().unwrap();
    let run = c
        .send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}))
        .json();
    let run_id = run["id"].as_str().unwrap().to_owned();
    let a = c.send("POST", &format!("/api/runs/{run_id}/cancel"), json!({}));
    assert_eq!(a.status, 202, "{}", a.text());
    let done = c.wait(&run_id);
    assert_eq!(done["state"], "cancelled", "{done}");
    let created = done["counts"]["created"].as_u64().unwrap();
    assert!(created < 3000, "stopped part-way: {created}");
    let users: i64 = env
        .db()
        .conn()
        .query_row(
            "SELECT count(*) FROM users WHERE email_key LIKE 'p%@example.org'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(users as u64, created, "what was written stays");
    let a = c.get(&format!(
        "/api/runs/{run_id}/results?status=failed&per_page=1"
    ));
    assert_eq!(a.json()["total"].as_u64().unwrap(), 3000 - created);
    // Undo reverses what was written.
    let undo = c.send(
        "POST",
        &format!("/api/runs/{run_id}/undo"),
        json!({"delete_created_users": true}),
    );
    assert_eq!(undo.status, 201, "{}", undo.text());
    let undo_id = undo.json()["id"].as_str().unwrap().to_owned();
    let undo_run = c
        .send("POST", &format!("/api/plans/{undo_id}/approve"), json!({}))
        .json();
    let finished = c.wait(undo_run["id"].as_str().unwrap());
    assert_eq!(finished["state"], "finished");
    let left: i64 = env
        .db()
        .conn()
        .query_row(
            "SELECT count(*) FROM users WHERE email_key LIKE 'p%@example.org' AND suspended = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}
