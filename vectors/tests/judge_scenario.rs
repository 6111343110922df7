//! The scenario judge: what it accepts, what it refuses, and how it says where.

use lms_bulk_upload_vectors::{judge_scenario, judge_scenario_json};
use serde_json::{json, Value};

fn flow(expect: Value) -> Value {
    json!({
        "description": "a flow scenario",
        "settings": {"default_password": "Corr3ct-Horse-Battery"},
        "expect": expect,
    })
}

/// An outcome of one created user, as a runner collects it.
fn outcome() -> Value {
    json!({
        "parse_error": null,
        "upload": {"rows": 1, "valid_rows": 1, "issues": [], "delimiter": ","},
        "settings_error": null,
        "plan": {
            "summary": {"rows": 1, "create": 1},
            "file_issues": [],
            "rows": [{"line": 2, "email": "a@x.com", "first_name": "A", "last_name": "B",
                      "action": "create",
                      "operations": [{"op": "create_user", "profile": {}},
                                     {"op": "add_to_group", "group": {"id": "g1", "name": "Sales"}}]}]
        },
        "results": {"fingerprint": "sha256:0", "summary": {"rows": 1, "created": 1},
                    "rows": [{"line": 2, "email": "a@x.com", "status": "created", "user_id": "u1",
                              "done": [], "error": null}],
                    "cancelled": false, "confirmation_error": null},
        "store": {
            "groups": [{"id": "g2", "name": "Support"}, {"id": "g1", "name": "Sales"}],
            "content": [{"kind": "campaign", "id": "k"}, {"kind": "course", "id": "c"}],
            "users": [
                {"id": "u2", "email": "b@x.com", "first_name": "Bo", "groups": [], "enrolments": []},
                {"id": "u1", "email": "A@x.com", "first_name": "A",
                 "groups": ["Support", "Sales"],
                 "enrolments": [{"kind": "campaign", "id": "k"}, {"kind": "course", "id": "c"}]}
            ]
        },
        "emails": [{"kind": "welcome", "to": "a@x.com", "subject": "Welcome",
                    "text": "Hello A", "html": "<p>Hello A</p>",
                    "fields": {"first_name": "A", "counts": {}}}]
    })
}

#[test]
fn a_matching_outcome_passes() {
    let expect = json!({
        "valid_rows": 1,
        "plan": {"summary": {"create": 1}, "rows": [{"action": "create", "user_id": null,
                 "operations": ["create_user", "add_to_group"],
                 "operation_details": [{"op": "create_user"}, {"group": {"name": "Sales"}}]}]},
        "results": {"summary": {"created": 1}, "rows": [{"status": "created"}]},
        "emails": [{"kind": "welcome", "has_password": false, "text_contains": ["Hello"]}],
    });
    judge_scenario(&flow(expect), &outcome()).unwrap();
}

#[test]
fn a_mismatch_is_reported_with_its_path() {
    let expect = json!({"plan": {"rows": [{"operations": ["create_user", "enrol"]}]}});
    let why = judge_scenario(&flow(expect), &outcome()).unwrap_err();
    assert!(
        why.starts_with(
            "expect.plan.rows[0].operations[1]: expected \"enrol\", got \"add_to_group\""
        ),
        "{why}"
    );
    let expect = json!({"results": {"rows": [{"status": "failed"}]}});
    let why = judge_scenario(&flow(expect), &outcome()).unwrap_err();
    assert!(why.starts_with("expect.results.rows[0].status"), "{why}");
}

