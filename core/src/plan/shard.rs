//! Shards: a plan split into self-contained plans that workers execute independently.
//!
//! Each shard is a [`Plan`] of its own (own rows, summary, fingerprint; signed like any
//! plan) that names its parent's fingerprint, its index and the shard count, all covered by
//! its fingerprint and signature. A shard carries no plaintext: for a default-password plan
//! the coordinating process hashes the default password once
//! ([`Plan::prepare_default_password`]) and every shard carries that argon2id PHC string.

use super::json::{plan_error, Source};
use super::{PasswordSource, Plan, PlanRow, Summary};
use crate::error::{Error, ErrorKind};
use crate::execute::password::{hash_password, HashParams, OsRandom, PasswordHash};
use crate::execute::secret::Password;
use crate::issue::IssueCode;
use serde::{Deserialize, Serialize};

/// The longest PHC string a shard may carry (argon2id strings are about 100 bytes).
const MAX_PHC_BYTES: usize = 512;

/// Which shard of which plan: the parent's fingerprint, the index (from 0) and the count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShardRef {
    /// The fingerprint of the plan this shard was cut from.
    pub parent: String,
    /// The shard's position, `0..count`.
    pub index: u32,
    /// How many shards the parent was cut into.
    pub count: u32,
}

/// A shard's identity as written in its plan JSON (`"shard": {...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShardSpec {
    pub(crate) parent: String,
    pub(crate) index: u32,
    pub(crate) count: u32,
    /// The default password's argon2id PHC string, prepared once by the coordinator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_password_hash: Option<PasswordHash>,
}

impl ShardSpec {
    /// The checks of a shard read back from JSON (the message becomes `invalid_plan`).
    pub(crate) fn check(&self, source: PasswordSource) -> Result<(), String> {
        let hex = self.parent.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err("the shard's parent is not a plan fingerprint (sha256:<64 hex>)".into());
        }
        if self.count == 0 || self.index >= self.count {
            return Err(format!(
                "the shard's index {} is not below its count {}",
                self.index, self.count
            ));
        }
        if let Some(hash) = &self.default_password_hash {
            if source != PasswordSource::Default {
                return Err(
                    "the shard carries a default password hash, but its plan generates passwords"
                        .into(),
                );
            }
            check_phc(hash.as_str())?;
        }
        Ok(())
    }
}

/// An argon2id PHC string of bounded length.
fn check_phc(phc: &str) -> Result<(), String> {
    let parsed = (phc.len() <= MAX_PHC_BYTES)
        .then(|| argon2::password_hash::PasswordHash::new(phc).ok())
        .flatten();
    match parsed {
        Some(p) if p.algorithm.as_str() == "argon2id" && p.hash.is_some() => Ok(()),
        _ => Err("the shard's default password hash is not an argon2id PHC string".into()),
    }
}

/// A default password hashed once (argon2id, a fresh salt), for the shards to carry so that
/// workers need no plaintext. `Debug` shows the parameters only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedPassword(PasswordHash);

impl PreparedPassword {
    /// The PHC string every user of the upload will be given.
    pub fn hash(&self) -> &PasswordHash {
        &self.0
    }
}

/// Options of [`Plan::shards_with`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShardOptions {
    /// Rows per shard (at least 1); the last shard takes the rest.
    pub rows_per_shard: usize,
    /// The prepared default password, for a plan that sets one.
    pub default_password: Option<PreparedPassword>,
}

impl ShardOptions {
    /// Shards of `rows_per_shard` rows, without a default password.
    pub fn new(rows_per_shard: usize) -> ShardOptions {
        ShardOptions {
            rows_per_shard,
            default_password: None,
        }
    }

    /// Gives the shards the prepared default password.
    pub fn default_password(mut self, prepared: PreparedPassword) -> ShardOptions {
        self.default_password = Some(prepared);
        self
    }
}

impl Plan {
    /// Which shard this plan is, if it is one.
    pub fn shard(&self) -> Option<ShardRef> {
        self.shard.as_ref().map(|s| ShardRef {
            parent: s.parent.clone(),
            index: s.index,
            count: s.count,
        })
    }

    /// Hashes the default password once (argon2id at `params`, salt from the OS CSPRNG), for
    /// [`ShardOptions::default_password`]. The policy was checked when the settings were
    /// built; `params` below OWASP's minimum are refused unless marked for tests.
    pub fn prepare_default_password(
        password: &Password,
        params: &HashParams,
    ) -> Result<PreparedPassword, Error> {
        hash_password(password, params, &OsRandom).map(PreparedPassword)
    }

