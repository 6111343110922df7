//! Runs every scenario of `tests/scenarios/` through the public Rust API — parse, settings,
//! plan against a `MemoryStore`, apply the `store_changes`, execute with a
//! `RecordingMailer` — collects the raw outcome
//! and hands it to the one judge (`lms-bulk-upload-vectors`), which every language's runner
//! shares. Formats: `tests/scenarios/README.md`, `docs/scenario-format.md`.

use lms_bulk_upload::host::{message_value, ExecuteConfig};
use lms_bulk_upload::{
    parse, plan, plan_undo, Error, ExecuteOptions, MemoryJournal, MemoryStore, ParseOptions,
    RecordingMailer, Results, Settings, StoreState, UndoOptions,
};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
    run_with(scenario, csv, options()?)
}

/// [`run`] with these execute options.
fn run_with(scenario: &Value, csv: &[u8], options: ExecuteOptions<'_>) -> Result<Value, String> {
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
    let mut mailer = RecordingMailer::new();
    let mut executed = None;
    match plan.execute(&mut store, &mut mailer, options) {
        Ok(results) => {
            outcome.insert("results".into(), json_of(&results.to_json())?);
            executed = Some(results);
        }
        Err(e) => {
            outcome.insert("execute_error".into(), error_value(&e));
        }
    }
    outcome.insert("store".into(), to_value(store.state()));
    let emails = mailer.messages.iter().map(message_value).collect();
    outcome.insert("emails".into(), Value::Array(emails));
    if let (Some(undo), Some(results)) = (scenario.get("undo"), executed) {
        outcome.insert("undo".into(), run_undo(undo, &results, &store)?);
    }
    Ok(Value::Object(outcome))
}

fn options<'a>() -> Result<ExecuteOptions<'a>, String> {
    Ok(ExecuteConfig::from_value(execute_config())
        .map_err(|e| e.to_string())?
        .into_options())
}

fn json_of(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The undo part: plan the undo of `results` against the store after the upload (and the
/// undo's `store_changes`), execute it with a journal (interrupted after `cancel_after`
/// rows, then resumed), then try to undo the undo.
fn run_undo(undo: &Value, results: &Results, store: &MemoryStore) -> Result<Value, String> {
    let mut out = Map::new();
    let changes = undo.get("store_changes").cloned().unwrap_or(json!([]));
    let after = lms_bulk_upload_vectors::apply_store_changes(&to_value(store.state()), &changes)?;
    let state: StoreState =
        serde_json::from_value(after).map_err(|e| format!("undo.store_changes: {e}"))?;
    let mut store = MemoryStore::from_state(&state);
    let planned = UndoOptions::from_value(undo["options"].clone())
        .and_then(|o| plan_undo(results, &mut store, &o));
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => {
            out.insert("error".into(), error_value(&e));
            return Ok(Value::Object(out));
        }
    };
    out.insert("plan".into(), json_of(&plan.to_json())?);
    let mut journal = MemoryJournal::new();
    let mut mailer = RecordingMailer::new();
    let mut failed = None;
    if let Some(n) = undo.get("cancel_after").and_then(Value::as_u64) {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let mut first = options()?;
        first.journal = Some(&mut journal);
        first.cancel = Some(cancel);
        first.progress = Some(Box::new(move |p| {
            if p.done >= n {
                flag.store(true, Ordering::SeqCst);
            }
        }));
        match plan.execute(&mut store, &mut mailer, first) {
            Ok(r) => {
                out.insert("first_results".into(), json_of(&r.to_json())?);
            }
            Err(e) => failed = Some(e),
        }
    }
    if failed.is_none() {
        let mut again = options()?;
        again.journal = Some(&mut journal);
        match plan.execute(&mut store, &mut mailer, again) {
            Ok(r) => {
                out.insert("results".into(), json_of(&r.to_json())?);
                if let Err(e) = plan_undo(&r, &mut store, &UndoOptions::new()) {
                    out.insert("again_error".into(), error_value(&e));
                }
            }
            Err(e) => failed = Some(e),
        }
    }
    if let Some(e) = failed {
        out.insert("execute_error".into(), error_value(&e));
    }
    out.insert("store".into(), to_value(store.state()));
    let emails = mailer.messages.iter().map(message_value).collect();
    out.insert("emails".into(), Value::Array(emails));
    Ok(Value::Object(out))
}

/// The scenario and its upload's bytes.
fn read_scenario(dir: &Path) -> Result<(Value, Vec<u8>), String> {
    let text = std::fs::read_to_string(dir.join("scenario.json"))
        .map_err(|e| format!("scenario.json: {e}"))?;
    let scenario: Value = serde_json::from_str(&text).map_err(|e| format!("scenario.json: {e}"))?;
    // The upload: `upload.csv`, or a spreadsheet (`upload.xlsx`, `upload.xls`, `upload.ods`).
    let file = ["csv", "xlsx", "xls", "ods"]
        .iter()
        .map(|ext| dir.join(format!("upload.{ext}")))
        .find(|p| p.is_file())
        .ok_or("no upload.csv (or .xlsx, .xls, .ods)")?;
    let csv = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((scenario, csv))
}

fn judge(dir: &Path) -> Result<(), String> {
    let (scenario, csv) = read_scenario(dir)?;
    let outcome = run(&scenario, &csv)?;
    lms_bulk_upload_vectors::judge_scenario(&scenario, &outcome)
}

/// The scenario executed one row a batch, on one thread and with the results assembled on
/// a thread of their own (more than one batch and thread, no journal): the same outcome
/// (results, store, execute error, plan), and the same emails but for the random sign-in
/// links and generated passwords they carry (their count and recipients compared).
fn same_on_two_threads(dir: &Path) -> Result<(), String> {
    let (scenario, csv) = read_scenario(dir)?;
    let with_threads = |threads| -> Result<Value, String> {
        let options = ExecuteOptions {
            batch_size: 1,
            threads,
            ..options()?
        };
        let mut outcome = run_with(&scenario, &csv, options)?;
        if let Some(emails) = outcome.get_mut("emails").and_then(Value::as_array_mut) {
            for email in emails.iter_mut() {
                *email = email.get("to").cloned().unwrap_or(Value::Null);
            }
        }
        if let Some(undo) = outcome.as_object_mut() {
            undo.remove("undo");
        }
        Ok(outcome)
    };
    let (one, two) = (with_threads(1)?, with_threads(2)?);
    match one == two {
        true => Ok(()),
        false => Err(format!("one thread:\n{one:#}\ntwo threads:\n{two:#}")),
    }
}

/// Every scenario's folder (one holding a `scenario.json`), sorted.
fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("tests/scenarios exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("scenario.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_scenario() {
    let dirs = scenario_dirs();
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

#[test]
fn every_scenario_the_same_with_results_assembled_on_a_thread() {
    let dirs = scenario_dirs();
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            let name = dir.file_name().unwrap_or_default().to_string_lossy();
            same_on_two_threads(dir)
                .err()
                .map(|why| format!("{name}: {why}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenario(s) differ:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
