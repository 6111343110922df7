//! The host's record store, reached through its hooks object: JSON documents by kind and id,
//! each with a version for compare-and-set (`get_record`, `put_record`, `list_records`,
//! `delete_record`), and the documents this host keeps in it.

use super::{Shared, SharedObject};
use crate::hooks::HookError;
use lms_bulk_upload::host::{HostObject, Naming};
use lms_bulk_upload::ResultSummary;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Kinds of record.
pub(crate) const SESSION: &str = "session";
pub(crate) const UPLOAD: &str = "upload";
pub(crate) const UPLOAD_FILE: &str = "upload_file";
pub(crate) const PLAN: &str = "plan";
pub(crate) const RUN: &str = "run";
pub(crate) const RESULTS: &str = "results";
pub(crate) const COUNTER: &str = "counter";

/// The journal of a run: its own kind, one record per line.
pub(crate) fn journal_kind(run_id: &str) -> String {
    format!("journal:{run_id}")
}

/// A record as read: its version and document.
pub(crate) struct Record<T> {
    pub(crate) version: u64,
    pub(crate) doc: T,
}

/// The record store of a hooks object.
#[derive(Clone)]
pub(crate) struct Records {
    pub(crate) hooks: Arc<dyn SharedObject>,
    pub(crate) naming: Naming,
}

pub(crate) fn failed(what: &str, e: impl std::fmt::Display) -> HookError {
    HookError::Failed(format!("hooks.{what}: {e}"))
}

fn read<T: DeserializeOwned>(method: &str, value: Value) -> Result<T, HookError> {
    serde_json::from_value(value)
        .map_err(|e| failed(method, format!("gave a reply that cannot be read: {e}")))
}

impl Records {
    pub(crate) fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, HookError> {
        let mut object = Shared(self.hooks.as_ref());
        object
            .call(&self.naming.name(method), args)
            .map_err(|e| failed(method, e.message()))
    }

    pub(crate) fn has(&self, method: &str) -> bool {
        Shared(self.hooks.as_ref()).has_method(&self.naming.name(method))
    }

    /// The record `kind`/`id`, its document read as `T`.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<Record<T>>, HookError> {
        let reply = self.call("get_record", vec![json!(kind), json!(id)])?;
        if reply.is_null() {
            return Ok(None);
        }
        let raw: RawRecord = read("get_record", reply)?;
        Ok(Some(Record {
            version: raw.version,
            doc: read("get_record", raw.doc)?,
        }))
    }

    /// Stores `doc`: `expected` `None` creates or replaces whatever is there; `Some(0)` only
    /// creates; `Some(n)` replaces only the record at version `n`. Whether it was stored.
    pub(crate) fn put<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        doc: &T,
        expected: Option<u64>,
    ) -> Result<bool, HookError> {
        let doc = serde_json::to_value(doc).map_err(|e| failed("put_record", e))?;
        let reply = self.call(
            "put_record",
            vec![json!(kind), json!(id), doc, json!(expected)],
        )?;
        match reply {
            Value::Bool(stored) => Ok(stored),
            Value::Number(n) => Ok(n.as_u64() == Some(1)),
            other => Err(failed(
                "put_record",
                format!("gave {other}, not true or false"),
            )),
        }
    }

    /// Reads, changes and writes back the record `kind`/`id` until no other writer came in
    /// between (a few times at most); the document as written, or `None` without a record.
    pub(crate) fn update<T: Serialize + DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
        change: &mut dyn FnMut(&mut T) -> Result<(), HookError>,
    ) -> Result<Option<T>, HookError> {
        for _ in 0..20 {
            let Some(mut record) = self.get::<T>(kind, id)? else {
                return Ok(None);
            };
            change(&mut record.doc)?;
            if self.put(kind, id, &record.doc, Some(record.version))? {
                return Ok(Some(record.doc));
            }
        }
        Err(failed(
            "put_record",
            format!("{kind} {id} kept changing: try again"),
        ))
    }

    /// A page of `kind`, newest first: the total and the page's (id, document).
    pub(crate) fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<(String, T)>), HookError> {
        let reply = self.call(
            "list_records",
            vec![json!(kind), json!(offset), json!(limit)],
        )?;
        let page: RawPage = read("list_records", reply)?;
        if page.items.len() as u64 > limit {
            return Err(failed(
                "list_records",
                format!("gave {} records for a page of {limit}", page.items.len()),
            ));
        }
        let items = page
            .items
            .into_iter()
            .map(|r| Ok((r.id, read("list_records", r.doc)?)))
            .collect::<Result<_, HookError>>()?;
        Ok((page.total, items))
    }

    /// Every record of `kind`, a page at a time.
    pub(crate) fn all<T: DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, T)>, HookError> {
        const PAGE: u64 = 1000;
        let mut out = Vec::new();
        loop {
            let (total, items) = self.list::<T>(kind, out.len() as u64, PAGE)?;
            let last = items.is_empty() || (items.len() as u64) < PAGE;
            out.extend(items);
            if last || out.len() as u64 >= total {
                return Ok(out);
            }
        }
    }

    /// Forgets a record (nothing when there is none).
    pub(crate) fn delete(&self, kind: &str, id: &str) -> Result<(), HookError> {
        self.call("delete_record", vec![json!(kind), json!(id)])
            .map(drop)
    }

    /// The next number of the counter `name` (1, 2, 3...): ids that are never given twice.
    pub(crate) fn next(&self, name: &str) -> Result<u64, HookError> {
        for _ in 0..50 {
            match self.get::<u64>(COUNTER, name)? {
                None => {
                    if self.put(COUNTER, name, &1u64, Some(0))? {
                        return Ok(1);
                    }
                }
                Some(r) => {
                    if self.put(COUNTER, name, &(r.doc + 1), Some(r.version))? {
                        return Ok(r.doc + 1);
                    }
                }
            }
        }
        Err(failed(
            "put_record",
            format!("the counter {name} kept changing: try again"),
        ))
    }
}

