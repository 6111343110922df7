//! Email addresses: syntax, lengths and the case-insensitive identity used for matching.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest local part (before `@`), in bytes, per RFC 5321.
pub const MAX_LOCAL_PART_BYTES: usize = 64;
/// Longest address, in bytes, per RFC 5321 (a 256-octet path less the angle brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// A syntactically valid email address, kept as written.
///
/// Equality and hashing are **case-insensitive** (the whole address is compared in lowercase),
/// which is how the engine matches a file's rows against each other and against the store.
///
/// ```
/// use lms_bulk_upload::EmailAddress;
/// let a = EmailAddress::parse("Ana.Lopez@Example.com").unwrap();
/// assert_eq!(a, EmailAddress::parse("ana.lopez@example.COM").unwrap());
/// assert_eq!(a.as_str(), "Ana.Lopez@Example.com");
/// assert!(EmailAddress::parse("ana lopez@example.com").is_err());
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates `text` (WHATWG "valid e-mail address" syntax, a dot in the domain, RFC 5321
    /// lengths, internationalised domains accepted) and keeps it as written.
    pub fn parse(text: &str) -> Result<EmailAddress, String> {
        check_email(text).map(|()| EmailAddress(text.to_owned()))
    }

    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form used for matching.
    pub fn key(&self) -> String {
        email_key(&self.0)
    }
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        emails_equal(&self.0, &other.0)
    }
}
impl Eq for EmailAddress {}

impl std::hash::Hash for EmailAddress {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(email_hash(&self.0));
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_email(&value).map(|()| EmailAddress(value))
    }
}
impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> String {
        value.0
    }
}

/// The lowercase form of an address, used as its identity.
pub fn email_key(email: &str) -> String {
    if email.is_ascii() {
        email.to_ascii_lowercase()
    } else {
        email.to_lowercase()
    }
}

/// Whether two addresses are the same identity (case-insensitive).
pub fn emails_equal(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
    }
}

/// A fast 64-bit hash of the lowercase form (FxHash-style; collisions are resolved by
/// comparing the addresses, so a crafted collision costs a comparison, never correctness).
pub(crate) fn email_hash(email: &str) -> u64 {
    if email.is_ascii() {
        hash_lowercase_bytes(email.as_bytes())
    } else {
        // Same byte hashing over the Unicode lowercase form, so that "ana@\u{212A}elvin.com"
        // and "ana@kelvin.com" (equal keys) hash alike.
        hash_lowercase_bytes(email.to_lowercase().as_bytes())
    }
}

fn hash_lowercase_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = 0;
    let mut add = |x: u64| h = (h.rotate_left(5) ^ x).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        add(u64::from_le_bytes(word.map(|b| b.to_ascii_lowercase())));
    }
    for &b in chunks.remainder() {
        add(u64::from(b.to_ascii_lowercase()));
    }
    h
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b)
}

/// Checks an address; `Err` carries the reason for the message.
pub(crate) fn check_email(email: &str) -> Result<(), String> {
    if email.len() > MAX_EMAIL_BYTES {
        return Err(format!(
            "is {} bytes long; the most is {MAX_EMAIL_BYTES}",
            email.len()
        ));
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("has no '@'".into());
    };
    if local.is_empty() {
        return Err("has nothing before the '@'".into());
    }
    if local.len() > MAX_LOCAL_PART_BYTES {
        return Err(format!(
            "has a local part of {} bytes; the most is {MAX_LOCAL_PART_BYTES}",
            local.len()
        ));
    }
    if let Some(bad) = local
        .chars()
        .find(|&c| !c.is_ascii() || !is_local_char(c as u8))
    {
        return Err(format!("has {bad:?}, which is not allowed before the '@'"));
    }
    if domain.is_empty() {
        return Err("has nothing after the '@'".into());
    }
    if !domain.contains('.') {
        return Err(format!("has the domain {domain:?}, which has no dot"));
    }
    for label in domain.split('.') {
        check_label(label).map_err(|why| format!("has the domain {domain:?}: {why}"))?;
    }
    Ok(())
}

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("an empty label (two dots, or a dot at an end)".into());
    }
    if label.len() > 63 {
        return Err("a label longer than 63 bytes".into());
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("a label that starts or ends with '-'".into());
    }
    // ASCII letters, digits and '-'; non-ASCII letters and digits for internationalised names.
    match label.chars().find(|&c| {
        !(c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric()))
    }) {
        Some(bad) => Err(format!("{bad:?} is not allowed in a domain")),
        None => Ok(()),
    }
}
