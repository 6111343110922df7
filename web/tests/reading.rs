//! What the integration added, through `Api::handle`: spreadsheets and legacy code pages
//! read by content (the report's `format`, `sheet`, `sheets`; a sheet chosen, an encoding
//! named, re-validated by the engine and stored with the upload) and the settings of
//! issue 19 (`reactivate_suspended_users`).
#![allow(clippy::unwrap_used)]

mod common;

use common::Client;
use serde_json::json;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/spreadsheets")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_workbooks_sheet_is_chosen_and_kept_with_the_upload() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let a = c.upload("staff.xlsx", &fixture("staff.xlsx"));
    assert_eq!(a.status, 201, "{}", a.text());
    let report = a.json();
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(report["format"], "xlsx");
    assert_eq!(report["sheet"], "Staff");
    assert_eq!(report["sheets"], json!(["Staff", "Managers"]));
    assert_eq!(report["reading"], json!({"sheet": null, "encoding": null}));
    assert_eq!(report["rows"], 4);
    let a = c.get(&format!("/api/uploads/{id}/rows"));
    assert_eq!(a.json()["items"][0]["cells"][0], "Łukasz");

    // Another sheet: re-validated by the engine, stored (a reload shows it).
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"sheet": "Managers"}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let report = a.json();
    assert_eq!(report["sheet"], "Managers");
    assert_eq!(report["rows"], 1);
    assert_eq!(report["reading"]["sheet"], "Managers");
    let report = c.get(&format!("/api/uploads/{id}")).json();
    assert_eq!(report["sheet"], "Managers");
    let a = c.get(&format!("/api/uploads/{id}/rows"));
    assert_eq!(a.json()["items"][0]["cells"][2], "mere@example.nz");

    // A sheet the workbook lacks: the engine's refusal, nothing stored.
    let version = report["version"].clone();
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"sheet": "Payroll"}),
    );
    assert_eq!((a.status, a.code()), (422, "sheet_not_found".into()));
    assert!(a.text().contains("Managers"), "{}", a.text());
    assert_eq!(
        c.get(&format!("/api/uploads/{id}")).json()["version"],
        version
    );

    // Back to the first sheet; a plan is made from the sheet read.
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"sheet": null}),
    );
    assert_eq!(a.json()["sheet"], "Staff");
    let a = c.send(
        "POST",
        &format!("/api/uploads/{id}/plans"),
        json!({"settings": {}}),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.json()["summary"]["create"], 3);

    // A fixed cell writes the sheet back as UTF-8 CSV: the choices are behind it.
    let a = c.send(
        "PATCH",
        &format!("/api/uploads/{id}/cells"),
        json!({"line": 5, "column": 2, "value": "ana@example.com"}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let report = &a.json()["report"];
    assert_eq!(report["format"], "csv");
    assert_eq!(report["sheets"], json!([]));
    assert_eq!(report["error_rows"], 0);
    let a = c.get(&format!("/api/uploads/{id}/file"));
    assert_eq!(
        a.header("content-disposition"),
        Some("attachment; filename=\"staff-fixed.csv\"")
    );
}

#[test]
fn a_guessed_encoding_is_named_by_the_administrator() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let a = c.upload("polish.csv", &fixture("windows1250_polish.csv"));
    assert_eq!(a.status, 201, "{}", a.text());
    let report = a.json();
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(report["format"], "csv");
    assert_eq!(report["sheet"], serde_json::Value::Null);
    assert_eq!(report["encoding"], "windows-1250");
    let codes: Vec<_> = report["file_issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(codes.contains(&"encoding_guessed".into()), "{codes:?}");
    let first = |c: &mut Client| {
        c.get(&format!("/api/uploads/{id}/rows?per_page=1")).json()["items"][0]["cells"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(first(&mut c), "Łukasz");

    // Named another way: the engine obeys, the names change, no guess is reported.
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"encoding": "cp1252"}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let report = a.json();
    assert_eq!(report["encoding"], "windows-1252");
    assert_eq!(report["reading"]["encoding"], "windows-1252");
    assert!(!report.to_string().contains("encoding_guessed"));
    assert_eq!(first(&mut c), "£ukasz");

    // An unknown label is refused; null returns to detection.
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"encoding": "klingon"}),
    );
    assert_eq!((a.status, a.code()), (422, "invalid_option".into()));
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"encoding": null, "other": 1}),
    );
    assert_eq!((a.status, a.code()), (400, "unknown_field".into()));
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"encoding": null}),
    );
    assert_eq!(a.json()["encoding"], "windows-1250");
    assert_eq!(first(&mut c), "Łukasz");
}

