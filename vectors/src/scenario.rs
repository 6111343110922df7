//! Judging a scenario of `tests/scenarios/` against the outcome a runner collected.

use crate::compare::{
    check_error, check_issues, contains_text, describe_error, get, known_keys, list, matches,
    object, show, snake_keys, Check,
};
use crate::views::{check_emails, check_store, message_parts};
use serde_json::{json, Map, Value};

const SCENARIO_KEYS: &[&str] = &[
    "description",
    "parse_options",
    "settings",
    "store",
    "store_changes",
    "undo",
    "expect",
];
const PARSE_KEYS: &[&str] = &["parse_error", "issues", "rows", "valid_rows"];
const FLOW_KEYS: &[&str] = &[
    "parse_error",
    "issues",
    "rows",
    "valid_rows",
    "settings_error",
    "plan",
    "store",
    "emails",
    "results",
    "undo",
];
/// The keys of a scenario outcome.
pub(crate) const OUTCOME_KEYS: &[&str] = &[
    "parse_error",
    "upload",
    "settings_error",
    "plan",
    "execute_error",
    "results",
    "store",
    "emails",
    "undo",
];

/// See [`crate::judge_scenario`].
pub(crate) fn judge(scenario: &Value, outcome: &Value) -> Check {
    let top = object(scenario, "scenario")?;
    known_keys(top, SCENARIO_KEYS, "scenario")?;
    if !top.get("description").is_some_and(Value::is_string) {
        return Err("scenario: no \"description\" string".into());
    }
    // `parse_options` go to `ParseOptions::from_value`, which refuses an unknown key itself.
    if let Some(options) = top.get("parse_options") {
        object(options, "parse_options")?;
    }
    let expect = object(
        top.get("expect").ok_or("scenario: no \"expect\" object")?,
        "expect",
    )?;
    let settings = top.get("settings").filter(|s| !s.is_null());
    let undo = match top.get("undo") {
        Some(_) if settings.is_none() => {
            return Err("\"undo\" needs \"settings\" (an upload to undo)".into())
        }
        Some(undo) => crate::undo::check_shape(undo, expect)?,
        None if expect.contains_key("undo") => {
            return Err("expect.undo is given but the scenario has no \"undo\"".into())
        }
        None => None,
    };
    if settings.is_some() {
        known_keys(expect, FLOW_KEYS, "expect")?;
        if expect.contains_key("settings_error") {
            if let Some(key) = ["plan", "store", "emails", "results"]
                .iter()
                .find(|k| expect.contains_key(**k))
            {
                return Err(format!(
                    "expect.{key} cannot be checked with a settings_error"
                ));
            }
        }
    } else {
        known_keys(
            expect,
            PARSE_KEYS,
            "expect (a scenario without settings is parse-only)",
        )?;
        if !expect.contains_key("parse_error") && !expect.contains_key("issues") {
            return Err("a parse-only scenario gives expect.parse_error or expect.issues".into());
        }
    }

    let outcome = snake_keys(outcome);
    let outcome = object(&outcome, "outcome")?;
    known_keys(outcome, OUTCOME_KEYS, "outcome")?;

    // Parse.
    match (expect.get("parse_error"), get(outcome, "parse_error")) {
        (Some(expected), Value::Null) => {
            return Err(format!(
                "expected the parse error {}, but parse succeeded",
                show(expected)
            ))
        }
        (Some(expected), actual) => return check_error(expected, actual, "expect.parse_error"),
        (None, Value::Null) => {}
        (None, actual) => return Err(format!("parse failed: {}", describe_error(actual))),
    }
    let upload = object(get(outcome, "upload"), "outcome.upload")?;
    check_parse(expect, upload)?;
    let Some(settings) = settings else {
        return Ok(());
    };

    // Settings and plan.
    match (expect.get("settings_error"), get(outcome, "settings_error")) {
        (Some(expected), Value::Null) => {
            return Err(format!(
                "expected the settings error {}, but planning succeeded",
                show(expected)
            ))
        }
        (Some(expected), actual) => return check_error(expected, actual, "expect.settings_error"),
        (None, Value::Null) => {}
        (None, actual) => {
            return Err(format!(
                "settings or plan failed: {}",
                describe_error(actual)
            ))
        }
    }
    let plan = get(outcome, "plan");
    object(plan, "outcome.plan")?;
    if let Some(expected) = expect.get("plan") {
        check_plan(expected, plan)?;
    }

    // Execute.
    let execute_error = get(outcome, "execute_error");
    if !execute_error.is_null() {
        return Err(format!("execute failed: {}", describe_error(execute_error)));
    }
    let results = get(outcome, "results");
    object(results, "outcome.results")?;
    let emails = list(get(outcome, "emails"), "outcome.emails")?;
    check_secret(settings, outcome, emails)?;
    if let Some(expected) = expect.get("store") {
        check_store(expected, get(outcome, "store"))?;
    }
    if let Some(expected) = expect.get("emails") {
        check_emails(expected, emails)?;
    }
    if let Some(expected) = expect.get("results") {
        check_results(expected, results)?;
    }
    if let Some(expected) = undo {
        let before = top.get("store").cloned().unwrap_or(Value::Null);
        crate::undo::judge(
            expected,
            get(outcome, "undo"),
            &before,
            check_plan,
            check_results,
        )?;
    }
    Ok(())
}

