//! Writing one row that the re-check let through: its operations in order, each a typed
//! [`Done`], or the coded [`ResultError`] that stopped it.

use super::{journal_error, Executor, Prepared};
use crate::error::Error;
use crate::execute::invitation::{invitation_url, unix_now, InvitationToken, NewInvitation};
use crate::execute::password::PasswordHash;
use crate::execute::results::{Done, ResultError, ResultRow, Status};
use crate::execute::secret::{scrub, Password};
use crate::host::mailer::{MessageFields, MessageKind};
use crate::host::store::{ContentRef, ExistingUser, HostError, NewUser, Profile, UserId};
use crate::issue::IssueCode;
use crate::plan::{Action, Operation, PlanRow};

/// The host's failure as a row's error: the engine's own code when it judged the reply
/// (`invalid_host_reply`...), `store_failed` otherwise; the host's message.
fn store_failed(e: &HostError) -> ResultError {
    ResultError::new(e.code().unwrap_or(IssueCode::StoreFailed), e.message())
}

fn mailer_failed(e: &HostError) -> ResultError {
    ResultError::new(e.code().unwrap_or(IssueCode::MailerFailed), e.message())
}

/// The stored values of the fields `changes` overwrites (`""` for an empty one).
fn before(stored: &Profile, changes: &Profile) -> Profile {
    let mut before = Profile::default();
    for ((slot, (_, old)), (_, new)) in before
        .fields_mut()
        .into_iter()
        .zip(stored.fields())
        .zip(changes.fields())
    {
        if new.is_some() {
            *slot = Some(old.unwrap_or_default().to_owned());
        }
    }
    for name in changes.custom.keys() {
        let old = stored.custom.get(name).cloned().unwrap_or_default();
        before.custom.insert(name.clone(), old);
    }
    before
}

/// A row whose operations cannot be carried out as written (a plan edited by hand).
/// [`before`], its values taken out of `stored` instead of copied (the same strings).
fn before_taken(stored: &mut Profile, changes: &Profile) -> Profile {
    let mut before = Profile::default();
    for ((slot, old), (_, new)) in before
        .fields_mut()
        .into_iter()
        .zip(stored.fields_mut())
        .zip(changes.fields())
    {
        if new.is_some() {
            *slot = Some(old.take().unwrap_or_default());
        }
    }
    for name in changes.custom.keys() {
        let old = stored.custom.remove(name).unwrap_or_default();
        before.custom.insert(name.clone(), old);
    }
    before
}

/// `value` as an owned string: `found`'s own, taken, where it is the same bytes, else a copy.
fn take_if_same(found: &mut String, value: &str) -> String {
    match *found == value {
        true => std::mem::take(found),
        false => value.to_owned(),
    }
}

/// Whether the row's operations look at the user's profile once at most and at each group
/// once at most (a plan read back from JSON could name one twice): then the row may take
/// those strings out of its user as the store has it now.
fn each_looked_at_once(operations: &[Operation]) -> bool {
    let mut profiles = 0;
    let mut groups: [&str; 8] = [""; 8];
    let mut count = 0;
    for op in operations {
        match op {
            Operation::UpdateProfile { .. } => profiles += 1,
            Operation::AddToGroup { group } | Operation::RemoveFromGroup { group } => {
                if count == groups.len() || groups[..count].contains(&group.name.as_str()) {
                    return false;
                }
                groups[count] = &group.name;
                count += 1;
            }
            _ => {}
        }
    }
    profiles <= 1
}

/// `value` as an owned string: written into a profile value of the row's user that
/// nothing reads any more (one the row does not change: `changed`, the row's one
/// `UpdateProfile`; the user lent to this row alone), where one is long enough, else a copy.
/// The same bytes; one allocation fewer here and one free fewer when the batch drops its
/// users.
fn reuse_or_copy(
    user: Option<&mut ExistingUser>,
    changed: Option<&Profile>,
    value: &str,
) -> String {
    if let Some(user) = user {
        let changes = changed.map(Profile::fields);
        for (i, field) in user.profile.fields_mut().into_iter().enumerate() {
            let left_alone = changes.as_ref().is_none_or(|c| c[i].1.is_none());
            if left_alone && field.as_ref().is_some_and(|s| s.capacity() >= value.len()) {
                let mut reused = field.take().unwrap_or_default();
                reused.clear();
                reused.push_str(value);
                return reused;
            }
        }
    }
    value.to_owned()
}

