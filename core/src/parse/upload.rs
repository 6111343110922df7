//! The result of [`parse`](crate::parse): the header mapping, the rows and the issues.

use crate::issue::Issue;
use crate::parse::column::Column;
use crate::parse::decode::Encoding;
use crate::parse::fields::ProfileField;
use crate::parse::sheet::FileFormat;
use serde::{Deserialize, Serialize};

/// One cell of the header line and what it was matched to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderCell {
    /// The text as written in the file (trimmed).
    pub header: String,
    /// The recognised column, or `None` for a host profile field or an unknown (ignored)
    /// column.
    pub column: Option<Column>,
    /// The host profile field it was matched to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A parsed and validated upload file.
///
/// The upload owns the file's text and reads most values in place, by offsets a byte or
/// two long (a value that differs from its bytes, such as a quoted cell with `""` inside,
/// is copied), so a million-row file takes little more memory than its bytes: about 1.4
/// times them with [`parse_owned`](crate::parse_owned), which takes the bytes rather than
/// a copy, or [`parse_shared`](crate::parse_shared), which shares a host's text. Read rows
/// with [`Upload::rows`].
///
/// ```
/// let csv = "First Name,Last Name,Email\nAna,Lopez,ana@example.com\nBo,,bo@example\n";
/// let upload = lms_bulk_upload::parse(csv.as_bytes(), &Default::default()).unwrap();
/// assert_eq!(upload.len(), 2);
/// let codes: Vec<_> = upload.issues().iter().map(|i| (i.line, i.code.as_str())).collect();
/// assert_eq!(codes, [(Some(3), "missing_value"), (Some(3), "invalid_email")]);
/// assert_eq!(upload.valid_rows().count(), 1);
/// ```
#[derive(Clone)]
pub struct Upload {
    pub(crate) header: Vec<HeaderCell>,
    /// Column (by `Column as usize`) → slot in each row's offsets.
    pub(crate) slots: [Option<u8>; crate::parse::COLUMNS],
    /// The slot of each host profile field, in the order of `fields`.
    pub(crate) field_slots: Vec<Option<u8>>,
    pub(crate) fields: std::sync::Arc<[ProfileField]>,
    /// The values of each `one_of` field, indexed once (in the order of `fields`).
    pub(crate) one_of: std::sync::Arc<[Option<crate::parse::fields::OneOfIndex>]>,
    pub(crate) login_methods: std::sync::Arc<[String]>,
    pub(crate) delimiter: u8,
    pub(crate) encoding: Encoding,
    pub(crate) format: FileFormat,
    /// The sheet read, for a spreadsheet.
    pub(crate) sheet: Option<String>,
    pub(crate) group_separator: char,
    /// [`ParseOptions::clear_token`](crate::ParseOptions::clear_token).
    pub(crate) clear_token: Option<String>,
    /// The file's text (a spreadsheet's sheet as CSV text): every column of it, the ones
    /// not read too, which is why `Debug` does not show it.
    pub(crate) text: crate::parse::text::Text,
    /// Each row's values (by slot, up to its last non-blank one) and validity.
    pub(crate) cells: crate::parse::cells::Cells,
    pub(crate) lines: Vec<u32>,
    /// Sorted by line; file-level issues (no line, or line 1) first.
    pub(crate) issues: Vec<Issue>,
}

impl Upload {
    /// The number of data rows (blank lines are not rows).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are no data rows (never true for a successful `parse`).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The header cells and the column each was matched to.
    pub fn header(&self) -> &[HeaderCell] {
        &self.header
    }

    /// Whether the file has the column.
    pub fn has_column(&self, column: Column) -> bool {
        self.slots[column as usize].is_some()
    }

    /// The delimiter used (given or detected).
    pub fn delimiter(&self) -> char {
        char::from(self.delimiter)
    }

    /// The encoding the file was read with.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The separator between group names in a cell.
    pub fn group_separator(&self) -> char {
        self.group_separator
    }

