//! Undo: `plan_undo`, `Plan#undo_of`, and `Results.from_json` (results kept by the host, to
//! be undone later).

use crate::error::{from_json_text, NativeResult};
use crate::execute::Results;
use crate::memory::StoreArg;
use crate::plan::Plan;
use lms_bulk_upload::UndoOptions;
use std::sync::Arc;

/// The plan that undoes the upload `results` come from, made against the store as it is now
/// (only read). `options_json`: an object of undo options (decoded by the core:
/// `delete_created_users`, `uploader_email`, `results_url`) or null.
#[uniffi::export]
pub fn plan_undo(
    results: &Results,
    store: StoreArg,
    options_json: String,
) -> NativeResult<Arc<Plan>> {
    let options = UndoOptions::from_value(from_json_text(&options_json, "undo options")?)?;
    // A copy: no lock is held while host methods run (one may read these results).
    let results = results.get().clone();
    let mut store = store.open()?;
    let inner = lms_bulk_upload::plan_undo(&results, store.store(), &options)?;
    Ok(Arc::new(Plan { inner }))
}

#[uniffi::export]
impl Plan {
    /// The fingerprint of the upload this plan undoes, or null for a plan that is no undo.
    pub fn undo_of(&self) -> Option<String> {
        self.inner.undo_of().map(str::to_owned)
    }
}

#[uniffi::export]
impl Results {
    /// Results read back from their JSON (refused when unreadable or when the summary does
    /// not match the rows).
    #[uniffi::constructor]
    pub fn from_json(json: String) -> NativeResult<Arc<Results>> {
        Ok(Results::new(lms_bulk_upload::Results::from_json(&json)?))
    }
}
