//! Files the CLI creates: owner-only (folders 0700, files 0600), never through a symlink, and
//! input files read with a size bound.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// Creates `dir` and its missing parents, owner-only (0700). Existing folders keep their mode.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Options for a file only its owner can read, that does not follow a symlink at `path`.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Creates a new owner-only file. `O_EXCL` and `O_NOFOLLOW`: anything already at `path` (a
/// file, or a symlink planted there, dangling or not) makes it fail instead of being written
/// through.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    private_options().create_new(true).open(path)
}

/// Opens (creating it if needed) an owner-only file without following a symlink.
pub fn open_private(path: &Path) -> io::Result<File> {
    private_options()
        .read(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Writes `bytes` to `path` atomically: see [`write_private_atomic_with`].
pub fn write_private_atomic(path: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    write_private_atomic_with(path, tmp, |file| file.write_all(bytes))
}

/// Writes `path` atomically with `write`, which streams the content (through a 64 KiB
/// buffer): an owner-only temporary file beside it (created new, never through a symlink; a
/// stale one left by a crash, or something planted at its name, is unlinked first), then
/// renamed over `path`. `rename` replaces a symlink at `path` itself, never its target. On
/// any error the temporary file is removed and `path` is left as it was.
pub fn write_private_atomic_with(
    path: &Path,
    tmp: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let file = match create_new_private(tmp) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // `remove_file` unlinks the entry itself (a symlink, not what it points to).
            fs::remove_file(tmp)?;
            create_new_private(tmp)?
        }
        Err(e) => return Err(e),
    };
    let mut out = io::BufWriter::with_capacity(64 << 10, file);
    let written = write(&mut out)
        .and_then(|()| out.into_inner().map_err(io::IntoInnerError::into_error))
        .and_then(|file| {
            drop(file);
            fs::rename(tmp, path)
        });
    if written.is_err() {
        let _ = fs::remove_file(tmp);
    }
    written
}

/// Writes `bytes` to a new owner-only file at `path`, not atomically: for a file in a
/// folder of the program's own whose publication is a later rename (the outbox's pending
/// messages). Anything already at `path` (a file left by a stopped write, a symlink) is
/// unlinked first, never written through; on an error the file is removed.
pub fn write_private_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = match create_new_private(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(path)?;
            create_new_private(path)?
        }
        Err(e) => return Err(e),
    };
    let written = file.write_all(bytes);
    drop(file);
    if written.is_err() {
        let _ = fs::remove_file(path);
    }
    written
}

/// Removes the group and other permission bits of an existing file we own (the database,
/// which holds password hashes and the plan key). Returns whether anything changed.
pub fn restrict_to_owner(path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::symlink_metadata(path)?;
        let mode = meta.permissions().mode();
        if meta.is_file() && mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700))?;
            return Ok(true);
        }
    }
    let _ = path;
    Ok(false)
}

/// Why a bounded read refused a file.
pub enum ReadError {
    Io(io::Error),
    /// The file is larger than the limit; `size` when the file system knew it up front.
    TooLarge {
        size: Option<u64>,
    },
}

/// Reads a file (or a pipe, or `/dev/stdin`) of at most `limit` bytes, refusing a larger one
/// before reading it whole: a regular file by its length, anything else after `limit + 1`
/// bytes.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(meta.len()),
        });
    }
    let capacity = if meta.is_file() { meta.len() } else { 0 };
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None });
    }
    Ok(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir_all(&nested).unwrap();
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        let file = nested.join("f");
        write_private_atomic(&file, &nested.join(".f.tmp"), b"x").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read(&file).unwrap(), b"x");
    }

    #[test]
    fn a_symlink_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("authorized_keys");
        fs::write(&target, "").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(create_new_private(&link).is_err());
        assert!(open_private(&link).is_err(), "O_NOFOLLOW");
        // Planted at the temporary name: unlinked, then a fresh file is created.
        let out = dir.path().join("out");
        write_private_atomic(&out, &link, b"secret").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "");
        assert_eq!(fs::read(&out).unwrap(), b"secret");
        assert!(fs::symlink_metadata(&link).is_err(), "the link is gone");
    }

    /// A streamed write that fails part-way leaves the file as it was and no temporary file:
    /// the results of a run are either the old file or the whole new one.
    #[test]
    fn a_failed_streamed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let (out, tmp) = (dir.path().join("r.csv"), dir.path().join("r.csv.tmp"));
        write_private_atomic(&out, &tmp, b"old").unwrap();
        let failed = write_private_atomic_with(&out, &tmp, |w| {
            w.write_all(&vec![b'x'; 200_000])?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "disk full");
        assert_eq!(fs::read(&out).unwrap(), b"old");
        assert!(
            fs::symlink_metadata(&tmp).is_err(),
            "the temporary file is gone"
        );
        write_private_atomic_with(&out, &tmp, |w| {
            (0..100_000).try_for_each(|i| write!(w, "{i},"))
        })
        .unwrap();
        let text = fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("0,1,2,") && text.ends_with("99998,99999,"));
        assert_eq!(mode(&out), 0o600);
    }

    #[test]
    fn an_existing_loose_file_is_restricted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        fs::write(&path, "").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(restrict_to_owner(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
        assert!(!restrict_to_owner(&path).unwrap());
    }

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let file = File::create(&path).unwrap();
        file.set_len(1 << 33).unwrap(); // 8 GiB, sparse: refused by its length
        assert!(matches!(
            read_bounded(&path, 1000),
            Err(ReadError::TooLarge { size: Some(_) })
        ));
        fs::write(&path, [b'a'; 1000]).unwrap();
        assert_eq!(read_bounded(&path, 1000).ok().unwrap().len(), 1000);
    }
}
