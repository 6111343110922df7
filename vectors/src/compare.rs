//! The comparison rules every expectation uses: subsets, known keys, issues and errors.

use lms_bulk_upload::host::Naming;
use serde_json::{Map, Value};

/// The result of one check: `Err` holds the path of the mismatch and what differed.
pub(crate) type Check = Result<(), String>;

/// How many characters of a value a message shows before cutting it.
const SHOWN: usize = 600;

/// `value` as compact JSON, cut after [`SHOWN`] characters.
pub(crate) fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Whether `subset` accepts `{"$any": true}` as "any value" (host-protocol calls only).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wildcards {
    No,
    Any,
}

fn is_any(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|m| m.len() == 1 && m.get("$any") == Some(&Value::Bool(true)))
}

fn numbers_equal(e: &serde_json::Number, a: &serde_json::Number) -> bool {
    match (e.as_i64(), a.as_i64(), e.as_u64(), a.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => e.as_f64() == a.as_f64(),
    }
}

/// `expected` is a subset of `actual`: object keys not given are not checked (a key that
/// `actual` lacks only matches `null`); lists have the same length and compare element-wise;
/// numbers compare by value (`1` equals `1.0`); everything else is equal.
pub(crate) fn subset(expected: &Value, actual: &Value, path: &str, wild: Wildcards) -> Check {
    match (expected, actual) {
        _ if wild == Wildcards::Any && is_any(expected) => Ok(()),
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let here = format!("{path}.{key}");
                match a.get(key) {
                    Some(actual) => subset(value, actual, &here, wild)?,
                    None if value.is_null() => {}
                    None if wild == Wildcards::Any && is_any(value) => {}
                    None => {
                        return Err(format!(
                            "{here}: expected {}, but there is no such key in {}",
                            show(value),
                            show(actual)
                        ))
                    }
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!(
                    "{path}: expected {} elements, got {}:\n  expected {}\n  actual   {}",
                    e.len(),
                    a.len(),
                    show(expected),
                    show(actual)
                ));
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                subset(e, a, &format!("{path}[{i}]"), wild)?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if numbers_equal(e, a) => Ok(()),
        _ if expected == actual => Ok(()),
        _ => Err(format!(
            "{path}: expected {}, got {}",
            show(expected),
            show(actual)
        )),
    }
}

/// [`subset`] without wildcards.
pub(crate) fn matches(expected: &Value, actual: &Value, path: &str) -> Check {
    subset(expected, actual, path, Wildcards::No)
}

pub(crate) fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{path} must be an object, not {}", show(value)))
}

pub(crate) fn list<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{path} must be a list, not {}", show(value)))
}

pub(crate) fn string<'a>(value: &'a Value, path: &str) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{path} must be a string, not {}", show(value)))
}

/// Refuses a key of `map` that is not in `known`, so that a typo cannot pass silently.
pub(crate) fn known_keys(map: &Map<String, Value>, known: &[&str], path: &str) -> Check {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "{path}: unknown key {key:?} (the judge understands {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// The value under `key`, `Null` when absent.
pub(crate) fn get<'a>(map: &'a Map<String, Value>, key: &str) -> &'a Value {
    map.get(key).unwrap_or(&Value::Null)
}

/// Object keys at every depth in snake_case (a runner may hand over camelCase records).
pub(crate) fn snake_keys(value: &Value) -> Value {
    Naming::Camel.keys_in(value.clone())
}

/// A method name in snake_case (`findUsers` → `find_users`).
pub(crate) fn snake_name(name: &str) -> String {
    Naming::Camel.snake_name(name)
}

/// Checks `message_contains` (when `expected` gives it) against `actual["message"]` and
/// returns the rest of `expected` for a subset comparison.
fn without_needle(
    expected: &Map<String, Value>,
    actual: &Value,
    path: &str,
) -> Result<Value, String> {
    let mut rest = expected.clone();
    if let Some(needle) = rest.remove("message_contains") {
        let needle = string(&needle, &format!("{path}.message_contains"))?;
        let message = actual.get("message").and_then(Value::as_str).unwrap_or("");
        if !message.contains(needle) {
            return Err(format!(
                "{path}: the message {message:?} does not contain {needle:?}"
            ));
        }
    }
    Ok(Value::Object(rest))
}

/// An expected issue (a code, or an object with `code`, `severity`, `line`, `column`,
/// `message`, `message_contains`) against an issue as core serialises it.
pub(crate) fn check_issue(expected: &Value, actual: &Value, path: &str) -> Check {
    issue_shape(expected, path)?;
    match expected {
        Value::Object(map) => matches(&without_needle(map, actual, path)?, actual, path),
        code => matches(code, get_code(actual), path),
    }
}

/// An expected issue is a code string or an object of known keys.
fn issue_shape(expected: &Value, path: &str) -> Check {
    match expected {
        Value::String(_) => Ok(()),
        Value::Object(map) => known_keys(
            map,
            &[
                "code",
                "severity",
                "line",
                "column",
                "message",
                "message_contains",
            ],
            path,
        ),
        other => Err(format!(
            "{path}: an issue is a code or an object, not {}",
            show(other)
        )),
    }
}

