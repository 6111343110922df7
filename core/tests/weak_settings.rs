//! Settings that cannot be weak (issue 10, case 4 and the argon2 part of case 5):
//! generated passwords of at least 12 characters, checked by the settings, by a plan read
//! back from JSON and by execution; argon2id never below OWASP's minimum unless through
//! the switch named `insecure_for_tests`.

#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, ErrorKind, ExecuteOptions, HashParams, IssueCode, MemoryStore, PasswordPolicy,
    Plan, RecordingMailer, Settings, SettingsBuilder,
};

const FILE: &[u8] = b"firstname,lastname,emailaddress\nBo,Chan,bo@x.com\n";

fn policy(generated_length: usize) -> PasswordPolicy {
    PasswordPolicy {
        generated_length,
        ..PasswordPolicy::default()
    }
}

#[test]
fn settings_refuse_generated_passwords_shorter_than_12() {
    for length in [0, 4, 11] {
        let err = Settings::builder()
            .password_policy(policy(length))
            .build()
            .unwrap_err();
        assert_eq!(err.code(), IssueCode::WeakGeneratedPassword, "{length}");
        assert_eq!(err.kind(), ErrorKind::Settings);
        // The same through the JSON form the bindings use.
        let json = format!(r#"{{"password_policy": {{"generated_length": {length}}}}}"#);
        let err = SettingsBuilder::from_json(&json)
            .and_then(SettingsBuilder::build)
            .unwrap_err();
        assert_eq!(err.code(), IssueCode::WeakGeneratedPassword, "{length}");
    }
    // Whatever the password source: the plan carries the length either way.
    let err = Settings::builder()
        .generate_passwords(false)
        .default_password("Welcome-to-Intuto-2026")
        .password_policy(policy(4))
        .build()
        .unwrap_err();
    assert_eq!(err.code(), IssueCode::WeakGeneratedPassword);
    let err = Settings::builder()
        .password_policy(policy(100_000))
        .build()
        .unwrap_err();
    assert_eq!(err.code(), IssueCode::InvalidSetting, "a bound on work too");
    let ok = Settings::builder().password_policy(policy(12)).build();
    assert!(ok.is_ok());
}

#[test]
fn execution_refuses_a_plan_asking_for_short_passwords_before_writing() {
    let upload = parse(FILE, &Default::default()).unwrap();
    for length in [0, 4] {
        // Settings are plain data after building: someone lowers the length afterwards.
        let mut settings = Settings::builder().build().unwrap();
        settings.password_policy.generated_length = length;
        let mut store = MemoryStore::new();
        let planned = plan(&upload, &settings, &mut store).unwrap();
        let mut mailer = RecordingMailer::new();
        let options = ExecuteOptions {
            hash_params: HashParams::insecure_for_tests(64, 1, 1),
            ..Default::default()
        };
        let err = planned
            .execute(&mut store, &mut mailer, options)
            .unwrap_err();
        assert_eq!(err.code(), IssueCode::WeakGeneratedPassword, "{length}");
        assert_eq!(err.kind(), ErrorKind::Plan);
        assert!(store.users().is_empty(), "nothing was written");
        assert!(mailer.messages.is_empty(), "nothing was sent");
        assert!(!store.calls.contains_key("create_user"));

        // Its JSON form is refused on reading.
        let err = Plan::from_json(&planned.to_json()).unwrap_err();
        assert_eq!(err.code(), IssueCode::InvalidPlan);
        assert!(err.message().contains("weak_generated_password"), "{err}");
    }
}

#[test]
fn weak_hash_params_are_refused_unless_marked_insecure_for_tests() {
    for (m, t, p) in [(64, 1, 1), (19_456, 1, 1), (8_192, 2, 1), (19_456, 2, 0)] {
        let err = HashParams::new(m, t, p).unwrap_err();
        assert_eq!(err.code(), IssueCode::WeakHashParams, "m={m} t={t} p={p}");
        let json = format!(r#"{{"memory_kib":{m},"iterations":{t},"parallelism":{p}}}"#);
        let err = HashParams::from_value(serde_json::from_str(&json).unwrap()).unwrap_err();
        assert_eq!(err.code(), IssueCode::WeakHashParams);
        assert!(serde_json::from_str::<HashParams>(&json).is_err());
    }
    let owasp = HashParams::new(19_456, 2, 1).unwrap();
    assert_eq!(owasp, HashParams::default());
    assert!(!owasp.is_insecure_for_tests());

    // The escape hatch says what it is, in code and in data.
    let fast = HashParams::insecure_for_tests(64, 1, 1);
    let json = serde_json::to_string(&fast).unwrap();
    assert_eq!(
        json,
        r#"{"memory_kib":64,"iterations":1,"parallelism":1,"insecure_for_tests":true}"#
    );
    assert_eq!(
        HashParams::from_value(serde_json::from_str(&json).unwrap()).unwrap(),
        fast
    );

    // And it does hash (the stored PHC string shows the weak cost).
    let upload = parse(FILE, &Default::default()).unwrap();
    let settings = Settings::builder().build().unwrap();
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    let options = ExecuteOptions {
        hash_params: fast,
        ..Default::default()
    };
    planned
        .execute(&mut store, &mut RecordingMailer::new(), options)
        .unwrap();
    let hash = store
        .user("bo@x.com")
        .unwrap()
        .password_hash
        .clone()
        .unwrap();
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
}
