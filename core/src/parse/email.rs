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
/// assert!(EmailAddress::parse("ana..lopez@example.com").is_err());
/// assert!(EmailAddress::parse("\"ana lopez\"@example.com").is_err());
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates `text` (WHATWG "valid e-mail address" syntax with an RFC 5321 dot-atom
    /// local part: no dot first, last or twice in a row; no quoted local part; a dot in the
    /// domain, RFC 5321 lengths, internationalised domains accepted) and keeps it as written.
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

/// The identity of an address: its lowercase form, with an internationalised domain
/// mapped to its ASCII (IDNA, UTS #46) form, so that `ana@bücher.de`, `ana@BÜCHER.de` and
/// `ana@xn--bcher-kva.de` are one person. The address itself is stored as written.
///
/// ```
/// use lms_bulk_upload::email_key;
/// assert_eq!(email_key("Ana@Bücher.de"), "ana@xn--bcher-kva.de");
/// assert_eq!(email_key("ANA@XN--BCHER-KVA.DE"), "ana@xn--bcher-kva.de");
/// ```
pub fn email_key(email: &str) -> String {
    if email.is_ascii() {
        return email.to_ascii_lowercase();
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email.to_lowercase();
    };
    match idna::domain_to_ascii(domain) {
        Ok(ascii) if !ascii.is_empty() => format!("{}@{ascii}", local.to_lowercase()),
        // A domain IDNA refuses is compared by its lowercase form.
        _ => email.to_lowercase(),
    }
}

/// Whether two addresses are the same identity (same [`email_key`]).
pub fn emails_equal(a: &str, b: &str) -> bool {
    // The same bytes (a store answering with the address it was asked for): one compare.
    if a == b {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        email_key(a) == email_key(b)
    }
}

/// A fast 64-bit hash of the lowercase form (FxHash-style; collisions are resolved by
/// comparing the addresses, so a crafted collision costs a comparison, never correctness).
pub(crate) fn email_hash(email: &str) -> u64 {
    if email.is_ascii() {
        hash_lowercase_bytes(email.as_bytes())
    } else {
        // Same byte hashing over the key, so that "ana@\u{212A}elvin.com", "ana@bücher.de"
        // and "ana@kelvin.com", "ana@xn--bcher-kva.de" (equal keys) hash alike.
        hash_lowercase_bytes(email_key(email).as_bytes())
    }
}

/// [`email_hash`] of an address known to be ASCII.
pub(crate) fn ascii_email_hash(email: &[u8]) -> u64 {
    hash_lowercase_bytes(email)
}

fn hash_lowercase_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = 0;
    lowercase_words(bytes, |x| h = (h.rotate_left(5) ^ x).wrapping_mul(K));
    h
}

/// Calls `add` with each 8 bytes of `bytes` lowercased (the last zero-padded), then with
/// its length.
#[inline]
fn lowercase_words(bytes: &[u8], mut add: impl FnMut(u64)) {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        add(ascii_lowercase_word(u64::from_le_bytes(word)));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        add(ascii_lowercase_word(u64::from_le_bytes(word)));
    }
    add(bytes.len() as u64);
}

/// A keyed hash of an address's [`email_key`] (with the keys of `state`, so no one can
/// craft addresses that collide), without building the key for an ASCII address.
pub(crate) fn keyed_email_hash(state: &impl std::hash::BuildHasher, email: &str) -> u64 {
    use std::hash::Hasher;
    let mut hasher = state.build_hasher();
    if email.is_ascii() {
        lowercase_words(email.as_bytes(), |x| hasher.write_u64(x));
    } else {
        lowercase_words(email_key(email).as_bytes(), |x| hasher.write_u64(x));
    }
    hasher.finish()
}

/// `to_ascii_lowercase` of the 8 bytes of `word` at once (bytes >= 0x80 are left alone).
fn ascii_lowercase_word(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = word & !HIGH;
    let at_least_a = low7 + ONES * (0x80 - u64::from(b'A'));
    let above_z = low7 + ONES * (0x80 - u64::from(b'Z') - 1);
    let upper = at_least_a & !above_z & !word & HIGH;
    word | (upper >> 2)
}

