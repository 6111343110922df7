//! Plan and execute through the public API: secrets, determinism, plan JSON, batching,
//! retries, progress, cancellation and resumption, results export, and plan snapshots.

mod common;

use common::{Hooked, Op};
use lms_bulk_upload::{
    parse, plan, plan_with, ContentKind, ContentRef, ExecuteOptions, ExistingUser, HashParams,
    HostError, IssueCode, MemoryJournal, MemoryStore, Message, MessageKind, PasswordHash, Plan,
    PlanOptions, Profile, RecordingMailer, Results, Settings, Status, Upload, UserId,
};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_PASSWORD: &str = "Welcome-to-Intuto-2026";

fn fast<'a>() -> ExecuteOptions<'a> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        ..Default::default()
    }
}

fn upload(csv: &str) -> Upload {
    parse(csv.as_bytes(), &Default::default()).expect("the test file parses")
}

fn existing(id: &str, email: &str, first: &str, groups: &[&str], protected: bool) -> ExistingUser {
    ExistingUser {
        id: UserId(id.into()),
        email: email.into(),
        profile: Profile {
            first_name: Some(first.into()),
            last_name: Some("Lopez".into()),
            ..Profile::default()
        },
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        enrolments: vec![ContentRef::new(ContentKind::Course, "c1")],
        protected,
        suspended: false,
        suspended_by_upload: false,
        login_method: None,
    }
}

/// A store with three groups, two content items and two existing users (one protected).
fn base_store(reversed: bool) -> MemoryStore {
    let mut store = MemoryStore::new();
    let mut groups = vec![("g1", "Sales"), ("g2", "Support"), ("g3", "Marketing")];
    let mut content = vec![
        ContentRef::new(ContentKind::Course, "c1"),
        ContentRef::new(ContentKind::Collection, "k1"),
    ];
    let mut users = vec![
        existing("e1", "ana@x.com", "Ana", &["Support"], false),
        existing("e2", "root@x.com", "Root", &[], true),
        existing("e3", "cy@x.com", "Cy", &["Sales"], false),
    ];
    if reversed {
        groups.reverse();
        content.reverse();
        users.reverse();
    }
    for (id, name) in groups {
        store.add_group(id, name);
    }
    for item in content {
        store.add_content(item);
    }
    for user in users {
        store.add_user(user);
    }
    store
}

const MIXED: &str = "firstname,lastname,emailaddress,organisation,addgroup,removegroup\n\
Bo,Chan,bo@x.com,Acme,Sales,\n\
Ana,Lopez,ANA@x.com,Acme,Sales,Support\n\
Root,Admin,root@x.com,,,\n\
Cy,Lopez,cy@x.com,,,\n\
Di,Egan,di@x.com,,Marketing,\n\
Ed,,ed@x.com,,,\n";

fn generated_settings() -> Settings {
    Settings::builder()
        .update_existing_profiles(true)
        .update_existing_passwords(true)
        .enrol_existing_users(true)
        .enrol(ContentRef::new(ContentKind::Collection, "k1"))
        .group("Marketing")
        .uploader_email("admin@x.com")
        .build()
        .expect("valid settings")
}

fn default_settings() -> Settings {
    Settings::builder()
        .generate_passwords(false)
        .default_password(DEFAULT_PASSWORD)
        .send_notification_email(true)
        .update_existing_passwords(true)
        .force_password_reset(true)
        .uploader_email("admin@x.com")
        .build()
        .expect("valid settings")
}

fn run(settings: &Settings) -> (Plan, MemoryStore, RecordingMailer, Results) {
    let upload = upload(MIXED);
    let mut store = base_store(false);
    let plan = plan(&upload, settings, &mut store).expect("plan");
    let mut mailer = RecordingMailer::new();
    let results = plan
        .execute(&mut store, &mut mailer, fast())
        .expect("execute");
    (plan, store, mailer, results)
}

fn stored_hash<'s>(store: &'s MemoryStore, email: &str) -> &'s PasswordHash {
    store
        .user(email)
        .and_then(|u| u.password_hash.as_ref())
        .unwrap_or_else(|| panic!("{email} has a password hash"))
}

