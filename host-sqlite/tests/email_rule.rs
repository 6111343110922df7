//! The engine's email rule against the mail library the CLI sends with: every address
//! `lms_bulk_upload` accepts, lettre accepts too, both as an `Address` and as the `Mailbox`
//! `mail::build` parses the recipient into. Otherwise a user would be created and then
//! never get their email (the row fails after the write, with an unusable password).
#![allow(clippy::unwrap_used, missing_docs)]

use lettre::message::Mailbox;
use lettre::Address;
use lms_bulk_upload::{parse, EmailAddress, IssueCode, ParseOptions};

/// Hand-picked addresses around the edges of both rules.
const TRICKY: &[&str] = &[
    "ana@example.com",
    "Ana.Lopez+tag@Example.COM",
    "a.b.c@x.io",
    "a..b@x.com",
    ".a@x.com",
    "a.@x.com",
    ".@x.com",
    "..@x.com",
    "a@x.com.",
    "a@.x.com",
    "a@x..com",
    "\"a b\"@x.com",
    "\"a..b\"@x.com",
    "\"\"@x.com",
    "\"a\"b@x.com",
    "a\"b@x.com",
    "a@b@x.com",
    "{weird}!#$%&'*/=?^_`|~-@x.io",
    "=1+2@example.com",
    "-a@x.com",
    "a-@x.com",
    "_@x.com",
    "a b@x.com",
    "a\\b@x.com",
    "a(b)@x.com",
    "a,b@x.com",
    "a;b@x.com",
    "a:b@x.com",
    "<a>@x.com",
    "a@x",
    "a@localhost",
    "a@-x.com",
    "a@x-.com",
    "a@x_y.com",
    "a@1.2.3.4",
    "a@[1.2.3.4]",
    "a@[IPv6:::1]",
    "a@bücher.de",
    "a@xn--bcher-kva.de",
    "a@\u{212A}elvin.com",
    "a@exa\u{0301}mple.com",
    "zoë@example.com",
    "\u{0430}na@example.com",
    "ana\u{200B}@example.com",
    "ana\u{FF20}example.com",
    "Ana <ana@example.com>",
    "ana@example.com ",
    " ana@example.com",
    "",
    "@",
    "a@",
    "@x.com",
];

/// Whether core accepts `email`, asked both ways: `EmailAddress::parse`, and `parse` of a
/// one-row file (the path every uploaded address takes); the two must agree.
fn core_accepts(email: &str) -> bool {
    let direct = EmailAddress::parse(email).is_ok();
    let quoted = email.replace('"', "\"\"");
    let file = format!("firstname,lastname,emailaddress\nAna,Lopez,\"{quoted}\"\n");
    let in_file = match parse(file.as_bytes(), &ParseOptions::default()) {
        Ok(upload) => {
            let row = upload.row(0).unwrap();
            // parse trims cells; compare what was kept
            row.is_valid() && row.email() == email
        }
        Err(_) => false,
    };
    let trimmed = email.trim() != email;
    if !trimmed {
        assert_eq!(
            direct, in_file,
            "{email:?}: EmailAddress::parse and parse differ"
        );
    }
    direct
}

fn lettre_accepts(email: &str) -> (bool, bool) {
    (
        email.parse::<Address>().is_ok(),
        email.parse::<Mailbox>().is_ok(),
    )
}

fn check(email: &str) -> bool {
    let core = core_accepts(email);
    if core {
        let (address, mailbox) = lettre_accepts(email);
        assert!(
            address && mailbox,
            "{email:?}: core accepts it, lettre does not (Address {address}, Mailbox {mailbox})"
        );
    }
    core
}

#[test]
fn tricky_addresses_core_accepts_are_deliverable() {
    let accepted = TRICKY.iter().filter(|e| check(e)).count();
    assert!(accepted >= 8, "{accepted} accepted");
}

#[test]
fn the_addresses_smtp_refuses_are_refused_at_validation() {
    for email in ["a..b@x.com", ".a@x.com", "a.@x.com", "\"a b\"@x.com"] {
        assert!(!core_accepts(email), "{email:?}");
        let file = format!("firstname,lastname,emailaddress\nAna,Lopez,{email}\n");
        let upload = parse(file.as_bytes(), &ParseOptions::default()).unwrap();
        let codes: Vec<IssueCode> = upload.issues().iter().map(|i| i.code).collect();
        assert_eq!(codes, [IssueCode::InvalidEmail], "{email:?}");
        assert!(!upload.row(0).unwrap().is_valid());
    }
    // what lettre refuses of them (the quoted one is valid RFC 5321: refused by decision)
    for email in ["a..b@x.com", ".a@x.com", "a.@x.com"] {
        assert_eq!(lettre_accepts(email), (false, false), "{email:?}");
    }
}

/// Every combination of up to three local-part pieces with each domain: the dots, quotes,
/// specials and non-ASCII letters that make the rules differ, next to each other.
#[test]
fn generated_addresses_core_accepts_are_deliverable() {
    let pieces = [
        "a",
        "Z9",
        ".",
        "..",
        "-",
        "_",
        "+t",
        "!#$%&'*/=?^`{|}~",
        "\"",
        "é",
        " ",
        "@",
        "\\",
    ];
    let long_local = "l".repeat(64);
    let long_label = format!("{}.com", "d".repeat(63));
    let long_domain = format!(
        "{}.{}.{}.{}.com",
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(50)
    );
    let domains = [
        "x.com",
        "b-c.io",
        "a.b.c.d",
        "bücher.de",
        "xn--bcher-kva.de",
        "-a.com",
        "a-.com",
        "a_b.com",
        "x..com",
        "localhost",
        "123.456",
        "[1.2.3.4]",
        long_label.as_str(),
        long_domain.as_str(),
    ];
    let mut locals: Vec<String> = vec![long_local.clone(), format!("{long_local}x")];
    for a in pieces {
        locals.push(a.to_owned());
        for b in pieces {
            locals.push(format!("{a}{b}"));
            for c in pieces {
                locals.push(format!("{a}{b}{c}"));
            }
        }
    }
    let (mut tried, mut accepted) = (0, 0);
    for local in &locals {
        for domain in domains {
            let email = format!("{local}@{domain}");
            tried += 1;
            accepted += usize::from(check(&email));
        }
    }
    println!("{tried} generated addresses, {accepted} accepted by core (and all by lettre)");
    assert!(accepted > 1_000, "{accepted} of {tried}");
}
