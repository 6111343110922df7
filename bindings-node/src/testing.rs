//! The one judge of the language-neutral vectors (crate `lms-bulk-upload-vectors`), for the
//! package's test runners through `testing.js`; not part of the documented API. A judge
//! returns what differs, and where, or nothing when the outcome matches.

use napi::{Error, Result};
use napi_derive::napi;

/// `judge_scenario_json`: a scenario's JSON against a runner's outcome.
#[napi]
pub fn judge_scenario_json(scenario_json: String, outcome_json: String) -> Option<String> {
    lms_bulk_upload_vectors::judge_scenario_json(&scenario_json, &outcome_json).err()
}

/// `judge_protocol_json`: a host-protocol vector's JSON (its `expect.results` the expected text
/// itself, not `true`) against a runner's outcome.
#[napi]
pub fn judge_protocol_json(vector_json: String, outcome_json: String) -> Option<String> {
    lms_bulk_upload_vectors::judge_protocol_json(&vector_json, &outcome_json).err()
}

/// `judge_protocol_folder_json`: the host-protocol vector of `folder` (its vector.json and
/// results.json) against a runner's outcome.
#[napi]
pub fn judge_protocol_folder_json(folder: String, outcome_json: String) -> Option<String> {
    lms_bulk_upload_vectors::judge_protocol_folder_json(&folder, &outcome_json).err()
}

/// `apply_store_changes_json`: a scenario's store state after its `store_changes`.
#[napi]
pub fn apply_store_changes_json(store_json: String, changes_json: String) -> Result<String> {
    lms_bulk_upload_vectors::apply_store_changes_json(&store_json, &changes_json)
        .map_err(Error::from_reason)
}

/// The optional store methods the native `MemoryStore`'s wrapper does not forward (JSON
/// list of snake_case names; empty when every one is forwarded).
#[napi]
pub fn unforwarded_store_methods_json() -> String {
    serde_json::to_string(&crate::memory::unforwarded_optional_methods()).unwrap_or_default()
}