fn check_parse(expect: &Map<String, Value>, upload: &Map<String, Value>) -> Check {
    if let Some(issues) = expect.get("issues") {
        check_issues(issues, get(upload, "issues"), "expect.issues")?;
    }
    if let Some(rows) = expect.get("rows") {
        if !rows.is_u64() {
            return Err(format!(
                "expect.rows is the number of data rows, not {}",
                show(rows)
            ));
        }
        matches(rows, get(upload, "rows"), "expect.rows")?;
    }
    if let Some(valid) = expect.get("valid_rows") {
        matches(valid, get(upload, "valid_rows"), "expect.valid_rows")?;
    }
    Ok(())
}

/// A plan row as the scenarios see it: operations and noops by name, issues apart.
fn row_view(row: &Value) -> Value {
    let names = |key: &str, tag: &str| -> Value {
        row.get(key)
            .and_then(Value::as_array)
            .map(|items| items.iter().map(|v| v[tag].clone()).collect())
            .unwrap_or_else(|| json!([]))
    };
    let field = |key: &str| row.get(key).cloned().unwrap_or(Value::Null);
    json!({
        "line": field("line"),
        "email": field("email"),
        "first_name": field("first_name"),
        "last_name": field("last_name"),
        "action": field("action"),
        "user_id": field("user_id"),
        "operations": names("operations", "op"),
        "operation_details": row.get("operations").cloned().unwrap_or(json!([])),
        "noops": names("noops", "noop"),
    })
}

const ROW_KEYS: &[&str] = &[
    "line",
    "email",
    "first_name",
    "last_name",
    "action",
    "user_id",
    "operations",
    "operation_details",
    "noops",
    "issues",
];

/// Counts a plan's summary leaves out when they are 0 (plans without undo keep the bytes
/// and fingerprint they had before undo existed).
const ZERO_OMITTED: &[&str] = &[
    "suspensions",
    "deletions",
    "withdrawals",
    "reactivations",
    "login_method_changes",
    "invitations",
    "revocations",
];

