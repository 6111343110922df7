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
use std::sync::Arc;

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
    // A run writes the whole upload: a 256 MiB page cache (SQLite's default is 2 MiB) keeps
    // the indexes it inserts into at random (emails, sign-in link digests: about 90 MB for a
    // million new users with links) in memory, instead of reading their pages back from the
    // file. A hint: a database that refuses it runs all the same.
    let _ = db.conn().pragma_update(None, "cache_size", -262_144);
    // And the WAL is copied back into the database every 16,384 pages (64 MiB) instead of
    // 1,000: the pages a run writes again and again (the tables' last pages, the journal)
    // are copied once per checkpoint, not once per batch.
    let _ = db.conn().pragma_update(None, "wal_autocheckpoint", 16_384);
    let mut store = SqliteStore::new(db.clone());
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
