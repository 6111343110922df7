//! `Results`: what execution did, row by row.

use crate::json::to_camel_json;
use lms_bulk_upload::Results;
use napi_derive::napi;

/// The results of an execution (the native side of `Results`).
#[napi]
pub struct ResultsHandle {
    pub(crate) inner: Results,
}

#[napi]
impl ResultsHandle {
    /// The fingerprint of the plan that was executed.
    #[napi(getter)]
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint.clone()
    }
    /// Whether execution was cancelled before the end.
    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.inner.cancelled
    }
    /// Why the confirmation email was not sent, if it was not: `{code, message}` as JSON.
    #[napi(getter)]
    pub fn confirmation_error(&self) -> Option<String> {
        self.inner.confirmation_error.as_ref().map(to_camel_json)
    }
    /// The number of rows.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.rows.len() as u32
    }
    /// The counts, as camelCase JSON.
    #[napi]
    pub fn summary_json(&self) -> String {
        to_camel_json(&self.inner.summary)
    }
    /// Rows `start..end`, as camelCase JSON.
    #[napi]
    pub fn rows_json(&self, start: u32, end: u32) -> String {
        let rows = &self.inner.rows;
        let end = (end as usize).min(rows.len());
        let start = (start as usize).min(end);
        to_camel_json(&rows[start..end])
    }
    /// The results as CSV (formula-safe cells).
    #[napi]
    pub fn to_csv(&self) -> String {
        self.inner.to_csv()
    }
    /// The results' own JSON (the language-neutral format, snake_case keys).
    #[napi]
    pub fn to_json_string(&self) -> String {
        self.inner.to_json()
    }
}
