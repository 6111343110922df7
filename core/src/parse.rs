//! Reading an upload file: encoding, delimiter, header and rows.

mod bytes;
mod rows;

use bytes::{count_byte, count_line_breaks, has_lone_cr, is_printable_ascii, scan, trim};
use rows::{mark_duplicates, validate_row, HASH_BITS};

use crate::column::Column;
use crate::decode::decode;
use crate::email::{ascii_email_hash, email_hash};
use crate::error::Error;
use crate::issue::{Issue, IssueCode};
use crate::options::{ParseOptions, MAX_FILE_BYTES};
use crate::upload::{HeaderCell, Upload};

/// Parses and validates an upload file.
///
/// File-level problems (empty, not CSV, a required column missing, a limit passed) fail
/// with an [`Error`] of kind `File`; row-level problems become [`Issue`]s of the rows,
/// which are left out of the plan while the other rows go on.
///
/// ```
/// let csv = b"\xEF\xBB\xBFsep=;\r\nfirstname;lastname;emailaddress\r\nZo\xC3\xAB;Ngata;zoe@example.nz\r\n";
/// let upload = lms_bulk_upload::parse(csv, &Default::default()).unwrap();
/// let row = upload.row(0).unwrap();
/// assert_eq!((row.line(), row.get(lms_bulk_upload::Column::FirstName)), (3, "Zoë"));
/// ```
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Upload, Error> {
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
    let (text, encoding) = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(file_error(
            IssueCode::EmptyFile,
            None,
            None,
            "the file is empty".into(),
        ));
    }
    let mut issues = Vec::new();
    if encoding == crate::Encoding::Windows1252 {
        issues.push(Issue::new(
            IssueCode::EncodingGuessed,
            None,
            None,
            "the file is not valid UTF-8; it was read as Windows-1252 (save as \"CSV UTF-8\" to be sure of accents)".into(),
        ));
    }
    let (body, line_offset, sep_line) = strip_sep_line(&text);
    let delimiter = options
        .delimiter
        .or(sep_line)
        .unwrap_or_else(|| detect_delimiter(body));
    Parser::new(body, line_offset, delimiter, options, issues)?.run(encoding)
}

fn file_error(code: IssueCode, line: Option<u32>, column: Option<&str>, message: String) -> Error {
    Error::file(code, line, column, message)
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

struct Parser<'a> {
    body: &'a str,
    line_offset: u32,
    delimiter: u8,
    options: &'a ParseOptions,
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    header: Vec<HeaderCell>,
    /// For each header position, the slot its value goes to (None: ignored).
    targets: Vec<Option<u8>>,
    slots: [Option<u8>; 10],
    width: usize,
    issues: Vec<Issue>,
    /// The byte offset in `body` where the last record read starts (after any blank lines
    /// the csv reader skipped before it), to find an unterminated quote.
    record_start: usize,
    /// Line counting state for [`Parser::locate`]: the last record start and its line.
    counted_byte: usize,
    counted_line: u32,
    /// Whether the body has a CR that is not part of a CRLF (old Mac line ends): if not,
    /// counting LFs counts the lines.
    lone_cr: bool,
}

