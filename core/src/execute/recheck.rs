//! The re-check before writing: for each batch, execution reads the rows' users, groups and
//! content again and compares every row it is about to write with what the plan saw. A row
//! that no longer holds is not written at all.

use super::Executor;
use crate::execute::results::ResultError;
use crate::host::store::{ContentRef, ExistingUser, HostError, UserId};
use crate::issue::IssueCode;
use crate::parse::email::email_key;
use crate::plan::DEFAULT_LOOKUP_BATCH;
use crate::plan::{Action, Operation, PlanRow};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Whether a row may be written.
pub(crate) enum Verdict {
    /// Write it. For a create that the journal shows begun, `recovered` is the user the
    /// interrupted run created (found again by its email).
    Write { recovered: Option<UserId> },
    /// Do not write it, for this reason.
    Refuse(ResultError),
}

/// What the store says now about the rows of one batch.
#[derive(Default)]
pub(crate) struct Current {
    /// Users by email key.
    users: HashMap<String, ExistingUser>,
    /// Group ids by name, for the names the batch uses.
    groups: HashMap<String, String>,
    /// The content items, among those the batch uses, that exist.
    content: HashSet<ContentRef>,
}

impl Executor<'_, '_, '_> {
    /// Reads what the store says now about `rows` (the rows of a batch about to be
    /// written): one `find_users` call per [`DEFAULT_LOOKUP_BATCH`] emails (so one per batch
    /// at the default batch size), and one `find_groups` / `find_content` call when the rows
    /// change groups or enrol. Transient failures are retried like any store call.
    pub(super) fn read_current(&mut self, rows: &[&PlanRow]) -> Result<Current, HostError> {
        let mut current = Current::default();
        let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
        for chunk in emails.chunks(DEFAULT_LOOKUP_BATCH) {
            let users = self.retry(|s| s.store.find_users(chunk))?;
            current
                .users
                .extend(users.into_iter().map(|u| (email_key(&u.email), u)));
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        let mut content: BTreeSet<&ContentRef> = BTreeSet::new();
        for op in rows.iter().flat_map(|r| &r.operations) {
            match op {
                Operation::AddToGroup { group } | Operation::RemoveFromGroup { group } => {
                    names.insert(group.name.as_str());
                }
                Operation::Enrol { content: item } => {
                    content.insert(item);
                }
                _ => {}
            }
        }
        // Only what was asked counts: a store that answers more is not believed.
        let asked: Vec<&str> = names.iter().copied().collect();
        for chunk in asked.chunks(DEFAULT_LOOKUP_BATCH) {
            let groups = self.retry(|s| s.store.find_groups(chunk))?;
            current.groups.extend(
                groups
                    .into_iter()
                    .filter(|g| names.contains(g.name.as_str()))
                    .map(|g| (g.name, g.id)),
            );
        }
        let asked: Vec<ContentRef> = content.iter().map(|c| (*c).clone()).collect();
        for chunk in asked.chunks(DEFAULT_LOOKUP_BATCH) {
            let found = self.retry(|s| s.store.find_content(chunk))?;
            current
                .content
                .extend(found.into_iter().filter(|c| content.contains(c)));
        }
        Ok(current)
    }
}

fn refuse(code: IssueCode, message: String) -> Verdict {
    Verdict::Refuse(ResultError::new(code, message))
}

impl Current {
    /// Whether `row` (a create or an update) still holds; `begun`: the journal shows that an
    /// interrupted run began it.
    pub(crate) fn verdict(&self, row: &PlanRow, begun: bool) -> Verdict {
        let email = &row.email;
        let now = self.users.get(&email_key(email));
        let mut recovered = None;
        match (row.action, now) {
            (Action::Update, now) => {
                let Some(planned) = &row.user_id else {
                    return refuse(
                        IssueCode::StalePlan,
                        format!("the plan updates {email} but names no user id"),
                    );
                };
                match now {
                    None => {
                        return refuse(
                            IssueCode::StalePlan,
                            format!("{email} no longer exists (deleted, or its email changed since planning)"),
                        )
                    }
                    Some(user) if user.id != *planned => {
                        return refuse(
                            IssueCode::StalePlan,
                            format!(
                                "{email} is now the user {} instead of {planned}: someone else since planning",
                                user.id
                            ),
                        )
                    }
                    Some(user) if user.protected => {
                        return refuse(
                            IssueCode::UserNowProtected,
                            format!("{email} became a protected user after planning and is left untouched"),
                        )
                    }
                    Some(_) => {}
                }
            }
            (_, None) => {}
            (_, Some(user)) if begun && user.protected => {
                return refuse(
                    IssueCode::UserNowProtected,
                    format!("{email} became a protected user after the interrupted run created it"),
                )
            }
            // Created by the interrupted run: found again, never created twice.
            (_, Some(user)) if begun => recovered = Some(user.id.clone()),
            (_, Some(_)) => {
                return refuse(
                    IssueCode::UserExistsNow,
                    format!("{email} exists now; it did not when the plan was made"),
                )
            }
        }
        for op in &row.operations {
            match op {
                Operation::AddToGroup { group } | Operation::RemoveFromGroup { group }
                    if self.groups.get(&group.name) != Some(&group.id) =>
                {
                    return refuse(
                        IssueCode::GroupGone,
                        format!(
                            "the group '{}' no longer exists (deleted, or recreated with another id)",
                            group.name
                        ),
                    );
                }
                Operation::Enrol { content } if !self.content.contains(content) => {
                    return refuse(
                        IssueCode::ContentGone,
                        format!("the {content} no longer exists"),
                    );
                }
                _ => {}
            }
        }
        Verdict::Write { recovered }
    }
}
