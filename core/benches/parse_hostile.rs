//! The cost of parsing the hostile files of issue 10 (and the hostile declarations of issue
//! 19: a `one_of` of 1,000 values, 16 × 16,000 aliases), side by side with a clean file of
//! the same size: time (best of 3) and peak heap, per MB of file.
//!
//! `cargo bench -p lms-bulk-upload --bench parse_hostile` (part of `make bench-parse`).
//! The files come from `core/tests/harness/hostile.rs` (generated in memory); the peak heap
//! is counted by a global allocator (`peak_alloc`; a reallocation counts both blocks).

use lms_bulk_upload::ParseOptions;
use peak_alloc::PeakAlloc;
use std::hint::black_box;
use std::time::{Duration, Instant};

mod generators {
    include!("../tests/harness/hostile.rs");
}

use generators::*;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const RUNS: usize = 3;

/// Best time of `RUNS` parses, the peak heap of one, and what came out.
fn measure(bytes: &[u8], options: &ParseOptions) -> (Duration, usize, String) {
    let mut best = Duration::MAX;
    let mut peak = 0;
    let mut outcome = String::new();
    for _ in 0..RUNS {
        let base = ALLOCATOR.current_usage();
        ALLOCATOR.reset_peak_usage();
        let start = Instant::now();
        let result = black_box(lms_bulk_upload::parse(bytes, options));
        best = best.min(start.elapsed());
        peak = peak.max(ALLOCATOR.peak_usage() - base);
        outcome = match &result {
            Ok(upload) => format!(
                "{} rows, {} valid, {} issues listed",
                upload.len(),
                upload.valid_rows().count(),
                upload.issues().len()
            ),
            Err(error) => format!("refused: {}", error.code()),
        };
    }
    (best, peak, outcome)
}

/// A clean file of about `size` bytes.
fn clean_of_size(size: usize) -> Vec<u8> {
    let per_row = clean_file(1_000).len() / 1_000;
    clean_file((size / per_row).max(1))
}

fn line(name: &str, bytes: &[u8], options: &ParseOptions) {
    let (time, peak, outcome) = measure(bytes, options);
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "{name:<28} {mb:>8.2} MB {:>9.1} ms {:>8.1} ms/MB {:>9.1} MB peak {:>6.2} x  {outcome}",
        time.as_secs_f64() * 1e3,
        time.as_secs_f64() * 1e3 / mb,
        peak as f64 / 1e6,
        peak as f64 / bytes.len() as f64,
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let commas = {
        let mut bytes = BAD_HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"Ana,Lopez,ana@example.com");
        bytes.resize(bytes.len() + 50_000_000, b',');
        bytes
    };
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("bad rows (6.5 MB)", bad_rows(6_500_000)),
        ("bad rows (10 MiB)", bad_rows(10 << 20)),
        ("one row of many groups", many_groups_row(48, 3_200)),
        (
            "unterminated quote (220 MB)",
            unterminated_quote(220_000_000),
        ),
        ("UTF-16LE, 300k rows", utf16_file(300_000)),
        ("16 MB of blank lines", blank_lines(16 << 20)),
        ("Windows-1252, all euro signs", windows_1252_euros(100_000)),
        ("one-character rows (3 MiB)", narrow_rows(3 << 20)),
        ("50 M delimiters on a line", commas),
    ];
    println!(
        "{:<28} {:>11} {:>12} {:>14} {:>14} {:>8}",
        "file", "size", "time", "per MB", "peak heap", "x size"
    );
    // The hostile files with the defaults; the clean ones without the row limit (a clean
    // file of 220 MB has more than the 2 million rows `max_rows` allows).
    let clean = ParseOptions {
        max_rows: usize::MAX,
        ..Default::default()
    };
    for (name, bytes) in &files {
        line(name, bytes, &ParseOptions::default());
        line(
            "  clean file, same size",
            &clean_of_size(bytes.len()),
            &clean,
        );
    }
    // Issue 19, item 12: the host's declarations as the hostile input (a clean file of the
    // same size without them beside each).
    let declared: Vec<(&str, (Vec<u8>, ParseOptions))> = vec![
        ("one_of of 1,000 values", one_of_file(1_000, 200_000)),
        (
            "16 x 16,000 declared aliases",
            many_aliases(16, 16_000, 100_000),
        ),
    ];
    for (name, (bytes, options)) in &declared {
        line(name, bytes, options);
        line(
            "  clean file, same size",
            &clean_of_size(bytes.len()),
            &clean,
        );
    }
    spreadsheets(&clean);
}

/// Spreadsheets: a clean workbook beside the same rows as CSV (per MB of each, and per
/// row), and the hostile workbooks of core/tests/fixtures/spreadsheets beside a clean
/// workbook of the same size.
fn spreadsheets(clean: &ParseOptions) {
    println!("\nspreadsheets (.xlsx by content; time per MB of the file as uploaded)");
    for rows in [10_000, 100_000] {
        let csv = clean_file(rows);
        let xlsx = xlsx_from_csv(&csv);
        line(&format!("xlsx, {rows} rows"), &xlsx, clean);
        line("  the same rows as CSV", &csv, clean);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spreadsheets");
    for (name, file) in [
        ("zip bomb (200 MB in 200 KB)", "bomb.xlsx"),
        ("ods, a row repeated 1M times", "repeated_rows.ods"),
    ] {
        let bytes = std::fs::read(dir.join(file)).expect("the committed fixture");
        line(name, &bytes, &ParseOptions::default());
        let rows = (bytes.len() / 40).max(10);
        line(
            "  clean xlsx, about as big",
            &xlsx_from_csv(&clean_file(rows)),
            clean,
        );
    }
}

/// A minimal `.xlsx` (one sheet of inline strings, deflated) holding the cells of `csv`
/// (a clean file: no quotes, commas only between cells).
fn xlsx_from_csv(csv: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let text = std::str::from_utf8(csv).expect("clean files are UTF-8");
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in text.lines().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for cell in row.split(',') {
            let escaped = cell.replace('&', "&amp;").replace('<', "&lt;");
            sheet.push_str(&format!(
                r#"<c t="inlineStr"><is><t>{escaped}</t></is></c>"#
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, body) in parts {
        zip.start_file(name, options).expect("in memory");
        zip.write_all(body.as_bytes()).expect("in memory");
    }
    zip.finish().expect("in memory").into_inner()
}
