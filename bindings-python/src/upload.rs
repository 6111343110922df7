//! `parse`, `Upload`, its lazy row sequence and `Row`.

use crate::convert::{repr_str, ser_to_py};
use crate::errors::OrRaise;
use crate::issue::PyIssue;
use lms_bulk_upload::{Column, ParseOptions, RowData, Upload};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PySlice, PyString};
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
    data: RowData,
}

fn single_char(name: &str, value: &str) -> PyResult<char> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be a single character, not {value:?}"
        ))),
    }
}

fn options(
    delimiter: Option<&str>,
    group_separator: Option<&str>,
    limits: [Option<usize>; 5],
) -> PyResult<ParseOptions> {
    let mut options = ParseOptions::default();
    if let Some(d) = delimiter {
        let c = single_char("delimiter", d)?;
        options.delimiter = Some(u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
            PyValueError::new_err(format!("delimiter must be an ASCII character, not {d:?}"))
        })?);
    }
    if let Some(g) = group_separator {
        options.group_separator = single_char("group_separator", g)?;
    }
    let [file, rows, field, columns, value] = limits;
    options.max_file_bytes = file.unwrap_or(options.max_file_bytes);
    options.max_rows = rows.unwrap_or(options.max_rows);
    options.max_field_bytes = field.unwrap_or(options.max_field_bytes);
    options.max_columns = columns.unwrap_or(options.max_columns);
    options.max_value_chars = value.unwrap_or(options.max_value_chars);
    Ok(options)
}

/// Parses and validates an upload file given as `bytes` (any encoding the engine reads),
/// `str` (the CSV text itself) or an `os.PathLike` (a file to read). File-level problems
/// raise `FileError`; row problems are issues of the result.
#[pyfunction]
#[pyo3(signature = (
    source, *, delimiter=None, group_separator=None, max_file_bytes=None, max_rows=None,
    max_field_bytes=None, max_columns=None, max_value_chars=None
))]
#[allow(clippy::too_many_arguments)]
fn parse(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    delimiter: Option<&str>,
    group_separator: Option<&str>,
    max_file_bytes: Option<usize>,
    max_rows: Option<usize>,
    max_field_bytes: Option<usize>,
    max_columns: Option<usize>,
    max_value_chars: Option<usize>,
) -> PyResult<PyUpload> {
    let options = options(
        delimiter,
        group_separator,
        [
            max_file_bytes,
            max_rows,
            max_field_bytes,
            max_columns,
            max_value_chars,
        ],
    )?;
    let result = if let Ok(bytes) = source.cast::<PyBytes>() {
        let bytes = bytes.as_bytes();
        py.detach(|| lms_bulk_upload::parse(bytes, &options))
    } else if let Ok(text) = source.cast::<PyString>() {
        let text = text.to_cow()?;
        let text: &str = &text;
        py.detach(|| lms_bulk_upload::parse(text.as_bytes(), &options))
    } else if let Ok(array) = source.cast::<PyByteArray>() {
        let bytes = array.to_vec();
        py.detach(|| lms_bulk_upload::parse(&bytes, &options))
    } else if source.hasattr("__fspath__")? {
        let path: std::path::PathBuf = source.extract()?;
        let bytes = py.detach(|| std::fs::read(&path))?;
        py.detach(|| lms_bulk_upload::parse(&bytes, &options))
    } else {
        return Err(PyTypeError::new_err(format!(
            "parse() takes bytes, str (CSV text) or a path (os.PathLike), not {}",
            source.get_type().name()?
        )));
    };
    Ok(PyUpload {
        inner: Arc::new(result.or_raise(py)?),
    })
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
            "Upload(rows={}, valid={}, issues={}, encoding={}, delimiter={})",
            self.inner.len(),
            self.valid_count(),
            self.inner.issues().len(),
            repr_str(self.encoding()),
            repr_str(&self.delimiter())
        )
    }
}

fn row_at(upload: &Upload, index: usize) -> PyRow {
    PyRow {
        data: upload
            .row(index)
            .map(|r| r.to_data())
            .unwrap_or_else(|| RowData {
                line: 0,
                values: Default::default(),
                add_groups: Vec::new(),
                remove_groups: Vec::new(),
                valid: false,
                issues: Vec::new(),
            }),
    }
}

