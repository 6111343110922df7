//! The results CSV the CLI writes: a UTF-8 byte order mark (Excel reads the file as UTF-8),
//! the row's names beside its email, the outcome, then the row's own data as the file had
//! it (its recognised columns and profile fields, headed as written). Every cell quoted and
//! neutralised against formulas, as core's `Results::to_csv`.

use crate::report;
use lms_bulk_upload::{neutralise, Plan, Results, Upload};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The byte order mark that tells Excel the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// A row status as the results file writes it: an unfinished row of an interrupted run is
/// `not_run`, not `failed`.
fn status(row: &lms_bulk_upload::ResultRow) -> &'static str {
    if report::not_run(row) {
        "not_run"
    } else {
        row.status.as_str()
    }
}

/// The results as CSV, in memory (`bulk-upload results`): see [`write_csv`].
pub fn to_csv(results: &Results, plan: Option<&Plan>, upload: Option<&Upload>) -> String {
    let mut out = Vec::new();
    // Writing to a Vec fails only on a CSV error, which quoting every cell rules out.
    let _ = write_csv(&mut out, results, plan, upload);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the results as CSV to `out`, row by row: a million rows are streamed, never held
/// as one text. `plan` gives the names (by line); `upload`, when the run was planned from a
/// file now, gives the row's own data.
pub fn write_csv(
    out: &mut dyn Write,
    results: &Results,
    plan: Option<&Plan>,
    upload: Option<&Upload>,
) -> io::Result<()> {
    out.write_all(BOM.as_bytes())?;
    let plan_names = plan.map(names_by_line).unwrap_or_default();
    let names = ByLine::new(&plan_names, |n| n.line);
    // The file's columns: (header as written, the column or field it was read as).
    let columns: Vec<(&str, Option<lms_bulk_upload::Column>, Option<&str>)> = upload
        .map(|u| {
            u.header()
                .iter()
                .filter(|c| c.column.is_some() || c.field.is_some())
                .map(|c| (c.header.as_str(), c.column, c.field.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    let upload_rows: Vec<lms_bulk_upload::Row<'_>> =
        upload.map(|u| u.rows().collect()).unwrap_or_default();
    let own_rows = ByLine::new(&upload_rows, lms_bulk_upload::Row::line);
    let mut writer = Quoted::new(out);
    let mut header: Vec<String> = OUR_COLUMNS.map(String::from).to_vec();
    // The file's own headers after ours, prefixed when one would repeat ours.
    header.extend(columns.iter().map(|(h, _, _)| {
        if header_is_ours(h) {
            format!("file:{h}")
        } else {
            (*h).to_owned()
        }
    }));
    for h in &header {
        writer.write_field(neutralise(h).as_bytes())?;
    }
    writer.end_record()?;
    // A profile field's cell is read from the row's owned copy (`Row::to_data`); a column's
    // straight from the upload, without copying the row.
    let has_fields = columns.iter().any(|(_, _, field)| field.is_some());
    let has_column = |c: lms_bulk_upload::Column| upload.is_some_and(|u| u.has_column(c));
    let mut line = String::new();
    let mut done = String::new();
    for row in &results.rows {
        let (first, last) = names
            .get(row.line)
            .map_or(("", ""), |n| (n.first.as_str(), n.last.as_str()));
        line.clear();
        let _ = write!(line, "{}", row.line);
        let user_id = row.user_id.as_ref().map_or("", |u| u.0.as_str());
        write_done(&mut done, row);
        let error = row.error_text();
        for cell in [
            line.as_str(),
            row.email.as_str(),
            first,
            last,
            status(row),
            user_id,
            done.as_str(),
            error.as_str(),
        ] {
            writer.write_field(safe(cell).as_bytes())?;
        }
        let own = own_rows.get(row.line);
        let data = if has_fields {
            own.map(lms_bulk_upload::Row::to_data)
        } else {
            None
        };
        for (_, column, field) in &columns {
            let value = match (own, column, field) {
                (Some(_), _, Some(f)) => data
                    .as_ref()
                    .and_then(|d| d.custom.get(*f))
                    .map_or("", String::as_str),
                (Some(r), Some(c), None) if has_column(*c) => r.get(*c),
                _ => "",
            };
            writer.write_field(safe(value).as_bytes())?;
        }
        writer.end_record()?;
    }
    writer.flush()
}

/// `row.done_text()` written into `out` (emptied first): each operation's `Done::describe`
/// parted by `"; "`, without the list of strings `done_text` gathers and joins, and the two
/// descriptions every new user's row has twice over (a group, a course) written in place.
fn write_done(out: &mut String, row: &lms_bulk_upload::ResultRow) {
    use lms_bulk_upload::Done;
    out.clear();
    for (i, done) in row.done.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        match done {
            Done::AddToGroup { group, .. } => {
                out.push_str("added to group ");
                out.push_str(group);
            }
            Done::Enrol { content, .. } => {
                let _ = write!(out, "enrolled in {content}");
            }
            other => out.push_str(&other.describe()),
        }
    }
}

/// [`neutralise`]`(cell)`, without its scan when the cell starts with an ASCII letter or
/// digit (most cells: names, emails, ids, the outcome), which it leaves as it is: neither
/// blank nor one of the characters that make a spreadsheet read a formula.
fn safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        None => cell.into(),
        Some(b) if b.is_ascii_alphanumeric() => cell.into(),
        Some(_) => neutralise(cell),
    }
}

/// A CSV writer that quotes every cell: the bytes the `csv` crate writes with
/// `QuoteStyle::Always` and CRLF line ends (a cell in double quotes, a double quote in it
/// doubled, cells parted by commas), made by copying each cell between its quotes rather
/// than by `csv_core`'s state machine, a byte at a time: about a third of the results file's
/// instructions, on the thread that writes it while the run's results are signed and
/// stored. A test compares the two on cells with quotes, commas and line ends.
struct Quoted<'w> {
    out: &'w mut dyn Write,
    buf: Vec<u8>,
    /// No cell of the record written yet.
    first: bool,
}

/// Bytes gathered before they are handed to the writer.
const QUOTED_BUFFER: usize = 64 * 1024;

impl<'w> Quoted<'w> {
    fn new(out: &'w mut dyn Write) -> Quoted<'w> {
        Quoted {
            out,
            buf: Vec::with_capacity(QUOTED_BUFFER + 1024),
            first: true,
        }
    }

    fn write_field(&mut self, cell: &[u8]) -> io::Result<()> {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.push(b'"');
        if cell.contains(&b'"') {
            for (i, part) in cell.split(|&b| b == b'"').enumerate() {
                if i > 0 {
                    self.buf.extend_from_slice(b"\"\"");
                }
                self.buf.extend_from_slice(part);
            }
        } else {
            self.buf.extend_from_slice(cell);
        }
        self.buf.push(b'"');
        if self.buf.len() >= QUOTED_BUFFER {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn end_record(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(b"\r\n");
        self.first = true;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

/// What the results read of a plan's row: its line and its names.
struct Names {
    line: u32,
    first: String,
    last: String,
}

/// The names of every row of `plan`, read a block of rows at a time (the rows decoded into
/// the same few, not each decoded whole and kept).
fn names_by_line(plan: &Plan) -> Vec<Names> {
    let mut names = Vec::with_capacity(plan.rows().len());
    plan.rows().for_each_block(|_, block| {
        names.extend(block.iter().map(|row| Names {
            line: row.line,
            first: row.first_name.clone(),
            last: row.last_name.clone(),
        }));
    });
    names
}

/// Items found by their line: by binary search when they are in line order (a plan's rows,
/// an upload's rows: file order), through an index otherwise.
struct ByLine<'a, T> {
    items: &'a [T],
    line: fn(&T) -> u32,
    index: Option<HashMap<u32, usize>>,
}

impl<'a, T> ByLine<'a, T> {
    fn new(items: &'a [T], line: fn(&T) -> u32) -> ByLine<'a, T> {
        let sorted = items.windows(2).all(|w| line(&w[0]) < line(&w[1]));
        let index = (!sorted).then(|| {
            let mut index = HashMap::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                index.entry(line(item)).or_insert(i);
            }
            index
        });
        ByLine { items, line, index }
    }

    fn get(&self, line: u32) -> Option<&'a T> {
        let i = match &self.index {
            Some(index) => *index.get(&line)?,
            None => self.items.binary_search_by_key(&line, self.line).ok()?,
        };
        self.items.get(i)
    }
}

/// The report's own columns, before the file's.
const OUR_COLUMNS: [&str; 8] = [
    "line",
    "email",
    "firstname",
    "lastname",
    "status",
    "user_id",
    "done",
    "error",
];

fn header_is_ours(h: &str) -> bool {
    OUR_COLUMNS
        .iter()
        .any(|ours| ours.eq_ignore_ascii_case(h.trim()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{safe, write_done, Quoted};
    use lms_bulk_upload::{neutralise, ContentKind, ContentRef, Done, ResultRow, Status};

    /// `safe` gives what `neutralise` gives, its shortcut taken or not.
    #[test]
    fn safe_cells_are_neutralised_cells() {
        for cell in [
            "",
            "a",
            "Z9",
            "9",
            "=1+1",
            "+64 21",
            "-5",
            "@x",
            " =1",
            "\u{a0}=1",
            "\t1",
            "\r",
            "\n",
            "\0",
            "'=1",
            "é=",
            "Ünïcode",
            "\u{3000}-x",
            " ",
            "a\"b",
            "\"=1\"",
        ] {
            assert_eq!(safe(cell), neutralise(cell), "{cell:?}");
        }
    }

    /// `write_done` writes `done_text`.
    #[test]
    fn done_cells_are_done_text() {
        let mut row = ResultRow {
            line: 2,
            email: "a@x.com".into(),
            status: Status::Created,
            user_id: None,
            done: Vec::new(),
            error: None,
        };
        let mut out = "left over".to_owned();
        write_done(&mut out, &row);
        assert_eq!(out, row.done_text());
        row.done = vec![
            Done::CreateUser,
            Done::SetPassword,
            Done::AddToGroup {
                group: "Sales".into(),
                already: false,
            },
            Done::Enrol {
                content: ContentRef::new(ContentKind::Course, "c1"),
                already: true,
            },
            Done::RemoveFromGroup {
                group: "Support".into(),
                already: false,
            },
            Done::Withdraw {
                content: ContentRef::new(ContentKind::Campaign, "q4"),
            },
            Done::SendEmail {
                kind: lms_bulk_upload::MessageKind::Welcome,
            },
        ];
        write_done(&mut out, &row);
        assert_eq!(out, row.done_text());
        row.done.truncate(1);
        write_done(&mut out, &row);
        assert_eq!(out, row.done_text());
    }

    /// `Quoted` writes what the `csv` crate writes with every cell quoted and CRLF line ends.
    #[test]
    fn quoted_cells_are_the_csv_crates() {
        let records: &[&[&str]] = &[
            &["line", "email", ""],
            &[
                "2",
                "a\"b",
                "\"",
                "\"\"x\"",
                "a,b",
                "two\nlines",
                "cr\r\nlf",
                "é ü",
            ],
            &[""],
            &["", ""],
            &["=1+1", "'=1"],
        ];
        let mut expected = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Always)
            .flexible(true)
            .from_writer(Vec::new());
        let mut ours = Vec::new();
        {
            let mut writer = Quoted::new(&mut ours);
            for record in records {
                expected.write_record(*record).unwrap();
                for cell in *record {
                    writer.write_field(cell.as_bytes()).unwrap();
                }
                writer.end_record().unwrap();
            }
            writer.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(expected.into_inner().unwrap()).unwrap()
        );
    }
}
