//! Passwords: generation from a CSPRNG, argon2id hashing (PHC strings) and the policy.

use crate::error::{Error, ErrorKind};
pub use crate::execute::hash_params::HashParams;
use crate::execute::secret::Password;
use crate::issue::IssueCode;
use argon2::password_hash::{PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// OWASP's argon2id memory cost, in KiB (19 MiB).
pub const DEFAULT_ARGON2_MEMORY_KIB: u32 = 19_456;
/// OWASP's argon2id time cost (iterations).
pub const DEFAULT_ARGON2_ITERATIONS: u32 = 2;
/// OWASP's argon2id parallelism.
pub const DEFAULT_ARGON2_PARALLELISM: u32 = 1;
/// The characters of generated passwords: letters and digits without look-alikes (0/O, 1/l/I).
pub const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// An argon2id hash as a PHC string (`$argon2id$v=19$m=...`). Not a secret, but `Debug`
/// shows only the parameters. As data, the PHC string.
///
/// Shared, not copied, when cloned: a default password's one hash is given to every user
/// of a run.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(Arc<str>);

impl Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PasswordHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(PasswordHash::from_phc)
    }
}

impl PasswordHash {
    /// Wraps a PHC string (as read back from a store).
    pub fn from_phc(phc: impl Into<String>) -> PasswordHash {
        PasswordHash(Arc::from(phc.into()))
    }
    /// The PHC string, to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether `password` matches this hash.
    pub fn verify(&self, password: &str) -> bool {
        argon2::password_hash::PasswordHash::new(&self.0)
            .map(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = self.0.rsplitn(3, '$').nth(2).unwrap_or("");
        write!(f, "PasswordHash({params}$…)")
    }
}

/// The one seam to the outside world: the source of random bytes for passwords and salts.
/// [`OsRandom`] (the operating system's CSPRNG) is the default; tests may replace it.
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        use rand_core::RngCore;
        rand_core::OsRng.fill_bytes(buf);
    }
}

/// The shortest generated password accepted (57-symbol alphabet: 12 characters ≈ 70 bits).
pub const MIN_GENERATED_PASSWORD_LENGTH: usize = 12;
/// The longest generated password accepted (a bound on work and memory, since a plan read
/// back from JSON carries the length).
pub const MAX_GENERATED_PASSWORD_LENGTH: usize = 128;

/// Hashes `password` with argon2id and a fresh 16-byte salt from `random`.
pub fn hash_password(
    password: &Password,
    params: &HashParams,
    random: &dyn RandomSource,
) -> Result<PasswordHash, Error> {
    let argon2 = params.argon2()?;
    hash_with(&argon2, password, random)
}

pub(crate) fn hash_with(
    argon2: &argon2::Argon2<'_>,
    password: &Password,
    random: &dyn RandomSource,
) -> Result<PasswordHash, Error> {
    let mut memory = HashMemory::new(argon2);
    memory.hash(argon2, password, random)
}

/// The argon2 working memory (19 MiB at OWASP's parameters), allocated once and reused for
/// every password a thread hashes: a fresh allocation per hash costs thousands of page
/// faults, and the kernel serialises them across threads.
pub(crate) struct HashMemory(Vec<argon2::Block>);

impl HashMemory {
    pub(crate) fn new(argon2: &argon2::Argon2<'_>) -> HashMemory {
        HashMemory(vec![
            argon2::Block::default();
            argon2.params().block_count()
        ])
    }

    /// The PHC string of `password` with a fresh 16-byte salt, as
    /// `PasswordHasher::hash_password` would write it.
    pub(crate) fn hash(
        &mut self,
        argon2: &argon2::Argon2<'_>,
        password: &Password,
        random: &dyn RandomSource,
    ) -> Result<PasswordHash, Error> {
        let failed = |what: &str, e: &dyn fmt::Display| {
            Error::new(
                ErrorKind::Plan,
                IssueCode::InvalidSetting,
                format!("{what}: {e}"),
            )
        };
        let mut salt = [0u8; 16];
        random.fill(&mut salt);
        let salt_string = SaltString::encode_b64(&salt).map_err(|e| failed("salt", &e))?;
        let params = argon2.params();
        let output_len = params
            .output_len()
            .unwrap_or(argon2::Params::DEFAULT_OUTPUT_LEN);
        let output = argon2::password_hash::Output::init_with(output_len, |out| {
            argon2
                .hash_password_into_with_memory(
                    password.expose().as_bytes(),
                    &salt,
                    out,
                    &mut self.0[..],
                )
                .map_err(argon2::password_hash::Error::from)
        })
        .map_err(|e| failed("argon2", &e))?;
        let phc = argon2::password_hash::PasswordHash {
            algorithm: argon2::Algorithm::Argon2id.ident(),
            version: Some(argon2::Version::V0x13.into()),
            params: argon2::password_hash::ParamsString::try_from(params)
                .map_err(|e| failed("argon2", &e))?,
            salt: Some(salt_string.as_salt()),
            hash: Some(output),
        };
        Ok(PasswordHash::from_phc(phc.to_string()))
    }
}

