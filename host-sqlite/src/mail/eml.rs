//! A message's RFC 5322 bytes, as lettre's builder formats them, written directly for the
//! usual message and by lettre for any other.
//!
//! lettre's builder parses the recipient again, builds a header map, parses each part's
//! content type, and encodes each header and body through general machinery: about 84,000
//! instructions a message, most of an outbox's cost when the engine writes a file per user.
//! [`EmlWriter`] writes the same bytes for the shape almost every message has — a recipient
//! that is a plain address, a short ASCII subject, bodies that are 7-bit or
//! quoted-printable — with the sender's and the date's header lines formatted by lettre
//! once (once a second for the date), and the bodies' line ends and transfer encoding
//! chosen by lettre's rules, quoted-printable by the crate lettre encodes with. Anything
//! else (a long or non-ASCII subject that lettre folds or encodes, a display name, a body
//! lettre would send as base64) is handed to lettre, so an unusual message can only be
//! slower, never different. The unit tests compare the two, byte for byte, on the same
//! boundary and date.

use lettre::message::header::{self, Headers};
use lettre::message::{Mailbox, Mailboxes};
use lms_bulk_upload::{HostError, Message};
use std::time::{SystemTime, UNIX_EPOCH};

/// A header line longer than this (its name, `: ` and value) is folded by lettre.
const MAX_LINE_LEN: usize = 76;

/// Formats messages from one sender.
#[derive(Clone)]
pub(crate) struct EmlWriter {
    from: Mailbox,
    /// `From: ...\r\n` as lettre writes the sender.
    from_line: String,
    /// The `Date: ...\r\n` line of one second, and that second.
    date: Option<(u64, String)>,
}

/// A new multipart boundary: 40 random letters and digits, as lettre makes them.
pub(crate) fn boundary() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(40)
        .collect()
}

impl EmlWriter {
    pub(crate) fn new(from: Mailbox) -> EmlWriter {
        let mut headers = Headers::new();
        headers.set(header::From::from(Mailboxes::from(from.clone())));
        EmlWriter {
            from_line: headers.to_string(),
            from,
            date: None,
        }
    }

    /// The message to `to` (its recipient, parsed) as RFC 5322 bytes, dated now.
    pub(crate) fn format(&mut self, to: &Mailbox, message: &Message) -> Result<Vec<u8>, HostError> {
        self.format_at(to, message, SystemTime::now(), &boundary())
    }

    fn format_at(
        &mut self,
        to: &Mailbox,
        message: &Message,
        date: SystemTime,
        boundary: &str,
    ) -> Result<Vec<u8>, HostError> {
        if let Some(bytes) = self.direct(to, message, date, boundary) {
            return Ok(bytes);
        }
        Ok(super::build_with(&self.from, to.clone(), message, date, boundary)?.formatted())
    }

    /// The usual message, or `None` for lettre to format.
    fn direct(
        &mut self,
        to: &Mailbox,
        message: &Message,
        date: SystemTime,
        boundary: &str,
    ) -> Option<Vec<u8>> {
        let address: &str = to.email.as_ref();
        if to.name.is_some()
            || !dot_atom_address(address)
            || "To: ".len() + address.len() > MAX_LINE_LEN
            || !plain_subject(&message.subject)
        {
            return None;
        }
        let text = Body::of(&message.text)?;
        let html = Body::of(&message.html)?;
        let kind = message.kind.as_str();
        let mut out = Vec::with_capacity(
            512 + message.subject.len() + address.len() + text.bytes.len() + html.bytes.len(),
        );
        out.extend_from_slice(self.from_line.as_bytes());
        for (name, value) in [
            ("To", address),
            ("Subject", message.subject.as_str()),
            ("X-LMS-Message-Kind", kind),
            ("MIME-Version", "1.0"),
        ] {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(self.date_line(date).as_bytes());
        out.extend_from_slice(b"Content-Type: multipart/alternative;\r\n boundary=\"");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\"\r\n\r\n");
        for (content_type, body) in [("text/plain", text), ("text/html", html)] {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(b"\r\nContent-Type: ");
            out.extend_from_slice(content_type.as_bytes());
            out.extend_from_slice(b"; charset=utf-8\r\nContent-Transfer-Encoding: ");
            out.extend_from_slice(body.encoding.as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(&body.bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"--\r\n");
        Some(out)
    }

    /// `Date: ...\r\n` for `date`, as lettre writes it (to the second).
    fn date_line(&mut self, date: SystemTime) -> &str {
        let second = date
            .duration_since(UNIX_EPOCH)
            .map_or(u64::MAX, |d| d.as_secs());
        let fresh =
            matches!(&self.date, Some((cached, _)) if *cached == second && second != u64::MAX);
        if !fresh {
            let mut headers = Headers::new();
            headers.set(header::Date::new(date));
            self.date = Some((second, headers.to_string()));
        }
        self.date.as_ref().map_or("", |(_, line)| line)
    }
}

/// The punctuation RFC 5322 allows in an atom.
const ATEXT: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

/// `local@domain`, each a dot-atom (atoms of letters, digits and `ATEXT`, one dot between
/// them): the whole of what lettre's mailbox parser reads as an address with no name, and
/// an address lettre writes in a header as it is.
pub(crate) fn dot_atom_address(address: &str) -> bool {
    let dot_atom = |part: &str| {
        part.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || ATEXT.contains(&b))
        })
    };
    match address.split_once('@') {
        Some((local, domain)) => dot_atom(local) && dot_atom(domain),
        None => false,
    }
}

