//! `bulk-upload apply`: plan, confirm, execute, write the results.

use crate::args::{ApplyArgs, DbArgs, ExecArgs, MailArgs};
use crate::config;
use crate::db::{runs, Db, SqliteJournal, SqliteStore};
use crate::exit::{self, io_error, CliError};
use crate::files;
use crate::lock;
use crate::mail::{self, OutboxMailer, SmtpMailer};
use crate::progress::ProgressBar;
use crate::report;
use lms_bulk_upload::{
    execute, Action, ExecuteOptions, HashParams, IssueCode, Mailer, Operation, Password, Plan,
    Results, DEFAULT_ARGON2_ITERATIONS, DEFAULT_ARGON2_MEMORY_KIB,
};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Argon2id below OWASP's minimum (m = 19456 KiB, t = 2) is refused without the insecure
/// switch.
const MIN_ARGON2_MEMORY_KIB: u32 = 19_456;
const MIN_ARGON2_ITERATIONS: u32 = 2;

/// The largest plan file read (a plan of 2 million rows is well under it).
const MAX_PLAN_FILE_BYTES: usize = 4 << 30;

/// What is about to run.
struct Job {
    db: Rc<Db>,
    plan: Plan,
    /// An existing run being resumed, or the key and source of a new one.
    run: RunRef,
    /// Decided by the CLI from the run's id; never taken from the plan.
    results_path: PathBuf,
    default_password: Option<String>,
}

enum RunRef {
    Resume(i64),
    New {
        id: i64,
        run_key: String,
        source: String,
    },
}

pub fn run(args: &ApplyArgs) -> Result<u8, CliError> {
    let hash_params = hash_params(&args.exec)?;
    // Held until this function returns: planning, the question and the execution.
    let _lock = lock::acquire(&args.db.db)?;
    let job = match (&args.file, &args.plan_file) {
        (_, Some(plan_file)) => from_plan_file(plan_file, args)?,
        (Some(file), None) => from_file(file, args)?,
        (None, None) => return Err(CliError::usage("give a FILE or --plan-file")),
    };
    if !args.json {
        report::plan_summary(&job.plan, false);
        println!();
    }
    if let RunRef::Resume(id) = job.run {
        report::note(&format!(
            "resuming run #{id}, interrupted before it finished: rows already done are skipped"
        ));
    }
    // From the rows, not from the plan's summary.
    let writes = job.plan.rows().iter().any(|r| !r.operations.is_empty());
    if writes && !args.yes && !confirm(&args.db.db, &job.plan)? {
        report::error("not confirmed: nothing was changed");
        return Ok(exit::NOT_CONFIRMED);
    }
    execute_job(job, args, hash_params)
}

/// The argon2id parameters; below OWASP's minimum only with the insecure switch.
fn hash_params(e: &ExecArgs) -> Result<HashParams, CliError> {
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

fn from_file(file: &Path, args: &ApplyArgs) -> Result<Job, CliError> {
    let planned = super::plan_file(file, &args.db, &args.parse, &args.settings)?;
    let (plan, run, results_path) = match planned.resume {
        Some(resume) => (resume.plan, RunRef::Resume(resume.id), resume.results_path),
        None => (
            planned.plan,
            RunRef::New {
                id: planned.run_id,
                run_key: planned.run_key,
                source: file.display().to_string(),
            },
            planned.results_path,
        ),
    };
    Ok(Job {
        db: planned.db,
        plan,
        run,
        results_path,
        default_password: planned.default_password,
    })
}

/// A plan file: only one this database signed is accepted.
fn from_plan_file(path: &Path, args: &ApplyArgs) -> Result<Job, CliError> {
    let db = Db::open(&args.db.db)?;
    let bytes = super::read(path, MAX_PLAN_FILE_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        CliError::usage(format!(
            "{}: the plan file is not UTF-8 text",
            path.display()
        ))
    })?;
    let plan = Plan::from_signed_json(&text, &db.plan_key()?).map_err(|e| {
        let mut err = CliError::from(e.clone());
        if matches!(
            e.code(),
            IssueCode::PlanUnsigned | IssueCode::PlanSignatureInvalid
        ) {
            err.message = format!(
                "{}: {}\nonly plans written by `bulk-upload plan --json` with this database \
                 ({}) are applied; nothing was changed: plan the file again",
                path.display(),
                e.message(),
                args.db.db.display()
            );
        }
        err
    })?;
    if let Some((id, when)) = runs::finished_at(&db, plan.fingerprint())? {
        return Err(CliError::usage(format!(
            "this plan was already applied (run #{id}, finished {when}); plan the file again"
        )));
    }
    let (run, results_path) =
        match super::unfinished(&db, &args.db, None, Some(plan.fingerprint()))? {
            Some(resume) => (RunRef::Resume(resume.id), resume.results_path),
            None => {
                let id = runs::next_id(&db)?;
                let fp = plan.fingerprint().trim_start_matches("sha256:");
                let run = RunRef::New {
                    id,
                    run_key: format!("plan:{fp}"),
                    source: path.display().to_string(),
                };
                (run, super::results_path(&args.db, id))
            }
        };
    check_results_link(&plan, &results_path, &args.db)?;
    let default_password = crate::config::settings_builder(&args.settings)?.default_password;
    Ok(Job {
        db,
        plan,
        run,
        results_path,
        default_password,
    })
}

