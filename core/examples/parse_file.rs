//! Parses one upload file and prints what came out: the peak-memory probe of `make bench`
//! (`/usr/bin/time -v target/release/examples/parse_file bench-data/users-1m.csv`).
//!
//! `cargo run --release -p lms-bulk-upload --example parse_file -- FILE`; `THREADS=n` sets
//! the parse option `threads` (default 0: every core); `BORROW=1` parses a borrow of the bytes
//! with `parse` (which copies them into the upload) instead of handing them to `parse_owned`;
//! `SHARED=1` shares them, checked as UTF-8 first, with `parse_shared` (as the Python binding
//! shares a `bytes` object).

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: parse_file FILE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let size = bytes.len();
    let options = lms_bulk_upload::ParseOptions {
        threads: std::env::var("THREADS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        ..Default::default()
    };
    // The file's bytes are handed over: the upload keeps them as its text (a UTF-8 file is
    // not copied), so the peak is the file and the index of its values. `BORROW=1` lends
    // them to `parse` instead, which copies them (as the Node and Ruby bindings' buffers are).
    let set = |name: &str| std::env::var_os(name).is_some_and(|b| b == "1");
    let result = if set("BORROW") {
        lms_bulk_upload::parse(&bytes, &options)
    } else if set("SHARED") {
        match String::from_utf8(bytes) {
            Ok(text) => lms_bulk_upload::parse_shared(std::sync::Arc::new(text), &options),
            Err(e) => lms_bulk_upload::parse_owned(e.into_bytes(), &options),
        }
    } else {
        lms_bulk_upload::parse_owned(bytes, &options)
    };
    match result {
        Ok(upload) => {
            println!(
                "{size} bytes, {} rows, {} valid, {} issues, encoding {}, delimiter {:?}",
                upload.len(),
                upload.valid_rows().count(),
                upload.issues().len(),
                upload.encoding().as_str(),
                upload.delimiter()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("{size} bytes, {error}");
            ExitCode::FAILURE
        }
    }
}
