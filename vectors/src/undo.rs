//! Judging a scenario's `undo` part: the undo planned from the upload's results and the
//! store after it, executed (and resumed when `cancel_after` interrupts it).

use crate::compare::{check_error, describe_error, get, known_keys, list, object, show, Check};
use crate::views::{check_emails, check_store, normalise_store};
use serde_json::{Map, Value};

/// The keys of a scenario's `undo` object.
const UNDO_KEYS: &[&str] = &["options", "store_changes", "cancel_after"];
/// The keys of `expect.undo`.
const EXPECT_KEYS: &[&str] = &[
    "error",
    "plan",
    "first_results",
    "results",
    "store",
    "emails",
    "restores_store",
];
/// The keys of `outcome.undo`.
pub(crate) const OUTCOME_KEYS: &[&str] = &[
    "error",
    "plan",
    "execute_error",
    "first_results",
    "results",
    "store",
    "emails",
    "again_error",
];

/// An error found under `expect.X`, said of `expect.undo.X`.
fn under_undo(e: String) -> String {
    e.replacen("expect.", "expect.undo.", 1)
}

/// Checks the scenario's `undo` object (its shape) and returns `expect.undo`.
pub(crate) fn check_shape<'a>(
    undo: &Value,
    expect: &'a Map<String, Value>,
) -> Result<Option<&'a Map<String, Value>>, String> {
    let map = object(undo, "undo")?;
    known_keys(map, UNDO_KEYS, "undo")?;
    if let Some(n) = map.get("cancel_after") {
        if n.as_u64().is_none_or(|n| n == 0) {
            return Err(format!(
                "undo.cancel_after is a number of rows, not {}",
                show(n)
            ));
        }
    }
    let Some(expected) = expect.get("undo") else {
        return Err("a scenario with \"undo\" gives expect.undo".into());
    };
    let expected = object(expected, "expect.undo")?;
    known_keys(expected, EXPECT_KEYS, "expect.undo")?;
    if expected.contains_key("error") {
        if let Some(key) = EXPECT_KEYS[1..].iter().find(|k| expected.contains_key(**k)) {
            return Err(format!(
                "expect.undo.{key} cannot be checked with an undo error"
            ));
        }
    }
    Ok(Some(expected))
}

/// Judges `outcome.undo` against `expect.undo`. `before`: the scenario's store before the
/// upload (for `restores_store`).
pub(crate) fn judge(
    expected: &Map<String, Value>,
    outcome: &Value,
    before: &Value,
    check_plan: fn(&Value, &Value) -> Check,
    check_results: fn(&Value, &Value) -> Check,
) -> Check {
    let outcome = object(outcome, "outcome.undo")?;
    known_keys(outcome, OUTCOME_KEYS, "outcome.undo")?;
    match (expected.get("error"), get(outcome, "error")) {
        (Some(e), Value::Null) => {
            return Err(format!(
                "expected the undo error {}, but the undo was planned",
                show(e)
            ))
        }
        (Some(e), actual) => return check_error(e, actual, "expect.undo.error"),
        (None, Value::Null) => {}
        (None, actual) => {
            return Err(format!(
                "planning the undo failed: {}",
                describe_error(actual)
            ))
        }
    }
    let plan = get(outcome, "plan");
    object(plan, "outcome.undo.plan")?;
    if let Some(e) = expected.get("plan") {
        check_plan(e, plan).map_err(under_undo)?;
    }
    let execute_error = get(outcome, "execute_error");
    if !execute_error.is_null() {
        return Err(format!(
            "executing the undo failed: {}",
            describe_error(execute_error)
        ));
    }
    if let Some(e) = expected.get("first_results") {
        check_results(e, get(outcome, "first_results"))
            .map_err(|e| e.replacen("expect.results", "expect.undo.first_results", 1))?;
    }
    let results = get(outcome, "results");
    object(results, "outcome.undo.results")?;
    if let Some(e) = expected.get("results") {
        check_results(e, results).map_err(under_undo)?;
    }
    // Always: the results of an undo cannot be undone.
    let again = get(outcome, "again_error");
    check_error(
        &serde_json::json!({"code": "undo_of_undo"}),
        again,
        "undoing the undo",
    )
    .map_err(|e| format!("{e} (an undo's results must be refused by plan_undo)"))?;
    let store = get(outcome, "store");
    if let Some(e) = expected.get("store") {
        check_store(e, store).map_err(under_undo)?;
    }
    if let Some(e) = expected.get("emails") {
        check_emails(e, list(get(outcome, "emails"), "outcome.undo.emails")?)
            .map_err(under_undo)?;
    }
    if let Some(flag) = expected.get("restores_store") {
        if flag != &Value::Bool(true) {
            return Err("expect.undo.restores_store can only be true".into());
        }
        restores(before, store)?;
    }
    Ok(())
}

/// The store after the undo equals the store before the upload, but for the users the
/// upload created (now suspended) and what cannot be undone (passwords).
fn restores(before: &Value, after: &Value) -> Check {
    let view = |state: &Value, drop_suspended: bool| -> Value {
        let mut state = normalise_store(state);
        if let Some(users) = state.get_mut("users").and_then(Value::as_array_mut) {
            users.retain(|u| !(drop_suspended && u.get("suspended") == Some(&Value::Bool(true))));
            for user in users.iter_mut().filter_map(Value::as_object_mut) {
                for key in ["has_password", "force_password_reset", "suspended"] {
                    user.remove(key);
                }
                user.retain(|_, v| {
                    !v.is_null() && v != &Value::Array(Vec::new()) && v != &Value::Bool(false)
                });
            }
        }
        for key in ["groups", "content", "users"] {
            if state.get(key).is_none() {
                state[key] = Value::Array(Vec::new());
            }
        }
        if let Some(map) = state.as_object_mut() {
            map.remove("lacks");
        }
        state
    };
    let (want, got) = (view(before, false), view(after, true));
    if want != got {
        return Err(format!(
            "expect.undo.restores_store: the store after the undo is not the store before the upload:\n  before {}\n  after  {}",
            show(&want),
            show(&got)
        ));
    }
    Ok(())
}