/// `changes` as the results record them: [`reuse_or_copy`] for each value.
fn changes_copy(
    changes: &Profile,
    mut user: Option<&mut ExistingUser>,
    changed: Option<&Profile>,
) -> Box<Profile> {
    let mut copy = Box::new(Profile::default());
    for (slot, (_, value)) in copy.fields_mut().into_iter().zip(changes.fields()) {
        *slot = value.map(|v| reuse_or_copy(user.as_deref_mut(), changed, v));
    }
    copy.custom.clone_from(&changes.custom);
    copy
}

fn not_as_written(what: &str) -> ResultError {
    ResultError::new(IssueCode::InvalidPlan, what)
}

/// A rejected or unchanged row: nothing is written.
pub(super) fn untouched(row: &PlanRow) -> ResultRow {
    let status = if row.action == Action::Rejected {
        Status::Rejected
    } else {
        Status::Unchanged
    };
    ResultRow {
        line: row.line,
        email: row.email.clone(),
        status,
        user_id: row.user_id.clone(),
        done: Vec::new(),
        error: (status == Status::Rejected)
            .then(|| ResultError::from_issues(&row.issues))
            .flatten(),
    }
}

/// A row that failed (or was not written at all), with what was done before.
pub(super) fn failed(
    row: &PlanRow,
    user_id: Option<UserId>,
    done: Vec<Done>,
    error: ResultError,
) -> ResultRow {
    ResultRow {
        line: row.line,
        email: row.email.clone(),
        status: Status::Failed,
        user_id,
        done,
        error: Some(error),
    }
}

/// What writing a row did, from which its [`ResultRow`] is assembled ([`assemble`]): on
/// the writing thread, or on a thread of its own while the next rows are written (the
/// result is a function of the row, this and the user the re-check lent it, never of the
/// store's state after).
pub(super) struct Written {
    /// The operations carried out, from the first: each gives one [`Done`].
    ops_done: usize,
    /// What stopped the row at the operation after them (scrubbed of its secrets).
    error: Option<ResultError>,
    /// Whether that operation had found the user an interrupted run created
    /// ([`Done::RecoverUser`] recorded before its error).
    recovered_before_error: bool,
    /// The user an interrupted run created (the re-check's verdict).
    recovered: Option<UserId>,
    /// Which id the row's operations acted on last: the row's, or the one its creation
    /// found or was given (the result's `user_id`).
    who: Who,
    /// The id the store gave the user the row created last.
    created: Option<UserId>,
    /// The `DeleteUser` operations (by index) that deleted the user, not suspended it.
    deleted_at: Vec<usize>,
}

impl Written {
    /// Whether the row failed.
    pub(super) fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Which id the row's operations act on: the row's own (or the recovered user's), the
/// recovered user's once a creation found it, or the one the store gave.
#[derive(Clone, Copy)]
enum Who {
    Planned,
    Recovered,
    Created,
}

fn who_id<'a>(
    who: Who,
    row: &'a PlanRow,
    recovered: &'a Option<UserId>,
    created: &'a Option<UserId>,
) -> Option<&'a UserId> {
    match who {
        Who::Planned => row.user_id.as_ref().or(recovered.as_ref()),
        Who::Recovered => recovered.as_ref(),
        Who::Created => created.as_ref(),
    }
}

