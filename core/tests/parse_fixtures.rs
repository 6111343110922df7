//! Spreadsheet-exported fixture files (core/tests/fixtures/) with their expected reports as
//! `insta` snapshots (core/tests/snapshots/), plus tests of `parse` through the public API.
//!
//! Update snapshots with `INSTA_UPDATE=always cargo test -p lms-bulk-upload --test
//! parse_fixtures`, then review every changed `.snap` file against docs/CONTRACT.md §1.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    issue_codes, parse, Column, Encoding, Error, ErrorKind, FileReport, Issue, IssueCode,
    ParseOptions, RowData, Severity, Upload,
};
use serde::Serialize;
use std::collections::HashSet;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a snapshot of a successful parse holds: the report and every row's values.
#[derive(Serialize)]
struct Parsed {
    report: FileReport,
    rows: Vec<RowData>,
}

fn parsed(upload: &Upload) -> Parsed {
    Parsed {
        report: upload.report(),
        rows: upload.rows().map(|r| r.to_data()).collect(),
    }
}

fn ok(name: &str, options: &ParseOptions) -> Upload {
    match parse(&fixture(name), options) {
        Ok(upload) => upload,
        Err(e) => panic!("{name}: unexpected error {e}"),
    }
}

fn err(name: &str, options: &ParseOptions) -> Error {
    match parse(&fixture(name), options) {
        Ok(upload) => panic!("{name}: expected an error, got {:?}", upload.report()),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::File, "{name}");
            e
        }
    }
}

fn codes(upload: &Upload) -> Vec<(Option<u32>, &'static str, Option<&str>)> {
    upload
        .issues()
        .iter()
        .map(|i| (i.line, i.code.as_str(), i.column.as_deref()))
        .collect()
}

fn defaults() -> ParseOptions {
    ParseOptions::default()
}

macro_rules! good_fixture {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            let upload = ok($file, &defaults());
            insta::assert_json_snapshot!(parsed(&upload));
        }
    };
}

macro_rules! bad_fixture {
    ($test:ident, $file:literal, $code:literal) => {
        #[test]
        fn $test() {
            let error = err($file, &defaults());
            assert_eq!(error.code().as_str(), $code, "{error}");
            insta::assert_json_snapshot!(error.issue());
        }
    };
}

// ---- Files as spreadsheet programs export them ----------------------------------------

good_fixture!(excel_utf8_bom, "excel_utf8_bom.csv");
good_fixture!(excel_unicode_text_utf16le, "excel_unicode_text_utf16le.txt");
good_fixture!(utf16be, "utf16be.csv");
good_fixture!(windows1252, "windows1252.csv");
good_fixture!(semicolon_european, "semicolon_european.csv");
good_fixture!(sep_line, "sep_line.csv");
good_fixture!(libreoffice_quoted, "libreoffice_quoted.csv");
good_fixture!(google_sheets, "google_sheets.csv");
good_fixture!(blank_lines_short_rows, "blank_lines_short_rows.csv");
good_fixture!(spaces_trailing_comma, "spaces_trailing_comma.csv");
good_fixture!(groups, "groups.csv");
good_fixture!(header_aliases, "header_aliases.csv");

// ---- Files with row problems (parse succeeds, rows are rejected) ----------------------

good_fixture!(duplicate_emails_case, "duplicate_emails_case.csv");
good_fixture!(invalid_emails, "invalid_emails.csv");
good_fixture!(bad_languagecode, "bad_languagecode.csv");
good_fixture!(control_characters, "control_characters.csv");
good_fixture!(group_conflict, "group_conflict.csv");
good_fixture!(value_too_long, "value_too_long.csv");
good_fixture!(
    unknown_column_extra_values,
    "unknown_column_extra_values.csv"
);

// ---- Files that cannot be used -------------------------------------------------------

