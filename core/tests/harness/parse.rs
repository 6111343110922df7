// Shared by the fuzz target `fuzz/fuzz_targets/parse.rs` (which includes this file) and by
// `core/tests/fuzz_corpus.rs`, which replays the committed corpus in `make test`.
// It is included, not a module of its own, so both run exactly the same code.
//
// Input layout: the first 11 bytes choose the options (all zero = `ParseOptions::default()`),
// the rest is the file. A seed is therefore `[0u8; 11]` followed by a CSV file or a
// spreadsheet.

use arbitrary::{Arbitrary, Unstructured};
use lms_bulk_upload::{parse, Column, EmailAddress, ErrorKind, IssueCode, ParseOptions};

/// Parse options drawn from the fuzzer's bytes, with small bounded limits so every limit is
/// reached often. A zero byte keeps the default.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct FuzzOptions {
    /// 0-3: detect; 4: `,`; 5: `;`; 6: tab; 7: `|`; anything else: that byte.
    pub delimiter: u8,
    /// 0: `;`; anything else: that Latin-1 character (some are two bytes in UTF-8).
    pub group_separator: u8,
    /// `max_rows` (0: default).
    pub max_rows: u8,
    /// `max_field_bytes` (0: default).
    pub max_field_bytes: u16,
    /// `max_columns` (0: default).
    pub max_columns: u8,
    /// `max_value_chars` (0: default).
    pub max_value_chars: u8,
    /// `max_file_bytes` (0: default).
    pub max_file_bytes: u16,
    /// The issue caps (0: defaults): `max_issues_per_row` is the low 3 bits + 1 (1-8),
    /// `max_issues` the high 5 bits (0-31), small so that both caps are reached often.
    pub issue_caps: u8,
    /// The low 2 bits name an encoding (0: none, 1: windows-1250, 2: Shift_JIS, 3: Big5);
    /// bit 2 asks for the sheet `Managers`.
    pub source: u8,
}

impl FuzzOptions {
    /// The `ParseOptions` these bytes stand for.
    pub fn to_options(self) -> ParseOptions {
        let default = ParseOptions::default();
        let or = |value: usize, default: usize| if value == 0 { default } else { value };
        ParseOptions {
            delimiter: match self.delimiter {
                0..=3 => None,
                4 => Some(b','),
                5 => Some(b';'),
                6 => Some(b'\t'),
                7 => Some(b'|'),
                b => Some(b),
            },
            group_separator: match self.group_separator {
                0 => ';',
                b => char::from(b),
            },
            max_rows: or(self.max_rows.into(), default.max_rows),
            max_field_bytes: or(self.max_field_bytes.into(), default.max_field_bytes),
            max_columns: or(self.max_columns.into(), default.max_columns),
            max_value_chars: or(self.max_value_chars.into(), default.max_value_chars),
            max_file_bytes: or(self.max_file_bytes.into(), default.max_file_bytes),
            max_issues_per_row: match self.issue_caps {
                0 => default.max_issues_per_row,
                b => usize::from(b & 7) + 1,
            },
            max_issues: match self.issue_caps {
                0 => default.max_issues,
                b => usize::from(b >> 3),
            },
            // Host fields and login methods are always declared: a file whose header
            // names them (`department`, `grade`, `start`, `hours`, `auth`) reaches their
            // checks; the clear token is the default.
            fields: host_fields(),
            login_methods: vec!["saml".into()],
            encoding: match self.source & 3 {
                0 => None,
                1 => lms_bulk_upload::Encoding::from_label("windows-1250"),
                2 => lms_bulk_upload::Encoding::from_label("shift_jis"),
                _ => lms_bulk_upload::Encoding::from_label("big5"),
            },
            sheet: (self.source & 4 != 0).then(|| "Managers".to_owned()),
            ..default
        }
    }
}

/// The host profile fields every fuzzed parse declares, one of each kind.
pub fn host_fields() -> Vec<lms_bulk_upload::ProfileField> {
    use lms_bulk_upload::{FieldKind, ProfileField};
    vec![
        ProfileField { aliases: vec!["dept".into()], max_length: Some(20), ..ProfileField::text("department") },
        ProfileField { kind: FieldKind::OneOf(vec!["A".into(), "B".into()]), ..ProfileField::text("grade") },
        ProfileField { kind: FieldKind::Date, ..ProfileField::text("start") },
        ProfileField { kind: FieldKind::Number, ..ProfileField::text("hours") },
    ]
}