/// Byte classes for [`is_plainly_valid`]: allowed in a local part, a letter or digit, a
/// hyphen, a dot.
const LOCAL: u8 = 1;
const ALNUM: u8 = 2;
const HYPHEN: u8 = 4;
const DOT: u8 = 8;
const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        if (b as u8).is_ascii_alphanumeric() {
            table[b] = LOCAL | ALNUM;
        }
        b += 1;
    }
    let specials = b".!#$%&'*+/=?^_`{|}~-";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] |= LOCAL;
        i += 1;
    }
    table[b'-' as usize] |= HYPHEN;
    table[b'.' as usize] |= DOT;
    table
};

/// The common case of [`check_email`] without branching per byte: an ASCII address that
/// is valid. `false` means "not sure": the full check then runs and says why.
fn is_plainly_valid(email: &[u8]) -> bool {
    if email.len() > MAX_EMAIL_BYTES {
        return false;
    }
    let Some(at) = email.iter().rposition(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&email[..at], &email[at + 1..]);
    // Labels longer than 63 bytes are only possible in a longer domain: leave those to
    // the full check.
    if local.is_empty() || local.len() > MAX_LOCAL_PART_BYTES || domain.len() > 63 {
        return false;
    }
    let class = |b: u8| CLASSES[usize::from(b)];
    let local_ok = local.iter().fold(LOCAL, |ok, &b| ok & class(b));
    // Dot-atom: no dot first, last, or next to another dot.
    let dots_ok = local[0] != b'.' && local[local.len() - 1] != b'.' && !has_double_dot(local);
    // Every domain byte a letter, digit, hyphen or dot; it starts and ends with a letter
    // or digit; no dot next to a dot or a hyphen (so no empty label and no label starting
    // or ending with '-'); and it has a dot.
    let (Some(&first), Some(&last)) = (domain.first(), domain.last()) else {
        return false;
    };
    let ends_ok = class(first) & class(last) & ALNUM != 0;
    // One table look-up per byte: its kind, then the flags of (previous kind, kind).
    let (mut flags, mut previous) = (0u8, domain_kind(first));
    for &byte in &domain[1..] {
        let kind = domain_kind(byte);
        flags |= DOMAIN_PAIRS[usize::from(previous << 2 | kind)];
        previous = kind;
    }
    local_ok != 0 && dots_ok && ends_ok && flags & (UNKNOWN | BAD_PAIR) == 0 && flags & HAS_DOT != 0
}

/// [`is_plainly_valid`] and [`ascii_email_hash`] together, of the address of the first
/// `len` bytes of `bytes` (the bytes after it, if any, are read 16 at a time with it, and
/// left out of the check): the address's hash if it is plainly valid, `None` if not sure
/// (the full check then runs). An address of over [`MAX_LOCAL_PART_BYTES`] bytes is left to
/// the shortcut itself; in one of at most that, neither part can pass its length limit.
///
/// The check is made on bit masks of the address's bytes ([`EmailMasks`]: bit `i` for byte
/// `i`), 16 bytes at a time, so that no byte waits for the one before it: the automaton it
/// replaced stepped through a table a byte at a time, each step waiting for the last, and
/// took about a quarter of a parse's wall time for fewer instructions than this.
pub(crate) fn plainly_valid_hash(bytes: &[u8], len: usize) -> Option<u64> {
    let email = bytes.get(..len)?;
    let plain = match len > MAX_LOCAL_PART_BYTES {
        true => is_plainly_valid(email),
        false => EmailMasks::of(bytes, len).plainly_valid(len),
    };
    plain.then(|| hash_lowercase_bytes(email))
}

/// Of an address of at most 64 bytes, bit `i` set for byte `i`: the `@`s, the dots, the
/// hyphens, the letters and digits, and the bytes a local part allows ([`CLASSES`]'
/// `LOCAL`). The bits past the address are those of whatever bytes follow it (or none):
/// [`EmailMasks::plainly_valid`] does not read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EmailMasks {
    at: u64,
    dot: u64,
    hyphen: u64,
    alnum: u64,
    local: u64,
}

