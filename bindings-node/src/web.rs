//! `WebApi` (`lms.js`, `lms-bulk-upload/express`): the administrator's screens — the `web`
//! crate's `Api` over its `ObjectHost` — for a Node web framework. Each request is answered
//! on a worker thread (the host's hooks, store and mailer are JavaScript objects whose
//! methods may return Promises, reached through their bridges); a run is executed by
//! `run(runId)`, which a BullMQ worker (or the API's own thread) calls. All behaviour is
//! the web crate's (`docs/web-host-protocol.md`); this converts.
//!
//! The API keeps its bridges between calls, weak: an idle API does not keep Node's event
//! loop alive (a server closed, the process ends). Work in flight does: each call's
//! pending Promise ([`spawn`]), and a run executing on the API's own thread holds one of
//! its own ([`hold_loop`]).

use crate::host::{spawn, JsObject, Resolver, WeakBridge};
use crate::{from_js, to_napi};
use lms_bulk_upload::host::Naming;
use lms_bulk_upload::{HostError, ParseOptions};
use lms_bulk_upload_web::{
    Api, ApiConfig, Body, HookError, ObjectHost, ObjectHostConfig, Request, Response, RunOutcome,
    SharedObject,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::JsDeferred;
use napi_derive::napi;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

type Chunks = Box<dyn Iterator<Item = Vec<u8>> + Send>;

/// A JavaScript object, called from the API's worker threads.
struct SharedJs(JsObject<true>);

impl SharedObject for SharedJs {
    fn has_method(&self, method: &str) -> bool {
        self.0.has(method)
    }
    fn call(&self, method: &str, args: Vec<Value>) -> std::result::Result<Value, HostError> {
        self.0.request(method, args)
    }
}

/// Holds Node's event loop while a run executes on the API's own thread: a Promise left
/// pending (its deferred holds the loop, as [`spawn`]'s do), settled as this is dropped.
struct LoopHold(Option<JsDeferred<(), Resolver<()>>>);

impl Drop for LoopHold {
    fn drop(&mut self) {
        if let Some(deferred) = self.0.take() {
            deferred.resolve(Box::new(|_| Ok(())));
        }
    }
}

/// A [`LoopHold`] for a run starting on the API's own thread (the web crate's
/// `ObjectHost::hold_runs_with`). Called on the worker thread of the call that queues the
/// run (a request, `resumeUnfinished`), whose own pending Promise keeps the loop running
/// meanwhile: the JavaScript thread is reached through the hooks' bridge (asked whether the
/// hooks have a method named "", which reads a `typeof` only), makes the Promise there and
/// hands its deferred back. Nothing is held when the JavaScript thread cannot be reached
/// (its environment ending).
fn hold_loop(hooks: &WeakBridge) -> LoopHold {
    let (sender, receiver) = std::sync::mpsc::channel();
    hooks.call_with_return_value(
        FnArgs::from((String::new(), None)),
        ThreadsafeFunctionCallMode::NonBlocking,
        move |_, env| {
            let (deferred, _promise) = env.create_deferred::<(), Resolver<()>>()?;
            // The receiver waits for it, unless that thread is gone.
            let _ = sender.send(deferred);
            Ok(())
        },
    );
    LoopHold(receiver.recv().ok())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    site_url: String,
    secret: String,
    #[serde(default)]
    parse_options: Value,
    #[serde(default)]
    execute: Value,
    #[serde(default)]
    secure_cookies: bool,
    #[serde(default)]
    session_secs: Option<u64>,
}

fn hook_error(e: HookError) -> Error {
    match e {
        HookError::Refused { code, message } => Error::from_reason(format!("{code}: {message}")),
        HookError::Engine(e) => to_napi(e),
        HookError::Failed(message) => Error::from_reason(message),
    }
}

/// A response: status, headers and the whole body, or the id of a stream of chunks.
#[napi]
pub struct WebResponseHandle {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    stream: Option<u32>,
}

#[napi]
impl WebResponseHandle {
    /// The status code.
    #[napi(getter)]
    pub fn status(&self) -> u32 {
        u32::from(self.status)
    }
    /// `[name, value]` pairs (names in lower case).
    #[napi(getter)]
    pub fn headers(&self) -> Vec<Vec<String>> {
        self.headers
            .iter()
            .map(|(n, v)| vec![n.clone(), v.clone()])
            .collect()
    }
    /// The whole body (empty for a stream).
    #[napi(getter)]
    pub fn body(&self) -> Uint8Array {
        Uint8Array::from(self.body.clone())
    }
    /// The stream's id for `WebApiHandle.nextChunk`, or null.
    #[napi(getter)]
    pub fn stream(&self) -> Option<u32> {
        self.stream
    }
}

/// The screens' API over a host's hooks, store and mailer (the native side of `WebApi`).
#[napi]
pub struct WebApiHandle {
    api: Arc<Api>,
    host: Arc<ObjectHost>,
    streams: Arc<Mutex<HashMap<u32, Chunks>>>,
    next_stream: Arc<AtomicU32>,
}

impl WebApiHandle {
    fn respond(&self, response: Response) -> WebResponseHandle {
        let status = response.status;
        let headers = response.headers;
        match response.body {
            Body::Full(body) => WebResponseHandle {
                status,
                headers,
                body,
                stream: None,
            },
            Body::Stream(chunks) => {
                let id = self.next_stream.fetch_add(1, Ordering::SeqCst);
                lock(&self.streams).insert(id, chunks);
                WebResponseHandle {
                    status,
                    headers,
                    body: Vec::new(),
                    stream: Some(id),
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[napi]
impl WebApiHandle {
    /// The API over three bridges (hooks, store, mailer) and the options' JSON.
    #[napi(constructor)]
    pub fn new(
        #[napi(ts_arg_type = "(method: string, argsJson: string | null) => Promise<string>")]
        hooks: WeakBridge,
        #[napi(ts_arg_type = "(method: string, argsJson: string | null) => Promise<string>")]
        store: WeakBridge,
        #[napi(ts_arg_type = "(method: string, argsJson: string | null) => Promise<string>")]
        mailer: WeakBridge,
        options_json: String,
    ) -> Result<Self> {
        let options: Options = serde_json::from_value(from_js(Some(&options_json))?)
            .map_err(|e| Error::new(Status::InvalidArg, format!("WebApi options: {e}")))?;
        let parse_options = if options.parse_options.is_null() {
            ParseOptions::default()
        } else {
            ParseOptions::from_value(options.parse_options).map_err(to_napi)?
        };
        let config = ObjectHostConfig {
            site_url: options.site_url,
            secret: options.secret.into_bytes(),
            parse_options,
            execute: options.execute,
            naming: Naming::Camel,
        };
        let hooks = Arc::new(SharedJs(JsObject(hooks)));
        // Built without asking the objects for their methods: that needs the JavaScript
        // thread, which is the one running this constructor.
        let host = ObjectHost::unchecked(
            config,
            hooks.clone(),
            Arc::new(SharedJs(JsObject(store))),
            Arc::new(SharedJs(JsObject(mailer))),
        )
        .map_err(|e| Error::new(Status::InvalidArg, e))?;
        host.hold_runs_with(Box::new(move || Box::new(hold_loop(&hooks.0 .0))));
        let mut api_config = ApiConfig {
            secure_cookies: options.secure_cookies,
            ..ApiConfig::default()
        };
        if let Some(secs) = options.session_secs {
            api_config.session_secs = secs;
        }
        Ok(WebApiHandle {
            api: Arc::new(Api::new(host.clone(), api_config)),
            host,
            streams: Arc::new(Mutex::new(HashMap::new())),
            next_stream: Arc::new(AtomicU32::new(1)),
        })
    }

    /// Answers a request below the mount point (on a worker thread).
    #[napi(ts_return_type = "Promise<WebResponseHandle>")]
    #[allow(clippy::too_many_arguments)]
    pub fn handle<'env>(
        &self,
        env: &'env Env,
        method: String,
        path: String,
        query: String,
        headers: Vec<Vec<String>>,
        body: Uint8Array,
        peer: Option<String>,
    ) -> Result<Object<'env>> {
        let request = Request {
            method,
            path,
            query,
            headers: headers
                .into_iter()
                .filter_map(|mut pair| {
                    let value = pair.pop()?;
                    Some((pair.pop()?, value))
                })
                .collect(),
            body: body.to_vec(),
            peer: peer.and_then(|p| p.parse().ok()),
        };
        let this = WebApiHandle {
            api: self.api.clone(),
            host: self.host.clone(),
            streams: self.streams.clone(),
            next_stream: self.next_stream.clone(),
        };
        spawn(env, move || Ok(this.respond(this.api.handle(request))))
    }

    /// The most bytes of body a request to `path` may have.
    #[napi]
    pub fn body_limit(&self, method: String, path: String) -> f64 {
        self.api.body_limit(&method, &path) as f64
    }

    /// The answer to a body over the limit.
    #[napi]
    pub fn too_large(&self, limit: f64) -> WebResponseHandle {
        self.respond(self.api.too_large(limit.max(0.0) as usize))
    }

    /// The next chunk of a stream as text, or null once it has ended.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn next_chunk<'env>(&self, env: &'env Env, stream: u32) -> Result<Object<'env>> {
        let streams = self.streams.clone();
        spawn(env, move || {
            let Some(mut chunks) = lock(&streams).remove(&stream) else {
                return Ok(None);
            };
            let chunk = chunks.next();
            if chunk.is_some() {
                lock(&streams).insert(stream, chunks);
            }
            Ok(chunk.map(|c| String::from_utf8_lossy(&c).into_owned()))
        })
    }

    /// Ends a stream (the client went away).
    #[napi]
    pub fn close_stream(&self, stream: u32) {
        lock(&self.streams).remove(&stream);
    }

    /// Executes a queued run: `ended`, `already_ended` or `busy`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn run<'env>(&self, env: &'env Env, run_id: String) -> Result<Object<'env>> {
        let host = self.host.clone();
        spawn(env, move || {
            let outcome = host.execute_run(&run_id).map_err(hook_error)?;
            Ok(match outcome {
                RunOutcome::Ended => "ended".to_owned(),
                RunOutcome::AlreadyEnded => "already_ended".to_owned(),
                RunOutcome::Busy => "busy".to_owned(),
            })
        })
    }

    /// Queues again every run that has not ended; their ids.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn resume_unfinished<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let host = self.host.clone();
        spawn(env, move || host.resume_unfinished().map_err(hook_error))
    }
}
