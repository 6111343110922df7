//! A [`Host`] for any language's web framework: the behaviour of the screens' host (plans
//! signed and verified, runs executed with their journal, progress, cancel, signed results,
//! undo, resuming) written once here, over a few primitives the framework supplies through
//! host objects (`docs/web-host-protocol.md`):
//!
//! - the **hooks** object: who is an administrator (`authenticate`), a record store of JSON
//!   documents by kind and id (`get_record`, `put_record`, `list_records`, `delete_record`),
//!   what the settings screen offers (`catalog`) and, optionally, how a run is queued
//!   (`enqueue_run`: a job queue's worker then calls [`ObjectHost::execute_run`]; without
//!   it, runs execute on a thread of this process);
//! - the **store** and the **mailer** of the host protocol (`docs/host-protocol.md`).
//!
//! A binding implements [`SharedObject`] for its language's objects and hands
//! [`ObjectHost::new`]'s host to [`Api::new`](crate::Api::new).

mod records;
mod seal;
mod worker;

pub use seal::MIN_SECRET_BYTES;
pub use worker::RunOutcome;

use crate::hooks::{
    Catalog, HookError, Host, NewPlan, Reading, RunInfo, RunState, SessionRecord, StoredPlan,
    StoredUpload,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lms_bulk_upload::host::{ExecuteConfig, HostObject, HostStore, Naming};
use lms_bulk_upload::{
    ContentKind, ContentRef, Error, Group, HostError, ParseOptions, Password, Plan, Results,
    StoreRead,
};
use records::{
    failed, now, rfc3339, FileDoc, PlanDoc, Record, Records, ResultsDoc, RunDoc, SessionDoc,
    UploadDoc, PLAN, RESULTS, RUN, SESSION, UPLOAD, UPLOAD_FILE,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// A host object that may be called from any thread (a binding takes its language's lock
/// for each call). Methods are named in the host's [`Naming`].
pub trait SharedObject: Send + Sync {
    /// Whether the object has a callable `method`.
    fn has_method(&self, method: &str) -> bool;
    /// Calls `method` with positional `args`; its reply.
    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, HostError>;
}

/// A [`SharedObject`] as the host protocol's [`HostObject`].
pub(crate) struct Shared<'a>(pub(crate) &'a dyn SharedObject);

impl HostObject for Shared<'_> {
    fn has_method(&mut self, method: &str) -> bool {
        self.0.has_method(method)
    }
    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        self.0.call(method, args)
    }
}

/// How an object host is set up.
#[derive(Debug, Clone)]
pub struct ObjectHostConfig {
    /// The site's public URL, without a trailing slash (and with the screens' mount path
    /// when they are mounted below the site's root).
    pub site_url: String,
    /// The host's secret (at least [`MIN_SECRET_BYTES`]): plans and results are signed,
    /// and default passwords sealed, with keys derived from it. Every process of the host
    /// (web servers and workers) has the same.
    pub secret: Vec<u8>,
    /// Parse options: limits, the host's fields and login methods.
    pub parse_options: ParseOptions,
    /// Execute options as the host protocol takes them (`hash_params`, `threads`,
    /// `batch_size`, `retries`, `retry_delay_ms`, `templates`; no `default_password`).
    pub execute: Value,
    /// How the host objects name methods and keys.
    pub naming: Naming,
}

/// A run's worker says it is alive this often (seconds)...
const HEARTBEAT_SECS: u64 = 1;
/// ...and a running run not heard of for this long has stopped (a killed worker).
const STALE_SECS: u64 = 10;

