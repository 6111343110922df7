//! The database schema, created and upgraded by numbered migrations (`PRAGMA user_version`).
//!
//! See `cli/README.md` for the documented schema.

use rusqlite::Connection;

/// Migration `n` (1-based) brings the schema from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    // 1: users, groups, memberships, content, enrolments, upload runs and their journal.
    r#"
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    email                TEXT NOT NULL,                 -- as written in the upload
    email_key            TEXT NOT NULL UNIQUE,          -- lowercase: the identity
    first_name           TEXT NOT NULL,
    last_name            TEXT NOT NULL,
    phone_number         TEXT,
    unique_id            TEXT,
    country              TEXT,
    organisation         TEXT,
    language_code        TEXT,
    password_hash        TEXT CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    force_password_reset INTEGER NOT NULL DEFAULT 0 CHECK (force_password_reset IN (0, 1)),
    protected            INTEGER NOT NULL DEFAULT 0 CHECK (protected IN (0, 1)),
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at           TEXT
);
CREATE TABLE groups (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE                           -- case-sensitive (BINARY)
);
CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_by_user ON group_members (user_id);
CREATE TABLE content_items (
    kind  TEXT NOT NULL CHECK (kind IN ('course', 'collection', 'campaign')),
    id    TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE enrolments (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    content_id  TEXT NOT NULL,
    enrolled_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (user_id, kind, content_id),
    FOREIGN KEY (kind, content_id) REFERENCES content_items (kind, id)
) WITHOUT ROWID;
CREATE TABLE upload_runs (
    id           INTEGER PRIMARY KEY,
    run_key      TEXT NOT NULL,                         -- file, settings and store generation
    fingerprint  TEXT NOT NULL,                         -- the plan's
    source       TEXT NOT NULL,                         -- the file name (or plan file)
    status       TEXT NOT NULL CHECK (status IN ('running', 'finished')),
    plan_json    TEXT NOT NULL,
    results_path TEXT,
    results_json TEXT,
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at  TEXT
);
CREATE INDEX upload_runs_by_key ON upload_runs (run_key, status);
CREATE TABLE upload_journal (
    fingerprint TEXT NOT NULL,
    line        INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('begun', 'finished')),
    result_json TEXT,
    PRIMARY KEY (fingerprint, line)
) WITHOUT ROWID;
"#,
    // 2: ids never reused (AUTOINCREMENT: a plan's user, group or run id can never name a
    // newer row), the journal keyed by run instead of by fingerprint, and the plan key.
    // Tables are rebuilt with foreign keys off (see `migrate`); rows keep their ids.
    r#"
CREATE TABLE users_v2 (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    email                TEXT NOT NULL,
    email_key            TEXT NOT NULL UNIQUE,
    first_name           TEXT NOT NULL,
    last_name            TEXT NOT NULL,
    phone_number         TEXT,
    unique_id            TEXT,
    country              TEXT,
    organisation         TEXT,
    language_code        TEXT,
    password_hash        TEXT CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    force_password_reset INTEGER NOT NULL DEFAULT 0 CHECK (force_password_reset IN (0, 1)),
    protected            INTEGER NOT NULL DEFAULT 0 CHECK (protected IN (0, 1)),
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at           TEXT
);
INSERT INTO users_v2 SELECT * FROM users;
DROP TABLE users;
ALTER TABLE users_v2 RENAME TO users;
CREATE TABLE groups_v2 (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO groups_v2 SELECT * FROM groups;
DROP TABLE groups;
ALTER TABLE groups_v2 RENAME TO groups;
CREATE TABLE upload_runs_v2 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    source       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'finished')),
    plan_json    TEXT NOT NULL,
    results_path TEXT,
    results_json TEXT,
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at  TEXT
);
INSERT INTO upload_runs_v2 SELECT * FROM upload_runs;
DROP TABLE upload_runs;
ALTER TABLE upload_runs_v2 RENAME TO upload_runs;
CREATE INDEX upload_runs_by_key ON upload_runs (run_key, status);
CREATE TABLE run_journal (
    run_id      INTEGER NOT NULL REFERENCES upload_runs (id),
    line        INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('begun', 'finished')),
    result_json TEXT,
    PRIMARY KEY (run_id, line)
) WITHOUT ROWID;
INSERT OR IGNORE INTO run_journal (run_id, line, state, result_json)
    SELECT (SELECT max(r.id) FROM upload_runs r WHERE r.fingerprint = j.fingerprint),
           j.line, j.state, j.result_json
    FROM upload_journal j
    WHERE EXISTS (SELECT 1 FROM upload_runs r WHERE r.fingerprint = j.fingerprint);
