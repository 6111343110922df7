//! `parse` and the `Upload` it returns.

use crate::error::{from_json_text, to_json, NativeResult};
use crate::file_bytes::FileBytes;
use lms_bulk_upload::host::view;
use lms_bulk_upload::ParseOptions;
use std::sync::Arc;

/// A parsed file: rows plus issues.
#[derive(uniffi::Object)]
pub struct Upload {
    pub(crate) inner: lms_bulk_upload::Upload,
}

/// Parses the bytes of an uploaded file; `options_json` is an object of parse options
/// (decoded by the core: unknown keys are refused) or null.
#[uniffi::export]
pub fn parse(data: FileBytes, options_json: String) -> NativeResult<Arc<Upload>> {
    let options = ParseOptions::from_value(from_json_text(&options_json, "parse options")?)?;
    let inner = lms_bulk_upload::parse(data.bytes(), &options)?;
    Ok(Arc::new(Upload { inner }))
}

#[uniffi::export]
impl Upload {
    /// Data rows (blank lines are not rows).
    pub fn row_count(&self) -> u64 {
        self.inner.len() as u64
    }

    /// Rows without errors.
    pub fn valid_count(&self) -> u64 {
        self.inner.valid_rows().count() as u64
    }

    /// Whether any issue is an error.
    pub fn has_errors(&self) -> bool {
        self.inner.has_errors()
    }

    /// Every issue, as a JSON list.
    pub fn issues_json(&self) -> String {
        to_json(self.inner.issues())
    }

    /// Rows `start..start + count` (clamped), as a JSON list of row objects (the core's
    /// `view::upload_row`).
    pub fn rows_json(&self, start: u64, count: u64) -> String {
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let rows: Vec<_> = self
            .inner
            .rows()
            .skip(start)
            .take(count)
            .map(|r| view::upload_row(&r))
            .collect();
        to_json(&rows)
    }

    /// What was read (the core's `view::upload_head`: format, sheet, encoding, delimiter,
    /// group_separator, header), as a JSON object.
    pub fn head_json(&self) -> String {
        to_json(&view::upload_head(&self.inner))
    }

    /// The file report (encoding, delimiter, header, counts, issues), as JSON.
    pub fn report_json(&self) -> String {
        to_json(&self.inner.report())
    }
}

/// For benchmarks: parses `data` (default options) on `threads` threads (0: every core) in
/// Rust alone `runs` times and returns the best time in milliseconds — the core's own
/// figure, without the Ruby boundary (each upload is freed after its time is taken).
#[uniffi::export]
pub fn bench_parse_rust(data: FileBytes, runs: u32, threads: u32) -> NativeResult<f64> {
    Ok(lms_bulk_upload::best_parse_ms(
        data.bytes(),
        threads as usize,
        runs,
    )?)
}
