//! The engine's in-memory doubles (`MemoryStore`, `RecordingMailer`, `MemoryJournal`), and
//! the store, mailer and journal arguments: one of those or a Ruby object.

use crate::error::{to_json, NativeError, NativeResult};
use crate::host::{RubyHost, RubyObject};
use lms_bulk_upload::host::{message_value, HostJournal, HostMailer, HostStore, Naming};
use lms_bulk_upload::{Journal, Mailer, Store, StoreState};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

/// Locks a double; a double already in use (a host method of the running call touching it)
/// is an error instead of a deadlock.
fn lock<'a, T>(mutex: &'a Mutex<T>, what: &str) -> NativeResult<MutexGuard<'a, T>> {
    match mutex.try_lock() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
        Err(TryLockError::WouldBlock) => Err(NativeError::Busy {
            message: format!("the {what} is in use by a running plan or execution"),
        }),
    }
}

/// The engine's in-memory store.
#[derive(uniffi::Object)]
pub struct MemoryStore {
    inner: Mutex<lms_bulk_upload::MemoryStore>,
}

#[uniffi::export]
impl MemoryStore {
    /// A store holding `state_json` (a `StoreState` object: `groups`, `content`, `users`),
    /// or an empty one for null.
    #[uniffi::constructor]
    pub fn new(state_json: String) -> NativeResult<Arc<MemoryStore>> {
        let state: Option<StoreState> =
            serde_json::from_str(&state_json).map_err(|e| NativeError::Argument {
                message: format!("MemoryStore state: {e}"),
            })?;
        let store = state
            .map(|s| lms_bulk_upload::MemoryStore::from_state(&s))
            .unwrap_or_default();
        Ok(Arc::new(MemoryStore {
            inner: Mutex::new(store),
        }))
    }

    /// What the store holds now, as a `StoreState` JSON object.
    pub fn state_json(&self) -> NativeResult<String> {
        Ok(to_json(&lock(&self.inner, "MemoryStore")?.state()))
    }

    /// How many times each store method was called, as a JSON object.
    pub fn calls_json(&self) -> NativeResult<String> {
        Ok(to_json(&lock(&self.inner, "MemoryStore")?.calls))
    }

    /// Adds a group.
    pub fn add_group(&self, id: String, name: String) -> NativeResult<()> {
        lock(&self.inner, "MemoryStore")?.add_group(&id, &name);
        Ok(())
    }

    /// Adds a content item (a `ContentRef` JSON object: `{"kind": "course", "id": "c1"}`).
    pub fn add_content(&self, content_json: String) -> NativeResult<()> {
        let content = serde_json::from_str(&content_json).map_err(|e| NativeError::Argument {
            message: format!("content: {e}"),
        })?;
        lock(&self.inner, "MemoryStore")?.add_content(content);
        Ok(())
    }

    /// Adds an existing user (an `ExistingUser` JSON object: id, email, profile, groups...).
    pub fn add_user(&self, user_json: String) -> NativeResult<()> {
        let user = serde_json::from_str(&user_json).map_err(|e| NativeError::Argument {
            message: format!("user: {e}"),
        })?;
        lock(&self.inner, "MemoryStore")?.add_user(user);
        Ok(())
    }

    /// The argon2id PHC string of the password of the user with `email`, if one was set.
    pub fn password_hash(&self, email: String) -> NativeResult<Option<String>> {
        let store = lock(&self.inner, "MemoryStore")?;
        let hash = store.user(&email).and_then(|u| u.password_hash.as_ref());
        Ok(hash.map(|h| h.as_str().to_owned()))
    }

    /// Whether `password` is the one stored (as its argon2id hash) for the user with `email`.
    pub fn verify_password(&self, email: String, password: String) -> NativeResult<bool> {
        let store = lock(&self.inner, "MemoryStore")?;
        let hash = store.user(&email).and_then(|u| u.password_hash.as_ref());
        Ok(hash.is_some_and(|h| h.verify(&password)))
    }
}

/// A mailer that keeps every message.
#[derive(uniffi::Object, Default)]
pub struct RecordingMailer {
    inner: Mutex<lms_bulk_upload::RecordingMailer>,
}

#[uniffi::export]
impl RecordingMailer {
    /// An empty mailer.
    #[uniffi::constructor]
    pub fn new() -> Arc<RecordingMailer> {
        Arc::new(RecordingMailer::default())
    }

    /// The messages, in order, as a JSON list of the objects a host mailer's `send` gets
    /// (with the password, when the message carries one: this is a test double).
    pub fn messages_json(&self) -> NativeResult<String> {
        let mailer = lock(&self.inner, "RecordingMailer")?;
        let messages: Vec<_> = mailer.messages.iter().map(message_value).collect();
        Ok(to_json(&messages))
    }

