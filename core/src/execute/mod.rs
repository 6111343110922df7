//! Executing a plan through the host's [`Store`] and [`Mailer`].

pub(crate) mod hash_params;
pub(crate) mod invitation;
pub(crate) mod journal;
mod merge;
pub(crate) mod password;
mod recheck;
pub(crate) mod results;
mod row;
pub(crate) mod secret;
pub(crate) mod signed_results;
pub(crate) mod templates;

use crate::error::{Error, ErrorKind};
use crate::execute::journal::{Journal, JournalEntry};
use crate::execute::password::{
    check_generated_length, generate_password, hash_many, hash_with, HashParams, OsRandom,
    PasswordHash, RandomSource,
};
use crate::execute::recheck::{Current, Verdict};
use crate::execute::results::{Provenance, ResultError, ResultRow, ResultSummary, Results};
use crate::execute::secret::Password;
use crate::execute::templates::Templates;
use crate::host::mailer::{Mailer, MessageFields, MessageKind};
use crate::host::store::{HostError, NewUser, Store};
use crate::issue::IssueCode;
use crate::plan::shard::sets_existing_password;
use crate::plan::{Action, PasswordSource, Plan, PlanRow, DEFAULT_LOOKUP_BATCH};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Default rows per batch (one store lookup, one parallel hashing round, one checkpoint).
pub const DEFAULT_BATCH_SIZE: usize = 256;
/// Default retries of an operation that failed with a transient error.
pub const DEFAULT_RETRIES: u32 = 2;

/// Progress, reported after every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows handled so far.
    pub done: u64,
    /// Rows in the plan.
    pub total: u64,
    /// Rows failed so far.
    pub failed: u64,
}

/// Options of [`execute`]. `ExecuteOptions::default()` uses OWASP's argon2id parameters, the
/// OS CSPRNG, the default templates and all cores for hashing.
pub struct ExecuteOptions<'a> {
    /// The default password, when the plan uses one and was read back from JSON.
    pub default_password: Option<Password>,
    /// Argon2id cost.
    pub hash_params: HashParams,
    /// Threads for hashing generated passwords (0: all cores). Above 1 (or 0 on a machine
    /// of several cores), a run without a journal also assembles its results on a thread of
    /// its own beside the writes; 1 keeps the whole run on the calling thread.
    pub threads: usize,
    /// Rows per batch.
    pub batch_size: usize,
    /// Retries of a transient store or mailer error (per operation).
    pub retries: u32,
    /// Pause before retry `n` is `n × retry_delay`.
    pub retry_delay: Duration,
    /// The email templates.
    pub templates: Templates,
    /// The source of random bytes (passwords, salts).
    pub random: Arc<dyn RandomSource>,
    /// Called after every row.
    pub progress: Option<Box<dyn FnMut(Progress) + 'a>>,
    /// Set it to stop between rows.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Where progress is recorded for resumption.
    pub journal: Option<&'a mut dyn Journal>,
    /// How long the sign-in links of a plan with `send_invitations` live (default 72 hours;
    /// from 5 minutes to 30 days).
    pub invitation_expiry: Duration,
}

impl Default for ExecuteOptions<'_> {
    fn default() -> Self {
        ExecuteOptions {
            default_password: None,
            hash_params: HashParams::default(),
            threads: 0,
            batch_size: DEFAULT_BATCH_SIZE,
            retries: DEFAULT_RETRIES,
            retry_delay: Duration::from_millis(50),
            templates: Templates::default(),
            random: Arc::new(OsRandom),
            progress: None,
            cancel: None,
            journal: None,
            invitation_expiry: invitation::DEFAULT_INVITATION_EXPIRY,
        }
    }
}

impl std::fmt::Debug for ExecuteOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("default_password", &self.default_password)
            .field("hash_params", &self.hash_params)
            .field("threads", &self.threads)
            .field("batch_size", &self.batch_size)
            .field("retries", &self.retries)
            .field("invitation_expiry", &self.invitation_expiry)
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// Executes the plan: see [`execute`].
    pub fn execute(
        &self,
        store: &mut dyn Store,
        mailer: &mut dyn Mailer,
        options: ExecuteOptions<'_>,
    ) -> Result<Results, Error> {
        execute(self, store, mailer, options)
    }
}

