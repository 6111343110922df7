//! The core's in-memory doubles, `MemoryStore`, `RecordingMailer` and `MemoryJournal`,
//! usable from JavaScript and by the engine on its worker thread at the same time (each
//! call takes the lock briefly).

use crate::{from_js, to_js};
use lms_bulk_upload::host::message_value;
use lms_bulk_upload::{
    ContentKind, ContentRef, ExistingUser, Group, HostError, InvitationDigest, IssueCode, Journal,
    JournalEntry, Mailer, MemoryJournal, MemoryStore, Message, NewInvitation, NewUser,
    OptionalMethod, PasswordHash, Profile, RecordingMailer, ResultRow, ScopePage, Store,
    StoreState, StoredInvitation, UserId,
};
use napi::{Error, Status};
use napi_derive::napi;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A double shared between JavaScript and the engine.
#[derive(Default)]
pub(crate) struct Shared<T>(pub(crate) Arc<Mutex<T>>);

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, T> {
        // A panic while holding the lock cannot leave these plain collections half-written
        // in a way that matters to a test double: carry on with the data.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// Another handle on the same double, for the engine.
    pub(crate) fn share(&self) -> Shared<T> {
        Shared(self.0.clone())
    }
}

/// Reads `json` (from `lms.js`) as a `T` of the core; a wrong shape is a wrong argument.
fn read<T: DeserializeOwned>(what: &str, json: &str) -> napi::Result<T> {
    serde_json::from_value(from_js(Some(json))?)
        .map_err(|e| Error::new(Status::InvalidArg, format!("{what}: {e}")))
}

/// The native `MemoryStore`.
#[napi]
pub struct MemoryStoreHandle {
    pub(crate) inner: Shared<MemoryStore>,
}

#[napi]
impl MemoryStoreHandle {
    /// A store holding `stateJson` (a `StoreState`, camelCase or snake_case keys), or empty.
    #[napi(constructor)]
    pub fn new(state_json: Option<String>) -> napi::Result<Self> {
        let store = match state_json {
            Some(json) => MemoryStore::from_state(&read::<StoreState>("store state", &json)?),
            None => MemoryStore::new(),
        };
        Ok(MemoryStoreHandle {
            inner: Shared(Arc::new(Mutex::new(store))),
        })
    }

    /// The store as data (camelCase JSON of a `StoreState`; users sorted by email).
    #[napi]
    pub fn state_json(&self) -> String {
        to_js(&self.inner.lock().state())
    }

    /// Calls made so far, by the method's name as a JavaScript store spells it
    /// (`findUsers`), as a JSON object.
    #[napi]
    pub fn calls_json(&self) -> String {
        to_js(&self.inner.lock().calls)
    }

    /// The argon2id PHC string of the password of the user with `email`, if one was set.
    #[napi]
    pub fn password_hash(&self, email: String) -> Option<String> {
        let store = self.inner.lock();
        let hash = store.user(&email).and_then(|u| u.password_hash.as_ref());
        hash.map(|h| h.as_str().to_owned())
    }

    /// Adds a group.
    #[napi]
    pub fn add_group(&self, id: String, name: String) {
        self.inner.lock().add_group(&id, &name);
    }

    /// Adds a content item (`{kind, id}`; kind: course, collection or campaign).
    #[napi]
    pub fn add_content(&self, content_json: String) -> napi::Result<()> {
        let content = read::<ContentRef>("content", &content_json)?;
        self.inner.lock().add_content(content);
        Ok(())
    }

    /// Adds an existing user (`{id, email, profile, groups, enrolments, protected}`).
    #[napi]
    pub fn add_user(&self, user_json: String) -> napi::Result<()> {
        let user = read::<ExistingUser>("user", &user_json)?;
        self.inner.lock().add_user(user);
        Ok(())
    }

    /// Whether `password` is the one stored for the user with `email`.
    #[napi]
    pub fn verify_password(&self, email: String, password: String) -> bool {
        let store = self.inner.lock();
        let hash = store.user(&email).and_then(|u| u.password_hash.as_ref());
        hash.is_some_and(|h| h.verify(&password))
    }
}

