//! The live-object forms the bindings show (Python's `PlanRow`, Node's plain row objects,
//! Ruby's structs): a value's serde JSON form with every field present. The serialised
//! formats leave out empty lists, zero counts and absent options (so that older plans and
//! results keep their bytes and fingerprints); an object a program reads must not, or
//! `row.operations.map` throws on an unchanged row and `summary["suspensions"]` on an
//! ordinary plan. One place, so that every language shows the same fields.
//!
//! Each function returns a JSON object with snake_case keys; Node turns them to camelCase
//! with [`Naming::Camel`](super::Naming::Camel) like any other value it is given.

use crate::{
    Column, Plan, PlanRow, PlanRows, ResultRow, ResultSummary, Results, Row, Summary, Upload,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// `value`'s serde form as an object, with `defaults` inserted where a key is absent.
fn complete<T: Serialize + ?Sized>(value: &T, defaults: &[(&str, Value)]) -> Value {
    let mut map = match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    for (key, default) in defaults {
        if !map.contains_key(*key) {
            map.insert((*key).to_owned(), default.clone());
        }
    }
    Value::Object(map)
}

fn zero() -> Value {
    Value::from(0u64)
}

/// A plan row: `user_id` (null), `operations`, `noops` and `issues` (`[]`) always present.
pub fn plan_row(row: &PlanRow) -> Value {
    complete(
        row,
        &[
            ("user_id", Value::Null),
            ("operations", Value::Array(Vec::new())),
            ("noops", Value::Array(Vec::new())),
            ("issues", Value::Array(Vec::new())),
        ],
    )
}

/// The rows of `range` (clamped to the rows there are) as a list of [`plan_row`]s: a page
/// of a plan, only its rows decoded.
pub fn plan_rows(rows: &PlanRows, range: std::ops::Range<usize>) -> Value {
    Value::Array(rows.range(range).map(|row| plan_row(&row)).collect())
}

/// The counts a plan's JSON leaves out when they are 0.
const PLAN_COUNTS: [&str; 7] = [
    "suspensions",
    "deletions",
    "withdrawals",
    "reactivations",
    "login_method_changes",
    "invitations",
    "revocations",
];

/// The counts a results' JSON leaves out when they are 0.
const RESULT_COUNTS: [&str; 4] = [
    "suspended",
    "deleted",
    "reactivated",
    "login_methods_changed",
];

/// A plan's counts, every one present (0 included).
pub fn plan_summary(summary: &Summary) -> Value {
    let defaults: Vec<(&str, Value)> = PLAN_COUNTS.iter().map(|k| (*k, zero())).collect();
    complete(summary, &defaults)
}

/// An execution's counts, every one present (0 included).
pub fn result_summary(summary: &ResultSummary) -> Value {
    let defaults: Vec<(&str, Value)> = RESULT_COUNTS.iter().map(|k| (*k, zero())).collect();
    complete(summary, &defaults)
}

/// A result row (its serde form has every field already: `done` may be `[]`, `error` and
/// `user_id` null).
pub fn result_row(row: &ResultRow) -> Value {
    complete(row, &[])
}

/// A plan without its rows: `fingerprint`, `summary` (every count), `settings`,
/// `file_issues`, `undo_of` and `shard` (null for a whole plan that is no undo).
pub fn plan_head(plan: &Plan) -> Value {
    serde_json::json!({
        "fingerprint": plan.fingerprint(),
        "summary": plan_summary(plan.summary()),
        "settings": plan.settings(),
        "file_issues": plan.file_issues(),
        "undo_of": plan.undo_of(),
        "shard": plan.shard(),
    })
}

/// Results without their rows: `fingerprint`, `summary` (every count), `cancelled`,
/// `confirmation_error`, `shard`, `confirmation_deferred`, `undo_of`, `verified`.
pub fn results_head(results: &Results) -> Value {
    serde_json::json!({
        "fingerprint": results.fingerprint,
        "summary": result_summary(&results.summary),
        "cancelled": results.cancelled,
        "confirmation_error": results.confirmation_error,
        "shard": results.shard,
        "confirmation_deferred": results.confirmation_deferred,
        "undo_of": results.undo_of,
        "verified": results.provenance.is_verified(),
    })
}

/// What was read of an upload, without its rows and issues: `format`, `sheet` (null for a
/// CSV), `encoding`, `delimiter`, `group_separator`, `header`.
pub fn upload_head(upload: &Upload) -> Value {
    serde_json::json!({
        "format": upload.format(),
        "sheet": upload.sheet(),
        "encoding": upload.encoding(),
        "delimiter": upload.delimiter().to_string(),
        "group_separator": upload.group_separator().to_string(),
        "header": upload.header(),
    })
}

/// An upload's row: its serde form (`line`, `values`, `add_groups`, `remove_groups`,
/// `custom` (`{}` when the host declared no field the file has), `valid`, `issues`) with
/// `email`, `first_name` and `last_name` as written.
pub fn upload_row(row: &Row<'_>) -> Value {
    let mut value = complete(&row.to_data(), &[("custom", Value::Object(Map::new()))]);
    if let Value::Object(map) = &mut value {
        map.insert("email".into(), row.get(Column::EmailAddress).into());
        map.insert("first_name".into(), row.get(Column::FirstName).into());
        map.insert("last_name".into(), row.get(Column::LastName).into());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field listed: a field added to `Summary` fails to compile here until it is, and
    /// then the view must show it.
    #[test]
    fn a_plan_summary_view_has_every_count() {
        let all = Summary {
            rows: 1,
            rejected: 1,
            create: 1,
            update: 1,
            unchanged: 1,
            profile_updates: 1,
            passwords: 1,
            group_additions: 1,
            group_removals: 1,
            enrolments: 1,
            emails: 1,
            suspensions: 1,
            deletions: 1,
            withdrawals: 1,
            reactivations: 1,
            login_method_changes: 1,
            invitations: 1,
            revocations: 1,
            warnings: 1,
        };
        let keys = |v: Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
        let full = keys(serde_json::to_value(&all).unwrap());
        assert_eq!(keys(plan_summary(&Summary::default())), full);
        assert!(plan_summary(&Summary::default())
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == &zero()));
    }

    #[test]
    fn a_result_summary_view_has_every_count() {
        let all = ResultSummary {
            rows: 1,
            created: 1,
            updated: 1,
            unchanged: 1,
            rejected: 1,
            failed: 1,
            emails_sent: 1,
            resumed: 1,
            suspended: 1,
            deleted: 1,
            reactivated: 1,
            login_methods_changed: 1,
        };
        let keys = |v: Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
        let full = keys(serde_json::to_value(&all).unwrap());
        assert_eq!(keys(result_summary(&ResultSummary::default())), full);
    }
}
