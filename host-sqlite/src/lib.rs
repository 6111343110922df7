//! The SQLite host of lms-bulk-upload: the database (schema, the engine's `Store` and
//! `Journal`, runs, demo data), mail (SMTP or an outbox folder), owner-only files and the
//! apply lock. The `bulk-upload` CLI and its web server (`bulk-upload serve`) both use it.
#![forbid(unsafe_code)]
#![allow(missing_docs, unreachable_pub)]

pub mod db;
mod error;
pub mod files;
pub mod lock;
pub mod mail;
pub mod run;
pub mod web;

pub use error::{io_error, Error, ErrorKind};

use std::sync::OnceLock;

static NOTE_SINK: OnceLock<fn(&str)> = OnceLock::new();

/// Where this crate's notes to the person go (a database restricted to its owner, SMTP in
/// plain text): standard error unless the program sets its own (once, at start).
pub fn set_note_sink(sink: fn(&str)) {
    let _ = NOTE_SINK.set(sink);
}

/// Tells the person something worth knowing that is not an error.
pub(crate) fn note(message: &str) {
    match NOTE_SINK.get() {
        Some(sink) => sink(message),
        None => eprintln!("{}", message.escape_debug()),
    }
}
