//! [`Journal`] in the same SQLite database and transaction as the store's writes.

use super::{host_error, Db, JournalWrite};
use lms_bulk_upload::{HostError, Journal, JournalEntry, ResultRow, UserId};
use rusqlite::params;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Execution progress of one run in the `run_journal` table, keyed by the run's id (not the
/// plan's fingerprint: two runs of one plan never share entries). Its entries are kept with
/// the open batch and written, each row's last one, by the batch's commit, in the store's
/// transaction: after a crash the journal says exactly which rows' writes were committed.
pub struct SqliteJournal {
    db: Rc<Db>,
    run_id: i64,
}

impl SqliteJournal {
    pub fn new(db: Rc<Db>, run_id: i64) -> SqliteJournal {
        SqliteJournal { db, run_id }
    }
}

impl Journal for SqliteJournal {
    fn load(&mut self, _fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        let conn = self.db.conn();
        let mut stmt = conn
            .prepare_cached("SELECT line, state, result_json FROM run_journal WHERE run_id = ?1")
            .map_err(host_error)?;
        let rows = stmt
            .query_map(params![self.run_id], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(host_error)?;
        let mut out = BTreeMap::new();
        for (line, state, json) in rows {
            let entry = match (state.as_str(), json) {
                ("finished", Some(json)) => {
                    let row: ResultRow = serde_json::from_str(&json)
                        .map_err(|e| HostError::permanent(format!("journal line {line}: {e}")))?;
                    JournalEntry::Finished(row)
                }
                // Begun, with the id the store gave the row's new user.
                ("begun", Some(id)) => JournalEntry::Created(UserId(id)),
                _ => JournalEntry::Begun,
            };
            out.insert(line, entry);
        }
        Ok(out)
    }

    fn begin(&mut self, _fingerprint: &str, line: u32) -> Result<(), HostError> {
        self.db.journal(JournalWrite {
            run_id: self.run_id,
            line,
            state: "begun",
            value: None,
        });
        Ok(())
    }

    fn created(&mut self, _fingerprint: &str, line: u32, user: &UserId) -> Result<(), HostError> {
        self.db.journal(JournalWrite {
            run_id: self.run_id,
            line,
            state: "begun",
            value: Some(user.0.clone()),
        });
        Ok(())
    }

    fn finish(&mut self, _fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        let json = serde_json::to_string(row)
            .map_err(|e| HostError::permanent(format!("journal: {e}")))?;
        self.db.journal(JournalWrite {
            run_id: self.run_id,
            line: row.line,
            state: "finished",
            value: Some(json),
        });
        Ok(())
    }
}