fn get_code(issue: &Value) -> &Value {
    issue.get("code").unwrap_or(&Value::Null)
}

/// The full list of expected issues, in order, against the actual list.
pub(crate) fn check_issues(expected: &Value, actual: &Value, path: &str) -> Check {
    let expected = list(expected, path)?;
    for (i, e) in expected.iter().enumerate() {
        issue_shape(e, &format!("{path}[{i}]"))?;
    }
    let actual = list(actual, &format!("{path} (actual)"))?;
    if expected.len() != actual.len() {
        let codes: Vec<String> = actual
            .iter()
            .map(|i| {
                let line = i.get("line").filter(|l| !l.is_null());
                let code = get_code(i).as_str().unwrap_or("?");
                line.map_or_else(|| code.to_owned(), |l| format!("{l}:{code}"))
            })
            .collect();
        return Err(format!(
            "{path}: expected {} issues, got {}: {codes:?}",
            expected.len(),
            actual.len()
        ));
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        check_issue(e, a, &format!("{path}[{i}]"))?;
    }
    Ok(())
}

/// An expected error (a code, or an object with `code`, `kind`, `line`, `column`,
/// `message`, `message_contains`) against an outcome's error object.
pub(crate) fn check_error(expected: &Value, actual: &Value, path: &str) -> Check {
    let map = match expected {
        Value::String(_) => return matches(expected, get_code(actual), &format!("{path}.code")),
        other => object(other, path)?,
    };
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
    if !map.get("code").is_some_and(Value::is_string) {
        return Err(format!("{path} gives no \"code\""));
    }
    let rest = without_needle(map, actual, path)?;
    matches(&rest, actual, path)
}

/// Whether a string anywhere in `value` (a key or a value, at any depth) contains `needle`.
pub(crate) fn contains_text(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|v| contains_text(v, needle)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains(needle) || contains_text(v, needle)),
        _ => false,
    }
}

/// An error of an outcome, for a message: `code (kind): message`.
pub(crate) fn describe_error(error: &Value) -> String {
    let part = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or("?");
    format!("{} ({}): {}", part("code"), part("kind"), part("message"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_rule() {
        let actual = json!({"a": 1, "b": [{"x": 1, "y": 2}], "c": null});
        assert!(matches(&json!({"a": 1}), &actual, "").is_ok());
        assert!(matches(&json!({"a": 1.0}), &actual, "").is_ok());
        assert!(matches(&json!({"b": [{"y": 2}]}), &actual, "").is_ok());
        assert!(matches(&json!({"c": null, "d": null}), &actual, "").is_ok());
        assert!(matches(&json!({"a": 2}), &actual, "").is_err());
        assert!(matches(&json!({"a": true}), &json!({"a": 1}), "").is_err());
        assert!(matches(&json!({"b": []}), &actual, "").is_err());
        assert!(matches(&json!({"d": 1}), &actual, "").is_err());
    }

    #[test]
    fn a_mismatch_names_its_path() {
        let e = matches(&json!({"b": [{"y": 3}]}), &json!({"b": [{"y": 2}]}), "x").unwrap_err();
        assert!(e.starts_with("x.b[0].y: expected 3, got 2"), "{e}");
    }

    #[test]
    fn wildcards_only_where_allowed() {
        let any = json!({"h": {"$any": true}});
        assert!(subset(&any, &json!({"h": "$argon2id$..."}), "", Wildcards::Any).is_ok());
        assert!(subset(&any, &json!({}), "", Wildcards::Any).is_ok());
        assert!(subset(&any, &json!({"h": "x"}), "", Wildcards::No).is_err());
    }

    #[test]
    fn method_names_and_keys_become_snake_case() {
        assert_eq!(snake_name("findUsers"), "find_users");
        assert_eq!(snake_name("all_group_names"), "all_group_names");
        let v = snake_keys(&json!([{"passwordHash": "h", "profile": {"firstName": "A"}}]));
        assert_eq!(
            v,
            json!([{"password_hash": "h", "profile": {"first_name": "A"}}])
        );
    }

    #[test]
    fn issues_by_code_or_object() {
        let actual = json!([{"code": "invalid_email", "line": 3, "message": "not an email"}]);
        assert!(check_issues(&json!(["invalid_email"]), &actual, "i").is_ok());
        let e = json!([{"code": "invalid_email", "message_contains": "email"}]);
        assert!(check_issues(&e, &actual, "i").is_ok());
        let e = json!([{"code": "invalid_email", "message_contains": "phone"}]);
        assert!(check_issues(&e, &actual, "i")
            .unwrap_err()
            .contains("does not contain"));
        let e = json!([{"code": "invalid_email", "mesage": "x"}]);
        assert!(check_issues(&e, &actual, "i")
            .unwrap_err()
            .contains("unknown key"));
        let e = check_issues(&json!([]), &actual, "i").unwrap_err();
        assert!(e.contains("3:invalid_email"), "{e}");
    }
}
