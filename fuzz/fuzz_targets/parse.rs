//! `parse` on arbitrary bytes with arbitrary (bounded) options: never panics, what it
//! returns is consistent, and the heap it takes stays within `heap_bound` of the input's
//! size (counted by a global allocator). The checks live in `core/tests/harness/parse.rs`,
//! which `core/tests/fuzz_corpus.rs` also runs over the committed corpus. Time per input is
//! bounded by libFuzzer's `-timeout` (the Makefile's `fuzz` target).
#![no_main]

include!("../../core/tests/harness/parse.rs");

#[global_allocator]
static ALLOCATOR: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    check_parse(data);
    let peak = ALLOCATOR.peak_usage().saturating_sub(base);
    assert!(
        peak <= heap_bound(data.len()),
        "{peak} bytes of heap for a {}-byte input",
        data.len()
    );
});
