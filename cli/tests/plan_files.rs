//! `apply --plan-file` accepts only plans signed with the database's key, and nothing in a
//! plan is used as a file path (issue 10, case 1).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use lms_bulk_upload::Plan;
use serde_json::{json, Value};
use std::path::Path;

const FILE: &str = "firstname,lastname,emailaddress\n\
Aroha,Te Whare,admin@example.co.nz\n\
Mallory,Evil,mallory@evil.example\n";

fn plan_json(env: &Env, csv: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "plan",
        csv.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(code(&o) <= 1, "{}", stderr(&o));
    stdout(&o)
}

fn apply_plan(env: &Env, plan: &Path) -> std::process::Output {
    run(&[
        "apply",
        "--plan-file",
        plan.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
    ])
}

/// The SHA-256 of a plan's canonical content, `sha256:<hex>`: what anyone can recompute.
fn recomputed_fingerprint(forged: &Value) -> String {
    use sha2::{Digest, Sha256};
    #[derive(serde::Serialize)]
    struct Canonical<'a> {
        format_version: u32,
        settings: &'a lms_bulk_upload::PlanSettings,
        summary: &'a lms_bulk_upload::Summary,
        file_issues: &'a [lms_bulk_upload::Issue],
        rows: &'a [lms_bulk_upload::PlanRow],
    }
    let part = |key: &str| forged[key].clone();
    let settings = serde_json::from_value(part("settings")).unwrap();
    let summary = serde_json::from_value(part("summary")).unwrap();
    let file_issues: Vec<lms_bulk_upload::Issue> =
        serde_json::from_value(part("file_issues")).unwrap();
    let rows: Vec<lms_bulk_upload::PlanRow> = serde_json::from_value(part("rows")).unwrap();
    let bytes = serde_json::to_vec(&Canonical {
        format_version: lms_bulk_upload::PLAN_FORMAT_VERSION,
        settings: &settings,
        summary: &summary,
        file_issues: &file_issues,
        rows: &rows,
    })
    .unwrap();
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The summary counted from the rows, as a forger who recomputes everything would.
fn recounted(plan: &Value) -> Value {
    let mut n = std::collections::BTreeMap::<&str, u64>::new();
    let warnings = |issues: &Value| {
        issues.as_array().map_or(0, |list| {
            list.iter().filter(|i| i["severity"] == "warning").count() as u64
        })
    };
    for row in plan["rows"].as_array().unwrap() {
        *n.entry("rows").or_default() += 1;
        let action = match row["action"].as_str().unwrap() {
            "create" => "create",
            "update" => "update",
            "unchanged" => "unchanged",
            _ => "rejected",
        };
        *n.entry(action).or_default() += 1;
        *n.entry("warnings").or_default() += warnings(&row["issues"]);
        for op in row["operations"].as_array().into_iter().flatten() {
            let counter = match op["op"].as_str().unwrap() {
                "create_user" | "set_password" => "passwords",
                "update_profile" => "profile_updates",
                "add_to_group" => "group_additions",
                "remove_from_group" => "group_removals",
                "enrol" => "enrolments",
                _ => "emails",
            };
            *n.entry(counter).or_default() += 1;
        }
    }
    *n.entry("warnings").or_default() += warnings(&plan["file_issues"]);
    let mut summary = plan["summary"].clone();
    for (key, count) in summary.as_object_mut().unwrap() {
        *count = n.get(key.as_str()).copied().unwrap_or(0).into();
    }
    summary
}

