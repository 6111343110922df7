//! Results are data: coded errors and typed operations in the JSON (byte for byte the same
//! in every language), English only in the rendered CSV, every CSV cell quoted and
//! formula-safe.

#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, ContentKind, ContentRef, Done, ExecuteOptions, ExistingUser, HashParams,
    HostError, IssueCode, Mailer, MemoryStore, Message, MessageKind, Profile, RecordingMailer,
    ResultError, ResultRow, Results, Settings, Status, UserId,
};
use std::time::Duration;

fn fast<'a>() -> ExecuteOptions<'a> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        ..Default::default()
    }
}

/// Fails every email to `to`.
struct FailingFor(&'static str, RecordingMailer);

impl Mailer for FailingFor {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        if message.to == self.0 {
            return Err(HostError::permanent("550 mailbox unavailable"));
        }
        self.1.send(message)
    }
}

fn run() -> Results {
    let mut store = MemoryStore::new();
    store.add_group("g1", "Sales");
    store.add_group("g2", "Support");
    store.add_content(ContentRef::new(ContentKind::Course, "c1"));
    store.add_user(ExistingUser {
        id: UserId("e1".into()),
        email: "ana@x.com".into(),
        profile: Profile::default(),
        groups: vec!["Support".into()],
        enrolments: Vec::new(),
        protected: false,
        suspended: false,
        suspended_by_upload: false,
        login_method: None,
    });
    let upload = parse(
        b"firstname,lastname,emailaddress,addgroup,removegroup,languagecode\n\
          Bo,Chan,bo@x.com,Sales,,\n\
          Ana,Lopez,ana@x.com,Sales,Support,\n\
          Cy,Diaz,not-an-email,,,en_NZ\n\
          Di,Egan,di@x.com,,,\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .update_existing_profiles(true)
        .update_existing_passwords(true)
        .enrol_existing_users(true)
        .enrol(ContentRef::new(ContentKind::Course, "c1"))
        .uploader_email("admin@x.com")
        .build()
        .unwrap();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    let mut mailer = FailingFor("di@x.com", RecordingMailer::new());
    planned.execute(&mut store, &mut mailer, fast()).unwrap()
}

#[test]
fn result_rows_hold_codes_and_typed_operations() {
    let results = run();
    // The rejected row's messages are the parser's (English, for people): not compared.
    let rows: Vec<String> = results
        .rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(e) = r.error.as_mut().filter(|_| r.status == Status::Rejected) {
                assert!(!e.message.is_empty());
                e.message = "M".into();
                e.more.iter_mut().for_each(|m| m.message = "M".into());
            }
            serde_json::to_string(&r).unwrap()
        })
        .collect();
    assert_eq!(
        rows,
        [
            r#"{"line":2,"email":"bo@x.com","status":"created","user_id":"u1","done":[{"op":"create_user"},{"op":"add_to_group","group":"Sales"},{"op":"enrol","content":{"kind":"course","id":"c1"}},{"op":"send_email","kind":"welcome"}],"error":null}"#,
            r#"{"line":3,"email":"ana@x.com","status":"updated","user_id":"e1","done":[{"op":"update_profile","changes":{"first_name":"Ana","last_name":"Lopez"},"before":{"first_name":"","last_name":""}},{"op":"add_to_group","group":"Sales"},{"op":"remove_from_group","group":"Support"},{"op":"set_password"},{"op":"send_email","kind":"password_changed"},{"op":"enrol","content":{"kind":"course","id":"c1"}}],"error":null}"#,
            r#"{"line":4,"email":"not-an-email","status":"rejected","user_id":null,"done":[],"error":{"code":"invalid_email","message":"M","more":[{"code":"invalid_languagecode","message":"M"}]}}"#,
            r#"{"line":5,"email":"di@x.com","status":"failed","user_id":"u2","done":[{"op":"create_user"},{"op":"enrol","content":{"kind":"course","id":"c1"}}],"error":{"code":"mailer_failed","message":"550 mailbox unavailable"}}"#,
        ]
    );
    assert!(results.confirmation_error.is_none());
    // Counts come from what happened.
    let s = &results.summary;
    assert_eq!((s.created, s.updated, s.rejected, s.failed), (1, 1, 1, 1));
    assert_eq!(s.emails_sent, 2);
    // JSON is read back exactly.
    let back: Results = serde_json::from_str(&results.to_json()).unwrap();
    assert_eq!(back, results);
}