/// The fuzz target's input: options, then the file's bytes.
#[derive(Arbitrary, Debug)]
pub struct ParseInput {
    /// The options (the first 11 bytes).
    pub options: FuzzOptions,
    /// The file (the rest).
    pub bytes: Vec<u8>,
}

/// The codes a failing `parse` may carry.
pub const FILE_ERROR_CODES: &[IssueCode] = &[
    IssueCode::EmptyFile,
    IssueCode::NoDataRows,
    IssueCode::MissingRequiredColumn,
    IssueCode::DuplicateColumn,
    IssueCode::MalformedCsv,
    IssueCode::InvalidEncoding,
    IssueCode::FileTooLarge,
    IssueCode::TooManyRows,
    IssueCode::TooManyColumns,
    IssueCode::FieldTooLong,
    IssueCode::UnsupportedFile,
    IssueCode::MalformedSpreadsheet,
    IssueCode::SheetNotFound,
];

/// Whether `bytes` are a spreadsheet (a zip archive or a Compound File): its lines are the
/// sheet's rows, not the bytes' line breaks.
pub fn is_spreadsheet(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
}

/// The number of physical lines of the file once decoded as `parse` decodes it (LF, CRLF
/// and a lone CR each end a line). `None` when the file is not decodable.
pub fn physical_lines(bytes: &[u8]) -> Option<u32> {
    let utf16 = |bytes: &[u8], le: bool| -> Option<String> {
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        let units = bytes.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    // Windows-1252 and the other legacy code pages keep CR and LF as the same single bytes
    // (never the second byte of a Shift_JIS, GBK or Big5 pair), so counting bytes is exact.
    let text: Vec<u8> = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, true)?.into_bytes()
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, false)?.into_bytes()
    } else {
        bytes.to_vec()
    };
    let mut lines = 1u32;
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && text.get(i + 1) != Some(&b'\n')) {
            lines += 1;
        }
    }
    Some(lines)
}

/// The most heap one input may take while it is parsed and checked: a small multiple of
/// its size, plus room for the listed issues (at most `max_issues`, 1,000 by default, a
/// few hundred bytes each). The fuzz target and the corpus replay (`fuzz_corpus.rs`)
/// measure it with a counting allocator and fail past it.
pub fn heap_bound(input_len: usize) -> usize {
    16 * input_len + (512 << 10)
}

/// The largest input the corpus replay accepts (the fuzzer writes at most 8 KiB, its
/// `-max_len`): a bigger entry would make `make test` slow, so it belongs elsewhere.
pub const MAX_CORPUS_INPUT: usize = 64 << 10;

