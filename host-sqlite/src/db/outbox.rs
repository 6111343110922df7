//! The database's side of the outbox's two-phase publication (see `mail::pending`): the
//! names of the batches whose messages wait in the outbox's hidden folder, recorded in the
//! transaction of the rows they belong to.

use super::{host_error, Db};
use crate::mail::pending;
use crate::mail::Publisher;
use crate::Error;
use lms_bulk_upload::HostError;
use rusqlite::params;
use std::path::Path;

/// The key of an outbox folder in `outbox_pending`.
fn key(outbox: &Path) -> String {
    outbox.to_string_lossy().into_owned()
}

impl Db {
    /// Records pending batch `batch` of `outbox` in the open transaction, to be published
    /// when it commits: by `publisher` (the mailer's thread, which moves the files while
    /// this thread goes on; the mailer then removes the record, [`Db::forget_outbox`]), or,
    /// with none or its thread gone, on this thread by the commit. Returns `false` when no
    /// transaction is open: the messages depend on no uncommitted write (an upload's
    /// confirmation), and the caller publishes them now.
    pub(crate) fn stage_outbox(
        &self,
        outbox: &Path,
        batch: &str,
        publisher: Option<Publisher>,
    ) -> Result<bool, HostError> {
        if self.poisoned.get() {
            return Err(HostError::permanent(
                "an earlier write failed and the batch was rolled back",
            ));
        }
        if self.conn.is_autocommit() {
            return Ok(false);
        }
        self.write(|conn| {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO outbox_pending (outbox, batch) VALUES (?1, ?2)",
            )?
            .execute(params![key(outbox), batch])
        })?;
        let mut staged = self.outbox.borrow_mut();
        if !staged.iter().any(|(d, b, _)| d == outbox && b == batch) {
            staged.push((outbox.to_owned(), batch.to_owned(), publisher));
        }
        Ok(true)
    }

    /// After a commit: hands the batches it recorded to their mailers' threads to publish,
    /// or moves them into their outboxes here and removes their records. A batch that
    /// cannot be moved stays recorded (the commit happened): the next opening of the outbox
    /// publishes it.
    pub(super) fn publish_outbox(&self) -> Result<(), HostError> {
        let staged = std::mem::take(&mut *self.outbox.borrow_mut());
        for (outbox, batch, publisher) in staged {
            if publisher.is_some_and(|p| p.queue(&batch)) {
                continue;
            }
            pending::publish(&outbox, &batch).map_err(|e| {
                HostError::permanent(format!(
                    "outbox {}: the batch is committed but its emails could not be moved \
                     into the folder ({e}); they are when the outbox is next opened",
                    outbox.display()
                ))
            })?;
            self.conn
                .prepare_cached("DELETE FROM outbox_pending WHERE outbox = ?1 AND batch = ?2")
                .and_then(|mut stmt| stmt.execute(params![key(&outbox), batch]))
                .map_err(host_error)?;
        }
        Ok(())
    }

    /// Removes the records of batches a mailer's thread has published: in the open
    /// transaction (that of the next batch: no commit of its own), or, with none open, on
    /// its own. Removed only once the files are all moved, so a stop before leaves the
    /// record, and the next opening of the outbox finishes the batch.
    pub(crate) fn forget_outbox(&self, outbox: &Path, batches: &[String]) -> Result<(), HostError> {
        const FORGET: &str = "DELETE FROM outbox_pending WHERE outbox = ?1 AND batch = ?2";
        for batch in batches {
            if self.conn.is_autocommit() {
                self.conn
                    .prepare_cached(FORGET)
                    .and_then(|mut stmt| stmt.execute(params![key(outbox), batch]))
                    .map_err(host_error)?;
            } else {
                self.write_beside_fresh(|conn| {
                    conn.prepare_cached(FORGET)?
                        .execute(params![key(outbox), batch])
                })?;
            }
        }
        Ok(())
    }

    /// Finishes what a stopped process left in `outbox`: pending batches this database
    /// recorded (their transaction committed) are published, the others (rolled back: their
    /// rows will be redone with new links or passwords) deleted unread. Called on opening
    /// the outbox for a run, under the apply lock, with no transaction open.
    pub fn recover_outbox(&self, outbox: &Path) -> Result<(), Error> {
        let recorded: Vec<String> = self
            .conn
            .prepare("SELECT batch FROM outbox_pending WHERE outbox = ?1")?
            .query_map(params![key(outbox)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let failed = |e: std::io::Error| crate::io_error("cannot recover the outbox", outbox, e);
        for batch in pending::batches(outbox).map_err(failed)? {
            if recorded.contains(&batch) {
                pending::publish(outbox, &batch).map_err(failed)?;
            } else {
                pending::discard(outbox, &batch).map_err(failed)?;
            }
        }
        self.conn.execute(
            "DELETE FROM outbox_pending WHERE outbox = ?1",
            params![key(outbox)],
        )?;
        pending::tidy(outbox);
        Ok(())
    }
}