#[test]
fn emailed_passwords_verify_against_the_stored_hashes_and_all_differ() {
    let (_, store, mailer, results) = run(&generated_settings());
    let with_password: Vec<&Message> = mailer
        .messages
        .iter()
        .filter(|m| m.fields.password.is_some())
        .collect();
    // bo, di (created), ana, cy (password changed).
    assert_eq!(with_password.len(), 4, "{:?}", mailer.messages);
    assert_eq!(results.summary.created, 2);
    assert_eq!(results.summary.updated, 2);
    let mut passwords = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    for message in &with_password {
        let password = message
            .fields
            .password
            .as_ref()
            .map(|p| p.expose())
            .unwrap_or("");
        let hash = stored_hash(&store, &message.to);
        assert!(
            hash.verify(password),
            "{} can log in with the emailed password",
            message.to
        );
        assert!(!hash.verify("not the password"));
        assert!(message.text.contains(password) && message.html.contains(password));
        let expected_kind = if matches!(message.to.as_str(), "bo@x.com" | "di@x.com") {
            MessageKind::Welcome
        } else {
            MessageKind::PasswordChanged
        };
        assert_eq!(message.kind, expected_kind);
        passwords.insert(password.to_owned());
        hashes.insert(hash.as_str().to_owned());
    }
    assert_eq!(passwords.len(), 4, "generated passwords are unique");
    assert_eq!(hashes.len(), 4, "each user has their own hash");
    assert!(passwords.iter().all(|p| p.len() == 16));
}

#[test]
fn a_default_password_is_hashed_once_and_never_emailed() {
    let (_, store, mailer, results) = run(&default_settings());
    let users = ["bo@x.com", "di@x.com", "ana@x.com", "cy@x.com"];
    let hashes: BTreeSet<&str> = users
        .iter()
        .map(|u| stored_hash(&store, u).as_str())
        .collect();
    assert_eq!(hashes.len(), 1, "one hash shared by every user: {hashes:?}");
    assert!(stored_hash(&store, "bo@x.com").verify(DEFAULT_PASSWORD));
    for user in users {
        assert!(
            store.user(user).is_some_and(|u| u.force_password_reset),
            "{user}"
        );
    }
    assert!(store
        .user("root@x.com")
        .is_some_and(|u| u.password_hash.is_none()));
    assert_eq!(results.summary.emails_sent, 4);
    assert_eq!(mailer.messages.len(), 5, "four users and the uploader");
    for message in &mailer.messages {
        assert!(message.fields.password.is_none());
        for part in [&message.subject, &message.text, &message.html] {
            assert!(!part.contains(DEFAULT_PASSWORD));
        }
    }
}

#[test]
fn plaintext_passwords_appear_in_no_debug_json_csv_or_state() {
    for settings in [generated_settings(), default_settings()] {
        let (plan, store, mailer, results) = run(&settings);
        let mut secrets: Vec<String> = mailer
            .messages
            .iter()
            .filter_map(|m| m.fields.password.as_ref().map(|p| p.expose().to_owned()))
            .collect();
        if settings.default_password.is_some() {
            secrets.push(DEFAULT_PASSWORD.to_owned());
        }
        assert!(!secrets.is_empty());
        let options = ExecuteOptions {
            default_password: Some(DEFAULT_PASSWORD.into()),
            ..fast()
        };
        let builder =
            lms_bulk_upload::SettingsBuilder::default().default_password(DEFAULT_PASSWORD);
        let mut texts = vec![
            format!("{plan:?}"),
            format!("{results:?}"),
            format!("{settings:?}"),
            format!("{builder:?}"),
            format!("{options:?}"),
            format!("{store:?}"),
            format!("{:?}", store.state()),
            serde_json::to_string(&store.state()).unwrap_or_default(),
            serde_json::to_string(&builder).unwrap_or_default(),
            plan.to_json(),
            plan.to_json_pretty(),
            results.to_json(),
            results.to_csv(),
        ];
        texts.extend(mailer.messages.iter().map(|m| format!("{m:?}")));
        for text in &texts {
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "a password leaked into {text}"
                );
            }
        }
        // The messages do carry them where they must.
        if settings.generate_passwords {
            assert!(secrets
                .iter()
                .all(|s| mailer.messages.iter().any(|m| m.text.contains(s.as_str()))));
        }
    }
}

#[test]
fn same_inputs_give_a_byte_identical_plan() {
    let upload = upload(MIXED);
    let settings = generated_settings();
    let first = plan(&upload, &settings, &mut base_store(false)).expect("plan");
    let second = plan(&upload, &settings, &mut base_store(false)).expect("plan");
    let shuffled = plan(&upload, &settings, &mut base_store(true)).expect("plan");
    assert_eq!(first.to_json(), second.to_json());
    assert_eq!(
        first.to_json(),
        shuffled.to_json(),
        "the store's order does not matter"
    );
    assert_eq!(first.fingerprint(), shuffled.fingerprint());
    assert!(first.fingerprint().starts_with("sha256:") && first.fingerprint().len() == 71);
    // Different settings, different plan.
    let other = plan(&upload, &default_settings(), &mut base_store(false)).expect("plan");
    assert_ne!(first.fingerprint(), other.fingerprint());
}

