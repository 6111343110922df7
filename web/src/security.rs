//! Sessions, CSRF and origin checks, sign-in rate limiting, the security headers.

use crate::hooks::{Host, SessionRecord};
use crate::http::{Request, Response};
use crate::problem::Problem;
use lms_bulk_upload::{HashParams, OsRandom, Password, PasswordHash, RandomSource};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// The session cookie's name.
pub const COOKIE: &str = "lbu_session";

/// The Content-Security-Policy of every answer: no inline script, nothing from elsewhere.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Adds the headers every answer carries.
pub fn secure_headers(mut response: Response, api: bool) -> Response {
    let mut add = |name: &str, value: &str| {
        if response.header(name).is_none() {
            response.headers.push((name.into(), value.into()));
        }
    };
    add("content-security-policy", CSP);
    add("x-content-type-options", "nosniff");
    add("referrer-policy", "same-origin");
    add("x-frame-options", "DENY");
    add("cross-origin-opener-policy", "same-origin");
    if api {
        add("cache-control", "no-store");
    }
    response
}

/// `n` random bytes from the OS CSPRNG, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRandom.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A hash to verify against when the email is no administrator's, so that an unknown email
/// takes as long as a wrong password.
pub(crate) fn decoy_hash() -> &'static PasswordHash {
    static DECOY: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let password = Password::new(random_hex(16));
        lms_bulk_upload::hash_password(&password, &HashParams::default(), &OsRandom)
            .unwrap_or_else(|_| PasswordHash::from_phc(""))
    })
}

/// SHA-256 of a session id: what the host stores.
pub fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// Compares two strings in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session cookie: `HttpOnly; SameSite=Strict; Path=/`, `Secure` when asked.
pub fn cookie(value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The signed-in session of a request, if valid and not expired.
pub fn session(
    host: &dyn Host,
    request: &Request,
    now: u64,
) -> Result<Option<SessionRecord>, Problem> {
    let Some(id) = request.cookie(COOKIE) else {
        return Ok(None);
    };
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let digest = digest(id);
    let found = host.session(&digest).map_err(crate::hook_problem)?;
    match found {
        Some(s) if s.expires_at > now => Ok(Some(s)),
        Some(_) => {
            let _ = host.delete_session(&digest);
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The origin of a URL (`scheme://host[:port]`), lowercase.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() {
        return None;
    }
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

/// Refuses a request whose `Origin` (or, without one, `Sec-Fetch-Site: cross-site`) is not
/// the site's own.
pub fn check_origin(request: &Request, site_origin: &str) -> Result<(), Problem> {
    if let Some(origin) = request.header("origin") {
        if origin.trim().to_ascii_lowercase() != site_origin {
            return Err(Problem::new(
                "cross_origin",
                format!("this request came from another origin; this server is {site_origin}"),
            ));
        }
    } else if request
        .header("sec-fetch-site")
        .is_some_and(|s| s.eq_ignore_ascii_case("cross-site"))
    {
        return Err(Problem::new(
            "cross_origin",
            "this request came from another site",
        ));
    }
    Ok(())
}

/// Sign-in rate limits: failures per account and per peer address in a sliding window.
#[derive(Debug, Clone, Copy)]
pub struct SignInLimits {
    /// Failed attempts allowed per account in the window.
    pub per_account: usize,
    /// Failed attempts allowed per peer address in the window.
    pub per_peer: usize,
    /// The window, in seconds.
    pub window_secs: u64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            per_account: 5,
            per_peer: 20,
            window_secs: 15 * 60,
        }
    }
}

/// Most accounts and peers remembered (the oldest are forgotten past it).
const MAX_TRACKED: usize = 10_000;

/// Failed sign-ins, in memory.
#[derive(Debug, Default)]
pub struct RateLimiter {
    accounts: HashMap<String, VecDeque<u64>>,
    peers: HashMap<IpAddr, VecDeque<u64>>,
}

fn prune(times: &mut VecDeque<u64>, now: u64, window: u64) {
    while times.front().is_some_and(|t| t + window <= now) {
        times.pop_front();
    }
}

impl RateLimiter {
    /// Seconds to wait before trying again, when this account or peer is over its limit.
    pub fn blocked(
        &mut self,
        limits: &SignInLimits,
        account: &str,
        peer: Option<IpAddr>,
        now: u64,
    ) -> Option<u64> {
        let mut wait = None;
        let mut check = |times: &mut VecDeque<u64>, limit: usize| {
            prune(times, now, limits.window_secs);
            if times.len() >= limit {
                let until = times.front().map_or(now, |t| t + limits.window_secs);
                let w = until.saturating_sub(now).max(1);
                wait = Some(wait.map_or(w, |x: u64| x.max(w)));
            }
        };
        if let Some(times) = self.accounts.get_mut(account) {
            check(times, limits.per_account);
        }
        if let Some(times) = peer.and_then(|p| self.peers.get_mut(&p)) {
            check(times, limits.per_peer);
        }
        wait
    }

    /// Records a failed attempt.
    pub fn failed(&mut self, limits: &SignInLimits, account: &str, peer: Option<IpAddr>, now: u64) {
        if self.accounts.len() >= MAX_TRACKED {
            self.accounts.retain(|_, t| {
                prune(t, now, limits.window_secs);
                !t.is_empty()
            });
            if self.accounts.len() >= MAX_TRACKED {
                self.accounts.clear();
            }
        }
        if self.peers.len() >= MAX_TRACKED {
            self.peers.retain(|_, t| {
                prune(t, now, limits.window_secs);
                !t.is_empty()
            });
            if self.peers.len() >= MAX_TRACKED {
                self.peers.clear();
            }
        }
        let times = self.accounts.entry(account.to_owned()).or_default();
        times.push_back(now);
        if times.len() > limits.per_account + 1 {
            times.pop_front();
        }
        if let Some(peer) = peer {
            let times = self.peers.entry(peer).or_default();
            times.push_back(now);
            if times.len() > limits.per_peer + 1 {
                times.pop_front();
            }
        }
    }

    /// Forgets an account's failures (after it signed in).
    pub fn succeeded(&mut self, account: &str) {
        self.accounts.remove(account);
    }
}
