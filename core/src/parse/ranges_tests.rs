//! The rows read as ranges of the body (the usual path) against the same rows read as
//! text (the path of merged cells and of records whose fields are not in the body as they
//! are): the same upload, byte for byte, or the same error.

use crate::parse::fields::ProfileField;
use crate::ParseOptions;

thread_local! {
    /// Every row of a parse on this thread read as text (a parse on one thread only).
    pub(super) static TEXT_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The upload (its `Debug` form: header, rows' lines, validity and values, issues) or
/// the error, read by one path or the other.
fn outcome(bytes: &[u8], options: &ParseOptions, text_only: bool) -> String {
    TEXT_ONLY.with(|t| t.set(text_only));
    let outcome = crate::parse(bytes, options);
    TEXT_ONLY.with(|t| t.set(false));
    match outcome {
        Ok(upload) => format!("{upload:?}"),
        Err(error) => format!("{error:?} {error}"),
    }
}

#[test]
fn ranges_read_as_text_does() {
    let headers = [
        "firstname,lastname,emailaddress,password,country,languagecode,department",
        "emailaddress;lastname;firstname;auth;organisation",
        "firstname,lastname,emailaddress,addgroup,removegroup",
        "lastname,firstname,emailaddress",
    ];
    // pieces of cells: spaces and non-ASCII whitespace to trim, quotes, the clear token,
    // long values, controls, non-ASCII letters, valid and invalid addresses
    let pieces = [
        "a",
        "Zoë",
        " ",
        "\u{a0}",
        "\u{3000}",
        "\t",
        "\"",
        "\"\"",
        "#CLEAR",
        "ana@example.com",
        "ANA@example.com",
        "bo@x",
        "en-NZ",
        "en_NZ",
        "saml",
        "g1;g2",
        "\u{202e}",
        "\u{1}",
        ",",
        ";",
        "\r\n",
        "\n",
        "\r",
        "x@y.nz",
        &"w".repeat(300),
        "é@ü.de",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    let mut files: Vec<String> = Vec::new();
    for round in 0..600 {
        let mut file = format!("{}\n", headers[round % headers.len()]);
        for _ in 0..next(12) {
            for cell in 0..next(9) {
                if cell > 0 {
                    file.push(if round % 2 == 0 { ',' } else { ';' });
                }
                for _ in 0..next(4) {
                    file.push_str(pieces[next(pieces.len())]);
                }
            }
            file.push_str(["\n", "\r\n", "\n\n", ""][next(4)]);
        }
        files.push(file);
    }
    // rows in the usual shape: adjacent values, trimmed values, blank ones, quoted ones
    files.push(
        "firstname,lastname,emailaddress,country\nAna,Lopez,ana@example.com,NZ\n \
         Bo , Chen ,bo@example.com,\n,,,\n\"Cy\",\"Di\",\"cy@example.com\",\"AU\"\n\
         Ed,Fa,ed@example.com,NZ,extra\nGi,Ha,gi@example.com,NZ,,\n"
            .to_owned(),
    );
    let field = ProfileField::text("department");
    for (i, file) in files.iter().enumerate() {
        for options in [
            ParseOptions {
                threads: 1,
                fields: vec![field.clone()],
                login_methods: vec!["saml".into()],
                ..ParseOptions::default()
            },
            ParseOptions {
                threads: 1,
                delimiter: Some(b';'),
                max_field_bytes: 64,
                max_value_chars: 8,
                max_issues_per_row: 2,
                clear_token: None,
                ..ParseOptions::default()
            },
        ] {
            let ranges = outcome(file.as_bytes(), &options, false);
            let text = outcome(file.as_bytes(), &options, true);
            assert_eq!(ranges, text, "file {i}: {file:?}");
        }
    }
}
