//! The host's error: what went wrong, of which kind, with the engine's code when it has one.

use std::fmt;

/// What kind of failure: the caller maps it to an exit code or an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file, settings or plan the person gave is wrong: nothing was written.
    Usage,
    /// The database or the mail transport failed.
    Host,
    /// Another run holds the database's apply lock: nothing was done.
    Busy,
}

/// A failure of the SQLite host.
#[derive(Debug, Clone)]
pub struct Error {
    /// Its kind.
    pub kind: ErrorKind,
    /// What to tell the person.
    pub message: String,
    /// The engine's issue code, when the engine refused.
    pub issue_code: Option<String>,
}

impl Error {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Usage,
            message: message.into(),
            issue_code: None,
        }
    }
    /// A database or mail failure.
    pub fn host(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Host,
            message: message.into(),
            issue_code: None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::host(format!("database: {e}"))
    }
}

impl From<lms_bulk_upload::Error> for Error {
    fn from(e: lms_bulk_upload::Error) -> Self {
        use lms_bulk_upload::ErrorKind as K;
        let kind = match e.kind() {
            K::Store | K::Mailer => ErrorKind::Host,
            _ => ErrorKind::Usage,
        };
        Error {
            kind,
            message: e.to_string(),
            issue_code: Some(e.code().as_str().to_owned()),
        }
    }
}

/// Adds the path to an I/O error.
pub fn io_error(what: &str, path: &std::path::Path, e: std::io::Error) -> Error {
    Error::usage(format!("{what} {}: {e}", path.display()))
}
