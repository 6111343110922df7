//! The host-protocol judge: vector shapes, errors and stages, results byte for byte, calls.

use lms_bulk_upload_vectors::{judge_protocol, judge_protocol_folder, judge_protocol_folder_json};
use serde_json::{json, Value};

const RESULTS: &str = r#"{"fingerprint":"sha256:0","rows":[{"line":2,"user_id":"7"}]}"#;

fn vector(expect: Value) -> Value {
    json!({
        "description": "d",
        "upload": "First Name,Last Name,Email\nA,B,a@x.com\n",
        "settings": {},
        "execute": {"retry_delay_ms": 0},
        "host": {
            "store": {"missing": ["checkpoint"], "replies": {"find_users": [{"return": []}],
                      "create_user": [{"raise": "locked", "transient": true}, {"return": 7}]}},
            "mailer": {"missing": [], "replies": {}},
            "journal": null
        },
        "expect": expect,
    })
}

/// A camelCase (JavaScript) outcome of the vector above.
fn outcome() -> Value {
    json!({
        "error": null,
        "stage": null,
        "results_json": RESULTS,
        "calls": [
            ["store", "findUsers", [["a@x.com"]]],
            ["store", "createUser", [{"email": "a@x.com", "passwordHash": "$argon2id$v=19$...", "forcePasswordReset": false}]],
            ["mailer", "send", [{"kind": "welcome", "to": "a@x.com", "fields": {"password": "Sekr3t-generated"}}]]
        ]
    })
}

#[test]
fn a_matching_outcome_passes_with_names_and_keys_in_snake_case() {
    let calls = json!([
        ["store", "find_users", [["a@x.com"]]],
        ["store", "create_user", [{"email": "a@x.com", "password_hash": {"$any": true}, "force_password_reset": false}]],
        ["mailer", "send", [{"to": "a@x.com"}]]
    ]);
    judge_protocol(
        &vector(json!({"results": RESULTS, "calls": calls})),
        &outcome(),
    )
    .unwrap();
}

#[test]
fn calls_are_compared_in_order_with_paths() {
    let calls = json!([
        ["store", "find_users", [["a@x.com"]]],
        ["store", "create_user", [{"email": "b@x.com"}]],
        ["mailer", "send", [{}]]
    ]);
    let why = judge_protocol(
        &vector(json!({"results": RESULTS, "calls": calls})),
        &outcome(),
    )
    .unwrap_err();
    assert_eq!(
        why,
        "expect.calls[1].args[0].email: expected \"b@x.com\", got \"a@x.com\""
    );
    let calls = json!([
        ["store", "find_users", [["a@x.com"]]],
        ["mailer", "send", [{}]],
        ["mailer", "send", [{}]]
    ]);
    let why = judge_protocol(
        &vector(json!({"results": RESULTS, "calls": calls})),
        &outcome(),
    )
    .unwrap_err();
    assert!(
        why.starts_with("expect.calls[1]: expected mailer.send, got store.create_user"),
        "{why}"
    );
    let calls = json!([["store", "find_users", [["a@x.com"]]]]);
    let why = judge_protocol(
        &vector(json!({"results": RESULTS, "calls": calls})),
        &outcome(),
    )
    .unwrap_err();
    assert!(
        why.contains("store.find_users, store.create_user, mailer.send"),
        "{why}"
    );
}

#[test]
fn results_are_compared_byte_for_byte() {
    let mut other = outcome();
    other["results_json"] = json!(RESULTS.replace("\"7\"", "7"));
    let why = judge_protocol(&vector(json!({"results": RESULTS})), &other).unwrap_err();
    assert!(why.contains("differ at byte 54"), "{why}");
    let mut none = outcome();
    none["results_json"] = Value::Null;
    let why = judge_protocol(&vector(json!({"results": RESULTS})), &none).unwrap_err();
    assert_eq!(why, "the outcome has no results_json");
    let why = judge_protocol(&vector(json!({"results": true})), &outcome()).unwrap_err();
    assert!(why.contains("judge_protocol_folder"), "{why}");
}

