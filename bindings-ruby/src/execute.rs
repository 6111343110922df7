//! `Plan#execute`: options from data, progress, cancellation, and the `Results`.

use crate::error::{from_json_text, to_json, NativeResult};
use crate::memory::{JournalArg, MailerArg, StoreArg};
use crate::plan::Plan;
use lms_bulk_upload::host::{view, ExecuteConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Told after every row; answers whether to go on (false: stop between rows, as a cancel).
#[uniffi::export(with_foreign)]
pub trait ProgressSink: Send + Sync {
    /// Rows handled, rows in the plan, rows failed so far.
    fn progress(&self, done: u64, total: u64, failed: u64) -> bool;
}

/// Stops an execution between rows once `cancel` is called (from any thread).
#[derive(uniffi::Object, Default)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[uniffi::export]
impl CancelToken {
    /// A token not cancelled yet.
    #[uniffi::constructor]
    pub fn new() -> Arc<CancelToken> {
        Arc::new(CancelToken::default())
    }

    /// Asks the execution to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// What an execution did (behind a lock: `send_confirmation` records its outcome in it).
#[derive(uniffi::Object)]
pub struct Results {
    inner: Mutex<lms_bulk_upload::Results>,
}

impl Results {
    pub(crate) fn new(inner: lms_bulk_upload::Results) -> Arc<Results> {
        Arc::new(Results {
            inner: Mutex::new(inner),
        })
    }

    /// The core's results (a panic elsewhere cannot leave them half-written: no lock is
    /// held across one).
    pub(crate) fn get(&self) -> MutexGuard<'_, lms_bulk_upload::Results> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl Plan {
    /// Executes the plan. `options_json`: an object of execute options (decoded by the core:
    /// `default_password`, `hash_params`, `batch_size`, `retries`, `retry_delay_ms`,
    /// `threads`, `templates`) or null.
    pub fn execute(
        &self,
        store: StoreArg,
        mailer: MailerArg,
        journal: Option<JournalArg>,
        options_json: String,
        progress: Option<Arc<dyn ProgressSink>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> NativeResult<Arc<Results>> {
        let config = ExecuteConfig::from_value(from_json_text(&options_json, "execute options")?)?;
        let mut store = store.open()?;
        let mut mailer = mailer.open()?;
        let mut journal = journal.as_ref().map(JournalArg::open).transpose()?;
        let flag = cancel.map(|c| Arc::clone(&c.flag)).unwrap_or_default();
        let mut options = config.into_options();
        if let Some(sink) = progress {
            let stop = Arc::clone(&flag);
            options.progress = Some(Box::new(move |p| {
                if !sink.progress(p.done, p.total, p.failed) {
                    stop.store(true, Ordering::SeqCst);
                }
            }));
        }
        options.cancel = Some(flag);
        options.journal = journal.as_mut().map(|j| j.journal());
        let inner = self
            .inner
            .execute(store.store(), mailer.mailer(), options)?;
        Ok(Results::new(inner))
    }
}

#[uniffi::export]
impl Results {
    /// The results as JSON (the same bytes in every language).
    pub fn to_json(&self) -> String {
        self.get().to_json()
    }

    /// The results as formula-safe CSV.
    pub fn to_csv(&self) -> String {
        self.get().to_csv()
    }

    /// Everything but the rows, as a JSON object (the core's `view::results_head`: every
    /// count present; `confirmation_error`, `shard`, `undo_of` null when absent).
    pub fn head_json(&self) -> String {
        to_json(&view::results_head(&self.get()))
    }

    /// Rows `start..start + count` (clamped), as a JSON list.
    pub fn rows_json(&self, start: u64, count: u64) -> String {
        to_json(&crate::plan::slice(
            &self.get().rows,
            start,
            count,
            view::result_row,
        ))
    }

    /// Result rows.
    pub fn row_count(&self) -> u64 {
        self.get().rows.len() as u64
    }
}
