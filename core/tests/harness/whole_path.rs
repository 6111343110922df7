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
    /// Edits an attacker makes to the stored results before they drive an undo, and to a
    /// shard's results before a merge: (which row, what edit, a value).
    edits: Vec<(u8, u8, String)>,
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
    let parse_options = ParseOptions {
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
    let Ok(upload) = parse(&csv, &parse_options) else { return };

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
            suspended_by_upload: false,
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
    edited_results(&input, &results, &store, &state_before, &parse_options);
    edited_shards(&input, &plan, &store);
    let undo_options = UndoOptions::new().delete_created_users(delete).declarations(&parse_options);
    let undo = plan_undo(&results, &mut store, &undo_options).expect("an undo of fresh results is planned");
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

/// Applies the fuzzer's edits to the results JSON, as an attacker who can write where results
/// are stored would.
fn edit_results(input: &PathInput, json: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    let rows = value.get_mut("rows")?.as_array_mut()?;
    if rows.is_empty() {
        return None;
    }
    let n = rows.len();
    for (which, what, text) in input.edits.iter().take(8) {
        let i = usize::from(*which) % n;
        let j = (i + 1) % n;
        match what % 9 {
            // Another person on this line.
            0 => {
                let other = rows[j].clone();
                rows[i]["email"] = other["email"].clone();
                rows[i]["user_id"] = other["user_id"].clone();
            }
            1 => rows[i]["user_id"] = serde_json::json!(format!("e{}", text.len() % 16)),
            // The run "created" this user.
            2 => push_done(&mut rows[i], serde_json::json!({"op": "create_user"})),
            // The run "removed" it from a group (undo would add it back).
            3 => push_done(&mut rows[i], serde_json::json!({"op": "remove_from_group", "group": text})),
            // A value before that an upload would refuse.
            4 => push_done(&mut rows[i], serde_json::json!({"op": "update_profile",
                "changes": {"custom": {"role": ""}}, "before": {"custom": {"role": "admin"}}})),
            5 => push_done(&mut rows[i], serde_json::json!({"op": "set_login_method",
                "method": "password", "before": "backdoor"})),
            6 => push_done(&mut rows[i], serde_json::json!({"op": "suspend_user"})),
            7 => rows[i]["status"] = serde_json::json!("created"),
            _ => push_done(&mut rows[i], serde_json::json!({"op": "update_profile",
                "changes": {"first_name": ""}, "before": {"first_name": text}})),
        }
    }
    // The summary is recounted from the rows: keep it consistent so the edit is not refused
    // for that alone.
    let mut edited: lms_bulk_upload::Results = serde_json::from_value(value).ok()?;
    let mut summary = lms_bulk_upload::ResultSummary {
        emails_sent: edited.summary.emails_sent,
        resumed: edited.summary.resumed,
        ..Default::default()
    };
    for row in &edited.rows {
        summary.rows += 1;
        match row.status {
            lms_bulk_upload::Status::Created => summary.created += 1,
            lms_bulk_upload::Status::Updated => summary.updated += 1,
            lms_bulk_upload::Status::Unchanged => summary.unchanged += 1,
            lms_bulk_upload::Status::Rejected => summary.rejected += 1,
            _ => summary.failed += 1,
        }
        for done in &row.done {
            match done {
                lms_bulk_upload::Done::SuspendUser { .. } => summary.suspended += 1,
                lms_bulk_upload::Done::DeleteUser => summary.deleted += 1,
                lms_bulk_upload::Done::ReactivateUser { .. } => summary.reactivated += 1,
                lms_bulk_upload::Done::SetLoginMethod { .. } => summary.login_methods_changed += 1,
                _ => {}
            }
        }
    }
    edited.summary = summary;
    Some(edited.to_json())
}

fn push_done(row: &mut serde_json::Value, done: serde_json::Value) {
    if let Some(list) = row.get_mut("done").and_then(|d| d.as_array_mut()) {
        list.insert(0, done);
    }
}

/// Edited results: unsigned, they are refused by default; signed by the host before the edit,
/// refused too; and when the host vouches for the storage (the edit made by someone who could
/// write there all the same), the undo writes nothing outside the run's own changes.
fn edited_results(
    input: &PathInput,
    results: &lms_bulk_upload::Results,
    store: &MemoryStore,
    state_before: &StoreState,
    options: &ParseOptions,
) {
    let Some(json) = edit_results(input, &results.to_json()) else { return };
    let Ok(edited) = lms_bulk_upload::Results::from_json(&json) else { return };
    let mut copy = store.clone();
    let refused = plan_undo(&edited, &mut copy, &UndoOptions::new()).expect_err("unsigned results drive no undo");
    assert_eq!(refused.code().as_str(), "results_unsigned");
    let key = lms_bulk_upload::PlanKey::from_bytes(&[7; 32]).expect("a key");
    let signed = results.to_signed_json(&key);
    if json != results.to_json() {
        let forged = signed.replacen(&results.to_json()[1..], &json[1..], 1);
        if forged != signed {
            let e = lms_bulk_upload::Results::from_signed_json(&forged, &key).expect_err("an edit breaks the signature");
            assert_eq!(e.code().as_str(), "results_signature_invalid");
        }
    }
    let after_upload = store.state();
    let options = UndoOptions::new().declarations(options).results_from_trusted_storage(true).delete_created_users(true);
    let Ok(undo) = plan_undo(&edited, &mut copy, &options) else { return };
    let Ok(_) = undo.execute(&mut copy, &mut RecordingMailer::new(), ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(8, 1, 1),
        retry_delay: Duration::ZERO,
        ..Default::default()
    }) else { return };
    let after_edit = copy.state();
    // Vouched-for results (not verified) take back memberships and enrolments and set back
    // declared values; they never grant, suspend, reactivate or delete.
    for user in &after_upload.users {
        let id = user.id.as_deref().unwrap_or_default();
        let before = state_before.users.iter().find(|u| u.id == user.id);
        let Some(now) = after_edit.users.iter().find(|u| u.id == user.id) else {
            panic!("an undo of unsigned results deleted {id}");
        };
        assert_eq!(now.suspended, user.suspended, "an undo of unsigned results (un)suspended {id}");
        assert!(now.profile.custom.keys().all(|k| k == "department"), "an undeclared field was written");
        assert!(
            matches!(now.login_method.as_deref(), None | Some("password" | "saml")),
            "an undeclared login method was set"
        );
        let restored = |f: &dyn Fn(&lms_bulk_upload::UserState) -> String| {
            let v = f(now);
            v == f(user) || before.is_some_and(|b| v == f(b))
        };
        assert!(restored(&|u| format!("{:?}", u.profile.language_code)), "a language was written");
        for group in &now.groups {
            assert!(user.groups.contains(group), "unsigned results added {id} to {group}");
        }
    }
}

