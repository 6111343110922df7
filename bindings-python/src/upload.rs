//! `parse`, `Upload`, its lazy row sequence and `Row`.

use crate::bytes_text::BytesText;
use crate::convert::{from_py, ser_to_py};
use crate::errors::OrRaise;
use crate::view::{object_of, view, Object, PyIssue};
use lms_bulk_upload::{Column, ParseOptions, SharedText, Upload};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PySlice, PyString};
use pyo3::IntoPyObjectExt;
use serde_json::Value;
use std::sync::Arc;

/// A parsed and validated upload file. Rows are converted to Python objects only when read.
#[pyclass(frozen, name = "Upload", module = "lms_bulk_upload")]
pub(crate) struct PyUpload {
    pub(crate) inner: Arc<Upload>,
}

/// The rows of an upload, as a read-only sequence (converted on access).
#[pyclass(frozen, sequence, name = "UploadRows", module = "lms_bulk_upload")]
pub(crate) struct PyUploadRows {
    upload: Arc<Upload>,
}

/// One row of an upload: its line, values, groups, validity and issues.
#[pyclass(frozen, name = "Row", module = "lms_bulk_upload")]
pub(crate) struct PyRow {
    value: Object,
}

/// A file as `parse` and `sheet_names` take it: bytes Python holds, read in place (and
/// shared with the upload when they are UTF-8: see `BytesText`), or bytes
/// of the binding's own (a copy of a `bytearray`, which Python code may resize while the GIL
/// is released; a file read from its path).
enum Source<'py> {
    Lent(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Source<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Lent(bytes) => bytes.as_bytes(),
            Source::Owned(bytes) => bytes,
        }
    }
}

/// The file given as `bytes`, `str` (the CSV text itself) or an `os.PathLike` (a file to
/// read), and the keyword arguments as the core's parse options; `function` names the
/// caller in a type error.
fn source_and_options<'py>(
    py: Python<'py>,
    function: &str,
    source: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Source<'py>, ParseOptions)> {
    let options = options.map(|o| from_py(o.as_any())).transpose()?;
    let options = ParseOptions::from_value(options.unwrap_or(Value::Null)).or_raise(py)?;
    let source = if let Ok(bytes) = source.cast::<PyBytes>() {
        Source::Lent(bytes.clone())
    } else if let Ok(text) = source.cast::<PyString>() {
        // The text's UTF-8 as a `bytes` object, read in place: one copy (under the stable
        // ABI of Python 3.9, `to_cow` copies that `bytes` object once more into a `String`).
        Source::Lent(text.encode_utf8()?)
    } else if let Ok(array) = source.cast::<PyByteArray>() {
        Source::Owned(array.to_vec())
    } else if source.hasattr("__fspath__")? {
        let path: std::path::PathBuf = source.extract()?;
        Source::Owned(py.detach(|| std::fs::read(&path))?)
    } else {
        return Err(PyTypeError::new_err(format!(
            "{function}() takes bytes, str (CSV text) or a path (os.PathLike), not {}",
            source.get_type().name()?
        )));
    };
    Ok((source, options))
}