/// The confirmation email's link comes from the plan; the results file does not. A plan
/// whose link names another run's results file in this results folder was made before
/// other runs: refused, so that the uploader is never sent another run's results.
fn check_results_link(plan: &Plan, results_path: &Path, db: &DbArgs) -> Result<(), CliError> {
    let url = &plan.settings().results_url;
    let ours = config::file_url(results_path);
    if *url == ours {
        return Ok(());
    }
    let prefix = format!("{}/run-", config::file_url(&super::results_dir(db)));
    let other_run = url
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(".csv"))
        .and_then(|n| n.parse::<i64>().ok());
    if let Some(planned) = other_run {
        return Err(CliError::usage(format!(
            "this plan was made for run #{planned}, and the database has had other runs since: \
             plan the file again"
        )));
    }
    report::note(&format!(
        "the confirmation email links to {url} (chosen when planning); this run's results are \
         written to {}",
        results_path.display()
    ));
    Ok(())
}

/// Asks on the terminal; without one, reads a line from standard input (EOF: no).
fn confirm(db: &Path, plan: &Plan) -> Result<bool, CliError> {
    let count = |action: Action| plan.rows().iter().filter(|r| r.action == action).count();
    let emails = plan
        .rows()
        .iter()
        .flat_map(|r| &r.operations)
        .filter(|op| matches!(op, Operation::SendEmail { .. }))
        .count();
    let mut err = anstream::stderr();
    let _ = write!(
        err,
        "Apply to {}? {} users will be created and {} updated, {} emails sent. This cannot be undone. [y/N] ",
        report::clean(&db.display().to_string()),
        count(Action::Create),
        count(Action::Update),
        emails
    );
    let _ = err.flush();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        // Scripts must say --yes; a piped answer is still honoured.
    }
    let mut answer = String::new();
    stdin
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

fn mailer(args: &MailArgs, db: &Path, site_url: &str) -> Result<Box<dyn MailerReport>, CliError> {
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
            let outbox = OutboxMailer::open(&dir, from)
                .map_err(|e| io_error("cannot open the outbox", &dir, e))?;
            Ok(Box::new(OutboxReport { outbox, dir }))
        }
    }
}

/// A mailer that can say where its messages went.
trait MailerReport: Mailer {
    fn mailer(&mut self) -> &mut dyn Mailer;
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
}

impl MailerReport for OutboxReport {
    fn mailer(&mut self) -> &mut dyn Mailer {
        self
    }
    fn describe(&self) -> String {
        format!(
            "{} email(s) written to the outbox {}",
            self.outbox.written(),
            self.dir.display()
        )
    }
}

impl MailerReport for SmtpMailer {
    fn mailer(&mut self) -> &mut dyn Mailer {
        self
    }
    fn describe(&self) -> String {
        format!("{} email(s) sent by SMTP", self.sent())
    }
}

fn execute_job(job: Job, args: &ApplyArgs, hash_params: HashParams) -> Result<u8, CliError> {
    let Job {
        db,
        plan,
        run,
        results_path,
        default_password,
    } = job;
    let mut mailer = mailer(&args.mail, &args.db.db, &plan.settings().site_url)?;
    let run_id = match run {
        RunRef::Resume(id) => id,
        RunRef::New {
            id,
            run_key,
            source,
        } => {
            if results_path.exists() {
                return Err(CliError::usage(format!(
                    "{} already exists, and run #{id} of this database is new: is this results \
                     folder shared with another database? Give --results-dir",
                    results_path.display()
                )));
            }
            runs::start(
                &db,
                &runs::NewRun {
                    id,
                    run_key: &run_key,
                    fingerprint: plan.fingerprint(),
                    source: &source,
                    plan_json: &plan.to_signed_json(&db.plan_key()?),
                    results_path: &results_path.display().to_string(),
                },
            )?
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst));
    }
    let progress = ProgressBar::new(plan.rows().len() as u64, args.json);
    let mut store = SqliteStore::new(db.clone());
    let mut journal = SqliteJournal::new(db.clone(), run_id);
    let e = &args.exec;
    let defaults = ExecuteOptions::default();
    let options = ExecuteOptions {
        default_password: default_password.map(Password::new),
        hash_params,
        threads: e.threads.unwrap_or(0),
        batch_size: e.batch_size.unwrap_or(defaults.batch_size),
        progress: Some(progress.callback()),
        cancel: Some(cancel.clone()),
        journal: Some(&mut journal),
        ..defaults
    };
    let outcome = execute(&plan, &mut store, mailer.mailer(), options);
    progress.finish();
    let results = match outcome {
        Ok(results) => results,
        Err(e) => {
            let mut err = CliError::from(e);
            err.message = format!(
                "{}\nrun #{run_id} stopped; the rows done so far are committed: `apply` again resumes",
                err.message
            );
            return Err(err);
        }
    };
    write_results(&results_path, &results)?;
    if !results.cancelled {
        runs::finish(&db, run_id, &results.to_json())?;
    }
    if args.json {
        let out = serde_json::json!({
            "run": run_id,
            "fingerprint": plan.fingerprint(),
            "results_path": results_path,
            "mail": mailer.describe(),
            "summary": results.summary,
            "cancelled": results.cancelled,
            "confirmation_error": results.confirmation_error,
            "rows": results.rows,
        });
        println!("{out}");
    } else {
        report::results_summary(&results);
        println!();
        let shown = |p: &Path| report::clean(&p.display().to_string()).into_owned();
        println!("Run #{run_id}");
        println!("  results: {}", shown(&results_path));
        println!("  emails:  {}", report::clean(&mailer.describe()));
        println!("  database: {}", shown(&args.db.db));
    }
    Ok(exit_code(&results))
}

/// The results CSV: owner-only, in an owner-only folder, never written through a symlink.
fn write_results(path: &Path, results: &Results) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
    }
    files::write_private_atomic(
        path,
        &path.with_extension("csv.tmp"),
        results.to_csv().as_bytes(),
    )
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