#[test]
fn plan_json_round_trips_and_refuses_tampering() {
    let upload = upload(MIXED);
    let plan = plan(&upload, &generated_settings(), &mut base_store(false)).expect("plan");
    let json = plan.to_json();
    let back = Plan::from_json(&json).expect("round trip");
    assert_eq!(back, plan);
    assert_eq!(back.to_json(), json);
    assert_eq!(
        Plan::from_json(&plan.to_json_pretty()).expect("pretty"),
        plan
    );

    for (what, tampered) in [
        (
            "an email",
            json.replacen("\"bo@x.com\"", "\"eve@x.com\"", 1),
        ),
        ("a group", json.replacen("\"Marketing\"", "\"Admins\"", 1)),
    ] {
        assert_ne!(tampered, json, "{what} was changed");
        let err = Plan::from_json(&tampered).expect_err(what);
        assert_eq!(err.code().as_str(), "fingerprint_mismatch", "{what}");
    }
    // A row whose action no longer matches the summary's counts is refused before the
    // fingerprint is even looked at: what the summary says is what the rows do.
    let action = json.replacen("\"action\":\"rejected\"", "\"action\":\"update\"", 1);
    assert_ne!(action, json);
    let err = Plan::from_json(&action).expect_err("an action");
    assert_eq!(err.code().as_str(), "invalid_plan");
    assert!(err.message().contains("summary"), "{err}");
    let newer = json.replacen("\"format_version\":1", "\"format_version\":2", 1);
    let err = Plan::from_json(&newer).expect_err("version");
    assert_eq!(err.code().as_str(), "unsupported_plan_version");
    let err = Plan::from_json("{not json").expect_err("garbage");
    assert_eq!(err.code().as_str(), "invalid_plan");
}

#[test]
fn a_plan_read_back_needs_its_default_password_again() {
    let upload = upload(MIXED);
    let planned = plan(&upload, &default_settings(), &mut base_store(false)).expect("plan");
    let back = Plan::from_json(&planned.to_json()).expect("round trip");
    let mut store = base_store(false);
    let mut mailer = RecordingMailer::new();
    let err = back
        .execute(&mut store, &mut mailer, fast())
        .expect_err("no default password");
    assert_eq!(err.code().as_str(), "default_password_required");
    assert!(mailer.messages.is_empty() && store.user("bo@x.com").is_none());
    let results = back
        .with_default_password(DEFAULT_PASSWORD)
        .execute(&mut store, &mut mailer, fast())
        .expect("execute");
    assert_eq!(results.summary.created, 2);
    assert!(stored_hash(&store, "bo@x.com").verify(DEFAULT_PASSWORD));
}

fn many_rows(n: usize) -> String {
    let mut csv = String::from("firstname,lastname,emailaddress\n");
    for i in 0..n {
        csv.push_str(&format!("User,{i},user{i}@x.com\n"));
    }
    csv
}

#[test]
fn store_lookups_are_batched() {
    let settings = Settings::builder().build().expect("settings");
    for (n, batch, calls) in [
        (2_500, None, 3),
        (1_000, None, 1),
        (1, None, 1),
        (250, Some(100), 3),
    ] {
        let upload = upload(&many_rows(n));
        let mut store = MemoryStore::new();
        let options = PlanOptions {
            lookup_batch: batch.unwrap_or(lms_bulk_upload::DEFAULT_LOOKUP_BATCH),
            ..Default::default()
        };
        let planned = plan_with(&upload, &settings, &mut store, &options).expect("plan");
        assert_eq!(planned.summary().create, n as u64);
        assert_eq!(
            store.calls.get("find_users").copied(),
            Some(calls),
            "{n} rows, batch {batch:?}"
        );
    }
}

