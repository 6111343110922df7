//! The deterministic plan: what will happen to every row, computed by reading the store only.

mod build;
mod cells;
mod changes;
mod compact;
mod json;
mod missing;
mod pipeline;
mod rows;
pub(crate) use json::hex;
pub(crate) mod settings;
pub(crate) mod shard;
mod sign;

use crate::execute::secret::Password;
use crate::host::mailer::MessageKind;
use crate::host::store::{ContentRef, Group, Profile, UserId};
use crate::issue::Issue;
use serde::{Deserialize, Serialize};

pub(crate) use build::{find_existing, find_groups_named, missing_methods, Existing, View};
pub use build::{plan, plan_with, PlanOptions, DEFAULT_LOOKUP_BATCH};
pub use changes::FieldChange;
pub use rows::{PlanRowIter, PlanRows};
pub use shard::{PreparedPassword, ShardOptions, ShardRef};
pub use sign::PlanKey;
pub(crate) use sign::SIGNATURE_FIELD;

/// The version of the plan's JSON format; a plan of another version is refused.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What will happen to each row of an upload, and why.
///
/// A plan is a value: it holds no password, no timestamp and nothing random, so the same
/// file, settings and store give a byte-identical [`Plan::to_json`]. Its
/// [`fingerprint`](Plan::fingerprint) is a SHA-256 of that content; [`Plan::from_json`]
/// refuses a plan whose content does not match it, so a plan can be shown, stored,
/// approved and executed later or elsewhere. The fingerprint catches accidents only (anyone
/// can recompute it); [`Plan::to_signed_json`] and [`Plan::from_signed_json`] add an
/// HMAC-SHA-256 under a host's [`PlanKey`], which an edit without the key cannot match.
///
/// Reading a plan back also refuses (`invalid_plan`) one whose summary is not the count of
/// its rows, or whose generated passwords would be shorter than 12 characters: what a
/// plan says it will do is always what its rows do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PlanData")]
#[must_use = "a plan does nothing until it is executed"]
pub struct Plan {
    pub(crate) format_version: u32,
    pub(crate) fingerprint: String,
    pub(crate) settings: PlanSettings,
    pub(crate) summary: Summary,
    pub(crate) file_issues: Vec<Issue>,
    pub(crate) rows: PlanRows,
    /// Set on a shard: its parent, index and count (and a prepared default-password hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) shard: Option<shard::ShardSpec>,
    /// Kept from the settings for an in-memory execute; never serialised.
    #[serde(skip)]
    pub(crate) default_password: Option<Password>,
}

impl Plan {
    /// The SHA-256 of the plan's canonical content, `sha256:<hex>`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
    /// The counts.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
    /// One entry per data row of the file, in file order, decoded as each is read.
    pub fn rows(&self) -> &PlanRows {
        &self.rows
    }
    /// The settings the plan was made with (no password).
    pub fn settings(&self) -> &PlanSettings {
        &self.settings
    }
    /// File-level issues (warnings such as unknown columns or a guessed encoding).
    pub fn file_issues(&self) -> &[Issue] {
        &self.file_issues
    }
    /// Gives the default password to a plan read back from JSON (plans never contain it).
    pub fn with_default_password(mut self, password: impl Into<Password>) -> Plan {
        self.default_password = Some(password.into());
        self
    }
}

/// A plan as read from JSON, before its own consistency is checked.
#[derive(Deserialize)]
struct PlanData {
    format_version: u32,
    fingerprint: String,
    settings: PlanSettings,
    summary: Summary,
    file_issues: Vec<Issue>,
    rows: Vec<PlanRow>,
    #[serde(default)]
    shard: Option<shard::ShardSpec>,
}

impl TryFrom<PlanData> for Plan {
    type Error = String;
    fn try_from(data: PlanData) -> Result<Plan, String> {
        let counted = Summary::of(&data.rows, &data.file_issues);
        if counted != data.summary {
            let stated = serde_json::to_value(&data.summary).unwrap_or_default();
            let counted = serde_json::to_value(&counted).unwrap_or_default();
            let field = stated
                .as_object()
                .and_then(|s| s.iter().find(|(k, v)| counted.get(k.as_str()) != Some(v)))
                .map(|(k, v)| format!("{k} {v}, its rows give {}", counted[k.as_str()]));
            return Err(format!(
                "the plan's summary does not match its rows (it says {})",
                field.unwrap_or_default()
            ));
        }
        if let Err((code, message)) = crate::execute::password::check_generated_length(
            data.settings.generated_password_length,
        ) {
            return Err(format!("{message} [{code}]"));
        }
        if let Some(spec) = &data.shard {
            spec.check(data.settings.password_source)?;
        }
        Ok(Plan {
            format_version: data.format_version,
            fingerprint: data.fingerprint,
            settings: data.settings,
            summary: data.summary,
            file_issues: data.file_issues,
            rows: PlanRows::from_vec(data.rows),
            shard: data.shard,
            default_password: None,
        })
    }
}