    /// Every issue, file-level first, then by line.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Whether some rows have errors (they will be rejected), whether or not their issues
    /// are all listed (see [`ParseOptions::max_issues`](crate::ParseOptions::max_issues)).
    pub fn has_errors(&self) -> bool {
        self.cells.has_invalid()
    }

    /// The row at `index` (0-based, in file order).
    pub fn row(&self, index: usize) -> Option<Row<'_>> {
        (index < self.len()).then_some(Row {
            upload: self,
            index,
        })
    }

    /// All rows, valid or not, in file order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        (0..self.len()).map(move |index| Row {
            upload: self,
            index,
        })
    }

    /// The rows without errors: those a plan will act on.
    pub fn valid_rows(&self) -> impl Iterator<Item = Row<'_>> + '_ {
        self.rows().filter(Row::is_valid)
    }

    /// What kind of file it was: CSV, or a spreadsheet (`.xlsx`, `.xls`, `.ods`).
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The name of the sheet that was read, for a spreadsheet.
    pub fn sheet(&self) -> Option<&str> {
        self.sheet.as_deref()
    }

    /// A serialisable summary: format, sheet, encoding, delimiter, header mapping, counts
    /// and issues.
    pub fn report(&self) -> FileReport {
        FileReport {
            format: self.format,
            sheet: self.sheet.clone(),
            encoding: self.encoding,
            delimiter: self.delimiter(),
            header: self.header.clone(),
            rows: self.len(),
            valid_rows: self.cells.count_valid(),
            issues: self.issues.clone(),
        }
    }

    /// The login methods the host declared (besides `password`).
    pub fn login_methods(&self) -> &[String] {
        &self.login_methods
    }

    pub(crate) fn is_clear(&self, value: &str) -> bool {
        self.clear_token
            .as_deref()
            .is_some_and(|t| value.eq_ignore_ascii_case(t))
    }

    /// Whether a cell gives its field a value: neither blank nor the clear token.
    pub(crate) fn is_value(&self, cell: &str) -> bool {
        !cell.is_empty() && !self.is_clear(cell)
    }

    fn cell(&self, index: usize, column: Column) -> &str {
        self.slot_cell(index, self.slots[column as usize])
    }

    fn slot_cell(&self, index: usize, slot: Option<u8>) -> &str {
        let Some(slot) = slot else {
            return "";
        };
        self.cells.get(self.text.as_str(), index, usize::from(slot))
    }
}

/// Shows the upload as it reads: its header and mapping, each row's line, validity and
/// values by slot, and its issues. Not its text, which holds every column of the file, the
/// ignored ones too (a password column among them).
impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// The rows, as (line, valid, values by slot).
        struct Rows<'a>(&'a Upload);
        impl std::fmt::Debug for Rows<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let upload = self.0;
                let width = upload
                    .slots
                    .iter()
                    .chain(&upload.field_slots)
                    .flatten()
                    .map(|slot| usize::from(*slot) + 1)
                    .max()
                    .unwrap_or(0);
                f.debug_list()
                    .entries(upload.rows().map(|row| {
                        let values: Vec<&str> = (0..width)
                            .map(|slot| upload.cells.get(upload.text.as_str(), row.index, slot))
                            .collect();
                        (row.line(), row.is_valid(), values)
                    }))
                    .finish()
            }
        }
        f.debug_struct("Upload")
            .field("format", &self.format)
            .field("sheet", &self.sheet)
            .field("encoding", &self.encoding)
            .field("delimiter", &self.delimiter())
            .field("header", &self.header)
            .field("slots", &self.slots)
            .field("field_slots", &self.field_slots)
            .field("fields", &self.fields)
            .field("login_methods", &self.login_methods)
            .field("group_separator", &self.group_separator)
            .field("clear_token", &self.clear_token)
            .field("rows", &Rows(self))
            .field("issues", &self.issues)
            .finish_non_exhaustive()
    }
}

