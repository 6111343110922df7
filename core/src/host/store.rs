//! What the host implements: its user database, behind the [`Store`] trait.

use crate::execute::invitation::{InvitationDigest, NewInvitation, StoredInvitation};
use crate::execute::password::PasswordHash;
use crate::issue::IssueCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The host's identifier of a user (a database key, a UUID...), as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The three kinds of content a user can be enrolled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ContentKind {
    /// A course.
    Course,
    /// A collection of courses.
    Collection,
    /// A campaign.
    Campaign,
}

impl ContentKind {
    /// `course`, `collection` or `campaign`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Course => "course",
            ContentKind::Collection => "collection",
            ContentKind::Campaign => "campaign",
        }
    }
}

/// A content item: its kind and the host's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContentRef {
    /// Course, collection or campaign.
    pub kind: ContentKind,
    /// The host's id of the item.
    pub id: String,
}

impl ContentRef {
    /// A content reference.
    pub fn new(kind: ContentKind, id: impl Into<String>) -> ContentRef {
        ContentRef {
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for ContentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.id)
    }
}

/// A group that exists in the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Group {
    /// The host's id.
    pub id: String,
    /// The name, case-sensitive.
    pub name: String,
}

/// Profile fields. In a new user, `first_name` and `last_name` are always set; as changes
/// to an existing user, `Some` marks the fields to overwrite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The host's own identifier of the person (employee number...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// Country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// IETF BCP 47 language tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    /// The host's own profile fields ([`ParseOptions::fields`](crate::ParseOptions::fields)),
    /// by name. As changes, a field present is overwritten (`""` clears it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
}

impl Profile {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|(_, v)| v.is_none()) && self.custom.is_empty()
    }

    /// The fields with their snake_case names, in a fixed order.
    pub fn fields(&self) -> [(&'static str, Option<&str>); 7] {
        [
            ("first_name", self.first_name.as_deref()),
            ("last_name", self.last_name.as_deref()),
            ("phone_number", self.phone_number.as_deref()),
            ("unique_id", self.unique_id.as_deref()),
            ("country", self.country.as_deref()),
            ("organisation", self.organisation.as_deref()),
            ("language_code", self.language_code.as_deref()),
        ]
    }

    /// Makes this profile equal to `other`, reusing the strings it holds (`clone_from`
    /// field by field: no allocation for a value that fits in the string it replaces).
    pub(crate) fn assign(&mut self, other: &Profile) {
        let Profile {
            first_name,
            last_name,
            phone_number,
            unique_id,
            country,
            organisation,
            language_code,
            custom,
        } = other;
        self.first_name.clone_from(first_name);
        self.last_name.clone_from(last_name);
        self.phone_number.clone_from(phone_number);
        self.unique_id.clone_from(unique_id);
        self.country.clone_from(country);
        self.organisation.clone_from(organisation);
        self.language_code.clone_from(language_code);
        self.custom.clone_from(custom);
    }

    /// The fields, mutable, in the order of [`Profile::fields`].
    pub fn fields_mut(&mut self) -> [&mut Option<String>; 7] {
        [
            &mut self.first_name,
            &mut self.last_name,
            &mut self.phone_number,
            &mut self.unique_id,
            &mut self.country,
            &mut self.organisation,
            &mut self.language_code,
        ]
    }

    /// Overwrites the fields that are `Some` in `changes`; `Some("")` clears the field.
    pub fn apply(&mut self, changes: &Profile) {
        for (field, (_, change)) in self.fields_mut().into_iter().zip(changes.fields()) {
            match (change, field.as_mut()) {
                (None, _) => {}
                (Some(""), _) => *field = None,
                // The value written over in place: no allocation when it fits.
                (Some(value), Some(old)) => value.clone_into(old),
                (Some(value), None) => *field = Some(value.to_owned()),
            }
        }
        for (name, value) in &changes.custom {
            if value.is_empty() {
                self.custom.remove(name);
            } else {
                self.custom.insert(name.clone(), value.clone());
            }
        }
    }
}