#[test]
fn the_csv_renders_english_and_quotes_every_cell() {
    let csv = run().to_csv();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        r#""line","email","status","user_id","done","error""#
    );
    assert_eq!(
        lines[1],
        r#""2","bo@x.com","created","u1","created; added to group Sales; enrolled in course c1; emailed welcome","""#
    );
    assert!(lines[3].starts_with(r#""4","not-an-email","rejected","","",""#));
    assert!(lines[3].contains(" [invalid_email]; "), "{}", lines[3]);
    assert!(
        lines[3].ends_with(r#" [invalid_languagecode]""#),
        "{}",
        lines[3]
    );
    assert!(lines[4].ends_with(r#","550 mailbox unavailable [mailer_failed]""#));
}

#[test]
fn every_formula_trigger_is_neutralised_and_quoted() {
    let cells = [
        "=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "\0x", " =1", "   @x", "x;=1+2",
    ];
    let results = Results {
        fingerprint: String::new(),
        summary: Default::default(),
        rows: cells
            .iter()
            .map(|cell| ResultRow {
                line: 2,
                email: (*cell).into(),
                status: Status::Failed,
                user_id: Some(UserId((*cell).into())),
                done: vec![Done::AddToGroup {
                    group: (*cell).into(),
                    already: false,
                }],
                error: Some(ResultError::new(IssueCode::StoreFailed, *cell)),
            })
            .collect(),
        cancelled: false,
        confirmation_error: None,
        shard: None,
        confirmation_deferred: false,
        undo_of: None,
        provenance: Default::default(),
    };
    let raw = results.to_csv();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(raw.as_bytes());
    for record in raw.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        assert!(
            record.starts_with('"') && record.ends_with('"'),
            "{record:?}"
        );
    }
    for (record, cell) in reader.records().zip(cells) {
        let record = record.unwrap();
        let (email, user) = (&record[1], &record[3]);
        if cell == "x;=1+2" {
            assert_eq!(
                email, cell,
                "not a formula, but quoted: one cell in any locale"
            );
        } else {
            assert_eq!(email, format!("'{cell}"));
            assert_eq!(user, format!("'{cell}"));
        }
    }
    assert!(raw.contains(r#","x;=1+2","#));
}

#[test]
fn a_failed_confirmation_email_is_coded() {
    let upload = parse(
        b"firstname,lastname,emailaddress\nBo,Chan,bo@x.com\n",
        &Default::default(),
    )
    .unwrap();
    let settings = Settings::builder()
        .uploader_email("admin@x.com")
        .build()
        .unwrap();
    let mut store = MemoryStore::new();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    let mut mailer = FailingFor("admin@x.com", RecordingMailer::new());
    let results = planned.execute(&mut store, &mut mailer, fast()).unwrap();
    assert_eq!(
        results.confirmation_error,
        Some(ResultError::new(
            IssueCode::MailerFailed,
            "550 mailbox unavailable"
        ))
    );
    assert!(results.to_json().contains(
        r#""confirmation_error":{"code":"mailer_failed","message":"550 mailbox unavailable"}"#
    ));
    assert_eq!(mailer.1.messages[0].kind, MessageKind::Welcome);
}

#[test]
fn results_read_back_from_json_are_the_same_and_a_forged_summary_is_refused() {
    use lms_bulk_upload::{
        parse, plan, ExecuteOptions, HashParams, MemoryStore, RecordingMailer, Results, Settings,
    };
    let upload = parse(
        b"firstname,lastname,email\nA,B,a@x.com\nC,D,bad\n",
        &Default::default(),
    )
    .unwrap();
    let mut store = MemoryStore::new();
    let settings = Settings::builder().build().unwrap();
    let plan = plan(&upload, &settings, &mut store).unwrap();
    let options = ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        ..Default::default()
    };
    let results = plan
        .execute(&mut store, &mut RecordingMailer::new(), options)
        .unwrap();
    let json = results.to_json();
    let back = Results::from_json(&json).unwrap();
    assert_eq!(back, results);
    assert_eq!(back.to_json(), json, "byte for byte");
    let forged = json.replace("\"created\":1", "\"created\":7");
    assert_ne!(forged, json);
    let e = Results::from_json(&forged).unwrap_err();
    assert_eq!(e.code().as_str(), "invalid_results");
}
