//! Secrets and files (issue 10, case 5): owner-only outbox, results and database, no write
//! through a planted symlink, weak argon2 refused, no secret in a settings error or `--help`.
#![allow(clippy::unwrap_used, missing_docs)]
#![cfg(unix)]

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

const ONE_USER: &str = "firstname,lastname,emailaddress\nAna,Lopez,ana@example.org\n";

#[test]
fn the_database_outbox_and_results_are_owner_only() {
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
    };
    // A database in a folder that does not exist yet.
    let db = env.path("data/lms.sqlite3");
    let db = db.to_str().unwrap();
    assert_eq!(code(&run(&["init", "--demo", "--db", db])), 0);
    let sample = sample();
    let o = run(&["apply", sample.to_str().unwrap(), "--db", db, "--yes"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));

    let data = env.path("data");
    assert_eq!(mode(&data), 0o700);
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
    let outbox: Vec<_> = std::fs::read_dir(data.join("outbox")).unwrap().collect();
    assert_eq!(outbox.len(), 45, "a welcome email per new user");
    for entry in outbox {
        assert_eq!(mode(&entry.unwrap().path()), 0o600);
    }
    assert_eq!(mode(&data.join("results/run-1.csv")), 0o600);
    assert_eq!(mode(&data.join("lms.sqlite3.apply-lock")), 0o600);
}

#[test]
fn an_existing_database_readable_by_others_is_restricted() {
    let env = Env::demo();
    std::fs::set_permissions(env.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(&["results", "--list", "--db", env.db_str()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("now owner-only"), "{}", stderr(&o));
    assert_eq!(mode(&env.db()), 0o600);
}

#[test]
fn a_symlink_planted_at_the_outbox_temporary_names_never_receives_the_password() {
    let env = Env::demo();
    let csv = env.path("users.csv");
    std::fs::write(&csv, ONE_USER).unwrap();
    let outbox = env.path("outbox");
    std::fs::create_dir(&outbox).unwrap();
    let stolen = env.path("stolen.txt");
    std::fs::write(&stolen, "").unwrap();
    let planted = outbox.join(".0000001-welcome-ana@example.org.eml.tmp");
    std::os::unix::fs::symlink(&stolen, &planted).unwrap();
    // The pending messages' folder (see `mail::pending`) planted as a link to another one.
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("keep.txt"), "mine").unwrap();
    let pending = outbox.join(".pending");
    std::os::unix::fs::symlink(&elsewhere, &pending).unwrap();

    let o = apply_file(&env, &csv, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&stolen).unwrap(),
        "",
        "nothing written through"
    );
    let elsewhere: Vec<_> = std::fs::read_dir(&elsewhere).unwrap().collect();
    assert_eq!(elsewhere.len(), 1, "nothing written or deleted through");
    assert!(
        std::fs::symlink_metadata(&pending).is_err(),
        "the planted folder link was removed (and the folder made and tidied)"
    );
    let eml = outbox.join("0000001-welcome-ana@example.org.eml");
    assert_eq!(mode(&eml), 0o600);
    let password = password_in(&eml_text(&eml)).unwrap();
    let hash = env.password_hash("ana@example.org");
    assert!(lms_bulk_upload::PasswordHash::from_phc(hash).verify(&password));
}

#[test]
fn argon2_below_owasp_is_refused_without_the_insecure_switch() {
    let env = Env::demo();
    let csv = env.path("users.csv");
    std::fs::write(&csv, ONE_USER).unwrap();
    for (memory, iterations) in [("64", "1"), ("64", "2"), ("19456", "1")] {
        let o = cmd(&[
            "apply",
            csv.to_str().unwrap(),
            "--db",
            env.db_str(),
            "--yes",
        ])
        .env_remove("BULK_UPLOAD_INSECURE_FAST_HASHING")
        .env("BULK_UPLOAD_ARGON2_MEMORY_KIB", memory)
        .env("BULK_UPLOAD_ARGON2_ITERATIONS", iterations)
        .output()
        .unwrap();
        assert_eq!(code(&o), 2, "m={memory} t={iterations}: {}", stderr(&o));
        assert!(stderr(&o).contains("OWASP"), "{}", stderr(&o));
        assert!(stderr(&o).contains("BULK_UPLOAD_INSECURE_FAST_HASHING"));
    }
    assert_eq!(
        env.count("SELECT count(*) FROM users"),
        1,
        "nothing written"
    );
    // With the switch (what the other tests use), with a warning.
    let o = apply_file(&env, &csv, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("for tests only"), "{}", stderr(&o));
}

#[test]
fn a_settings_file_error_never_shows_the_default_password() {
    let env = Env::demo();
    let csv = env.path("users.csv");
    std::fs::write(&csv, ONE_USER).unwrap();
    let cases = [
        (
            "syntax.toml",
            "force_password_reset = true\ndefault_password = \"Sup3r-Secret-pw\n",
        ),
        ("type.toml", "force_password_reset = \"Sup3r-Secret-pw\"\n"),
        (
            "type.json",
            "{\"force_password_reset\": \"Sup3r-Secret-pw\"}",
        ),
    ];
    for (name, text) in cases {
        let settings = env.path(name);
        std::fs::write(&settings, text).unwrap();
        let o = run(&[
            "plan",
            csv.to_str().unwrap(),
            "--db",
            env.db_str(),
            "--settings",
            settings.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 2, "{name}");
        let err = stderr(&o);
        assert!(err.contains(name), "{err}");
        assert!(!err.contains("Sup3r"), "{name}: {err}");
    }
}

#[test]
fn help_does_not_show_the_smtp_url_from_the_environment() {
    let o = cmd(&["apply", "--help"])
        .env(
            "BULK_UPLOAD_SMTP",
            "smtp://lms:Hunter2-smtp@mail.example:587",
        )
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    let help = stdout(&o);
    assert!(help.contains("--smtp"), "{help}");
    assert!(
        help.contains("BULK_UPLOAD_SMTP"),
        "the variable is named: {help}"
    );
    assert!(!help.contains("Hunter2"), "{help}");
}