/// Executes a plan.
///
/// - Passwords are generated from the [`RandomSource`] at this point and hashed with
///   argon2id; the store only receives the hash, the plaintext only goes into the email.
///   Generated passwords of a batch are hashed in parallel. A default password is hashed
///   **once per run** and that hash is given to every user: they share the password anyway,
///   so equal hashes reveal nothing more, and one hash instead of one per user keeps a large
///   upload fast (with `force_password_reset` each user then picks their own).
/// - A row that fails (store or mailer error after the bounded retries of transient errors)
///   does not stop the others.
/// - With a [`Journal`], finished rows are skipped and a row that had begun is completed:
///   a user created by the interrupted run is found again (never created twice), and if the
///   row sets a password a new one is set and emailed, so the last password emailed is the
///   one that works. An email may therefore be sent twice for a row interrupted between
///   sending and recording; every store write is exactly-once in effect.
/// - At the end, the uploader (if the settings name one) gets the confirmation email.
pub fn execute(
    plan: &Plan,
    store: &mut dyn Store,
    mailer: &mut dyn Mailer,
    options: ExecuteOptions<'_>,
) -> Result<Results, Error> {
    Executor::new(plan, store, mailer, options)?.run()
}

/// A row's password: the plaintext (only when generated, for the email) and its hash.
type Prepared = Option<(Option<Password>, PasswordHash)>;

struct Executor<'p, 's, 'o> {
    plan: &'p Plan,
    store: &'s mut dyn Store,
    mailer: &'s mut dyn Mailer,
    options: ExecuteOptions<'o>,
    argon2: argon2::Argon2<'static>,
    default_hash: Option<PasswordHash>,
    default_password: Option<Password>,
    journal_entries: BTreeMap<u32, JournalEntry>,
    summary: ResultSummary,
    done: u64,
    /// The passwords emailed since the mailer last flushed: scrubbed from a flush error.
    batch_secrets: Vec<Password>,
    /// The user last given to the store to create, kept so that the next one reuses its
    /// strings ([`Executor::create_new`]).
    new_user: Option<NewUser>,
    /// The vectors each batch works in, kept from one batch to the next.
    scratch: Scratch,
    /// Rows failed so far (what [`Progress`] reports).
    failed: u64,
    /// Where the rows written go to have their results assembled, when a thread of its
    /// own does it ([`Executor::run`]).
    assembler: Option<Assembler>,
}

