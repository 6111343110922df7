//! The outbox's two-phase publication, with real files and a real SQLite database: a batch's
//! messages reach the outbox only once the transaction holding its rows has committed. A
//! process stopped before the COMMIT leaves pending messages that are deleted unread when the
//! outbox is next opened (their rows were rolled back, and will be redone with new links);
//! one stopped after the COMMIT but before the messages were moved leaves them recorded, and
//! they are published then. Both formats (`eml`, `mbox`).
#![allow(clippy::unwrap_used, missing_docs)]

use lms_bulk_upload::{Mailer, Message, MessageFields, MessageKind};
use lms_bulk_upload_sqlite::db::Db;
use lms_bulk_upload_sqlite::mail::{OutboxFormat, OutboxMailer};
use std::path::{Path, PathBuf};
use std::rc::Rc;

const FORMATS: [OutboxFormat; 2] = [OutboxFormat::Eml, OutboxFormat::Mbox];

struct Env {
    _dir: tempfile::TempDir,
    db: PathBuf,
    outbox: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    Env {
        db: dir.path().join("lms.sqlite3"),
        outbox: dir.path().join("outbox"),
        _dir: dir,
    }
}

fn open(env: &Env, format: OutboxFormat) -> (Rc<Db>, OutboxMailer) {
    let db = Db::open(&env.db).ok().unwrap();
    let from = "LMS <no-reply@lms.example.org>".parse().unwrap();
    let mailer = OutboxMailer::open_for_run(&env.outbox, from, format, &db)
        .ok()
        .unwrap();
    (db, mailer)
}

fn welcome(n: u32) -> Message {
    let to = format!("user{n}@example.org");
    Message {
        kind: MessageKind::Welcome,
        to: to.clone(),
        subject: "Welcome".into(),
        text: format!("Set your password: https://lms.example.org/invite/token-{n}\n"),
        html: format!("<a href=\"https://lms.example.org/invite/token-{n}\">Set it</a>"),
        fields: MessageFields {
            login: to,
            ..MessageFields::default()
        },
    }
}

/// Writes user `n` in the open transaction (opening one) and mails their link.
fn row(db: &Db, mailer: &mut OutboxMailer, n: u32) {
    db.write(|conn| {
        conn.execute(
            "INSERT INTO users (email, email_key, first_name, last_name) VALUES (?1, ?1, 'P', 'T')",
            [format!("user{n}@example.org")],
        )
    })
    .unwrap();
    mailer.send(&welcome(n)).unwrap();
}

/// The messages published in the outbox: its visible files' text (folders skipped).
fn published(outbox: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(outbox)
        .unwrap()
        .map(Result::unwrap)
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| std::fs::read_to_string(outbox.join(n)).unwrap())
        .collect()
}

fn pending_files(outbox: &Path) -> usize {
    std::fs::read_dir(outbox.join(".pending")).map_or(0, Iterator::count)
}

fn recorded(db: &Db) -> i64 {
    db.conn()
        .query_row("SELECT count(*) FROM outbox_pending", [], |r| r.get(0))
        .unwrap()
}

fn users(db: &Db) -> i64 {
    db.conn()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_batch_is_published_by_its_commit_and_never_before() {
    for format in FORMATS {
        let env = env();
        let (db, mut mailer) = open(&env, format);
        row(&db, &mut mailer, 1);
        row(&db, &mut mailer, 2);
        mailer.flush().unwrap();
        assert_eq!(
            published(&env.outbox),
            "",
            "{format:?}: nothing before the commit"
        );
        assert!(pending_files(&env.outbox) > 0, "{format:?}");
        db.commit().unwrap();
        // The mailer's thread moves the committed batch; `finish` waits for it.
        mailer.finish().unwrap();
        let text = published(&env.outbox);
        assert!(
            text.contains("token-1") && text.contains("token-2"),
            "{format:?}"
        );
        assert_eq!(pending_files(&env.outbox), 0, "{format:?}");
        assert_eq!(
            recorded(&db),
            0,
            "{format:?}: the record goes with publication"
        );

        // A message sent with no transaction open (the upload's confirmation) depends on no
        // uncommitted row: it is published by the flush.
        mailer.send(&welcome(3)).unwrap();
        mailer.flush().unwrap();
        assert!(published(&env.outbox).contains("token-3"), "{format:?}");
        assert_eq!(pending_files(&env.outbox), 0, "{format:?}");
        drop(mailer);
        assert!(!env.outbox.join(".pending").exists(), "{format:?}: tidied");
    }
}

#[test]
fn stopped_before_the_commit_the_batch_is_deleted_unread() {
    for format in FORMATS {
        let env = env();
        {
            let (db, mut mailer) = open(&env, format);
            row(&db, &mut mailer, 1);
            mailer.flush().unwrap();
            db.commit().unwrap();
            mailer.finish().unwrap();
            row(&db, &mut mailer, 2);
            row(&db, &mut mailer, 3);
            mailer.flush().unwrap();
            assert_eq!(
                recorded(&db),
                1,
                "{format:?}: recorded inside the open batch"
            );
            // Stopped here: the transaction is never committed.
        }
        assert!(pending_files(&env.outbox) > 0, "{format:?}: left pending");
        let db = Db::open(&env.db).ok().unwrap();
        assert_eq!(recorded(&db), 0, "{format:?}: the record was rolled back");
        assert_eq!(users(&db), 1, "{format:?}: and the batch's rows with it");
        drop(db);

        let (db, _mailer) = open(&env, format);
        assert_eq!(pending_files(&env.outbox), 0, "{format:?}: deleted");
        assert!(!env.outbox.join(".pending").exists(), "{format:?}");
        let text = published(&env.outbox);
        assert!(
            text.contains("token-1"),
            "{format:?}: the committed batch's"
        );
        assert!(
            !text.contains("token-2") && !text.contains("token-3"),
            "{format:?}: no dead link published"
        );
        assert_eq!(recorded(&db), 0);
    }
}

#[test]
fn stopped_after_the_commit_the_batch_is_published_on_reopening() {
    for format in FORMATS {
        let env = env();
        {
            let (db, mut mailer) = open(&env, format);
            row(&db, &mut mailer, 1);
            row(&db, &mut mailer, 2);
            mailer.flush().unwrap();
            // The COMMIT alone, as if the process stopped right after it, before `Db::commit`
            // moved the messages.
            db.conn().execute_batch("COMMIT").unwrap();
        }
        assert_eq!(published(&env.outbox), "", "{format:?}: not yet published");
        let db = Db::open(&env.db).ok().unwrap();
        assert_eq!(recorded(&db), 1, "{format:?}: the commit kept the record");
        assert_eq!(users(&db), 2, "{format:?}");
        drop(db);

        let (db, mut mailer) = open(&env, format);
        let text = published(&env.outbox);
        assert!(
            text.contains("token-1") && text.contains("token-2"),
            "{format:?}: published on reopening"
        );
        assert_eq!(pending_files(&env.outbox), 0, "{format:?}");
        assert_eq!(recorded(&db), 0, "{format:?}");

        // The next messages are numbered after the ones published.
        row(&db, &mut mailer, 4);
        mailer.flush().unwrap();
        db.commit().unwrap();
        mailer.finish().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&env.outbox)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let last = names.last().unwrap();
        assert!(
            std::fs::read_to_string(env.outbox.join(last))
                .unwrap()
                .contains("token-4"),
            "{format:?}: {names:?}"
        );
    }
}

