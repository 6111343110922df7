//! The SQLite database: connection, transactions, and the [`Store`] and [`Journal`] on it.
//!
//! [`Store`]: lms_bulk_upload::Store
//! [`Journal`]: lms_bulk_upload::Journal

pub mod admins;
mod fresh;
mod journal;
mod now;
mod outbox;
pub mod runs;
mod schema;
pub mod seed;
mod store;

pub use journal::SqliteJournal;
pub use store::SqliteStore;

use crate::files;
use crate::{io_error, Error};
use lms_bulk_upload::{HostError, OsRandom, PlanKey};
use rusqlite::{params, Connection, OptionalExtension};
use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;
use zeroize::Zeroizing;

/// One connection shared by the store and the journal, so that their writes land in the same
/// transaction: a batch of rows and the journal entries saying they are done commit together.
pub struct Db {
    conn: Connection,
    /// Set when a write failed and SQLite rolled the transaction back on its own: the batch's
    /// earlier writes are gone, so the checkpoint must fail rather than report them done.
    poisoned: Cell<bool>,
    /// The journal entries of the open batch, written just before it commits: one write per
    /// row (its last state) instead of one per step, in the same transaction as the store's
    /// writes, so a crash still loses the batch's rows and their entries together.
    journal: RefCell<Vec<JournalWrite>>,
    /// The outbox batches recorded in the open transaction (the outbox folder, the batch's
    /// name, who publishes it): published as soon as it commits (see [`crate::mail`]'s
    /// pending batches).
    outbox: RefCell<Vec<(std::path::PathBuf, String, Option<crate::mail::Publisher>)>>,
    /// Counts the transactions [`Db::write`] opened: a store's knowledge of what the open
    /// transaction wrote (the users it created) holds only while the number is the same.
    transaction: Cell<u64>,
    /// The memberships and enrolments of users created in the open transaction, written many
    /// to a statement before anything else runs in it (see [`fresh`]).
    fresh: RefCell<fresh::FreshRows>,
}

/// A row's journal entry, as the batch's commit writes it into `run_journal`.
pub(crate) struct JournalWrite {
    pub run_id: i64,
    pub line: u32,
    /// `begun`, `done` (finished as planned) or `finished`.
    pub state: &'static str,
    /// `begun`: the id the store gave the row's new user, if any; `done`: the row's user id;
    /// `finished`: the result row as JSON.
    pub value: Option<String>,
}

impl Db {
    /// Opens (or creates) the database, sets WAL mode and runs the migrations.
    ///
    /// A new database is created owner-only (0600, in a new folder 0700; SQLite gives its
    /// `-wal` and `-shm` files the database's mode); an existing one readable by others is
    /// restricted to its owner, since it holds the password hashes and the plan key.
    pub fn open(path: &Path) -> Result<Rc<Db>, Error> {
        prepare_file(path)?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Rc::new(Db {
            conn,
            poisoned: Cell::new(false),
            journal: RefCell::new(Vec::new()),
            outbox: RefCell::new(Vec::new()),
            transaction: Cell::new(0),
            fresh: RefCell::new(fresh::FreshRows::default()),
        }))
    }

    /// The key this database signs its plans with: made from the OS CSPRNG on first use
    /// (by `init`, or by the first command on a database that predates signed plans), kept
    /// in the `plan_key` table and never printed.
    pub fn plan_key(&self) -> Result<PlanKey, Error> {
        let stored = |conn: &Connection| -> rusqlite::Result<Option<Vec<u8>>> {
            conn.query_row("SELECT key FROM plan_key WHERE id = 1", [], |r| r.get(0))
                .optional()
        };
        let bytes: Zeroizing<Vec<u8>> = Zeroizing::new(match stored(&self.conn)? {
            Some(bytes) => bytes,
            None => {
                let key = PlanKey::generate(&OsRandom);
                // Two processes racing here: the first insert wins, both read it back.
                self.conn.execute(
                    "INSERT OR IGNORE INTO plan_key (id, key) VALUES (1, ?1)",
                    params![key.as_bytes()],
                )?;
                stored(&self.conn)?.unwrap_or_default()
            }
        });
        PlanKey::from_bytes(&bytes)
            .map_err(|e| Error::host(format!("database: the stored plan key: {}", e.message())))
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs a write inside the current transaction, opening one (`BEGIN IMMEDIATE`) first if
    /// none is open; the memberships and enrolments queued in it are written first.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, HostError> {
        self.flush_fresh()?;
        self.write_beside_fresh(f)
    }

    /// [`Db::write`] leaving the queued memberships and enrolments queued: for a write that
    /// neither reads nor writes memberships or enrolments (a new user, a sign-in link).
    pub(crate) fn write_beside_fresh<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, HostError> {
        if self.poisoned.get() {
            return Err(HostError::permanent(
                "an earlier write failed and the batch was rolled back",
            ));
        }
        let began = self.conn.is_autocommit();
        if began {
            self.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(host_error)?;
            self.transaction.set(self.transaction.get() + 1);
        }
        match f(&self.conn) {
            Ok(value) => Ok(value),
            Err(e) => {
                if self.conn.is_autocommit() && !began {
                    self.poisoned.set(true);
                }
                Err(host_error(e))
            }
        }
    }

    /// The transaction [`Db::write`] opened last, while it is open: `None` when none is (it
    /// committed, or SQLite rolled it back, or the batch failed).
    pub(crate) fn open_transaction(&self) -> Option<u64> {
        (!self.conn.is_autocommit() && !self.poisoned.get()).then(|| self.transaction.get())
    }

    /// Records a row's journal entry for the open batch; a later entry of the same row
    /// (rows are executed one after the other) replaces the earlier one.
    pub(crate) fn journal(&self, entry: JournalWrite) {
        let mut pending = self.journal.borrow_mut();
        match pending.last_mut() {
            Some(last) if last.run_id == entry.run_id && last.line == entry.line => *last = entry,
            _ => pending.push(entry),
        }
    }

    /// Commits the open transaction, if any, with the batch's journal entries; then
    /// publishes the outbox batches recorded in it.
    pub fn commit(&self) -> Result<(), HostError> {
        let flushed = self.flush_fresh();
        if self.poisoned.get() {
            self.journal.borrow_mut().clear();
            // Their records were rolled back: the next opening of the outbox deletes them.
            self.outbox.borrow_mut().clear();
            return Err(HostError::permanent(
                "a write failed and SQLite rolled the batch back",
            ));
        }
        flushed?;
        let pending = std::mem::take(&mut *self.journal.borrow_mut());
        if !pending.is_empty() {
            self.write(|conn| write_journal(conn, &pending))?;
        }
        if !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("COMMIT") {
                if self.conn.is_autocommit() {
                    // Rolled back, records included: never to be published.
                    self.outbox.borrow_mut().clear();
                }
                return Err(host_error(e));
            }
        }
        self.publish_outbox()
    }
}

