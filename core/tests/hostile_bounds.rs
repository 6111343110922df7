//! Issue 10, case 3, through the public API: hostile files cost work bounded by their size.
//! Issues are capped (with the count of the rest), a row of many groups is read in full,
//! an over-limit UTF-16 file is refused before decoding, an unterminated quote in a 220 MB
//! file is refused with its code. The inputs are generated (`harness/hostile.rs`); no test
//! looks at the clock (`parse_memory.rs` bounds their memory, `benches/parse_hostile.rs`
//! times them).

#![allow(clippy::unwrap_used)]

#[allow(dead_code)] // each test file uses some of them
mod generators {
    include!("harness/hostile.rs");
}

use generators::*;
use lms_bulk_upload::{parse, Issue, IssueCode, ParseOptions};

/// The `too_many_issues` markers: (the file's, the rows').
fn markers(issues: &[Issue]) -> (Vec<&Issue>, Vec<&Issue>) {
    issues
        .iter()
        .filter(|i| i.code == IssueCode::TooManyIssues)
        .partition(|i| i.line.is_none())
}

/// Issue 10, case 3: a file of bad rows gave an issue for every problem (1.6 million for
/// 6.5 MB). Now the first `max_issues` are listed, then one warning says how many more.
#[test]
fn issues_are_capped_per_file_with_the_count_of_the_rest() {
    let bytes = bad_rows(1 << 20);
    let upload = parse(&bytes, &ParseOptions::default()).unwrap();
    let rows = upload.len();
    assert_eq!(rows, (1 << 20) / 11);
    let found = 4 * rows; // two blank names, an email, a language code per row
    let issues = upload.issues();
    assert_eq!(issues.len(), lms_bulk_upload::DEFAULT_MAX_ISSUES + 1);
    let (file, row_markers) = markers(issues);
    assert!(row_markers.is_empty());
    assert_eq!(file.len(), 1);
    let more = found - lms_bulk_upload::DEFAULT_MAX_ISSUES;
    assert!(
        file[0]
            .message
            .starts_with(&format!("{more} more issues are not listed")),
        "{}",
        file[0].message
    );
    assert_eq!(
        issues[0].code,
        IssueCode::TooManyIssues,
        "the file's issues come first"
    );
    // the listed ones are the first problems: rows 2 to 251, four each
    assert_eq!(issues[1].line, Some(2));
    assert_eq!(issues.last().unwrap().line, Some(251));
    // every row is rejected, listed or not
    assert_eq!(upload.valid_rows().count(), 0);
    assert!(upload.has_errors());
    assert!(upload.rows().all(|r| !r.is_valid()));
}

/// Small caps, to see how the markers add up: each row lists `max_issues_per_row`, its
/// marker counts the rest of the row, the file's marker counts what is left.
#[test]
fn small_caps_count_every_issue_exactly_once() {
    let bytes = format!("{BAD_HEADER}{}", ",,x,,,en_x\n".repeat(5)).into_bytes();
    let options = ParseOptions {
        max_issues_per_row: 3,
        max_issues: 7,
        ..Default::default()
    };
    let upload = parse(&bytes, &options).unwrap();
    let summary: Vec<(Option<u32>, &str)> = upload
        .issues()
        .iter()
        .map(|i| (i.line, i.code.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (None, "too_many_issues"),
            (Some(2), "missing_value"),
            (Some(2), "missing_value"),
            (Some(2), "invalid_email"),
            (Some(2), "too_many_issues"),
            (Some(3), "missing_value"),
            (Some(3), "missing_value"),
            (Some(3), "invalid_email"),
            (Some(3), "too_many_issues"),
            (Some(4), "missing_value"),
        ]
    );
    let (file, rows) = markers(upload.issues());
    assert!(rows.iter().all(|m| m
        .message
        .starts_with("1 more issue on this row is not listed")));
    // 20 issues: 7 listed, 2 in row markers, 11 in the file's
    assert!(
        file[0].message.starts_with("11 more issues are not listed"),
        "{}",
        file[0].message
    );
    assert_eq!(upload.valid_rows().count(), 0);
}

