//! The in-memory doubles, `MemoryStore` and `RecordingMailer`, usable from JavaScript and
//! by the engine on its worker thread at the same time (each call takes the lock briefly).

use crate::errors::{bad_json, custom};
use crate::json::{snakify, to_camel_json};
use crate::mailer::message_json;
use lms_bulk_upload::{
    ContentRef, ExistingUser, Group, HostError, Mailer, MemoryStore, Message, NewUser,
    PasswordHash, Profile, RecordingMailer, Store, StoreState, UserId,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these plain collections half-written in
    // a way that matters to a test double: carry on with the data.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The native `MemoryStore`.
#[napi]
pub struct MemoryStoreHandle {
    pub(crate) inner: Arc<Mutex<MemoryStore>>,
}

#[napi]
impl MemoryStoreHandle {
    /// A store holding `stateJson` (a `StoreState`, camelCase or snake_case keys), or empty.
    #[napi(constructor)]
    pub fn new(state_json: Option<String>) -> Result<Self> {
        let store = match state_json {
            None => MemoryStore::new(),
            Some(text) => {
                let value: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| bad_json("store state", e))?;
                let state: StoreState = serde_json::from_value(snakify(value))
                    .map_err(|e| custom("store", "invalid_setting", format!("store state: {e}")))?;
                MemoryStore::from_state(&state)
            }
        };
        Ok(MemoryStoreHandle {
            inner: Arc::new(Mutex::new(store)),
        })
    }

    /// The store as data (camelCase JSON of a `StoreState`; users sorted by email).
    #[napi]
    pub fn state_json(&self) -> String {
        to_camel_json(&lock(&self.inner).state())
    }

    /// Calls made so far, by snake_case method name (JSON object).
    #[napi]
    pub fn calls_json(&self) -> String {
        serde_json::to_string(&lock(&self.inner).calls).unwrap_or_default()
    }

    /// Adds a group.
    #[napi]
    pub fn add_group(&self, id: String, name: String) {
        lock(&self.inner).add_group(&id, &name);
    }

    /// Adds a content item (`kind`: course, collection or campaign).
    #[napi]
    pub fn add_content(&self, kind: String, id: String) -> Result<()> {
        let content: ContentRef =
            serde_json::from_value(serde_json::json!({"kind": kind, "id": id}))
                .map_err(|e| custom("store", "invalid_setting", format!("content: {e}")))?;
        lock(&self.inner).add_content(content);
        Ok(())
    }

    /// Adds an existing user (`{id, email, profile, groups, enrolments, protected}`).
    #[napi]
    pub fn add_user(&self, user_json: String) -> Result<()> {
        let value: serde_json::Value =
            serde_json::from_str(&user_json).map_err(|e| bad_json("user", e))?;
        let user: ExistingUser = serde_json::from_value(snakify(value))
            .map_err(|e| custom("store", "invalid_setting", format!("user: {e}")))?;
        lock(&self.inner).add_user(user);
        Ok(())
    }

    /// Whether `password` is the one stored for the user with `email`.
    #[napi]
    pub fn verify_password(&self, email: String, password: String) -> bool {
        lock(&self.inner)
            .user(&email)
            .and_then(|u| u.password_hash.as_ref())
            .is_some_and(|h| h.verify(&password))
    }
}

/// A [`Store`] over the shared [`MemoryStore`], locking it per call.
pub(crate) struct SharedMemory(pub(crate) Arc<Mutex<MemoryStore>>);

impl Store for SharedMemory {
    fn find_users(&mut self, emails: &[&str]) -> std::result::Result<Vec<ExistingUser>, HostError> {
        lock(&self.0).find_users(emails)
    }
    fn find_groups(&mut self, names: &[&str]) -> std::result::Result<Vec<Group>, HostError> {
        lock(&self.0).find_groups(names)
    }
    fn find_content(
        &mut self,
        refs: &[ContentRef],
    ) -> std::result::Result<Vec<ContentRef>, HostError> {
        lock(&self.0).find_content(refs)
    }
    fn create_user(&mut self, user: &NewUser) -> std::result::Result<UserId, HostError> {
        lock(&self.0).create_user(user)
    }
    fn update_profile(
        &mut self,
        user: &UserId,
        changes: &Profile,
    ) -> std::result::Result<(), HostError> {
        lock(&self.0).update_profile(user, changes)
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> std::result::Result<(), HostError> {
        lock(&self.0).set_password(user, hash, force_reset)
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> std::result::Result<(), HostError> {
        lock(&self.0).add_to_group(user, group)
    }
    fn remove_from_group(
        &mut self,
        user: &UserId,
        group: &Group,
    ) -> std::result::Result<(), HostError> {
        lock(&self.0).remove_from_group(user, group)
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> std::result::Result<(), HostError> {
        lock(&self.0).enrol(user, content)
    }
    fn all_group_names(&mut self) -> std::result::Result<Vec<String>, HostError> {
        lock(&self.0).all_group_names()
    }
}

/// The native `RecordingMailer`.
#[napi]
pub struct RecordingMailerHandle {
    pub(crate) inner: Arc<Mutex<RecordingMailer>>,
}

impl Default for RecordingMailerHandle {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl RecordingMailerHandle {
    /// An empty mailer.
    #[napi(constructor)]
    pub fn new() -> Self {
        RecordingMailerHandle {
            inner: Arc::new(Mutex::new(RecordingMailer::new())),
        }
    }

    /// The messages sent so far, as JSON (`[{kind, to, subject, text, html, fields}]`).
    #[napi]
    pub fn messages_json(&self) -> String {
        let messages: Vec<_> = lock(&self.inner)
            .messages
            .iter()
            .map(message_json)
            .collect();
        serde_json::to_string(&messages).unwrap_or_default()
    }

    /// Forgets the messages.
    #[napi]
    pub fn clear(&self) {
        lock(&self.inner).messages.clear();
    }
}

/// A [`Mailer`] over the shared [`RecordingMailer`].
pub(crate) struct SharedMailer(pub(crate) Arc<Mutex<RecordingMailer>>);

impl Mailer for SharedMailer {
    fn send(&mut self, message: &Message) -> std::result::Result<(), HostError> {
        lock(&self.0).send(message)
    }
}
