//! Runs every scenario of `tests/scenarios/` that has `settings` in its `scenario.json`:
//! parse, settings, plan, execute against a `MemoryStore` and a `RecordingMailer`, and
//! compare with the expectations (format: `docs/scenario-format.md`). Parse-only scenarios
//! are run by `scenarios_parse.rs`.

use lms_bulk_upload::{
    parse, plan, ExecuteOptions, HashParams, MemoryStore, Message, ParseOptions, Plan, PlanRow,
    RecordingMailer, SettingsBuilder, StoreState, Upload,
};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[path = "harness/store_changes.rs"]
mod store_changes;

type Check = Result<(), String>;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios")
}

/// Compares `expected` as a subset of `actual`: object keys not given are not checked (a
/// key missing from `actual` only matches `null`), lists must have the same length and
/// compare element-wise, everything else must be equal.
fn subset(expected: &Value, actual: &Value, path: &str) -> Check {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let here = format!("{path}.{key}");
                match a.get(key) {
                    Some(actual) => subset(value, actual, &here)?,
                    None if value.is_null() => {}
                    None => {
                        return Err(format!(
                            "{here}: expected {value}, but there is no such key in {actual}"
                        ))
                    }
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!(
                    "{path}: expected {} elements, got {}:\n  expected {expected}\n  actual   {actual}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                subset(e, a, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} must be an object, not {value}"))
}

fn known_keys(map: &Map<String, Value>, known: &[&str], what: &str) -> Check {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "{what}: unknown key {key:?} (this runner understands {known:?})"
        )),
        None => Ok(()),
    }
}

fn parse_options(value: Option<&Value>) -> Result<ParseOptions, String> {
    let mut options = ParseOptions::default();
    let Some(value) = value else {
        return Ok(options);
    };
    let map = object(value, "parse_options")?;
    for (key, v) in map {
        let number = || {
            v.as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| format!("parse_options.{key} must be a number"))
        };
        let one_char = || match v.as_str().map(|s| s.chars().collect::<Vec<_>>()).as_deref() {
            Some([c]) => Ok(*c),
            _ => Err(format!("parse_options.{key} must be one character")),
        };
        match key.as_str() {
            "delimiter" => {
                let c = one_char()?;
                options.delimiter = Some(u8::try_from(c).map_err(|_| "delimiter must be ASCII")?);
            }
            "group_separator" => options.group_separator = one_char()?,
            "max_file_bytes" => options.max_file_bytes = number()?,
            "max_rows" => options.max_rows = number()?,
            "max_field_bytes" => options.max_field_bytes = number()?,
            "max_columns" => options.max_columns = number()?,
            "max_value_chars" => options.max_value_chars = number()?,
            other => return Err(format!("parse_options: unknown key {other:?}")),
        }
    }
    Ok(options)
}

/// An issue as the scenarios see it, for comparing with a code string or an object with
/// `code`, `severity`, `line`, `column` and `message_contains`.
fn check_issues(expected: &Value, actual: &[lms_bulk_upload::Issue], path: &str) -> Check {
    let list = expected
        .as_array()
        .ok_or_else(|| format!("{path} must be a list"))?;
    let codes: Vec<&str> = actual.iter().map(|i| i.code.as_str()).collect();
    if list.len() != actual.len() {
        return Err(format!(
            "{path}: expected {} issues {expected}, got {codes:?} ({actual:?})",
            list.len()
        ));
    }
    for (i, (e, a)) in list.iter().zip(actual).enumerate() {
        let here = format!("{path}[{i}]");
        match e {
            Value::String(code) if code == a.code.as_str() => {}
            Value::String(code) => return Err(format!("{here}: expected {code}, got {codes:?}")),
            Value::Object(map) => {
                known_keys(
                    map,
                    &[
                        "code",
                        "severity",
                        "line",
                        "column",
                        "message",
                        "message_contains",
                    ],
                    &here,
                )?;
                let mut e = map.clone();
                if let Some(needle) = e.remove("message_contains") {
                    let needle = needle.as_str().ok_or("message_contains must be a string")?;
                    if !a.message.contains(needle) {
                        return Err(format!(
                            "{here}: message {:?} does not contain {needle:?}",
                            a.message
                        ));
                    }
                }
                let actual = serde_json::to_value(a).map_err(|e| e.to_string())?;
                subset(&Value::Object(e), &actual, &here)?;
            }
            other => {
                return Err(format!(
                    "{here}: an issue is a code or an object, not {other}"
                ))
            }
        }
    }
    Ok(())
}

