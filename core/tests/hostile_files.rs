//! A table of hand-made hostile files, each with the code it must produce. None may panic,
//! hang or allocate without bound; each gets a clear, stable answer.

#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{parse, IssueCode, ParseOptions, ResultError, ResultRow, Results, Status};

const HEADER: &str = "firstname,lastname,emailaddress,addgroup,languagecode\n";

/// What a hostile file must produce.
enum Expect {
    /// `parse` fails with this code.
    FileError(IssueCode),
    /// `parse` succeeds and this code is reported on this line (None: file-level).
    Issue(IssueCode, Option<u32>),
    /// `parse` succeeds with this many valid rows and no errors.
    Clean(usize),
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    options: ParseOptions,
    expect: Expect,
}

fn row(cells: &str) -> Vec<u8> {
    format!("{HEADER}{cells}\n").into_bytes()
}

fn case(name: &'static str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case {
        name,
        bytes,
        options: ParseOptions::default(),
        expect,
    }
}

fn cases() -> Vec<Case> {
    use Expect::*;
    use IssueCode as C;
    let mut utf16_odd = vec![0xFF, 0xFE];
    utf16_odd.extend("firstname".encode_utf16().flat_map(u16::to_le_bytes));
    utf16_odd.push(b'x');
    let mut utf16_surrogate = vec![0xFF, 0xFE];
    utf16_surrogate.extend([0x00, 0xD8, 0x41, 0x00]);
    let mut invalid_utf8 = HEADER.as_bytes().to_vec();
    invalid_utf8.extend(b"Zo\xEB,M\xFCller,zoe\xFF@example.com,Sal\xE9s,e\xF1\n");
    vec![
        case(
            "zip-bomb-like field of 10 MB",
            row(&format!("{},B,a@example.com,,", "A".repeat(10 << 20))),
            FileError(C::FieldTooLong),
        ),
        case(
            "a million columns in the header",
            format!("{}\n", ",x".repeat(1_000_000)).into_bytes(),
            FileError(C::TooManyColumns),
        ),
        case(
            "ten thousand columns in a row",
            row(&",".repeat(10_000)),
            FileError(C::TooManyColumns),
        ),
        case(
            "deeply quoted field",
            row(&format!("\"{}\",B,a@example.com,,", "\"\"".repeat(50_000))),
            FileError(C::FieldTooLong),
        ),
        case(
            "unterminated quote runs to the end",
            row("\"Ana,Lopez,ana@example.com,,\nBo,Chen,bo@example.com,,"),
            FileError(C::MalformedCsv),
        ),
        case(
            "invalid UTF-8 in every column",
            invalid_utf8,
            Issue(C::EncodingGuessed, None),
        ),
        case(
            "NUL byte in a name",
            row("An\0a,Lopez,ana@example.com,,"),
            Issue(C::ControlCharacter, Some(2)),
        ),
        case(
            "CR LF header injection in a name",
            row("\"Ana\r\nBcc: evil@example.com\",Lopez,ana@example.com,,"),
            Issue(C::ControlCharacter, Some(2)),
        ),
        case(
            "header injection in the language code",
            row("Ana,Lopez,ana@example.com,,\"en\nBcc: x@y.z\""),
            Issue(C::ControlCharacter, Some(2)),
        ),
        case(
            "RTL override in a name",
            row("Ana\u{202E}gpj.exe,Lopez,ana@example.com,,"),
            Issue(C::ControlCharacter, Some(2)),
        ),
        case(
            "bidi isolate in a group",
            row("Ana,Lopez,ana@example.com,Sa\u{2066}les,"),
            Issue(C::ControlCharacter, Some(2)),
        ),
        case(
            "Cyrillic homoglyph in the local part",
            row("Ana,Lopez,\u{0430}na@example.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "combining accent (NFD) in the local part",
            row("Zoe,Ngata,zoe\u{0301}@example.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "combining accent (NFD) in the domain",
            row("Zoe,Ngata,zoe@exa\u{0301}mple.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "fullwidth at sign",
            row("Ana,Lopez,ana\u{FF20}example.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "zero-width space in the email",
            row("Ana,Lopez,ana\u{200B}@example.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "Kelvin sign folds to k: a duplicate",
            format!("{HEADER}A,B,ana@kelvin.com,,\nC,D,ana@\u{212A}elvin.com,,\n").into_bytes(),
            Issue(C::DuplicateEmail, Some(3)),
        ),
        case(
            "duplicate differing in case",
            format!("{HEADER}A,B,ana@example.com,,\nC,D,ANA@EXAMPLE.COM,,\n").into_bytes(),
            Issue(C::DuplicateEmail, Some(3)),
        ),
        case(
            "email of 255 bytes",
            row(&format!("A,B,{}@{}.com,,", "a".repeat(60), "b".repeat(190))),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "local part of 65 bytes",
            row(&format!("A,B,{}@example.com,,", "a".repeat(65))),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "email with two at signs",
            row("A,B,a@b@example.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "two dots in a row in the local part",
            row("A,B,a..b@x.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "a dot first in the local part",
            row("A,B,.a@x.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "a dot last in the local part",
            row("A,B,a.@x.com,,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "a quoted local part",
            row("A,B,\"\"\"a b\"\"@x.com\",,"),
            Issue(C::InvalidEmail, Some(2)),
        ),
        case(
            "fifty million delimiters on one line",
            row(&format!("A,B,a@example.com{}", ",".repeat(50_000_000))),
            FileError(C::TooManyColumns),
        ),
        case("empty file", Vec::new(), FileError(C::EmptyFile)),
        case(
            "only a BOM",
            b"\xEF\xBB\xBF".to_vec(),
            FileError(C::EmptyFile),
        ),
        case(
            "only blank lines",
            "\r\n\n \n\t\n".repeat(10_000).into_bytes(),
            FileError(C::EmptyFile),
        ),
        case(
            "UTF-16 with an odd byte count",
            utf16_odd,
            FileError(C::InvalidEncoding),
        ),
        case(
            "UTF-16 with a lone surrogate",
            utf16_surrogate,
            FileError(C::InvalidEncoding),
        ),
        case(
            "header of delimiters only",
            b",,,,\nA,B,a@example.com,,\n".to_vec(),
            FileError(C::MissingRequiredColumn),
        ),
        case(
            "the email column twice",
            b"firstname,lastname,email,E-mail\nA,B,a@example.com,b@example.com\n".to_vec(),
            FileError(C::DuplicateColumn),
        ),
        case(
            "header only",
            HEADER.as_bytes().to_vec(),
            FileError(C::NoDataRows),
        ),
        case(
            "group name of 300 characters",
            row(&format!("A,B,a@example.com,{},", "G".repeat(300))),
            Issue(C::ValueTooLong, Some(2)),
        ),
        case(
            "thousands of empty group names",
            row(&format!("A,B,a@example.com,{},", ";".repeat(3_000))),
            Clean(1),
        ),
        case(
            "formula cells are data, not errors",
            row("=HYPERLINK(\"http://evil\"),@SUM(1),a@example.com,,"),
            Clean(1),
        ),
        case(
            "script tags in a name are data",
            row("<script>alert(1)</script>,B,a@example.com,,"),
            Clean(1),
        ),
        case(
            "a thousand blank lines between rows",
            format!("{HEADER}{}A,B,a@example.com,,\n", "\n".repeat(1_000)).into_bytes(),
            Clean(1),
        ),
        case(
            "sep= line naming an odd delimiter",
            b"sep=|\nfirstname|lastname|email\nA|B|a@example.com\n".to_vec(),
            Clean(1),
        ),
        Case {
            name: "more rows than max_rows",
            bytes: format!("{HEADER}{}", "A,B,a@example.com,,\n".repeat(11)).into_bytes(),
            options: ParseOptions {
                max_rows: 10,
                ..Default::default()
            },
            expect: FileError(C::TooManyRows),
        },
        Case {
            name: "bigger than max_file_bytes",
            bytes: row("A,B,a@example.com,,"),
            options: ParseOptions {
                max_file_bytes: 16,
                ..Default::default()
            },
            expect: FileError(C::FileTooLarge),
        },
    ]
}

#[test]
fn hostile_files_get_their_codes() {
    let cases = cases();
    assert!(
        cases.len() >= 30,
        "at least 30 hostile files ({})",
        cases.len()
    );
    for case in &cases {
        let outcome = parse(&case.bytes, &case.options);
        match (&case.expect, &outcome) {
            (Expect::FileError(code), Err(error)) => {
                assert_eq!(error.code(), *code, "{}: {error}", case.name)
            }
            (Expect::Issue(code, line), Ok(upload)) => assert!(
                upload
                    .issues()
                    .iter()
                    .any(|i| i.code == *code && i.line == *line),
                "{}: expected {code} on {line:?}, got {:#?}",
                case.name,
                upload.issues()
            ),
            (Expect::Clean(rows), Ok(upload)) => {
                assert_eq!(
                    upload.valid_rows().count(),
                    *rows,
                    "{}: {:#?}",
                    case.name,
                    upload.issues()
                );
                assert!(
                    !upload.has_errors(),
                    "{}: {:#?}",
                    case.name,
                    upload.issues()
                );
            }
            (_, Ok(upload)) => panic!("{}: parsed, with issues {:#?}", case.name, upload.issues()),
            (_, Err(error)) => panic!("{}: failed with {error}", case.name),
        }
    }
    println!("hostile files tried: {}", cases.len());
}

#[test]
fn formula_cells_are_neutralised_in_the_results_export() {
    let upload = parse(
        &row("=HYPERLINK(\"http://evil\"),B,=1+2@example.com,,"),
        &ParseOptions::default(),
    )
    .unwrap();
    let email = upload.row(0).unwrap().email().to_owned();
    assert!(
        upload.row(0).unwrap().is_valid(),
        "'=' is allowed in the local part of an address"
    );
    let results = Results {
        fingerprint: String::new(),
        summary: Default::default(),
        rows: vec![ResultRow {
            line: 2,
            email,
            status: Status::Failed,
            user_id: None,
            done: vec![],
            error: Some(ResultError::new(
                IssueCode::StoreFailed,
                "+cmd|' /C calc'!A0",
            )),
        }],
        cancelled: false,
        confirmation_error: None,
        shard: None,
        confirmation_deferred: false,
        undo_of: None,
        provenance: Default::default(),
    };
    let csv = results.to_csv();
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unneutralised cell {cell:?} in {csv}"
            );
        }
    }
}