impl EmailMasks {
    /// The masks of the first `len` bytes of `bytes` (at most 64), 16 at a time, each 16
    /// read where they are when `bytes` holds them (the bits past `len` are left set as
    /// the bytes after the address make them), else copied after zeros.
    fn of(bytes: &[u8], len: usize) -> EmailMasks {
        let mut masks = EmailMasks {
            at: 0,
            dot: 0,
            hyphen: 0,
            alnum: 0,
            local: 0,
        };
        for start in (0..len.min(MAX_LOCAL_PART_BYTES)).step_by(16) {
            let block = match bytes.get(start..start + 16) {
                Some(block) => <[u8; 16]>::try_from(block).unwrap_or_default(),
                None => {
                    let mut block = [0u8; 16];
                    let rest = bytes.get(start..).unwrap_or_default();
                    block[..rest.len()].copy_from_slice(rest);
                    block
                }
            };
            let [at, dot, hyphen, alnum, local] = email_block_masks(&block);
            masks.at |= u64::from(at) << start;
            masks.dot |= u64::from(dot) << start;
            masks.hyphen |= u64::from(hyphen) << start;
            masks.alnum |= u64::from(alnum) << start;
            masks.local |= u64::from(local) << start;
        }
        masks
    }

    /// [`is_plainly_valid`] of the address of these masks, their first `len` bits (at most
    /// 64; the bits past them are not read).
    fn plainly_valid(&self, len: usize) -> bool {
        if !(3..=MAX_LOCAL_PART_BYTES).contains(&len) {
            return false;
        }
        let all = u64::MAX >> (64 - len);
        // one `@` (a second one would be in the local part, which allows none)
        let at_mask = self.at & all;
        if at_mask.count_ones() != 1 {
            return false;
        }
        let at = at_mask.trailing_zeros() as usize;
        if at == 0 || at + 1 >= len {
            return false;
        }
        let local = (1u64 << at) - 1;
        let domain = all & !(local | 1 << at);
        // Dot-atom: every byte allowed, no dot first, last, or next to another dot.
        let local_dots = self.dot & local;
        let local_ok = self.local & local == local
            && local_dots & (1 | 1 << (at - 1)) == 0
            && local_dots & (local_dots >> 1) == 0;
        // Every domain byte a letter, digit, hyphen or dot; it starts and ends with a letter
        // or digit; no dot next to a dot or a hyphen; it has a dot.
        let (dots, hyphens) = (self.dot & domain, self.hyphen & domain);
        let ends = 1 << (at + 1) | 1 << (len - 1);
        let domain_ok = (self.alnum | self.hyphen | self.dot) & domain == domain
            && self.alnum & ends == ends
            && (dots | hyphens) & (dots >> 1) == 0
            && dots & (hyphens >> 1) == 0
            && dots != 0;
        local_ok && domain_ok
    }
}

/// Of the 16 bytes of `block`, bit `i` set for byte `i`: `@`, `.`, `-`, letters and digits,
/// bytes a local part allows. SSE2's byte compares (part of every x86-64), through
/// `safe_arch`. A signed compare puts the bytes from 0x80 below every ASCII bound, so a
/// range test of ASCII bytes needs no mask for them.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn email_block_masks(block: &[u8; 16]) -> [u16; 5] {
    use safe_arch::{
        bitand_m128i, bitandnot_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_gt_mask_i8_m128i,
        cmp_lt_mask_i8_m128i, load_unaligned_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let x = load_unaligned_m128i(block);
    let splat = |b: u8| set_splat_i8_m128i(b as i8);
    let eq = |b: u8| cmp_eq_mask_i8_m128i(x, splat(b));
    // lo..=hi, for 1 <= lo and hi <= 0x7e
    let within = |v: m128i, lo: u8, hi: u8| {
        bitand_m128i(
            cmp_gt_mask_i8_m128i(v, splat(lo - 1)),
            cmp_lt_mask_i8_m128i(v, splat(hi + 1)),
        )
    };
    // a letter with 0x20 set is a lowercase letter, and no other byte becomes one
    let letter = within(bitor_m128i(x, splat(0x20)), b'a', b'z');
    let alnum = bitor_m128i(letter, within(x, b'0', b'9'));
    // printable ASCII but for "(),:;<>@[\]
    let refused = bitor_m128i(
        bitor_m128i(
            bitor_m128i(eq(b'"'), within(x, b'(', b')')),
            bitor_m128i(eq(b','), within(x, b':', b'<')),
        ),
        bitor_m128i(bitor_m128i(eq(b'>'), eq(b'@')), within(x, b'[', b']')),
    );
    let local = bitandnot_m128i(refused, within(x, b'!', b'~'));
    let bits = |m: m128i| move_mask_i8_m128i(m) as u16;
    [
        bits(eq(b'@')),
        bits(eq(b'.')),
        bits(eq(b'-')),
        bits(alnum),
        bits(local),
    ]
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn email_block_masks(block: &[u8; 16]) -> [u16; 5] {
    email_block_masks_by_table(block)
}

/// [`email_block_masks`] by a look-up in [`CLASSES`] a byte, for other targets.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn email_block_masks_by_table(block: &[u8; 16]) -> [u16; 5] {
    let mut masks = [0u16; 5];
    for (i, &b) in block.iter().enumerate() {
        let class = CLASSES[usize::from(b)];
        let set = [
            b == b'@',
            class & DOT != 0,
            class & HYPHEN != 0,
            class & ALNUM != 0,
            class & LOCAL != 0,
        ];
        for (mask, set) in masks.iter_mut().zip(set) {
            *mask |= u16::from(set) << i;
        }
    }
    masks
}

