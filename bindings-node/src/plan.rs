//! `plan()` and the `Plan`: built on a worker thread, shown and serialised from JavaScript.

use crate::errors::to_napi;
use crate::execute::{run_execute, CancelToken, ProgressFn};
use crate::journal::{choose_journal, MemoryJournalHandle};
use crate::json::to_camel_json;
use crate::memory::{MemoryStoreHandle, RecordingMailerHandle, SharedMemory};
use crate::settings::SettingsHandle;
use crate::store::{Bridge, HostStore};
use crate::upload::UploadHandle;
use lms_bulk_upload::{Plan, PlanOptions, Store};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// The store an operation runs against: the native `MemoryStore` or a host object.
pub(crate) fn choose_store(
    memory: Option<&MemoryStoreHandle>,
    bridge: Option<Bridge>,
) -> Result<Box<dyn Store + Send>> {
    match (memory, bridge) {
        (Some(m), None) => Ok(Box::new(SharedMemory(m.inner.clone()))),
        (None, Some(bridge)) => Ok(Box::new(HostStore { bridge })),
        _ => Err(Error::new(
            Status::InvalidArg,
            "give exactly one store: a MemoryStore or a bridge",
        )),
    }
}

/// Builds the plan on a worker thread; the store is only read.
#[napi(ts_return_type = "Promise<PlanHandle>")]
pub fn plan_async<'env>(
    env: &'env Env,
    upload: &UploadHandle,
    settings: &SettingsHandle,
    memory: Option<&MemoryStoreHandle>,
    #[napi(
        ts_arg_type = "((method: string, argsJson: string) => Promise<string>) | undefined | null"
    )]
    bridge: Option<Bridge>,
    lookup_batch: Option<u32>,
) -> Result<Object<'env>> {
    let mut store = choose_store(memory, bridge)?;
    let upload = upload.inner.clone();
    let settings = settings.inner.clone();
    let options = PlanOptions {
        lookup_batch: lookup_batch.map_or(lms_bulk_upload::DEFAULT_LOOKUP_BATCH, |b| b as usize),
    };
    crate::worker::spawn(env, move || {
        lms_bulk_upload::plan_with(&upload, &settings, store.as_mut(), &options)
            .map(|plan| PlanHandle {
                inner: Arc::new(plan),
            })
            .map_err(|e| to_napi(&e))
    })
}

/// A deterministic plan (the native side of `Plan`).
#[napi]
pub struct PlanHandle {
    pub(crate) inner: Arc<Plan>,
}

#[napi]
impl PlanHandle {
    /// Reads a plan back from its JSON, checking the format version and the fingerprint.
    /// A plan made with a default password needs it again.
    #[napi(factory)]
    pub fn from_json(json: String, default_password: Option<String>) -> Result<PlanHandle> {
        let mut plan = Plan::from_json(&json).map_err(|e| to_napi(&e))?;
        if let Some(password) = default_password {
            plan = plan.with_default_password(password);
        }
        Ok(PlanHandle {
            inner: Arc::new(plan),
        })
    }

    /// `sha256:<hex>` of the plan's canonical content.
    #[napi(getter)]
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint().to_owned()
    }

    /// The number of rows.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.rows().len() as u32
    }

    /// The counts, as camelCase JSON.
    #[napi]
    pub fn summary_json(&self) -> String {
        to_camel_json(self.inner.summary())
    }

    /// Rows `start..end`, as camelCase JSON.
    #[napi]
    pub fn rows_json(&self, start: u32, end: u32) -> String {
        let rows = self.inner.rows();
        let end = (end as usize).min(rows.len());
        let start = (start as usize).min(end);
        to_camel_json(&rows[start..end])
    }

    /// The settings the plan was made with (no password), as camelCase JSON.
    #[napi]
    pub fn settings_json(&self) -> String {
        to_camel_json(self.inner.settings())
    }

    /// File-level issues, as camelCase JSON.
    #[napi]
    pub fn file_issues_json(&self) -> String {
        to_camel_json(&self.inner.file_issues())
    }

    /// The plan's own JSON (the language-neutral format, snake_case keys, deterministic).
    #[napi]
    pub fn to_json_string(&self) -> String {
        self.inner.to_json()
    }

    /// Executes the plan on a worker thread. Give one store (`memory` or `storeBridge`), one
    /// mailer (`recording` or `mailerBridge`) and at most one journal (`journal` or
    /// `journalBridge`).
    #[napi(ts_return_type = "Promise<ResultsHandle>")]
    #[allow(clippy::too_many_arguments)]
    pub fn execute<'env>(
        &self,
        env: &'env Env,
        memory: Option<&MemoryStoreHandle>,
        #[napi(
            ts_arg_type = "((method: string, argsJson: string) => Promise<string>) | undefined | null"
        )]
        store_bridge: Option<Bridge>,
        recording: Option<&RecordingMailerHandle>,
        #[napi(
            ts_arg_type = "((method: string, argsJson: string) => Promise<string>) | undefined | null"
        )]
        mailer_bridge: Option<Bridge>,
        options_json: Option<String>,
        #[napi(
            ts_arg_type = "((done: number, total: number, failed: number) => void) | undefined | null"
        )]
        on_progress: Option<ProgressFn>,
        cancel: Option<&CancelToken>,
        journal: Option<&MemoryJournalHandle>,
        #[napi(
            ts_arg_type = "((method: string, argsJson: string) => Promise<string>) | undefined | null"
        )]
        journal_bridge: Option<Bridge>,
    ) -> Result<Object<'env>> {
        run_execute(
            env,
            self.inner.clone(),
            choose_store(memory, store_bridge)?,
            crate::execute::choose_mailer(recording, mailer_bridge)?,
            options_json,
            on_progress,
            cancel.map(|c| c.flag.clone()),
            choose_journal(journal, journal_bridge)?,
        )
    }
}
