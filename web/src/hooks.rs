//! What the host supplies: who is an administrator, where upload sessions, plans and runs
//! live, how a run is started and cancelled, the store and catalog to plan against.
//!
//! Every method may be called from several threads at once. Ids are the host's opaque
//! strings; a method given an id of another kind, or of nothing, answers `None`.

use lms_bulk_upload::{
    ContentRef, Group, ParseOptions, Password, PasswordHash, Plan, ProfileField, ResultSummary,
    Results, StoreRead,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A hook's failure.
#[derive(Debug, Clone)]
pub enum HookError {
    /// A refusal the person can act on: one of the API's codes (`already_undone`,
    /// `undo_unfinished`, `plan_already_approved`...) and why.
    Refused {
        /// The API's code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// The engine refused (a settings or plan error): its error.
    Engine(lms_bulk_upload::Error),
    /// The database or the mail transport failed (a 500, `host_failed`).
    Failed(String),
}

impl From<lms_bulk_upload::Error> for HookError {
    fn from(e: lms_bulk_upload::Error) -> Self {
        HookError::Engine(e)
    }
}

/// A signed-in session, as stored: only the SHA-256 digest of its id is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session id (the cookie's value).
    pub digest: [u8; 32],
    /// The administrator's email.
    pub email: String,
    /// The CSRF token every state change must carry.
    pub csrf_token: String,
    /// When it expires (seconds since the Unix epoch).
    pub expires_at: u64,
}

/// How the administrator asked a file to be read (stored with the upload, like column
/// assignments): `None` is the host's parse options' choice, else the engine's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The sheet of a workbook, by its name (`None`: the parse options' sheet, else the
    /// first).
    pub sheet: Option<String>,
    /// The encoding of a CSV file, by its label (`None`: the parse options' encoding, else
    /// detected).
    pub encoding: Option<String>,
}

/// An upload session: the file (with its fixes), the columns matched by hand, the sheet
/// and encoding chosen.
#[derive(Debug, Clone)]
pub struct StoredUpload {
    /// Its id.
    pub id: String,
    /// The administrator who uploaded it (only they see it).
    pub owner: String,
    /// The file's name as given.
    pub filename: String,
    /// The file as it is now (fixed cells included); empty in the record
    /// [`Host::upload_info`] gives.
    pub bytes: Vec<u8>,
    /// The file's length in bytes.
    pub size: u64,
    /// Columns matched by hand (header position → field, `None`: ignored).
    pub assignments: BTreeMap<usize, Option<String>>,
    /// The sheet and encoding chosen.
    pub reading: Reading,
    /// Grows with every change.
    pub version: u64,
}

/// A plan to store: the host signs it and keeps it; only what it stored is ever run.
#[derive(Debug)]
pub struct NewPlan<'a> {
    /// The plan (shared: the host may keep it, so that reading it back is not a second
    /// parse of what it just signed).
    pub plan: &'a Arc<Plan>,
    /// The administrator who made it.
    pub owner: &'a str,
    /// The upload it was made from, and that upload's version then.
    pub upload: Option<(&'a str, u64)>,
    /// The run it undoes, for an undo plan.
    pub undo_of_run: Option<&'a str>,
    /// The run id reserved for it (in its results link), from [`Host::reserve_run_id`].
    pub run_id: &'a str,
    /// The settings asked for (without the default password), to show again.
    pub settings: serde_json::Value,
    /// The lines left out.
    pub excluded_lines: &'a BTreeSet<u32>,
}

/// A stored plan, its signature verified by the host.
#[derive(Debug, Clone)]
pub struct StoredPlan {
    /// Its id.
    pub id: String,
    /// The administrator who made it.
    pub owner: String,
    /// The plan (shared: a page of a large plan is not a copy of it).
    pub plan: Arc<Plan>,
    /// The upload and its version when planned.
    pub upload: Option<(String, u64)>,
    /// The run it undoes.
    pub undo_of_run: Option<String>,
    /// The run it is (or will be) when approved.
    pub run_id: String,
    /// Set once approved.
    pub approved: bool,
    /// The settings asked for.
    pub settings: serde_json::Value,
    /// The lines left out.
    pub excluded_lines: Vec<u32>,
    /// When it was made (RFC 3339 UTC).
    pub created_at: String,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Waiting for the database's lock (another run).
    Queued,
    /// Executing.
    Running,
    /// Done (some rows may have failed).
    Finished,
    /// Stopped by an administrator between rows.
    Cancelled,
    /// Stopped by a failure or a restart; the host resumes it when it can.
    Interrupted,
}

impl RunState {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Finished => "finished",
            RunState::Cancelled => "cancelled",
            RunState::Interrupted => "interrupted",
        }
    }

    /// Whether it has ended (nothing more will change).
    pub fn ended(self) -> bool {
        matches!(self, RunState::Finished | RunState::Cancelled)
    }
}

/// A run, as the history and the progress show it.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Its id.
    pub id: String,
    /// Whether it undoes another run.
    pub undo_of: Option<String>,
    /// The plan it ran (None for a run started outside the screens, by the CLI).
    pub plan_id: Option<String>,
    /// Who started it (None when unknown: the CLI).
    pub uploader: Option<String>,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC, once ended.
    pub finished_at: Option<String>,
    /// Where it is.
    pub state: RunState,
    /// Rows handled.
    pub done: u64,
    /// Rows in its plan.
    pub total: u64,
    /// The results' counts, once it has them.
    pub counts: Option<ResultSummary>,
    /// The run that undid it.
    pub undone_by: Option<String>,
    /// Why it stopped, when interrupted.
    pub error: Option<String>,
}

