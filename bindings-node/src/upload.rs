//! `parse` and the parsed `Upload`. Rows stay in the core's compact form; JavaScript asks
//! for them in slices, so parsing a million rows costs what it costs in Rust.

use crate::{from_js, host, to_js, to_napi};
use lms_bulk_upload::{ParseOptions, Upload};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// A parsed and validated upload file (the native side of `Upload`).
#[napi]
pub struct UploadHandle {
    pub(crate) inner: Arc<Upload>,
}

fn parse(data: &[u8], options: &ParseOptions) -> Result<UploadHandle> {
    handle(lms_bulk_upload::parse(data, options))
}

fn handle(parsed: std::result::Result<Upload, lms_bulk_upload::Error>) -> Result<UploadHandle> {
    Ok(UploadHandle {
        inner: Arc::new(parsed.map_err(to_napi)?),
    })
}

fn options(json: Option<String>) -> Result<ParseOptions> {
    ParseOptions::from_value(from_js(json.as_deref())?).map_err(to_napi)
}

/// Parses and validates the bytes of an upload file. `optionsJson`: `ParseOptions`.
#[napi]
pub fn parse_bytes(data: &[u8], options_json: Option<String>) -> Result<UploadHandle> {
    parse(data, &options(options_json)?)
}

/// The names of a workbook's sheets, in the workbook's order (`[]` for a CSV file).
/// `optionsJson`: `ParseOptions` (its limits hold before the workbook is opened).
#[napi]
pub fn sheet_names(data: &[u8], options_json: Option<String>) -> Result<Vec<String>> {
    lms_bulk_upload::sheet_names(data, &options(options_json)?).map_err(to_napi)
}

/// Like `parseBytes`, on a worker thread (for large files read asynchronously).
#[napi(ts_return_type = "Promise<UploadHandle>")]
pub fn parse_bytes_async<'env>(
    env: &'env Env,
    data: &[u8],
    options_json: Option<String>,
) -> Result<Object<'env>> {
    let options = options(options_json)?;
    // the copy the worker thread needs is the one the upload owns
    let bytes = data.to_vec();
    host::spawn(env, move || {
        handle(lms_bulk_upload::parse_owned(bytes, &options))
    })
}

#[napi]
impl UploadHandle {
    /// The number of data rows.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Rows `start..end` as JSON (the core's `view::upload_row`: `[{line, values, email,
    /// firstName, lastName, addGroups, removeGroups, custom, valid, issues}]`).
    #[napi]
    pub fn rows_json(&self, start: u32, end: u32) -> String {
        let end = (end as usize).min(self.inner.len());
        let rows: Vec<_> = ((start as usize).min(end)..end)
            .filter_map(|i| self.inner.row(i))
            .map(|r| lms_bulk_upload::host::view::upload_row(&r))
            .collect();
        to_js(&rows)
    }

    /// Every issue as JSON (`[{code, severity, line, column, message}]`).
    #[napi]
    pub fn issues_json(&self) -> String {
        to_js(self.inner.issues())
    }

    /// The file report as JSON (`{encoding, delimiter, header, rows, validRows, issues}`).
    #[napi]
    pub fn report_json(&self) -> String {
        to_js(&self.inner.report())
    }

    /// What was read, as camelCase JSON (the core's `view::upload_head`: `{format, sheet,
    /// encoding, delimiter, groupSeparator, header}`).
    #[napi]
    pub fn head_json(&self) -> String {
        to_js(&lms_bulk_upload::host::view::upload_head(&self.inner))
    }

    /// Rows without errors.
    #[napi(getter)]
    pub fn valid_count(&self) -> u32 {
        self.inner.valid_rows().count() as u32
    }

    /// Whether any issue is an error.
    #[napi(getter)]
    pub fn has_errors(&self) -> bool {
        self.inner.has_errors()
    }
}

/// For benchmarks: parses `data` (default options) on `threads` threads (0 or none: every
/// core) in Rust alone `runs` times and returns the best time in milliseconds (what the same
/// work costs without the JavaScript boundary; each upload is freed after its time is taken).
#[napi]
pub fn bench_parse_rust(data: &[u8], runs: u32, threads: Option<u32>) -> Result<f64> {
    lms_bulk_upload::best_parse_ms(data, threads.unwrap_or(0) as usize, runs).map_err(to_napi)
}
