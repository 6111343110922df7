//! The plan's JSON form and its fingerprint.

use super::{Plan, PlanRow, PlanSettings, Summary, PLAN_FORMAT_VERSION};
use crate::error::{Error, ErrorKind};
use crate::issue::{Issue, IssueCode};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The content the fingerprint covers: everything but the fingerprint itself.
#[derive(Serialize)]
struct Canonical<'a> {
    format_version: u32,
    settings: &'a PlanSettings,
    summary: &'a Summary,
    file_issues: &'a [Issue],
    rows: &'a [PlanRow],
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a super::shard::ShardSpec>,
}

/// Writes into a hasher or a MAC without building the whole JSON in memory.
struct DigestWriter<D>(D);

impl<D: sha2::digest::Update> std::io::Write for DigestWriter<D> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds `value`'s compact JSON to `digest`. serde_json writes a plan in pieces of two or
/// three bytes (a million-row plan in some 145 million writes): they are gathered in a
/// buffer first, so the digest is updated a block of 64 KiB at a time.
pub(crate) fn digest_json<D: sha2::digest::Update, T: Serialize + ?Sized>(
    value: &T,
    digest: D,
) -> D {
    let mut writer = std::io::BufWriter::with_capacity(64 * 1024, DigestWriter(digest));
    // Serialising plain data structures into a digest cannot fail, nor can flushing into one.
    let _ = serde_json::to_writer(&mut writer, value);
    let _ = std::io::Write::flush(&mut writer);
    writer.into_parts().0 .0
}

/// Feeds the plan's canonical bytes (everything but the fingerprint and the signature) to
/// `digest`: the bytes the fingerprint and the signature cover.
pub(super) fn write_canonical<D: sha2::digest::Update>(plan: &Plan, digest: D) -> D {
    let canonical = Canonical {
        format_version: plan.format_version,
        settings: &plan.settings,
        summary: &plan.summary,
        file_issues: &plan.file_issues,
        rows: &plan.rows,
        shard: plan.shard.as_ref(),
    };
    digest_json(&canonical, digest)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

pub(crate) fn fingerprint(plan: &Plan) -> String {
    let digest = write_canonical(plan, Sha256::new()).finalize();
    format!("sha256:{}", hex(&digest))
}

pub(super) fn plan_error(code: IssueCode, message: String) -> Error {
    Error::new(ErrorKind::Plan, code, message)
}

impl Plan {
    /// The plan as compact JSON (deterministic: same inputs, same bytes; no password).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The plan as indented JSON, for people.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a plan back, refusing another format version or content that does not match
    /// the fingerprint (`fingerprint_mismatch`: the plan was altered after planning).
    ///
    /// The fingerprint is a plain SHA-256 anyone can recompute: it catches accidents, not
    /// edits. A plan that crossed a place others can write is read with
    /// [`from_signed_json`](Plan::from_signed_json) instead.
    ///
    /// A shard (a plan with a `shard` section, which may carry the default password's hash)
    /// is refused (`plan_unsigned`): shards are read with
    /// [`from_signed_json`](Plan::from_signed_json) only.
    ///
    /// A plan made with a default password needs it again:
    /// [`with_default_password`](Plan::with_default_password).
    pub fn from_json(json: &str) -> Result<Plan, Error> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            plan_error(
                IssueCode::InvalidPlan,
                format!("the plan is not valid JSON: {e}"),
            )
        })?;
        if value.get("shard").is_some() {
            return Err(plan_error(
                IssueCode::PlanUnsigned,
                "the plan is a shard: shards cross a queue and are read only with \
                 Plan::from_signed_json (signed with this host's key)"
                    .into(),
            ));
        }
        Plan::from_value(value)
    }

    /// Reads a plan from parsed JSON: the checks of [`Plan::from_json`].
    pub(super) fn from_value(value: serde_json::Value) -> Result<Plan, Error> {
        match value.get("format_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(plan_error(
                    IssueCode::UnsupportedPlanVersion,
                    format!("the plan has format version {v}; this engine reads version {PLAN_FORMAT_VERSION}"),
                ))
            }
            None => return Err(plan_error(IssueCode::InvalidPlan, "the plan has no format_version".into())),
        }
        let plan: Plan = serde_json::from_value(value).map_err(|e| {
            plan_error(
                IssueCode::InvalidPlan,
                format!("the plan cannot be read: {e}"),
            )
        })?;
        let expected = fingerprint(&plan);
        if expected != plan.fingerprint {
            return Err(plan_error(
                IssueCode::FingerprintMismatch,
                "the plan's content does not match its fingerprint: it was altered after planning"
                    .into(),
            ));
        }
        Ok(plan)
    }
}
