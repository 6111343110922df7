//! Signed results: the same HMAC-SHA-256 under the host's [`PlanKey`] as signed plans, so
//! that results stored where others can write (a queue, a results table, a form) are read
//! back only as they were written.
//!
//! Undo and merge act on results: a results JSON edited to say that the upload *removed*
//! someone from a group would make its undo *add* them. Results read back with
//! [`Results::from_signed_json`] are verified ([`Provenance::is_verified`]); results read
//! with [`Results::from_json`] are not, and [`plan_undo`](crate::plan_undo) refuses them
//! unless the host says where they come from.

use crate::error::{Error, ErrorKind};
use crate::execute::results::{Provenance, Results};
use crate::issue::IssueCode;
use crate::plan::PlanKey;
#[cfg(test)]
use serde::Serialize;

/// The domain label of a results signature: a signed plan never verifies as results.
const LABEL: &str = "lms-bulk-upload results v1";

/// The signed JSON: the signature first, then the results' own fields. (Written by
/// [`Results::to_signed_json`] from the results' JSON, with the same bytes.)
#[cfg(test)]
#[derive(Serialize)]
struct Signed<'a> {
    signature: &'a str,
    #[serde(flatten)]
    results: &'a Results,
}

/// `{"signature":"<64 hex digits>",`: the signed JSON's first bytes, before the results'
/// own fields.
const SIGNATURE_FIELD: usize = 14 + 64 + 2;

impl Results {
    /// The results as compact JSON with a `signature` field: the lowercase hex
    /// HMAC-SHA-256, under `key` (the host's plan key), of their canonical JSON.
    ///
    /// ```
    /// # use lms_bulk_upload::{OsRandom, PlanKey, Results};
    /// let key = PlanKey::generate(&OsRandom);
    /// let results = Results::from_json(r#"{"fingerprint":"sha256:0","summary":{"rows":0,"created":0,"updated":0,"unchanged":0,"rejected":0,"failed":0,"emails_sent":0,"resumed":0},"rows":[],"cancelled":false,"confirmation_error":null}"#)?;
    /// assert!(!results.provenance.is_verified());
    /// let back = Results::from_signed_json(&results.to_signed_json(&key), &key)?;
    /// assert!(back.provenance.is_verified());
    /// let unsigned = Results::from_signed_json(&results.to_json(), &key).unwrap_err();
    /// assert_eq!(unsigned.code().as_str(), "results_unsigned");
    /// # Ok::<(), lms_bulk_upload::Error>(())
    /// ```
    pub fn to_signed_json(&self, key: &PlanKey) -> String {
        // The results' compact JSON is written once, after room for the signature field:
        // signed as it is (the bytes `sign_labelled` of the results would serialise again),
        // then its opening brace and the room before it become `{"signature":"<hex>",`. The
        // bytes are those of `Signed` (the signature, then the results' fields), serialised.
        // Sized for the rows up front (a row is about 220 bytes): a million rows' 220 MB is
        // written once, not copied at every doubling of the buffer. Capacity never written
        // to costs no memory.
        let mut json = Vec::with_capacity(self.rows.len().saturating_mul(320) + 4096);
        json.resize(SIGNATURE_FIELD - 1, b' ');
        if serde_json::to_writer(&mut json, self).is_err() {
            return String::new();
        }
        let signature = key.sign_labelled_json(LABEL, &json[SIGNATURE_FIELD - 1..]);
        let mut field = Vec::with_capacity(SIGNATURE_FIELD);
        field.extend_from_slice(b"{\"signature\":\"");
        field.extend_from_slice(signature.as_bytes());
        field.extend_from_slice(b"\",");
        // The results' JSON is an object with fields (`fingerprint` first, always written),
        // and the signature is always 64 hex digits: the field fills the room exactly.
        if field.len() != SIGNATURE_FIELD || json.get(SIGNATURE_FIELD - 1) != Some(&b'{') {
            return String::new();
        }
        json[..SIGNATURE_FIELD].copy_from_slice(&field);
        // serde_json writes UTF-8 only.
        String::from_utf8(json).unwrap_or_default()
    }

