//! Undoing an upload: the core's `plan_undo` on a worker thread, from an execution's
//! `Results` and the store as it is now. The undo plan is a `PlanHandle` like any other.

use crate::execute::ResultsHandle;
use crate::host::{spawn, Bridge, Given};
use crate::memory::MemoryStoreHandle;
use crate::plan::PlanHandle;
use crate::{from_js, to_napi};
use lms_bulk_upload::UndoOptions;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// Plans the undo of the upload `results` come from, on a worker thread; the store is only
/// read. Give one store (`memory` or `bridge`); `optionsJson` is the core's `UndoOptions`,
/// checked before anything starts.
#[napi(ts_return_type = "Promise<PlanHandle>")]
pub fn plan_undo_async<'env>(
    env: &'env Env,
    results: &ResultsHandle,
    memory: Option<&MemoryStoreHandle>,
    #[napi(
        ts_arg_type = "((method: string, argsJson: string | null) => Promise<string>) | undefined | null"
    )]
    bridge: Option<Bridge>,
    options_json: Option<String>,
) -> Result<Object<'env>> {
    let options = UndoOptions::from_value(from_js(options_json.as_deref())?).map_err(to_napi)?;
    let store = Given::one(memory.map(|m| m.inner.share()), bridge)?;
    let results = results.inner.clone();
    spawn(env, move || {
        let mut store = store.store()?;
        let plan = lms_bulk_upload::plan_undo(&results, store.as_mut(), &options);
        Ok(PlanHandle {
            inner: Arc::new(plan.map_err(to_napi)?),
        })
    })
}
