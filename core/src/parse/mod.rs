//! Reading an upload file: encoding, delimiter, header and rows.

mod bytes;
pub(crate) mod cells;
mod chunks;
pub(crate) mod column;
pub(crate) mod decode;
pub(crate) mod edit;
pub(crate) mod email;
pub(crate) mod fields;
mod issue_log;
pub(crate) mod options;
#[cfg(test)]
mod ranges_tests;
mod reader;
mod rows;
#[cfg(test)]
mod scan_tests;
pub(crate) mod sheet;
pub(crate) mod suggest;
pub(crate) mod text;
pub(crate) mod upload;
pub(crate) mod validate;

use bytes::{count_byte, count_content_lines, has_lone_cr, is_printable_ascii, trim};
use chunks::Rows;
use issue_log::IssueLog;
use reader::{csv_reader, Record};
use rows::{
    always_checked, mark_duplicates, slot_order, validate_row, BuiltInCells, CustomCells, Ranges,
    RowValues, SlotOrder, HASH_BITS,
};

use crate::error::Error;
use crate::issue::{Issue, IssueCode};
use crate::parse::column::{normalise_header, Column};
use crate::parse::decode::{decode, Chosen};
use crate::parse::email::ascii_email_hash;
use crate::parse::fields::{check_declarations, OneOfIndex, MAX_PROFILE_FIELDS};
use crate::parse::options::{ParseOptions, MAX_FILE_BYTES};
use crate::parse::sheet::FileFormat;
use crate::parse::text::{SharedText, Text};
use crate::parse::upload::{HeaderCell, Upload};

/// Parses and validates an upload file.
///
/// File-level problems (empty, not CSV, a required column missing, a limit passed) fail
/// with an [`Error`] of kind `File`; row-level problems become [`Issue`]s of the rows,
/// which are left out of the plan while the other rows go on.
///
/// The upload keeps the file's text and reads its values in place, so this copies the
/// bytes once (a file in another encoding, or a spreadsheet, is decoded into text of its
/// own instead). A caller that has the file in a `Vec<u8>` and no further use for it can
/// hand it over with [`parse_owned`], which reads it without that copy; a host whose
/// language keeps the text in an immutable buffer can share it with [`parse_shared`].
///
/// ```
/// let csv = b"\xEF\xBB\xBFsep=;\r\nfirstname;lastname;emailaddress\r\nZo\xC3\xAB;Ngata;zoe@example.nz\r\n";
/// let upload = lms_bulk_upload::parse(csv, &Default::default()).unwrap();
/// let row = upload.row(0).unwrap();
/// assert_eq!((row.line(), row.get(lms_bulk_upload::Column::FirstName)), (3, "Zoë"));
/// ```
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Upload, Error> {
    parse_with_chunks(bytes, options, None)
}

/// [`parse`], taking the file's bytes: a UTF-8 file (the usual case) becomes the upload's
/// text as it is, with no copy, so the peak of memory is the file and the index of its
/// values (about a third of the file for rows of 85 bytes), not twice the file. The
/// outcome is [`parse`]'s, byte for byte.
///
/// ```
/// let csv = b"firstname,lastname,emailaddress\nAna,Lopez,ana@example.com\n".to_vec();
/// let upload = lms_bulk_upload::parse_owned(csv, &Default::default()).unwrap();
/// assert_eq!(upload.row(0).unwrap().email(), "ana@example.com");
/// ```
pub fn parse_owned(bytes: Vec<u8>, options: &ParseOptions) -> Result<Upload, Error> {
    parse_input(Input::Owned(bytes), options, None)
}

/// [`parse`] of a UTF-8 file's text that its host keeps ([`SharedText`]: a binding's
/// immutable buffer, such as a Python `bytes` object): the upload shares the text and reads
/// its values in place, with neither a copy nor a check of its UTF-8, so the peak of memory
/// is the host's buffer and the index of its values. A file named in another encoding, or a
/// spreadsheet (a workbook in XML), is decoded into text of the upload's own, as [`parse`]
/// decodes it. The outcome is [`parse`]'s of the text's bytes, byte for byte.
///
/// ```
/// use std::sync::Arc;
/// let csv = "firstname,lastname,emailaddress\nAna,Lopez,ana@example.com\n";
/// let text: lms_bulk_upload::SharedText = Arc::new(csv.to_owned());
/// let upload = lms_bulk_upload::parse_shared(text, &Default::default()).unwrap();
/// assert_eq!(upload.row(0).unwrap().email(), "ana@example.com");
/// ```
pub fn parse_shared(text: SharedText, options: &ParseOptions) -> Result<Upload, Error> {
    parse_input(Input::Shared(text), options, None)
}

/// For the bindings' benchmarks: parses `bytes` with the default options on `threads`
/// threads (0: every core) `runs` times (at least once) and returns the best time in
/// milliseconds, each upload freed after its time is taken: the core's own figure, which a
/// binding's bench prints beside its own call.
#[doc(hidden)]
pub fn best_parse_ms(bytes: &[u8], threads: usize, runs: u32) -> Result<f64, Error> {
    best_ms(threads, runs, |options| parse(bytes, options))
}

/// [`best_parse_ms`] of [`parse_shared`]: for the bench of a binding that shares its
/// language's buffer (Python's `bytes`), whose own figure adds the check of its UTF-8.
#[doc(hidden)]
pub fn best_parse_shared_ms(text: &SharedText, threads: usize, runs: u32) -> Result<f64, Error> {
    best_ms(threads, runs, |options| parse_shared(text.clone(), options))
}

/// The best time of `runs` (at least one) calls of `parse` with the default options on
/// `threads` threads, each upload freed after its time is taken.
fn best_ms(
    threads: usize,
    runs: u32,
    mut parse: impl FnMut(&ParseOptions) -> Result<Upload, Error>,
) -> Result<f64, Error> {
    let options = ParseOptions {
        threads,
        ..ParseOptions::default()
    };
    let mut best = f64::INFINITY;
    for _ in 0..runs.max(1) {
        let start = std::time::Instant::now();
        let upload = parse(&options)?;
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        drop(std::hint::black_box(upload));
    }
    Ok(best)
}

/// [`parse`], with the body cut every `chunk_bytes` bytes (at the next line feed) when
/// `options.threads` allows more than one thread (`None`: the usual cuts, one chunk a
/// thread of at least a MiB). For the tests that compare one thread with many on small
/// files; the outcome is the same for any cuts.
#[doc(hidden)]
pub fn parse_with_chunks(
    bytes: &[u8],
    options: &ParseOptions,
    chunk_bytes: Option<usize>,
) -> Result<Upload, Error> {
    parse_input(Input::Borrowed(bytes), options, chunk_bytes)
}

