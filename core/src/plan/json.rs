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
}

/// Writes into a hasher without building the whole JSON in memory.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn fingerprint(plan: &Plan) -> String {
    let canonical = Canonical {
        format_version: plan.format_version,
        settings: &plan.settings,
        summary: &plan.summary,
        file_issues: &plan.file_issues,
        rows: &plan.rows,
    };
    let mut writer = HashWriter(Sha256::new());
    // Serialising plain data structures into a hasher cannot fail.
    let _ = serde_json::to_writer(&mut writer, &canonical);
    let digest = writer.0.finalize();
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

fn plan_error(code: IssueCode, message: String) -> Error {
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
    /// A plan made with a default password needs it again:
    /// [`with_default_password`](Plan::with_default_password).
    pub fn from_json(json: &str) -> Result<Plan, Error> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            plan_error(
                IssueCode::InvalidPlan,
                format!("the plan is not valid JSON: {e}"),
            )
        })?;
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
