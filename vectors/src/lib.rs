//! # lms-bulk-upload-vectors
//!
//! The one judge of the language-neutral test vectors of lms-bulk-upload: the scenarios of
//! `tests/scenarios/` (format: `docs/scenario-format.md`) and the host-protocol vectors of
//! `tests/host-protocol/` (format: `docs/host-protocol.md`).
//!
//! A runner — in Rust, Python, Node, Ruby... — only **runs** a vector through its language's
//! public API and collects the raw **outcome** as JSON (what parse, planning and execution
//! returned, the store's state, the emails, the host calls). The judge does every view and
//! normalisation itself and compares, so the rules cannot drift between languages. A
//! mismatch is an `Err` naming the path of the expectation that failed
//! (`expect.plan.rows[1].action: expected "update", got "create"`); a key the judge does not
//! understand under `expect` is refused, so a typo cannot pass silently.
//!
//! ```
//! use serde_json::json;
//! let scenario = json!({
//!     "description": "One valid row.",
//!     "expect": {"issues": [], "rows": 1, "valid_rows": 1}
//! });
//! let outcome = json!({"upload": {"rows": 1, "valid_rows": 1, "issues": []}});
//! lms_bulk_upload_vectors::judge_scenario(&scenario, &outcome)?;
//!
//! let wrong = json!({"upload": {"rows": 2, "valid_rows": 1, "issues": []}});
//! let why = lms_bulk_upload_vectors::judge_scenario(&scenario, &wrong).unwrap_err();
//! assert_eq!(why, "expect.rows: expected 1, got 2");
//! # Ok::<(), String>(())
//! ```
//!
//! The bindings expose these functions as a testing entry point outside their documented API,
//! taking JSON text: [`judge_scenario_json`], [`judge_protocol_folder_json`].
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod compare;
mod protocol;
mod scenario;
mod store_changes;
mod undo;
mod views;

use serde_json::Value;
use std::path::Path;

/// Judges a scenario (its `scenario.json`, parsed) against a runner's outcome:
///
/// ```text
/// {"parse_error":    null | {"code", "kind", "message", "line", "column"},
///  "upload":         null | {"rows": n, "valid_rows": n, "issues": [issue...]},
///  "settings_error": null | {"code", "kind", "message"},
///  "plan":           null | <plan.to_json(), parsed>,
///  "execute_error":  null | {"code", "kind", "message"},
///  "results":        null | <results.to_json(), parsed>,
///  "store":          null | <the MemoryStore's state after execution>,
///  "emails":         [<each message as host::message_value renders it>]}
/// ```
///
/// A runner fills what it got to; absent keys are null; keys may be camelCase (they are
/// read in snake_case). `Err` says what differs, and where.
pub fn judge_scenario(scenario: &Value, outcome: &Value) -> Result<(), String> {
    scenario::judge(scenario, outcome)
}

/// Judges a host-protocol vector (its `vector.json`, parsed) against a runner's outcome:
///
/// ```text
/// {"error": null | {"code", "kind", "message"}, "stage": null | "plan" | "execute",
///  "results_json": null | "<results.to_json(), as a string>",
///  "calls": [["store" | "mailer" | "journal", "methodAsCalled", [arguments]]...]}
/// ```
///
/// A vector whose `expect.results` is `true` is compared with the results.json file beside
/// it, which this function does not know: judge it with [`judge_protocol_folder`] (or give
/// the expected text itself as `expect.results`).
pub fn judge_protocol(vector: &Value, outcome: &Value) -> Result<(), String> {
    protocol::judge(vector, None, outcome)
}

/// Judges the host-protocol vector of `folder` (its `vector.json` and, when `expect.results`
/// is `true`, its `results.json`, compared byte for byte with `results_json`) against a
/// runner's outcome. What runners call.
pub fn judge_protocol_folder(folder: &Path, outcome: &Value) -> Result<(), String> {
    protocol::judge_folder(folder, outcome)
}

fn parse(text: &str, what: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("the {what} is not JSON: {e}"))
}

/// [`judge_scenario`] on JSON text, for bindings.
pub fn judge_scenario_json(scenario: &str, outcome: &str) -> Result<(), String> {
    judge_scenario(&parse(scenario, "scenario")?, &parse(outcome, "outcome")?)
}

/// [`judge_protocol`] on JSON text, for bindings.
pub fn judge_protocol_json(vector: &str, outcome: &str) -> Result<(), String> {
    judge_protocol(&parse(vector, "vector")?, &parse(outcome, "outcome")?)
}

/// [`judge_protocol_folder`] with the folder's path and the outcome as JSON text, for bindings.
pub fn judge_protocol_folder_json(folder: &str, outcome: &str) -> Result<(), String> {
    judge_protocol_folder(Path::new(folder), &parse(outcome, "outcome")?)
}

/// The store of a scenario after its `store_changes` (what happens to the store between
/// planning and execution): `store` is the scenario's `store` (`null`: empty), `changes` its
/// `store_changes`. A runner plans against `store` and executes against a store built from
/// the returned state (format: `docs/scenario-format.md`).
pub fn apply_store_changes(store: &Value, changes: &Value) -> Result<Value, String> {
    store_changes::apply(store, changes)
}

/// [`apply_store_changes`] on JSON text, for bindings; returns the changed state as JSON.
pub fn apply_store_changes_json(store: &str, changes: &str) -> Result<String, String> {
    apply_store_changes(&parse(store, "store")?, &parse(changes, "store_changes")?)
        .map(|state| state.to_string())
}

/// The keys of a scenario outcome, in the order above.
pub const SCENARIO_OUTCOME_KEYS: &[&str] = scenario::OUTCOME_KEYS;

/// The keys of a protocol outcome.
pub const PROTOCOL_OUTCOME_KEYS: &[&str] = protocol::OUTCOME_KEYS;
