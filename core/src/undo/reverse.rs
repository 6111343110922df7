//! One row of an undo plan: what reverses one result row, given the store as it is now.

use super::Current;
use crate::execute::results::{Done, ResultRow};
use crate::host::store::{ExistingUser, Profile};
use crate::issue::{Issue, IssueCode};
use crate::plan::{Action, Operation, PlanRow};

/// Whether this operation changed the store (what an undo looks at): not an email, not a
/// change the store already had.
pub(super) fn changes_store(done: &Done) -> bool {
    !matches!(
        done,
        Done::SendEmail { .. }
            | Done::AddToGroup { already: true, .. }
            | Done::RemoveFromGroup { already: true, .. }
            | Done::Enrol { already: true, .. }
    )
}

/// The undo plan's row for `row` (a result row whose user is known and that changed the
/// store).
pub(super) fn row(row: &ResultRow, current: &Current, delete_created: bool) -> PlanRow {
    let email = &row.email;
    let line = Some(row.line);
    let mut out = PlanRow {
        line: row.line,
        email: email.clone(),
        first_name: String::new(),
        last_name: String::new(),
        action: Action::Unchanged,
        user_id: row.user_id.clone(),
        operations: Vec::new(),
        noops: Vec::new(),
        issues: Vec::new(),
    };
    let conflict = |message: String| Issue::new(IssueCode::UndoConflict, line, None, message);
    let user = match current.user(email) {
        None => {
            out.issues.push(conflict(format!(
                "{email} no longer exists: there is nothing to undo"
            )));
            return out;
        }
        Some(user) if Some(&user.id) != row.user_id.as_ref() => {
            out.issues.push(conflict(format!(
                "{email} is now the user {} (the upload changed {}): left as it is",
                user.id,
                row.user_id.as_ref().map_or("", |u| u.0.as_str())
            )));
            return out;
        }
        Some(user) => user,
    };
    out.first_name = user.profile.first_name.clone().unwrap_or_default();
    out.last_name = user.profile.last_name.clone().unwrap_or_default();
    if user.protected {
        out.action = Action::Rejected;
        out.issues.push(Issue::new(
            IssueCode::ProtectedUser,
            line,
            None,
            format!("{email} is protected now; undo leaves it untouched"),
        ));
        return out;
    }
    let created = row
        .done
        .iter()
        .any(|d| matches!(d, Done::CreateUser | Done::RecoverUser));
    let mut profile = Profile::default();
    for done in row.done.iter().rev() {
        match done {
            Done::Enrol {
                content,
                already: false,
            } if user.enrolments.contains(content) => out.operations.push(Operation::Withdraw {
                content: content.clone(),
            }),
            Done::AddToGroup {
                group,
                already: false,
            } if user.groups.contains(group) => match current.group(group) {
                Some(g) => out
                    .operations
                    .push(Operation::RemoveFromGroup { group: g.clone() }),
                None => out.issues.push(conflict(format!(
                    "the group '{group}' cannot be found now: membership left as it is"
                ))),
            },
            Done::RemoveFromGroup {
                group,
                already: false,
            } if !user.groups.contains(group) && !created => match current.group(group) {
                Some(g) => out
                    .operations
                    .push(Operation::AddToGroup { group: g.clone() }),
                None => out.issues.push(conflict(format!(
                    "the group '{group}' no longer exists: the membership cannot be restored"
                ))),
            },
            Done::UpdateProfile { changes, before } if !created => {
                restore(&mut profile, user, changes, before.as_deref(), &mut |m| {
                    out.issues.push(conflict(m))
                });
            }
            Done::SetLoginMethod { method, before } if !created => {
                let now = user
                    .login_method
                    .as_deref()
                    .unwrap_or(crate::host::store::PASSWORD_LOGIN);
                match before {
                    Some(before) if now == method && before != method => {
                        out.operations.push(Operation::SetLoginMethod {
                            method: before.clone(),
                        })
                    }
                    Some(_) if now == method => {}
                    Some(_) => out.issues.push(conflict(format!(
                        "the login method was changed since the upload (to {now}): left as it is"
                    ))),
                    None => out.issues.push(conflict(
                        "the login method is left as it is: the one before the upload is not known (the row was resumed)".into(),
                    )),
                }
            }
            Done::ReactivateUser if !user.suspended => out.operations.push(Operation::SuspendUser),
            Done::SuspendUser if user.suspended && !created => {
                out.operations.push(Operation::ReactivateUser)
            }
            Done::SetPassword if !created => out.issues.push(Issue::new(
                IssueCode::NotUndoable,
                line,
                None,
                "the password the upload set (and emailed) stays: undo cannot take it back".into(),
            )),
            _ => {}
        }
    }
    if !profile.is_empty() {
        // Profile restored before the memberships: `operations` runs in order.
        out.operations
            .insert(0, Operation::UpdateProfile { changes: profile });
    }
    if created && !user.suspended {
        out.operations.push(if delete_created {
            Operation::DeleteUser
        } else {
            Operation::SuspendUser
        });
    }
    if !out.operations.is_empty() {
        out.action = Action::Update;
    }
    out
}

/// Adds to `restore` the before-value of each field `changes` wrote that still holds what
/// the upload wrote; reports the others.
fn restore(
    restore: &mut Profile,
    user: &ExistingUser,
    changes: &Profile,
    before: Option<&Profile>,
    report: &mut dyn FnMut(String),
) {
    let before_fields = before.map(Profile::fields);
    let now = user.profile.fields();
    for (i, (slot, (name, wrote))) in restore
        .fields_mut()
        .into_iter()
        .zip(changes.fields())
        .enumerate()
    {
        let Some(wrote) = wrote else { continue };
        let Some(old) = before_fields.as_ref().map(|b| b[i].1) else {
            report(format!(
                "{name} is left as it is: its value before the upload is not known (the row was interrupted and resumed)"
            ));
            continue;
        };
        let holds = now[i].1.unwrap_or_default();
        if holds != wrote {
            report(format!(
                "{name} was changed since the upload (to {holds:?}): left as it is"
            ));
            continue;
        }
        let old = old.unwrap_or_default();
        if old != holds {
            *slot = Some(old.to_owned());
        }
    }
    for (name, wrote) in &changes.custom {
        let Some(before) = before else {
            report(format!(
                "{name} is left as it is: its value before the upload is not known (the row was interrupted and resumed)"
            ));
            continue;
        };
        let holds = user.profile.custom.get(name).map_or("", String::as_str);
        if holds != wrote {
            report(format!(
                "{name} was changed since the upload (to {holds:?}): left as it is"
            ));
            continue;
        }
        let old = before.custom.get(name).map_or("", String::as_str);
        if old != holds {
            restore.custom.insert(name.clone(), old.to_owned());
        }
    }
}
