//! `apply --send-invitations` and `invite verify` through the real binary: new users get a
//! sign-in link and no password, only its digest is in the database, a link works once,
//! a newer link replaces an older one, undo revokes, and no token reaches the output.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;

const FILE: &str =
    "firstname,lastname,emailaddress\nAna,Lee,ana@example.org\nBo,Chan,bo@example.org\n";

/// The token of the sign-in link in a message's text.
fn token_in(text: &str) -> String {
    let link = text
        .lines()
        .find(|l| l.contains("/invitations/"))
        .expect("a sign-in link");
    link.trim().rsplit('/').next().unwrap().to_owned()
}

fn verify(env: &Env, token: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["invite", "verify", token, "--db", env.db_str()];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn links_are_emailed_verified_used_once_and_never_printed() {
    let env = Env::demo();
    let file = env.path("users.csv");
    std::fs::write(&file, FILE).unwrap();
    let o = apply_file(&env, &file, &["--send-invitations"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE email_key LIKE '%@example.org' AND password_hash IS NULL"),
        2,
        "no password is set"
    );
    let mails = env.outbox();
    let texts: Vec<String> = mails.iter().map(|p| eml_text(p)).collect();
    let ana = texts
        .iter()
        .find(|t| t.contains("ana@example.org"))
        .unwrap();
    assert!(password_in(ana).is_none());
    assert!(ana.contains("https://lms.test.example/invitations/"));
    let token = token_in(ana);
    // Only the digest is stored; the token is nowhere in the database or the output.
    assert_eq!(env.count("SELECT count(*) FROM invitations"), 2);
    let dump: String = env
        .conn()
        .query_row(
            "SELECT group_concat(hex(digest) || user_id || upload_id) FROM invitations",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!dump.contains(&token));
    assert!(!stdout(&o).contains(&token) && !stderr(&o).contains(&token));

    let o = verify(&env, &token, &["--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\"email\":\"ana@example.org\""),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains(&token));

    // Read from standard input, used up once.
    let mut child = cmd(&["invite", "verify", "-", "--redeem", "--db", env.db_str()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = verify(&env, &token, &["--redeem"]);
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("invitation_used"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(&token));

    let o = verify(&env, "not-a-token", &[]);
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("invitation_unknown"), "{}", stderr(&o));
}

#[test]
fn a_reset_replaces_the_link_and_undo_revokes_it() {
    let env = Env::demo();
    let file = env.path("users.csv");
    std::fs::write(&file, FILE).unwrap();
    assert_eq!(code(&apply_file(&env, &file, &["--send-invitations"])), 0);
    let first = token_in(&eml_text(&env.outbox()[0]));
    let o = apply_file(
        &env,
        &file,
        &["--send-invitations", "--update-existing-passwords"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let newest = env.outbox();
    let second = token_in(&eml_text(&newest[newest.len() - 2]));
    assert_ne!(first, second);
    assert!(stderr(&verify(&env, &first, &[])).contains("invitation_unknown"));
    assert_eq!(code(&verify(&env, &second, &[])), 0);

    let o = run(&["undo", "--db", env.db_str(), "--yes"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&verify(&env, &second, &[])).contains("invitation_unknown"));
    assert_eq!(
        env.count("SELECT count(*) FROM invitations WHERE used_at IS NULL"),
        0,
        "the first upload's links were replaced by the second's, which the undo revoked"
    );
}

#[test]
fn an_mbox_outbox_holds_a_batch_per_file_and_its_links_work() {
    let env = Env::demo();
    let file = env.path("users.csv");
    let mut text = String::from("firstname,lastname,emailaddress\n");
    for i in 0..300 {
        text.push_str(&format!("P{i},Tester,p{i}@example.org\n"));
    }
    std::fs::write(&file, text).unwrap();
    let o = apply_file(
        &env,
        &file,
        &["--send-invitations", "--outbox-format", "mbox"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut boxes: Vec<_> = std::fs::read_dir(env.path("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    boxes.sort();
    assert_eq!(boxes.len(), 2, "300 rows are two batches: {boxes:?}");
    let all: String = boxes
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(all.matches("\nFrom bulk-upload ").count() + 1, 300);
    let token = token_in(&all.replace("=\n", ""));
    assert_eq!(code(&verify(&env, &token, &[])), 0);
    let o = run(&["serve", "--db", env.db_str(), "--outbox-format", "mbox"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}
