//! Read-only classes over a core value's serde JSON form (issues, rows, plan rows, result
//! rows, settings): every attribute is read from that form, so their shapes follow the core.

use crate::convert::{repr, to_py};
use lms_bulk_upload::Issue;
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::{Map, Value};

/// A core value's serde JSON form, as an object.
pub(crate) type Object = Map<String, Value>;

/// `value`'s serde JSON object (empty for a value that is not one).
pub(crate) fn object<T: serde::Serialize>(value: &T) -> Object {
    match crate::convert::to_value(value) {
        Value::Object(map) => map,
        _ => Object::new(),
    }
}

/// One of the core's live-object forms (`lms_bulk_upload::host::view`) as an object.
pub(crate) fn object_of(value: Value) -> Object {
    match value {
        Value::Object(map) => map,
        _ => Object::new(),
    }
}

/// A field as it is (absent: `None`).
pub(crate) fn plain<'py>(py: Python<'py>, value: Option<&Value>) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, value.unwrap_or(&Value::Null))
}

/// A list field (absent or null: empty).
pub(crate) fn list<'py>(py: Python<'py>, value: Option<&Value>) -> PyResult<Bound<'py, PyAny>> {
    match value {
        None | Some(Value::Null) => Ok(PyList::empty(py).into_any()),
        Some(v) => to_py(py, v),
    }
}

/// A list of issues, as `Issue` objects.
pub(crate) fn issues<'py>(py: Python<'py>, value: Option<&Value>) -> PyResult<Bound<'py, PyAny>> {
    let items = value
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let issues = items
        .iter()
        .filter_map(|i| serde_json::from_value(i.clone()).ok());
    Ok(PyList::new(py, issues.map(PyIssue::new).collect::<Vec<_>>())?.into_any())
}

/// `Name(field=value, ...)` with the fields that are not lists or objects.
pub(crate) fn repr_of(py: Python<'_>, name: &str, value: &Object, fields: &[&str]) -> String {
    let shown = fields.iter().filter_map(|f| match value.get(*f) {
        Some(Value::Array(_) | Value::Object(_)) => None,
        v => Some(format!("{f}={}", repr(py, v.unwrap_or(&Value::Null)))),
    });
    format!("{name}({})", shown.collect::<Vec<_>>().join(", "))
}

/// The `#[pymethods]` of a view class `$cls` (a struct with a `value: Object` field): one
/// getter per field, read with `plain`, `list` or `issues`; `to_dict()`; `__repr__`; a
/// constructor taking keyword arguments as a dict, when `new(path)` is given; `to_dict` made
/// by `dict(path)` when given (a class whose `value` holds only its head); and the class's
/// own methods.
macro_rules! view {
    ($cls:ident $name:literal $(new($new:path))? $(dict($dict:path))?
     { $($field:ident: $read:ident),* $(,)? }
     $($own:tt)*) => {
        #[pymethods]
        impl $cls {
            $(
                #[new]
                #[pyo3(signature = (**kwargs))]
                fn new(
                    py: Python<'_>,
                    kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
                ) -> PyResult<Self> {
                    $new(py, kwargs)
                }
            )?
            $(
                #[getter]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    $crate::view::$read(py, self.value.get(stringify!($field)))
                }
            )*
            /// The value as a dict, shaped like the core's JSON form.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                $( return $dict(self, py); )?
                #[allow(unreachable_code)]
                $crate::convert::to_py(py, &serde_json::Value::Object(self.value.clone()))
            }
            fn __repr__(&self, py: Python<'_>) -> String {
                $crate::view::repr_of(py, $name, &self.value, &[$(stringify!($field)),*])
            }
            $($own)*
        }
    };
}
pub(crate) use view;

/// One problem: a stable code, a severity, a place and a message.
#[pyclass(frozen, eq, name = "Issue", module = "lms_bulk_upload")]
#[derive(PartialEq)]
pub(crate) struct PyIssue {
    inner: Issue,
    value: Object,
}

impl PyIssue {
    pub(crate) fn new(inner: Issue) -> PyIssue {
        PyIssue {
            value: object(&inner),
            inner,
        }
    }

    pub(crate) fn list<'py>(py: Python<'py>, issues: &[Issue]) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, issues.iter().cloned().map(PyIssue::new))
    }
}

view! { PyIssue "Issue" {
    code: plain, severity: plain, line: plain, column: plain, message: plain,
}
    /// Whether it is an error (as opposed to a warning).
    #[getter]
    fn is_error(&self) -> bool {
        self.inner.is_error()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        Value::Object(self.value.clone()).to_string().hash(&mut h);
        h.finish()
    }
}

/// An issue or error code with its severity and meaning (`issue_codes()`).
#[pyclass(frozen, eq, name = "CodeInfo", module = "lms_bulk_upload")]
#[derive(PartialEq)]
pub(crate) struct PyCodeInfo {
    value: Object,
}

view! { PyCodeInfo "CodeInfo" {
    code: plain, severity: plain, meaning: plain,
}}

/// Every issue and error code, as `CodeInfo` objects (code, severity, meaning).
#[pyfunction]
fn issue_codes() -> Vec<PyCodeInfo> {
    lms_bulk_upload::issue_codes()
        .iter()
        .map(|info| PyCodeInfo {
            value: object(info),
        })
        .collect()
}

/// Whether `password` matches a stored argon2id PHC hash (`$argon2id$v=19$...`): a host's
/// login check, or a test of what an upload stored in the host's own database.
#[pyfunction]
fn verify_password(py: Python<'_>, phc: &str, password: &str) -> bool {
    let hash = lms_bulk_upload::PasswordHash::from_phc(phc.to_owned());
    py.detach(|| hash.verify(password))
}

/// The identity of an address, as the engine compares them: lowercase, the domain mapped to
/// ASCII by IDNA (`ana@Bücher.de` → `ana@xn--bcher-kva.de`). A store that looks users up
/// itself keys them by it.
#[pyfunction]
fn email_key(email: &str) -> String {
    lms_bulk_upload::email_key(email)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyIssue>()?;
    m.add_class::<PyCodeInfo>()?;
    m.add_function(wrap_pyfunction!(verify_password, m)?)?;
    m.add_function(wrap_pyfunction!(issue_codes, m)?)?;
    m.add_function(wrap_pyfunction!(email_key, m)?)?;
    Ok(())
}
