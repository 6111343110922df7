//! `plan()`, `Plan` (summary, rows, JSON, fingerprint) and `PlanRow`.

use crate::convert::{from_py, ser_to_py};
use crate::errors::OrRaise;
use crate::execute::{execute, PyCancelToken};
use crate::host::StoreArg;
use crate::results::PyResults;
use crate::settings::PySettings;
use crate::sign::PyPlanKey;
use crate::upload::{sequence_item, PyUpload};
use crate::view::{object_of, view, Object, PyIssue};
use lms_bulk_upload::host::HostStore;
use lms_bulk_upload::{HashParams, Password, Plan, PlanOptions, ShardOptions};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyType};
use std::sync::Arc;

/// What will happen to every row: deterministic, serialisable, fingerprinted.
#[pyclass(frozen, name = "Plan", module = "lms_bulk_upload")]
pub(crate) struct PyPlan {
    pub(crate) inner: Arc<Plan>,
}

/// The rows of a plan, as a read-only sequence (converted on access).
#[pyclass(frozen, sequence, name = "PlanRows", module = "lms_bulk_upload")]
pub(crate) struct PyPlanRows {
    plan: Arc<Plan>,
}

/// The plan for one row, as in the plan's JSON.
#[pyclass(frozen, name = "PlanRow", module = "lms_bulk_upload")]
pub(crate) struct PyPlanRow {
    value: Object,
}

/// Builds the plan: reads the store (batched lookups), writes nothing. `settings` is a
/// `Settings` or a mapping of the same keyword arguments (decoded by the core).
#[pyfunction]
#[pyo3(signature = (upload, settings, store, *, lookup_batch=None))]
fn plan(
    py: Python<'_>,
    upload: &Bound<'_, PyUpload>,
    settings: &Bound<'_, PyAny>,
    store: &Bound<'_, PyAny>,
    lookup_batch: Option<usize>,
) -> PyResult<PyPlan> {
    let given;
    let settings = match settings.cast::<PySettings>() {
        Ok(s) => &s.get().inner,
        Err(_) => {
            given = lms_bulk_upload::Settings::from_value(from_py(settings)?).or_raise(py)?;
            &given
        }
    };
    let upload = &upload.get().inner;
    let mut store = StoreArg::new(store, HostStore::new)?;
    let mut options = PlanOptions::default();
    options.lookup_batch = lookup_batch.unwrap_or(options.lookup_batch);
    let store = store.get();
    let plan = py.detach(|| lms_bulk_upload::plan_with(upload, settings, store, &options));
    Ok(PyPlan {
        inner: Arc::new(plan.or_raise(py)?),
    })
}

