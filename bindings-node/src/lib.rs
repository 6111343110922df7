//! Node binding of `lms-bulk-upload` (napi-rs).
//!
//! This crate only converts types: every behaviour lives in the core crate. The native
//! classes here (`UploadHandle`, `PlanHandle`, ...) are wrapped by `lms.js`, the package's
//! public entry point, which adds the error classes and the bridge to a host's own store,
//! mailer and journal (plain JavaScript objects whose methods may return Promises).
//!
//! Data crosses the boundary as JSON text: keys are camelCase on the JavaScript side and
//! snake_case on the Rust side ([`json::camelize`], [`json::snakify`]). Serialised formats
//! (a plan's JSON, results as JSON or CSV) are the core's own, byte for byte, so they move
//! between languages unchanged.
#![deny(clippy::unwrap_used)]

mod errors;
mod execute;
mod journal;
mod json;
mod mailer;
mod memory;
mod plan;
mod results;
mod settings;
mod store;
mod upload;
mod worker;

use napi_derive::napi;

// The functions JavaScript calls (the classes are reached through them).
pub use execute::CancelToken;
pub use journal::MemoryJournalHandle;
pub use memory::{MemoryStoreHandle, RecordingMailerHandle};
pub use plan::{plan_async, PlanHandle};
pub use results::ResultsHandle;
pub use settings::SettingsHandle;
pub use upload::{bench_parse_rust, parse_bytes, parse_bytes_async, UploadHandle};

/// Every issue and error code with its severity and meaning, as JSON
/// (`[{code, severity, meaning}]`).
#[napi]
pub fn issue_codes_json() -> String {
    serde_json::to_string(&lms_bulk_upload::issue_codes()).unwrap_or_default()
}
