//! The Python binding of `lms-bulk-upload`: the native module `lms_bulk_upload._native`.
//!
//! The binding only converts types; all behaviour lives in the core crate. A host's own
//! store, mailer or journal is a Python object reached through the core's host protocol
//! (`host.rs`); options and settings are decoded by the core; results, plan rows, issues and
//! summaries are read from the core's serde JSON form (`view.rs`). Undo (`undo.rs`) is the
//! core's `plan_undo`; its plan is a `Plan` like any other. Long work (parse, plan,
//! execute) runs with the GIL released; calls into Python objects take it back per call.

mod bytes_text;
mod convert;
mod errors;
mod execute;
mod host;
mod invitation;
mod memory;
mod plan;
mod results;
mod settings;
mod sign;
mod undo;
mod upload;
mod view;
mod web;

use pyo3::exceptions::PyAssertionError;
use pyo3::prelude::*;

/// The one judge of a scenario and its outcome (JSON texts), for `lms_bulk_upload._testing`.
#[pyfunction]
fn _judge_scenario(scenario: &str, outcome: &str) -> PyResult<()> {
    lms_bulk_upload_vectors::judge_scenario_json(scenario, outcome)
        .map_err(PyAssertionError::new_err)
}

/// A scenario's store state after its `store_changes` (JSON texts in and out).
#[pyfunction]
fn _apply_store_changes(store: &str, changes: &str) -> PyResult<String> {
    lms_bulk_upload_vectors::apply_store_changes_json(store, changes)
        .map_err(PyAssertionError::new_err)
}

/// The one judge of the host-protocol vector in `folder` and an outcome (JSON text).
#[pyfunction]
fn _judge_protocol_folder(folder: &str, outcome: &str) -> PyResult<()> {
    lms_bulk_upload_vectors::judge_protocol_folder_json(folder, outcome)
        .map_err(PyAssertionError::new_err)
}

/// The native module; `lms_bulk_upload/__init__.py` re-exports it.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PLAN_FORMAT_VERSION", lms_bulk_upload::PLAN_FORMAT_VERSION)?;
    view::register(m)?;
    upload::register(m)?;
    settings::register(m)?;
    plan::register(m)?;
    execute::register(m)?;
    results::register(m)?;
    memory::register(m)?;
    sign::register(m)?;
    undo::register(m)?;
    invitation::register(m)?;
    web::register(m)?;
    m.add_function(wrap_pyfunction!(_apply_store_changes, m)?)?;
    m.add_function(wrap_pyfunction!(_judge_scenario, m)?)?;
    m.add_function(wrap_pyfunction!(_judge_protocol_folder, m)?)?;
    Ok(())
}