/// Runs 3 rows through a store whose first `transient_creates` calls to `create_user` fail
/// transiently and whose writes of the `broken` email fail permanently; returns the
/// results, the store and the number of `create_user` attempts.
fn flaky_run(transient_creates: u32, broken: Option<&str>) -> (Results, MemoryStore, u32) {
    let upload = upload(&many_rows(3));
    let settings = Settings::builder().build().expect("settings");
    let attempts = Cell::new(0);
    let mut transient_left = transient_creates;
    let mut store = Hooked::new(MemoryStore::new(), |op: Op<'_>| {
        let Op::CreateUser(user) = op else {
            return Ok(());
        };
        attempts.set(attempts.get() + 1);
        if broken == Some(user.email.as_str()) {
            return Err(HostError::permanent("constraint violated"));
        }
        if transient_left > 0 {
            transient_left -= 1;
            return Err(HostError::transient("lock timeout"));
        }
        Ok(())
    });
    let planned = plan(&upload, &settings, &mut store).expect("plan");
    let mut mailer = RecordingMailer::new();
    let results = planned
        .execute(&mut store, &mut mailer, fast())
        .expect("execute");
    assert_eq!(mailer.messages.len() as u64, results.summary.created);
    (results, store.inner, attempts.get())
}

#[test]
fn transient_store_errors_are_retried_a_bounded_number_of_times() {
    // Two transient failures, two retries: everything is created.
    let (results, store, attempts) = flaky_run(2, None);
    assert_eq!(results.summary.created, 3);
    assert_eq!(results.summary.failed, 0);
    assert_eq!(attempts, 5);
    assert_eq!(store.users().len(), 3);

    // Three: the first row gives up after 1 + 2 attempts, the others go on.
    let (results, store, attempts) = flaky_run(3, None);
    assert_eq!(results.summary.created, 2);
    assert_eq!(results.summary.failed, 1);
    assert_eq!(results.rows[0].status, Status::Failed);
    assert!(results.rows[0]
        .error
        .as_ref()
        .is_some_and(|e| e.code == IssueCode::StoreFailed && e.message.contains("lock timeout")));
    assert_eq!(attempts, 5);
    assert!(store.user("user0@x.com").is_none());
}

#[test]
fn a_permanent_store_error_fails_only_its_row_and_is_not_retried() {
    let (results, store, attempts) = flaky_run(0, Some("user1@x.com"));
    assert_eq!(attempts, 3, "one attempt per row");
    let statuses: Vec<Status> = results.rows.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Status::Created, Status::Failed, Status::Created]);
    assert!(results.rows[1]
        .error
        .as_ref()
        .is_some_and(|e| e.code == IssueCode::StoreFailed && e.message == "constraint violated"));
    assert_eq!(store.users().len(), 2);
    assert_eq!(results.summary.emails_sent, 2);
}

#[test]
fn transient_mailer_errors_are_retried() {
    let upload = upload(&many_rows(2));
    let settings = Settings::builder().build().expect("settings");
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).expect("plan");
    // The first two sends fail transiently.
    let mut transient = 2;
    let mut mailer = Hooked::new(RecordingMailer::new(), |op: Op<'_>| match op {
        Op::Send(_) if transient > 0 => {
            transient -= 1;
            Err(HostError::transient("smtp 421"))
        }
        _ => Ok(()),
    });
    let results = planned
        .execute(&mut store, &mut mailer, fast())
        .expect("execute");
    assert_eq!(results.summary.created, 2);
    assert_eq!(results.summary.emails_sent, 2);
    assert_eq!(
        mailer.inner.messages.len(),
        2,
        "each email sent exactly once"
    );
}

#[test]
fn progress_is_reported_once_per_row() {
    let upload = upload(&many_rows(600));
    let settings = default_settings();
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).expect("plan");
    let mut seen = Vec::new();
    let options = ExecuteOptions {
        progress: Some(Box::new(|p| seen.push(p))),
        ..fast()
    };
    let results = planned
        .execute(&mut store, &mut RecordingMailer::new(), options)
        .expect("execute");
    assert_eq!(results.summary.created, 600);
    assert_eq!(seen.len(), 600);
    assert!(seen
        .iter()
        .enumerate()
        .all(|(i, p)| p.done == i as u64 + 1 && p.total == 600));
}

