//! A stale plan never changes the wrong person (issue 10, case 2): between planning and
//! execution the store changes, and execution re-reads each batch's users, groups and
//! content before writing. A row that no longer holds is not written at all and fails with
//! its own code; the other rows go on.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Hooked, Op};
use lms_bulk_upload::{
    parse, plan, ContentKind, ContentRef, ExecuteOptions, ExistingUser, Group, HashParams,
    IssueCode, MemoryJournal, MemoryStore, Plan, Profile, RecordingMailer, Results, Settings,
    Status, StoreState, UserId, UserState,
};
use std::time::Duration;

fn fast<'a>() -> ExecuteOptions<'a> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        ..Default::default()
    }
}

fn journaled(journal: &mut MemoryJournal) -> ExecuteOptions<'_> {
    ExecuteOptions {
        journal: Some(journal),
        ..fast()
    }
}

fn user(id: &str, email: &str, protected: bool) -> ExistingUser {
    ExistingUser {
        id: UserId(id.into()),
        email: email.into(),
        profile: Profile {
            first_name: Some("Old".into()),
            last_name: Some("Name".into()),
            ..Profile::default()
        },
        groups: Vec::new(),
        enrolments: Vec::new(),
        protected,
        suspended: false,
        suspended_by_upload: false,
        login_method: None,
    }
}

/// Ana (e1) and Cy (e2) exist; Bo is new; groups Sales and Support, course c1.
fn store_before() -> MemoryStore {
    let mut store = MemoryStore::new();
    store.add_group("g1", "Sales");
    store.add_group("g2", "Support");
    store.add_content(ContentRef::new(ContentKind::Course, "c1"));
    store.add_user(user("e1", "ana@x.com", false));
    store.add_user(user("e2", "cy@x.com", false));
    store
}

const FILE: &str = "firstname,lastname,emailaddress,addgroup\n\
Ana,Lopez,ana@x.com,\n\
Bo,Chan,bo@x.com,\n\
Cy,Diaz,cy@x.com,\n";

/// Existing users get a new password (emailed) and a profile update; everyone joins Sales.
fn the_plan(store: &mut MemoryStore) -> Plan {
    let upload = parse(FILE.as_bytes(), &Default::default()).unwrap();
    let settings = Settings::builder()
        .update_existing_profiles(true)
        .update_existing_passwords(true)
        .group("Sales")
        .build()
        .unwrap();
    let plan = plan(&upload, &settings, store).unwrap();
    assert_eq!(plan.summary().update, 2);
    assert_eq!(plan.summary().create, 1);
    plan
}

/// The store as the host has it at execution: `before`, changed by `change`.
fn changed(before: &MemoryStore, change: impl FnOnce(&mut StoreState)) -> MemoryStore {
    let mut state = before.state();
    change(&mut state);
    MemoryStore::from_state(&state)
}

fn stored<'s>(state: &'s mut StoreState, email: &str) -> &'s mut UserState {
    state.users.iter_mut().find(|u| u.email == email).unwrap()
}

fn remove(state: &mut StoreState, email: &str) {
    state.users.retain(|u| !u.email.eq_ignore_ascii_case(email));
}

fn execute(plan: &Plan, store: &mut MemoryStore, mailer: &mut RecordingMailer) -> Results {
    plan.execute(store, mailer, fast()).unwrap()
}

fn code(results: &Results, line: u32) -> Option<IssueCode> {
    let row = results.rows.iter().find(|r| r.line == line).unwrap();
    row.error.as_ref().map(|e| e.code)
}

fn emailed(mailer: &RecordingMailer, to: &str) -> bool {
    mailer
        .messages
        .iter()
        .any(|m| m.to.eq_ignore_ascii_case(to))
}

