//! Sign-in links through the public API: issued at execution, verified and redeemed once,
//! revoked by a newer link and by undo, never in a plan, results or `Debug`, and still
//! working after an interrupted execution is resumed.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, plan_undo, redeem_invitation, verify_invitation, verify_invitation_at,
    ExecuteOptions, HashParams, HostError, Journal, JournalEntry, MemoryJournal, MemoryStore,
    Message, ParseOptions, RecordingMailer, ResultRow, Settings, UndoOptions, UserId,
};
use std::collections::BTreeMap;

fn options<'a>() -> ExecuteOptions<'a> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: std::time::Duration::ZERO,
        ..ExecuteOptions::default()
    }
}

fn settings(extra: serde_json::Value) -> Settings {
    let mut value = serde_json::json!({"send_invitations": true});
    if let (Some(map), serde_json::Value::Object(more)) = (value.as_object_mut(), extra) {
        map.extend(more);
    }
    Settings::from_value(value).unwrap()
}

fn token_of(message: &Message) -> String {
    let link = message
        .fields
        .invitation_url
        .as_ref()
        .expect("a sign-in link");
    let token = link.expose().rsplit('/').next().unwrap_or_default();
    assert_eq!(token.len(), lms_bulk_upload::INVITATION_TOKEN_CHARS);
    token.to_owned()
}

const CSV: &[u8] = b"firstname,lastname,email\nAna,Lee,ana@x.com\nBo,Chan,bo@x.com\n";

fn upload(store: &mut MemoryStore, settings: &Settings) -> (RecordingMailer, String) {
    let upload = parse(CSV, &ParseOptions::default()).unwrap();
    let plan = plan(&upload, settings, store).unwrap();
    let plan_json = plan.to_json();
    let mut mailer = RecordingMailer::new();
    let results = plan.execute(store, &mut mailer, options()).unwrap();
    assert_eq!(results.summary.failed, 0);
    (mailer, format!("{plan_json}{}", results.to_json()))
}

#[test]
fn a_link_verifies_then_works_once() {
    let mut store = MemoryStore::new();
    let (mailer, written) = upload(&mut store, &settings(serde_json::json!({})));
    let ana = store.user("ana@x.com").unwrap().id.clone();
    assert!(store.user("ana@x.com").unwrap().password_hash.is_none());
    let message = &mailer.messages[0];
    assert!(message.carries_invitation() && !message.carries_password());
    let token = token_of(message);
    assert!(
        !written.contains(&token),
        "the plan or results hold the token"
    );
    assert!(
        !format!("{message:?}").contains(&token),
        "Debug shows the token"
    );

    assert_eq!(verify_invitation(&mut store, &token).unwrap(), ana);
    // Verifying does not use it up; redeeming does, once.
    assert_eq!(redeem_invitation(&mut store, &token).unwrap(), ana);
    let again = redeem_invitation(&mut store, &token).unwrap_err();
    assert_eq!(again.code().as_str(), "invitation_used");
    assert_eq!(again.kind().as_str(), "invitation");
    assert_eq!(
        verify_invitation(&mut store, &token)
            .unwrap_err()
            .code()
            .as_str(),
        "invitation_used"
    );
    // Bo's link is his own and still works.
    let bo = token_of(&mailer.messages[1]);
    assert_eq!(
        verify_invitation(&mut store, &bo).unwrap(),
        store.user("bo@x.com").unwrap().id
    );
}

#[test]
fn unknown_malformed_and_expired_links_are_refused_with_codes() {
    let mut store = MemoryStore::new();
    let (mailer, _) = upload(&mut store, &settings(serde_json::json!({})));
    let token = token_of(&mailer.messages[0]);
    let code = |r: Result<UserId, lms_bulk_upload::Error>| r.unwrap_err().code().as_str();
    let mut other = token.clone().into_bytes();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    let other = String::from_utf8(other).unwrap();
    assert_eq!(
        code(verify_invitation(&mut store, &other)),
        "invitation_unknown"
    );
    assert_eq!(
        code(verify_invitation(&mut store, "x")),
        "invitation_unknown"
    );
    assert_eq!(
        code(verify_invitation(&mut store, &format!("{token} "))),
        "invitation_unknown"
    );
    assert_eq!(
        code(verify_invitation_at(&mut store, &token, u64::MAX)),
        "invitation_expired"
    );
}