/// A hash of `value`'s Debug form, written without building it.
pub fn debug_hash(value: &impl std::fmt::Debug) -> u64 {
    use std::hash::Hasher;
    struct Writer(std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for Writer {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut writer = Writer(std::collections::hash_map::DefaultHasher::new());
    let _ = std::fmt::write(&mut writer, format_args!("{value:?}"));
    writer.0.finish()
}

/// Parses the input and checks what must hold for any bytes and options. Panics (a crash
/// for the fuzzer, a failure for the test) when something does not.
pub fn check_parse(data: &[u8]) {
    let Ok(input) = ParseInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let options = input.options.to_options();
    let bytes = &input.bytes;
    let result = parse(bytes, &options);
    // The same outcome, byte for byte, on three threads with the body cut in a few chunks
    // at places the input chooses (compared by a hash of each outcome's Debug form, so
    // the heap bound holds).
    let cut = 1 + bytes.len() / (2 + usize::from(input.options.issue_caps % 7));
    let threaded = ParseOptions {
        threads: 3,
        ..options.clone()
    };
    let chunked = lms_bulk_upload::parse_with_chunks(bytes, &threaded, Some(cut));
    assert_eq!(
        debug_hash(&chunked),
        debug_hash(&result),
        "one thread, and three with the body cut every {cut} bytes"
    );
    drop(chunked);
    // The same outcome from the text shared, when the bytes are UTF-8 (a binding's buffer).
    if let Ok(text) = std::str::from_utf8(bytes) {
        let text: lms_bulk_upload::SharedText = std::sync::Arc::new(text.to_owned());
        let shared = lms_bulk_upload::parse_shared(text, &options);
        assert_eq!(debug_hash(&shared), debug_hash(&result), "shared text");
    }
    let sheet = is_spreadsheet(bytes);
    let lines = physical_lines(bytes).filter(|_| !sheet);
    let within = |line: Option<u32>, what: &str| {
        if let (Some(line), Some(lines)) = (line, lines) {
            assert!(
                (1..=lines).contains(&line),
                "{what} on line {line} of a {lines}-line file"
            );
        }
    };
    match result {
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::File, "{error}");
            let code = error.code();
            assert!(FILE_ERROR_CODES.contains(&code), "unexpected code {code}");
            assert_eq!(IssueCode::from_code(code.as_str()), Some(code));
            assert!(!error.message().is_empty());
            within(error.line(), code.as_str());
            if code == IssueCode::InvalidEncoding && !sheet {
                assert_eq!(lines, None, "{error}");
            }
        }
        Ok(upload) => {
            assert!(lines.is_some() || sheet, "a file parse accepted is decodable");
            assert!(!upload.is_empty());
            assert!(upload.len() <= options.max_rows);
            assert!(bytes.len() <= options.max_file_bytes);
            let report = upload.report();
            assert!(report.valid_rows <= report.rows);
            assert!(serde_json::to_string(&report).is_ok());
            let mut previous = 1;
            for issue in upload.issues() {
                within(issue.line, issue.code.as_str());
                assert!(!FILE_ERROR_CODES.contains(&issue.code), "{issue}");
                assert_eq!(issue.severity, issue.code.severity());
                let line = issue.line.unwrap_or(0);
                assert!(line >= previous || issue.line.is_none(), "issues sorted");
                previous = previous.max(line);
            }
            // The caps: at most max_issues listed, plus one marker per row past
            // max_issues_per_row (each such row listed that many) and one for the file.
            let markers = |line: bool| {
                upload
                    .issues()
                    .iter()
                    .filter(|i| i.code == IssueCode::TooManyIssues && i.line.is_some() == line)
                    .count()
            };
            let file_marker = markers(false) == 1;
            assert!(markers(false) <= 1, "one marker for the file at most");
            let listed = upload.issues().len() - markers(true) - markers(false);
            assert!(listed <= options.max_issues, "{listed} issues listed");
            let per_row = options.max_issues_per_row.max(1);
            assert!(markers(true) * per_row <= listed);
            let mut last_line = 1;
            let mut emails = std::collections::HashSet::new();
            for row in upload.rows() {
                assert!(
                    row.line() > last_line,
                    "rows in line order, after the header"
                );
                last_line = row.line();
                within(Some(row.line()), "a row");
                for column in Column::ALL {
                    let value = row.get(column);
                    if !column.is_group_list() {
                        assert_eq!(value, value.trim(), "{column} is trimmed");
                    }
                }
                let data = row.to_data();
                assert_eq!(data.valid, row.is_valid());
                let real = row.issues().iter().filter(|i| i.code != IssueCode::TooManyIssues);
                assert!(real.count() <= per_row, "at most max_issues_per_row on a row");
                let listed_error = row.issues().iter().any(|i| i.is_error());
                assert!(
                    !(row.is_valid() && listed_error),
                    "a row with an error is invalid"
                );
                if !row.is_valid() && !listed_error {
                    // its errors were left out by a cap, and a marker says so
                    let marker = |i: &lms_bulk_upload::Issue| i.code == IssueCode::TooManyIssues;
                    assert!(
                        row.issues().iter().any(marker) || file_marker,
                        "an invalid row lists an error, or its errors were counted as left out"
                    );
                }
                if row.is_valid() {
                    let email =
                        EmailAddress::parse(row.email()).expect("valid rows have a valid email");
                    assert!(
                        emails.insert(email.key()),
                        "valid rows have distinct emails"
                    );
                    assert!(!row.get(Column::FirstName).is_empty());
                    assert!(!row.get(Column::LastName).is_empty());
                }
            }
        }
    }
}
