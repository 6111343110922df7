//! The one error type of the crate.

use crate::host::store::HostError;
use crate::issue::{Issue, IssueCode};
use std::fmt;
use std::sync::Arc;

/// What part of the flow an [`Error`] comes from; the bindings map each to an exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file cannot be used (`parse`).
    File,
    /// The settings are contradictory or incomplete, or name things that do not exist.
    Settings,
    /// A plan cannot be read, was tampered with, or cannot be executed as given.
    Plan,
    /// The host's store failed while planning.
    Store,
    /// The host's mailer failed outside a row (the confirmation email).
    Mailer,
    /// A sign-in link was refused when verified or redeemed (unknown, used or expired).
    Invitation,
}

impl ErrorKind {
    /// `"file"`, `"settings"`, `"plan"`, `"store"`, `"mailer"` or `"invitation"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::File => "file",
            ErrorKind::Settings => "settings",
            ErrorKind::Plan => "plan",
            ErrorKind::Store => "store",
            ErrorKind::Mailer => "mailer",
            ErrorKind::Invitation => "invitation",
        }
    }
}

/// An error with a kind, a stable code and, where it has one, a place.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    issue: Issue,
    transient: bool,
    source: Option<Arc<HostError>>,
}

impl PartialEq for Inner {
    fn eq(&self, other: &Inner) -> bool {
        (self.kind, &self.issue, self.transient) == (other.kind, &other.issue, other.transient)
    }
}

impl Eq for Inner {}

impl Error {
    pub(crate) fn new(kind: ErrorKind, code: IssueCode, message: impl Into<String>) -> Error {
        Error::from_issue(kind, Issue::new(code, None, None, message.into()))
    }

    pub(crate) fn from_issue(kind: ErrorKind, issue: Issue) -> Error {
        Error(Box::new(Inner {
            kind,
            issue,
            transient: false,
            source: None,
        }))
    }

    /// The error for a failed host call: the host error's code when the engine gave it one
    /// (an invalid reply), else `code`; the message prefixed with `context` when given; the
    /// host error kept as the [`source`](std::error::Error::source), so the exception a host
    /// raised stays reachable.
    pub(crate) fn host(kind: ErrorKind, code: IssueCode, context: &str, e: &HostError) -> Error {
        let message = if context.is_empty() {
            e.message().to_owned()
        } else {
            format!("{context}: {}", e.message())
        };
        let mut error = Error::new(kind, e.code().unwrap_or(code), message);
        error.0.transient = e.is_transient();
        error.0.source = Some(Arc::new(e.clone()));
        error
    }

    pub(crate) fn file(
        code: IssueCode,
        line: Option<u32>,
        column: Option<&str>,
        message: String,
    ) -> Error {
        Error::from_issue(ErrorKind::File, Issue::new(code, line, column, message))
    }

    pub(crate) fn settings(code: IssueCode, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Settings, code, message)
    }

    pub(crate) fn with_transient(mut self, transient: bool) -> Error {
        self.0.transient = transient;
        self
    }

    /// Which part of the flow failed.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// The stable code.
    pub fn code(&self) -> IssueCode {
        self.0.issue.code
    }
    /// The line, for file errors that have one.
    pub fn line(&self) -> Option<u32> {
        self.0.issue.line
    }
    /// The column, for file errors that have one.
    pub fn column(&self) -> Option<&str> {
        self.0.issue.column.as_deref()
    }
    /// The human message.
    pub fn message(&self) -> &str {
        &self.0.issue.message
    }
    /// The error as an [`Issue`] (code, severity, line, column, message).
    pub fn issue(&self) -> &Issue {
        &self.0.issue
    }
    /// Whether trying again may succeed (a host failure marked transient).
    pub fn is_transient(&self) -> bool {
        self.0.transient
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("code", &self.0.issue.code)
            .field("line", &self.0.issue.line)
            .field("column", &self.0.issue.column)
            .field("message", &self.0.issue.message)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.0.kind.as_str(), self.0.issue)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
