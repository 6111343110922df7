//! Executing a recorded run: the plan, the SQLite store and the run's journal on one
//! connection, so that each batch of rows and its journal entries commit together, and a
//! run stopped anywhere resumes exactly where it stopped. The CLI's `apply` and `undo` and
//! the web server's runs all go through [`execute_run`].

use crate::db::{Db, SqliteJournal, SqliteStore};
use lms_bulk_upload::{
    execute, ExecuteOptions, HashParams, Mailer, Password, Plan, Progress, Results,
};
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How rows are executed.
#[derive(Debug, Clone)]
pub struct ExecSettings {
    /// argon2id parameters for the passwords set.
    pub hash_params: HashParams,
    /// Hashing threads (0: every core).
    pub threads: usize,
    /// Rows per transaction.
    pub batch_size: usize,
    /// How long sign-in links live.
    pub invitation_expiry: std::time::Duration,
}

impl Default for ExecSettings {
    fn default() -> Self {
        let defaults = ExecuteOptions::default();
        ExecSettings {
            hash_params: defaults.hash_params,
            threads: defaults.threads,
            batch_size: defaults.batch_size,
            invitation_expiry: defaults.invitation_expiry,
        }
    }
}

/// Executes run `run_id` (already recorded in `upload_runs`) with its journal: rows the
/// journal has as done are skipped, so calling it again after a stop resumes the run.
#[allow(clippy::too_many_arguments)]
pub fn execute_run(
    db: &Rc<Db>,
    plan: &Plan,
    run_id: i64,
    mailer: &mut dyn Mailer,
    exec: &ExecSettings,
    default_password: Option<Password>,
    progress: Option<Box<dyn FnMut(Progress) + '_>>,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<Results, lms_bulk_upload::Error> {
    // A run writes the whole upload: a page cache of up to 256 MiB (SQLite's default is 2
    // MiB) keeps the indexes it inserts into at random (emails, sign-in link digests: about
    // 90 MB for a million new users with links) in memory, instead of reading their pages
    // back from the file. A hint: a database that refuses it runs all the same.
    let _ = db
        .conn()
        .pragma_update(None, "cache_size", -cache_kib(plan.rows().len()));
    // And the WAL is copied back into the database every 16,384 pages (64 MiB) instead of
    // 1,000: the pages a run writes again and again (the tables' last pages, the journal)
    // are copied once per checkpoint, not once per batch.
    let _ = db
        .conn()
        .pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT);
    // While the rows execute, most of those copies are made by a connection of their own,
    // on a thread of its own: not on the thread that writes the rows.
    let _checkpoints = Checkpointer::start(db);
    // The statements executed for each new user are kept prepared for the run (a store
    // that cannot prepare them now takes them from the statement cache, and reports the
    // error there, as before).
    let mut store = SqliteStore::holding(db).unwrap_or_else(|_| SqliteStore::new(db.clone()));
    let mut journal = SqliteJournal::new(db.clone(), run_id, plan);
    let options = ExecuteOptions {
        default_password,
        hash_params: exec.hash_params,
        threads: exec.threads,
        batch_size: exec.batch_size,
        invitation_expiry: exec.invitation_expiry,
        progress,
        cancel,
        journal: Some(&mut journal),
        ..ExecuteOptions::default()
    };
    execute(plan, &mut store, mailer, options)
}

/// The page cache for a run of `rows` rows, in KiB: [`CACHE_BYTES_PER_ROW`] a row, from
/// [`MIN_CACHE_KIB`] to [`MAX_CACHE_KIB`].
///
/// The cache keeps every page the run touches until it is full: sized for a million rows
/// whatever the run's size, a run of 100,000 filled it with the whole database it wrote
/// (about 70 MB of pages no read comes back to: the tables' rows are appended, the stored
/// results written once), each buffer memory the kernel had to zero on first use, and
/// SQLite walked all of them at every commit that rebalanced a b-tree page (see
/// docs/PERFORMANCE.md, `pcache1TruncateUnsafe`). Pages are dropped least recently used
/// first: the appended rows' pages go, the indexes inserted into at random stay.
fn cache_kib(rows: usize) -> i64 {
    let kib = rows.saturating_mul(CACHE_BYTES_PER_ROW) / 1024;
    i64::try_from(kib)
        .unwrap_or(MAX_CACHE_KIB)
        .clamp(MIN_CACHE_KIB, MAX_CACHE_KIB)
}

/// The page cache a row may need: its share of the indexes inserted into at random (its
/// email, about 40 bytes with the page's slack; a sign-in link's digest, about 50; its
/// memberships' and enrolments' keys), with room to spare.
const CACHE_BYTES_PER_ROW: usize = 256;

/// The smallest page cache of a run: 16 MiB.
const MIN_CACHE_KIB: i64 = 16 * 1024;

/// The largest: 256 MiB, reached at about a million rows.
const MAX_CACHE_KIB: i64 = 256 * 1024;

/// The WAL pages after which the connection that commits copies them back into the database
/// (SQLite's automatic checkpoint).
const WAL_AUTOCHECKPOINT: i64 = 16_384;

/// How often the [`Checkpointer`] copies what was committed since its last copy.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Checkpoints the WAL from a second connection to the database, on a thread of its own,
/// while a run's rows execute, so that the run's own connection finds most pages already
/// copied when its automatic checkpoint comes (every [`WAL_AUTOCHECKPOINT`] pages).
///
/// A checkpoint copies committed pages from the WAL into the database file; what is
/// durable, and when, is the same whichever connection does it (SQLite's WAL lets a
/// checkpoint run beside a writer: `PASSIVE` copies what no reader still needs and never
/// waits for a lock). The run's connection keeps its automatic checkpoint: the WAL starts
/// again from its beginning only when a transaction begins with every frame copied, which
/// this thread alone, copying while the rows are written, seldom sees; the automatic one,
/// run just after a commit, copies what is left and lets the next batch restart the WAL,
/// so it stays within about [`WAL_AUTOCHECKPOINT`] pages as before.
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// A checkpointer for `db`, or `None` if the database has no file of its own or a
    /// second connection cannot be opened (the automatic checkpoint does it all then).
    fn start(db: &Db) -> Option<Checkpointer> {
        let path = db.conn().path().filter(|p| !p.is_empty())?.to_owned();
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        // As the run's connection: the WAL is synced before the copy, the database after.
        conn.pragma_update(None, "synchronous", "NORMAL").ok()?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    // Busy (a reader or another checkpoint) is fine: the next one copies it.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok()?;
        Some(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
