//! One `apply` or `undo` at a time per database: an exclusive lock on a file beside it, held from
//! before planning until the results are recorded. The operating system releases it when
//! the process ends, however it ends (a killed run leaves no stale lock).

use crate::files;
use crate::{io_error, Error, ErrorKind};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Held while it lives.
#[derive(Debug)]
pub struct ApplyLock {
    _file: File,
}

/// `lms.sqlite3` → `lms.sqlite3.apply-lock`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".apply-lock");
    PathBuf::from(name)
}

/// Takes the lock, or refuses at once (exit code 5) when another `apply` holds it.
pub fn acquire(db: &Path) -> Result<ApplyLock, Error> {
    let path = path_for(db);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir_all(dir)
            .map_err(|e| io_error("cannot create the database folder", dir, e))?;
    }
    let mut file =
        files::open_private(&path).map_err(|e| io_error("cannot open the lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.chars().all(|c| c.is_ascii_digit()) && !holder.is_empty() {
                format!(" (process {holder})")
            } else {
                String::new()
            };
            return Err(Error {
                kind: ErrorKind::Busy,
                message: format!(
                    "another `apply` or `undo`{who} is running on {}: nothing was done; run \
                     this one again when it has finished",
                    db.display()
                ),
                issue_code: None,
            });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(io_error("cannot lock", &path, e));
        }
    }
    // Who holds it, for the message of the next one; a failure here changes nothing.
    let _ = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| write!(file, "{}", std::process::id()));
    Ok(ApplyLock { _file: file })
}
