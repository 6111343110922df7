//! `lms_bulk_upload.web.WebApi`: the administrator's screens (the `web` crate's `Api` over
//! its `ObjectHost`) for a Python web framework. The framework's adapter hands each request
//! to `handle` and each queued run to `run`; the host's hooks, store and mailer are Python
//! objects (`docs/web-host-protocol.md`). All behaviour is the web crate's; this converts.
//!
//! A run executing on the API's own thread (hooks without `enqueue_run`, or resumed by
//! `resume_unfinished`) holds the interpreter ([`hold_interpreter`]): the process does not
//! end, nor the interpreter finalize, under it.

use crate::convert::{from_py, to_py};
use crate::errors::host_error;
use lms_bulk_upload::host::Naming;
use lms_bulk_upload::{HostError, IssueCode, ParseOptions};
use lms_bulk_upload_web::{
    Api, ApiConfig, Body, HookError, ObjectHost, ObjectHostConfig, Request, RunOutcome,
    SharedObject,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use serde_json::Value;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// A Python object called from any thread: each call takes the GIL.
struct PyShared(Py<PyAny>);

impl SharedObject for PyShared {
    fn has_method(&self, method: &str) -> bool {
        Python::attach(|py| {
            self.0
                .bind(py)
                .getattr(method)
                .is_ok_and(|m| m.is_callable())
        })
    }

    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        Python::attach(|py| {
            let args: PyResult<Vec<_>> = args.iter().map(|a| to_py(py, a)).collect();
            let reply = args
                .and_then(|args| PyTuple::new(py, args))
                .and_then(|args| self.0.bind(py).call_method1(method, args))
                .map_err(|e| host_error(py, e))?;
            from_py(&reply).map_err(|e| {
                let message = format!("{method} returned a value that cannot be read: {e}");
                HostError::coded(IssueCode::InvalidHostReply, message).with_source(e)
            })
        })
    }
}

/// Holds the interpreter while a run executes on the API's own thread: a non-daemon
/// `threading.Thread` waiting on a `threading.Event` (the interpreter's shutdown joins such
/// threads before it finalizes: a script's or a test runner's main thread may end, the
/// process waits for the run), the event set as this is dropped.
struct InterpreterHold(Option<Py<PyAny>>);

impl Drop for InterpreterHold {
    /// On the run's thread as it ends (no lock of the host's held, the GIL not held: the
    /// waiting thread holds it only to start and to return, and the main thread waits for
    /// it in `threading`'s shutdown without the GIL). `try_attach`: nothing is done on an
    /// interpreter already finalizing (a hold that could not be taken, an `os._exit`).
    fn drop(&mut self) {
        if let Some(event) = self.0.take() {
            Python::try_attach(|py| {
                if let Err(e) = event.bind(py).call_method0("set") {
                    e.write_unraisable(py, None);
                }
                drop(event);
            });
        }
    }
}

/// An [`InterpreterHold`] for a run starting on the API's own thread (the web crate's
/// `ObjectHost::hold_runs_with`). Called on the thread that queues the run: a request's in
/// `handle` or `resume_unfinished`'s caller, both of which have let the GIL go while the
/// API works (`detach`), so taking it here waits at most for another Python thread's turn;
/// no lock of the host's is held meanwhile. Nothing is held when the thread cannot be
/// started (an interpreter shutting down refuses new threads): the error is reported as
/// unraisable and the run executes all the same.
fn hold_interpreter() -> InterpreterHold {
    let event = Python::try_attach(|py| {
        let started = (|| -> PyResult<Py<PyAny>> {
            let threading = py.import("threading")?;
            let event = threading.getattr("Event")?.call0()?;
            let options = PyDict::new(py);
            options.set_item("target", event.getattr("wait")?)?;
            options.set_item("name", "lms-bulk-upload-run")?;
            options.set_item("daemon", false)?;
            threading
                .getattr("Thread")?
                .call((), Some(&options))?
                .call_method0("start")?;
            Ok(event.unbind())
        })();
        started.map_err(|e| e.write_unraisable(py, None)).ok()
    });
    InterpreterHold(event.flatten())
}

fn hook_error(e: HookError) -> PyErr {
    match e {
        HookError::Refused { code, message } => PyValueError::new_err(format!("{code}: {message}")),
        HookError::Engine(e) => PyRuntimeError::new_err(e.to_string()),
        HookError::Failed(message) => PyRuntimeError::new_err(message),
    }
}

fn value_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    match obj {
        Some(o) if !o.is_none() => from_py(o),
        _ => Ok(Value::Null),
    }
}

/// The screens' API over a host's hooks, store and mailer.
#[pyclass(name = "WebApi", module = "lms_bulk_upload.web", frozen)]
struct PyWebApi {
    api: Arc<Api>,
    host: Arc<ObjectHost>,
}

