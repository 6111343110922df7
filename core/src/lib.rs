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
//! The core does no I/O: the host implements [`Store`] and [`Mailer`].
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod column;
mod decode;
mod email;
mod error;
mod issue;
mod options;
mod parse;
mod upload;
mod validate;

pub use column::{Column, ALIASES};
pub use decode::Encoding;
pub use email::{email_key, emails_equal, EmailAddress, MAX_EMAIL_BYTES, MAX_LOCAL_PART_BYTES};
pub use error::{Error, ErrorKind};
pub use issue::{issue_codes, CodeInfo, Issue, IssueCode, Severity};
pub use options::*;
pub use parse::parse;
pub use upload::{FileReport, HeaderCell, Row, RowData, Upload};