fn check_parse(expect: &Map<String, Value>, upload: &Upload) -> Check {
    if let Some(issues) = expect.get("issues") {
        check_issues(issues, upload.issues(), "expect.issues")?;
    }
    if let Some(rows) = expect.get("rows") {
        match rows {
            Value::Number(n) => subset(rows, &json!(upload.len()), "expect.rows")
                .map_err(|e| format!("{e} (n = {n})"))?,
            Value::Array(_) => {
                let actual: Vec<Value> = upload
                    .rows()
                    .map(|r| serde_json::to_value(r.to_data()).unwrap_or_default())
                    .collect();
                subset(rows, &Value::Array(actual), "expect.rows")?;
            }
            other => {
                return Err(format!(
                    "expect.rows must be a number or a list, not {other}"
                ))
            }
        }
    }
    if let Some(valid) = expect.get("valid_rows") {
        subset(
            valid,
            &json!(upload.valid_rows().count()),
            "expect.valid_rows",
        )?;
    }
    Ok(())
}

fn check_error(expected: &Value, error: &lms_bulk_upload::Error, path: &str) -> Check {
    let map = object(expected, path)?;
    known_keys(
        map,
        &[
            "code",
            "kind",
            "line",
            "column",
            "message",
            "message_contains",
        ],
        path,
    )?;
    let mut actual = Map::new();
    actual.insert("code".into(), json!(error.code().as_str()));
    actual.insert("kind".into(), json!(error.kind().as_str()));
    actual.insert("line".into(), json!(error.line()));
    actual.insert("column".into(), json!(error.column()));
    actual.insert("message".into(), json!(error.message()));
    let mut e = map.clone();
    if let Some(needle) = e.remove("message_contains") {
        let needle = needle.as_str().ok_or("message_contains must be a string")?;
        if !error.message().contains(needle) {
            return Err(format!(
                "{path}: message {:?} does not contain {needle:?}",
                error.message()
            ));
        }
    }
    subset(&Value::Object(e), &Value::Object(actual), path)
}

/// A plan row as the scenarios see it: operations and noops by name, issues by code.
fn row_view(row: &PlanRow) -> Value {
    let value = serde_json::to_value(row).unwrap_or_default();
    let names = |key: &str, tag: &str| -> Value {
        value
            .get(key)
            .and_then(Value::as_array)
            .map(|list| list.iter().map(|v| v[tag].clone()).collect())
            .unwrap_or_else(|| json!([]))
    };
    json!({
        "line": row.line,
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "action": row.action.as_str(),
        "user_id": row.user_id,
        "operations": names("operations", "op"),
        "operation_details": value.get("operations").cloned().unwrap_or(json!([])),
        "noops": names("noops", "noop"),
    })
}

fn check_plan(expected: &Value, plan: &Plan) -> Check {
    let map = object(expected, "expect.plan")?;
    known_keys(map, &["summary", "rows", "file_issues"], "expect.plan")?;
    if let Some(summary) = map.get("summary") {
        let actual = serde_json::to_value(plan.summary()).map_err(|e| e.to_string())?;
        for key in object(summary, "expect.plan.summary")?.keys() {
            if actual.get(key).is_none() {
                return Err(format!("expect.plan.summary: unknown key {key:?}"));
            }
        }
        subset(summary, &actual, "expect.plan.summary")?;
    }
    if let Some(issues) = map.get("file_issues") {
        check_issues(issues, plan.file_issues(), "expect.plan.file_issues")?;
    }
    if let Some(rows) = map.get("rows") {
        let rows = rows.as_array().ok_or("expect.plan.rows must be a list")?;
        if rows.len() != plan.rows().len() {
            return Err(format!(
                "expect.plan.rows: expected {} rows, the plan has {}: {:?}",
                rows.len(),
                plan.rows().len(),
                plan.rows().iter().map(row_view).collect::<Vec<_>>()
            ));
        }
        for (i, (e, actual)) in rows.iter().zip(plan.rows()).enumerate() {
            let path = format!("expect.plan.rows[{i}]");
            let e = object(e, &path)?;
            known_keys(
                e,
                &[
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
                ],
                &path,
            )?;
            let mut e = e.clone();
            if let Some(issues) = e.remove("issues") {
                check_issues(&issues, &actual.issues, &format!("{path}.issues"))?;
            }
            subset(&Value::Object(e), &row_view(actual), &path)?;
        }
    }
    Ok(())
}