/// A user as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingUser {
    /// The host's id.
    pub id: UserId,
    /// The email address (login) as stored.
    pub email: String,
    /// Profile fields.
    #[serde(default)]
    pub profile: Profile,
    /// Names of the groups the user is a member of.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Content the user is enrolled in.
    #[serde(default)]
    pub enrolments: Vec<ContentRef>,
    /// An administrator, or someone outside the uploader's reach: never changed by an upload.
    #[serde(default)]
    pub protected: bool,
    /// Deactivated (kept out of logins by the host): what undoing an upload does to the
    /// users it created, and what happens to users missing from a file that lists them all.
    #[serde(default)]
    pub suspended: bool,
    /// With `suspended`: the user was suspended by an upload (missing from a file that
    /// lists everyone, or by undoing the upload that created them), as the host recorded
    /// when the engine called `suspend_user`. Only such a user may be reactivated by an
    /// upload (with `reactivate_suspended_users`); `false` (the default) means suspended by
    /// someone else, or the host does not know, and the user stays suspended.
    #[serde(default)]
    pub suspended_by_upload: bool,
    /// How the user signs in (`None`: by password, [`PASSWORD_LOGIN`]).
    #[serde(default)]
    pub login_method: Option<String>,
}

impl ExistingUser {
    /// A user of this id and email and nothing else known: no profile, groups or
    /// enrolments, not protected, active, signing in by password. A store that reads more
    /// sets the rest: `ExistingUser { groups, ..ExistingUser::new(id, email) }`.
    pub fn new(id: impl Into<String>, email: impl Into<String>) -> ExistingUser {
        ExistingUser {
            id: UserId(id.into()),
            email: email.into(),
            profile: Profile::default(),
            groups: Vec::new(),
            enrolments: Vec::new(),
            protected: false,
            suspended: false,
            suspended_by_upload: false,
            login_method: None,
        }
    }
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The email address as written in the file.
    pub email: String,
    /// Profile fields (`first_name` and `last_name` set).
    pub profile: Profile,
    /// The argon2id PHC string of the password; `None` for a user who signs in another way
    /// (`login_method`).
    pub password_hash: Option<PasswordHash>,
    /// Whether the user must choose a new password at next login.
    pub force_password_reset: bool,
    /// How the user signs in: `password`, or one of the host's login methods.
    pub login_method: String,
}

/// The built-in login method: a password the engine generates (or the default one).
pub const PASSWORD_LOGIN: &str = "password";

