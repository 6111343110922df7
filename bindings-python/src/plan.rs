//! `plan()`, `Plan` (summary, rows, JSON, fingerprint) and `PlanRow`.

use crate::convert::{repr_str, ser_to_py};
use crate::errors::{to_pyerr, with_cause, OrRaise};
use crate::execute::{execute, ExecuteArgs, PyCancelToken};
use crate::issue::PyIssue;
use crate::results::PyResults;
use crate::settings::PySettings;
use crate::store::StoreArg;
use crate::upload::{resolve_index, slice_positions, PyUpload};
use lms_bulk_upload::{Plan, PlanOptions, PlanRow};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PySlice, PyString, PyType};
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

/// The plan for one row.
#[pyclass(frozen, name = "PlanRow", module = "lms_bulk_upload")]
pub(crate) struct PyPlanRow {
    row: PlanRow,
}

/// Builds the plan: reads the store (batched lookups), writes nothing.
#[pyfunction]
#[pyo3(signature = (upload, settings, store, *, lookup_batch=None))]
fn plan(
    py: Python<'_>,
    upload: &Bound<'_, PyUpload>,
    settings: &Bound<'_, PySettings>,
    store: &Bound<'_, PyAny>,
    lookup_batch: Option<usize>,
) -> PyResult<PyPlan> {
    let upload = &upload.get().inner;
    let settings = &settings.get().inner;
    let mut store_arg = StoreArg::new(store)?;
    let mut options = PlanOptions::default();
    if let Some(batch) = lookup_batch {
        options.lookup_batch = batch;
    }
    let store = store_arg.as_store();
    let result = py.detach(|| lms_bulk_upload::plan_with(upload, settings, store, &options));
    match result {
        Ok(plan) => Ok(PyPlan {
            inner: Arc::new(plan),
        }),
        Err(e) => Err(with_cause(py, to_pyerr(py, &e), store_arg.take_error())),
    }
}

#[pymethods]
impl PyPlan {
    /// `sha256:<hex>` of the plan's canonical content.
    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }
    /// The counts, as a dict (rows, rejected, create, update, unchanged, profile_updates,
    /// passwords, group_additions, group_removals, enrolments, emails, warnings).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, self.inner.summary())
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
    /// Reads a plan back; raises `PlanError` (`fingerprint_mismatch`,
    /// `unsupported_plan_version`, `invalid_plan`) if it cannot be trusted.
    #[classmethod]
    fn from_json(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        json: &Bound<'_, PyAny>,
    ) -> PyResult<PyPlan> {
        let text = if let Ok(bytes) = json.cast::<PyBytes>() {
            String::from_utf8_lossy(bytes.as_bytes()).into_owned()
        } else {
            json.cast::<PyString>()?.to_cow()?.into_owned()
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
    /// Executes the plan through the store and the mailer and returns the `Results`.
    ///
    /// A row whose store or mailer call raises is `failed` with the exception's message;
    /// the other rows go on. `progress(p)` is called after every row with a `Progress`;
    /// returning `False` cancels before the next row (an exception raised in it cancels too
    /// and is re-raised). `templates` replaces email templates by name (see the stubs).
    /// The GIL is released except while Python objects are called.
    #[pyo3(signature = (
        store, mailer, *, default_password=None, progress=None, cancel=None, journal=None,
        threads=0, hash_params=None, retries=None, retry_delay=None, batch_size=None,
        templates=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        store: &Bound<'py, PyAny>,
        mailer: &Bound<'py, PyAny>,
        default_password: Option<String>,
        progress: Option<Bound<'py, PyAny>>,
        cancel: Option<Bound<'py, PyCancelToken>>,
        journal: Option<Bound<'py, PyAny>>,
        threads: usize,
        hash_params: Option<Bound<'py, PyAny>>,
        retries: Option<u32>,
        retry_delay: Option<f64>,
        batch_size: Option<usize>,
        templates: Option<Bound<'py, PyAny>>,
    ) -> PyResult<PyResults> {
        let args = ExecuteArgs {
            default_password,
            progress,
            cancel,
            journal,
            threads,
            hash_params,
            retries,
            retry_delay,
            batch_size,
            templates,
        };
        execute(py, &self.inner, store, mailer, args)
    }
    fn __len__(&self) -> usize {
        self.inner.rows().len()
    }
    fn __repr__(&self) -> String {
        let s = self.inner.summary();
        format!(
            "Plan(fingerprint={}, rows={}, create={}, update={}, unchanged={}, rejected={})",
            repr_str(self.inner.fingerprint()),
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
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows = self.plan.rows();
        if let Ok(slice) = index.cast::<PySlice>() {
            let items = slice_positions(slice, rows.len())?
                .into_iter()
                .map(|i| PyPlanRow {
                    row: rows[i].clone(),
                });
            return Ok(PyList::new(py, items)?.into_any());
        }
        let i = resolve_index(index.extract()?, rows.len())?;
        Ok(Bound::new(
            py,
            PyPlanRow {
                row: rows[i].clone(),
            },
        )?
        .into_any())
    }
    fn __repr__(&self) -> String {
        format!("<PlanRows of {} rows>", self.plan.rows().len())
    }
}

#[pymethods]
impl PyPlanRow {
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
    /// The first name from the file.
    #[getter]
    fn first_name(&self) -> &str {
        &self.row.first_name
    }
    /// The last name from the file.
    #[getter]
    fn last_name(&self) -> &str {
        &self.row.last_name
    }
    /// `create`, `update`, `unchanged` or `rejected`.
    #[getter]
    fn action(&self) -> &'static str {
        self.row.action.as_str()
    }
    /// The existing user's id, for updates.
    #[getter]
    fn user_id(&self) -> Option<&str> {
        self.row.user_id.as_ref().map(|u| u.0.as_str())
    }
    /// The operations in order, as dicts with an `op` key (`create_user`, `update_profile`,
    /// `set_password`, `add_to_group`, `remove_from_group`, `enrol`, `send_email`).
    #[getter]
    fn operations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.row.operations)
    }
    /// What is already true, as dicts with a `noop` key.
    #[getter]
    fn noops<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.row.noops)
    }
    /// The row's issues.
    #[getter]
    fn issues<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyIssue::list(py, &self.row.issues)
    }
    /// The row in the plan's JSON form, as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.row)
    }
    fn __repr__(&self) -> String {
        format!(
            "PlanRow(line={}, email={}, action={}, operations={})",
            self.row.line,
            repr_str(&self.row.email),
            repr_str(self.action()),
            self.row.operations.len()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPlan>()?;
    m.add_class::<PyPlanRows>()?;
    m.add_class::<PyPlanRow>()?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    Ok(())
}
