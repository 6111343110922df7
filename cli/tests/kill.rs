//! Killing `apply` mid-run (SIGKILL) leaves a consistent database, and applying the same file
//! again finishes the work: every user created exactly once.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::time::{Duration, Instant};

const ROWS: usize = 4000;

#[test]
fn a_killed_apply_leaves_a_consistent_database_and_resumes_without_duplicates() {
    let env = Env::demo();
    let file = env.path("many.csv");
    generated_csv(&file, ROWS);
    let args = [
        "apply",
        file.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--batch-size",
        "100",
        "--threads",
        "1",
    ];
    // Killed at several points in a row (after this many emails in the outbox): early in
    // the first batch, mid-run, and late; each time the database must be consistent and the
    // next apply must resume the same run.
    let mut kills = 0;
    for threshold in [37, 900, 2300] {
        if !apply_until_killed(&env, &args, threshold) {
            break;
        }
        kills += 1;
        check_invariants(&env);
        let users = env.count("SELECT count(*) FROM users WHERE protected = 0");
        let journaled = env.count(
            "SELECT count(*) FROM run_journal j JOIN upload_runs r ON r.id = j.run_id \
             WHERE j.state IN ('done', 'finished')",
        );
        assert_eq!(
            users, journaled,
            "the journal commits with the store: it names exactly the users that exist"
        );
        assert_eq!(
            env.count("SELECT count(*) FROM group_members"),
            users,
            "each committed user has its membership (rows commit whole)"
        );
        assert!((users as usize) < ROWS, "killed part-way ({users} users)");
        assert_eq!(
            env.count("SELECT count(*) FROM upload_runs WHERE status = 'running'"),
            1,
            "one run, resumed each time"
        );
    }
    eprintln!("apply killed {kills} time(s) before the final run");

    let o = run(&args);
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    if kills > 0 {
        assert!(
            stderr(&o).contains("resuming run #1"),
            "the last apply resumes the first run: {}",
            stderr(&o)
        );
        assert!(stdout(&o).contains("resumed"), "{}", stdout(&o));
    }
    check_invariants(&env);
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE protected = 0"),
        ROWS as i64,
        "every user created exactly once"
    );
    assert_eq!(env.count("SELECT count(*) FROM group_members"), ROWS as i64);
    assert_eq!(
        env.count("SELECT count(*) FROM upload_runs WHERE status = 'finished'"),
        1
    );

    // Every user got a welcome email, and the last one sent to each holds the password that
    // works (a row interrupted after its email but before its commit is emailed again).
    let mut last: std::collections::HashMap<String, std::path::PathBuf> = Default::default();
    for path in env.outbox() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(addr) = name
            .strip_suffix(".eml")
            .and_then(|n| n.split_once("-welcome-"))
            .map(|(_, a)| a.to_owned())
        {
            last.insert(addr, path);
        }
    }
    assert_eq!(last.len(), ROWS, "every user was emailed");
    assert_eq!(
        welcomes(&env).len(),
        ROWS,
        "once: the emails of rows a kill rolled back were never published"
    );
    for (addr, path) in last
        .iter()
        .filter(|(a, _)| a.starts_with("person1"))
        .take(40)
    {
        let hash = env.password_hash(addr);
        let password = password_in(&eml_text(path)).unwrap();
        assert!(
            lms_bulk_upload::PasswordHash::from_phc(hash).verify(&password),
            "{addr}: the last password emailed works"
        );
    }
}

/// The same with sign-in links: after each kill, and after the run resumed to its end,
/// every link in the outbox works (its rows committed; the emails of rows a kill rolled back
/// were deleted unread, and those rows emailed again with new links), each user has exactly
/// one, and `invite verify` accepts them.
#[test]
fn a_killed_apply_with_sign_in_links_leaves_only_working_links_in_the_outbox() {
    const LINKS: usize = 12_000;
    let env = Env::demo();
    let file = env.path("many.csv");
    generated_csv(&file, LINKS);
    let args = [
        "apply",
        file.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--send-invitations",
        "--batch-size",
        "500",
    ];
    let mut kills = 0;
    for threshold in [1200, 6100] {
        if !apply_until_killed(&env, &args, threshold) {
            break;
        }
        kills += 1;
        let emailed = links_work(&env);
        let users = env.count("SELECT count(*) FROM users WHERE protected = 0") as usize;
        // Killed between a COMMIT and the move of its batch's emails, the batch is
        // published by the next run's opening of the outbox: fewer links than users, never
        // more.
        assert!(
            emailed <= users,
            "{emailed} links for {users} committed users"
        );
    }
    eprintln!("apply with sign-in links killed {kills} time(s) before the final run");
    let o = run(&args);
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(links_work(&env), LINKS, "each user emailed one link");
    let outbox = welcomes(&env);
    for path in outbox.iter().take(10).chain(outbox.iter().rev().take(10)) {
        let token = link_token(&eml_text(path));
        let o = run(&["invite", "verify", &token, "--db", env.db_str()]);
        assert_eq!(code(&o), 0, "{}: {}", path.display(), stderr(&o));
    }
}

/// The token of the sign-in link in a message's text.
fn link_token(text: &str) -> String {
    let link = text
        .lines()
        .find(|l| l.contains("/invitations/"))
        .expect("a sign-in link");
    link.trim().rsplit('/').next().unwrap().to_owned()
}

/// Checks that every link in the outbox is a stored, unused, unexpired invitation of a
/// distinct user (the digest `invite verify` looks up); returns how many there are.
fn links_work(env: &Env) -> usize {
    use sha2::Digest;
    let conn = env.conn();
    let mut stmt = conn
        .prepare(
            "SELECT user_id FROM invitations WHERE digest = ?1 AND used_at IS NULL \
             AND expires_at > unixepoch()",
        )
        .unwrap();
    let mut users = std::collections::HashSet::new();
    let outbox = welcomes(env);
    for path in &outbox {
        let token = link_token(&eml_text(path));
        let digest = sha2::Sha256::digest(token.as_bytes()).to_vec();
        let user: i64 = stmt
            .query_row([digest], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{}: a dead link ({e})", path.display()));
        assert!(users.insert(user), "{}: a second link", path.display());
    }
    outbox.len()
}

/// The welcome emails in the outbox.
fn welcomes(env: &Env) -> Vec<std::path::PathBuf> {
    let mut all = env.outbox();
    all.retain(|p| p.to_string_lossy().contains("-welcome-"));
    all
}

/// Starts `apply` and kills it (SIGKILL) once the outbox holds `threshold` emails; returns
/// whether it was killed (false: it finished first).
fn apply_until_killed(env: &Env, args: &[&str], threshold: usize) -> bool {
    // Argon2 a little costlier than the other tests, so the run lasts long enough to be killed.
    let mut child = cmd(args)
        .env("BULK_UPLOAD_ARGON2_MEMORY_KIB", "2048")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if env.outbox().len() >= threshold {
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            child.wait().unwrap();
            return true;
        }
        if let Some(status) = child.try_wait().unwrap() {
            eprintln!("apply finished ({status}) before {threshold} emails; checking anyway");
            return false;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "apply hung");
        std::thread::sleep(Duration::from_millis(2));
    }
}
