//! The outbox transport: one `.eml` file (RFC 5322) per message, in a folder a person can
//! open; or, for big uploads, one `.mbox` file (mboxrd) per batch of messages.

use super::eml::EmlWriter;
use super::pending;
use super::publisher::PublishThread;
use crate::db::Db;
use crate::files;
use lettre::message::Mailbox;
use lms_bulk_upload::{HostError, Mailer, Message};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

/// How the outbox holds messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutboxFormat {
    /// One `.eml` file per message (the default): a person opens any of them. Opened for
    /// a run, the messages are formatted and written on a thread of the mailer's own while
    /// the engine goes on with the next rows.
    #[default]
    Eml,
    /// One `.mbox` file (mboxrd: `From ` lines, `>From` escaped, LF line ends) per batch of
    /// rows, written when the engine flushes the batch: a million messages are four
    /// thousand files, not a million (creating a file costs more than writing one message).
    /// The messages are formatted on a thread of the mailer's own while the engine goes on
    /// with the next rows.
    Mbox,
}

/// Writes each message to `DIR/NNNNNNN-KIND-RECIPIENT.eml` (or each batch's to
/// `DIR/NNNNNNN-batch.mbox`). Numbers go on from the highest
/// already in the folder, so the files sort in sending order across runs. Files appear
/// atomically (written as `.tmp`, then renamed). The messages hold passwords: a new folder
/// is 0700, every file 0600, and the temporary file is created new without following a
/// symlink (one planted at its name is unlinked, never written through).
///
/// Opened for a run ([`OutboxMailer::open_for_run`]), it publishes in two phases: a batch's
/// messages are written to a hidden pending folder, recorded in the batch's transaction and
/// moved into the outbox once it commits (see `mail::pending`), so no message of a row
/// rolled back by a stop is ever in the outbox. There the rename is what makes a message
/// appear, so a pending `.eml` is written straight at its pending name (created new, 0600,
/// never through a symlink), without a temporary file of its own; and its formatting and
/// writing happen on the mailer's thread: `send` checks the recipient and queues the
/// message, `flush` waits until the batch's files are all written (a write that failed is
/// tried again by the next `flush`, and until it succeeds the batch is not recorded).
pub struct OutboxMailer {
    dir: PathBuf,
    /// Formats the messages written on the caller's thread (not opened for a run); the
    /// mailer's thread formats with a copy of it.
    writer: EmlWriter,
    next: u64,
    written: u64,
    format: OutboxFormat,
    /// The thread that formats the batch's messages (`Mbox`; `Eml` opened for a run: and
    /// writes them), started on the first one.
    formatter: Option<Formatter>,
    /// `Mbox`: the batch's messages formatted, until written.
    batch: Vec<u8>,
    queued: u64,
    /// `Eml` opened for a run: messages not yet handed to the mailer's thread (handed over
    /// `WRITE_CHUNK` at a time, and by `flush`: one wake-up of the thread per chunk, not one
    /// per message).
    to_write: Vec<(Message, Mailbox, PathBuf)>,
    /// Two-phase publication: the database the batches are recorded in.
    ledger: Option<Rc<Db>>,
    /// The pending batch being written, until recorded (or published).
    pending: Option<String>,
    /// Where the pending batch's files go: `DIR/.pending/BATCH.`, each file's name pushed
    /// on it.
    pending_prefix: OsString,
    /// Opened for a run: the thread that publishes the committed batches (started with the
    /// first batch recorded).
    publisher: Option<PublishThread>,
    /// Why a committed batch could not be moved into the outbox, once the publishing thread
    /// has said so: every later `flush`, and `finish`, fail with it (whatever message they
    /// are about), so that the run stops and is not recorded finished.
    unpublished: Option<HostError>,
}

