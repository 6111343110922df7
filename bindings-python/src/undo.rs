//! `plan_undo()`: the plan that undoes an upload, made by the core from its `Results` and
//! the store as it is now.

use crate::convert::from_py;
use crate::errors::OrRaise;
use crate::host::StoreArg;
use crate::plan::PyPlan;
use crate::results::PyResults;
use lms_bulk_upload::host::HostStore;
use lms_bulk_upload::UndoOptions;
use pyo3::prelude::*;
use serde_json::Value;
use std::sync::Arc;

/// The plan that undoes the upload `results` come from (the core's `plan_undo`): reads the
/// store (batched), writes nothing. `options` is a dict of the core's undo options,
/// decoded by the core (`SettingsError` with `invalid_option` for an unknown one).
#[pyfunction]
#[pyo3(signature = (results, store, options=None))]
fn plan_undo(
    py: Python<'_>,
    results: &Bound<'_, PyResults>,
    store: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyPlan> {
    let options = options.map(from_py).transpose()?;
    let options = UndoOptions::from_value(options.unwrap_or(Value::Null)).or_raise(py)?;
    let mut store = StoreArg::new(store, HostStore::new)?;
    let (results, store) = (&results.get().inner, store.get());
    let plan = py.detach(|| lms_bulk_upload::plan_undo(results, store, &options));
    Ok(PyPlan {
        inner: Arc::new(plan.or_raise(py)?),
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(plan_undo, m)?)
}
