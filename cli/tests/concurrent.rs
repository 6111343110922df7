//! Two `apply` processes on one database (issue 10, case 6): the second is refused while the
//! first runs, and can never mark the first's journal rows or replace its results file.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::process::Stdio;

const ROWS: usize = 60;

/// Reads the child's standard error until `needle` appears; returns what was read.
fn read_until(stderr: &mut impl Read, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = stderr.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "ended before {needle:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

fn run_journal_states(env: &Env) -> Vec<(i64, String, i64)> {
    env.conn()
        .prepare(
            "SELECT run_id, state, count(*) FROM run_journal GROUP BY run_id, state ORDER BY 1, 2",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_second_apply_is_refused_while_the_first_holds_the_database() {
    let env = Env::demo();
    let file = env.path("users.csv");
    generated_csv(&file, ROWS);
    let file = file.to_str().unwrap();

    // The first apply plans, then waits for its confirmation: it holds the lock meanwhile.
    let mut first = cmd(&["apply", file, "--db", env.db_str()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_err = first.stderr.take().unwrap();
    read_until(&mut first_err, "[y/N]");

    let second = run(&["apply", file, "--db", env.db_str(), "--yes"]);
    assert_eq!(code(&second), 5, "{}", stderr(&second));
    let message = stderr(&second);
    assert!(message.contains("another `apply`"), "{message}");
    assert!(
        message.contains(&first.id().to_string()),
        "names the process: {message}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM users"),
        1,
        "the second wrote nothing"
    );
    assert_eq!(env.count("SELECT count(*) FROM upload_runs"), 0);

    first.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let out = first.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE protected = 0"),
        ROWS as i64
    );
    assert_eq!(
        run_journal_states(&env),
        [(1, "done".to_owned(), ROWS as i64)],
        "every row of run 1 finished as planned, and only run 1 has rows"
    );
    let results_1 = env.path("results/run-1.csv");
    let first_results = std::fs::read_to_string(&results_1).unwrap();
    assert_eq!(
        first_results.matches(r#","created","#).count(),
        ROWS,
        "{first_results}"
    );

    // Once it has finished, the same file again changes nothing: no run is recorded, and
    // run 1's results are untouched.
    let again = run(&["apply", file, "--db", env.db_str(), "--yes", "--json"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let out: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(out["run"], serde_json::Value::Null, "{out}");
    assert_eq!(out["recorded"], false);
    assert_eq!(out["summary"]["unchanged"], ROWS);
    assert_eq!(std::fs::read_to_string(&results_1).unwrap(), first_results);
    assert!(!env.path("results/run-2.csv").exists());
    assert_eq!(env.count("SELECT count(*) FROM upload_runs"), 1);
    assert_eq!(
        run_journal_states(&env),
        [(1, "done".to_owned(), ROWS as i64)],
        "the second apply wrote nothing, and left run 1's journal as it was"
    );
    check_invariants(&env);
}

#[test]
fn two_applies_started_together_leave_consistent_runs() {
    let env = Env::demo();
    let file = env.path("users.csv");
    generated_csv(&file, ROWS);
    let file = file.to_str().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            cmd(&["apply", file, "--db", env.db_str(), "--yes", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    // Whichever got the lock first ran; the other was refused (5), or ran after it and
    // found nothing to do (0).
    let codes: Vec<i32> = outputs.iter().map(code).collect();
    assert!(codes.contains(&0), "{codes:?}");
    for o in &outputs {
        assert!(matches!(code(o), 0 | 5), "{}", stderr(o));
    }
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE protected = 0"),
        ROWS as i64
    );
    assert_eq!(
        env.count("SELECT count(*) FROM upload_runs WHERE status = 'running'"),
        0,
        "no run left half-recorded"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM run_journal WHERE state NOT IN ('done', 'finished')"),
        0
    );
    // Each row created as planned is journaled `done` with its user's id (a row that found
    // its user again would be `finished`, with `recover_user` in its result).
    let created: i64 = env.count(
        "SELECT count(DISTINCT result_json) FROM run_journal WHERE state = 'done' \
         AND result_json IN (SELECT CAST(id AS TEXT) FROM users WHERE protected = 0)",
    );
    assert_eq!(created, ROWS as i64, "each user created by exactly one run");
    assert_eq!(
        env.count("SELECT count(*) FROM run_journal"),
        ROWS as i64,
        "and no other row"
    );
    for o in outputs.iter().filter(|o| code(o) == 0) {
        let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(out["summary"]["failed"], 0, "{out}");
        let results = std::fs::read_to_string(out["results_path"].as_str().unwrap()).unwrap();
        assert!(!results.contains(r#","failed","#), "{results}");
    }
    check_invariants(&env);
}
