//! Judging a host-protocol vector of `tests/host-protocol/` against a runner's outcome.

use crate::compare::{
    check_error, contains_text, describe_error, get, known_keys, list, object, show, snake_keys,
    snake_name, string, subset, Check, Wildcards,
};
use lms_bulk_upload::host::{HostObject, HostStore};
use serde_json::{Map, Value};
use std::path::Path;

const VECTOR_KEYS: &[&str] = &[
    "description",
    "upload",
    "parse_options",
    "settings",
    "execute",
    "host",
    "expect",
];
const EXPECT_KEYS: &[&str] = &["error", "stage", "results", "calls"];
/// The keys of a protocol outcome.
pub(crate) const OUTCOME_KEYS: &[&str] = &["error", "stage", "results_json", "calls"];
const OBJECTS: [&str; 3] = ["store", "mailer", "journal"];

/// The methods a host object of each kind may have (snake_case).
fn methods(object: &str) -> Vec<&'static str> {
    match object {
        "store" => {
            let mut all = HostStore::<Box<dyn HostObject>>::REQUIRED.to_vec();
            all.extend(["all_group_names", "checkpoint"]);
            // Sign-in links: optional, in every runner's scripted store.
            all.extend([
                "add_invitation",
                "find_invitation",
                "redeem_invitation",
                "revoke_invitations",
            ]);
            all
        }
        "mailer" => vec!["send", "flush"],
        _ => vec!["load", "begin", "finish", "created"],
    }
}

/// `{"return": value}` or `{"raise": "message", "transient": bool}`.
fn check_reply(reply: &Value, path: &str) -> Check {
    let map = object(reply, path)?;
    match (map.contains_key("return"), map.get("raise")) {
        (true, None) => known_keys(map, &["return"], path),
        (false, Some(message)) => {
            known_keys(map, &["raise", "transient"], path)?;
            string(message, &format!("{path}.raise"))?;
            match map.get("transient") {
                None | Some(Value::Bool(_)) => Ok(()),
                Some(other) => Err(format!(
                    "{path}.transient must be true or false, not {}",
                    show(other)
                )),
            }
        }
        _ => Err(format!(
            "{path}: a reply is {{\"return\": value}} or {{\"raise\": \"message\", \"transient\": bool}}, not {}",
            show(reply)
        )),
    }
}

fn check_host(host: &Value) -> Check {
    let host = object(host, "host")?;
    known_keys(host, &OBJECTS, "host")?;
    for name in OBJECTS {
        let path = format!("host.{name}");
        let spec = match host.get(name) {
            None | Some(Value::Null) if name == "journal" => continue,
            None => return Err(format!("{path} is missing (give {{}} for a plain {name})")),
            Some(spec) => object(spec, &path)?,
        };
        known_keys(spec, &["missing", "replies"], &path)?;
        let known = methods(name);
        let is_method = |m: &str, at: &str| -> Check {
            if known.contains(&m) {
                Ok(())
            } else {
                Err(format!(
                    "{at}: {m:?} is not a {name} method (those are {})",
                    known.join(", ")
                ))
            }
        };
        if let Some(missing) = spec.get("missing") {
            for (i, m) in list(missing, &format!("{path}.missing"))?
                .iter()
                .enumerate()
            {
                let at = format!("{path}.missing[{i}]");
                is_method(string(m, &at)?, &at)?;
            }
        }
        if let Some(replies) = spec.get("replies") {
            for (method, script) in object(replies, &format!("{path}.replies"))? {
                let at = format!("{path}.replies.{method}");
                is_method(method, &at)?;
                for (i, reply) in list(script, &at)?.iter().enumerate() {
                    check_reply(reply, &format!("{at}[{i}]"))?;
                }
            }
        }
    }
    Ok(())
}

