//! Shard results merged into the parent plan's results, and the one confirmation email.

use crate::error::{Error, ErrorKind};
use crate::execute::results::{Done, Provenance, ResultRow, ResultSummary, Results, Status};
use crate::execute::templates::Templates;
use crate::execute::{confirm, DEFAULT_RETRIES};
use crate::host::mailer::Mailer;
use crate::issue::IssueCode;
use crate::plan::{Action, Operation, Plan, PlanRow};
use std::time::Duration;

fn merge_error(code: IssueCode, message: String) -> Error {
    Error::new(ErrorKind::Plan, code, message)
}

impl Results {
    /// The results of every shard of `parent` as the results of `parent` itself: rows in the
    /// parent's order, the summary counted again from those rows (`resumed` is the shards'
    /// sum), `cancelled` if any shard was, the parent's fingerprint. The shards may be given
    /// in any order.
    ///
    /// Refused, with nothing merged: `parent` is itself a shard (`plan_is_shard`); a result
    /// that is not from a shard of `parent`, from another sharding of it, or whose rows are
    /// not the parent's (`shard_foreign`); a row that names another person or user id than
    /// the parent's row on its line, or records something that row does not do
    /// (`shard_result_mismatch`: shard results read back are data anyone with access to
    /// the queue may have edited); a shard given twice (`shard_duplicate`); a shard
    /// without results (`shard_missing`).
    ///
    /// The merged results have `confirmation_deferred` set until the finaliser calls
    /// [`send_confirmation`](Results::send_confirmation). They are verified
    /// ([`Provenance`]) only if every shard's results were.
    pub fn merge(parent: &Plan, shards: &[Results]) -> Result<Results, Error> {
        if parent.shard.is_some() {
            return Err(merge_error(
                IssueCode::PlanIsShard,
                "the plan given as the parent is itself a shard".into(),
            ));
        }
        let count = shards
            .first()
            .and_then(|r| r.shard.as_ref())
            .map_or(0, |s| s.count);
        // Results may come back from a queue as JSON: bound the count by the parent's rows.
        if count as usize > parent.rows.len().max(1) {
            return Err(merge_error(
                IssueCode::ShardForeign,
                format!(
                    "a result names {count} shards; the parent plan has only {} rows",
                    parent.rows.len()
                ),
            ));
        }
        let mut slots: Vec<Option<&Results>> = vec![None; count as usize];
        for result in shards {
            let Some(shard) = result
                .shard
                .as_ref()
                .filter(|s| s.parent == parent.fingerprint && s.count == count)
            else {
                return Err(merge_error(
                    IssueCode::ShardForeign,
                    format!(
                        "the results of plan {} are not from a shard of plan {} (cut into {count})",
                        result.fingerprint, parent.fingerprint
                    ),
                ));
            };
            // index < count was checked when the shard plan was read or made.
            let Some(slot) = slots.get_mut(shard.index as usize) else {
                return Err(merge_error(
                    IssueCode::ShardForeign,
                    format!("shard index {} is not below its count {count}", shard.index),
                ));
            };
            if slot.is_some() {
                return Err(merge_error(
                    IssueCode::ShardDuplicate,
                    format!("the results of shard {} were given twice", shard.index),
                ));
            }
            *slot = Some(result);
        }
        let missing: Vec<String> = (0..count)
            .zip(&slots)
            .filter(|(_, slot)| slot.is_none())
            .map(|(i, _)| i.to_string())
            .collect();
        if count == 0 || !missing.is_empty() {
            return Err(merge_error(
                IssueCode::ShardMissing,
                if count == 0 {
                    "no shard results were given".into()
                } else {
                    format!("no results for shard(s) {} of {count}", missing.join(", "))
                },
            ));
        }
        let present: Vec<&Results> = slots.into_iter().flatten().collect();
        let rows: Vec<_> = present
            .iter()
            .flat_map(|r| r.rows.iter().cloned())
            .collect();
        let same_lines = rows.len() == parent.rows.len()
            && (rows.iter().enumerate()).all(|(i, r)| parent.rows.line(i) == Some(r.line));
        if !same_lines {
            return Err(merge_error(
                IssueCode::ShardForeign,
                "the shards' rows are not the parent plan's rows".into(),
            ));
        }
        // As many results as the parent's rows (just checked): each block's are theirs.
        parent.rows.try_for_each_block(|start, planned| {
            let results = &rows[start..start + planned.len()];
            match results.iter().zip(planned).find(|(r, p)| !same_row(r, p)) {
                Some((result, planned)) => Err(merge_error(
                    IssueCode::ShardResultMismatch,
                    format!(
                        "the result for line {} does not match the parent plan's row on that \
                         line (another person or user id, or something the plan did not do): \
                         refused",
                        planned.line.min(result.line)
                    ),
                )),
                None => Ok(()),
            }
        })?;
        let mut summary = ResultSummary::default();
        for row in &rows {
            summary.count(row);
            summary.emails_sent += row
                .done
                .iter()
                .filter(|d| matches!(d, Done::SendEmail { .. }))
                .count() as u64;
        }
        summary.resumed = present.iter().map(|r| r.summary.resumed).sum();
        Ok(Results {
            fingerprint: parent.fingerprint.clone(),
            summary,
            rows,
            cancelled: present.iter().any(|r| r.cancelled),
            confirmation_error: None,
            shard: None,
            confirmation_deferred: true,
            undo_of: parent.settings.undo_of.clone(),
            provenance: if present.iter().all(|r| r.provenance.is_verified()) {
                Provenance::verified()
            } else {
                Provenance::unverified()
            },
        })
    }

