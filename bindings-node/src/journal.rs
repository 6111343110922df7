//! Journals for resumable execution: the native `MemoryJournal`, or a host object with
//! `load(fingerprint)`, `begin(fingerprint, line)` and `finish(fingerprint, row)`, each of
//! which may return a Promise. A host journal is reached through the same bridge as a host
//! store (see [`crate::store`]): the worker waits, the event loop never does.

use crate::memory::lock;
use crate::store::{call, Bridge};
use lms_bulk_upload::{HostError, Journal, JournalEntry, MemoryJournal, ResultRow};
use napi::{Error, Status};
use napi_derive::napi;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The native `MemoryJournal`: give the same one to `execute` again to resume a cancelled
/// execution of the same plan (within this process).
#[napi]
pub struct MemoryJournalHandle {
    pub(crate) inner: Arc<Mutex<MemoryJournal>>,
}

impl Default for MemoryJournalHandle {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl MemoryJournalHandle {
    /// An empty journal.
    #[napi(constructor)]
    pub fn new() -> Self {
        MemoryJournalHandle {
            inner: Arc::new(Mutex::new(MemoryJournal::new())),
        }
    }
}

/// A [`Journal`] over the shared [`MemoryJournal`], locking it per call.
struct SharedJournal(Arc<Mutex<MemoryJournal>>);

impl Journal for SharedJournal {
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        lock(&self.0).load(fingerprint)
    }
    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError> {
        lock(&self.0).begin(fingerprint, line)
    }
    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        lock(&self.0).finish(fingerprint, row)
    }
}

/// A journal written in JavaScript. `load` gives an object (or a `Map`, which `lms.js`
/// turns into one) from line to `null` (begun) or the finished row
/// (`{line, email, status, userId, done, error}`), or `null`/`undefined` for none.
struct HostJournal {
    bridge: Bridge,
}

impl Journal for HostJournal {
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        let value = call(&self.bridge, "load", json!([fingerprint]))?;
        let entries: BTreeMap<String, Option<ResultRow>> = match value {
            Value::Null => BTreeMap::new(),
            other => serde_json::from_value(other).map_err(|e| {
                HostError::permanent(format!("load returned a value of the wrong shape: {e}"))
            })?,
        };
        entries
            .into_iter()
            .map(|(line, row)| {
                let line: u32 = line.parse().map_err(|_| {
                    HostError::permanent(format!("load returned {line:?}, not a line number"))
                })?;
                Ok((
                    line,
                    row.map_or(JournalEntry::Begun, JournalEntry::Finished),
                ))
            })
            .collect()
    }
    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError> {
        call(&self.bridge, "begin", json!([fingerprint, line])).map(drop)
    }
    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        let row = serde_json::to_value(row).unwrap_or(Value::Null);
        call(&self.bridge, "finish", json!([fingerprint, row])).map(drop)
    }
}

/// The journal an execution records its progress in, if any: the native `MemoryJournal`
/// or a host object behind a bridge (not both).
pub(crate) fn choose_journal(
    memory: Option<&MemoryJournalHandle>,
    bridge: Option<Bridge>,
) -> napi::Result<Option<Box<dyn Journal + Send>>> {
    match (memory, bridge) {
        (None, None) => Ok(None),
        (Some(m), None) => Ok(Some(Box::new(SharedJournal(m.inner.clone())))),
        (None, Some(bridge)) => Ok(Some(Box::new(HostJournal { bridge }))),
        (Some(_), Some(_)) => Err(Error::new(
            Status::InvalidArg,
            "give at most one journal: a MemoryJournal or a bridge",
        )),
    }
}
