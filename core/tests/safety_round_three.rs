//! Issue 19 ("Safety, round three"), items 4, 6, 10, 12 (the scope cap), 13, 14, 15, 16
//! and 17, through the public API: each test failed on the code before the fix.

#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    execute, parse, plan, ContentRef, ExecuteOptions, ExistingUser, Group, HashParams, HostError,
    IssueCode, Mailer, MemoryJournal, MemoryStore, Message, Operation, ParseOptions, Plan,
    RecordingMailer, ScopePage, Settings, SettingsBuilder, Status, StoreRead, StoreState,
};
use serde_json::json;
use std::time::Duration;

fn store(users: serde_json::Value) -> MemoryStore {
    let state: StoreState = serde_json::from_value(json!({ "users": users })).unwrap();
    MemoryStore::from_state(&state)
}

fn options<'a>() -> ExecuteOptions<'a> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        retries: 0,
        ..Default::default()
    }
}

fn ops(plan: &Plan, line: u32) -> Vec<Operation> {
    let row = plan.rows().iter().find(|r| r.line == line).unwrap();
    row.operations
}

fn codes(plan: &Plan, line: u32) -> Vec<IssueCode> {
    let row = plan.rows().iter().find(|r| r.line == line).unwrap();
    row.issues.iter().map(|i| i.code).collect()
}

fn user(email: &str) -> serde_json::Value {
    json!({"email": email, "first_name": "A", "last_name": "B"})
}

// ---- item 4 ---------------------------------------------------------------------------

/// An SSO user moved to password login by one cell gets a password they did not choose: a
/// password change, refused without update_existing_passwords (the method stays).
#[test]
fn auth_password_on_an_sso_user_needs_update_existing_passwords() {
    let file = b"firstname,lastname,email,auth\nAna,X,ana@x.com,password\n";
    let parse_options = ParseOptions {
        login_methods: vec!["saml".into()],
        ..Default::default()
    };
    let upload = parse(file, &parse_options).unwrap();
    let users = json!([{"email": "ana@x.com", "first_name": "Ana", "last_name": "X",
                        "login_method": "saml"}]);
    let base = || {
        Settings::builder()
            .update_existing_profiles(true)
            .generate_passwords(false)
            .send_notification_email(false)
            .default_password("Correct-Horse-Battery-Staple-9")
    };
    let mut s = store(users.clone());
    let refused = plan(&upload, &base().build().unwrap(), &mut s).unwrap();
    assert!(ops(&refused, 2).is_empty(), "{:?}", ops(&refused, 2));
    assert!(codes(&refused, 2).contains(&IssueCode::ChangesNeedUpdatePasswords));
    let mut mailer = RecordingMailer::new();
    execute(&refused, &mut s, &mut mailer, options()).unwrap();
    let ana = s.user("ana@x.com").unwrap();
    assert_eq!(ana.login_method.as_deref(), Some("saml"));
    assert!(ana.password_hash.is_none(), "no shared password set");

    let mut s = store(users);
    let settings = base().update_existing_passwords(true).build().unwrap();
    let allowed = plan(&upload, &settings, &mut s).unwrap();
    let names: Vec<String> = ops(&allowed, 2).iter().map(|o| format!("{o:?}")).collect();
    assert!(
        names.iter().any(|o| o.starts_with("SetLoginMethod")),
        "{names:?}"
    );
    assert!(names.iter().any(|o| o == "SetPassword"), "{names:?}");
}

// ---- item 6 ---------------------------------------------------------------------------

