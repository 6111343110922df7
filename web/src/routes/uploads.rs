//! Upload a file, its validation report, issues and rows, columns matched by hand, a cell
//! fixed in place, the corrected file.

use super::{json_body, offset, page_json, paging, query, Ctx};
use crate::hooks::{Reading, StoredUpload};
use crate::http::Response;
use crate::problem::Problem;
use crate::{hook_problem, views};
use lms_bulk_upload::{
    read_header, rewrite_file, CellEdit, Column, IssueCode, ParseOptions, Upload,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The refusals that let the administrator go on by matching a column by hand.
fn header_refusal(code: IssueCode) -> bool {
    matches!(
        code,
        IssueCode::MissingRequiredColumn | IssueCode::DuplicateColumn
    )
}

/// The upload's record without its bytes, if it is this administrator's.
pub(super) fn load(ctx: &Ctx<'_>, id: &str) -> Result<StoredUpload, Problem> {
    match ctx.api.host().upload_info(id).map_err(hook_problem)? {
        Some(u) if u.owner == ctx.session.email => Ok(u),
        _ => Err(Problem::new("not_found", "no such upload")),
    }
}

/// The upload with its bytes, if it is this administrator's (to change or write it).
fn load_bytes(ctx: &Ctx<'_>, id: &str) -> Result<StoredUpload, Problem> {
    match ctx.api.host().upload(id).map_err(hook_problem)? {
        Some(u) if u.owner == ctx.session.email => Ok(u),
        _ => Err(Problem::new("not_found", "no such upload")),
    }
}

/// The report of an upload: parsed, or its header when the engine refused the header.
fn report(ctx: &Ctx<'_>, stored: &StoredUpload) -> Result<Value, Problem> {
    let (read, options) = ctx.api.parsed(stored)?;
    let mut report = match read.parsed.as_ref() {
        Ok(upload) => views::report_json(stored, upload, &options),
        Err(e) if header_refusal(e.code()) => {
            let full;
            let bytes = if stored.bytes.len() as u64 == stored.size {
                &stored.bytes
            } else {
                full = load_bytes(ctx, &stored.id)?;
                &full.bytes
            };
            let header = read_header(bytes, &options).map_err(|e| Problem::engine(&e))?;
            views::refused_report_json(stored, &header, e, &options)
        }
        Err(e) => return Err(Problem::engine(e)),
    };
    // A workbook's sheets, to choose from (none for a CSV file).
    report["sheets"] = json!(read.sheets);
    report["reading"] = json!({
        "sheet": stored.reading.sheet,
        "encoding": stored.reading.encoding,
    });
    Ok(report)
}

/// The upload the engine read, or its refusal.
fn readable(read: &crate::ReadUpload) -> Result<&Upload, Problem> {
    read.parsed.as_ref().map_err(Problem::engine)
}

/// A file name kept as given but bounded and without control characters or paths.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "upload.csv".into()
    } else {
        cleaned
    }
}

pub(super) fn create(ctx: &Ctx<'_>) -> Result<Response, Problem> {
    let content_type = ctx
        .req
        .header("content-type")
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    if !matches!(
        content_type.as_deref(),
        Some("application/octet-stream" | "text/csv" | "text/plain")
    ) {
        return Err(Problem::new(
            "unsupported_media_type",
            "send the file's bytes as application/octet-stream",
        ));
    }
    let filename = clean_filename(&query(ctx.req, "filename").unwrap_or_default());
    let options = ctx.api.host().parse_options();
    // Refused before it is stored: a file the engine cannot read at all. A header without
    // a required column is kept, so that a column can be assigned by hand.
    let read = crate::ReadUpload::read(&ctx.req.body, &options);
    if let Err(e) = &read.parsed {
        if !header_refusal(e.code()) {
            return Err(Problem::engine(e));
        }
    }
    let id = ctx
        .api
        .host()
        .create_upload(&ctx.session.email, &filename, &ctx.req.body)
        .map_err(hook_problem)?;
    // Its record, not its bytes read back: the parse just made is the upload's.
    let stored = load(ctx, &id)?;
    if stored.assignments.is_empty() && stored.reading == Reading::default() {
        ctx.api.remember(&stored, read);
    }
    Ok(Response::json(201, &report(ctx, &stored)?)
        .with_header("location", format!("/api/uploads/{id}")))
}

pub(super) fn report_route(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let stored = load(ctx, id)?;
    Ok(Response::json(200, &report(ctx, &stored)?))
}

