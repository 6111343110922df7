//! A mailer that queues is flushed after each batch, before the store's checkpoint, so a
//! batch is never recorded as done while its emails could still be lost.

#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, ContentRef, ExecuteOptions, ExistingUser, Group, HashParams, HostError, Mailer,
    MemoryStore, Message, NewUser, PasswordHash, Profile, RecordingMailer, Settings, Store, UserId,
};
use std::cell::RefCell;
use std::time::Duration;

struct Logged<'a, T> {
    inner: T,
    log: &'a RefCell<Vec<&'static str>>,
}

impl Store for Logged<'_, MemoryStore> {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        self.inner.find_users(emails)
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        self.inner.find_groups(names)
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        self.inner.find_content(refs)
    }
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        self.log.borrow_mut().push("create");
        self.inner.create_user(user)
    }
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        self.inner.update_profile(user, changes)
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force: bool,
    ) -> Result<(), HostError> {
        self.inner.set_password(user, hash, force)
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.inner.add_to_group(user, group)
    }
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.inner.remove_from_group(user, group)
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.inner.enrol(user, content)
    }
    fn checkpoint(&mut self) -> Result<(), HostError> {
        self.log.borrow_mut().push("checkpoint");
        Ok(())
    }
}

impl Mailer for Logged<'_, RecordingMailer> {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        self.log.borrow_mut().push("send");
        self.inner.send(message)
    }
    fn flush(&mut self) -> Result<(), HostError> {
        self.log.borrow_mut().push("flush");
        Ok(())
    }
}

fn options() -> ExecuteOptions<'static> {
    ExecuteOptions {
        hash_params: HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
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
    let mut store = Logged {
        inner: MemoryStore::new(),
        log: &log,
    };
    let mut mailer = Logged {
        inner: RecordingMailer::new(),
        log: &log,
    };
    let plan = plan(&upload, &settings, &mut store).unwrap();
    plan.execute(&mut store, &mut mailer, options()).unwrap();
    assert_eq!(
        log.into_inner(),
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

struct FailingFlush(RecordingMailer);

impl Mailer for FailingFlush {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        self.0.send(message)
    }
    fn flush(&mut self) -> Result<(), HostError> {
        Err(HostError::permanent("disk full"))
    }
}

#[test]
fn a_failed_flush_stops_before_the_checkpoint() {
    let csv = "firstname,lastname,email\nA,A,a@example.com\n";
    let upload = parse(csv.as_bytes(), &Default::default()).unwrap();
    let settings = Settings::builder().build().unwrap();
    let log = RefCell::new(Vec::new());
    let mut store = Logged {
        inner: MemoryStore::new(),
        log: &log,
    };
    let plan = plan(&upload, &settings, &mut store).unwrap();
    let error = plan
        .execute(
            &mut store,
            &mut FailingFlush(RecordingMailer::new()),
            options(),
        )
        .unwrap_err();
    assert_eq!(error.code().as_str(), "mailer_failed");
    assert!(
        !log.borrow().contains(&"checkpoint"),
        "the batch was not committed: {:?}",
        log.borrow()
    );
}
