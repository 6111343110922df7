//! The API's objects, as JSON. Every value from the file is a JSON string.

use crate::hooks::{RunInfo, StoredPlan, StoredUpload};
use lms_bulk_upload::{
    suggest_column, Column, ExistingUser, HeaderCell, Issue, ParseOptions, PlanRow, ResultRow, Row,
    Upload,
};
use serde_json::{json, Value};

/// A header cell's field name: the column's canonical name or the host field's.
fn field_of(cell: &HeaderCell) -> Option<String> {
    cell.column
        .map(|c| c.as_str().to_owned())
        .or_else(|| cell.field.clone())
}

/// The row of `upload` that starts on `line` (rows are in line order).
pub(crate) fn row_at(upload: &Upload, line: u32) -> Option<Row<'_>> {
    upload.row(row_index(upload, line)?)
}

/// The index of the row that starts on `line`.
pub(crate) fn row_index(upload: &Upload, line: u32) -> Option<usize> {
    let (mut lo, mut hi) = (0usize, upload.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let row = upload.row(mid)?;
        match row.line().cmp(&line) {
            std::cmp::Ordering::Equal => return Some(mid),
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    None
}

/// A row's cell under a header cell (`None` for an ignored column).
fn cell_value(row: &Row<'_>, cell: &HeaderCell) -> Option<String> {
    if let Some(c) = cell.column {
        return Some(row.get(c).to_owned());
    }
    let name = cell.field.as_deref()?;
    Some(
        row.custom_values()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .unwrap_or_default(),
    )
}

/// An Issue: the column as written in the file and the cell's value, when the upload is known.
pub(crate) fn issue_json(issue: &Issue, upload: Option<&Upload>) -> Value {
    let named = issue.column.as_deref();
    let header = upload.and_then(|u| {
        let name = named?;
        u.header()
            .iter()
            .find(|h| field_of(h).as_deref() == Some(name))
    });
    let field = header.and_then(field_of).or_else(|| {
        named
            .filter(|n| Column::from_header(n).is_some_and(|c| c.as_str() == *n))
            .map(str::to_owned)
    });
    let column = header
        .map(|h| h.header.clone())
        .or_else(|| named.map(str::to_owned));
    let value = match (upload, issue.line, header) {
        (Some(u), Some(line), Some(h)) => row_at(u, line).and_then(|r| cell_value(&r, h)),
        _ => None,
    };
    json!({
        "code": issue.code.as_str(),
        "severity": if issue.is_error() { "error" } else { "warning" },
        "line": issue.line,
        "column": column,
        "field": field,
        "value": value,
        "message": issue.message,
    })
}

/// The Column objects of a header.
pub(crate) fn columns_json(
    header: &[HeaderCell],
    upload: &StoredUpload,
    options: &ParseOptions,
) -> Value {
    Value::Array(
        header
            .iter()
            .enumerate()
            .map(|(index, cell)| {
                let field = field_of(cell);
                let assigned = upload.assignments.contains_key(&index);
                let suggestion = if field.is_none() && !assigned {
                    suggest_column(&cell.header, &options.fields)
                } else {
                    None
                };
                json!({
                    "index": index,
                    "header": cell.header,
                    "field": field,
                    "suggestion": suggestion,
                    "assigned": assigned,
                })
            })
            .collect(),
    )
}

/// The UploadReport of an upload the engine parsed.
pub(crate) fn report_json(stored: &StoredUpload, upload: &Upload, options: &ParseOptions) -> Value {
    let first_row_line = upload.row(0).map_or(u32::MAX, |r| r.line());
    let file_issues: Vec<Value> = upload
        .issues()
        .iter()
        .filter(|i| i.line.is_none_or(|l| l < first_row_line))
        .map(|i| issue_json(i, Some(upload)))
        .collect();
    let errors = upload.issues().iter().filter(|i| i.is_error()).count();
    let valid_rows = upload.valid_rows().count();
    json!({
        "id": stored.id,
        "filename": stored.filename,
        "size": stored.size,
        "format": upload.format().as_str(),
        "sheet": upload.sheet(),
        "encoding": upload.encoding(),
        "delimiter": upload.delimiter().to_string(),
        "rows": upload.len(),
        "valid_rows": valid_rows,
        "error_rows": upload.len() - valid_rows,
        "errors": errors,
        "warnings": upload.issues().len() - errors,
        "columns": columns_json(upload.header(), stored, options),
        "file_issues": file_issues,
        "can_plan": true,
        "version": stored.version,
    })
}

/// The UploadReport of an upload whose header the engine refused (a missing or repeated
/// column): its header, the refusal, and no rows until a column is assigned.
pub(crate) fn refused_report_json(
    stored: &StoredUpload,
    header: &[HeaderCell],
    error: &lms_bulk_upload::Error,
    options: &ParseOptions,
) -> Value {
    json!({
        "id": stored.id,
        "filename": stored.filename,
        "size": stored.size,
        "format": null,
        "sheet": stored.reading.sheet,
        "encoding": null,
        "delimiter": null,
        "rows": 0,
        "valid_rows": 0,
        "error_rows": 0,
        "errors": 1,
        "warnings": 0,
        "columns": columns_json(header, stored, options),
        "file_issues": [issue_json(error.issue(), None)],
        "can_plan": false,
        "version": stored.version,
    })
}

/// An UploadRow.
pub(crate) fn upload_row_json(upload: &Upload, row: &Row<'_>) -> Value {
    let cells: Vec<Option<String>> = upload.header().iter().map(|h| cell_value(row, h)).collect();
    let issues: Vec<Value> = row
        .issues()
        .iter()
        .map(|i| issue_json(i, Some(upload)))
        .collect();
    json!({
        "line": row.line(),
        "cells": cells,
        "valid": row.is_valid(),
        "issues": issues,
    })
}

/// The counts the engine's summary leaves out when they are 0 (the API shows every count).
const SOMETIMES_COUNTED: [&str; 7] = [
    "suspensions",
    "deletions",
    "withdrawals",
    "reactivations",
    "login_method_changes",
    "invitations",
    "revocations",
];

/// A PlanView.
pub(crate) fn plan_json(plan: &StoredPlan) -> Value {
    let mut summary = serde_json::to_value(plan.plan.summary()).unwrap_or(Value::Null);
    if let Value::Object(counts) = &mut summary {
        for key in SOMETIMES_COUNTED {
            counts.entry(key).or_insert(json!(0));
        }
    }
    json!({
        "id": plan.id,
        "upload_id": plan.upload.as_ref().map(|(id, _)| id),
        "undo_of_run": plan.undo_of_run,
        "summary": summary,
        "settings": plan.settings,
        "excluded_lines": plan.excluded_lines,
        "approved_run": plan.approved.then(|| plan.run_id.clone()),
        "created_at": plan.created_at,
    })
}

/// A PlanRow, with old → new values read from `before`.
pub(crate) fn plan_row_json(row: &PlanRow, before: Option<&ExistingUser>) -> Value {
    let changes: Vec<Value> = row
        .changes(before)
        .into_iter()
        .map(|c| json!({"field": c.field, "before": c.before, "after": c.after}))
        .collect();
    let operations: Vec<Value> = row
        .operations
        .iter()
        .map(|op| serde_json::to_value(op).unwrap_or(Value::Null))
        .filter(|op| !matches!(op, Value::Null))
        .map(|op| match op {
            Value::Object(_) => op,
            other => json!({ "op": other }),
        })
        .collect();
    let issues: Vec<Value> = row.issues.iter().map(|i| issue_json(i, None)).collect();
    json!({
        "line": row.line,
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "action": row.action.as_str(),
        "changes": changes,
        "operations": operations,
        "issues": issues,
    })
}

/// A Run.
pub(crate) fn run_json(run: &RunInfo) -> Value {
    let counts = run.counts.clone().unwrap_or_default();
    json!({
        "id": run.id,
        "kind": if run.undo_of.is_some() { "undo" } else { "upload" },
        "plan_id": run.plan_id,
        "uploader": run.uploader,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "state": run.state.as_str(),
        "progress": {"done": run.done, "total": run.total},
        "counts": counts,
        "undone_by": run.undone_by,
        "undo_of": run.undo_of,
        "error": run.error,
    })
}

/// A ResultRow.
pub(crate) fn result_row_json(row: &ResultRow) -> Value {
    let done: Vec<String> = row.done.iter().map(|d| d.describe()).collect();
    json!({
        "line": row.line,
        "email": row.email,
        "status": row.status.as_str(),
        "user_id": row.user_id.as_ref().map(|u| u.to_string()),
        "done": done,
        "error": row.error.as_ref().map(|e| json!({"code": e.code.as_str(), "message": e.message})),
    })
}