    /// Forgets the messages.
    pub fn clear(&self) -> NativeResult<()> {
        lock(&self.inner, "RecordingMailer")?.messages.clear();
        Ok(())
    }
}

/// A journal in memory: pass the same one again to resume a cancelled execution.
#[derive(uniffi::Object, Default)]
pub struct MemoryJournal {
    inner: Mutex<lms_bulk_upload::MemoryJournal>,
}

#[uniffi::export]
impl MemoryJournal {
    /// An empty journal.
    #[uniffi::constructor]
    pub fn new() -> Arc<MemoryJournal> {
        Arc::new(MemoryJournal::default())
    }
}

/// A store argument.
#[derive(uniffi::Enum)]
#[non_exhaustive]
pub enum StoreArg {
    /// The engine's `MemoryStore`.
    Memory {
        /// The store.
        store: Arc<MemoryStore>,
    },
    /// A Ruby object with the store's methods.
    Host {
        /// The object.
        host: Arc<dyn RubyHost>,
    },
}

/// A mailer argument.
#[derive(uniffi::Enum)]
#[non_exhaustive]
pub enum MailerArg {
    /// The engine's `RecordingMailer`.
    Recording {
        /// The mailer.
        mailer: Arc<RecordingMailer>,
    },
    /// A Ruby object with `send` (and optionally `flush`).
    Host {
        /// The object.
        host: Arc<dyn RubyHost>,
    },
}

/// A journal argument.
#[derive(uniffi::Enum)]
#[non_exhaustive]
pub enum JournalArg {
    /// The engine's `MemoryJournal`.
    Memory {
        /// The journal.
        journal: Arc<MemoryJournal>,
    },
    /// A Ruby object with `load`, `begin` and `finish`.
    Host {
        /// The object.
        host: Arc<dyn RubyHost>,
    },
}

/// An argument made usable for one call: the engine's double locked, or the host object
/// behind the core's protocol adapter.
pub(crate) enum Handle<'a, D, H> {
    Double(MutexGuard<'a, D>),
    Host(H),
}

/// A host object behind the core's adapter for it.
fn host<H>(
    host: &Arc<dyn RubyHost>,
    adapter: fn(RubyObject, Naming) -> Result<H, lms_bulk_upload::Error>,
) -> NativeResult<H> {
    Ok(adapter(RubyObject(Arc::clone(host)), Naming::Snake)?)
}

impl StoreArg {
    pub(crate) fn open(
        &self,
    ) -> NativeResult<Handle<'_, lms_bulk_upload::MemoryStore, HostStore<RubyObject>>> {
        Ok(match self {
            StoreArg::Memory { store } => Handle::Double(lock(&store.inner, "MemoryStore")?),
            StoreArg::Host { host: h } => Handle::Host(host(h, HostStore::new)?),
        })
    }
}

impl MailerArg {
    pub(crate) fn open(
        &self,
    ) -> NativeResult<Handle<'_, lms_bulk_upload::RecordingMailer, HostMailer<RubyObject>>> {
        Ok(match self {
            MailerArg::Recording { mailer } => {
                Handle::Double(lock(&mailer.inner, "RecordingMailer")?)
            }
            MailerArg::Host { host: h } => Handle::Host(host(h, HostMailer::new)?),
        })
    }
}

impl JournalArg {
    pub(crate) fn open(
        &self,
    ) -> NativeResult<Handle<'_, lms_bulk_upload::MemoryJournal, HostJournal<RubyObject>>> {
        Ok(match self {
            JournalArg::Memory { journal } => {
                Handle::Double(lock(&journal.inner, "MemoryJournal")?)
            }
            JournalArg::Host { host: h } => Handle::Host(host(h, HostJournal::new)?),
        })
    }
}

impl<D: Store, H: Store> Handle<'_, D, H> {
    pub(crate) fn store(&mut self) -> &mut dyn Store {
        match self {
            Handle::Double(guard) => &mut **guard,
            Handle::Host(host) => host,
        }
    }
}

impl<D: Mailer, H: Mailer> Handle<'_, D, H> {
    pub(crate) fn mailer(&mut self) -> &mut dyn Mailer {
        match self {
            Handle::Double(guard) => &mut **guard,
            Handle::Host(host) => host,
        }
    }
}

impl<D: Journal, H: Journal> Handle<'_, D, H> {
    pub(crate) fn journal(&mut self) -> &mut dyn Journal {
        match self {
            Handle::Double(guard) => &mut **guard,
            Handle::Host(host) => host,
        }
    }
}
