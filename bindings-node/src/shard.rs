//! Shards of a plan, their results merged, and the one confirmation email: conversions of
//! the core's `Plan::shards_with`, `Plan::shard`, `Results::merge` and
//! `Results::send_confirmation` (the mailer a native double or a host's object).

use crate::execute::ResultsHandle;
use crate::host::{spawn, Bridge, Given};
use crate::memory::RecordingMailerHandle;
use crate::plan::PlanHandle;
use crate::{from_js, to_js, to_napi};
use lms_bulk_upload::{HashParams, Password, Plan, Results, ShardOptions, Templates};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

#[napi]
impl PlanHandle {
    /// The plan cut into shards of `rowsPerShard` rows (`Plan::shards_with`). With a
    /// `defaultPassword`, it is hashed once here (`hashParamsJson`: the core's `HashParams`)
    /// and every shard carries only that hash.
    #[napi]
    pub fn shards(
        &self,
        rows_per_shard: u32,
        default_password: Option<String>,
        hash_params_json: Option<String>,
    ) -> Result<Vec<PlanHandle>> {
        let mut options = ShardOptions::new(rows_per_shard as usize);
        if let Some(password) = default_password {
            let params = match hash_params_json {
                Some(json) => HashParams::from_value(from_js(Some(&json))?).map_err(to_napi)?,
                None => HashParams::default(),
            };
            let prepared = Plan::prepare_default_password(&Password::new(password), &params)
                .map_err(to_napi)?;
            options = options.default_password(prepared);
        }
        let shards = self.inner.shards_with(&options).map_err(to_napi)?;
        Ok(shards
            .into_iter()
            .map(|plan| PlanHandle {
                inner: Arc::new(plan),
            })
            .collect())
    }

    /// Which shard this plan is, as camelCase JSON `{parent, index, count}`, or `null`.
    #[napi]
    pub fn shard_json(&self) -> String {
        to_js(&self.inner.shard())
    }
}

#[napi]
impl ResultsHandle {
    /// Results read back from their JSON (`toJSONString()`), e.g. a shard job's, saved by
    /// the host for its finaliser.
    #[napi(factory)]
    pub fn from_json(json: String) -> Result<ResultsHandle> {
        let inner: Results = serde_json::from_str(&json)
            .map_err(|e| Error::new(Status::InvalidArg, format!("not results JSON: {e}")))?;
        Ok(ResultsHandle { inner })
    }

    /// The shards' results merged into the parent plan's (`Results::merge`).
    #[napi(factory)]
    pub fn merge(parent: &PlanHandle, shards: Vec<&ResultsHandle>) -> Result<ResultsHandle> {
        let shards: Vec<Results> = shards.into_iter().map(|r| r.inner.clone()).collect();
        let inner = Results::merge(&parent.inner, &shards).map_err(to_napi)?;
        Ok(ResultsHandle { inner })
    }

    /// Sends the uploader's confirmation for these merged results on a worker thread
    /// (`Results::send_confirmation`); resolves with the results as they are after it
    /// (for `adopt`). `templatesJson`: the core's `Templates`.
    #[napi(ts_return_type = "Promise<ResultsHandle>")]
    pub fn send_confirmation<'env>(
        &self,
        env: &'env Env,
        parent: &PlanHandle,
        recording: Option<&RecordingMailerHandle>,
        #[napi(
            ts_arg_type = "((method: string, argsJson: string | null) => Promise<string>) | undefined | null"
        )]
        mailer_bridge: Option<Bridge>,
        templates_json: Option<String>,
    ) -> Result<Object<'env>> {
        let mailer = Given::one(recording.map(|m| m.inner.share()), mailer_bridge)?;
        let templates = match templates_json {
            Some(json) => Templates::from_value(from_js(Some(&json))?).map_err(to_napi)?,
            None => Templates::default(),
        };
        let (mut results, parent) = (self.inner.clone(), parent.inner.clone());
        spawn(env, move || {
            let mut mailer = mailer.mailer()?;
            results
                .send_confirmation(&parent, mailer.as_mut(), &templates)
                .map_err(to_napi)?;
            Ok(ResultsHandle { inner: results })
        })
    }

    /// Takes `other`'s results as its own (after `sendConfirmation` resolved).
    #[napi]
    pub fn adopt(&mut self, other: &mut ResultsHandle) {
        self.inner = std::mem::replace(&mut other.inner, self.inner.clone());
    }
}
