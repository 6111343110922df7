//! Parts (a) and (b) of `plan_execute` again, the same upload, store and settings, with
//! mimalloc as the global allocator: the one `bulk-upload` ships. Planning and executing
//! a large upload make tens of millions of small allocations, so their rate depends on the
//! allocator the host process links as much as on the engine; printed after
//! `plan_execute`'s figures (glibc's `malloc`) by
//! `make bench-rust`, so that the two stand side by side.
//! `cargo bench -p lms-bulk-upload --bench plan_execute_mimalloc`

use lms_bulk_upload::{
    parse, plan, ContentKind, ContentRef, ExecuteOptions, ExistingUser, MemoryStore, Profile,
    RecordingMailer, Settings, UserId,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The goals, as in `plan_execute`.
const PLAN_RATE_GOAL: f64 = 1_000_000.0;
const EXECUTE_RATE_GOAL: f64 = 500_000.0;

include!("data/plan.rs");
include!("data/timing.rs");

fn main() {
    println!(
        "plan_execute with mimalloc as the global allocator (release; {} cores available, load average {})",
        cores(),
        load_average()
    );
    let rows = env_number("PLAN_EXECUTE_ROWS", 1_000_000);
    let existing = rows / 2;
    let bytes = csv(rows);
    let upload = parse(&bytes, &Default::default()).expect("the generated file parses");
    let settings = plan_settings();
    let mut memory = store(existing);

    let (planned, planning) = timed(|| plan(&upload, &settings, &mut memory));
    let planned = planned.expect("plan");
    assert_eq!(planned.summary().create as usize, rows - existing);
    report(
        &format!("(a) plan {rows} rows, {existing} in the store"),
        rows,
        planning,
        None,
    );
    let now = rate(rows, planning.0);
    println!(
        "      plan rate, mimalloc    goal >= {PLAN_RATE_GOAL:.0} | now {now:>10.0} rows/s: {}",
        verdict(now >= PLAN_RATE_GOAL)
    );
    drop(upload);
    drop(bytes);

    let mut mailer = RecordingMailer::new();
    let (results, executing) =
        timed(|| planned.execute(&mut memory, &mut mailer, ExecuteOptions::default()));
    let results = results.expect("execute");
    assert_eq!(results.summary.created as usize, rows - existing);
    assert_eq!(results.summary.updated as usize, existing);
    assert_eq!(results.summary.failed, 0);
    report(
        &format!("(b) execute {rows} rows, default pw, re-check"),
        rows,
        executing,
        None,
    );
    let now = rate(rows, executing.0);
    println!(
        "      execute rate, mimalloc goal >= {EXECUTE_RATE_GOAL:.0} | now {now:>10.0} rows/s: {}",
        verdict(now >= EXECUTE_RATE_GOAL)
    );
    black_box(results);
}