/// Hashes many passwords over `threads` threads (0: all cores), in order; each thread holds
/// one argon2 memory block, reused for every password it hashes, so memory stays at
/// `threads × memory_kib`.
pub(crate) fn hash_many(
    passwords: &[Password],
    params: &HashParams,
    random: &dyn RandomSource,
    threads: usize,
) -> Result<Vec<PasswordHash>, Error> {
    let argon2 = params.argon2()?;
    // Nothing to hash (a batch of sign-in links, or of rows that set no password): no
    // argon2 memory to allocate and zero (19 MiB a batch at OWASP's cost).
    if passwords.is_empty() {
        return Ok(Vec::new());
    }
    let threads = super::threads_for(threads).clamp(1, passwords.len().max(1));
    if threads == 1 {
        let mut memory = HashMemory::new(&argon2);
        return passwords
            .iter()
            .map(|p| memory.hash(&argon2, p, random))
            .collect();
    }
    // Work sharing: every thread (the caller's included) takes the next password until none
    // is left, so a thread slowed down by a busy core does not hold the others back.
    let next = AtomicUsize::new(0);
    let work = || -> Result<Vec<(usize, PasswordHash)>, Error> {
        let mut memory = HashMemory::new(&argon2);
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(password) = passwords.get(i) else {
                return Ok(done);
            };
            done.push((i, memory.hash(&argon2, password, random)?));
        }
    };
    let parts = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut parts = vec![work()];
        for helper in helpers {
            parts.push(helper.join().map_err(|_| {
                Error::new(
                    ErrorKind::Plan,
                    IssueCode::InvalidSetting,
                    "a hashing thread panicked",
                )
            })?);
        }
        Ok::<_, Error>(parts)
    })?;
    let mut slots: Vec<Option<PasswordHash>> = vec![None; passwords.len()];
    for part in parts {
        for (i, hash) in part? {
            slots[i] = Some(hash);
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// Generates a password of `length` characters from [`PASSWORD_ALPHABET`], uniformly
/// (rejection sampling, no modulo bias).
pub fn generate_password(length: usize, random: &dyn RandomSource) -> Password {
    let n = PASSWORD_ALPHABET.len();
    let limit = 256 - (256 % n); // accept bytes below the largest multiple of n
    let mut out = String::with_capacity(length);
    let mut buf = zeroize::Zeroizing::new([0u8; 64]);
    while out.len() < length {
        random.fill(&mut buf[..]);
        for &b in buf.iter() {
            if usize::from(b) < limit && out.len() < length {
                out.push(char::from(PASSWORD_ALPHABET[usize::from(b) % n]));
            }
        }
    }
    Password::new(out)
}

/// What a password must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Shortest accepted default password, in characters.
    #[serde(alias = "minLength")]
    pub min_length: usize,
    /// Length of generated passwords (57-character alphabet: 16 characters ≈ 93 bits);
    /// between [`MIN_GENERATED_PASSWORD_LENGTH`] and [`MAX_GENERATED_PASSWORD_LENGTH`].
    #[serde(alias = "generatedLength")]
    pub generated_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 10,
            generated_length: 16,
        }
    }
}

/// The lowest `zxcvbn` score a default password may have: 3, "safely unguessable:
/// moderate protection from an offline slow-hash scenario" (under 10^10 guesses is refused).
/// A shared password is known to every user of the upload, so it must at least resist a
/// guessing attack on its argon2id hash.
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// `zxcvbn` judges at most this many characters (its cost grows faster than linearly); a
/// longer password is judged by its prefix, which is no weaker than the whole.
const MAX_JUDGED_CHARS: usize = 100;

/// `Ok` when `zxcvbn` scores the password at least [`MIN_PASSWORD_SCORE`]; otherwise its
/// feedback (warning and suggestions), which never quotes the password.
pub(crate) fn strength(text: &str, user_inputs: &[&str]) -> Result<(), String> {
    let judged: String = text.chars().take(MAX_JUDGED_CHARS).collect();
    let inputs: Vec<&str> = user_inputs
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && s.len() <= MAX_JUDGED_CHARS)
        .collect();
    let entropy = zxcvbn::zxcvbn(&judged, &inputs);
    let score = u8::from(entropy.score());
    if score >= MIN_PASSWORD_SCORE {
        return Ok(());
    }
    let mut why =
        format!("zxcvbn scores it {score} of 4, at least {MIN_PASSWORD_SCORE} is needed.");
    if let Some(feedback) = entropy.feedback() {
        if let Some(warning) = feedback.warning() {
            why.push_str(&format!(" {warning}"));
        }
        for suggestion in feedback.suggestions() {
            why.push_str(&format!(" {suggestion}"));
        }
    }
    Err(why)
}

const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "letmein123",
    "welcome123",
    "changeme123",
    "iloveyou12",
    "administrator",
    "passw0rd123",
];