/// A subject lettre writes as it is: printable ASCII words, one space between each, on one
/// line with its name.
fn plain_subject(subject: &str) -> bool {
    !subject.is_empty()
        && "Subject: ".len() + subject.len() <= MAX_LINE_LEN
        && !subject.starts_with(' ')
        && !subject.ends_with(' ')
        && !subject.contains("  ")
        && subject.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// A body with its line ends made CRLF and its transfer encoding applied.
struct Body {
    encoding: &'static str,
    bytes: Vec<u8>,
}

impl Body {
    /// As lettre's `Body::new` makes it from a `String` (no 8-bit transport): 7-bit when
    /// ASCII with no line of 76 characters or more, else quoted-printable when at most a third
    /// of its bytes need escaping; `None` for base64 (left to lettre).
    fn of(text: &str) -> Option<Body> {
        let bytes = text.as_bytes();
        let seven_bit = text.is_ascii() && !line_too_long(bytes);
        if !seven_bit && !quoted_printable_efficient(bytes) {
            return None;
        }
        let crlf = crlf_line_ends(bytes);
        Some(if seven_bit {
            Body {
                encoding: "7bit",
                bytes: crlf,
            }
        } else {
            Body {
                encoding: "quoted-printable",
                bytes: quoted_printable::encode(crlf),
            }
        })
    }
}

/// Whether a line (counted as lettre's encoding chooser counts it: from one LF to the next,
/// the first from the start) has 76 bytes or more.
fn line_too_long(bytes: &[u8]) -> bool {
    let mut last = 0;
    for lf in memchr::memchr_iter(b'\n', bytes) {
        if lf - last >= MAX_LINE_LEN {
            return true;
        }
        last = lf;
    }
    bytes.len() - last >= MAX_LINE_LEN
}

/// At most a third of the bytes are outside tab and printable ASCII.
fn quoted_printable_efficient(bytes: &[u8]) -> bool {
    // a sum rather than a filtered count: the compiler adds many bytes' verdicts at once
    let escaped: usize = bytes
        .iter()
        .map(|&b| usize::from(!matches!(b, b'\t' | b' '..=b'~')))
        .sum();
    escaped <= bytes.len() / 3
}

/// A CR before every LF that has none.
fn crlf_line_ends(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32 + 2);
    let mut start = 0;
    for lf in memchr::memchr_iter(b'\n', bytes) {
        out.extend_from_slice(&bytes[start..lf]);
        if lf == 0 || bytes[lf - 1] != b'\r' {
            out.push(b'\r');
        }
        start = lf;
    }
    out.extend_from_slice(&bytes[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lms_bulk_upload::MessageKind;
    use std::time::Duration;

    fn message(to: &str, subject: &str, text: &str, html: &str) -> Message {
        Message {
            to: to.into(),
            kind: MessageKind::Welcome,
            subject: subject.into(),
            text: text.into(),
            html: html.into(),
            fields: Default::default(),
        }
    }

    /// The writer's bytes and lettre's for the same boundary and date, and whether the
    /// writer wrote them itself; `None` for a recipient lettre refuses (its row fails
    /// before a message is formatted).
    fn both(from: &str, message: &Message, date: SystemTime) -> Option<(Vec<u8>, Vec<u8>, bool)> {
        let from: Mailbox = from.parse().expect("a sender");
        let to: Mailbox = message.to.parse().ok()?;
        let boundary = boundary();
        let mut writer = EmlWriter::new(from.clone());
        let direct = writer.direct(&to, message, date, &boundary).is_some();
        let ours = writer
            .format_at(&to, message, date, &boundary)
            .expect("formatted");
        let lettres = super::super::build_with(&from, to, message, date, &boundary)
            .expect("built")
            .formatted();
        Some((ours, lettres, direct))
    }

    const TEXT: &str = "Hello Ana,\n\nAn account has been created for you.\n\nLogin: ana@example.org\nPassword: Xy7-pq!r2\n\nSign in at https://lms.example.invalid/\n";
    const HTML: &str = "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hello Ana,</p><p>An account has been created for you.</p><p>Login: <b>ana@example.org</b></p><p><a href=\"https://lms.example.invalid/\">Sign in</a></p></body></html>";

    #[test]
    fn the_usual_message_is_written_directly_as_lettre_writes_it() {
        let date = UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let m = message("ana@example.org", "Your new account", TEXT, HTML);
        let (ours, lettres, direct) =
            both("LMS <no-reply@lms.example.invalid>", &m, date).expect("a recipient");
        assert!(direct, "the usual message takes the direct path");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&lettres)
        );
        assert!(ours
            .starts_with(b"From: LMS <no-reply@lms.example.invalid>\r\nTo: ana@example.org\r\n"));
    }

    #[test]
    fn every_shape_gives_lettres_bytes_directly_or_through_lettre() {
        let senders = [
            "LMS <no-reply@lms.example.invalid>",
            "no-reply@example.org",
            "\"Académie, Nord\" <noreply@example.org>",
        ];
        let recipients = [
            "ana@example.org",
            "Ana.Lopez+tag@sub.example.co.nz",
            "o'brien@example.org",
            "x_y-z=1{2}|3~4@example.org",
            "a-rather-long-local-part-that-goes-on-and-on.and.on@a-long-domain.example.org",
            "Ana López <ana@example.org>",
            "\"quoted local\"@example.org",
        ];
        let subjects = [
            "Your new account",
            "Your password was changed",
            "Re: [LMS] a subject with = and ? and =?utf-8?q?x?= in it",
            "Bienvenue à la plateforme",
            " leading space",
            "trailing space ",
            "two  spaces",
            "A subject of exactly sixty-seven characters, which fits on the line",
            "A subject of exactly sixty-eight characters, which folds, just once.",
            "A very long subject that lettre has to fold across two lines of the header, at a space",
            "",
        ];
        let long_line = "word ".repeat(40);
        let texts = [
            TEXT.to_owned(),
            HTML.to_owned(),
            "Crème brûlée for Zoë and 山田太郎\nsecond line\n".to_owned(),
            "山田太郎山田太郎山田太郎山田太郎".to_owned(),
            format!("{long_line}\n{long_line}"),
            "\nstarts with a line end\r\nCRLF\rlone CR\n\nends with one\n".to_owned(),
            "x".repeat(75),
            "x".repeat(76),
            format!("{}\n{}", "y".repeat(75), "z".repeat(74)),
            format!("{}\n{}", "y".repeat(75), "z".repeat(75)),
            "trailing spaces before a line end   \nand a tab\t\nlast".to_owned(),
            "tab\tand = sign and a line of = = = = = = = = = = = = = = = = = = = = = = = = = = = = =\n".to_owned(),
            String::new(),
        ];
        let date = UNIX_EPOCH + Duration::from_secs(1_800_000_123);
        let mut compared = 0;
        let mut refused = 0;
        let mut direct_count = 0;
        for from in senders {
            for to in recipients {
                for subject in subjects {
                    for (i, text) in texts.iter().enumerate() {
                        let html = &texts[(i + 3) % texts.len()];
                        let m = message(to, subject, text, html);
                        let Some((ours, lettres, direct)) = both(from, &m, date) else {
                            refused += 1;
                            continue;
                        };
                        assert_eq!(
                            String::from_utf8_lossy(&ours),
                            String::from_utf8_lossy(&lettres),
                            "from {from:?} to {to:?} subject {subject:?} text {i}"
                        );
                        compared += 1;
                        direct_count += usize::from(direct);
                    }
                }
            }
        }
        assert_eq!(
            compared + refused,
            senders.len() * recipients.len() * subjects.len() * texts.len()
        );
        assert!(refused < compared / 4, "{refused} refused");
        // both paths taken (most of the shapes above are there to be handed to lettre)
        assert!(
            direct_count > compared / 10,
            "{direct_count} of {compared} direct"
        );
        assert!(
            direct_count < compared,
            "{direct_count} of {compared} direct"
        );
    }

    /// Strings of a dot-atom's characters, `@`, dots and a few others, every string of up to
    /// four pieces of a small alphabet (five took two minutes in a debug build, and agreed): where the address check reads one, lettre's parser reads the
    /// same mailbox, and where it does not, the parser's answer is taken.
    #[test]
    fn a_plain_recipient_is_read_as_lettres_parser_reads_it() {
        let alphabet = [
            "a", "Z0", ".", "@", "-", "+", "'", " ", "(", "\"", "<", "é", "[1]",
        ];
        let mut strings = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &frontier {
                for c in alphabet {
                    next.push(format!("{s}{c}"));
                }
            }
            strings.extend(next.iter().cloned());
            frontier = next;
        }
        strings.extend(
            [
                "ana@example.org",
                "a..b@example.org",
                ".a@example.org",
                "a.@example.org",
                "a@example.org.",
                "a@.example.org",
                "a@-example.org",
                "a@example-.org",
                "a@exa_mple.org",
                "a@[127.0.0.1]",
                "a@localhost",
                "a@b@c",
            ]
            .map(String::from),
        );
        strings.push(format!("{}@example.org", "a".repeat(65)));
        strings.push(format!("a@{}.org", "b".repeat(64)));
        let mut plain = 0;
        for to in &strings {
            let m = message(to, "s", "t", "h");
            let ours = super::super::recipient(&m).map_err(|e| e.to_string());
            let lettres = to
                .parse::<Mailbox>()
                .map_err(|e| format!("recipient {to:?}: {e}"));
            assert_eq!(ours, lettres, "{to:?}");
            plain += usize::from(dot_atom_address(to) && lettres.is_ok());
        }
        assert!(plain > 50, "{plain} plain addresses read");
    }

    #[test]
    fn the_date_line_is_made_again_for_another_second() {
        let mut writer = EmlWriter::new("a@example.org".parse().unwrap());
        let first = UNIX_EPOCH + Duration::from_millis(1_800_000_000_100);
        let same = UNIX_EPOCH + Duration::from_millis(1_800_000_000_900);
        let next = UNIX_EPOCH + Duration::from_millis(1_800_000_001_000);
        let a = writer.date_line(first).to_owned();
        assert_eq!(writer.date_line(same), a);
        let b = writer.date_line(next).to_owned();
        assert_ne!(a, b);
        assert!(a.starts_with("Date: ") && a.ends_with(" +0000\r\n"), "{a}");
    }

    /// lettre's chooser's count, as it is written there (every LF's index against the one
    /// before).
    fn chooser_line_too_long(b: &[u8]) -> bool {
        let mut last = 0;
        b.iter()
            .enumerate()
            .filter(|&(_, &c)| c == b'\n')
            .any(|(i, _)| {
                let before = std::mem::replace(&mut last, i);
                i - before >= 76
            })
            || b.len() - last >= 76
    }

    #[test]
    fn long_lines_are_found_as_lettres_chooser_finds_them() {
        for text in [
            String::new(),
            "\n".into(),
            "x".repeat(75),
            "x".repeat(76),
            format!("{}\n", "x".repeat(75)),
            format!("{}\n", "x".repeat(76)),
            format!("{}\n{}", "x".repeat(75), "y".repeat(74)),
            format!("{}\n{}", "x".repeat(75), "y".repeat(75)),
            format!("{}\n{}\n", "x".repeat(10), "y".repeat(75)),
            format!("\n\n{}", "y".repeat(75)),
            format!("\n\n{}", "y".repeat(76)),
        ] {
            assert_eq!(
                line_too_long(text.as_bytes()),
                chooser_line_too_long(text.as_bytes()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn line_ends_become_crlf_once() {
        assert_eq!(crlf_line_ends(b"\na\r\nb\rc\n"), b"\r\na\r\nb\rc\r\n");
        assert_eq!(crlf_line_ends(b"\r\n\n\r"), b"\r\n\r\n\r");
        assert_eq!(crlf_line_ends(b""), b"");
    }

    #[test]
    fn boundaries_are_forty_letters_and_digits_and_differ() {
        let (a, b) = (boundary(), boundary());
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
