// A build script, so that cargo applies this crate's build-dependencies (the features of
// the crates proc macros and build scripts share) to the build's host side.
fn main() {}