/// A serialisable report of a parsed file (what the validation screen shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    /// What kind of file it was (`csv`, `xlsx`, `xls`, `ods`).
    #[serde(default)]
    pub format: FileFormat,
    /// The sheet that was read, for a spreadsheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The encoding the file was read with (`utf-8` for a spreadsheet).
    pub encoding: Encoding,
    /// The delimiter used.
    pub delimiter: char,
    /// The header cells and their columns.
    pub header: Vec<HeaderCell>,
    /// Data rows.
    pub rows: usize,
    /// Rows without errors.
    pub valid_rows: usize,
    /// Every issue.
    pub issues: Vec<Issue>,
}

/// A view of one row of an [`Upload`].
#[derive(Clone, Copy)]
pub struct Row<'a> {
    upload: &'a Upload,
    index: usize,
}

impl<'a> Row<'a> {
    /// 0-based position among the rows.
    pub fn index(&self) -> usize {
        self.index
    }
    /// The 1-based physical line where the record starts (the header is line 1).
    pub fn line(&self) -> u32 {
        self.upload.lines[self.index]
    }
    /// The trimmed value of a column; `""` when blank or absent. For `addgroup`/`removegroup`
    /// the merged cells joined by the group separator.
    pub fn get(&self, column: Column) -> &'a str {
        self.upload.cell(self.index, column)
    }
    /// The value, or `None` when blank or absent (or the clear token: see
    /// [`Row::clears`]).
    pub fn value(&self, column: Column) -> Option<&'a str> {
        Some(self.get(column)).filter(|v| self.upload.is_value(v))
    }
    /// Whether the cell holds the clear token ([`ParseOptions::clear_token`](crate::ParseOptions::clear_token)):
    /// the row clears that field of an existing user.
    pub fn clears(&self, column: Column) -> bool {
        self.upload.is_clear(self.get(column))
    }
    /// The email address as written.
    pub fn email(&self) -> &'a str {
        self.get(Column::EmailAddress)
    }
    /// The groups to add, in order, blank names skipped.
    pub fn add_groups(&self) -> impl Iterator<Item = &'a str> + 'a {
        split_groups(self.get(Column::AddGroup), self.upload.group_separator)
    }
    /// The groups to remove, in order, blank names skipped.
    pub fn remove_groups(&self) -> impl Iterator<Item = &'a str> + 'a {
        split_groups(self.get(Column::RemoveGroup), self.upload.group_separator)
    }
    /// The content the row's own `course`, `collection` and `campaign` cells name, in
    /// column order then as written, blank ids skipped and each once.
    pub fn enrolments(&self) -> Vec<crate::ContentRef> {
        let upload = self.upload;
        if [Column::Course, Column::Collection, Column::Campaign]
            .iter()
            .all(|c| !upload.has_column(*c))
        {
            return Vec::new();
        }
        // A set beside the list: a crafted cell of thousands of ids stays linear.
        let mut seen = std::collections::HashSet::new();
        let mut found: Vec<crate::ContentRef> = Vec::new();
        for column in [Column::Course, Column::Collection, Column::Campaign] {
            let Some(kind) = column.content_kind() else {
                continue;
            };
            for id in split_groups(self.get(column), self.upload.group_separator) {
                if seen.insert((kind, id)) {
                    found.push(crate::ContentRef::new(kind, id));
                }
            }
        }
        found
    }
    /// The login method the `auth` cell names (`password` or one of the host's), `None`
    /// when blank or absent.
    pub fn login_method(&self) -> Option<&'a str> {
        let cell = self.value(Column::Auth)?;
        crate::parse::fields::login_method(cell, &self.upload.login_methods)
    }
    /// The host profile fields of the row that have a value, by name, in the order they
    /// were declared (a `one_of` value as declared). A cell with the clear token is not one
    /// of them: see [`Row::cleared_fields`].
    pub fn custom_values(&self) -> impl Iterator<Item = (&'a str, String)> + 'a {
        let (upload, index) = (self.upload, self.index);
        upload
            .fields
            .iter()
            .zip(upload.field_slots.iter())
            .zip(upload.one_of.iter())
            .filter_map(move |((field, slot), one_of)| {
                let cell = upload.slot_cell(index, *slot);
                if cell.is_empty() || upload.is_clear(cell) {
                    return None;
                }
                field
                    .check(cell, one_of.as_ref())
                    .ok()
                    .map(|v| (field.name.as_str(), v))
            })
    }
    /// The host profile fields whose cell holds the clear token.
    pub fn cleared_fields(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (upload, index) = (self.upload, self.index);
        upload
            .fields
            .iter()
            .zip(upload.field_slots.iter())
            .filter(move |(_, slot)| upload.is_clear(upload.slot_cell(index, **slot)))
            .map(|(field, _)| field.name.as_str())
    }
    /// Whether the row has no errors.
    pub fn is_valid(&self) -> bool {
        self.upload.cells.is_valid(self.index)
    }
    /// The issues of this row.
    pub fn issues(&self) -> &'a [Issue] {
        let issues = &self.upload.issues;
        let line = Some(self.line());
        let start = issues.partition_point(|i| i.line < line);
        let end = start + issues[start..].partition_point(|i| i.line == line);
        &issues[start..end]
    }
    /// An owned copy of the row's values (for bindings and reports).
    pub fn to_data(&self) -> RowData {
        let upload = self.upload;
        RowData {
            line: self.line(),
            values: Column::ALL
                .into_iter()
                .filter(|c| upload.has_column(*c))
                .map(|c| (c, self.get(c).to_owned()))
                .collect(),
            add_groups: self.add_groups().map(str::to_owned).collect(),
            remove_groups: self.remove_groups().map(str::to_owned).collect(),
            custom: upload
                .fields
                .iter()
                .zip(upload.field_slots.iter())
                .filter(|(_, slot)| slot.is_some())
                .map(|(f, slot)| {
                    (
                        f.name.clone(),
                        upload.slot_cell(self.index, *slot).to_owned(),
                    )
                })
                .collect(),
            valid: self.is_valid(),
            issues: self.issues().to_vec(),
        }
    }
}

