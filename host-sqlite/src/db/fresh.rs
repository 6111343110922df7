//! The memberships and enrolments of users created in the open transaction, gathered and
//! written many to a statement, in that transaction, before anything else runs in it.
//!
//! A run inserts one membership and one enrolment per new user; each was a statement of its
//! own (bind, step, reset: about 10,000 instructions, most of them the statement's fixed
//! cost). Such a row cannot fail for want of its user (created in this transaction, and
//! forgotten if deleted) nor of its group or content (the store checks, once a transaction,
//! that they exist; no other connection can write while this one holds the transaction),
//! and a duplicate is ignored (`ON CONFLICT DO NOTHING`, as one at a time). So the store
//! queues them ([`Db::queue_member`], [`Db::queue_enrol`]), and [`Db::flush_fresh`] writes
//! them [`ROWS_PER_INSERT`] to an `INSERT`: before any other write of the transaction
//! ([`Db::write`]), before the store reads users' memberships or enrolments, and before the
//! commit. What the transaction commits is the same rows as one statement each would have
//! written, in the same order; a transaction rolled back takes its queue with it.

use super::now::Timestamp;
use super::{host_error, insert_chunks, values_sql, Db};
use lms_bulk_upload::HostError;
use rusqlite::Connection;

/// Rows per `INSERT` statement (each statement parsed once and cached).
const ROWS_PER_INSERT: usize = 64;

/// The rows queued in the open transaction.
#[derive(Default)]
pub(crate) struct FreshRows {
    /// The transaction ([`Db::write`]'s number) they were queued in.
    transaction: u64,
    /// `(group_id, user_id)`.
    members: Vec<(i64, i64)>,
    /// `(user_id, kind, content_id, enrolled_at)`.
    enrols: Vec<(i64, &'static str, String, Timestamp)>,
}

impl FreshRows {
    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.enrols.is_empty()
    }

    /// Starts the queue of transaction `now` if it holds another's (already gone).
    fn of(&mut self, now: u64) -> &mut FreshRows {
        if self.transaction != now {
            self.members.clear();
            self.enrols.clear();
            self.transaction = now;
        }
        self
    }
}

impl Db {
    /// Queues the membership of user `user` (created in the open transaction) in group
    /// `group` (which exists); `false`, and nothing queued, when no transaction is open.
    pub(crate) fn queue_member(&self, group: i64, user: i64) -> bool {
        let Some(now) = self.open_transaction() else {
            return false;
        };
        self.fresh.borrow_mut().of(now).members.push((group, user));
        true
    }

    /// Queues the enrolment of user `user` (created in the open transaction) in content
    /// `(kind, content)` (which exists), at `at`; `false`, and nothing queued, when no
    /// transaction is open.
    pub(crate) fn queue_enrol(
        &self,
        user: i64,
        kind: &'static str,
        content: &str,
        at: Timestamp,
    ) -> bool {
        let Some(now) = self.open_transaction() else {
            return false;
        };
        self.fresh
            .borrow_mut()
            .of(now)
            .enrols
            .push((user, kind, content.to_owned(), at));
        true
    }

    /// Writes the queued rows in the transaction they were queued in. Rows of a transaction
    /// no longer open are dropped (it was rolled back, and they with it). A failure (the
    /// disk, not the rows) rolls the transaction back and poisons the batch, so that it
    /// cannot commit without them.
    pub(crate) fn flush_fresh(&self) -> Result<(), HostError> {
        if self.fresh.borrow().is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut *self.fresh.borrow_mut());
        if self.open_transaction() != Some(rows.transaction) {
            return Ok(());
        }
        let written = write_members(&self.conn, &rows.members)
            .and_then(|()| write_enrols(&self.conn, &rows.enrols));
        if let Err(e) = written {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            self.poisoned.set(true);
            return Err(host_error(e));
        }
        Ok(())
    }
}

fn member_insert(rows: usize) -> String {
    values_sql(
        "INSERT INTO group_members (group_id, user_id)",
        "(?,?)",
        rows,
        "ON CONFLICT (group_id, user_id) DO NOTHING",
    )
}

fn enrol_insert(rows: usize) -> String {
    values_sql(
        "INSERT INTO enrolments (user_id, kind, content_id, enrolled_at)",
        "(?,?,?,?)",
        rows,
        "ON CONFLICT (user_id, kind, content_id) DO NOTHING",
    )
}

fn write_members(conn: &Connection, rows: &[(i64, i64)]) -> rusqlite::Result<()> {
    thread_local! {
        static FULL: String = member_insert(ROWS_PER_INSERT);
    }
    insert_chunks(
        conn,
        rows,
        ROWS_PER_INSERT,
        &FULL,
        member_insert,
        2,
        |stmt, at, &(group, user)| {
            stmt.raw_bind_parameter(at, group)?;
            stmt.raw_bind_parameter(at + 1, user)
        },
    )
}

fn write_enrols(
    conn: &Connection,
    rows: &[(i64, &'static str, String, Timestamp)],
) -> rusqlite::Result<()> {
    thread_local! {
        static FULL: String = enrol_insert(ROWS_PER_INSERT);
    }
    insert_chunks(
        conn,
        rows,
        ROWS_PER_INSERT,
        &FULL,
        enrol_insert,
        4,
        |stmt, base, (user, kind, content, at)| {
            stmt.raw_bind_parameter(base, *user)?;
            stmt.raw_bind_parameter(base + 1, *kind)?;
            stmt.raw_bind_parameter(base + 2, content.as_str())?;
            stmt.raw_bind_parameter(base + 3, at.as_str())
        },
    )
}
