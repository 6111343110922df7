//! Email: messages rendered by the engine, turned into RFC 5322 and sent by SMTP or written
//! to an outbox folder.

mod outbox;
pub(crate) mod pending;
mod smtp;

pub use outbox::{OutboxFormat, OutboxMailer};
pub use smtp::{redact, SmtpMailer};

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lms_bulk_upload::{HostError, Message};

/// Builds the RFC 5322 message: `multipart/alternative` with the text and HTML bodies.
pub fn build(from: &Mailbox, message: &Message) -> Result<lettre::Message, HostError> {
    let to: Mailbox = message
        .to
        .parse()
        .map_err(|e| HostError::permanent(format!("recipient {:?}: {e}", message.to)))?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .raw_header(
            lettre::message::header::HeaderValue::dangerous_new_pre_encoded(
                lettre::message::header::HeaderName::new_from_ascii_str("X-LMS-Message-Kind"),
                message.kind.as_str().to_owned(),
                message.kind.as_str().to_owned(),
            ),
        )
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(message.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(message.html.clone()),
                ),
        )
        .map_err(|e| HostError::permanent(format!("email: {e}")))
}

/// The sender: `--mail-from`, or `no-reply@` the site's host.
pub fn sender(mail_from: Option<&str>, site_url: &str) -> Result<Mailbox, String> {
    let text = match mail_from {
        Some(from) => from.to_owned(),
        None => {
            let host = site_url
                .split("://")
                .nth(1)
                .and_then(|rest| rest.split(['/', ':', '?']).next())
                .filter(|h| h.contains('.'))
                .unwrap_or("localhost.localdomain");
            format!("LMS <no-reply@{host}>")
        }
    };
    text.parse()
        .map_err(|e| format!("the sender address {text:?} is not valid: {e}"))
}