/// What the formatting thread is asked to do.
enum Job {
    /// Format a message to its recipient (parsed on the engine's thread) and append it to
    /// the batch.
    Format(Box<(Message, Mailbox)>),
    /// Hand over the batch formatted so far (or the error that stopped it), and start anew.
    Take(Sender<Result<Vec<u8>, HostError>>),
    /// Format messages to their recipients (parsed on the engine's thread) and write each,
    /// as an `.eml`, to its pending file.
    Write(Vec<(Message, Mailbox, PathBuf)>),
    /// Once every `Write` queued before is done (those that failed tried once more): how many
    /// files were written since the last answer, or why some could not be (they are kept,
    /// and tried again by the next `Written`).
    Written(Sender<Result<u64, HostError>>),
}

/// The thread that formats an `Mbox` batch, or formats and writes an `Eml` batch's files:
/// formatting (`mail::eml`) and creating a file per message are most of a message's cost,
/// and need nothing of the engine's thread.
struct Formatter {
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

/// Messages queued to the formatting thread at most (then `send` waits for it).
const FORMAT_QUEUE: usize = 1024;

/// `.eml` messages handed to the mailer's thread at once.
const WRITE_CHUNK: usize = 16;

impl Formatter {
    fn start(writer: EmlWriter, format: OutboxFormat) -> std::io::Result<Formatter> {
        let (jobs, queue) = mpsc::sync_channel(FORMAT_QUEUE);
        let name = match format {
            OutboxFormat::Eml => "outbox-eml",
            OutboxFormat::Mbox => "outbox-mbox",
        };
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || format_batches(writer, &queue))?;
        Ok(Formatter {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    fn gone() -> HostError {
        HostError::permanent("outbox: the thread formatting the messages stopped")
    }

    fn format(&self, message: Message, to: Mailbox) -> Result<(), HostError> {
        let jobs = self.jobs.as_ref().ok_or_else(Formatter::gone)?;
        jobs.send(Job::Format(Box::new((message, to))))
            .map_err(|_| Formatter::gone())
    }

    fn take(&self) -> Result<Vec<u8>, HostError> {
        let jobs = self.jobs.as_ref().ok_or_else(Formatter::gone)?;
        let (reply, answer) = mpsc::channel();
        jobs.send(Job::Take(reply)).map_err(|_| Formatter::gone())?;
        answer.recv().map_err(|_| Formatter::gone())?
    }

    fn write(&self, messages: Vec<(Message, Mailbox, PathBuf)>) -> Result<(), HostError> {
        let jobs = self.jobs.as_ref().ok_or_else(Formatter::gone)?;
        jobs.send(Job::Write(messages))
            .map_err(|_| Formatter::gone())
    }

    fn written(&self) -> Result<u64, HostError> {
        let jobs = self.jobs.as_ref().ok_or_else(Formatter::gone)?;
        let (reply, answer) = mpsc::channel();
        jobs.send(Job::Written(reply))
            .map_err(|_| Formatter::gone())?;
        answer.recv().map_err(|_| Formatter::gone())?
    }
}

impl Drop for Formatter {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Formats `message` to `to` and writes it to the new file `path`.
fn write_eml(
    writer: &mut EmlWriter,
    to: &Mailbox,
    message: &Message,
    path: &Path,
) -> Result<(), HostError> {
    let bytes = writer.format(to, message)?;
    files::write_private_new(path, &bytes)
        .map_err(|e| HostError::transient(format!("outbox {}: {e}", path.display())))
}

fn format_batches(mut writer: EmlWriter, queue: &Receiver<Job>) {
    let mut batch = Vec::new();
    let mut failed: Option<HostError> = None;
    // `Eml`: the files written since the last `Written`, and the writes that failed (kept
    // with their messages, to be tried again).
    let mut written = 0u64;
    let mut unwritten: Vec<(Message, Mailbox, PathBuf)> = Vec::new();
    for job in queue {
        match job {
            Job::Format(job) => {
                let (message, to) = *job;
                if failed.is_none() {
                    match writer.format(&to, &message) {
                        Ok(formatted) => append_mbox(&mut batch, &formatted),
                        Err(e) => failed = Some(e),
                    }
                }
            }
            Job::Take(reply) => {
                let taken = match failed.take() {
                    Some(e) => {
                        batch.clear();
                        Err(e)
                    }
                    None => Ok(std::mem::take(&mut batch)),
                };
                let _ = reply.send(taken);
            }
            Job::Write(messages) => {
                for (message, to, path) in messages {
                    match write_eml(&mut writer, &to, &message, &path) {
                        Ok(()) => written += 1,
                        Err(_) => unwritten.push((message, to, path)),
                    }
                }
            }
            Job::Written(reply) => {
                let mut error = None;
                for (message, to, path) in std::mem::take(&mut unwritten) {
                    match write_eml(&mut writer, &to, &message, &path) {
                        Ok(()) => written += 1,
                        Err(e) => {
                            error.get_or_insert(e);
                            unwritten.push((message, to, path));
                        }
                    }
                }
                let answer = match error {
                    Some(e) => Err(e),
                    None => Ok(std::mem::take(&mut written)),
                };
                let _ = reply.send(answer);
            }
        }
    }
}

impl OutboxMailer {
    pub fn open(dir: &Path, from: Mailbox) -> std::io::Result<OutboxMailer> {
        OutboxMailer::open_as(dir, from, OutboxFormat::Eml)
    }

    /// [`OutboxMailer::open`] writing in `format`.
    pub fn open_as(
        dir: &Path,
        from: Mailbox,
        format: OutboxFormat,
    ) -> std::io::Result<OutboxMailer> {
        files::create_private_dir_all(dir)?;
        OutboxMailer::scan(dir, from, format)
    }

    /// The outbox of a run on `db`, publishing in two phases: first finishes what a stopped
    /// run left pending ([`Db::recover_outbox`]). Call it under the apply lock.
    pub fn open_for_run(
        dir: &Path,
        from: Mailbox,
        format: OutboxFormat,
        db: &Rc<Db>,
    ) -> Result<OutboxMailer, crate::Error> {
        let opened = |e| crate::io_error("cannot open the outbox", dir, e);
        files::create_private_dir_all(dir).map_err(opened)?;
        // One name per folder in the database, however the folder was given.
        let dir = fs::canonicalize(dir).map_err(opened)?;
        db.recover_outbox(&dir)?;
        let mut mailer = OutboxMailer::scan(&dir, from, format).map_err(opened)?;
        mailer.ledger = Some(db.clone());
        Ok(mailer)
    }

    fn scan(dir: &Path, from: Mailbox, format: OutboxFormat) -> std::io::Result<OutboxMailer> {
        let mut highest = 0;
        for entry in fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_suffix(".eml")
                .or_else(|| name.strip_suffix(".mbox"))
                .and_then(|s| s.split('-').next())
                .and_then(|n| n.parse::<u64>().ok())
            {
                highest = highest.max(n);
            }
        }
        Ok(OutboxMailer {
            dir: dir.to_owned(),
            writer: EmlWriter::new(from),
            next: highest + 1,
            written: 0,
            format,
            formatter: None,
            batch: Vec::new(),
            queued: 0,
            to_write: Vec::new(),
            ledger: None,
            pending: None,
            pending_prefix: OsString::new(),
            publisher: None,
            unpublished: None,
        })
    }

    /// Where file `name` is written (and its temporary file): in the pending batch (begun
    /// with the batch's first file), or straight into the outbox.
    fn target(&mut self, name: &str) -> Result<PathBuf, HostError> {
        if self.ledger.is_none() {
            return Ok(self.dir.join(name));
        }
        if self.pending.is_none() {
            pending::prepare(&self.dir)
                .map_err(|e| HostError::transient(format!("outbox {}: {e}", self.dir.display())))?;
            let batch = format!("{:07}-{}", self.next, std::process::id());
            self.pending_prefix = pending::path(&self.dir, &batch, "").into_os_string();
            self.pending = Some(batch);
        }
        // The batch's pending path with the name pushed on: one allocation a message.
        let mut path = OsString::with_capacity(self.pending_prefix.len() + name.len());
        path.push(&self.pending_prefix);
        path.push(name);
        Ok(PathBuf::from(path))
    }

    /// The temporary file `name` is written to first (after [`OutboxMailer::target`]).
    fn tmp_target(&self, name: &str) -> PathBuf {
        match (&self.ledger, &self.pending) {
            (Some(_), Some(batch)) => pending::tmp_path(&self.dir, batch, name),
            _ => self.dir.join(format!(".{name}.tmp")),
        }
    }

    /// Records the pending batch in the open transaction (published when it commits, by
    /// the publishing thread), or, with none open, publishes it now, once every batch before
    /// it is published (and not if one of them could not be).
    fn stage(&mut self) -> Result<(), HostError> {
        let Some(db) = self.ledger.clone() else {
            return Ok(());
        };
        if self.pending.is_none() {
            return Ok(());
        }
        if db.conn().is_autocommit() {
            // Messages outside a transaction depend on no write (the uploader's
            // confirmation, once every row is done): they go out after every batch before
            // them, and not at all if one of those could not be moved.
            self.forget_published(true)?;
        } else if self.publisher.is_none() {
            self.publisher = PublishThread::start(&self.dir);
        }
        let Some(batch) = &self.pending else {
            return Ok(());
        };
        let publisher = self.publisher.as_ref().map(PublishThread::publisher);
        if !db.stage_outbox(&self.dir, batch, publisher)? {
            pending::publish(&self.dir, batch)
                .map_err(|e| HostError::transient(format!("outbox {}: {e}", self.dir.display())))?;
        }
        self.pending = None;
        Ok(())
    }

    /// Messages written by this mailer (for `Mbox`, those of the batches flushed).
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

/// Appends one message to an mboxrd batch: a `From ` line, the message with LF line ends and
/// every line that starts with `>*From ` given one more `>`, then an empty line.
fn append_mbox(batch: &mut Vec<u8>, message: &[u8]) {
    batch.extend_from_slice(b"From bulk-upload Thu Jan  1 00:00:00 1970\n");
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let quoted = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
        if line[quoted..].starts_with(b"From ") {
            batch.push(b'>');
        }
        batch.extend_from_slice(line);
        batch.push(b'\n');
    }
    batch.push(b'\n');
}

impl Mailer for OutboxMailer {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        if self.format == OutboxFormat::Mbox {
            // The recipient is parsed here, so that a message lettre refuses fails its own
            // row, as when it is formatted here; the rest is the formatting thread's.
            let to = super::recipient(message)?;
            self.formatter()?.format(message.clone(), to)?;
            self.queued += 1;
            return Ok(());
        }
        let name = format!(
            "{:07}-{}-{}.eml",
            self.next,
            message.kind.as_str(),
            safe(&message.to)
        );
        if self.ledger.is_some() {
            // Parsed here, so that a message lettre refuses fails its own row.
            let to = super::recipient(message)?;
            let path = self.target(&name)?;
            self.to_write.push((message.clone(), to, path));
            if self.to_write.len() >= WRITE_CHUNK {
                self.send_writes()?;
            }
            self.next += 1;
            return Ok(());
        }
        let bytes = self.writer.format(&super::recipient(message)?, message)?;
        let path = self.target(&name)?;
        let tmp = self.tmp_target(&name);
        files::write_private_atomic(&path, &tmp, &bytes)
            .map_err(|e| HostError::transient(format!("outbox {}: {e}", path.display())))?;
        self.next += 1;
        self.written += 1;
        Ok(())
    }

    /// `Mbox`: writes the batch's file (atomically, 0600), before the engine records the
    /// batch as done; `Eml` opened for a run: waits until the batch's files are written.
    /// Opened for a run: records the pending batch in the batch's transaction.
    fn flush(&mut self) -> Result<(), HostError> {
        if self.queued > 0 {
            self.write_mbox()?;
        }
        self.send_writes()?;
        if let (OutboxFormat::Eml, Some(formatter)) = (self.format, &self.formatter) {
            self.written += formatter.written()?;
        }
        self.forget_published(false)?;
        self.stage()
    }
}

impl Drop for OutboxMailer {
    /// Removes the pending folder once nothing waits in it (the mailer's thread done first).
    fn drop(&mut self) {
        // The committed batches handed to the publishing thread are moved before it ends;
        // their records removed if it can be done here (else by the outbox's next opening).
        let _ = self.forget_published(true);
        drop(self.formatter.take());
        if self.ledger.is_some() {
            pending::tidy(&self.dir);
        }
    }
}

impl OutboxMailer {
    /// Removes the records of the batches the publishing thread has moved into the outbox
    /// (in the open transaction, if any), and says if one could not be moved (then and at
    /// every later call: the error is kept). `wait`: first waits until every batch handed
    /// to it is done, and ends the thread (a later batch starts another).
    fn forget_published(&mut self, wait: bool) -> Result<(), HostError> {
        if let Some(publisher) = &mut self.publisher {
            let done = if wait {
                let done = publisher.finish();
                self.publisher = None;
                done
            } else {
                publisher.done()
            };
            if let Some(db) = &self.ledger {
                db.forget_outbox(&self.dir, &done.published)?;
            }
            if let Some(e) = done.error {
                self.unpublished.get_or_insert(e);
            }
        }
        self.unpublished.clone().map_or(Ok(()), Err)
    }