/// The object host.
pub struct ObjectHost {
    config: ObjectHostConfig,
    keys: seal::Keys,
    records: Records,
    store: Arc<dyn SharedObject>,
    mailer: Arc<dyn SharedObject>,
    /// Plans read back (verified) lately: a preview's pages do not verify the plan again.
    plans: Mutex<VecDeque<(String, Arc<Plan>)>>,
    /// Cancel flags of the runs executing in this process.
    live: Mutex<HashMap<String, Arc<AtomicBool>>>,
    this: Weak<ObjectHost>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn engine(e: Error) -> HookError {
    HookError::Engine(e)
}

fn refused(code: &'static str, message: impl Into<String>) -> HookError {
    HookError::Refused {
        code,
        message: message.into(),
    }
}

impl ObjectHost {
    /// The host over `hooks`, `store` and `mailer`. Fails with a message when the secret is
    /// too short, the execute options cannot be read, or an object lacks a required method.
    pub fn new(
        config: ObjectHostConfig,
        hooks: Arc<dyn SharedObject>,
        store: Arc<dyn SharedObject>,
        mailer: Arc<dyn SharedObject>,
    ) -> Result<Arc<ObjectHost>, String> {
        let naming = config.naming;
        for method in [
            "authenticate",
            "get_record",
            "put_record",
            "list_records",
            "delete_record",
            "catalog",
        ] {
            if !hooks.has_method(&naming.name(method)) {
                return Err(format!(
                    "the hooks object has no method {}",
                    naming.name(method)
                ));
            }
        }
        HostStore::new(Shared(store.as_ref()), naming).map_err(|e| e.to_string())?;
        lms_bulk_upload::host::HostMailer::new(Shared(mailer.as_ref()), naming)
            .map_err(|e| e.to_string())?;
        ObjectHost::unchecked(config, hooks, store, mailer)
    }

    /// [`ObjectHost::new`] without asking the objects for their methods now: for a binding
    /// whose objects cannot be called from the thread that builds the host (JavaScript's,
    /// reached from worker threads only). A missing method then fails where it is first
    /// needed (`host_method_missing`, or the hook's failure).
    pub fn unchecked(
        config: ObjectHostConfig,
        hooks: Arc<dyn SharedObject>,
        store: Arc<dyn SharedObject>,
        mailer: Arc<dyn SharedObject>,
    ) -> Result<Arc<ObjectHost>, String> {
        let keys = seal::Keys::derive(&config.secret)?;
        let execute =
            ExecuteConfig::from_value(config.execute.clone()).map_err(|e| e.to_string())?;
        if execute.default_password.is_some() {
            return Err(
                "the execute options take no default_password: a plan's settings give it".into(),
            );
        }
        let naming = config.naming;
        Ok(Arc::new_cyclic(|this| ObjectHost {
            records: Records { hooks, naming },
            config,
            keys,
            store,
            mailer,
            plans: Mutex::new(VecDeque::new()),
            live: Mutex::new(HashMap::new()),
            this: this.clone(),
        }))
    }

    fn cached_plan(&self, id: &str) -> Option<Arc<Plan>> {
        guard(&self.plans)
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, p)| p.clone())
    }

    fn keep_plan(&self, id: &str, plan: Arc<Plan>) {
        let mut cache = guard(&self.plans);
        cache.retain(|(i, _)| i != id);
        cache.push_back((id.to_owned(), plan));
        while cache.len() > 4 {
            cache.pop_front();
        }
    }

    /// The stored plan, verified (from the cache when read lately).
    fn verified(&self, id: &str, doc: &PlanDoc) -> Result<Arc<Plan>, HookError> {
        if let Some(plan) = self.cached_plan(id) {
            return Ok(plan);
        }
        let plan = Arc::new(Plan::from_signed_json(&doc.signed, &self.keys.plan).map_err(engine)?);
        self.keep_plan(id, plan.clone());
        Ok(plan)
    }

    fn info(&self, id: &str, run: &RunDoc) -> RunInfo {
        let state = match run.state.as_str() {
            "queued" => RunState::Queued,
            "running" if now().saturating_sub(run.heartbeat) <= STALE_SECS => RunState::Running,
            "finished" => RunState::Finished,
            "cancelled" => RunState::Cancelled,
            _ => RunState::Interrupted,
        };
        RunInfo {
            id: id.to_owned(),
            undo_of: run.undo_of.clone(),
            plan_id: Some(run.plan_id.clone()),
            uploader: Some(run.uploader.clone()),
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone(),
            state,
            done: run.done,
            total: run.total,
            counts: run.counts.clone(),
            undone_by: run.undone_by.clone(),
            error: match state {
                RunState::Interrupted if run.error.is_none() => {
                    Some("its worker stopped (killed or restarted): it resumes when the host runs it again".into())
                }
                _ => run.error.clone(),
            },
        }
    }

    /// Every run (newest first).
    fn all_runs(&self) -> Result<Vec<(String, RunDoc)>, HookError> {
        self.records.all::<RunDoc>(RUN)
    }

    /// Queues a run: the host's `enqueue_run`, or a thread of this process.
    fn enqueue(&self, run_id: &str) -> Result<(), HookError> {
        if self.records.has("enqueue_run") {
            self.records.call("enqueue_run", vec![json!(run_id)])?;
            return Ok(());
        }
        let Some(this) = self.this.upgrade() else {
            return Err(HookError::Failed("the host is shutting down".into()));
        };
        let id = run_id.to_owned();
        std::thread::Builder::new()
            .name("bulk-upload-run".into())
            .spawn(move || {
                // The outcome is in the run's record.
                let _ = this.execute_run_waiting(&id);
            })
            .map_err(|e| HookError::Failed(format!("cannot start the run's thread: {e}")))?;
        Ok(())
    }

    /// Queues again every run that has not ended (call it when the host starts): a run
    /// interrupted by a stop of the host resumes from its journal; one that another live
    /// worker executes is left to it (the worker queued here waits while that worker's
    /// heartbeat is fresh, and takes the run over if it goes stale). Their ids.
    pub fn resume_unfinished(&self) -> Result<Vec<String>, HookError> {
        let mut resumed = Vec::new();
        for (id, run) in self.all_runs()? {
            if !matches!(run.state.as_str(), "finished" | "cancelled") {
                self.enqueue(&id)?;
                resumed.push(id);
            }
        }
        Ok(resumed)
    }
}

