//! A host's own store, mailer or journal — a JavaScript object whose methods return values
//! or Promises — as the core's [`HostObject`], and the worker thread the engine runs on.
//!
//! Each call goes through one `ThreadsafeFunction`, the bridge `lms.js` makes around the
//! object: `(method, argsJson)` resolves with `{"ok": reply}` or
//! `{"error": message, "transient": bool}` as JSON, and `(method, null)` with whether the
//! object has that method. The worker waits for the answer; the event loop never does.
//! What the methods get and what their replies must be is the core's
//! ([`HostStore`], [`HostMailer`], [`HostJournal`]).

use crate::to_napi;
use lms_bulk_upload::host::{HostJournal, HostMailer, HostObject, HostStore, Naming};
use lms_bulk_upload::{HostError, IssueCode, Journal, Mailer, Store};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::JsDeferred;
use serde::Deserialize;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// `(method, argsJson | null) => Promise<string>`, made by `lms.js` around a host object;
/// `WEAK`: it does not keep Node's event loop alive by itself ([`WeakBridge`]).
pub(crate) type BridgeOf<const WEAK: bool> = ThreadsafeFunction<
    FnArgs<(String, Option<String>)>,
    Promise<String>,
    FnArgs<(String, Option<String>)>,
    Status,
    false,
    WEAK,
>;

/// A bridge given for one call (`plan`, `execute`, ...): it keeps the event loop alive
/// while it exists, and it is dropped, on the worker thread, as the call's work ends.
pub(crate) type Bridge = BridgeOf<false>;

/// A bridge an object keeps between calls (`WebApi`'s): it does not keep the event loop
/// alive while the object is idle; a call in flight does, by its pending Promise
/// ([`spawn`]).
pub(crate) type WeakBridge = BridgeOf<true>;

/// A JavaScript object behind its bridge.
pub(crate) struct JsObject<const WEAK: bool = false>(pub(crate) BridgeOf<WEAK>);

#[derive(Deserialize)]
struct Reply {
    ok: Option<Value>,
    error: Option<String>,
    #[serde(default)]
    transient: bool,
    /// The reply itself could not be turned into JSON (a cycle, nesting too deep).
    #[serde(default)]
    unreadable: bool,
}

impl<const WEAK: bool> JsObject<WEAK> {
    fn ask(&self, method: &str, args: Option<String>) -> std::result::Result<String, String> {
        let request = FnArgs::from((method.to_owned(), args));
        block_on(async { self.0.call_async_catch(request).await?.await }).map_err(|e| e.reason)
    }
}

impl HostObject for JsObject {
    fn has_method(&mut self, method: &str) -> bool {
        self.has(method)
    }

    fn call(&mut self, method: &str, args: Vec<Value>) -> std::result::Result<Value, HostError> {
        self.request(method, args)
    }
}

impl<const WEAK: bool> JsObject<WEAK> {
    /// Whether the object has a method of that name (from any thread).
    pub(crate) fn has(&self, method: &str) -> bool {
        self.ask(method, None).is_ok_and(|answer| answer == "true")
    }

    /// Calls a method and reads its reply (from any thread but the JavaScript one).
    pub(crate) fn request(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> std::result::Result<Value, HostError> {
        let answer = self
            .ask(method, Some(Value::Array(args).to_string()))
            .map_err(HostError::permanent)?;
        // Nested deeper than serde_json's limit (128): a reply that cannot be read.
        let reply: Reply = serde_json::from_str(&answer).map_err(|e| {
            HostError::coded(
                IssueCode::InvalidHostReply,
                format!("{method} returned a value that cannot be read: {e}"),
            )
        })?;
        if reply.unreadable {
            let message = reply.error.unwrap_or_default();
            return Err(HostError::coded(
                IssueCode::InvalidHostReply,
                format!("{method} returned a value that cannot be read: {message}"),
            ));
        }
        match reply.error {
            Some(message) if reply.transient => Err(HostError::transient(message)),
            Some(message) => Err(HostError::permanent(message)),
            None => Ok(reply.ok.unwrap_or(Value::Null)),
        }
    }
}

/// A store, mailer or journal as given: the native double, or a host object's bridge. A
/// host object is wrapped on the worker thread (the core asks it for its methods there).
pub(crate) enum Given<T> {
    Native(T),
    Js(Bridge),
}

impl<T> Given<T> {
    /// `native` or `bridge`: at most one of them (neither: `None`).
    pub(crate) fn pick(native: Option<T>, bridge: Option<Bridge>) -> Result<Option<Given<T>>> {
        match (native, bridge) {
            (Some(native), None) => Ok(Some(Given::Native(native))),
            (None, Some(bridge)) => Ok(Some(Given::Js(bridge))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(Error::new(Status::InvalidArg, "one object, not two")),
        }
    }

    /// Like [`Given::pick`], for an argument that is required.
    pub(crate) fn one(native: Option<T>, bridge: Option<Bridge>) -> Result<Given<T>> {
        Given::pick(native, bridge)?
            .ok_or_else(|| Error::new(Status::InvalidArg, "an object is required"))
    }
}

macro_rules! open {
    ($name:ident, $trait:ident, $host:ident) => {
        impl<T: $trait + Send + 'static> Given<T> {
            /// The object as the engine uses it (checked by the core when it is a host's).
            pub(crate) fn $name(self) -> Result<Box<dyn $trait + Send>> {
                Ok(match self {
                    Given::Native(native) => Box::new(native),
                    Given::Js(bridge) => {
                        Box::new($host::new(JsObject(bridge), Naming::Camel).map_err(to_napi)?)
                    }
                })
            }
        }
    };
}

open!(store, Store, HostStore);
open!(mailer, Mailer, HostMailer);
open!(journal, Journal, HostJournal);

pub(crate) type Resolver<T> = Box<dyn FnOnce(Env) -> Result<T> + Send>;

/// Returns a Promise, runs `work` on a new thread and settles the Promise with its outcome.
/// Until it settles, the Promise keeps Node's event loop alive (napi's deferred holds it),
/// so the process does not end while the work runs; a weak bridge the work calls is served
/// meanwhile.
///
/// A dedicated thread (not libuv's pool) is used because the work may wait for the host's
/// Promises, which may themselves need libuv's pool (file system, DNS, database drivers).
pub(crate) fn spawn<'env, T, F>(env: &'env Env, work: F) -> Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let (deferred, promise): (JsDeferred<T, Resolver<T>>, Object<'env>) = env.create_deferred()?;
    std::thread::Builder::new()
        .name("lms-bulk-upload".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|_| Err(Error::from_reason("lms-bulk-upload: a panic")));
            match outcome {
                Ok(value) => deferred.resolve(Box::new(move |_| Ok(value))),
                Err(e) => deferred.reject(e),
            }
        })
        .map_err(|e| Error::from_reason(format!("cannot start a thread: {e}")))?;
    Ok(promise)
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Waits on this (worker) thread for a future, such as a host Promise settling on the
/// JavaScript thread.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}