/// `summary`: every key must be one the actual summary has (or one of `omitted`, an absent
/// count being 0).
fn check_summary(expected: &Value, actual: &Value, path: &str, omitted: &[&str]) -> Check {
    let mut actual_keys = object(actual, &format!("{path} (actual)"))?.clone();
    for key in omitted {
        actual_keys.entry(*key).or_insert(json!(0));
    }
    let actual = &Value::Object(actual_keys.clone());
    for key in object(expected, path)?.keys() {
        if !actual_keys.contains_key(key) {
            return Err(format!(
                "{path}: unknown key {key:?} (the summary has {})",
                actual_keys.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    matches(expected, actual, path)
}

fn check_plan(expected: &Value, plan: &Value) -> Check {
    let map = object(expected, "expect.plan")?;
    known_keys(map, &["summary", "rows", "file_issues"], "expect.plan")?;
    if let Some(summary) = map.get("summary") {
        check_summary(
            summary,
            get_value(plan, "summary"),
            "expect.plan.summary",
            ZERO_OMITTED,
        )?;
    }
    if let Some(issues) = map.get("file_issues") {
        let actual = plan.get("file_issues").cloned().unwrap_or(json!([]));
        check_issues(issues, &actual, "expect.plan.file_issues")?;
    }
    let Some(rows) = map.get("rows") else {
        return Ok(());
    };
    let rows = list(rows, "expect.plan.rows")?;
    for (i, e) in rows.iter().enumerate() {
        let path = format!("expect.plan.rows[{i}]");
        known_keys(object(e, &path)?, ROW_KEYS, &path)?;
    }
    let actual = plan.get("rows").and_then(Value::as_array);
    let actual = actual.map(Vec::as_slice).unwrap_or_default();
    if rows.len() != actual.len() {
        let views: Vec<Value> = actual.iter().map(row_view).collect();
        return Err(format!(
            "expect.plan.rows: expected {} rows, the plan has {}: {}",
            rows.len(),
            actual.len(),
            show(&Value::Array(views))
        ));
    }
    for (i, (e, a)) in rows.iter().zip(actual).enumerate() {
        let path = format!("expect.plan.rows[{i}]");
        let mut e = object(e, &path)?.clone();
        if let Some(issues) = e.remove("issues") {
            let actual = a.get("issues").cloned().unwrap_or(json!([]));
            check_issues(&issues, &actual, &format!("{path}.issues"))?;
        }
        matches(&Value::Object(e), &row_view(a), &path)?;
    }
    Ok(())
}

fn get_value<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}

fn check_results(expected: &Value, results: &Value) -> Check {
    let map = object(expected, "expect.results")?;
    known_keys(map, &["summary", "rows", "cancelled"], "expect.results")?;
    if let Some(summary) = map.get("summary") {
        check_summary(
            summary,
            get_value(results, "summary"),
            "expect.results.summary",
            &[],
        )?;
    }
    matches(expected, results, "expect.results")
}

/// Always checked: a non-empty default password of the settings appears in no message's
/// subject, text or HTML, nor in the plan, the results or the store; the token of a sign-in
/// link a message carries appears in no other message, nor in the plan, the results or the
/// store.
fn check_secret(settings: &Value, outcome: &Map<String, Value>, emails: &[Value]) -> Check {
    for (i, message) in emails.iter().enumerate() {
        let Some(token) = crate::views::invitation_of(message).and_then(crate::views::token_of)
        else {
            continue;
        };
        for key in ["plan", "results", "store"] {
            if contains_text(get(outcome, key), token) {
                return Err(format!(
                    "the token of emails[{i}]'s sign-in link appears in the {key}"
                ));
            }
        }
        for (j, other) in emails.iter().enumerate().filter(|(j, _)| *j != i) {
            if message_parts(other).iter().any(|(_, t)| t.contains(token)) {
                return Err(format!(
                    "the token of emails[{i}]'s sign-in link is in emails[{j}]"
                ));
            }
        }
    }
    let password = ["default_password", "defaultPassword"]
        .iter()
        .find_map(|k| settings.get(*k).and_then(Value::as_str))
        .filter(|p| !p.is_empty());
    let Some(password) = password else {
        return Ok(());
    };
    for (i, message) in emails.iter().enumerate() {
        for (part, text) in message_parts(message) {
            if text.contains(password) {
                return Err(format!(
                    "emails[{i}] carries the default password in its {part}"
                ));
            }
        }
    }
    for key in ["plan", "results", "store"] {
        if contains_text(get(outcome, key), password) {
            return Err(format!("the default password appears in the {key}"));
        }
    }
    Ok(())
}
