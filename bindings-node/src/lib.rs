//! Node binding of `lms-bulk-upload` (napi-rs).
//!
//! This crate only converts types: every behaviour lives in the core crate. The native
//! classes here (`UploadHandle`, `PlanHandle`, ...) are wrapped by `lms.js`, the package's
//! public entry point, which adds the error classes and makes the bridge through which the
//! engine reaches a host's own store, mailer and journal ([`host`]).
//!
//! Data crosses the boundary as JSON text. What JavaScript gives is read with the core's
//! decoders after [`Naming::Camel`] turned its keys to snake_case; what it gets back has its
//! keys turned to camelCase the same way. Serialised formats (a plan's JSON, results as JSON
//! or CSV) are the core's own, byte for byte, so they move between languages unchanged.
#![deny(clippy::unwrap_used)]

mod execute;
mod host;
mod invitation;
mod memory;
mod plan;
mod shard;
mod sign;
mod testing;
mod undo;
mod upload;
mod web;

use lms_bulk_upload::host::Naming;
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;

// The functions JavaScript calls (the classes are reached through them).
pub use execute::{CancelToken, ResultsHandle};
pub use invitation::verify_invitation_async;
pub use memory::{MemoryJournalHandle, MemoryStoreHandle, RecordingMailerHandle};
pub use plan::{plan_async, PlanHandle, SettingsHandle};
pub use sign::PlanKeyHandle;
pub use testing::{
    apply_store_changes_json, judge_protocol_folder_json, judge_protocol_json, judge_scenario_json,
    unforwarded_store_methods_json,
};
pub use undo::plan_undo_async;
pub use upload::{bench_parse_rust, parse_bytes, parse_bytes_async, sheet_names, UploadHandle};
pub use web::{WebApiHandle, WebResponseHandle};

/// A core error as a napi error: its message is `LMS_BULK_UPLOAD_ERROR:` and a JSON payload
/// `{kind, code, severity, line, column, message, transient}`, which `lms.js` turns into
/// the error class of its kind. No code is made up here: every one is the core's.
pub(crate) fn to_napi(error: lms_bulk_upload::Error) -> napi::Error {
    let mut payload = serde_json::to_value(error.issue()).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut payload {
        map.insert("kind".into(), error.kind().as_str().into());
        map.insert("transient".into(), error.is_transient().into());
        map.insert("text".into(), error.issue().to_string().into());
    }
    napi::Error::from_reason(format!("LMS_BULK_UPLOAD_ERROR:{payload}"))
}

/// JSON text made by `lms.js` (`JSON.stringify` of what the caller gave; none is null),
/// with its keys in snake_case for the core's decoders.
pub(crate) fn from_js(json: Option<&str>) -> napi::Result<Value> {
    let value = match json {
        // JSON.stringify's text is well-formed: what serde_json refuses is nesting deeper
        // than its limit (128), a coded `invalid_option`.
        Some(text) => serde_json::from_str(text).map_err(|e| {
            let payload = serde_json::json!({
                "code": "invalid_option", "severity": "error", "line": null, "column": null,
                "message": format!("a value cannot be read: {e}"),
                "kind": "settings", "transient": false,
            });
            napi::Error::from_reason(format!("LMS_BULK_UPLOAD_ERROR:{payload}"))
        })?,
        None => Value::Null,
    };
    Ok(Naming::Camel.keys_in(value))
}

/// `value` as JSON text with camelCase keys, for JavaScript.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> String {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    Naming::Camel.keys_out(value).to_string()
}

/// `items[start..end]` (clamped), each shown by `view` (one of the core's
/// `host::view` forms), as camelCase JSON.
pub(crate) fn slice_to_js<T>(items: &[T], start: u32, end: u32, view: fn(&T) -> Value) -> String {
    let end = (end as usize).min(items.len());
    let shown: Vec<Value> = items[(start as usize).min(end)..end]
        .iter()
        .map(view)
        .collect();
    to_js(&shown)
}

/// The engine's version (the workspace's).
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The plan format version this engine writes and reads.
#[napi]
pub fn plan_format_version() -> u32 {
    lms_bulk_upload::PLAN_FORMAT_VERSION
}

/// Whether `password` matches a stored argon2id PHC hash (a host's login check, or a test of
/// what an upload stored in the host's own database).
#[napi]
pub fn verify_password(phc: String, password: String) -> bool {
    lms_bulk_upload::PasswordHash::from_phc(phc).verify(&password)
}

/// The identity of an address, as the engine compares them: lowercase, the domain mapped to
/// ASCII by IDNA.
#[napi]
pub fn email_key(email: String) -> String {
    lms_bulk_upload::email_key(&email)
}

/// Every issue and error code with its severity and meaning, as JSON
/// (`[{code, severity, meaning}]`).
#[napi]
pub fn issue_codes_json() -> String {
    serde_json::to_string(&lms_bulk_upload::issue_codes()).unwrap_or_default()
}