/// Checks the vector's own shape; returns its `expect`.
fn check_vector(vector: &Value) -> Result<&Map<String, Value>, String> {
    let top = object(vector, "vector")?;
    known_keys(top, VECTOR_KEYS, "vector")?;
    string(get(top, "description"), "vector.description")?;
    string(get(top, "upload"), "vector.upload")?;
    for key in ["parse_options", "settings", "execute"] {
        if let Some(value) = top.get(key).filter(|v| !v.is_null()) {
            object(value, &format!("vector.{key}"))?;
        }
    }
    check_host(get(top, "host"))?;
    let expect = object(get(top, "expect"), "vector.expect")?;
    known_keys(expect, EXPECT_KEYS, "expect")?;
    let failing = !get(expect, "error").is_null();
    match (failing, expect.get("stage")) {
        (true, Some(Value::String(s))) if s == "plan" || s == "execute" => {}
        (true, _) => return Err("expect.stage is \"plan\" or \"execute\" with an error".into()),
        (false, Some(_)) => return Err("expect.stage is only given with expect.error".into()),
        (false, None) => {}
    }
    match (failing, get(expect, "results")) {
        (true, Value::Null | Value::Bool(false)) => {}
        (true, _) => return Err("expect.results cannot be given with an error".into()),
        (false, Value::Bool(true) | Value::String(_)) => {}
        (false, _) => {
            return Err(
                "expect.results is true (results.json beside vector.json) when nothing fails"
                    .into(),
            )
        }
    }
    if let Some(calls) = expect.get("calls") {
        for (i, call) in list(calls, "expect.calls")?.iter().enumerate() {
            check_call_shape(call, &format!("expect.calls[{i}]"))?;
        }
    }
    Ok(expect)
}

/// `[object, method, [args]]`; returns them.
fn check_call_shape<'a>(
    call: &'a Value,
    path: &str,
) -> Result<(&'a str, &'a str, &'a Value), String> {
    match call.as_array().map(Vec::as_slice) {
        Some([Value::String(who), Value::String(method), args @ Value::Array(_)])
            if OBJECTS.contains(&who.as_str()) =>
        {
            Ok((who, method, args))
        }
        _ => Err(format!(
            "{path}: a call is [\"store\"|\"mailer\"|\"journal\", \"method\", [arguments]], not {}",
            show(call)
        )),
    }
}

/// The calls of the outcome with method names and argument keys in snake_case.
fn normalised_calls(calls: &Value) -> Result<Vec<(String, String, Value)>, String> {
    let calls = match calls {
        Value::Null => return Ok(Vec::new()),
        other => list(other, "outcome.calls")?,
    };
    calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            let (who, method, args) = check_call_shape(call, &format!("outcome.calls[{i}]"))?;
            Ok((who.to_owned(), snake_name(method), snake_keys(args)))
        })
        .collect()
}

