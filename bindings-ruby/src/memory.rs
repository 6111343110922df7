//! The engine's in-memory doubles (`MemoryStore`, `RecordingMailer`, `MemoryJournal`), and
//! the store, mailer and journal arguments: one of those or a Ruby object.

use crate::error::{to_json, NativeError, NativeResult};
use crate::host::{RubyHost, RubyObject};
use lms_bulk_upload::host::{message_value, HostJournal, HostMailer, HostStore, Naming};
use lms_bulk_upload::{Journal, Mailer, StoreState};
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

/// A store argument made usable for one call: the double locked, or the host object behind
/// the core's protocol.
pub(crate) enum StoreHandle<'a> {
    Memory(MutexGuard<'a, lms_bulk_upload::MemoryStore>),
    Host(HostStore<RubyObject>),
}

impl StoreArg {
    pub(crate) fn open(&self) -> NativeResult<StoreHandle<'_>> {
        Ok(match self {
            StoreArg::Memory { store } => StoreHandle::Memory(lock(&store.inner, "MemoryStore")?),
            StoreArg::Host { host } => {
                StoreHandle::Host(HostStore::new(RubyObject(Arc::clone(host)), Naming::Snake)?)
            }
        })
    }
}

impl StoreHandle<'_> {
    pub(crate) fn store(&mut self) -> &mut dyn lms_bulk_upload::Store {
        match self {
            StoreHandle::Memory(guard) => &mut **guard,
            StoreHandle::Host(host) => host,
        }
    }
}

pub(crate) enum MailerHandle<'a> {
    Recording(MutexGuard<'a, lms_bulk_upload::RecordingMailer>),
    Host(HostMailer<RubyObject>),
}

impl MailerArg {
    pub(crate) fn open(&self) -> NativeResult<MailerHandle<'_>> {
        Ok(match self {
            MailerArg::Recording { mailer } => {
                MailerHandle::Recording(lock(&mailer.inner, "RecordingMailer")?)
            }
            MailerArg::Host { host } => MailerHandle::Host(HostMailer::new(
                RubyObject(Arc::clone(host)),
                Naming::Snake,
            )?),
        })
    }
}

impl MailerHandle<'_> {
    pub(crate) fn mailer(&mut self) -> &mut dyn Mailer {
        match self {
            MailerHandle::Recording(guard) => &mut **guard,
            MailerHandle::Host(host) => host,
        }
    }
}

pub(crate) enum JournalHandle<'a> {
    Memory(MutexGuard<'a, lms_bulk_upload::MemoryJournal>),
    Host(HostJournal<RubyObject>),
}

impl JournalArg {
    pub(crate) fn open(&self) -> NativeResult<JournalHandle<'_>> {
        Ok(match self {
            JournalArg::Memory { journal } => {
                JournalHandle::Memory(lock(&journal.inner, "MemoryJournal")?)
            }
            JournalArg::Host { host } => JournalHandle::Host(HostJournal::new(
                RubyObject(Arc::clone(host)),
                Naming::Snake,
            )?),
        })
    }
}

impl JournalHandle<'_> {
    pub(crate) fn journal(&mut self) -> &mut dyn Journal {
        match self {
            JournalHandle::Memory(guard) => &mut **guard,
            JournalHandle::Host(host) => host,
        }
    }
}