#[test]
fn a_new_link_revokes_the_previous_one_and_undo_revokes_its_own() {
    let mut store = MemoryStore::new();
    let (first, _) = upload(&mut store, &settings(serde_json::json!({})));
    let old = token_of(&first.messages[0]);
    let reset = settings(serde_json::json!({"update_existing_passwords": true}));
    let upload_again = parse(CSV, &ParseOptions::default()).unwrap();
    let plan = plan(&upload_again, &reset, &mut store).unwrap();
    let mut mailer = RecordingMailer::new();
    let results = plan.execute(&mut store, &mut mailer, options()).unwrap();
    let new = token_of(&mailer.messages[0]);
    assert_eq!(mailer.messages[0].subject, "Choose a new password");
    assert_eq!(
        verify_invitation(&mut store, &old)
            .unwrap_err()
            .code()
            .as_str(),
        "invitation_unknown"
    );
    verify_invitation(&mut store, &new).unwrap();

    let undo = plan_undo(&results, &mut store, &UndoOptions::new()).unwrap();
    assert_eq!(undo.summary().revocations, 2);
    undo.execute(&mut store, &mut RecordingMailer::new(), options())
        .unwrap();
    assert_eq!(
        verify_invitation(&mut store, &new)
            .unwrap_err()
            .code()
            .as_str(),
        "invitation_unknown"
    );
}

/// A journal whose `finish` fails once, after the row's link was stored and emailed: the
/// execution stops there, as a crash would.
struct FailingFinish {
    inner: MemoryJournal,
    fail: bool,
}

impl Journal for FailingFinish {
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        self.inner.load(fingerprint)
    }
    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError> {
        self.inner.begin(fingerprint, line)
    }
    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        if std::mem::take(&mut self.fail) {
            return Err(HostError::permanent("the disk is full"));
        }
        self.inner.finish(fingerprint, row)
    }
    fn created(&mut self, fingerprint: &str, line: u32, user: &UserId) -> Result<(), HostError> {
        self.inner.created(fingerprint, line, user)
    }
}

#[test]
fn a_resumed_execution_leaves_every_emailed_link_working() {
    let mut store = MemoryStore::new();
    let settings = settings(serde_json::json!({}));
    let upload = parse(CSV, &ParseOptions::default()).unwrap();
    let plan = plan(&upload, &settings, &mut store).unwrap();
    let mut journal = FailingFinish {
        inner: MemoryJournal::new(),
        fail: true,
    };
    let mut mailer = RecordingMailer::new();
    let interrupted = plan.execute(
        &mut store,
        &mut mailer,
        ExecuteOptions {
            journal: Some(&mut journal),
            ..options()
        },
    );
    assert!(
        interrupted.is_err(),
        "the journal's failure stops execution"
    );
    let first = token_of(&mailer.messages[0]);

    let results = plan
        .execute(
            &mut store,
            &mut mailer,
            ExecuteOptions {
                journal: Some(&mut journal),
                ..options()
            },
        )
        .unwrap();
    assert_eq!(results.summary.failed, 0);
    // Ana's row was begun: found again, a second link issued and emailed.
    let to_ana: Vec<&Message> = mailer
        .messages
        .iter()
        .filter(|m| m.to == "ana@x.com")
        .collect();
    assert_eq!(to_ana.len(), 2);
    let second = token_of(to_ana[1]);
    assert_ne!(first, second);
    let ana = store.user("ana@x.com").unwrap().id.clone();
    // Both links the user received work; using one drops the other.
    assert_eq!(verify_invitation(&mut store, &first).unwrap(), ana);
    assert_eq!(verify_invitation(&mut store, &second).unwrap(), ana);
    redeem_invitation(&mut store, &second).unwrap();
    assert_eq!(
        verify_invitation(&mut store, &first)
            .unwrap_err()
            .code()
            .as_str(),
        "invitation_unknown"
    );
}

#[test]
fn a_store_without_the_invitation_methods_is_refused_at_planning() {
    let state =
        serde_json::from_value(serde_json::json!({"lacks": ["redeem_invitation"]})).unwrap();
    let mut store = MemoryStore::from_state(&state);
    let upload = parse(CSV, &ParseOptions::default()).unwrap();
    let err = plan(&upload, &settings(serde_json::json!({})), &mut store).unwrap_err();
    assert_eq!(err.code().as_str(), "host_method_missing");
    assert!(err.message().contains("redeem_invitation"));
}

#[test]
fn the_link_lifetime_is_bounded() {
    let config = lms_bulk_upload::host::ExecuteConfig::from_value(
        serde_json::json!({"invitationExpirySecs": 60}),
    );
    assert_eq!(config.unwrap_err().code().as_str(), "invalid_option");
    let config = lms_bulk_upload::host::ExecuteConfig::from_value(
        serde_json::json!({"invitation_expiry_secs": 86_400}),
    )
    .unwrap();
    assert_eq!(
        config.into_options().invitation_expiry,
        std::time::Duration::from_secs(86_400)
    );
}
