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
];

/// The schema version this binary writes.
pub const VERSION: usize = MIGRATIONS.len();

/// Runs the migrations the database has not had yet, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > VERSION {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the database has schema version {current}, newer than this bulk-upload ({VERSION})"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(VERSION)
}
