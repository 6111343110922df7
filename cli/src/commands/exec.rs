//! What `apply` and `undo` share once a plan is chosen: the question, the run record, the
//! execution with the journal, the results file and the exit code.

use crate::args::{DbArgs, ExecArgs, MailArgs};
use crate::db::{runs, Db};
use crate::exit::{self, io_error, CliError};
use crate::files;
use crate::mail::{self, OutboxMailer, RunMailer, SmtpMailer};
use crate::progress::ProgressBar;
use crate::report;
use lms_bulk_upload::{
    HashParams, Mailer, Password, Plan, Results, DEFAULT_ARGON2_ITERATIONS,
    DEFAULT_ARGON2_MEMORY_KIB,
};
use lms_bulk_upload_sqlite::run::{execute_run, ExecSettings};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Argon2id below OWASP's minimum (m = 19456 KiB, t = 2) is refused without the insecure
/// switch.
const MIN_ARGON2_MEMORY_KIB: u32 = 19_456;
const MIN_ARGON2_ITERATIONS: u32 = 2;

/// What is about to run.
pub struct Job {
    pub db: Rc<Db>,
    pub plan: Plan,
    /// An existing run being resumed, or the key and source of a new one.
    pub run: RunRef,
    /// Decided by the CLI from the run's id; never taken from the plan.
    pub results_path: PathBuf,
    pub default_password: Option<String>,
    /// The file as parsed, when the plan was made from one now (the results file repeats
    /// each row's own data).
    pub upload: Option<lms_bulk_upload::Upload>,
}

pub enum RunRef {
    Resume(i64),
    New {
        id: i64,
        run_key: String,
        source: String,
        /// Set for an undo: the run it undoes.
        undo_of_run: Option<i64>,
    },
}

/// Where and how a job runs: the command's flags.
pub struct Host<'a> {
    /// `apply` or `undo`: what to run again to resume.
    pub command: &'static str,
    pub db: &'a DbArgs,
    pub mail: &'a MailArgs,
    pub exec: &'a ExecArgs,
    pub json: bool,
    /// The site whose host names the default sender.
    pub site_url: &'a str,
}

/// The argon2id parameters; below OWASP's minimum only with the insecure switch.
pub fn hash_params(e: &ExecArgs) -> Result<HashParams, CliError> {
    let (m, t) = (
        e.argon2_memory_kib.unwrap_or(DEFAULT_ARGON2_MEMORY_KIB),
        e.argon2_iterations.unwrap_or(DEFAULT_ARGON2_ITERATIONS),
    );
    // The core refuses weak parameters; the insecure switch is the core's own, named so.
    if let Ok(params) = HashParams::new(m, t, 1) {
        return Ok(params);
    }
    let what = format!(
        "argon2id with m={m} KiB, t={t} is below OWASP's minimum (m={MIN_ARGON2_MEMORY_KIB} KiB, \
         t={MIN_ARGON2_ITERATIONS})"
    );
    if !e.insecure_fast_hashing {
        return Err(CliError::usage(format!(
            "{what}: refused (BULK_UPLOAD_ARGON2_MEMORY_KIB / BULK_UPLOAD_ARGON2_ITERATIONS); \
             BULK_UPLOAD_INSECURE_FAST_HASHING=1 allows it, for tests only"
        )));
    }
    report::note(&format!(
        "warning: {what}; allowed by BULK_UPLOAD_INSECURE_FAST_HASHING, for tests only"
    ));
    Ok(HashParams::insecure_for_tests(m, t, 1))
}

/// Whether the plan emails any user.
pub fn sends_email(plan: &Plan) -> bool {
    // The summary counts the rows' emails (a plan read back is refused if it does not).
    plan.summary().emails > 0
}

/// Emails name the site (the login link, the results link, the sender): with none
/// configured they would name the placeholder `lms.example.com`, so sending is refused.
pub fn require_site(site_url: &str, emails: bool, how: &str) -> Result<(), CliError> {
    let placeholder = lms_bulk_upload::SettingsBuilder::default().site_url;
    if emails && site_url == placeholder {
        return Err(CliError::usage(format!(
            "emails would be sent naming the placeholder site {placeholder}: give the LMS's \
             address with {how}; nothing was changed"
        )));
    }
    Ok(())
}