/// What the settings screen offers.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Groups (id, name).
    pub groups: Vec<Group>,
    /// Content items with their titles.
    pub content: Vec<(ContentRef, String)>,
}

/// The host's hooks.
pub trait Host: Send + Sync {
    // ---- administrators
    /// The argon2id PHC string of the administrator with this email (compared ignoring
    /// case), or `None` when there is none.
    fn admin_password_hash(&self, email: &str) -> Result<Option<(String, String)>, HookError>;

    /// Checks an administrator's credentials: their email as the host spells it, or `None`
    /// for a wrong email or password. By default the password is verified against
    /// [`Host::admin_password_hash`] (and an unknown email against a decoy hash, so that it
    /// takes as long); a host with its own users and password hashes (a web framework's)
    /// answers with its own check instead.
    fn verify_admin(&self, email: &str, password: &Password) -> Result<Option<String>, HookError> {
        Ok(match self.admin_password_hash(email)? {
            Some((email, phc)) => {
                Some(email).filter(|_| PasswordHash::from_phc(phc).verify(password.expose()))
            }
            None => {
                let _ = crate::security::decoy_hash().verify(password.expose());
                None
            }
        })
    }

    // ---- sessions
    /// Stores a new session.
    fn put_session(&self, session: &SessionRecord) -> Result<(), HookError>;
    /// The session with this digest, if any (expired ones included: the API checks).
    fn session(&self, digest: &[u8; 32]) -> Result<Option<SessionRecord>, HookError>;
    /// Forgets a session.
    fn delete_session(&self, digest: &[u8; 32]) -> Result<(), HookError>;

    // ---- upload sessions
    /// Stores a new upload; its id.
    fn create_upload(&self, owner: &str, filename: &str, bytes: &[u8])
        -> Result<String, HookError>;
    /// An upload, with its bytes.
    fn upload(&self, id: &str) -> Result<Option<StoredUpload>, HookError>;
    /// An upload's record without its bytes (`bytes` empty, `size` set): what a page of a
    /// parsed upload needs, so that it is not a read of the whole file. By default the
    /// whole upload.
    fn upload_info(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        self.upload(id)
    }
    /// Replaces an upload's bytes, assignments and reading if its version is still
    /// `expected` (the version then grows by one); `false` when another change came first.
    /// `bytes` is `None` when the file itself did not change (only the choices did).
    fn update_upload(
        &self,
        id: &str,
        expected: u64,
        bytes: Option<&[u8]>,
        assignments: &BTreeMap<usize, Option<String>>,
        reading: &Reading,
    ) -> Result<bool, HookError>;

    // ---- plans
    /// Reserves the id the next run will have, for a plan's results link.
    fn reserve_run_id(&self) -> Result<String, HookError>;
    /// Signs and stores a plan; its id.
    fn create_plan(&self, plan: NewPlan<'_>) -> Result<String, HookError>;
    /// A stored plan, its signature checked.
    fn plan(&self, id: &str) -> Result<Option<StoredPlan>, HookError>;

    // ---- runs
    /// Marks the plan approved and starts its run in the background (once: a second call
    /// is refused with `plan_already_approved`). The run executes the plan the host stored.
    fn approve(
        &self,
        plan_id: &str,
        by: &str,
        default_password: Option<Password>,
    ) -> Result<RunInfo, HookError>;
    /// Runs, newest first: the total and the page.
    fn runs(&self, offset: u64, limit: u64) -> Result<(u64, Vec<RunInfo>), HookError>;
    /// A run.
    fn run(&self, id: &str) -> Result<Option<RunInfo>, HookError>;
    /// Asks a running run to stop between rows (`run_not_running` once it has ended).
    fn cancel(&self, id: &str) -> Result<RunInfo, HookError>;
    /// A run's results, once it has ended.
    fn results(&self, id: &str) -> Result<Option<Results>, HookError>;
    /// The undo plan of a run, made as the host's own undo makes it (`already_undone`,
    /// `undo_unfinished`, `run_unfinished` refused).
    fn plan_undo(
        &self,
        run_id: &str,
        delete_created_users: bool,
        uploader: &str,
        results_url: &str,
    ) -> Result<Plan, HookError>;

    // ---- the store and the catalog
    /// Calls `f` with the store to plan against.
    fn with_store(&self, f: &mut dyn FnMut(&mut dyn StoreRead)) -> Result<(), HookError>;
    /// Groups and content for the settings screen.
    fn catalog(&self) -> Result<Catalog, HookError>;
    /// The parse options (limits, the host's fields and login methods).
    fn parse_options(&self) -> ParseOptions;
    /// The site's public URL (no trailing slash): links in emails, and the origin allowed.
    fn site_url(&self) -> String;
    /// The declared fields, for the catalog.
    fn fields(&self) -> Vec<ProfileField> {
        self.parse_options().fields
    }

    // ---- sign-in links
    /// Calls `f` with the store, writes allowed, for the page a sign-in link opens: the API
    /// verifies and redeems the link, sets the password the user chose and calls the store's
    /// `checkpoint` through it. `false` when the host serves no sign-in links (the default):
    /// the routes answer 404.
    fn with_store_mut(
        &self,
        f: &mut dyn FnMut(&mut dyn lms_bulk_upload::Store),
    ) -> Result<bool, HookError> {
        let _ = f;
        Ok(false)
    }
    /// The argon2id parameters a password chosen through a sign-in link is hashed with.
    fn hash_params(&self) -> lms_bulk_upload::HashParams {
        lms_bulk_upload::HashParams::default()
    }
}