#[test]
fn a_user_made_protected_after_planning_keeps_their_password() {
    let mut planning = store_before();
    let plan = the_plan(&mut planning);
    let mut store = changed(&planning, |s| stored(s, "ana@x.com").protected = true);
    let mut mailer = RecordingMailer::new();
    let results = execute(&plan, &mut store, &mut mailer);

    assert_eq!(code(&results, 2), Some(IssueCode::UserNowProtected));
    let ana = &results.rows[0];
    assert_eq!(ana.status, Status::Failed);
    assert!(ana.done.is_empty(), "nothing at all was written: {ana:?}");
    let stored = store.user("ana@x.com").unwrap();
    assert!(
        stored.password_hash.is_none(),
        "the password was not changed"
    );
    assert_eq!(stored.profile.first_name.as_deref(), Some("Old"));
    assert!(stored.groups.is_empty());
    assert!(!emailed(&mailer, "ana@x.com"));
    // The other rows go on; the counts are what happened.
    assert_eq!(results.summary.created, 1);
    assert_eq!(results.summary.updated, 1);
    assert_eq!(results.summary.failed, 1);
    assert_eq!(results.summary.emails_sent, 2);
}

#[test]
fn a_deleted_user_is_neither_reported_updated_nor_emailed() {
    let mut planning = store_before();
    let plan = the_plan(&mut planning);
    let mut store = changed(&planning, |s| remove(s, "cy@x.com"));
    let mut mailer = RecordingMailer::new();
    let results = execute(&plan, &mut store, &mut mailer);

    assert_eq!(code(&results, 4), Some(IssueCode::StalePlan));
    assert_eq!(results.rows[2].status, Status::Failed);
    assert!(store.user("cy@x.com").is_none(), "not created again either");
    assert!(!emailed(&mailer, "cy@x.com"));
    assert_eq!(results.summary.updated, 1);
}

#[test]
fn an_id_reused_for_someone_else_gets_nothing_of_the_old_users_row() {
    let mut planning = store_before();
    let plan = the_plan(&mut planning);
    // Ana is deleted; her id e1 now belongs to a protected administrator.
    let mut store = changed(&planning, |s| {
        remove(s, "ana@x.com");
        s.users.push(UserState {
            id: Some("e1".into()),
            email: "root@x.com".into(),
            profile: Profile::default(),
            groups: Vec::new(),
            enrolments: Vec::new(),
            protected: true,
            suspended: false,
            suspended_by_upload: false,
            login_method: None,
            has_password: false,
            force_password_reset: false,
            invitations: 0,
        });
    });
    let mut mailer = RecordingMailer::new();
    let results = execute(&plan, &mut store, &mut mailer);

    assert_eq!(code(&results, 2), Some(IssueCode::StalePlan));
    let root = store.user("root@x.com").unwrap();
    assert_eq!(root.id, UserId("e1".into()));
    assert!(
        root.password_hash.is_none(),
        "the new user's password is untouched"
    );
    assert!(root.groups.is_empty() && root.profile.first_name.is_none());
    assert!(!emailed(&mailer, "ana@x.com") && !emailed(&mailer, "root@x.com"));
}

#[test]
fn the_same_user_with_the_email_in_another_case_still_holds() {
    let mut planning = store_before();
    let plan = the_plan(&mut planning);
    let mut store = changed(&planning, |s| {
        stored(s, "ana@x.com").email = "ANA@X.com".into()
    });
    let results = execute(&plan, &mut store, &mut RecordingMailer::new());
    assert_eq!(results.rows[0].status, Status::Updated, "{results:?}");
    assert_eq!(results.summary.failed, 0);
}

#[test]
fn a_user_created_elsewhere_after_planning_is_not_overwritten() {
    let mut planning = store_before();
    let plan = the_plan(&mut planning);
    let mut store = changed(&planning, |_| {});
    store.add_user(user("e7", "BO@x.com", false));
    let mut mailer = RecordingMailer::new();
    let results = execute(&plan, &mut store, &mut mailer);

    assert_eq!(code(&results, 3), Some(IssueCode::UserExistsNow));
    let bo = store.user("bo@x.com").unwrap();
    assert_eq!(bo.id, UserId("e7".into()));
    assert!(bo.password_hash.is_none() && bo.groups.is_empty());
    assert!(!emailed(&mailer, "bo@x.com"));
    assert_eq!(results.summary.created, 0);
}

