//! The core's in-memory doubles: `MemoryStore`, `RecordingMailer` and `MemoryJournal`.

use crate::convert::{from_py, ser_to_py, to_py};
use lms_bulk_upload::host::message_value;
use lms_bulk_upload::{
    ContentRef, ExistingUser, MemoryJournal, MemoryStore, RecordingMailer, StoreState,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A store in memory, for tests, examples and demos. `state` is a dict shaped like the
/// scenarios' `store` (groups, content, users).
#[pyclass(name = "MemoryStore", module = "lms_bulk_upload")]
pub(crate) struct PyMemoryStore {
    pub(crate) inner: MemoryStore,
}

#[pymethods]
impl PyMemoryStore {
    #[new]
    #[pyo3(signature = (state=None))]
    fn new(state: Option<&Bound<'_, PyAny>>) -> PyResult<PyMemoryStore> {
        let inner = match state.filter(|s| !s.is_none()) {
            None => MemoryStore::new(),
            Some(state) => {
                let state: StoreState = serde_json::from_value(from_py(state)?)
                    .map_err(|e| PyValueError::new_err(format!("invalid store state: {e}")))?;
                MemoryStore::from_state(&state)
            }
        };
        Ok(PyMemoryStore { inner })
    }
    /// The store as a dict: groups, content and users (sorted by email; `has_password`
    /// instead of hashes).
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.state())
    }
    /// Adds a group; returns the store.
    fn add_group<'py>(mut slf: PyRefMut<'py, Self>, id: &str, name: &str) -> PyRefMut<'py, Self> {
        slf.inner.add_group(id, name);
        slf
    }
    /// Adds a content item, a `ContentRef` (`{"kind": "course", "id": "c1"}`); returns the
    /// store.
    fn add_content<'py>(
        mut slf: PyRefMut<'py, Self>,
        content: &Bound<'py, PyAny>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let content: ContentRef = serde_json::from_value(from_py(content)?)
            .map_err(|e| PyValueError::new_err(format!("content: {e}")))?;
        slf.inner.add_content(content);
        Ok(slf)
    }
    /// Adds an existing user, shaped like `ExistingUser` (`id`, `email`, `profile` or its
    /// fields, `groups`, `enrolments`, `protected`...); returns the store.
    fn add_user<'py>(
        mut slf: PyRefMut<'py, Self>,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let user: ExistingUser = serde_json::from_value(from_py(user)?)
            .map_err(|e| PyValueError::new_err(format!("user: {e}")))?;
        slf.inner.add_user(user);
        Ok(slf)
    }
    /// The argon2id PHC string of the user's password, if one was set.
    fn password_hash(&self, email: &str) -> Option<String> {
        self.inner
            .user(email)
            .and_then(|u| u.password_hash.as_ref())
            .map(|h| h.as_str().to_owned())
    }
    /// Whether `password` is the user's password (argon2id verification).
    fn verify_password(&self, py: Python<'_>, email: &str, password: &str) -> bool {
        let Some(hash) = self.inner.user(email).and_then(|u| u.password_hash.clone()) else {
            return false;
        };
        py.detach(|| hash.verify(password))
    }
    /// How many times each store method was called (to check batching).
    #[getter]
    fn calls<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, n) in &self.inner.calls {
            dict.set_item(*name, *n)?;
        }
        Ok(dict)
    }
    fn __len__(&self) -> usize {
        self.inner.users().len()
    }
    fn __repr__(&self) -> String {
        let state = self.inner.state();
        format!(
            "MemoryStore(users={}, groups={}, content={})",
            state.users.len(),
            state.groups.len(),
            state.content.len()
        )
    }
}

/// A mailer that keeps every message it is given.
#[pyclass(name = "RecordingMailer", module = "lms_bulk_upload")]
pub(crate) struct PyRecordingMailer {
    pub(crate) inner: RecordingMailer,
}

#[pymethods]
impl PyRecordingMailer {
    #[new]
    fn new() -> PyRecordingMailer {
        PyRecordingMailer {
            inner: RecordingMailer::new(),
        }
    }
    /// The messages sent, in order, as dicts (kind, to, subject, text, html, fields).
    #[getter]
    fn messages<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for message in &self.inner.messages {
            list.append(to_py(py, &message_value(message))?)?;
        }
        Ok(list)
    }
    /// Forgets the messages.
    fn clear(&mut self) {
        self.inner.messages.clear();
    }
    fn __len__(&self) -> usize {
        self.inner.messages.len()
    }
    fn __repr__(&self) -> String {
        format!("RecordingMailer(messages={})", self.inner.messages.len())
    }
}

/// A journal in memory: pass the same one to `execute` again to resume a cancelled run.
#[pyclass(name = "MemoryJournal", module = "lms_bulk_upload")]
#[derive(Default)]
pub(crate) struct PyMemoryJournal {
    pub(crate) inner: MemoryJournal,
}

#[pymethods]
impl PyMemoryJournal {
    #[new]
    fn new() -> PyMemoryJournal {
        PyMemoryJournal::default()
    }
    fn __repr__(&self) -> &'static str {
        "MemoryJournal()"
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMemoryStore>()?;
    m.add_class::<PyRecordingMailer>()?;
    m.add_class::<PyMemoryJournal>()?;
    Ok(())
}