/// The file's bytes, lent or given, or its text, shared.
enum Input<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
    Shared(SharedText),
}

fn parse_input(
    input: Input<'_>,
    options: &ParseOptions,
    chunk_bytes: Option<usize>,
) -> Result<Upload, Error> {
    check_declarations(&options.fields, &options.login_methods)
        .map_err(|why| Error::new(crate::ErrorKind::Settings, IssueCode::InvalidOption, why))?;
    let mut counted = None;
    let (owned, start, source) = match input {
        Input::Borrowed(bytes) => match copy_on_threads(bytes, options)? {
            Some(copy) => {
                // The lent bytes' lines counted on a thread of their own while the copy is
                // checked: the copy is the upload's text, the lent bytes are the same.
                let (text, lines) = std::thread::scope(|scope| {
                    let counting = scope.spawn(|| Counted::of(bytes, options, chunk_bytes));
                    let text = owned_file_text(copy, options);
                    match counting.join() {
                        Ok(lines) => (text, lines),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                });
                let text = text?;
                counted = Some(lines);
                text
            }
            None => own_file_text(bytes, options)?,
        },
        Input::Owned(bytes) => owned_file_text(bytes, options)?,
        Input::Shared(text) => shared_file_text(text, options)?,
    };
    let whole = owned.as_str();
    // (checked: a shared text's host may break its word and change it between calls)
    let text = whole.get(start..).unwrap_or_default();
    if text.trim().is_empty() {
        return Err(file_error(
            IssueCode::EmptyFile,
            None,
            None,
            "the file is empty".into(),
        ));
    }
    let mut log = IssueLog::new(options);
    encoding_issues(&source, &mut log);
    let (body, line_offset, delimiter) = body_and_delimiter(text, source.format, options);
    let body_at = body.as_ptr() as usize - whole.as_ptr() as usize;
    // (counted on the lent bytes: the same as the text's when the text is those bytes, a
    // UTF-8 file's, and its body is where the count took it to be)
    let utf8 = matches!(
        source.encoding,
        crate::Encoding::Utf8 | crate::Encoding::Utf8Bom
    );
    let counted = counted.filter(|c| {
        utf8 && source.format == FileFormat::Csv && (c.body_at, c.body_len) == (body_at, body.len())
    });
    let parser = Parser::new(
        body,
        line_offset,
        delimiter,
        options,
        log,
        chunk_bytes,
        counted,
    )?;
    let (upload, email_hashes, log) = parser.with_text_at(body_at).run(source)?;
    Ok(upload.complete(owned, email_hashes, log, chunks::threads(options)))
}

/// Files shorter than this are copied on one thread (see [`copy_on_threads`]).
const MIN_PARALLEL_COPY_BYTES: usize = 1 << 20;

/// The borrowed bytes of a file that is likely UTF-8 text (a CSV without a UTF-16 byte
/// order mark, no other encoding named) and read on several threads, copied on those
/// threads, pieces side by side: the copy the upload keeps as its text, made before it is
/// checked (once, as given bytes are: [`owned_file_text`]) rather than after, on one
/// thread. A file refused by its size is refused before anything is copied. `None` (copy
/// after decoding, as one thread does) for a short file, one thread, a spreadsheet or
/// another encoding. The outcome is the same either way: [`decode::decode_owned`] decodes
/// given bytes as [`decode`] does borrowed ones.
fn copy_on_threads(bytes: &[u8], options: &ParseOptions) -> Result<Option<Vec<u8>>, Error> {
    let threads = chunks::threads(options);
    if threads < 2 || bytes.len() < MIN_PARALLEL_COPY_BYTES {
        return Ok(None);
    }
    check_size(bytes, options)?;
    let utf16 = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
    let named_other = !matches!(
        options.encoding,
        None | Some(crate::Encoding::Utf8 | crate::Encoding::Utf8Bom)
    );
    if utf16 || named_other || sheet::detect(bytes)? != FileFormat::Csv {
        return Ok(None);
    }
    // Zeroed pages from the system, written (and so faulted in) by the threads.
    let mut copy = vec![0u8; bytes.len()];
    let piece = bytes.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut pieces = copy.chunks_mut(piece).zip(bytes.chunks(piece));
        let first = pieces.next();
        for (to, from) in pieces {
            scope.spawn(move || to.copy_from_slice(from));
        }
        if let Some((to, from)) = first {
            to.copy_from_slice(from);
        }
    });
    Ok(Some(copy))
}

/// The cuts of a file's body for its threads ([`chunks::cuts`]) and the LF and CR between
/// them ([`chunks::count_lf_cr_between`]), counted on the file's bytes before they are
/// decoded: the body taken to start past a UTF-8 byte order mark and Excel's `sep=` line
/// (as [`strip_sep_line`] finds it), so the count holds for a UTF-8 file's text when its
/// body is where this took it to be (`body_at`, `body_len`).
struct Counted {
    body_at: usize,
    body_len: usize,
    offsets: Vec<usize>,
    lf_cr: Vec<(usize, usize)>,
}

impl Counted {
    /// `bytes` counted on this thread.
    fn of(bytes: &[u8], options: &ParseOptions, chunk_bytes: Option<usize>) -> Counted {
        let text_at = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let text = &bytes[text_at..];
        let first_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
        let mut first = &text[..first_end];
        while let Some(rest) = first.strip_suffix(b"\r") {
            first = rest;
        }
        let sep_line =
            first.len() == 5 && first[..4].eq_ignore_ascii_case(b"sep=") && first[4].is_ascii();
        let body_at = match sep_line {
            true => text_at + (first_end + 1).min(text.len()),
            false => text_at,
        };
        let body = &bytes[body_at..];
        let offsets = chunks::cuts(body, chunks::threads(options), chunk_bytes);
        let lf_cr = chunks::count_lf_cr_between(body, &offsets, 1);
        Counted {
            body_at,
            body_len: body.len(),
            offsets,
            lf_cr,
        }
    }
}

/// [`file_text`] of bytes given: a UTF-8 file's text is its bytes, taken as they are;
/// also returns where the text starts in them (past a byte order mark).
fn owned_file_text(bytes: Vec<u8>, options: &ParseOptions) -> Result<(Text, usize, Source), Error> {
    let max_bytes = check_size(&bytes, options)?;
    let format = sheet::detect(&bytes)?;
    if format != FileFormat::Csv {
        return own_file_text(&bytes, options);
    }
    let (text, start, encoding, chosen) = decode::decode_owned(bytes, max_bytes, options.encoding)?;
    let source = Source {
        encoding,
        chosen,
        format,
        sheet: None,
    };
    Ok((Text::Own(text), start, source))
}

