//! Parsing on several threads gives what one pass gives, byte for byte: every scenario's
//! upload (with its parse options), every fixture, and generated files made to put
//! quoted cells, CRLF, a byte order mark, blank lines, duplicates, issue caps and errors
//! across the chunk cuts. Each file is read on 1 thread and on 2 and 3 with the body cut
//! every few bytes (`parse_with_chunks`), so a cut falls everywhere; the outcomes are
//! compared by their Debug form (each row's line, validity and values, the issues, or the
//! error).
#![allow(clippy::unwrap_used)]

#[allow(dead_code)] // each test file uses some of them
mod generators {
    include!("harness/hostile.rs");
}

use lms_bulk_upload::{parse_with_chunks, ParseOptions};
use std::path::Path;

/// Compares one thread with several, cutting every one of `cuts` bytes.
fn same_on_threads(name: &str, bytes: &[u8], options: &ParseOptions, cuts: &[usize]) {
    let one = ParseOptions {
        threads: 1,
        ..options.clone()
    };
    let expected = format!("{:?}", parse_with_chunks(bytes, &one, None));
    for &threads in &[2, 3] {
        for &cut in cuts {
            let many = ParseOptions {
                threads,
                ..options.clone()
            };
            let got = format!("{:?}", parse_with_chunks(bytes, &many, Some(cut)));
            assert!(
                got == expected,
                "{name}: {threads} threads, cut every {cut} bytes:\n{got}\n  instead of\n{expected}"
            );
        }
    }
}

/// Cut sizes for a file of `len` bytes: every few bytes up to a few chunks.
fn cuts_for(len: usize) -> Vec<usize> {
    let mut cuts = vec![1, 2, 3, 5, 8, 13, 34, 89];
    cuts.extend([len / 3, len / 2].into_iter().filter(|&c| c > 89));
    cuts
}

/// Option sets that move the caps and limits to where the chunks meet.
fn option_sets() -> Vec<ParseOptions> {
    vec![
        ParseOptions::default(),
        ParseOptions {
            max_issues: 3,
            max_issues_per_row: 1,
            ..Default::default()
        },
        ParseOptions {
            max_issues: 0,
            ..Default::default()
        },
        ParseOptions {
            max_rows: 4,
            max_issues: 5,
            max_issues_per_row: 2,
            ..Default::default()
        },
        ParseOptions {
            max_field_bytes: 24,
            max_columns: 6,
            ..Default::default()
        },
    ]
}

#[test]
fn scenario_uploads_parse_alike_on_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios");
    let mut seen = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let scenario: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("scenario.json")).unwrap()).unwrap();
        let options = match scenario.get("parse_options") {
            Some(value) => match ParseOptions::from_value(value.clone()) {
                Ok(options) => options,
                Err(_) => continue, // a scenario of refused options
            },
            None => ParseOptions::default(),
        };
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("upload") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            same_on_threads(
                &path.display().to_string(),
                &bytes,
                &options,
                &cuts_for(bytes.len()),
            );
            seen += 1;
        }
    }
    assert!(seen >= 150, "{seen} scenario uploads");
}

#[test]
fn fixtures_parse_alike_on_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    assert!(paths.len() >= 20);
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        for options in option_sets() {
            same_on_threads(
                &path.display().to_string(),
                &bytes,
                &options,
                &cuts_for(bytes.len()),
            );
        }
    }
}

