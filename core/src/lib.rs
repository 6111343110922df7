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
//!
#![doc = include_str!("../../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod column;
mod decode;
mod email;
mod error;
mod execute;
mod issue;
mod journal;
mod mailer;
mod memory;
mod options;
mod parse;
mod password;
mod plan;
mod results;
mod secret;
mod settings;
mod store;
mod suggest;
mod templates;
mod upload;
mod validate;

pub use column::{Column, ALIASES};
pub use decode::Encoding;
pub use email::{email_key, emails_equal, EmailAddress, MAX_EMAIL_BYTES, MAX_LOCAL_PART_BYTES};
pub use error::{Error, ErrorKind};
pub use execute::{execute, ExecuteOptions, Progress, DEFAULT_BATCH_SIZE, DEFAULT_RETRIES};
pub use issue::{issue_codes, CodeInfo, Issue, IssueCode, Severity};
pub use journal::{Journal, JournalEntry, MemoryJournal};
pub use mailer::{Mailer, Message, MessageFields, MessageKind};
pub use memory::{MemoryStore, RecordingMailer, StoreState, StoredUser, UserState};
pub use options::*;
pub use parse::parse;
pub use password::{
    generate_password, hash_password, HashParams, OsRandom, PasswordHash, PasswordPolicy,
    RandomSource, DEFAULT_ARGON2_ITERATIONS, DEFAULT_ARGON2_MEMORY_KIB, DEFAULT_ARGON2_PARALLELISM,
    PASSWORD_ALPHABET,
};
pub use plan::{
    plan, plan_with, Action, Noop, Operation, PasswordSource, Plan, PlanOptions, PlanRow,
    PlanSettings, Summary, DEFAULT_LOOKUP_BATCH, PLAN_FORMAT_VERSION,
};
pub use results::{neutralise, ResultRow, ResultSummary, Results, Status};
pub use secret::Password;
pub use settings::{Settings, SettingsBuilder};
pub use store::{
    ContentKind, ContentRef, ExistingUser, Group, HostError, NewUser, Profile, Store, UserId,
};
pub use templates::{Template, Templates, PLACEHOLDERS};
pub use upload::{FileReport, HeaderCell, Row, RowData, Upload};