/// Kinds of domain bytes for [`DOMAIN_PAIRS`]: anything else, a letter or digit, `-`, `.`.
const OTHER: u8 = 0;
const LET_DIG: u8 = 1;
const DASH: u8 = 2;
const FULL_STOP: u8 = 3;

fn domain_kind(b: u8) -> u8 {
    DOMAIN_KINDS[usize::from(b)]
}

const DOMAIN_KINDS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let class = CLASSES[b];
        table[b] = if class & ALNUM != 0 {
            LET_DIG
        } else if class & HYPHEN != 0 {
            DASH
        } else if class & DOT != 0 {
            FULL_STOP
        } else {
            OTHER
        };
        b += 1;
    }
    table
};

/// Flags of a pair of neighbouring domain bytes, by `previous kind << 2 | kind`: the second
/// is not allowed, the pair is `..` `.-` or `-.` (an empty label or one starting or ending
/// with `-`), the second is a dot.
const UNKNOWN: u8 = 1;
const BAD_PAIR: u8 = 2;
const HAS_DOT: u8 = 4;
const DOMAIN_PAIRS: [u8; 16] = {
    let mut table = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        let (previous, kind) = ((i >> 2) as u8, (i & 3) as u8);
        let mut flags = 0;
        if kind == OTHER {
            flags |= UNKNOWN;
        }
        if kind == FULL_STOP {
            flags |= HAS_DOT;
        }
        if (previous == FULL_STOP && (kind == FULL_STOP || kind == DASH))
            || (previous == DASH && kind == FULL_STOP)
        {
            flags |= BAD_PAIR;
        }
        table[i] = flags;
        i += 1;
    }
    table
};

/// Whether `bytes` has two dots in a row. Eight bytes at a time, the words overlapping by
/// one byte so that every pair of neighbours is inside a word: an exact mask of the dots of
/// each word (no carry between bytes), and-ed with itself shifted by a byte.
fn has_double_dot(bytes: &[u8]) -> bool {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const DOTS: u64 = 0x2E2E_2E2E_2E2E_2E2E;
    let Some(last) = bytes.len().checked_sub(8) else {
        return bytes.windows(2).any(|pair| pair == b"..");
    };
    let mut at = 0;
    loop {
        let start = at.min(last);
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[start..start + 8]);
        let y = u64::from_le_bytes(word) ^ DOTS;
        let dots = !(((y & LOW7) + LOW7) | y) & !LOW7;
        if dots & (dots >> 8) != 0 {
            return true;
        }
        if start == last {
            return false;
        }
        at += 7;
    }
}

fn is_local_char(b: u8) -> bool {
    CLASSES[usize::from(b)] & LOCAL != 0
}

/// Checks an address; `Err` carries the reason for the message.
pub(crate) fn check_email(email: &str) -> Result<(), String> {
    if is_plainly_valid(email.as_bytes()) {
        return Ok(());
    }
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
    if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        return Err("has a quoted local part (\"...\"@), which is not accepted".into());
    }
    if let Some(bad) = local
        .chars()
        .find(|&c| !c.is_ascii() || !is_local_char(c as u8))
    {
        return Err(format!("has {bad:?}, which is not allowed before the '@'"));
    }
    check_dot_atom(local)?;
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