/// Files made for the cuts: quoted cells across lines, CRLF, byte order marks, blank
/// lines, duplicates in different case far apart, rows of errors, `sep=`.
fn crafted() -> Vec<(&'static str, Vec<u8>)> {
    let header = "firstname,lastname,emailaddress,addgroup,removegroup,organisation";
    let mut files = Vec::new();
    let mut rows = String::from(header);
    rows.push('\n');
    for i in 0..40 {
        let org = match i % 5 {
            0 => "\"Acme\nLtd\"".to_owned(),
            1 => "\"Say \"\"hi\"\"\r\n\r\nthere\"".to_owned(),
            2 => "\"a,b\"".to_owned(),
            3 => "\u{FEFF}Bom".to_owned(),
            _ => String::new(),
        };
        let email = if i % 7 == 3 {
            format!("DUP{}@Example.com", i % 3)
        } else if i % 11 == 5 {
            "not-an-email".to_owned()
        } else {
            format!("user{i}@example.com")
        };
        let first = if i % 9 == 4 { "" } else { "Ana" };
        rows.push_str(&format!("{first},Lopez,{email},g1;g2,g2,{org}\n"));
        if i % 6 == 2 {
            rows.push_str("\n\r\n");
        }
    }
    files.push(("quoted cells across lines", rows.clone().into_bytes()));
    files.push((
        "the same with CRLF",
        rows.replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .into_bytes(),
    ));
    files.push((
        "the same after a BOM and sep=",
        format!("\u{FEFF}sep=,\n{rows}").into_bytes(),
    ));
    let mut bom_lines = String::from(header);
    for i in 0..20 {
        bom_lines.push_str(&format!(
            "\n\u{FEFF}\"Bo\",Chen,b{i}@example.com,,,\u{FEFF}x"
        ));
    }
    files.push(("byte order marks starting lines", bom_lines.into_bytes()));
    files.push((
        "an unterminated quote at the end",
        format!("{rows}Ana,Lopez,late@example.com,,,\"never closed\nmore\n").into_bytes(),
    ));
    files.push((
        "an unterminated quote in the middle",
        format!("{rows}Ana,\"Lopez\n{rows}").into_bytes(),
    ));
    files.push((
        "too many columns in the middle",
        format!("{rows}a,b,c,d,e,f,g,h,i,j,k,l\n{rows}").into_bytes(),
    ));
    files.push((
        "a quote opened mid-cell",
        format!("{rows}Ana,Lo\"pez,q@example.com,,,\"x\ny\"\n{rows}").into_bytes(),
    ));
    files.push(("old Mac line ends", rows.replace('\n', "\r").into_bytes()));
    files
}

#[test]
fn crafted_files_parse_alike_on_threads() {
    // (a cut every byte is a cut at every line: each chunk one record)
    for (name, bytes) in crafted() {
        for options in option_sets() {
            same_on_threads(name, &bytes, &options, &[1, 7, 34, bytes.len() / 3]);
        }
    }
}

/// Random files from an alphabet of the bytes that matter (quotes, delimiters, line
/// breaks, a BOM, non-ASCII), under a valid header: many seeds, every cut.
#[test]
fn random_files_parse_alike_on_threads() {
    let pieces: &[&str] = &[
        "a", "Zoë", ",", ",", ",", "\"", "\"", "\n", "\n", "\r\n", "\r", "@", "x@y.nz", " ",
        "\u{FEFF}", ";", "#clear", "\t",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    let options = option_sets();
    for seed in 0..300 {
        let mut text = String::from("firstname,lastname,emailaddress,addgroup\n");
        for _ in 0..next(300) {
            text.push_str(pieces[next(pieces.len())]);
        }
        let bytes = text.into_bytes();
        let set = &options[seed % options.len()];
        same_on_threads(
            &format!("random file {seed}"),
            &bytes,
            set,
            &[1, 2, 4, 7, 16],
        );
    }
}

#[test]
fn hostile_files_parse_alike_on_threads() {
    use generators::*;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("bad rows", bad_rows(20_000)),
        ("unterminated quote", unterminated_quote(20_000)),
        ("utf-16", utf16_file(300)),
        ("blank lines", blank_lines(20_000)),
        ("windows-1252", windows_1252_euros(300)),
        ("narrow rows", narrow_rows(20_000)),
        ("clean", clean_file(500)),
    ];
    for (name, bytes) in files {
        same_on_threads(
            name,
            &bytes,
            &ParseOptions::default(),
            &[97, 1000, bytes.len() / 3],
        );
    }
}

/// The host protocol's parse options name the threads too (`"threads"`), as the bindings
/// pass them; any number gives the same upload.
#[test]
fn threads_come_from_the_host_protocol_options() {
    let one = ParseOptions::from_value(serde_json::json!({ "threads": 1 })).unwrap();
    let four = ParseOptions::from_value(serde_json::json!({ "threads": 4 })).unwrap();
    assert_eq!((one.threads, four.threads), (1, 4));
    assert_eq!(ParseOptions::default().threads, 0, "0: the available cores");
    let refused = ParseOptions::from_value(serde_json::json!({ "threads": -1 }));
    assert_eq!(refused.unwrap_err().code().as_str(), "invalid_option");
    let (_, bytes) = crafted().swap_remove(0);
    let expected = format!("{:?}", parse_with_chunks(&bytes, &one, Some(13)));
    assert_eq!(
        format!("{:?}", parse_with_chunks(&bytes, &four, Some(13))),
        expected
    );
    assert_eq!(
        format!("{:?}", lms_bulk_upload::parse(&bytes, &four)),
        expected
    );
}

