//! Undo through the host protocol (what every binding's host objects go through), and undo
//! of results read back from storage: the refusals happen when the undo is planned, before
//! any write; a forged row cannot reach another user.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::host::{HostObject, HostStore, Naming};
use lms_bulk_upload::{
    parse, plan, plan_undo, Action, ExecuteOptions, HashParams, HostError, MemoryStore,
    ParseOptions, RecordingMailer, Results, Settings, Status, UndoOptions,
};
use serde_json::{json, Value};

/// A host store object with scripted replies: `find_users` answers `users`, `delete_user`
/// answers `delete_reply`; every call is recorded.
struct Scripted {
    users: Value,
    methods: Vec<&'static str>,
    delete_reply: Value,
    calls: Vec<String>,
}

impl Scripted {
    fn new(users: Value, extra: &[&'static str]) -> Scripted {
        let mut methods = HostStore::<Scripted>::REQUIRED.to_vec();
        methods.extend(extra);
        Scripted {
            users,
            methods,
            delete_reply: json!(true),
            calls: Vec::new(),
        }
    }
    fn writes(&self) -> Vec<&String> {
        self.calls
            .iter()
            .filter(|c| !c.starts_with("find"))
            .collect()
    }
}

impl HostObject for Scripted {
    /// Answers to snake_case and camelCase names alike.
    fn has_method(&mut self, method: &str) -> bool {
        self.methods
            .contains(&Naming::Camel.snake_name(method).as_str())
    }
    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        self.calls.push(format!("{method} {}", Value::Array(args)));
        Ok(match Naming::Camel.snake_name(method).as_str() {
            "find_users" => self.users.clone(),
            "find_groups" | "find_content" => json!([]),
            "delete_user" => self.delete_reply.clone(),
            _ => Value::Null,
        })
    }
}

fn fast() -> ExecuteOptions<'static> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        ..ExecuteOptions::default()
    }
}

/// Results of an upload that created ana@x.com (id u1) and enrolled her in course c1.
fn created_and_enrolled() -> Results {
    let csv = b"firstname,lastname,email\nAna,Lee,ana@x.com\n";
    let upload = parse(csv, &ParseOptions::default()).unwrap();
    let mut store = MemoryStore::from_state(
        &serde_json::from_value(json!({"content": [{"kind": "course", "id": "c1"}]})).unwrap(),
    );
    let settings =
        Settings::from_value(json!({"enrolments": [{"kind": "course", "id": "c1"}]})).unwrap();
    plan(&upload, &settings, &mut store)
        .unwrap()
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap()
}

fn ana_now() -> Value {
    json!([{"id": "u1", "email": "ana@x.com", "first_name": "Ana", "last_name": "Lee",
            "enrolments": [{"kind": "course", "id": "c1"}]}])
}

#[test]
fn a_host_without_an_inverse_write_is_refused_when_the_undo_is_planned() {
    let results = created_and_enrolled();
    let mut store =
        HostStore::new(Scripted::new(ana_now(), &["suspend_user"]), Naming::Snake).unwrap();
    let e = plan_undo(&results, &mut store, &UndoOptions::new()).unwrap_err();
    assert_eq!(e.code().as_str(), "undo_unsupported");
    assert_eq!(e.kind().as_str(), "store");
    assert!(e.message().contains("withdraw"), "{}", e.message());
    assert!(store.host().writes().is_empty(), "{:?}", store.host().calls);

    // Deleting needs delete_user too, and the suspension a kept user falls back to.
    let mut store = HostStore::new(Scripted::new(ana_now(), &["withdraw"]), Naming::Camel).unwrap();
    let e = plan_undo(
        &results,
        &mut store,
        &UndoOptions::new().delete_created_users(true),
    )
    .unwrap_err();
    assert_eq!(e.code().as_str(), "undo_unsupported");
    assert!(e.message().contains("delete_user"), "{}", e.message());
}

#[test]
fn the_host_gets_the_inverse_writes_and_a_wrong_delete_reply_fails_the_row() {
    let results = created_and_enrolled();
    let all = ["suspend_user", "delete_user", "withdraw"];
    let mut store = HostStore::new(Scripted::new(ana_now(), &all), Naming::Camel).unwrap();
    let undo = plan_undo(
        &results,
        &mut store,
        &UndoOptions::new().delete_created_users(true),
    )
    .unwrap();
    let done = undo
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    assert_eq!(done.rows[0].status, Status::Updated);
    let writes = store.host().writes();
    assert_eq!(
        writes,
        [
            r#"withdraw ["u1",{"id":"c1","kind":"course"}]"#,
            r#"deleteUser ["u1"]"#
        ]
    );

    let mut host = Scripted::new(ana_now(), &all);
    host.delete_reply = json!("yes");
    let mut store = HostStore::new(host, Naming::Snake).unwrap();
    let failed = undo
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    let error = failed.rows[0].error.as_ref().unwrap();
    assert_eq!(
        (failed.rows[0].status, error.code.as_str()),
        (Status::Failed, "invalid_host_reply")
    );
}

#[test]
fn a_forged_row_cannot_reach_another_user() {
    // The results say ana@x.com was created with id u1; the store says ana@x.com is u9 (an
    // edited results file, or an account replaced since): nothing is planned for her.
    let mut results = created_and_enrolled();
    results.rows[0].user_id = Some(lms_bulk_upload::UserId("u9".into()));
    let mut store = HostStore::new(
        Scripted::new(ana_now(), &["suspend_user", "withdraw"]),
        Naming::Snake,
    )
    .unwrap();
    let undo = plan_undo(&results, &mut store, &UndoOptions::new()).unwrap();
    let row = &undo.rows().to_vec()[0];
    assert_eq!(row.action, Action::Unchanged);
    assert!(row.operations.is_empty());
    assert_eq!(row.issues[0].code.as_str(), "undo_conflict");
}

#[test]
fn results_read_back_keep_what_undo_needs_and_an_undo_is_not_undone() {
    let results = created_and_enrolled();
    let back = Results::from_json(&results.to_json()).unwrap();
    assert_eq!(back, results);
    // Read back unsigned, they drive an undo only when the host vouches for their storage;
    // signed, they are verified.
    assert!(!back.provenance.is_verified());
    let key = lms_bulk_upload::PlanKey::from_bytes(&[3; 32]).unwrap();
    let back = Results::from_signed_json(&results.to_signed_json(&key), &key).unwrap();
    assert!(back.provenance.is_verified());
    let mut store = MemoryStore::from_state(
        &serde_json::from_value(json!({"content": [{"kind": "course", "id": "c1"}],
            "users": [{"id": "u1", "email": "ana@x.com", "first_name": "Ana", "last_name": "Lee",
                       "enrolments": [{"kind": "course", "id": "c1"}]}]}))
        .unwrap(),
    );
    let undo = plan_undo(&back, &mut store, &UndoOptions::new()).unwrap();
    assert_eq!(undo.undo_of(), Some(results.fingerprint.as_str()));
    // The undo plan survives JSON like any plan.
    let undo = lms_bulk_upload::Plan::from_json(&undo.to_json()).unwrap();
    let undone = undo
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    assert_eq!(
        undone.undo_of.as_deref(),
        Some(results.fingerprint.as_str())
    );
    let e = plan_undo(&undone, &mut store, &UndoOptions::new()).unwrap_err();
    assert_eq!(e.code().as_str(), "undo_of_undo");
    let bad = UndoOptions::new().uploader_email("not an email");
    let e = plan_undo(&results, &mut store, &bad).unwrap_err();
    assert_eq!(e.code().as_str(), "invalid_setting");
}
