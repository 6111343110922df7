//! Python values ⇄ `serde_json::Value`: the one bridge to the core's data forms.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde::Serialize;
use serde_json::{Number, Value};

/// A JSON value as a Python object (dict, list, str, int, float, bool, None).
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => PyList::new(
            py,
            items
                .iter()
                .map(|v| to_py(py, v))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Any serialisable core value as a Python object, through its serde JSON form.
pub(crate) fn ser_to_py<'py, T: Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, &to_value(value))
}

/// A core value's serde JSON form (the core's types always serialise).
pub(crate) fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The deepest nesting of lists and dicts read from Python (serde_json's own limit when
/// reading JSON text): deeper is refused with a coded error, never a stack overflow.
pub(crate) const MAX_DEPTH: usize = 128;

/// A Python object (dicts and mappings, lists, tuples, str, int, float, bool, None) as a JSON
/// value. Integers beyond 64 bits become strings of their digits. Nesting deeper than
/// [`MAX_DEPTH`] or a container that contains itself is refused (`invalid_option`; a host
/// reply is then `invalid_host_reply`).
pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    from_py_in(obj, &mut Vec::new())
}

/// `open`: the containers being read, outermost first (a cycle is one of them again).
fn from_py_in(obj: &Bound<'_, PyAny>, open: &mut Vec<usize>) -> PyResult<Value> {
    let is_container = obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
        || obj.is_instance_of::<PyDict>()
        || (!obj.is_instance_of::<PyString>() && obj.cast::<PyMapping>().is_ok());
    if !is_container {
        return scalar(obj);
    }
    let id = obj.as_ptr() as usize;
    if open.contains(&id) {
        return Err(too_deep(
            obj.py(),
            "a list or dict contains itself, so it cannot be converted",
        ));
    }
    if open.len() >= MAX_DEPTH {
        return Err(too_deep(
            obj.py(),
            &format!("lists and dicts are nested more than {MAX_DEPTH} deep"),
        ));
    }
    open.push(id);
    let value = container(obj, open);
    open.pop();
    value
}

fn too_deep(py: Python<'_>, message: &str) -> PyErr {
    crate::errors::settings_error(py, "invalid_option", message)
}

fn container(obj: &Bound<'_, PyAny>, open: &mut Vec<usize>) -> PyResult<Value> {
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(from_py_in(&item?, open)?);
        }
        Ok(Value::Array(items))
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in dict.iter() {
            map.insert(key(&k)?, from_py_in(&v, open)?);
        }
        Ok(Value::Object(map))
    } else {
        let mapping = obj.cast::<PyMapping>()?;
        let mut map = serde_json::Map::new();
        for item in mapping.items()?.iter() {
            let (k, v) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
            map.insert(key(&k)?, from_py_in(&v, open)?);
        }
        Ok(Value::Object(map))
    }
}

fn scalar(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            Ok(Value::from(i))
        } else if let Ok(u) = obj.extract::<u64>() {
            Ok(Value::from(u))
        } else {
            Ok(Value::String(obj.str()?.to_cow()?.into_owned()))
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyTypeError::new_err("a float that is not finite cannot be used"))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::String(s.to_cow()?.into_owned()))
    } else {
        Err(PyTypeError::new_err(format!(
            "cannot use a value of type {} here (expected dict, list, tuple, str, int, float, bool or None)",
            obj.get_type().name()?
        )))
    }
}

/// A mapping key: a str, or an int (a journal's line numbers) as its digits.
fn key(key: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = key.cast::<PyString>() {
        Ok(s.to_cow()?.into_owned())
    } else if key.is_instance_of::<PyInt>() {
        Ok(key.str()?.to_cow()?.into_owned())
    } else {
        Err(PyTypeError::new_err("dictionary keys must be str"))
    }
}

/// Python's `repr` of a JSON value, for the `__repr__` of the classes.
pub(crate) fn repr(py: Python<'_>, value: &Value) -> String {
    to_py(py, value)
        .and_then(|v| Ok(v.repr()?.to_cow()?.into_owned()))
        .unwrap_or_default()
}
