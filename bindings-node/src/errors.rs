//! Errors crossing into JavaScript.
//!
//! A core [`Error`] becomes a JavaScript `Error` whose message is [`PREFIX`] followed by a
//! JSON payload `{kind, code, message, line, column, transient}`; `lms.js` turns it into an
//! instance of `FileError`, `SettingsError`, `PlanError`, `StoreError` or `MailerError`
//! (all subclasses of `BulkUploadError`) with those fields as properties. Callers never see
//! the payload and never need to match message text.

use lms_bulk_upload::Error;
use serde_json::json;

/// Marks a message that carries a JSON error payload.
pub(crate) const PREFIX: &str = "LMS_BULK_UPLOAD_ERROR:";

/// A payload for a core error.
pub(crate) fn payload(error: &Error) -> serde_json::Value {
    json!({
        "kind": error.kind().as_str(),
        "code": error.code().as_str(),
        "message": error.message(),
        "line": error.line(),
        "column": error.column(),
        "transient": error.is_transient(),
    })
}

/// A core error as a napi error.
pub(crate) fn to_napi(error: &Error) -> napi::Error {
    napi::Error::from_reason(format!("{PREFIX}{}", payload(error)))
}

/// An error of the given kind and code that the core has no variant for (bad arguments).
pub(crate) fn custom(kind: &str, code: &str, message: impl std::fmt::Display) -> napi::Error {
    let body = json!({
        "kind": kind,
        "code": code,
        "message": message.to_string(),
        "line": null,
        "column": null,
        "transient": false,
    });
    napi::Error::from_reason(format!("{PREFIX}{body}"))
}

/// Reads JSON given by `lms.js` (a programming error of the wrapper if it fails).
pub(crate) fn bad_json(what: &str, e: impl std::fmt::Display) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, format!("{what}: {e}"))
}
