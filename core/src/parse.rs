//! Reading an upload file: encoding, delimiter, header, rows and row validation.

use crate::column::Column;
use crate::decode::decode;
use crate::email::{check_email, email_hash, emails_equal};
use crate::error::Error;
use crate::issue::{Issue, IssueCode};
use crate::options::{ParseOptions, MAX_FILE_BYTES};
use crate::upload::{split_groups, HeaderCell, Upload};
use crate::validate::{describe_char, find_forbidden_char, is_language_tag};

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
        self.counted_line += count_line_breaks(&bytes[self.counted_byte..start]);
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
        let line_count = self.body.bytes().filter(|b| *b == b'\n').count() + 1;
        let row_estimate = line_count.min(self.options.max_rows.saturating_add(1));
        let mut upload = Upload {
            header: std::mem::take(&mut self.header),
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
        // For each slot, the record position of its (first) cell.
        let mut cells: Vec<usize> = vec![usize::MAX; self.width];
        let mut spill: Vec<String> = vec![String::new(); self.width];
        let mut email_hashes: Vec<(u64, u32)> = Vec::with_capacity(row_estimate);
        let mut row_issues: Vec<Issue> = Vec::new();
        while let Some(line) = self.read()? {
            let record = std::mem::take(&mut self.record);
            let mut blank = true;
            let mut extra = false;
            cells.iter_mut().for_each(|c| *c = usize::MAX);
            spill.iter_mut().for_each(String::clear);
            for (position, raw) in record.iter().enumerate() {
                let target = self.targets.get(position).copied().flatten();
                let column_name = upload.header.get(position).map(|h| h.header.as_str());
                if raw.len() > self.options.max_field_bytes {
                    self.check_field_len(raw, line, column_name)?;
                }
                let value = match std::str::from_utf8(raw) {
                    Ok(v) => v.trim(),
                    Err(_) => "\u{FFFD}", // unreachable for decoded text; never panics
                };
                if value.is_empty() {
                    continue;
                }
                blank = false;
                match target {
                    Some(slot) => {
                        let slot = usize::from(slot);
                        if cells[slot] == usize::MAX {
                            cells[slot] = position;
                        } else {
                            // a repeated addgroup/removegroup column: merge the cells
                            if spill[slot].is_empty() {
                                spill[slot].push_str(field(&record, cells[slot]));
                            }
                            spill[slot].push(self.options.group_separator);
                            spill[slot].push_str(value);
                        }
                    }
                    None if position >= header_len => extra = true,
                    None => {}
                }
            }
            if blank {
                self.record = record;
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
            for (slot, &position) in cells.iter().enumerate() {
                if !spill[slot].is_empty() {
                    upload.text.push_str(&spill[slot]);
                } else if position != usize::MAX {
                    upload.text.push_str(field(&record, position));
                }
                upload.ends.push(upload.text.len() as u32);
            }
            self.record = record;
            if extra {
                row_issues.push(Issue::new(
                    IssueCode::ExtraValues,
                    Some(line),
                    None,
                    format!("the row has values after the last of the {header_len} header columns; they are ignored"),
                ));
            }
            let index = upload.lines.len();
            upload.lines.push(line);
            upload.valid.push(true);
            let ok = validate_row(&upload, index, line, self.options, &mut row_issues);
            upload.valid[index] = ok;
            if ok {
                email_hashes.push((
                    email_hash(upload.row(index).map_or("", |r| r.email())),
                    index as u32,
                ));
            }
            upload.issues.append(&mut row_issues);
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
}

/// Line breaks in `bytes`: LF, CRLF (once) and a lone CR, as the csv reader reads them.
fn count_line_breaks(bytes: &[u8]) -> u32 {
    let mut count = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            count += 1;
        }
    }
    count
}

/// The trimmed text of a field of a record read from valid UTF-8.
fn field(record: &csv::ByteRecord, position: usize) -> &str {
    record
        .get(position)
        .and_then(|raw| std::str::from_utf8(raw).ok())
        .map_or("", str::trim)
}