fn check_calls(expected: &[Value], actual: &[(String, String, Value)]) -> Check {
    let names = || {
        actual
            .iter()
            .map(|(who, method, _)| format!("{who}.{method}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if expected.len() != actual.len() {
        return Err(format!(
            "expect.calls: expected {} calls, got {}: {}",
            expected.len(),
            actual.len(),
            names()
        ));
    }
    for (i, (e, (who, method, args))) in expected.iter().zip(actual).enumerate() {
        let path = format!("expect.calls[{i}]");
        let (e_who, e_method, e_args) = check_call_shape(e, &path)?;
        if (e_who, e_method) != (who.as_str(), method.as_str()) {
            return Err(format!(
                "{path}: expected {e_who}.{e_method}, got {who}.{method} (the calls: {})",
                names()
            ));
        }
        subset(e_args, args, &format!("{path}.args"), Wildcards::Any)?;
    }
    Ok(())
}

/// Where the first difference of two texts is, with a little context.
fn first_difference(expected: &str, actual: &str) -> String {
    let at = expected
        .char_indices()
        .zip(actual.chars())
        .find(|((_, e), a)| e != a)
        .map(|((i, _), _)| i)
        .unwrap_or_else(|| expected.len().min(actual.len()));
    let start = expected[..at]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(i, _)| i);
    let context =
        |text: &str| -> String { text.get(start..).unwrap_or("").chars().take(120).collect() };
    format!(
        "they differ at byte {at}:\n  expected …{}\n  actual   …{}",
        context(expected),
        context(actual)
    )
}

fn check_results(expected: &str, actual: &Value) -> Check {
    match actual {
        Value::String(actual) if actual == expected => Ok(()),
        Value::String(actual) => Err(format!(
            "results_json is not byte for byte the expected results.json; {}",
            first_difference(expected, actual)
        )),
        Value::Null => Err("the outcome has no results_json".into()),
        other => Err(format!(
            "outcome.results_json must be the text of results.to_json(), not {}",
            show(other)
        )),
    }
}

/// Always checked: no password reaches the store or the journal, and none is in the results;
/// a default password is in no message either.
fn check_secrets(vector: &Value, calls: &[(String, String, Value)], results: &Value) -> Check {
    let mut defaults: Vec<&str> = ["settings", "execute"]
        .iter()
        .filter_map(|k| vector.get(*k)?.get("default_password")?.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    defaults.dedup();
    let sent = || {
        calls
            .iter()
            .filter(|(who, method, _)| who == "mailer" && method == "send")
            .filter_map(|(_, _, args)| args.get(0)?.get("fields"))
    };
    let mut emailed: Vec<&str> = sent()
        .filter_map(|fields| fields.get("password")?.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    // A sign-in link's token is a secret like a password: the store gets its digest only.
    emailed.extend(
        sent().filter_map(|fields| crate::views::token_of(fields.get("invitation_url")?.as_str()?)),
    );
    for (i, (who, method, args)) in calls.iter().enumerate() {
        let secrets: &[&str] = if who == "mailer" { &[] } else { &emailed };
        for secret in defaults.iter().chain(secrets) {
            if contains_text(args, secret) {
                return Err(format!(
                    "calls[{i}] ({who}.{method}) carries a plaintext password"
                ));
            }
        }
    }
    for secret in defaults.iter().chain(&emailed) {
        if contains_text(results, secret) {
            return Err("results_json carries a plaintext password".into());
        }
    }
    Ok(())
}

/// See [`crate::judge_protocol`]; `results_file` is the text of the folder's results.json.
pub(crate) fn judge(vector: &Value, results_file: Option<&str>, outcome: &Value) -> Check {
    let expect = check_vector(vector)?;
    let outcome = snake_keys(outcome);
    let outcome = object(&outcome, "outcome")?;
    known_keys(outcome, OUTCOME_KEYS, "outcome")?;
    let calls = normalised_calls(get(outcome, "calls"))?;
    let results = get(outcome, "results_json");
    check_secrets(vector, &calls, results)?;

    let error = get(outcome, "error");
    match get(expect, "error") {
        Value::Null if error.is_null() => {}
        Value::Null => {
            return Err(format!(
                "the {} failed: {}",
                get(outcome, "stage").as_str().unwrap_or("run"),
                describe_error(error)
            ))
        }
        expected if error.is_null() => {
            return Err(format!(
                "expected the error {}, but nothing failed",
                show(expected)
            ))
        }
        expected => {
            check_error(expected, error, "expect.error")?;
            let stage = get(expect, "stage");
            if get(outcome, "stage") != stage {
                return Err(format!(
                    "expect.stage: expected {}, got {} ({})",
                    show(stage),
                    show(get(outcome, "stage")),
                    describe_error(error)
                ));
            }
            if !results.is_null() {
                return Err("an outcome with an error has no results_json".into());
            }
        }
    }
    match get(expect, "results") {
        Value::Bool(true) => {
            let expected = results_file.ok_or(
                "expect.results is true: the expected results are the file results.json beside \
                 vector.json; judge the folder (judge_protocol_folder)",
            )?;
            check_results(expected, results)?;
        }
        Value::String(expected) => check_results(expected, results)?,
        _ => {}
    }
    if let Some(expected) = expect.get("calls") {
        check_calls(list(expected, "expect.calls")?, &calls)?;
    }
    Ok(())
}

/// See [`crate::judge_protocol_folder`].
pub(crate) fn judge_folder(folder: &Path, outcome: &Value) -> Check {
    let read = |name: &str| {
        std::fs::read_to_string(folder.join(name))
            .map_err(|e| format!("{}: {e}", folder.join(name).display()))
    };
    let vector: Value =
        serde_json::from_str(&read("vector.json")?).map_err(|e| format!("vector.json: {e}"))?;
    let wants_file = vector
        .get("expect")
        .and_then(|e| e.get("results"))
        .is_some_and(|r| r == &Value::Bool(true));
    let results = if wants_file {
        Some(read("results.json")?)
    } else {
        None
    };
    judge(&vector, results.as_deref(), outcome)
}