/// [`file_text`] of a host's shared text: a CSV that [`decode`] reads as UTF-8 is the
/// text as it is, shared (already UTF-8: nothing to check); any other file is decoded into
/// text of its own, as lent bytes are. Also returns where the text starts (past a byte
/// order mark).
fn shared_file_text(
    shared: SharedText,
    options: &ParseOptions,
) -> Result<(Text, usize, Source), Error> {
    let bytes = AsRef::<str>::as_ref(&*shared).as_bytes();
    check_size(bytes, options)?;
    let format = sheet::detect(bytes)?;
    let as_utf8 = decode::read_as_utf8(bytes, options.encoding);
    if let (FileFormat::Csv, Some((start, encoding))) = (format, as_utf8) {
        let source = Source {
            encoding,
            chosen: Chosen::Known,
            format,
            sheet: None,
        };
        return Ok((Text::Shared(shared), start, source));
    }
    own_file_text(bytes, options)
}

/// [`file_text`] as text of the upload's own, which starts at its first byte.
fn own_file_text(bytes: &[u8], options: &ParseOptions) -> Result<(Text, usize, Source), Error> {
    let (text, source) = file_text(bytes, options)?;
    Ok((Text::Own(text.into_owned()), 0, source))
}

impl Upload {
    /// The upload read from `text`: duplicate emails marked (from the valid rows' keys, on
    /// up to `threads` threads), the issues listed.
    fn complete(
        mut self,
        text: Text,
        email_hashes: Vec<u64>,
        log: IssueLog,
        threads: usize,
    ) -> Upload {
        self.text = text;
        let duplicates = mark_duplicates(&mut self, email_hashes, threads);
        let upload = &self;
        let issues = log.finish(duplicates.iter().map(|&(later, first)| {
            let (later, first) = (later as usize, first as usize);
            let message = move || {
                let email = upload.row(later).map_or("", |r| r.email());
                let first_line = upload.lines[first];
                format!("{email:?} already appears on line {first_line}; only the first occurrence is used")
            };
            (upload.lines[later], message)
        }));
        self.issues = issues;
        self
    }
}

/// Where the text came from: the encoding (and how sure), the format, the sheet.
pub(crate) struct Source {
    encoding: crate::Encoding,
    chosen: Chosen,
    format: FileFormat,
    sheet: Option<String>,
}

/// The file's warnings about its encoding: which legacy code page was detected, and
/// whether the detector was unsure.
fn encoding_issues(source: &Source, log: &mut IssueLog) {
    let name = source.encoding.as_str();
    match (source.chosen, source.encoding) {
        (Chosen::Known, _) => return,
        (_, crate::Encoding::Windows1252) => log.file_issue(Issue::new(
            IssueCode::EncodingGuessed,
            None,
            None,
            "the file is not valid UTF-8; it was read as Windows-1252 (save as \"CSV UTF-8\" to be sure of accents)".into(),
        )),
        _ => log.file_issue(Issue::new(
            IssueCode::EncodingGuessed,
            None,
            None,
            format!("the file is not valid UTF-8; it was read as {name}, the code page its letters fit best (save as \"CSV UTF-8\" to be sure of accents)"),
        )),
    }
    if source.chosen == Chosen::Unsure {
        log.file_issue(Issue::new(
            IssueCode::EncodingUnsure,
            None,
            None,
            format!("the file's encoding could not be told for sure (it was read as {name}): check the names in the rows, and choose the file's encoding if letters look wrong"),
        ));
    }
}

/// The file as text: a CSV decoded ([`decode`]), or a spreadsheet's sheet as CSV text
/// ([`sheet::read`]), with where it came from. A file longer than `max_file_bytes` is
/// refused by its length before anything is read (`file_too_large`).
pub(crate) fn file_text<'a>(
    bytes: &'a [u8],
    options: &ParseOptions,
) -> Result<(std::borrow::Cow<'a, str>, Source), Error> {
    let max_bytes = check_size(bytes, options)?;
    let format = sheet::detect(bytes)?;
    Ok(match format {
        FileFormat::Csv => {
            let (text, encoding, chosen) = decode(bytes, max_bytes, options.encoding)?;
            let source = Source {
                encoding,
                chosen,
                format,
                sheet: None,
            };
            (text, source)
        }
        _ => {
            let read = sheet::read(bytes, format, options)?;
            let source = Source {
                encoding: crate::Encoding::Utf8,
                chosen: Chosen::Known,
                format,
                sheet: Some(read.sheet),
            };
            (std::borrow::Cow::Owned(read.text), source)
        }
    })
}

/// The size limit a file is held to (`max_file_bytes`, at most [`MAX_FILE_BYTES`]), after
/// refusing a file longer than it by its length, before anything is read (`file_too_large`).
pub(crate) fn check_size(bytes: &[u8], options: &ParseOptions) -> Result<usize, Error> {
    let max_bytes = options.max_file_bytes.min(MAX_FILE_BYTES);
    if bytes.len() > max_bytes {
        return Err(file_error(
            IssueCode::FileTooLarge,
            None,
            None,
            format!(
                "the file is {} bytes; the limit (max_file_bytes) is {max_bytes}",
                bytes.len()
            ),
        ));
    }
    Ok(max_bytes)
}

/// The text after Excel's `sep=` line, how many lines that line took, and the delimiter:
/// given, from `sep=`, or detected; a spreadsheet's text is always comma-separated.
pub(crate) fn body_and_delimiter<'t>(
    text: &'t str,
    format: FileFormat,
    options: &ParseOptions,
) -> (&'t str, u32, u8) {
    if format != FileFormat::Csv {
        return (text, 0, b',');
    }
    let (body, line_offset, sep_line) = strip_sep_line(text);
    let delimiter = options
        .delimiter
        .or(sep_line)
        .unwrap_or_else(|| detect_delimiter(body));
    (body, line_offset, delimiter)
}

fn file_error(code: IssueCode, line: Option<u32>, column: Option<&str>, message: String) -> Error {
    Error::file(code, line, column, message)
}

/// Whether a normalised header names a password (`Password`, `pwd`, `Initial password`...).
fn is_password_header(key: &str) -> bool {
    matches!(key, "pwd" | "pass" | "passwd" | "passcode" | "passphrase")
        || key.ends_with("password")
        || key.starts_with("password")
}