/// Validates the values of one row; returns whether it has no errors.
fn validate_row(
    upload: &Upload,
    index: usize,
    line: u32,
    options: &ParseOptions,
    issues: &mut Vec<Issue>,
) -> bool {
    let Some(row) = upload.row(index) else {
        return false;
    };
    let start = issues.len();
    let mut push = |code: IssueCode, column: Column, message: String| {
        issues.push(Issue::new(code, Some(line), Some(column.as_str()), message));
    };
    for column in Column::ALL {
        let value = row.get(column);
        if value.is_empty() {
            if Column::REQUIRED.contains(&column) {
                push(
                    IssueCode::MissingValue,
                    column,
                    format!("{column} is blank"),
                );
            }
            continue;
        }
        if let Some(c) = find_forbidden_char(value) {
            push(
                IssueCode::ControlCharacter,
                column,
                format!("{column} contains {}", describe_char(c)),
            );
            continue;
        }
        match column {
            Column::EmailAddress => {
                if let Err(why) = check_email(value) {
                    push(
                        IssueCode::InvalidEmail,
                        column,
                        format!("{value:?} is not a valid email address: it {why}"),
                    );
                }
            }
            Column::LanguageCode if !is_language_tag(value) => {
                let hint = value.replace('_', "-");
                let message = if value.contains('_') && is_language_tag(&hint) {
                    format!("{value:?} is not a BCP 47 language tag; did you mean {hint:?}?")
                } else {
                    format!("{value:?} is not a BCP 47 language tag such as \"en-NZ\"")
                };
                push(IssueCode::InvalidLanguagecode, column, message);
            }
            Column::AddGroup | Column::RemoveGroup => {
                if let Some(long) = split_groups(value, upload.group_separator)
                    .find(|g| g.chars().count() > options.max_value_chars)
                {
                    push(
                        IssueCode::ValueTooLong,
                        column,
                        format!(
                            "a group name is {} characters; the limit is {}",
                            long.chars().count(),
                            options.max_value_chars
                        ),
                    );
                }
            }
            _ => {
                let chars = if value.is_ascii() {
                    value.len()
                } else {
                    value.chars().count()
                };
                if chars > options.max_value_chars {
                    push(
                        IssueCode::ValueTooLong,
                        column,
                        format!(
                            "{column} is {chars} characters; the limit (max_value_chars) is {}",
                            options.max_value_chars
                        ),
                    );
                }
            }
        }
    }
    if upload.has_column(Column::RemoveGroup) && upload.has_column(Column::AddGroup) {
        for group in row.add_groups() {
            if row.remove_groups().any(|r| r == group) {
                push(
                    IssueCode::GroupConflict,
                    Column::RemoveGroup,
                    format!("the group {group:?} is both added and removed"),
                );
            }
        }
    }
    issues[start..].iter().all(|i| !i.is_error())
}

/// Rejects every later occurrence of an email (case-insensitive); the first one wins.
fn mark_duplicates(upload: &mut Upload, mut hashes: Vec<(u64, u32)>) {
    hashes.sort_unstable();
    let mut found = Vec::new();
    let mut group_start = 0;
    for i in 1..=hashes.len() {
        if i < hashes.len() && hashes[i].0 == hashes[group_start].0 {
            continue;
        }
        let group = &hashes[group_start..i];
        for (k, &(_, later)) in group.iter().enumerate().skip(1) {
            let email = upload.row(later as usize).map_or("", |r| r.email());
            let first = group[..k]
                .iter()
                .map(|&(_, earlier)| earlier as usize)
                .find(|&earlier| {
                    emails_equal(upload.row(earlier).map_or("", |r| r.email()), email)
                });
            if let Some(first) = first {
                found.push((later as usize, first));
            }
        }
        group_start = i;
    }
    for (later, first) in found {
        upload.valid[later] = false;
        let (line, first_line) = (upload.lines[later], upload.lines[first]);
        let email = upload.row(later).map_or("", |r| r.email()).to_owned();
        upload.issues.push(Issue::new(
            IssueCode::DuplicateEmail,
            Some(line),
            Some(Column::EmailAddress.as_str()),
            format!(
                "{email:?} already appears on line {first_line}; only the first occurrence is used"
            ),
        ));
    }
}
