//! Results, undo and shards are untrusted data (issue 19, items 1, 2, 3, 5, 7, 9, 11): signed
//! results, undo secure by default, undo bounded by the upload's declarations, merge checking
//! identity, unsigned shards refused, undo writes re-checked at execution, undo out of order,
//! adoption only of the run's own users, `already` on suspensions.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, plan_undo, Done, ExecuteOptions, ExistingUser, HashParams, Journal, MemoryJournal,
    MemoryStore, OsRandom, ParseOptions, Plan, PlanKey, Profile, ProfileField, RecordingMailer,
    Results, Settings, Status, Store, UndoOptions, UserId,
};
use serde_json::json;

fn fast() -> ExecuteOptions<'static> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: std::time::Duration::ZERO,
        ..ExecuteOptions::default()
    }
}

fn user(id: &str, email: &str) -> ExistingUser {
    ExistingUser {
        profile: Profile {
            first_name: Some("Old".into()),
            last_name: Some("Name".into()),
            ..Profile::default()
        },
        ..ExistingUser::new(id, email)
    }
}

fn key() -> PlanKey {
    PlanKey::from_bytes(&[42; 32]).unwrap()
}

/// Upload `csv` with `settings` into `store`; the results straight from `execute`.
fn upload(
    csv: &str,
    settings: serde_json::Value,
    options: &ParseOptions,
    store: &mut MemoryStore,
) -> Results {
    let upload = parse(csv.as_bytes(), options).unwrap();
    let settings = Settings::from_value(settings).unwrap();
    plan(&upload, &settings, store)
        .unwrap()
        .execute(store, &mut RecordingMailer::new(), fast())
        .unwrap()
}

/// Results JSON edited as an attacker would, with the summary kept consistent (so that the
/// edit is refused for what it says, not for a summary left behind).
fn edited(results: &Results, edit: impl FnOnce(&mut Results)) -> Results {
    let mut copy = Results::from_json(&results.to_json()).unwrap();
    edit(&mut copy);
    let mut value: serde_json::Value = serde_json::from_str(&copy.to_json()).unwrap();
    value["summary"] = recount(&copy);
    Results::from_json(&value.to_string()).unwrap()
}

/// The summary of these rows, as `Results::from_json` recounts it.
fn recount(results: &Results) -> serde_json::Value {
    let mut s = json!({"rows": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0,
        "failed": 0, "emails_sent": results.summary.emails_sent, "resumed": results.summary.resumed});
    let mut add = |key: &str| s[key] = json!(s.get(key).and_then(|v| v.as_u64()).unwrap_or(0) + 1);
    for row in &results.rows {
        add("rows");
        add(row.status.as_str());
        for done in &row.done {
            match done {
                Done::SuspendUser { .. } => add("suspended"),
                Done::DeleteUser => add("deleted"),
                Done::ReactivateUser { .. } => add("reactivated"),
                Done::SetLoginMethod { .. } => add("login_methods_changed"),
                _ => {}
            }
        }
    }
    s
}

#[test]
fn results_are_signed_and_an_edit_or_another_key_is_refused() {
    let mut store = MemoryStore::new();
    let results = upload(
        "firstname,lastname,email\nAna,Lee,ana@x.com\n",
        json!({}),
        &ParseOptions::default(),
        &mut store,
    );
    assert!(
        results.provenance.is_verified(),
        "results straight from execute are the engine's own"
    );
    let signed = results.to_signed_json(&key());
    let back = Results::from_signed_json(&signed, &key()).unwrap();
    assert_eq!(back, results);
    assert!(back.provenance.is_verified());

    let read = Results::from_json(&signed).unwrap();
    assert!(
        !read.provenance.is_verified(),
        "from_json never verifies, signature or not"
    );

    let e = Results::from_signed_json(&results.to_json(), &key()).unwrap_err();
    assert_eq!(e.code().as_str(), "results_unsigned");
    let forged = signed.replace("ana@x.com", "bo@x.com");
    let e = Results::from_signed_json(&forged, &key()).unwrap_err();
    assert_eq!(e.code().as_str(), "results_signature_invalid");
    let other = PlanKey::generate(&OsRandom);
    let e = Results::from_signed_json(&signed, &other).unwrap_err();
    assert_eq!(e.code().as_str(), "results_signature_invalid");
    // A plan signed with the same key is not results.
    let csv = b"firstname,lastname,email\nAna,Lee,ana@x.com\n";
    let upload = parse(csv, &ParseOptions::default()).unwrap();
    let settings = Settings::builder().build().unwrap();
    let planned = plan(&upload, &settings, &mut MemoryStore::new()).unwrap();
    let plan_json = planned.to_signed_json(&key());
    assert!(Results::from_signed_json(&plan_json, &key()).is_err());
}

