//! Spreadsheets and legacy code pages as administrators have them, through `parse`:
//! the committed `.xlsx` (openpyxl), `.xls` and `.ods` (LibreOffice's "Save as") of one
//! workbook read exactly like its CSV twin; hostile workbooks refused by size before they
//! are inflated; Excel's CSV in Windows-1250, Windows-1251 and Shift_JIS read right.
//! The fixtures are made by core/tests/fixtures/spreadsheets/make_spreadsheets.py.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, sheet_names, Encoding, FieldKind, FileFormat, IssueCode, ParseOptions, ProfileField,
    RowData,
};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spreadsheets")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The host declares the employee number (text: its leading zeros matter) and a date.
fn options() -> ParseOptions {
    let mut start = ProfileField::text("start_date");
    start.kind = FieldKind::Date;
    ParseOptions {
        fields: vec![ProfileField::text("employee_no"), start],
        ..ParseOptions::default()
    }
}

fn rows(bytes: &[u8], options: &ParseOptions) -> Vec<RowData> {
    parse(bytes, options)
        .unwrap()
        .rows()
        .map(|r| r.to_data())
        .collect()
}

#[test]
fn each_workbook_reads_like_its_csv_twin() {
    let csv = parse(&fixture("staff.csv"), &options()).unwrap();
    assert_eq!(csv.format(), FileFormat::Csv);
    let expected: Vec<RowData> = csv.rows().map(|r| r.to_data()).collect();
    // Sanity of the twin itself: 4 rows, the blank row skipped, line numbers kept.
    assert_eq!(
        expected.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 3, 5, 6]
    );
    for (name, format) in [
        ("staff.xlsx", FileFormat::Xlsx),
        ("staff.xls", FileFormat::Xls),
        ("staff.ods", FileFormat::Ods),
    ] {
        let upload = parse(&fixture(name), &options()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(upload.format(), format, "{name}");
        assert_eq!(upload.sheet(), Some("Staff"), "{name}");
        assert_eq!(upload.encoding(), Encoding::Utf8, "{name}");
        let got: Vec<RowData> = upload.rows().map(|r| r.to_data()).collect();
        assert_eq!(got, expected, "{name}: rows differ from the CSV twin");
        assert_eq!(upload.issues(), csv.issues(), "{name}: issues differ");
        assert_eq!(upload.header(), csv.header(), "{name}: header differs");
        let report = upload.report();
        assert_eq!(report.format, format);
        assert_eq!(report.sheet.as_deref(), Some("Staff"));
    }
    // What Excel's own CSV would have lost is there: leading zeros, ISO dates, digits.
    let first = &expected[0];
    assert_eq!(first.custom["employee_no"], "00123");
    assert_eq!(first.custom["start_date"], "2019-02-02");
    assert_eq!(
        first.values[&lms_bulk_upload::Column::PhoneNumber],
        "6421234567"
    );
    // The bad address is reported at the sheet's row 5, column as written.
    let bad = csv
        .issues()
        .iter()
        .find(|i| i.code == IssueCode::InvalidEmail)
        .unwrap();
    assert_eq!(
        (bad.line, bad.column.as_deref()),
        (Some(5), Some("emailaddress"))
    );
}

#[test]
fn a_named_sheet_is_read_and_an_unknown_one_is_refused() {
    let managers = ParseOptions {
        sheet: Some("Managers".into()),
        ..ParseOptions::default()
    };
    for name in ["staff.xlsx", "staff.xls", "staff.ods"] {
        let upload = parse(&fixture(name), &managers).unwrap();
        assert_eq!(upload.sheet(), Some("Managers"));
        assert_eq!(upload.len(), 1);
        assert_eq!(upload.row(0).unwrap().email(), "mere@example.nz");
        let missing = ParseOptions {
            sheet: Some("Payroll".into()),
            ..ParseOptions::default()
        };
        let error = parse(&fixture(name), &missing).unwrap_err();
        assert_eq!(error.code(), IssueCode::SheetNotFound, "{name}");
        assert!(error.to_string().contains("\"Managers\""), "{error}");
    }
    // The options' data form takes the sheet too (every binding passes it this way).
    let options = ParseOptions::from_value(serde_json::json!({"sheet": "Managers"})).unwrap();
    assert_eq!(options.sheet.as_deref(), Some("Managers"));
}