pub(super) fn issues(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let (page, per_page) = paging(ctx.req)?;
    let severity = query(ctx.req, "severity");
    let want_errors = match severity.as_deref() {
        None | Some("") => None,
        Some("error") => Some(true),
        Some("warning") => Some(false),
        Some(_) => {
            return Err(Problem::new(
                "invalid_request",
                "severity is error or warning",
            ))
        }
    };
    let stored = load(ctx, id)?;
    let (parsed, _) = ctx.api.parsed(&stored)?;
    let upload = readable(&parsed)?;
    let matching: Vec<_> = upload
        .issues()
        .iter()
        .filter(|i| want_errors.is_none_or(|e| i.is_error() == e))
        .collect();
    let items = matching
        .iter()
        .skip(offset(page, per_page))
        .take(per_page as usize)
        .map(|i| views::issue_json(i, Some(upload)))
        .collect();
    Ok(page_json(page, per_page, matching.len() as u64, items))
}

pub(super) fn rows(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let (page, per_page) = paging(ctx.req)?;
    let errors_only = match query(ctx.req, "errors_only").as_deref() {
        None | Some("" | "false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(Problem::new(
                "invalid_request",
                "errors_only is true or false",
            ))
        }
    };
    let stored = load(ctx, id)?;
    let (parsed, _) = ctx.api.parsed(&stored)?;
    let upload = readable(&parsed)?;
    let (total, items) = if errors_only {
        let total = upload.rows().filter(|r| !r.is_valid()).count();
        let items = upload
            .rows()
            .filter(|r| !r.is_valid())
            .skip(offset(page, per_page))
            .take(per_page as usize)
            .map(|r| views::upload_row_json(upload, &r))
            .collect();
        (total, items)
    } else {
        let items = upload
            .rows()
            .skip(offset(page, per_page))
            .take(per_page as usize)
            .map(|r| views::upload_row_json(upload, &r))
            .collect();
        (upload.len(), items)
    };
    Ok(page_json(page, per_page, total as u64, items))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    #[serde(default)]
    assign: BTreeMap<String, Option<String>>,
    #[serde(default)]
    reset: Vec<usize>,
}

pub(super) fn assign(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let body: Assign = json_body(ctx.req)?;
    let stored = load_bytes(ctx, id)?;
    let mut assignments = stored.assignments.clone();
    for index in &body.reset {
        assignments.remove(index);
    }
    for (key, field) in body.assign {
        let index: usize = key.parse().map_err(|_| {
            Problem::new("invalid_request", format!("{key:?} is not a column index"))
        })?;
        if index
            >= lms_bulk_upload::DEFAULT_MAX_COLUMNS.max(ctx.api.host().parse_options().max_columns)
        {
            return Err(Problem::new(
                "invalid_request",
                format!("no column {index}"),
            ));
        }
        if let Some(name) = &field {
            if name.len() > 64 {
                return Err(Problem::new(
                    "invalid_request",
                    "a field name is at most 64 bytes",
                ));
            }
        }
        assignments.insert(index, field);
    }
    // The engine checks the names and positions: refused before anything is stored.
    let mut options = ctx.api.options_for(&stored);
    options.column_assignments = assignments.clone();
    if let Err(e) = lms_bulk_upload::parse(&stored.bytes, &options) {
        if !header_refusal(e.code()) {
            return Err(Problem::engine(&e));
        }
    }
    save(ctx, &stored, None, &assignments, &stored.reading)?;
    let stored = load(ctx, id)?;
    Ok(Response::json(200, &report(ctx, &stored)?))
}

/// How to read the file: `{"sheet", "encoding"}`, each optional (absent: unchanged; null:
/// the host's parse options' choice again, else the engine's).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadingRequest {
    #[serde(default, deserialize_with = "present")]
    sheet: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    encoding: Option<Option<String>>,
}