impl<'a> Parser<'a> {
    fn new(
        body: &'a str,
        line_offset: u32,
        delimiter: u8,
        options: &'a ParseOptions,
        issues: Vec<Issue>,
    ) -> Result<Parser<'a>, Error> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(body.as_bytes());
        let mut parser = Parser {
            body,
            line_offset,
            delimiter,
            options,
            reader,
            record: csv::ByteRecord::new(),
            header: Vec::new(),
            targets: Vec::new(),
            slots: [None; 10],
            width: 0,
            issues,
            record_start: 0,
            counted_byte: 0,
            counted_line: 1,
            lone_cr: has_lone_cr(body),
        };
        parser.read_header()?;
        Ok(parser)
    }

    /// Where the record just read starts: its byte offset and 1-based line (not counting the
    /// `sep=` line). The csv reader's position is where it began looking, before any blank
    /// lines it skipped (and its line count lags on CRLF files), so the blank lines are
    /// skipped here and lines are counted from byte offsets, resuming where the previous
    /// record started.
    fn locate(&mut self, position: Option<&csv::Position>) -> (usize, u32) {
        let bytes = self.body.as_bytes();
        let mut start = position.map_or(self.counted_byte, |p| p.byte() as usize);
        start = start.clamp(self.counted_byte, bytes.len());
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let skipped = &bytes[self.counted_byte..start];
        self.counted_line += if self.lone_cr {
            count_line_breaks(skipped)
        } else {
            count_byte(skipped, b'\n') as u32
        };
        self.counted_byte = start;
        (start, self.counted_line)
    }

    fn read(&mut self) -> Result<Option<u32>, Error> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                let position = self.record.position().cloned();
                let (start, line) = self.locate(position.as_ref());
                self.record_start = start;
                let line = line + self.line_offset;
                if self.record.len() > self.options.max_columns {
                    return Err(file_error(
                        IssueCode::TooManyColumns,
                        Some(line),
                        None,
                        format!(
                            "the line has {} columns; the limit (max_columns) is {}",
                            self.record.len(),
                            self.options.max_columns
                        ),
                    ));
                }
                Ok(Some(line))
            }
            Ok(false) => match self.unterminated_quote() {
                Some(error) => Err(error),
                None => Ok(None),
            },
            Err(err) => Err(file_error(
                IssueCode::MalformedCsv,
                None,
                None,
                format!("the file is not readable as CSV: {err}"),
            )),
        }
    }

    fn read_header(&mut self) -> Result<(), Error> {
        let Some(line) = self.read()? else {
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
        let mut seen: [Option<usize>; 10] = [None; 10];
        for (position, raw) in self.record.iter().enumerate() {
            self.check_field_len(raw, line, None)?;
            let text = String::from_utf8_lossy(raw).trim().to_owned();
            let column = Column::from_header(&text);
            let mut target = None;
            match column {
                Some(c) => {
                    if let Some(first) = seen[c as usize] {
                        if !c.may_repeat() {
                            return Err(file_error(
                                IssueCode::DuplicateColumn,
                                Some(line),
                                Some(c.as_str()),
                                format!(
                                    "the column {:?} (column {}) repeats {:?} (column {}); only addgroup and removegroup may repeat",
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
                None => self.issues.push(Issue::new(
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
            });
        }
        let missing: Vec<&str> = Column::REQUIRED
            .iter()
            .filter(|c| seen[**c as usize].is_none())
            .map(|c| c.as_str())
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

    /// If the last record read runs to the end of the file inside an open quote, the
    /// `malformed_csv` error naming the line where that record starts.
    fn unterminated_quote(&self) -> Option<Error> {
        let start = self.record_start;
        let line = self.counted_line + self.line_offset;
        let rest = self.body.as_bytes().get(start..)?;
        let (mut quoted, mut at_field_start, mut i) = (false, true, 0);
        while i < rest.len() {
            let b = rest[i];
            if quoted {
                if b == b'"' {
                    if rest.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        quoted = false;
                    }
                }
            } else if b == b'"' && at_field_start {
                quoted = true;
            } else if b == b'\n' || b == b'\r' {
                return None; // the record ended
            }
            at_field_start = !quoted && (b == self.delimiter);
            i += 1;
        }
        quoted.then(|| {
            file_error(
                IssueCode::MalformedCsv,
                Some(line),
                None,
                format!("a quoted field starting on line {line} is never closed"),
            )
        })
    }

    fn run(mut self, encoding: crate::Encoding) -> Result<Upload, Error> {
        // Upper bounds so the big buffers never reallocate (peak memory stays predictable).
        let line_count = count_byte(self.body.as_bytes(), b'\n') + 1;
        let row_estimate = line_count.min(self.options.max_rows.saturating_add(1));
        let mut upload = Upload {
            header: self.header.clone(),
            slots: self.slots,
            width: self.width,
            delimiter: self.delimiter,
            encoding,
            group_separator: self.options.group_separator,
            text: String::with_capacity(self.body.len()),
            ends: Vec::with_capacity(row_estimate * self.width),
            lines: Vec::with_capacity(row_estimate),
            valid: Vec::with_capacity(row_estimate),
            issues: std::mem::take(&mut self.issues),
        };
        let header_len = upload.header.len();
        let separator = self.options.group_separator;
        let check_conflicts =
            upload.has_column(Column::AddGroup) && upload.has_column(Column::RemoveGroup);
        // The merged cells of a repeated addgroup/removegroup column, by slot.
        let mut spill: Vec<String> = vec![String::new(); self.width];
        // Per valid row: the high 32 bits of its email's hash, then its index (see
        // `mark_duplicates`).
        let mut email_hashes: Vec<u64> = Vec::with_capacity(row_estimate);
        let mut row_issues: Vec<Issue> = Vec::new();
        let mut bounds: Vec<(usize, usize)> = Vec::new();
        while let Some(line) = self.read()? {
            let record = Fields::read(
                std::mem::take(&mut self.record),
                self.body,
                self.record_start,
                self.delimiter,
                &mut bounds,
            );
            let text = record.text();
            if let Fields::Body(_, span, _) = record {
                // An unquoted record has no line break: resume line counting at its end.
                self.counted_byte = self.record_start + span.len();
            }
            // Printable ASCII only (the usual case): no control character to look for, and
            // lengths in characters are lengths in bytes.
            let printable = match record {
                Fields::Body(_, _, printable) => printable,
                Fields::Record(_) => is_printable_ascii(text.as_bytes()),
            };
            let mut blank = true;
            let mut extra = false;
            // The trimmed value of each slot (its first non-blank cell), and which slots
            // have several cells merged in `spill`.
            let mut cells: [&str; 10] = [""; 10];
            let mut merged: u16 = 0;
            for (position, &(from, to)) in bounds.iter().enumerate() {
                let value = text.get(from..to).unwrap_or("\u{FFFD}");
                if value.len() > self.options.max_field_bytes {
                    self.check_field_len(value.as_bytes(), line, self.column_name(position))?;
                }
                let value = trim(value);
                if value.is_empty() {
                    continue;
                }
                blank = false;
                match self.targets.get(position).copied().flatten() {
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
                self.record = record.into_byte_record();
                continue;
            }
            if upload.lines.len() >= self.options.max_rows {
                return Err(file_error(
                    IssueCode::TooManyRows,
                    Some(line),
                    None,
                    format!(
                        "the file has more than {} data rows (max_rows)",
                        self.options.max_rows
                    ),
                ));
            }
            let slot_value = |slot: usize| -> &str {
                if merged & (1 << slot) != 0 {
                    &spill[slot]
                } else {
                    cells[slot]
                }
            };
            let mut values: [&str; 10] = [""; 10];
            for column in Column::ALL {
                if let Some(slot) = self.slots[column as usize] {
                    values[column as usize] = slot_value(usize::from(slot));
                }
            }
            if extra {
                row_issues.push(Issue::new(
                    IssueCode::ExtraValues,
                    Some(line),
                    None,
                    format!("the row has values after the last of the {header_len} header columns; they are ignored"),
                ));
            }
            let ok = validate_row(
                &values,
                line,
                self.options,
                separator,
                check_conflicts,
                printable,
                &mut row_issues,
            );
            let index = upload.lines.len();
            if ok {
                let email = values[Column::EmailAddress as usize];
                let hash = if printable {
                    ascii_email_hash(email.as_bytes())
                } else {
                    email_hash(email)
                };
                email_hashes.push((hash & HASH_BITS) | index as u64);
            }
            for slot in 0..self.width {
                upload.text.push_str(slot_value(slot));
                upload.ends.push(upload.text.len() as u32);
            }
            upload.lines.push(line);
            upload.valid.push(ok);
            upload.issues.append(&mut row_issues);
            self.record = record.into_byte_record();
        }
        if upload.lines.is_empty() {
            return Err(file_error(
                IssueCode::NoDataRows,
                None,
                None,
                "the file has a header but no user rows".into(),
            ));
        }
        mark_duplicates(&mut upload, email_hashes);
        upload.issues.sort_by_key(|i| i.line);
        Ok(upload)
    }

    /// The name an issue about the cell at `position` gives: the canonical column name, or
    /// the header text of an unknown column.
    fn column_name(&self, position: usize) -> Option<&str> {
        self.header.get(position).map(|h| match h.column {
            Some(column) => column.as_str(),
            None => h.header.as_str(),
        })
    }
}

/// The fields of a record as text, without checking UTF-8 again where possible.
enum Fields<'a> {
    /// A record without quotes: its fields are slices of the (already valid) body.
    /// Also says whether the text is all printable ASCII.
    Body(csv::ByteRecord, &'a str, bool),
    /// Any other record, checked as UTF-8 by the csv crate.
    Record(csv::StringRecord),
}

impl<'a> Fields<'a> {
    /// Sets `bounds` to each field's range in [`Fields::text`].
    fn read(
        record: csv::ByteRecord,
        body: &'a str,
        start: usize,
        delimiter: u8,
        bounds: &mut Vec<(usize, usize)>,
    ) -> Fields<'a> {
        bounds.clear();
        // Unquoted, the record is the body's bytes from where it starts: its fields joined
        // by the delimiter. Use that text when it has no quote and the delimiters are where
        // the field lengths put them.
        let span_len = record.as_slice().len() + record.len().saturating_sub(1);
        let span = body
            .get(start..start.saturating_add(span_len))
            .filter(|_| delimiter.is_ascii())
            .map(|span| (span, scan(span.as_bytes())));
        if let Some((span, (false, printable))) = span {
            let bytes = span.as_bytes();
            let mut at = 0;
            let mut aligned = true;
            for field in record.iter() {
                let end = at + field.len();
                aligned &= end == bytes.len() || bytes.get(end) == Some(&delimiter);
                bounds.push((at, end));
                at = end + 1;
            }
            if aligned {
                return Fields::Body(record, span, printable);
            }
            bounds.clear();
        }
        let record = to_string_record(record);
        let mut at = 0;
        for field in record.iter() {
            bounds.push((at, at + field.len()));
            at += field.len();
        }
        Fields::Record(record)
    }

    /// The text the bounds point into.
    fn text(&self) -> &str {
        match self {
            Fields::Body(_, span, _) => span,
            Fields::Record(record) => record.as_slice(),
        }
    }

    /// The record's buffer, for the next read.
    fn into_byte_record(self) -> csv::ByteRecord {
        match self {
            Fields::Body(record, _, _) => record,
            Fields::Record(record) => record.into_byte_record(),
        }
    }
}

/// The record as text: one UTF-8 check for the whole record (none when it is ASCII).
/// Fields of decoded text split at an ASCII delimiter are always UTF-8; a non-ASCII
/// delimiter byte given in the options may split a character, read as U+FFFD.
fn to_string_record(record: csv::ByteRecord) -> csv::StringRecord {
    match csv::StringRecord::from_byte_record(record) {
        Ok(record) => record,
        Err(error) => error
            .into_byte_record()
            .iter()
            .map(String::from_utf8_lossy)
            .collect(),
    }
}
