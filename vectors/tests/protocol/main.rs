//! Runs every host-protocol vector of `tests/host-protocol/` through core's host protocol
//! (`HostStore`, `HostMailer`, `HostJournal` over a scripted `HostObject`), once with
//! snake_case naming (Python, Ruby) and once with camelCase (JavaScript), and judges each
//! outcome. Format: `docs/host-protocol.md`.
//!
//! `VECTORS_BLESS=1 cargo test -p lms-bulk-upload-vectors --test protocol` (re)writes the
//! `results.json` of every vector that expects results, from the snake_case run; review
//! each one before committing it.

mod script;

use lms_bulk_upload::host::{ExecuteConfig, HostJournal, HostMailer, HostStore, Naming};
use lms_bulk_upload::{parse, plan, Error, Journal, ParseOptions, Settings};
use script::{Log, Scripted};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/host-protocol")
}

fn error_value(e: &Error) -> Value {
    json!({"code": e.code().as_str(), "kind": e.kind().as_str(), "message": e.message()})
}

/// Runs `vector` and returns the outcome: `{error, stage, results_json, calls}`.
fn run(vector: &Value, naming: Naming) -> Value {
    let log = Log::default();
    let outcome = |error: Option<(&str, Error)>, results: Option<String>| {
        let (error, stage) = match error {
            Some((stage, e)) => (error_value(&e), json!(stage)),
            None => (Value::Null, Value::Null),
        };
        json!({"error": error, "stage": stage, "results_json": results, "calls": Value::Array(log.borrow().clone())})
    };
    let host = &vector["host"];
    let object = |name| Scripted::from_vector(host, name, naming, &log);
    let planned = ParseOptions::from_value(vector["parse_options"].clone())
        .and_then(|options| parse(vector["upload"].as_str().unwrap_or("").as_bytes(), &options))
        .and_then(|upload| {
            let settings = Settings::from_value(vector["settings"].clone())?;
            let store_host = object("store").expect("the vector has a store");
            let mut store = HostStore::new(store_host, naming)?;
            Ok((plan(&upload, &settings, &mut store)?, store))
        });
    let (plan, mut store) = match planned {
        Ok(planned) => planned,
        Err(e) => return outcome(Some(("plan", e)), None),
    };
    let executed = ExecuteConfig::from_value(vector["execute"].clone()).and_then(|config| {
        let mut mailer =
            HostMailer::new(object("mailer").expect("the vector has a mailer"), naming)?;
        let mut journal = object("journal")
            .map(|j| HostJournal::new(j, naming))
            .transpose()?;
        let mut options = config.into_options();
        options.journal = journal.as_mut().map(|j| j as &mut dyn Journal);
        plan.execute(&mut store, &mut mailer, options)
    });
    match executed {
        Ok(results) => outcome(None, Some(results.to_json())),
        Err(e) => outcome(Some(("execute", e)), None),
    }
}

fn wants_results(vector: &Value) -> bool {
    vector["expect"]["results"] == json!(true)
}

fn judge(dir: &Path, bless: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("vector.json")).map_err(|e| e.to_string())?;
    let vector: Value = serde_json::from_str(&text).map_err(|e| format!("vector.json: {e}"))?;
    let snake = run(&vector, Naming::Snake);
    if bless && wants_results(&vector) {
        if let Some(results) = snake["results_json"].as_str() {
            std::fs::write(dir.join("results.json"), results).map_err(|e| e.to_string())?;
        }
    }
    lms_bulk_upload_vectors::judge_protocol_folder(dir, &snake)
        .map_err(|e| format!("(snake_case) {e}"))?;
    let camel = run(&vector, Naming::Camel);
    lms_bulk_upload_vectors::judge_protocol_folder(dir, &camel)
        .map_err(|e| format!("(camelCase) {e}"))
}

#[test]
fn every_host_protocol_vector() {
    let bless = std::env::var_os("VECTORS_BLESS").is_some_and(|v| v == "1");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("tests/host-protocol exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("vector.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 15, "the vectors of {:?}", vectors_dir());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            let name = dir.file_name().unwrap_or_default().to_string_lossy();
            judge(dir, bless).err().map(|why| format!("{name}: {why}"))
        })
        .collect();
    eprintln!(
        "{} host-protocol vectors judged, {} failed",
        dirs.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} vector(s) failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