fn check_store(expected: &Value, store: &MemoryStore) -> Check {
    let map = object(expected, "expect.store")?;
    known_keys(map, &["groups", "content", "users"], "expect.store")?;
    let mut actual = serde_json::to_value(store.state()).map_err(|e| e.to_string())?;
    let mut expected = expected.clone();
    // User ids are the store's business: ignore them on both sides.
    for state in [&mut actual, &mut expected] {
        if let Some(users) = state.get_mut("users").and_then(Value::as_array_mut) {
            for user in users {
                if let Some(user) = user.as_object_mut() {
                    user.remove("id");
                }
            }
        }
    }
    if let Some(users) = expected.get("users").and_then(Value::as_array) {
        const USER_KEYS: &[&str] = &[
            "id",
            "email",
            "first_name",
            "last_name",
            "phone_number",
            "unique_id",
            "country",
            "organisation",
            "language_code",
            "groups",
            "enrolments",
            "protected",
            "has_password",
            "force_password_reset",
        ];
        for (i, user) in users.iter().enumerate() {
            known_keys(
                object(user, "user")?,
                USER_KEYS,
                &format!("expect.store.users[{i}]"),
            )?;
        }
    }
    subset(&expected, &actual, "expect.store")
}

fn message_view(message: &Message) -> Value {
    let counts: Map<String, Value> = message
        .fields
        .counts
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "kind": message.kind.as_str(),
        "to": message.to,
        "subject": message.subject,
        "counts": counts,
    })
}

fn check_emails(expected: &Value, messages: &[Message]) -> Check {
    let list = expected.as_array().ok_or("expect.emails must be a list")?;
    let sent: Vec<Value> = messages.iter().map(message_view).collect();
    if list.len() != messages.len() {
        return Err(format!(
            "expect.emails: expected {} messages, got {}: {sent:?}",
            list.len(),
            messages.len()
        ));
    }
    for (i, (e, message)) in list.iter().zip(messages).enumerate() {
        let path = format!("expect.emails[{i}]");
        let e = object(e, &path)?;
        known_keys(
            e,
            &[
                "kind",
                "to",
                "subject",
                "has_password",
                "counts",
                "text_contains",
            ],
            &path,
        )?;
        let mut e = e.clone();
        if let Some(has) = e.remove("has_password") {
            let has = has.as_bool().ok_or("has_password must be true or false")?;
            match (&message.fields.password, has) {
                (Some(p), true) if message.text.contains(p.expose()) => {}
                (Some(_), true) => {
                    return Err(format!("{path}: the text does not contain the password"))
                }
                (None, false) => {}
                (actual, _) => {
                    return Err(format!(
                        "{path}: has_password {has}, but the message has {}",
                        if actual.is_some() {
                            "a password"
                        } else {
                            "no password"
                        }
                    ))
                }
            }
        }
        if let Some(needles) = e.remove("text_contains") {
            let needles = needles.as_array().ok_or("text_contains must be a list")?;
            for needle in needles {
                let needle = needle.as_str().ok_or("text_contains holds strings")?;
                if !message.text.contains(needle) {
                    return Err(format!(
                        "{path}: the text does not contain {needle:?}: {:?}",
                        message.text
                    ));
                }
            }
        }
        subset(&Value::Object(e), &message_view(message), &path)?;
    }
    Ok(())
}

fn check_results(expected: &Value, results: &lms_bulk_upload::Results) -> Check {
    let map = object(expected, "expect.results")?;
    known_keys(map, &["summary", "rows", "cancelled"], "expect.results")?;
    let actual = serde_json::to_value(results).map_err(|e| e.to_string())?;
    if let Some(summary) = map.get("summary") {
        for key in object(summary, "expect.results.summary")?.keys() {
            if actual["summary"].get(key).is_none() {
                return Err(format!("expect.results.summary: unknown key {key:?}"));
            }
        }
    }
    subset(expected, &actual, "expect.results")
}

