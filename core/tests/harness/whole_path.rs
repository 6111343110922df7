// Shared by the fuzz targets (`fuzz/fuzz_targets/{whole_path,plan_json}.rs` include this
// file) and by `core/tests/fuzz_whole_path.rs`, which replays their corpus in `make test`.
// It is included, not a module of its own, so both run exactly the same code.

use arbitrary::{Arbitrary, Unstructured};
use lms_bulk_upload::{
    parse, plan_undo, plan_with, ContentKind, ContentRef, ExecuteOptions, ExistingUser, HashParams, MemoryStore,
    ParseOptions, Plan, PlanOptions, Profile, RandomSource, RecordingMailer, Settings, StoreState, UndoOptions, UserId,
};
use std::time::Duration;

/// Settings and a store, drawn from the fuzzer's bytes.
#[derive(Arbitrary, Debug)]
pub struct PathInput {
    /// Raw bytes of the file, used when `rows` is empty.
    csv: Vec<u8>,
    /// Rows of a well-formed file: first, last, email local part, addgroup, removegroup.
    rows: Vec<(String, String, String, String, String)>,
    flags: [bool; 7],
    default_password: String,
    groups: Vec<String>,
    store_groups: Vec<String>,
    store_users: Vec<(String, bool, Vec<u8>)>,
    enrolments: Vec<(u8, String)>,
    store_content: Vec<(u8, String)>,
    group_separator: char,
    lookup_batch: u8,
    batch_size: u8,
    /// `suspend_missing_users` (threshold 100 %): store users not in the file are suspended.
    suspend_missing: bool,
}

/// A deterministic byte source (the fuzzer must be reproducible).
pub struct Counter(pub std::sync::atomic::AtomicU64);

impl RandomSource for Counter {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            let n = self.0.fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed);
            *b = (n >> 56) as u8;
        }
    }
}

fn kind(k: u8) -> ContentKind {
    [ContentKind::Course, ContentKind::Collection, ContentKind::Campaign][usize::from(k % 3)]
}

