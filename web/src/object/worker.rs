//! Executing a run of an object host: the plan it stored (verified), the host's store and
//! mailer, the run's journal in the record store (so that a run stopped anywhere resumes
//! where it stopped), progress and cancel through the run's record (so that they work
//! whichever process executes it), the signed results stored at the end.

use super::records::{
    journal_kind, now, rfc3339, JournalDoc, PlanDoc, ResultsDoc, RunDoc, PLAN, RESULTS, RUN,
};
use super::{engine, guard, ObjectHost, Shared, HEARTBEAT_SECS, STALE_SECS};
use crate::hooks::HookError;
use lms_bulk_upload::host::{ExecuteConfig, HostMailer, HostStore};
use lms_bulk_upload::{HostError, Journal, JournalEntry, Plan, Progress, ResultRow, UserId};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What [`ObjectHost::execute_run`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The run executed to its end (finished or cancelled).
    Ended,
    /// It had ended already: nothing was done.
    AlreadyEnded,
    /// Another worker is executing it: nothing was done.
    Busy,
}

/// The run's journal: one record per line in the kind `journal:<run id>`.
struct RecordJournal<'a> {
    host: &'a ObjectHost,
    kind: String,
}

fn journal_error(e: HookError) -> HostError {
    match e {
        HookError::Failed(message) | HookError::Refused { message, .. } => {
            HostError::permanent(message)
        }
        HookError::Engine(e) => HostError::permanent(e.to_string()),
    }
}

impl Journal for RecordJournal<'_> {
    fn load(&mut self, _fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        let lines = self
            .host
            .records
            .all::<JournalDoc>(&self.kind)
            .map_err(journal_error)?;
        lines
            .into_iter()
            .map(|(line, doc)| {
                let line: u32 = line.parse().map_err(|_| {
                    HostError::permanent(format!("journal line {line:?} is not a number"))
                })?;
                let entry = match (doc.row, doc.created) {
                    (Some(row), _) => JournalEntry::Finished(
                        serde_json::from_value::<ResultRow>(row).map_err(|e| {
                            HostError::permanent(format!("journal line {line} cannot be read: {e}"))
                        })?,
                    ),
                    (None, Some(user)) => JournalEntry::Created(UserId(user)),
                    (None, None) => JournalEntry::Begun,
                };
                Ok((line, entry))
            })
            .collect()
    }

    fn begin(&mut self, _fingerprint: &str, line: u32) -> Result<(), HostError> {
        let doc = JournalDoc {
            created: None,
            row: None,
        };
        self.put(line, &doc)
    }

    fn created(&mut self, _fingerprint: &str, line: u32, user: &UserId) -> Result<(), HostError> {
        let doc = JournalDoc {
            created: Some(user.0.clone()),
            row: None,
        };
        self.put(line, &doc)
    }

    fn finish(&mut self, _fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        let value = serde_json::to_value(row)
            .map_err(|e| HostError::permanent(format!("a result row cannot be written: {e}")))?;
        let doc = JournalDoc {
            created: None,
            row: Some(value),
        };
        self.put(row.line, &doc)
    }
}

impl RecordJournal<'_> {
    fn put(&self, line: u32, doc: &JournalDoc) -> Result<(), HostError> {
        self.host
            .records
            .put(&self.kind, &line.to_string(), doc, None)
            .map(drop)
            .map_err(journal_error)
    }
}

impl ObjectHost {
    /// Executes run `run_id` (approved through the API): what a job queue's worker calls for
    /// each `enqueue_run(run_id)`, and what this host's own thread calls without a queue.
    /// Rows its journal has as done are skipped, so calling it again after a stop resumes
    /// the run; a run that has ended, or that another live worker is executing, is left
    /// alone. The run's record says how it went (an error also marks it interrupted).
    pub fn execute_run(&self, run_id: &str) -> Result<RunOutcome, HookError> {
        // Claimed: running, with this worker's heartbeat.
        let mut outcome = None;
        let claimed = self.records.update::<RunDoc>(RUN, run_id, &mut |run| {
            outcome = match run.state.as_str() {
                "finished" | "cancelled" => Some(RunOutcome::AlreadyEnded),
                "running" if now().saturating_sub(run.heartbeat) <= STALE_SECS => {
                    Some(RunOutcome::Busy)
                }
                _ => None,
            };
            if outcome.is_none() {
                run.state = "running".into();
                run.heartbeat = now();
                run.error = None;
            }
            Ok(())
        })?;
        let Some(run) = claimed else {
            return Err(HookError::Refused {
                code: "not_found",
                message: format!("no run {run_id}"),
            });
        };
        if let Some(outcome) = outcome {
            return Ok(outcome);
        }
        let cancel = Arc::new(AtomicBool::new(run.cancel));
        guard(&self.live).insert(run_id.to_owned(), cancel.clone());
        let result = self.execute_claimed(run_id, &run, cancel);
        guard(&self.live).remove(run_id);
        if let Err(e) = &result {
            let message = match e {
                HookError::Failed(m) | HookError::Refused { message: m, .. } => m.clone(),
                HookError::Engine(e) => e.to_string(),
            };
            let _ = self.records.update::<RunDoc>(RUN, run_id, &mut |run| {
                run.state = "interrupted".into();
                run.error = Some(message.clone());
                Ok(())
            });
        }
        result.map(|()| RunOutcome::Ended)
    }

