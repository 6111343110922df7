//! Replays the committed corpus of the `whole_path` and `plan_json` fuzz targets (and any
//! crash artifacts) through exactly the code the targets run, so CI needs no nightly.

#![allow(clippy::unwrap_used)]

include!("harness/whole_path.rs");

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for dir in [
        root.join("corpus").join(target),
        root.join("artifacts").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            // A running fuzzer may replace files of its corpus while this test reads it.
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            run(&bytes);
            count += 1;
        }
    }
    count
}

#[test]
fn whole_path_corpus_replays() {
    let n = replay("whole_path", whole_path);
    assert!(n >= 10, "the whole_path corpus is committed ({n} inputs)");
}

#[test]
fn plan_json_corpus_replays() {
    let n = replay("plan_json", plan_json);
    assert!(n >= 5, "the plan_json corpus is committed ({n} inputs)");
}

#[test]
fn a_real_plan_survives_the_plan_json_target_and_tampering_is_refused() {
    let upload = parse(
        b"firstname,lastname,email\nAna,Lopez,ana@example.com\n",
        &ParseOptions::default(),
    )
    .unwrap();
    let settings = Settings::builder().build().unwrap();
    let plan = lms_bulk_upload::plan(&upload, &settings, &mut MemoryStore::new()).unwrap();
    let json = plan.to_json();
    plan_json(json.as_bytes());
    let tampered = json.replace("ana@example.com", "eve@example.com");
    assert_eq!(
        Plan::from_json(&tampered).unwrap_err().code().as_str(),
        "fingerprint_mismatch"
    );
    plan_json(tampered.as_bytes());
}
