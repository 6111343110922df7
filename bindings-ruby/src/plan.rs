//! `Settings`, `plan` and the `Plan` it returns.

use crate::error::{from_json_text, to_json, NativeResult};
use crate::memory::StoreArg;
use crate::upload::Upload;
use lms_bulk_upload::host::{view, Naming};
use std::sync::Arc;

/// Validated settings.
#[derive(uniffi::Object)]
pub struct Settings {
    pub(crate) inner: lms_bulk_upload::Settings,
}

#[uniffi::export]
impl Settings {
    /// Settings from a JSON object (decoded and validated by the core; unknown keys refused).
    #[uniffi::constructor]
    pub fn new(json: String) -> NativeResult<Arc<Settings>> {
        let inner = lms_bulk_upload::Settings::from_value(from_json_text(&json, "settings")?)?;
        Ok(Arc::new(Settings { inner }))
    }

    /// The settings as a JSON object, without the default password
    /// (`has_default_password` says whether one is set).
    pub fn to_json(&self) -> String {
        self.inner.to_value(Naming::Snake).to_string()
    }
}

/// The places `start..start + count`, as Ruby gives them (not yet clamped to any length).
fn window(start: u64, count: u64) -> std::ops::Range<usize> {
    let start = usize::try_from(start).unwrap_or(usize::MAX);
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    start..start.saturating_add(count)
}

/// `items[start..start + count]` (clamped), each shown by `view`.
pub(crate) fn slice<T>(
    items: &[T],
    start: u64,
    count: u64,
    view: fn(&T) -> serde_json::Value,
) -> Vec<serde_json::Value> {
    let window = window(start, count);
    let end = window.end.min(items.len());
    items[window.start.min(end)..end].iter().map(view).collect()
}

/// A deterministic plan.
#[derive(uniffi::Object)]
pub struct Plan {
    pub(crate) inner: lms_bulk_upload::Plan,
}

/// Plans an upload against the store, which is only read.
#[uniffi::export]
pub fn plan(upload: &Upload, settings: &Settings, store: StoreArg) -> NativeResult<Arc<Plan>> {
    let mut store = store.open()?;
    let inner = lms_bulk_upload::plan(&upload.inner, &settings.inner, store.store())?;
    Ok(Arc::new(Plan { inner }))
}

#[uniffi::export]
impl Plan {
    /// Reads a plan back (refusing another format version or altered content).
    #[uniffi::constructor]
    pub fn from_json(json: String) -> NativeResult<Arc<Plan>> {
        let inner = lms_bulk_upload::Plan::from_json(&json)?;
        Ok(Arc::new(Plan { inner }))
    }

    /// The plan as compact JSON (`pretty`: indented).
    pub fn to_json(&self, pretty: bool) -> String {
        if pretty {
            self.inner.to_json_pretty()
        } else {
            self.inner.to_json()
        }
    }

    /// `sha256:...` of the plan's content.
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint().to_owned()
    }

    /// The counts, every one present, as a JSON object (the core's `view::plan_summary`).
    pub fn summary_json(&self) -> String {
        to_json(&view::plan_summary(self.inner.summary()))
    }

    /// Rows `start..start + count` (clamped), as a JSON list (the core's `view::plan_row`:
    /// `operations`, `noops` and `issues` always present).
    pub fn rows_json(&self, start: u64, count: u64) -> String {
        to_json(&view::plan_rows(self.inner.rows(), window(start, count)))
    }

    /// Plan rows.
    pub fn row_count(&self) -> u64 {
        self.inner.rows().len() as u64
    }

    /// The file-level issues, as a JSON list.
    pub fn file_issues_json(&self) -> String {
        to_json(self.inner.file_issues())
    }

    /// The settings the plan was made with, as a JSON object.
    pub fn settings_json(&self) -> String {
        to_json(self.inner.settings())
    }
}
