//! A run's plan is stored in its database as `Plan::to_json` (the key lives there too) and
//! read back against its fingerprint and the one the run was recorded with: an interrupted
//! run resumes from it exactly, and one whose stored plan was altered is not resumed.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::path::PathBuf;

/// `apply` of 20 new people, stopped by a database error after a few batches of 2.
fn interrupted(env: &Env) -> PathBuf {
    let csv = env.path("people.csv");
    generated_csv(&csv, 20);
    env.conn()
        .execute_batch(
            "CREATE TRIGGER crash BEFORE INSERT ON run_journal WHEN \
             (SELECT count(*) FROM run_journal) >= 6 \
             BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
        )
        .unwrap();
    let o = apply_file(env, &csv, &["--batch-size", "2"]);
    assert_eq!(code(&o), 3, "{}\n{}", stdout(&o), stderr(&o));
    env.conn().execute_batch("DROP TRIGGER crash").unwrap();
    csv
}

fn people(env: &Env) -> i64 {
    env.count("SELECT count(*) FROM users WHERE email_key LIKE 'person%@example.org'")
}

#[test]
fn an_interrupted_run_resumes_from_its_stored_plan() {
    let env = Env::demo();
    let csv = interrupted(&env);
    let (json, deflated): (String, i64) = env
        .conn()
        .query_row(
            "SELECT plan_json, length(plan_deflate) FROM upload_runs WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(json, "", "the plan is stored compressed, once");
    let text = env.stored_plan_json(1);
    assert!(
        (deflated as usize) < text.len() / 3,
        "{deflated} {}",
        text.len()
    );
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(stored.get("signature").is_none(), "not signed: {stored}");
    assert_eq!(stored["rows"].as_array().unwrap().len(), 20);
    let before = people(&env);
    assert!(before > 0 && before < 20, "{before}");

    let o = apply_file(&env, &csv, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("resuming run #1"), "{}", stderr(&o));
    assert_eq!(people(&env), 20, "everyone once");
    assert_eq!(env.outbox().len(), 20, "a welcome each, none twice");
}

/// Run 1's stored plan replaced by `deflated` (compressed as the CLI stores plans).
fn store_plan(env: &Env, deflated: &[u8]) {
    let changed = env
        .conn()
        .execute(
            "UPDATE upload_runs SET plan_deflate = ?1 WHERE id = 1",
            [deflated],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

#[test]
fn a_stored_plan_altered_in_the_database_is_not_resumed() {
    use lms_bulk_upload_sqlite::db::runs::deflate;
    for (what, sql) in [
        ("its content", ""),
        (
            "the run's fingerprint",
            "UPDATE upload_runs SET fingerprint = 'sha256:' || \
             replace(substr(fingerprint, 8), substr(fingerprint, 8, 1), \
             CASE substr(fingerprint, 8, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE id = 1",
        ),
    ] {
        let env = Env::demo();
        let csv = interrupted(&env);
        if sql.is_empty() {
            let altered = env.stored_plan_json(1).replace("Person7", "Mallory7");
            store_plan(&env, &deflate(altered.as_bytes()));
        } else {
            let changed = env.conn().execute(sql, []).unwrap();
            assert_eq!(changed, 1, "{what}");
        }
        let before = people(&env);
        let emails = env.outbox().len();

        let o = apply_file(&env, &csv, &[]);
        assert_eq!(code(&o), 2, "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains("fingerprint"), "{what}: {}", stderr(&o));
        assert_eq!(people(&env), before, "{what}: nothing written");
        assert_eq!(env.outbox().len(), emails, "{what}: nothing sent");
    }
}

/// The compressed plan is distrusted as much as its content: a stream that is not zlib, one
/// cut short, or one that inflates to other than UTF-8 is a coded error (`invalid_plan`),
/// and nothing is written or sent.
#[test]
fn a_stored_plan_that_cannot_be_inflated_is_not_resumed() {
    use lms_bulk_upload_sqlite::db::runs::deflate;
    for what in ["not zlib", "cut short", "not UTF-8", "empty"] {
        let env = Env::demo();
        let csv = interrupted(&env);
        let good = deflate(env.stored_plan_json(1).as_bytes());
        let bad = match what {
            "not zlib" => b"this is not a zlib stream".to_vec(),
            "cut short" => good[..good.len() / 2].to_vec(),
            "not UTF-8" => deflate(&[b'{', 0xff, 0xfe, b'}']),
            _ => Vec::new(),
        };
        store_plan(&env, &bad);
        let before = people(&env);
        let emails = env.outbox().len();

        let o = apply_file(&env, &csv, &[]);
        assert_eq!(code(&o), 2, "{what}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("invalid_plan") && stderr(&o).contains("stored plan"),
            "{what}: {}",
            stderr(&o)
        );
        assert_eq!(people(&env), before, "{what}: nothing written");
        assert_eq!(env.outbox().len(), emails, "{what}: nothing sent");
    }
}