/// The threads [`ExecuteOptions::threads`] asks for: the available cores for 0.
fn threads_for(requested: usize) -> usize {
    match requested {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
}

/// A row's result, or what writing it did (its result assembled from that by
/// [`row::assemble`]): `current` names the part of the batch and the place in it of the
/// user the re-check lent the row, `at` the row's place among the batch's rows (decoded
/// from the plan for the batch, they go with its entries).
enum Entry {
    Ready(ResultRow),
    Written {
        at: usize,
        written: row::Written,
        current: Option<(usize, usize)>,
    },
}

impl Entry {
    fn failed(&self) -> bool {
        match self {
            Entry::Ready(result) => result.status == results::Status::Failed,
            Entry::Written { written, .. } => written.failed(),
        }
    }

    /// Whether the row was written to the end (what the journal records as finished).
    fn written_through(&self) -> bool {
        matches!(self, Entry::Written { written, .. } if !written.failed())
    }

    /// The row's result, assembled with the user the re-check lent it from `currents`; `rows`
    /// are the batch's.
    fn into_result(self, currents: &mut [Current], rows: &[PlanRow]) -> ResultRow {
        match self {
            Entry::Ready(result) => result,
            Entry::Written {
                at,
                written,
                current,
            } => row::assemble(
                &rows[at],
                written,
                current.map(|(at, place)| currents[at].lend(place)),
            ),
        }
    }
}

/// A batch's entries handed to the assembling thread, with its rows and the users the
/// re-check lent them.
struct Batch {
    entries: Vec<Entry>,
    currents: Vec<Current>,
    rows: Vec<PlanRow>,
}

/// A batch's emptied vector of entries and its rows, back from the assembling thread: the
/// next batch's rows are decoded into these ones, in their strings and vectors.
type Spent = (Vec<Entry>, Vec<PlanRow>);

/// The writing thread's ends of the channels to the assembling thread: batches there,
/// emptied [`Current`]s and spent entries and rows back.
struct Assembler {
    batches: std::sync::mpsc::SyncSender<Batch>,
    spare: std::sync::mpsc::Receiver<Current>,
    spent: std::sync::mpsc::Receiver<Spent>,
}

/// The assembling thread: each row's result in order, counted as [`Executor::run`] on one
/// thread counts them. Not inlined, so that a profile can count this thread's work by its
/// name (`examples/count_instructions.rs`).
#[inline(never)]
fn assemble_batches(
    batches: std::sync::mpsc::Receiver<Batch>,
    spare: std::sync::mpsc::Sender<Current>,
    spent: std::sync::mpsc::Sender<Spent>,
    capacity: usize,
) -> (Vec<ResultRow>, ResultSummary) {
    let mut results = Vec::with_capacity(capacity);
    let mut summary = ResultSummary::default();
    for Batch {
        mut entries,
        mut currents,
        rows,
    } in batches
    {
        for entry in entries.drain(..) {
            let result = entry.into_result(&mut currents, &rows);
            summary.count(&result);
            results.push(result);
        }
        // The emptied vector goes back to the writing thread for a later batch: a batch's
        // entries (some 45 KB) freed here and allocated anew there took fresh pages of the
        // heap each batch (see docs/PERFORMANCE.md). The rows go back too: the next batch's
        // are decoded into them, reusing their strings, instead of a dozen allocations a
        // row there and as many frees here, from another thread's heap.
        let _ = spent.send((entries, rows));
        for current in currents {
            // The writing thread may be gone (an error): the users are dropped here then.
            let _ = spare.send(current.emptied());
        }
    }
    (results, summary)
}

/// The per-batch vectors of [`Executor::run_chunk`] and [`Executor::read_current`], kept
/// between batches and cleared before use: the same buffers each batch instead of a dozen
/// allocations of a kilobyte or more (each of which makes glibc's malloc consolidate its
/// fast bins: the strings the last batch freed are then sorted again, slowly). The vectors
/// of references to a batch's rows are kept empty between batches ([`recycled`]).
#[derive(Default)]
pub(super) struct Scratch {
    /// The positions in the batch of the rows it writes, and those rows.
    write_at: Vec<usize>,
    to_write: Vec<&'static PlanRow>,
    /// Rows of earlier batches, to decode the next batch's into.
    rows: Vec<Vec<PlanRow>>,
    /// Each row's verdict with the part of the batch it was read in.
    verdicts: Vec<Option<(usize, Verdict)>>,
    passwords: Vec<Prepared>,
    currents: Vec<Current>,
    /// Emptied [`Current`]s, their vectors kept.
    spare: Vec<Current>,
    /// Emptied vectors of a batch's entries, back from the assembling thread.
    entries: Vec<Vec<Entry>>,
    pub(super) emails: Vec<&'static str>,
    pub(super) names: Vec<&'static str>,
    pub(super) content: Vec<&'static crate::host::store::ContentRef>,
}

/// `references` emptied, as a vector of references of another lifetime, in the same
/// allocation: how [`Scratch`] keeps a vector of references to one batch's rows for the
/// next batch's. The standard library collects a vector's iterator, mapped to elements of
/// the same size, into the vector's own allocation; nothing is mapped (the vector is empty).
#[allow(
    clippy::unnecessary_filter_map,
    reason = "the map gives the references another lifetime; nothing passes the filter"
)]
pub(super) fn recycled<'b, T: ?Sized>(mut references: Vec<&T>) -> Vec<&'b T> {
    references.clear();
    references.into_iter().filter_map(|_| None).collect()
}

