//! `parse` on arbitrary bytes with arbitrary (bounded) options: never panics, and what it
//! returns is consistent. The checks live in `core/tests/harness/parse.rs`, which
//! `core/tests/fuzz_corpus.rs` also runs over the committed corpus.
#![no_main]

include!("../../core/tests/harness/parse.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| check_parse(data));
