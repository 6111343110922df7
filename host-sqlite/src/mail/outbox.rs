//! The outbox transport: one `.eml` file (RFC 5322) per message, in a folder a person can open.

use crate::files;
use lettre::message::Mailbox;
use lms_bulk_upload::{HostError, Mailer, Message};
use std::fs;
use std::path::{Path, PathBuf};

/// Writes each message to `DIR/NNNNNNN-KIND-RECIPIENT.eml`. Numbers go on from the highest
/// already in the folder, so the files sort in sending order across runs. Files appear
/// atomically (written as `.tmp`, then renamed). The messages hold passwords: a new folder
/// is 0700, every file 0600, and the temporary file is created new without following a
/// symlink (one planted at its name is unlinked, never written through).
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
    next: u64,
    written: u64,
}

impl OutboxMailer {
    pub fn open(dir: &Path, from: Mailbox) -> std::io::Result<OutboxMailer> {
        files::create_private_dir_all(dir)?;
        let mut highest = 0;
        for entry in fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_suffix(".eml")
                .and_then(|s| s.split('-').next())
                .and_then(|n| n.parse::<u64>().ok())
            {
                highest = highest.max(n);
            }
        }
        Ok(OutboxMailer {
            dir: dir.to_owned(),
            from,
            next: highest + 1,
            written: 0,
        })
    }

    /// Messages written by this mailer.
    pub fn written(&self) -> u64 {
        self.written
    }
}

/// A file-name-safe form of an address.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '_' | '+' | '@') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}

impl Mailer for OutboxMailer {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        let bytes = super::build(&self.from, message)?.formatted();
        let name = format!(
            "{:07}-{}-{}.eml",
            self.next,
            message.kind.as_str(),
            safe(&message.to)
        );
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        files::write_private_atomic(&path, &tmp, &bytes)
            .map_err(|e| HostError::transient(format!("outbox {}: {e}", path.display())))?;
        self.next += 1;
        self.written += 1;
        Ok(())
    }
}