    /// Opened for a run: waits until every committed batch is in the outbox (a thread of
    /// the mailer's moves them while the engine goes on), and says if one could not be
    /// moved, now or earlier in the run (it is when the outbox is next opened): the run must
    /// then not be recorded finished. Dropping the mailer waits too, but says nothing.
    pub fn finish(&mut self) -> Result<(), HostError> {
        self.forget_published(true)
    }

    /// Hands the messages waiting in `to_write` to the mailer's thread.
    fn send_writes(&mut self) -> Result<(), HostError> {
        if self.to_write.is_empty() {
            return Ok(());
        }
        let messages = std::mem::take(&mut self.to_write);
        self.formatter()?.write(messages)
    }

    /// The mailer's thread, started on the first message.
    fn formatter(&mut self) -> Result<&Formatter, HostError> {
        if self.formatter.is_none() {
            let started = Formatter::start(self.writer.clone(), self.format)
                .map_err(|e| HostError::transient(format!("outbox: {e}")))?;
            self.formatter = Some(started);
        }
        self.formatter.as_ref().ok_or_else(Formatter::gone)
    }

    fn write_mbox(&mut self) -> Result<(), HostError> {
        if let Some(formatter) = &self.formatter {
            // Kept until written: a flush retried after a failed write writes it again.
            let formatted = formatter.take()?;
            if self.batch.is_empty() {
                self.batch = formatted;
            } else {
                self.batch.extend_from_slice(&formatted);
            }
        }
        let name = format!("{:07}-batch.mbox", self.next);
        let path = self.target(&name)?;
        let tmp = self.tmp_target(&name);
        files::write_private_atomic(&path, &tmp, &self.batch)
            .map_err(|e| HostError::transient(format!("outbox {}: {e}", path.display())))?;
        self.batch.clear();
        self.next += 1;
        self.written += std::mem::take(&mut self.queued);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::append_mbox;

    #[test]
    fn mbox_lines_end_in_lf_and_from_lines_are_quoted() {
        let mut batch = Vec::new();
        append_mbox(
            &mut batch,
            b"Subject: x\r\n\r\nFrom here\r\n>From there\r\nend",
        );
        assert_eq!(
            String::from_utf8(batch).unwrap(),
            "From bulk-upload Thu Jan  1 00:00:00 1970\nSubject: x\n\n>From here\n>>From there\nend\n\n"
        );
    }
}
