//! Signed plans: `PlanKey`, `Plan.to_signed_json`, `Plan.from_signed_json` (the core's
//! HMAC-SHA-256 signature; the methods of `Plan` are declared in `plan.rs` and land here).

use crate::errors::OrRaise;
use crate::plan::PyPlan;
use lms_bulk_upload::{OsRandom, Plan, PlanKey};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyType};
use std::sync::Arc;

/// A host's key for signing plans (HMAC-SHA-256, at least 32 bytes). Its `repr` and `str`
/// never show it, and it cannot be pickled; `to_hex` is the one way out, for the host to
/// store it where only the host can read it.
#[pyclass(frozen, name = "PlanKey", module = "lms_bulk_upload")]
pub(crate) struct PyPlanKey {
    pub(crate) inner: PlanKey,
}

#[pymethods]
impl PyPlanKey {
    /// A fresh 32-byte key from the OS CSPRNG.
    #[classmethod]
    fn generate(_cls: &Bound<'_, PyType>) -> PyPlanKey {
        PyPlanKey {
            inner: PlanKey::generate(&OsRandom),
        }
    }
    /// A key from its hex form (as `to_hex` wrote it); `SettingsError` (`invalid_setting`)
    /// if it is not hex or shorter than 32 bytes. The error never repeats the text.
    #[classmethod]
    fn from_hex(_cls: &Bound<'_, PyType>, py: Python<'_>, hex: &str) -> PyResult<PyPlanKey> {
        let inner = PlanKey::from_hex(hex).or_raise(py)?;
        Ok(PyPlanKey { inner })
    }
    /// A key from raw bytes; `SettingsError` (`invalid_setting`) if fewer than 32.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, key: &[u8]) -> PyResult<PyPlanKey> {
        let inner = PlanKey::from_bytes(key).or_raise(py)?;
        Ok(PyPlanKey { inner })
    }
    /// The key as lowercase hex, for the host to store.
    fn to_hex(&self) -> String {
        self.inner.to_hex().as_str().to_owned()
    }
    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
    /// Pickling would write the key wherever the pickle goes: refused.
    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "a PlanKey cannot be pickled: store key.to_hex() where only the host can read it",
        ))
    }
}

/// `Plan.to_signed_json(key)`: the plan's JSON with its `signature`.
pub(crate) fn to_signed_json(py: Python<'_>, plan: &Plan, key: &PyPlanKey) -> String {
    let key = &key.inner;
    py.detach(|| plan.to_signed_json(key))
}

/// `Plan.from_signed_json(json, key)`: every check of `from_json`, then the signature.
pub(crate) fn from_signed_json(
    py: Python<'_>,
    json: &Bound<'_, PyAny>,
    key: &PyPlanKey,
) -> PyResult<PyPlan> {
    let text = match json.cast::<PyBytes>() {
        Ok(bytes) => String::from_utf8_lossy(bytes.as_bytes()).into_owned(),
        Err(_) => json.cast::<PyString>()?.to_cow()?.into_owned(),
    };
    let key = &key.inner;
    let plan = py
        .detach(|| Plan::from_signed_json(&text, key))
        .or_raise(py)?;
    Ok(PyPlan {
        inner: Arc::new(plan),
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPlanKey>()
}
