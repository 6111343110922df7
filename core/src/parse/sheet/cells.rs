//! Cells to CSV text: one line per sheet row, every value quoted, limits checked as the
//! text grows.

use crate::error::Error;
use crate::issue::IssueCode;
use crate::parse::options::{ParseOptions, MAX_FILE_BYTES};

/// The limits of [`ParseOptions`] a sheet is held to while it is turned into text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) max_file_bytes: usize,
    pub(super) max_rows: usize,
    pub(super) max_columns: usize,
}

impl Limits {
    pub(super) fn of(options: &ParseOptions) -> Limits {
        Limits {
            max_file_bytes: options.max_file_bytes.min(MAX_FILE_BYTES),
            max_rows: options.max_rows,
            max_columns: options.max_columns,
        }
    }
}

/// Writes cells, given in row order, as CSV lines. Empty cells are not given; the rows
/// between two given ones become empty lines, so a line number is a sheet row number.
pub(super) struct CsvWriter {
    limits: Limits,
    text: String,
    /// The 0-based sheet row of the cells in `row`, once one was given.
    row_index: Option<u32>,
    /// How many lines (sheet rows) `text` holds.
    lines: u32,
    row: Vec<(u32, String)>,
}

impl CsvWriter {
    pub(super) fn new(limits: Limits) -> CsvWriter {
        CsvWriter {
            limits,
            text: String::new(),
            row_index: None,
            lines: 0,
            row: Vec::new(),
        }
    }

    /// Adds the cell at 0-based `row`, `column` (nothing when `value` is `None`: an empty
    /// cell, styled or not, costs nothing).
    pub(super) fn cell(&mut self, row: u32, column: u32, value: Option<&str>) -> Result<(), Error> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(());
        };
        let line = row.saturating_add(1);
        if column as usize >= self.limits.max_columns {
            return Err(Error::file(
                IssueCode::TooManyColumns,
                Some(line),
                None,
                format!(
                    "row {line} has a value in column {}; the limit (max_columns) is {}",
                    column + 1,
                    self.limits.max_columns
                ),
            ));
        }
        // The header and max_rows data rows; blank rows in between are skipped by the
        // reader, but a row this far down cannot be within the limit.
        if row as usize > self.limits.max_rows.saturating_mul(2).saturating_add(1) {
            return Err(too_many_rows(line, self.limits.max_rows));
        }
        match self.row_index {
            Some(current) if row < current => {
                return Err(super::malformed(format_args!(
                    "its cells are not in row order (row {line} after row {})",
                    current + 1
                )))
            }
            Some(current) if row == current => {}
            _ => {
                self.flush()?;
                self.row_index = Some(row);
            }
        }
        self.row.push((column, value.to_owned()));
        Ok(())
    }

    /// The text, every row written.
    pub(super) fn finish(mut self) -> Result<String, Error> {
        self.flush()?;
        Ok(self.text)
    }

    fn flush(&mut self) -> Result<(), Error> {
        let Some(row) = self.row_index else {
            return Ok(());
        };
        if self.row.is_empty() {
            return Ok(());
        }
        while self.lines < row {
            self.text.push('\n');
            self.lines += 1;
        }
        self.row.sort_by_key(|(column, _)| *column);
        let mut next = 0;
        for (column, value) in self.row.drain(..) {
            if column < next {
                continue; // the same cell twice: the first is kept
            }
            while next < column {
                self.text.push_str(if next == 0 { "" } else { "," });
                next += 1;
            }
            if column > 0 {
                self.text.push(',');
            }
            quote_into(&mut self.text, &value);
            next = column + 1;
        }
        self.text.push('\n');
        self.lines += 1;
        if self.text.len() > self.limits.max_file_bytes {
            return Err(Error::file(
                IssueCode::FileTooLarge,
                Some(self.lines),
                None,
                format!(
                    "the sheet's values pass {} bytes as text; the limit (max_file_bytes) is {}",
                    self.limits.max_file_bytes, self.limits.max_file_bytes
                ),
            ));
        }
        Ok(())
    }
}

pub(super) fn too_many_rows(line: u32, max_rows: usize) -> Error {
    Error::file(
        IssueCode::TooManyRows,
        Some(line),
        None,
        format!("the sheet has values on row {line}; the limit (max_rows) is {max_rows} data rows"),
    )
}

/// `"value"` with quotes doubled; a line break becomes U+2028 so that the line numbers
/// below stay the sheet's rows (validation refuses it where the column is read).
fn quote_into(text: &mut String, value: &str) {
    text.push('"');
    for c in value.chars() {
        match c {
            '"' => text.push_str("\"\""),
            '\r' | '\n' => text.push('\u{2028}'),
            c => text.push(c),
        }
    }
    text.push('"');
}

/// A number as a person typed it: whole numbers without a decimal point, others as the
/// shortest decimal that reads back as the same `f64`.
pub(super) fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// An Excel date (a serial number with a date format) as `YYYY-MM-DD`, with
/// `THH:MM:SS` when it has a time of day; a duration as its number of days.
pub(super) fn date(value: &calamine::ExcelDateTime) -> String {
    if value.is_duration() {
        return number(value.as_f64());
    }
    let (y, mo, d, h, mi, s, _) = value.to_ymd_hms_milli();
    match (h, mi, s) {
        (0, 0, 0) => format!("{y:04}-{mo:02}-{d:02}"),
        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
    }
}

/// An ISO 8601 date or date-time from an OpenDocument file; midnight is a plain date.
pub(super) fn iso_date(value: &str) -> String {
    value.strip_suffix("T00:00:00").unwrap_or(value).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_file_bytes: 1 << 20,
            max_rows: 10,
            max_columns: 5,
        }
    }

    #[test]
    fn rows_become_lines_at_their_sheet_row() {
        let mut w = CsvWriter::new(limits());
        w.cell(0, 0, Some("email")).unwrap();
        w.cell(0, 2, Some("name")).unwrap();
        w.cell(2, 1, Some("a\"b\nc")).unwrap();
        w.cell(2, 0, Some("x")).unwrap();
        w.cell(3, 4, None).unwrap();
        assert_eq!(
            w.finish().unwrap(),
            "\"email\",,\"name\"\n\n\"x\",\"a\"\"b\u{2028}c\"\n"
        );
    }

    #[test]
    fn limits_hold_before_the_text_grows() {
        let mut w = CsvWriter::new(limits());
        assert_eq!(
            w.cell(0, 5, Some("x")).unwrap_err().code(),
            IssueCode::TooManyColumns
        );
        assert_eq!(
            w.cell(22, 0, Some("x")).unwrap_err().code(),
            IssueCode::TooManyRows
        );
        w.cell(3, 0, Some("x")).unwrap();
        assert_eq!(
            w.cell(1, 0, Some("x")).unwrap_err().code(),
            IssueCode::MalformedSpreadsheet
        );
    }

    #[test]
    fn numbers_without_float_noise() {
        assert_eq!(number(6421234567.0), "6421234567");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(1.5e-7), "0.00000015");
    }
}