/// A failure reported by the host's store, mailer or journal.
///
/// It says whether retrying may help ([`HostError::is_transient`]), may carry the host's own
/// error as its [`source`](std::error::Error::source) (a binding puts the exception the host
/// raised there), and, when the failure is the engine's verdict on a reply rather than the
/// host's own, the code of that verdict ([`HostError::code`]).
#[derive(Clone)]
pub struct HostError {
    message: String,
    transient: bool,
    code: Option<IssueCode>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl HostError {
    /// A permanent failure: retrying will not help.
    pub fn permanent(message: impl Into<String>) -> HostError {
        HostError {
            message: message.into(),
            transient: false,
            code: None,
            source: None,
        }
    }
    /// A transient failure (a lock timeout, a dropped connection): the engine retries it a
    /// bounded number of times.
    pub fn transient(message: impl Into<String>) -> HostError {
        HostError {
            transient: true,
            ..HostError::permanent(message)
        }
    }
    /// A permanent failure with the engine's own code: a reply of the wrong shape
    /// ([`IssueCode::InvalidHostReply`]), a method the host object lacks
    /// ([`IssueCode::HostMethodMissing`]).
    pub fn coded(code: IssueCode, message: impl Into<String>) -> HostError {
        HostError {
            code: Some(code),
            ..HostError::permanent(message)
        }
    }
    /// The same failure, caused by `source` (the host's own error or exception).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether retrying may succeed.
    pub fn is_transient(&self) -> bool {
        self.transient
    }
    /// The engine's code for this failure, when it is the engine's verdict on the host's
    /// reply; `None` for a failure the host itself reported.
    pub fn code(&self) -> Option<IssueCode> {
        self.code
    }
    /// The host's own error, if the binding or the host gave one.
    pub fn host_source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl PartialEq for HostError {
    /// Two host errors are equal when they say the same thing; their sources are not compared.
    fn eq(&self, other: &HostError) -> bool {
        (&self.message, self.transient, self.code) == (&other.message, other.transient, other.code)
    }
}

impl Eq for HostError {}

impl fmt::Debug for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostError")
            .field("message", &self.message)
            .field("transient", &self.transient)
            .field("code", &self.code)
            .field("has_source", &self.source.is_some())
            .finish()
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.transient {
            f.write_str(" (transient)")?;
        }
        Ok(())
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The store methods a host may leave out: the writes that undoing an upload needs, and
/// what reactivating suspended users, login methods and suspending users missing from the
/// file need. A store says which it has with [`Store::supports`]; a plan (or an undo plan)
/// that needs one the store lacks is refused when it is made, never half-way through
/// (`undo_unsupported` for an undo, `host_method_missing` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OptionalMethod {
    /// [`Store::suspend_user`].
    SuspendUser,
    /// [`Store::delete_user`].
    DeleteUser,
    /// [`Store::withdraw`].
    Withdraw,
    /// [`Store::reactivate_user`].
    ReactivateUser,
    /// [`Store::set_login_method`].
    SetLoginMethod,
    /// [`Store::scope_users`].
    ScopeUsers,
    /// [`Store::add_invitation`]: an upload that sends sign-in links.
    AddInvitation,
    /// [`Store::find_invitation`]: verifying a sign-in link.
    FindInvitation,
    /// [`Store::redeem_invitation`]: using a sign-in link up.
    RedeemInvitation,
    /// [`Store::revoke_invitations`]: undoing an upload that sent sign-in links.
    RevokeInvitations,
}

impl OptionalMethod {
    /// Every optional method.
    pub const ALL: [OptionalMethod; 10] = [
        OptionalMethod::SuspendUser,
        OptionalMethod::DeleteUser,
        OptionalMethod::Withdraw,
        OptionalMethod::ReactivateUser,
        OptionalMethod::SetLoginMethod,
        OptionalMethod::ScopeUsers,
        OptionalMethod::AddInvitation,
        OptionalMethod::FindInvitation,
        OptionalMethod::RedeemInvitation,
        OptionalMethod::RevokeInvitations,
    ];
    /// The store method's snake_case name: `suspend_user`, `delete_user`, `withdraw`,
    /// `reactivate_user`, `set_login_method`, `scope_users`, `add_invitation`,
    /// `find_invitation`, `redeem_invitation`, `revoke_invitations`.
    pub fn method_name(self) -> &'static str {
        match self {
            OptionalMethod::SuspendUser => "suspend_user",
            OptionalMethod::DeleteUser => "delete_user",
            OptionalMethod::Withdraw => "withdraw",
            OptionalMethod::ReactivateUser => "reactivate_user",
            OptionalMethod::SetLoginMethod => "set_login_method",
            OptionalMethod::ScopeUsers => "scope_users",
            OptionalMethod::AddInvitation => "add_invitation",
            OptionalMethod::FindInvitation => "find_invitation",
            OptionalMethod::RedeemInvitation => "redeem_invitation",
            OptionalMethod::RevokeInvitations => "revoke_invitations",
        }
    }
}

impl OptionalMethod {
    /// The failure of a call to this method on a store that lacks it (plans check
    /// [`Store::supports`] first, so only a plan that skipped the check gets here).
    pub(crate) fn missing(self) -> HostError {
        HostError::coded(
            IssueCode::HostMethodMissing,
            format!("the store has no {}", self.method_name()),
        )
    }
}

/// One page of [`Store::scope_users`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopePage {
    /// The users of this page.
    pub users: Vec<ExistingUser>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<String>,
}

