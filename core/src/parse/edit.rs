//! Changing an upload file the way an administrator's screen does: a cell fixed in place,
//! a header renamed to the column it was matched to by hand; and the "did you mean" of an
//! unknown column. The file is written back as UTF-8 and parsed again by the caller, so a
//! fixed cell is validated by the same rules as every other.

use crate::error::{Error, ErrorKind};
use crate::issue::IssueCode;
use crate::parse::column::{normalise_header, Column, ALIASES};
use crate::parse::fields::ProfileField;
use crate::parse::options::{ParseOptions, MAX_FILE_BYTES};
use crate::parse::upload::HeaderCell;
use std::collections::BTreeMap;

/// One cell to replace: the line the row starts on (as `parse` numbers it), the 0-based
/// position of the column in the header, and the new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellEdit {
    /// The row's line in the file (`Row::line`).
    pub line: u32,
    /// The column's 0-based position in the header.
    pub column: usize,
    /// The new value (any text; the writer quotes it as needed).
    pub value: String,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::Settings, IssueCode::InvalidOption, message)
}

/// The file with `edits` applied and the header cells at the positions of `headers`
/// renamed, written back as UTF-8 with a byte order mark, the same delimiter and CRLF line
/// ends (blank lines and Excel's `sep=` line are not kept, so later rows' lines may move up).
/// Read with the options `parse` used. An edit of a line that is no row, of the header
/// line, or of a column past the header is refused (`invalid_option`), as is a result
/// larger than `max_file_bytes` (`file_too_large`).
///
/// ```
/// use lms_bulk_upload::{parse, rewrite_file, CellEdit, ParseOptions};
/// let file = b"First Name,Last Name,Email\nAna,Lopez,ana@example\n";
/// let options = ParseOptions::default();
/// assert!(parse(file, &options)?.has_errors());
/// let edit = CellEdit { line: 2, column: 2, value: "ana@example.com".into() };
/// let fixed = rewrite_file(file, &options, &[edit], &Default::default())?;
/// assert!(!parse(&fixed, &options)?.has_errors());
/// # Ok::<(), lms_bulk_upload::Error>(())
/// ```
pub fn rewrite_file(
    bytes: &[u8],
    options: &ParseOptions,
    edits: &[CellEdit],
    headers: &BTreeMap<usize, String>,
) -> Result<Vec<u8>, Error> {
    let max_bytes = options.max_file_bytes.min(MAX_FILE_BYTES);
    // A spreadsheet is written back as the CSV its sheet reads as.
    let (text, source) = super::file_text(bytes, options)?;
    let (body, line_offset, delimiter) = super::body_and_delimiter(&text, source.format, options);
    let mut by_line: BTreeMap<u32, Vec<&CellEdit>> = BTreeMap::new();
    for edit in edits {
        by_line.entry(edit.line).or_default().push(edit);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let mut out = Vec::with_capacity(body.len() + 3 + edits.len() * 16);
    out.extend_from_slice(b"\xEF\xBB\xBF");
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let mut record = csv::ByteRecord::new();
    let mut width = 0;
    let mut first = true;
    let (mut counted_byte, mut counted_line) = (0usize, 1u32);
    let io = |e: csv::Error| invalid(format!("the file cannot be read back: {e}"));
    while reader.read_byte_record(&mut record).map_err(io)? {
        // Lines counted as `parse` counts them: LF, CRLF or a lone CR ends one.
        let start = usize::try_from(record.position().map_or(0, |p| p.byte())).unwrap_or(0);
        let mut start = start.min(body.len());
        // The csv reader starts a record at the LF of the CRLF that ended the last one.
        while matches!(body.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        counted_line =
            counted_line.saturating_add(line_breaks(body.as_bytes(), counted_byte, start));
        counted_byte = start;
        let line = counted_line.saturating_add(line_offset);
        let mut cells: Vec<Vec<u8>> = record.iter().map(<[u8]>::to_vec).collect();
        if first {
            first = false;
            width = cells.len();
            if by_line.contains_key(&line) {
                return Err(invalid(format!(
                    "line {line} is the header: rename a column by assigning it"
                )));
            }
            for (position, name) in headers {
                match cells.get_mut(*position) {
                    Some(cell) => *cell = name.clone().into_bytes(),
                    None => {
                        return Err(invalid(format!(
                            "the header has {width} columns, not {}",
                            position + 1
                        )))
                    }
                }
            }
        } else if let Some(edits) = by_line.remove(&line) {
            for edit in edits {
                if edit.column >= width {
                    return Err(invalid(format!(
                        "the header has {width} columns, not {}",
                        edit.column + 1
                    )));
                }
                if cells.len() <= edit.column {
                    cells.resize(edit.column + 1, Vec::new());
                }
                cells[edit.column] = edit.value.clone().into_bytes();
            }
        }
        writer.write_record(&cells).map_err(io)?;
        if writer.get_ref().len() > max_bytes {
            return Err(Error::file(
                IssueCode::FileTooLarge,
                None,
                None,
                format!("the changed file is larger than the limit of {max_bytes} bytes"),
            ));
        }
    }
    if let Some(line) = by_line.keys().next() {
        return Err(invalid(format!("line {line} is no row of the file")));
    }
    let out = writer
        .into_inner()
        .map_err(|e| invalid(format!("the file cannot be written back: {e}")))?;
    if out.len() > max_bytes {
        return Err(Error::file(
            IssueCode::FileTooLarge,
            None,
            None,
            format!("the changed file is larger than the limit of {max_bytes} bytes"),
        ));
    }
    Ok(out)
}

/// The header line of a file, each cell matched as `parse` would match it (the column
/// assignments of `options` included), without reading the rows: for a screen that lets
/// the administrator match columns by hand when `parse` refused the file for a missing or
/// repeated column. Refused as `parse` refuses an unreadable file (`file_too_large`,
/// `empty_file`, an encoding error).
///
/// ```
/// use lms_bulk_upload::{read_header, Column, ParseOptions};
/// let cells = read_header(b"Given,Surname,Shoe size\nAna,Lopez,38\n", &ParseOptions::default())?;
/// assert_eq!(cells[1].column, Some(Column::LastName));
/// assert_eq!(cells[2].column, None);
/// # Ok::<(), lms_bulk_upload::Error>(())
/// ```
pub fn read_header(bytes: &[u8], options: &ParseOptions) -> Result<Vec<HeaderCell>, Error> {
    let (text, source) = super::file_text(bytes, options)?;
    let (body, _, delimiter) = super::body_and_delimiter(&text, source.format, options);
    // The header line only, within the field and column limits.
    let end = body.find('\n').unwrap_or(body.len());
    let limit = options
        .max_field_bytes
        .saturating_mul(options.max_columns.max(1))
        .min(end);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(&body.as_bytes()[..limit]);
    let mut record = csv::StringRecord::new();
    let read = reader.read_record(&mut record).unwrap_or(false);
    if !read || record.iter().all(|c| c.trim().is_empty()) {
        return Err(Error::file(
            IssueCode::EmptyFile,
            None,
            None,
            "the file has no header line".into(),
        ));
    }
    let declared = crate::parse::fields::header_index(&options.fields);
    Ok(record
        .iter()
        .take(options.max_columns.max(1))
        .enumerate()
        .map(|(position, cell)| {
            let header = cell.trim().to_owned();
            let key = match options.column_assignments.get(&position) {
                Some(None) => String::new(),
                Some(Some(name)) => normalise_header(name),
                None => normalise_header(&header),
            };
            let column = Column::from_normalised(&key);
            let field = match column {
                Some(_) => None,
                None => declared
                    .get(&key)
                    .filter(|_| !key.is_empty())
                    .map(|&i| options.fields[i].name.clone()),
            };
            HeaderCell {
                header,
                column,
                field,
            }
        })
        .collect())
}

/// How many line ends `bytes[from..to]` holds (a CRLF is one, counted at its LF).
fn line_breaks(bytes: &[u8], from: usize, to: usize) -> u32 {
    let mut count = 0u32;
    for (i, b) in bytes.iter().enumerate().take(to).skip(from) {
        match b {
            b'\n' => count = count.saturating_add(1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => count = count.saturating_add(1),
            _ => {}
        }
    }
    count
}

/// The column or declared profile field an unknown header most likely means ("did you
/// mean"), by its canonical name: the closest of every column's names and aliases and the
/// fields' names and aliases, within a small edit distance; `None` when nothing is close.
///
/// ```
/// use lms_bulk_upload::suggest_column;
/// assert_eq!(suggest_column("Emial Adress", &[]).as_deref(), Some("emailaddress"));
/// assert_eq!(suggest_column("shoe size", &[]), None);
/// ```
pub fn suggest_column(header: &str, fields: &[ProfileField]) -> Option<String> {
    let key = normalise_header(header);
    if key.is_empty() {
        return None;
    }
    let mut names: Vec<(String, String)> = Column::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.as_str().to_owned()))
        .chain(
            ALIASES
                .iter()
                .map(|(alias, c)| ((*alias).to_owned(), c.as_str().to_owned())),
        )
        .collect();
    for field in fields {
        names.push((normalise_header(&field.name), field.name.clone()));
        for alias in &field.aliases {
            names.push((normalise_header(alias), field.name.clone()));
        }
    }
    let best = super::suggest::closest(&key, names.iter().map(|(n, _)| n.as_str()))?;
    names
        .iter()
        .find(|(n, _)| n == best)
        .map(|(_, canonical)| canonical.clone())
}