/// A key given (its value may be null) as `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub(super) fn reading(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let body: ReadingRequest = json_body(ctx.req)?;
    let stored = load_bytes(ctx, id)?;
    let mut reading = stored.reading.clone();
    let mut assignments = stored.assignments.clone();
    if let Some(sheet) = body.sheet {
        if sheet.as_ref().is_some_and(|s| s.len() > 255) {
            return Err(Problem::new(
                "invalid_request",
                "a sheet name is at most 255 bytes",
            ));
        }
        if sheet != reading.sheet {
            // Another sheet has another header: columns matched by hand are matched again.
            assignments.clear();
        }
        reading.sheet = sheet;
    }
    if let Some(encoding) = body.encoding {
        reading.encoding = match encoding {
            None => None,
            // The engine reads the label (its `invalid_option` when it knows none).
            Some(label) => {
                let named = ParseOptions::from_value(json!({ "encoding": label }))
                    .map_err(|e| Problem::engine(&e))?;
                named.encoding.map(|e| e.as_str().to_owned())
            }
        };
    }
    // The engine reads the file so before anything is stored: an unknown sheet is refused
    // (`sheet_not_found`, naming the sheets); a header without a required column is kept.
    let mut options = ctx.api.host().parse_options();
    options.column_assignments = assignments.clone();
    crate::reading_options(&mut options, &reading);
    if let Err(e) = lms_bulk_upload::parse(&stored.bytes, &options) {
        if !header_refusal(e.code()) {
            return Err(Problem::engine(&e));
        }
    }
    save(ctx, &stored, None, &assignments, &reading)?;
    let stored = load(ctx, id)?;
    Ok(Response::json(200, &report(ctx, &stored)?))
}

fn save(
    ctx: &Ctx<'_>,
    stored: &StoredUpload,
    bytes: Option<&[u8]>,
    assignments: &BTreeMap<usize, Option<String>>,
    reading: &Reading,
) -> Result<(), Problem> {
    let saved = ctx
        .api
        .host()
        .update_upload(&stored.id, stored.version, bytes, assignments, reading)
        .map_err(hook_problem)?;
    if !saved {
        return Err(Problem::new(
            "plan_outdated",
            "the upload was changed meanwhile: reload it and try again",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixCell {
    line: u32,
    column: usize,
    value: String,
}

pub(super) fn fix_cell(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let body: FixCell = json_body(ctx.req)?;
    let stored = load_bytes(ctx, id)?;
    let (parsed, _) = ctx.api.parsed(&stored)?;
    let upload = readable(&parsed)?;
    let Some(index) = views::row_index(upload, body.line) else {
        return Err(Problem::new(
            "invalid_request",
            format!("line {} is no row of the file", body.line),
        ));
    };
    let options = ctx.api.options_for(&stored);
    let edit = CellEdit {
        line: body.line,
        column: body.column,
        value: body.value,
    };
    let bytes = rewrite_file(&stored.bytes, &options, &[edit], &BTreeMap::new())
        .map_err(|e| Problem::engine(&e))?;
    // The whole file again, by the same rules: a fix may make another row a duplicate.
    // The file written back is UTF-8 CSV text (a workbook's chosen sheet, decoded): the
    // sheet and encoding chosen are behind it.
    let mut options = options;
    options.sheet = None;
    options.encoding = None;
    lms_bulk_upload::parse(&bytes, &options).map_err(|e| Problem::engine(&e))?;
    save(
        ctx,
        &stored,
        Some(&bytes),
        &stored.assignments,
        &Reading::default(),
    )?;
    let stored = load(ctx, id)?;
    let report = report(ctx, &stored)?;
    let (parsed, _) = ctx.api.parsed(&stored)?;
    let upload = readable(&parsed)?;
    let row = upload
        .row(index)
        .map(|r| views::upload_row_json(upload, &r))
        .unwrap_or(Value::Null);
    Ok(Response::json(200, &json!({"report": report, "row": row})))
}

pub(super) fn file(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let stored = load_bytes(ctx, id)?;
    let options = ctx.api.options_for(&stored);
    // Headers matched by hand are written as the column's name, so the file reads the same
    // without the assignment.
    let mut headers = BTreeMap::new();
    if let Ok(cells) = read_header(&stored.bytes, &options) {
        for (index, field) in &stored.assignments {
            let name = match field {
                Some(_) => cells.get(*index).and_then(|c| {
                    c.column
                        .map(Column::as_str)
                        .map(str::to_owned)
                        .or_else(|| c.field.clone())
                }),
                None => None,
            };
            if let Some(name) = name {
                headers.insert(*index, name);
            }
        }
    }
    let bytes =
        rewrite_file(&stored.bytes, &options, &[], &headers).map_err(|e| Problem::engine(&e))?;
    let name = &stored.filename;
    let stem = name
        .rsplit_once('.')
        .filter(|(_, ext)| {
            ["csv", "txt", "xlsx", "xls", "ods"]
                .iter()
                .any(|e| ext.eq_ignore_ascii_case(e))
        })
        .map_or(name.as_str(), |(stem, _)| stem)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>();
    Ok(
        Response::new(200, "text/csv; charset=utf-8", bytes).with_header(
            "content-disposition",
            format!("attachment; filename=\"{stem}-fixed.csv\""),
        ),
    )
}
