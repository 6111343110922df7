//! `Settings`: keyword arguments decoded and validated by the core at once.

use crate::convert::from_py;
use crate::errors::OrRaise;
use crate::view::{view, Object};
use lms_bulk_upload::host::Naming;
use lms_bulk_upload::Settings;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

/// The administrator's choices, validated when constructed (`SettingsError` with a code).
#[pyclass(frozen, name = "Settings", module = "lms_bulk_upload")]
pub(crate) struct PySettings {
    pub(crate) inner: Settings,
    /// The core's exported form: never the default password, `has_default_password` instead.
    value: Object,
}

view! { PySettings "Settings" new(PySettings::create) {
    enrol_existing_users: plain, update_existing_profiles: plain,
    update_existing_passwords: plain, generate_passwords: plain, has_default_password: plain,
    send_invitations: plain, invitation_url: plain,
    force_password_reset: plain, send_notification_email: plain, enrolments: list,
    groups: list, site_url: plain, results_url: plain, uploader_email: plain,
    password_policy: plain, default_login_method: plain, suspend_missing_users: plain,
    missing_users_threshold: plain, reactivate_suspended_users: plain,
}}

impl PySettings {
    /// The keyword arguments are the core's settings (snake_case names); unknown names and
    /// values of the wrong type are refused with a `SettingsError`.
    fn create(py: Python<'_>, settings: Option<&Bound<'_, PyDict>>) -> PyResult<PySettings> {
        let given = settings.map(|s| from_py(s.as_any())).transpose()?;
        let inner = Settings::from_value(given.unwrap_or(Value::Null)).or_raise(py)?;
        let value = match inner.to_value(Naming::Snake) {
            Value::Object(map) => map,
            _ => Object::new(),
        };
        Ok(PySettings { inner, value })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySettings>()
}
