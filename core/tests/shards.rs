//! Plan shards through the public API: a 1,000-row plan cut into 4, executed in a shuffled
//! order on one store (one shard delivered twice, one crashed mid-way and redelivered),
//! merged, and confirmed once; default-password shards without plaintext; signed shards;
//! refusals.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Hooked, Op};
use lms_bulk_upload::{
    parse, plan, ExecuteOptions, HashParams, HostError, IssueCode, MemoryJournal, MemoryStore,
    MessageKind, OsRandom, Password, Plan, PlanKey, RecordingMailer, Results, Settings,
    ShardOptions, Status, Templates,
};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

const DEFAULT_PASSWORD: &str = "Welcome-to-Intuto-2026";

/// The host's key: shards cross a queue signed.
fn key() -> PlanKey {
    PlanKey::from_bytes(&[5; 32]).unwrap()
}

fn fast(journal: &mut MemoryJournal) -> ExecuteOptions<'_> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        batch_size: 64,
        journal: Some(journal),
        ..Default::default()
    }
}

fn csv(rows: usize) -> String {
    let mut out = String::from("firstname,lastname,email,addgroup\n");
    for i in 0..rows {
        out.push_str(&format!("First{i},Last{i},user{i:04}@example.com,Sales\n"));
    }
    out
}

fn store() -> MemoryStore {
    let mut store = MemoryStore::new();
    store.add_group("g1", "Sales");
    store
}

fn generated() -> Settings {
    Settings::builder()
        .uploader_email("admin@example.com")
        .build()
        .unwrap()
}

fn the_plan(rows: usize, settings: &Settings, store: &mut MemoryStore) -> Plan {
    let upload = parse(csv(rows).as_bytes(), &Default::default()).unwrap();
    plan(&upload, settings, store).unwrap()
}

fn confirmations(mailer: &RecordingMailer) -> usize {
    mailer
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::UploadComplete)
        .count()
}

/// Every user exists once, is in Sales, and the last password emailed to them verifies.
fn check_users(store: &MemoryStore, mailer: &RecordingMailer, rows: usize) {
    let emails: BTreeSet<String> = store.users().iter().map(|u| u.email.clone()).collect();
    assert_eq!(store.users().len(), rows, "nobody is created twice");
    assert_eq!(emails.len(), rows);
    for user in store.users() {
        assert!(user.groups.contains("g1"), "{} is in Sales", user.email);
        let last = mailer
            .messages
            .iter()
            .rev()
            .find(|m| m.to == user.email && m.carries_password())
            .unwrap_or_else(|| panic!("{} was emailed a password", user.email));
        let password = last.fields.password.as_ref().unwrap();
        let hash = user.password_hash.as_ref().unwrap();
        assert!(
            hash.verify(password.expose()),
            "{}: the last emailed password works",
            user.email
        );
    }
}

fn error_code<T: std::fmt::Debug>(result: Result<T, lms_bulk_upload::Error>) -> IssueCode {
    result.expect_err("refused").code()
}