#[pymethods]
impl PyWebApi {
    #[new]
    #[pyo3(signature = (hooks, store, mailer, *, site_url, secret, parse_options=None, execute=None, secure_cookies=false, session_secs=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        hooks: Py<PyAny>,
        store: Py<PyAny>,
        mailer: Py<PyAny>,
        site_url: String,
        secret: &Bound<'_, PyAny>,
        parse_options: Option<&Bound<'_, PyAny>>,
        execute: Option<&Bound<'_, PyAny>>,
        secure_cookies: bool,
        session_secs: Option<u64>,
    ) -> PyResult<Self> {
        let secret: Vec<u8> = match secret.cast::<PyBytes>() {
            Ok(b) => b.as_bytes().to_vec(),
            Err(_) => secret.extract::<String>()?.into_bytes(),
        };
        let options = value_of(parse_options)?;
        let parse_options = if options.is_null() {
            ParseOptions::default()
        } else {
            ParseOptions::from_value(options).map_err(|e| PyValueError::new_err(e.to_string()))?
        };
        let config = ObjectHostConfig {
            site_url,
            secret,
            parse_options,
            execute: value_of(execute)?,
            naming: Naming::Snake,
        };
        let host = ObjectHost::new(
            config,
            Arc::new(PyShared(hooks)),
            Arc::new(PyShared(store)),
            Arc::new(PyShared(mailer)),
        )
        .map_err(PyValueError::new_err)?;
        host.hold_runs_with(Box::new(|| Box::new(hold_interpreter())));
        let mut api_config = ApiConfig {
            secure_cookies,
            ..ApiConfig::default()
        };
        if let Some(secs) = session_secs {
            api_config.session_secs = secs;
        }
        Ok(PyWebApi {
            api: Arc::new(Api::new(host.clone(), api_config)),
            host,
        })
    }

    /// Answers a request below the mount point: `(status, [(name, value)...], body)` where
    /// body is `bytes`, or an iterator of `bytes` chunks for a stream (the run's events).
    #[pyo3(signature = (method, path, query, headers, body, peer=None))]
    #[allow(clippy::too_many_arguments)]
    fn handle<'py>(
        &self,
        py: Python<'py>,
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        peer: Option<String>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let request = Request {
            method,
            path,
            query,
            headers,
            body,
            peer: peer.and_then(|p| p.parse::<IpAddr>().ok()),
        };
        let api = self.api.clone();
        let response = py.detach(move || api.handle(request));
        let body: Bound<'py, PyAny> = match response.body {
            Body::Full(bytes) => PyBytes::new(py, &bytes).into_any(),
            Body::Stream(chunks) => Bound::new(
                py,
                PyChunks {
                    chunks: Mutex::new(Some(chunks)),
                },
            )?
            .into_any(),
        };
        PyTuple::new(
            py,
            [
                response.status.into_pyobject(py)?.into_any(),
                response.headers.into_pyobject(py)?.into_any(),
                body,
            ],
        )
    }

    /// The most bytes of body a request to `path` may have.
    fn body_limit(&self, method: &str, path: &str) -> usize {
        self.api.body_limit(method, path)
    }

    /// The answer to a body over the limit, as `handle` gives it.
    fn too_large<'py>(&self, py: Python<'py>, limit: usize) -> PyResult<Bound<'py, PyTuple>> {
        let response = self.api.too_large(limit);
        let status = response.status;
        let headers = response.headers.clone();
        let body = response.into_bytes();
        PyTuple::new(
            py,
            [
                status.into_pyobject(py)?.into_any(),
                headers.into_pyobject(py)?.into_any(),
                PyBytes::new(py, &body).into_any(),
            ],
        )
    }

    /// Executes a queued run (what the worker of `hooks.enqueue_run` calls): `"ended"`,
    /// `"already_ended"` or `"busy"` (another worker has it).
    fn run(&self, py: Python<'_>, run_id: String) -> PyResult<&'static str> {
        let host = self.host.clone();
        let outcome = py
            .detach(move || host.execute_run(&run_id))
            .map_err(hook_error)?;
        Ok(match outcome {
            RunOutcome::Ended => "ended",
            RunOutcome::AlreadyEnded => "already_ended",
            RunOutcome::Busy => "busy",
        })
    }

    /// Queues again every run left unfinished (a stop of the host); their ids.
    fn resume_unfinished(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let host = self.host.clone();
        py.detach(move || host.resume_unfinished())
            .map_err(hook_error)
    }
}

/// A streamed body: each chunk waited for without the GIL.
#[pyclass(name = "ResponseChunks", module = "lms_bulk_upload.web", frozen)]
struct PyChunks {
    chunks: Mutex<Option<Box<dyn Iterator<Item = Vec<u8>> + Send>>>,
}

#[pymethods]
impl PyChunks {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        let next = py.detach(|| {
            let mut guard = self
                .chunks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let chunk = guard.as_mut().and_then(Iterator::next);
            if chunk.is_none() {
                *guard = None;
            }
            chunk
        });
        next.map(|c| PyBytes::new(py, &c))
    }

    /// Ends the stream (the client went away).
    fn close(&self) {
        *self
            .chunks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWebApi>()?;
    m.add_class::<PyChunks>()?;
    Ok(())
}
