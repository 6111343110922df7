//! Signed plans: `PlanKey`, `Plan#to_signed_json`, `Plan.from_signed_json`.

use crate::error::NativeResult;
use crate::execute::Results;
use crate::plan::Plan;
use std::sync::Arc;

/// A host's key for signing plans (HMAC-SHA-256, at least 32 bytes). Its `Debug` and the
/// Ruby object's `inspect` never show it.
#[derive(uniffi::Object)]
pub struct PlanKey {
    inner: lms_bulk_upload::PlanKey,
}

#[uniffi::export]
impl PlanKey {
    /// A fresh 32-byte key from the OS CSPRNG.
    #[uniffi::constructor]
    pub fn generate() -> Arc<PlanKey> {
        Arc::new(PlanKey {
            inner: lms_bulk_upload::PlanKey::generate(&lms_bulk_upload::OsRandom),
        })
    }

    /// A key from its hex form (as `to_hex` wrote it).
    #[uniffi::constructor]
    pub fn from_hex(hex: String) -> NativeResult<Arc<PlanKey>> {
        let inner = lms_bulk_upload::PlanKey::from_hex(&hex)?;
        Ok(Arc::new(PlanKey { inner }))
    }

    /// A key from raw bytes (32 at least).
    #[uniffi::constructor]
    pub fn from_bytes(bytes: Vec<u8>) -> NativeResult<Arc<PlanKey>> {
        let inner = lms_bulk_upload::PlanKey::from_bytes(&bytes)?;
        Ok(Arc::new(PlanKey { inner }))
    }

    /// The key as lowercase hex, for the host to store where only it can read it.
    pub fn to_hex(&self) -> String {
        self.inner.to_hex().as_str().to_owned()
    }
}

#[uniffi::export]
impl Plan {
    /// Reads a plan signed with `key`: every check of `from_json`, then the signature.
    #[uniffi::constructor]
    pub fn from_signed_json(json: String, key: &PlanKey) -> NativeResult<Arc<Plan>> {
        let inner = lms_bulk_upload::Plan::from_signed_json(&json, &key.inner)?;
        Ok(Arc::new(Plan { inner }))
    }

    /// The plan as compact JSON with an HMAC-SHA-256 `signature` under `key`.
    pub fn to_signed_json(&self, key: &PlanKey) -> String {
        self.inner.to_signed_json(&key.inner)
    }
}

#[uniffi::export]
impl Results {
    /// Reads results signed with `key`: every check of `from_json`, then the signature
    /// (`results_unsigned`, `results_signature_invalid`); the results are verified.
    #[uniffi::constructor]
    pub fn from_signed_json(json: String, key: &PlanKey) -> NativeResult<Arc<Results>> {
        let inner = lms_bulk_upload::Results::from_signed_json(&json, &key.inner)?;
        Ok(Results::new(inner))
    }

    /// The results as compact JSON with an HMAC-SHA-256 `signature` under `key`.
    pub fn to_signed_json(&self, key: &PlanKey) -> String {
        self.get().to_signed_json(&key.inner)
    }

    /// Whether the engine vouches for these results (from `execute` in this process, read
    /// with `from_signed_json`, or merged from such).
    pub fn verified(&self) -> bool {
        self.get().provenance.is_verified()
    }
}