#[test]
fn four_shards_in_any_order_one_redelivered_merge_and_confirm_once() {
    let mut store = store();
    let parent = the_plan(1_000, &generated(), &mut store);
    let shards = parent.shards(250).unwrap();
    assert_eq!(shards.len(), 4);
    let fingerprints: BTreeSet<&str> = shards.iter().map(Plan::fingerprint).collect();
    assert_eq!(fingerprints.len(), 4, "each shard has its own fingerprint");
    assert!(!fingerprints.contains(parent.fingerprint()));
    for (i, shard) in shards.iter().enumerate() {
        let id = shard.shard().unwrap();
        assert_eq!(
            (id.parent.as_str(), id.index, id.count),
            (parent.fingerprint(), i as u32, 4)
        );
        assert_eq!(shard.summary().create, 250);
        // What a queue carries: the signed JSON, read back on the worker (unsigned, a shard
        // is refused).
        let json = shard.to_signed_json(&key());
        assert!(json.contains(&format!("\"parent\":\"{}\"", parent.fingerprint())));
        assert_eq!(&Plan::from_signed_json(&json, &key()).unwrap(), shard);
        assert_eq!(
            Plan::from_json(&shard.to_json()).unwrap_err().code(),
            IssueCode::PlanUnsigned
        );
    }
    assert!(
        !parent.to_json().contains("\"shard\""),
        "a whole plan's JSON is unchanged"
    );

    let mut mailer = RecordingMailer::new();
    let mut journal = MemoryJournal::new(); // the host's database, shared by the workers
    let mut results = Vec::new();
    for i in [2, 0, 3, 1] {
        let worker_plan =
            Plan::from_signed_json(&shards[i].to_signed_json(&key()), &key()).unwrap();
        let result = worker_plan
            .execute(&mut store, &mut mailer, fast(&mut journal))
            .unwrap();
        assert!(result.confirmation_deferred, "a shard does not confirm");
        assert_eq!(result.summary.created, 250);
        assert_eq!(result.shard, worker_plan.shard());
        results.push(result);
    }
    assert_eq!(confirmations(&mailer), 0, "no shard sent the confirmation");
    let mails_before = mailer.messages.len();

    // The queue delivers shard 3 again: the journal finishes it without touching anyone.
    let again = Plan::from_signed_json(&shards[3].to_signed_json(&key()), &key())
        .unwrap()
        .execute(&mut store, &mut mailer, fast(&mut journal))
        .unwrap();
    assert_eq!(again.summary.resumed, 250);
    assert_eq!(again.summary.failed, 0);
    assert_eq!(mailer.messages.len(), mails_before, "nobody emailed twice");
    assert_eq!(
        again.rows, results[2].rows,
        "the same outcome as the first delivery"
    );

    let duplicate = [results.clone(), vec![again.clone()]].concat();
    assert_eq!(
        error_code(Results::merge(&parent, &duplicate)),
        IssueCode::ShardDuplicate
    );
    results[2] = again;
    let mut merged = Results::merge(&parent, &results).unwrap();
    assert_eq!(merged.fingerprint, parent.fingerprint());
    assert_eq!(merged.summary.rows, 1_000);
    assert_eq!(merged.summary.created, 1_000);
    assert_eq!(merged.summary.emails_sent, 1_000);
    assert_eq!(merged.summary.resumed, 250);
    let lines: Vec<u32> = merged.rows.iter().map(|r| r.line).collect();
    let parent_lines: Vec<u32> = parent.rows().iter().map(|r| r.line).collect();
    assert_eq!(lines, parent_lines, "rows in the parent's order");

    merged
        .send_confirmation(&parent, &mut mailer, &Templates::default())
        .unwrap();
    assert_eq!(confirmations(&mailer), 1);
    let confirmation = mailer
        .messages
        .iter()
        .find(|m| m.kind == MessageKind::UploadComplete)
        .unwrap();
    assert_eq!(confirmation.to, "admin@example.com");
    let counts = &confirmation.fields.counts;
    assert!(counts.contains(&("created".into(), 1_000)), "{counts:?}");
    assert!(counts.contains(&("rows".into(), 1_000)), "{counts:?}");
    check_users(&store, &mailer, 1_000);
}

#[test]
fn a_shard_crashed_mid_way_is_redelivered_without_duplicates() {
    let mut store = store();
    let parent = the_plan(40, &generated(), &mut store);
    let shards = parent.shards(20).unwrap();
    let mut mailer = RecordingMailer::new();
    let mut journal = MemoryJournal::new();
    let first = shards[0]
        .execute(&mut store, &mut mailer, fast(&mut journal))
        .unwrap();
    // The worker running shard 1 is killed at its 7th user creation.
    let creations = Cell::new(0);
    let outcome = {
        let mut crashing = Hooked::new(&mut store, |op: Op<'_>| {
            if matches!(op, Op::CreateUser(_)) {
                creations.set(creations.get() + 1);
                if creations.get() == 7 {
                    panic!("injected crash mid-shard");
                }
            }
            Ok::<(), HostError>(())
        });
        catch_unwind(AssertUnwindSafe(|| {
            shards[1].execute(&mut crashing, &mut mailer, fast(&mut journal))
        }))
    };
    assert!(outcome.is_err(), "the worker died");
    assert_eq!(store.users().len(), 26, "shard 0 and six of shard 1");
    // Redelivered to another worker with the same journal.
    let second = Plan::from_signed_json(&shards[1].to_signed_json(&key()), &key())
        .unwrap()
        .execute(&mut store, &mut mailer, fast(&mut journal))
        .unwrap();
    assert_eq!(second.summary.failed, 0, "{second:#?}");
    assert_eq!(second.summary.created, 20);
    let merged = Results::merge(&parent, &[second, first]).unwrap();
    assert_eq!(merged.summary.created, 40);
    assert!(merged.rows.iter().all(|r| r.status == Status::Created));
    check_users(&store, &mailer, 40);
}