DROP TABLE upload_journal;
CREATE TABLE plan_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL CHECK (length(key) >= 32)
);
"#,
    // 3: undo. A user can be suspended (what undoing the upload that created it does); a
    // run records which run it undoes, and which run undid it.
    r#"
ALTER TABLE users ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1));
ALTER TABLE upload_runs ADD COLUMN undo_of_run INTEGER REFERENCES upload_runs (id);
ALTER TABLE upload_runs ADD COLUMN undone_by INTEGER REFERENCES upload_runs (id);
CREATE INDEX upload_runs_by_undo_of ON upload_runs (undo_of_run);
"#,
    // 4: the host's declarations. How a user signs in (NULL: by password; else one of the
    // settings file's `login_methods`, whose users have no password hash), and the values of
    // the declared profile fields, one row per user and field (no row: no value).
    r#"
ALTER TABLE users ADD COLUMN login_method TEXT
    CHECK (login_method IS NULL OR (login_method <> 'password' AND length(login_method) BETWEEN 1 AND 64));
CREATE TABLE user_fields (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    value   TEXT NOT NULL CHECK (value <> ''),
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
"#,
    // 5: who suspended a user. 1 when bulk-upload suspended them (missing from a file, or
    // undoing the upload that created them): only those may be reactivated by an upload
    // (`reactivate_suspended_users`); a user suspended by hand (or before this version)
    // is 0. Email keys of non-ASCII addresses are recomputed after it (IDNA domains).
    r#"
ALTER TABLE users ADD COLUMN suspended_by_upload INTEGER NOT NULL DEFAULT 0
    CHECK (suspended_by_upload IN (0, 1));
"#,
    // 6: the web host (`bulk-upload serve`). Administrators of the screens in a table of
    // their own (not a role on `users`: an upload can never change who administers it, nor
    // an administrator's password); sessions by the SHA-256 of their id (the id itself is
    // only in the browser's cookie); upload sessions with their bytes; plans as signed JSON,
    // each with the run id reserved for its results link; and the web's side of each run
    // (who approved it, its state).
    r#"
CREATE TABLE admins (
    email_key     TEXT PRIMARY KEY,                     -- lowercase: the identity
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;
CREATE TABLE web_sessions (
    digest     BLOB PRIMARY KEY CHECK (length(digest) = 32),
    admin      TEXT NOT NULL REFERENCES admins (email_key) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL                         -- seconds since the Unix epoch
) WITHOUT ROWID;
CREATE TABLE web_uploads (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    admin       TEXT NOT NULL,
    filename    TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    assignments TEXT NOT NULL DEFAULT '{}',             -- header position -> field or null
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE web_plans (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    admin          TEXT NOT NULL,
    upload_id      INTEGER REFERENCES web_uploads (id),
    upload_version INTEGER,
    undo_of_run    INTEGER REFERENCES upload_runs (id),
    run_id         INTEGER NOT NULL UNIQUE,              -- reserved: the run it becomes
    settings_json  TEXT NOT NULL,
    excluded_lines TEXT NOT NULL DEFAULT '[]',
    plan_json      TEXT NOT NULL,                        -- signed with the plan key
    approved       INTEGER NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE web_runs (
    run_id      INTEGER PRIMARY KEY REFERENCES upload_runs (id),
    plan_id     INTEGER NOT NULL UNIQUE REFERENCES web_plans (id),
    admin       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'cancelled', 'interrupted')),
    done        INTEGER NOT NULL DEFAULT 0,
    total       INTEGER NOT NULL,
    error       TEXT
);
"#,
    // 7: how the administrator asked an upload to be read: the sheet of a workbook and the
    // encoding of a CSV file (null: the first sheet, the encoding the engine detects). The
    // file's bytes move to a table of their own, as its last column: SQLite then writes and
    // reads them in place (incremental blob I/O) instead of building the whole row in memory,
    // which for a blob followed by other columns is two more copies of the file.
    r#"
ALTER TABLE web_uploads ADD COLUMN sheet TEXT;
ALTER TABLE web_uploads ADD COLUMN encoding TEXT;
CREATE TABLE web_upload_files (
    upload_id INTEGER PRIMARY KEY REFERENCES web_uploads (id),
    bytes     BLOB NOT NULL                             -- the file with its fixes
);
INSERT INTO web_upload_files (upload_id, bytes) SELECT id, bytes FROM web_uploads;
UPDATE web_uploads SET bytes = x'';
"#,
    // 8: sign-in links ("invitations"). Only the SHA-256 digest of a link's token is kept
    // (its 32 bytes; the token itself is only in the email), with the user, the upload that
    // issued it (its plan fingerprint, once in `invitation_uploads`: what undo revokes by),
    // when it expires (Unix seconds) and when it was used. Unused links of other uploads are
    // deleted when a user gets a new one.
    r#"
CREATE TABLE invitation_uploads (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE
);
CREATE TABLE invitations (
    digest     BLOB PRIMARY KEY CHECK (length(digest) = 32),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upload_id  INTEGER NOT NULL REFERENCES invitation_uploads (id),
    expires_at INTEGER NOT NULL,
    used_at    TEXT
) WITHOUT ROWID;
CREATE INDEX invitations_by_user ON invitations (user_id);
"#,
    // 9: the outbox's pending batches (see `mail::pending`): a batch's messages wait in a
    // hidden folder of the outbox until the transaction that records the batch's name here
    // commits. Names only (the outbox folder and the batch's): never a message.
    r#"
CREATE TABLE outbox_pending (
    outbox TEXT NOT NULL,
    batch  TEXT NOT NULL,
    PRIMARY KEY (outbox, batch)
) WITHOUT ROWID;
"#,
    // 10: a row finished exactly as its plan row says is journaled `done` with its user id
    // alone (its result is rebuilt from the run's plan); `finished` keeps the whole result
    // JSON for any other. The table is rebuilt for its CHECK; entries keep their meaning.
    // A run's plan may be stored compressed (zlib: `runs::deflate_plan`), `plan_json` then
    // empty; runs stored before keep their JSON. The state's CHECK is written with `OR`, not
    // `IN (...)`: SQLite builds a temporary table for an `IN` list of strings on every
    // insert, and the journal has one insert per row of a run.
    r#"
ALTER TABLE upload_runs ADD COLUMN plan_deflate BLOB;
CREATE TABLE run_journal_v10 (
    run_id      INTEGER NOT NULL REFERENCES upload_runs (id),
    line        INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state = 'begun' OR state = 'done' OR state = 'finished'),
    result_json TEXT,                                   -- begun, done: the user id
    PRIMARY KEY (run_id, line)
) WITHOUT ROWID;
INSERT INTO run_journal_v10 SELECT run_id, line, state, result_json FROM run_journal;
DROP TABLE run_journal;
ALTER TABLE run_journal_v10 RENAME TO run_journal;
"#,
];