/// The result of a row [`Executor::write_row`] wrote: what each operation carried out
/// did, in order, and the error that stopped it. `current`: the user as the store had it
/// when the batch was re-checked, and whether it is lent to this row alone.
pub(super) fn assemble(
    row: &PlanRow,
    written: Written,
    current: Option<(&mut ExistingUser, bool)>,
) -> ResultRow {
    let Written {
        ops_done,
        error,
        recovered_before_error,
        recovered,
        who,
        created,
        deleted_at,
    } = written;
    // The user as the store has it now, lent to this row alone: the row's results take
    // its strings (the id, the email, the profile's values before, the names of the
    // groups it was in) instead of copying them, where they are the same.
    let (mut current, take) = match current {
        Some((user, lent_once)) => {
            let take = lent_once && each_looked_at_once(&row.operations);
            (Some(user), take)
        }
        None => (None, false),
    };
    // The row's one profile update, when it may take its user's strings: the values it
    // leaves alone are free for the row's results to reuse.
    let changed = row.operations.iter().find_map(|op| match op {
        Operation::UpdateProfile { changes, .. } if take => Some(&**changes),
        _ => None,
    });
    let planned = match current.as_deref_mut() {
        Some(user) if take && row.user_id.as_ref() == Some(&user.id) => {
            Some(UserId(std::mem::take(&mut user.id.0)))
        }
        _ => row.user_id.clone().or(recovered.clone()),
    };
    // One entry an operation; a user an interrupted run created may add a second
    // (`RecoverUser` before its password is set again).
    let mut done = Vec::with_capacity(row.operations.len() + usize::from(recovered.is_some()));
    let invites = row.invites();
    for (k, op) in row.operations[..ops_done].iter().enumerate() {
        let what = match op {
            Operation::CreateUser { login_method, .. } if login_method.is_some() || invites => {
                match recovered.is_some() {
                    true => Done::RecoverUser,
                    false => Done::CreateUser,
                }
            }
            Operation::CreateUser { .. } => match recovered.is_some() {
                true => {
                    done.push(Done::RecoverUser);
                    Done::SetPassword
                }
                false => Done::CreateUser,
            },
            Operation::SetLoginMethod { method, .. } => Done::SetLoginMethod {
                method: method.clone(),
                before: current.as_deref().map(|u| {
                    u.login_method
                        .clone()
                        .unwrap_or_else(|| crate::host::store::PASSWORD_LOGIN.to_owned())
                }),
            },
            Operation::ReactivateUser => Done::ReactivateUser {
                already: current.as_deref().is_some_and(|u| !u.suspended),
            },
            Operation::SetPassword => Done::SetPassword,
            Operation::Invite => Done::Invite,
            Operation::RevokeInvitations => Done::RevokeInvitations,
            Operation::UpdateProfile { changes, .. } => {
                let before = current.as_deref_mut().map(|u| {
                    Box::new(match take {
                        true => before_taken(&mut u.profile, changes),
                        false => before(&u.profile, changes),
                    })
                });
                let spare = current.as_deref_mut().filter(|_| take);
                Done::UpdateProfile {
                    changes: changes_copy(changes, spare, changed),
                    before,
                }
            }
            Operation::AddToGroup { group } => {
                let groups = current.as_deref_mut().map(|u| &mut u.groups);
                let member = groups.and_then(|g| {
                    let at = g.iter().position(|n| *n == group.name)?;
                    Some((g, at))
                });
                match member {
                    Some((groups, at)) if take => Done::AddToGroup {
                        group: groups.swap_remove(at),
                        already: true,
                    },
                    Some(_) => Done::AddToGroup {
                        group: group.name.clone(),
                        already: true,
                    },
                    None => Done::AddToGroup {
                        group: reuse_or_copy(
                            current.as_deref_mut().filter(|_| take),
                            changed,
                            &group.name,
                        ),
                        already: false,
                    },
                }
            }
            Operation::RemoveFromGroup { group } => Done::RemoveFromGroup {
                group: group.name.clone(),
                already: current
                    .as_deref()
                    .is_some_and(|u| !u.groups.contains(&group.name)),
            },
            Operation::Enrol { content } => {
                let already = current
                    .as_deref()
                    .is_some_and(|u| u.enrolments.contains(content));
                let spare = current.as_deref_mut().filter(|_| take);
                Done::Enrol {
                    content: ContentRef {
                        kind: content.kind,
                        id: reuse_or_copy(spare, changed, &content.id),
                    },
                    already,
                }
            }
            Operation::Withdraw { content } => Done::Withdraw {
                content: content.clone(),
            },
            Operation::SuspendUser => Done::SuspendUser {
                already: current.as_deref().is_some_and(|u| u.suspended),
            },
            Operation::DeleteUser => match deleted_at.contains(&k) {
                true => Done::DeleteUser,
                false => Done::SuspendUser {
                    already: current.as_deref().is_some_and(|u| u.suspended),
                },
            },
            Operation::SendEmail { kind } => Done::SendEmail { kind: *kind },
        };
        done.push(what);
    }
    let user_id = match who {
        Who::Planned => planned,
        Who::Recovered => recovered,
        Who::Created => created,
    };
    if let Some(error) = error {
        if recovered_before_error {
            done.push(Done::RecoverUser);
        }
        return failed(row, user_id, done, error);
    }
    let status = if row.action == Action::Create {
        Status::Created
    } else {
        Status::Updated
    };
    let email = match current {
        Some(user) if take => take_if_same(&mut user.email, &row.email),
        _ => row.email.clone(),
    };
    ResultRow {
        line: row.line,
        email,
        status,
        user_id,
        done,
        error: None,
    }
}

