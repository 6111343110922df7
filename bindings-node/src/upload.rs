//! `parse` and the parsed `Upload`. Rows stay in the core's compact form; JavaScript asks
//! for them in slices, so parsing a million rows costs what it costs in Rust.

use crate::errors::{bad_json, custom, to_napi};
use crate::json::to_camel_json;
use lms_bulk_upload::{ParseOptions, Upload};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Deserialize;
use std::sync::Arc;

/// `ParseOptions` as JavaScript gives them (camelCase, all optional).
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct JsParseOptions {
    delimiter: Option<String>,
    group_separator: Option<String>,
    max_file_bytes: Option<usize>,
    max_rows: Option<usize>,
    max_field_bytes: Option<usize>,
    max_columns: Option<usize>,
    max_value_chars: Option<usize>,
}

fn one_char(name: &str, text: &str) -> Result<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(custom(
            "file",
            "invalid_setting",
            format!("{name} must be one character, not {text:?}"),
        )),
    }
}

pub(crate) fn parse_options(json: Option<&str>) -> Result<ParseOptions> {
    let given: JsParseOptions = match json {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| custom("file", "invalid_setting", format!("parse options: {e}")))?,
        None => JsParseOptions::default(),
    };
    let mut options = ParseOptions::default();
    if let Some(d) = given.delimiter {
        let c = one_char("delimiter", &d)?;
        if !c.is_ascii() {
            return Err(custom(
                "file",
                "invalid_setting",
                "delimiter must be an ASCII character",
            ));
        }
        options.delimiter = Some(c as u8);
    }
    if let Some(s) = given.group_separator {
        options.group_separator = one_char("groupSeparator", &s)?;
    }
    let limits = [
        (given.max_file_bytes, &mut options.max_file_bytes),
        (given.max_rows, &mut options.max_rows),
        (given.max_field_bytes, &mut options.max_field_bytes),
        (given.max_columns, &mut options.max_columns),
        (given.max_value_chars, &mut options.max_value_chars),
    ];
    for (value, slot) in limits {
        if let Some(v) = value {
            *slot = v;
        }
    }
    Ok(options)
}

/// A parsed and validated upload file (the native side of `Upload`).
#[napi]
pub struct UploadHandle {
    pub(crate) inner: Arc<Upload>,
}

/// Parses and validates the bytes of an upload file. `optionsJson`: camelCase `ParseOptions`.
#[napi]
pub fn parse_bytes(data: &[u8], options_json: Option<String>) -> Result<UploadHandle> {
    let options = parse_options(options_json.as_deref())?;
    lms_bulk_upload::parse(data, &options)
        .map(|upload| UploadHandle {
            inner: Arc::new(upload),
        })
        .map_err(|e| to_napi(&e))
}

/// Like `parseBytes`, on a worker thread (for large files read asynchronously).
#[napi(ts_return_type = "Promise<UploadHandle>")]
pub fn parse_bytes_async<'env>(
    env: &'env Env,
    data: &[u8],
    options_json: Option<String>,
) -> Result<Object<'env>> {
    let options = parse_options(options_json.as_deref())?;
    let bytes = data.to_vec();
    crate::worker::spawn(env, move || {
        lms_bulk_upload::parse(&bytes, &options)
            .map(|upload| UploadHandle {
                inner: Arc::new(upload),
            })
            .map_err(|e| to_napi(&e))
    })
}

#[napi]
impl UploadHandle {
    /// The number of data rows.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Rows `start..end` as JSON (`[{line, values, addGroups, removeGroups, valid, issues}]`).
    #[napi]
    pub fn rows_json(&self, start: u32, end: u32) -> String {
        let end = (end as usize).min(self.inner.len());
        let start = (start as usize).min(end);
        let rows: Vec<_> = (start..end)
            .filter_map(|i| self.inner.row(i))
            .map(|r| r.to_data())
            .collect();
        to_camel_json(&rows)
    }

    /// Every issue as JSON (`[{code, severity, line, column, message}]`).
    #[napi]
    pub fn issues_json(&self) -> String {
        to_camel_json(&self.inner.issues())
    }

    /// The number of issues (without converting them).
    #[napi(getter)]
    pub fn issue_count(&self) -> u32 {
        self.inner.issues().len() as u32
    }

    /// The file report as JSON (`{encoding, delimiter, header, rows, validRows, issues}`).
    #[napi]
    pub fn report_json(&self) -> String {
        to_camel_json(&self.inner.report())
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

/// Reads JSON text given by `lms.js`.
pub(crate) fn read_json(what: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| bad_json(what, e))
}

/// For benchmarks: parses `data` in Rust alone `runs` times and returns the best time in
/// milliseconds (what the same work costs without the JavaScript boundary).
#[napi]
pub fn bench_parse_rust(data: &[u8], runs: u32) -> Result<f64> {
    let options = ParseOptions::default();
    let mut best = f64::MAX;
    for _ in 0..runs.max(1) {
        let start = std::time::Instant::now();
        let upload = lms_bulk_upload::parse(data, &options).map_err(|e| to_napi(&e))?;
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        drop(std::hint::black_box(upload));
    }
    Ok(best)
}
