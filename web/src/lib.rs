//! The HTTP API of lms-bulk-upload's administrator's screens, with no web framework in it:
//! [`Api::handle`] takes a [`Request`] and gives a [`Response`]; the host supplies the
//! [`Host`] hooks (administrators, sessions, upload sessions, plans, runs, the store). The
//! contract is `docs/http-api.md`, and `openapi.yaml` (served at `/api/openapi.yaml`) its
//! machine-readable form. See `web/README.md` for how a framework mounts it.
#![forbid(unsafe_code)]

mod assets;
pub mod civil;
pub mod hooks;
pub mod http;
pub mod object;
mod problem;
mod routes;
pub mod security;
mod views;

pub use hooks::{
    Catalog, HookError, Host, NewPlan, Reading, RunInfo, RunState, SessionRecord, StoredPlan,
    StoredUpload,
};
pub use http::{Body, Request, Response};
pub use object::{ObjectHost, ObjectHostConfig, RunHold, RunOutcome, SharedObject};
pub use problem::{Problem, API_CODES};
pub use security::SignInLimits;

use lms_bulk_upload::{Error, ParseOptions, Password, Upload};
use problem::Problem as ApiProblem;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// Request bodies but an uploaded file are at most this long (1 MiB).
pub const MAX_JSON_BYTES: usize = 1 << 20;

/// The OpenAPI document of this API.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

/// How the API behaves.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Adds `Secure` to the session cookie (the site is served over TLS, or behind a proxy
    /// that is).
    pub secure_cookies: bool,
    /// How long a session lasts, in seconds (8 hours by default).
    pub session_secs: u64,
    /// Sign-in rate limits.
    pub sign_in: SignInLimits,
    /// How many parsed uploads are kept in memory (the latest ones).
    pub cached_uploads: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            secure_cookies: false,
            session_secs: 8 * 3600,
            sign_in: SignInLimits::default(),
            cached_uploads: 4,
        }
    }
}

/// An upload as the engine read it: the parse (or its refusal) and a workbook's sheets.
pub(crate) struct ReadUpload {
    pub(crate) parsed: Result<Upload, Error>,
    pub(crate) sheets: Vec<String>,
}

impl ReadUpload {
    /// Reads `bytes` with `options`: one parse, and the sheets of a workbook.
    pub(crate) fn read(bytes: &[u8], options: &ParseOptions) -> ReadUpload {
        ReadUpload {
            parsed: lms_bulk_upload::parse(bytes, options),
            sheets: lms_bulk_upload::sheet_names(bytes, options).unwrap_or_default(),
        }
    }

    /// [`ReadUpload::read`] of bytes loaded for this parse alone: the upload takes them as
    /// its text (`parse_owned`: a UTF-8 file is not copied), once the sheets are listed.
    pub(crate) fn read_owned(bytes: Vec<u8>, options: &ParseOptions) -> ReadUpload {
        let sheets = lms_bulk_upload::sheet_names(&bytes, options).unwrap_or_default();
        ReadUpload {
            parsed: lms_bulk_upload::parse_owned(bytes, options),
            sheets,
        }
    }
}

type Parsed = Arc<ReadUpload>;

