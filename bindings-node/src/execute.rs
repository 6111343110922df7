//! Executing a plan on a worker thread (options decoded by the core, progress,
//! cancellation), and the `Results`.

use crate::host::{spawn, Given};
use crate::memory::Shared;
use crate::{slice_to_js, to_js, to_napi};
use lms_bulk_upload::host::ExecuteConfig;
use lms_bulk_upload::{MemoryJournal, MemoryStore, Plan, Progress, RecordingMailer, Results};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// `(done, total, failed) => void`.
pub(crate) type ProgressFn = ThreadsafeFunction<
    FnArgs<(u32, u32, u32)>,
    Unknown<'static>,
    FnArgs<(u32, u32, u32)>,
    Status,
    false,
>;

/// A flag that stops an execution between rows (set by `lms.js` from an `AbortSignal`).
#[napi]
#[derive(Default)]
pub struct CancelToken {
    pub(crate) flag: Arc<AtomicBool>,
}

#[napi]
impl CancelToken {
    /// A token not yet cancelled.
    #[napi(constructor)]
    pub fn new() -> Self {
        CancelToken::default()
    }
    /// Asks the execution to stop before its next row.
    #[napi]
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }
}

/// Reports progress to JavaScript without flooding its queue: while one report waits to
/// run, later ones are skipped, except the last (`done == total`), which is always sent.
struct Reporter {
    callback: ProgressFn,
    pending: Arc<AtomicBool>,
}

impl Reporter {
    fn report(&self, p: Progress) {
        let last = p.done >= p.total;
        if !last && self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending = self.pending.clone();
        let n = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        self.callback.call_with_return_value(
            FnArgs::from((n(p.done), n(p.total), n(p.failed))),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |_, _| {
                pending.store(false, Ordering::Release);
                Ok(())
            },
        );
    }
}

/// Runs `plan` through the store, mailer and journal on a worker thread; `options` are the
/// core's [`ExecuteConfig`], checked before anything starts.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<'env>(
    env: &'env Env,
    plan: Arc<Plan>,
    store: Given<Shared<MemoryStore>>,
    mailer: Given<Shared<RecordingMailer>>,
    journal: Option<Given<Shared<MemoryJournal>>>,
    options: Value,
    on_progress: Option<ProgressFn>,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<Object<'env>> {
    let config = ExecuteConfig::from_value(options).map_err(to_napi)?;
    let reporter = on_progress.map(|callback| Reporter {
        callback,
        pending: Arc::new(AtomicBool::new(false)),
    });
    spawn(env, move || {
        let (mut store, mut mailer) = (store.store()?, mailer.mailer()?);
        let mut journal = journal.map(Given::journal).transpose()?;
        let mut options = config.into_options();
        options.cancel = cancel;
        options.journal = journal.as_deref_mut().map(|j| j as _);
        if let Some(reporter) = reporter {
            options.progress = Some(Box::new(move |p| reporter.report(p)));
        }
        let results = lms_bulk_upload::execute(&plan, store.as_mut(), mailer.as_mut(), options);
        Ok(ResultsHandle {
            inner: results.map_err(to_napi)?,
        })
    })
}

/// The results of an execution (the native side of `Results`).
#[napi]
pub struct ResultsHandle {
    pub(crate) inner: Results,
}

#[napi]
impl ResultsHandle {
    /// The number of rows.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.rows.len() as u32
    }
    /// Everything but the rows, as camelCase JSON (the core's `view::results_head`:
    /// `{fingerprint, summary, cancelled, confirmationError, shard, confirmationDeferred,
    /// undoOf, verified}`, every count present).
    #[napi]
    pub fn head_json(&self) -> String {
        to_js(&lms_bulk_upload::host::view::results_head(&self.inner))
    }
    /// Rows `start..end`, as camelCase JSON.
    #[napi]
    pub fn rows_json(&self, start: u32, end: u32) -> String {
        slice_to_js(
            &self.inner.rows,
            start,
            end,
            lms_bulk_upload::host::view::result_row,
        )
    }
    /// The results as CSV (formula-safe cells).
    #[napi]
    pub fn to_csv(&self) -> String {
        self.inner.to_csv()
    }
    /// The results' own JSON (the language-neutral format, snake_case keys).
    #[napi]
    pub fn to_json_string(&self) -> String {
        self.inner.to_json()
    }
}
