//! Crash and failure at every operation (the re-check's lookups before each batch
//! included): after resuming with the same journal, the store equals an uninterrupted run,
//! nobody is created twice, and every user's last emailed password is the one that works;
//! with sign-in links, every link a user was emailed works.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Hooked, Op};
use lms_bulk_upload::{
    parse, plan, ContentKind, ContentRef, ExecuteOptions, ExistingUser, HashParams, HostError,
    MemoryJournal, MemoryStore, Plan, Profile, RecordingMailer, Settings, StoreState, UserId,
};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

const FILE: &str = "firstname,lastname,email,addgroup,removegroup,organisation\n\
Ana,Lopez,ana@example.com,Sales,,Acme\n\
Bo,Chen,bo@example.com,,,\n\
Cy,Old,CY@example.com,Support,Sales,NewOrg\n\
Di,Keep,di@example.com,,,\n\
Ed,Admin,ed@example.com,,,\n\
Fa,New,fa@example.com,Support;Sales,,\n";

fn before() -> MemoryStore {
    let mut store = MemoryStore::new();
    for (id, name) in [("g1", "Sales"), ("g2", "Support"), ("g3", "All")] {
        store.add_group(id, name);
    }
    store.add_content(ContentRef::new(ContentKind::Course, "c1"));
    store.add_content(ContentRef::new(ContentKind::Campaign, "k1"));
    let user = |id: &str, email: &str, groups: &[&str], protected: bool| ExistingUser {
        id: UserId(id.into()),
        email: email.into(),
        profile: Profile {
            first_name: Some("Cy".into()),
            last_name: Some("Old".into()),
            ..Default::default()
        },
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        enrolments: vec![ContentRef::new(ContentKind::Course, "c1")],
        protected,
        suspended: false,
        suspended_by_upload: false,
        login_method: None,
    };
    store.add_user(user("e1", "cy@example.com", &["Sales"], false));
    store.add_user(user("e2", "di@example.com", &[], false));
    store.add_user(user("e3", "ed@example.com", &["All"], true));
    store
}

thread_local! {
    /// Whether the plan sends sign-in links instead of generated passwords.
    static LINKS: Cell<bool> = const { Cell::new(false) };
}

fn the_plan(store: &mut MemoryStore) -> Plan {
    let upload = parse(FILE.as_bytes(), &Default::default()).unwrap();
    let settings = Settings::builder()
        .send_invitations(LINKS.with(Cell::get))
        .update_existing_profiles(true)
        .update_existing_passwords(true)
        .enrol_existing_users(true)
        .force_password_reset(true)
        .group("All")
        .enrol(ContentRef::new(ContentKind::Course, "c1"))
        .enrol(ContentRef::new(ContentKind::Campaign, "k1"))
        .uploader_email("admin@example.com")
        .build()
        .unwrap();
    plan(&upload, &settings, store).unwrap()
}

fn options(journal: &mut MemoryJournal) -> ExecuteOptions<'_> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        batch_size: 2,
        journal: Some(journal),
        ..Default::default()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    Panic,
    Permanent,
    Transient,
}

/// Fails (or panics) at the `at`-th call counted across the store and the mailer.
struct Faulty<'a> {
    calls: &'a Cell<u64>,
    at: u64,
    fault: Fault,
}

impl Faulty<'_> {
    fn tick(&self) -> Result<(), HostError> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        if n != self.at {
            return Ok(());
        }
        match self.fault {
            Fault::Panic => panic!("injected crash at operation {n}"),
            Fault::Permanent => Err(HostError::permanent(format!(
                "injected failure at operation {n}"
            ))),
            Fault::Transient => Err(HostError::transient(format!(
                "injected transient failure at operation {n}"
            ))),
        }
    }
}

/// The state to compare: ids of created users differ between runs, so drop them; so may the
/// number of links a user holds (a resumed row issues another, the first one kept).
fn comparable(store: &MemoryStore) -> StoreState {
    let mut state = store.state();
    for user in &mut state.users {
        if user.id.as_deref().is_some_and(|id| id.starts_with('u')) {
            user.id = None;
        }
        user.invitations = user.invitations.min(1);
    }
    state
}

/// Every sign-in link emailed to a user works (none was revoked by the resumed run), and
/// every user who holds a link was emailed one.
fn check_emailed_links_work(store: &mut MemoryStore, mailer: &RecordingMailer, context: &str) {
    let users: Vec<(UserId, String)> = store
        .users()
        .iter()
        .map(|u| (u.id.clone(), u.email.clone()))
        .collect();
    for (id, email) in users {
        let links: Vec<String> = mailer
            .messages
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(&email))
            .filter_map(|m| m.fields.invitation_url.as_ref())
            .map(|l| l.expose().rsplit('/').next().unwrap_or_default().to_owned())
            .collect();
        for token in &links {
            assert_eq!(
                lms_bulk_upload::verify_invitation(store, token)
                    .ok()
                    .as_ref(),
                Some(&id),
                "{context}: a link emailed to {email} does not work"
            );
        }
        if links.is_empty() {
            assert_eq!(
                store.invitations_of(&id),
                0,
                "{context}: {email} holds a link never emailed"
            );
        }
    }
}