/// Excel's `sep=;` first line: returns the rest, how many lines were skipped, the delimiter.
fn strip_sep_line(text: &str) -> (&str, u32, Option<u8>) {
    let first_end = text.find('\n').unwrap_or(text.len());
    let first = text[..first_end].trim_end_matches('\r');
    let bytes = first.as_bytes();
    if bytes.len() == 5 && bytes[..4].eq_ignore_ascii_case(b"sep=") && bytes[4].is_ascii() {
        let rest = text.get(first_end + 1..).unwrap_or("");
        return (rest, 1, Some(bytes[4]));
    }
    (text, 0, None)
}

/// Counts `,` `;` and tab on the header line, outside quotes; the most frequent wins (`,` on ties).
fn detect_delimiter(body: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in body.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    candidates[best]
}

/// The built-in columns.
pub(crate) const COLUMNS: usize = Column::ALL.len();
/// Slots a row can have: one per built-in column and per host profile field.
const MAX_SLOTS: usize = COLUMNS + MAX_PROFILE_FIELDS;

/// What every row of a file is checked with.
struct RowSetup<'s> {
    /// The file's built-in columns, in the order of `Column::ALL`, and their slots.
    column_slots: &'s [(Column, usize)],
    /// Those of `column_slots` checked in full in every row (see `always_checked`).
    always_checked: u32,
    /// The columns by slot, when their slots are in their order (see `SlotOrder`).
    slot_order: Option<SlotOrder>,
    email_slot: usize,
    header_len: usize,
    check_conflicts: bool,
}

/// Each slot's position on the line (the header cell whose values it holds), when each of
/// the `width` slots has exactly one; `None` when a slot has several (a repeated group or
/// content column, whose cells are merged).
fn slot_positions<const SLOTS: usize>(
    targets: &[Option<u8>],
    width: usize,
) -> Option<[usize; SLOTS]> {
    let mut positions = [usize::MAX; SLOTS];
    for (position, target) in targets.iter().enumerate() {
        if let Some(slot) = target {
            let at = positions.get_mut(usize::from(*slot))?;
            if *at != usize::MAX {
                return None;
            }
            *at = position;
        }
    }
    positions[..width]
        .iter()
        .all(|&p| p != usize::MAX)
        .then_some(positions)
}

/// `bytes::trim` of `text[from..to]`, as a range of `text`: unchanged when the value
/// neither starts nor ends with a byte that could be whitespace, else `str::trim`'s.
/// `None` if the range is not on character boundaries.
#[inline(always)]
fn trim_range(text: &str, from: usize, to: usize) -> Option<(usize, usize)> {
    let plain = |b: u8| b > b' ' && b < 0x80;
    match text.as_bytes().get(from..to) {
        Some([first, .., last]) if plain(*first) && plain(*last) => Some((from, to)),
        Some([only]) if plain(*only) => Some((from, to)),
        Some([]) => Some((from, to)),
        _ => {
            let value = trim(text.get(from..to)?);
            let at = value.as_ptr() as usize - text.as_ptr() as usize;
            Some((at, at + value.len()))
        }
    }
}

struct Parser<'a> {
    body: &'a str,
    /// Where `body` starts in the text the upload keeps (its values are offsets there).
    body_at: usize,
    line_offset: u32,
    delimiter: u8,
    options: &'a ParseOptions,
    /// Reads the records with quotes (and the first): the `csv` crate's reader without
    /// its buffer, over the body from `pos`. A chunk's parser builds it when it first meets
    /// such a record (`None` until then: most chunks never need it).
    core: Option<csv_core::Reader>,
    /// Where reading resumes in `body`.
    pos: usize,
    /// Whether a record was read (the first goes to `core`, which strips a BOM).
    started: bool,
    /// Whether the delimiter allows the fast path (ASCII, neither a quote nor a line break).
    plain_delimiter: bool,
    /// The fields of the last record `core` read: their bytes, their end offsets, and how
    /// many there are.
    fields: Vec<u8>,
    field_ends: Vec<usize>,
    field_count: usize,
    /// The field ranges of the last line the fast path read, in that line.
    bounds: Vec<(usize, usize)>,
    header: Vec<HeaderCell>,
    /// For each header position, the slot its value goes to (None: ignored).
    targets: Vec<Option<u8>>,
    slots: [Option<u8>; COLUMNS],
    /// The slot of each of the host's profile fields (`options.fields`), if in the header.
    field_slots: Vec<Option<u8>>,
    /// The values of each `one_of` field, indexed once (by `options.fields` order).
    one_of: std::sync::Arc<[Option<OneOfIndex>]>,
    width: usize,
    log: IssueLog,
    /// The byte offset in `body` where the last record read starts (after any blank lines
    /// the csv reader skipped before it), to find an unterminated quote.
    record_start: usize,
    /// Line counting state for [`Parser::locate`]: the last record start and its line.
    counted_byte: usize,
    counted_line: u32,
    /// Whether the body has a CR that is not part of a CRLF (old Mac line ends): if not,
    /// counting LFs counts the lines.
    lone_cr: bool,
    /// How many LF the body has (for the row estimate).
    lf_count: usize,
    /// Where this parser stops: a record starting at or after it is the next chunk's
    /// (the body's length when one parser reads it all).
    stop: usize,
    /// Where the rows may be cut for other threads (see [`chunks`]): each cut's offset, the
    /// line it starts (not counting the `sep=` line), and the LF up to the next cut.
    cuts: Vec<(usize, u32, usize)>,
}

