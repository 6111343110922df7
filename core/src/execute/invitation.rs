//! Sign-in links ("invitations"): a personal, single-use token per user, of which the store
//! only ever sees the SHA-256 digest, and the verification a host calls when a link is
//! opened.

use crate::error::{Error, ErrorKind};
use crate::execute::password::{OsRandom, RandomSource};
use crate::execute::secret::Password;
use crate::host::store::{HostError, Store, UserId};
use crate::issue::IssueCode;
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// Random bytes in a token: 256 bits.
pub const INVITATION_TOKEN_BYTES: usize = 32;
/// Characters of a token: its 32 bytes in unpadded base64url.
pub const INVITATION_TOKEN_CHARS: usize = 43;
/// Default lifetime of an invitation: 72 hours.
pub const DEFAULT_INVITATION_EXPIRY: Duration = Duration::from_secs(72 * 3600);
/// Shortest lifetime a host may configure: 5 minutes.
pub const MIN_INVITATION_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// Longest lifetime a host may configure: 30 days.
pub const MAX_INVITATION_EXPIRY: Duration = Duration::from_secs(30 * 24 * 3600);
/// The placeholder of an invitation URL template that the token replaces.
pub const TOKEN_PLACEHOLDER: &str = "{token}";

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The SHA-256 digest of a token, in lowercase hex (64 characters): the only form of an
/// invitation a store keeps. A token has 256 bits of entropy, so a fast hash is right: no
/// guessing attack on the digest is feasible, and hashing costs microseconds (an argon2id
/// hash per user would cost what it costs for passwords).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvitationDigest(String);

impl InvitationDigest {
    /// The digest as 64 lowercase hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digest's 32 bytes (a store may keep them rather than the hex text).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let nibble = |c: u8| {
            if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'a' + 10
            }
        };
        for (byte, pair) in out.iter_mut().zip(self.0.as_bytes().chunks_exact(2)) {
            *byte = (nibble(pair[0]) << 4) | nibble(pair[1]);
        }
        out
    }

    /// A digest from its 32 bytes, else `None`.
    pub fn from_bytes(bytes: &[u8]) -> Option<InvitationDigest> {
        (bytes.len() == 32).then(|| InvitationDigest(crate::plan::hex(bytes)))
    }

    /// Reads a digest a store gave back: 64 lowercase hex characters, else `None`.
    pub fn from_hex(hex: &str) -> Option<InvitationDigest> {
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| InvitationDigest(hex.to_owned()))
    }
}

impl fmt::Display for InvitationDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token as a user's link carries it: 43 base64url characters. Secret: `Debug` and
/// `Display` redact it, its memory is zeroed on drop, and nothing but the email's link ever
/// holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken(Password);

impl InvitationToken {
    /// A new token: [`INVITATION_TOKEN_BYTES`] from the operating system's CSPRNG, whatever
    /// random source execution was given for passwords.
    pub(crate) fn generate() -> InvitationToken {
        let mut bytes = zeroize::Zeroizing::new([0u8; INVITATION_TOKEN_BYTES]);
        OsRandom.fill(&mut bytes[..]);
        let mut text = String::with_capacity(INVITATION_TOKEN_CHARS);
        let mut bits = 0u32;
        let mut held = 0u32;
        for &b in bytes.iter() {
            bits = (bits << 8) | u32::from(b);
            held += 8;
            while held >= 6 {
                held -= 6;
                text.push(char::from(BASE64URL[((bits >> held) & 63) as usize]));
            }
        }
        if held > 0 {
            text.push(char::from(BASE64URL[((bits << (6 - held)) & 63) as usize]));
        }
        InvitationToken(Password::new(text))
    }

    /// Reads a token from a link: `None` unless it has the shape of one (any other text is
    /// not looked up).
    pub fn parse(text: &str) -> Option<InvitationToken> {
        (text.len() == INVITATION_TOKEN_CHARS && text.bytes().all(|b| BASE64URL.contains(&b)))
            .then(|| InvitationToken(Password::new(text)))
    }

    /// The token's digest, what the store keeps.
    pub fn digest(&self) -> InvitationDigest {
        let digest = Sha256::digest(self.0.expose().as_bytes());
        InvitationDigest(crate::plan::hex(&digest))
    }

    /// The token as a secret string (for scrubbing and the link).
    pub(crate) fn secret(&self) -> &Password {
        &self.0
    }
}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationToken([REDACTED])")
    }
}

/// An invitation to keep: what execution gives [`Store::add_invitation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    /// The invited user.
    pub user: UserId,
    /// The token's digest.
    pub digest: InvitationDigest,
    /// When it stops working, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// The fingerprint of the upload that issued it (what undo revokes by).
    pub upload: String,
}