/// Resolves a Python index (negative from the end) against `len`.
pub(crate) fn resolve_index(index: isize, len: usize) -> PyResult<usize> {
    let len = isize::try_from(len).unwrap_or(isize::MAX);
    let i = if index < 0 { index + len } else { index };
    if (0..len).contains(&i) {
        Ok(usize::try_from(i).unwrap_or_default())
    } else {
        Err(PyIndexError::new_err("row index out of range"))
    }
}

/// The positions a slice selects in a sequence of `len`.
pub(crate) fn slice_positions(slice: &Bound<'_, PySlice>, len: usize) -> PyResult<Vec<usize>> {
    let ind = slice.indices(isize::try_from(len).unwrap_or(isize::MAX))?;
    let mut out = Vec::with_capacity(ind.slicelength);
    let mut i = ind.start;
    for _ in 0..ind.slicelength {
        out.push(usize::try_from(i).unwrap_or_default());
        i += ind.step;
    }
    Ok(out)
}

#[pymethods]
impl PyUploadRows {
    fn __len__(&self) -> usize {
        self.upload.len()
    }
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = index.cast::<PySlice>() {
            let rows = slice_positions(slice, self.upload.len())?
                .into_iter()
                .map(|i| row_at(&self.upload, i));
            return Ok(PyList::new(py, rows)?.into_any());
        }
        let i = resolve_index(index.extract()?, self.upload.len())?;
        Ok(Bound::new(py, row_at(&self.upload, i))?.into_any())
    }
    fn __repr__(&self) -> String {
        format!("<UploadRows of {} rows>", self.upload.len())
    }
}

fn column_named(name: &str) -> PyResult<Column> {
    Column::ALL
        .into_iter()
        .find(|c| c.as_str() == name)
        .ok_or_else(|| PyValueError::new_err(format!("{name:?} is not a column name")))
}

#[pymethods]
impl PyRow {
    /// The 1-based line where the record starts (the header is line 1).
    #[getter]
    fn line(&self) -> u32 {
        self.data.line
    }
    /// The values of the file's recognised columns, by canonical column name.
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (column, value) in &self.data.values {
            dict.set_item(column.as_str(), value)?;
        }
        Ok(dict)
    }
    /// The value of a column by its canonical name (`"emailaddress"`...), `""` when absent.
    fn get(&self, column: &str) -> PyResult<String> {
        let column = column_named(column)?;
        Ok(self.data.values.get(&column).cloned().unwrap_or_default())
    }
    /// The email address as written.
    #[getter]
    fn email(&self) -> &str {
        self.data
            .values
            .get(&Column::EmailAddress)
            .map_or("", String::as_str)
    }
    /// The first name.
    #[getter]
    fn first_name(&self) -> &str {
        self.data
            .values
            .get(&Column::FirstName)
            .map_or("", String::as_str)
    }
    /// The last name.
    #[getter]
    fn last_name(&self) -> &str {
        self.data
            .values
            .get(&Column::LastName)
            .map_or("", String::as_str)
    }
    /// Groups to add.
    #[getter]
    fn add_groups(&self) -> Vec<String> {
        self.data.add_groups.clone()
    }
    /// Groups to remove.
    #[getter]
    fn remove_groups(&self) -> Vec<String> {
        self.data.remove_groups.clone()
    }
    /// Whether the row has no errors.
    #[getter]
    fn valid(&self) -> bool {
        self.data.valid
    }
    /// The row's issues.
    #[getter]
    fn issues<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyIssue::list(py, &self.data.issues)
    }
    /// The row as a dict (issues as dicts).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.data)
    }
    fn __repr__(&self) -> String {
        format!(
            "Row(line={}, email={}, valid={})",
            self.data.line,
            repr_str(self.email()),
            if self.data.valid { "True" } else { "False" }
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyUpload>()?;
    m.add_class::<PyUploadRows>()?;
    m.add_class::<PyRow>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    Ok(())
}
