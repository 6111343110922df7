//! `LmsBulkUpload::WebApi`: the administrator's screens (the `web` crate's `Api` over its
//! `ObjectHost`) for a Ruby web framework. The Rack adapter (`LmsBulkUpload::Web`) hands each
//! request to `handle` and each queued run to `run`; the host's hooks, store and mailer are
//! Ruby objects (`docs/web-host-protocol.md`). All behaviour is the web crate's; this converts.
//!
//! The calls that wait (`handle`, `run`, `resume_unfinished`, `WebResponse::next_chunk`) are
//! attached to Ruby with the GVL released (`lib/lms_bulk_upload/native.rb`): a host method
//! called back from the calling thread takes the GVL again, and one called from a thread of
//! the API (a run's heartbeat, a run executed without a job queue) is run by ruby-ffi's
//! callback thread, which can take it because no Ruby thread holds it while it waits here.
//!
//! A run executing on a thread of the API's own is counted while it executes
//! ([`RunInFlight`]); [`wait_for_runs`] waits for the count to fall to 0, which the gem does
//! in an `at_exit` (`lib/lms_bulk_upload/web.rb`): Ruby ends a process once its main thread
//! has ended and its `at_exit` blocks have run, whatever Rust threads are still calling it.

use crate::error::{from_json_text, to_json, NativeError, NativeResult};
use crate::host::{call_host, RubyHost};
use lms_bulk_upload::host::Naming;
use lms_bulk_upload::{HostError, ParseOptions};
use lms_bulk_upload_web::{
    Api, ApiConfig, Body, HookError, ObjectHost, ObjectHostConfig, Request, Response, RunOutcome,
    SharedObject,
};
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many runs execute on a thread of a `WebApi`'s own in this process (every API's).
static RUNS_IN_FLIGHT: Mutex<usize> = Mutex::new(0);
/// Notified as one of them ends.
static RUN_ENDED: Condvar = Condvar::new();

/// One run executing on a thread of an API's own (the web crate's
/// `ObjectHost::hold_runs_with`): counted from the moment it is queued until its thread
/// ends. Takes no lock of Ruby's: only the count's, never held while Ruby is called.
struct RunInFlight;

impl RunInFlight {
    fn new() -> RunInFlight {
        *RUNS_IN_FLIGHT
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        RunInFlight
    }
}

impl Drop for RunInFlight {
    fn drop(&mut self) {
        let mut runs = RUNS_IN_FLIGHT
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *runs = runs.saturating_sub(1);
        RUN_ENDED.notify_all();
    }
}

/// Waits until no run executes on a thread of a `WebApi`'s own (hooks without
/// `enqueue_run`, runs resumed by `resume_unfinished`), at most `timeout_ms`: whether none
/// does. The gem calls it with the GVL released (the runs' threads call Ruby back), a
/// short timeout at a time so that an interrupt is seen between calls.
#[uniffi::export]
pub fn wait_for_runs(timeout_ms: u32) -> bool {
    let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms));
    let mut runs = RUNS_IN_FLIGHT
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    while *runs > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        runs = RUN_ENDED
            .wait_timeout(runs, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    true
}

/// A Ruby object as the web crate's [`SharedObject`] (called from any thread: ruby-ffi
/// takes the GVL for each call).
struct RubyShared(Arc<dyn RubyHost>);

impl SharedObject for RubyShared {
    fn has_method(&self, method: &str) -> bool {
        self.0.has_method(method.to_owned())
    }

    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        call_host(self.0.as_ref(), method, args)
    }
}

/// The options of a `WebApi` (the secret crosses apart, as bytes).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebOptions {
    site_url: String,
    #[serde(default)]
    parse_options: Value,
    #[serde(default)]
    execute: Value,
    #[serde(default)]
    secure_cookies: bool,
    #[serde(default)]
    session_secs: Option<u64>,
}

/// A request below the mount point, as the Rack adapter read it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebRequest {
    method: String,
    path: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    peer: Option<String>,
}

fn argument(message: impl Into<String>) -> NativeError {
    NativeError::Argument {
        message: message.into(),
    }
}

fn hook_error(e: HookError) -> NativeError {
    match e {
        HookError::Engine(e) => e.into(),
        HookError::Refused { code, message } => argument(format!("{message} [{code}]")),
        HookError::Failed(message) => argument(message),
    }
}

/// The screens' API over a host's hooks, store and mailer.
#[derive(uniffi::Object)]
pub struct WebApi {
    api: Arc<Api>,
    host: Arc<ObjectHost>,
}

