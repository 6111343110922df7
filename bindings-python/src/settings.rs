//! `Settings`: keyword arguments with the SPEC's names, validated by the core at once.

use crate::convert::{from_py, repr_str, ser_to_py};
use crate::errors::OrRaise;
use lms_bulk_upload::{Settings, SettingsBuilder};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};

/// The administrator's choices, validated when constructed (`SettingsError` with a code).
#[pyclass(frozen, name = "Settings", module = "lms_bulk_upload")]
pub(crate) struct PySettings {
    pub(crate) inner: Settings,
}

#[pymethods]
impl PySettings {
    /// Every argument is optional and defaults as in the SPEC (and the core's
    /// `SettingsBuilder`). `enrolments` takes dicts `{"kind": ..., "id": ...}` or
    /// `(kind, id)` tuples; `password_policy` a dict with `min_length` / `generated_length`.
    #[new]
    #[pyo3(signature = (
        *, enrol_existing_users=None, update_existing_profiles=None,
        update_existing_passwords=None, generate_passwords=None, default_password=None,
        force_password_reset=None, send_notification_email=None, enrolments=None, groups=None,
        site_url=None, results_url=None, uploader_email=None, password_policy=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        enrol_existing_users: Option<&Bound<'_, PyAny>>,
        update_existing_profiles: Option<&Bound<'_, PyAny>>,
        update_existing_passwords: Option<&Bound<'_, PyAny>>,
        generate_passwords: Option<&Bound<'_, PyAny>>,
        default_password: Option<&Bound<'_, PyAny>>,
        force_password_reset: Option<&Bound<'_, PyAny>>,
        send_notification_email: Option<&Bound<'_, PyAny>>,
        enrolments: Option<&Bound<'_, PyAny>>,
        groups: Option<&Bound<'_, PyAny>>,
        site_url: Option<&Bound<'_, PyAny>>,
        results_url: Option<&Bound<'_, PyAny>>,
        uploader_email: Option<&Bound<'_, PyAny>>,
        password_policy: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PySettings> {
        let given = [
            ("enrol_existing_users", enrol_existing_users),
            ("update_existing_profiles", update_existing_profiles),
            ("update_existing_passwords", update_existing_passwords),
            ("generate_passwords", generate_passwords),
            ("default_password", default_password),
            ("force_password_reset", force_password_reset),
            ("send_notification_email", send_notification_email),
            ("enrolments", enrolments),
            ("groups", groups),
            ("site_url", site_url),
            ("results_url", results_url),
            ("uploader_email", uploader_email),
            ("password_policy", password_policy),
        ];
        let mut map = Map::new();
        for (name, value) in given {
            if let Some(value) = value.filter(|v| !v.is_none()) {
                map.insert(name.to_owned(), from_py(value)?);
            }
        }
        // The core deserialises and validates: unknown kinds, wrong types and contradictions
        // all come back as a SettingsError with a code.
        let json = Value::Object(map).to_string();
        let builder = SettingsBuilder::from_json(&json).or_raise(py)?;
        Ok(PySettings {
            inner: builder.build().or_raise(py)?,
        })
    }

    /// Existing users in the file are enrolled too.
    #[getter]
    fn enrol_existing_users(&self) -> bool {
        self.inner.enrol_existing_users
    }
    /// Existing users' details (and groups) may change.
    #[getter]
    fn update_existing_profiles(&self) -> bool {
        self.inner.update_existing_profiles
    }
    /// Existing users get a new password.
    #[getter]
    fn update_existing_passwords(&self) -> bool {
        self.inner.update_existing_passwords
    }
    /// Each user whose password is set gets a unique generated password.
    #[getter]
    fn generate_passwords(&self) -> bool {
        self.inner.generate_passwords
    }
    /// Whether a default password was given (the password itself is never readable back).
    #[getter]
    fn has_default_password(&self) -> bool {
        self.inner.default_password.is_some()
    }
    /// Users whose password is set must choose a new one at next login.
    #[getter]
    fn force_password_reset(&self) -> bool {
        self.inner.force_password_reset
    }
    /// Whether users get an email.
    #[getter]
    fn send_notification_email(&self) -> bool {
        self.inner.send_notification_email
    }
    /// Content every accepted user is enrolled in: dicts with `kind` and `id`.
    #[getter]
    fn enrolments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.enrolments)
    }
    /// Groups every accepted user is added to.
    #[getter]
    fn groups(&self) -> Vec<String> {
        self.inner.groups.clone()
    }
    /// The login link put in emails.
    #[getter]
    fn site_url(&self) -> &str {
        &self.inner.site_url
    }
    /// The results link put in the confirmation email.
    #[getter]
    fn results_url(&self) -> &str {
        &self.inner.results_url
    }
    /// Who receives the confirmation email.
    #[getter]
    fn uploader_email(&self) -> Option<&str> {
        self.inner.uploader_email.as_deref()
    }
    /// The password policy: `min_length`, `generated_length`.
    #[getter]
    fn password_policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ser_to_py(py, &self.inner.password_policy)
    }
    /// The settings as a dict, without the default password.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("enrol_existing_users", self.enrol_existing_users())?;
        dict.set_item("update_existing_profiles", self.update_existing_profiles())?;
        dict.set_item(
            "update_existing_passwords",
            self.update_existing_passwords(),
        )?;
        dict.set_item("generate_passwords", self.generate_passwords())?;
        dict.set_item("force_password_reset", self.force_password_reset())?;
        dict.set_item("send_notification_email", self.send_notification_email())?;
        dict.set_item("enrolments", self.enrolments(py)?)?;
        dict.set_item("groups", self.groups())?;
        dict.set_item("site_url", self.site_url())?;
        dict.set_item("results_url", self.results_url())?;
        dict.set_item("uploader_email", self.uploader_email())?;
        dict.set_item("password_policy", self.password_policy(py)?)?;
        Ok(dict)
    }
    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Settings(generate_passwords={}, default_password={}, update_existing_profiles={}, \
             update_existing_passwords={}, enrol_existing_users={}, groups=[{}], enrolments={})",
            py_bool(s.generate_passwords),
            if s.default_password.is_some() {
                "'[REDACTED]'"
            } else {
                "None"
            },
            py_bool(s.update_existing_profiles),
            py_bool(s.update_existing_passwords),
            py_bool(s.enrol_existing_users),
            s.groups
                .iter()
                .map(|g| repr_str(g))
                .collect::<Vec<_>>()
                .join(", "),
            s.enrolments.len()
        )
    }
}

pub(crate) fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySettings>()
}
