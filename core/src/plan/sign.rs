//! Signed plans: an HMAC-SHA-256 of the plan's canonical content under a key the host keeps.
//!
//! The fingerprint is a plain SHA-256 that anyone can recompute, so it only catches
//! accidents (a truncated or hand-mangled file). The signature needs the host's key: a plan
//! edited by someone who can write where plans are stored, but cannot read the key, is
//! refused by [`Plan::from_signed_json`].

use super::json::{hex, plan_error, write_canonical};
use super::Plan;
use crate::error::{Error, ErrorKind};
use crate::execute::password::RandomSource;
use crate::issue::IssueCode;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::fmt;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The shortest key accepted, in bytes (the HMAC-SHA-256 output size).
const MIN_KEY_BYTES: usize = 32;

/// The JSON field holding the signature.
pub(crate) const SIGNATURE_FIELD: &str = "signature";

/// A host's key for signing plans (HMAC-SHA-256), at least 32 bytes.
///
/// Zeroed on drop; `Debug` prints `PlanKey([REDACTED])`; not `Serialize`, so it cannot end up
/// in a plan, a result or a log by accident. Store it where only the host can read it (the
/// CLI keeps it in its database).
///
/// ```
/// use lms_bulk_upload::{OsRandom, PlanKey};
/// let key = PlanKey::generate(&OsRandom);
/// assert_eq!(format!("{key:?}"), "PlanKey([REDACTED])");
/// let again = PlanKey::from_hex(&key.to_hex()).unwrap();
/// assert_eq!(again.to_hex().as_str(), key.to_hex().as_str());
/// assert!(PlanKey::from_bytes(&[7; 16]).is_err(), "too short");
/// ```
#[derive(Clone)]
pub struct PlanKey(Zeroizing<Vec<u8>>);

impl PlanKey {
    /// A key from raw bytes; fewer than 32 is refused (`invalid_setting`).
    pub fn from_bytes(bytes: &[u8]) -> Result<PlanKey, Error> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(Error::settings(
                IssueCode::InvalidSetting,
                format!(
                    "a plan key must be at least {MIN_KEY_BYTES} bytes; this one has {}",
                    bytes.len()
                ),
            ));
        }
        Ok(PlanKey(Zeroizing::new(bytes.to_vec())))
    }

    /// A fresh 32-byte key from `random` (the OS CSPRNG: [`OsRandom`](crate::OsRandom)).
    pub fn generate(random: &dyn RandomSource) -> PlanKey {
        let mut bytes = Zeroizing::new(vec![0u8; MIN_KEY_BYTES]);
        random.fill(&mut bytes);
        PlanKey(bytes)
    }

    /// A key from hex (either case; at least 64 digits). The error never repeats the text.
    pub fn from_hex(text: &str) -> Result<PlanKey, Error> {
        let invalid = || {
            Error::settings(
                IssueCode::InvalidSetting,
                "a plan key in hex must be an even number of hex digits",
            )
        };
        let digits = text.trim().as_bytes();
        if !digits.len().is_multiple_of(2) {
            return Err(invalid());
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
        for pair in digits.chunks_exact(2) {
            match (hex_digit(pair[0]), hex_digit(pair[1])) {
                (Some(high), Some(low)) => bytes.push((high << 4) | low),
                _ => return Err(invalid()),
            }
        }
        PlanKey::from_bytes(&bytes)
    }

    /// The key as lowercase hex, for the host to store; zeroed when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex(&self.0))
    }

    /// The raw key bytes, for the host to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn hmac(&self) -> HmacSha256 {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
    }

    fn mac(&self, plan: &Plan) -> HmacSha256 {
        write_canonical(plan, self.hmac())
    }

    /// The MAC of `value`'s compact JSON, after a domain label (so that bytes signed as one
    /// kind of document never verify as another kind under the same key).
    pub(crate) fn mac_labelled<T: Serialize>(&self, label: &str, value: &T) -> HmacSha256 {
        super::json::digest_json(value, self.hmac_labelled(label))
    }

    /// The MAC under this key with the domain `label` fed first (`label`, then a line feed),
    /// ready for the signed bytes.
    fn hmac_labelled(&self, label: &str) -> HmacSha256 {
        let mut mac = self.hmac();
        mac.update(label.as_bytes());
        mac.update(b"\n");
        mac
    }

    /// The lowercase hex signature of `value` under the domain `label`.
    #[cfg(test)]
    pub(crate) fn sign_labelled<T: Serialize>(&self, label: &str, value: &T) -> String {
        hex(&self.mac_labelled(label, value).finalize().into_bytes())
    }

    /// The lowercase hex signature of `json`, a value's compact JSON (serde_json's), under
    /// the domain `label`: the same as [`sign_labelled`](Self::sign_labelled) of that value,
    /// for a caller that writes the JSON anyway.
    pub(crate) fn sign_labelled_json(&self, label: &str, json: &[u8]) -> String {
        let mut mac = self.hmac_labelled(label);
        mac.update(json);
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `signature` (lowercase hex, exactly) is the signature of `value` under the
    /// domain `label`; compared in constant time.
    pub(crate) fn verify_labelled<T: Serialize>(
        &self,
        label: &str,
        value: &T,
        signature: &str,
    ) -> bool {
        signature_bytes(signature).is_some_and(|expected| {
            self.mac_labelled(label, value)
                .verify_slice(&expected)
                .is_ok()
        })
    }
}