#[test]
fn unverified_results_drive_no_undo_unless_the_host_vouches_for_their_storage() {
    let mut store = MemoryStore::new();
    let results = upload(
        "firstname,lastname,email\nAna,Lee,ana@x.com\n",
        json!({}),
        &ParseOptions::default(),
        &mut store,
    );
    let read = Results::from_json(&results.to_json()).unwrap();
    let e = plan_undo(&read, &mut store, &UndoOptions::new()).unwrap_err();
    assert_eq!(e.code().as_str(), "results_unsigned");
    let vouched = UndoOptions::from_value(json!({"results_from_trusted_storage": true})).unwrap();
    assert!(plan_undo(&read, &mut store, &vouched).is_ok());
    let signed = Results::from_signed_json(&results.to_signed_json(&key()), &key()).unwrap();
    let undo = plan_undo(&signed, &mut store, &UndoOptions::new()).unwrap();
    assert_eq!(
        undo.summary().suspensions,
        1,
        "signed results undo the creation"
    );
}

fn admins_store() -> MemoryStore {
    let mut store = MemoryStore::new();
    store.add_group("g1", "Administrators");
    store.add_user(user("e1", "eve@x.com"));
    store
}

#[test]
fn a_forged_removal_never_grants_a_membership_and_a_signed_one_is_restored() {
    let mut store = admins_store();
    let results = upload(
        "firstname,lastname,email\nEve,Old,eve@x.com\n",
        json!({"update_existing_profiles": true}),
        &ParseOptions::default(),
        &mut store,
    );
    let forged = edited(&results, |r| {
        r.rows[0].status = Status::Updated;
        r.rows[0].done.push(Done::RemoveFromGroup {
            group: "Administrators".into(),
            already: false,
        });
    });
    // Unsigned: refused. Vouched for: no grant.
    assert_eq!(
        plan_undo(&forged, &mut store, &UndoOptions::new())
            .unwrap_err()
            .code()
            .as_str(),
        "results_unsigned"
    );
    let undo = plan_undo(
        &forged,
        &mut store,
        &UndoOptions::new().results_from_trusted_storage(true),
    )
    .unwrap();
    assert_eq!(undo.summary().group_additions, 0, "{}", undo.to_json());
    undo.execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    assert!(store.user("eve@x.com").unwrap().groups.is_empty());
    // Signed after the edit by someone without the key: refused.
    let signed = results.to_signed_json(&key()).replace(
        "\"done\":[",
        "\"done\":[{\"op\":\"remove_from_group\",\"group\":\"Administrators\"},",
    );
    assert_eq!(
        Results::from_signed_json(&signed, &key())
            .unwrap_err()
            .code()
            .as_str(),
        "results_signature_invalid"
    );
}

#[test]
fn undo_writes_only_declared_fields_and_methods_with_values_they_accept() {
    let options = ParseOptions {
        fields: vec![ProfileField {
            kind: lms_bulk_upload::FieldKind::OneOf(vec!["A".into(), "B".into()]),
            ..ProfileField::text("grade")
        }],
        login_methods: vec!["saml".into()],
        ..ParseOptions::default()
    };
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "eve@x.com"));
    let results = upload(
        "firstname,lastname,email,grade,auth\nEve,New,eve@x.com,A,saml\n",
        json!({"update_existing_profiles": true}),
        &options,
        &mut store,
    );
    let forged = edited(&results, |r| {
        for done in &mut r.rows[0].done {
            match done {
                Done::UpdateProfile {
                    changes,
                    before: Some(before),
                } => {
                    changes.custom.insert("role".into(), String::new());
                    before.custom.insert("role".into(), "admin".into());
                    before.custom.insert("grade".into(), "Z".into());
                    before.language_code = Some("en\u{202e}".into());
                    changes.language_code = Some(String::new());
                }
                Done::SetLoginMethod { before, .. } => *before = Some("backdoor".into()),
                _ => {}
            }
        }
    });
    let vouched = UndoOptions::new()
        .results_from_trusted_storage(true)
        .declarations(&options);
    let undo = plan_undo(&forged, &mut store, &vouched).unwrap();
    undo.execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    let eve = store.user("eve@x.com").unwrap();
    assert!(
        !eve.profile.custom.contains_key("role"),
        "an undeclared field was written"
    );
    assert_eq!(
        eve.profile.custom.get("grade").map(String::as_str),
        Some("A"),
        "a value the field refuses was written"
    );
    assert_eq!(
        eve.login_method.as_deref(),
        Some("saml"),
        "an undeclared login method was set"
    );
    assert_eq!(
        eve.profile.first_name.as_deref(),
        Some("Old"),
        "the declared, valid restore still happens"
    );
    // Signed results are bounded by the declarations too: without them, no custom field.
    let genuine = Results::from_signed_json(&results.to_signed_json(&key()), &key()).unwrap();
    let undo = plan_undo(&genuine, &mut store, &UndoOptions::new()).unwrap();
    assert!(
        undo.to_json().contains("not a declared profile field"),
        "{}",
        undo.to_json()
    );
}