impl std::fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("line", &self.line())
            .field("email", &self.email())
            .finish_non_exhaustive()
    }
}

/// An owned, serialisable copy of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowData {
    /// The line where the record starts.
    pub line: u32,
    /// The values of the file's recognised columns, in canonical column order.
    pub values: std::collections::BTreeMap<Column, String>,
    /// Groups to add.
    pub add_groups: Vec<String>,
    /// Groups to remove.
    pub remove_groups: Vec<String>,
    /// The cells of the host's profile fields the file has, by field name, as written.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub custom: std::collections::BTreeMap<String, String>,
    /// Whether the row has no errors.
    pub valid: bool,
    /// The row's issues.
    pub issues: Vec<Issue>,
}

pub(crate) fn split_groups(cell: &str, separator: char) -> impl Iterator<Item = &str> {
    cell.split(separator)
        .map(str::trim)
        .filter(|g| !g.is_empty())
}

#[cfg(test)]
mod tests {
    /// The upload keeps the file's text, every column of it: its Debug form shows the
    /// values read, not the text (a password column is never read).
    #[test]
    fn the_debug_form_shows_the_values_not_the_file() {
        let csv =
            "firstname,lastname,emailaddress,password\nAna,Lopez,ana@example.com,hunter2-secret\n";
        for upload in [
            crate::parse(csv.as_bytes(), &Default::default()),
            crate::parse_owned(csv.as_bytes().to_vec(), &Default::default()),
        ] {
            let shown = format!("{:?}", upload.unwrap());
            assert!(shown.contains("ana@example.com"), "{shown}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
