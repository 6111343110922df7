//! A [`Host`](crate::Host) for any language's web framework: the behaviour of the screens' host (plans
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

mod hooks;
mod records;
mod seal;
mod worker;

pub use seal::MIN_SECRET_BYTES;
pub use worker::RunOutcome;

use crate::hooks::{HookError, RunInfo, RunState};
use lms_bulk_upload::host::{ExecuteConfig, HostObject, HostStore, Naming};
use lms_bulk_upload::{Error, HostError, ParseOptions, Plan};
use records::{now, PlanDoc, Records, RunDoc, RUN};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

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

/// What [`ObjectHost::hold_runs_with`] calls as a run starts on a thread of the host's
/// own; what it returns is dropped as that thread ends.
pub type RunHold = Box<dyn Fn() -> Box<dyn Send> + Send + Sync>;

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
    /// Parse options: limits, the host's fields and login methods (no `column_assignments`:
    /// those are each upload's, made on its report).
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
    /// The argon2id parameters of the execute options: a password chosen through a sign-in
    /// link is hashed with them too.
    hash_params: lms_bulk_upload::HashParams,
    /// Plans read back (verified) lately: a preview's pages do not verify the plan again.
    plans: Mutex<VecDeque<(String, Arc<Plan>)>>,
    /// Cancel flags of the runs executing in this process.
    live: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// Held while a run executes on a thread of this host's own.
    run_hold: OnceLock<RunHold>,
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
        if !config.parse_options.column_assignments.is_empty() {
            return Err(
                "the parse options take no column_assignments: the administrator matches each upload's columns on its report".into(),
            );
        }
        let naming = config.naming;
        Ok(Arc::new_cyclic(|this| ObjectHost {
            records: Records { hooks, naming },
            config,
            keys,
            store,
            mailer,
            hash_params: execute.hash_params,
            plans: Mutex::new(VecDeque::new()),
            live: Mutex::new(HashMap::new()),
            run_hold: OnceLock::new(),
            this: this.clone(),
        }))
    }

    /// Sets what is held while a run executes on a thread of this host's own (queued
    /// without an `enqueue_run` hook, or resumed by [`ObjectHost::resume_unfinished`]):
    /// `hold` is called on the thread that queues the run, before the run's thread starts,
    /// and what it returns is dropped as that thread ends. A binding whose process would
    /// otherwise end in the middle of such a run keeps it alive this way (Node's, whose
    /// event loop ends the process once nothing holds it). Set once: false, and `hold`
    /// unused, when it was set already.
    pub fn hold_runs_with(&self, hold: RunHold) -> bool {
        self.run_hold.set(hold).is_ok()
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
        let held = self.run_hold.get().map(|hold| hold());
        std::thread::Builder::new()
            .name("bulk-upload-run".into())
            .spawn(move || {
                // The outcome is in the run's record.
                let _ = this.execute_run_waiting(&id);
                drop(held);
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