#[test]
fn a_workbook_lists_its_sheets_and_a_csv_none() {
    for name in ["staff.xlsx", "staff.xls", "staff.ods"] {
        let names = sheet_names(&fixture(name), &ParseOptions::default()).unwrap();
        assert_eq!(names, ["Staff", "Managers"], "{name}");
    }
    let none = sheet_names(&fixture("staff.csv"), &ParseOptions::default()).unwrap();
    assert!(none.is_empty());
    // The bounds of parse hold before a workbook is opened.
    let small = ParseOptions {
        max_file_bytes: 100,
        ..ParseOptions::default()
    };
    let error = sheet_names(&fixture("staff.xlsx"), &small).unwrap_err();
    assert_eq!(error.code(), IssueCode::FileTooLarge);
    let error = sheet_names(&fixture("bomb.xlsx"), &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code(), IssueCode::FileTooLarge, "{error}");
    let error = sheet_names(&fixture("repeated_rows.ods"), &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code(), IssueCode::FileTooLarge, "{error}");
    let error = sheet_names(&fixture("not_a_workbook.zip"), &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code(), IssueCode::UnsupportedFile);
}

#[test]
fn hostile_workbooks_are_refused_by_size_before_they_are_inflated() {
    // 200 MB of XML in 200 KB: the declared size passes the budget of 100 x the file.
    let error = parse(&fixture("bomb.xlsx"), &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code(), IssueCode::FileTooLarge);
    assert!(error.to_string().contains("inflates"), "{error}");
    // One row repeated a million times, 90 values wide: 90 million cells from 622 bytes.
    let error = parse(&fixture("repeated_rows.ods"), &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code(), IssueCode::FileTooLarge, "{error}");
    // The same with a row limit: refused for its rows.
    let few = ParseOptions {
        max_rows: 1000,
        ..ParseOptions::default()
    };
    let error = parse(&fixture("repeated_rows.ods"), &few).unwrap_err();
    assert_eq!(error.code(), IssueCode::TooManyRows, "{error}");
    // A zip that is no workbook is not read as CSV.
    let error = parse(&fixture("not_a_workbook.zip"), &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code(), IssueCode::UnsupportedFile);
    // Damaged: the right magic, then nothing a reader can use.
    for bytes in [
        b"PK\x03\x04garbage garbage garbage".to_vec(),
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1garbage".to_vec(),
    ] {
        let error = parse(&bytes, &ParseOptions::default()).unwrap_err();
        assert_eq!(error.code(), IssueCode::MalformedSpreadsheet, "{error}");
    }
    // Columns past max_columns are refused with the same code as a CSV's.
    let narrow = ParseOptions {
        max_columns: 3,
        ..ParseOptions::default()
    };
    for name in ["staff.xlsx", "staff.xls", "staff.ods"] {
        let error = parse(&fixture(name), &narrow).unwrap_err();
        assert_eq!(error.code(), IssueCode::TooManyColumns, "{name}: {error}");
    }
}

