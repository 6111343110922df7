//! Email: messages rendered by the engine, turned into RFC 5322 and sent by SMTP or written
//! to an outbox folder.

mod eml;
mod outbox;
pub(crate) mod pending;
mod publisher;
mod smtp;

pub use outbox::{OutboxFormat, OutboxMailer};
pub(crate) use publisher::Publisher;
pub use smtp::{redact, SmtpMailer};

use lettre::message::{header, header::ContentType, Mailbox, MultiPart, SinglePart};
use lms_bulk_upload::{HostError, Mailer, Message};
use std::time::SystemTime;

/// A mailer opened for a run, whose work may outlast the run's rows: the outbox's thread
/// is still moving the last committed batches into the folder when the engine returns.
/// Whoever runs the plan calls [`finish`](RunMailer::finish) before recording the run
/// finished, and records it finished only if that succeeds: an error leaves the run
/// resumable, and the outbox's next opening publishes what is left.
pub trait RunMailer: Mailer {
    /// Waits until everything sent is delivered or published, and says if some of it
    /// could not be.
    fn finish(&mut self) -> Result<(), HostError> {
        Ok(())
    }
}

impl RunMailer for OutboxMailer {
    fn finish(&mut self) -> Result<(), HostError> {
        OutboxMailer::finish(self)
    }
}

/// SMTP sends each message before the engine goes on: nothing is left to wait for.
impl RunMailer for SmtpMailer {}

/// The recipient, parsed as lettre reads it (a message lettre refuses fails its own row).
///
/// A plain address (a dot-atom, `@`, a dot-atom: what the engine's e-mail check lets
/// through) is read by lettre's address check alone, which is what its mailbox parser ends
/// with for such an address; anything else, or an address that check refuses, goes through
/// the whole parser, whose answer (or error) it is.
pub(crate) fn recipient(message: &Message) -> Result<Mailbox, HostError> {
    if eml::dot_atom_address(&message.to) {
        if let Ok(address) = message.to.parse::<lettre::Address>() {
            return Ok(Mailbox::new(None, address));
        }
    }
    message
        .to
        .parse()
        .map_err(|e| HostError::permanent(format!("recipient {:?}: {e}", message.to)))
}

/// Builds the RFC 5322 message: `multipart/alternative` with the text and HTML bodies.
pub fn build(from: &Mailbox, message: &Message) -> Result<lettre::Message, HostError> {
    build_with(
        from,
        recipient(message)?,
        message,
        SystemTime::now(),
        &eml::boundary(),
    )
}

/// [`build`] with the recipient parsed, and the date and the parts' boundary given.
pub(crate) fn build_with(
    from: &Mailbox,
    to: Mailbox,
    message: &Message,
    date: SystemTime,
    boundary: &str,
) -> Result<lettre::Message, HostError> {
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
        // MIME-Version then Date, where lettre's `multipart` puts them when it adds them
        .header(header::MIME_VERSION_1_0)
        .date(date)
        .multipart(
            MultiPart::alternative()
                .boundary(boundary)
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