#[test]
fn unknown_keys_under_expect_fail_loudly() {
    for (expect, needle) in [
        (
            json!({"plan": {"sumary": {}}}),
            "expect.plan: unknown key \"sumary\"",
        ),
        (
            json!({"plan": {"summary": {"created": 1}}}),
            "expect.plan.summary: unknown key \"created\"",
        ),
        (json!({"result": {}}), "expect: unknown key \"result\""),
        (
            json!({"emails": [{"kind": "welcome", "password": true}]}),
            "expect.emails[0]: unknown key \"password\"",
        ),
        (
            json!({"store": {"users": [{"email": "a@x.com", "name": "A"}]}}),
            "expect.store.users[0]: unknown key \"name\"",
        ),
        (
            json!({"results": {"summary": {"create": 1}}}),
            "expect.results.summary: unknown key \"create\"",
        ),
        (
            json!({"plan": {"rows": [{"issues": [{"code": "x", "msg": ""}]}]}}),
            "unknown key \"msg\"",
        ),
    ] {
        let why = judge_scenario(&flow(expect.clone()), &outcome()).unwrap_err();
        assert!(why.contains(needle), "{expect}: {why}");
    }
    let why = judge_scenario(
        &json!({"description": "d", "expect": {"issues": []}, "extra": 1}),
        &outcome(),
    )
    .unwrap_err();
    assert!(why.contains("scenario: unknown key \"extra\""), "{why}");
}

#[test]
fn a_parse_only_scenario_has_parse_keys_only() {
    let scenario = json!({"description": "d", "expect": {"issues": [], "plan": {}}});
    let why = judge_scenario(&scenario, &outcome()).unwrap_err();
    assert!(why.contains("parse-only"), "{why}");
    let scenario = json!({"description": "d", "expect": {"rows": 1}});
    let why = judge_scenario(&scenario, &outcome()).unwrap_err();
    assert!(
        why.contains("gives expect.parse_error or expect.issues"),
        "{why}"
    );
    let scenario = json!({"description": "d", "expect": {"issues": [], "rows": 1}});
    judge_scenario(&scenario, &outcome()).unwrap();
}

#[test]
fn errors_are_expected_or_reported() {
    let failed = json!({"parse_error": {"code": "empty_file", "kind": "file", "message": "the file is empty",
                                        "line": null, "column": null}});
    let scenario = json!({"description": "d", "expect": {"parse_error": {"code": "empty_file", "line": null}}});
    judge_scenario(&scenario, &failed).unwrap();
    let scenario = json!({"description": "d", "expect": {"parse_error": {"code": "empty_file", "message_contains": "blank"}}});
    let why = judge_scenario(&scenario, &failed).unwrap_err();
    assert!(why.contains("does not contain \"blank\""), "{why}");
    let scenario = json!({"description": "d", "expect": {"issues": []}});
    let why = judge_scenario(&scenario, &failed).unwrap_err();
    assert_eq!(why, "parse failed: empty_file (file): the file is empty");

    let mut settings_failed = outcome();
    settings_failed["settings_error"] =
        json!({"code": "unknown_group", "kind": "settings", "message": "no group 'Sles'"});
    let expect = json!({"settings_error": {"code": "unknown_group", "kind": "settings"}});
    judge_scenario(&flow(expect), &settings_failed).unwrap();
    let expect = json!({"settings_error": {"code": "unknown_group"}, "plan": {}});
    let why = judge_scenario(&flow(expect), &settings_failed).unwrap_err();
    assert!(
        why.contains("cannot be checked with a settings_error"),
        "{why}"
    );
    let why = judge_scenario(&flow(json!({})), &settings_failed).unwrap_err();
    assert!(
        why.starts_with("settings or plan failed: unknown_group"),
        "{why}"
    );

    let mut execute_failed = outcome();
    execute_failed["results"] = Value::Null;
    execute_failed["execute_error"] =
        json!({"code": "store_failed", "kind": "store", "message": "down"});
    let why = judge_scenario(&flow(json!({})), &execute_failed).unwrap_err();
    assert_eq!(why, "execute failed: store_failed (store): down");
}

#[test]
fn a_runner_that_stops_early_fails() {
    let mut partial = outcome();
    partial.as_object_mut().unwrap().remove("results");
    let why = judge_scenario(&flow(json!({})), &partial).unwrap_err();
    assert!(
        why.starts_with("outcome.results must be an object"),
        "{why}"
    );
    let why = judge_scenario(
        &flow(json!({})),
        &json!({"parseError": null, "upload": null}),
    )
    .unwrap_err();
    assert!(why.starts_with("outcome.upload must be an object"), "{why}");
    let why = judge_scenario(&flow(json!({})), &json!({"uplod": {}})).unwrap_err();
    assert!(why.contains("outcome: unknown key \"uplod\""), "{why}");
}

