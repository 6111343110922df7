//! One row of an undo plan: what reverses one result row, given the store as it is now.

use super::{Current, UndoOptions};
use crate::execute::results::{Done, ResultRow, Status};
use crate::host::store::{ExistingUser, Profile, UserId, PASSWORD_LOGIN};
use crate::issue::{Issue, IssueCode};
use crate::parse::fields::{OneOfIndex, ProfileField};
use crate::parse::options::DEFAULT_MAX_VALUE_CHARS;
use crate::parse::validate::{describe_char, find_forbidden_char, is_language_tag};
use crate::plan::{Action, Operation, PlanRow};
use std::collections::BTreeSet;

/// Whether this operation changed the store (what an undo looks at): not an email, not a
/// change the store already had.
pub(super) fn changes_store(done: &Done) -> bool {
    !matches!(
        done,
        Done::SendEmail { .. }
            | Done::AddToGroup { already: true, .. }
            | Done::RemoveFromGroup { already: true, .. }
            | Done::Enrol { already: true, .. }
            | Done::SuspendUser { already: true }
            | Done::ReactivateUser { already: true }
    )
}

/// What an undo may write: from the options and the results' provenance.
pub(super) struct Rules<'a> {
    delete_created: bool,
    /// The results are the engine's own (signed, or from `execute` in this process).
    verified: bool,
    fields: &'a [ProfileField],
    /// For each of `fields`, the index of its `one_of` values (built once per undo).
    one_of: Vec<Option<OneOfIndex>>,
    login_methods: &'a [String],
    undone_creations: BTreeSet<&'a UserId>,
}

