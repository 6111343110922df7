//! Parse + validate throughput against the raw `csv` crate, in one run.
//!
//! `cargo bench -p lms-bulk-upload --bench parse` (or `make bench-parse`, which also
//! measures peak memory with `examples/parse_file`).
//!
//! Generates (if absent) `bench-data/users-1m.csv` at the workspace root: 1,000,000 rows,
//! 7 columns (firstname, lastname, emailaddress, phonenumber, uniqueid, country,
//! organisation), about 85 MB, deterministic. `BENCH_DATA=path` uses another file.
//! Then reads the same bytes with `csv::ByteRecord` (the floor) and with `parse`, best of 3
//! each, and prints MB/s (10^6 bytes), rows/s and the ratios: `parse` on one thread and on
//! every core (the `threads` option), then `parse_owned` the same way (the bytes handed over,
//! as a host that read the file does: the copy given to it is made before the clock starts;
//! `parse` copies the bytes it borrows into the upload). Targets: at least 65 % of the raw
//! csv throughput on one thread, 100 % on two.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROWS: usize = 1_000_000;
const RUNS: usize = 3;

fn data_path() -> PathBuf {
    match std::env::var_os("BENCH_DATA") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-data/users-1m.csv"),
    }
}

include!("data/users.rs");

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = black_box(f());
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one run"))
}

fn line(name: &str, bytes: usize, rows: usize, time: Duration) -> f64 {
    let secs = time.as_secs_f64();
    let mbps = bytes as f64 / 1e6 / secs;
    println!(
        "{name:<28} {:>8.1} ms {:>9.1} MB/s {:>12.0} rows/s",
        secs * 1e3,
        mbps,
        rows as f64 / secs
    );
    mbps
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful either:
    // only skip the long run when asked to list tests.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let path = data_path();
    if !path.exists() {
        eprintln!("generating {} ...", path.display());
        generate(&path, ROWS).expect("write the benchmark file");
    }
    let bytes = std::fs::read(&path).expect("read the benchmark file");
    println!(
        "{}: {:.1} MB, best of {RUNS} runs",
        path.display(),
        bytes.len() as f64 / 1e6
    );

    // The three are timed in turns (raw, 1 thread, all threads, raw, ...) so that a busy
    // machine slows them alike; each keeps its best run.
    let read_raw = || {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes.as_slice());
        let mut record = csv::ByteRecord::new();
        let mut rows = 0usize;
        while reader.read_byte_record(&mut record).expect("csv") {
            rows += 1;
        }
        rows
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(lms_bulk_upload::MAX_PARSE_THREADS);
    let options = |threads: usize| lms_bulk_upload::ParseOptions {
        threads,
        ..Default::default()
    };
    let (one, many) = (options(1), options(threads));
    let parse = |options: &lms_bulk_upload::ParseOptions| {
        lms_bulk_upload::parse(&bytes, options).expect("the benchmark file parses")
    };
    let parse_owned = |options: &lms_bulk_upload::ParseOptions| {
        let copy = bytes.clone();
        let start = Instant::now();
        let upload = black_box(
            lms_bulk_upload::parse_owned(copy, options).expect("the benchmark file parses"),
        );
        (start.elapsed(), upload)
    };
    let (mut raw_time, mut one_time, mut many_time) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let (mut owned_one, mut owned_many) = (Duration::MAX, Duration::MAX);
    let (mut raw_rows, mut upload) = (0, None);
    for _ in 0..RUNS {
        let (time, rows) = best_of(1, read_raw);
        raw_time = raw_time.min(time);
        raw_rows = rows;
        drop(upload.take());
        let (time, parsed) = best_of(1, || parse(&one));
        one_time = one_time.min(time);
        drop(parsed);
        let (time, parsed) = best_of(1, || parse(&many));
        many_time = many_time.min(time);
        drop(parsed);
        let (time, parsed) = parse_owned(&one);
        owned_one = owned_one.min(time);
        drop(parsed);
        let (time, parsed) = parse_owned(&many);
        owned_many = owned_many.min(time);
        upload = Some(parsed);
    }
    let upload = upload.expect("at least one run");
    let valid = upload.valid_rows().count();
    assert_eq!(upload.len(), raw_rows, "parse and csv see the same rows");

    let raw = line("csv::ByteRecord read", bytes.len(), raw_rows, raw_time);
    let single = line(
        "parse + validate, 1 thread",
        bytes.len(),
        upload.len(),
        one_time,
    );
    let label = format!("parse + validate, {threads} threads");
    let parallel = line(&label, bytes.len(), upload.len(), many_time);
    let owned_single = line(
        "parse_owned, 1 thread",
        bytes.len(),
        upload.len(),
        owned_one,
    );
    let label = format!("parse_owned, {threads} threads");
    let owned_parallel = line(&label, bytes.len(), upload.len(), owned_many);
    println!(
        "parse+validate / raw csv: {:.1} % on 1 thread (target >= 65 %), {:.1} % on {threads} (target >= 100 %); {} rows, {} valid, {} issues",
        single / raw * 100.0,
        parallel / raw * 100.0,
        upload.len(),
        valid,
        upload.issues().len()
    );
    println!(
        "parse_owned / raw csv: {:.1} % on 1 thread, {:.1} % on {threads}",
        owned_single / raw * 100.0,
        owned_parallel / raw * 100.0,
    );
}