fn default_settings() -> Settings {
    Settings::builder()
        .generate_passwords(false)
        .default_password(DEFAULT_PASSWORD)
        .force_password_reset(true)
        .uploader_email("admin@example.com")
        .build()
        .unwrap()
}

#[test]
fn default_password_shards_carry_its_hash_and_need_no_plaintext() {
    let mut store = store();
    let parent = the_plan(30, &default_settings(), &mut store);
    assert_eq!(
        error_code(parent.shards(10)),
        IssueCode::DefaultPasswordRequired
    );
    let params = HashParams::insecure_for_tests(64, 1, 1);
    let prepared =
        Plan::prepare_default_password(&Password::new(DEFAULT_PASSWORD), &params).unwrap();
    assert!(!format!("{prepared:?}").contains(DEFAULT_PASSWORD));
    let shards = parent
        .shards_with(&ShardOptions::new(10).default_password(prepared.clone()))
        .unwrap();
    let mut mailer = RecordingMailer::new();
    let mut journal = MemoryJournal::new();
    let mut results = Vec::new();
    for shard in &shards {
        let json = shard.to_json();
        assert!(!json.contains(DEFAULT_PASSWORD), "no plaintext in a shard");
        assert!(json.contains(prepared.hash().as_str()), "the prepared hash");
        // A worker that never saw the plaintext: no default_password in the options.
        let worker_plan = Plan::from_signed_json(&shard.to_signed_json(&key()), &key()).unwrap();
        let result = worker_plan
            .execute(&mut store, &mut mailer, fast(&mut journal))
            .unwrap();
        assert_eq!(result.summary.created, 10);
        results.push(result);
    }
    for user in store.users() {
        let hash = user.password_hash.as_ref().unwrap();
        assert!(hash.verify(DEFAULT_PASSWORD), "{}", user.email);
        assert!(user.force_password_reset);
    }
    let merged = Results::merge(&parent, &results).unwrap();
    assert_eq!(merged.summary.created, 30);

    // A prepared password for a plan that generates passwords is a mistake.
    let generated_plan = the_plan(3, &generated(), &mut MemoryStore::new());
    assert_eq!(
        error_code(generated_plan.shards_with(&ShardOptions::new(1).default_password(prepared))),
        IssueCode::InvalidOption
    );
}

#[test]
fn signed_shards_round_trip_and_their_identity_cannot_be_edited() {
    let mut store = store();
    let parent = the_plan(10, &default_settings(), &mut store);
    let prepared = Plan::prepare_default_password(
        &Password::new(DEFAULT_PASSWORD),
        &HashParams::insecure_for_tests(64, 1, 1),
    )
    .unwrap();
    let shards = parent
        .shards_with(&ShardOptions::new(4).default_password(prepared))
        .unwrap();
    assert_eq!(shards.len(), 3, "4 + 4 + 2 rows");
    let key = PlanKey::generate(&OsRandom);
    for shard in &shards {
        let signed = shard.to_signed_json(&key);
        assert_eq!(&Plan::from_signed_json(&signed, &key).unwrap(), shard);
    }
    let signed = shards[1].to_signed_json(&key);
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut value: serde_json::Value = serde_json::from_str(&signed).unwrap();
        f(&mut value);
        value.to_string()
    };
    // Moving the shard to another index, or swapping in a hash of a known password.
    let moved = edit(&|v| v["shard"]["index"] = 2.into());
    let swapped = edit(&|v| {
        v["shard"]["default_password_hash"] =
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA".into()
    });
    for edited in [moved, swapped] {
        assert_eq!(
            error_code(Plan::from_signed_json(&edited, &key)),
            IssueCode::FingerprintMismatch
        );
    }
    let other = PlanKey::generate(&OsRandom);
    assert_eq!(
        error_code(Plan::from_signed_json(&signed, &other)),
        IssueCode::PlanSignatureInvalid
    );
    // Nonsense identities are refused when read, before the fingerprint.
    for bad in [
        edit(&|v| v["shard"]["index"] = 3.into()),
        edit(&|v| v["shard"]["parent"] = "sha256:nope".into()),
        edit(&|v| v["shard"]["default_password_hash"] = "plaintext".into()),
    ] {
        assert_eq!(
            error_code(Plan::from_signed_json(&bad, &key)),
            IssueCode::InvalidPlan
        );
        assert_eq!(error_code(Plan::from_json(&bad)), IssueCode::PlanUnsigned);
    }
}

