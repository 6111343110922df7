//! The core's errors as the exceptions of `lms_bulk_upload._errors`, and exceptions raised by
//! a host object as the core's `HostError`.

use lms_bulk_upload::{Error, ErrorKind, HostError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The one table: which exception class each kind of core error raises.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::File => "FileError",
        ErrorKind::Settings => "SettingsError",
        ErrorKind::Plan => "PlanError",
        ErrorKind::Store => "StoreError",
        ErrorKind::Mailer => "MailerError",
        ErrorKind::Invitation => "InvitationError",
        _ => "BulkUploadError",
    }
}

/// The Python exception for a core error, with its code, place and transient flag. When a
/// host's exception caused it (the error's `source` chain), that exception is its
/// `__cause__`.
pub(crate) fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = ERRORS.get_or_try_init(py, || {
            PyModule::import(py, "lms_bulk_upload._errors").map(Bound::unbind)
        })?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("code", e.code().as_str())?;
        kwargs.set_item("line", e.line())?;
        kwargs.set_item("column", e.column())?;
        kwargs.set_item("transient", e.is_transient())?;
        kwargs.set_item("kind", e.kind().as_str())?;
        let class = module.bind(py).getattr(class_name(e.kind()))?;
        Ok(PyErr::from_value(
            class.call((e.message(),), Some(&kwargs))?,
        ))
    };
    let err = build().unwrap_or_else(|failed| failed);
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(host) = cause.downcast_ref::<PyErr>() {
            err.set_cause(py, Some(host.clone_ref(py)));
            break;
        }
        source = cause.source();
    }
    err
}

/// A `SettingsError` with this code, for a value the binding refuses before the core sees
/// it (nested too deep, a container that contains itself).
pub(crate) fn settings_error(py: Python<'_>, code: &str, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = ERRORS.get_or_try_init(py, || {
            PyModule::import(py, "lms_bulk_upload._errors").map(Bound::unbind)
        })?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("code", code)?;
        let class = module.bind(py).getattr("SettingsError")?;
        Ok(PyErr::from_value(class.call((message,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|failed| failed)
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

/// An exception raised by a host's method: its `str()` (the type's name when that is empty),
/// transient when `getattr(exc, "transient", False)` is truthy, the exception as the source.
pub(crate) fn host_error(py: Python<'_>, err: PyErr) -> HostError {
    let value = err.value(py);
    let transient = value
        .getattr("transient")
        .and_then(|t| t.is_truthy())
        .unwrap_or(false);
    let mut message = value.str().map(|s| s.to_string()).unwrap_or_default();
    if message.is_empty() {
        message = value
            .get_type()
            .name()
            .map_or_else(|_| "Exception".into(), |n| n.to_string());
    }
    let error = if transient {
        HostError::transient(message)
    } else {
        HostError::permanent(message)
    };
    error.with_source(err)
}