fn run(dir: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(dir.join("scenario.json"))
        .map_err(|e| format!("scenario.json: {e}"))?;
    let scenario: Value = serde_json::from_str(&text).map_err(|e| format!("scenario.json: {e}"))?;
    let top = object(&scenario, "scenario.json")?;
    let Some(settings) = top.get("settings") else {
        return Ok(false); // parse-only: scenarios_parse.rs runs it
    };
    known_keys(
        top,
        &[
            "description",
            "parse_options",
            "settings",
            "store",
            "store_changes",
            "expect",
        ],
        "scenario.json",
    )?;
    let empty = json!({});
    let expect = object(top.get("expect").unwrap_or(&empty), "expect")?;
    known_keys(
        expect,
        &[
            "parse_error",
            "issues",
            "rows",
            "valid_rows",
            "settings_error",
            "plan",
            "store",
            "emails",
            "results",
        ],
        "expect",
    )?;

    // Parse.
    let bytes = std::fs::read(dir.join("upload.csv")).map_err(|e| format!("upload.csv: {e}"))?;
    let options = parse_options(top.get("parse_options"))?;
    let upload = match (parse(&bytes, &options), expect.get("parse_error")) {
        (Err(e), Some(expected)) => {
            return check_error(expected, &e, "expect.parse_error").map(|()| true)
        }
        (Err(e), None) => return Err(format!("parse failed: {e:?}")),
        (Ok(_), Some(expected)) => {
            return Err(format!(
                "expected the parse error {expected}, but parse succeeded"
            ))
        }
        (Ok(upload), None) => upload,
    };
    check_parse(expect, &upload)?;

    // Settings and plan.
    let builder = SettingsBuilder::from_json(&settings.to_string());
    let default_password = settings
        .get("default_password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let state: StoreState = match top.get("store") {
        Some(store) => serde_json::from_value(store.clone()).map_err(|e| format!("store: {e}"))?,
        None => StoreState::default(),
    };
    let mut store = MemoryStore::from_state(&state);
    let planned = builder
        .and_then(SettingsBuilder::build)
        .and_then(|settings| plan(&upload, &settings, &mut store));
    let plan = match (planned, expect.get("settings_error")) {
        (Err(e), Some(expected)) => {
            check_error(expected, &e, "expect.settings_error")?;
            for key in ["plan", "store", "emails", "results"] {
                if expect.contains_key(key) {
                    return Err(format!(
                        "expect.{key} cannot be checked with a settings_error"
                    ));
                }
            }
            return Ok(true);
        }
        (Err(e), None) => return Err(format!("settings or plan failed: {e:?}")),
        (Ok(_), Some(expected)) => {
            return Err(format!(
                "expected the settings error {expected}, but planning succeeded"
            ))
        }
        (Ok(plan), None) => plan,
    };
    if let Some(expected) = expect.get("plan") {
        check_plan(expected, &plan)?;
    }

    // Between plan and execute, the store may change.
    if let Some(changes) = top.get("store_changes") {
        let before = top.get("store").cloned().unwrap_or_else(|| json!({}));
        let after = store_changes::apply(&before, changes)?;
        let state: StoreState =
            serde_json::from_value(after).map_err(|e| format!("store_changes: {e}"))?;
        store = MemoryStore::from_state(&state);
    }

    // Execute.
    let mut mailer = RecordingMailer::new();
    let options = ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        ..Default::default()
    };
    let results = plan
        .execute(&mut store, &mut mailer, options)
        .map_err(|e| format!("execute failed: {e:?}"))?;
    if let Some(password) = &default_password {
        for (i, message) in mailer.messages.iter().enumerate() {
            for (part, text) in [
                ("subject", &message.subject),
                ("text", &message.text),
                ("html", &message.html),
            ] {
                if text.contains(password.as_str()) {
                    return Err(format!(
                        "email {i} carries the default password in its {part}"
                    ));
                }
            }
        }
    }
    if let Some(expected) = expect.get("store") {
        check_store(expected, &store)?;
    }
    if let Some(expected) = expect.get("emails") {
        check_emails(expected, &mailer.messages)?;
    }
    if let Some(expected) = expect.get("results") {
        check_results(expected, &results)?;
    }
    Ok(true)
}

#[test]
fn scenarios() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("tests/scenarios exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("scenario.json").is_file())
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in &dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        match run(dir) {
            Ok(true) => ran += 1,
            Ok(false) => {}
            Err(why) => {
                ran += 1;
                eprintln!("FAILED scenario {name}: {why}");
                failures.push(format!("{name}: {why}"));
            }
        }
    }
    eprintln!(
        "{ran} plan/execute scenarios run, {} failed",
        failures.len()
    );
    assert!(
        ran > 0,
        "no scenario with settings in {:?}",
        scenarios_dir()
    );
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