/// Duplicates in an upload large enough to be searched on several threads (65,536 valid
/// rows and more): addresses repeated in other case, one address many times (a group of
/// equal hashes sorted by key), duplicates far apart and next to each other.
#[test]
fn duplicates_found_on_threads_are_those_found_on_one() {
    let mut file = String::from("firstname,lastname,email\n");
    for i in 0..80_000u32 {
        let email = match i % 10 {
            3 => format!("User{}@Example.com", i / 7),
            7 => "same@example.com".to_owned(),
            9 => format!("user{}@example.COM", i - 1),
            _ => format!("user{i}@example.com"),
        };
        file.push_str(&format!("F{i},L{i},{email}\n"));
    }
    // every duplicate listed, with the line of its first occurrence
    let one = ParseOptions {
        threads: 1,
        max_issues: 100_000,
        ..ParseOptions::default()
    };
    let expected = format!("{:?}", parse_with_chunks(file.as_bytes(), &one, None));
    let duplicates = expected.matches("DuplicateEmail").count();
    assert!(duplicates > 10_000, "{duplicates} duplicates listed");
    for threads in [2, 3, 4, 16] {
        let many = ParseOptions {
            threads,
            ..one.clone()
        };
        let got = format!("{:?}", parse_with_chunks(file.as_bytes(), &many, None));
        assert!(got == expected, "{threads} threads");
    }
}

/// A file lent to `parse` on several threads (past a MiB) is copied on those threads
/// before it is decoded, its lines counted on the lent bytes meanwhile: UTF-8 with and
/// without a byte order mark or Excel's `sep=` line (its line end CRLF, or CRs only),
/// Windows-1252 detected or named, UTF-8 named for a file that is not (an error), UTF-16
/// and a spreadsheet's magic bytes (not copied so) all give what one thread gives, lent or
/// handed over, or shared as text (each of them that is UTF-8).
#[test]
fn lent_files_past_a_mib_parse_alike_on_threads() {
    use generators::*;
    use lms_bulk_upload::{parse, parse_owned, parse_shared, Encoding, SharedText};
    let utf8 = clean_file(15_000);
    assert!(utf8.len() > 1 << 20);
    let bom = [b"\xEF\xBB\xBF".as_slice(), &utf8].concat();
    let sep = [b"sep=,\r\n".as_slice(), &utf8].concat();
    let bom_sep = [b"\xEF\xBB\xBFSEP=,\r\r\n".as_slice(), &utf8].concat();
    let sep_cr = [b"sep=,\r".as_slice(), &utf8].concat();
    let crlf = String::from_utf8(utf8.clone())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let latin: Vec<u8> = String::from_utf8(utf8.clone())
        .unwrap()
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let mut broken = utf8.clone();
    broken.extend_from_slice(b"Ana,L\xF3pez,ana@example.com\n");
    let utf16 = utf16_file(15_000);
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend_from_slice(&utf8);
    let named = |encoding| ParseOptions {
        encoding: Some(encoding),
        ..ParseOptions::default()
    };
    let files: Vec<(&str, &[u8], ParseOptions)> = vec![
        ("utf-8", &utf8, ParseOptions::default()),
        ("utf-8 named", &utf8, named(Encoding::Utf8)),
        (
            "utf-8 with a byte order mark",
            &bom,
            ParseOptions::default(),
        ),
        ("sep=", &sep, ParseOptions::default()),
        (
            "a byte order mark and sep=",
            &bom_sep,
            ParseOptions::default(),
        ),
        ("sep= ended by a CR", &sep_cr, ParseOptions::default()),
        ("CRLF", &crlf, ParseOptions::default()),
        ("windows-1252", &latin, ParseOptions::default()),
        ("windows-1252 named", &latin, named(Encoding::Windows1252)),
        ("not utf-8, named so", &broken, named(Encoding::Utf8)),
        ("not utf-8", &broken, ParseOptions::default()),
        ("utf-16", &utf16, ParseOptions::default()),
        ("zip magic", &zip, ParseOptions::default()),
        (
            "too large",
            &utf8,
            ParseOptions {
                max_file_bytes: 1 << 20,
                ..ParseOptions::default()
            },
        ),
    ];
    for (name, bytes, options) in files {
        let on = |threads| ParseOptions {
            threads,
            ..options.clone()
        };
        let expected = format!("{:?}", parse(bytes, &on(1)));
        for threads in [2, 3] {
            let lent = format!("{:?}", parse(bytes, &on(threads)));
            assert!(lent == expected, "{name}, lent, {threads} threads");
            let given = format!("{:?}", parse_owned(bytes.to_vec(), &on(threads)));
            assert!(given == expected, "{name}, handed over, {threads} threads");
            if let Ok(text) = std::str::from_utf8(bytes) {
                let text: SharedText = std::sync::Arc::new(text.to_owned());
                let shared = format!("{:?}", parse_shared(text, &on(threads)));
                assert!(shared == expected, "{name}, shared, {threads} threads");
            }
        }
    }
}

