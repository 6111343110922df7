//! Secrets: plaintext passwords that never reach a log, a `Debug` string, a plan or a result.

use std::fmt;
use zeroize::Zeroizing;

/// A plaintext password. `Debug` and `Display` print `[REDACTED]`; the memory is zeroed on
/// drop; it is not `Serialize`, so it cannot end up in a plan or a result by accident.
///
/// ```
/// let p = lms_bulk_upload::Password::new("Tr0ub4dor&3x");
/// assert_eq!(format!("{p:?}"), "Password([REDACTED])");
/// assert_eq!(p.expose(), "Tr0ub4dor&3x");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a plaintext password.
    pub fn new(plaintext: impl Into<String>) -> Password {
        Password(Zeroizing::new(plaintext.into()))
    }

    /// The plaintext. Call it only where the password must be used (hashing, the email body).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<&str> for Password {
    fn from(value: &str) -> Self {
        Password::new(value)
    }
}

impl From<String> for Password {
    fn from(value: String) -> Self {
        Password::new(value)
    }
}

/// `text` with every occurrence of each secret replaced by `[REDACTED]`: a host's error
/// message (a mailer quoting the message body it failed to send) must not carry a password
/// into a row's error, the results or the journal.
pub(crate) fn scrub<'a>(text: String, secrets: impl IntoIterator<Item = &'a Password>) -> String {
    let mut text = text;
    for secret in secrets {
        let plain = secret.expose();
        if !plain.is_empty() && text.contains(plain) {
            text = text.replace(plain, "[REDACTED]");
        }
    }
    text
}