impl<'a> Rules<'a> {
    pub(super) fn new(options: &'a UndoOptions, verified: bool) -> Rules<'a> {
        Rules {
            delete_created: options.delete_created_users,
            verified,
            fields: &options.fields,
            one_of: OneOfIndex::for_fields(&options.fields),
            login_methods: &options.login_methods,
            undone_creations: options.undone_creations.iter().collect(),
        }
    }

    /// Why undo may not write `value` into the built-in field `name`, if it may not: the
    /// checks an upload's value passes.
    fn builtin_refusal(name: &str, value: &str) -> Option<String> {
        if value.is_empty() {
            // Emptiness is what the user had: setting it back grants nothing.
            return None;
        }
        if let Some(c) = find_forbidden_char(value) {
            return Some(format!(
                "{name} is not set back: its value before has {}",
                describe_char(c)
            ));
        }
        if value.chars().count() > DEFAULT_MAX_VALUE_CHARS {
            return Some(format!(
                "{name} is not set back: its value before is longer than {DEFAULT_MAX_VALUE_CHARS} characters"
            ));
        }
        if name == "language_code" && !is_language_tag(value) {
            return Some(format!(
                "{name} is not set back: {value:?} is not a language tag"
            ));
        }
        None
    }

    /// Why undo may not write `value` into the custom field `name`, if it may not: the
    /// field must be declared and accept the value as it is stored.
    fn custom_refusal(&self, name: &str, value: &str) -> Option<String> {
        let Some(at) = self.fields.iter().position(|f| f.name == name) else {
            return Some(format!(
                "{name:?} is not a declared profile field: undo does not write it"
            ));
        };
        if value.is_empty() {
            return None;
        }
        let field = &self.fields[at];
        let longest = field.max_length.unwrap_or(DEFAULT_MAX_VALUE_CHARS);
        let valid = find_forbidden_char(value).is_none()
            && value.chars().count() <= longest
            && field
                .check(value, self.one_of[at].as_ref())
                .is_ok_and(|stored| stored == value);
        (!valid).then(|| format!("{name} is not set back: its value before is not one it accepts"))
    }

    /// Whether `method` is one undo may set back: `password` or a declared method.
    fn method_allowed(&self, method: &str) -> bool {
        method == PASSWORD_LOGIN || self.login_methods.iter().any(|m| m == method)
    }
}

/// The undo plan's row for `row` (a result row whose user is known and that changed the
/// store).
pub(super) fn row(row: &ResultRow, current: &Current, rules: &Rules<'_>) -> PlanRow {
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
    // Created by this run: the row says so and its status agrees, and (checked above) the
    // store's user for this email has the id recorded when it was created.
    let created = row.status == Status::Created
        && row
            .done
            .iter()
            .any(|d| matches!(d, Done::CreateUser | Done::RecoverUser));
    let mut profile = Profile::default();
    let mut expect = Profile::default();
    let mut revoke = false;
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
            } if !user.groups.contains(group) && !created => {
                if !rules.verified {
                    out.issues.push(conflict(format!(
                        "the membership of '{group}' is not restored: these results are not signed, and undo adds to a group only on results it can verify"
                    )));
                    continue;
                }
                match current.group(group) {
                    Some(g) => out
                        .operations
                        .push(Operation::AddToGroup { group: g.clone() }),
                    None => out.issues.push(conflict(format!(
                        "the group '{group}' no longer exists: the membership cannot be restored"
                    ))),
                }
            }
            Done::UpdateProfile { changes, before } if !created => {
                restore(
                    (&mut profile, &mut expect),
                    user,
                    changes,
                    before.as_deref(),
                    rules,
                    &mut |m| out.issues.push(conflict(m)),
                );
            }
            Done::SetLoginMethod { method, before } if !created => {
                let now = user.login_method.as_deref().unwrap_or(PASSWORD_LOGIN);
                match before {
                    Some(before) if !rules.method_allowed(before) => out.issues.push(conflict(
                        format!("the login method {before:?} is not one the host declares: undo does not set it"),
                    )),
                    Some(before) if now == method && before != method => {
                        out.operations.push(Operation::SetLoginMethod {
                            method: before.clone(),
                            expect: Some(now.to_owned()),
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
            Done::ReactivateUser { already: false } if !user.suspended => {
                out.operations.push(Operation::SuspendUser)
            }
            Done::SuspendUser { already: false } if user.suspended && !created => {
                if !rules.verified {
                    out.issues.push(conflict(format!(
                        "{email} is not reactivated: these results are not signed, and undo gives access back only on results it can verify"
                    )));
                } else if rules.undone_creations.contains(&user.id) {
                    out.issues.push(conflict(format!(
                        "{email} is not reactivated: the upload that created it was undone"
                    )));
                } else {
                    out.operations.push(Operation::ReactivateUser);
                }
            }
            Done::Invite => revoke = true,
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
        out.operations.insert(
            0,
            Operation::UpdateProfile {
                changes: Box::new(profile),
                expect: Some(Box::new(expect)),
            },
        );
    }
    if revoke {
        // First: a user the undo suspends or deletes keeps no working link. Taking a link
        // back only removes access, so unverified results may drive it too.
        out.operations.insert(0, Operation::RevokeInvitations);
    }
    if created && !rules.verified {
        out.issues.push(conflict(format!(
            "{email} is left active: these results are not signed, and only signed results (or results of execute in this process) prove that the run created a user"
        )));
    } else if created && rules.delete_created {
        // Whatever its state: a user this run created and a later run suspended is deleted.
        out.operations.push(Operation::DeleteUser);
    } else if created && !user.suspended {
        out.operations.push(Operation::SuspendUser);
    }
    if !out.operations.is_empty() {
        out.action = Action::Update;
    }
    out
}

/// Adds to `restore` the before-value of each field `changes` wrote that still holds what
/// the upload wrote (and to `expect` what it holds), if undo may write it; reports the
/// others.
fn restore(
    (restore, expect): (&mut Profile, &mut Profile),
    user: &ExistingUser,
    changes: &Profile,
    before: Option<&Profile>,
    rules: &Rules<'_>,
    report: &mut dyn FnMut(String),
) {
    let before_fields = before.map(Profile::fields);
    let now = user.profile.fields();
    for (i, ((slot, expected), (name, wrote))) in restore
        .fields_mut()
        .into_iter()
        .zip(expect.fields_mut())
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
            if let Some(why) = Rules::builtin_refusal(name, old) {
                report(why);
                continue;
            }
            *slot = Some(old.to_owned());
            *expected = Some(holds.to_owned());
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
            if let Some(why) = rules.custom_refusal(name, old) {
                report(why);
                continue;
            }
            restore.custom.insert(name.clone(), old.to_owned());
            expect.custom.insert(name.clone(), holds.to_owned());
        }
    }
}
