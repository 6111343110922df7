//! `Plan.execute`: the core's execute options from keyword arguments, plus the binding's
//! callbacks (progress, cancellation) and journal.

use crate::convert::from_py;
use crate::errors::OrRaise;
use crate::host::{JournalArg, MailerArg, StoreArg};
use crate::results::PyResults;
use lms_bulk_upload::host::{ExecuteConfig, HostJournal, HostMailer, HostStore};
use lms_bulk_upload::{Journal, Plan, Progress};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Progress of an execution, given to the `progress` callback after every row.
#[pyclass(frozen, name = "Progress", module = "lms_bulk_upload")]
pub(crate) struct PyProgress {
    /// Rows handled so far.
    #[pyo3(get)]
    done: u64,
    /// Rows in the plan.
    #[pyo3(get)]
    total: u64,
    /// Rows failed so far.
    #[pyo3(get)]
    failed: u64,
}

#[pymethods]
impl PyProgress {
    fn __repr__(&self) -> String {
        let Self {
            done,
            total,
            failed,
        } = self;
        format!("Progress(done={done}, total={total}, failed={failed})")
    }
}

/// Stops an execution between rows when `cancel()` is called (from any thread).
#[pyclass(frozen, name = "CancelToken", module = "lms_bulk_upload")]
#[derive(Default)]
pub(crate) struct PyCancelToken {
    flag: Arc<AtomicBool>,
}

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> PyCancelToken {
        PyCancelToken::default()
    }
    /// Asks the execution to stop before its next row.
    fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }
    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    fn __repr__(&self) -> String {
        let cancelled = if self.cancelled() { "True" } else { "False" };
        format!("CancelToken(cancelled={cancelled})")
    }
}

/// The `progress` callback, the `cancel` token and the `journal` of `Plan.execute`.
pub(crate) type Callbacks<'py> = (
    Option<Bound<'py, PyAny>>,
    Option<Bound<'py, PyCancelToken>>,
    Option<Bound<'py, PyAny>>,
);

/// Runs the core's `execute` without the GIL; Python objects take it back per call.
pub(crate) fn execute(
    plan: &Plan,
    store: &Bound<'_, PyAny>,
    mailer: &Bound<'_, PyAny>,
    (progress, cancel, journal): Callbacks<'_>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyResults> {
    let py = store.py();
    let options = options.map(|o| from_py(o.as_any())).transpose()?;
    let config = ExecuteConfig::from_value(options.unwrap_or(Value::Null)).or_raise(py)?;
    let mut store = StoreArg::new(store, HostStore::new)?;
    let mut mailer = MailerArg::new(mailer, HostMailer::new)?;
    let mut journal = match journal.filter(|j| !j.is_none()) {
        Some(j) => Some(JournalArg::new(&j, HostJournal::new)?),
        None => None,
    };
    let flag = cancel
        .map(|c| Arc::clone(&c.get().flag))
        .unwrap_or_default();
    let callback = progress.filter(|p| !p.is_none()).map(Bound::unbind);
    let mut callback_error: Option<PyErr> = None;
    let (store, mailer) = (store.get(), mailer.get());
    let journal = journal.as_mut().map(JournalArg::get);
    let result = py.detach(|| {
        let cancel = Arc::clone(&flag);
        let error_slot = &mut callback_error;
        let callback = callback.as_ref();
        let on_progress = move |p: Progress| {
            // Without a callback, take the GIL every 256 rows only, to notice Ctrl-C.
            let idle = callback.is_none() && (p.done & 0xff) != 0 && p.done != p.total;
            if error_slot.is_some() || idle {
                return;
            }
            let outcome = Python::attach(|py| {
                py.check_signals()?;
                let Some(cb) = callback else { return Ok(false) };
                let (done, total, failed) = (p.done, p.total, p.failed);
                let ret = cb.bind(py).call1((PyProgress {
                    done,
                    total,
                    failed,
                },))?;
                Ok(ret.cast::<PyBool>().is_ok_and(|b| !b.is_true()))
            });
            match outcome {
                Ok(false) => {}
                Ok(true) => cancel.store(true, Ordering::SeqCst),
                Err(e) => {
                    *error_slot = Some(e);
                    cancel.store(true, Ordering::SeqCst);
                }
            }
        };
        let mut options = config.into_options();
        options.progress = Some(Box::new(on_progress));
        options.cancel = Some(Arc::clone(&flag));
        options.journal = journal.map(|j| j as &mut dyn Journal);
        lms_bulk_upload::execute(plan, store, mailer, options)
    });
    if let Some(err) = callback_error {
        return Err(err);
    }
    Ok(PyResults::new(result.or_raise(py)?))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProgress>()?;
    m.add_class::<PyCancelToken>()?;
    Ok(())
}