#[test]
fn a_suspended_user_is_reactivated_only_when_the_setting_says_so() {
    let env = common::env();
    env.db()
        .conn()
        .execute(
            "UPDATE users SET suspended = 1, suspended_by_upload = 1 WHERE email_key = 'bo@example.com'",
            [],
        )
        .unwrap();
    let mut c = Client::signed_in(&env);
    let catalog = c.get("/api/catalog").json();
    assert_eq!(catalog["defaults"]["reactivate_suspended_users"], false);
    let file = "firstname,lastname,emailaddress\nBo,Chan,bo@example.com\n";
    let id = c.upload("bo.csv", file.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan = |c: &mut Client, settings: serde_json::Value| {
        let a = c.send(
            "POST",
            &format!("/api/uploads/{id}/plans"),
            json!({ "settings": settings }),
        );
        assert_eq!(a.status, 201, "{}", a.text());
        a.json()
    };
    let off = plan(&mut c, json!({}));
    assert_eq!(off["summary"]["reactivations"], 0);
    assert_eq!(off["settings"]["reactivate_suspended_users"], false);
    let rows = c
        .get(&format!("/api/plans/{}/rows", off["id"].as_str().unwrap()))
        .json();
    assert!(rows.to_string().contains("user_suspended"), "{rows}");
    let on = plan(&mut c, json!({"reactivate_suspended_users": true}));
    assert_eq!(on["summary"]["reactivations"], 1);
    assert_eq!(on["settings"]["reactivate_suspended_users"], true);
}

#[test]
fn the_hosts_encoding_holds_for_every_reading_until_the_administrator_names_another() {
    // A host whose files come in one code page says so in its parse options: every reading
    // of the upload (the first, each after a change, the plan's) uses it, not the first
    // alone.
    let options = lms_bulk_upload::ParseOptions {
        encoding: lms_bulk_upload::Encoding::from_label("windows-1252"),
        ..lms_bulk_upload::ParseOptions::default()
    };
    let env = common::env_with(options, lms_bulk_upload_web::ApiConfig::default());
    let mut c = Client::signed_in(&env);
    let a = c.upload("polish.csv", &fixture("windows1250_polish.csv"));
    assert_eq!(a.status, 201, "{}", a.text());
    let report = a.json();
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(report["encoding"], "windows-1252");
    assert_eq!(report["reading"], json!({"sheet": null, "encoding": null}));
    let first = |c: &mut Client| {
        c.get(&format!("/api/uploads/{id}/rows?per_page=1")).json()["items"][0]["cells"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(first(&mut c), "£ukasz");

    // Read again with no choice of the administrator's: still the host's encoding.
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"encoding": null}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["encoding"], "windows-1252");
    assert_eq!(first(&mut c), "£ukasz");

    // The administrator's choice wins over the host's, and is what the plan reads.
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/reading"),
        json!({"encoding": "windows-1250"}),
    );
    assert_eq!(a.json()["encoding"], "windows-1250");
    assert_eq!(first(&mut c), "Łukasz");
    let plan = c.plan(&id, json!({}));
    let rows = c.get(&format!("/api/plans/{plan}/rows")).text();
    assert!(rows.contains("Łukasz"), "{rows}");
}
