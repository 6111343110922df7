//! Spreadsheets (`.xlsx`, `.xls`, `.ods`) read like a CSV.
//!
//! A workbook is recognised by its first bytes, never by a file name: a zip archive that
//! holds `xl/workbook.xml` is `.xlsx`, one whose `mimetype` says OpenDocument spreadsheet
//! is `.ods`, a Compound File (OLE2) is `.xls`. Its sheet (the first, or the one
//! [`ParseOptions::sheet`] names) becomes CSV text with one line per sheet row, so that the
//! CSV parser reads it with the same rules, the same issues and the same limits, and an
//! issue's line is the sheet's row number:
//!
//! | cell | becomes |
//! |---|---|
//! | text | the text; a line break inside it becomes U+2028, which validation refuses (`control_character`) where the column is read, without moving the lines below |
//! | a whole number (`42`, `6421234567`) | its digits, without `.0` |
//! | another number | the shortest decimal that reads back as the same number (`0.1`, not `0.1000000000000000055`) |
//! | a date | `YYYY-MM-DD`; with a time of day `YYYY-MM-DDTHH:MM:SS` |
//! | true / false | `TRUE` / `FALSE` |
//! | an error (`#N/A`) | its text |
//!
//! Every bound is checked before the work it bounds ([`bounds`]): the archive's inflated
//! size against the file's own size, the cells an `.ods` or `.xls` would expand to, and
//! the CSV text against `max_file_bytes`, rows and columns against `max_rows` and
//! `max_columns`.

mod bounds;
mod cells;

use crate::error::Error;
use crate::issue::IssueCode;
use crate::parse::options::ParseOptions;
use calamine::{Data, DataRef, Reader};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// What kind of file an upload was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FileFormat {
    /// Delimited text (`,` `;` or tab).
    #[default]
    Csv,
    /// Office Open XML workbook (Excel 2007 and later).
    Xlsx,
    /// Excel 97–2003 workbook (BIFF8 in a Compound File).
    Xls,
    /// OpenDocument spreadsheet (LibreOffice, Google Sheets' export).
    Ods,
}