#[test]
fn a_shard_is_not_sharded_and_rows_per_shard_is_at_least_one() {
    let mut store = store();
    let parent = the_plan(5, &generated(), &mut store);
    let shards = parent.shards(2).unwrap();
    assert_eq!(shards.len(), 3);
    assert_eq!(error_code(shards[0].shards(1)), IssueCode::PlanIsShard);
    assert_eq!(error_code(parent.shards(0)), IssueCode::InvalidOption);
    // A plan whose rows were all rejected still shards (and merges) like any other.
    let upload = parse(
        b"firstname,lastname,email\nAna,Lopez,not-an-email\n",
        &Default::default(),
    )
    .unwrap();
    let rejected = plan(&upload, &generated(), &mut store).unwrap();
    let shards = rejected.shards(10).unwrap();
    assert_eq!(shards.len(), 1);
    assert_eq!(shards[0].summary().rejected, 1);
}

#[test]
fn merge_refuses_missing_duplicate_and_foreign_shards() {
    let mut store = store();
    let parent = the_plan(9, &generated(), &mut store);
    let shards = parent.shards(3).unwrap();
    let mut other_store = store.clone();
    let other = the_plan(8, &generated(), &mut other_store);
    let mut mailer = RecordingMailer::new();
    let mut journal = MemoryJournal::new();
    let results: Vec<Results> = shards
        .iter()
        .map(|s| {
            s.execute(&mut store, &mut mailer, fast(&mut journal))
                .unwrap()
        })
        .collect();
    let other_result = other.shards(3).unwrap()[0]
        .execute(&mut other_store, &mut mailer, fast(&mut journal))
        .unwrap();

    let code = |given: Vec<Results>| error_code(Results::merge(&parent, &given));
    assert_eq!(code(results[..2].to_vec()), IssueCode::ShardMissing);
    assert_eq!(code(Vec::new()), IssueCode::ShardMissing);
    let mut twice = results.clone();
    twice[2] = results[0].clone();
    assert_eq!(code(twice), IssueCode::ShardDuplicate);
    let mut foreign = results.clone();
    foreign[1] = other_result;
    assert_eq!(code(foreign), IssueCode::ShardForeign);
    let mut cut_otherwise = results.clone();
    cut_otherwise[0].shard.as_mut().unwrap().count = 4;
    assert_eq!(code(cut_otherwise), IssueCode::ShardForeign);
    let mut huge = results.clone();
    for r in &mut huge {
        r.shard.as_mut().unwrap().count = u32::MAX;
    }
    assert_eq!(
        code(huge),
        IssueCode::ShardForeign,
        "bounded by the parent's rows"
    );
    let mut rows_changed = results.clone();
    rows_changed[1].rows.pop();
    assert_eq!(code(rows_changed), IssueCode::ShardForeign);
    let mut whole = results.clone();
    whole[0].shard = None;
    assert_eq!(code(whole), IssueCode::ShardForeign);
    assert_eq!(
        error_code(Results::merge(&shards[0], &results)),
        IssueCode::PlanIsShard
    );
    // The confirmation is for merged results only.
    let mut one = results[0].clone();
    assert_eq!(
        error_code(one.send_confirmation(&parent, &mut mailer, &Templates::default())),
        IssueCode::PlanIsShard
    );
    assert_eq!(confirmations(&mailer), 0);
    // And the merge works with all three, in any order.
    let reversed: Vec<Results> = results.iter().rev().cloned().collect();
    assert_eq!(
        Results::merge(&parent, &reversed).unwrap().summary.created,
        9
    );
}
