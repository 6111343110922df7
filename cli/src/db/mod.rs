//! The SQLite database: connection, transactions, and the [`Store`] and [`Journal`] on it.
//!
//! [`Store`]: lms_bulk_upload::Store
//! [`Journal`]: lms_bulk_upload::Journal

mod journal;
pub mod runs;
mod schema;
pub mod seed;
mod store;

pub use journal::SqliteJournal;
pub use store::SqliteStore;

use lms_bulk_upload::HostError;
use rusqlite::Connection;
use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;

/// One connection shared by the store and the journal, so that their writes land in the same
/// transaction: a batch of rows and the journal entries saying they are done commit together.
pub struct Db {
    conn: Connection,
    /// Set when a write failed and SQLite rolled the transaction back on its own: the batch's
    /// earlier writes are gone, so the checkpoint must fail rather than report them done.
    poisoned: Cell<bool>,
}

impl Db {
    /// Opens (or creates) the database, sets WAL mode and runs the migrations.
    pub fn open(path: &Path) -> Result<Rc<Db>, rusqlite::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn)?;
        Ok(Rc::new(Db {
            conn,
            poisoned: Cell::new(false),
        }))
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs a write inside the current transaction, opening one (`BEGIN IMMEDIATE`) first if
    /// none is open.
    pub fn write<T>(
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

    /// Commits the open transaction, if any.
    pub fn commit(&self) -> Result<(), HostError> {
        if self.poisoned.get() {
            return Err(HostError::permanent(
                "a write failed and SQLite rolled the batch back",
            ));
        }
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT").map_err(host_error)?;
        }
        Ok(())
    }
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
