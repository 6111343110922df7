//! A host's own store, written in Python, as a core `Store`; and the `store` argument of
//! `plan` / `execute`, which is either the native `MemoryStore` or such an object.

use crate::convert::{from_py, from_value, id_to_string, to_py};
use crate::errors::host_error;
use crate::memory::PyMemoryStore;
use lms_bulk_upload::{
    ContentRef, ExistingUser, Group, HostError, NewUser, PasswordHash, Profile, Store, UserId,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde_json::{json, Value};

/// The methods a Python store must have (`all_group_names` and `checkpoint` are optional).
const REQUIRED: [&str; 9] = [
    "find_users",
    "find_groups",
    "find_content",
    "create_user",
    "update_profile",
    "set_password",
    "add_to_group",
    "remove_from_group",
    "enrol",
];

const PROFILE_FIELDS: [&str; 7] = [
    "first_name",
    "last_name",
    "phone_number",
    "unique_id",
    "country",
    "organisation",
    "language_code",
];

/// Calls a Python object's methods with plain values (lists, dicts, str, bool) and reads
/// plain values back. An exception raised by a method becomes a `HostError` (transient when
/// the exception has a true `transient` attribute); the first one is kept to become the
/// `__cause__` of an exception the call ends with.
pub(crate) struct HostObject {
    obj: Py<PyAny>,
    what: &'static str,
    pub(crate) first_error: Option<PyErr>,
}

impl HostObject {
    pub(crate) fn new(
        obj: &Bound<'_, PyAny>,
        what: &'static str,
        required: &[&str],
    ) -> PyResult<Self> {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|m| !obj.hasattr(*m).unwrap_or(false))
            .collect();
        if !missing.is_empty() {
            return Err(PyTypeError::new_err(format!(
                "the {what} object lacks the method(s) {}",
                missing.join(", ")
            )));
        }
        Ok(HostObject {
            obj: obj.clone().unbind(),
            what,
            first_error: None,
        })
    }

    /// Calls `method(*args)`; `optional` methods that are absent return `None`.
    pub(crate) fn call(
        &mut self,
        method: &str,
        args: &[Value],
        optional: bool,
    ) -> Result<Option<Value>, HostError> {
        Python::attach(|py| {
            let obj = self.obj.bind(py);
            if optional && !obj.hasattr(method).unwrap_or(false) {
                return Ok(None);
            }
            let outcome = args
                .iter()
                .map(|a| to_py(py, a))
                .collect::<PyResult<Vec<_>>>()
                .and_then(|args| PyTuple::new(py, args))
                .and_then(|args| obj.call_method1(method, args));
            match outcome {
                Ok(ret) => from_py(&ret).map(Some).map_err(|e| {
                    HostError::permanent(format!(
                        "{}.{method} returned a value that cannot be read: {}",
                        self.what,
                        e.value(py)
                    ))
                }),
                Err(err) => {
                    let host = host_error(py, &err);
                    self.first_error.get_or_insert(err);
                    Err(host)
                }
            }
        })
    }

    /// Calls a method and reads its result as `T` (a core serde form).
    fn call_as<T: serde::de::DeserializeOwned>(
        &mut self,
        method: &str,
        args: &[Value],
        fix: impl Fn(&mut Value),
    ) -> Result<T, HostError> {
        let mut value = self.call(method, args, false)?.unwrap_or(Value::Null);
        fix(&mut value);
        from_value(value)
            .map_err(|e| HostError::permanent(format!("{}.{method} returned {e}", self.what)))
    }
}

fn each(value: &mut Value, fix: impl Fn(&mut Value)) {
    if let Value::Array(items) = value {
        items.iter_mut().for_each(fix);
    }
}

/// Ids may be ints; profile fields may be at the top level instead of under `profile`.
fn fix_user(user: &mut Value) {
    if let Value::Object(map) = user {
        if let Some(id) = map.get_mut("id") {
            id_to_string(id);
        }
        if !map.contains_key("profile") {
            let mut profile = serde_json::Map::new();
            for field in PROFILE_FIELDS {
                if let Some(v) = map.remove(field) {
                    profile.insert(field.to_owned(), v);
                }
            }
            map.insert("profile".into(), Value::Object(profile));
        }
    }
}

fn fix_group(group: &mut Value) {
    if let Some(id) = group.get_mut("id") {
        id_to_string(id);
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A host store written in Python.
pub(crate) struct HostStore(pub(crate) HostObject);

impl Store for HostStore {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        self.0
            .call_as("find_users", &[json!(emails)], |v| each(v, fix_user))
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        self.0
            .call_as("find_groups", &[json!(names)], |v| each(v, fix_group))
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        self.0.call_as("find_content", &[to_json(&refs)], |_| {})
    }
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        let arg = json!({
            "email": user.email,
            "profile": to_json(&user.profile),
            "password_hash": user.password_hash.as_str(),
            "force_password_reset": user.force_password_reset,
        });
        self.0.call_as("create_user", &[arg], id_to_string)
    }
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        self.0
            .call("update_profile", &[json!(user.0), to_json(changes)], false)
            .map(drop)
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        let args = [json!(user.0), json!(hash.as_str()), json!(force_reset)];
        self.0.call("set_password", &args, false).map(drop)
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.0
            .call("add_to_group", &[json!(user.0), to_json(group)], false)
            .map(drop)
    }
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.0
            .call("remove_from_group", &[json!(user.0), to_json(group)], false)
            .map(drop)
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.0
            .call("enrol", &[json!(user.0), to_json(content)], false)
            .map(drop)
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        match self.0.call("all_group_names", &[], true)? {
            None => Ok(Vec::new()),
            Some(v) => from_value(v)
                .map_err(|e| HostError::permanent(format!("store.all_group_names returned {e}"))),
        }
    }
    fn checkpoint(&mut self) -> Result<(), HostError> {
        self.0.call("checkpoint", &[], true).map(drop)
    }
}

/// The `store` argument: the native `MemoryStore` (no Python involved) or a Python object.
pub(crate) enum StoreArg<'py> {
    Memory(PyRefMut<'py, PyMemoryStore>),
    Host(HostStore),
}

impl<'py> StoreArg<'py> {
    pub(crate) fn new(obj: &Bound<'py, PyAny>) -> PyResult<StoreArg<'py>> {
        if let Ok(memory) = obj.cast::<PyMemoryStore>() {
            return Ok(StoreArg::Memory(memory.try_borrow_mut()?));
        }
        Ok(StoreArg::Host(HostStore(HostObject::new(
            obj, "store", &REQUIRED,
        )?)))
    }

    /// The store, sendable into the closure that runs without the GIL.
    pub(crate) fn as_store(&mut self) -> &mut (dyn Store + Send) {
        match self {
            StoreArg::Memory(m) => &mut m.inner,
            StoreArg::Host(h) => h,
        }
    }

    /// The first exception a Python store raised, if any.
    pub(crate) fn take_error(&mut self) -> Option<PyErr> {
        match self {
            StoreArg::Memory(_) => None,
            StoreArg::Host(h) => h.0.first_error.take(),
        }
    }
}