bad_fixture!(
    missing_required_column,
    "missing_required_column.csv",
    "missing_required_column"
);
bad_fixture!(duplicate_column, "duplicate_column.csv", "duplicate_column");
bad_fixture!(empty, "empty.csv", "empty_file");
bad_fixture!(blank_only, "blank_only.csv", "empty_file");
bad_fixture!(bom_only, "bom_only.csv", "empty_file");
bad_fixture!(header_only, "header_only.csv", "no_data_rows");
bad_fixture!(
    unterminated_quote,
    "unterminated_quote.csv",
    "malformed_csv"
);
bad_fixture!(
    unterminated_quote_after_blank_line,
    "unterminated_quote_after_blank_line.csv",
    "malformed_csv"
);
bad_fixture!(
    unterminated_quote_in_header,
    "unterminated_quote_in_header.csv",
    "malformed_csv"
);
bad_fixture!(invalid_utf16, "invalid_utf16.csv", "invalid_encoding");

// ---- Limits, with small options on ordinary fixtures ----------------------------------

#[test]
fn limit_file_too_large() {
    let options = ParseOptions {
        max_file_bytes: 100,
        ..defaults()
    };
    let error = err("excel_utf8_bom.csv", &options);
    assert_eq!(error.code(), IssueCode::FileTooLarge);
    insta::assert_json_snapshot!(error.issue());
}

#[test]
fn limit_too_many_rows() {
    let options = ParseOptions {
        max_rows: 2,
        ..defaults()
    };
    let error = err("blank_lines_short_rows.csv", &options);
    assert_eq!(error.code(), IssueCode::TooManyRows);
    insta::assert_json_snapshot!(error.issue());
}

#[test]
fn limit_too_many_columns() {
    let options = ParseOptions {
        max_columns: 5,
        ..defaults()
    };
    let error = err("unknown_column_extra_values.csv", &options);
    assert_eq!(error.code(), IssueCode::TooManyColumns);
    insta::assert_json_snapshot!(error.issue());
}

#[test]
fn limit_field_too_long() {
    let options = ParseOptions {
        max_field_bytes: 16,
        ..defaults()
    };
    let error = err("libreoffice_quoted.csv", &options);
    assert_eq!(error.code(), IssueCode::FieldTooLong);
    insta::assert_json_snapshot!(error.issue());
}

#[test]
fn limit_value_too_long() {
    let options = ParseOptions {
        max_value_chars: 4,
        ..defaults()
    };
    let upload = ok("groups.csv", &options);
    insta::assert_json_snapshot!(upload.report());
}

// ---- Unit-style tests through the public API ------------------------------------------

fn parse_str(text: &str) -> Result<Upload, Error> {
    parse(text.as_bytes(), &defaults())
}

#[test]
fn header_aliases_and_spellings() {
    for (header, column) in [
        ("firstname", Column::FirstName),
        ("First Name", Column::FirstName),
        ("first_name", Column::FirstName),
        ("FIRST-NAME", Column::FirstName),
        ("  Given Name ", Column::FirstName),
        ("Surname", Column::LastName),
        ("Last Name", Column::LastName),
        ("E-mail Address", Column::EmailAddress),
        ("Email", Column::EmailAddress),
        ("e_mail", Column::EmailAddress),
        ("Phone", Column::PhoneNumber),
        ("Mobile Number", Column::PhoneNumber),
        ("Unique ID", Column::UniqueId),
        ("Employee ID", Column::UniqueId),
        ("Organization", Column::Organisation),
        ("Company", Column::Organisation),
        ("Language Code", Column::LanguageCode),
        ("locale", Column::LanguageCode),
        ("Add Group", Column::AddGroup),
        ("Groups", Column::AddGroup),
        ("Remove Group", Column::RemoveGroup),
        ("Country", Column::Country),
    ] {
        assert_eq!(Column::from_header(header), Some(column), "{header:?}");
    }
    for unknown in ["id", "name", "shoe size", "", "emailaddress2", "username"] {
        assert_eq!(Column::from_header(unknown), None, "{unknown:?}");
    }
    // Through parse: the header cells keep their text and their matched column.
    let upload = parse_str("Given Name,SURNAME,E-Mail,Shoe Size\nA,B,a@example.com,40\n").unwrap();
    let header: Vec<_> = upload
        .header()
        .iter()
        .map(|h| (h.header.as_str(), h.column))
        .collect();
    assert_eq!(
        header,
        [
            ("Given Name", Some(Column::FirstName)),
            ("SURNAME", Some(Column::LastName)),
            ("E-Mail", Some(Column::EmailAddress)),
            ("Shoe Size", None),
        ]
    );
    assert_eq!(
        codes(&upload),
        [(Some(1), "unknown_column", Some("Shoe Size"))]
    );
    assert_eq!(upload.issues()[0].severity, Severity::Warning);
}

