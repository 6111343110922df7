//! `Plan::from_json` on untrusted text: refused with a plan error code, or read back
//! unchanged. The checks live in `core/tests/harness/whole_path.rs`.
#![no_main]
#![allow(dead_code)]

include!("../../core/tests/harness/whole_path.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| plan_json(data));
