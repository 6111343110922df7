//! A Ruby object as the core's [`HostObject`]: the one foreign trait of the binding.
//!
//! The Ruby side (`LmsBulkUpload::HostAdapter`) implements [`RubyHost`] over any Ruby object
//! (`respond_to?`, `public_send` with the JSON arguments, the reply as JSON); the core's
//! `HostStore`, `HostMailer` and `HostJournal` do everything else.

use lms_bulk_upload::host::HostObject;
use lms_bulk_upload::{HostError, IssueCode};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// An exception a Ruby host method raised: its message, and whether it said it is transient.
#[derive(Debug, uniffi::Error)]
#[non_exhaustive]
pub enum HostCallError {
    /// The method raised.
    Failed {
        /// The exception's message.
        message: String,
        /// `exception.transient?` (or `transient`) was true.
        transient: bool,
    },
    /// The method's reply cannot be turned into data (it contains itself, or is nested too
    /// deep): the core's `invalid_host_reply`.
    Unreadable {
        /// Why.
        message: String,
    },
}

impl fmt::Display for HostCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostCallError::Failed { message, .. } | HostCallError::Unreadable { message } => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for HostCallError {}

/// The Ruby adapter catches every exception; should one escape anyway, it is a failed call,
/// not a panic.
impl From<uniffi::UnexpectedUniFFICallbackError> for HostCallError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> HostCallError {
        HostCallError::Failed {
            message: e.reason,
            transient: false,
        }
    }
}

/// A host object of the Ruby program (a store, a mailer or a journal), reached by method name.
#[uniffi::export(with_foreign)]
pub trait RubyHost: Send + Sync {
    /// Whether the object responds to `name`.
    fn has_method(&self, name: String) -> bool;
    /// Calls `method` with the JSON array `args_json` as positional arguments; the reply as
    /// JSON (`null` for nil).
    fn call(&self, method: String, args_json: String) -> Result<String, HostCallError>;
}

/// A [`RubyHost`] as the core's [`HostObject`].
pub(crate) struct RubyObject(pub(crate) Arc<dyn RubyHost>);

impl HostObject for RubyObject {
    fn has_method(&mut self, method: &str) -> bool {
        self.0.has_method(method.to_owned())
    }

    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        call_host(self.0.as_ref(), method, args)
    }
}

/// Calls `method` of a Ruby object with JSON arguments; its reply, or the host error its
/// exception (or unreadable reply) is.
pub(crate) fn call_host(
    host: &dyn RubyHost,
    method: &str,
    args: Vec<Value>,
) -> Result<Value, HostError> {
    let args = Value::Array(args).to_string();
    match host.call(method.to_owned(), args) {
        Ok(reply) => serde_json::from_str(&reply).map_err(|e| {
            HostError::coded(
                IssueCode::InvalidHostReply,
                format!("{method} returned a value that is not data: {e}"),
            )
        }),
        Err(HostCallError::Unreadable { message }) => Err(HostError::coded(
            IssueCode::InvalidHostReply,
            format!("{method} returned a value that cannot be read: {message}"),
        )),
        Err(HostCallError::Failed { message, transient }) => Err(if transient {
            HostError::transient(message)
        } else {
            HostError::permanent(message)
        }),
    }
}
