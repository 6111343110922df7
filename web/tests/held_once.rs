//! The server holds an uploaded file once and a plan once: the pages of a report, the
//! settings screen and a plan read the upload's record without its bytes
//! (`Host::upload_info`) and the parse made when the file came; the plan just made is the
//! one its pages show (shared, not parsed back); the bytes come back exact.
#![allow(clippy::unwrap_used)]

mod common;

use common::Client;
use lms_bulk_upload::{ParseOptions, Password, Plan, StoreRead};
use lms_bulk_upload_sqlite::web::SqliteWebHost;
use lms_bulk_upload_web::{
    ApiConfig, Catalog, HookError, Host, NewPlan, Reading, RunInfo, SessionRecord, StoredPlan,
    StoredUpload,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The SQLite hooks, counting the reads of an upload's bytes and of plans.
struct Counting {
    inner: SqliteWebHost,
    bytes_read: Arc<AtomicUsize>,
}

impl Host for Counting {
    fn admin_password_hash(&self, email: &str) -> Result<Option<(String, String)>, HookError> {
        self.inner.admin_password_hash(email)
    }
    fn put_session(&self, s: &SessionRecord) -> Result<(), HookError> {
        self.inner.put_session(s)
    }
    fn session(&self, d: &[u8; 32]) -> Result<Option<SessionRecord>, HookError> {
        self.inner.session(d)
    }
    fn delete_session(&self, d: &[u8; 32]) -> Result<(), HookError> {
        self.inner.delete_session(d)
    }
    fn create_upload(&self, owner: &str, name: &str, bytes: &[u8]) -> Result<String, HookError> {
        self.inner.create_upload(owner, name, bytes)
    }
    fn upload(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        self.bytes_read.fetch_add(1, Ordering::SeqCst);
        self.inner.upload(id)
    }
    fn upload_info(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        self.inner.upload_info(id)
    }
    fn update_upload(
        &self,
        id: &str,
        expected: u64,
        bytes: Option<&[u8]>,
        assignments: &BTreeMap<usize, Option<String>>,
        reading: &Reading,
    ) -> Result<bool, HookError> {
        self.inner
            .update_upload(id, expected, bytes, assignments, reading)
    }
    fn reserve_run_id(&self) -> Result<String, HookError> {
        self.inner.reserve_run_id()
    }
    fn create_plan(&self, plan: NewPlan<'_>) -> Result<String, HookError> {
        self.inner.create_plan(plan)
    }
    fn plan(&self, id: &str) -> Result<Option<StoredPlan>, HookError> {
        self.inner.plan(id)
    }
    fn approve(
        &self,
        plan_id: &str,
        by: &str,
        password: Option<Password>,
    ) -> Result<RunInfo, HookError> {
        self.inner.approve(plan_id, by, password)
    }
    fn runs(&self, offset: u64, limit: u64) -> Result<(u64, Vec<RunInfo>), HookError> {
        self.inner.runs(offset, limit)
    }
    fn run(&self, id: &str) -> Result<Option<RunInfo>, HookError> {
        self.inner.run(id)
    }
    fn cancel(&self, id: &str) -> Result<RunInfo, HookError> {
        self.inner.cancel(id)
    }
    fn results(&self, id: &str) -> Result<Option<lms_bulk_upload::Results>, HookError> {
        self.inner.results(id)
    }
    fn plan_undo(
        &self,
        run_id: &str,
        delete: bool,
        uploader: &str,
        url: &str,
    ) -> Result<Plan, HookError> {
        self.inner.plan_undo(run_id, delete, uploader, url)
    }
    fn with_store(&self, f: &mut dyn FnMut(&mut dyn StoreRead)) -> Result<(), HookError> {
        self.inner.with_store(f)
    }
    fn catalog(&self) -> Result<Catalog, HookError> {
        self.inner.catalog()
    }
    fn parse_options(&self) -> ParseOptions {
        self.inner.parse_options()
    }
    fn site_url(&self) -> String {
        self.inner.site_url()
    }
}

#[test]
fn the_pages_of_an_upload_and_its_plan_do_not_read_the_file_again() {
    let bytes_read = Arc::new(AtomicUsize::new(0));
    let counter = bytes_read.clone();
    let env = common::env_around(
        ParseOptions::default(),
        ApiConfig::default(),
        move |inner| {
            Arc::new(Counting {
                inner,
                bytes_read: counter,
            })
        },
    );
    let mut c = Client::signed_in(&env);
    // Not ASCII, to show the bytes are stored and come back exact.
    let mut file = b"firstname,lastname,emailaddress\n".to_vec();
    for i in 0..300 {
        file.extend_from_slice(format!("Zo\u{eb}{i},Ngata,zoe{i}@example.nz\n").as_bytes());
    }
    let a = c.upload("zoe.csv", &file);
    assert_eq!(a.status, 201, "{}", a.text());
    let id = a.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(a.json()["size"], file.len());
    for page in [
        format!("/api/uploads/{id}"),
        format!("/api/uploads/{id}/issues"),
        format!("/api/uploads/{id}/rows?page=2"),
        format!("/api/uploads/{id}/rows?errors_only=true"),
    ] {
        assert_eq!(c.get(&page).status, 200, "{page}");
    }
    let plan = c.plan(&id, json!({}));
    assert_eq!(c.get(&format!("/api/plans/{plan}/rows?page=3")).status, 200);
    assert_eq!(
        bytes_read.load(Ordering::SeqCst),
        0,
        "a page read the upload's bytes"
    );
    // Stored exact (written into the blob in place).
    let stored: Vec<u8> = env
        .db()
        .conn()
        .query_row("SELECT bytes FROM web_upload_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, file);
    // The corrected file needs the bytes: read once, whole.
    let a = c.get(&format!("/api/uploads/{id}/file"));
    assert_eq!(a.status, 200);
    assert_eq!(bytes_read.load(Ordering::SeqCst), 1);
    assert!(a.text().contains("Zo\u{eb}299,Ngata,zoe299@example.nz"));
}

#[test]
fn the_plan_just_made_is_the_one_its_pages_show() {
    let kept: Arc<std::sync::Mutex<Option<Arc<dyn Host>>>> = Arc::default();
    let keep = kept.clone();
    let env = common::env_around(
        ParseOptions::default(),
        ApiConfig::default(),
        move |inner| {
            let host: Arc<dyn Host> = Arc::new(inner);
            *keep.lock().unwrap() = Some(host.clone());
            host
        },
    );
    let mut c = Client::signed_in(&env);
    let file = "firstname,lastname,emailaddress\nAna,Lee,ana@example.com\n";
    let id = c.upload("a.csv", file.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan = c.plan(&id, json!({}));
    // Two reads share one plan: no copy per page.
    let host = kept.lock().unwrap().clone().unwrap();
    let first = host.plan(&plan).unwrap().unwrap();
    let second = host.plan(&plan).unwrap().unwrap();
    assert!(Arc::ptr_eq(&first.plan, &second.plan));
    assert_eq!(first.plan.rows().to_vec()[0].email, "ana@example.com");
}