    /// [`ObjectHost::execute_run`], waiting while another worker's heartbeat is fresh (it
    /// may have died: then this one takes the run over once the heartbeat is stale).
    pub(crate) fn execute_run_waiting(&self, run_id: &str) -> Result<RunOutcome, HookError> {
        loop {
            match self.execute_run(run_id)? {
                RunOutcome::Busy => std::thread::sleep(Duration::from_secs(HEARTBEAT_SECS)),
                outcome => return Ok(outcome),
            }
        }
    }

    fn execute_claimed(
        &self,
        run_id: &str,
        run: &RunDoc,
        cancel: Arc<AtomicBool>,
    ) -> Result<(), HookError> {
        let plan_doc = self
            .records
            .get::<PlanDoc>(PLAN, &run.plan_id)?
            .ok_or_else(|| {
                HookError::Failed(format!("the plan {} of {run_id} is missing", run.plan_id))
            })?;
        // Only a plan this host signed is run.
        let plan = Plan::from_signed_json(&plan_doc.doc.signed, &self.keys.plan).map_err(engine)?;
        let password = match &run.sealed_password {
            Some(sealed) => Some(self.keys.open(run_id, sealed).map_err(HookError::Failed)?),
            None => None,
        };
        let naming = self.config.naming;
        let mut store = HostStore::new(Shared(self.store.as_ref()), naming).map_err(engine)?;
        let mut mailer = HostMailer::new(Shared(self.mailer.as_ref()), naming).map_err(engine)?;
        let mut journal = RecordJournal {
            host: self,
            kind: journal_kind(run_id),
        };
        let done = AtomicU64::new(run.done);
        let total = AtomicU64::new(run.total);
        let stop = AtomicBool::new(false);
        let progress = |p: Progress| {
            done.store(p.done, Ordering::SeqCst);
            total.store(p.total, Ordering::SeqCst);
        };
        let mut options = ExecuteConfig::from_value(self.config.execute.clone())
            .map_err(engine)?
            .into_options();
        options.default_password = password;
        options.progress = Some(Box::new(progress));
        options.cancel = Some(cancel.clone());
        options.journal = Some(&mut journal);
        let results = std::thread::scope(|scope| {
            // The heartbeat: progress out and a cancel asked for in, through the run's
            // record, whichever process executes the run, however long a batch takes.
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    for _ in 0..HEARTBEAT_SECS * 10 {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    let _ = self.records.update::<RunDoc>(RUN, run_id, &mut |run| {
                        run.done = done.load(Ordering::SeqCst);
                        run.total = total.load(Ordering::SeqCst);
                        run.heartbeat = now();
                        if run.cancel {
                            cancel.store(true, Ordering::SeqCst);
                        }
                        Ok(())
                    });
                }
            });
            let results = lms_bulk_upload::execute(&plan, &mut store, &mut mailer, options);
            stop.store(true, Ordering::SeqCst);
            results
        })
        .map_err(engine)?;
        let signed = ResultsDoc {
            signed: results.to_signed_json(&self.keys.plan),
        };
        self.records.put(RESULTS, run_id, &signed, None)?;
        // The run undone is marked before the undo is seen to end.
        // ...unless the undo was cancelled: the run it undoes may then be undone again.
        if let Some(target) = run.undo_of.as_ref().filter(|_| !results.cancelled) {
            self.records.update::<RunDoc>(RUN, target, &mut |undone| {
                undone.undone_by = Some(run_id.to_owned());
                Ok(())
            })?;
        }
        let state = if results.cancelled {
            "cancelled"
        } else {
            "finished"
        };
        self.records.update::<RunDoc>(RUN, run_id, &mut |run| {
            run.state = state.into();
            run.done = results.rows.len() as u64;
            run.counts = Some(results.summary.clone());
            run.finished_at = Some(rfc3339(now()));
            run.sealed_password = None;
            run.error = None;
            Ok(())
        })?;
        Ok(())
    }
}