#[test]
fn delimiter_detection() {
    for (text, delimiter) in [
        ("firstname,lastname,emailaddress\nA,B,a@example.com\n", ','),
        ("firstname;lastname;emailaddress\nA;B;a@example.com\n", ';'),
        (
            "firstname\tlastname\temailaddress\nA\tB\ta@example.com\n",
            '\t',
        ),
        // Quoted delimiters in the header do not count.
        (
            "firstname,\"a;b;c\",lastname,emailaddress\nA,,B,a@example.com\n",
            ',',
        ),
        // sep= wins over counting (the header has more commas than semicolons).
        (
            "sep=;\nfirstname;lastname;emailaddress;a,b,c,d,e\nA;B;a@example.com\n",
            ';',
        ),
        (
            "SEP=\t\nfirstname\tlastname\temailaddress\nA\tB\ta@example.com\n",
            '\t',
        ),
    ] {
        let upload = parse_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(upload.delimiter(), delimiter, "{text:?}");
        assert_eq!(upload.len(), 1, "{text:?}");
        assert_eq!(upload.row(0).unwrap().get(Column::FirstName), "A");
    }
    // A given delimiter is used as is.
    let options = ParseOptions {
        delimiter: Some(b'|'),
        ..defaults()
    };
    let upload = parse(
        b"firstname|lastname|emailaddress\nA|B,C|a@example.com\n",
        &options,
    )
    .unwrap();
    assert_eq!(upload.delimiter(), '|');
    assert_eq!(upload.row(0).unwrap().get(Column::LastName), "B,C");
    // sep= line: the rows keep their physical lines.
    let upload =
        parse_str("sep=;\r\nfirstname;lastname;emailaddress\r\nA;B;a@example.com\r\n").unwrap();
    assert_eq!(upload.row(0).unwrap().line(), 3);
}

#[test]
fn values_are_trimmed() {
    let upload = parse_str(
        "  firstname , lastname ,emailaddress , addgroup\n  Ana\t, Lopez  ,  ana@example.com , Sales ;  Support ;; \n",
    )
    .unwrap();
    let row = upload.row(0).unwrap();
    assert_eq!(row.get(Column::FirstName), "Ana");
    assert_eq!(row.get(Column::LastName), "Lopez");
    assert_eq!(row.email(), "ana@example.com");
    assert_eq!(row.add_groups().collect::<Vec<_>>(), ["Sales", "Support"]);
    assert!(row.is_valid(), "{:?}", upload.issues());
    // Quoted spaces are trimmed too.
    let upload =
        parse_str("firstname,lastname,emailaddress\n\" Ana \",\"  Lopez\",\"ana@example.com \"\n")
            .unwrap();
    assert_eq!(
        upload.row(0).unwrap().to_data().values[&Column::FirstName],
        "Ana"
    );
    assert!(upload.row(0).unwrap().is_valid());
}