    /// Splits the plan into shards of `rows_per_shard` rows: see [`Plan::shards_with`].
    pub fn shards(&self, rows_per_shard: usize) -> Result<Vec<Plan>, Error> {
        self.shards_with(&ShardOptions::new(rows_per_shard))
    }

    /// Splits the plan into shards, in row order: shard `i` holds rows
    /// `i × rows_per_shard ..`, the same settings, no file issues (they stay with the parent)
    /// and its own summary and fingerprint; a plan without rows gives one empty shard.
    ///
    /// Refused: a plan that is itself a shard (`plan_is_shard`); a plan that sets a new
    /// password on an existing user (`shard_sets_password`: a shard replayed without its
    /// journal would set it again over the password the user chose since; such a plan is
    /// executed whole); `rows_per_shard` 0
    /// (`invalid_option`); a plan that sets the default password without a prepared one
    /// (`default_password_required`), or a prepared one for a plan that generates
    /// passwords (`invalid_option`).
    ///
    /// Executing a shard does everything executing a plan does (batches, re-check, journal
    /// under the shard's own fingerprint) except the uploader's confirmation, which the
    /// finalising job sends after [`Results::merge`](crate::Results::merge).
    pub fn shards_with(&self, options: &ShardOptions) -> Result<Vec<Plan>, Error> {
        if self.shard.is_some() {
            return Err(plan_error(
                IssueCode::PlanIsShard,
                "this plan is already a shard: shard the parent plan instead".into(),
            ));
        }
        if options.rows_per_shard == 0 {
            return Err(Error::new(
                ErrorKind::Plan,
                IssueCode::InvalidOption,
                "rows_per_shard must be at least 1",
            ));
        }
        if let Some(row) = self.rows.find(sets_existing_password) {
            return Err(Error::new(
                ErrorKind::Plan,
                IssueCode::ShardSetsPassword,
                format!(
                    "line {}: the plan sets a new password on an existing user, which a shard \
                     replayed later would set again over the one the user chose since: \
                     execute this plan whole",
                    row.line
                ),
            ));
        }
        let is_default = self.settings.password_source == PasswordSource::Default;
        let needs_default = is_default && self.rows.any_sets_password();
        let hash = match (&options.default_password, needs_default) {
            (Some(_), _) if !is_default => {
                return Err(Error::new(
                    ErrorKind::Plan,
                    IssueCode::InvalidOption,
                    "a prepared default password was given, but the plan generates passwords",
                ))
            }
            (None, true) => {
                return Err(Error::new(
                    ErrorKind::Plan,
                    IssueCode::DefaultPasswordRequired,
                    "the plan sets the default password: prepare it once with \
                     Plan::prepare_default_password and give it in ShardOptions",
                ))
            }
            (prepared, _) => prepared.as_ref().map(|p| p.0.clone()),
        };
        let chunks: Vec<std::ops::Range<usize>> = if self.rows.is_empty() {
            std::iter::once(0..0).collect()
        } else {
            (0..self.rows.len())
                .step_by(options.rows_per_shard)
                .map(|start| start..self.rows.len().min(start + options.rows_per_shard))
                .collect()
        };
        let count = u32::try_from(chunks.len()).map_err(|_| {
            Error::new(
                ErrorKind::Plan,
                IssueCode::InvalidOption,
                "rows_per_shard gives too many shards",
            )
        })?;
        let mut shards = Vec::with_capacity(chunks.len());
        let mut rows = Vec::new();
        for (index, range) in (0..count).zip(chunks) {
            // Decoded for the summary and the fingerprint, into the last shard's rows; the
            // shard's own are the parent's bytes, copied.
            self.rows.decode_reusing(range.clone(), &mut rows);
            let shard = Plan {
                format_version: self.format_version,
                fingerprint: String::new(),
                settings: self.settings.clone(),
                summary: Summary::of(&rows, &[]),
                file_issues: Vec::new(),
                rows: self.rows.part(range, &rows),
                shard: Some(ShardSpec {
                    parent: self.fingerprint.clone(),
                    index,
                    count,
                    default_password_hash: hash.clone(),
                }),
                default_password: None,
            };
            let fingerprint = super::json::fingerprint_of(&shard, Source::Decoded(&rows));
            shards.push(Plan {
                fingerprint,
                ..shard
            });
        }
        Ok(shards)
    }
}

/// Whether the row sets a password on a user that exists already (`set_password`, as
/// opposed to creating a user with one).
pub(crate) fn sets_existing_password(row: &PlanRow) -> bool {
    row.action != super::Action::Create
        && row
            .operations
            .iter()
            .any(|op| matches!(op, super::Operation::SetPassword | super::Operation::Invite))
}