/// `max_issues: 0` lists nothing but the count; validity does not depend on the list, and
/// the duplicates found after reading are counted too.
#[test]
fn rows_with_errors_are_rejected_even_when_no_issue_is_listed() {
    let mut text = String::from("firstname,lastname,emailaddress\n");
    for i in 0..3_000 {
        text.push_str(&format!("A,B,same{}@example.com\n", i % 2));
    }
    text.push_str(",B,blank@example.com\n");
    let options = ParseOptions {
        max_issues: 0,
        ..Default::default()
    };
    let upload = parse(text.as_bytes(), &options).unwrap();
    assert_eq!(upload.issues().len(), 1);
    assert!(upload.issues()[0]
        .message
        .starts_with("2999 more issues are not listed"));
    assert_eq!(upload.valid_rows().count(), 2, "the first of each address");
    assert!(upload.has_errors());
    assert_eq!(upload.report().valid_rows, 2);
    // the same file with the default caps lists the first 1,000 duplicates
    let upload = parse(text.as_bytes(), &ParseOptions::default()).unwrap();
    let issues = upload.issues();
    assert_eq!(issues.len(), 1_001);
    assert_eq!(issues[1].code, IssueCode::DuplicateEmail);
    assert_eq!((issues[1].line, issues[1_000].line), (Some(4), Some(1_003)));
    assert_eq!(upload.valid_rows().count(), 2);
}

/// Issue 10, case 3: one 321 KB row with many groups took 9 s (every added group compared
/// with every removed one). Its groups are read in full, the conflicts found (each added
/// group is also removed), ten listed and the rest counted.
#[test]
fn a_row_of_many_groups_is_parsed_correctly() {
    let (columns, cell_bytes) = (48, 3_200);
    let per_cell = group_cell(cell_bytes).split(';').count();
    let bytes = many_groups_row(columns, cell_bytes);
    assert!(bytes.len() > 300_000);
    let upload = parse(&bytes, &ParseOptions::default()).unwrap();
    let row = upload.row(0).unwrap();
    assert_eq!(row.add_groups().count(), columns * per_cell);
    assert_eq!(row.remove_groups().count(), columns * per_cell);
    assert_eq!(
        row.add_groups().nth(per_cell),
        Some("g0"),
        "cells merged in order"
    );
    assert!(!row.is_valid());
    let issues = row.issues();
    assert_eq!(issues.len(), 11);
    assert!(issues[..10]
        .iter()
        .all(|i| i.code == IssueCode::GroupConflict));
    assert_eq!(
        issues[0].message,
        "the group \"g0\" is both added and removed"
    );
    let more = columns * per_cell - 10;
    assert_eq!(
        issues[10].message,
        format!("{more} more issues on this row are not listed (max_issues_per_row is 10)")
    );
    // the same row with different groups removed: valid, every group kept
    let text = String::from_utf8(bytes).unwrap();
    let (header, data) = text.split_once('\n').unwrap();
    let mut cells: Vec<String> = data.trim_end().split(',').map(str::to_owned).collect();
    for cell in &mut cells[3 + columns..] {
        *cell = cell.replace('g', "h");
    }
    let disjoint = format!("{header}\n{}\n", cells.join(","));
    let upload = parse(disjoint.as_bytes(), &ParseOptions::default()).unwrap();
    assert!(upload.row(0).unwrap().is_valid(), "{:?}", upload.issues());
    assert_eq!(
        upload.row(0).unwrap().remove_groups().count(),
        columns * per_cell
    );
}