#[test]
fn a_forged_plan_with_a_recomputed_fingerprint_is_refused() {
    let env = Env::demo();
    let csv = env.path("users.csv");
    std::fs::write(&csv, FILE).unwrap();
    let ssh = env.path("home/.ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let authorized_keys = ssh.join("authorized_keys");
    std::fs::write(&authorized_keys, "").unwrap();
    let admin_id: i64 = env
        .conn()
        .query_row(
            "SELECT id FROM users WHERE email_key = 'admin@example.co.nz'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let managers: i64 = env
        .conn()
        .query_row("SELECT id FROM groups WHERE name = 'Managers'", [], |r| {
            r.get(0)
        })
        .unwrap();

    // The attacker can write where plans are stored, and edits a real signed plan.
    let mut plan: Value = serde_json::from_str(&plan_json(&env, &csv, &[])).unwrap();
    assert_eq!(
        plan["rows"][0]["action"], "rejected",
        "the admin is protected"
    );
    plan["rows"][0] = json!({
        "line": 2, "email": "attacker@outside.example", "first_name": "Aroha",
        "last_name": "Te Whare", "action": "update", "user_id": admin_id.to_string(),
        "operations": [{"op": "set_password"}, {"op": "send_email", "kind": "password_changed"}],
    });
    plan["rows"][1]["operations"].as_array_mut().unwrap().push(
        json!({"op": "add_to_group", "group": {"id": managers.to_string(), "name": "Managers"}}),
    );
    plan["settings"]["site_url"] = "https://login.evil.example".into();
    plan["settings"]["results_url"] = format!("file://{}", authorized_keys.display()).into();
    plan["file_issues"] = json!([{"code": "unknown_column", "severity": "warning", "line": null,
        "column": "x", "message": "\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIattacker mallory\n"}]);
    for (_, count) in plan["summary"].as_object_mut().unwrap() {
        *count = 0.into(); // "nothing will be written": no question would be asked
    }
    plan["fingerprint"] = recomputed_fingerprint(&plan).into();
    let err = Plan::from_json(&plan.to_string()).unwrap_err();
    assert!(
        err.code().as_str() == "invalid_plan" && err.message().contains("summary"),
        "a summary that is not the count of its rows is refused on reading: {err}"
    );
    // So the forger recounts the summary too.
    plan["summary"] = recounted(&plan);
    plan["fingerprint"] = recomputed_fingerprint(&plan).into();
    let forged = plan.to_string();
    assert!(
        Plan::from_json(&forged).is_ok(),
        "the fingerprint alone is only a checksum: the forgery passes it"
    );

    let path = env.path("plan.json");
    std::fs::write(&path, &forged).unwrap();
    let o = apply_plan(&env, &path);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("plan_signature_invalid"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("nothing was changed"), "{}", stderr(&o));

    // Without the signature at all.
    plan.as_object_mut().unwrap().remove("signature");
    std::fs::write(&path, plan.to_string()).unwrap();
    let o = apply_plan(&env, &path);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("plan_unsigned"), "{}", stderr(&o));

    assert_eq!(
        env.count(
            "SELECT count(*) FROM users WHERE protected = 1 AND password_hash IS NULL \
             AND email = 'admin@example.co.nz'"
        ),
        1,
        "the administrator is untouched"
    );
    assert_eq!(env.count("SELECT count(*) FROM users"), 1);
    assert_eq!(env.count("SELECT count(*) FROM group_members"), 0);
    assert_eq!(env.count("SELECT count(*) FROM upload_runs"), 0);
    assert!(env.outbox().is_empty(), "no email left");
    assert_eq!(std::fs::read_to_string(&authorized_keys).unwrap(), "");
}

#[test]
fn a_plan_from_another_database_is_refused() {
    let (a, b) = (Env::demo(), Env::demo());
    let csv = a.path("users.csv");
    std::fs::write(&csv, FILE).unwrap();
    let path = a.path("plan.json");
    std::fs::write(&path, plan_json(&a, &csv, &[])).unwrap();
    let o = apply_plan(&b, &path);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("plan_signature_invalid"),
        "{}",
        stderr(&o)
    );
    assert_eq!(b.count("SELECT count(*) FROM users"), 1);
}

#[test]
fn results_go_where_the_cli_decides_never_where_the_plan_points() {
    let env = Env::demo();
    let csv = env.path("users.csv");
    std::fs::write(&csv, FILE).unwrap();
    let target = env.path("authorized_keys");
    std::fs::write(&target, "").unwrap();
    let url = format!("file://{}", target.display());
    // A genuine, signed plan whose results link points at a file.
    let path = env.path("plan.json");
    std::fs::write(&path, plan_json(&env, &csv, &["--results-url", &url])).unwrap();
    let o = apply_plan(&env, &path);
    assert_eq!(code(&o), 1, "the admin row is rejected: {}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
    let results = env.path("results/run-1.csv");
    let csv_text = std::fs::read_to_string(&results).unwrap();
    assert!(csv_text.contains("mallory@evil.example"), "{csv_text}");
    assert!(
        stdout(&o).contains(results.to_str().unwrap()),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("the confirmation email links to"),
        "{}",
        stderr(&o)
    );
    assert_eq!(env.count("SELECT count(*) FROM users"), 2);
}

#[test]
fn the_default_link_of_a_saved_plan_is_its_run_results_file() {
    let env = Env::demo();
    let csv = env.path("users.csv");
    std::fs::write(&csv, FILE).unwrap();
    let other_csv = env.path("other.csv");
    std::fs::write(
        &other_csv,
        "firstname,lastname,emailaddress\nEve,Egan,eve@example.org\n",
    )
    .unwrap();
    let json = plan_json(&env, &csv, &["--uploader-email", "admin@example.co.nz"]);
    // Another plan made at the same time: it also expects to be run #1.
    let other = plan_json(&env, &other_csv, &[]);
    let plan: Value = serde_json::from_str(&json).unwrap();
    let results = env.path("results/run-1.csv");
    assert_eq!(
        plan["settings"]["results_url"],
        format!("file://{}", results.display())
    );
    let path = env.path("plan.json");
    std::fs::write(&path, &json).unwrap();
    let o = apply_plan(&env, &path);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(results.exists());
    assert!(!stderr(&o).contains("links to"), "{}", stderr(&o));

    // Its link names run 1's results, which are another run's now: refused, so that the
    // uploader is never sent the wrong results.
    std::fs::write(&path, &other).unwrap();
    let o = apply_plan(&env, &path);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("made for run #1"), "{}", stderr(&o));
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE email = 'eve@example.org'"),
        0
    );
}