impl Store for Shared<MemoryStore> {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        self.lock().find_users(emails)
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        self.lock().find_groups(names)
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        self.lock().find_content(refs)
    }
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        self.lock().create_user(user)
    }
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        self.lock().update_profile(user, changes)
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        self.lock().set_password(user, hash, force_reset)
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.lock().add_to_group(user, group)
    }
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.lock().remove_from_group(user, group)
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.lock().enrol(user, content)
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        self.lock().all_group_names()
    }
    fn supports(&mut self, write: OptionalMethod) -> bool {
        self.lock().supports(write)
    }
    fn suspend_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.lock().suspend_user(user)
    }
    fn delete_user(&mut self, user: &UserId) -> Result<bool, HostError> {
        self.lock().delete_user(user)
    }
    fn withdraw(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.lock().withdraw(user, content)
    }
    fn reactivate_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.lock().reactivate_user(user)
    }
    fn set_login_method(&mut self, user: &UserId, method: &str) -> Result<(), HostError> {
        self.lock().set_login_method(user, method)
    }
    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError> {
        self.lock().scope_users(after, limit)
    }
    fn add_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        self.lock().add_invitation(invitation)
    }
    fn find_invitation(
        &mut self,
        digest: &InvitationDigest,
    ) -> Result<Option<StoredInvitation>, HostError> {
        self.lock().find_invitation(digest)
    }
    fn redeem_invitation(&mut self, digest: &InvitationDigest) -> Result<bool, HostError> {
        self.lock().redeem_invitation(digest)
    }
    fn revoke_invitations(&mut self, user: &UserId, upload: &str) -> Result<(), HostError> {
        self.lock().revoke_invitations(user, upload)
    }
}

/// The optional store methods that calls through the wrapper above do not reach on the
/// `MemoryStore` (the trait's default answered `host_method_missing` instead). The wrapper
/// forwards each method by hand, so a method the core adds is forgotten silently; this finds
/// it for the tests (`testing.js`): a method the binding does not know is listed too.
pub(crate) fn unforwarded_optional_methods() -> Vec<&'static str> {
    let user = UserId("u1".into());
    let course = ContentRef::new(ContentKind::Course, "c1");
    let Some(digest) = InvitationDigest::from_hex(&"0".repeat(64)) else {
        return vec!["add_invitation"];
    };
    let reaches = |method: OptionalMethod| -> bool {
        let mut store = MemoryStore::new();
        store.add_user(ExistingUser::new(user.0.clone(), "a@example.com"));
        let mut shared = Shared(Arc::new(Mutex::new(store)));
        let outcome = match method {
            OptionalMethod::SuspendUser => shared.suspend_user(&user),
            OptionalMethod::DeleteUser => shared.delete_user(&user).map(drop),
            OptionalMethod::Withdraw => shared.withdraw(&user, &course),
            OptionalMethod::ReactivateUser => shared.reactivate_user(&user),
            OptionalMethod::SetLoginMethod => shared.set_login_method(&user, "password"),
            OptionalMethod::ScopeUsers => shared.scope_users(None, 10).map(drop),
            OptionalMethod::AddInvitation => shared.add_invitation(&NewInvitation {
                user: user.clone(),
                digest: digest.clone(),
                expires_at: 1,
                upload: "u".into(),
            }),
            OptionalMethod::FindInvitation => shared.find_invitation(&digest).map(drop),
            OptionalMethod::RedeemInvitation => shared.redeem_invitation(&digest).map(drop),
            OptionalMethod::RevokeInvitations => shared.revoke_invitations(&user, "u"),
            _ => return false,
        };
        let defaulted = outcome.is_err_and(|e| e.code() == Some(IssueCode::HostMethodMissing));
        Store::supports(&mut shared, method) && !defaulted
    };
    OptionalMethod::ALL
        .into_iter()
        .filter(|&m| !reaches(m))
        .map(OptionalMethod::method_name)
        .collect()
}

/// The native `RecordingMailer`.
#[napi]
#[derive(Default)]
pub struct RecordingMailerHandle {
    pub(crate) inner: Shared<RecordingMailer>,
}

#[napi]
impl RecordingMailerHandle {
    /// An empty mailer.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages sent so far, as a host's mailer gets them (camelCase JSON).
    #[napi]
    pub fn messages_json(&self) -> String {
        let messages: Vec<_> = self
            .inner
            .lock()
            .messages
            .iter()
            .map(message_value)
            .collect();
        to_js(&messages)
    }

    /// Forgets the messages.
    #[napi]
    pub fn clear(&self) {
        self.inner.lock().messages.clear();
    }
}

impl Mailer for Shared<RecordingMailer> {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        self.lock().send(message)
    }
}

/// The native `MemoryJournal`: give the same one to `execute` again to resume a cancelled
/// execution of the same plan (within this process).
#[napi]
#[derive(Default)]
pub struct MemoryJournalHandle {
    pub(crate) inner: Shared<MemoryJournal>,
}

#[napi]
impl MemoryJournalHandle {
    /// An empty journal.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }
}

impl Journal for Shared<MemoryJournal> {
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        self.lock().load(fingerprint)
    }
    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError> {
        self.lock().begin(fingerprint, line)
    }
    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        self.lock().finish(fingerprint, row)
    }
    fn created(&mut self, fingerprint: &str, line: u32, user: &UserId) -> Result<(), HostError> {
        self.lock().created(fingerprint, line, user)
    }
}
