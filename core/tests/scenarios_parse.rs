//! Runs the parse part of every language-neutral scenario in `tests/scenarios/` (the format
//! is documented in `tests/scenarios/README.md`).
//!
//! Only `parse` is checked here: `parse_options` and the `expect` keys `parse_error`,
//! `issues`, `rows` and `valid_rows`. The plan and execute checks (`settings`, `store`,
//! `expect.plan`, `expect.store`, `expect.emails`, ...) are added in `core/tests/scenarios.rs`.
//! A scenario without settings is parse-only, so any other `expect` key there is a typo and
//! fails; a scenario with settings may carry keys this runner leaves to the other one.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{parse, ParseOptions};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

const PARSE_KEYS: &[&str] = &["parse_error", "issues", "rows", "valid_rows"];

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios")
}

/// Every scenario folder (one with a `scenario.json`), sorted by name.
fn scenario_folders() -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("scenario.json").is_file())
        .collect();
    folders.sort();
    folders
}

/// `ParseOptions` from the scenario's `parse_options` object.
fn parse_options(value: Option<&Value>) -> Result<ParseOptions, String> {
    let mut options = ParseOptions::default();
    let Some(value) = value else {
        return Ok(options);
    };
    let object = value.as_object().ok_or("parse_options is not an object")?;
    for (key, value) in object {
        let number = || {
            value
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| format!("parse_options.{key} is not a non-negative integer"))
        };
        let one_char = || -> Result<char, String> {
            let text = value
                .as_str()
                .ok_or_else(|| format!("parse_options.{key} is not a string"))?;
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(c),
                _ => Err(format!("parse_options.{key} is not one character")),
            }
        };
        match key.as_str() {
            "delimiter" => {
                let c = one_char()?;
                let byte = u8::try_from(c)
                    .ok()
                    .filter(u8::is_ascii)
                    .ok_or("parse_options.delimiter is not an ASCII character")?;
                options.delimiter = Some(byte);
            }
            "group_separator" => options.group_separator = one_char()?,
            "max_file_bytes" => options.max_file_bytes = number()?,
            "max_rows" => options.max_rows = number()?,
            "max_field_bytes" => options.max_field_bytes = number()?,
            "max_columns" => options.max_columns = number()?,
            "max_value_chars" => options.max_value_chars = number()?,
            other => return Err(format!("unknown parse_options key {other:?}")),
        }
    }
    Ok(options)
}

