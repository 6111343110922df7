//! One step of the engine, for an instruction count under callgrind (`make bench-callgrind`):
//! `parse` of the parse benchmark's file (`raw`: the same bytes read by the `csv` crate's
//! `ByteRecord` reader, the anchor), or `plan` of the plan benchmark's upload against a
//! store holding half of its users, `ROWS` rows, or `execute` of that plan into the store
//! (a default password, as in the benchmark's part (b), hashed once with cheap argon2
//! parameters so that the run's one hash does not hide the rows' own count). The step runs
//! in a function of its own (`measured_parse`, `measured_plan`, `measured_execute`) so that
//! callgrind counts it alone
//! (`--collect-atstart=no --toggle-collect='*measured_parse*'`); making the input does not
//! count. `THREADS` (default 1) is the parse option `threads`. The file is parsed by
//! `parse_owned` (the bytes handed over, as `examples/parse_file` and the CLI do; the copy
//! made to hand them over does not count), or by `parse` (which copies them) with
//! `BORROW=1`.
//!
//! `cargo run --release -p lms-bulk-upload --example count_instructions -- parse 100000`

use lms_bulk_upload::{
    parse, parse_owned, plan, ContentKind, ContentRef, ExecuteOptions, ExistingUser, HashParams,
    MemoryStore, ParseOptions, Plan, Profile, RecordingMailer, Settings, Upload, UserId,
};
use std::hint::black_box;
use std::process::ExitCode;

include!("../benches/data/users.rs");
include!("../benches/data/plan.rs");

#[inline(never)]
fn measured_parse(bytes: Vec<u8>, options: &ParseOptions, borrow: bool) -> Upload {
    let upload = match borrow {
        true => parse(black_box(&bytes), options),
        false => parse_owned(black_box(bytes), options),
    };
    black_box(upload.expect("the benchmark file parses"))
}

/// The anchor: the same bytes read by the `csv` crate's `ByteRecord` reader, no more.
#[inline(never)]
fn measured_raw(bytes: &[u8]) -> usize {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(black_box(bytes));
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        rows += 1;
    }
    black_box(rows)
}

#[inline(never)]
fn measured_plan(upload: &Upload, settings: &Settings, store: &mut MemoryStore) -> usize {
    let planned = plan(black_box(upload), settings, store).expect("plan");
    black_box(planned.rows().len())
}

#[inline(never)]
fn measured_execute(planned: &Plan, store: &mut MemoryStore) -> usize {
    let mut mailer = RecordingMailer::new();
    let options = ExecuteOptions {
        hash_params: HashParams::insecure_for_tests(64, 1, 1),
        ..ExecuteOptions::default()
    };
    let results = planned
        .execute(black_box(store), &mut mailer, options)
        .expect("execute");
    black_box(results.rows.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let options = ParseOptions {
        threads,
        ..ParseOptions::default()
    };
    match args.first().map(String::as_str) {
        Some("parse") => {
            let mut bytes = Vec::new();
            write_users(&mut bytes, rows).expect("in memory");
            let size = bytes.len();
            let borrow = std::env::var_os("BORROW").is_some_and(|b| b == "1");
            let upload = measured_parse(bytes, &options, borrow);
            println!("parse: {} rows, {size} bytes", upload.len());
        }
        Some("raw") => {
            let mut bytes = Vec::new();
            write_users(&mut bytes, rows).expect("in memory");
            let read = measured_raw(&bytes);
            println!("raw: {read} rows, {} bytes", bytes.len());
        }
        Some("plan") => {
            let bytes = csv(rows);
            let upload = parse(&bytes, &options).expect("the generated file parses");
            let mut memory = store(rows / 2);
            let planned = measured_plan(&upload, &plan_settings(), &mut memory);
            println!("plan: {planned} rows, {} in the store", rows / 2);
        }
        Some("execute") => {
            let bytes = csv(rows);
            let upload = parse(&bytes, &options).expect("the generated file parses");
            let mut memory = store(rows / 2);
            let planned = plan(&upload, &plan_settings(), &mut memory).expect("plan");
            drop(upload);
            let done = measured_execute(&planned, &mut memory);
            println!("execute: {done} rows, {} in the store before", rows / 2);
        }
        _ => {
            eprintln!("usage: count_instructions raw|parse|plan|execute [ROWS]");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
