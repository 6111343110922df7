//! Runs every scenario of `tests/scenarios/` through the public Rust API — parse, settings,
//! plan against a `MemoryStore`, apply the `store_changes`, execute with a
//! `RecordingMailer` — collects the raw outcome
//! and hands it to the one judge (`lms-bulk-upload-vectors`), which every language's runner
//! shares. Formats: `tests/scenarios/README.md`, `docs/scenario-format.md`.

use lms_bulk_upload::host::{message_value, ExecuteConfig};
use lms_bulk_upload::{
    parse, plan, Error, MemoryStore, ParseOptions, RecordingMailer, Settings, StoreState,
};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Fast hashing so the corpus runs quickly (never for real passwords).
fn execute_config() -> Value {
    json!({
        "hash_params": {"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": true},
        "retry_delay_ms": 0,
    })
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios")
}

fn error_value(e: &Error) -> Value {
    json!({
        "code": e.code().as_str(),
        "kind": e.kind().as_str(),
        "message": e.message(),
        "line": e.line(),
        "column": e.column(),
    })
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Runs the scenario as far as it goes and returns the outcome.
fn run(scenario: &Value, csv: &[u8]) -> Result<Value, String> {
    let mut outcome = Map::new();
    let parsed = ParseOptions::from_value(scenario["parse_options"].clone())
        .and_then(|options| parse(csv, &options));
    let upload = match parsed {
        Ok(upload) => upload,
        Err(e) => {
            outcome.insert("parse_error".into(), error_value(&e));
            return Ok(Value::Object(outcome));
        }
    };
    outcome.insert("upload".into(), to_value(upload.report()));
    let Some(settings) = scenario.get("settings") else {
        return Ok(Value::Object(outcome));
    };
    let state: StoreState = serde_json::from_value(scenario["store"].clone())
        .map_err(|e| format!("scenario.json store: {e}"))?;
    let mut store = MemoryStore::from_state(&state);
    let planned =
        Settings::from_value(settings.clone()).and_then(|s| plan(&upload, &s, &mut store));
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => {
            outcome.insert("settings_error".into(), error_value(&e));
            return Ok(Value::Object(outcome));
        }
    };
    let plan_json = serde_json::from_str(&plan.to_json()).map_err(|e| e.to_string())?;
    outcome.insert("plan".into(), plan_json);
    // Between plan and execute, the store may change.
    if let Some(changes) = scenario.get("store_changes") {
        let after = lms_bulk_upload_vectors::apply_store_changes(&scenario["store"], changes)?;
        let state: StoreState =
            serde_json::from_value(after).map_err(|e| format!("store_changes: {e}"))?;
        store = MemoryStore::from_state(&state);
    }
    let options = ExecuteConfig::from_value(execute_config())
        .map_err(|e| e.to_string())?
        .into_options();
    let mut mailer = RecordingMailer::new();
    match plan.execute(&mut store, &mut mailer, options) {
        Ok(results) => {
            let results = serde_json::from_str(&results.to_json()).map_err(|e| e.to_string())?;
            outcome.insert("results".into(), results);
        }
        Err(e) => {
            outcome.insert("execute_error".into(), error_value(&e));
        }
    }
    outcome.insert("store".into(), to_value(store.state()));
    let emails = mailer.messages.iter().map(message_value).collect();
    outcome.insert("emails".into(), Value::Array(emails));
    Ok(Value::Object(outcome))
}

fn judge(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("scenario.json"))
        .map_err(|e| format!("scenario.json: {e}"))?;
    let scenario: Value = serde_json::from_str(&text).map_err(|e| format!("scenario.json: {e}"))?;
    let csv = std::fs::read(dir.join("upload.csv")).map_err(|e| format!("upload.csv: {e}"))?;
    let outcome = run(&scenario, &csv)?;
    lms_bulk_upload_vectors::judge_scenario(&scenario, &outcome)
}

#[test]
fn every_scenario() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("tests/scenarios exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("scenario.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 60, "the scenarios of {:?}", scenarios_dir());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            let name = dir.file_name().unwrap_or_default().to_string_lossy();
            judge(dir).err().map(|why| format!("{name}: {why}"))
        })
        .collect();
    eprintln!("{} scenarios judged, {} failed", dirs.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} scenario(s) failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