#[test]
fn byte_order_marks() {
    let body = "firstname,lastname,emailaddress\nZoë,Ngata,zoe@example.nz\n";
    let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
    utf8_bom.extend_from_slice(body.as_bytes());
    let mut utf16le = vec![0xFF, 0xFE];
    utf16le.extend(body.encode_utf16().flat_map(u16::to_le_bytes));
    let mut utf16be = vec![0xFE, 0xFF];
    utf16be.extend(body.encode_utf16().flat_map(u16::to_be_bytes));
    let cp1252 = b"firstname,lastname,emailaddress\nZo\xEB,Ngata,zoe@example.nz\n".to_vec();
    for (bytes, encoding) in [
        (body.as_bytes().to_vec(), Encoding::Utf8),
        (utf8_bom, Encoding::Utf8Bom),
        (utf16le, Encoding::Utf16Le),
        (utf16be, Encoding::Utf16Be),
        (cp1252, Encoding::Windows1252),
    ] {
        let upload = parse(&bytes, &defaults()).unwrap();
        assert_eq!(upload.encoding(), encoding);
        // The BOM is not part of the first header cell.
        assert_eq!(
            upload.header()[0].column,
            Some(Column::FirstName),
            "{encoding:?}"
        );
        assert_eq!(
            upload.row(0).unwrap().get(Column::FirstName),
            "Zoë",
            "{encoding:?}"
        );
        let guessed = upload
            .issues()
            .iter()
            .any(|i| i.code == IssueCode::EncodingGuessed);
        assert_eq!(guessed, encoding == Encoding::Windows1252, "{encoding:?}");
    }
    // A UTF-16 BOM followed by an odd number of bytes is not UTF-16.
    let error = parse(b"\xFF\xFEf\x00i\x00r", &defaults()).unwrap_err();
    assert_eq!(error.code(), IssueCode::InvalidEncoding);
}

#[test]
fn line_numbers_with_multi_line_quoted_fields() {
    for newline in ["\n", "\r\n", "\r"] {
        let text = [
            "firstname,lastname,emailaddress,organisation",
            "Ana,Lopez,ana@example.com,\"two",
            "lines\"",
            "Bo,Chen,bo@example.com,\"three",
            "",
            "lines\"",
            "",
            "Cy,Diaz,cy@,Acme",
            "\"Di",
            "Di\",Evans,di@example.com,Acme",
        ]
        .join(newline);
        let upload = parse_str(&text).unwrap();
        let lines: Vec<u32> = upload.rows().map(|r| r.line()).collect();
        assert_eq!(lines, [2, 4, 8, 9], "{newline:?}");
        let issues: Vec<_> = upload
            .issues()
            .iter()
            .map(|i| (i.line, i.code.as_str()))
            .collect();
        assert_eq!(
            issues,
            [
                (Some(2), "control_character"),
                (Some(4), "control_character"),
                (Some(8), "invalid_email"),
                (Some(9), "control_character"),
            ],
            "{newline:?}"
        );
    }
}

#[test]
fn each_limit_names_itself() {
    let text =
        "firstname,lastname,emailaddress\nAna,Lopez,ana@example.com\nBo,Chen,bo@example.com\n";
    let check = |options: ParseOptions, code: IssueCode, line: Option<u32>, limit: &str| {
        let error = parse(text.as_bytes(), &options).unwrap_err();
        assert_eq!((error.code(), error.line()), (code, line), "{error}");
        assert!(error.message().contains(limit), "{error}");
        assert_eq!(error.issue().severity, Severity::Error);
    };
    check(
        ParseOptions {
            max_file_bytes: text.len() - 1,
            ..defaults()
        },
        IssueCode::FileTooLarge,
        None,
        "max_file_bytes",
    );
    check(
        ParseOptions {
            max_rows: 1,
            ..defaults()
        },
        IssueCode::TooManyRows,
        Some(3),
        "max_rows",
    );
    check(
        ParseOptions {
            max_columns: 2,
            ..defaults()
        },
        IssueCode::TooManyColumns,
        Some(1),
        "max_columns",
    );
    check(
        ParseOptions {
            max_field_bytes: 14,
            ..defaults()
        },
        IssueCode::FieldTooLong,
        Some(2),
        "max_field_bytes",
    );
    // At the limit is fine.
    let at_limit = ParseOptions {
        max_file_bytes: text.len(),
        max_rows: 2,
        max_columns: 3,
        max_field_bytes: 15,
        ..defaults()
    };
    assert_eq!(parse(text.as_bytes(), &at_limit).unwrap().len(), 2);
    // Blank lines are not rows.
    let options = ParseOptions {
        max_rows: 1,
        ..defaults()
    };
    assert_eq!(
        parse(
            b"firstname,lastname,emailaddress\n\n,,\nA,B,a@example.com\n\n",
            &options
        )
        .unwrap()
        .len(),
        1
    );
}

