//! Running engine work off the JavaScript thread and settling a Promise with the outcome.

use napi::bindgen_prelude::*;
use napi::JsDeferred;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

type Resolver<T> = Box<dyn FnOnce(Env) -> Result<T> + Send>;

/// Returns a Promise, runs `work` on a new thread and settles the Promise with its outcome.
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
                .unwrap_or_else(|_| {
                    Err(Error::from_reason(
                        "lms-bulk-upload: internal error (a panic in the engine)",
                    ))
                });
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
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
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
