//! The CLI without surprises (issue 24): each thing an administrator tripped over, through
//! the real binary on a real database.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
use common::*;
use std::time::{Duration, Instant};

fn fixture(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/spreadsheets")
        .join(name)
        .display()
        .to_string()
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn runs(env: &Env) -> i64 {
    env.count("SELECT count(*) FROM upload_runs")
}

#[test]
fn emails_without_a_configured_site_are_refused_before_anything_is_written() {
    let env = Env::demo();
    let file = sample();
    let o = cmd(&[
        "apply",
        file.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
    ])
    .env_remove("BULK_UPLOAD_SITE_URL")
    .output()
    .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("lms.example.com"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--site-url"), "{}", stderr(&o));
    assert_eq!(runs(&env), 0);
    assert!(env.outbox().is_empty());
    assert_eq!(
        env.count("SELECT count(*) FROM users"),
        1,
        "only the demo admin"
    );

    // Named on the command line: the emails name it.
    let o = cmd(&[
        "apply",
        file.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--site-url",
        "https://learn.example.org/",
    ])
    .env_remove("BULK_UPLOAD_SITE_URL")
    .output()
    .unwrap();
    assert_eq!(code(&o), 1, "rejected rows in the sample: {}", stderr(&o));
    let mail = std::fs::read_to_string(&env.outbox()[0]).unwrap();
    assert!(mail.contains("learn.example.org"));
    assert!(!mail.contains("lms.example.com"));
}

#[test]
fn an_apply_whose_rows_are_all_rejected_records_no_run_and_emails_no_one() {
    let env = Env::demo();
    let file = write(
        &env,
        "bad.csv",
        "firstname,lastname,emailaddress\nAna,Silva,not-an-email\n",
    );
    let o = apply_file(
        &env,
        std::path::Path::new(&file),
        &["--uploader-email", "admin@example.co.nz"],
    );
    assert_eq!(code(&o), 1, "rejected rows: {}", stderr(&o));
    assert!(stderr(&o).contains("no run was recorded"), "{}", stderr(&o));
    assert_eq!(runs(&env), 0);
    assert!(env.outbox().is_empty(), "no confirmation for nothing");
    assert!(!env.path("results").join("run-1.csv").exists());
}

#[test]
fn undo_of_a_run_that_changed_nothing_undoable_writes_nothing_and_emails_no_one() {
    let env = Env::demo();
    let file = write(
        &env,
        "two.csv",
        "firstname,lastname,emailaddress\nAna,Silva,ana@x.com\nBo,Li,bo@x.com\n",
    );
    let path = std::path::Path::new(&file);
    assert_eq!(code(&apply_file(&env, path, &[])), 0);
    // Run 2 only sets new passwords and emails them: nothing an undo can reverse.
    let o = apply_file(&env, path, &["--update-existing-passwords"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(runs(&env), 2);
    let mails = env.outbox().len();
    let o = run(&[
        "undo",
        "--db",
        env.db_str(),
        "--uploader-email",
        "admin@example.co.nz",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to undo"), "{}", stderr(&o));
    assert_eq!(runs(&env), 2, "no undo run recorded");
    let o = run(&["undo", "2", "--db", env.db_str(), "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["recorded"], false, "{out}");
    assert_eq!(out["undo_of_run"], 2);
    assert_eq!(
        env.outbox().len(),
        mails,
        "the administrator is not emailed"
    );

    // An undo that writes asks first: without a terminal and --yes, nothing is done.
    let o = run(&["undo", "1", "--db", env.db_str()]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert_eq!(runs(&env), 2);
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE suspended = 0"),
        3
    );
}

#[test]
fn undo_delete_reports_the_deletions() {
    let env = Env::demo();
    let file = write(
        &env,
        "two.csv",
        "firstname,lastname,emailaddress\nAna,Silva,ana@x.com\nBo,Li,bo@x.com\n",
    );
    assert_eq!(code(&apply_file(&env, std::path::Path::new(&file), &[])), 0);
    let o = run(&["undo", "--db", env.db_str(), "--delete", "--yes"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("users deleted 2"), "{}", stdout(&o));
    assert_eq!(env.count("SELECT count(*) FROM users"), 1);
}

#[test]
fn ctrl_c_shows_unfinished_rows_as_not_run_and_no_failures() {
    let env = Env::demo();
    let file = env.path("many.csv");
    generated_csv(&file, 400);
    let child = cmd(&[
        "apply",
        file.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
    ])
    .env("BULK_UPLOAD_ARGON2_MEMORY_KIB", "4096")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let started = Instant::now();
    while env.outbox().len() < 10 {
        assert!(started.elapsed() < Duration::from_secs(120), "apply hung");
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    if code(&o) == 0 {
        eprintln!("apply finished before Ctrl-C; nothing to check");
        return;
    }
    assert_eq!(code(&o), 130, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("Failed rows"), "{out}");
    assert!(out.contains(" 0 failed"), "{out}");
    assert!(out.contains(" not run"), "{out}");
    let results = std::fs::read_to_string(env.path("results/run-1.csv")).unwrap();
    assert!(results.contains(r#""not_run""#), "{results}");
    assert!(!results.contains(r#""failed""#));
}

#[test]
fn groups_and_content_are_added_and_listed_without_sql() {
    let env = Env::demo();
    let db = env.db_str();
    let o = run(&["groups", "add", "Night Shift", "Kaitiaki", "--db", db]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("added group name Night Shift"));
    let o = run(&["groups", "add", "Sales", "--db", db]);
    assert!(stdout(&o).contains("exists already"), "{}", stdout(&o));
    let o = run(&["groups", "list", "--db", db]);
    assert!(
        stdout(&o).lines().any(|l| l == "Night Shift"),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "courses",
        "add",
        "fire-safety",
        "--title",
        "Fire safety",
        "--db",
        db,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for kind in ["collections", "campaigns"] {
        let o = run(&[kind, "add", "new-one", "--db", db]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let o = run(&["courses", "list", "--json", "--db", db]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "fire-safety" && c["title"] == "Fire safety"));
    let o = run(&["campaigns", "list", "--db", db]);
    assert!(stdout(&o).lines().any(|l| l == "new-one"));
    // Refused: a control character, a title for a group.
    assert_eq!(code(&run(&["groups", "add", "a\u{1b}b", "--db", db])), 2);
    assert_eq!(
        code(&run(&["groups", "add", "x", "--title", "y", "--db", db])),
        2
    );

    // What was added is what an upload can name.
    let file = write(
        &env,
        "one.csv",
        "firstname,lastname,emailaddress,addgroup\nAna,Silva,ana@x.com,Night Shift\n",
    );
    let o = apply_file(
        &env,
        std::path::Path::new(&file),
        &["--enrol", "course:fire-safety"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        env.count("SELECT count(*) FROM enrolments WHERE content_id = 'fire-safety'"),
        1
    );
}

#[test]
fn the_results_csv_has_a_bom_the_names_and_the_rows_own_data() {
    let env = Env::demo();
    let o = apply_file(&env, &sample(), &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let csv = std::fs::read_to_string(env.path("results/run-1.csv")).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a byte order mark for Excel");
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains(r#""firstname","lastname","status""#),
        "{header}"
    );
    // The file's own columns, headed as written.
    assert!(header.contains(r#""Phone Number","Unique ID""#), "{header}");
    let row = csv.lines().find(|l| l.contains("aroha.ngata")).unwrap();
    assert!(row.contains(r#""Aroha","Ngata","created""#), "{row}");
    assert!(row.contains("NZ-1001"), "{row}");
    // The export has the BOM and the names too.
    let o = run(&["results", "--db", env.db_str()]);
    assert!(stdout(&o).starts_with('\u{feff}'));
    assert!(stdout(&o).contains(r#""Aroha","Ngata""#));
}

#[test]
fn issues_name_the_header_as_written_and_one_row_is_singular() {
    let env = Env::demo();
    let file = write(
        &env,
        "one.csv",
        "First Name,Last Name,E-mail Address\nAna,Silva,not-an-email\n",
    );
    let o = run(&["validate", &file]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("E-mail Address"), "{out}");
    assert!(!out.contains("emailaddress"), "{out}");
    assert!(out.contains("1 row "), "{out}");
    assert!(!out.contains("1 rows"), "{out}");
    // The JSON keeps the canonical name, for machines.
    let o = run(&["validate", &file, "--json"]);
    assert!(
        stdout(&o).contains(r#""column": "emailaddress""#),
        "{}",
        stdout(&o)
    );

    let good = write(
        &env,
        "good.csv",
        "firstname,lastname,emailaddress\nAna,Silva,ana@x.com\n",
    );
    let o = apply_file(&env, std::path::Path::new(&good), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("Done: 1 row:"), "{}", stdout(&o));
}

#[test]
fn help_says_what_exit_code_1_means() {
    let o = run(&["--help"]);
    let out = stdout(&o);
    assert!(out.contains("rejected (validate, plan, apply"), "{out}");
    assert!(out.contains("failed (apply, undo"), "{out}");
    // And it is true: rejected rows in an apply exit 1.
    let env = Env::demo();
    let file = write(
        &env,
        "bad.csv",
        "firstname,lastname,emailaddress\nAna,Silva,ana@x.com\nBo,Li,nope\n",
    );
    let o = apply_file(&env, std::path::Path::new(&file), &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
}

#[test]
fn spreadsheets_and_code_pages_are_read_with_sheet_and_encoding() {
    // One row of the fixture has a bad email, on purpose.
    let o = run(&["validate", &fixture("staff.xlsx")]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("4 rows (sheet \"Staff\")"),
        "{}",
        stdout(&o)
    );
    let o = run(&["validate", &fixture("staff.xlsx"), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["sheet"], "Staff", "{report}");
    let o = run(&[
        "validate",
        &fixture("staff.xlsx"),
        "--sheet",
        "Managers",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["sheet"], "Managers");
    let o = run(&["validate", &fixture("staff.xlsx"), "--sheet", "Nope"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));

    let env = Env::demo();
    let o = apply_file(
        &env,
        std::path::Path::new(&fixture("windows1250_polish.csv")),
        &["--encoding", "windows-1250"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let name: String = env
        .conn()
        .query_row(
            "SELECT first_name || ' ' || last_name FROM users WHERE email_key = 'lukasz@example.pl'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "Łukasz Świątek");
    // A label that names no encoding is refused, naming the flag.
    let o = run(&[
        "validate",
        &fixture("windows1250_polish.csv"),
        "--encoding",
        "klingon",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--encoding"), "{}", stderr(&o));
    // The settings file's keys.
    let settings = write(
        &env,
        "s.toml",
        "encoding = \"windows-1250\"\nsite_url = \"https://x.example/\"\n",
    );
    let o = run(&[
        "validate",
        &fixture("windows1250_polish.csv"),
        "--settings",
        &settings,
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("windows-1250"), "{}", stdout(&o));
}