#[test]
fn a_create_user_in_results_never_suspends_or_deletes_a_user_the_run_did_not_create() {
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "eve@x.com"));
    let results = upload(
        "firstname,lastname,email\nAna,Lee,ana@x.com\nEve,Old,eve@x.com\n",
        json!({"update_existing_profiles": true}),
        &ParseOptions::default(),
        &mut store,
    );
    let forged = edited(&results, |r| {
        let eve = r.rows.iter_mut().find(|r| r.email == "eve@x.com").unwrap();
        eve.status = Status::Created;
        eve.user_id = Some(UserId("e1".into()));
        eve.done.insert(0, Done::CreateUser);
    });
    let vouched = UndoOptions::new()
        .results_from_trusted_storage(true)
        .delete_created_users(true);
    let undo = plan_undo(&forged, &mut store, &vouched).unwrap();
    assert_eq!(
        undo.summary().deletions + undo.summary().suspensions,
        0,
        "{}",
        undo.to_json()
    );
    // Verified results whose creation row names another id than the store's: left alone.
    let mut other = MemoryStore::new();
    other.add_user(user("e9", "ana@x.com"));
    let undo = plan_undo(
        &results,
        &mut other,
        &UndoOptions::new().delete_created_users(true),
    )
    .unwrap();
    assert_eq!(undo.summary().deletions, 0);
    assert!(undo.to_json().contains("undo_conflict"));
}

#[test]
fn merge_refuses_a_shard_result_naming_another_person_on_a_line() {
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "eve@x.com"));
    let csv = "firstname,lastname,email\nAna,Lee,ana@x.com\nBo,Lee,bo@x.com\n";
    let parent = plan(
        &parse(csv.as_bytes(), &ParseOptions::default()).unwrap(),
        &Settings::builder().build().unwrap(),
        &mut store,
    )
    .unwrap();
    let shards = parent.shards(1).unwrap();
    let mut results: Vec<Results> = shards
        .iter()
        .map(|s| {
            s.execute(&mut store, &mut RecordingMailer::new(), fast())
                .unwrap()
        })
        .collect();
    assert!(Results::merge(&parent, &results)
        .unwrap()
        .provenance
        .is_verified());
    let mut json: serde_json::Value = serde_json::from_str(&results[1].to_json()).unwrap();
    json["rows"][0]["email"] = json!("eve@x.com");
    json["rows"][0]["user_id"] = json!("e1");
    results[1] = Results::from_json(&json.to_string()).unwrap();
    let e = Results::merge(&parent, &results).unwrap_err();
    assert_eq!(e.code().as_str(), "shard_result_mismatch");
    // Stored unsigned, the genuine results merge but are not verified.
    results[1] = Results::from_json(
        &shards[1]
            .execute(&mut MemoryStore::new(), &mut RecordingMailer::new(), fast())
            .unwrap()
            .to_json(),
    )
    .unwrap();
    assert!(!Results::merge(&parent, &results)
        .unwrap()
        .provenance
        .is_verified());
}