/// 90 of 100 accounts suspended, 10 active: a one-row file would suspend 9 of the 10
/// users who can be suspended, far above 10 %.
#[test]
fn the_threshold_counts_only_users_who_can_be_suspended() {
    let mut users = Vec::new();
    for i in 0..100 {
        let mut u = user(&format!("u{i:03}@x.com"));
        u["suspended"] = json!(i < 90);
        users.push(u);
    }
    users.push(
        json!({"email": "root@x.com", "first_name": "R", "last_name": "A",
                      "protected": true}),
    );
    let mut s = store(json!(users));
    let upload = parse(
        b"firstname,lastname,email\nA,B,u095@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .suspend_missing_users(true)
        .build()
        .unwrap();
    let err = plan(&upload, &settings, &mut s).unwrap_err();
    assert_eq!(err.code(), IssueCode::MissingUsersThreshold);
    assert!(err.message().contains("9 of the 10"), "{}", err.message());
}

// ---- item 10 --------------------------------------------------------------------------

fn suspended_store(by_upload: bool) -> MemoryStore {
    store(
        json!([{"email": "ed@x.com", "first_name": "Ed", "last_name": "X",
                  "suspended": true, "suspended_by_upload": by_upload}]),
    )
}

fn reactivates(settings: SettingsBuilder, by_upload: bool) -> bool {
    let upload = parse(
        b"firstname,lastname,email\nEd,Y,ed@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let mut s = suspended_store(by_upload);
    let plan = plan(&upload, &settings.build().unwrap(), &mut s).unwrap();
    execute(&plan, &mut s, &mut RecordingMailer::new(), options()).unwrap();
    let reactivated = !s.user("ed@x.com").unwrap().suspended;
    assert_eq!(
        reactivated,
        plan.rows().to_vec()[0]
            .operations
            .contains(&Operation::ReactivateUser)
    );
    if !reactivated {
        assert!(codes(&plan, 2).contains(&IssueCode::UserSuspended));
    }
    reactivated
}

/// update_existing_profiles alone never reactivates; reactivate_suspended_users does, but
/// only a user an upload suspended (the host's suspended_by_upload).
#[test]
fn reactivation_is_its_own_setting_and_only_for_users_an_upload_suspended() {
    let profiles = || Settings::builder().update_existing_profiles(true);
    assert!(!reactivates(profiles(), true));
    assert!(!reactivates(profiles(), false));
    assert!(!reactivates(
        profiles().reactivate_suspended_users(true),
        false
    ));
    assert!(reactivates(
        profiles().reactivate_suspended_users(true),
        true
    ));
    assert!(reactivates(
        Settings::builder().reactivate_suspended_users(true),
        true
    ));
    // Off by default, and named in the JSON form the bindings use.
    assert!(
        !Settings::builder()
            .build()
            .unwrap()
            .reactivate_suspended_users
    );
    let json = SettingsBuilder::from_json(r#"{"reactivateSuspendedUsers": true}"#).unwrap();
    assert!(json.build().unwrap().reactivate_suspended_users);
}

/// The memory store records who suspended: an upload's suspension can be reactivated by a
/// later upload, and reactivation clears the mark.
#[test]
fn a_user_suspended_as_missing_is_marked_as_suspended_by_an_upload() {
    let mut s = store(json!([user("ana@x.com"), user("bo@x.com")]));
    let upload = parse(
        b"firstname,lastname,email\nA,B,ana@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .suspend_missing_users(true)
        .missing_users_threshold(50)
        .build()
        .unwrap();
    let p = plan(&upload, &settings, &mut s).unwrap();
    execute(&p, &mut s, &mut RecordingMailer::new(), options()).unwrap();
    let bo = s.user("bo@x.com").unwrap();
    assert!(bo.suspended && bo.suspended_by_upload);
    let upload = parse(
        b"firstname,lastname,email\nA,B,bo@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .reactivate_suspended_users(true)
        .build()
        .unwrap();
    let p = plan(&upload, &settings, &mut s).unwrap();
    execute(&p, &mut s, &mut RecordingMailer::new(), options()).unwrap();
    let bo = s.user("bo@x.com").unwrap();
    assert!(!bo.suspended && !bo.suspended_by_upload);
}

// ---- item 12: the scope cap -----------------------------------------------------------

/// A host whose pages hold far more users than asked for, and whose cursor never ends.
struct OversizedPages {
    calls: usize,
}

impl StoreRead for OversizedPages {
    fn find_users(&mut self, _: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        Ok(Vec::new())
    }
    fn find_groups(&mut self, _: &[&str]) -> Result<Vec<Group>, HostError> {
        Ok(Vec::new())
    }
    fn find_content(&mut self, _: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        Ok(Vec::new())
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        Ok(Vec::new())
    }
    fn supports(&mut self, _: lms_bulk_upload::OptionalMethod) -> bool {
        true
    }
    fn scope_users(&mut self, _: Option<&str>, _: usize) -> Result<ScopePage, HostError> {
        self.calls += 1;
        let one: ExistingUser = serde_json::from_value(json!({
            "id": format!("p{}", self.calls), "email": format!("p{}@x.com", self.calls),
            "protected": true
        }))
        .unwrap();
        Ok(ScopePage {
            users: vec![one; 1_000_000],
            next: Some(format!("c{}", self.calls)),
        })
    }
}

/// The cap counts users listed, not pages: 10 million users is 10 pages of a million, not
/// the 10,001 pages a cap on pages of 1,000 allowed (337 s with oversized pages).
#[test]
fn the_scope_cap_counts_users_not_pages() {
    let upload = parse(
        b"firstname,lastname,email\nA,B,a@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .suspend_missing_users(true)
        .build()
        .unwrap();
    let mut host = OversizedPages { calls: 0 };
    let err = plan(&upload, &settings, &mut host).unwrap_err();
    assert_eq!(err.code(), IssueCode::InvalidHostReply);
    assert!(host.calls <= 11, "{} pages read", host.calls);
}

// ---- item 13 --------------------------------------------------------------------------

/// A default_password of the wrong type is refused without quoting its value.
#[test]
fn a_secret_setting_of_the_wrong_type_is_never_echoed() {
    for value in [
        "31415926535",
        "-27182818284",
        "true",
        "[\"Sekr3t-pass-9\"]",
        "{\"x\":\"Sekr3t-pass-9\"}",
        "3.14159265",
    ] {
        let json = format!(r#"{{"default_password": {value}}}"#);
        let err = SettingsBuilder::from_json(&json).unwrap_err();
        assert_eq!(err.code(), IssueCode::InvalidSetting);
        for secret in ["31415926535", "27182818284", "Sekr3t", "14159265"] {
            assert!(!err.message().contains(secret), "{}", err.message());
        }
        assert!(
            err.message().contains("default_password"),
            "{}",
            err.message()
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let err = Settings::from_value(value).unwrap_err();
        assert!(!err.message().contains("1415926"), "{}", err.message());
    }
}

// ---- item 14 --------------------------------------------------------------------------

/// `ana@bücher.de` and `ana@xn--bcher-kva.de` are one person: a duplicate in the file, the
/// same user in the store, and protected from suspension as missing. Addresses are kept as
/// written.
#[test]
fn idna_domains_are_one_identity() {
    let both = "firstname,lastname,email\nAna,X,ana@bücher.de\nAna,X,ana@XN--BCHER-KVA.de\n";
    let upload = parse(both.as_bytes(), &Default::default()).unwrap();
    let dup: Vec<_> = upload.issues().iter().map(|i| i.code).collect();
    assert_eq!(dup, [IssueCode::DuplicateEmail]);

    let one = "firstname,lastname,email\nAna,Y,ana@bücher.de\n";
    let upload = parse(one.as_bytes(), &Default::default()).unwrap();
    let mut s = store(json!([
        {"email": "ana@xn--bcher-kva.de", "first_name": "Ana", "last_name": "X"},
        user("bo@x.com"), user("cy@x.com")
    ]));
    let settings = Settings::builder()
        .update_existing_profiles(true)
        .suspend_missing_users(true)
        .missing_users_threshold(100)
        .build()
        .unwrap();
    let p = plan(&upload, &settings, &mut s).unwrap();
    assert_eq!(p.summary().create, 0, "matched, not created again");
    let suspended: Vec<String> = p
        .rows()
        .iter()
        .filter(|r| r.operations.contains(&Operation::SuspendUser))
        .map(|r| r.email)
        .collect();
    assert_eq!(suspended, ["bo@x.com", "cy@x.com"]);
    let mut mailer = RecordingMailer::new();
    execute(&p, &mut s, &mut mailer, options()).unwrap();
    assert!(mailer.messages.is_empty(), "nobody new is emailed");
    let ana = s.user("ana@bücher.de").unwrap();
    assert_eq!(ana.email, "ana@xn--bcher-kva.de", "stored as written");
    assert_eq!(ana.profile.last_name.as_deref(), Some("Y"));

    // A new address is stored as the file writes it.
    let mut s = MemoryStore::new();
    let p = plan(&upload, &Settings::builder().build().unwrap(), &mut s).unwrap();
    execute(&p, &mut s, &mut RecordingMailer::new(), options()).unwrap();
    assert_eq!(s.users()[0].email, "ana@bücher.de");
}

// ---- item 15 --------------------------------------------------------------------------

/// A row refused for its address's form still names its person: they are not suspended.
#[test]
fn a_row_rejected_for_its_address_form_protects_its_person() {
    let file = "firstname,lastname,email\nA,X,mailto:ana@x.com\nB,X,Bo X <bo@x.com>\n\
                C,X,cy@x.com.\nD,X,\"  di@x.com ;\"\nE,X,ed@x.com\n";
    let upload = parse(file.as_bytes(), &Default::default()).unwrap();
    let mut s = store(json!([
        user("ana@x.com"),
        user("bo@x.com"),
        user("cy@x.com"),
        user("di@x.com"),
        user("ed@x.com"),
        user("fa@x.com")
    ]));
    let settings = Settings::builder()
        .suspend_missing_users(true)
        .missing_users_threshold(100)
        .build()
        .unwrap();
    let p = plan(&upload, &settings, &mut s).unwrap();
    for line in 2..=5 {
        assert!(codes(&p, line).contains(&IssueCode::InvalidEmail), "{line}");
    }
    let suspended: Vec<String> = p
        .rows()
        .iter()
        .filter(|r| r.operations.contains(&Operation::SuspendUser))
        .map(|r| r.email)
        .collect();
    assert_eq!(suspended, ["fa@x.com"]);
}

// ---- item 16 --------------------------------------------------------------------------

/// A mailer whose error quotes the message it could not send.
struct QuotingMailer {
    fail_on_flush: bool,
    queued: Vec<String>,
}

impl Mailer for QuotingMailer {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        if self.fail_on_flush {
            self.queued.push(message.text.clone());
            return Ok(());
        }
        Err(HostError::permanent(format!(
            "SMTP 554 rejected: {}",
            message.text
        )))
    }
    fn flush(&mut self) -> Result<(), HostError> {
        if self.queued.is_empty() {
            return Ok(());
        }
        Err(HostError::permanent(format!(
            "queue failed: {}",
            self.queued.join(" | ")
        )))
    }
}

/// The generated password is in the body the mailer quotes: it is scrubbed from the row's
/// error, the results JSON and the journal.
#[test]
fn a_password_quoted_by_a_failing_mailer_is_scrubbed() {
    let upload = parse(
        b"firstname,lastname,email\nAna,X,ana@x.com\nBo,X,bo@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder().build().unwrap();
    let mut s = MemoryStore::new();
    let p = plan(&upload, &settings, &mut s).unwrap();
    let mut journal = MemoryJournal::new();
    let mut mailer = QuotingMailer {
        fail_on_flush: false,
        queued: Vec::new(),
    };
    let results = execute(
        &p,
        &mut s,
        &mut mailer,
        ExecuteOptions {
            journal: Some(&mut journal),
            ..options()
        },
    )
    .unwrap();
    let json = results.to_json();
    for row in results.rows {
        assert_eq!(row.status, Status::Failed);
        let error = row.error.as_ref().unwrap();
        assert_eq!(error.code, IssueCode::MailerFailed);
        assert!(error.message.contains("[REDACTED]"), "{}", error.message);
        assert!(error.message.contains("SMTP 554"), "{}", error.message);
    }
    // The text around the password stays; the password (the word after "password:") does not.
    let journal_text = format!("{journal:?}");
    for text in [&json, &journal_text] {
        for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            assert!(
                word.len() != 16
                    || !word.chars().all(|c| c.is_ascii_alphanumeric())
                    || word.chars().all(|c| c.is_ascii_lowercase()),
                "a 16-character generated password may be in: {text}"
            );
        }
    }

    // A mailer that queues and fails on flush quotes every queued body.
    let mut s = MemoryStore::new();
    let p = plan(&upload, &settings, &mut s).unwrap();
    let mut mailer = QuotingMailer {
        fail_on_flush: true,
        queued: Vec::new(),
    };
    let err = execute(&p, &mut s, &mut mailer, options()).unwrap_err();
    assert_eq!(err.code(), IssueCode::MailerFailed);
    assert_eq!(
        err.message().matches("[REDACTED]").count(),
        2,
        "{}",
        err.message()
    );
}

/// The shared default password quoted by a mailer is scrubbed too.
#[test]
fn a_default_password_quoted_by_a_failing_mailer_is_scrubbed() {
    let upload = parse(
        b"firstname,lastname,email\nAna,X,ana@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let secret = "Correct-Horse-Battery-Staple-9";
    let settings = Settings::builder()
        .generate_passwords(false)
        .default_password(secret)
        .build()
        .unwrap();
    let mut s = MemoryStore::new();
    let p = plan(&upload, &settings, &mut s).unwrap();
    struct Echo(&'static str);
    impl Mailer for Echo {
        fn send(&mut self, _: &Message) -> Result<(), HostError> {
            Err(HostError::permanent(format!(
                "could not send, password was {}",
                self.0
            )))
        }
    }
    let results = execute(&p, &mut s, &mut Echo(secret), options()).unwrap();
    let error = results.rows[0].error.as_ref().unwrap();
    assert!(!error.message.contains(secret), "{}", error.message);
    assert!(!results.to_json().contains(secret));
}

// ---- item 17 --------------------------------------------------------------------------

/// Weak shared passwords pass a hand-written rule but not zxcvbn; the reason (zxcvbn's
/// feedback) is in the error, the password never is.
#[test]
fn weak_default_passwords_are_refused_with_zxcvbns_reason() {
    for weak in [
        "Welcome2024!",
        "Summer2026!",
        "Password2026",
        "Qwerty123456",
    ] {
        let err = Settings::builder()
            .generate_passwords(false)
            .default_password(weak)
            .build()
            .unwrap_err();
        assert_eq!(err.code(), IssueCode::WeakDefaultPassword, "{weak}");
        assert!(err.message().contains("zxcvbn"), "{}", err.message());
        assert!(!err.message().contains(weak), "{}", err.message());
    }
    for strong in ["Correct-Horse-Battery-Staple-9", "Welcome-to-Intuto-2026"] {
        let ok = Settings::builder()
            .generate_passwords(false)
            .default_password(strong)
            .build();
        assert!(ok.is_ok(), "{strong}: {:?}", ok.err());
    }
}

/// The site's name is given to zxcvbn: a password made of it is weaker.
#[test]
fn the_site_name_counts_against_a_default_password() {
    let password = "Intutolms2026";
    let build = |site: &str| {
        Settings::builder()
            .generate_passwords(false)
            .default_password(password)
            .site_url(site)
            .build()
    };
    assert!(build("https://lms.example.com/").is_ok());
    let err = build("https://intutolms.example.com/").unwrap_err();
    assert_eq!(err.code(), IssueCode::WeakDefaultPassword);
}