#[test]
fn issue_codes_are_listed_once_with_a_meaning() {
    let codes = issue_codes();
    let mut seen = HashSet::new();
    for info in &codes {
        assert!(seen.insert(info.code), "{} listed twice", info.code);
        assert!(
            !info.meaning.trim().is_empty(),
            "{} has no meaning",
            info.code
        );
        assert!(
            info.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{} is not snake_case",
            info.code
        );
        assert!(
            matches!(info.severity, "error" | "warning"),
            "{}",
            info.code
        );
        let code = IssueCode::from_code(info.code).unwrap();
        assert_eq!(code.as_str(), info.code);
        assert_eq!(code.severity().as_str(), info.severity);
        // The serde form is the code too.
        assert_eq!(serde_json::to_value(code).unwrap(), info.code);
    }
    assert_eq!(codes.len(), IssueCode::ALL.len());
    for required in [
        "empty_file",
        "no_data_rows",
        "missing_required_column",
        "duplicate_column",
        "unknown_column",
        "malformed_csv",
        "encoding_guessed",
        "file_too_large",
        "too_many_rows",
        "field_too_long",
        "missing_value",
        "invalid_email",
        "duplicate_email",
        "invalid_languagecode",
        "control_character",
        "group_conflict",
        "unknown_group",
        "protected_user",
    ] {
        assert!(
            seen.contains(required),
            "the contract's code {required} is missing"
        );
    }
}

#[test]
fn row_accessors() {
    let upload = parse_str(
        "firstname,lastname,emailaddress,phonenumber,addgroup,removegroup,addgroup\n\
         Ana,Lopez,Ana@Example.com,,Sales;Support,Old,Managers\n\
         Bo,Chen,bo@example,555,,,\n",
    )
    .unwrap();
    assert_eq!(upload.len(), 2);
    assert!(!upload.is_empty());
    assert!(upload.has_column(Column::PhoneNumber));
    assert!(!upload.has_column(Column::Country));
    assert!(upload.has_errors());
    assert_eq!(upload.group_separator(), ';');

    let ana = upload.row(0).unwrap();
    assert_eq!((ana.index(), ana.line()), (0, 2));
    assert_eq!(ana.get(Column::FirstName), "Ana");
    assert_eq!(ana.email(), "Ana@Example.com", "stored as written");
    assert_eq!(ana.get(Column::PhoneNumber), "");
    assert_eq!(ana.value(Column::PhoneNumber), None);
    assert_eq!(ana.get(Column::Country), "", "absent column");
    assert_eq!(ana.value(Column::LastName), Some("Lopez"));
    assert_eq!(ana.get(Column::AddGroup), "Sales;Support;Managers");
    assert_eq!(
        ana.add_groups().collect::<Vec<_>>(),
        ["Sales", "Support", "Managers"]
    );
    assert_eq!(ana.remove_groups().collect::<Vec<_>>(), ["Old"]);
    assert!(ana.is_valid());
    assert!(ana.issues().is_empty());

    let bo = upload.row(1).unwrap();
    assert_eq!(bo.line(), 3);
    assert_eq!(bo.add_groups().count(), 0);
    assert!(!bo.is_valid());
    let bo_issues: Vec<_> = bo.issues().iter().map(|i| i.code).collect();
    assert_eq!(bo_issues, [IssueCode::InvalidEmail]);

    assert!(upload.row(2).is_none());
    assert_eq!(upload.rows().len(), 2);
    assert_eq!(
        upload.valid_rows().map(|r| r.line()).collect::<Vec<_>>(),
        [2]
    );

    let data = ana.to_data();
    assert_eq!(data.line, 2);
    assert!(data.valid);
    assert_eq!(
        data.values.len(),
        6,
        "only the file's columns: {:?}",
        data.values
    );
    assert_eq!(data.values[&Column::EmailAddress], "Ana@Example.com");
    assert_eq!(data.values[&Column::PhoneNumber], "");
    assert_eq!(data.add_groups, ["Sales", "Support", "Managers"]);
    assert_eq!(data.remove_groups, ["Old"]);
    let data = bo.to_data();
    assert!(!data.valid);
    assert_eq!(data.issues.len(), 1);
    // RowData round-trips through JSON.
    let json = serde_json::to_string(&data).unwrap();
    assert_eq!(serde_json::from_str::<RowData>(&json).unwrap(), data);
}

