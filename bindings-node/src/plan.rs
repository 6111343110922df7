//! `Settings`, `plan()` and the `Plan`: built on a worker thread, shown and serialised from
//! JavaScript, executed ([`crate::execute`]).

use crate::execute::{run, CancelToken, ProgressFn};
use crate::host::{spawn, Bridge, Given};
use crate::memory::{MemoryJournalHandle, MemoryStoreHandle, RecordingMailerHandle};
use crate::upload::UploadHandle;
use crate::{from_js, to_js, to_napi};
use lms_bulk_upload::host::{view, Naming};
use lms_bulk_upload::{Plan, PlanOptions, Settings};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// Validated settings (the native side of `Settings`).
#[napi]
pub struct SettingsHandle {
    pub(crate) inner: Arc<Settings>,
}

#[napi]
impl SettingsHandle {
    /// Builds settings from a JSON object (camelCase or snake_case keys; unknown keys are
    /// refused). Throws a settings error with a code on a contradiction.
    #[napi(constructor)]
    pub fn new(json: String) -> Result<Self> {
        let settings = Settings::from_value(from_js(Some(&json))?).map_err(to_napi)?;
        Ok(SettingsHandle {
            inner: Arc::new(settings),
        })
    }

    /// The settings as camelCase JSON, without the default password (`hasDefaultPassword`).
    #[napi]
    pub fn to_json_string(&self) -> String {
        self.inner.to_value(Naming::Camel).to_string()
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
        ts_arg_type = "((method: string, argsJson: string | null) => Promise<string>) | undefined | null"
    )]
    bridge: Option<Bridge>,
    lookup_batch: Option<u32>,
) -> Result<Object<'env>> {
    let store = Given::one(memory.map(|m| m.inner.share()), bridge)?;
    let (upload, settings) = (upload.inner.clone(), settings.inner.clone());
    let options = PlanOptions {
        lookup_batch: lookup_batch.map_or(lms_bulk_upload::DEFAULT_LOOKUP_BATCH, |b| b as usize),
        ..Default::default()
    };
    spawn(env, move || {
        let mut store = store.store()?;
        let plan = lms_bulk_upload::plan_with(&upload, &settings, store.as_mut(), &options);
        Ok(PlanHandle {
            inner: Arc::new(plan.map_err(to_napi)?),
        })
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
        let mut plan = Plan::from_json(&json).map_err(to_napi)?;
        if let Some(password) = default_password {
            plan = plan.with_default_password(password);
        }
        Ok(PlanHandle {
            inner: Arc::new(plan),
        })
    }

    /// The number of rows.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.rows().len() as u32
    }

    /// Everything but the rows, as camelCase JSON: `{fingerprint, summary, settings,
    /// fileIssues, undoOf, shard}` (the core's `view::plan_head`: every count present).
    #[napi]
    pub fn head_json(&self) -> String {
        to_js(&view::plan_head(&self.inner))
    }

    /// Rows `start..end`, as camelCase JSON (the core's `view::plan_row`: `operations`,
    /// `noops` and `issues` always present).
    #[napi]
    pub fn rows_json(&self, start: u32, end: u32) -> String {
        to_js(&view::plan_rows(
            self.inner.rows(),
            start as usize..end as usize,
        ))
    }

    /// The plan's own JSON (the language-neutral format, snake_case keys, deterministic).
    #[napi]
    pub fn to_json_string(&self) -> String {
        self.inner.to_json()
    }

    /// Executes the plan on a worker thread. Give one store (`memory` or `storeBridge`), one
    /// mailer (`recording` or `mailerBridge`) and at most one journal (`journal` or
    /// `journalBridge`); `optionsJson` is the core's `ExecuteConfig`.
    #[napi(ts_return_type = "Promise<ResultsHandle>")]
    #[allow(clippy::too_many_arguments)]
    pub fn execute<'env>(
        &self,
        env: &'env Env,
        memory: Option<&MemoryStoreHandle>,
        #[napi(
            ts_arg_type = "((method: string, argsJson: string | null) => Promise<string>) | undefined | null"
        )]
        store_bridge: Option<Bridge>,
        recording: Option<&RecordingMailerHandle>,
        #[napi(
            ts_arg_type = "((method: string, argsJson: string | null) => Promise<string>) | undefined | null"
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
            ts_arg_type = "((method: string, argsJson: string | null) => Promise<string>) | undefined | null"
        )]
        journal_bridge: Option<Bridge>,
    ) -> Result<Object<'env>> {
        run(
            env,
            self.inner.clone(),
            Given::one(memory.map(|m| m.inner.share()), store_bridge)?,
            Given::one(recording.map(|m| m.inner.share()), mailer_bridge)?,
            Given::pick(journal.map(|j| j.inner.share()), journal_bridge)?,
            from_js(options_json.as_deref())?,
            on_progress,
            cancel.map(|c| c.flag.clone()),
        )
    }
}
