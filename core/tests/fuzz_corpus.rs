//! Replays the committed corpus of the `parse` fuzz target (`fuzz/corpus/parse/`, and any
//! crash artifacts in `fuzz/artifacts/parse/`) through exactly the code the target runs
//! (`harness/parse.rs`), so `make test` needs no nightly toolchain.
#![allow(clippy::unwrap_used)]

include!("harness/parse.rs");

use peak_alloc::PeakAlloc;

/// Counts heap bytes, to hold every input to `heap_bound`.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Runs `check_parse` on one input; the peak heap it took beyond what was allocated before.
/// (The test harness may allocate on other threads meanwhile: a little noise, on the
/// safe side.)
fn checked_peak(data: &[u8]) -> usize {
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    check_parse(data);
    ALLOCATOR.peak_usage().saturating_sub(base)
}

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut paths = Vec::new();
    for dir in [
        root.join("corpus").join(target),
        root.join("artifacts").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        paths.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file()),
        );
    }
    paths.sort();
    paths
}

#[test]
fn parse_corpus_replays() {
    let paths = inputs("parse");
    assert!(
        paths.len() >= 30,
        "the parse corpus is committed ({} inputs)",
        paths.len()
    );
    let mut worst = (0.0f64, PathBuf::new());
    for path in paths {
        let data = std::fs::read(&path).unwrap();
        // no wall-clock bound in a test: the inputs are small, and parse is linear
        assert!(
            data.len() <= MAX_CORPUS_INPUT,
            "{} is {} bytes; corpus inputs are at most {MAX_CORPUS_INPUT}",
            path.display(),
            data.len()
        );
        let outcome = std::panic::catch_unwind(|| checked_peak(&data));
        let Ok(peak) = outcome else {
            panic!("{} fails the parse fuzz checks", path.display());
        };
        assert!(
            peak <= heap_bound(data.len()),
            "{}: {peak} bytes of heap for a {}-byte input (bound {})",
            path.display(),
            data.len(),
            heap_bound(data.len())
        );
        let ratio = peak as f64 / heap_bound(data.len()) as f64;
        if ratio > worst.0 {
            worst = (ratio, path);
        }
    }
    println!(
        "closest to the heap bound: {:.0} % of it ({})",
        worst.0 * 100.0,
        worst.1.display()
    );
}

#[test]
fn fixtures_pass_the_fuzz_checks_with_default_and_small_options() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            files.push(path);
        }
    }
    let mut count = 0;
    for path in files {
        if path.extension().is_some_and(|e| e == "py") {
            continue;
        }
        let file = std::fs::read(&path).unwrap();
        for prefix in [
            [0u8; 11],
            [0, b'|', 2, 8, 0, 3, 4, 0, 0, 0, 4],
            [5, 0, 0, 0, 0, 0, 0, 200, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 8 << 3 | 1, 2],
        ] {
            let mut data = prefix.to_vec();
            data.extend_from_slice(&file);
            check_parse(&data);
        }
        count += 1;
    }
    assert!(count >= 25);
}

#[test]
fn physical_lines_count_like_the_parser() {
    assert_eq!(physical_lines(b"a\nb\r\nc\rd"), Some(4));
    assert_eq!(physical_lines(b""), Some(1));
    assert_eq!(physical_lines(b"\xFF\xFEa\x00\n\x00b\x00"), Some(2));
    assert_eq!(physical_lines(b"\xFE\xFF\x00a\x00\r\x00\n"), Some(2));
    assert_eq!(physical_lines(b"\xFF\xFE\x00\xD8"), None);
}

#[test]
fn all_zero_options_are_the_defaults() {
    let input = ParseInput::arbitrary_take_rest(Unstructured::new(&[0u8; 11])).unwrap();
    let options = ParseOptions {
        fields: host_fields(),
        login_methods: vec!["saml".into()],
        ..ParseOptions::default()
    };
    assert_eq!(input.options.to_options(), options);
    assert!(input.bytes.is_empty());
}