#[test]
fn a_group_or_content_gone_stops_only_the_rows_that_use_it() {
    let upload = parse(
        b"firstname,lastname,emailaddress,addgroup\nAna,Lopez,ana@x.com,Support\nBo,Chan,bo@x.com,\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .update_existing_profiles(true)
        .build()
        .unwrap();
    let mut planning = store_before();
    let planned = plan(&upload, &settings, &mut planning).unwrap();
    // Support is deleted and created again: another group with the same name.
    let mut store = changed(&planning, |s| {
        s.groups.retain(|g| g.name != "Support");
        s.groups.push(Group {
            id: "g9".into(),
            name: "Support".into(),
        });
    });
    let results = execute(&planned, &mut store, &mut RecordingMailer::new());
    assert_eq!(code(&results, 2), Some(IssueCode::GroupGone));
    assert_eq!(results.rows[1].status, Status::Created);
    assert!(store.user("ana@x.com").unwrap().groups.is_empty());

    let settings = Settings::builder()
        .enrol(ContentRef::new(ContentKind::Course, "c1"))
        .build()
        .unwrap();
    let mut planning = store_before();
    let planned = plan(&upload, &settings, &mut planning).unwrap();
    let mut store = changed(&planning, |s| s.content.clear());
    let mut mailer = RecordingMailer::new();
    let results = execute(&planned, &mut store, &mut mailer);
    assert_eq!(code(&results, 3), Some(IssueCode::ContentGone));
    assert!(
        store.user("bo@x.com").is_none(),
        "not created without its enrolment"
    );
    assert!(mailer.messages.is_empty());
}

#[test]
fn a_forged_plan_cannot_write_to_a_protected_user() {
    // The administrator is protected at planning: the plan rejects the row. A forged plan
    // turns it into a password change with a consistent summary and a recomputed
    // fingerprint; the re-check still finds the user protected and writes nothing.
    let mut store = MemoryStore::new();
    store.add_user(user("e1", "root@x.com", true));
    let upload = parse(
        b"firstname,lastname,emailaddress\nRoot,Admin,root@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .update_existing_passwords(true)
        .build()
        .unwrap();
    let honest = plan(&upload, &settings, &mut store).unwrap();
    assert_eq!(honest.summary().rejected, 1);
    let json = honest.to_json();
    let issues = json.find(",\"issues\":[").unwrap();
    let end = issues + json[issues..].find(']').unwrap() + 1;
    let forged = format!("{}{}", &json[..issues], &json[end..]).replace(
        "\"action\":\"rejected\",\"user_id\":\"e1\"",
        "\"action\":\"update\",\"user_id\":\"e1\",\"operations\":[{\"op\":\"set_password\"},\
             {\"op\":\"send_email\",\"kind\":\"password_changed\"}]",
    );
    let forged = with_summary(
        &forged,
        "\"rows\":1,\"rejected\":0,\"create\":0,\"update\":1,\"unchanged\":0,\
        \"profile_updates\":0,\"passwords\":1,\"group_additions\":0,\"group_removals\":0,\
        \"enrolments\":0,\"emails\":1,\"warnings\":0",
    );
    let forged = Plan::from_json(&refingerprint(&forged)).expect("a consistent forged plan reads");

    let mut mailer = RecordingMailer::new();
    let results = forged.execute(&mut store, &mut mailer, fast()).unwrap();
    assert_eq!(code(&results, 2), Some(IssueCode::UserNowProtected));
    assert!(store.user("root@x.com").unwrap().password_hash.is_none());
    assert!(mailer.messages.is_empty());
}

#[test]
fn a_plan_whose_summary_is_not_its_rows_is_refused() {
    let mut store = store_before();
    let plan = the_plan(&mut store);
    // "Nothing will be written", says the forged summary.
    let forged = with_summary(&plan.to_json(), "\"rows\":3,\"rejected\":0,\"create\":0,\"update\":0,\
        \"unchanged\":3,\"profile_updates\":0,\"passwords\":0,\"group_additions\":0,\"group_removals\":0,\
        \"enrolments\":0,\"emails\":0,\"warnings\":0");
    let err = Plan::from_json(&refingerprint(&forged)).unwrap_err();
    assert_eq!(err.code(), IssueCode::InvalidPlan);
    assert!(err.message().contains("summary"), "{err}");
}

#[test]
fn each_batch_is_re_read_with_one_find_users_call() {
    let mut csv = String::from("firstname,lastname,emailaddress\n");
    for i in 0..10 {
        csv.push_str(&format!("U,{i},u{i}@x.com\n"));
    }
    let upload = parse(csv.as_bytes(), &Default::default()).unwrap();
    let settings = Settings::builder().build().unwrap();
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    let mut lookups = 0;
    let mut hooked = Hooked::new(&mut store, |op: Op<'_>| {
        lookups += u32::from(matches!(op, Op::FindUsers));
        Ok(())
    });
    let options = ExecuteOptions {
        batch_size: 4,
        ..fast()
    };
    let results = planned
        .execute(&mut hooked, &mut RecordingMailer::new(), options)
        .unwrap();
    assert_eq!(results.summary.created, 10);
    assert_eq!(lookups, 3, "batches of 4, 4 and 2 rows");
}

#[test]
fn a_resumed_create_finds_its_user_again_unless_it_became_protected() {
    let upload = parse(
        b"firstname,lastname,emailaddress\nBo,Chan,bo@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder().build().unwrap();
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    // The first run creates Bo, then the mailer fails: the row stays begun in the journal.
    let mut journal = MemoryJournal::new();
    let mut broken = Hooked::new(RecordingMailer::new(), |op: Op<'_>| match op {
        Op::Send(_) => Err(lms_bulk_upload::HostError::permanent("smtp down")),
        _ => Ok(()),
    });
    let first = planned
        .execute(&mut store, &mut broken, journaled(&mut journal))
        .unwrap();
    assert_eq!(code(&first, 2), Some(IssueCode::MailerFailed));
    assert!(store.user("bo@x.com").is_some());

    // Resumed: Bo is found again (never created twice), gets a new password and the email.
    let mut again = store.clone();
    let mut journal_again = journal.clone();
    let mut mailer = RecordingMailer::new();
    let resumed = planned
        .execute(&mut again, &mut mailer, journaled(&mut journal_again))
        .unwrap();
    assert_eq!(resumed.rows[0].status, Status::Created, "{resumed:?}");
    assert_eq!(again.users().len(), 1);
    assert!(emailed(&mailer, "bo@x.com"));

    // Resumed after Bo was made protected: nothing is written.
    let mut protected = changed(&store, |s| s.users[0].protected = true);
    let mut mailer = RecordingMailer::new();
    let refused = planned
        .execute(&mut protected, &mut mailer, journaled(&mut journal))
        .unwrap();
    assert_eq!(code(&refused, 2), Some(IssueCode::UserNowProtected));
    assert!(mailer.messages.is_empty());
}

/// The plan JSON with its summary object replaced by `fields`.
fn with_summary(json: &str, fields: &str) -> String {
    let start = json.find("\"summary\":{").unwrap() + "\"summary\":{".len();
    let end = start + json[start..].find('}').unwrap();
    format!("{}{fields}{}", &json[..start], &json[end..])
}

/// The plan JSON with its SHA-256 fingerprint recomputed, as anyone can: the fingerprint
/// covers the plan's JSON without its `fingerprint` member.
fn refingerprint(json: &str) -> String {
    use sha2::{Digest, Sha256};
    let start = json.find("\"fingerprint\":\"").unwrap();
    let end = start + json[start..].find("\",").unwrap() + 2;
    let canonical = format!("{}{}", &json[..start], &json[end..]);
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}\"fingerprint\":\"sha256:{hex}\",{}",
        &json[..start],
        &json[end..]
    )
}
