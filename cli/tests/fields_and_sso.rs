//! The host's declarations from the settings file (issue 15): a `department` profile field
//! (with an alias) and the login method `saml`. SSO users are created without a password
//! hash and emailed no password; field values are stored in `user_fields`, updated, and
//! cleared with the clear token; flags go over the file.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

const SETTINGS: &str = r#"# The host's declarations beside the settings.
site_url = "https://lms.example.co.nz/"
login_methods = ["saml"]

[[fields]]
name = "department"
aliases = ["Dept"]
max_length = 40
"#;

/// Ana and Cy sign in with SAML (the auth value matched ignoring case), Bo by password
/// (a blank auth cell: the default).
const NEW_PEOPLE: &str = "First Name,Last Name,Email,Dept,Auth\n\
Ana,Lopez,ana@x.com,Sales,saml\n\
Bo,Chan,bo@x.com,Support,\n\
Cy,Egan,cy@x.com,Finance,SAML\n";

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn settings(env: &Env) -> PathBuf {
    write(env, "settings.toml", SETTINGS)
}

fn apply(env: &Env, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let settings = settings(env);
    let mut args = vec!["--settings", settings.to_str().unwrap()];
    args.extend_from_slice(extra);
    apply_file(env, file, &args)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn sso_users_get_no_password_hash_and_no_password_in_their_welcome() {
    let env = Env::demo();
    let file = write(&env, "new.csv", NEW_PEOPLE);
    let o = apply(&env, &file, &["--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["summary"]["created"], 3, "{}", out["summary"]);

    for sso in ["ana@x.com", "cy@x.com"] {
        assert_eq!(
            login_of(&env, sso),
            (Some("saml".into()), false, false),
            "{sso}: saml, no password hash"
        );
        let mails = emails_to(&env, sso);
        assert_eq!(mails.len(), 1, "{sso}: one welcome");
        assert_eq!(password_in(&mails[0]), None, "{sso}: {}", mails[0]);
        assert!(
            mails[0].contains("https://lms.example.co.nz/"),
            "the login link: {}",
            mails[0]
        );
    }
    assert_eq!(login_of(&env, "bo@x.com"), (None, true, false));
    assert!(env.password_hash("bo@x.com").starts_with("$argon2id$"));
    let bo = emails_to(&env, "bo@x.com");
    assert!(password_in(&bo[0]).is_some(), "{}", bo[0]);
    check_invariants(&env);

    // The Dept column is the department field, stored per user.
    assert_eq!(
        fields_of(&env, "ana@x.com"),
        map(&[("department", "Sales")])
    );
    assert_eq!(
        fields_of(&env, "bo@x.com"),
        map(&[("department", "Support")])
    );
    assert_eq!(
        env.count("SELECT count(*) FROM user_fields"),
        3,
        "one value each"
    );
}

#[test]
fn field_values_are_updated_kept_on_a_blank_cell_and_cleared_with_the_clear_token() {
    let env = Env::demo();
    let o = apply(&env, &write(&env, "new.csv", NEW_PEOPLE), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Ana moves to Marketing, Bo's department is cleared, Cy's blank cell keeps Finance.
    let update = write(
        &env,
        "update.csv",
        "Email,First Name,Last Name,Department\n\
         ana@x.com,Ana,Lopez,Marketing\n\
         bo@x.com,Bo,Chan,#CLEAR\n\
         cy@x.com,Cy,Egan,\n",
    );
    let settings = settings(&env);
    let o = run(&[
        "plan",
        update.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--settings",
        settings.to_str().unwrap(),
        "--update-existing-profiles",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["summary"]["profile_updates"], 2, "{}", plan["summary"]);

    let o = apply(&env, &update, &["--update-existing-profiles"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        fields_of(&env, "ana@x.com"),
        map(&[("department", "Marketing")])
    );
    assert_eq!(fields_of(&env, "bo@x.com"), map(&[]), "cleared: no row");
    assert_eq!(
        fields_of(&env, "cy@x.com"),
        map(&[("department", "Finance")])
    );

    // Undo puts the values back (Bo's row again), within the settings file's declarations:
    // without them it writes no custom field back.
    let o = run(&[
        "undo",
        "--db",
        env.db_str(),
        "--yes",
        "--settings",
        settings.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        fields_of(&env, "ana@x.com"),
        map(&[("department", "Sales")])
    );
    assert_eq!(
        fields_of(&env, "bo@x.com"),
        map(&[("department", "Support")])
    );
}

#[test]
fn the_clear_token_comes_from_the_file_and_the_flag_goes_over_it() {
    let env = Env::demo();
    let o = apply(&env, &write(&env, "new.csv", NEW_PEOPLE), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let settings = write(
        &env,
        "clear.toml",
        &format!("clear_token = \"(none)\"\n{SETTINGS}"),
    );
    let file = write(
        &env,
        "update.csv",
        "Email,First Name,Last Name,Department\n\
         ana@x.com,Ana,Lopez,(none)\n\
         bo@x.com,Bo,Chan,#clear\n",
    );
    // The file's token clears Ana's value; `#clear` is then a value like any other.
    let o = apply_file(
        &env,
        &file,
        &[
            "--settings",
            settings.to_str().unwrap(),
            "--update-existing-profiles",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fields_of(&env, "ana@x.com"), map(&[]));
    assert_eq!(
        fields_of(&env, "bo@x.com"),
        map(&[("department", "#clear")])
    );

    // `--clear-token ""` turns clearing off: "(none)" is stored as it is.
    let o = apply_file(
        &env,
        &file,
        &[
            "--settings",
            settings.to_str().unwrap(),
            "--update-existing-profiles",
            "--clear-token",
            "",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        fields_of(&env, "ana@x.com"),
        map(&[("department", "(none)")])
    );
}

#[test]
fn the_login_method_flag_goes_over_the_file_and_method_changes_need_update_profiles() {
    let env = Env::demo();
    let settings = write(
        &env,
        "sso.toml",
        &format!("default_login_method = \"saml\"\n{SETTINGS}"),
    );
    let file = write(
        &env,
        "new.csv",
        "First Name,Last Name,Email\nDi,Fox,di@x.com\n",
    );
    let with_file = ["--settings", settings.to_str().unwrap()];
    // The flag says password: Di gets one.
    let o = apply_file(
        &env,
        &file,
        &[with_file[0], with_file[1], "--login-method", "password"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(login_of(&env, "di@x.com"), (None, true, false));
    // The file's default_login_method: Ed signs in with SAML.
    let file = write(
        &env,
        "ed.csv",
        "First Name,Last Name,Email\nEd,Gray,ed@x.com\n",
    );
    let o = apply_file(&env, &file, &with_file);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        login_of(&env, "ed@x.com"),
        (Some("saml".into()), false, false)
    );
    assert_eq!(password_in(&emails_to(&env, "ed@x.com")[0]), None);

    // Di to SAML: a warning without --update-existing-profiles, a change with it (and no
    // new password, no email).
    let change = write(
        &env,
        "change.csv",
        "First Name,Last Name,Email,Auth\nDi,Fox,di@x.com,saml\n",
    );
    let o = run(&[
        "plan",
        change.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--settings",
        settings.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("changes_need_update_profiles"),
        "{}",
        stdout(&o)
    );
    let emails = env.outbox().len();
    let o = apply_file(
        &env,
        &change,
        &[with_file[0], with_file[1], "--update-existing-profiles"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("login method changes 1"),
        "{}",
        stdout(&o)
    );
    assert_eq!(login_of(&env, "di@x.com").0.as_deref(), Some("saml"));
    assert_eq!(env.outbox().len(), emails, "nobody emailed");

    // An unknown method is a settings error: exit 2, nothing written.
    let users = env.count("SELECT count(*) FROM users");
    let o = apply_file(
        &env,
        &write(
            &env,
            "fy.csv",
            "First Name,Last Name,Email\nFy,Ho,fy@x.com\n",
        ),
        &[with_file[0], with_file[1], "--login-method", "oidc"],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown_login_method"),
        "{}",
        stderr(&o)
    );
    assert_eq!(env.count("SELECT count(*) FROM users"), users);
}

#[test]
fn validate_reads_the_declarations_and_a_bad_one_names_the_settings_file() {
    let env = Env::demo();
    let file = write(&env, "new.csv", NEW_PEOPLE);
    let o = run(&["validate", file.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "saml is not a login method: {}", stdout(&o));
    assert!(stdout(&o).contains("unknown_column"), "{}", stdout(&o));
    let settings = settings(&env);
    let o = run(&[
        "validate",
        file.to_str().unwrap(),
        "--settings",
        settings.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(!stdout(&o).contains("unknown_column"), "{}", stdout(&o));

    // JSON works the same; a declaration the engine refuses is a settings error.
    let cases = [
        (
            "upper.json",
            r#"{"fields": [{"name": "Department"}]}"#,
            "invalid_option",
        ),
        (
            "builtin.toml",
            "[[fields]]\nname = \"team\"\naliases = [\"E-mail\"]\n",
            "invalid_option",
        ),
        (
            "method.toml",
            "login_methods = [\"password\"]\n",
            "invalid_option",
        ),
        ("unknown.toml", "fieldz = []\n", "fields, login_methods"),
    ];
    for (name, text, expected) in cases {
        let bad = write(&env, name, text);
        let o = run(&[
            "plan",
            file.to_str().unwrap(),
            "--db",
            env.db_str(),
            "--settings",
            bad.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err}"
        );
    }
    assert_eq!(env.count("SELECT count(*) FROM upload_runs"), 0);
}
