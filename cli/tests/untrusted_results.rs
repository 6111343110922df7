//! Stored results are untrusted data (issue 19): the CLI signs the results it stores with its
//! database's key and reads them back verified; an undo is finished before anything else
//! runs; undoing out of order never leaves a user of an undone upload active.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::path::PathBuf;

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

fn undo(env: &Env, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["undo", "--db", env.db_str(), "--insecure-fast-hashing"];
    args.extend(extra);
    run(&args)
}

fn suspended(env: &Env, email: &str) -> i64 {
    env.count(&format!(
        "SELECT coalesce(max(suspended), -1) FROM users WHERE email_key = '{email}'"
    ))
}

#[test]
fn stored_results_are_signed_and_an_edited_row_drives_no_undo() {
    let env = Env::demo();
    let o = apply_file(&env, &write(&env, "a.csv", &people(0..3)), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let stored: String = env
        .conn()
        .query_row(
            "SELECT results_json FROM upload_runs WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.starts_with("{\"signature\":"), "{stored}");
    // Someone with write access to the table points a "created" row at the administrator.
    let admin: String = env
        .conn()
        .query_row("SELECT email FROM users WHERE protected = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let forged = stored.replace("p0@example.org", &admin);
    env.conn()
        .execute(
            "UPDATE upload_runs SET results_json = ?1 WHERE id = 1",
            [forged],
        )
        .unwrap();
    let o = undo(&env, &["--yes"]);
    assert_ne!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("results_signature_invalid"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE suspended = 1"),
        0
    );
    let o = run(&["results", "--db", env.db_str(), "--json"]);
    assert_ne!(code(&o), 0, "the results command reads them verified too");
}

#[test]
fn apply_and_other_undos_wait_for_an_unfinished_undo() {
    let env = Env::demo();
    let o = apply_file(&env, &write(&env, "a.csv", &people(0..20)), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = apply_file(&env, &write(&env, "b.csv", &people(20..22)), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    env.conn()
        .execute_batch(
            "CREATE TRIGGER crash BEFORE INSERT ON run_journal WHEN NEW.run_id = 3 AND \
             (SELECT count(*) FROM run_journal WHERE run_id = 3) >= 5 \
             BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
        )
        .unwrap();
    let o = undo(&env, &["1", "--yes", "--batch-size", "2"]);
    assert_eq!(code(&o), 3, "{}\n{}", stdout(&o), stderr(&o));
    env.conn().execute_batch("DROP TRIGGER crash").unwrap();

    let o = apply_file(&env, &write(&env, "c.csv", &people(30..31)), &[]);
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("undo of run #1) was interrupted"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE email_key = 'p30@example.org'"),
        0
    );
    let o = undo(&env, &["2", "--yes"]);
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("finish it with `bulk-upload undo 1`"),
        "{}",
        stderr(&o)
    );

    // A later run recorded behind the lock's back (an older version, a restored backup):
    // the interrupted undo is not resumed across it.
    let conn = env.conn();
    conn.execute_batch(
        "INSERT INTO upload_runs (id, run_key, fingerprint, source, status, plan_json) \
         VALUES (9, 'later', 'sha256:later', 'a later run', 'finished', '{}')",
    )
    .unwrap();
    let o = undo(&env, &["1", "--yes"]);
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("later runs have run since"),
        "{}",
        stderr(&o)
    );
    conn.execute_batch("DELETE FROM upload_runs WHERE id = 9")
        .unwrap();

    let o = undo(&env, &["1", "--yes"]);
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    let o = apply_file(&env, &write(&env, "c.csv", &people(30..31)), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn undoing_out_of_order_never_leaves_a_user_of_an_undone_upload_active() {
    for delete in [true, false] {
        let env = Env::demo();
        // Run 1 creates p0 and p1; run 2 lists only p1 and suspends p0 as missing.
        let o = apply_file(&env, &write(&env, "a.csv", &people(0..2)), &[]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let o = apply_file(
            &env,
            &write(&env, "b.csv", &people(1..2)),
            &["--suspend-missing", "--missing-threshold", "100"],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(suspended(&env, "p0@example.org"), 1);

        let o = undo(
            &env,
            if delete {
                &["1", "--yes", "--delete"]
            } else {
                &["1", "--yes"]
            },
        );
        assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
        let o = undo(&env, &["2", "--yes"]);
        assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
        let p0 = suspended(&env, "p0@example.org");
        if delete {
            assert_eq!(p0, -1, "--delete deletes a created user whatever its state");
        } else {
            assert_eq!(
                p0, 1,
                "a user whose creating upload was undone is not reactivated"
            );
        }
    }
}
