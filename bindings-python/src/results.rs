//! `Results` of an execution and `ResultRow`.

use crate::convert::{repr_opt, repr_str, ser_to_py};
use lms_bulk_upload::{ResultRow, Results};
use pyo3::prelude::*;
use pyo3::types::PyList;

/// What execution did, row by row; exportable as CSV (formula-safe) and JSON.
#[pyclass(frozen, name = "Results", module = "lms_bulk_upload")]
pub(crate) struct PyResults {
    pub(crate) inner: Results,
}

/// The outcome of one row.
#[pyclass(frozen, name = "ResultRow", module = "lms_bulk_upload")]
pub(crate) struct PyResultRow {
    row: ResultRow,
}

#[pymethods]
impl PyResults {
    /// One `ResultRow` per row, in file order.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner
                .rows
                .iter()
                .map(|r| PyResultRow { row: r.clone() }),
        )
    }
    /// The counts, as a dict (rows, created, updated, unchanged, rejected, failed,
    /// emails_sent, resumed).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.summary)
    }
    /// The fingerprint of the plan that was executed.
    #[getter]
    fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }
    /// Whether execution was cancelled before the end (the remaining rows are `failed`
    /// with the error "cancelled"; executing again with a journal finishes them).
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.cancelled
    }
    /// Why the confirmation email to the uploader was not sent, if it was not: a dict
    /// `{"code": "mailer_failed", "message": ...}`.
    #[getter]
    fn confirmation_error<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.confirmation_error)
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
    fn __repr__(&self) -> String {
        let s = &self.inner.summary;
        format!(
            "Results(rows={}, created={}, updated={}, unchanged={}, rejected={}, failed={}, emails_sent={})",
            s.rows, s.created, s.updated, s.unchanged, s.rejected, s.failed, s.emails_sent
        )
    }
}

#[pymethods]
impl PyResultRow {
    /// The line where the record starts.
    #[getter]
    fn line(&self) -> u32 {
        self.row.line
    }
    /// The email as written in the file.
    #[getter]
    fn email(&self) -> &str {
        &self.row.email
    }
    /// `created`, `updated`, `unchanged`, `rejected` or `failed`.
    #[getter]
    fn status(&self) -> &'static str {
        self.row.status.as_str()
    }
    /// The user's id, when known.
    #[getter]
    fn user_id(&self) -> Option<&str> {
        self.row.user_id.as_ref().map(|u| u.0.as_str())
    }
    /// What was done, in order: dicts tagged by "op" (`{"op": "create_user"}`,
    /// `{"op": "add_to_group", "group": "Sales"}`, ...).
    #[getter]
    fn done<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.row.done)
    }
    /// Why the row was rejected or failed: `{"code": ..., "message": ...}` (and "more" for
    /// a rejected row's further errors), or None.
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.row.error)
    }
    /// The row as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.row)
    }
    fn __repr__(&self) -> String {
        format!(
            "ResultRow(line={}, email={}, status={}, error={})",
            self.row.line,
            repr_str(&self.row.email),
            repr_str(self.status()),
            repr_opt(self.row.error.as_ref().map(|e| e.code.as_str()))
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyResults>()?;
    m.add_class::<PyResultRow>()?;
    Ok(())
}
