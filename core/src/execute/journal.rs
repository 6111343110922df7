//! A journal of execution progress, so a crashed or cancelled execution can be resumed.

use crate::execute::results::ResultRow;
use crate::host::store::{HostError, UserId};
use std::collections::BTreeMap;

/// What a journal knows about one row of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JournalEntry {
    /// Execution started writing this row and may have stopped half-way.
    Begun,
    /// Execution began this row and the store created its user, with this id: the proof
    /// that a user found with the row's email on resuming is the run's own.
    Created(UserId),
    /// The row was finished, with this outcome.
    Finished(ResultRow),
}

/// Where execution records its progress, per plan fingerprint and row line.
///
/// For resumption to be exact the journal must be as durable as the store: a host whose
/// store commits in transactions keeps the journal in the same transaction (the CLI keeps it
/// in its SQLite database). [`MemoryJournal`] suits executions that are only cancelled and
/// resumed within one process.
pub trait Journal {
    /// Every entry recorded for the plan.
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError>;
    /// The row is about to be written.
    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError>;
    /// The row is finished (created, updated, unchanged or rejected).
    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError>;
    /// The row's user was created with this id (recorded before anything else of the row).
    ///
    /// On resuming, a row whose user exists is adopted as the run's own only when the
    /// journal gives this id back ([`JournalEntry::Created`]) and the store's user for the
    /// email has it; otherwise the row fails with `user_exists_now` (someone else may have
    /// created that account after the run's `create_user` failed). The default records
    /// nothing: a journal without it never adopts.
    fn created(&mut self, fingerprint: &str, line: u32, user: &UserId) -> Result<(), HostError> {
        let _ = (fingerprint, line, user);
        Ok(())
    }
}

/// A journal in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryJournal {
    entries: BTreeMap<String, BTreeMap<u32, JournalEntry>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> MemoryJournal {
        MemoryJournal::default()
    }
}

impl Journal for MemoryJournal {
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        Ok(self.entries.get(fingerprint).cloned().unwrap_or_default())
    }
    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError> {
        self.entries
            .entry(fingerprint.to_owned())
            .or_default()
            .insert(line, JournalEntry::Begun);
        Ok(())
    }
    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        self.entries
            .entry(fingerprint.to_owned())
            .or_default()
            .insert(row.line, JournalEntry::Finished(row.clone()));
        Ok(())
    }
    fn created(&mut self, fingerprint: &str, line: u32, user: &UserId) -> Result<(), HostError> {
        self.entries
            .entry(fingerprint.to_owned())
            .or_default()
            .insert(line, JournalEntry::Created(user.clone()));
        Ok(())
    }
}
