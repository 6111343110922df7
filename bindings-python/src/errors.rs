//! Core errors → the Python exception classes of `lms_bulk_upload._errors`, and Python
//! exceptions raised by host objects → the core's `HostError`.

use lms_bulk_upload::{Error, ErrorKind, HostError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::File => "FileError",
        ErrorKind::Settings => "SettingsError",
        ErrorKind::Plan => "PlanError",
        ErrorKind::Store => "StoreError",
        ErrorKind::Mailer => "MailerError",
        _ => "BulkUploadError",
    }
}

/// Builds the exception of class `class` (a name in `_errors`) with a code and a place.
pub(crate) fn raise(
    py: Python<'_>,
    class: &str,
    message: &str,
    code: &str,
    line: Option<u32>,
    column: Option<&str>,
    transient: bool,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = ERRORS.get_or_try_init(py, || {
            PyModule::import(py, "lms_bulk_upload._errors").map(Bound::unbind)
        })?;
        let cls = module.bind(py).getattr(class)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("code", code)?;
        kwargs.set_item("line", line)?;
        kwargs.set_item("column", column)?;
        kwargs.set_item("transient", transient)?;
        Ok(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}

/// The Python exception for a core error.
pub(crate) fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    raise(
        py,
        class_name(e.kind()),
        e.message(),
        e.code().as_str(),
        e.line(),
        e.column(),
        e.is_transient(),
    )
}

/// `result.or_raise(py)?`: a core result as a Python result.
pub(crate) trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_pyerr(py, &e))
    }
}

/// A Python exception raised by a host object, as a `HostError`: the message is
/// `"TypeName: str(exc)"`; an exception with a true `transient` attribute is transient.
pub(crate) fn host_error(py: Python<'_>, err: &PyErr) -> HostError {
    let value = err.value(py);
    let transient = value
        .getattr("transient")
        .and_then(|t| t.is_truthy())
        .unwrap_or(false);
    let name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let text = value.str().map(|s| s.to_string()).unwrap_or_default();
    let message = if text.is_empty() {
        name
    } else {
        format!("{name}: {text}")
    };
    if transient {
        HostError::transient(message)
    } else {
        HostError::permanent(message)
    }
}

/// Attaches the host's original exception as the `__cause__` of the error raised for it.
pub(crate) fn with_cause(py: Python<'_>, err: PyErr, cause: Option<PyErr>) -> PyErr {
    if let Some(cause) = cause {
        err.set_cause(py, Some(cause));
    }
    err
}
