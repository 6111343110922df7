//! The errors that cross to Ruby: the engine's coded [`Error`](lms_bulk_upload::Error), and a
//! malformed argument to a constructor of the binding.

use std::fmt;

/// An error of a native call. The Ruby wrapper raises `LmsBulkUpload::Error`'s subclass for
/// `kind` (one table, in `lib/lms_bulk_upload/errors.rb`), or `ArgumentError`.
#[derive(Debug, uniffi::Error)]
#[non_exhaustive]
pub enum NativeError {
    /// The engine's error: its kind (`file`, `settings`, `plan`, `store`, `mailer`), stable
    /// code, message and place.
    Engine {
        /// `ErrorKind::as_str`.
        kind: String,
        /// The `IssueCode`.
        code: String,
        /// What went wrong (never a secret).
        message: String,
        /// The line, for file errors that have one.
        line: Option<u32>,
        /// The column, for file errors that have one.
        column: Option<String>,
        /// Whether trying again may succeed.
        transient: bool,
    },
    /// A `MemoryStore`, `RecordingMailer` or `MemoryJournal` used while a call holds it (a
    /// host method touching the double of the running call): refused, not a deadlock.
    Busy {
        /// Which double.
        message: String,
    },
    /// The vectors' judge found the outcome of a run different from the expectations.
    Mismatch {
        /// The path that differs and how.
        message: String,
    },
    /// A value the binding itself could not read (a `MemoryStore` state that is not one).
    Argument {
        /// Why.
        message: String,
    },
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeError::Engine { message, code, .. } => write!(f, "{message} [{code}]"),
            NativeError::Busy { message }
            | NativeError::Mismatch { message }
            | NativeError::Argument { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for NativeError {}

impl From<lms_bulk_upload::Error> for NativeError {
    fn from(e: lms_bulk_upload::Error) -> NativeError {
        NativeError::Engine {
            kind: e.kind().as_str().to_owned(),
            code: e.code().as_str().to_owned(),
            message: e.message().to_owned(),
            line: e.line(),
            column: e.column().map(str::to_owned),
            transient: e.is_transient(),
        }
    }
}

/// The result of a native call.
pub type NativeResult<T> = Result<T, NativeError>;

/// JSON of a value the core serialises (plain data: cannot fail).
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A value given as JSON text by the Ruby wrapper (which generated it).
pub(crate) fn from_json_text(json: &str, what: &str) -> NativeResult<serde_json::Value> {
    serde_json::from_str(json).map_err(|e| NativeError::Argument {
        message: format!("{what}: {e}"),
    })
}
