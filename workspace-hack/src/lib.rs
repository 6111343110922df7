//! No code: this crate's dependencies (written by `cargo hakari generate`) give every
//! workspace member the same features of the third-party crates they share, so that one
//! build of the core and its dependencies serves the tests, the CLI and every binding.
//! See docs/DECISIONS.md ("One build of the core for every binding").