impl Executor<'_, '_, '_> {
    /// Writes a create or update row: its store and mailer calls, in order, until one
    /// fails. `recovered`: the user an interrupted run created. The result is
    /// [`assemble`]d from what this returns.
    pub(super) fn write_row(
        &mut self,
        row: &PlanRow,
        mut password: Prepared,
        recovered: Option<UserId>,
    ) -> Result<Written, Error> {
        let fingerprint = &self.plan.fingerprint;
        if let Some(journal) = self.options.journal.as_deref_mut() {
            journal
                .begin(fingerprint, row.line)
                .map_err(journal_error)?;
        }
        let force = self.plan.settings.force_password_reset;
        let mut who = Who::Planned;
        let mut created: Option<UserId> = None;
        let mut deleted_at = Vec::new();
        let mut emailed_password: Option<Password> = None;
        // The row's sign-in link (it holds the token): only for the email that follows.
        let mut emailed_link: Option<Password> = None;
        let invites = row.invites();
        let stopped =
            |ops_done, error, recovered_before_error, recovered, who, created, deleted_at| {
                Ok(Written {
                    ops_done,
                    error: Some(error),
                    recovered_before_error,
                    recovered,
                    who,
                    created,
                    deleted_at,
                })
            };
        for (k, op) in row.operations.iter().enumerate() {
            let user_id = who_id(who, row, &recovered, &created);
            let mut recovered_first = false;
            let outcome: Result<(), ResultError> = match op {
                Operation::CreateUser {
                    profile,
                    login_method,
                } if login_method.is_some() || invites => {
                    // With `None`, no password: the user chooses one through the link.
                    let method = login_method
                        .as_deref()
                        .unwrap_or(crate::host::store::PASSWORD_LOGIN);
                    if recovered.is_some() {
                        // Created by an interrupted run: nothing to set again (no password).
                        who = Who::Recovered;
                        Ok(())
                    } else {
                        match self.create_new(&row.email, profile, None, false, method) {
                            Ok(id) => {
                                self.record_created(row.line, &id)?;
                                created = Some(id);
                                who = Who::Created;
                                Ok(())
                            }
                            Err(e) => Err(store_failed(&e)),
                        }
                    }
                }
                Operation::CreateUser { profile, .. } => {
                    let Some((plain, hash)) = password.take() else {
                        let e =
                            not_as_written("the row creates a user but no password was prepared");
                        return stopped(k, e, false, recovered, who, created, deleted_at);
                    };
                    emailed_password = plain;
                    if let Some(id) = &recovered {
                        // Created by an interrupted run: set the password again instead.
                        recovered_first = true;
                        self.retry(|s| s.store.set_password(id, &hash, force))
                            .map_err(|e| store_failed(&e))
                    } else {
                        let method = crate::host::store::PASSWORD_LOGIN;
                        match self.create_new(&row.email, profile, Some(hash), force, method) {
                            Ok(id) => {
                                self.record_created(row.line, &id)?;
                                created = Some(id);
                                who = Who::Created;
                                Ok(())
                            }
                            Err(e) => Err(store_failed(&e)),
                        }
                    }
                }
                Operation::SetLoginMethod { method, .. } => {
                    self.with_user(user_id, |s, id| s.store.set_login_method(id, method))
                }
                Operation::ReactivateUser => {
                    self.with_user(user_id, |s, id| s.store.reactivate_user(id))
                }
                Operation::SetPassword => {
                    let (Some(id), Some((plain, hash))) = (user_id, password.take()) else {
                        let e = not_as_written(
                            "the row sets a password but has no user or no password was prepared",
                        );
                        return stopped(k, e, false, recovered, who, created, deleted_at);
                    };
                    emailed_password = plain;
                    self.retry(|s| s.store.set_password(id, &hash, force))
                        .map_err(|e| store_failed(&e))
                }
                Operation::Invite => match self.invite(user_id) {
                    Ok(url) => {
                        emailed_link = Some(url);
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                Operation::RevokeInvitations => {
                    let upload = self.plan.settings.undo_of.clone().unwrap_or_default();
                    self.with_user(user_id, |s, id| s.store.revoke_invitations(id, &upload))
                }
                Operation::UpdateProfile { changes, .. } => {
                    self.with_user(user_id, |s, id| s.store.update_profile(id, changes))
                }
                Operation::AddToGroup { group } => {
                    self.with_user(user_id, |s, id| s.store.add_to_group(id, group))
                }
                Operation::RemoveFromGroup { group } => {
                    self.with_user(user_id, |s, id| s.store.remove_from_group(id, group))
                }
                Operation::Enrol { content } => {
                    self.with_user(user_id, |s, id| s.store.enrol(id, content))
                }
                Operation::Withdraw { content } => {
                    self.with_user(user_id, |s, id| s.store.withdraw(id, content))
                }
                Operation::SuspendUser => self.with_user(user_id, |s, id| s.store.suspend_user(id)),
                Operation::DeleteUser => {
                    let mut deleted = false;
                    let outcome = self.with_user(user_id, |s, id| {
                        deleted = s.store.delete_user(id)?;
                        if deleted {
                            Ok(())
                        } else {
                            s.store.suspend_user(id)
                        }
                    });
                    if deleted && outcome.is_ok() {
                        deleted_at.push(k);
                    }
                    outcome
                }
                Operation::SendEmail { kind } => self
                    .send(row, *kind, emailed_password.clone(), emailed_link.clone())
                    .map_err(|e| mailer_failed(&e)),
            };
            // A row has a password or a link, never both: the last one pushed is the row's.
            for plain in emailed_password.iter().chain(&emailed_link) {
                if self.batch_secrets.last() != Some(plain) {
                    self.batch_secrets.push(plain.clone());
                }
            }
            if let Err(mut e) = outcome {
                // Every secret the engine knows for this row: the password it set (and
                // emailed), its sign-in link and the shared default password.
                e.message = scrub(
                    std::mem::take(&mut e.message),
                    emailed_password
                        .iter()
                        .chain(&emailed_link)
                        .chain(self.default_password.iter()),
                );
                return stopped(k, e, recovered_first, recovered, who, created, deleted_at);
            }
        }
        Ok(Written {
            ops_done: row.operations.len(),
            error: None,
            recovered_before_error: false,
            recovered,
            who,
            created,
            deleted_at,
        })
    }

    /// Records in the journal the id the store gave the row's new user: what proves, on
    /// resuming, that a user found with that email is this run's own.
    fn record_created(&mut self, line: u32, id: &UserId) -> Result<(), Error> {
        if let Some(journal) = self.options.journal.as_deref_mut() {
            journal
                .created(&self.plan.fingerprint, line, id)
                .map_err(journal_error)?;
        }
        Ok(())
    }

    fn with_user(
        &mut self,
        user: Option<&UserId>,
        mut op: impl FnMut(&mut Self, &UserId) -> Result<(), HostError>,
    ) -> Result<(), ResultError> {
        let Some(id) = user else {
            return Err(not_as_written(
                "the row changes a user it neither creates nor names",
            ));
        };
        self.retry(|s| op(s, id)).map_err(|e| store_failed(&e))
    }

    /// Issues the user a sign-in link: a new token, its digest and expiry to the store
    /// (which drops the user's links from other uploads), and the link for the email. The
    /// upload is named by its plan's fingerprint (a shard's parent's), what undo revokes by.
    fn invite(&mut self, user: Option<&UserId>) -> Result<Password, ResultError> {
        let Some(template) = self.plan.settings.invitation_url.clone() else {
            return Err(not_as_written(
                "the row issues a sign-in link but the plan has no invitation_url",
            ));
        };
        let Some(id) = user else {
            return Err(not_as_written(
                "the row issues a sign-in link to a user it neither creates nor names",
            ));
        };
        let token = InvitationToken::generate();
        let plan = self.plan;
        let invitation = NewInvitation {
            user: id.clone(),
            digest: token.digest(),
            expires_at: unix_now().saturating_add(self.options.invitation_expiry.as_secs()),
            upload: plan
                .shard
                .as_ref()
                .map_or(plan.fingerprint.clone(), |s| s.parent.clone()),
        };
        self.retry(|s| s.store.add_invitation(&invitation))
            .map_err(|e| store_failed(&e))?;
        Ok(invitation_url(&template, &token))
    }

    /// Creates the user of a row ([`create`](Self::create)) from the executor's one
    /// [`NewUser`], its strings written over in place: no copy of the row's email and
    /// profile allocated per row.
    fn create_new(
        &mut self,
        email: &str,
        profile: &Profile,
        password_hash: Option<PasswordHash>,
        force_password_reset: bool,
        login_method: &str,
    ) -> Result<UserId, HostError> {
        let mut user = self.new_user.take().unwrap_or_else(|| NewUser {
            email: String::new(),
            profile: Profile::default(),
            password_hash: None,
            force_password_reset: false,
            login_method: String::new(),
        });
        email.clone_into(&mut user.email);
        user.profile.assign(profile);
        user.password_hash = password_hash;
        user.force_password_reset = force_password_reset;
        login_method.clone_into(&mut user.login_method);
        let created = self.create(&user);
        user.password_hash = None;
        self.new_user = Some(user);
        created
    }

    /// Creates a user; after a transient failure, looks the email up before trying again,
    /// since the failed call may have created it.
    fn create(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        let mut failed_before = false;
        self.retry(|s| {
            if failed_before {
                if let Ok(found) = s.store.find_users(&[user.email.as_str()]) {
                    if let Some(existing) = found
                        .into_iter()
                        .find(|u| crate::parse::email::emails_equal(&u.email, &user.email))
                    {
                        return Ok(existing.id);
                    }
                }
            }
            let created = s.store.create_user(user);
            failed_before = created.is_err();
            created
        })
    }

    fn send(
        &mut self,
        row: &PlanRow,
        kind: MessageKind,
        password: Option<Password>,
        invitation_url: Option<Password>,
    ) -> Result<(), HostError> {
        let s = &self.plan.settings;
        let login_method = row.operations.iter().find_map(|op| match op {
            Operation::CreateUser { login_method, .. } => login_method.clone(),
            _ => None,
        });
        let fields = MessageFields {
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            login: row.email.clone(),
            site_url: s.site_url.clone(),
            password,
            invitation_url,
            login_method,
            ..MessageFields::default()
        };
        let message = self.options.templates.render(kind, &row.email, fields);
        self.retry(|s| s.mailer.send(&message))?;
        self.summary.emails_sent += 1;
        Ok(())
    }
}
