//! What the host implements to send email, and the messages the engine renders.

use crate::execute::secret::Password;
use crate::host::store::HostError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of email the engine sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageKind {
    /// To a new user: login, site link and, when generated, the password (or, with sign-in
    /// links, their personal link).
    Welcome,
    /// To an existing user whose password was set: login, link and, when generated, the password.
    PasswordChanged,
    /// To the uploader at the end: the counts and the link to the results.
    UploadComplete,
    /// To the uploader at the end of an undo: the counts and the link to its results.
    UndoComplete,
}

impl MessageKind {
    /// `welcome`, `password_changed`, `upload_complete` or `undo_complete`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Welcome => "welcome",
            MessageKind::PasswordChanged => "password_changed",
            MessageKind::UploadComplete => "upload_complete",
            MessageKind::UndoComplete => "undo_complete",
        }
    }
}

/// The structured values a message was rendered from (a host with its own templates can
/// render from these instead). The password is only present when it was generated.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MessageFields {
    /// The recipient's first name (empty for the confirmation email).
    pub first_name: String,
    /// The recipient's last name.
    pub last_name: String,
    /// The login (email address).
    pub login: String,
    /// The login link.
    pub site_url: String,
    /// The generated password, when there is one to tell.
    pub password: Option<Password>,
    /// The user's personal sign-in link, when the upload sends them one (a secret: it
    /// holds the token).
    pub invitation_url: Option<Password>,
    /// For `upload_complete`: the results link.
    pub results_url: String,
    /// For `upload_complete`: `(name, count)` pairs such as `("created", 12)`.
    pub counts: Vec<(String, u64)>,
    /// For `welcome`: the user's login method when it is not `password` (single sign-on).
    pub login_method: Option<String>,
}

impl fmt::Debug for MessageFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageFields")
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("login", &self.login)
            .field("site_url", &self.site_url)
            .field("password", &self.password)
            .field("invitation_url", &self.invitation_url)
            .field("results_url", &self.results_url)
            .field("login_method", &self.login_method)
            .field("counts", &self.counts)
            .finish()
    }
}

/// One email, rendered. `Debug` redacts the bodies of messages that carry a password or a
/// sign-in link.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// What the message is.
    pub kind: MessageKind,
    /// The recipient's address (validated; never contains CR or LF).
    pub to: String,
    /// The subject (one line).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (values escaped).
    pub html: String,
    /// The values it was rendered from.
    pub fields: MessageFields,
}

impl Message {
    /// Whether the bodies contain a password (and must never be logged).
    pub fn carries_password(&self) -> bool {
        self.fields.password.is_some()
    }

    /// Whether the bodies contain a personal sign-in link (and must never be logged: the
    /// link lets whoever reads it choose the user's password).
    pub fn carries_invitation(&self) -> bool {
        self.fields.invitation_url.is_some()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = self.carries_password() || self.carries_invitation();
        f.debug_struct("Message")
            .field("kind", &self.kind)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", if secret { &"[REDACTED]" } else { &self.text })
            .field("html", if secret { &"[REDACTED]" } else { &self.html })
            .field("fields", &self.fields)
            .finish()
    }
}

/// The host's email sending.
pub trait Mailer {
    /// Sends one message (or queues it: see [`Mailer::flush`]).
    fn send(&mut self, message: &Message) -> Result<(), HostError>;

    /// Hands every queued message over for good. The engine calls it after each batch of
    /// rows, **before** [`Store::checkpoint`](crate::Store::checkpoint), so a mailer that
    /// queues (to write or send in the background) never lets a batch be recorded as done
    /// while its emails could still be lost. An error stops the execution before the
    /// checkpoint. The default does nothing (a mailer whose `send` is final).
    fn flush(&mut self) -> Result<(), HostError> {
        Ok(())
    }
}

impl<M: Mailer + ?Sized> Mailer for &mut M {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        (**self).send(message)
    }
    fn flush(&mut self) -> Result<(), HostError> {
        (**self).flush()
    }
}