impl FileFormat {
    /// `csv`, `xlsx`, `xls` or `ods` (also the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
            FileFormat::Xls => "xls",
            FileFormat::Ods => "ods",
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// The format of `bytes`, by content. A zip archive that is neither a workbook nor an
/// OpenDocument spreadsheet is refused (`unsupported_file`) rather than read as CSV.
pub(crate) fn detect(bytes: &[u8]) -> Result<FileFormat, Error> {
    if bytes.starts_with(OLE_MAGIC) {
        return Ok(FileFormat::Xls);
    }
    if !bytes.starts_with(ZIP_MAGIC) {
        return Ok(FileFormat::Csv);
    }
    // An OpenDocument file stores its `mimetype` first and uncompressed (at offset 30).
    let name_len = bytes
        .get(26..28)
        .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
    let extra_len = bytes
        .get(28..30)
        .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
    if bytes.get(30..30 + name_len) == Some(b"mimetype") {
        let start = 30 + name_len + extra_len;
        if bytes.get(start..start + ODS_MIMETYPE.len()) == Some(ODS_MIMETYPE) {
            return Ok(FileFormat::Ods);
        }
    }
    let archive = bounds::open_zip(bytes)?;
    if archive.index_for_name("xl/workbook.xml").is_some() {
        return Ok(FileFormat::Xlsx);
    }
    if archive.index_for_name("content.xml").is_some()
        && archive.index_for_name("mimetype").is_some()
    {
        return Ok(FileFormat::Ods);
    }
    Err(unsupported(
        "the file is a zip archive but not an Excel (.xlsx) or OpenDocument (.ods) spreadsheet",
    ))
}

/// A sheet turned into CSV text: the text (comma-separated, every cell quoted), and the
/// name of the sheet that was read.
pub(crate) struct SheetText {
    pub(crate) text: String,
    pub(crate) sheet: String,
}

/// The names of a workbook's sheets, in the workbook's order, so that an administrator
/// can choose one ([`ParseOptions::sheet`]); empty for delimited text. The same bounds as
/// [`parse`](crate::parse) hold before the workbook is opened (`file_too_large`,
/// `malformed_spreadsheet`, `unsupported_file`).
pub fn sheet_names(bytes: &[u8], options: &ParseOptions) -> Result<Vec<String>, Error> {
    super::check_size(bytes, options)?;
    let limits = cells::Limits::of(options);
    match detect(bytes)? {
        FileFormat::Csv => Ok(Vec::new()),
        FileFormat::Xlsx => {
            bounds::check_inflated(bytes, limits.max_file_bytes)?;
            let book: calamine::Xlsx<_> =
                calamine::Xlsx::new(Cursor::new(bytes)).map_err(malformed)?;
            Ok(book.sheet_names())
        }
        FileFormat::Ods => {
            bounds::check_inflated(bytes, limits.max_file_bytes)?;
            bounds::check_ods_cells(bytes, &limits)?;
            let book: calamine::Ods<_> =
                calamine::Ods::new(Cursor::new(bytes)).map_err(malformed)?;
            Ok(book.sheet_names())
        }
        FileFormat::Xls => {
            bounds::check_xls_cells(bytes, &limits)?;
            let book: calamine::Xls<_> =
                calamine::Xls::new(Cursor::new(bytes)).map_err(malformed)?;
            Ok(book.sheet_names())
        }
    }
}

/// Reads the sheet `options.sheet` (the first when `None`) of a workbook of `format`.
pub(crate) fn read(
    bytes: &[u8],
    format: FileFormat,
    options: &ParseOptions,
) -> Result<SheetText, Error> {
    let limits = cells::Limits::of(options);
    match format {
        FileFormat::Xlsx => {
            bounds::check_inflated(bytes, limits.max_file_bytes)?;
            let mut book: calamine::Xlsx<_> =
                calamine::Xlsx::new(Cursor::new(bytes)).map_err(malformed)?;
            let sheet = choose(&book.sheet_names(), options)?;
            let mut reader = book.worksheet_cells_reader(&sheet).map_err(malformed)?;
            let mut out = cells::CsvWriter::new(limits);
            while let Some(cell) = reader.next_cell().map_err(malformed)? {
                let (row, column) = cell.get_position();
                out.cell(row, column, data_ref_text(cell.get_value()).as_deref())?;
            }
            Ok(SheetText {
                text: out.finish()?,
                sheet,
            })
        }
        FileFormat::Ods => {
            bounds::check_inflated(bytes, limits.max_file_bytes)?;
            bounds::check_ods_cells(bytes, &limits)?;
            let mut book: calamine::Ods<_> =
                calamine::Ods::new(Cursor::new(bytes)).map_err(malformed)?;
            let sheet = choose(&book.sheet_names(), options)?;
            let range = book.worksheet_range(&sheet).map_err(malformed)?;
            Ok(SheetText {
                text: range_text(&range, limits)?,
                sheet,
            })
        }
        FileFormat::Xls => {
            bounds::check_xls_cells(bytes, &limits)?;
            let mut book: calamine::Xls<_> =
                calamine::Xls::new(Cursor::new(bytes)).map_err(malformed)?;
            let sheet = choose(&book.sheet_names(), options)?;
            let range = book.worksheet_range(&sheet).map_err(malformed)?;
            Ok(SheetText {
                text: range_text(&range, limits)?,
                sheet,
            })
        }
        FileFormat::Csv => Err(unsupported("not a spreadsheet")),
    }
}

fn range_text(range: &calamine::Range<Data>, limits: cells::Limits) -> Result<String, Error> {
    let mut out = cells::CsvWriter::new(limits);
    for (row, column, value) in range.used_cells() {
        let (top, left) = range.start().unwrap_or((0, 0));
        let row = top.saturating_add(row as u32);
        let column = left.saturating_add(column as u32);
        out.cell(row, column, data_text(value).as_deref())?;
    }
    out.finish()
}

/// The sheet to read: the named one, or the first.
fn choose(names: &[String], options: &ParseOptions) -> Result<String, Error> {
    match &options.sheet {
        None => names.first().cloned().ok_or_else(|| {
            Error::file(
                IssueCode::EmptyFile,
                None,
                None,
                "the workbook has no sheet".into(),
            )
        }),
        Some(wanted) => names.iter().find(|n| *n == wanted).cloned().ok_or_else(|| {
            let listed: Vec<String> = names.iter().take(20).map(|n| format!("{n:?}")).collect();
            Error::file(
                IssueCode::SheetNotFound,
                None,
                None,
                format!(
                    "the workbook has no sheet named {wanted:?}; its sheets are {}",
                    listed.join(", ")
                ),
            )
        }),
    }
}

fn data_text(value: &Data) -> Option<String> {
    match value {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(cells::number(*f)),
        Data::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.into()),
        Data::DateTime(d) => Some(cells::date(d)),
        Data::DateTimeIso(s) => Some(cells::iso_date(s)),
        Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(e.to_string()),
    }
}

fn data_ref_text(value: &DataRef<'_>) -> Option<String> {
    match value {
        DataRef::Empty => None,
        DataRef::String(s) => Some(s.clone()),
        DataRef::SharedString(s) => Some((*s).to_owned()),
        DataRef::Int(i) => Some(i.to_string()),
        DataRef::Float(f) => Some(cells::number(*f)),
        DataRef::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.into()),
        DataRef::DateTime(d) => Some(cells::date(d)),
        DataRef::DateTimeIso(s) => Some(cells::iso_date(s)),
        DataRef::DurationIso(s) => Some(s.clone()),
        DataRef::Error(e) => Some(e.to_string()),
    }
}

pub(super) fn malformed(e: impl std::fmt::Display) -> Error {
    // calamine's messages name parts of the archive, never a cell's value.
    Error::file(
        IssueCode::MalformedSpreadsheet,
        None,
        None,
        format!("the spreadsheet cannot be read: {e}"),
    )
}

pub(super) fn unsupported(message: &str) -> Error {
    Error::file(IssueCode::UnsupportedFile, None, None, message.into())
}
