//! The heap a plan keeps and peaks at: part (a) of `plan_execute` (1,000,000 rows against a
//! `MemoryStore` holding 500,000 of them) under a counting global allocator, `peak_alloc`,
//! beside the figures before the plan was made compact, before it kept its rows encoded, and
//! the goal (≤ 200 MB kept). The store's copies of the users it finds count in the peak. Its
//! own process: the counter's shared atomics slow every allocation of the plan's threads, so
//! `plan_execute` times the plan under the system's allocator, uncounted.
//! `cargo bench -p lms-bulk-upload --bench plan_heap`

use lms_bulk_upload::{
    parse, plan, ContentKind, ContentRef, ExistingUser, MemoryStore, Profile, Settings, UserId,
};
use peak_alloc::PeakAlloc;
use std::hint::black_box;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Before the plan was made compact and threaded (the engine of commit 8faa144, counted as
/// here, for 1,000,000 rows), and the goal.
const PLAN_KEPT_MB_BEFORE: f64 = 1_847.0;
/// Before the plan kept its rows encoded (commit 1094cf6, counted as here): the rows as
/// `PlanRow` values.
const PLAN_KEPT_MB_AS_VALUES: f64 = 600.9;
const PLAN_PEAK_MB_AS_VALUES: f64 = 607.8;
const PLAN_PEAK_MB_BEFORE: f64 = 2_134.0;
const PLAN_KEPT_MB_GOAL: f64 = 200.0;

include!("data/plan.rs");

fn main() {
    let rows = std::env::var("PLAN_EXECUTE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000usize);
    let existing = rows / 2;
    let upload = parse(&csv(rows), &Default::default()).expect("the generated file parses");
    let settings = plan_settings();
    let mut memory = store(existing);
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let planned = plan(&upload, &settings, &mut memory).expect("plan");
    let kept = ALLOCATOR.current_usage().saturating_sub(base);
    let peak = ALLOCATOR.peak_usage().saturating_sub(base);
    assert_eq!(planned.summary().create as usize, rows - existing);
    let scale = rows as f64 / 1e6;
    let (kept_mb, peak_mb) = (kept as f64 / 1e6, peak as f64 / 1e6);
    let met = kept_mb <= PLAN_KEPT_MB_GOAL * scale;
    println!(
        "  plan heap, {rows} rows, {existing} in the store: before {:.0} MB kept, {:.0} MB peak; rows as values {:.1} MB kept, {:.1} MB peak | goal <= {:.0} MB kept | now {kept_mb:.1} MB kept ({:.0} bytes a row), {peak_mb:.1} MB peak: {}",
        PLAN_KEPT_MB_BEFORE * scale,
        PLAN_PEAK_MB_BEFORE * scale,
        PLAN_KEPT_MB_AS_VALUES * scale,
        PLAN_PEAK_MB_AS_VALUES * scale,
        PLAN_KEPT_MB_GOAL * scale,
        kept as f64 / rows as f64,
        if met { "MET" } else { "MISSED" }
    );
    let _ = black_box(planned);
}
