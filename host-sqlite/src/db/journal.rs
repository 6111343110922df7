//! [`Journal`] in the same SQLite database and transaction as the store's writes.

use super::{host_error, Db, JournalWrite};
use lms_bulk_upload::{
    Action, Done, HostError, Journal, JournalEntry, Operation, Plan, PlanRow, ResultRow, Status,
    UserId,
};
use rusqlite::params;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Execution progress of one run in the `run_journal` table, keyed by the run's id (not the
/// plan's fingerprint: two runs of one plan never share entries). Its entries are kept with
/// the open batch and written, each row's last one, by the batch's commit, in the store's
/// transaction: after a crash the journal says exactly which rows' writes were committed.
///
/// A row finished exactly as its plan row says (`done`: `journal::as_planned` rebuilds the same
/// result from the plan row and the user id) is recorded as `done` with the user id alone;
/// any other finished row as `finished` with its whole result as JSON.
pub struct SqliteJournal<'p> {
    db: Rc<Db>,
    run_id: i64,
    /// The run's plan: the rows a `done` entry is rebuilt from. `None` when its lines are
    /// not strictly increasing (a plan edited by hand): then every finished row is recorded
    /// whole.
    plan: Option<&'p Plan>,
}

impl<'p> SqliteJournal<'p> {
    /// The journal of run `run_id`, whose plan is `plan` (the one it executes and resumes).
    pub fn new(db: Rc<Db>, run_id: i64, plan: &'p Plan) -> SqliteJournal<'p> {
        let rows = plan.rows();
        let ordered = (1..rows.len()).all(|i| rows.line(i - 1) < rows.line(i));
        SqliteJournal {
            db,
            run_id,
            plan: ordered.then_some(plan),
        }
    }

    /// The plan row of `line`.
    fn plan_row(&self, line: u32) -> Option<PlanRow> {
        let rows = self.plan?.rows();
        let (mut low, mut high) = (0, rows.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match rows.line(middle)?.cmp(&line) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return rows.get(middle),
            }
        }
        None
    }
}

/// The result of `row` executed exactly as planned, its user given `user_id` by the store
/// (or the plan): what a `done` entry stands for. `None` for a row whose result holds more
/// than the plan and the id (a rejected row's error, an update's values replaced, a login
/// method's previous one).
pub fn as_planned(row: &PlanRow, user_id: Option<UserId>) -> Option<ResultRow> {
    let status = planned_status(row.action)?;
    let done = row
        .operations
        .iter()
        .map(planned_done)
        .collect::<Option<Vec<Done>>>()?;
    Some(ResultRow {
        line: row.line,
        email: row.email.clone(),
        status,
        user_id,
        done,
        error: None,
    })
}

/// The status of a row of this action carried out as planned; `None` for an action whose
/// result is never the plan's alone (a rejected or skipped row).
fn planned_status(action: Action) -> Option<Status> {
    match action {
        Action::Create => Some(Status::Created),
        Action::Update => Some(Status::Updated),
        Action::Unchanged => Some(Status::Unchanged),
        _ => None,
    }
}

/// What the operation records when it is carried out as planned, on a store that did not
/// have it already; `None` when that depends on the store.
fn planned_done(op: &Operation) -> Option<Done> {
    Some(match op {
        Operation::CreateUser { .. } => Done::CreateUser,
        Operation::SetPassword => Done::SetPassword,
        Operation::Invite => Done::Invite,
        Operation::RevokeInvitations => Done::RevokeInvitations,
        Operation::AddToGroup { group } => Done::AddToGroup {
            group: group.name.clone(),
            already: false,
        },
        Operation::RemoveFromGroup { group } => Done::RemoveFromGroup {
            group: group.name.clone(),
            already: false,
        },
        Operation::Enrol { content } => Done::Enrol {
            content: content.clone(),
            already: false,
        },
        Operation::Withdraw { content } => Done::Withdraw {
            content: content.clone(),
        },
        Operation::SendEmail { kind } => Done::SendEmail { kind: *kind },
        Operation::ReactivateUser => Done::ReactivateUser { already: false },
        Operation::SuspendUser => Done::SuspendUser { already: false },
        Operation::DeleteUser => Done::DeleteUser,
        _ => return None,
    })
}

/// Whether `result` is [`as_planned`]`(row, result.user_id)`, compared without building it.
fn is_as_planned(row: &PlanRow, result: &ResultRow) -> bool {
    planned_status(row.action) == Some(result.status)
        && result.line == row.line
        && result.error.is_none()
        && result.email == row.email
        && result.done.len() == row.operations.len()
        && row
            .operations
            .iter()
            .zip(&result.done)
            .all(|(op, done)| done_as_planned(op, done))
}