#[derive(Deserialize)]
struct RawRecord {
    version: u64,
    doc: Value,
}

#[derive(Deserialize)]
struct RawItem {
    id: String,
    doc: Value,
}

#[derive(Deserialize)]
struct RawPage {
    total: u64,
    items: Vec<RawItem>,
}

/// A signed-in session (its id is the hex SHA-256 of the cookie's value).
#[derive(Serialize, Deserialize)]
pub(crate) struct SessionDoc {
    pub(crate) email: String,
    pub(crate) csrf_token: String,
    pub(crate) expires_at: u64,
}

/// An upload's record; its bytes are the `upload_file` record `<id>/<file_version>`.
#[derive(Serialize, Deserialize)]
pub(crate) struct UploadDoc {
    pub(crate) owner: String,
    pub(crate) filename: String,
    pub(crate) size: u64,
    pub(crate) file_version: u64,
    pub(crate) assignments: BTreeMap<usize, Option<String>>,
    pub(crate) sheet: Option<String>,
    pub(crate) encoding: Option<String>,
}

/// An upload's bytes, base64.
#[derive(Serialize, Deserialize)]
pub(crate) struct FileDoc {
    pub(crate) base64: String,
}

/// A plan, signed.
#[derive(Serialize, Deserialize)]
pub(crate) struct PlanDoc {
    pub(crate) owner: String,
    pub(crate) upload: Option<(String, u64)>,
    pub(crate) undo_of_run: Option<String>,
    pub(crate) run_id: String,
    pub(crate) approved: bool,
    pub(crate) settings: Value,
    pub(crate) excluded_lines: Vec<u32>,
    pub(crate) created_at: String,
    /// `Plan::to_signed_json` under the host's plan key.
    pub(crate) signed: String,
}

/// A run: where it is, its progress, and (until it ends) its sealed default password.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct RunDoc {
    pub(crate) plan_id: String,
    pub(crate) uploader: String,
    pub(crate) undo_of: Option<String>,
    pub(crate) started_at: String,
    pub(crate) finished_at: Option<String>,
    /// `queued`, `running`, `finished`, `cancelled` or `interrupted`.
    pub(crate) state: String,
    pub(crate) done: u64,
    pub(crate) total: u64,
    pub(crate) counts: Option<ResultSummary>,
    pub(crate) undone_by: Option<String>,
    pub(crate) error: Option<String>,
    /// An administrator asked it to stop.
    pub(crate) cancel: bool,
    /// When its worker last said it is alive (seconds since the epoch).
    pub(crate) heartbeat: u64,
    pub(crate) sealed_password: Option<String>,
}

/// A run's results, signed.
#[derive(Serialize, Deserialize)]
pub(crate) struct ResultsDoc {
    pub(crate) signed: String,
}

/// A line of a run's journal: begun, its user created, or finished with its result row.
#[derive(Serialize, Deserialize)]
pub(crate) struct JournalDoc {
    pub(crate) created: Option<String>,
    pub(crate) row: Option<Value>,
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `secs` since the epoch as RFC 3339 UTC (`2026-01-31T09:05:00Z`).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = crate::civil::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
    }
}