/// Shards of the plan, executed on a copy of the store, their results edited before the
/// merge: a result naming another person on a line is refused; an unsigned shard is refused.
fn edited_shards(input: &PathInput, plan: &Plan, store: &MemoryStore) {
    let Ok(shards) = plan.shards(3) else { return };
    let key = lms_bulk_upload::PlanKey::from_bytes(&[9; 32]).expect("a key");
    let mut copy = store.clone();
    let mut results = Vec::new();
    for shard in &shards {
        let e = Plan::from_json(&shard.to_json()).expect_err("an unsigned shard is refused");
        assert_eq!(e.code().as_str(), "plan_unsigned");
        let shard = Plan::from_signed_json(&shard.to_signed_json(&key), &key).expect("a signed shard reads back");
        let Ok(done) = shard.execute(&mut copy, &mut RecordingMailer::new(), ExecuteOptions {
            hash_params: HashParams::insecure_for_tests(8, 1, 1),
            retry_delay: Duration::ZERO,
            default_password: Some(lms_bulk_upload::Password::new(input.default_password.clone())),
            ..Default::default()
        }) else { return };
        results.push(done);
    }
    let merged = lms_bulk_upload::Results::merge(plan, &results).expect("the shards' own results merge");
    assert!(merged.provenance.is_verified());
    let Some(first) = results.first() else { return };
    let Some(json) = edit_results(input, &first.to_json()) else { return };
    let Ok(edited) = lms_bulk_upload::Results::from_json(&json) else { return };
    if edited == *first {
        return;
    }
    results[0] = edited;
    if let Ok(merged) = lms_bulk_upload::Results::merge(plan, &results) {
        assert!(!merged.provenance.is_verified(), "edited results merged as verified");
        for (row, planned) in merged.rows.iter().zip(plan.rows()) {
            assert_eq!(row.email, planned.email, "a shard result names another person");
            if planned.user_id.is_some() {
                assert_eq!(row.user_id, planned.user_id, "a shard result names another user id");
            }
        }
    }
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
            // `plan_unsigned`: a shard, which is read signed only.
            matches!(
                error.code().as_str(),
                "invalid_plan" | "unsupported_plan_version" | "fingerprint_mismatch" | "plan_unsigned"
            ),
            "unexpected code {error}"
        ),
    }
}
