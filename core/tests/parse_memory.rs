//! Peak heap of `parse` on the hostile files, measured with a counting global allocator (in
//! its own test binary; the tests take turns): bytes, not time, so each bound is
//! deterministic. Each file is generated here; the bound is a multiple of its size.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)] // each test file uses some of them
mod generators {
    include!("harness/hostile.rs");
}

use generators::*;
use lms_bulk_upload::{parse, IssueCode, ParseOptions};
use peak_alloc::PeakAlloc;
use std::sync::Mutex;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// One measurement at a time (the test harness runs tests on threads).
static SERIAL: Mutex<()> = Mutex::new(());

/// The most heap `f` had allocated at once, beyond what was allocated before (a
/// reallocation counts the old and the new block, as a copy needs both).
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let value = f();
    (value, ALLOCATOR.peak_usage() - base)
}

/// Slack for the harness's own small allocations.
const SLACK: usize = 64 << 10;

/// Taken by each test for its whole run, so no other test allocates meanwhile.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn check(name: &str, bytes: &[u8], options: &ParseOptions, times: usize) -> Option<usize> {
    let (outcome, peak) = peak_of(|| parse(bytes, options).map(|u| u.issues().len()));
    let ratio = peak as f64 / bytes.len() as f64;
    println!(
        "{name}: {} bytes, peak heap {peak} bytes = {ratio:.2} x",
        bytes.len()
    );
    assert!(
        peak <= times * bytes.len() + SLACK,
        "{name}: parse peaked at {peak} bytes for a {}-byte file ({ratio:.1} x; bound {times} x)",
        bytes.len()
    );
    outcome.ok()
}

#[test]
fn bad_rows_stay_within_five_times_the_file() {
    let _serial = serial();
    // 2.4 million issues if they were all kept
    let bytes = bad_rows(6 << 20);
    let issues = check("bad rows", &bytes, &ParseOptions::default(), 5).unwrap();
    assert_eq!(issues, lms_bulk_upload::DEFAULT_MAX_ISSUES + 1);
}

#[test]
fn a_row_of_many_groups_stays_within_four_times_the_file() {
    let _serial = serial();
    let bytes = many_groups_row(48, 3_200);
    check("many groups", &bytes, &ParseOptions::default(), 4).unwrap();
}

#[test]
fn an_unterminated_quote_stays_within_twice_the_file() {
    let _serial = serial();
    let bytes = unterminated_quote(32 << 20);
    assert_eq!(
        check("unterminated quote", &bytes, &ParseOptions::default(), 2),
        None
    );
    assert_eq!(
        parse(&bytes, &ParseOptions::default()).unwrap_err().code(),
        IssueCode::MalformedCsv
    );
}

#[test]
fn utf16_stays_within_twice_the_file() {
    let _serial = serial();
    let bytes = utf16_file(100_000);
    check("UTF-16", &bytes, &ParseOptions::default(), 2).unwrap();
}

#[test]
fn an_over_limit_utf16_file_is_refused_without_decoding() {
    let _serial = serial();
    let bytes = utf16_file(100_000);
    let options = ParseOptions {
        max_file_bytes: bytes.len() - 1,
        ..Default::default()
    };
    let (outcome, peak) = peak_of(|| parse(&bytes, &options).map(|_| ()));
    assert_eq!(outcome.unwrap_err().code(), IssueCode::FileTooLarge);
    assert!(
        peak < 4096,
        "{peak} bytes allocated to refuse it: nothing was decoded"
    );
}

#[test]
fn blank_lines_do_not_reserve_rows_and_stay_within_twice_the_file() {
    let _serial = serial();
    let bytes = blank_lines(16 << 20);
    check("blank lines", &bytes, &ParseOptions::default(), 2).unwrap();
}

#[test]
fn windows_1252_stays_within_six_times_the_file() {
    let _serial = serial();
    // every byte of the names is 3 bytes once decoded: the worst growth there is
    let bytes = windows_1252_euros(50_000);
    check("Windows-1252", &bytes, &ParseOptions::default(), 6).unwrap();
}

#[test]
fn a_clean_file_stays_within_three_times_the_file() {
    let _serial = serial();
    let bytes = clean_file(50_000);
    let issues = check("clean", &bytes, &ParseOptions::default(), 3).unwrap();
    assert_eq!(issues, 0);
}

#[test]
fn one_character_rows_stay_within_eight_times_the_file() {
    let _serial = serial();
    // the most rows a file can hold: the per-row index (line, validity, where its cells
    // end, one cell) is what costs, about 13 bytes a 2-byte row
    let bytes = narrow_rows(2 << 20);
    let issues = check("one-character rows", &bytes, &ParseOptions::default(), 8).unwrap();
    assert_eq!(issues, lms_bulk_upload::DEFAULT_MAX_ISSUES + 1);
}

#[test]
fn hostile_workbooks_are_refused_within_twice_their_size() {
    let _serial = serial();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spreadsheets");
    // 200 MB of XML in a 200 KB zip: counted into nothing, refused past the budget.
    let bomb = std::fs::read(dir.join("bomb.xlsx")).unwrap();
    assert_eq!(check("zip bomb", &bomb, &ParseOptions::default(), 2), None);
    // A million repeated rows in 622 bytes: measured from the XML, refused before the grid.
    let ods = std::fs::read(dir.join("repeated_rows.ods")).unwrap();
    let (outcome, peak) = peak_of(|| parse(&ods, &ParseOptions::default()).map(|_| ()));
    assert_eq!(outcome.unwrap_err().code(), IssueCode::FileTooLarge);
    // the zip reader's and the XML reader's buffers, not the 90 million cells
    assert!(peak <= 2 * SLACK, "repeated rows: peak {peak} bytes");
}

#[test]
fn a_workbook_stays_within_eight_times_its_text() {
    let _serial = serial();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spreadsheets");
    for name in ["staff.xlsx", "staff.xls", "staff.ods"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        // A small workbook: the reader's tables (styles, shared strings) dominate.
        let (outcome, peak) = peak_of(|| parse(&bytes, &ParseOptions::default()).map(|u| u.len()));
        assert_eq!(outcome.unwrap(), 4, "{name}");
        assert!(
            peak <= 8 * bytes.len() + 8 * SLACK,
            "{name}: peak {peak} bytes for {} bytes",
            bytes.len()
        );
    }
}