/// Where passwords come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PasswordSource {
    /// A unique password per user, generated at execution and emailed.
    Generated,
    /// The settings' default password, given again at execution.
    Default,
    /// No password: a personal single-use sign-in link per user, issued at execution and
    /// emailed, where the user chooses their own.
    Invitation,
}

/// The settings as recorded in a plan: no password, groups resolved to their ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct PlanSettings {
    pub enrol_existing_users: bool,
    pub update_existing_profiles: bool,
    pub update_existing_passwords: bool,
    pub password_source: PasswordSource,
    pub generated_password_length: usize,
    pub force_password_reset: bool,
    pub send_notification_email: bool,
    pub enrolments: Vec<ContentRef>,
    pub groups: Vec<Group>,
    pub site_url: String,
    pub results_url: String,
    pub uploader_email: Option<String>,
    /// With sign-in links: the link template (`{token}` in one path segment or query
    /// value), checked when the settings were built and again at execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_url: Option<String>,
    /// Set on an undo plan: the fingerprint of the upload's plan it reverses (an undo
    /// plan's results cannot be undone again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_of: Option<String>,
}

/// What the plan does with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// A new user is created.
    Create,
    /// An existing user is changed.
    Update,
    /// The row changes nothing.
    Unchanged,
    /// The row has errors (or the user is protected) and is left out.
    Rejected,
}

impl Action {
    /// `create`, `update`, `unchanged` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Rejected => "rejected",
        }
    }
}

/// One change to make, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Create the user with this profile and a password (generated or default), or no
    /// password when the user signs in another way.
    CreateUser {
        /// The profile from the file (boxed: most operations are a few words, and a plan
        /// holds several per row).
        profile: Box<Profile>,
        /// One of the host's login methods; absent for the built-in password login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        login_method: Option<String>,
    },
    /// Change how the existing user signs in.
    SetLoginMethod {
        /// `password` or one of the host's login methods.
        method: String,
        /// Undo: the method the user must still have when the row is written (else the row
        /// is not written: `undo_conflict`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect: Option<String>,
    },
    /// Let the suspended user sign in again.
    ReactivateUser,
    /// Overwrite these profile fields of the existing user.
    UpdateProfile {
        /// The fields that change, with their new values (boxed, as in `CreateUser`).
        changes: Box<Profile>,
        /// Undo: the values those fields must still hold when the row is written (`""` for
        /// empty; else the row is not written: `undo_conflict`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect: Option<Box<Profile>>,
    },
    /// Set a new password (generated or default) on the existing user.
    SetPassword,
    /// Issue the user a sign-in link (its digest and expiry to the store, the link to the
    /// email that follows), revoking their links from earlier uploads.
    Invite,
    /// Undo: revoke the unused sign-in links the undone upload issued to the user.
    RevokeInvitations,
    /// Add to a group.
    AddToGroup {
        /// The group.
        group: Group,
    },
    /// Remove from a group.
    RemoveFromGroup {
        /// The group.
        group: Group,
    },
    /// Enrol in a content item.
    Enrol {
        /// The item.
        content: ContentRef,
    },
    /// Email the user.
    SendEmail {
        /// `welcome` or `password_changed`.
        kind: MessageKind,
    },
    /// Deactivate the user: a user missing from a file that lists everyone, or (undo) a
    /// user the upload created ([`Store::suspend_user`](crate::Store::suspend_user)).
    SuspendUser,
    /// Undo: delete the user the upload created, or suspend it when the store keeps it
    /// ([`Store::delete_user`](crate::Store::delete_user)).
    DeleteUser,
    /// Undo: withdraw the enrolment the upload made.
    Withdraw {
        /// The item.
        content: ContentRef,
    },
}

/// Something the row asks for that is already true: reported, not done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "noop", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Noop {
    /// The user is already in the group.
    AlreadyMember {
        /// The group name.
        group: String,
    },
    /// `removegroup` names a group the user is not in.
    NotAMember {
        /// The group name.
        group: String,
    },
    /// The user is already enrolled.
    AlreadyEnrolled {
        /// The item.
        content: ContentRef,
    },
    /// The file's profile values are those already stored.
    ProfileUnchanged,
}

/// The plan for one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRow {
    /// The line where the record starts.
    pub line: u32,
    /// The email as written in the file.
    pub email: String,
    /// The first name from the file (for the email greeting).
    pub first_name: String,
    /// The last name from the file.
    pub last_name: String,
    /// What happens to the row.
    pub action: Action,
    /// The existing user's id, for updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The operations, in the order they run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
    /// What is already true.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noops: Vec<Noop>,
    /// The row's issues (errors for rejected rows, warnings otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
}

impl PlanRow {
    /// An empty row (line 0, rejected, nothing to do), overwritten by a planned one.
    pub(crate) fn placeholder() -> PlanRow {
        PlanRow {
            line: 0,
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            action: Action::Rejected,
            user_id: None,
            operations: Vec::new(),
            noops: Vec::new(),
            issues: Vec::new(),
        }
    }

