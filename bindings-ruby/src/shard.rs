//! Shards: `Plan#shards`, `Plan#shard`, `Results.merge`, `Results#send_confirmation`.

use crate::error::{from_json_text, to_json, NativeResult};
use crate::execute::Results;
use crate::memory::MailerArg;
use crate::plan::Plan;
use lms_bulk_upload::{HashParams, Password, ShardOptions, Templates};
use std::sync::Arc;

#[uniffi::export]
impl Plan {
    /// The plan cut into shards of `rows_per_shard` rows, in row order. A plan that sets the
    /// default password needs it here (`default_password`), hashed once at `hash_params_json`
    /// (an object of argon2id parameters, or null for the defaults), so that the shards
    /// carry its hash and workers need no plaintext.
    pub fn shards(
        &self,
        rows_per_shard: u64,
        default_password: Option<String>,
        hash_params_json: String,
    ) -> NativeResult<Vec<Arc<Plan>>> {
        let params = HashParams::from_value(from_json_text(&hash_params_json, "hash_params")?)?;
        let rows = usize::try_from(rows_per_shard).unwrap_or(usize::MAX);
        let mut options = ShardOptions::new(rows);
        if let Some(password) = default_password {
            let prepared =
                lms_bulk_upload::Plan::prepare_default_password(&Password::new(password), &params)?;
            options = options.default_password(prepared);
        }
        let shards = self.inner.shards_with(&options)?;
        Ok(shards
            .into_iter()
            .map(|inner| Arc::new(Plan { inner }))
            .collect())
    }

    /// Which shard this plan is (`{parent, index, count}` as JSON), or null for a whole plan.
    pub fn shard_json(&self) -> String {
        to_json(&self.inner.shard())
    }
}

#[uniffi::export]
impl Results {
    /// The results of every shard of `parent`, each exactly once, in any order, merged into
    /// the parent's results (rows in the parent's order, the counts made again).
    #[uniffi::constructor]
    pub fn merge(parent: &Plan, results: Vec<Arc<Results>>) -> NativeResult<Arc<Results>> {
        let shards: Vec<lms_bulk_upload::Results> =
            results.iter().map(|r| r.get().clone()).collect();
        let merged = lms_bulk_upload::Results::merge(&parent.inner, &shards)?;
        Ok(Results::new(merged))
    }

    /// Sends the uploader of `parent` the one confirmation, with these (merged) results'
    /// counts. `templates_json`: an object of templates (decoded by the core) or null.
    pub fn send_confirmation(
        &self,
        parent: &Plan,
        mailer: MailerArg,
        templates_json: String,
    ) -> NativeResult<()> {
        let templates = Templates::from_value(from_json_text(&templates_json, "templates")?)?;
        let mut mailer = mailer.open()?;
        let mut results = self.get();
        results.send_confirmation(&parent.inner, mailer.mailer(), &templates)?;
        Ok(())
    }
}
