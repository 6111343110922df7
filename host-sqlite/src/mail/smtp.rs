//! The SMTP transport (lettre), with a connection pool.

use lettre::message::Mailbox;
use lettre::{SmtpTransport, Transport};
use lms_bulk_upload::{HostError, Mailer, Message};

/// Sends through an SMTP server given as a URL. TLS is required unless the URL opts out:
/// see `with_tls_policy` in this module.
pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
    sent: u64,
}

/// The URL lettre gets:
/// - `smtps://host[:465]`: implicit TLS;
/// - `smtp://host[:port]` (port 25 by default) and `smtp://...?tls=required` (port 587 by
///   default): STARTTLS, and the connection fails if the server does not offer it;
/// - `smtp://...?tls=none`: plain text, only when asked for by name;
/// - `?tls=opportunistic` is refused: an attacker on the path can strip STARTTLS and get
///   the credentials and the passwords in clear.
///
/// Returns the URL and whether it is plain text.
pub fn with_tls_policy(text: &str) -> Result<(String, bool), String> {
    let bad = |why: String| format!("--smtp {}: {why}", redact(text));
    let mut url = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
    let tls: Option<String> = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "tls")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let set_query = |url: &mut url::Url, tls: Option<&str>| {
        url.set_query(None);
        if tls.is_some() || !others.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &others {
                pairs.append_pair(k, v);
            }
            if let Some(tls) = tls {
                pairs.append_pair("tls", tls);
            }
        }
    };
    let plain = match (url.scheme(), tls.as_deref()) {
        ("smtps", None | Some("required" | "wrapper")) => false,
        ("smtps", Some(other)) => {
            return Err(bad(format!(
                "smtps:// is implicit TLS; ?tls={other} contradicts it"
            )))
        }
        ("smtp", None) => {
            if url.port().is_none() {
                let _ = url.set_port(Some(25));
            }
            set_query(&mut url, Some("required"));
            false
        }
        ("smtp", Some("required")) => false,
        ("smtp", Some("none")) => {
            if url.port().is_none() {
                let _ = url.set_port(Some(25));
            }
            set_query(&mut url, None);
            true
        }
        ("smtp", Some("opportunistic")) => return Err(bad(
            "?tls=opportunistic falls back to plain text when STARTTLS is stripped on the way; \
                 use ?tls=required (the default) or, knowingly, ?tls=none"
                .into(),
        )),
        ("smtp", Some(other)) => {
            return Err(bad(format!(
                "?tls={other}: use required (the default) or none"
            )))
        }
        (scheme, _) => return Err(bad(format!("{scheme}:// is not smtp:// or smtps://"))),
    };
    Ok((url.to_string(), plain))
}

impl SmtpMailer {
    pub fn new(url: &str, from: Mailbox) -> Result<SmtpMailer, String> {
        let (lettre_url, plain) = with_tls_policy(url)?;
        if plain {
            crate::note(&format!(
                "warning: --smtp {} has ?tls=none: the credentials and the passwords in the \
                 emails travel in plain text",
                redact(url)
            ));
        }
        let transport = SmtpTransport::from_url(&lettre_url)
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
            Err(e) => Err(format!(
                "the SMTP server cannot be reached{}: {e}",
                if e.to_string().contains("STARTTLS") {
                    " with TLS (required unless the URL says ?tls=none)"
                } else {
                    ""
                }
            )),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tls_is_required_unless_the_url_opts_out_by_name() {
        let (url, plain) = with_tls_policy("smtp://user:pa%3Ass@mail.example:587").unwrap();
        assert_eq!(url, "smtp://user:pa%3Ass@mail.example:587?tls=required");
        assert!(!plain);
        let (url, _) = with_tls_policy("smtp://mail.example").unwrap();
        assert_eq!(url, "smtp://mail.example:25?tls=required");
        let (url, plain) = with_tls_policy("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!(url, "smtp://127.0.0.1:2525");
        assert!(plain);
        assert!(!with_tls_policy("smtps://mail.example").unwrap().1);
        assert!(!with_tls_policy("smtp://h:587?tls=required").unwrap().1);
        for refused in [
            "smtp://u:secret@h?tls=opportunistic",
            "smtp://u:secret@h?tls=maybe",
            "smtps://u:secret@h?tls=none",
            "http://u:secret@h",
        ] {
            let e = with_tls_policy(refused).unwrap_err();
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