impl fmt::Debug for PlanKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlanKey([REDACTED])")
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hex only: a signature has exactly one spelling, so no edit of it verifies.
fn signature_bytes(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if digits.len() != 64 || digits.iter().any(|c| c.is_ascii_uppercase()) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| Some((hex_digit(pair[0])? << 4) | hex_digit(pair[1])?))
        .collect()
}

/// The plan's JSON with the signature after the fingerprint.
#[derive(Serialize)]
struct Signed<'a> {
    format_version: u32,
    fingerprint: &'a str,
    signature: &'a str,
    settings: &'a super::PlanSettings,
    summary: &'a super::Summary,
    file_issues: &'a [crate::issue::Issue],
    rows: &'a super::PlanRows,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a super::shard::ShardSpec>,
}

impl Plan {
    /// The plan as compact JSON with a `signature` field: the lowercase hex HMAC-SHA-256,
    /// under `key`, of the same canonical bytes the fingerprint covers. Deterministic.
    pub fn to_signed_json(&self, key: &PlanKey) -> String {
        let signature = hex(&key.mac(self).finalize().into_bytes());
        let signed = Signed {
            format_version: self.format_version,
            fingerprint: &self.fingerprint,
            signature: &signature,
            settings: &self.settings,
            summary: &self.summary,
            file_issues: &self.file_issues,
            rows: &self.rows,
            shard: self.shard.as_ref(),
        };
        // Sized for the rows up front (a row is about 350 bytes): a million rows' 350 MB is
        // written once, not copied at every doubling of the buffer. Capacity never written
        // to costs no memory.
        let mut json = Vec::with_capacity(self.rows.len().saturating_mul(400) + 4096);
        match serde_json::to_writer(&mut json, &signed) {
            // serde_json writes UTF-8 only.
            Ok(()) => String::from_utf8(json).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Reads a plan written by [`to_signed_json`](Plan::to_signed_json) with the same key:
    /// every check of [`from_json`](Plan::from_json), then the signature, compared in
    /// constant time. A plan without a signature is refused (`plan_unsigned`), and so is one
    /// whose content or signature was changed, or that was signed with another key
    /// (`plan_signature_invalid`).
    pub fn from_signed_json(json: &str, key: &PlanKey) -> Result<Plan, Error> {
        let mut value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            plan_error(
                IssueCode::InvalidPlan,
                format!("the plan is not valid JSON: {e}"),
            )
        })?;
        let field = value
            .as_object_mut()
            .and_then(|o| o.remove(SIGNATURE_FIELD));
        let signature = match field {
            Some(serde_json::Value::String(text)) => text,
            Some(_) => return Err(signature_invalid()),
            None => return Err(unsigned()),
        };
        let plan = Plan::from_value(value)?;
        let expected = signature_bytes(&signature).ok_or_else(signature_invalid)?;
        key.mac(&plan)
            .verify_slice(&expected)
            .map_err(|_| signature_invalid())?;
        Ok(plan)
    }
}

fn unsigned() -> Error {
    plan_error(
        IssueCode::PlanUnsigned,
        "the plan is not signed: only plans signed with this host's key are accepted".into(),
    )
}

fn signature_invalid() -> Error {
    Error::new(
        ErrorKind::Plan,
        IssueCode::PlanSignatureInvalid,
        "the plan's signature does not match: it was changed after signing, or signed with another key",
    )
}
