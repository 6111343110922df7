//! The `bulk-upload` binary against real SQLite files and the outbox.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use lms_bulk_upload::PasswordHash;

fn apply_sample(env: &Env, extra: &[&str]) -> std::process::Output {
    let sample = sample();
    let mut args = vec![
        "apply",
        sample.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--uploader-email",
        "admin@example.co.nz",
        "--enrol",
        "course:induction-101",
        "--group",
        "New Starters",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn validate_prints_an_issue_table_and_exits_1_on_row_errors() {
    let o = run(&["validate", sample().to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "LINE",
        "COLUMN",
        "CODE",
        "MESSAGE",
        "invalid_email",
        "duplicate_email",
        "missing_value",
        "invalid_languagecode",
        "51 rows",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
    assert!(!out.contains('\u{1b}'), "no colour when not on a terminal");

    let o = run(&["validate", sample().to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rows"], 51);
    assert_eq!(report["valid_rows"], 47);
}

#[test]
fn a_file_error_exits_2_with_its_code() {
    let o = run(&[
        "validate",
        data("missing_email_column.csv").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("missing_required_column"),
        "{}",
        stderr(&o)
    );
    let o = run(&["validate", "/nonexistent/users.csv"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn a_settings_error_exits_2_and_writes_nothing() {
    let env = Env::demo();
    let o = apply_sample(&env, &["--generate-passwords=false"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("default_password_required"));
    let o = apply_sample(&env, &["--enrol", "course:no-such-course"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown_content"), "{}", stderr(&o));
    assert_eq!(env.count("SELECT count(*) FROM users"), 1);
}

#[test]
fn apply_creates_users_emails_them_and_writes_results_where_the_link_points() {
    let env = Env::demo();
    let o = apply_sample(&env, &[]);
    assert_eq!(code(&o), 1, "rows were rejected: {}", stderr(&o));
    assert_eq!(
        env.count("SELECT count(*) FROM users"),
        46,
        "45 new + the admin"
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE g.name = 'New Starters'"
        ),
        45
    );
    assert_eq!(
        env.count("SELECT count(*) FROM enrolments WHERE content_id = 'induction-101'"),
        45
    );
    // Stored as written, matched case-insensitively.
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE email = 'zoe.mueller@example.de'"),
        1
    );
    // The protected administrator is untouched.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM users WHERE email = 'admin@example.co.nz' \
             AND password_hash IS NULL AND protected = 1"
        ),
        1
    );
    check_invariants(&env);

    let outbox = env.outbox();
    assert_eq!(outbox.len(), 46, "45 welcome emails and the confirmation");
    let welcome = outbox
        .iter()
        .find(|p| p.to_string_lossy().contains("welcome-aroha.ngata"))
        .unwrap();
    let raw = std::fs::read_to_string(welcome).unwrap();
    assert!(raw.contains("To: aroha.ngata@example.co.nz"));
    assert!(raw.contains("multipart/alternative"));
    let password = password_in(&eml_text(welcome)).unwrap();
    let hash = env.password_hash("aroha.ngata@example.co.nz");
    assert!(
        !hash.contains(&password),
        "never a plaintext in the database"
    );
    assert!(PasswordHash::from_phc(hash).verify(&password));

    // The confirmation email links to the results CSV.
    let confirmation = outbox.last().unwrap();
    assert!(confirmation
        .to_string_lossy()
        .contains("upload_complete-admin"));
    let text = eml_text(confirmation);
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("Results: "))
        .unwrap()
        .trim();
    let path = url.strip_prefix("file://").unwrap();
    let csv = std::fs::read_to_string(path).unwrap();
    assert!(csv.starts_with(
        "\u{feff}\"line\",\"email\",\"firstname\",\"lastname\",\"status\",\"user_id\",\"done\",\"error\""
    ));
    assert_eq!(csv.lines().count(), 52);
    assert!(csv.contains("protected_user"));
    assert!(stdout(&o).contains(path), "the path is printed");
}

#[test]
fn a_second_apply_updates_or_does_nothing_instead_of_duplicating() {
    let env = Env::demo();
    assert_eq!(code(&apply_sample(&env, &[])), 1);
    let o = apply_sample(&env, &["--json"]);
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["summary"]["created"], 0, "{out}");
    assert_eq!(out["summary"]["unchanged"], 45);
    assert_eq!(env.count("SELECT count(*) FROM users"), 46);

    // Changes to existing users, with the settings that allow them.
    let updates = data("updates.csv");
    let o = run(&[
        "apply",
        updates.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--update-existing-profiles",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["summary"]["updated"], 1, "{out}");
    assert_eq!(out["summary"]["unchanged"], 1);
    assert_eq!(out["summary"]["created"], 1);
    assert_eq!(env.count("SELECT count(*) FROM users"), 47);
    let org: String = env
        .conn()
        .query_row(
            "SELECT organisation FROM users WHERE email_key = 'aroha.ngata@example.co.nz'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(org, "Kōwhai Health (Hamilton)");
    let groups: Vec<String> = env
        .conn()
        .prepare(
            "SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id \
             JOIN users u ON u.id = m.user_id WHERE u.email_key = 'aroha.ngata@example.co.nz' \
             ORDER BY g.name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(groups, ["Auckland Office", "Managers"]);
    check_invariants(&env);
}

#[test]
fn a_saved_plan_applies_once_with_its_fingerprint() {
    let env = Env::demo();
    let sample = sample();
    let o = run(&[
        "plan",
        sample.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--json",
    ]);
    assert_eq!(code(&o), 1, "rejected rows: {}", stderr(&o));
    let plan_path = env.path("plan.json");
    std::fs::write(&plan_path, &o.stdout).unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        env.count("SELECT count(*) FROM users"),
        1,
        "plan writes nothing"
    );

    let o = run(&[
        "apply",
        "--plan-file",
        plan_path.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--json",
    ]);
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["fingerprint"], plan["fingerprint"]);
    assert_eq!(out["summary"]["created"], 45);

    let o = run(&[
        "apply",
        "--plan-file",
        plan_path.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already applied"), "{}", stderr(&o));

    // A tampered plan is refused.
    let tampered = String::from_utf8(std::fs::read(&plan_path).unwrap())
        .unwrap()
        .replace("aroha.ngata@", "mallory@");
    std::fs::write(&plan_path, tampered).unwrap();
    let o = run(&[
        "apply",
        "--plan-file",
        plan_path.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("fingerprint_mismatch"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn without_confirmation_nothing_is_written() {
    let env = Env::demo();
    let sample = sample();
    let mut c = cmd(&["apply", sample.to_str().unwrap(), "--db", env.db_str()]);
    c.stdin(std::process::Stdio::piped());
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be unsent"), "{}", stderr(&o));
    assert_eq!(env.count("SELECT count(*) FROM users"), 1);
    assert!(env.outbox().is_empty());
    // No answer at all (stdin closed) is a no as well.
    let o = run(&["apply", sample.to_str().unwrap(), "--db", env.db_str()]);
    assert_eq!(code(&o), 4);
}

#[test]
fn a_default_password_from_the_environment_is_hashed_once_and_never_emailed() {
    let env = Env::demo();
    let sample = sample();
    let o = cmd(&[
        "apply",
        sample.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--settings",
        data("settings.toml").to_str().unwrap(),
        "--default-password-env",
        "LMS_DEFAULT_PW",
    ])
    .env("LMS_DEFAULT_PW", "Kia-ora-2026-welcome")
    .output()
    .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let hashes: Vec<(String, bool)> = env
        .conn()
        .prepare("SELECT password_hash, force_password_reset FROM users WHERE protected = 0")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hashes.len(), 45);
    for (hash, force) in &hashes {
        assert!(force, "force_password_reset from the settings file");
        assert!(PasswordHash::from_phc(hash.clone()).verify("Kia-ora-2026-welcome"));
    }
    assert_eq!(
        env.count("SELECT count(*) FROM enrolments WHERE kind = 'campaign'"),
        45,
        "enrolments from the settings file"
    );
    let outbox = env.outbox();
    assert_eq!(outbox.len(), 46, "notification emails are on");
    for path in &outbox {
        let raw = std::fs::read_to_string(path).unwrap();
        assert!(!raw.contains("Kia-ora-2026-welcome"), "{}", path.display());
    }
}

#[test]
fn results_are_exported_as_csv_and_json() {
    let env = Env::demo();
    apply_sample(&env, &[]);
    let o = run(&["results", "--db", env.db_str()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).starts_with(
        "\u{feff}\"line\",\"email\",\"firstname\",\"lastname\",\"status\",\"user_id\",\"done\",\"error\""
    ));
    let o = run(&["results", "--db", env.db_str(), "--format", "json"]);
    let results: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(results["summary"]["created"], 45);
    let o = run(&["results", "--db", env.db_str(), "--list"]);
    assert!(stdout(&o).contains("finished"), "{}", stdout(&o));
}