    /// Sends the uploader of `parent` (if its settings name one) the confirmation with these
    /// results' counts: the finalising job's call, once, after [`merge`](Results::merge).
    /// Transient mailer errors are retried; a failure is `mailer_failed`. Results of a shard,
    /// or of another plan, are refused (`plan_is_shard`, `shard_foreign`).
    ///
    /// The engine does not remember that it sent it: a finaliser that may run twice records
    /// that in its own database, with the merged results.
    pub fn send_confirmation(
        &mut self,
        parent: &Plan,
        mailer: &mut dyn Mailer,
        templates: &Templates,
    ) -> Result<(), Error> {
        if self.shard.is_some() || parent.shard.is_some() {
            return Err(merge_error(
                IssueCode::PlanIsShard,
                "the confirmation is sent for the parent plan's merged results, not a shard's"
                    .into(),
            ));
        }
        if self.fingerprint != parent.fingerprint {
            return Err(merge_error(
                IssueCode::ShardForeign,
                "these results are not the results of this plan".into(),
            ));
        }
        let error = confirm(
            parent,
            &self.summary,
            self.cancelled,
            mailer,
            templates,
            (DEFAULT_RETRIES, Duration::from_millis(50)),
        );
        self.confirmation_deferred = false;
        match error {
            None => {
                self.confirmation_error = None;
                Ok(())
            }
            Some(e) => {
                let message = format!("the confirmation email was not sent: {}", e.message);
                self.confirmation_error = Some(e);
                Err(Error::new(
                    ErrorKind::Mailer,
                    IssueCode::MailerFailed,
                    message,
                ))
            }
        }
    }
}

/// Whether a shard's result row is the result of the parent's row on its line: same email,
/// the planned user id (a created user's id is the store's), and nothing done that the row
/// does not plan.
fn same_row(result: &ResultRow, planned: &PlanRow) -> bool {
    if result.email != planned.email || result.line != planned.line {
        return false;
    }
    if planned.user_id.is_some() && result.user_id != planned.user_id {
        return false;
    }
    let creates = planned.action == Action::Create;
    let status_ok = match result.status {
        Status::Created => creates,
        Status::Updated => planned.action == Action::Update,
        // A row with nothing to write is left as it is, whatever its action.
        Status::Unchanged => planned.action == Action::Unchanged || planned.operations.is_empty(),
        Status::Rejected => planned.action == Action::Rejected,
        Status::Failed => true,
    };
    status_ok && result.done.iter().all(|d| planned_op(d, planned, creates))
}

/// Whether `done` is the record of one of `planned`'s operations.
fn planned_op(done: &Done, planned: &PlanRow, creates: bool) -> bool {
    let ops = &planned.operations;
    let has = |f: &dyn Fn(&Operation) -> bool| ops.iter().any(f);
    match done {
        Done::CreateUser | Done::RecoverUser => creates,
        Done::SetPassword => planned.sets_password(),
        Done::Invite => planned.invites(),
        Done::RevokeInvitations => has(&|op| matches!(op, Operation::RevokeInvitations)),
        Done::UpdateProfile { changes, .. } => {
            has(&|op| matches!(op, Operation::UpdateProfile { changes: c, .. } if **changes == **c))
        }
        Done::AddToGroup { group, .. } => {
            has(&|op| matches!(op, Operation::AddToGroup { group: g } if g.name == *group))
        }
        Done::RemoveFromGroup { group, .. } => {
            has(&|op| matches!(op, Operation::RemoveFromGroup { group: g } if g.name == *group))
        }
        Done::Enrol { content, .. } => {
            has(&|op| matches!(op, Operation::Enrol { content: c } if c == content))
        }
        Done::SendEmail { kind } => {
            has(&|op| matches!(op, Operation::SendEmail { kind: k } if k == kind))
        }
        Done::SetLoginMethod { method, .. } => {
            has(&|op| matches!(op, Operation::SetLoginMethod { method: m, .. } if m == method))
        }
        Done::ReactivateUser { .. } => has(&|op| matches!(op, Operation::ReactivateUser)),
        Done::SuspendUser { .. } => {
            has(&|op| matches!(op, Operation::SuspendUser | Operation::DeleteUser))
        }
        Done::DeleteUser => has(&|op| matches!(op, Operation::DeleteUser)),
        Done::Withdraw { content } => {
            has(&|op| matches!(op, Operation::Withdraw { content: c } if c == content))
        }
    }
}