/// An invitation as the store keeps it: what [`Store::find_invitation`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInvitation {
    /// The invited user.
    pub user: UserId,
    /// The digest it was stored under.
    pub digest: InvitationDigest,
    /// When it stops working, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// It was redeemed already.
    pub used: bool,
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The checks of a host-configured lifetime (`invalid_option` outside 5 minutes to 30 days).
pub(crate) fn check_expiry(expiry: Duration) -> Result<(), Error> {
    if (MIN_INVITATION_EXPIRY..=MAX_INVITATION_EXPIRY).contains(&expiry) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Settings,
        IssueCode::InvalidOption,
        format!(
            "invitation_expiry_secs is {}; an invitation lives from {} seconds to {} seconds",
            expiry.as_secs(),
            MIN_INVITATION_EXPIRY.as_secs(),
            MAX_INVITATION_EXPIRY.as_secs()
        ),
    ))
}

/// Checks an invitation URL template: an http(s) URL without control characters or spaces
/// in which [`TOKEN_PLACEHOLDER`] appears once, as one whole path segment after the host
/// (`https://lms.example.com/invitations/{token}`) or as one whole query value
/// (`https://lms.example.com/welcome?invitation={token}`), and no other brace. The reason is
/// the error's message.
pub(crate) fn check_url_template(template: &str) -> Result<(), String> {
    let rest = template
        .strip_prefix("https://")
        .or_else(|| template.strip_prefix("http://"))
        .ok_or("it must be an http(s) URL")?;
    if template
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err("it has a space or a control character".into());
    }
    if template.matches(TOKEN_PLACEHOLDER).count() != 1 {
        return Err(format!("it must hold {TOKEN_PLACEHOLDER} exactly once"));
    }
    let (before, after) = rest.split_once(TOKEN_PLACEHOLDER).unwrap_or((rest, ""));
    if before.contains(['{', '}']) || after.contains(['{', '}']) {
        return Err(format!("it has a brace outside {TOKEN_PLACEHOLDER}"));
    }
    let Some(slash) = before.find('/') else {
        return Err(format!("{TOKEN_PLACEHOLDER} must come after the host name"));
    };
    if before[..slash].is_empty() || before[..slash].contains(['?', '#', '@']) {
        return Err("its host name is not valid".into());
    }
    if before.contains('#') {
        return Err(format!("{TOKEN_PLACEHOLDER} must not be in the fragment"));
    }
    let in_query = before.contains('?');
    let whole = if in_query {
        before.ends_with('=')
            && before[..before.len() - 1]
                .ends_with(|c: char| c.is_ascii_alphanumeric() || "_-.".contains(c))
            && (after.is_empty() || after.starts_with(['&', '#']))
    } else {
        before.ends_with('/') && (after.is_empty() || after.starts_with(['/', '?', '#']))
    };
    if whole {
        Ok(())
    } else {
        Err(format!(
            "{TOKEN_PLACEHOLDER} must be a whole path segment (/{TOKEN_PLACEHOLDER}/) or a whole query value (?name={TOKEN_PLACEHOLDER})"
        ))
    }
}

/// The link of a token: the (checked) template with the token in place of the placeholder.
/// A token is base64url, so it needs no percent-encoding in a path or a query.
pub(crate) fn invitation_url(template: &str, token: &InvitationToken) -> Password {
    Password::new(template.replacen(TOKEN_PLACEHOLDER, token.secret().expose(), 1))
}

/// Checks the password a user chooses on the page their sign-in link opens: at least
/// `min_length` characters (the password policy's, 10 by default), and hard to guess as
/// `zxcvbn` judges it (a score of at least
/// [`MIN_PASSWORD_SCORE`](crate::MIN_PASSWORD_SCORE)), `user_inputs` (their email, their
/// name, the site) counting against it. An [`ErrorKind::Settings`] error coded
/// `weak_password` says why; it never quotes the password.
pub fn check_chosen_password(
    password: &Password,
    min_length: usize,
    user_inputs: &[&str],
) -> Result<(), Error> {
    let text = password.expose();
    let weak = |why: String| Err(Error::settings(IssueCode::WeakPassword, why));
    let chars = text.chars().count();
    if chars < min_length {
        return weak(format!(
            "the password has {chars} characters; at least {min_length} are needed"
        ));
    }
    crate::execute::password::strength(text, user_inputs)
        .or_else(|why| weak(format!("the password is too easy to guess: {why}")))
}

fn refused(code: IssueCode, message: &str) -> Error {
    Error::new(ErrorKind::Invitation, code, message)
}

fn store_failed(e: &HostError) -> Error {
    Error::host(
        ErrorKind::Store,
        IssueCode::StoreFailed,
        "the store failed while verifying an invitation",
        e,
    )
}

/// Verifies the token of an opened link, without using it up: the invited user's id, or
/// an [`ErrorKind::Invitation`] error coded `invitation_unknown` (no such token: malformed,
/// never issued, revoked by a newer one or by an undo), `invitation_used` (redeemed
/// already) or `invitation_expired`. A page that shows a form (set a password) calls this
/// first; the form's submission calls [`redeem_invitation`].
///
/// The store is asked by digest ([`Store::find_invitation`]); the digest it answers with is
/// compared with the token's in constant time, so a store that looks up by prefix or
/// case-insensitively cannot make a near-miss pass.
pub fn verify_invitation(store: &mut dyn Store, token: &str) -> Result<UserId, Error> {
    verify_invitation_at(store, token, unix_now())
}

