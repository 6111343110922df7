//! A mailer that queues is flushed after each batch, before the store's checkpoint, so a
//! batch is never recorded as done while its emails could still be lost.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Hooked, Op};
use lms_bulk_upload::{
    parse, plan, ExecuteOptions, HashParams, HostError, MemoryStore, RecordingMailer, Settings,
};
use std::cell::RefCell;
use std::time::Duration;

/// Logs the operations this test is about.
fn logger<'l>(
    log: &'l RefCell<Vec<&'static str>>,
) -> impl FnMut(Op<'_>) -> Result<(), HostError> + 'l {
    move |op| {
        let name = match op {
            Op::CreateUser(_) => "create",
            Op::Checkpoint => "checkpoint",
            Op::Send(_) => "send",
            Op::Flush => "flush",
            _ => return Ok(()),
        };
        log.borrow_mut().push(name);
        Ok(())
    }
}

fn options() -> ExecuteOptions<'static> {
    ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        retry_delay: Duration::ZERO,
        batch_size: 2,
        ..Default::default()
    }
}

#[test]
fn queued_emails_are_flushed_before_each_checkpoint() {
    let csv = "firstname,lastname,email\nA,A,a@example.com\nB,B,b@example.com\nC,C,c@example.com\n";
    let upload = parse(csv.as_bytes(), &Default::default()).unwrap();
    let settings = Settings::builder()
        .uploader_email("admin@example.com")
        .build()
        .unwrap();
    let log = RefCell::new(Vec::new());
    let mut store = Hooked::new(MemoryStore::new(), logger(&log));
    let mut mailer = Hooked::new(RecordingMailer::new(), logger(&log));
    let plan = plan(&upload, &settings, &mut store).unwrap();
    plan.execute(&mut store, &mut mailer, options()).unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "create",
            "send",
            "create",
            "send",
            "flush",
            "checkpoint", // batch 1
            "create",
            "send",
            "flush",
            "checkpoint", // batch 2
            "send",
            "flush", // the confirmation
        ]
    );
}

#[test]
fn a_failed_flush_stops_before_the_checkpoint() {
    let csv = "firstname,lastname,email\nA,A,a@example.com\n";
    let upload = parse(csv.as_bytes(), &Default::default()).unwrap();
    let settings = Settings::builder().build().unwrap();
    let log = RefCell::new(Vec::new());
    let mut store = Hooked::new(MemoryStore::new(), logger(&log));
    let plan = plan(&upload, &settings, &mut store).unwrap();
    let mut mailer = Hooked::new(RecordingMailer::new(), |op: Op<'_>| match op {
        Op::Flush => Err(HostError::permanent("disk full")),
        _ => Ok(()),
    });
    let error = plan
        .execute(&mut store, &mut mailer, options())
        .unwrap_err();
    assert_eq!(error.code().as_str(), "mailer_failed");
    assert!(
        !log.borrow().contains(&"checkpoint"),
        "the batch was not committed: {:?}",
        log.borrow()
    );
}