#[test]
fn a_published_batch_record_removed_in_a_stopped_batch_is_harmless() {
    for format in FORMATS {
        let env = env();
        {
            let (db, mut mailer) = open(&env, format);
            row(&db, &mut mailer, 1);
            mailer.flush().unwrap();
            db.commit().unwrap();
            // The publishing thread moves the first batch while the next rows run; its
            // record goes in the next batch's transaction, which is never committed here.
            row(&db, &mut mailer, 2);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !published(&env.outbox).contains("token-1") {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{format:?}: never moved"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            mailer.flush().unwrap();
            assert_eq!(recorded(&db), 1, "{format:?}: only the second batch's");
            // Stopped here: the second batch is rolled back, the first batch's record with it.
            drop(mailer);
            drop(db);
        }
        let db = Db::open(&env.db).ok().unwrap();
        assert_eq!(
            recorded(&db),
            1,
            "{format:?}: the first batch's record is back"
        );
        assert_eq!(users(&db), 1, "{format:?}");
        drop(db);
        let (db, _mailer) = open(&env, format);
        assert_eq!(recorded(&db), 0, "{format:?}: forgotten on reopening");
        assert_eq!(pending_files(&env.outbox), 0, "{format:?}");
        let text = published(&env.outbox);
        assert!(text.contains("token-1"), "{format:?}");
        assert!(
            !text.contains("token-2"),
            "{format:?}: no dead link published"
        );
    }
}

#[test]
fn a_batch_that_cannot_be_moved_fails_every_later_flush_and_holds_back_the_rest() {
    for format in FORMATS {
        let env = env();
        let (db, mut mailer) = open(&env, format);
        // Planted once the mailer has numbered its files from 1: the first batch's file
        // cannot be renamed over a folder that holds something.
        let name = match format {
            OutboxFormat::Eml => "0000001-welcome-user1@example.org.eml",
            _ => "0000001-batch.mbox",
        };
        let obstacle = env.outbox.join(name);
        std::fs::create_dir(&obstacle).unwrap();
        std::fs::write(obstacle.join("keep"), "x").unwrap();
        row(&db, &mut mailer, 1);
        mailer.flush().unwrap();
        db.commit().unwrap();

        // A message outside any transaction (the upload's confirmation) waits for the
        // batches before it, and is not published when one of them could not be moved.
        mailer.send(&welcome(2)).unwrap();
        let failed = mailer.flush().unwrap_err();
        assert!(
            failed.message().contains("could not be moved"),
            "{format:?}: {}",
            failed.message()
        );
        // Every later flush, and `finish`, say so again: the run is not recorded finished.
        assert!(mailer.flush().is_err(), "{format:?}");
        assert!(mailer.finish().is_err(), "{format:?}");
        drop(mailer);
        assert!(!published(&env.outbox).contains("token-"), "{format:?}");
        assert_eq!(
            recorded(&db),
            1,
            "{format:?}: the committed batch stays recorded"
        );

        // The obstacle gone, the next opening publishes the committed batch; the message
        // that waited for it was never recorded, and is deleted unread.
        std::fs::remove_dir_all(&obstacle).unwrap();
        drop(db);
        let (db, mailer) = open(&env, format);
        let text = published(&env.outbox);
        assert!(text.contains("token-1"), "{format:?}");
        assert!(!text.contains("token-2"), "{format:?}");
        assert_eq!(recorded(&db), 0, "{format:?}");
        assert_eq!(pending_files(&env.outbox), 0, "{format:?}");
        drop(mailer);
    }
}