#[test]
fn excel_csv_in_legacy_code_pages_is_read_in_its_own_code_page() {
    for (name, page, first, last) in [
        (
            "windows1250_polish.csv",
            "windows-1250",
            "Łukasz",
            "Świątek",
        ),
        (
            "windows1251_russian.csv",
            "windows-1251",
            "Дмитрий",
            "Иванов",
        ),
        ("shift_jis_japanese.csv", "Shift_JIS", "太郎", "山田"),
    ] {
        let upload = parse(&fixture(name), &ParseOptions::default()).unwrap();
        assert_eq!(upload.encoding().as_str(), page, "{name}");
        assert!(matches!(upload.encoding(), Encoding::CodePage(_)), "{name}");
        let row = upload.row(0).unwrap();
        assert_eq!(
            (
                row.get(lms_bulk_upload::Column::FirstName),
                row.get(lms_bulk_upload::Column::LastName)
            ),
            (first, last),
            "{name}"
        );
        let guessed = upload
            .issues()
            .iter()
            .find(|i| i.code == IssueCode::EncodingGuessed)
            .unwrap();
        assert!(guessed.message.contains(page), "{}", guessed.message);
        // Named by the host: read as said, without a guess.
        let named = ParseOptions {
            encoding: Encoding::from_label(page),
            ..ParseOptions::default()
        };
        let upload = parse(&fixture(name), &named).unwrap();
        assert_eq!(
            upload
                .row(0)
                .unwrap()
                .get(lms_bulk_upload::Column::FirstName),
            first
        );
        assert!(upload.issues().is_empty(), "{name}: {:?}", upload.issues());
    }
    // Named wrong, the administrator sees the damage and no guess is made.
    let western =
        ParseOptions::from_value(serde_json::json!({"encoding": "windows-1252"})).unwrap();
    let upload = parse(&fixture("windows1250_polish.csv"), &western).unwrap();
    assert_eq!(
        upload
            .row(0)
            .unwrap()
            .get(lms_bulk_upload::Column::FirstName),
        "£ukasz"
    );
    // An unknown label is an option error, not a guess.
    let error = ParseOptions::from_value(serde_json::json!({"encoding": "klingon"})).unwrap_err();
    assert_eq!(error.code(), IssueCode::InvalidOption);
    // Said to be UTF-8 but not: refused, never read as something else.
    let utf8 = ParseOptions {
        encoding: Some(Encoding::Utf8),
        ..ParseOptions::default()
    };
    let error = parse(&fixture("windows1250_polish.csv"), &utf8).unwrap_err();
    assert_eq!(error.code(), IssueCode::InvalidEncoding);
}

#[test]
fn a_guess_on_little_evidence_says_it_is_unsure() {
    // Two accented letters that read as well in Windows-1250 as in Windows-1252.
    let bytes = b"firstname,lastname,emailaddress\nJos\xe9,N\xfa\xf1ez,jose@example.es\n";
    let upload = parse(bytes, &ParseOptions::default()).unwrap();
    let codes: Vec<IssueCode> = upload.issues().iter().map(|i| i.code).collect();
    assert!(codes.contains(&IssueCode::EncodingGuessed), "{codes:?}");
    assert!(codes.contains(&IssueCode::EncodingUnsure), "{codes:?}");
    // Plenty of Polish: sure, so no second warning.
    let upload = parse(&fixture("windows1250_polish.csv"), &ParseOptions::default()).unwrap();
    assert!(!upload
        .issues()
        .iter()
        .any(|i| i.code == IssueCode::EncodingUnsure));
}

#[test]
fn a_password_column_is_ignored_with_its_own_warning() {
    let bytes =
        b"firstname,lastname,emailaddress,Initial Password\nAna,Lee,ana@example.com,hunter2\n";
    let upload = parse(bytes, &ParseOptions::default()).unwrap();
    let issue = &upload.issues()[0];
    assert_eq!(issue.code, IssueCode::PasswordColumn);
    assert_eq!(issue.column.as_deref(), Some("Initial Password"));
    assert!(issue.message.contains("never taken from a file"));
    assert!(!issue.message.contains("hunter2"));
    assert!(upload
        .issues()
        .iter()
        .all(|i| i.code != IssueCode::UnknownColumn));
    assert!(upload.row(0).unwrap().is_valid());
    let twin = rows(
        b"firstname,lastname,emailaddress\nAna,Lee,ana@example.com\n",
        &ParseOptions::default(),
    );
    assert_eq!(
        rows(bytes, &ParseOptions::default())[0].values,
        twin[0].values
    );
}