/// The API: one per site, shared by every request (it is `Send + Sync`).
pub struct Api {
    host: Arc<dyn Host>,
    config: ApiConfig,
    limiter: Mutex<security::RateLimiter>,
    /// Parsed uploads by (id, version): a page of a large file is not a parse of it.
    cache: Mutex<VecDeque<(String, u64, Parsed)>>,
    /// The default password of a plan, until it is approved: never stored, echoed or logged.
    default_passwords: Mutex<HashMap<String, Password>>,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sets the sheet and encoding the administrator chose for the upload, over the host's
/// (its parse options: the defaults of every upload, as when the upload was first read);
/// where the upload has no choice of its own, the host's stands, else the engine's (the
/// first sheet, the encoding detected). An encoding label the engine does not know, which
/// the API never stores, is no choice.
pub(crate) fn reading_options(options: &mut ParseOptions, reading: &Reading) {
    if let Some(sheet) = &reading.sheet {
        options.sheet = Some(sheet.clone());
    }
    if let Some(encoding) = reading
        .encoding
        .as_deref()
        .and_then(lms_bulk_upload::Encoding::from_label)
    {
        options.encoding = Some(encoding);
    }
}

/// A hook's failure as a problem.
pub(crate) fn hook_problem(e: HookError) -> Problem {
    match e {
        HookError::Refused { code, message } => Problem::new(code, message),
        HookError::Engine(e) => Problem::engine(&e),
        HookError::Failed(message) => Problem::new("host_failed", message),
    }
}

impl Api {
    /// The API over these hooks.
    pub fn new(host: Arc<dyn Host>, config: ApiConfig) -> Api {
        Api {
            host,
            config,
            limiter: Mutex::new(security::RateLimiter::default()),
            cache: Mutex::new(VecDeque::new()),
            default_passwords: Mutex::new(HashMap::new()),
            clock: Box::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            }),
        }
    }

    /// Replaces the clock (seconds since the Unix epoch), for tests of expiry.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Api {
        self.clock = Box::new(clock);
        self
    }

    /// The most bytes of body this request may have: the edge refuses a longer one (by its
    /// `Content-Length`, or once it has counted that many bytes) with [`Api::too_large`],
    /// before reading it whole.
    pub fn body_limit(&self, method: &str, path: &str) -> usize {
        if method.eq_ignore_ascii_case("POST") && path.trim_end_matches('/') == "/api/uploads" {
            self.host.parse_options().max_file_bytes
        } else {
            MAX_JSON_BYTES
        }
    }

    /// The answer to a body over [`Api::body_limit`].
    pub fn too_large(&self, limit: usize) -> Response {
        let problem = Problem::new(
            "body_too_large",
            format!("the body is larger than this route takes ({limit} bytes)"),
        );
        security::secure_headers(problem.response(), true)
    }

    /// Answers a request.
    pub fn handle(&self, request: Request) -> Response {
        let api = request.path.starts_with("/api/");
        let limit = self.body_limit(&request.method, &request.path);
        let response = if request.body.len() > limit {
            return self.too_large(limit);
        } else {
            match routes::route(self, &request) {
                Ok(response) => response,
                Err(problem) => problem.response(),
            }
        };
        let mut response = security::secure_headers(response, api);
        if request.method.eq_ignore_ascii_case("HEAD") {
            response.body = Body::Full(Vec::new());
        }
        response
    }

    pub(crate) fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }

    pub(crate) fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The upload parsed with its assignments (cached by id and version). `stored` may be
    /// the record without bytes ([`Host::upload_info`]): the bytes are read only when the
    /// parse is not cached.
    pub(crate) fn parsed(
        &self,
        stored: &StoredUpload,
    ) -> Result<(Parsed, ParseOptions), ApiProblem> {
        let options = self.options_for(stored);
        {
            let cache = lock(&self.cache);
            if let Some((_, _, parsed)) = cache
                .iter()
                .find(|(id, v, _)| *id == stored.id && *v == stored.version)
            {
                return Ok((parsed.clone(), options));
            }
        }
        let parsed = if stored.bytes.len() as u64 == stored.size {
            Arc::new(ReadUpload::read(&stored.bytes, &options))
        } else {
            let full = self
                .host
                .upload(&stored.id)
                .map_err(hook_problem)?
                .filter(|u| u.version == stored.version)
                .ok_or_else(|| {
                    ApiProblem::new(
                        "plan_outdated",
                        "the upload was changed meanwhile: reload it and try again",
                    )
                })?;
            Arc::new(ReadUpload::read_owned(full.bytes, &options))
        };
        let mut cache = lock(&self.cache);
        cache.retain(|(id, _, _)| *id != stored.id);
        cache.push_back((stored.id.clone(), stored.version, parsed.clone()));
        while cache.len() > self.config.cached_uploads.max(1) {
            cache.pop_front();
        }
        Ok((parsed, options))
    }

    /// Keeps a parse just made (an upload's first), so that its report is not a second parse.
    pub(crate) fn remember(&self, stored: &StoredUpload, read: ReadUpload) {
        let mut cache = lock(&self.cache);
        cache.retain(|(id, _, _)| *id != stored.id);
        cache.push_back((stored.id.clone(), stored.version, Arc::new(read)));
        while cache.len() > self.config.cached_uploads.max(1) {
            cache.pop_front();
        }
    }

    /// The host's parse options with the upload's column assignments, sheet and encoding.
    pub(crate) fn options_for(&self, stored: &StoredUpload) -> ParseOptions {
        let mut options = self.host.parse_options();
        options.column_assignments = stored.assignments.clone();
        reading_options(&mut options, &stored.reading);
        options
    }
}