/// The migration after which every email key is recomputed with the engine's `email_key`
/// (from version 5 on, a domain is compared after IDNA mapping).
const REKEY_AT: usize = 5;

/// The schema version this binary writes.
pub const VERSION: usize = MIGRATIONS.len();

/// Runs the migrations the database has not had yet, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    migrate_to(conn, VERSION)
}

/// Runs the migrations up to version `target`.
fn migrate_to(conn: &mut Connection, target: usize) -> rusqlite::Result<usize> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > VERSION {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the database has schema version {current}, newer than this bulk-upload ({VERSION})"
        )));
    }
    // Rebuilding a table (create, copy, drop, rename) must not cascade the drop into the
    // rows that refer to it: foreign keys are off during migrations (a pragma that cannot
    // change inside a transaction), and checked before each commit.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    for (index, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while this one waited for the lock.
        let now: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > index {
            continue;
        }
        tx.execute_batch(sql)?;
        if index + 1 == REKEY_AT {
            rekey_non_ascii(&tx)?;
        }
        let violations: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if violations > 0 {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "migration {}: {violations} rows refer to missing rows; nothing was changed",
                index + 1
            )));
        }
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(target)
}

/// Recomputes the email key of every non-ASCII address (an ASCII address's key is its
/// lowercase, unchanged). A key another user already has is left as it was: the migration
/// never merges two people, an administrator does.
fn rekey_non_ascii(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT id, email FROM users WHERE email GLOB '*[^ -~]*'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, email) in rows {
        tx.execute(
            "UPDATE users SET email_key = ?2 WHERE id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email_key = ?2 AND o.id <> ?1)",
            rusqlite::params![id, lms_bulk_upload::email_key(&email)],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn migration_2_keeps_every_row_and_ids_are_never_reused_after() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("v1.sqlite3")).unwrap();
        migrate_to(&mut conn, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, email_key, first_name, last_name, protected) VALUES
               (1, 'root@x.com', 'root@x.com', 'Root', 'Admin', 1),
               (2, 'ana@x.com', 'ana@x.com', 'Ana', 'Lopez', 0),
               (3, 'bo@x.com', 'bo@x.com', 'Bo', 'Chan', 0);
             INSERT INTO groups (id, name) VALUES (1, 'Sales'), (2, 'Support');
             INSERT INTO group_members VALUES (1, 2), (2, 2), (1, 3);
             INSERT INTO content_items (kind, id) VALUES ('course', 'c1');
             INSERT INTO enrolments (user_id, kind, content_id) VALUES (3, 'course', 'c1');
             INSERT INTO upload_runs (id, run_key, fingerprint, source, status, plan_json)
               VALUES (1, 'k1', 'sha256:aa', 'a.csv', 'finished', '{}'),
                      (2, 'k2', 'sha256:bb', 'b.csv', 'running', '{}');
             INSERT INTO upload_journal VALUES ('sha256:bb', 2, 'finished', '{}'),
                                               ('sha256:bb', 3, 'begun', NULL),
                                               ('sha256:zz', 9, 'begun', NULL);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);

        assert_eq!(count(&conn, "SELECT count(*) FROM users"), 3);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM group_members"),
            3,
            "dropping the old users table cascaded into no membership"
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM enrolments"), 1);
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM users WHERE protected = 1 AND id = 1"
            ),
            1
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM upload_runs"), 2);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM run_journal WHERE run_id = 2"),
            2,
            "the running run keeps its journal, now under its id"
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM run_journal"), 2);
        assert_eq!(count(&conn, "SELECT count(*) FROM plan_key"), 0);

        // From now on a deleted id is never given again, even the highest one (which
        // version 1 gave to the next user).
        conn.execute(
            "INSERT INTO users (email, email_key, first_name, last_name) \
             VALUES ('cy@x.com', 'cy@x.com', 'Cy', 'Egan')",
            [],
        )
        .unwrap();
        let cy = conn.last_insert_rowid();
        conn.execute("DELETE FROM users WHERE id = ?1", [cy])
            .unwrap();
        conn.execute(
            "INSERT INTO users (email, email_key, first_name, last_name) \
             VALUES ('di@x.com', 'di@x.com', 'Di', 'Egan')",
            [],
        )
        .unwrap();
        assert!(conn.last_insert_rowid() > cy);
        let sql: String = conn
            .query_row(
                "SELECT group_concat(sql) FROM sqlite_master WHERE name IN ('users', 'groups', 'upload_runs')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(sql.matches("AUTOINCREMENT").count(), 3, "{sql}");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    #[test]
    fn migration_3_adds_the_suspended_flag_and_the_undo_links() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("v2.sqlite3")).unwrap();
        migrate_to(&mut conn, 2).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, email_key, first_name, last_name, protected) VALUES
               (1, 'root@x.com', 'root@x.com', 'Root', 'Admin', 1),
               (2, 'ana@x.com', 'ana@x.com', 'Ana', 'Lopez', 0);
             INSERT INTO groups (id, name) VALUES (1, 'Sales');
             INSERT INTO group_members VALUES (1, 2);
             INSERT INTO upload_runs (id, run_key, fingerprint, source, status, plan_json)
               VALUES (1, 'k1', 'sha256:aa', 'a.csv', 'finished', '{}');",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM users WHERE suspended = 0"),
            2,
            "nobody is suspended by the migration"
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM group_members"), 1);
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM upload_runs WHERE undo_of_run IS NULL AND undone_by IS NULL"
            ),
            1
        );
        // The flag is 0 or 1, and the links name runs.
        assert!(conn
            .execute("UPDATE users SET suspended = 2 WHERE id = 2", [])
            .is_err());
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        assert!(conn
            .execute("UPDATE upload_runs SET undone_by = 99 WHERE id = 1", [])
            .is_err());
    }

    #[test]
    fn migration_5_adds_suspended_by_upload_and_rekeys_idna_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("v4.sqlite3")).unwrap();
        migrate_to(&mut conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, email_key, first_name, last_name, suspended) VALUES
               (1, 'ana@bücher.de', 'ana@bücher.de', 'Ana', 'Lopez', 1),
               (2, 'Bo@X.com', 'bo@x.com', 'Bo', 'Chan', 0),
               (3, 'cy@xn--bcher-kva.de', 'cy@xn--bcher-kva.de', 'Cy', 'Old', 0),
               (4, 'cy@bücher.de', 'cy@bücher.de', 'Cy', 'New', 0);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);
        let key = |id: i64| -> String {
            conn.query_row("SELECT email_key FROM users WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert_eq!(key(1), "ana@xn--bcher-kva.de");
        assert_eq!(key(2), "bo@x.com");
        assert_eq!(
            key(4),
            "cy@bücher.de",
            "a key another user has is left as it was"
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM users WHERE suspended_by_upload = 1"
            ),
            0,
            "a user suspended before is not known to be an upload's"
        );
        assert!(conn
            .execute("UPDATE users SET suspended_by_upload = 2 WHERE id = 1", [])
            .is_err());
    }

    #[test]
    fn migration_4_adds_login_methods_and_profile_field_values() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("v3.sqlite3")).unwrap();
        migrate_to(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, email_key, first_name, last_name, password_hash) VALUES
               (1, 'ana@x.com', 'ana@x.com', 'Ana', 'Lopez', '$argon2id$v=19$m=64,t=1,p=1$x$y'),
               (2, 'bo@x.com', 'bo@x.com', 'Bo', 'Chan', NULL);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM users WHERE login_method IS NULL"
            ),
            2,
            "everyone signs in by password after the migration"
        );
        conn.execute_batch(
            "UPDATE users SET login_method = 'saml' WHERE id = 2;
             INSERT INTO user_fields VALUES (1, 'department', 'Sales'), (2, 'department', 'Ops');",
        )
        .unwrap();
        for refused in [
            "UPDATE users SET login_method = 'password' WHERE id = 1",
            "UPDATE users SET login_method = '' WHERE id = 1",
            "INSERT INTO user_fields VALUES (1, 'grade', '')",
            "INSERT INTO user_fields VALUES (1, 'department', 'Support')",
            "INSERT INTO user_fields VALUES (99, 'department', 'Sales')",
        ] {
            assert!(conn.execute(refused, []).is_err(), "{refused}");
        }
        conn.execute("DELETE FROM users WHERE id = 1", []).unwrap();
        assert_eq!(
            count(&conn, "SELECT count(*) FROM user_fields"),
            1,
            "a user's values go with it"
        );
    }

    #[test]
    fn migration_7_moves_upload_bytes_to_their_own_table_and_adds_the_reading() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("v6.sqlite3")).unwrap();
        migrate_to(&mut conn, 6).unwrap();
        conn.execute(
            "INSERT INTO web_uploads (admin, filename, bytes) VALUES ('a@x.com', 'a.csv', x'00ff0a')",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);
        let (bytes, left, sheet): (Vec<u8>, Vec<u8>, Option<String>) = conn
            .query_row(
                "SELECT f.bytes, u.bytes, u.sheet FROM web_uploads u \
                 JOIN web_upload_files f ON f.upload_id = u.id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(bytes, [0x00, 0xff, 0x0a], "the file's bytes, exact");
        assert!(left.is_empty(), "not kept twice");
        assert_eq!(sheet, None, "the engine's choice");
    }

    #[test]
    fn migration_6_adds_the_web_hosts_tables_and_keeps_every_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("v5.sqlite3")).unwrap();
        migrate_to(&mut conn, 5).unwrap();
        conn.execute_batch(
            "INSERT INTO upload_runs (id, run_key, fingerprint, source, status, plan_json)
               VALUES (1, 'k1', 'sha256:aa', 'a.csv', 'finished', '{}');",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        assert_eq!(count(&conn, "SELECT count(*) FROM upload_runs"), 1);
        conn.execute_batch(
            "INSERT INTO admins (email_key, email, password_hash)
               VALUES ('ana@x.com', 'Ana@x.com', '$argon2id$v=19$m=64,t=1,p=1$x$y');",
        )
        .unwrap();
        for refused in [
            "INSERT INTO admins (email_key, email, password_hash) VALUES ('bo@x.com', 'bo@x.com', 'plain')",
            "INSERT INTO web_sessions VALUES (x'00', 'ana@x.com', 't', 1)",
            "INSERT INTO web_sessions VALUES (zeroblob(32), 'nobody@x.com', 't', 1)",
            "INSERT INTO web_runs (run_id, plan_id, admin, state, total) VALUES (1, 99, 'a', 'running', 1)",
        ] {
            assert!(conn.execute(refused, []).is_err(), "{refused}");
        }
        conn.execute(
            "INSERT INTO web_sessions VALUES (zeroblob(32), 'ana@x.com', 't', 1)",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM admins", []).unwrap();
        assert_eq!(
            count(&conn, "SELECT count(*) FROM web_sessions"),
            0,
            "an administrator's sessions go with them"
        );
    }
    #[test]
    fn migration_10_lets_the_journal_record_rows_done_as_planned_and_keeps_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("v9.sqlite3")).unwrap();
        migrate_to(&mut conn, 9).unwrap();
        conn.execute_batch(
            "INSERT INTO upload_runs (id, run_key, fingerprint, source, status, plan_json)
               VALUES (1, 'k1', 'sha256:aa', 'a.csv', 'running', '{}');
             INSERT INTO run_journal VALUES (1, 2, 'finished', '{\"line\":2}'),
                                            (1, 3, 'begun', '8'),
                                            (1, 4, 'begun', NULL);",
        )
        .unwrap();
        assert!(conn
            .execute("INSERT INTO run_journal VALUES (1, 5, 'done', '9')", [])
            .is_err());
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        let rows: Vec<(i64, String, Option<String>)> = conn
            .prepare("SELECT line, state, result_json FROM run_journal ORDER BY line")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (2, "finished".into(), Some("{\"line\":2}".into())),
                (3, "begun".into(), Some("8".into())),
                (4, "begun".into(), None),
            ]
        );
        conn.execute("INSERT INTO run_journal VALUES (1, 5, 'done', '9')", [])
            .unwrap();
        for refused in [
            "INSERT INTO run_journal VALUES (1, 6, 'other', NULL)",
            "INSERT INTO run_journal VALUES (99, 6, 'done', NULL)",
            "INSERT INTO run_journal VALUES (1, 5, 'done', NULL)",
        ] {
            assert!(conn.execute(refused, []).is_err(), "{refused}");
        }
    }
}