/// The host's user database.
///
/// Lookups are batched: the engine passes many emails (or names) per call, never one call
/// per row. Writes are per user; a store that wants transactions groups them between
/// [`Store::checkpoint`] calls, which the engine makes after every batch of rows.
///
/// Writes should be idempotent where the meaning allows it: adding a member who is already
/// in the group or enrolling someone already enrolled succeeds and changes nothing. That is
/// what makes a resumed execution safe (see [`execute`](crate::execute)).
pub trait Store {
    /// The users whose email matches one of `emails`, compared **case-insensitively**. A
    /// user returned whose email is not one of `emails` is ignored by the plan.
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError>;
    /// The groups, among `names`, that exist (names compared case-sensitively).
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError>;
    /// The content items, among `refs`, that exist.
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError>;
    /// Creates a user and returns its id.
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError>;
    /// Overwrites the profile fields that are `Some` in `changes`; `Some("")` clears the
    /// field (undo restores a field that was empty before the upload that way).
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError>;
    /// Sets the password hash and the force-reset flag.
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError>;
    /// Adds the user to the group (a no-op if already a member).
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError>;
    /// Removes the user from the group (a no-op if not a member).
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError>;
    /// Enrols the user (a no-op if already enrolled).
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError>;
    /// The names of all groups, used only to suggest a spelling when a group name is not
    /// found ("did you mean 'Sales'?"). The default returns none (no suggestions).
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        Ok(Vec::new())
    }
    /// Makes the writes so far durable (commit a transaction). Called after every batch of
    /// rows and at the end. The default does nothing.
    fn checkpoint(&mut self) -> Result<(), HostError> {
        Ok(())
    }
    /// Whether the store has this inverse write (the default: none).
    fn supports(&mut self, write: OptionalMethod) -> bool {
        let _ = write;
        false
    }
    /// Deactivates the user (a no-op if already suspended): the host keeps suspended users
    /// out of logins. Undo calls it for the users an upload created.
    fn suspend_user(&mut self, user: &UserId) -> Result<(), HostError> {
        let _ = user;
        Err(OptionalMethod::SuspendUser.missing())
    }
    /// Deletes the user if nothing but what the upload gave it is attached (its groups and
    /// enrolments are removed first), returning `true`; returns `false` and changes nothing
    /// when the host keeps it (activity, submissions...): the engine then suspends it.
    fn delete_user(&mut self, user: &UserId) -> Result<bool, HostError> {
        let _ = user;
        Err(OptionalMethod::DeleteUser.missing())
    }
    /// Withdraws the user's enrolment (a no-op if not enrolled).
    fn withdraw(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        let _ = (user, content);
        Err(OptionalMethod::Withdraw.missing())
    }
    /// Lets a suspended user sign in again (a no-op if not suspended): a suspended user in
    /// a later file, when profiles are updated.
    fn reactivate_user(&mut self, user: &UserId) -> Result<(), HostError> {
        let _ = user;
        Err(OptionalMethod::ReactivateUser.missing())
    }
    /// Sets how the user signs in: `password`, or one of the host's login methods
    /// ([`ParseOptions::login_methods`](crate::ParseOptions::login_methods)).
    fn set_login_method(&mut self, user: &UserId, method: &str) -> Result<(), HostError> {
        let _ = (user, method);
        Err(OptionalMethod::SetLoginMethod.missing())
    }
    /// The users within the uploader's reach (what "users missing from the file" is counted
    /// against), a page at a time: at most `limit` users after the cursor `after` (`None`:
    /// the first page), in a stable order, with the cursor of the next page.
    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError> {
        let _ = (after, limit);
        Err(OptionalMethod::ScopeUsers.missing())
    }
    /// Keeps a sign-in link's digest and expiry for the user, and drops the user's unused
    /// invitations **from other uploads** (a newer link revokes the older ones). Those of the
    /// same upload stay: a resumed execution issues a new link for a row it had begun, and
    /// the link the interrupted run may have emailed must keep working.
    fn add_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        let _ = invitation;
        Err(OptionalMethod::AddInvitation.missing())
    }
    /// The invitation stored under this digest (used or not), or `None`. Look it up by the
    /// exact digest (an index on it); the engine compares the answer again in constant time.
    fn find_invitation(
        &mut self,
        digest: &InvitationDigest,
    ) -> Result<Option<StoredInvitation>, HostError> {
        let _ = digest;
        Err(OptionalMethod::FindInvitation.missing())
    }
    /// Uses the invitation up, atomically: when it exists and is unused, marks it used,
    /// drops the user's other invitations and returns `true`; otherwise changes nothing and
    /// returns `false` (of two concurrent redemptions, one gets `false`).
    fn redeem_invitation(&mut self, digest: &InvitationDigest) -> Result<bool, HostError> {
        let _ = digest;
        Err(OptionalMethod::RedeemInvitation.missing())
    }
    /// Drops the user's unused invitations that this upload (its plan fingerprint) issued:
    /// what undoing it does (a no-op when there are none).
    fn revoke_invitations(&mut self, user: &UserId, upload: &str) -> Result<(), HostError> {
        let _ = (user, upload);
        Err(OptionalMethod::RevokeInvitations.missing())
    }
}