#[test]
fn an_unsigned_shard_is_refused_and_a_signed_one_read() {
    let csv = "firstname,lastname,email\nAna,Lee,ana@x.com\n";
    let settings = Settings::builder()
        .generate_passwords(false)
        .default_password("Tr1cky-Horse-Battery-77")
        .build()
        .unwrap();
    let parent = plan(
        &parse(csv.as_bytes(), &ParseOptions::default()).unwrap(),
        &settings,
        &mut MemoryStore::new(),
    )
    .unwrap();
    let prepared = Plan::prepare_default_password(
        &lms_bulk_upload::Password::new("Tr1cky-Horse-Battery-77"),
        &HashParams::insecure_for_tests(64, 1, 1),
    )
    .unwrap();
    let shard = &parent
        .shards_with(&lms_bulk_upload::ShardOptions::new(1).default_password(prepared))
        .unwrap()[0];
    let e = Plan::from_json(&shard.to_json()).unwrap_err();
    assert_eq!(e.code().as_str(), "plan_unsigned");
    let back = Plan::from_signed_json(&shard.to_signed_json(&key()), &key()).unwrap();
    assert_eq!(back.shard(), shard.shard());
}

#[test]
fn a_shard_never_sets_a_password_on_an_existing_user_and_a_replay_keeps_the_users_own() {
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "eve@x.com"));
    let csv = "firstname,lastname,email\nAna,Lee,ana@x.com\nEve,Old,eve@x.com\n";
    let settings = Settings::builder()
        .update_existing_passwords(true)
        .build()
        .unwrap();
    let parent = plan(
        &parse(csv.as_bytes(), &ParseOptions::default()).unwrap(),
        &settings,
        &mut store,
    )
    .unwrap();
    assert_eq!(
        parent.shards(1).unwrap_err().code().as_str(),
        "shard_sets_password"
    );

    // A create-only shard, executed, then the user sets her own password; replayed without
    // its journal the shard does not touch her.
    let settings = Settings::builder().build().unwrap();
    let parent = plan(
        &parse(csv.as_bytes(), &ParseOptions::default()).unwrap(),
        &settings,
        &mut store,
    )
    .unwrap();
    let shard =
        Plan::from_signed_json(&parent.shards(1).unwrap()[0].to_signed_json(&key()), &key())
            .unwrap();
    shard
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    let ana = store.user("ana@x.com").unwrap().id.clone();
    let own = lms_bulk_upload::hash_password(
        &lms_bulk_upload::Password::new("Her-own-choice-2026"),
        &HashParams::insecure_for_tests(64, 1, 1),
        &OsRandom,
    )
    .unwrap();
    store.set_password(&ana, &own, false).unwrap();
    let replay = shard
        .execute(
            &mut store,
            &mut RecordingMailer::new(),
            ExecuteOptions {
                journal: Some(&mut MemoryJournal::new()),
                ..fast()
            },
        )
        .unwrap();
    assert_eq!(
        replay.rows[0].error.as_ref().unwrap().code.as_str(),
        "user_exists_now"
    );
    assert_eq!(
        store.user("ana@x.com").unwrap().password_hash.as_ref(),
        Some(&own)
    );
}

#[test]
fn an_undo_write_checks_the_value_it_replaces_when_it_is_executed() {
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "eve@x.com"));
    let results = upload(
        "firstname,lastname,email,phonenumber\nEve,Old,eve@x.com,555\n",
        json!({"update_existing_profiles": true}),
        &ParseOptions::default(),
        &mut store,
    );
    let undo = plan_undo(&results, &mut store, &UndoOptions::new()).unwrap();
    assert_eq!(undo.summary().profile_updates, 1);
    // Changed after the undo was planned, before it runs.
    let eve = UserId("e1".into());
    store
        .update_profile(
            &eve,
            &Profile {
                phone_number: Some("777".into()),
                ..Profile::default()
            },
        )
        .unwrap();
    let done = Plan::from_signed_json(&undo.to_signed_json(&key()), &key())
        .unwrap()
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    assert_eq!(done.rows[0].status, Status::Failed);
    assert_eq!(
        done.rows[0].error.as_ref().unwrap().code.as_str(),
        "undo_conflict"
    );
    assert_eq!(
        store
            .user("eve@x.com")
            .unwrap()
            .profile
            .phone_number
            .as_deref(),
        Some("777")
    );
}