#[derive(Deserialize)]
struct CatalogReply {
    #[serde(default)]
    groups: Vec<CatalogGroup>,
    #[serde(default)]
    content: Vec<CatalogItem>,
}

#[derive(Deserialize)]
struct CatalogGroup {
    id: Value,
    name: String,
}

#[derive(Deserialize)]
struct CatalogItem {
    kind: String,
    id: Value,
    #[serde(default)]
    title: Option<String>,
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Host for ObjectHost {
    fn admin_password_hash(&self, _email: &str) -> Result<Option<(String, String)>, HookError> {
        // The host checks passwords itself (verify_admin): no hash ever leaves it.
        Ok(None)
    }

    fn verify_admin(&self, email: &str, password: &Password) -> Result<Option<String>, HookError> {
        let reply = self
            .records
            .call("authenticate", vec![json!(email), json!(password.expose())])?;
        match reply {
            Value::Null | Value::Bool(false) => Ok(None),
            Value::String(s) if !s.is_empty() => Ok(Some(s)),
            other => Err(failed(
                "authenticate",
                format!(
                    "gave {}, not the administrator's email or null",
                    kind(&other)
                ),
            )),
        }
    }

    fn put_session(&self, s: &SessionRecord) -> Result<(), HookError> {
        let doc = SessionDoc {
            email: s.email.clone(),
            csrf_token: s.csrf_token.clone(),
            expires_at: s.expires_at,
        };
        self.records
            .put(SESSION, &hex(&s.digest), &doc, None)
            .map(drop)
    }

    fn session(&self, digest: &[u8; 32]) -> Result<Option<SessionRecord>, HookError> {
        let id = hex(digest);
        let Some(r) = self.records.get::<SessionDoc>(SESSION, &id)? else {
            return Ok(None);
        };
        if r.doc.expires_at <= now() {
            self.records.delete(SESSION, &id)?;
        }
        Ok(Some(SessionRecord {
            digest: *digest,
            email: r.doc.email,
            csrf_token: r.doc.csrf_token,
            expires_at: r.doc.expires_at,
        }))
    }

    fn delete_session(&self, digest: &[u8; 32]) -> Result<(), HookError> {
        self.records.delete(SESSION, &hex(digest))
    }

    fn create_upload(
        &self,
        owner: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<String, HookError> {
        let id = format!("up_{}", self.records.next(UPLOAD)?);
        let file = FileDoc {
            base64: STANDARD.encode(bytes),
        };
        self.records
            .put(UPLOAD_FILE, &format!("{id}/1"), &file, None)?;
        let doc = UploadDoc {
            owner: owner.to_owned(),
            filename: filename.to_owned(),
            size: bytes.len() as u64,
            file_version: 1,
            assignments: BTreeMap::new(),
            sheet: None,
            encoding: None,
        };
        if !self.records.put(UPLOAD, &id, &doc, Some(0))? {
            return Err(failed(
                "put_record",
                format!("the upload {id} exists already"),
            ));
        }
        Ok(id)
    }

    fn upload(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        let Some(record) = self.records.get::<UploadDoc>(UPLOAD, id)? else {
            return Ok(None);
        };
        let file_id = format!("{id}/{}", record.doc.file_version);
        let file = self
            .records
            .get::<FileDoc>(UPLOAD_FILE, &file_id)?
            .ok_or_else(|| {
                failed(
                    "get_record",
                    format!("the upload's file {file_id} is missing"),
                )
            })?;
        let bytes = STANDARD.decode(file.doc.base64.as_bytes()).map_err(|e| {
            failed(
                "get_record",
                format!("the upload's file is not base64: {e}"),
            )
        })?;
        let mut upload = stored_upload(id, record);
        upload.size = bytes.len() as u64;
        upload.bytes = bytes;
        Ok(Some(upload))
    }

    fn upload_info(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        Ok(self
            .records
            .get::<UploadDoc>(UPLOAD, id)?
            .map(|record| stored_upload(id, record)))
    }

    fn update_upload(
        &self,
        id: &str,
        expected: u64,
        bytes: Option<&[u8]>,
        assignments: &BTreeMap<usize, Option<String>>,
        reading: &Reading,
    ) -> Result<bool, HookError> {
        let Some(Record { version, mut doc }) = self.records.get::<UploadDoc>(UPLOAD, id)? else {
            return Ok(false);
        };
        if version != expected {
            return Ok(false);
        }
        let old_file = doc.file_version;
        if let Some(bytes) = bytes {
            // The new bytes under a new name first: a reader sees the old file or the new,
            // never a record naming a file not yet written.
            doc.file_version = expected + 1;
            doc.size = bytes.len() as u64;
            let file = FileDoc {
                base64: STANDARD.encode(bytes),
            };
            self.records.put(
                UPLOAD_FILE,
                &format!("{id}/{}", doc.file_version),
                &file,
                None,
            )?;
        }
        doc.assignments = assignments.clone();
        doc.sheet = reading.sheet.clone();
        doc.encoding = reading.encoding.clone();
        let stored = self.records.put(UPLOAD, id, &doc, Some(expected))?;
        if bytes.is_some() {
            let stale = if stored { old_file } else { doc.file_version };
            self.records.delete(UPLOAD_FILE, &format!("{id}/{stale}"))?;
        }
        Ok(stored)
    }

    fn reserve_run_id(&self) -> Result<String, HookError> {
        Ok(format!("run_{}", self.records.next(RUN)?))
    }

    fn create_plan(&self, p: NewPlan<'_>) -> Result<String, HookError> {
        let id = format!("pl_{}", self.records.next(PLAN)?);
        let doc = PlanDoc {
            owner: p.owner.to_owned(),
            upload: p.upload.map(|(u, v)| (u.to_owned(), v)),
            undo_of_run: p.undo_of_run.map(str::to_owned),
            run_id: p.run_id.to_owned(),
            approved: false,
            settings: p.settings,
            excluded_lines: p.excluded_lines.iter().copied().collect(),
            created_at: rfc3339(now()),
            signed: p.plan.to_signed_json(&self.keys.plan),
        };
        if !self.records.put(PLAN, &id, &doc, Some(0))? {
            return Err(failed(
                "put_record",
                format!("the plan {id} exists already"),
            ));
        }
        // Just signed and stored: read back from memory, not verified again.
        self.keep_plan(&id, p.plan.clone());
        Ok(id)
    }

    fn plan(&self, id: &str) -> Result<Option<StoredPlan>, HookError> {
        let Some(Record { doc, .. }) = self.records.get::<PlanDoc>(PLAN, id)? else {
            return Ok(None);
        };
        let plan = self.verified(id, &doc)?;
        Ok(Some(StoredPlan {
            id: id.to_owned(),
            owner: doc.owner,
            plan,
            upload: doc.upload,
            undo_of_run: doc.undo_of_run,
            run_id: doc.run_id,
            approved: doc.approved,
            settings: doc.settings,
            excluded_lines: doc.excluded_lines,
            created_at: doc.created_at,
        }))
    }

    fn approve(
        &self,
        plan_id: &str,
        by: &str,
        default_password: Option<Password>,
    ) -> Result<RunInfo, HookError> {
        let Some(Record { version, mut doc }) = self.records.get::<PlanDoc>(PLAN, plan_id)? else {
            return Err(refused("not_found", "no such plan"));
        };
        let already = || {
            refused(
                "plan_already_approved",
                format!("this plan was approved already (run {})", doc.run_id),
            )
        };
        if doc.approved {
            return Err(already());
        }
        if let Some(undone) = &doc.undo_of_run {
            if self.unfinished_undo_of(Some(undone))?.is_some() {
                return Err(refused(
                    "undo_unfinished",
                    format!("an undo of {undone} is unfinished: let it finish first"),
                ));
            }
        }
        // The plan as stored and signed, verified again: what runs is never the request's.
        let plan = Plan::from_signed_json(&doc.signed, &self.keys.plan).map_err(engine)?;
        doc.approved = true;
        if !self.records.put(PLAN, plan_id, &doc, Some(version))? {
            return Err(refused(
                "plan_already_approved",
                "this plan was approved meanwhile",
            ));
        }
        let run_id = doc.run_id.clone();
        let run = RunDoc {
            plan_id: plan_id.to_owned(),
            uploader: by.to_owned(),
            undo_of: doc.undo_of_run.clone(),
            started_at: rfc3339(now()),
            finished_at: None,
            state: "queued".into(),
            done: 0,
            total: plan.rows().len() as u64,
            counts: None,
            undone_by: None,
            error: None,
            cancel: false,
            heartbeat: now(),
            sealed_password: default_password.map(|p| self.keys.seal(&run_id, &p)),
        };
        if !self.records.put(RUN, &run_id, &run, Some(0))? {
            return Err(HookError::Failed(format!(
                "{run_id} is recorded already: make the plan again"
            )));
        }
        self.enqueue(&run_id)?;
        Ok(self.info(&run_id, &run))
    }

    fn runs(&self, offset: u64, limit: u64) -> Result<(u64, Vec<RunInfo>), HookError> {
        let (total, runs) = self.records.list::<RunDoc>(RUN, offset, limit)?;
        Ok((total, runs.iter().map(|(id, r)| self.info(id, r)).collect()))
    }

    fn run(&self, id: &str) -> Result<Option<RunInfo>, HookError> {
        Ok(self
            .records
            .get::<RunDoc>(RUN, id)?
            .map(|r| self.info(id, &r.doc)))
    }

    fn cancel(&self, id: &str) -> Result<RunInfo, HookError> {
        let mut ended = false;
        let run = self.records.update::<RunDoc>(RUN, id, &mut |run| {
            ended = matches!(run.state.as_str(), "finished" | "cancelled");
            if !ended {
                run.cancel = true;
            }
            Ok(())
        })?;
        let Some(run) = run else {
            return Err(refused("not_found", "no such run"));
        };
        let info = self.info(id, &run);
        if ended || info.state == RunState::Interrupted {
            return Err(refused("run_not_running", "this run is not running"));
        }
        if let Some(flag) = guard(&self.live).get(id) {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(info)
    }

    fn results(&self, id: &str) -> Result<Option<Results>, HookError> {
        let Some(r) = self.records.get::<ResultsDoc>(RESULTS, id)? else {
            return Ok(None);
        };
        Results::from_signed_json(&r.doc.signed, &self.keys.plan)
            .map(Some)
            .map_err(engine)
    }

    fn plan_undo(
        &self,
        run_id: &str,
        delete_created_users: bool,
        uploader: &str,
        results_url: &str,
    ) -> Result<Plan, HookError> {
        let Some(run) = self.records.get::<RunDoc>(RUN, run_id)? else {
            return Err(refused("not_found", "no such run"));
        };
        if let Some(by) = &run.doc.undone_by {
            return Err(refused(
                "already_undone",
                format!("{run_id} was undone already (by {by})"),
            ));
        }
        if let Some((id, of)) = self.unfinished_undo_of(None)? {
            return Err(refused(
                "undo_unfinished",
                format!("{id} (the undo of {of}) is unfinished: let it finish first"),
            ));
        }
        let Some(results) = self.results(run_id)? else {
            return Err(refused(
                "run_unfinished",
                format!("{run_id} has not finished: it cannot be undone yet"),
            ));
        };
        let options = lms_bulk_upload::UndoOptions::new()
            .delete_created_users(delete_created_users)
            .results_url(results_url)
            .uploader_email(uploader)
            .declarations(&self.config.parse_options)
            .undone_creations(self.undone_creations()?);
        let mut store =
            HostStore::new(Shared(self.store.as_ref()), self.config.naming).map_err(engine)?;
        lms_bulk_upload::plan_undo(&results, &mut store, &options).map_err(engine)
    }

    fn with_store(&self, f: &mut dyn FnMut(&mut dyn StoreRead)) -> Result<(), HookError> {
        let mut store =
            HostStore::new(Shared(self.store.as_ref()), self.config.naming).map_err(engine)?;
        f(&mut store);
        Ok(())
    }

    fn catalog(&self) -> Result<Catalog, HookError> {
        let reply = self.records.call("catalog", Vec::new())?;
        let reply: CatalogReply = serde_json::from_value(self.config.naming.keys_in(reply))
            .map_err(|e| failed("catalog", format!("gave a reply that cannot be read: {e}")))?;
        let content = reply
            .content
            .into_iter()
            .filter_map(|c| {
                let kind = match c.kind.as_str() {
                    "course" => ContentKind::Course,
                    "collection" => ContentKind::Collection,
                    "campaign" => ContentKind::Campaign,
                    _ => return None,
                };
                let id = id_text(&c.id)?;
                let title = c
                    .title
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| id.clone());
                Some((ContentRef::new(kind, id), title))
            })
            .collect();
        let groups = reply
            .groups
            .into_iter()
            .filter_map(|g| {
                Some(Group {
                    id: id_text(&g.id)?,
                    name: g.name,
                })
            })
            .collect();
        Ok(Catalog { groups, content })
    }

    fn parse_options(&self) -> ParseOptions {
        self.config.parse_options.clone()
    }

    fn site_url(&self) -> String {
        self.config.site_url.trim_end_matches('/').to_owned()
    }
}

impl ObjectHost {
    /// An undo that has not ended (of `of`, or of any run): (its id, the run it undoes).
    fn unfinished_undo_of(&self, of: Option<&str>) -> Result<Option<(String, String)>, HookError> {
        Ok(self.all_runs()?.into_iter().find_map(|(id, run)| {
            let target = run.undo_of?;
            let open = !matches!(run.state.as_str(), "finished" | "cancelled");
            (open && of.is_none_or(|o| o == target)).then_some((id, target))
        }))
    }

    /// The users created by the runs undone so far: an undo never reactivates them.
    fn undone_creations(&self) -> Result<Vec<lms_bulk_upload::UserId>, HookError> {
        let mut users = Vec::new();
        for (id, run) in self.all_runs()? {
            if run.undone_by.is_none() {
                continue;
            }
            if let Some(results) = self.results(&id)? {
                users.extend(
                    results
                        .rows
                        .into_iter()
                        .filter(|r| r.status == lms_bulk_upload::Status::Created)
                        .filter_map(|r| r.user_id),
                );
            }
        }
        Ok(users)
    }
}

/// An upload's record as the API reads it (without its bytes).
fn stored_upload(id: &str, Record { version, doc }: Record<UploadDoc>) -> StoredUpload {
    StoredUpload {
        id: id.to_owned(),
        owner: doc.owner,
        filename: doc.filename,
        bytes: Vec::new(),
        size: doc.size,
        assignments: doc.assignments,
        reading: Reading {
            sheet: doc.sheet,
            encoding: doc.encoding,
        },
        version,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
