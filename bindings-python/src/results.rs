//! `Results` of an execution and `ResultRow`, read from the core's results JSON form.

use crate::convert::{from_py, ser_to_py};
use crate::errors::OrRaise;
use crate::host::MailerArg;
use crate::plan::PyPlan;
use crate::sign::PyPlanKey;
use crate::view::{object_of, view, Object};
use lms_bulk_upload::host::HostMailer;
use lms_bulk_upload::{Results, Templates};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};

/// What execution did, row by row; exportable as CSV (formula-safe) and JSON.
#[pyclass(frozen, name = "Results", module = "lms_bulk_upload")]
pub(crate) struct PyResults {
    pub(crate) inner: Results,
    value: Object,
}

impl PyResults {
    /// The rows stay in `inner` only: `value` is the head (a JSON value of every row would
    /// take many times the results' size: 19 × for `from_json` before).
    pub(crate) fn new(inner: Results) -> PyResults {
        let value = object_of(lms_bulk_upload::host::view::results_head(&inner));
        PyResults { value, inner }
    }

    /// `to_dict()`: the whole results JSON form, rows included, built when asked.
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner)
    }
}

/// The outcome of one row, as in the results JSON.
#[pyclass(frozen, name = "ResultRow", module = "lms_bulk_upload")]
pub(crate) struct PyResultRow {
    value: Object,
}

view! { PyResults "Results" dict(PyResults::dict) {
    fingerprint: plain, summary: plain, cancelled: plain, confirmation_error: plain,
    undo_of: plain,
}
    /// One `ResultRow` per row, in file order.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = self.inner.rows.iter().map(|r| PyResultRow {
            value: object_of(lms_bulk_upload::host::view::result_row(r)),
        });
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
    /// Which shard these are the results of (`{"parent", "index", "count"}`), or None.
    #[getter]
    fn shard<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.shard)
    }
    /// Whether the uploader's confirmation is still to be sent (results of a shard, or
    /// merged results before `send_confirmation`).
    #[getter]
    fn confirmation_deferred(&self) -> bool {
        self.inner.confirmation_deferred
    }
    /// The results' compact JSON with a `signature`: HMAC-SHA-256 under the host's `key`
    /// (the core's `Results::to_signed_json`), for results kept where others can write.
    fn to_signed_json(&self, py: Python<'_>, key: &Bound<'_, PyPlanKey>) -> String {
        let (results, key) = (&self.inner, &key.get().inner);
        py.detach(|| results.to_signed_json(key))
    }
    /// Reads results written by `to_signed_json` with the same key (the core's
    /// `Results::from_signed_json`): every check of `from_json`, then the signature;
    /// `PlanError` with `results_unsigned` or `results_signature_invalid`. The results
    /// are `verified`.
    #[classmethod]
    fn from_signed_json(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        json: &str,
        key: &Bound<'_, PyPlanKey>,
    ) -> PyResult<PyResults> {
        let key = &key.get().inner;
        let results = py
            .detach(|| Results::from_signed_json(json, key))
            .or_raise(py)?;
        Ok(PyResults::new(results))
    }
    /// Whether the engine vouches for these results: made by `execute` in this process,
    /// read with `from_signed_json`, or merged from such results. `plan_undo` refuses
    /// results that are not (`results_unsigned`) unless the options say
    /// `results_from_trusted_storage`.
    #[getter]
    fn verified(&self) -> bool {
        self.inner.provenance.is_verified()
    }
    /// Reads results back from `to_json()` (the core's `Results::from_json`: a shard job's
    /// stored results); `PlanError` with `invalid_results` if they cannot be read. The
    /// results are not `verified`: prefer `from_signed_json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, json: &str) -> PyResult<PyResults> {
        let results = py.detach(|| Results::from_json(json)).or_raise(py)?;
        Ok(PyResults::new(results))
    }
    /// The shards' results merged into the parent plan's results (the core's
    /// `Results::merge`): every shard exactly once, in any order.
    #[classmethod]
    fn merge(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        parent: &Bound<'_, PyPlan>,
        results: Vec<PyRef<'_, PyResults>>,
    ) -> PyResult<PyResults> {
        let shards: Vec<Results> = results.iter().map(|r| r.inner.clone()).collect();
        let parent = &parent.get().inner;
        let merged = py.detach(|| Results::merge(parent, &shards)).or_raise(py)?;
        Ok(PyResults::new(merged))
    }
    /// Sends the uploader of `parent` the one confirmation with these (merged) results'
    /// counts, and returns the results with the confirmation no longer deferred.
    #[pyo3(signature = (parent, mailer, *, templates=None))]
    fn send_confirmation(
        &self,
        parent: &Bound<'_, PyPlan>,
        mailer: &Bound<'_, PyAny>,
        templates: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyResults> {
        let py = parent.py();
        let templates = match templates.filter(|t| !t.is_none()) {
            Some(t) => Templates::from_value(from_py(t)?).or_raise(py)?,
            None => Templates::default(),
        };
        let mut mailer = MailerArg::new(mailer, HostMailer::new)?;
        let (mailer, parent) = (mailer.get(), &parent.get().inner);
        let mut results = self.inner.clone();
        let sent = py.detach(|| results.send_confirmation(parent, mailer, &templates));
        sent.or_raise(py)?;
        Ok(PyResults::new(results))
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
