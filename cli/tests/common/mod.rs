//! Helpers shared by the integration tests: the real binary, temp databases, generated files.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, missing_docs)]

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_bulk-upload");

/// The sample file of `make demo`.
pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/users.csv")
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The binary with cheap argon2 parameters (allowed by the insecure switch, for speed) and
/// no inherited settings.
pub fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("BULK_UPLOAD_ARGON2_MEMORY_KIB", "64")
        .env("BULK_UPLOAD_ARGON2_ITERATIONS", "1")
        .env("BULK_UPLOAD_INSECURE_FAST_HASHING", "1")
        .env_remove("BULK_UPLOAD_SITE_URL")
        .env_remove("BULK_UPLOAD_DB")
        .env_remove("BULK_UPLOAD_SMTP")
        .env_remove("BULK_UPLOAD_OUTBOX")
        .stdin(Stdio::null());
    // Emails need a configured site: one for the tests, unless a settings file names its
    // own or the command serves the screens (whose site is the address listened on).
    if !args.iter().any(|a| *a == "--settings" || *a == "serve") {
        c.env("BULK_UPLOAD_SITE_URL", "https://lms.test.example/");
    }
    c
}

pub fn run(args: &[&str]) -> Output {
    cmd(args).output().unwrap()
}

/// `apply FILE --db DB --yes` and `extra`.
pub fn apply_file(env: &Env, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "apply",
        file.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A temp folder with a demo database (`lms.sqlite3`).
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn demo() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        let o = run(&["init", "--demo", "--db", env.db_str()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        env
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn db(&self) -> PathBuf {
        self.path("lms.sqlite3")
    }
    pub fn db_str(&self) -> &str {
        // Leaked once per test: fine for tests.
        Box::leak(self.db().display().to_string().into_boxed_str())
    }
    pub fn conn(&self) -> Connection {
        Connection::open(self.db()).unwrap()
    }
    pub fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
    /// The stored argon2id PHC string of the user with this (lowercase) email.
    pub fn password_hash(&self, email: &str) -> String {
        self.conn()
            .query_row(
                "SELECT password_hash FROM users WHERE email_key = ?1",
                [email],
                |r| r.get(0),
            )
            .unwrap()
    }
    /// Run `id`'s stored plan JSON, inflated (`runs::plan_text`).
    pub fn stored_plan_json(&self, id: i64) -> String {
        let (json, deflate): (String, Option<Vec<u8>>) = self
            .conn()
            .query_row(
                "SELECT plan_json, plan_deflate FROM upload_runs WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        lms_bulk_upload_sqlite::db::runs::plan_text(id, json, deflate.as_deref()).unwrap()
    }
    pub fn outbox(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path("outbox"))
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

/// A CSV of `n` new people, all valid.
pub fn generated_csv(path: &Path, n: usize) {
    let mut text = String::from("firstname,lastname,emailaddress,country,addgroup\n");
    for i in 0..n {
        text.push_str(&format!(
            "Person{i},Tester,person{i}@example.org,New Zealand,Sales\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// The database invariants that must hold after any run, complete or killed.
pub fn check_invariants(env: &Env) {
    assert_eq!(
        env.count(
            "SELECT count(*) FROM users WHERE password_hash IS NULL AND protected = 0 \
             AND login_method IS NULL"
        ),
        0,
        "every uploaded user who signs in by password has a password hash"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE password_hash NOT LIKE '$argon2id$%'"),
        0,
        "hashes are argon2id PHC strings"
    );
    assert_eq!(
        env.count("SELECT count(*) - count(DISTINCT lower(email)) FROM users"),
        0,
        "no duplicate emails"
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM group_members m LEFT JOIN users u ON u.id = m.user_id \
             WHERE u.id IS NULL"
        ),
        0,
        "memberships refer to existing users"
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM enrolments e LEFT JOIN users u ON u.id = e.user_id \
             WHERE u.id IS NULL"
        ),
        0,
        "enrolments refer to existing users"
    );
    let check: String = env
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// The decoded text body of an .eml file.
pub fn eml_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let mail = mailparse::parse_mail(&bytes).unwrap();
    let part = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .unwrap_or(&mail);
    part.get_body().unwrap()
}

/// The password in a welcome email, if it carries one.
pub fn password_in(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .map(|p| p.trim().to_owned())
}

/// The stored profile field values of the user with this (lowercase) email, by name.
pub fn fields_of(env: &Env, email: &str) -> std::collections::BTreeMap<String, String> {
    env.conn()
        .prepare(
            "SELECT f.name, f.value FROM user_fields f JOIN users u ON u.id = f.user_id \
             WHERE u.email_key = ?1",
        )
        .unwrap()
        .query_map([email], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The user's `login_method` (NULL: password), `password_hash IS NOT NULL` and `suspended`.
pub fn login_of(env: &Env, email: &str) -> (Option<String>, bool, bool) {
    env.conn()
        .query_row(
            "SELECT login_method, password_hash IS NOT NULL, suspended FROM users \
             WHERE email_key = ?1",
            [email],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// The outbox's messages to `to` (`-welcome-` or other kinds in the file name), as text.
pub fn emails_to(env: &Env, to: &str) -> Vec<String> {
    env.outbox()
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&format!("-{to}.eml")))
        })
        .map(|p| eml_text(p))
        .collect()
}