#[pymethods]
impl PyPlan {
    /// `sha256:<hex>` of the plan's canonical content.
    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }
    /// The counts, as a dict (rows, rejected, create, update, unchanged, ...).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::convert::to_py(
            py,
            &lms_bulk_upload::host::view::plan_summary(self.inner.summary()),
        )
    }
    /// The fingerprint of the upload this plan undoes (a plan from `plan_undo`), else None.
    #[getter]
    fn undo_of(&self) -> Option<&str> {
        self.inner.undo_of()
    }
    /// One `PlanRow` per data row, in file order (a lazy sequence).
    #[getter]
    fn rows(&self) -> PyPlanRows {
        PyPlanRows {
            plan: Arc::clone(&self.inner),
        }
    }
    /// The settings recorded in the plan (no password; groups with their ids), as a dict.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, self.inner.settings())
    }
    /// File-level issues (warnings such as unknown columns).
    #[getter]
    fn file_issues<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyIssue::list(py, self.inner.file_issues())
    }
    /// The plan as JSON: the same inputs give the same bytes; never a password.
    #[pyo3(signature = (*, pretty=false))]
    fn to_json(&self, py: Python<'_>, pretty: bool) -> String {
        let plan = &self.inner;
        py.detach(|| {
            if pretty {
                plan.to_json_pretty()
            } else {
                plan.to_json()
            }
        })
    }
    /// The plan as compact JSON with a `signature`: HMAC-SHA-256 under `key`.
    fn to_signed_json(&self, py: Python<'_>, key: &Bound<'_, PyPlanKey>) -> String {
        crate::sign::to_signed_json(py, &self.inner, key.get())
    }
    /// Reads a plan signed with `key`: every check of `from_json`, then the signature
    /// (`PlanError`: `plan_unsigned`, `plan_signature_invalid`).
    #[classmethod]
    fn from_signed_json(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        json: &Bound<'_, PyAny>,
        key: &Bound<'_, PyPlanKey>,
    ) -> PyResult<PyPlan> {
        crate::sign::from_signed_json(py, json, key.get())
    }
    /// Reads a plan back; raises `PlanError` if it cannot be trusted.
    #[classmethod]
    fn from_json(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        json: &Bound<'_, PyAny>,
    ) -> PyResult<PyPlan> {
        let text = match json.cast::<PyBytes>() {
            Ok(bytes) => String::from_utf8_lossy(bytes.as_bytes()).into_owned(),
            Err(_) => json.cast::<PyString>()?.to_cow()?.into_owned(),
        };
        let plan = py.detach(|| Plan::from_json(&text)).or_raise(py)?;
        Ok(PyPlan {
            inner: Arc::new(plan),
        })
    }
    /// The same plan, holding the default password again (plans read from JSON never
    /// contain it). Alternatively pass `default_password=` to `execute`.
    fn with_default_password(&self, password: &str) -> PyPlan {
        PyPlan {
            inner: Arc::new((*self.inner).clone().with_default_password(password)),
        }
    }
    /// Executes the plan through the store and the mailer and returns the `Results`; the
    /// keyword arguments other than the callbacks and the journal are the core's execute
    /// options. The GIL is released except while Python objects are called.
    #[pyo3(signature = (store, mailer, *, progress=None, cancel=None, journal=None, **options))]
    fn execute<'py>(
        &self,
        store: &Bound<'py, PyAny>,
        mailer: &Bound<'py, PyAny>,
        progress: Option<Bound<'py, PyAny>>,
        cancel: Option<Bound<'py, PyCancelToken>>,
        journal: Option<Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<PyResults> {
        let callbacks = (progress, cancel, journal);
        execute(&self.inner, store, mailer, callbacks, options)
    }
    /// Splits the plan into shards of `rows_per_shard` rows (the core's `shards_with`). For a
    /// plan that sets the default password, `default_password` is hashed once here (at
    /// `hash_params`, the execute option's dict) and the shards carry only its hash.
    #[pyo3(signature = (rows_per_shard, *, default_password=None, hash_params=None))]
    fn shards(
        &self,
        py: Python<'_>,
        rows_per_shard: usize,
        default_password: Option<String>,
        hash_params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<PyPlan>> {
        let params = match hash_params.filter(|h| !h.is_none()) {
            Some(h) => HashParams::from_value(from_py(h)?).or_raise(py)?,
            None => HashParams::default(),
        };
        let plan = &self.inner;
        let shards = py.detach(|| {
            let mut options = ShardOptions::new(rows_per_shard);
            if let Some(password) = default_password {
                let prepared = Plan::prepare_default_password(&Password::new(password), &params)?;
                options = options.default_password(prepared);
            }
            plan.shards_with(&options)
        });
        Ok(shards
            .or_raise(py)?
            .into_iter()
            .map(|inner| PyPlan {
                inner: Arc::new(inner),
            })
            .collect())
    }
    /// Which shard this plan is (`{"parent", "index", "count"}`), or None for a whole plan.
    #[getter]
    fn shard<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.shard())
    }
    fn __len__(&self) -> usize {
        self.inner.rows().len()
    }
    fn __repr__(&self) -> String {
        let s = self.inner.summary();
        format!(
            "Plan(fingerprint={:?}, rows={}, create={}, update={}, unchanged={}, rejected={})",
            self.inner.fingerprint(),
            s.rows,
            s.create,
            s.update,
            s.unchanged,
            s.rejected
        )
    }
}

#[pymethods]
impl PyPlanRows {
    fn __len__(&self) -> usize {
        self.plan.rows().len()
    }
    fn __getitem__<'py>(&self, index: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let rows = self.plan.rows();
        sequence_item(index, rows.len(), |i| PyPlanRow {
            value: object_of(
                rows.get(i)
                    .map(|row| lms_bulk_upload::host::view::plan_row(&row))
                    .unwrap_or_default(),
            ),
        })
    }
    fn __repr__(&self) -> String {
        format!("<PlanRows of {} rows>", self.plan.rows().len())
    }
}

view! { PyPlanRow "PlanRow" {
    line: plain, email: plain, first_name: plain, last_name: plain, action: plain,
    user_id: plain, operations: list, noops: list, issues: issues,
}}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPlan>()?;
    m.add_class::<PyPlanRows>()?;
    m.add_class::<PyPlanRow>()?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    Ok(())
}
