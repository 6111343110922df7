//! The native library of the `lms_bulk_upload` Ruby gem, through uniffi.
//!
//! Everything here converts types: structured values cross as JSON text made by the core's
//! own serde forms (so results JSON is byte-identical in every language), host objects cross
//! as one foreign trait ([`RubyHost`]) that the core's host protocol drives. The Ruby module
//! generated from this library is `LmsBulkUploadNative`
//! (`lib/lms_bulk_upload/lms_bulk_upload_native.rb`); the gem's own Ruby
//! (`lib/lms_bulk_upload.rb`) wraps it.

uniffi::setup_scaffolding!("lms_bulk_upload_native");

mod error;
mod execute;
mod file_bytes;
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

pub use error::{NativeError, NativeResult};
pub use execute::{CancelToken, ProgressSink, Results};
pub use host::{HostCallError, RubyHost};
pub use invitation::verify_invitation;
pub use memory::{JournalArg, MailerArg, MemoryJournal, MemoryStore, RecordingMailer, StoreArg};
pub use plan::{plan, Plan, Settings};
pub use sign::PlanKey;
pub use testing::{apply_store_changes_json, judge_protocol_folder_json, judge_scenario_json};
pub use undo::plan_undo;
pub use upload::{bench_parse_rust, lms_bulk_upload_ruby_parse_lent, parse, sheet_names, Upload};
pub use web::{wait_for_runs, WebApi, WebResponse};

/// The identity of an address, as the engine compares them: lowercase, the domain mapped to
/// ASCII by IDNA.
#[uniffi::export]
pub fn email_key(email: String) -> String {
    lms_bulk_upload::email_key(&email)
}

/// Every issue and error code with its severity and meaning, as a JSON list.
#[uniffi::export]
pub fn issue_codes_json() -> String {
    error::to_json(&lms_bulk_upload::issue_codes())
}

/// Whether `password` matches a stored argon2id PHC hash (`$argon2id$v=19$...`).
#[uniffi::export]
pub fn verify_password(phc: String, password: String) -> bool {
    lms_bulk_upload::PasswordHash::from_phc(phc).verify(&password)
}

/// The version of the engine.
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The plan format version this engine writes and reads.
#[uniffi::export]
pub fn plan_format_version() -> u32 {
    lms_bulk_upload::PLAN_FORMAT_VERSION
}