#[test]
fn row_issues_belong_to_their_row() {
    let upload = parse_str(
        "firstname,lastname,emailaddress,Shoe Size\n\
         ,Lopez,bad\n\
         Bo,Chen,bo@example.com\n\
         Cy,,cy@example.com\n",
    )
    .unwrap();
    let by_row: Vec<Vec<&str>> = upload
        .rows()
        .map(|r| r.issues().iter().map(|i| i.code.as_str()).collect())
        .collect();
    assert_eq!(
        by_row,
        [
            vec!["missing_value", "invalid_email"],
            vec![],
            vec!["missing_value"]
        ]
    );
    // The header's warning is not a row's.
    assert_eq!(upload.issues()[0].code, IssueCode::UnknownColumn);
}

#[test]
fn a_different_group_separator() {
    let options = ParseOptions {
        group_separator: '|',
        ..defaults()
    };
    let upload = parse(
        b"firstname;lastname;emailaddress;addgroup;addgroup\nA;B;a@example.com;Sales|Support;Ops\n",
        &options,
    )
    .unwrap();
    let row = upload.row(0).unwrap();
    assert_eq!(row.get(Column::AddGroup), "Sales|Support|Ops");
    assert_eq!(
        row.add_groups().collect::<Vec<_>>(),
        ["Sales", "Support", "Ops"]
    );
}

#[test]
fn errors_carry_place_and_kind() {
    let error = parse_str("firstname,lastname\nA,B\n").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::File);
    assert_eq!(error.code(), IssueCode::MissingRequiredColumn);
    assert_eq!(
        (error.line(), error.column()),
        (Some(1), Some("emailaddress"))
    );
    assert!(!error.is_transient());
    let issue: &Issue = error.issue();
    assert_eq!(issue.severity, Severity::Error);
    assert!(
        error.to_string().contains("missing_required_column"),
        "{error}"
    );
}

#[test]
fn many_duplicates_of_one_address() {
    let mut text = String::from("firstname,lastname,emailaddress\n");
    for i in 0..200 {
        let email = if i % 2 == 0 {
            "Ana@Example.com"
        } else {
            "ana@example.COM"
        };
        text.push_str(&format!("A{i},B,{email}\nC{i},D,c{i}@example.com\n"));
    }
    let upload = parse_str(&text).unwrap();
    assert_eq!(upload.len(), 400);
    assert_eq!(upload.valid_rows().count(), 201);
    let duplicates: Vec<u32> = upload
        .issues()
        .iter()
        .filter(|i| i.code == IssueCode::DuplicateEmail)
        .map(|i| i.line.unwrap())
        .collect();
    assert_eq!(
        duplicates,
        (1..200).map(|i| 2 + 2 * i).collect::<Vec<u32>>()
    );
    assert!(upload.issues()[0].message.contains("line 2"));
}