    /// Reads results written by [`to_signed_json`](Results::to_signed_json) with the same
    /// key: every check of [`from_json`](Results::from_json), then the signature, compared
    /// in constant time. Results without a signature are refused (`results_unsigned`), and
    /// so are results whose content or signature was changed, or that were signed with
    /// another key (`results_signature_invalid`). The results returned are verified
    /// ([`Provenance::is_verified`]).
    pub fn from_signed_json(json: &str, key: &PlanKey) -> Result<Results, Error> {
        let mut value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorKind::Plan,
                IssueCode::InvalidResults,
                format!("the results JSON: {e}"),
            )
        })?;
        let field = value
            .as_object_mut()
            .and_then(|o| o.remove(crate::plan::SIGNATURE_FIELD));
        let signature = match field {
            Some(serde_json::Value::String(text)) => text,
            Some(_) => return Err(signature_invalid()),
            None => return Err(unsigned()),
        };
        let mut results = Results::from_value(value)?;
        if !key.verify_labelled(LABEL, &results, &signature) {
            return Err(signature_invalid());
        }
        results.provenance = Provenance::verified();
        Ok(results)
    }
}

pub(crate) fn unsigned() -> Error {
    Error::new(
        ErrorKind::Plan,
        IssueCode::ResultsUnsigned,
        "the results are not signed: only results signed with this host's key are accepted here",
    )
}

fn signature_invalid() -> Error {
    Error::new(
        ErrorKind::Plan,
        IssueCode::ResultsSignatureInvalid,
        "the results' signature does not match: they were changed after signing, or signed with another key",
    )
}

/// `plan_undo`'s refusal of results it cannot verify.
pub(crate) fn unsigned_for_undo() -> Error {
    Error::new(
        ErrorKind::Plan,
        IssueCode::ResultsUnsigned,
        "these results are not verified (read back without a signature): read them with \
         Results::from_signed_json, or, if only this host can write where they were kept, say \
         so with UndoOptions::results_from_trusted_storage",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::OsRandom;

    /// The JSON written from the results' own JSON is `Signed`'s, byte for byte.
    #[test]
    fn signed_json_is_the_signature_then_the_results_fields() {
        let key = PlanKey::generate(&OsRandom);
        for json in [
            r#"{"fingerprint":"sha256:0","summary":{"rows":0,"created":0,"updated":0,"unchanged":0,"rejected":0,"failed":0,"emails_sent":0,"resumed":0},"rows":[],"cancelled":false,"confirmation_error":null}"#,
            r#"{"fingerprint":"sha256:ab\"c\u00e9","summary":{"rows":2,"created":2,"updated":0,"unchanged":0,"rejected":0,"failed":0,"emails_sent":1,"resumed":0},"rows":[{"line":2,"email":"p\u00e9rson1@example.org","status":"created","user_id":"2","done":[{"op":"create_user"},{"op":"add_to_group","group":"Sales \"\\ \u0001"},{"op":"enrol","content":{"kind":"course","id":"induction-101"}},{"op":"send_email","kind":"welcome"}],"error":null},{"line":3,"email":"person2@example.org","status":"created","user_id":"3","done":[{"op":"create_user"}],"error":null}],"cancelled":true,"confirmation_error":null,"undo_of":"sha256:1"}"#,
        ] {
            let results = Results::from_json(json).unwrap();
            let signature = key.sign_labelled(LABEL, &results);
            let expected = serde_json::to_string(&Signed {
                signature: &signature,
                results: &results,
            })
            .unwrap();
            let written = results.to_signed_json(&key);
            assert_eq!(written, expected);
            assert!(Results::from_signed_json(&written, &key).is_ok());
        }
    }
}