/// Issue 10, case 3: the size limit is checked before a UTF-16 file is decoded, on the
/// file's bytes and on its size once decoded (which can be half as large again).
#[test]
fn an_over_limit_utf16_file_is_refused_before_decoding() {
    let bytes = utf16_file(10_000);
    let just_under = ParseOptions {
        max_file_bytes: bytes.len() - 1,
        ..Default::default()
    };
    let error = parse(&bytes, &just_under).unwrap_err();
    assert_eq!(error.code(), IssueCode::FileTooLarge, "{error}");
    let at_limit = ParseOptions {
        max_file_bytes: bytes.len(),
        ..Default::default()
    };
    assert_eq!(parse(&bytes, &at_limit).unwrap().len(), 10_000);
    // Not valid UTF-16 (a lone surrogate) and too large: the size is what is reported,
    // so nothing was decoded.
    let mut broken = bytes.clone();
    broken.extend([0x00, 0xD8]);
    assert_eq!(
        parse(&broken, &at_limit).unwrap_err().code(),
        IssueCode::FileTooLarge
    );
    // CJK names: 2 bytes in UTF-16, 3 in UTF-8. Under the limit as a file, over it decoded.
    let mut cjk = vec![0xFF, 0xFE];
    let (family, given) = ("山田".repeat(50), "太郎".repeat(50));
    let row = format!("{given},{family},y@example.jp\n");
    let text = format!("firstname,lastname,emailaddress\n{}", row.repeat(200));
    cjk.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let options = ParseOptions {
        max_file_bytes: cjk.len(),
        ..Default::default()
    };
    let Err(error) = parse(&cjk, &options) else {
        panic!("a file over the limit once decoded was accepted");
    };
    assert_eq!(error.code(), IssueCode::FileTooLarge);
    assert!(error.message().contains("once decoded to UTF-8"), "{error}");
}

/// Issue 10, case 3: a 220 MB file with an unterminated quote peaked at 666 MB. It is
/// refused with the line where the quote opens; `parse_memory.rs` bounds its memory.
#[test]
fn a_220_mb_unterminated_quote_is_refused_with_its_code() {
    let bytes = unterminated_quote(220_000_000);
    let error = parse(&bytes, &ParseOptions::default()).unwrap_err();
    assert_eq!(error.code(), IssueCode::MalformedCsv);
    assert_eq!(error.line(), Some(3));
}

/// Issue 19, item 12: a `one_of` field of 1,000 values lowercased every value for every
/// cell (13 × slower); its values are now indexed once per parse. Matching is unchanged:
/// any case, stored as declared, the first declared of equal values wins.
#[test]
fn a_one_of_field_of_1000_values_matches_by_lookup() {
    let (bytes, mut options) = one_of_file(1_000, 2_000);
    let upload = parse(&bytes, &options).unwrap();
    assert_eq!(upload.valid_rows().count(), 2_000);
    let grades: Vec<String> = upload
        .rows()
        .take(2)
        .map(|r| r.custom_values().next().unwrap().1)
        .collect();
    assert_eq!(grades, ["Grade999", "Grade998"]);
    if let lms_bulk_upload::FieldKind::OneOf(values) = &mut options.fields[0].kind {
        values.push("grade999".into()); // a later value equal but for case loses
    }
    let bad =
        b"firstname,lastname,emailaddress,grade\nAna,L,a@x.com,GRADE999\nBo,L,b@x.com,Grade1000\n";
    let upload = parse(bad, &options).unwrap();
    assert_eq!(
        upload.row(0).unwrap().custom_values().next().unwrap().1,
        "Grade999"
    );
    let issue = &upload.issues()[0];
    assert_eq!(issue.code, IssueCode::InvalidFieldValue);
    assert!(
        issue.message.contains("is not one of Grade0, Grade1"),
        "{}",
        issue.message
    );
}

/// Issue 19, item 12: 16 fields of 16,000 declared aliases each were checked pairwise (194 s
/// on every parse) and every header was compared with every alias; now a set and an index
/// built once. A header naming a field by any alias is matched; an alias declared twice is
/// still refused.
#[test]
fn sixteen_fields_of_16000_aliases_are_matched_by_lookup() {
    let (bytes, mut options) = many_aliases(16, 16_000, 10);
    let upload = parse(&bytes, &options).unwrap();
    assert_eq!(upload.valid_rows().count(), 10);
    let values: Vec<(&str, String)> = upload.row(0).unwrap().custom_values().collect();
    assert_eq!(values.len(), 16);
    assert_eq!(values[15], ("field15", "v15".to_owned()));
    options.fields[3].aliases.push("f9_a123".into());
    let err = parse(&bytes, &options).unwrap_err();
    assert_eq!(err.code(), IssueCode::InvalidOption);
}