fn done_as_planned(op: &Operation, done: &Done) -> bool {
    match (op, done) {
        (Operation::CreateUser { .. }, Done::CreateUser)
        | (Operation::SetPassword, Done::SetPassword)
        | (Operation::Invite, Done::Invite)
        | (Operation::RevokeInvitations, Done::RevokeInvitations)
        | (Operation::DeleteUser, Done::DeleteUser)
        | (Operation::ReactivateUser, Done::ReactivateUser { already: false })
        | (Operation::SuspendUser, Done::SuspendUser { already: false }) => true,
        (
            Operation::AddToGroup { group },
            Done::AddToGroup {
                group: name,
                already: false,
            },
        )
        | (
            Operation::RemoveFromGroup { group },
            Done::RemoveFromGroup {
                group: name,
                already: false,
            },
        ) => group.name == *name,
        (
            Operation::Enrol { content },
            Done::Enrol {
                content: done,
                already: false,
            },
        )
        | (Operation::Withdraw { content }, Done::Withdraw { content: done }) => content == done,
        (Operation::SendEmail { kind }, Done::SendEmail { kind: done }) => kind == done,
        _ => false,
    }
}

impl Journal for SqliteJournal<'_> {
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
        for (line, state, value) in rows {
            let entry = match (state.as_str(), value) {
                ("finished", Some(json)) => {
                    let row: ResultRow = serde_json::from_str(&json)
                        .map_err(|e| HostError::permanent(format!("journal line {line}: {e}")))?;
                    JournalEntry::Finished(row)
                }
                // Finished as planned: the result rebuilt from the plan row and the user id.
                ("done", id) => {
                    let row = self
                        .plan_row(line)
                        .and_then(|row| as_planned(&row, id.map(UserId)))
                        .ok_or_else(|| {
                            HostError::permanent(format!(
                                "journal line {line}: recorded as done as planned, but the \
                                 run's plan has no such row to rebuild it from"
                            ))
                        })?;
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
        if let Some(planned) = self.plan_row(row.line).filter(|p| is_as_planned(p, row)) {
            debug_assert_eq!(
                as_planned(&planned, row.user_id.clone()).as_ref(),
                Some(row),
                "a done entry rebuilds the row's result"
            );
            self.db.journal(JournalWrite {
                run_id: self.run_id,
                line: row.line,
                state: "done",
                value: row.user_id.as_ref().map(|id| id.0.clone()),
            });
            return Ok(());
        }
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

    /// A plan of four new users (lines 2 to 5), each added to the group `All` and welcomed.
    fn four_new_users() -> Plan {
        let csv = "firstname,lastname,emailaddress\nAna,Lopez,ana@x.com\nBo,Chan,bo@x.com\n\
                   Cy,Egan,cy@x.com\nDi,Fox,di@x.com\n";
        let upload = lms_bulk_upload::parse(csv.as_bytes(), &Default::default()).unwrap();
        let settings = lms_bulk_upload::Settings::builder()
            .group("All")
            .build()
            .unwrap();
        let mut store = lms_bulk_upload::MemoryStore::new();
        store.add_group("1", "All");
        lms_bulk_upload::plan(&upload, &settings, &mut store).unwrap()
    }

    fn started(dir: &tempfile::TempDir) -> Rc<Db> {
        let db = Db::open(&dir.path().join("j.sqlite3")).ok().unwrap();
        let run = runs::NewRun {
            id: 1,
            run_key: "k",
            fingerprint: "sha256:x",
            source: "f.csv",
            plan_json: "{}",
            plan_deflate: None,
            results_path: "r.csv",
            undo_of_run: None,
        };
        runs::start(&db, &run).ok().unwrap();
        db
    }

    /// Each row's last entry is written, by the batch's commit and not before: a row begun,
    /// created and finished as planned is one `done` entry with its user id, rebuilt whole
    /// on loading; a row finished otherwise is `finished` with its result's JSON; a row whose
    /// user was created and then failed keeps the id (what adopting the user on resuming
    /// needs); a row only begun is `begun`. A batch that never commits leaves nothing.
    #[test]
    fn a_batch_writes_each_rows_last_entry_when_it_commits() {
        let dir = tempfile::tempdir().unwrap();
        let db = started(&dir);
        let plan = four_new_users();
        let mut journal = SqliteJournal::new(db.clone(), 1, &plan);
        let planned = &plan.rows().to_vec()[0];
        assert_eq!(planned.line, 2);
        let row = as_planned(planned, Some(UserId("7".into()))).unwrap();
        assert_eq!(row.status, Status::Created);
        assert!(row.done.len() >= 2, "{row:?}");
        // Line 5 found its user again (resumed): more than the plan says.
        let mut recovered = as_planned(&plan.rows().to_vec()[3], Some(UserId("9".into()))).unwrap();
        recovered.done[0] = Done::RecoverUser;
        journal.begin("fp", 2).unwrap();
        journal.created("fp", 2, &UserId("7".into())).unwrap();
        journal.finish("fp", &row).unwrap();
        journal.begin("fp", 3).unwrap();
        journal.created("fp", 3, &UserId("8".into())).unwrap();
        journal.begin("fp", 4).unwrap();
        journal.begin("fp", 5).unwrap();
        journal.finish("fp", &recovered).unwrap();
        assert!(entries(&db).is_empty(), "nothing before the commit");
        db.commit().unwrap();
        let written = entries(&db);
        assert_eq!(written.len(), 4, "{written:?}");
        assert_eq!(written[0], (2, "done".into(), Some("7".into())));
        assert_eq!(written[1], (3, "begun".into(), Some("8".into())));
        assert_eq!(written[2], (4, "begun".into(), None));
        assert_eq!(written[3].1, "finished");
        assert!(written[3]
            .2
            .as_deref()
            .unwrap()
            .contains("\"recover_user\""));
        let loaded = journal.load("fp").unwrap();
        assert_eq!(loaded.get(&2), Some(&JournalEntry::Finished(row)));
        assert_eq!(
            loaded.get(&3),
            Some(&JournalEntry::Created(UserId("8".into())))
        );
        assert_eq!(loaded.get(&4), Some(&JournalEntry::Begun));
        assert_eq!(loaded.get(&5), Some(&JournalEntry::Finished(recovered)));

        // A batch dropped without its commit (the process stopped) writes nothing.
        journal.begin("fp", 6).unwrap();
        drop(journal);
        drop(db);
        let db = Db::open(&dir.path().join("j.sqlite3")).ok().unwrap();
        assert_eq!(entries(&db).len(), 4);
    }

    /// A `done` entry names a row of the run's plan: one naming no row (a journal altered,
    /// or read with another plan) is a coded error on loading, never a guess.
    #[test]
    fn a_done_entry_without_its_plan_row_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = started(&dir);
        let plan = four_new_users();
        db.conn()
            .execute(
                "INSERT INTO run_journal VALUES (1, 40, 'done', '7'), (1, 2, 'done', NULL)",
                [],
            )
            .unwrap();
        let err = SqliteJournal::new(db.clone(), 1, &plan)
            .load("fp")
            .unwrap_err();
        assert!(err.message().contains("journal line 40"), "{err:?}");
        // Without its user id the row is rebuilt with none: what was recorded.
        db.conn()
            .execute("DELETE FROM run_journal WHERE line = 40", [])
            .unwrap();
        let loaded = SqliteJournal::new(db.clone(), 1, &plan).load("fp").unwrap();
        let Some(JournalEntry::Finished(row)) = loaded.get(&2) else {
            panic!("{loaded:?}")
        };
        assert_eq!(row.user_id, None);
    }

    /// Every operation a plan can hold: when the result is what [`as_planned`] rebuilds,
    /// [`is_as_planned`] says so, and a result with anything else (`already`, another
    /// group, another status, an error) is not.
    #[test]
    fn is_as_planned_agrees_with_as_planned() {
        let plan = four_new_users();
        let planned = &plan.rows().to_vec()[1];
        let row = as_planned(planned, Some(UserId("8".into()))).unwrap();
        assert!(is_as_planned(planned, &row));
        let mut changed = row.clone();
        changed.status = Status::Updated;
        assert!(!is_as_planned(planned, &changed));
        let mut changed = row.clone();
        changed.error = Some(lms_bulk_upload::ResultError::new(
            lms_bulk_upload::IssueCode::InvalidPlan,
            "x",
        ));
        assert!(!is_as_planned(planned, &changed));
        let mut changed = row.clone();
        changed.done.pop();
        assert!(!is_as_planned(planned, &changed));
        for (i, done) in row.done.iter().enumerate() {
            let mut changed = row.clone();
            changed.done[i] = match done {
                Done::AddToGroup { group, .. } => Done::AddToGroup {
                    group: group.clone(),
                    already: true,
                },
                _ => Done::RecoverUser,
            };
            assert!(!is_as_planned(planned, &changed), "{changed:?}");
        }
        let ops = [
            Operation::SetPassword,
            Operation::Invite,
            Operation::RevokeInvitations,
            Operation::ReactivateUser,
            Operation::SuspendUser,
            Operation::DeleteUser,
            Operation::Withdraw {
                content: lms_bulk_upload::ContentRef::new(
                    lms_bulk_upload::ContentKind::Course,
                    "c1",
                ),
            },
            Operation::Enrol {
                content: lms_bulk_upload::ContentRef::new(
                    lms_bulk_upload::ContentKind::Course,
                    "c1",
                ),
            },
        ];
        for op in ops {
            let mut update = planned.clone();
            update.action = Action::Update;
            update.operations = vec![op];
            let row = as_planned(&update, Some(UserId("8".into()))).unwrap();
            assert!(is_as_planned(&update, &row), "{row:?}");
        }
    }
}
