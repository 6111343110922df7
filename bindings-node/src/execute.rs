//! Executing a plan on a worker thread: options, progress and cancellation.

use crate::errors::{custom, to_napi};
use crate::json::snake_key;
use crate::mailer::HostMailer;
use crate::memory::{RecordingMailerHandle, SharedMailer};
use crate::results::ResultsHandle;
use crate::store::Bridge;
use lms_bulk_upload::{
    ExecuteOptions, HashParams, Journal, Mailer, Password, Plan, Progress, Store, Template,
    Templates,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    /// Whether `cancel` was called.
    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// Argon2id cost as JavaScript gives it; missing fields take the core's defaults, and weak
/// ones need `insecureForTests: true` (the core refuses them otherwise: `weak_hash_params`).
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct JsHashParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    insecure_for_tests: bool,
}

impl Default for JsHashParams {
    fn default() -> Self {
        let d = HashParams::default();
        JsHashParams {
            memory_kib: d.memory_kib(),
            iterations: d.iterations(),
            parallelism: d.parallelism(),
            insecure_for_tests: false,
        }
    }
}

/// `ExecuteOptions` as JavaScript gives them (the callbacks are passed separately).
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct JsExecuteOptions {
    default_password: Option<String>,
    hash_params: Option<JsHashParams>,
    threads: Option<usize>,
    batch_size: Option<usize>,
    retries: Option<u32>,
    retry_delay_ms: Option<u64>,
    templates: Option<Value>,
}

/// The template names JavaScript may give, camelCase (snake_case is accepted too).
const TEMPLATE_NAMES: &str =
    "welcome, welcomeWithPassword, passwordChanged, passwordChangedWithPassword, uploadComplete";

fn template_error(message: String) -> Error {
    custom("settings", "invalid_setting", message)
}

/// `templates`: an object naming any of the five templates, each `{subject, text, html}`;
/// the others keep the defaults. The core checks the placeholders (`invalid_template`).
fn templates(given: Option<Value>) -> Result<Templates> {
    let mut templates = Templates::default();
    let Some(given) = given.filter(|v| !v.is_null()) else {
        return Ok(templates);
    };
    let Value::Object(map) = given else {
        return Err(template_error(format!(
            "templates must be an object naming any of {TEMPLATE_NAMES}"
        )));
    };
    for (name, value) in map {
        let slot = match snake_key(&name).as_str() {
            "welcome" => &mut templates.welcome,
            "welcome_with_password" => &mut templates.welcome_with_password,
            "password_changed" => &mut templates.password_changed,
            "password_changed_with_password" => &mut templates.password_changed_with_password,
            "upload_complete" => &mut templates.upload_complete,
            _ => {
                return Err(template_error(format!(
                    "templates: unknown template {name:?} (known: {TEMPLATE_NAMES})"
                )))
            }
        };
        let Value::Object(parts) = &value else {
            return Err(template_error(format!(
                "templates.{name} must be an object {{subject, text, html}}"
            )));
        };
        if let Some(key) = parts
            .keys()
            .find(|k| !matches!(k.as_str(), "subject" | "text" | "html"))
        {
            return Err(template_error(format!(
                "templates.{name}: unknown key {key:?} (give subject, text and html)"
            )));
        }
        let part = |key: &str| -> Result<&str> {
            parts
                .get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| template_error(format!("templates.{name} needs a string {key}")))
        };
        *slot = Template::new(part("subject")?, part("text")?, part("html")?)
            .map_err(|e| to_napi(&e))?;
    }
    Ok(templates)
}

pub(crate) fn choose_mailer(
    recording: Option<&RecordingMailerHandle>,
    bridge: Option<Bridge>,
) -> Result<Box<dyn Mailer + Send>> {
    match (recording, bridge) {
        (Some(m), None) => Ok(Box::new(SharedMailer(m.inner.clone()))),
        (None, Some(bridge)) => Ok(Box::new(HostMailer { bridge })),
        _ => Err(Error::new(
            Status::InvalidArg,
            "give exactly one mailer: a RecordingMailer or a bridge",
        )),
    }
}

/// Reports progress to JavaScript without flooding its queue: while one report waits to
/// run, later ones are skipped, except the last (`done == total`), which is always sent.
struct Reporter {
    callback: Arc<ProgressFn>,
    pending: Arc<AtomicBool>,
}

impl Reporter {
    fn report(&self, p: Progress) {
        let last = p.done >= p.total;
        if !last && self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending = self.pending.clone();
        let args = FnArgs::from((to_u32(p.done), to_u32(p.total), to_u32(p.failed)));
        self.callback.call_with_return_value(
            args,
            ThreadsafeFunctionCallMode::NonBlocking,
            move |_, _| {
                pending.store(false, Ordering::Release);
                Ok(())
            },
        );
    }
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn run_execute<'env>(
    env: &'env Env,
    plan: Arc<Plan>,
    mut store: Box<dyn Store + Send>,
    mut mailer: Box<dyn Mailer + Send>,
    options_json: Option<String>,
    on_progress: Option<ProgressFn>,
    cancel: Option<Arc<AtomicBool>>,
    mut journal: Option<Box<dyn Journal + Send>>,
) -> Result<Object<'env>> {
    let mut given: JsExecuteOptions = match options_json.as_deref() {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| custom("plan", "invalid_setting", format!("execute options: {e}")))?,
        None => JsExecuteOptions::default(),
    };
    let templates = templates(given.templates.take())?;
    let reporter = on_progress.map(|callback| Reporter {
        callback: Arc::new(callback),
        pending: Arc::new(AtomicBool::new(false)),
    });
    crate::worker::spawn(env, move || {
        let mut options = ExecuteOptions {
            default_password: given.default_password.map(Password::new),
            cancel,
            templates,
            journal: journal.as_deref_mut().map(|j| j as &mut dyn Journal),
            ..ExecuteOptions::default()
        };
        if let Some(h) = given.hash_params {
            options.hash_params = if h.insecure_for_tests {
                HashParams::insecure_for_tests(h.memory_kib, h.iterations, h.parallelism)
            } else {
                HashParams::new(h.memory_kib, h.iterations, h.parallelism)
                    .map_err(|e| to_napi(&e))?
            };
        }
        if let Some(threads) = given.threads {
            options.threads = threads;
        }
        if let Some(batch) = given.batch_size {
            options.batch_size = batch;
        }
        if let Some(retries) = given.retries {
            options.retries = retries;
        }
        if let Some(ms) = given.retry_delay_ms {
            options.retry_delay = Duration::from_millis(ms);
        }
        if let Some(reporter) = reporter {
            options.progress = Some(Box::new(move |p| reporter.report(p)));
        }
        lms_bulk_upload::execute(&plan, store.as_mut(), mailer.as_mut(), options)
            .map(|results| ResultsHandle { inner: results })
            .map_err(|e| to_napi(&e))
    })
}