impl PasswordPolicy {
    /// Checks a default password: long enough, not digits only, not one character
    /// repeated, not a well-known password, and hard to guess as judged by `zxcvbn` (a
    /// score of at least [`MIN_PASSWORD_SCORE`]). The reason is in the error; the password
    /// never is.
    pub fn check(&self, password: &Password) -> Result<(), Error> {
        self.check_with(password, &[])
    }

    /// [`check`](Self::check), with words an attacker would try first given to `zxcvbn`
    /// (the site's host name, the uploader's address): a password built from them scores
    /// lower.
    pub fn check_with(&self, password: &Password, user_inputs: &[&str]) -> Result<(), Error> {
        let text = password.expose();
        let chars = text.chars().count();
        let weak = |why: String| Err(Error::settings(IssueCode::WeakDefaultPassword, why));
        if chars < self.min_length {
            return weak(format!(
                "the default password has {chars} characters; the policy asks for at least {}",
                self.min_length
            ));
        }
        if text.chars().all(|c| c.is_ascii_digit()) {
            return weak("the default password is only digits".into());
        }
        let first = text.chars().next();
        if text.chars().all(|c| Some(c) == first) {
            return weak("the default password is one character repeated".into());
        }
        if COMMON_PASSWORDS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(text))
        {
            return weak("the default password is a well-known password".into());
        }
        strength(text, user_inputs).map_err(|why| {
            Error::settings(
                IssueCode::WeakDefaultPassword,
                format!("the default password is too easy to guess: {why}"),
            )
        })
    }
    /// Checks the policy itself: `generated_length` from 12 to 128 (`weak_generated_password`
    /// below, `invalid_setting` above).
    pub fn validate(&self) -> Result<(), Error> {
        check_generated_length(self.generated_length)
            .map_err(|(code, message)| Error::settings(code, message))
    }
}

/// The range check of a generated password length, shared by the settings and execution.
pub(crate) fn check_generated_length(length: usize) -> Result<(), (IssueCode, String)> {
    if length < MIN_GENERATED_PASSWORD_LENGTH {
        return Err((
            IssueCode::WeakGeneratedPassword,
            format!(
                "generated_password_length is {length}; generated passwords have at least \
                 {MIN_GENERATED_PASSWORD_LENGTH} characters"
            ),
        ));
    }
    if length > MAX_GENERATED_PASSWORD_LENGTH {
        return Err((
            IssueCode::InvalidSetting,
            format!(
                "generated_password_length is {length}; at most {MAX_GENERATED_PASSWORD_LENGTH} characters"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    #[test]
    fn generated_passwords_use_the_alphabet_and_differ() {
        let a = generate_password(16, &OsRandom);
        let b = generate_password(16, &OsRandom);
        assert_eq!(a.expose().len(), 16);
        assert!(a.expose().bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn hash_verifies_and_debug_hides_the_salted_part() {
        let params = HashParams::insecure_for_tests(64, 1, 1);
        let p = Password::new("correct horse");
        let hash = hash_password(&p, &params, &OsRandom).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("wrong horse"));
        assert_eq!(
            format!("{hash:?}"),
            "PasswordHash($argon2id$v=19$m=64,t=1,p=1$…)"
        );
    }

    /// Always the same bytes, so two hashes get the same salt.
    struct FixedRandom;
    impl RandomSource for FixedRandom {
        fn fill(&self, buf: &mut [u8]) {
            buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        }
    }

    #[test]
    fn reused_memory_gives_the_argon2_crates_own_phc_string() {
        let params = HashParams::insecure_for_tests(64, 2, 1);
        let argon2 = params.argon2().unwrap();
        let mut memory = HashMemory::new(&argon2);
        let mut salt = [0u8; 16];
        FixedRandom.fill(&mut salt);
        let salt = SaltString::encode_b64(&salt).unwrap();
        for password in ["first password", "second one", "first password"] {
            let ours = memory
                .hash(&argon2, &Password::new(password), &FixedRandom)
                .unwrap();
            let theirs = argon2.hash_password(password.as_bytes(), &salt).unwrap();
            assert_eq!(ours.as_str(), theirs.to_string());
            assert!(ours.verify(password));
        }
    }

    #[test]
    fn policy_refuses_weak_defaults() {
        let policy = PasswordPolicy::default();
        for weak in ["short", "1234567890123", "aaaaaaaaaaaa", "Password123"] {
            assert_eq!(
                policy.check(&Password::new(weak)).unwrap_err().code(),
                IssueCode::WeakDefaultPassword,
                "{weak}"
            );
        }
        policy
            .check(&Password::new("Welcome-to-Intuto-2026"))
            .unwrap();
    }

    #[test]
    fn generated_length_is_bounded() {
        for (length, code) in [
            (0, Some(IssueCode::WeakGeneratedPassword)),
            (4, Some(IssueCode::WeakGeneratedPassword)),
            (11, Some(IssueCode::WeakGeneratedPassword)),
            (12, None),
            (128, None),
            (129, Some(IssueCode::InvalidSetting)),
        ] {
            let policy = PasswordPolicy {
                generated_length: length,
                ..PasswordPolicy::default()
            };
            assert_eq!(policy.validate().err().map(|e| e.code()), code, "{length}");
        }
    }
}