/// Runs the plan with a fault at operation `at`, then resumes; returns the store, the
/// mails and whether the fault fired.
fn interrupted_then_resumed(at: u64, fault: Fault) -> (MemoryStore, RecordingMailer, bool) {
    let mut store = before();
    let plan = the_plan(&mut store);
    let mut mailer = RecordingMailer::new();
    let mut journal = MemoryJournal::new();
    let calls = Cell::new(0);
    {
        let faults = Faulty {
            calls: &calls,
            at,
            fault,
        };
        let mut faulty_store = Hooked::new(&mut store, |_: Op<'_>| faults.tick());
        let mut faulty_mailer = Hooked::new(&mut mailer, |_: Op<'_>| faults.tick());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            plan.execute(&mut faulty_store, &mut faulty_mailer, options(&mut journal))
        }));
        if fault == Fault::Panic {
            assert_eq!(
                outcome.is_err(),
                calls.get() >= at,
                "a panic at {at} must unwind out of execute"
            );
        }
    }
    let fired = calls.get() >= at;
    let results = plan
        .execute(&mut store, &mut mailer, options(&mut journal))
        .unwrap();
    assert_eq!(
        results.summary.failed, 0,
        "the resumed run finishes every row (fault at {at}): {results:#?}"
    );
    (store, mailer, fired)
}

fn check_emailed_passwords_work(store: &MemoryStore, mailer: &RecordingMailer, context: &str) {
    for user in store.users() {
        let last = mailer
            .messages
            .iter()
            .rev()
            .find(|m| m.to.eq_ignore_ascii_case(&user.email) && m.carries_password());
        match (last, &user.password_hash) {
            (Some(message), Some(hash)) => {
                let password = message.fields.password.as_ref().unwrap();
                assert!(
                    hash.verify(password.expose()),
                    "{context}: the last password emailed to {} does not work",
                    user.email
                );
            }
            (None, Some(_)) => panic!(
                "{context}: {} has a password that was never emailed",
                user.email
            ),
            (Some(_), None) => panic!(
                "{context}: {} was emailed a password but has none",
                user.email
            ),
            (None, None) => {}
        }
    }
}

#[test]
fn every_fault_point_is_survived() {
    every_fault_point(false);
}

#[test]
fn every_fault_point_is_survived_with_sign_in_links() {
    every_fault_point(true);
}

fn every_fault_point(links: bool) {
    LINKS.with(|l| l.set(links));
    let mut reference_store = before();
    let plan = the_plan(&mut reference_store);
    let mut reference_mailer = RecordingMailer::new();
    let mut journal = MemoryJournal::new();
    let calls = Cell::new(0);
    let mut lookups = 0;
    {
        let faults = Faulty {
            calls: &calls,
            at: 0,
            fault: Fault::Panic,
        };
        let mut counting = Hooked::new(&mut reference_store, |op: Op<'_>| {
            lookups += u64::from(matches!(
                op,
                Op::FindUsers | Op::FindGroups | Op::FindContent
            ));
            faults.tick()
        });
        let mut counting_mailer = Hooked::new(&mut reference_mailer, |_: Op<'_>| faults.tick());
        plan.execute(&mut counting, &mut counting_mailer, options(&mut journal))
            .unwrap();
    }
    let total = calls.get();
    assert!(
        total > 20,
        "the scenario exercises many operations ({total})"
    );
    // The re-check before each of the 3 batches (6 rows, 2 per batch) reads the users, the
    // groups and the content again: those 9 lookups are fault points too.
    assert_eq!(lookups, 9);
    let expected = comparable(&reference_store);
    check_emailed_passwords_work(&reference_store, &reference_mailer, "uninterrupted");
    check_emailed_links_work(&mut reference_store, &reference_mailer, "uninterrupted");
    if links {
        assert!(
            reference_mailer
                .messages
                .iter()
                .any(|m| m.carries_invitation()),
            "the plan sends links"
        );
    }

    // The injected panics are expected: keep the test output readable.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("injected crash") {
            default_hook(info);
        }
    }));
    let mut survived = 0;
    for fault in [Fault::Panic, Fault::Permanent, Fault::Transient] {
        for at in 1..=total {
            let context = format!("{fault:?} at operation {at} of {total}");
            let (store, mailer, fired) = interrupted_then_resumed(at, fault);
            assert!(fired, "{context}: the fault point was reached");
            assert_eq!(
                comparable(&store),
                expected,
                "{context}: the final store differs"
            );
            assert_eq!(
                store.users().len(),
                reference_store.users().len(),
                "{context}: someone was created twice"
            );
            check_emailed_passwords_work(&store, &mailer, &context);
            let mut store = store;
            check_emailed_links_work(&mut store, &mailer, &context);
            survived += 1;
        }
    }
    assert_eq!(survived, 3 * total);
    println!("fault points injected and survived: {survived} ({total} operations × 3 kinds)");
}