/// The dots of an unquoted local part (RFC 5321 dot-atom): not first, not last, never two
/// in a row. Mail servers refuse such addresses (`a..b@`, `.a@`, `a.@`).
fn check_dot_atom(local: &str) -> Result<(), String> {
    if local.starts_with('.') {
        Err("starts with a dot".into())
    } else if local.ends_with('.') {
        Err("has a dot just before the '@'".into())
    } else if local.contains("..") {
        Err("has two dots in a row before the '@'".into())
    } else {
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// [`plainly_valid_hash`] of `email` alone, and the same with bytes after it (what
    /// follows an address in a file: `@`s, dots, letters, a line end, bytes past ASCII),
    /// which must make no difference.
    pub(super) fn plain_hash(email: &[u8]) -> Option<u64> {
        let alone = plainly_valid_hash(email, email.len());
        for after in [
            &b"@@@@@@@@@@@@@@@@@@@@"[..],
            b"..--..--..--..--..",
            b"abc",
            b",x\r\n",
            b"\xff\xfe\x80",
        ] {
            let mut longer = email.to_vec();
            for _ in 0..4 {
                longer.extend_from_slice(after);
            }
            assert_eq!(
                plainly_valid_hash(&longer, email.len()),
                alone,
                "{email:?} then {after:?}"
            );
        }
        alone
    }

    /// The full check, without the one-pass shortcut.
    fn slow_check(email: &str) -> bool {
        let Some((local, domain)) = email.rsplit_once('@') else {
            return false;
        };
        email.len() <= MAX_EMAIL_BYTES
            && !local.is_empty()
            && local.len() <= MAX_LOCAL_PART_BYTES
            && local.bytes().all(is_local_char)
            && check_dot_atom(local).is_ok()
            && domain.contains('.')
            && domain.split('.').all(|l| check_label(l).is_ok())
    }

    #[test]
    fn the_shortcut_agrees_with_the_full_check() {
        let long_label = "d".repeat(63);
        let too_long_label = "d".repeat(64);
        let cases = [
            "a@b.co".to_owned(),
            "Ana.Lopez+tag@Example.COM".to_owned(),
            "a@b".to_owned(),
            "a@.b.co".to_owned(),
            "a@b..co".to_owned(),
            "a@b.co.".to_owned(),
            "a@-b.co".to_owned(),
            "a@b-.co".to_owned(),
            "a@b_c.co".to_owned(),
            "@b.co".to_owned(),
            "a b@c.co".to_owned(),
            "a@b@c.co".to_owned(),
            "a@".to_owned(),
            "".to_owned(),
            "a@b.c-d.e".to_owned(),
            format!("a@{long_label}.co"),
            format!("a@{too_long_label}.co"),
            format!("{}@b.co", "l".repeat(64)),
            format!("{}@b.co", "l".repeat(65)),
            format!("a@{}.co", "b".repeat(250)),
            "{weird}!#$%&'*/=?^_`|~-@x.io".to_owned(),
            "a.b.c@x.io".to_owned(),
            "a..b@x.com".to_owned(),
            ".a@x.com".to_owned(),
            "a.@x.com".to_owned(),
            ".@x.com".to_owned(),
            "\"a b\"@x.com".to_owned(),
        ];
        for email in &cases {
            let slow = slow_check(email);
            assert_eq!(check_email(email).is_ok(), slow, "{email:?}");
            if is_plainly_valid(email.as_bytes()) {
                assert!(slow, "{email:?}");
            }
            let plain = is_plainly_valid(email.as_bytes());
            let hashed = plain.then(|| ascii_email_hash(email.as_bytes()));
            assert_eq!(plain_hash(email.as_bytes()), hashed, "{email:?}");
        }
    }

    /// The masks' check and the hash agree with the shortcut and the hash on random
    /// addresses of every length up to 80 bytes (past 64, the shortcut itself decides).
    #[test]
    fn the_masks_agree_with_the_shortcut() {
        let alphabet = b"aZ0-.@_ !\"\xc3\xa9\x7fzq9.-";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        let mut accepted = 0;
        for _ in 0..200_000 {
            let len = next(81);
            let at = next(len + 1);
            let email: Vec<u8> = (0..len)
                .map(|i| match i == at {
                    true => b'@',
                    false if i > at + 1 && next(5) == 0 => b'.',
                    // mostly letters, so that many are valid
                    false if next(3) > 0 => b"abcXYZ019"[next(9)],
                    false => alphabet[next(alphabet.len())],
                })
                .collect();
            let plain = is_plainly_valid(&email);
            accepted += usize::from(plain);
            let hashed = plain.then(|| ascii_email_hash(&email));
            assert_eq!(plain_hash(&email), hashed, "{email:?}");
        }
        assert!(accepted > 1_000, "{accepted}");
    }

    #[test]
    fn double_dots_are_found_in_and_across_words() {
        for len in 2..=30 {
            for at in 0..len - 1 {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'.';
                assert!(!has_double_dot(&bytes), "{bytes:?}");
                bytes[at + 1] = b'.';
                assert!(has_double_dot(&bytes), "{bytes:?}");
            }
        }
        // bytes that differ from '.' by one bit are not dots
        assert!(!has_double_dot(b"\x2f\x2e\xae\x2e\x0e\x2e\x2c\x2e\x6e"));
    }

    #[test]
    fn lowercase_words_and_hashes() {
        for word in [
            *b"ABCZabcz",
            *b"@[`{AZaz",
            [0xC3, 0x89, b'A', 0x80, 0xFF, b'Z', 0x41, 0x5B],
        ] {
            let expected = word.map(|b| b.to_ascii_lowercase());
            assert_eq!(
                ascii_lowercase_word(u64::from_le_bytes(word)),
                u64::from_le_bytes(expected)
            );
        }
        assert_eq!(email_hash("Ana@Example.COM"), email_hash("ana@example.com"));
        assert_ne!(email_hash("ana@example.com"), email_hash("ana@example.co"));
        assert_ne!(email_hash("a"), email_hash("a\0"));
    }
}

#[cfg(test)]
mod shortcut_exhaustive {
    use super::tests::plain_hash;
    use super::*;

    /// Every address of up to 6 bytes over a small alphabet: the shortcut never accepts
    /// what the full check refuses, and accepts every valid short one.
    #[test]
    fn the_shortcut_matches_on_all_short_addresses() {
        let alphabet = [b'a', b'Z', b'0', b'-', b'.', b'@', b'_', b' '];
        let mut email = Vec::new();
        for len in 1..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                email.clear();
                for _ in 0..len {
                    email.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let text = std::str::from_utf8(&email).unwrap();
                let full = {
                    let Some((local, domain)) = text.rsplit_once('@') else {
                        assert!(!is_plainly_valid(&email));
                        continue;
                    };
                    !local.is_empty()
                        && local.bytes().all(is_local_char)
                        && check_dot_atom(local).is_ok()
                        && domain.contains('.')
                        && domain.split('.').all(|l| check_label(l).is_ok())
                };
                assert_eq!(is_plainly_valid(&email), full, "{text:?}");
                let hashed = full.then(|| ascii_email_hash(&email));
                assert_eq!(plain_hash(&email), hashed, "{text:?}");
                assert_eq!(check_email(text).is_ok(), full, "{text:?}");
            }
        }
    }

    /// Every byte value, in every part of an address (first, middle and last of the local
    /// part and of the domain, beside a dot or a hyphen), and at every place in a 16-byte
    /// block: the masks' check agrees with the shortcut, and SSE2's masks with the table's.
    #[test]
    fn every_byte_in_every_place_agrees_with_the_shortcut() {
        let templates: [&[u8]; 4] = [
            b"ab.cd@ef-gh.ij",
            b"a@b.c",
            b"x.y_z+w@sub-domain.example.co",
            b"0123456789abcdef0123456789@abcdefghijklmnopqrstuvwxyz0123456.com",
        ];
        for template in templates {
            for place in 0..template.len() {
                for byte in 0..=255u8 {
                    let mut email = template.to_vec();
                    email[place] = byte;
                    let plain = is_plainly_valid(&email);
                    let hashed = plain.then(|| ascii_email_hash(&email));
                    assert_eq!(plain_hash(&email), hashed, "{email:?}");
                }
            }
        }
        let mut block = [0u8; 16];
        for byte in 0..=255u8 {
            for place in 0..16 {
                block[place] = byte;
                block[(place + 7) % 16] = byte.wrapping_mul(31);
                assert_eq!(
                    email_block_masks(&block),
                    email_block_masks_by_table(&block),
                    "{block:?}"
                );
            }
        }
    }
}
