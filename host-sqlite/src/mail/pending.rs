//! Two-phase publication of the outbox's messages. A batch's messages are first written to
//! `DIR/.pending/BATCH.NAME` (a hidden folder no reader of the outbox looks into, on the same
//! filesystem: a rename is atomic); the batch's name is recorded in the database inside the
//! batch's transaction (`outbox_pending`: names only, never a message); once that
//! transaction has committed, the files are renamed to `DIR/NAME` (published) and the record
//! removed. A process stopped anywhere leaves either a recorded batch (committed: published
//! when the outbox is next opened) or an unrecorded one (rolled back: its rows are redone
//! with new links or passwords, so its messages are deleted unread). One folder for all
//! batches, kept while the outbox is open: no folder is made or removed per batch.

use crate::files;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The hidden folder of pending messages, inside the outbox.
const PENDING: &str = ".pending";

/// Where message `name` of pending batch `batch` waits (a batch's name has no `.`).
pub(crate) fn path(outbox: &Path, batch: &str, name: &str) -> PathBuf {
    outbox.join(PENDING).join(format!("{batch}.{name}"))
}

/// The temporary file the message is written to first.
pub(crate) fn tmp_path(outbox: &Path, batch: &str, name: &str) -> PathBuf {
    outbox.join(PENDING).join(format!(".{batch}.{name}.tmp"))
}

/// Makes `.pending` a folder of its own (0700): kept if it is one, else (a symlink planted
/// there, a file) unlinked, never followed, and created.
pub(crate) fn prepare(outbox: &Path) -> io::Result<()> {
    let folder = outbox.join(PENDING);
    match fs::symlink_metadata(&folder) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => fs::remove_file(&folder)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    files::create_private_dir_all(&folder)
}

/// Removes `.pending` if it is empty (when the outbox is closed, and after recovery).
pub(crate) fn tidy(outbox: &Path) {
    let _ = fs::remove_dir(outbox.join(PENDING));
}

/// The pending files of `batch` (and its temporary files): `(path, name once published)`.
fn files_of(outbox: &Path, batch: &str) -> io::Result<Vec<(PathBuf, Option<String>)>> {
    let mut out = Vec::new();
    for (path, of, name) in entries(outbox)? {
        if of == batch {
            out.push((path, name));
        }
    }
    Ok(out)
}

/// Every entry of `.pending`: its path, its batch, and its published name (`None`: not a
/// message, such as a temporary file left by a stopped write). A `.pending` that is not a
/// folder is unlinked, never followed: nothing outside the outbox is published or deleted.
fn entries(outbox: &Path) -> io::Result<Vec<(PathBuf, String, Option<String>)>> {
    let folder = outbox.join(PENDING);
    match fs::symlink_metadata(&folder) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            fs::remove_file(&folder)?;
            return Ok(Vec::new());
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(&folder)? {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type()?.is_file();
        let (hidden, rest) = match file_name.strip_prefix('.') {
            Some(rest) => (true, rest),
            None => (false, file_name.as_str()),
        };
        let (batch, name) = rest.split_once('.').unwrap_or((rest, ""));
        let published = (!hidden && is_file && !name.is_empty()).then(|| name.to_owned());
        out.push((entry.path(), batch.to_owned(), published));
    }
    Ok(out)
}

/// Moves a batch's messages into the outbox (a rename each). A batch already published (or
/// never written) is nothing to do; one published half-way (the process stopped) is
/// finished.
pub(crate) fn publish(outbox: &Path, batch: &str) -> io::Result<()> {
    for (path, name) in files_of(outbox, batch)? {
        match name {
            Some(name) => fs::rename(&path, outbox.join(name))?,
            None => remove(&path)?,
        }
    }
    Ok(())
}

/// Deletes a pending batch's messages unread.
pub(crate) fn discard(outbox: &Path, batch: &str) -> io::Result<()> {
    for (path, _) in files_of(outbox, batch)? {
        remove(&path)?;
    }
    Ok(())
}

/// The names of the pending batches in the outbox.
pub(crate) fn batches(outbox: &Path) -> io::Result<Vec<String>> {
    let mut names: Vec<String> = entries(outbox)?.into_iter().map(|(_, b, _)| b).collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Removes a file, a symlink (not its target) or a folder with what it holds.
fn remove(path: &Path) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