pub(super) fn journal_error(e: HostError) -> Error {
    Error::host(
        ErrorKind::Store,
        IssueCode::StoreFailed,
        "the journal failed",
        &e,
    )
}

impl<'p, 's, 'o> Executor<'p, 's, 'o> {
    fn new(
        plan: &'p Plan,
        store: &'s mut dyn Store,
        mailer: &'s mut dyn Mailer,
        mut options: ExecuteOptions<'o>,
    ) -> Result<Self, Error> {
        // A plan read back from JSON carries the length: refused before anything is written.
        check_generated_length(plan.settings.generated_password_length)
            .map_err(|(code, message)| Error::new(ErrorKind::Plan, code, message))?;
        if plan.shard.is_some() {
            if let Some(row) = plan.rows.find(sets_existing_password) {
                return Err(Error::new(
                    ErrorKind::Plan,
                    IssueCode::ShardSetsPassword,
                    format!(
                        "line {}: this shard sets a new password on an existing user; a shard \
                         may be a replay, and would set it over the one the user chose since",
                        row.line
                    ),
                ));
            }
        }
        check_invitations(plan, options.invitation_expiry)?;
        let argon2 = options.hash_params.argon2()?;
        let default_password = options
            .default_password
            .take()
            .or_else(|| plan.default_password.clone());
        let needs_default = plan.settings.password_source == PasswordSource::Default
            && plan.rows.any_sets_password();
        // A shard carries the default password's hash, prepared once by the coordinator.
        let prepared = plan
            .shard
            .as_ref()
            .and_then(|s| s.default_password_hash.clone())
            .filter(|_| needs_default);
        let default_password = default_password.filter(|_| prepared.is_none());
        if needs_default && default_password.is_none() && prepared.is_none() {
            return Err(Error::new(
                ErrorKind::Plan,
                IssueCode::DefaultPasswordRequired,
                "the plan sets the default password: give it to execute (plans never contain it)",
            ));
        }
        let journal_entries = match options.journal.as_deref_mut() {
            Some(journal) => journal.load(&plan.fingerprint).map_err(journal_error)?,
            None => BTreeMap::new(),
        };
        Ok(Executor {
            plan,
            store,
            mailer,
            options,
            argon2,
            default_hash: prepared,
            default_password: if needs_default {
                default_password
            } else {
                None
            },
            journal_entries,
            summary: ResultSummary::default(),
            done: 0,
            batch_secrets: Vec::new(),
            new_user: None,
            scratch: Scratch::default(),
            failed: 0,
            assembler: None,
        })
    }