/// Asks `question` on standard error and reads the answer from standard input (a terminal,
/// or a piped line; EOF: no).
pub fn confirm(question: &str) -> Result<bool, CliError> {
    let mut err = anstream::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
    if answer.is_empty() {
        let _ = writeln!(err);
    }
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The run's mailer. The outbox publishes in two phases with the run's database `ledger`
/// (opening it finishes what a stopped run left pending); the apply lock is held.
fn mailer(
    args: &MailArgs,
    db: &Path,
    ledger: &Rc<Db>,
    site_url: &str,
) -> Result<Box<dyn MailerReport>, CliError> {
    let from = mail::sender(args.mail_from.as_deref(), site_url).map_err(CliError::usage)?;
    match &args.smtp {
        Some(url) => {
            let smtp = SmtpMailer::new(url, from).map_err(CliError::usage)?;
            smtp.check().map_err(CliError::host)?;
            Ok(Box::new(smtp))
        }
        None => {
            let dir = args
                .outbox
                .clone()
                .unwrap_or_else(|| super::beside(db, "outbox"));
            let format = match args.outbox_format {
                Some(crate::args::OutboxFormatArg::Mbox) => mail::OutboxFormat::Mbox,
                _ => mail::OutboxFormat::Eml,
            };
            let outbox = OutboxMailer::open_for_run(&dir, from, format, ledger)?;
            Ok(Box::new(OutboxReport { outbox, dir }))
        }
    }
}

/// A run's mailer that can say where its messages went.
trait MailerReport: RunMailer {
    fn describe(&self) -> String;
}

struct OutboxReport {
    outbox: OutboxMailer,
    dir: PathBuf,
}

impl Mailer for OutboxReport {
    fn send(
        &mut self,
        message: &lms_bulk_upload::Message,
    ) -> Result<(), lms_bulk_upload::HostError> {
        self.outbox.send(message)
    }
    fn flush(&mut self) -> Result<(), lms_bulk_upload::HostError> {
        self.outbox.flush()
    }
}

impl RunMailer for OutboxReport {
    fn finish(&mut self) -> Result<(), lms_bulk_upload::HostError> {
        self.outbox.finish()
    }
}

impl MailerReport for OutboxReport {
    fn describe(&self) -> String {
        format!(
            "{} email(s) written to the outbox {}",
            self.outbox.written(),
            self.dir.display()
        )
    }
}

impl MailerReport for SmtpMailer {
    fn describe(&self) -> String {
        format!("{} email(s) sent by SMTP", self.sent())
    }
}

/// Records the run (a new one before anything is written), executes the plan with the run's
/// journal, writes its results file and, unless interrupted, records the results.
pub fn execute_job(job: Job, host: &Host<'_>, hash_params: HashParams) -> Result<u8, CliError> {
    let Job {
        db,
        plan,
        run,
        results_path,
        default_password,
        upload,
    } = job;
    let mut mailer = mailer(host.mail, &host.db.db, &db, host.site_url)?;
    let (run_id, undo_of_run) = match run {
        RunRef::Resume(id) => (id, runs::get(&db, Some(id))?.and_then(|r| r.undo_of_run)),
        RunRef::New {
            id,
            run_key,
            source,
            undo_of_run,
        } => {
            if results_path.exists() {
                return Err(CliError::usage(format!(
                    "{} already exists, and run #{id} of this database is new: is this results \
                     folder shared with another database? Give --results-dir",
                    results_path.display()
                )));
            }
            let id = runs::start(
                &db,
                &runs::NewRun {
                    id,
                    run_key: &run_key,
                    fingerprint: plan.fingerprint(),
                    source: &source,
                    plan_json: "",
                    plan_deflate: Some(&runs::deflate_plan(&plan)?),
                    results_path: &results_path.display().to_string(),
                    undo_of_run,
                },
            )?;
            (id, undo_of_run)
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst));
    }
    let progress = ProgressBar::new(plan.rows().len() as u64, host.json);
    let e = host.exec;
    let defaults = ExecSettings::default();
    let settings = ExecSettings {
        hash_params,
        threads: e.threads.unwrap_or(0),
        batch_size: e.batch_size.unwrap_or(defaults.batch_size),
        invitation_expiry: e.invitation_hours.map_or(defaults.invitation_expiry, |h| {
            std::time::Duration::from_secs(h.saturating_mul(3600))
        }),
    };
    let outcome = execute_run(
        &db,
        &plan,
        run_id,
        mailer.as_mut(),
        &settings,
        default_password.map(Password::new),
        Some(progress.callback()),
        Some(cancel.clone()),
    );
    progress.finish();
    let results = match outcome {
        Ok(results) => results,
        Err(e) => {
            let mut err = CliError::from(e);
            err.message = format!(
                "{}\nrun #{run_id} stopped; the rows done so far are committed: `{}` again resumes",
                err.message, host.command
            );
            return Err(err);
        }
    };
    // The last committed batches' emails are in the outbox before the run is recorded
    // finished (one that cannot be moved is when the outbox is next opened).
    mailer.finish().map_err(|e| {
        CliError::host(format!(
            "{}\nrun #{run_id} stopped; the rows done so far are committed: `{}` again resumes",
            e.message(),
            host.command
        ))
    })?;
    // The results file (streamed to disk, never held whole) is written on a thread of its
    // own while this one signs the results (a million rows take a second or two each) and
    // stores them in a transaction it commits only once the file is written: the run is
    // recorded as finished after both, as before.
    let key = if results.cancelled {
        None
    } else {
        Some(db.plan_key()?)
    };
    let failed = results.summary.failed > 0;
    let (written, stored) = std::thread::scope(|scope| {
        let written =
            scope.spawn(|| write_results(&results_path, &results, &plan, upload.as_ref()));
        // Signed with the database's key: read back verified by `undo` and `results`.
        let stored = key
            .as_ref()
            .map(|key| runs::finish_signed_open(&db, run_id, &results.to_signed_json(key), failed));
        (written.join(), stored)
    });
    written.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    if let Some(finishing) = stored.transpose()? {
        finishing.commit()?;
    }
    if host.json {
        let mut out = serde_json::json!({
            "run": run_id,
            "fingerprint": plan.fingerprint(),
            "results_path": results_path,
            "mail": mailer.describe(),
            "summary": results.summary,
            "cancelled": results.cancelled,
            "confirmation_error": results.confirmation_error,
            "rows": results.rows,
        });
        if let Some(undone) = undo_of_run {
            out["undo_of_run"] = undone.into();
        }
        println!("{out}");
    } else {
        report::results_summary(&results, host.command);
        println!();
        let shown = |p: &Path| report::clean(&p.display().to_string()).into_owned();
        match undo_of_run {
            Some(undone) => println!("Run #{run_id} (undo of run #{undone})"),
            None => println!("Run #{run_id}"),
        }
        println!("  results: {}", shown(&results_path));
        println!("  emails:  {}", report::clean(&mailer.describe()));
        println!("  database: {}", shown(&host.db.db));
    }
    if let (Some(undone), false, true) = (undo_of_run, results.cancelled, failed) {
        report::note(&format!(
            "some rows failed: run #{undone} is not marked undone; `bulk-upload undo {undone}` \
             again undoes what is left"
        ));
    }
    let code = exit_code(&results);
    // Everything is written, committed and printed, and the process exits as soon as this
    // returns (`apply` and `undo` run one job): the plan, the results and the upload (millions
    // of small allocations for a million rows) are left to the exit, not freed one by one.
    // The database closes (its last checkpoint) and the mailer finishes as before.
    std::mem::forget((plan, results, upload));
    Ok(code)
}

/// The results CSV, streamed row by row: owner-only, in an owner-only folder, never
/// written through a symlink.
fn write_results(
    path: &Path,
    results: &Results,
    plan: &Plan,
    upload: Option<&lms_bulk_upload::Upload>,
) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
    }
    files::write_private_atomic_with(path, &path.with_extension("csv.tmp"), |out| {
        crate::results_csv::write_csv(out, results, Some(plan), upload)
    })
    .map_err(|e| io_error("cannot write the results to", path, e))
}

fn exit_code(results: &Results) -> u8 {
    if results.cancelled {
        exit::INTERRUPTED
    } else if results.summary.rejected + results.summary.failed > 0 {
        exit::ROWS_REJECTED
    } else {
        exit::OK
    }
}
