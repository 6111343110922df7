//! `parse` and the `Upload` it returns.

use crate::error::{from_json_text, to_json, NativeResult};
use crate::file_bytes::FileBytes;
use lms_bulk_upload::host::view;
use lms_bulk_upload::ParseOptions;
use std::sync::Arc;
use uniffi::{Lift, LiftArgsError, LowerReturn, RustBuffer, RustCallStatus};

use crate::UniFfiTag;

/// A parsed file: rows plus issues.
#[derive(uniffi::Object)]
pub struct Upload {
    pub(crate) inner: lms_bulk_upload::Upload,
}

/// Parses the bytes of an uploaded file; `options_json` is an object of parse options
/// (decoded by the core: unknown keys are refused) or null.
#[uniffi::export]
pub fn parse(data: FileBytes, options_json: String) -> NativeResult<Arc<Upload>> {
    parse_bytes(data.bytes(), &options_json)
}

/// The names of a workbook's sheets, in the workbook's order (empty for a CSV file);
/// `options_json` is an object of parse options (their limits hold before the workbook is
/// opened) or null.
#[uniffi::export]
pub fn sheet_names(data: FileBytes, options_json: String) -> NativeResult<Vec<String>> {
    let options = ParseOptions::from_value(from_json_text(&options_json, "parse options")?)?;
    Ok(lms_bulk_upload::sheet_names(data.bytes(), &options)?)
}

/// [`parse`] of bytes wherever they are: uniffi's buffer, or a Ruby String's own.
fn parse_bytes(bytes: &[u8], options_json: &str) -> NativeResult<Arc<Upload>> {
    let options = ParseOptions::from_value(from_json_text(options_json, "parse options")?)?;
    let inner = lms_bulk_upload::parse(bytes, &options)?;
    Ok(Arc::new(Upload { inner }))
}

/// The outcome of [`parse`] as uniffi returns it: the `Upload`'s handle, or the error in
/// `call_status`.
type ParseReturn = <NativeResult<Arc<Upload>> as LowerReturn<UniFfiTag>>::ReturnType;

/// [`parse`] of a large Ruby String read where it is, without its copy into uniffi's
/// buffer (the core's `parse` copies lent bytes itself, on the parse's threads): called by
/// the gem's `LmsBulkUpload::Native.parse` (`lib/lms_bulk_upload/native.rb`), not part of
/// the generated module. It returns and fails exactly as uniffi's scaffolding of [`parse`]
/// does: `Upload.uniffi_lift` takes the handle; an error is lowered into `call_status`.
///
/// # Safety
///
/// `data` points to `len` bytes that stay valid and unchanged until the call returns (or
/// is null, or `len` is 0: no bytes). The gem passes the buffer of a frozen Ruby String of
/// 64 KiB or more, which it keeps referenced for the whole call.
#[doc(hidden)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lms_bulk_upload_ruby_parse_lent(
    data: *const u8,
    len: u64,
    options_json: RustBuffer,
    call_status: &mut RustCallStatus,
) -> ParseReturn {
    uniffi::rust_call(call_status, || {
        let options_json = match <String as Lift<UniFfiTag>>::try_lift(options_json) {
            Ok(options_json) => options_json,
            Err(error) => {
                return <NativeResult<Arc<Upload>> as LowerReturn<UniFfiTag>>::handle_failed_lift(
                    LiftArgsError {
                        arg_name: "options_json",
                        error,
                    },
                );
            }
        };
        let bytes: &[u8] = match usize::try_from(len) {
            Ok(len) if len > 0 && !data.is_null() => {
                // SAFETY: `data` is `RSTRING_PTR` of a Ruby String of `len` bytes (ruby-ffi
                // passes a String given for a `:pointer` parameter as its own buffer,
                // uncopied). The bytes stay valid and unchanged until this call returns,
                // although the call releases the GVL (other Ruby threads and the GC run
                // meanwhile): the String is frozen, so no Ruby code can change it (a String
                // sharing its buffer gets a buffer of its own before it is changed); the
                // calling Ruby method holds it in its frame for the whole call, so the GC
                // cannot free it; and at 64 KiB or more its bytes are on the heap, not
                // embedded in the object, so the GC's compaction (which moves objects) does
                // not move them. They are only read, and not kept past the call: the core's
                // `parse` borrows its input, and the upload owns a copy.
                unsafe { std::slice::from_raw_parts(data, len) }
            }
            _ => &[],
        };
        <NativeResult<Arc<Upload>> as LowerReturn<UniFfiTag>>::lower_return(parse_bytes(
            bytes,
            &options_json,
        ))
    })
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