impl<'a> Parser<'a> {
    fn new(
        body: &'a str,
        line_offset: u32,
        delimiter: u8,
        options: &'a ParseOptions,
        log: IssueLog,
        chunk_bytes: Option<usize>,
        counted: Option<Counted>,
    ) -> Result<Parser<'a>, Error> {
        // The cuts for reading on several threads, with the line each starts and the LF in
        // each chunk, counted in the one pass that counts the body's LF and CR (or counted
        // before, on the bytes the body is).
        let threads = chunks::threads(options);
        let (offsets, lf_cr) = match counted {
            Some(counted) => (counted.offsets, counted.lf_cr),
            None => {
                let offsets = chunks::cuts(body.as_bytes(), threads, chunk_bytes);
                let lf_cr = chunks::count_lf_cr_between(body.as_bytes(), &offsets, threads);
                (offsets, lf_cr)
            }
        };
        let (mut lf_count, mut cr_count) = (0, 0);
        let mut cuts = Vec::with_capacity(offsets.len());
        for (i, (lf, cr)) in lf_cr.into_iter().enumerate() {
            if let Some(last) = i.checked_sub(1) {
                cuts.push((offsets[last], lf_count as u32 + 1, lf));
            }
            lf_count += lf;
            cr_count += cr;
        }
        // Short lines are read in one pass: their rows' index outweighs their text, and the
        // chunks' own copies of it would raise the peak (`chunks::MIN_LINE_BYTES`).
        if chunk_bytes.is_none() && body.len() < chunks::MIN_LINE_BYTES * (lf_count + 1) {
            cuts.clear();
        }
        let mut parser = Parser {
            body,
            body_at: 0,
            line_offset,
            delimiter,
            options,
            core: Some(csv_reader(delimiter)),
            pos: 0,
            started: false,
            plain_delimiter: delimiter.is_ascii() && !matches!(delimiter, b'"' | b'\r' | b'\n'),
            fields: vec![0; 1024],
            field_ends: vec![0; 64],
            field_count: 0,
            bounds: Vec::new(),
            header: Vec::new(),
            targets: Vec::new(),
            slots: [None; COLUMNS],
            field_slots: vec![None; options.fields.len()],
            one_of: OneOfIndex::for_fields(&options.fields).into(),
            width: 0,
            log,
            record_start: 0,
            counted_byte: 0,
            counted_line: 1,
            lone_cr: cr_count > 0 && has_lone_cr(body),
            lf_count,
            stop: body.len(),
            cuts,
        };
        parser.read_header()?;
        Ok(parser)
    }

    fn read_header(&mut self) -> Result<(), Error> {
        let Some((line, _)) = self.read()? else {
            return Err(file_error(
                IssueCode::EmptyFile,
                None,
                None,
                "the file is empty".into(),
            ));
        };
        // A header that opens a quote it never closes swallows the whole file: say so
        // rather than report its columns.
        if let Some(error) = self.unterminated_quote() {
            return Err(error);
        }
        let mut seen: [Option<usize>; COLUMNS] = [None; COLUMNS];
        let declared = crate::parse::fields::header_index(&self.options.fields);
        // The first record always comes from `core`.
        for position in 0..self.field_count {
            let raw = self.field(position);
            self.check_field_len(raw, line, None)?;
            let text = String::from_utf8_lossy(raw).trim().to_owned();
            let assigned = self.options.column_assignments.get(&position);
            if let Some(None) = assigned {
                // Ignored by hand: no value read, no unknown_column issue.
                self.targets.push(None);
                self.header.push(HeaderCell {
                    header: text,
                    column: None,
                    field: None,
                });
                continue;
            }
            let key = match assigned {
                Some(Some(name)) => {
                    let key = normalise_header(name);
                    if Column::from_normalised(&key).is_none() && !declared.contains_key(&key) {
                        return Err(Error::new(
                            crate::ErrorKind::Settings,
                            IssueCode::InvalidOption,
                            format!(
                                "column_assignments: column {} is assigned to {name:?}, which is no column or declared profile field",
                                position + 1
                            ),
                        ));
                    }
                    key
                }
                _ => normalise_header(&text),
            };
            let column = Column::from_normalised(&key);
            let mut target = None;
            let custom = match column {
                Some(_) => None,
                None => declared.get(&key).copied(),
            };
            if let Some(i) = custom {
                if self.field_slots[i].is_some() {
                    return Err(file_error(
                        IssueCode::DuplicateColumn,
                        Some(line),
                        Some(&self.options.fields[i].name),
                        format!(
                            "the column {:?} (column {}) repeats the profile field {:?}",
                            text,
                            position + 1,
                            self.options.fields[i].name
                        ),
                    ));
                }
                self.field_slots[i] = Some(self.width as u8);
                self.width += 1;
                self.targets.push(self.field_slots[i]);
                self.header.push(HeaderCell {
                    header: text,
                    column: None,
                    field: Some(self.options.fields[i].name.clone()),
                });
                continue;
            }
            match column {
                Some(c) => {
                    if let Some(first) = seen[c as usize] {
                        if !c.may_repeat() {
                            return Err(file_error(
                                IssueCode::DuplicateColumn,
                                Some(line),
                                Some(c.as_str()),
                                format!(
                                    "the column {:?} (column {}) repeats {:?} (column {}); only addgroup, removegroup, course, collection and campaign may repeat",
                                    text,
                                    position + 1,
                                    self.header[first].header,
                                    first + 1
                                ),
                            ));
                        }
                    } else {
                        seen[c as usize] = Some(position);
                        self.slots[c as usize] = Some(self.width as u8);
                        self.width += 1;
                    }
                    target = self.slots[c as usize];
                }
                None if text.is_empty() => {}
                None if is_password_header(&key) => self.log.file_issue(Issue::new(
                    IssueCode::PasswordColumn,
                    Some(line),
                    Some(&text),
                    format!(
                        "the column {text:?} is ignored: passwords are never taken from a file (it would put them in a spreadsheet, an email attachment, a download folder); choose generated passwords, a default password with a forced reset, or sign-in links in the settings"
                    ),
                )),
                None => self.log.file_issue(Issue::new(
                    IssueCode::UnknownColumn,
                    Some(line),
                    Some(&text),
                    format!("the column {text:?} is not recognised and is ignored"),
                )),
            }
            self.targets.push(target);
            self.header.push(HeaderCell {
                header: text,
                column,
                field: None,
            });
        }
        if let Some(past) = self
            .options
            .column_assignments
            .keys()
            .find(|p| **p >= self.field_count)
        {
            return Err(Error::new(
                crate::ErrorKind::Settings,
                IssueCode::InvalidOption,
                format!(
                    "column_assignments: the header has {} columns, not {}",
                    self.field_count,
                    past + 1
                ),
            ));
        }
        let missing: Vec<&str> = Column::REQUIRED
            .iter()
            .filter(|c| seen[**c as usize].is_none())
            .map(|c| c.as_str())
            .chain(
                self.options
                    .fields
                    .iter()
                    .zip(&self.field_slots)
                    .filter(|(f, slot)| f.required && slot.is_none())
                    .map(|(f, _)| f.name.as_str()),
            )
            .collect();
        if let Some(first) = missing.first() {
            let found: Vec<&str> = self.header.iter().map(|h| h.header.as_str()).collect();
            return Err(file_error(
                IssueCode::MissingRequiredColumn,
                Some(line),
                Some(first),
                format!(
                    "the header has no {} column (found: {}; delimiter {:?})",
                    missing.join(", "),
                    found.join(", "),
                    char::from(self.delimiter)
                ),
            ));
        }
        Ok(())
    }

    fn check_field_len(&self, raw: &[u8], line: u32, column: Option<&str>) -> Result<(), Error> {
        if raw.len() <= self.options.max_field_bytes {
            return Ok(());
        }
        if let Some(error) = self.unterminated_quote() {
            return Err(error);
        }
        Err(file_error(
            IssueCode::FieldTooLong,
            Some(line),
            column,
            format!(
                "a cell is {} bytes; the limit (max_field_bytes) is {}",
                raw.len(),
                self.options.max_field_bytes
            ),
        ))
    }

    /// The parser, its body starting at `body_at` in the text the upload will keep.
    fn with_text_at(mut self, body_at: usize) -> Parser<'a> {
        self.body_at = body_at;
        self
    }

    /// Reads the rows: the upload without its text (see [`Upload::complete`]), the keys of
    /// its valid rows' emails and the issues found.
    fn run(mut self, source: Source) -> Result<(Upload, Vec<u64>, IssueLog), Error> {
        // Upper bounds so the big buffers never reallocate (peak memory stays predictable).
        let (row_estimate, ends_estimate) = self.estimates(self.body.as_bytes(), self.lf_count);
        let check_conflicts = self.slots[Column::AddGroup as usize].is_some()
            && self.slots[Column::RemoveGroup as usize].is_some();
        let log = std::mem::replace(&mut self.log, IssueLog::new(self.options));
        let mut rows = Rows::new(row_estimate, ends_estimate, log);
        let threads = chunks::threads(self.options);
        if threads > 1 && !self.lone_cr && !self.cuts.is_empty() {
            let parser = chunks::read_in_chunks(self, &mut rows, check_conflicts, threads)?;
            return parser.finish(rows, source);
        }
        self.read_rows(&mut rows, check_conflicts)?;
        self.finish(rows, source)
    }

    /// The rows and cell ends to reserve for a body (or a chunk of it) of `bytes` with
    /// `lf_count` LF: upper bounds, so the big buffers never reallocate. Counting lines is
    /// exact enough unless most are blank (a file of line breaks): then the lines with
    /// content are counted, so the reservation follows the rows.
    fn estimates(&self, bytes: &[u8], lf_count: usize) -> (usize, usize) {
        let mut line_count = lf_count + 1;
        // a byte a cell (most rows), record end, base, line, validity, email key
        let per_row = self.width + 21;
        if line_count.saturating_mul(per_row) > 4 * bytes.len() {
            line_count = count_content_lines(bytes);
        }
        let row_estimate = line_count.min(self.options.max_rows.saturating_add(1));
        // A row keeps the ends of its cells up to its last value: at most one per field,
        // so the delimiters bound them when rows are short (counted only then).
        let mut ends_estimate = row_estimate * self.width;
        if ends_estimate * 4 > bytes.len() {
            let fields = count_byte(bytes, self.delimiter) + row_estimate;
            ends_estimate = ends_estimate.min(fields);
        }
        (row_estimate, ends_estimate)
    }

    /// The upload from the rows read, without its text (see [`Upload::complete`]), the
    /// keys of the valid rows' emails and the issues found.
    fn finish(self, rows: Rows, source: Source) -> Result<(Upload, Vec<u64>, IssueLog), Error> {
        let Rows {
            cells,
            lines,
            email_hashes,
            log,
            ..
        } = rows;
        if lines.is_empty() {
            return Err(file_error(
                IssueCode::NoDataRows,
                None,
                None,
                "the file has a header but no user rows".into(),
            ));
        }
        let upload = Upload {
            header: self.header,
            slots: self.slots,
            field_slots: self.field_slots,
            fields: self.options.fields.clone().into(),
            one_of: self.one_of,
            login_methods: self.options.login_methods.clone().into(),
            delimiter: self.delimiter,
            encoding: source.encoding,
            format: source.format,
            sheet: source.sheet,
            group_separator: self.options.group_separator,
            clear_token: self.options.clear_token.clone(),
            text: Text::default(),
            cells,
            lines,
            issues: Vec::new(),
        };
        Ok((upload, email_hashes, log))
    }

    /// Reads rows into `out` until the body's end or `stop` (a file-level problem ends the
    /// reading with its error).
    fn read_rows(&mut self, out: &mut Rows, check_conflicts: bool) -> Result<(), Error> {
        // A row's values are an array on the stack, set blank on every row: as long as the
        // file's slots need (most files have a few columns), not the most a file may have.
        match self.width {
            0..=8 => self.read_rows_in::<8>(out, check_conflicts),
            9..=16 => self.read_rows_in::<16>(out, check_conflicts),
            _ => self.read_rows_in::<MAX_SLOTS>(out, check_conflicts),
        }
    }

    /// [`Parser::read_rows`] with `SLOTS` (at least the width) slots a row.
    fn read_rows_in<const SLOTS: usize>(
        &mut self,
        out: &mut Rows,
        check_conflicts: bool,
    ) -> Result<(), Error> {
        let header_len = self.header.len();
        let separator = self.options.group_separator;
        // The merged cells of a repeated addgroup/removegroup column, by slot.
        let mut spill: Vec<String> = vec![String::new(); self.width];
        // The text of a record read by `core`: its fields joined.
        let mut joined = String::new();
        let body = self.body;
        // The file's columns, in the order of `Column::ALL`, and their slots: only these
        // are read and checked in each row (the others are blank in every row, and none of
        // them is required: the header has every required column).
        let column_slots: Vec<(Column, usize)> = Column::ALL
            .into_iter()
            .filter_map(|c| self.slots[c as usize].map(|slot| (c, usize::from(slot))))
            .collect();
        let always = always_checked(&column_slots);
        let setup = RowSetup {
            // (the header has the email column: it is required)
            email_slot: self.slots[Column::EmailAddress as usize].map_or(0, usize::from),
            column_slots: &column_slots,
            always_checked: always,
            slot_order: slot_order(&column_slots, always),
            header_len,
            check_conflicts,
        };
        let max_field_bytes = self.options.max_field_bytes;
        // Each slot's one position on the line, when no slot has two (a repeated group
        // column, whose cells are merged): then a row whose fields are in the body as they
        // are keeps its values as ranges of it (see `read_ranges`).
        let positions = slot_positions::<SLOTS>(&self.targets, self.width);
        #[cfg(test)]
        let positions = positions.filter(|_| !ranges_tests::TEXT_ONLY.with(std::cell::Cell::get));
        // (whether slot `i` is at position `i` for each slot)
        let in_order = positions
            .as_ref()
            .is_some_and(|p| p[..self.width].iter().enumerate().all(|(i, &p)| i == p));
        while let Some((line, record)) = self.read()? {
            // Printable ASCII only (the usual case): no control character to look for, and
            // lengths in characters are lengths in bytes.
            let (printable, clean, in_body): (bool, bool, bool) = match record {
                Record::Body {
                    printable, clean, ..
                } => (printable, clean, true),
                // The fields found as they are in the body: read in place, as a plain
                // line is (the values' bytes are the same, so is the outcome).
                Record::Fields if self.find_fields() => {
                    let len = self.field_ends[..self.field_count].last().copied();
                    let printable = is_printable_ascii(&self.fields[..len.unwrap_or(0)]);
                    (printable, printable, true)
                }
                Record::Fields => {
                    self.join_fields(&mut joined);
                    let printable = is_printable_ascii(joined.as_bytes());
                    (printable, printable, false)
                }
            };
            if let (true, Some(positions)) = (in_body, &positions) {
                let mut ranges = [(0u32, 0u32); SLOTS];
                // (`None`: a range off a character boundary, never: the row read as text)
                if let Some((blank, extra)) = self.read_ranges(
                    line,
                    &positions[..self.width],
                    in_order,
                    &mut ranges[..self.width],
                )? {
                    if !blank {
                        let values = Ranges {
                            text: body,
                            ranges: &ranges,
                        };
                        self.add_row(out, &setup, line, &values, extra, printable, clean)?;
                    }
                    continue;
                }
            }
            // The line's text, where `bounds` are.
            let text: &str = match record {
                Record::Body { end, .. } => &body[self.record_start..end],
                Record::Fields if in_body => &body[self.record_start..],
                Record::Fields => &joined,
            };
            let mut blank = true;
            let mut extra = false;
            // The trimmed value of each slot (its first non-blank cell), and which slots
            // have several cells merged in `spill`.
            let mut cells: [&str; SLOTS] = [""; SLOTS];
            let mut merged: u64 = 0;
            // (read once a row: the compiler cannot tell that the row's writes leave them)
            let targets = &self.targets[..];
            for (position, &(from, to)) in self.bounds.iter().enumerate() {
                let value = text.get(from..to).unwrap_or("\u{FFFD}");
                if value.len() > max_field_bytes {
                    self.check_field_len(value.as_bytes(), line, self.column_name(position))?;
                }
                let value = trim(value);
                if value.is_empty() {
                    continue;
                }
                blank = false;
                match targets.get(position).copied().flatten() {
                    Some(slot) => {
                        let slot = usize::from(slot);
                        if cells[slot].is_empty() {
                            cells[slot] = value;
                        } else {
                            // a repeated addgroup/removegroup column: merge the cells
                            if merged & (1 << slot) == 0 {
                                merged |= 1 << slot;
                                spill[slot].clear();
                                spill[slot].push_str(cells[slot]);
                            }
                            spill[slot].push(separator);
                            spill[slot].push_str(value);
                        }
                    }
                    None if position >= header_len => extra = true,
                    None => {}
                }
            }
            if blank {
                continue;
            }
            // The merged cells in their slots: from here on a slot's value is its cell.
            let mut spilled = merged;
            while spilled != 0 {
                let slot = spilled.trailing_zeros() as usize;
                cells[slot] = &spill[slot];
                spilled &= spilled - 1;
            }
            self.add_row(
                out,
                &setup,
                line,
                &cells[..self.width],
                extra,
                printable,
                clean,
            )?;
        }
        Ok(())
    }

    /// The trimmed value of each slot of the line just read, as a range of the body, from
    /// the fields' `bounds` (in the body from `record_start`) and each slot's position on
    /// the line (`in_order`: each slot's position is its number); returns whether the line
    /// is blank (every field, read or not, blank once trimmed) and whether it has a value
    /// past the header's columns. Checks the fields' length first, as the cells are read in
    /// order. `None` if a field does not start and
    /// end on a character boundary, which the fields of valid text cut at ASCII bytes
    /// never do (the row is then read as text, as before).
    #[inline(always)]
    fn read_ranges(
        &self,
        line: u32,
        positions: &[usize],
        in_order: bool,
        ranges: &mut [(u32, u32)],
    ) -> Result<Option<(bool, bool)>, Error> {
        let bounds = &self.bounds[..];
        let start = self.record_start;
        let body = self.body;
        // A field longer than the limit is on a line at least as long: checked only then.
        if bounds
            .last()
            .is_some_and(|&(_, end)| end > self.options.max_field_bytes)
        {
            for (position, &(from, to)) in bounds.iter().enumerate() {
                if to - from > self.options.max_field_bytes {
                    let value = &body.as_bytes()[start + from..start + to];
                    self.check_field_len(value, line, self.column_name(position))?;
                }
            }
        }
        let mut any = false;
        let mut on_boundaries = true;
        let mut read = |range: &mut (u32, u32), (from, to): (usize, usize)| {
            let (from, to) = match trim_range(body, start + from, start + to) {
                Some(trimmed) => trimmed,
                None => {
                    on_boundaries = false;
                    (0, 0)
                }
            };
            *range = (from as u32, to as u32);
            any |= from != to;
        };
        if in_order {
            // slot `i` at position `i` (the usual file): the fields in turn
            for (range, &bound) in ranges.iter_mut().zip(bounds) {
                read(range, bound);
            }
        } else {
            for (range, &position) in ranges.iter_mut().zip(positions) {
                if let Some(&bound) = bounds.get(position) {
                    read(range, bound);
                }
            }
        }
        // (a row with none of the file's columns, rare, or past them)
        let trimmed_blank = |&(from, to): &(usize, usize)| {
            trim_range(body, start + from, start + to).map(|(from, to)| from == to)
        };
        let mut blank = !any;
        if blank {
            for bound in bounds {
                match trimmed_blank(bound) {
                    Some(true) => {}
                    Some(false) => blank = false,
                    None => on_boundaries = false,
                }
            }
        }
        let mut extra = false;
        if let Some(past) = bounds.get(self.header.len()..) {
            for bound in past {
                match trimmed_blank(bound) {
                    Some(true) => {}
                    Some(false) => extra = true,
                    None => on_boundaries = false,
                }
            }
        }
        Ok(on_boundaries.then_some((blank, extra)))
    }

    /// Adds a row read (not blank): its checks, its issues, its email's key, its values in
    /// the index and its line.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn add_row<V: RowValues + ?Sized>(
        &self,
        out: &mut Rows,
        setup: &RowSetup<'_>,
        line: u32,
        values: &V,
        extra: bool,
        printable: bool,
        clean: bool,
    ) -> Result<(), Error> {
        if out.lines.len() >= self.options.max_rows {
            return Err(chunks::too_many_rows(line, self.options.max_rows));
        }
        let fields = self.field_slots.len();
        let mut custom: [Option<&str>; MAX_PROFILE_FIELDS];
        let custom: &[Option<&str>] = match fields {
            0 => &[],
            _ => {
                custom = [None; MAX_PROFILE_FIELDS];
                for (value, slot) in custom.iter_mut().zip(&self.field_slots) {
                    *value = slot.map(|slot| values.text(usize::from(slot)));
                }
                &custom[..fields]
            }
        };
        out.log.begin_row(line);
        if extra {
            let header_len = setup.header_len;
            out.log.push(IssueCode::ExtraValues, None, || {
                format!("the row has values after the last of the {header_len} header columns; they are ignored")
            });
        }
        let email_hash = validate_row(
            BuiltInCells {
                cells: values,
                columns: setup.column_slots,
                always: setup.always_checked,
                order: setup.slot_order.as_ref(),
            },
            CustomCells {
                values: custom,
                one_of: &self.one_of,
            },
            self.options,
            setup.check_conflicts,
            printable,
            clean,
            &mut out.log,
        );
        let ok = out.log.end_row();
        let index = out.lines.len();
        if ok {
            // (the hash of a plainly valid address is that of its ASCII bytes)
            let hash = match email_hash {
                Some(hash) => hash,
                None if printable => ascii_email_hash(values.bytes(setup.email_slot)),
                None => email::email_hash(values.text(setup.email_slot)),
            };
            if out.email_hashes.capacity() == 0 {
                let left = out.estimate.saturating_sub(index);
                out.email_hashes.reserve_exact(left);
            }
            out.email_hashes.push((hash & HASH_BITS) | index as u64);
        }
        // the slots up to the last with a value (a short row keeps a short index)
        let used = (0..self.width)
            .rev()
            .find(|&slot| values.len(slot) != 0)
            .map_or(0, |slot| slot + 1);
        values
            .push_to(&mut out.cells, self.body, self.body_at, used, ok)
            .map_err(|_| chunks::too_large())?;
        out.lines.push(line);
        Ok(())
    }

    /// The name an issue about the cell at `position` gives: the canonical column name, or
    /// the header text of an unknown column.
    fn column_name(&self, position: usize) -> Option<&str> {
        self.header
            .get(position)
            .map(|h| match (h.column, &h.field) {
                (Some(column), _) => column.as_str(),
                (None, Some(field)) => field.as_str(),
                (None, None) => h.header.as_str(),
            })
    }
}