#[test]
fn the_store_is_normalised_before_it_is_compared() {
    let expect = json!({"store": {
    "groups": [{"name": "Sales"}, {"name": "Support"}],
    "content": [{"kind": "course"}, {"kind": "campaign"}],
    "users": [
        {"email": "A@x.com", "groups": ["Sales", "Support"],
         "enrolments": [{"kind": "course", "id": "c"}, {"kind": "campaign", "id": "k"}],
         "country": null},
        {"email": "b@x.com", "first_name": "Bo"}
    ]}});
    judge_scenario(&flow(expect), &outcome()).unwrap();
    let expect = json!({"store": {"users": [{"email": "a@x.com"}]}});
    let why = judge_scenario(&flow(expect), &outcome()).unwrap_err();
    assert!(
        why.starts_with("expect.store.users: expected 1 elements, got 2"),
        "{why}"
    );
}

#[test]
fn has_password_means_a_password_field_that_the_text_contains() {
    let mut with = outcome();
    with["emails"][0]["fields"]["password"] = json!("Xk7-generated");
    with["emails"][0]["text"] = json!("Your password: Xk7-generated");
    let expect = |has: bool| flow(json!({"emails": [{"has_password": has}]}));
    judge_scenario(&expect(true), &with).unwrap();
    assert!(judge_scenario(&expect(false), &with).is_err());
    assert!(judge_scenario(&expect(true), &outcome()).is_err());
    with["emails"][0]["text"] = json!("Your password is in another email");
    let why = judge_scenario(&expect(true), &with).unwrap_err();
    assert!(why.contains("its text does not contain it"), "{why}");
}

#[test]
fn the_default_password_never_appears_whatever_expect_says() {
    let mut leaked = outcome();
    leaked["emails"][0]["html"] = json!("<p>Corr3ct-Horse-Battery</p>");
    let why = judge_scenario(&flow(json!({})), &leaked).unwrap_err();
    assert_eq!(why, "emails[0] carries the default password in its html");
    let mut leaked = outcome();
    leaked["results"]["rows"][0]["done"] = json!(["set Corr3ct-Horse-Battery"]);
    let why = judge_scenario(&flow(json!({})), &leaked).unwrap_err();
    assert_eq!(why, "the default password appears in the results");
}

#[test]
fn camel_case_outcomes_read_alike() {
    let camel = json!({"upload": {"rows": 1, "validRows": 1, "issues": []}});
    let scenario = json!({"description": "d", "expect": {"issues": [], "valid_rows": 1}});
    judge_scenario(&scenario, &camel).unwrap();
}

#[test]
fn the_json_form_reports_bad_json() {
    let why = judge_scenario_json("{", "{}").unwrap_err();
    assert!(why.starts_with("the scenario is not JSON"), "{why}");
    judge_scenario_json(
        r#"{"description": "d", "expect": {"issues": []}}"#,
        r#"{"upload": {"rows": 0, "valid_rows": 0, "issues": []}}"#,
    )
    .unwrap();
}

#[test]
fn store_changes_are_a_scenario_key_and_apply_as_data() {
    let mut scenario = flow(json!({}));
    scenario["store_changes"] = json!([{"remove_group": "Sales"}]);
    judge_scenario(&scenario, &outcome()).unwrap();
    let store = json!({"groups": [{"id": "g1", "name": "Sales"}]});
    let after = lms_bulk_upload_vectors::apply_store_changes(&store, &scenario["store_changes"]);
    assert_eq!(after.unwrap()["groups"], json!([]));
    let after =
        lms_bulk_upload_vectors::apply_store_changes_json("{}", r#"[{"remove_user": "a@x.com"}]"#);
    assert!(after.unwrap_err().contains("matches nothing"));
}