/// [`verify_invitation`] at a given time (seconds since the Unix epoch).
pub fn verify_invitation_at(store: &mut dyn Store, token: &str, now: u64) -> Result<UserId, Error> {
    let unknown = || {
        refused(
            IssueCode::InvitationUnknown,
            "this sign-in link is not valid (it may have been replaced by a newer one)",
        )
    };
    let Some(token) = InvitationToken::parse(token) else {
        return Err(unknown());
    };
    let digest = token.digest();
    let found = store
        .find_invitation(&digest)
        .map_err(|e| store_failed(&e))?;
    let Some(found) = found else {
        return Err(unknown());
    };
    let same: bool = found
        .digest
        .as_str()
        .as_bytes()
        .ct_eq(digest.as_str().as_bytes())
        .into();
    if !same {
        return Err(unknown());
    }
    if found.used {
        return Err(refused(
            IssueCode::InvitationUsed,
            "this sign-in link was used already; each link works once",
        ));
    }
    if now >= found.expires_at {
        return Err(refused(
            IssueCode::InvitationExpired,
            "this sign-in link has expired; ask your administrator for a new one",
        ));
    }
    Ok(found.user)
}

/// Verifies the token ([`verify_invitation`]) and uses it up: the store marks it used and
/// drops the user's other invitations ([`Store::redeem_invitation`]), atomically, so of two
/// concurrent redemptions only one succeeds (the other gets `invitation_used`). Call it
/// when the user has chosen their password, and set that password in the same request.
pub fn redeem_invitation(store: &mut dyn Store, token: &str) -> Result<UserId, Error> {
    redeem_invitation_at(store, token, unix_now())
}

/// [`redeem_invitation`] at a given time (seconds since the Unix epoch).
pub fn redeem_invitation_at(store: &mut dyn Store, token: &str, now: u64) -> Result<UserId, Error> {
    let user = verify_invitation_at(store, token, now)?;
    let digest = InvitationToken::parse(token)
        .map(|t| t.digest())
        .ok_or_else(|| {
            refused(
                IssueCode::InvitationUnknown,
                "this sign-in link is not valid",
            )
        })?;
    if store
        .redeem_invitation(&digest)
        .map_err(|e| store_failed(&e))?
    {
        Ok(user)
    } else {
        Err(refused(
            IssueCode::InvitationUsed,
            "this sign-in link was used already; each link works once",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_parse_back() {
        let a = InvitationToken::generate();
        let b = InvitationToken::generate();
        assert_eq!(a.secret().expose().len(), INVITATION_TOKEN_CHARS);
        assert_ne!(a, b);
        assert_ne!(a.digest(), b.digest());
        let again = InvitationToken::parse(a.secret().expose()).unwrap();
        assert_eq!(again.digest(), a.digest());
        assert_eq!(format!("{a:?}"), "InvitationToken([REDACTED])");
        assert!(!a.digest().as_str().contains(a.secret().expose()));
        let bytes = a.digest().to_bytes();
        assert_eq!(InvitationDigest::from_bytes(&bytes), Some(a.digest()));
        assert!(InvitationToken::parse("short").is_none());
        assert!(InvitationToken::parse(&"+".repeat(INVITATION_TOKEN_CHARS)).is_none());
    }

    #[test]
    fn chosen_passwords_are_judged_by_zxcvbn() {
        let code = |p: &str| {
            check_chosen_password(&Password::new(p), 10, &["ana@x.com"])
                .err()
                .map(|e| e.code())
        };
        assert_eq!(code("short"), Some(IssueCode::WeakPassword));
        assert_eq!(code("password123"), Some(IssueCode::WeakPassword));
        assert_eq!(code("ana@x.com12"), Some(IssueCode::WeakPassword));
        assert_eq!(code("Kowhai-tree-by-the-river-42"), None);
    }

    #[test]
    fn url_templates_put_the_token_in_one_component() {
        for good in [
            "https://lms.example.com/invitations/{token}",
            "https://lms.example.com/i/{token}/set-password",
            "https://lms.example.com/welcome?invitation={token}",
            "https://lms.example.com/welcome?a=1&invitation={token}&b=2",
            "http://localhost:8080/invitations/{token}?lang=en",
        ] {
            assert_eq!(check_url_template(good), Ok(()), "{good}");
        }
        for bad in [
            "ftp://lms.example.com/{token}",
            "https://lms.example.com/invitations/",
            "https://{token}.example.com/",
            "https://lms.example.com/x{token}",
            "https://lms.example.com/{token}{token}",
            "https://lms.example.com/?{token}",
            "https://lms.example.com/#/{token}",
            "https://lms.example.com/{token}x",
            "https://lms.example.com/{user}/{token}",
            "https://lms.example.com/a b/{token}",
        ] {
            assert!(check_url_template(bad).is_err(), "{bad}");
        }
    }
}