/// parse → settings → plan → JSON round trip → execute, checking the invariants.
pub fn whole_path(data: &[u8]) {
    let Ok(input) = PathInput::arbitrary(&mut Unstructured::new(data)) else { return };
    let options = ParseOptions {
        group_separator: input.group_separator,
        max_rows: 200,
        max_field_bytes: 512,
        fields: vec![lms_bulk_upload::ProfileField::text("department")],
        login_methods: vec!["saml".into()],
        ..Default::default()
    };
    let csv = if input.rows.is_empty() {
        input.csv.clone()
    } else {
        // `department` and `auth` take the first and last names: most are invalid there
        // (an unknown login method), some are not.
        let mut text = String::from("firstname,lastname,emailaddress,addgroup,removegroup,department,auth\n");
        for (first, last, local, add, remove) in input.rows.iter().take(50) {
            text.push_str(&format!("{first},{last},{local}@example.com,{add},{remove},{first},{last}\n"));
        }
        text.into_bytes()
    };
    let Ok(upload) = parse(&csv, &options) else { return };

    let [enrol_existing, update_profiles, update_passwords, generate, force_reset, notify, uploader] = input.flags;
    let mut builder = Settings::builder()
        .enrol_existing_users(enrol_existing)
        .update_existing_profiles(update_profiles)
        .update_existing_passwords(update_passwords)
        .generate_passwords(generate)
        .force_password_reset(force_reset)
        .send_notification_email(notify);
    if !generate {
        builder = builder.default_password(input.default_password.clone());
    }
    if uploader {
        builder = builder.uploader_email("uploader@example.com");
    }
    if input.suspend_missing {
        builder = builder.suspend_missing_users(true).missing_users_threshold(100);
    }
    for group in input.groups.iter().take(4) {
        builder = builder.group(group.clone());
    }
    for (k, id) in input.enrolments.iter().take(4) {
        builder = builder.enrol(ContentRef::new(kind(*k), id.clone()));
    }
    let Ok(settings) = builder.build() else { return };

    let mut store = MemoryStore::new();
    for (i, name) in input.store_groups.iter().take(8).enumerate() {
        store.add_group(&format!("g{i}"), name);
    }
    for (k, id) in input.store_content.iter().take(8) {
        store.add_content(ContentRef::new(kind(*k), id.clone()));
    }
    // A store holds one user per address (as a real one does, by a unique index).
    let mut taken = std::collections::HashSet::new();
    for (i, (local, protected, groups)) in input.store_users.iter().take(16).enumerate() {
        if !taken.insert(lms_bulk_upload::email_key(&format!("{local}@example.com"))) {
            continue;
        }
        store.add_user(ExistingUser {
            id: UserId(format!("e{i}")),
            email: format!("{local}@example.com"),
            profile: Profile::default(),
            groups: groups.iter().filter_map(|g| input.store_groups.get(usize::from(*g) % 8).cloned()).collect(),
            enrolments: Vec::new(),
            protected: *protected,
            suspended: false,
            login_method: None,
        });
    }
    let plan_options = PlanOptions { lookup_batch: usize::from(input.lookup_batch).max(1), ..Default::default() };
    let Ok(plan) = plan_with(&upload, &settings, &mut store, &plan_options) else { return };
    let missing = plan.rows().len() - upload.len();
    assert!(missing == 0 || input.suspend_missing, "rows of their own only for missing users");
    assert_eq!(plan.summary().suspensions as usize, missing);

    let json = plan.to_json();
    if !generate {
        // The plan does not depend on the default password: none of it is in the plan.
        let mut other = settings.clone();
        other.default_password = Some(lms_bulk_upload::Password::new("An0ther-Default-Passw0rd"));
        let other_plan = plan_with(&upload, &other, &mut store, &plan_options).expect("same store, same plan");
        assert_eq!(other_plan.to_json(), json, "the default password changed the plan");
    }
    let again = Plan::from_json(&json).expect("a plan reads back");
    assert_eq!(again.to_json(), json, "the JSON round trip is exact");

    let users_before = store.users().len();
    let state_before = store.state();
    let mut mailer = RecordingMailer::new();
    let options = || ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(8, 1, 1),
        threads: 1,
        batch_size: usize::from(input.batch_size).max(1),
        retry_delay: Duration::ZERO,
        random: std::sync::Arc::new(Counter(Default::default())),
        ..Default::default()
    };
    let results = plan.execute(&mut store, &mut mailer, options()).expect("execution of a valid plan");
    assert_eq!(results.rows.len(), plan.rows().len());
    for user in store.users().iter().filter(|u| u.suspended) {
        assert!(!user.protected, "a protected user is never suspended");
    }
    assert_eq!(results.summary.failed, 0, "the memory store never fails");
    assert_eq!(store.users().len() as u64, users_before as u64 + plan.summary().create);
    let exported = format!("{}{}", results.to_json(), results.to_csv());
    for message in mailer.messages.iter().filter(|m| m.carries_password()) {
        let password = message.fields.password.as_ref().map(|p| p.expose()).unwrap_or_default();
        assert!(!exported.contains(password), "a password leaked into the results");
        assert!(!format!("{message:?}").contains(password), "a password leaked into Debug");
    }

    // Undo, with nothing changed since: the store is as before, but for the users the upload
    // created (suspended, or gone when deleted) and passwords; undoing the undo is refused.
    let delete = input.batch_size % 2 == 1;
    let undo = plan_undo(&results, &mut store, &UndoOptions::new().delete_created_users(delete))
        .expect("an undo of fresh results is planned");
    let undo_json = undo.to_json();
    assert_eq!(Plan::from_json(&undo_json).map(|p| p.to_json()).ok(), Some(undo_json), "the undo plan reads back");
    assert_eq!(undo.summary().rejected, 0, "protected users are never in an upload's changes");
    let undone = undo.execute(&mut store, &mut RecordingMailer::new(), options()).expect("the undo executes");
    assert_eq!(undone.summary.failed, 0, "the memory store never fails");
    assert_eq!(undone.summary.emails_sent, 0, "an undo emails no user");
    assert_eq!(comparable(&store.state(), true), comparable(&state_before, false), "the undo restored the store");
    let again = plan_undo(&undone, &mut store, &UndoOptions::new()).expect_err("an undo is not undone");
    assert_eq!(again.code().as_str(), "undo_of_undo");
}

/// A store state without what undo leaves changed: passwords, and (in `after`) the
/// suspended users the upload created.
fn comparable(state: &StoreState, after: bool) -> StoreState {
    let mut state = state.clone();
    state.users.retain(|u| !(after && u.suspended));
    for user in &mut state.users {
        user.has_password = false;
        user.force_password_reset = false;
    }
    state
}

/// Untrusted plan JSON: refused with a plan error, or read back unchanged.
pub fn plan_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Plan::from_json(text) {
        Ok(plan) => {
            let json = plan.to_json();
            assert_eq!(Plan::from_json(&json).map(|p| p.to_json()).ok(), Some(json));
        }
        Err(error) => assert!(
            matches!(error.code().as_str(), "invalid_plan" | "unsupported_plan_version" | "fingerprint_mismatch"),
            "unexpected code {error}"
        ),
    }
}
