//! SMTP delivery to a real SMTP server on loopback: Python's aiosmtpd (from PyPI), started by
//! the test, storing what it receives in a Maildir.
//!
//! The Python comes from `BULK_UPLOAD_TEST_PYTHON` (`make test` points it at `.venv/bin/python`
//! with aiosmtpd installed), else `python3`. When aiosmtpd cannot be imported the test is
//! skipped with a message, unless `BULK_UPLOAD_REQUIRE_SMTP=1` (set by `make test`), which
//! turns the skip into a failure.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> String {
    std::env::var("BULK_UPLOAD_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn has_aiosmtpd(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(python: &str, maildir: &std::path::Path) -> (Server, u16) {
    let port = free_port();
    let child = Command::new(python)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
            maildir.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "aiosmtpd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

/// The Python with aiosmtpd, or `None` (the test is skipped) unless it is required.
fn aiosmtpd_python() -> Option<String> {
    let python = python();
    if has_aiosmtpd(&python) {
        return Some(python);
    }
    let msg = format!("SKIPPED: {python} cannot import aiosmtpd (pip install aiosmtpd)");
    assert!(
        std::env::var("BULK_UPLOAD_REQUIRE_SMTP").as_deref() != Ok("1"),
        "{msg}, and BULK_UPLOAD_REQUIRE_SMTP=1"
    );
    eprintln!("{msg}");
    None
}

/// A demo database and an aiosmtpd server storing into its `maildir` (`None`: skipped).
fn demo_with_server() -> Option<(Env, std::path::PathBuf, Server, u16)> {
    let python = aiosmtpd_python()?;
    let env = Env::demo();
    let maildir = env.path("maildir");
    let (server, port) = start_server(&python, &maildir);
    Some((env, maildir, server, port))
}

#[test]
fn emails_are_delivered_to_a_real_smtp_server() {
    let Some((env, maildir, _server, port)) = demo_with_server() else {
        return;
    };
    let sample = sample();
    // aiosmtpd on loopback has no certificate: plain text, asked for by name.
    let url = format!("smtp://127.0.0.1:{port}?tls=none");
    let o = run(&[
        "apply",
        sample.to_str().unwrap(),
        "--db",
        env.db_str(),
        "--yes",
        "--smtp",
        &url,
        "--mail-from",
        "LMS <lms@example.co.nz>",
        "--uploader-email",
        "admin@example.co.nz",
    ]);
    assert_eq!(code(&o), 1, "rejected rows only: {}", stderr(&o));
    assert!(stderr(&o).contains("plain text"), "warned: {}", stderr(&o));
    assert!(
        stdout(&o).contains("46 email(s) sent by SMTP"),
        "{}",
        stdout(&o)
    );
    assert!(env.outbox().is_empty(), "SMTP, not the outbox");

    let delivered: Vec<_> = std::fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(delivered.len(), 46);
    let mut recipients = Vec::new();
    for path in &delivered {
        let bytes = std::fs::read(path).unwrap();
        let mail = mailparse::parse_mail(&bytes).unwrap();
        use mailparse::MailHeaderMap;
        assert_eq!(
            mail.headers.get_first_value("From").unwrap(),
            "LMS <lms@example.co.nz>"
        );
        recipients.push(mail.headers.get_first_value("To").unwrap());
    }
    assert!(recipients.iter().any(|r| r == "zoe.mueller@example.de"));
    assert!(recipients.iter().any(|r| r == "admin@example.co.nz"));
    // A delivered welcome email carries the password that the database's hash accepts.
    let welcome = delivered
        .iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("To: aroha.ngata@example.co.nz")
        })
        .unwrap();
    let password = password_in(&eml_text(welcome)).unwrap();
    let hash = env.password_hash("aroha.ngata@example.co.nz");
    assert!(lms_bulk_upload::PasswordHash::from_phc(hash).verify(&password));
}

#[test]
fn a_server_without_tls_is_refused_unless_the_url_opts_out() {
    let Some((env, maildir, _server, port)) = demo_with_server() else {
        return;
    };
    let sample = sample();
    // The URL: credentials, port, no `?tls=`. STARTTLS is required, and this server
    // does not offer it: refused before any user is written or any email sent.
    for url in [
        format!("smtp://lms:Hunter2-smtp@127.0.0.1:{port}"),
        format!("smtp://lms:Hunter2-smtp@127.0.0.1:{port}?tls=required"),
    ] {
        let o = apply_file(&env, &sample, &["--smtp", &url]);
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("TLS"), "{err}");
        assert!(!err.contains("Hunter2"), "{err}");
    }
    let url = format!("smtp://127.0.0.1:{port}?tls=opportunistic");
    let o = apply_file(&env, &sample, &["--smtp", &url]);
    assert_eq!(
        code(&o),
        2,
        "downgradable: refused as a usage error: {}",
        stderr(&o)
    );
    assert_eq!(env.count("SELECT count(*) FROM users"), 1);
    let delivered = std::fs::read_dir(maildir.join("new")).map_or(0, |d| d.count());
    assert_eq!(delivered, 0, "nothing sent in plain text");
}

#[test]
fn an_unreachable_smtp_server_is_reported_before_anything_is_written() {
    let env = Env::demo();
    let sample = sample();
    let url = format!("smtp://127.0.0.1:{}?tls=none", free_port());
    let o = apply_file(&env, &sample, &["--smtp", &url]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("SMTP"), "{}", stderr(&o));
    assert_eq!(env.count("SELECT count(*) FROM users"), 1);
}
