//! Journals for resumable execution: the native `MemoryJournal`, or a Python object with
//! `load(fingerprint)`, `begin(fingerprint, line)` and `finish(fingerprint, row)`.

use crate::convert::from_value;
use crate::store::HostObject;
use lms_bulk_upload::{HostError, Journal, JournalEntry, MemoryJournal, ResultRow};
use pyo3::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A journal in memory: pass the same one to `execute` again to resume a cancelled run.
#[pyclass(name = "MemoryJournal", module = "lms_bulk_upload")]
#[derive(Default)]
pub(crate) struct PyMemoryJournal {
    inner: MemoryJournal,
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

/// A journal written in Python. `load` returns a mapping from line to `None` (begun) or the
/// finished row as a dict.
pub(crate) struct HostJournal(HostObject);

impl Journal for HostJournal {
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        let value = self
            .0
            .call("load", &[json!(fingerprint)], false)?
            .unwrap_or(Value::Null);
        let entries: BTreeMap<String, Option<ResultRow>> = match value {
            Value::Null => BTreeMap::new(),
            other => from_value(other)
                .map_err(|e| HostError::permanent(format!("journal.load returned {e}")))?,
        };
        entries
            .into_iter()
            .map(|(line, row)| {
                let line: u32 = line
                    .parse()
                    .map_err(|_| HostError::permanent(format!("journal.load: bad line {line}")))?;
                Ok((
                    line,
                    row.map_or(JournalEntry::Begun, JournalEntry::Finished),
                ))
            })
            .collect()
    }
    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError> {
        self.0
            .call("begin", &[json!(fingerprint), json!(line)], false)
            .map(drop)
    }
    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        let row = serde_json::to_value(row).unwrap_or(Value::Null);
        self.0
            .call("finish", &[json!(fingerprint), row], false)
            .map(drop)
    }
}

/// The `journal` argument of `execute`.
pub(crate) enum JournalArg<'py> {
    Memory(PyRefMut<'py, PyMemoryJournal>),
    Host(HostJournal),
}

impl<'py> JournalArg<'py> {
    pub(crate) fn new(obj: &Bound<'py, PyAny>) -> PyResult<JournalArg<'py>> {
        if let Ok(memory) = obj.cast::<PyMemoryJournal>() {
            return Ok(JournalArg::Memory(memory.try_borrow_mut()?));
        }
        Ok(JournalArg::Host(HostJournal(HostObject::new(
            obj,
            "journal",
            &["load", "begin", "finish"],
        )?)))
    }

    pub(crate) fn as_journal(&mut self) -> &mut (dyn Journal + Send) {
        match self {
            JournalArg::Memory(m) => &mut m.inner,
            JournalArg::Host(h) => h,
        }
    }

    pub(crate) fn take_error(&mut self) -> Option<PyErr> {
        match self {
            JournalArg::Memory(_) => None,
            JournalArg::Host(h) => h.0.first_error.take(),
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMemoryJournal>()
}
