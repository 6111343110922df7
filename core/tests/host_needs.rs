//! What real hosts need, through the host protocol every binding uses: the scope of
//! `suspend_missing_users` read page by page (and a cursor that never ends refused), SSO
//! users created without a password hash, the host's own fields in the profile.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::host::{HostObject, HostStore, Naming};
use lms_bulk_upload::{
    parse, plan, ExecuteOptions, HashParams, HostError, ParseOptions, RecordingMailer, Settings,
};
use serde_json::{json, Value};

/// A host store that keeps its users as JSON records and answers `scope_users` two at a
/// time (or always with the same cursor, when `stuck`). Every call is recorded.
struct Host {
    users: Vec<Value>,
    stuck: bool,
    scope: bool,
    calls: Vec<(String, Vec<Value>)>,
}

impl Host {
    fn new(users: Vec<Value>) -> Host {
        Host {
            users,
            stuck: false,
            scope: true,
            calls: Vec::new(),
        }
    }
    fn called(&self, method: &str) -> Vec<&Vec<Value>> {
        self.calls
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, a)| a)
            .collect()
    }
}

impl HostObject for Host {
    /// Answers to snake_case and camelCase names alike.
    fn has_method(&mut self, method: &str) -> bool {
        Naming::Camel.snake_name(method) != "scope_users" || self.scope
    }
    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        self.calls.push((method.to_owned(), args.clone()));
        Ok(match Naming::Camel.snake_name(method).as_str() {
            "find_users" => {
                let wanted: Vec<String> = args[0]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap().to_lowercase())
                    .collect();
                let found = self
                    .users
                    .iter()
                    .filter(|u| wanted.contains(&u["email"].as_str().unwrap().to_lowercase()))
                    .cloned()
                    .collect();
                Value::Array(found)
            }
            "find_groups" | "find_content" => json!([]),
            "scope_users" => {
                let start: usize = args[0].as_str().map_or(0, |c| c.parse().unwrap());
                let end = (start + 2).min(self.users.len());
                let next = if self.stuck {
                    json!("0")
                } else if end < self.users.len() {
                    json!(end.to_string())
                } else {
                    Value::Null
                };
                json!({"users": self.users[start..end], "next": next})
            }
            "create_user" => json!(format!("n{}", self.calls.len())),
            _ => Value::Null,
        })
    }
}

fn person(id: u32, email: &str, protected: bool) -> Value {
    json!({"id": id, "email": email, "first_name": "P", "last_name": "Q", "protected": protected})
}

fn fast() -> ExecuteOptions<'static> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        ..ExecuteOptions::default()
    }
}

#[test]
fn missing_users_are_read_page_by_page_and_suspended_through_the_host() {
    let users = vec![
        person(1, "ana@x.com", false),
        person(2, "bo@x.com", false),
        person(3, "admin@x.com", true),
        person(4, "cy@x.com", false),
        person(5, "di@x.com", false),
    ];
    let upload = parse(
        b"firstname,lastname,email\nAna,Q,ana@x.com\nCy,Q,cy@x.com\nDi,Q,di@x.com\n",
        &ParseOptions::default(),
    )
    .unwrap();
    let settings =
        Settings::from_value(json!({"suspend_missing_users": true, "missing_users_threshold": 25}))
            .unwrap();
    let mut store = HostStore::new(Host::new(users.clone()), Naming::Snake).unwrap();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    // Three pages of two: cursors null, "2", "4".
    let pages: Vec<Value> = store
        .host()
        .called("scope_users")
        .iter()
        .map(|a| a[0].clone())
        .collect();
    assert_eq!(pages, [Value::Null, json!("2"), json!("4")]);
    let rows = planned.rows().to_vec();
    let suspended: Vec<&str> = rows[3..].iter().map(|r| r.email.as_str()).collect();
    assert_eq!(
        suspended,
        ["bo@x.com"],
        "the admin is protected, the others are in the file"
    );
    planned
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    assert_eq!(store.host().called("suspend_user"), [&vec![json!("2")]]);

    // A host that answers the same cursor for ever is stopped, and one without scope_users
    // is refused before anything is read or written.
    let mut host = Host::new(users.clone());
    host.stuck = true;
    let mut store = HostStore::new(host, Naming::Snake).unwrap();
    let e = plan(&upload, &settings, &mut store).unwrap_err();
    assert_eq!(e.code().as_str(), "invalid_host_reply", "{e}");
    let mut host = Host::new(users);
    host.scope = false;
    let mut store = HostStore::new(host, Naming::Snake).unwrap();
    let e = plan(&upload, &settings, &mut store).unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.kind().as_str()),
        ("host_method_missing", "store")
    );
}

#[test]
fn sso_users_reach_the_host_without_a_hash_and_host_fields_in_the_profile() {
    let options = ParseOptions::from_value(json!({
        "login_methods": ["saml"],
        "fields": [{"name": "start_date", "aliases": ["start"], "kind": "date"}, {"name": "level_2"}],
    }))
    .unwrap();
    let upload = parse(
        b"firstname,lastname,email,auth,Start,level_2\nAna,Q,ana@x.com,saml,2026-01-05,x\nBo,Q,bo@x.com,,,\n",
        &options,
    )
    .unwrap();
    let settings = Settings::builder().build().unwrap();
    for naming in [Naming::Snake, Naming::Camel] {
        let mut store = HostStore::new(Host::new(Vec::new()), naming).unwrap();
        let mut mailer = RecordingMailer::new();
        plan(&upload, &settings, &mut store)
            .unwrap()
            .execute(&mut store, &mut mailer, fast())
            .unwrap();
        let creates = store.host().called(&naming.name("create_user"));
        let (ana, bo) = (&creates[0][0], &creates[1][0]);
        let hash = naming.name("password_hash");
        let method = naming.name("login_method");
        assert_eq!((&ana[&hash], &ana[&method]), (&Value::Null, &json!("saml")));
        // Host field names reach the host as it declared them, in either naming.
        assert_eq!(ana["profile"]["custom"]["start_date"], json!("2026-01-05"));
        assert!(bo[&hash].as_str().unwrap().starts_with("$argon2id$"));
        assert_eq!(bo[&method], json!("password"));
        assert_eq!(ana["profile"]["custom"]["level_2"], json!("x"));
        let welcome = &mailer.messages[0];
        assert!(
            welcome.fields.password.is_none(),
            "no password for an SSO user"
        );
        assert!(mailer.messages[1].fields.password.is_some());
    }
}

#[test]
fn host_field_names_round_trip_in_camel_case_naming() {
    // `level_2` in camelCase would be `level2`, which snake_case turns into `level2`: the
    // names inside `custom` are never renamed, so a stored value is seen again.
    let options = ParseOptions::from_value(json!({"fields": [{"name": "level_2"}]})).unwrap();
    let upload = parse(
        b"firstname,lastname,email,level_2\nAna,Q,ana@x.com,x\n",
        &options,
    )
    .unwrap();
    let stored = json!({"id": 1, "email": "ana@x.com", "first_name": "Ana", "last_name": "Q",
                        "custom": {"level_2": "x"}});
    let settings = Settings::from_value(json!({"updateExistingProfiles": true})).unwrap();
    let mut store = HostStore::new(Host::new(vec![stored]), Naming::Camel).unwrap();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    assert_eq!(
        planned.rows().to_vec()[0].action.as_str(),
        "unchanged",
        "{:?}",
        planned.rows().to_vec()[0]
    );
}
