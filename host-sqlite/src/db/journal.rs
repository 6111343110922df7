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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::db::runs;

    fn entries(db: &Db) -> Vec<(u32, String, Option<String>)> {
        db.conn()
            .prepare("SELECT line, state, result_json FROM run_journal ORDER BY line")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// Each row's last entry is written, by the batch's commit and not before: a row begun,
    /// created and finished is one `finished` entry; a row whose user was created and then
    /// failed keeps the id (what adopting the user on resuming needs); a row only begun is
    /// `begun`. A batch that never commits leaves nothing.
    #[test]
    fn a_batch_writes_each_rows_last_entry_when_it_commits() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("j.sqlite3")).ok().unwrap();
        let run = runs::NewRun {
            id: 1,
            run_key: "k",
            fingerprint: "sha256:x",
            source: "f.csv",
            plan_json: "{}",
            results_path: "r.csv",
            undo_of_run: None,
        };
        runs::start(&db, &run).ok().unwrap();
        let mut journal = SqliteJournal::new(db.clone(), 1);
        let row = ResultRow {
            line: 2,
            email: "a@x.com".into(),
            status: lms_bulk_upload::Status::Created,
            user_id: Some(UserId("7".into())),
            done: Vec::new(),
            error: None,
        };
        journal.begin("fp", 2).unwrap();
        journal.created("fp", 2, &UserId("7".into())).unwrap();
        journal.finish("fp", &row).unwrap();
        journal.begin("fp", 3).unwrap();
        journal.created("fp", 3, &UserId("8".into())).unwrap();
        journal.begin("fp", 4).unwrap();
        assert!(entries(&db).is_empty(), "nothing before the commit");
        db.commit().unwrap();
        let written = entries(&db);
        assert_eq!(written.len(), 3, "{written:?}");
        assert_eq!(written[0].1, "finished");
        assert!(written[0].2.as_deref().unwrap().contains("\"created\""));
        assert_eq!(written[1], (3, "begun".into(), Some("8".into())));
        assert_eq!(written[2], (4, "begun".into(), None));
        let loaded = journal.load("fp").unwrap();
        assert_eq!(loaded.get(&2), Some(&JournalEntry::Finished(row)));
        assert_eq!(
            loaded.get(&3),
            Some(&JournalEntry::Created(UserId("8".into())))
        );
        assert_eq!(loaded.get(&4), Some(&JournalEntry::Begun));

        // A batch dropped without its commit (the process stopped) writes nothing.
        journal.begin("fp", 5).unwrap();
        drop(journal);
        drop(db);
        let db = Db::open(&dir.path().join("j.sqlite3")).ok().unwrap();
        assert_eq!(entries(&db).len(), 3);
    }
}