/// Journal entries per `INSERT` statement: one statement (parsed once, cached) writes this
/// many rows, instead of one execution (bind, step, reset) per row.
const JOURNAL_ROWS_PER_INSERT: usize = 64;

/// `INSERT OR REPLACE INTO run_journal ... VALUES (?, ?, ?, ?), ...` with `rows` rows.
fn journal_insert(rows: usize) -> String {
    values_sql(
        "INSERT OR REPLACE INTO run_journal (run_id, line, state, result_json)",
        "(?,?,?,?)",
        rows,
        "",
    )
}

/// `<head> VALUES <row>,<row>,... <tail>` with `rows` rows.
pub(super) fn values_sql(head: &str, row: &str, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * (row.len() + 1) + 16);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    if !tail.is_empty() {
        sql.push(' ');
        sql.push_str(tail);
    }
    sql
}

/// Inserts `rows`, `per` to a statement, each statement parsed once and cached (`full` is
/// the SQL of `per` rows, made once a thread; `sql(n)` that of a last, shorter chunk).
/// `bind` binds a row's parameters from the 1-based index it is given, `params` a row.
pub(super) fn insert_chunks<T>(
    conn: &Connection,
    rows: &[T],
    per: usize,
    full: &'static std::thread::LocalKey<String>,
    sql: fn(usize) -> String,
    params: usize,
    mut bind: impl FnMut(&mut rusqlite::Statement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    for chunk in rows.chunks(per) {
        let mut stmt = if chunk.len() == per {
            full.with(|sql| conn.prepare_cached(sql))?
        } else {
            conn.prepare_cached(&sql(chunk.len()))?
        };
        for (i, row) in chunk.iter().enumerate() {
            bind(&mut stmt, i * params + 1, row)?;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

/// Writes a batch's journal entries, [`JOURNAL_ROWS_PER_INSERT`] rows a statement. The rows
/// of one statement are inserted in order, as one statement each would insert them (a
/// batch names each line once: [`Db::journal`] keeps a row's last entry).
fn write_journal(conn: &Connection, pending: &[JournalWrite]) -> rusqlite::Result<()> {
    thread_local! {
        static FULL: String = journal_insert(JOURNAL_ROWS_PER_INSERT);
    }
    insert_chunks(
        conn,
        pending,
        JOURNAL_ROWS_PER_INSERT,
        &FULL,
        journal_insert,
        4,
        |stmt, at, entry| {
            stmt.raw_bind_parameter(at, entry.run_id)?;
            stmt.raw_bind_parameter(at + 1, entry.line)?;
            stmt.raw_bind_parameter(at + 2, entry.state)?;
            stmt.raw_bind_parameter(at + 3, entry.value.as_deref())
        },
    )
}

/// A SQLite error as a [`HostError`]: a busy or locked database is transient.
pub fn host_error(e: rusqlite::Error) -> HostError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            HostError::transient(format!("database: {e}"))
        }
        _ => HostError::permanent(format!("database: {e}")),
    }
}

/// The folder (0700 when new) and the file (0600 when new, restricted when loose).
fn prepare_file(path: &Path) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir_all(dir)
            .map_err(|e| io_error("cannot create the database folder", dir, e))?;
    }
    match files::create_new_private(path) {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error("cannot create the database", path, e)),
    }
    let mut loosened = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = std::path::PathBuf::from(name);
        match files::restrict_to_owner(&file) {
            Ok(true) => loosened.push(file.display().to_string()),
            Ok(false) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => crate::note(&format!(
                "{} can be read by other users and its permissions cannot be changed: {e}",
                file.display()
            )),
        }
    }
    if !loosened.is_empty() {
        crate::note(&format!(
            "{} could be read by other users; now owner-only (0600)",
            loosened.join(", ")
        ));
    }
    Ok(())
}
