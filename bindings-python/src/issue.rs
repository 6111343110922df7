//! `Issue` objects and `issue_codes()`.

use crate::convert::{repr_opt, repr_str};
use lms_bulk_upload::Issue;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// One problem: a stable code, a severity, a place and a message.
#[pyclass(frozen, eq, name = "Issue", module = "lms_bulk_upload")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyIssue {
    pub(crate) inner: Issue,
}

impl PyIssue {
    pub(crate) fn list<'py>(py: Python<'py>, issues: &[Issue]) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, issues.iter().map(|i| PyIssue { inner: i.clone() }))
    }
}

#[pymethods]
impl PyIssue {
    /// The stable snake_case code.
    #[getter]
    fn code(&self) -> &'static str {
        self.inner.code.as_str()
    }
    /// `"error"` or `"warning"`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.as_str()
    }
    /// The 1-based line where the record starts (header = 1), if any.
    #[getter]
    fn line(&self) -> Option<u32> {
        self.inner.line
    }
    /// The column name, if any.
    #[getter]
    fn column(&self) -> Option<&str> {
        self.inner.column.as_deref()
    }
    /// The human message.
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }
    /// Whether it is an error (as opposed to a warning).
    #[getter]
    fn is_error(&self) -> bool {
        self.inner.is_error()
    }
    /// The issue as a dict with the keys code, severity, line, column, message.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("code", self.code())?;
        dict.set_item("severity", self.severity())?;
        dict.set_item("line", self.inner.line)?;
        dict.set_item("column", self.column())?;
        dict.set_item("message", self.message())?;
        Ok(dict)
    }
    fn __repr__(&self) -> String {
        format!(
            "Issue(code={}, severity={}, line={}, column={}, message={})",
            repr_str(self.code()),
            repr_str(self.severity()),
            self.inner.line.map_or("None".into(), |l| l.to_string()),
            repr_opt(self.column()),
            repr_str(self.message())
        )
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.code.hash(&mut h);
        self.inner.line.hash(&mut h);
        self.inner.column.hash(&mut h);
        self.inner.message.hash(&mut h);
        h.finish()
    }
}

/// Every issue and error code: a list of dicts with code, severity and meaning.
#[pyfunction]
fn issue_codes(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for info in lms_bulk_upload::issue_codes() {
        let dict = PyDict::new(py);
        dict.set_item("code", info.code)?;
        dict.set_item("severity", info.severity)?;
        dict.set_item("meaning", info.meaning)?;
        list.append(dict)?;
    }
    Ok(list)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyIssue>()?;
    m.add_function(wrap_pyfunction!(issue_codes, m)?)?;
    Ok(())
}
