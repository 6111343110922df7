//! Exit codes and the command-line error type.

use std::fmt;

/// Everything went as planned: no row rejected or failed.
pub const OK: u8 = 0;
/// The command finished, but some rows were rejected (validation, plan) or failed (apply).
pub const ROWS_REJECTED: u8 = 1;
/// Usage, file, settings or plan error: nothing was written.
pub const USAGE: u8 = 2;
/// The database or the mail transport failed; `apply` again resumes where it stopped.
pub const HOST: u8 = 3;
/// The upload was not confirmed (answered no, or no answer and no `--yes`).
pub const NOT_CONFIRMED: u8 = 4;
/// Another `apply` is running on the same database; nothing was done.
pub const BUSY: u8 = 5;
/// `invite verify`: the sign-in link is refused (unknown, used or expired).
pub const INVITATION_REFUSED: u8 = 6;
/// Interrupted (Ctrl-C) between rows; `apply` again resumes where it stopped.
pub const INTERRUPTED: u8 = 130;

/// A failure that ends the command, with its exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: u8,
    /// What to tell the person.
    pub message: String,
    /// The machine code (for `--json`), when there is one.
    pub issue_code: Option<String>,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: USAGE,
            message: message.into(),
            issue_code: None,
        }
    }
    pub fn host(message: impl Into<String>) -> CliError {
        CliError {
            code: HOST,
            message: message.into(),
            issue_code: None,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<lms_bulk_upload::Error> for CliError {
    fn from(e: lms_bulk_upload::Error) -> Self {
        use lms_bulk_upload::ErrorKind;
        let code = match e.kind() {
            ErrorKind::Store | ErrorKind::Mailer => HOST,
            ErrorKind::Invitation => INVITATION_REFUSED,
            _ => USAGE,
        };
        CliError {
            code,
            message: e.to_string(),
            issue_code: Some(e.code().as_str().to_owned()),
        }
    }
}

impl From<lms_bulk_upload_sqlite::Error> for CliError {
    fn from(e: lms_bulk_upload_sqlite::Error) -> Self {
        use lms_bulk_upload_sqlite::ErrorKind;
        CliError {
            code: match e.kind {
                ErrorKind::Usage => USAGE,
                ErrorKind::Host => HOST,
                ErrorKind::Busy => BUSY,
            },
            message: e.message,
            issue_code: e.issue_code,
        }
    }
}

impl From<rusqlite::Error> for CliError {
    fn from(e: rusqlite::Error) -> Self {
        CliError::host(format!("database: {e}"))
    }
}

/// Adds the path to an I/O error.
pub fn io_error(what: &str, path: &std::path::Path, e: std::io::Error) -> CliError {
    CliError::usage(format!("{what} {}: {e}", path.display()))
}
