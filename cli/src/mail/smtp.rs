//! The SMTP transport (lettre), with a connection pool.

use lettre::message::Mailbox;
use lettre::{SmtpTransport, Transport};
use lms_bulk_upload::{HostError, Mailer, Message};

/// Sends through an SMTP server given as a URL (`smtp://`, `smtps://`, `?tls=required`).
pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
    sent: u64,
}

impl SmtpMailer {
    pub fn new(url: &str, from: Mailbox) -> Result<SmtpMailer, String> {
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| format!("--smtp {}: {e}", redact(url)))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(SmtpMailer {
            transport,
            from,
            sent: 0,
        })
    }

    /// Checks that the server answers (EHLO/NOOP) before anything is written.
    pub fn check(&self) -> Result<(), String> {
        match self.transport.test_connection() {
            Ok(true) => Ok(()),
            Ok(false) => Err("the SMTP server did not answer".into()),
            Err(e) => Err(format!("the SMTP server cannot be reached: {e}")),
        }
    }

    pub fn sent(&self) -> u64 {
        self.sent
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Mailer for SmtpMailer {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        let email = super::build(&self.from, message)?;
        match self.transport.send(&email) {
            Ok(_) => {
                self.sent += 1;
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(HostError::permanent(format!("SMTP: {e}"))),
            Err(e) => Err(HostError::transient(format!("SMTP: {e}"))),
        }
    }
}
