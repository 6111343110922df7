//! `Plan.execute`: options from keyword arguments, progress and cancellation.

use crate::convert::from_py;
use crate::errors::{raise, to_pyerr, with_cause, OrRaise};
use crate::journal::JournalArg;
use crate::mailer::MailerArg;
use crate::results::PyResults;
use crate::store::StoreArg;
use lms_bulk_upload::{ExecuteOptions, HashParams, Password, Plan, Progress, Template, Templates};
use pyo3::prelude::*;
use pyo3::types::PyBool;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
        format!(
            "Progress(done={}, total={}, failed={})",
            self.done, self.total, self.failed
        )
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
        format!(
            "CancelToken(cancelled={})",
            crate::settings::py_bool(self.cancelled())
        )
    }
}

fn settings_error(py: Python<'_>, message: String) -> PyErr {
    raise(
        py,
        "SettingsError",
        &message,
        "invalid_setting",
        None,
        None,
        false,
    )
}

/// `hash_params`: a dict with any of memory_kib, iterations, parallelism (the rest default),
/// and `insecure_for_tests: True` for weak ones; the core refuses weak parameters without it
/// (`weak_hash_params`).
fn hash_params(py: Python<'_>, given: Option<&Bound<'_, PyAny>>) -> PyResult<HashParams> {
    let Some(given) = given.filter(|g| !g.is_none()) else {
        return Ok(HashParams::default());
    };
    let value = from_py(given)?;
    if !value.is_object() {
        return Err(settings_error(py, "hash_params must be a dict".into()));
    }
    HashParams::from_value(value).or_raise(py)
}

/// `templates`: a dict naming any of welcome_with_password, welcome,
/// password_changed_with_password, password_changed, upload_complete, each a dict with
/// subject, text and html; the others keep the defaults. The core checks the placeholders.
fn templates(py: Python<'_>, given: Option<&Bound<'_, PyAny>>) -> PyResult<Templates> {
    let mut templates = Templates::default();
    let Some(given) = given.filter(|g| !g.is_none()) else {
        return Ok(templates);
    };
    let Value::Object(map) = from_py(given)? else {
        return Err(settings_error(py, "templates must be a dict".into()));
    };
    for (name, value) in map {
        let slot = match name.as_str() {
            "welcome_with_password" => &mut templates.welcome_with_password,
            "welcome" => &mut templates.welcome,
            "password_changed_with_password" => &mut templates.password_changed_with_password,
            "password_changed" => &mut templates.password_changed,
            "upload_complete" => &mut templates.upload_complete,
            other => {
                return Err(settings_error(
                    py,
                    format!("templates: unknown template {other:?}"),
                ))
            }
        };
        let part = |key: &str| -> PyResult<String> {
            value
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| settings_error(py, format!("templates.{name} needs a string {key}")))
        };
        *slot = Template::new(&part("subject")?, &part("text")?, &part("html")?).or_raise(py)?;
    }
    Ok(templates)
}

/// The keyword arguments of `Plan.execute`.
pub(crate) struct ExecuteArgs<'py> {
    pub(crate) default_password: Option<String>,
    pub(crate) progress: Option<Bound<'py, PyAny>>,
    pub(crate) cancel: Option<Bound<'py, PyCancelToken>>,
    pub(crate) journal: Option<Bound<'py, PyAny>>,
    pub(crate) threads: usize,
    pub(crate) hash_params: Option<Bound<'py, PyAny>>,
    pub(crate) retries: Option<u32>,
    pub(crate) retry_delay: Option<f64>,
    pub(crate) batch_size: Option<usize>,
    pub(crate) templates: Option<Bound<'py, PyAny>>,
}

/// Runs the core's `execute` without the GIL; Python objects take it back per call.
pub(crate) fn execute(
    py: Python<'_>,
    plan: &Plan,
    store: &Bound<'_, PyAny>,
    mailer: &Bound<'_, PyAny>,
    args: ExecuteArgs<'_>,
) -> PyResult<PyResults> {
    let hash_params = hash_params(py, args.hash_params.as_ref())?;
    let templates = templates(py, args.templates.as_ref())?;
    let retry_delay = match args.retry_delay {
        None => None,
        Some(s) => Some(
            Duration::try_from_secs_f64(s)
                .map_err(|e| settings_error(py, format!("retry_delay must be seconds ≥ 0: {e}")))?,
        ),
    };
    let mut store_arg = StoreArg::new(store)?;
    let mut mailer_arg = MailerArg::new(mailer)?;
    let mut journal_arg = match &args.journal {
        Some(j) if !j.is_none() => Some(JournalArg::new(j)?),
        _ => None,
    };
    let flag = args
        .cancel
        .as_ref()
        .map(|c| Arc::clone(&c.get().flag))
        .unwrap_or_default();
    let callback: Option<Py<PyAny>> = args.progress.filter(|p| !p.is_none()).map(Bound::unbind);
    let mut callback_error: Option<PyErr> = None;
    let default_password = args.default_password.map(Password::new);
    let threads = args.threads;
    let (retries, batch_size) = (args.retries, args.batch_size);

    let store = store_arg.as_store();
    let mailer = mailer_arg.as_mailer();
    let journal = journal_arg.as_mut().map(JournalArg::as_journal);
    let result = py.detach(|| {
        let defaults = ExecuteOptions::default();
        let cancel = Arc::clone(&flag);
        let error_slot = &mut callback_error;
        let callback = callback.as_ref();
        let on_progress = move |p: Progress| {
            if error_slot.is_some() {
                return;
            }
            // Without a callback, take the GIL every 256 rows only, to notice Ctrl-C.
            if callback.is_none() && (p.done & 0xff) != 0 && p.done != p.total {
                return;
            }
            Python::attach(|py| {
                let outcome = py.check_signals().and_then(|()| match callback {
                    None => Ok(false),
                    Some(cb) => {
                        let progress = PyProgress {
                            done: p.done,
                            total: p.total,
                            failed: p.failed,
                        };
                        let ret = cb.bind(py).call1((progress,))?;
                        Ok(ret.cast::<PyBool>().is_ok_and(|b| !b.is_true()))
                    }
                });
                match outcome {
                    Ok(stop) => {
                        if stop {
                            cancel.store(true, Ordering::SeqCst);
                        }
                    }
                    Err(e) => {
                        *error_slot = Some(e);
                        cancel.store(true, Ordering::SeqCst);
                    }
                }
            });
        };
        let options = ExecuteOptions {
            default_password,
            hash_params,
            threads,
            batch_size: batch_size.unwrap_or(defaults.batch_size),
            retries: retries.unwrap_or(defaults.retries),
            retry_delay: retry_delay.unwrap_or(defaults.retry_delay),
            progress: Some(Box::new(on_progress)),
            cancel: Some(Arc::clone(&flag)),
            journal: journal.map(|j| j as &mut dyn lms_bulk_upload::Journal),
            templates,
            ..defaults
        };
        lms_bulk_upload::execute(plan, store, mailer, options)
    });
    if let Some(err) = callback_error {
        return Err(err);
    }
    match result {
        Ok(results) => Ok(PyResults { inner: results }),
        Err(e) => {
            let cause = store_arg
                .take_error()
                .or_else(|| mailer_arg.take_error())
                .or_else(|| journal_arg.as_mut().and_then(JournalArg::take_error));
            Err(with_cause(py, to_pyerr(py, &e), cause))
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProgress>()?;
    m.add_class::<PyCancelToken>()?;
    Ok(())
}
