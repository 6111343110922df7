//! The whole path — parse → settings → plan → plan JSON round trip → execute against a
//! `MemoryStore` — with arbitrary bytes, settings and store contents. The checks live in
//! `core/tests/harness/whole_path.rs`, which `core/tests/fuzz_whole_path.rs` also runs over
//! the committed corpus.
#![no_main]
#![allow(dead_code)]

include!("../../core/tests/harness/whole_path.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| whole_path(data));
