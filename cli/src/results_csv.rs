//! The results CSV the CLI writes: a UTF-8 byte order mark (Excel reads the file as UTF-8),
//! the row's names beside its email, the outcome, then the row's own data as the file had
//! it (its recognised columns and profile fields, headed as written). Every cell quoted and
//! neutralised against formulas, as core's `Results::to_csv`.

use crate::report;
use lms_bulk_upload::{neutralise, Plan, Results, Upload};
use std::collections::HashMap;

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

/// The results as CSV. `plan` gives the names (by line); `upload`, when the run was planned
/// from a file now, gives the row's own data.
pub fn to_csv(results: &Results, plan: Option<&Plan>, upload: Option<&Upload>) -> String {
    let names: HashMap<u32, (&str, &str)> = plan
        .map(|p| {
            p.rows()
                .iter()
                .map(|r| (r.line, (r.first_name.as_str(), r.last_name.as_str())))
                .collect()
        })
        .unwrap_or_default();
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
    let data: HashMap<u32, lms_bulk_upload::RowData> = upload
        .map(|u| u.rows().map(|r| (r.line(), r.to_data())).collect())
        .unwrap_or_default();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    let mut header: Vec<String> = OUR_COLUMNS.map(String::from).to_vec();
    // The file's own headers after ours, prefixed when one would repeat ours.
    header.extend(columns.iter().map(|(h, _, _)| {
        if header_is_ours(h) {
            format!("file:{h}")
        } else {
            (*h).to_owned()
        }
    }));
    let _ = writer.write_record(header.iter().map(|h| neutralise(h).into_owned()));
    for row in &results.rows {
        let (first, last) = names.get(&row.line).copied().unwrap_or(("", ""));
        let (done, error) = (row.done_text(), row.error_text());
        let mut cells: Vec<String> = vec![
            row.line.to_string(),
            row.email.clone(),
            first.to_owned(),
            last.to_owned(),
            status(row).to_owned(),
            row.user_id.as_ref().map_or(String::new(), |u| u.0.clone()),
            done,
            error,
        ];
        let own = data.get(&row.line);
        cells.extend(columns.iter().map(|(_, column, field)| {
            let value = match (own, column, field) {
                (Some(d), _, Some(f)) => d.custom.get(*f),
                (Some(d), Some(c), None) => d.values.get(c),
                _ => None,
            };
            value.cloned().unwrap_or_default()
        }));
        let _ = writer.write_record(cells.iter().map(|c| neutralise(c).into_owned()));
    }
    let body = String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default();
    format!("{BOM}{body}")
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