    fn cancelled(&self) -> bool {
        self.options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    fn run(mut self) -> Result<Results, Error> {
        if let Some(password) = &self.default_password {
            self.default_hash = Some(hash_with(
                &self.argon2,
                password,
                self.options.random.as_ref(),
            )?);
        }
        let plan = self.plan;
        // Without a journal (which records each result as its row finishes) and with more
        // than one batch and thread, the results are assembled on a thread of their own
        // while the next rows are written: the store's and the mailer's calls stay on this
        // thread, in the same order, and the results are the same.
        let batch = self.options.batch_size.max(1);
        if self.options.journal.is_none()
            && threads_for(self.options.threads) > 1
            && plan.rows.len() > batch
        {
            return std::thread::scope(move |scope| {
                let (batches, received) = std::sync::mpsc::sync_channel(2);
                let (spare_back, spare) = std::sync::mpsc::channel();
                let (spent_back, spent) = std::sync::mpsc::channel();
                let capacity = plan.rows.len();
                let assembling = scope
                    .spawn(move || assemble_batches(received, spare_back, spent_back, capacity));
                self.assembler = Some(Assembler {
                    batches,
                    spare,
                    spent,
                });
                let mut no_rows = Vec::new();
                let cancelled = self.run_batches(&mut no_rows);
                // The channel closed: the assembling thread finishes its last batch.
                self.assembler = None;
                let (rows, counted) = match assembling.join() {
                    Ok(built) => built,
                    Err(panic) => std::panic::resume_unwind(panic),
                };
                let cancelled = cancelled?;
                self.summary = ResultSummary {
                    emails_sent: self.summary.emails_sent,
                    resumed: self.summary.resumed,
                    ..counted
                };
                self.finish(rows, cancelled)
            });
        }
        let mut rows = Vec::with_capacity(plan.rows.len());
        let cancelled = self.run_batches(&mut rows)?;
        self.finish(rows, cancelled)
    }

    /// Runs every batch, the results pushed to `rows` (or handed to the assembling
    /// thread); returns whether the run was cancelled.
    fn run_batches(&mut self, rows: &mut Vec<ResultRow>) -> Result<bool, Error> {
        let plan = self.plan;
        let mut cancelled = false;
        let batch = self.options.batch_size.max(1);
        for start in (0..plan.rows.len()).step_by(batch) {
            // Decoded into the rows of an earlier batch, in their strings and vectors.
            let mut chunk = self.scratch.rows.pop().unwrap_or_default();
            plan.rows
                .decode_reusing(start..plan.rows.len().min(start + batch), &mut chunk);
            if cancelled || self.cancelled() {
                cancelled = true;
                let mut entries = self.spare_entries(chunk.len());
                for row in &chunk {
                    let entry = Entry::Ready(cancelled_row(row));
                    self.emit(entry, &mut [], rows, &mut entries, &chunk)?;
                }
                self.hand_over(entries, Vec::new(), chunk);
                continue;
            }
            cancelled = self.run_chunk(chunk, rows)?;
            // Emails a mailer queued must be out before the batch is recorded as done.
            let flushed = self.retry(|s| s.mailer.flush());
            let secrets = std::mem::take(&mut self.batch_secrets);
            flushed.map_err(|e| {
                let message = crate::execute::secret::scrub(
                    e.message().to_owned(),
                    secrets.iter().chain(self.default_password.iter()),
                );
                Error::new(
                    ErrorKind::Mailer,
                    IssueCode::MailerFailed,
                    format!("the mailer could not hand over its queued emails: {message}"),
                )
                .with_transient(e.is_transient())
            })?;
            self.retry(|s| s.store.checkpoint()).map_err(|e| {
                Error::new(
                    ErrorKind::Store,
                    IssueCode::StoreFailed,
                    format!("the store could not commit: {}", e.message()),
                )
                .with_transient(e.is_transient())
            })?;
        }
        Ok(cancelled)
    }

    /// The run's [`Results`], once every row has its result; the confirmation sent.
    fn finish(mut self, rows: Vec<ResultRow>, cancelled: bool) -> Result<Results, Error> {
        let plan = self.plan;
        // A shard's confirmation is sent once for all shards, after the merge.
        let is_shard = plan.shard.is_some();
        let confirmation_error = if is_shard {
            None
        } else {
            self.confirm(cancelled)
        };
        Ok(Results {
            fingerprint: plan.fingerprint.clone(),
            summary: self.summary,
            rows,
            cancelled,
            confirmation_error,
            shard: plan.shard(),
            confirmation_deferred: is_shard,
            undo_of: plan.settings.undo_of.clone(),
            provenance: Provenance::verified(),
        })
    }

    /// Runs one batch; returns whether it was cancelled part-way.
    ///
    /// Before anything of the batch is written, the rows to write are re-checked against
    /// what the store says now ([`recheck`]); a row that no longer holds is not written and
    /// fails with the re-check's code. Passwords are only made for the rows that hold.
    fn run_chunk(&mut self, chunk: Vec<PlanRow>, out: &mut Vec<ResultRow>) -> Result<bool, Error> {
        let mut write_at = std::mem::take(&mut self.scratch.write_at);
        write_at.clear();
        write_at.extend(
            chunk
                .iter()
                .enumerate()
                .filter(|(_, r)| self.writes(r))
                .map(|(i, _)| i),
        );
        let mut to_write: Vec<&PlanRow> = recycled(std::mem::take(&mut self.scratch.to_write));
        to_write.extend(write_at.iter().map(|&i| &chunk[i]));
        // Each verdict with the part of the batch it was read in: a row's user as the store
        // has it now stays in that part's `Current`, lent to the row, not copied.
        let mut verdicts = std::mem::take(&mut self.scratch.verdicts);
        verdicts.clear();
        verdicts.resize_with(chunk.len(), || None);
        let mut currents = std::mem::take(&mut self.scratch.currents);
        currents.clear();
        // One lookup per batch at the default batch size (a larger batch is read in parts).
        for (part, part_at) in to_write
            .chunks(DEFAULT_LOOKUP_BATCH)
            .zip(write_at.chunks(DEFAULT_LOOKUP_BATCH))
        {
            match self.read_current(part) {
                Ok(mut current) => {
                    let at = currents.len();
                    for (r, &i) in part.iter().zip(part_at) {
                        let begun = match self.journal_entries.get(&r.line) {
                            Some(JournalEntry::Begun) => Some(None),
                            Some(JournalEntry::Created(id)) => Some(Some(id)),
                            _ => None,
                        };
                        let verdict = current.verdict(r, begun);
                        if let Verdict::Write {
                            current: Some(place),
                            ..
                        } = verdict
                        {
                            current.lent_to_a_row(place);
                        }
                        verdicts[i] = Some((at, verdict));
                    }
                    currents.push(current);
                }
                Err(e) => {
                    let error = ResultError::new(
                        e.code().unwrap_or(IssueCode::StoreFailed),
                        format!(
                            "the store could not be read again before writing: {}",
                            e.message()
                        ),
                    );
                    for &i in part_at {
                        verdicts[i] = Some((0, Verdict::Refuse(error.clone())));
                    }
                }
            }
        }
        self.scratch.write_at = write_at;
        self.scratch.to_write = recycled(to_write);
        let mut passwords = std::mem::take(&mut self.scratch.passwords);
        passwords.clear();
        self.passwords_for(&chunk, &verdicts, &mut passwords)?;
        let mut cancelled = false;
        let mut entries = match self.assembler {
            Some(_) => self.spare_entries(chunk.len()),
            None => Vec::new(),
        };
        for (at, ((row, password), verdict)) in chunk
            .iter()
            .zip(passwords.drain(..))
            .zip(verdicts.iter_mut())
            .enumerate()
        {
            let entry = if cancelled || self.cancelled() {
                cancelled = true;
                Entry::Ready(cancelled_row(row))
            } else if let Some(JournalEntry::Finished(previous)) =
                self.journal_entries.get(&row.line)
            {
                self.summary.resumed += 1;
                Entry::Ready(previous.clone())
            } else {
                match verdict.take() {
                    None => Entry::Ready(row::untouched(row)),
                    Some((_, Verdict::Refuse(error))) => {
                        Entry::Ready(row::failed(row, row.user_id.clone(), Vec::new(), error))
                    }
                    Some((part, Verdict::Write { recovered, current })) => Entry::Written {
                        at,
                        written: self.write_row(row, password, recovered)?,
                        current: current.map(|place| (part, place)),
                    },
                }
            };
            self.emit(entry, &mut currents, out, &mut entries, &chunk)?;
            self.done += 1;
            let progress = Progress {
                done: self.done,
                total: self.plan.rows.len() as u64,
                failed: self.failed,
            };
            if let Some(callback) = self.options.progress.as_mut() {
                callback(progress);
            }
        }
        self.scratch.passwords = passwords;
        self.scratch.verdicts = verdicts;
        if self.assembler.is_some() {
            // The batch's users go with its rows to the assembling thread.
            self.hand_over(entries, std::mem::take(&mut currents), chunk);
        } else {
            // The batch's users dropped now; their vectors kept for the next batch, and its
            // rows to decode the next batch's into.
            self.scratch
                .spare
                .extend(currents.drain(..).map(Current::emptied));
            self.scratch.rows.push(chunk);
        }
        self.scratch.currents = currents;
        Ok(cancelled)
    }

    /// A row done: its result assembled, recorded in the journal, counted and pushed to
    /// `out`, or queued in `entries` for the assembling thread; `rows` are the batch's.
    fn emit(
        &mut self,
        entry: Entry,
        currents: &mut [Current],
        out: &mut Vec<ResultRow>,
        entries: &mut Vec<Entry>,
        rows: &[PlanRow],
    ) -> Result<(), Error> {
        self.failed += u64::from(entry.failed());
        if self.assembler.is_some() {
            entries.push(entry);
        } else {
            let finished = entry.written_through();
            let result = entry.into_result(currents, rows);
            if let (true, Some(journal)) = (finished, self.options.journal.as_deref_mut()) {
                journal
                    .finish(&self.plan.fingerprint, &result)
                    .map_err(journal_error)?;
            }
            self.summary.count(&result);
            out.push(result);
        }
        Ok(())
    }

    /// Sends a batch's entries and rows to the assembling thread, if there is one (else
    /// keeps the rows for the next batch), and takes back the [`Current`]s, entries and
    /// rows it is done with.
    fn hand_over(&mut self, entries: Vec<Entry>, currents: Vec<Current>, rows: Vec<PlanRow>) {
        let Some(assembler) = &self.assembler else {
            self.scratch.rows.push(rows);
            return;
        };
        // Sent unless the assembling thread panicked (its join says so).
        let _ = assembler.batches.send(Batch {
            entries,
            currents,
            rows,
        });
        self.scratch.spare.extend(assembler.spare.try_iter());
        for (entries, rows) in assembler.spent.try_iter() {
            self.scratch.entries.push(entries);
            self.scratch.rows.push(rows);
        }
    }

    /// An empty vector for a batch's entries: one the assembling thread emptied, or a new
    /// one.
    fn spare_entries(&mut self, rows: usize) -> Vec<Entry> {
        match self.scratch.entries.pop() {
            Some(mut entries) => {
                entries.reserve(rows);
                entries
            }
            None => Vec::with_capacity(rows),
        }
    }

    /// Whether this run writes the row: a create or an update that no earlier run finished.
    fn writes(&self, row: &PlanRow) -> bool {
        matches!(row.action, Action::Create | Action::Update)
            && !matches!(
                self.journal_entries.get(&row.line),
                Some(JournalEntry::Finished(_))
            )
    }

    /// The password (plaintext, hash) each row of the batch needs, generated ones hashed in
    /// parallel: only rows that set one and that the re-check lets through.
    fn passwords_for(
        &self,
        chunk: &[PlanRow],
        verdicts: &[Option<(usize, Verdict)>],
        out: &mut Vec<Prepared>,
    ) -> Result<(), Error> {
        let needs = chunk
            .iter()
            .zip(verdicts)
            .map(|(r, v)| matches!(v, Some((_, Verdict::Write { .. }))) && r.sets_password());
        if self.plan.settings.password_source == PasswordSource::Default {
            out.extend(needs.map(|n| {
                n.then(|| self.default_hash.clone())
                    .flatten()
                    .map(|h| (None, h))
            }));
            return Ok(());
        }
        let length = self.plan.settings.generated_password_length;
        let random = self.options.random.as_ref();
        let plain: Vec<Option<Password>> = needs
            .map(|n| n.then(|| generate_password(length, random)))
            .collect();
        let to_hash: Vec<Password> = plain.iter().flatten().cloned().collect();
        let mut hashes = hash_many(
            &to_hash,
            &self.options.hash_params,
            random,
            self.options.threads,
        )?
        .into_iter();
        out.extend(
            plain
                .into_iter()
                .map(|p| p.and_then(|p| hashes.next().map(|h| (Some(p), h)))),
        );
        Ok(())
    }

    fn retry<T>(
        &mut self,
        mut op: impl FnMut(&mut Self) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let (retries, delay) = (self.options.retries, self.options.retry_delay);
        retry(retries, delay, || op(self))
    }

    fn confirm(&mut self, cancelled: bool) -> Option<ResultError> {
        let options = &self.options;
        confirm(
            self.plan,
            &self.summary,
            cancelled,
            &mut *self.mailer,
            &options.templates,
            (options.retries, options.retry_delay),
        )
    }
}

/// Runs `op`, retrying a transient error up to `retries` times (`n × delay` before retry `n`).
fn retry<T>(
    retries: u32,
    delay: Duration,
    mut op: impl FnMut() -> Result<T, HostError>,
) -> Result<T, HostError> {
    let mut attempt = 0;
    loop {
        match op() {
            Err(e) if e.is_transient() && attempt < retries => {
                attempt += 1;
                if !delay.is_zero() {
                    std::thread::sleep(delay * attempt);
                }
            }
            other => return other,
        }
    }
}

/// Sends the uploader (if the plan's settings name one) the confirmation with `summary`'s
/// counts; the one copy of it, used by [`execute`] and by the finaliser of a sharded upload.
/// Returns why it was not sent, if it was not.
pub(crate) fn confirm(
    plan: &Plan,
    summary: &ResultSummary,
    cancelled: bool,
    mailer: &mut dyn Mailer,
    templates: &Templates,
    (retries, delay): (u32, Duration),
) -> Option<ResultError> {
    let to = plan.settings.uploader_email.clone()?;
    let mut counts = summary.pairs();
    if cancelled {
        counts.push(("cancelled".into(), 1));
    }
    let kind = if plan.settings.undo_of.is_some() {
        MessageKind::UndoComplete
    } else {
        MessageKind::UploadComplete
    };
    let fields = MessageFields {
        login: to.clone(),
        results_url: plan.settings.results_url.clone(),
        counts,
        ..MessageFields::default()
    };
    let message = templates.render(kind, &to, fields);
    retry(retries, delay, || {
        mailer.send(&message).and_then(|()| mailer.flush())
    })
    .err()
    .map(|e| ResultError::new(e.code().unwrap_or(IssueCode::MailerFailed), e.message()))
}

/// A plan that issues sign-in links (read back from JSON, perhaps) must say so in its
/// settings and carry a valid link template; the lifetime must be in range. Refused before
/// anything is written.
fn check_invitations(plan: &Plan, expiry: Duration) -> Result<(), Error> {
    if !plan.rows.any_invites() {
        return Ok(());
    }
    invitation::check_expiry(expiry)?;
    let invalid = |why: String| Error::new(ErrorKind::Plan, IssueCode::InvalidPlan, why);
    if plan.settings.password_source != PasswordSource::Invitation {
        return Err(invalid(
            "the plan issues sign-in links but its password source is not invitation".into(),
        ));
    }
    let template = plan.settings.invitation_url.as_deref().unwrap_or_default();
    invitation::check_url_template(template).map_err(|why| {
        invalid(format!(
            "the plan's invitation_url is not a link template: {why}"
        ))
    })
}

fn cancelled_row(row: &PlanRow) -> ResultRow {
    let error = ResultError::new(
        IssueCode::Cancelled,
        "execution was cancelled before this row",
    );
    row::failed(row, row.user_id.clone(), Vec::new(), error)
}

#[cfg(test)]
mod tests {
    /// [`recycled`](super::recycled) keeps the vector's allocation: a batch's references go
    /// into the vector the batch before used, not into a new one.
    #[test]
    fn recycled_references_keep_their_allocation() {
        let words = [String::from("a"), String::from("b")];
        let mut references: Vec<&str> = Vec::with_capacity(64);
        references.extend(words.iter().map(String::as_str));
        let at = references.as_ptr() as usize;
        let again: Vec<&'static str> = super::recycled(references);
        assert!(again.is_empty());
        assert_eq!((again.as_ptr() as usize, again.capacity()), (at, 64));
    }
}
