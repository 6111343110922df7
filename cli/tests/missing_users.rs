//! Users missing from a file that lists everyone (issue 15): `--suspend-missing` suspends
//! the database's users that the file does not name (never the protected administrator),
//! within `--missing-threshold`; a user it suspended who is in a later file is reactivated
//! with `--reactivate-suspended` (never one suspended by hand); `undo` reverses a suspension run.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::path::PathBuf;

/// The people of the first upload: p0..p9 (with the demo's protected administrator, 11
/// users in the database).
fn people(range: std::ops::Range<usize>) -> String {
    let mut text = String::from("First Name,Last Name,Email\n");
    for i in range {
        text.push_str(&format!("Person{i},Tester,p{i}@example.org\n"));
    }
    text
}

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A demo database with p0..p9 (run 1).
fn with_people() -> Env {
    let env = Env::demo();
    let o = apply_file(&env, &write(&env, "all.csv", &people(0..10)), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(env.count("SELECT count(*) FROM users"), 11);
    env
}

fn suspended(env: &Env) -> Vec<String> {
    env.conn()
        .prepare("SELECT email FROM users WHERE suspended = 1 ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn users_missing_from_the_file_are_suspended_never_the_administrator() {
    let env = with_people();
    // p9 is missing: 1 of 11, under the default 10 %.
    let file = write(&env, "most.csv", &people(0..9));
    let o = run(&[
        "plan",
        file.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--suspend-missing",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("missing_from_file"), "{out}");
    assert!(out.contains("p9@example.org"), "{out}");
    assert!(out.contains("users to suspend 1"), "{out}");
    assert!(suspended(&env).is_empty(), "plan writes nothing");

    let emails = env.outbox().len();
    let o = apply_file(&env, &file, &["--suspend-missing", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let results: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == "p9@example.org")
        .unwrap();
    assert_eq!(row["done"][0]["op"], "suspend_user", "{row}");
    assert_eq!(suspended(&env), ["p9@example.org"]);
    assert_eq!(
        env.count("SELECT suspended FROM users WHERE protected = 1"),
        0,
        "the administrator is not in the file and is not suspended"
    );
    assert_eq!(env.outbox().len(), emails, "nobody is emailed");

    // The same with the settings file, and a flag turning it off again.
    // p8 is 1 of the 9 users who can still be suspended (p9 is, the administrator is
    // protected): over the default 10 %, within 20 %.
    let settings = write(
        &env,
        "s.toml",
        "suspend_missing_users = true\nmissing_users_threshold = 20\n",
    );
    let fewer = write(&env, "fewer.csv", &people(0..8));
    let o = run(&[
        "plan",
        fewer.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--settings",
        settings.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        plan["summary"]["suspensions"], 1,
        "p8 (p9 is suspended already): {}",
        plan["summary"]
    );
    let o = run(&[
        "plan",
        fewer.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--settings",
        settings.to_str().unwrap(),
        "--suspend-missing=false",
        "--json",
    ]);
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        plan["summary"].get("suspensions"),
        None,
        "{}",
        plan["summary"]
    );
}

#[test]
fn a_plan_over_the_threshold_is_refused_and_writes_nothing() {
    let env = with_people();
    // p5..p9 missing: 5 of 11 (45 %).
    let file = write(&env, "half.csv", &people(0..5));
    let runs = env.count("SELECT count(*) FROM upload_runs");
    let o = apply_file(&env, &file, &["--suspend-missing"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("missing_users_threshold"),
        "{}",
        stderr(&o)
    );
    assert!(suspended(&env).is_empty());
    assert_eq!(env.count("SELECT count(*) FROM upload_runs"), runs);

    // The settings file's threshold is not enough; the flag's is.
    let settings = write(&env, "s.json", r#"{"missing_users_threshold": 40}"#);
    let with = |extra: &[&str]| {
        let mut args = vec![
            "--suspend-missing",
            "--settings",
            settings.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        apply_file(&env, &file, &args)
    };
    let o = with(&[]);
    assert_eq!(code(&o), 2, "40 %: {}", stderr(&o));
    let o = with(&["--missing-threshold", "101"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid_setting"), "{}", stderr(&o));
    let o = with(&["--missing-threshold", "50"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(suspended(&env).len(), 5);
}

#[test]
fn a_user_bulk_upload_suspended_is_reactivated_with_reactivate_suspended_only() {
    let env = with_people();
    let o = apply_file(
        &env,
        &write(&env, "most.csv", &people(0..9)),
        &["--suspend-missing"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(suspended(&env), ["p9@example.org"]);
    assert_eq!(
        env.count("SELECT suspended_by_upload FROM users WHERE email = 'p9@example.org'"),
        1
    );

    let back = write(&env, "back.csv", &people(9..10));
    let o = apply_file(&env, &back, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("user_suspended"), "{}", stdout(&o));
    assert_eq!(suspended(&env), ["p9@example.org"], "stays suspended");

    // update_existing_profiles alone never reactivates (issue 19, item 10).
    let o = apply_file(&env, &back, &["--update-existing-profiles"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(suspended(&env), ["p9@example.org"], "stays suspended");

    // A user suspended by hand is never reactivated, even with the flag.
    env.conn()
        .execute(
            "UPDATE users SET suspended = 1 WHERE email = 'p8@example.org'",
            [],
        )
        .unwrap();
    let both = write(&env, "both.csv", &people(8..10));
    let o = apply_file(&env, &both, &["--reactivate-suspended"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("users reactivated 1"), "{}", stdout(&o));
    assert_eq!(suspended(&env), ["p8@example.org"]);

    // The settings file's key does the same.
    let settings = write(&env, "r.toml", "reactivate_suspended_users = true\n");
    env.conn()
        .execute(
            "UPDATE users SET suspended = 1, suspended_by_upload = 1 WHERE email = 'p9@example.org'",
            [],
        )
        .unwrap();
    let o = apply_file(&env, &back, &["--settings", settings.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(suspended(&env), ["p8@example.org"]);
}

#[test]
fn undo_reverses_a_suspension_run() {
    let env = with_people();
    let file = write(&env, "most.csv", &people(0..8));
    let o = apply_file(
        &env,
        &file,
        &["--suspend-missing", "--missing-threshold", "20"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(suspended(&env), ["p8@example.org", "p9@example.org"]);

    let o = run(&["undo", "--db", env.db_str(), "--yes"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("users to reactivate 2"), "{out}");
    assert!(suspended(&env).is_empty(), "{out}");
    assert_eq!(
        env.count("SELECT count(*) FROM users"),
        11,
        "nobody deleted"
    );
    check_invariants(&env);
    let o = run(&["results", "--db", env.db_str(), "--list"]);
    assert!(stdout(&o).contains("[undone by #3]"), "{}", stdout(&o));
}
