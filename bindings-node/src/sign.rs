//! Signed plans: conversions of the core's `PlanKey`, `Plan::to_signed_json` and
//! `Plan::from_signed_json`. The key stays native; JavaScript holds only the handle.

use crate::execute::ResultsHandle;
use crate::plan::PlanHandle;
use crate::to_napi;
use lms_bulk_upload::{OsRandom, Plan, PlanKey, Results};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// A host's key for signing plans (the native side of `PlanKey`): HMAC-SHA-256, at least
/// 32 bytes, zeroed when dropped.
#[napi]
pub struct PlanKeyHandle {
    inner: PlanKey,
}

#[napi]
impl PlanKeyHandle {
    /// A fresh 32-byte key from the OS CSPRNG.
    #[napi(factory)]
    pub fn generate() -> PlanKeyHandle {
        PlanKeyHandle {
            inner: PlanKey::generate(&OsRandom),
        }
    }

    /// A key from its hex form (as `toHex` wrote it); refused with `invalid_setting`.
    #[napi(factory)]
    pub fn from_hex(hex: String) -> Result<PlanKeyHandle> {
        let inner = PlanKey::from_hex(&hex).map_err(to_napi)?;
        Ok(PlanKeyHandle { inner })
    }

    /// A key from raw bytes (32 at least); refused with `invalid_setting`.
    #[napi(factory)]
    pub fn from_bytes(bytes: &[u8]) -> Result<PlanKeyHandle> {
        let inner = PlanKey::from_bytes(bytes).map_err(to_napi)?;
        Ok(PlanKeyHandle { inner })
    }

    /// The key as lowercase hex, for the host to store where only it can read it.
    #[napi]
    pub fn to_hex(&self) -> String {
        self.inner.to_hex().as_str().to_owned()
    }
}

#[napi]
impl PlanHandle {
    /// Reads a plan signed with `key`: every check of `fromJson`, then the signature
    /// (`plan_unsigned`, `plan_signature_invalid`). A plan made with a default password
    /// needs it again.
    #[napi(factory)]
    pub fn from_signed_json(
        json: String,
        key: &PlanKeyHandle,
        default_password: Option<String>,
    ) -> Result<PlanHandle> {
        let mut plan = Plan::from_signed_json(&json, &key.inner).map_err(to_napi)?;
        if let Some(password) = default_password {
            plan = plan.with_default_password(password);
        }
        Ok(PlanHandle {
            inner: Arc::new(plan),
        })
    }

    /// The plan's own JSON with a `signature` field: the HMAC-SHA-256 under `key`.
    #[napi]
    pub fn to_signed_json_string(&self, key: &PlanKeyHandle) -> String {
        self.inner.to_signed_json(&key.inner)
    }
}

#[napi]
impl ResultsHandle {
    /// Reads results signed with `key`: every check of `fromJson`, then the signature
    /// (`results_unsigned`, `results_signature_invalid`). The results are verified.
    #[napi(factory)]
    pub fn from_signed_json(json: String, key: &PlanKeyHandle) -> Result<ResultsHandle> {
        let inner = Results::from_signed_json(&json, &key.inner).map_err(to_napi)?;
        Ok(ResultsHandle { inner })
    }

    /// The results' JSON with a `signature` (HMAC-SHA-256 under `key`).
    #[napi]
    pub fn to_signed_json_string(&self, key: &PlanKeyHandle) -> String {
        self.inner.to_signed_json(&key.inner)
    }

    /// Whether the engine vouches for these results (from `execute` in this process, read
    /// with `fromSignedJson`, or merged from such): `planUndo` refuses others
    /// (`results_unsigned`) unless the options say `resultsFromTrustedStorage`.
    #[napi(getter)]
    pub fn verified(&self) -> bool {
        self.inner.provenance.is_verified()
    }
}
