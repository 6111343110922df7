//! Executing a plan through the host's [`Store`] and [`Mailer`].

pub(crate) mod journal;
pub(crate) mod password;
pub(crate) mod results;
pub(crate) mod secret;
pub(crate) mod templates;

use crate::error::{Error, ErrorKind};
use crate::execute::journal::{Journal, JournalEntry};
use crate::execute::password::{
    generate_password, hash_many, hash_with, HashParams, OsRandom, PasswordHash, RandomSource,
};
use crate::execute::results::{ResultRow, ResultSummary, Results, Status};
use crate::execute::secret::Password;
use crate::execute::templates::Templates;
use crate::host::mailer::{Mailer, MessageFields, MessageKind};
use crate::host::store::{HostError, NewUser, Store, UserId};
use crate::issue::IssueCode;
use crate::parse::email::email_key;
use crate::plan::{Action, Operation, PasswordSource, Plan, PlanRow};
use std::collections::{BTreeMap, HashMap};
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
    /// Threads for hashing generated passwords (0: all cores).
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
}

fn mailer_error(e: &HostError) -> Error {
    Error::host(ErrorKind::Mailer, IssueCode::MailerFailed, "", e)
}

fn journal_error(e: HostError) -> Error {
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
        let argon2 = options.hash_params.argon2()?;
        let default_password = options
            .default_password
            .take()
            .or_else(|| plan.default_password.clone());
        let needs_default = plan.settings.password_source == PasswordSource::Default
            && plan.rows.iter().any(PlanRow::sets_password);
        if needs_default && default_password.is_none() {
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
            default_hash: None,
            default_password: if needs_default {
                default_password
            } else {
                None
            },
            journal_entries,
            summary: ResultSummary::default(),
            done: 0,
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
        let mut rows = Vec::with_capacity(plan.rows.len());
        let mut cancelled = false;
        for chunk in plan.rows.chunks(self.options.batch_size.max(1)) {
            if cancelled || self.cancelled() {
                cancelled = true;
                for row in chunk {
                    let result = failed(row, None, Vec::new(), "cancelled".into());
                    self.summary.count(&result);
                    rows.push(result);
                }
                continue;
            }
            cancelled = self.run_chunk(chunk, &mut rows)?;
            // Emails a mailer queued must be out before the batch is recorded as done.
            self.retry(|s| s.mailer.flush()).map_err(|e| {
                Error::new(
                    ErrorKind::Mailer,
                    IssueCode::MailerFailed,
                    format!(
                        "the mailer could not hand over its queued emails: {}",
                        e.message()
                    ),
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
        let confirmation_error = self.confirm(cancelled);
        Ok(Results {
            fingerprint: plan.fingerprint.clone(),
            summary: self.summary,
            rows,
            cancelled,
            confirmation_error,
        })
    }

    /// Runs one batch; returns whether it was cancelled part-way.
    fn run_chunk(&mut self, chunk: &'p [PlanRow], out: &mut Vec<ResultRow>) -> Result<bool, Error> {
        // Rows that an interrupted run began and that create a user: find the user again.
        let begun: Vec<&str> = chunk
            .iter()
            .filter(|r| {
                r.action == Action::Create
                    && matches!(self.journal_entries.get(&r.line), Some(JournalEntry::Begun))
            })
            .map(|r| r.email.as_str())
            .collect();
        let mut recovered: HashMap<String, UserId> = HashMap::new();
        if !begun.is_empty() {
            let users = self.retry(|s| s.store.find_users(&begun)).map_err(|e| {
                Error::new(
                    ErrorKind::Store,
                    IssueCode::StoreFailed,
                    e.message().to_owned(),
                )
                .with_transient(e.is_transient())
            })?;
            recovered.extend(users.into_iter().map(|u| (email_key(&u.email), u.id)));
        }
        let passwords = self.passwords_for(chunk)?;
        let mut cancelled = false;
        for (row, password) in chunk.iter().zip(passwords) {
            let result = if cancelled || self.cancelled() {
                cancelled = true;
                failed(row, row.user_id.clone(), Vec::new(), "cancelled".into())
            } else if let Some(JournalEntry::Finished(previous)) =
                self.journal_entries.get(&row.line)
            {
                self.summary.resumed += 1;
                previous.clone()
            } else {
                let recovered_id = recovered.get(&email_key(&row.email)).cloned();
                self.run_row(row, password, recovered_id)?
            };
            self.summary.count(&result);
            self.done += 1;
            let progress = Progress {
                done: self.done,
                total: self.plan.rows.len() as u64,
                failed: self.summary.failed,
            };
            if let Some(callback) = self.options.progress.as_mut() {
                callback(progress);
            }
            out.push(result);
        }
        Ok(cancelled)
    }

    /// The password (plaintext, hash) each row of the batch needs, generated ones hashed in parallel.
    fn passwords_for(&self, chunk: &[PlanRow]) -> Result<Vec<Prepared>, Error> {
        let needs = |r: &PlanRow| {
            r.sets_password()
                && !matches!(
                    self.journal_entries.get(&r.line),
                    Some(JournalEntry::Finished(_))
                )
        };
        if self.plan.settings.password_source == PasswordSource::Default {
            return Ok(chunk
                .iter()
                .map(|r| {
                    needs(r)
                        .then(|| (None, self.default_hash.clone()))
                        .and_then(|(p, h)| h.map(|h| (p, h)))
                })
                .collect());
        }
        let length = self.plan.settings.generated_password_length;
        let random = self.options.random.as_ref();
        let plain: Vec<Option<Password>> = chunk
            .iter()
            .map(|r| needs(r).then(|| generate_password(length, random)))
            .collect();
        let to_hash: Vec<Password> = plain.iter().flatten().cloned().collect();
        let mut hashes = hash_many(
            &to_hash,
            &self.options.hash_params,
            random,
            self.options.threads,
        )?
        .into_iter();
        Ok(plain
            .into_iter()
            .map(|p| p.and_then(|p| hashes.next().map(|h| (Some(p), h))))
            .collect())
    }

    fn retry<T>(
        &mut self,
        mut op: impl FnMut(&mut Self) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let mut attempt = 0;
        loop {
            match op(self) {
                Err(e) if e.is_transient() && attempt < self.options.retries => {
                    attempt += 1;
                    if !self.options.retry_delay.is_zero() {
                        std::thread::sleep(self.options.retry_delay * attempt);
                    }
                }
                other => return other,
            }
        }
    }

    fn run_row(
        &mut self,
        row: &PlanRow,
        mut password: Prepared,
        recovered: Option<UserId>,
    ) -> Result<ResultRow, Error> {
        let fingerprint = &self.plan.fingerprint;
        match row.action {
            Action::Rejected | Action::Unchanged => {
                let status = if row.action == Action::Rejected {
                    Status::Rejected
                } else {
                    Status::Unchanged
                };
                let error = (status == Status::Rejected).then(|| {
                    row.issues
                        .iter()
                        .filter(|i| i.is_error())
                        .map(|i| format!("{}: {}", i.code, i.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                });
                return Ok(ResultRow {
                    line: row.line,
                    email: row.email.clone(),
                    status,
                    user_id: row.user_id.clone(),
                    done: Vec::new(),
                    error,
                });
            }
            Action::Create | Action::Update => {}
        }
        if let Some(journal) = self.options.journal.as_deref_mut() {
            journal
                .begin(fingerprint, row.line)
                .map_err(journal_error)?;
        }
        let force = self.plan.settings.force_password_reset;
        let mut user_id = row.user_id.clone().or(recovered.clone());
        let mut done = Vec::new();
        let mut emailed_password: Option<Password> = None;
        for op in &row.operations {
            let outcome = match op {
                Operation::CreateUser { profile } => {
                    let Some((plain, hash)) = password.take() else {
                        return Ok(failed(
                            row,
                            user_id,
                            done,
                            "no password was prepared".into(),
                        ));
                    };
                    emailed_password = plain;
                    if let Some(id) = &recovered {
                        // Created by an interrupted run: set the password again instead.
                        let id = id.clone();
                        self.retry(|s| s.store.set_password(&id, &hash, force))
                            .map(|()| "found (resumed); password set".to_owned())
                    } else {
                        let new_user = NewUser {
                            email: row.email.clone(),
                            profile: profile.clone(),
                            password_hash: hash,
                            force_password_reset: force,
                        };
                        match self.create(&new_user) {
                            Ok(id) => {
                                user_id = Some(id);
                                Ok("created".to_owned())
                            }
                            Err(e) => Err(e),
                        }
                    }
                }
                Operation::SetPassword => {
                    let (Some(id), Some((plain, hash))) = (user_id.clone(), password.take()) else {
                        return Ok(failed(
                            row,
                            user_id,
                            done,
                            "no password was prepared".into(),
                        ));
                    };
                    emailed_password = plain;
                    self.retry(|s| s.store.set_password(&id, &hash, force))
                        .map(|()| "password set".to_owned())
                }
                Operation::UpdateProfile { changes } => self
                    .with_user(&user_id, |s, id| s.store.update_profile(id, changes))
                    .map(|()| "profile updated".to_owned()),
                Operation::AddToGroup { group } => self
                    .with_user(&user_id, |s, id| s.store.add_to_group(id, group))
                    .map(|()| format!("added to group {}", group.name)),
                Operation::RemoveFromGroup { group } => self
                    .with_user(&user_id, |s, id| s.store.remove_from_group(id, group))
                    .map(|()| format!("removed from group {}", group.name)),
                Operation::Enrol { content } => self
                    .with_user(&user_id, |s, id| s.store.enrol(id, content))
                    .map(|()| format!("enrolled in {content}")),
                Operation::SendEmail { kind } => self
                    .send(row, *kind, emailed_password.clone())
                    .map(|()| format!("emailed {}", kind.as_str())),
            };
            match outcome {
                Ok(what) => done.push(what),
                Err(e) => {
                    let what = if matches!(op, Operation::SendEmail { .. }) {
                        "the email could not be sent"
                    } else {
                        "the store failed"
                    };
                    return Ok(failed(
                        row,
                        user_id,
                        done,
                        format!("{what}: {}", e.message()),
                    ));
                }
            }
        }
        let status = if row.action == Action::Create {
            Status::Created
        } else {
            Status::Updated
        };
        let result = ResultRow {
            line: row.line,
            email: row.email.clone(),
            status,
            user_id,
            done,
            error: None,
        };
        if let Some(journal) = self.options.journal.as_deref_mut() {
            journal
                .finish(fingerprint, &result)
                .map_err(journal_error)?;
        }
        Ok(result)
    }

    fn with_user(
        &mut self,
        user: &Option<UserId>,
        mut op: impl FnMut(&mut Self, &UserId) -> Result<(), HostError>,
    ) -> Result<(), HostError> {
        let Some(id) = user.as_ref() else {
            return Err(HostError::permanent("the user has no id"));
        };
        self.retry(|s| op(s, id))
    }

    /// Creates a user; after a transient failure, looks the email up before trying again,
    /// since the failed call may have created it.
    fn create(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        let mut failed_before = false;
        self.retry(|s| {
            if failed_before {
                if let Ok(found) = s.store.find_users(&[user.email.as_str()]) {
                    if let Some(existing) = found
                        .into_iter()
                        .find(|u| crate::parse::email::emails_equal(&u.email, &user.email))
                    {
                        return Ok(existing.id);
                    }
                }
            }
            let created = s.store.create_user(user);
            failed_before = created.is_err();
            created
        })
    }

    fn send(
        &mut self,
        row: &PlanRow,
        kind: MessageKind,
        password: Option<Password>,
    ) -> Result<(), HostError> {
        let s = &self.plan.settings;
        let fields = MessageFields {
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            login: row.email.clone(),
            site_url: s.site_url.clone(),
            password,
            ..MessageFields::default()
        };
        let message = self.options.templates.render(kind, &row.email, fields);
        self.retry(|s| s.mailer.send(&message))?;
        self.summary.emails_sent += 1;
        Ok(())
    }

    fn confirm(&mut self, cancelled: bool) -> Option<String> {
        let to = self.plan.settings.uploader_email.clone()?;
        let mut counts = self.summary.pairs();
        if cancelled {
            counts.push(("cancelled".into(), 1));
        }
        let fields = MessageFields {
            login: to.clone(),
            results_url: self.plan.settings.results_url.clone(),
            counts,
            ..MessageFields::default()
        };
        let message = self
            .options
            .templates
            .render(MessageKind::UploadComplete, &to, fields);
        self.retry(|s| s.mailer.send(&message).and_then(|()| s.mailer.flush()))
            .err()
            .map(|e| mailer_error(&e).message().to_owned())
    }
}

fn failed(row: &PlanRow, user_id: Option<UserId>, done: Vec<String>, error: String) -> ResultRow {
    ResultRow {
        line: row.line,
        email: row.email.clone(),
        status: Status::Failed,
        user_id,
        done,
        error: Some(error),
    }
}
