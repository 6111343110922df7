//! Testing entry points, outside the documented API: the one judge of the language-neutral
//! vectors (`lms-bulk-upload-vectors`), for the Ruby runners of `tests/scenarios/` and
//! `tests/host-protocol/` (docs/scenario-format.md, docs/host-protocol.md).

use crate::error::{NativeError, NativeResult};

fn mismatch(message: String) -> NativeError {
    NativeError::Mismatch { message }
}

/// Judges a scenario's outcome (both JSON text).
#[uniffi::export]
pub fn judge_scenario_json(scenario: String, outcome: String) -> NativeResult<()> {
    lms_bulk_upload_vectors::judge_scenario_json(&scenario, &outcome).map_err(mismatch)
}

/// Judges a host-protocol vector's outcome against the folder's `vector.json` and
/// `results.json`.
#[uniffi::export]
pub fn judge_protocol_folder_json(folder: String, outcome: String) -> NativeResult<()> {
    lms_bulk_upload_vectors::judge_protocol_folder_json(&folder, &outcome).map_err(mismatch)
}

/// A scenario's `store_changes` applied to its `store` (both JSON text), as JSON text.
#[uniffi::export]
pub fn apply_store_changes_json(store: String, changes: String) -> NativeResult<String> {
    lms_bulk_upload_vectors::apply_store_changes_json(&store, &changes).map_err(mismatch)
}