impl<'a> Parser<'a> {
    /// A parser of the rows from `start` (just after a line feed, on `line`, not counting
    /// the `sep=` line) to `stop`, with `lf_count` LF between, as if a record started there.
    fn for_chunk(&self, start: usize, stop: usize, line: u32, lf_count: usize) -> Parser<'a> {
        Parser {
            body: self.body,
            body_at: self.body_at,
            line_offset: self.line_offset,
            delimiter: self.delimiter,
            options: self.options,
            core: None,
            pos: start,
            started: true,
            plain_delimiter: self.plain_delimiter,
            fields: vec![0; 1024],
            field_ends: vec![0; 64],
            field_count: 0,
            bounds: Vec::new(),
            header: self.header.clone(),
            targets: self.targets.clone(),
            slots: self.slots,
            field_slots: self.field_slots.clone(),
            one_of: self.one_of.clone(),
            width: self.width,
            log: IssueLog::new(self.options),
            record_start: start,
            counted_byte: start,
            counted_line: line,
            lone_cr: self.lone_cr,
            lf_count,
            stop,
            cuts: Vec::new(),
        }
    }

    /// Where the next record starts: the reading position after any blank lines.
    fn next_start(&self) -> usize {
        let bytes = self.body.as_bytes();
        let mut start = self.pos;
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        start
    }

    /// Sets `bounds` to the ranges, from `record_start` in the body, of the fields of the
    /// record `core` read, if each is there as it is (a quoted field without `""` or text
    /// after its closing quote); returns whether they all were. A range found holds the
    /// field's bytes, whatever the reading of the record that put them there.
    fn find_fields(&mut self) -> bool {
        self.bounds.clear();
        if !self.delimiter.is_ascii() {
            return false;
        }
        let bytes = self.body.as_bytes();
        let start = self.record_start;
        let mut at = start;
        let mut field_start = 0;
        for index in 0..self.field_count {
            let field_end = self.field_ends[index];
            let field = &self.fields[field_start..field_end];
            field_start = field_end;
            let quoted = bytes.get(at) == Some(&b'"');
            let from = at + usize::from(quoted);
            let to = from + field.len();
            if bytes.get(from..to) != Some(field) {
                return false;
            }
            at = to;
            if quoted {
                if bytes.get(at) != Some(&b'"') {
                    return false;
                }
                at += 1;
            }
            if index + 1 < self.field_count {
                if bytes.get(at) != Some(&self.delimiter) {
                    return false;
                }
                at += 1;
            }
            self.bounds.push((from - start, to - start));
        }
        true
    }

    /// Sets `joined` to the fields of the record `core` read, and `bounds` to their ranges
    /// in it. Fields of decoded text split at an ASCII delimiter are always UTF-8; a
    /// non-ASCII delimiter byte given in the options may split a character, read as U+FFFD
    /// (as the csv crate's `StringRecord` would).
    fn join_fields(&mut self, joined: &mut String) {
        joined.clear();
        self.bounds.clear();
        let count = self.field_count;
        let len = self.field_ends[..count].last().copied().unwrap_or(0);
        let whole = if self.delimiter.is_ascii() {
            std::str::from_utf8(&self.fields[..len]).ok()
        } else {
            None
        };
        if let Some(whole) = whole {
            joined.push_str(whole);
            let mut at = 0;
            for &end in &self.field_ends[..count] {
                self.bounds.push((at, end));
                at = end;
            }
            return;
        }
        for i in 0..count {
            let from = joined.len();
            joined.push_str(&String::from_utf8_lossy(self.field(i)));
            self.bounds.push((from, joined.len()));
        }
    }
}