/// A host whose shared text changes (against `SharedText`'s contract) gets wrong values
/// or a file error, never a panic: after the parse, every value is read through a checked
/// slice, here of a text shorter than the one parsed; during the parse, the text past its
/// byte order mark is taken by a checked slice too.
#[test]
fn shared_text_that_changes_reads_wrong_never_panics() {
    use lms_bulk_upload::{parse_shared, Column, SharedText};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    struct Shrinking {
        shrunk: AtomicBool,
        text: String,
    }
    impl AsRef<str> for Shrinking {
        fn as_ref(&self) -> &str {
            match self.shrunk.load(Ordering::Relaxed) {
                false => &self.text,
                true => &self.text[..40],
            }
        }
    }
    let text = "firstname,lastname,emailaddress\nZo\u{eb},Ngata,zoe@example.nz\nAna,Lopez,ana@example.com\n";
    let host = Arc::new(Shrinking {
        shrunk: AtomicBool::new(false),
        text: text.to_owned(),
    });
    let upload = parse_shared(host.clone() as SharedText, &ParseOptions::default()).unwrap();
    assert_eq!(upload.row(1).unwrap().email(), "ana@example.com");
    host.shrunk.store(true, Ordering::Relaxed);
    assert_eq!(upload.len(), 2);
    // Changed during the parse, after the byte order mark was seen: an error, no panic.
    struct Flipping(AtomicBool);
    impl AsRef<str> for Flipping {
        fn as_ref(&self) -> &str {
            match self.0.swap(true, Ordering::Relaxed) {
                false => "\u{feff}firstname,lastname,emailaddress\nAna,Lopez,ana@example.com\n",
                true => "ab",
            }
        }
    }
    let flipping: SharedText = Arc::new(Flipping(AtomicBool::new(false)));
    let error = parse_shared(flipping, &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code().as_str(), "empty_file");
    let _ = format!("{upload:?}");
    for row in upload.rows() {
        for column in [Column::FirstName, Column::LastName, Column::EmailAddress] {
            let value = row.get(column);
            assert!(value.is_empty() || text.contains(value), "{value:?}");
        }
    }
}

/// A UTF-8 file's shared text is read in place, not copied: the values of its upload are
/// slices of the host's buffer (with and without a byte order mark and `sep=`), and the
/// upload keeps that buffer alive after the host lets go of it. Named in another encoding,
/// the same text is decoded into text of the upload's own, as `parse` decodes it.
#[test]
fn shared_text_is_read_in_place() {
    use lms_bulk_upload::{parse, parse_shared, Column, Encoding, SharedText};
    use std::sync::Arc;
    let csv = "firstname,lastname,emailaddress\nZo\u{eb},Ngata,zoe@example.nz\n";
    for prefix in ["", "\u{feff}", "sep=,\r\n", "\u{feff}sep=,\n"] {
        for threads in [1, 2] {
            let options = ParseOptions {
                threads,
                ..ParseOptions::default()
            };
            let owned = Arc::new(format!("{prefix}{csv}"));
            let range = owned.as_bytes().as_ptr_range();
            let upload = parse_shared(owned.clone() as SharedText, &options).unwrap();
            drop(owned);
            let row = upload.row(0).unwrap();
            assert_eq!(
                (row.get(Column::FirstName), row.email()),
                ("Zo\u{eb}", "zoe@example.nz")
            );
            for value in [row.get(Column::FirstName), row.email()] {
                assert!(range.contains(&value.as_ptr()), "{prefix:?}: copied");
            }
        }
    }
    let latin = ParseOptions {
        encoding: Some(Encoding::Windows1252),
        ..ParseOptions::default()
    };
    let text: SharedText = Arc::new(csv.to_owned());
    let decoded = parse_shared(text, &latin).unwrap();
    assert_eq!(
        decoded.row(0).unwrap().get(Column::FirstName),
        "Zo\u{c3}\u{ab}"
    );
    assert_eq!(
        format!("{decoded:?}"),
        format!("{:?}", parse(csv.as_bytes(), &latin).unwrap())
    );
}
