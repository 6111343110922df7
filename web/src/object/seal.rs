//! The keys an object host derives from its secret, and the default password sealed for the
//! run that needs it.
//!
//! A run may execute in another process (a job queue's worker) than the request that
//! approved it, so the default password travels with the run's record, sealed with
//! ChaCha20-Poly1305 under a key derived from the host's secret: the database never holds
//! it in clear, and the record is cleared of it once the run has ended.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use lms_bulk_upload::{OsRandom, Password, PlanKey, RandomSource};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The secret must be at least this long (bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// The keys derived from a host's secret.
pub(crate) struct Keys {
    /// Signs plans and results.
    pub(crate) plan: PlanKey,
    seal: Zeroizing<[u8; 32]>,
}

fn derive(secret: &[u8], purpose: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|e| e.to_string())?;
    mac.update(b"lms-bulk-upload web host: ");
    mac.update(purpose.as_bytes());
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

impl Keys {
    /// The keys of `secret` (at least [`MIN_SECRET_BYTES`]).
    pub(crate) fn derive(secret: &[u8]) -> Result<Keys, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the secret is {} bytes: it must be at least {MIN_SECRET_BYTES}",
                secret.len()
            ));
        }
        let plan =
            PlanKey::from_bytes(&derive(secret, "plan key")?[..]).map_err(|e| e.to_string())?;
        Ok(Keys {
            plan,
            seal: derive(secret, "seal key")?,
        })
    }

    /// `password` sealed for `run_id` (base64 of nonce and ciphertext).
    pub(crate) fn seal(&self, run_id: &str, password: &Password) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.seal[..]));
        let mut nonce = [0u8; 12];
        OsRandom.fill(&mut nonce);
        let payload = chacha20poly1305::aead::Payload {
            msg: password.expose().as_bytes(),
            aad: run_id.as_bytes(),
        };
        // Encryption into a Vec cannot fail for a payload this small.
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    /// The password sealed for `run_id`, or why it cannot be opened.
    pub(crate) fn open(&self, run_id: &str, sealed: &str) -> Result<Password, String> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| "the sealed default password is not base64".to_owned())?;
        if bytes.len() < 12 + 16 {
            return Err("the sealed default password is truncated".into());
        }
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.seal[..]));
        let payload = chacha20poly1305::aead::Payload {
            msg: &bytes[12..],
            aad: run_id.as_bytes(),
        };
        let clear = Zeroizing::new(
            cipher
                .decrypt(Nonce::from_slice(&bytes[..12]), payload)
                .map_err(|_| {
                    "the sealed default password does not open with this host's secret".to_owned()
                })?,
        );
        let text = std::str::from_utf8(&clear)
            .map_err(|_| "the sealed default password is not text".to_owned())?;
        Ok(Password::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_password_opens_only_for_its_run_and_secret() {
        let keys = Keys::derive(&[7; 32]).unwrap();
        let sealed = keys.seal("run_1", &Password::new("Tr0ub4dor&3x"));
        assert!(!sealed.contains("Tr0ub4dor"));
        assert_eq!(
            keys.open("run_1", &sealed).unwrap().expose(),
            "Tr0ub4dor&3x"
        );
        assert!(keys.open("run_2", &sealed).is_err(), "bound to its run");
        let other = Keys::derive(&[8; 32]).unwrap();
        assert!(other.open("run_1", &sealed).is_err(), "bound to the secret");
        assert!(Keys::derive(&[7; 31]).is_err(), "a short secret is refused");
    }
}