#[test]
fn undo_out_of_order_never_leaves_a_user_of_an_undone_upload_active() {
    // Run 2 creates Ana; run 3 (a file that lists everyone, without her) suspends her.
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "eve@x.com"));
    let run2 = upload(
        "firstname,lastname,email\nAna,Lee,ana@x.com\nEve,Old,eve@x.com\n",
        json!({}),
        &ParseOptions::default(),
        &mut store,
    );
    let run3 = upload(
        "firstname,lastname,email\nEve,Old,eve@x.com\n",
        json!({"suspend_missing_users": true, "missing_users_threshold": 100}),
        &ParseOptions::default(),
        &mut store,
    );
    assert!(store.user("ana@x.com").unwrap().suspended);
    // `undo 2 --delete` deletes her, suspended or not.
    let mut deleting = store.clone();
    plan_undo(
        &run2,
        &mut deleting,
        &UndoOptions::new().delete_created_users(true),
    )
    .unwrap()
    .execute(&mut deleting, &mut RecordingMailer::new(), fast())
    .unwrap();
    assert!(deleting.user("ana@x.com").is_none());
    let undo3 = plan_undo(&run3, &mut deleting, &UndoOptions::new()).unwrap();
    assert_eq!(undo3.summary().reactivations, 0);
    // `undo 2` (suspending) then `undo 3`: she is not reactivated.
    plan_undo(&run2, &mut store, &UndoOptions::new())
        .unwrap()
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    let ana = store.user("ana@x.com").unwrap().id.clone();
    let undo3 = plan_undo(
        &run3,
        &mut store,
        &UndoOptions::new().undone_creations([ana]),
    )
    .unwrap();
    assert_eq!(undo3.summary().reactivations, 0);
    undo3
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    assert!(store.user("ana@x.com").unwrap().suspended);
}

#[test]
fn resuming_adopts_only_a_user_the_journal_records_as_the_runs_own() {
    let csv = "firstname,lastname,email\nAna,Lee,ana@x.com\n";
    let mut store = MemoryStore::new();
    let planned = plan(
        &parse(csv.as_bytes(), &ParseOptions::default()).unwrap(),
        &Settings::builder().build().unwrap(),
        &mut store,
    )
    .unwrap();
    // The run began the row and its create_user failed; someone else then created ana.
    let mut journal = MemoryJournal::new();
    journal.begin(planned.fingerprint(), 2).unwrap();
    store.add_user(user("mallory", "ana@x.com"));
    let results = planned
        .execute(
            &mut store,
            &mut RecordingMailer::new(),
            ExecuteOptions {
                journal: Some(&mut journal),
                ..fast()
            },
        )
        .unwrap();
    assert_eq!(
        results.rows[0].error.as_ref().unwrap().code.as_str(),
        "user_exists_now"
    );
    assert!(
        store.user("ana@x.com").unwrap().password_hash.is_none(),
        "not adopted"
    );
    // The journal recorded the id at creation: that user is the run's own, and is adopted.
    let mut journal = MemoryJournal::new();
    journal
        .created(planned.fingerprint(), 2, &UserId("mallory".into()))
        .unwrap();
    let results = planned
        .execute(
            &mut store,
            &mut RecordingMailer::new(),
            ExecuteOptions {
                journal: Some(&mut journal),
                ..fast()
            },
        )
        .unwrap();
    assert_eq!(results.rows[0].status, Status::Created);
    assert_eq!(results.rows[0].done[0], Done::RecoverUser);
}

#[test]
fn a_suspension_the_store_already_had_is_marked_and_not_undone() {
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "eve@x.com"));
    store.add_user(user("e2", "bo@x.com"));
    let upload_ = parse(
        b"firstname,lastname,email\nEve,Old,eve@x.com\n",
        &ParseOptions::default(),
    )
    .unwrap();
    let settings = Settings::from_value(
        json!({"suspend_missing_users": true, "missing_users_threshold": 100}),
    )
    .unwrap();
    let planned = plan(&upload_, &settings, &mut store).unwrap();
    // Suspended for cause between planning and execution.
    store.suspend_user(&UserId("e2".into())).unwrap();
    let results = planned
        .execute(&mut store, &mut RecordingMailer::new(), fast())
        .unwrap();
    let bo = results.rows.iter().find(|r| r.email == "bo@x.com").unwrap();
    assert_eq!(bo.done, vec![Done::SuspendUser { already: true }]);
    let undo = plan_undo(&results, &mut store, &UndoOptions::new()).unwrap();
    assert_eq!(undo.summary().reactivations, 0);
}