/// Parses and validates an upload file given as `bytes` (any encoding the engine reads),
/// `str` (the CSV text itself) or an `os.PathLike` (a file to read); the keyword arguments
/// are the core's parse options. File-level problems raise `FileError`; row problems are
/// issues of the result.
#[pyfunction]
#[pyo3(signature = (source, **options))]
fn parse(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyUpload> {
    let (source, options) = source_and_options(py, "parse", source, options)?;
    let result = match source {
        // UTF-8 (most files): the upload shares the object's text, read in place
        Source::Lent(bytes) => match BytesText::of(py, &bytes) {
            Some(text) => {
                let text: SharedText = Arc::new(text);
                py.detach(|| lms_bulk_upload::parse_shared(text, &options))
            }
            None => {
                let bytes = bytes.as_bytes();
                py.detach(|| lms_bulk_upload::parse(bytes, &options))
            }
        },
        // the binding's own bytes: the upload takes them, no copy
        Source::Owned(bytes) => py.detach(|| lms_bulk_upload::parse_owned(bytes, &options)),
    };
    Ok(PyUpload {
        inner: Arc::new(result.or_raise(py)?),
    })
}

/// The names of a workbook's sheets (`.xlsx`, `.xls`, `.ods`, recognised by content), in
/// the workbook's order, so that the administrator can choose one (`parse(..., sheet=)`);
/// `[]` for a CSV file. The source is what `parse` takes; the keyword arguments are the
/// core's parse options (its limits hold before the workbook is opened). A file that cannot
/// be read raises `FileError`; an unknown option `SettingsError`.
#[pyfunction]
#[pyo3(signature = (source, **options))]
fn sheet_names(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<String>> {
    let (source, options) = source_and_options(py, "sheet_names", source, options)?;
    let bytes = source.bytes();
    py.detach(|| lms_bulk_upload::sheet_names(bytes, &options))
        .or_raise(py)
}

/// For benchmarks: parses `data` with the default options on `threads` threads (0: every
/// core) `runs` times, in Rust alone with the GIL released, as `parse` does (UTF-8 text
/// shared, in a copy made before the clock starts; other bytes lent), and returns the best
/// time in milliseconds (the core's own figure, without the Python boundary or the check
/// of the UTF-8; each upload is freed after its time is taken).
#[pyfunction]
#[pyo3(signature = (data, runs = 1, threads = 0))]
fn _bench_parse_rust(py: Python<'_>, data: &[u8], runs: u32, threads: usize) -> PyResult<f64> {
    py.detach(|| match std::str::from_utf8(data) {
        Ok(text) => {
            let text: SharedText = Arc::new(text.to_owned());
            lms_bulk_upload::best_parse_shared_ms(&text, threads, runs)
        }
        Err(_) => lms_bulk_upload::best_parse_ms(data, threads, runs),
    })
    .or_raise(py)
}

#[pymethods]
impl PyUpload {
    /// The rows, valid or not, in file order (a lazy sequence of `Row`).
    #[getter]
    fn rows(&self) -> PyUploadRows {
        PyUploadRows {
            upload: Arc::clone(&self.inner),
        }
    }
    /// Every issue, file-level first, then by line.
    #[getter]
    fn issues<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyIssue::list(py, self.inner.issues())
    }
    /// Whether any issue is an error (some rows will be rejected).
    #[getter]
    fn has_errors(&self) -> bool {
        self.inner.has_errors()
    }
    /// The number of rows without errors.
    #[getter]
    fn valid_count(&self) -> usize {
        self.inner.valid_rows().count()
    }
    /// The encoding the file was read with (`utf-8`, `utf-8-bom`, `utf-16le`, ...).
    #[getter]
    fn encoding(&self) -> &'static str {
        self.inner.encoding().as_str()
    }
    /// What kind of file it was: `csv`, `xlsx`, `xls` or `ods` (recognised by content).
    #[getter]
    fn format(&self) -> &'static str {
        self.inner.format().as_str()
    }
    /// The name of the sheet that was read, for a spreadsheet (else `None`).
    #[getter]
    fn sheet(&self) -> Option<&str> {
        self.inner.sheet()
    }
    /// The delimiter used (given or detected).
    #[getter]
    fn delimiter(&self) -> String {
        self.inner.delimiter().to_string()
    }
    /// The separator between group names in a cell.
    #[getter]
    fn group_separator(&self) -> String {
        self.inner.group_separator().to_string()
    }
    /// The header cells: dicts with `header` (as written) and `column` (or None if unknown).
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.header())
    }
    /// A JSON-ready report: encoding, delimiter, header, rows, valid_rows, issues (as dicts).
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.report())
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "Upload(rows={}, valid={}, issues={}, encoding={:?}, delimiter={:?})",
            self.inner.len(),
            self.valid_count(),
            self.inner.issues().len(),
            self.encoding(),
            self.delimiter()
        )
    }
}

/// `sequence[index]` of a lazy sequence of `len` items made by `item`: an int (negative
/// from the end) gives one item, a slice a list.
pub(crate) fn sequence_item<'py, T: IntoPyObject<'py>>(
    index: &Bound<'py, PyAny>,
    len: usize,
    item: impl Fn(usize) -> T,
) -> PyResult<Bound<'py, PyAny>> {
    let py = index.py();
    let len_i = isize::try_from(len).unwrap_or(isize::MAX);
    if let Ok(slice) = index.cast::<PySlice>() {
        let ind = slice.indices(len_i)?;
        let positions = (0..ind.slicelength).map(|k| ind.start + ind.step * k as isize);
        let items = positions.map(|i| item(usize::try_from(i).unwrap_or_default()));
        return Ok(PyList::new(py, items.collect::<Vec<_>>())?.into_any());
    }
    let i: isize = index.extract()?;
    let i = if i < 0 { i + len_i } else { i };
    match usize::try_from(i) {
        Ok(i) if i < len => item(i).into_bound_py_any(py),
        _ => Err(PyIndexError::new_err("index out of range")),
    }
}

#[pymethods]
impl PyUploadRows {
    fn __len__(&self) -> usize {
        self.upload.len()
    }
    fn __getitem__<'py>(&self, index: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        sequence_item(index, self.upload.len(), |i| PyRow {
            value: self
                .upload
                .row(i)
                .map(|r| object_of(lms_bulk_upload::host::view::upload_row(&r)))
                .unwrap_or_default(),
        })
    }
    fn __repr__(&self) -> String {
        format!("<UploadRows of {} rows>", self.upload.len())
    }
}

impl PyRow {
    fn value_of(&self, column: Column) -> String {
        let values = self.value.get("values");
        let value = values
            .and_then(|v| v.get(column.as_str()))
            .and_then(Value::as_str);
        value.unwrap_or_default().to_owned()
    }
}

view! { PyRow "Row" {
    line: plain, values: plain, email: plain, first_name: plain, last_name: plain,
    add_groups: list, remove_groups: list, custom: plain, valid: plain, issues: issues,
}
    /// The value of a column by its canonical name (`"emailaddress"`...), `""` when absent.
    fn get(&self, column: &str) -> PyResult<String> {
        let found = Column::ALL.into_iter().find(|c| c.as_str() == column);
        let column = found
            .ok_or_else(|| PyValueError::new_err(format!("{column:?} is not a column name")))?;
        Ok(self.value_of(column))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyUpload>()?;
    m.add_class::<PyUploadRows>()?;
    m.add_class::<PyRow>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(sheet_names, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_parse_rust, m)?)?;
    Ok(())
}