#[uniffi::export]
impl WebApi {
    /// The API over `hooks`, `store` and `mailer` (Ruby objects). `options_json`: `site_url`,
    /// `parse_options`, `execute`, `secure_cookies`, `session_secs`; `secret`: at least 32
    /// bytes, the same in every process of the host.
    #[uniffi::constructor]
    pub fn new(
        hooks: Arc<dyn RubyHost>,
        store: Arc<dyn RubyHost>,
        mailer: Arc<dyn RubyHost>,
        secret: Vec<u8>,
        options_json: String,
    ) -> NativeResult<Arc<WebApi>> {
        let options: WebOptions =
            serde_json::from_value(from_json_text(&options_json, "web options")?)
                .map_err(|e| argument(format!("web options: {e}")))?;
        let parse_options = if options.parse_options.is_null() {
            ParseOptions::default()
        } else {
            ParseOptions::from_value(options.parse_options)?
        };
        let config = ObjectHostConfig {
            site_url: options.site_url,
            secret,
            parse_options,
            execute: options.execute,
            naming: Naming::Snake,
        };
        let host = ObjectHost::new(
            config,
            Arc::new(RubyShared(hooks)),
            Arc::new(RubyShared(store)),
            Arc::new(RubyShared(mailer)),
        )
        .map_err(argument)?;
        host.hold_runs_with(Box::new(|| Box::new(RunInFlight::new())));
        let mut api_config = ApiConfig {
            secure_cookies: options.secure_cookies,
            ..ApiConfig::default()
        };
        if let Some(secs) = options.session_secs {
            api_config.session_secs = secs;
        }
        Ok(Arc::new(WebApi {
            api: Arc::new(Api::new(host.clone(), api_config)),
            host,
        }))
    }

    /// Answers a request below the mount point. `request_json`: `method`, `path` (below the
    /// mount point), `query` (without `?`), `headers` (`[[name, value]...]`), `peer`.
    pub fn handle(&self, request_json: String, body: Vec<u8>) -> NativeResult<Arc<WebResponse>> {
        let request: WebRequest = serde_json::from_value(from_json_text(&request_json, "request")?)
            .map_err(|e| argument(format!("request: {e}")))?;
        let request = Request {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: request.headers,
            body,
            peer: request.peer.and_then(|p| p.parse::<IpAddr>().ok()),
        };
        Ok(WebResponse::new(self.api.handle(request)))
    }

    /// The most bytes of body a request to `path` may have.
    pub fn body_limit(&self, method: String, path: String) -> u64 {
        self.api.body_limit(&method, &path) as u64
    }

    /// The answer to a body over the limit, as `handle` gives it.
    pub fn too_large(&self, limit: u64) -> Arc<WebResponse> {
        WebResponse::new(
            self.api
                .too_large(usize::try_from(limit).unwrap_or(usize::MAX)),
        )
    }

    /// Executes a queued run (what the job of `hooks.enqueue_run` calls): `ended`,
    /// `already_ended` or `busy` (another worker's heartbeat is fresh).
    pub fn run(&self, run_id: String) -> NativeResult<String> {
        let outcome = self.host.execute_run(&run_id).map_err(hook_error)?;
        Ok(match outcome {
            RunOutcome::Ended => "ended",
            RunOutcome::AlreadyEnded => "already_ended",
            RunOutcome::Busy => "busy",
        }
        .to_owned())
    }

    /// Queues again every run left unfinished (a stop of the host): their ids, as JSON.
    pub fn resume_unfinished(&self) -> NativeResult<String> {
        let ids = self.host.resume_unfinished().map_err(hook_error)?;
        Ok(to_json(&ids))
    }
}

type Chunks = Box<dyn Iterator<Item = Vec<u8>> + Send>;

/// An answer: its status, headers and body, whole or streamed (the run's events).
#[derive(uniffi::Object)]
pub struct WebResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Mutex<Option<Vec<u8>>>,
    chunks: Mutex<Option<Chunks>>,
    streamed: bool,
}

impl WebResponse {
    fn new(response: Response) -> Arc<WebResponse> {
        let (body, chunks, streamed) = match response.body {
            Body::Full(bytes) => (Some(bytes), None, false),
            Body::Stream(chunks) => (None, Some(chunks), true),
        };
        Arc::new(WebResponse {
            status: response.status,
            headers: response.headers,
            body: Mutex::new(body),
            chunks: Mutex::new(chunks),
            streamed,
        })
    }
}

#[uniffi::export]
impl WebResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers as JSON: `[[name, value]...]`, names in lower case.
    pub fn headers_json(&self) -> String {
        to_json(&self.headers)
    }

    /// Whether the body is a stream (read with `next_chunk`) rather than whole (`body`).
    pub fn is_stream(&self) -> bool {
        self.streamed
    }

    /// The whole body (empty for a stream, or once taken).
    pub fn body(&self) -> Vec<u8> {
        self.body
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default()
    }

    /// The stream's next chunk, waited for; `None` at its end.
    pub fn next_chunk(&self) -> Option<Vec<u8>> {
        let mut chunks = self.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        let chunk = chunks.as_mut().and_then(Iterator::next);
        if chunk.is_none() {
            *chunks = None;
        }
        chunk
    }

    /// Ends the stream (the client went away).
    pub fn close(&self) {
        *self.chunks.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