#[test]
fn cancellation_stops_between_rows_and_a_journal_resumes_without_duplicates() {
    let n = 10;
    let upload = upload(&many_rows(n));
    let settings = Settings::builder()
        .uploader_email("admin@x.com")
        .build()
        .expect("settings");
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).expect("plan");
    let mut journal = MemoryJournal::new();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let mut mailer = RecordingMailer::new();
    let options = ExecuteOptions {
        cancel: Some(cancel.clone()),
        journal: Some(&mut journal),
        batch_size: 4,
        progress: Some(Box::new(move |p| {
            if p.done == 3 {
                flag.store(true, Ordering::SeqCst);
            }
        })),
        ..fast()
    };
    let first = planned
        .execute(&mut store, &mut mailer, options)
        .expect("execute");
    assert!(first.cancelled);
    assert_eq!(first.summary.created, 3);
    assert_eq!(first.summary.failed, 7);
    assert!(first.rows[3..].iter().all(|r| r.status == Status::Failed
        && r.error.as_ref().map(|e| e.code) == Some(IssueCode::Cancelled)));
    assert_eq!(store.users().len(), 3);
    let confirmation = mailer.messages.last().expect("a confirmation");
    assert_eq!(confirmation.kind, MessageKind::UploadComplete);
    assert!(confirmation
        .fields
        .counts
        .iter()
        .any(|(k, v)| k == "cancelled" && *v == 1));

    let options = ExecuteOptions {
        journal: Some(&mut journal),
        ..fast()
    };
    let second = planned
        .execute(&mut store, &mut mailer, options)
        .expect("resume");
    assert!(!second.cancelled);
    assert_eq!(second.summary.created, n as u64);
    assert_eq!(second.summary.resumed, 3);
    assert_eq!(second.summary.failed, 0);
    assert_eq!(store.users().len(), n, "nobody created twice");
    assert_eq!(store.calls.get("create_user").copied(), Some(n as u64));
    let welcomes = mailer
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Welcome)
        .count();
    assert_eq!(welcomes, n, "each new user welcomed once");
}

#[test]
fn results_csv_neutralises_formula_cells() {
    let csv = "firstname,lastname,emailaddress\nEve,Hacker,=1+2@x.com\nAl,Plus,+sum@x.com\nBo,Minus,-x@x.com\nOk,Row,ok@x.com\n";
    let upload = upload(csv);
    assert_eq!(upload.valid_rows().count(), 4, "{:?}", upload.issues());
    let settings = Settings::builder().build().expect("settings");
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).expect("plan");
    let results = planned
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .expect("execute");
    let out = results.to_csv();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        r#""line","email","status","user_id","done","error""#
    );
    assert!(
        lines[1].starts_with(r#""2","'=1+2@x.com","created","#),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(r#""3","'+sum@x.com","created","#),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with(r#""4","'-x@x.com","created","#),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with(r#""5","ok@x.com","created","#),
        "{}",
        lines[4]
    );
    assert!(
        lines[4].ends_with(r#","created; emailed welcome","""#),
        "{}",
        lines[4]
    );
    for line in &lines[1..] {
        for cell in line.split("\",\"") {
            let cell = cell.trim_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell}"
            );
        }
    }
}

#[test]
fn plan_snapshots() {
    let upload_mixed = upload(MIXED);
    let generated =
        plan(&upload_mixed, &generated_settings(), &mut base_store(false)).expect("plan");
    insta::assert_snapshot!("mixed_generated", generated.to_json_pretty());

    let default = plan(&upload_mixed, &default_settings(), &mut base_store(false)).expect("plan");
    insta::assert_snapshot!("mixed_default_password", default.to_json_pretty());

    let new_users = upload(
        "First Name,Last Name,E-mail Address,Country,Language Code,Add Group,Shoe Size\n\
         Zoë,Ngata,zoe@x.nz,NZ,mi-NZ,Sales;Support,42\n\
         Bo,Chan,bo@x.com,,,,\n\
         Bad,Email,not-an-email,,,,\n",
    );
    let settings = Settings::builder()
        .enrol(ContentRef::new(ContentKind::Course, "c1"))
        .group("Marketing")
        .build()
        .expect("settings");
    let new_plan = plan(&new_users, &settings, &mut base_store(false)).expect("plan");
    insta::assert_snapshot!("new_users_with_file_issues", new_plan.to_json_pretty());

    let unchanged = upload(
        "firstname,lastname,emailaddress,addgroup,removegroup\n\
         Ana,Lopez,ana@x.com,Support,Marketing\n\
         Cy,Lopez,cy@x.com,sales,\n",
    );
    let settings = Settings::builder()
        .update_existing_profiles(true)
        .enrol_existing_users(true)
        .enrol(ContentRef::new(ContentKind::Course, "c1"))
        .build()
        .expect("settings");
    let noop_plan = plan(&unchanged, &settings, &mut base_store(false)).expect("plan");
    insta::assert_snapshot!("noops_and_unknown_group", noop_plan.to_json_pretty());
}