/// Checks that every key of `expected` has the same value in `actual` (recursively for
/// objects; lists have the same length and compare element-wise).
fn subset(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let actual = actual.get(key).unwrap_or(&Value::Null);
                subset(value, actual, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(expected), Value::Array(actual)) => {
            if expected.len() != actual.len() {
                return Err(format!(
                    "{path}: expected {} items, got {}: {}",
                    expected.len(),
                    actual.len(),
                    Value::Array(actual.clone())
                ));
            }
            for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
                subset(e, a, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{path}: expected {e}, got {a}")),
    }
}

/// Compares an expected issue, either a code string or an object (`code`, `severity`,
/// `line`, `column`, `message`, compared as a subset, and `message_contains`), with an
/// issue serialised to JSON.
fn issue_matches(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match expected {
        Value::String(code) => subset(&Value::String(code.clone()), &actual["code"], path),
        Value::Object(map) => {
            let mut map = map.clone();
            if let Some(needle) = map.remove("message_contains") {
                let needle = needle
                    .as_str()
                    .ok_or(format!("{path}.message_contains is not a string"))?;
                let message = actual["message"].as_str().unwrap_or_default();
                if !message.contains(needle) {
                    return Err(format!(
                        "{path}: the message {message:?} does not contain {needle:?}"
                    ));
                }
            }
            subset(&Value::Object(map), actual, path)
        }
        other => Err(format!("{path}: {other} is neither a code nor an object")),
    }
}

/// Compares the full expected list of issues, in order, with the report's.
fn issues_match(expected: &Value, actual: &Value) -> Result<(), String> {
    let (Some(expected), Some(actual)) = (expected.as_array(), actual.as_array()) else {
        return Err("expect.issues is not a list".into());
    };
    if expected.len() != actual.len() {
        let codes: Vec<&Value> = actual.iter().map(|i| &i["code"]).collect();
        return Err(format!(
            "issues: expected {} issues, got {}: {codes:?}",
            expected.len(),
            actual.len()
        ));
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        issue_matches(e, a, &format!("issues[{i}]"))?;
    }
    Ok(())
}

/// Runs the parse part of one scenario.
fn run(folder: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(folder.join("scenario.json")).map_err(|e| e.to_string())?;
    let scenario: Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| format!("scenario.json: {e}"))?;
    if !scenario.get("description").is_some_and(Value::is_string) {
        return Err("scenario.json has no \"description\" string".into());
    }
    let expect = scenario
        .get("expect")
        .and_then(Value::as_object)
        .ok_or("scenario.json has no \"expect\" object")?;
    let has_settings = scenario.contains_key("settings") || folder.join("settings.json").exists();
    if !has_settings {
        if let Some(key) = expect.keys().find(|k| !PARSE_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "expect.{key} is not a parse key, and a scenario without settings is parse-only"
            ));
        }
    }
    let options = parse_options(scenario.get("parse_options"))?;
    let bytes = std::fs::read(folder.join("upload.csv")).map_err(|e| format!("upload.csv: {e}"))?;
    let result = parse(&bytes, &options);

    match (expect.get("parse_error"), result) {
        (Some(expected), Err(error)) => {
            let actual = serde_json::to_value(error.issue()).map_err(|e| e.to_string())?;
            if !expected.is_string() && !expected.get("code").is_some_and(Value::is_string) {
                return Err("expect.parse_error has no \"code\"".into());
            }
            issue_matches(expected, &actual, "parse_error")
        }
        (Some(expected), Ok(upload)) => Err(format!(
            "expected the parse error {expected}, but parse succeeded: {}",
            serde_json::to_string(&upload.report()).unwrap_or_default()
        )),
        (None, Err(error)) => Err(format!("parse failed: {error}")),
        (None, Ok(upload)) => {
            let report = serde_json::to_value(upload.report()).map_err(|e| e.to_string())?;
            if !has_settings && !expect.contains_key("issues") {
                return Err(
                    "a parse-only scenario gives expect.parse_error or expect.issues".into(),
                );
            }
            for key in ["issues", "rows", "valid_rows"] {
                if let Some(expected) = expect.get(key) {
                    if key == "issues" {
                        issues_match(expected, &report[key])?;
                    } else {
                        subset(expected, &report[key], key)?;
                    }
                }
            }
            Ok(())
        }
    }
}

#[test]
fn parse_part_of_every_scenario() {
    let folders = scenario_folders();
    assert!(
        folders.len() >= 15,
        "expected the scenario folders in {}",
        scenarios_dir().display()
    );
    let failures: Vec<String> = folders
        .iter()
        .filter_map(|folder| {
            let name = folder.file_name().unwrap_or_default().to_string_lossy();
            run(folder).err().map(|why| format!("{name}: {why}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        folders.len(),
        failures.join("\n")
    );
}

#[test]
fn subset_comparison() {
    let actual = serde_json::json!({"a": 1, "b": [{"x": 1, "y": 2}], "c": null});
    assert!(subset(&serde_json::json!({"a": 1}), &actual, "").is_ok());
    assert!(subset(&serde_json::json!({"b": [{"y": 2}]}), &actual, "").is_ok());
    assert!(subset(&serde_json::json!({"c": null, "d": null}), &actual, "").is_ok());
    assert!(subset(&serde_json::json!({"a": 2}), &actual, "").is_err());
    assert!(subset(&serde_json::json!({"b": []}), &actual, "").is_err());
    assert!(subset(&serde_json::json!({"d": 1}), &actual, "").is_err());
}