#[test]
fn a_folder_is_judged_with_its_results_json() {
    let dir = std::env::temp_dir().join(format!("lms-vectors-judge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("vector.json"),
        vector(json!({"results": true})).to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("results.json"), RESULTS).unwrap();
    judge_protocol_folder(&dir, &outcome()).unwrap();
    std::fs::write(dir.join("results.json"), format!("{RESULTS}\n")).unwrap();
    let why =
        judge_protocol_folder_json(dir.to_str().unwrap(), &outcome().to_string()).unwrap_err();
    assert!(why.contains("not byte for byte"), "{why}");
    std::fs::remove_dir_all(&dir).unwrap();
    let why = judge_protocol_folder(&dir, &outcome()).unwrap_err();
    assert!(why.contains("vector.json"), "{why}");
}

#[test]
fn errors_and_their_stage() {
    let failed = json!({
        "error": {"code": "invalid_host_reply", "kind": "store", "message": "store.find_users returned nothing"},
        "stage": "plan", "results_json": null, "calls": [["store", "find_users", [["a@x.com"]]]]
    });
    let expect = |stage: &str| json!({"error": {"code": "invalid_host_reply", "kind": "store"}, "stage": stage});
    judge_protocol(&vector(expect("plan")), &failed).unwrap();
    let why = judge_protocol(&vector(expect("execute")), &failed).unwrap_err();
    assert!(
        why.starts_with("expect.stage: expected \"execute\", got \"plan\""),
        "{why}"
    );
    let why = judge_protocol(&vector(json!({"results": RESULTS})), &failed).unwrap_err();
    assert_eq!(
        why,
        "the plan failed: invalid_host_reply (store): store.find_users returned nothing"
    );
    let why = judge_protocol(&vector(expect("plan")), &outcome()).unwrap_err();
    assert!(why.contains("but nothing failed"), "{why}");
    let wrong = json!({"error": {"code": "store_failed"}, "stage": "plan"});
    let why = judge_protocol(&vector(wrong), &failed).unwrap_err();
    assert!(why.starts_with("expect.error.code"), "{why}");
}

#[test]
fn a_vector_of_the_wrong_shape_is_refused() {
    let cases = [
        (
            json!({"results": true, "call": []}),
            "expect: unknown key \"call\"",
        ),
        (json!({}), "expect.results is true"),
        (
            json!({"results": true, "stage": "plan"}),
            "expect.stage is only given with expect.error",
        ),
        (
            json!({"error": {"code": "x"}}),
            "expect.stage is \"plan\" or \"execute\"",
        ),
        (
            json!({"error": {"code": "x"}, "stage": "plan", "results": true}),
            "cannot be given with an error",
        ),
        (
            json!({"results": true, "calls": [["db", "x", []]]}),
            "expect.calls[0]: a call is",
        ),
    ];
    for (expect, needle) in cases {
        let why = judge_protocol(&vector(expect.clone()), &outcome()).unwrap_err();
        assert!(why.contains(needle), "{expect}: {why}");
    }
    let mut v = vector(json!({"results": RESULTS}));
    v["host"]["store"]["replies"]["find_user"] = json!([]);
    let why = judge_protocol(&v, &outcome()).unwrap_err();
    assert!(why.contains("\"find_user\" is not a store method"), "{why}");
    let mut v = vector(json!({"results": RESULTS}));
    v["host"]["mailer"]["replies"]["send"] = json!([{"returns": null}]);
    let why = judge_protocol(&v, &outcome()).unwrap_err();
    assert!(
        why.starts_with("host.mailer.replies.send[0]: a reply is"),
        "{why}"
    );
    let mut v = vector(json!({"results": RESULTS}));
    v["host"]["mailer"]["missing"] = json!(["flsh"]);
    assert!(judge_protocol(&v, &outcome())
        .unwrap_err()
        .contains("not a mailer method"));
    let mut v = vector(json!({"results": RESULTS}));
    v["host"].as_object_mut().unwrap().remove("mailer");
    assert!(judge_protocol(&v, &outcome())
        .unwrap_err()
        .contains("host.mailer is missing"));
    let mut o = outcome();
    o["resultsJsn"] = json!(null);
    assert!(judge_protocol(&vector(json!({"results": RESULTS})), &o)
        .unwrap_err()
        .contains("unknown key"));
}

#[test]
fn no_plaintext_password_reaches_the_store_or_the_results() {
    let mut leaked = outcome();
    leaked["calls"][1][2][0]["note"] = json!("Sekr3t-generated");
    let why = judge_protocol(&vector(json!({"results": RESULTS})), &leaked).unwrap_err();
    assert_eq!(
        why,
        "calls[1] (store.create_user) carries a plaintext password"
    );

    let mut v = vector(json!({"results": RESULTS}));
    v["settings"] =
        json!({"generate_passwords": false, "default_password": "Corr3ct-Horse-Battery"});
    let mut leaked = outcome();
    leaked["calls"][2][2][0]["text"] = json!("Your password: Corr3ct-Horse-Battery");
    let why = judge_protocol(&v, &leaked).unwrap_err();
    assert_eq!(why, "calls[2] (mailer.send) carries a plaintext password");
}
