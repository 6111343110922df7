//! # lms-bulk-upload
//!
//! The engine behind an LMS's "bulk upload users from a CSV" screen.
//!
//! ```text
//!  bytes ──parse──▶ Upload (rows + issues)
//!                      │        Settings (validated)
//!                      ▼            │
//!                    plan ◀─────────┘  reads the Store, writes nothing
//!                      │
//!                      ▼
//!                    Plan (deterministic, JSON, fingerprint)
//!                      │
//!                      ▼
//!                   execute ──▶ Store (writes) + Mailer (emails) ──▶ Results
//! ```
//!
//! The core does no I/O: the host implements [`Store`] and [`Mailer`]. The only outside
//! source it touches is the OS CSPRNG, behind the [`RandomSource`] seam.
//!
//! - [`parse`] reads the bytes (any of Excel's encodings and delimiters) into an [`Upload`]:
//!   rows plus [`Issue`]s, each with a stable [`IssueCode`], a line and a column. File-level
//!   problems fail with an [`Error`] instead.
//! - [`Settings::builder`] validates the administrator's choices.
//! - [`plan`] reads the [`Store`] (batched lookups) and decides every row: [`Plan`].
//! - [`execute`] (or [`Plan::execute`]) performs it: [`Results`], and a confirmation email.
//! - [`plan_undo`] makes the plan that reverses an upload from its [`Results`].
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

/// The workspace README's Rust quickstart, compiled and run as a doctest (not shown in the
/// crate's documentation: that README also speaks of Make, Python and Node).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

mod error;
mod execute;
pub mod host;
mod issue;
mod keyed_hash;
mod parse;
mod plan;
mod undo;

pub use error::{Error, ErrorKind};
pub use execute::invitation::{
    check_chosen_password, redeem_invitation, redeem_invitation_at, verify_invitation,
    verify_invitation_at, InvitationDigest, InvitationToken, NewInvitation, StoredInvitation,
    DEFAULT_INVITATION_EXPIRY, INVITATION_TOKEN_BYTES, INVITATION_TOKEN_CHARS,
    MAX_INVITATION_EXPIRY, MIN_INVITATION_EXPIRY, TOKEN_PLACEHOLDER,
};
pub use execute::journal::{Journal, JournalEntry, MemoryJournal};
pub use execute::password::{
    generate_password, hash_password, HashParams, OsRandom, PasswordHash, PasswordPolicy,
    RandomSource, DEFAULT_ARGON2_ITERATIONS, DEFAULT_ARGON2_MEMORY_KIB, DEFAULT_ARGON2_PARALLELISM,
    MAX_GENERATED_PASSWORD_LENGTH, MIN_GENERATED_PASSWORD_LENGTH, MIN_PASSWORD_SCORE,
    PASSWORD_ALPHABET,
};
pub use execute::results::{
    neutralise, Done, Provenance, ResultError, ResultRow, ResultSummary, Results, Status,
};
pub use execute::secret::Password;
pub use execute::templates::{Template, Templates, PLACEHOLDERS};
pub use execute::{execute, ExecuteOptions, Progress, DEFAULT_BATCH_SIZE, DEFAULT_RETRIES};
pub use host::mailer::{Mailer, Message, MessageFields, MessageKind};
pub use host::memory::{MemoryStore, RecordingMailer, StoreState, StoredUser, UserState};
pub use host::store::{
    ContentKind, ContentRef, ExistingUser, Group, HostError, NewUser, OptionalMethod, Profile,
    ScopePage, Store, StoreRead, UserId, PASSWORD_LOGIN,
};
pub use issue::{issue_codes, CodeInfo, Issue, IssueCode, Severity};
pub use parse::column::{Column, ALIASES};
pub use parse::decode::{CodePage, Encoding};
pub use parse::edit::{read_header, rewrite_file, suggest_column, CellEdit};
pub use parse::email::{
    email_key, emails_equal, EmailAddress, MAX_EMAIL_BYTES, MAX_LOCAL_PART_BYTES,
};
pub use parse::fields::{FieldKind, ProfileField, MAX_PROFILE_FIELDS};
pub use parse::options::{
    ParseOptions, DEFAULT_CLEAR_TOKEN, DEFAULT_MAX_COLUMNS, DEFAULT_MAX_FIELD_BYTES,
    DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_ISSUES, DEFAULT_MAX_ISSUES_PER_ROW, DEFAULT_MAX_ROWS,
    DEFAULT_MAX_VALUE_CHARS, MAX_FILE_BYTES, MAX_PARSE_THREADS,
};
pub use parse::sheet::{sheet_names, FileFormat};
pub use parse::text::SharedText;
pub use parse::upload::{FileReport, HeaderCell, Row, RowData, Upload};
#[doc(hidden)]
pub use parse::{best_parse_ms, best_parse_shared_ms, parse_with_chunks};
pub use parse::{parse, parse_owned, parse_shared};
pub use plan::settings::{Settings, SettingsBuilder, DEFAULT_MISSING_USERS_THRESHOLD};
pub use plan::{
    plan, plan_with, Action, FieldChange, Noop, Operation, PasswordSource, Plan, PlanKey,
    PlanOptions, PlanRow, PlanRowIter, PlanRows, PlanSettings, PreparedPassword, ShardOptions,
    ShardRef, Summary, DEFAULT_LOOKUP_BATCH, PLAN_FORMAT_VERSION,
};
pub use undo::{plan_undo, UndoOptions};
