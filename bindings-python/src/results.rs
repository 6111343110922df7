//! `Results` of an execution and `ResultRow`, read from the core's results JSON form.

use crate::view::{object, view, Object};
use lms_bulk_upload::Results;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// What execution did, row by row; exportable as CSV (formula-safe) and JSON.
#[pyclass(frozen, name = "Results", module = "lms_bulk_upload")]
pub(crate) struct PyResults {
    inner: Results,
    value: Object,
}

impl PyResults {
    pub(crate) fn new(inner: Results) -> PyResults {
        PyResults {
            value: object(&inner),
            inner,
        }
    }
}

/// The outcome of one row, as in the results JSON.
#[pyclass(frozen, name = "ResultRow", module = "lms_bulk_upload")]
pub(crate) struct PyResultRow {
    value: Object,
}

view! { PyResults "Results" {
    fingerprint: plain, summary: plain, cancelled: plain, confirmation_error: plain,
}
    /// One `ResultRow` per row, in file order.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = self.inner.rows.iter().map(|r| PyResultRow { value: object(r) });
        PyList::new(py, rows)
    }
    /// The results as CSV (`line,email,status,user_id,done,error`), with cells that a
    /// spreadsheet would run as a formula neutralised.
    fn to_csv(&self) -> String {
        self.inner.to_csv()
    }
    /// The results as JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    fn __len__(&self) -> usize {
        self.inner.rows.len()
    }
}

view! { PyResultRow "ResultRow" {
    line: plain, email: plain, status: plain, user_id: plain, done: list, error: plain,
}}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyResults>()?;
    m.add_class::<PyResultRow>()?;
    Ok(())
}
