//! A Python object as the core's `HostObject`, and the `store`, `mailer` and `journal`
//! arguments: a native double (`MemoryStore`, `RecordingMailer`, `MemoryJournal`, used
//! directly) or a host's own object, reached through the core's host protocol.

use crate::convert::{from_py, to_py};
use crate::errors::{host_error, OrRaise};
use crate::memory::{PyMemoryJournal, PyMemoryStore, PyRecordingMailer};
use lms_bulk_upload::host::{HostJournal, HostMailer, HostObject, HostStore, Naming};
use lms_bulk_upload::{Error, HostError, IssueCode, Journal, Mailer, Store};
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::False;
use pyo3::types::PyTuple;
use pyo3::PyClass;
use serde_json::Value;

/// A Python object whose methods the core calls by name; each call takes the GIL.
pub(crate) struct PyHost(Py<PyAny>);

impl HostObject for PyHost {
    fn has_method(&mut self, method: &str) -> bool {
        Python::attach(|py| {
            let attr = self.0.bind(py).getattr(method);
            attr.is_ok_and(|m| m.is_callable())
        })
    }

    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
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

/// A native double, borrowed for the call, or a host's object behind the core's adapter.
pub(crate) enum Arg<'py, N: PyClass<Frozen = False>, H> {
    Native(PyRefMut<'py, N>),
    Host(H),
}

impl<'py, N: PyClass<Frozen = False>, H> Arg<'py, N, H> {
    /// `obj` as the native `N`, or wrapped by `adapter` (which checks its methods).
    pub(crate) fn new(
        obj: &Bound<'py, PyAny>,
        adapter: fn(PyHost, Naming) -> Result<H, Error>,
    ) -> PyResult<Self> {
        if let Ok(native) = obj.cast::<N>() {
            return Ok(Arg::Native(native.try_borrow_mut()?));
        }
        let host = adapter(PyHost(obj.clone().unbind()), Naming::Snake);
        host.map(Arg::Host).or_raise(obj.py())
    }
}

pub(crate) type StoreArg<'py> = Arg<'py, PyMemoryStore, HostStore<PyHost>>;
pub(crate) type MailerArg<'py> = Arg<'py, PyRecordingMailer, HostMailer<PyHost>>;
pub(crate) type JournalArg<'py> = Arg<'py, PyMemoryJournal, HostJournal<PyHost>>;

impl StoreArg<'_> {
    /// The store, sendable into the work done without the GIL.
    pub(crate) fn get(&mut self) -> &mut (dyn Store + Send) {
        match self {
            Arg::Native(m) => &mut m.inner,
            Arg::Host(h) => h,
        }
    }
}

impl MailerArg<'_> {
    pub(crate) fn get(&mut self) -> &mut (dyn Mailer + Send) {
        match self {
            Arg::Native(m) => &mut m.inner,
            Arg::Host(h) => h,
        }
    }
}

impl JournalArg<'_> {
    pub(crate) fn get(&mut self) -> &mut (dyn Journal + Send) {
        match self {
            Arg::Native(m) => &mut m.inner,
            Arg::Host(h) => h,
        }
    }
}
