//! `lms_bulk_upload.web.WebApi`: the administrator's screens (the `web` crate's `Api` over
//! its `ObjectHost`) for a Python web framework. The framework's adapter hands each request
//! to `handle` and each queued run to `run`; the host's hooks, store and mailer are Python
//! objects (`docs/web-host-protocol.md`). All behaviour is the web crate's; this converts.

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
use pyo3::types::{PyBytes, PyTuple};
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
