//! `Settings`: the administrator's choices, validated when constructed.

use crate::errors::to_napi;
use crate::json::{camelize, snakify};
use crate::upload::read_json;
use lms_bulk_upload::{Settings, SettingsBuilder};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::json;

/// Validated settings (the native side of `Settings`).
#[napi]
pub struct SettingsHandle {
    pub(crate) inner: Settings,
}

#[napi]
impl SettingsHandle {
    /// Builds settings from a JSON object (camelCase or snake_case keys; unknown keys are
    /// refused). Throws a settings error with a code on a contradiction.
    #[napi(constructor)]
    pub fn new(json: String) -> Result<Self> {
        let value = snakify(read_json("settings", &json)?);
        let builder = SettingsBuilder::from_json(&value.to_string()).map_err(|e| to_napi(&e))?;
        let inner = builder.build().map_err(|e| to_napi(&e))?;
        Ok(SettingsHandle { inner })
    }

    /// The settings as camelCase JSON; the default password, if any, is `"[REDACTED]"`.
    #[napi]
    pub fn to_json_string(&self) -> String {
        let s = &self.inner;
        let value = json!({
            "enrol_existing_users": s.enrol_existing_users,
            "update_existing_profiles": s.update_existing_profiles,
            "update_existing_passwords": s.update_existing_passwords,
            "generate_passwords": s.generate_passwords,
            "default_password": s.default_password.as_ref().map(|_| "[REDACTED]"),
            "force_password_reset": s.force_password_reset,
            "send_notification_email": s.send_notification_email,
            "enrolments": s.enrolments,
            "groups": s.groups,
            "site_url": s.site_url,
            "results_url": s.results_url,
            "uploader_email": s.uploader_email,
            "password_policy": s.password_policy,
        });
        camelize(value).to_string()
    }
}