    /// Whether a password is set (a new user who signs in by password, or `SetPassword`);
    /// a row that sends a sign-in link sets none.
    pub fn sets_password(&self) -> bool {
        !self.invites()
            && self.operations.iter().any(|op| {
                matches!(
                    op,
                    Operation::CreateUser {
                        login_method: None,
                        ..
                    } | Operation::SetPassword
                )
            })
    }

    /// Whether the row issues a sign-in link.
    pub fn invites(&self) -> bool {
        self.operations
            .iter()
            .any(|op| matches!(op, Operation::Invite))
    }
}

/// The counts of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Data rows in the file.
    pub rows: u64,
    /// Rows left out (errors, duplicates, protected users).
    pub rejected: u64,
    /// Users to create.
    pub create: u64,
    /// Existing users to change.
    pub update: u64,
    /// Rows that change nothing.
    pub unchanged: u64,
    /// Existing users whose profile fields change.
    pub profile_updates: u64,
    /// Passwords to set (new users included).
    pub passwords: u64,
    /// Group additions.
    pub group_additions: u64,
    /// Group removals.
    pub group_removals: u64,
    /// Enrolments.
    pub enrolments: u64,
    /// Emails to users (the uploader's confirmation not included).
    pub emails: u64,
    /// Users to suspend (missing from a file that lists everyone, or created by the upload an undo reverses).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suspensions: u64,
    /// Undo: users to delete (or suspend, if the store keeps them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deletions: u64,
    /// Undo: enrolments to withdraw.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub withdrawals: u64,
    /// Suspended users to reactivate.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reactivations: u64,
    /// Existing users whose login method changes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub login_method_changes: u64,
    /// Sign-in links to issue (new users and password resets, with `send_invitations`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub invitations: u64,
    /// Undo: users whose sign-in links from the undone upload are revoked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revocations: u64,
    /// Warnings on rows and file.
    pub warnings: u64,
}

/// Undo counts are left out of a plan that has none, so that plans made before undo
/// existed keep their fingerprint.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    /// The counts of these rows and file issues: the only way a plan's summary is made.
    pub(crate) fn of(rows: &[PlanRow], file_issues: &[Issue]) -> Summary {
        let mut summary = Summary::default();
        for row in rows {
            summary.count(row);
        }
        summary.warnings += file_issues.iter().filter(|i| !i.is_error()).count() as u64;
        summary
    }

    /// Adds `other`'s counts to these (the counts of two sets of rows: those of all of them).
    pub(crate) fn add(&mut self, other: &Summary) {
        // destructured: a new count breaks the build here rather than go unadded
        let Summary {
            rows,
            rejected,
            create,
            update,
            unchanged,
            profile_updates,
            passwords,
            group_additions,
            group_removals,
            enrolments,
            emails,
            suspensions,
            deletions,
            withdrawals,
            reactivations,
            login_method_changes,
            invitations,
            revocations,
            warnings,
        } = other;
        self.rows += rows;
        self.rejected += rejected;
        self.create += create;
        self.update += update;
        self.unchanged += unchanged;
        self.profile_updates += profile_updates;
        self.passwords += passwords;
        self.group_additions += group_additions;
        self.group_removals += group_removals;
        self.enrolments += enrolments;
        self.emails += emails;
        self.suspensions += suspensions;
        self.deletions += deletions;
        self.withdrawals += withdrawals;
        self.reactivations += reactivations;
        self.login_method_changes += login_method_changes;
        self.invitations += invitations;
        self.revocations += revocations;
        self.warnings += warnings;
    }

    /// Counts one row (its file's issues are counted by [`Summary::of`]).
    pub(crate) fn count(&mut self, row: &PlanRow) {
        self.rows += 1;
        match row.action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Rejected => self.rejected += 1,
        }
        self.warnings += row.issues.iter().filter(|i| !i.is_error()).count() as u64;
        let invites = row.invites();
        for op in &row.operations {
            match op {
                Operation::CreateUser {
                    login_method: None, ..
                } if !invites => self.passwords += 1,
                Operation::SetPassword => self.passwords += 1,
                Operation::Invite => self.invitations += 1,
                Operation::RevokeInvitations => self.revocations += 1,
                Operation::CreateUser { .. } => {}
                Operation::SetLoginMethod { .. } => self.login_method_changes += 1,
                Operation::ReactivateUser => self.reactivations += 1,
                Operation::UpdateProfile { .. } => self.profile_updates += 1,
                Operation::AddToGroup { .. } => self.group_additions += 1,
                Operation::RemoveFromGroup { .. } => self.group_removals += 1,
                Operation::Enrol { .. } => self.enrolments += 1,
                Operation::SendEmail { .. } => self.emails += 1,
                Operation::SuspendUser => self.suspensions += 1,
                Operation::DeleteUser => self.deletions += 1,
                Operation::Withdraw { .. } => self.withdrawals += 1,
            }
        }
    }
}