/// The reading half of a [`Store`]: what [`plan`](crate::plan) may call. Every `Store` is
/// one; `plan` takes this view, so its type says that planning never writes.
pub trait StoreRead {
    /// See [`Store::find_users`].
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError>;
    /// See [`Store::find_groups`].
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError>;
    /// See [`Store::find_content`].
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError>;
    /// See [`Store::all_group_names`].
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError>;
    /// See [`Store::supports`].
    fn supports(&mut self, write: OptionalMethod) -> bool;
    /// See [`Store::scope_users`].
    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError>;
}

impl<S: Store + ?Sized> StoreRead for S {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        Store::find_users(self, emails)
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        Store::find_groups(self, names)
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        Store::find_content(self, refs)
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        Store::all_group_names(self)
    }
    fn supports(&mut self, write: OptionalMethod) -> bool {
        Store::supports(self, write)
    }
    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError> {
        Store::scope_users(self, after, limit)
    }
}

impl<S: Store + ?Sized> Store for &mut S {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        (**self).find_users(emails)
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        (**self).find_groups(names)
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        (**self).find_content(refs)
    }
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        (**self).create_user(user)
    }
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        (**self).update_profile(user, changes)
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        (**self).set_password(user, hash, force_reset)
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        (**self).add_to_group(user, group)
    }
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        (**self).remove_from_group(user, group)
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        (**self).enrol(user, content)
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        (**self).all_group_names()
    }
    fn checkpoint(&mut self) -> Result<(), HostError> {
        (**self).checkpoint()
    }
    fn supports(&mut self, write: OptionalMethod) -> bool {
        (**self).supports(write)
    }
    fn suspend_user(&mut self, user: &UserId) -> Result<(), HostError> {
        (**self).suspend_user(user)
    }
    fn delete_user(&mut self, user: &UserId) -> Result<bool, HostError> {
        (**self).delete_user(user)
    }
    fn withdraw(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        (**self).withdraw(user, content)
    }
    fn reactivate_user(&mut self, user: &UserId) -> Result<(), HostError> {
        (**self).reactivate_user(user)
    }
    fn set_login_method(&mut self, user: &UserId, method: &str) -> Result<(), HostError> {
        (**self).set_login_method(user, method)
    }
    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError> {
        (**self).scope_users(after, limit)
    }
    fn add_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        (**self).add_invitation(invitation)
    }
    fn find_invitation(
        &mut self,
        digest: &InvitationDigest,
    ) -> Result<Option<StoredInvitation>, HostError> {
        (**self).find_invitation(digest)
    }
    fn redeem_invitation(&mut self, digest: &InvitationDigest) -> Result<bool, HostError> {
        (**self).redeem_invitation(digest)
    }
    fn revoke_invitations(&mut self, user: &UserId, upload: &str) -> Result<(), HostError> {
        (**self).revoke_invitations(user, upload)
    }
}
