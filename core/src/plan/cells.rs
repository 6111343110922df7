//! A row as planning reads it: the cells it reads more than once (the email, the names, the
//! group cells) taken from the upload once.
//!
//! Reading a cell from the upload finds its record, its kind of index and its bounds, and
//! checks the bounds are character boundaries: some 80 instructions. Planning a row read the
//! email three times (the user's match, the row, an issue), the names twice (the row, the
//! profile) and a group cell up to five times (unknown groups, the settings' groups, the
//! groups added or removed); [`RowCells`] reads each once and answers [`Row`]'s questions
//! from what it read, the same values.

use crate::parse::column::Column;
use crate::parse::upload::{split_groups, Row, Upload};

/// A row and the cells planning reads more than once.
#[derive(Clone, Copy)]
pub(super) struct RowCells<'a> {
    row: Row<'a>,
    upload: &'a Upload,
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    add: &'a str,
    remove: &'a str,
}

impl<'a> RowCells<'a> {
    /// The cells of `row` (of `upload`); `email`, when given, is its email cell, read already.
    pub(super) fn read(upload: &'a Upload, row: Row<'a>, email: Option<&'a str>) -> Self {
        RowCells {
            row,
            upload,
            email: email.unwrap_or_else(|| row.email()),
            first_name: row.get(Column::FirstName),
            last_name: row.get(Column::LastName),
            add: row.get(Column::AddGroup),
            remove: row.get(Column::RemoveGroup),
        }
    }

    /// The row itself, for what is read once.
    pub(super) fn row(&self) -> &Row<'a> {
        &self.row
    }

    /// [`Row::line`].
    pub(super) fn line(&self) -> u32 {
        self.row.line()
    }

    /// [`Row::email`].
    pub(super) fn email(&self) -> &'a str {
        self.email
    }

    /// [`Row::get`].
    pub(super) fn get(&self, column: Column) -> &'a str {
        match column {
            Column::EmailAddress => self.email,
            Column::FirstName => self.first_name,
            Column::LastName => self.last_name,
            Column::AddGroup => self.add,
            Column::RemoveGroup => self.remove,
            other => self.row.get(other),
        }
    }

    /// [`Row::value`].
    pub(super) fn value(&self, column: Column) -> Option<&'a str> {
        Some(self.get(column)).filter(|v| self.upload.is_value(v))
    }

    /// [`Row::clears`].
    pub(super) fn clears(&self, column: Column) -> bool {
        self.upload.is_clear(self.get(column))
    }

    /// The groups the row adds ([`Row::add_groups`]): none, without splitting, for a blank
    /// cell.
    pub(super) fn adds(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.groups(self.add)
    }

    /// The groups the row removes ([`Row::remove_groups`]): none, without splitting, for a
    /// blank cell.
    pub(super) fn removes(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.groups(self.remove)
    }

    fn groups(&self, cell: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let separator = self.upload.group_separator();
        (!cell.is_empty())
            .then(|| split_groups(cell, separator))
            .into_iter()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    /// Every answer is [`Row`]'s, for every row and column of a file with blank, cleared,
    /// merged and absent cells.
    #[test]
    fn the_cells_read_once_answer_as_the_row_does() {
        let file = "firstname,lastname,email,addgroup,addgroup,removegroup,organisation\n\
                    Ana,Lopez,ana@example.com,Sales;Support,Extra,,Acme\n\
                    ,CLEAR,bo@example.com,,,Support ; Sales,clear\n\
                    Chloé, ,not-an-email, Sales ,,,\n";
        let options = crate::ParseOptions {
            clear_token: Some("clear".into()),
            ..Default::default()
        };
        let upload = parse::parse(file.as_bytes(), &options).expect("parses");
        assert_eq!(upload.len(), 3);
        for row in upload.rows() {
            for email in [None, Some(row.email())] {
                let cells = RowCells::read(&upload, row, email);
                assert_eq!(cells.line(), row.line());
                assert_eq!(cells.email(), row.email());
                for column in Column::ALL {
                    assert_eq!(cells.get(column), row.get(column), "{column:?}");
                    assert_eq!(cells.value(column), row.value(column), "{column:?}");
                    assert_eq!(cells.clears(column), row.clears(column), "{column:?}");
                }
                let adds: Vec<&str> = cells.adds().collect();
                let removes: Vec<&str> = cells.removes().collect();
                assert_eq!(adds, row.add_groups().collect::<Vec<_>>());
                assert_eq!(removes, row.remove_groups().collect::<Vec<_>>());
            }
        }
    }
}
