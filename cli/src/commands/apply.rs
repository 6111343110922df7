//! `bulk-upload apply`: plan, confirm, execute, write the results.

use crate::args::{ApplyArgs, MailArgs};
use crate::db::{runs, Db, SqliteJournal, SqliteStore};
use crate::exit::{self, io_error, CliError};
use crate::mail::{self, OutboxMailer, SmtpMailer};
use crate::progress::ProgressBar;
use crate::report;
use lms_bulk_upload::{
    execute, ExecuteOptions, HashParams, Mailer, Password, Plan, Results,
    DEFAULT_ARGON2_ITERATIONS, DEFAULT_ARGON2_MEMORY_KIB,
};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What is about to run.
struct Job {
    db: Rc<Db>,
    plan: Plan,
    /// An existing run being resumed, or the key and source of a new one.
    run: RunRef,
    results_path: PathBuf,
    default_password: Option<String>,
}

enum RunRef {
    Resume(i64),
    New { run_key: String, source: String },
}

pub fn run(args: &ApplyArgs) -> Result<u8, CliError> {
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
    let s = job.plan.summary();
    let writes = s.create + s.update > 0;
    if writes && !args.yes && !confirm(&args.db.db, &job.plan)? {
        report::error("not confirmed: nothing was changed");
        return Ok(exit::NOT_CONFIRMED);
    }
    execute_job(job, args)
}

fn from_file(file: &Path, args: &ApplyArgs) -> Result<Job, CliError> {
    let planned = super::plan_file(file, &args.db, &args.parse, &args.settings)?;
    let (plan, run) = match planned.resume {
        Some((id, plan)) => (plan, RunRef::Resume(id)),
        None => (
            planned.plan,
            RunRef::New {
                run_key: planned.run_key,
                source: file.display().to_string(),
            },
        ),
    };
    Ok(Job {
        db: planned.db,
        plan,
        run,
        results_path: planned.results_path,
        default_password: planned.default_password,
    })
}

fn from_plan_file(path: &Path, args: &ApplyArgs) -> Result<Job, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error("cannot read", path, e))?;
    let plan = Plan::from_json(&text)?;
    let db = Db::open(&args.db.db)?;
    if let Some((id, when)) = runs::finished_at(&db, plan.fingerprint())? {
        return Err(CliError::usage(format!(
            "this plan was already applied (run #{id}, finished {when}); plan the file again"
        )));
    }
    let fp = plan.fingerprint().trim_start_matches("sha256:");
    let results_path = match file_path(&plan.settings().results_url) {
        Some(p) => p,
        None => super::results_dir(&args.db).join(format!("plan-{}.csv", &fp[..fp.len().min(12)])),
    };
    let run = match runs::find_unfinished(&db, None, Some(plan.fingerprint()))? {
        Some((id, _)) => RunRef::Resume(id),
        None => RunRef::New {
            run_key: format!("plan:{fp}"),
            source: path.display().to_string(),
        },
    };
    let default_password = crate::config::settings_builder(&args.settings)?.default_password;
    Ok(Job {
        db,
        plan,
        run,
        results_path,
        default_password,
    })
}

/// The path of a `file://` URL (percent-decoded).
fn file_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&rest[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
}

/// Asks on the terminal; without one, reads a line from standard input (EOF: no).
fn confirm(db: &Path, plan: &Plan) -> Result<bool, CliError> {
    let s = plan.summary();
    let mut err = anstream::stderr();
    let _ = write!(
        err,
        "Apply to {}? {} users will be created and {} updated, {} emails sent. This cannot be undone. [y/N] ",
        db.display(),
        s.create,
        s.update,
        s.emails
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

fn execute_job(job: Job, args: &ApplyArgs) -> Result<u8, CliError> {
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
        RunRef::New { run_key, source } => runs::start(
            &db,
            &run_key,
            plan.fingerprint(),
            &source,
            &plan.to_json(),
            &results_path.display().to_string(),
        )?,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst));
    }
    let progress = ProgressBar::new(plan.rows().len() as u64, args.json);
    let mut store = SqliteStore::new(db.clone());
    let mut journal = SqliteJournal::new(db.clone());
    let e = &args.exec;
    let defaults = ExecuteOptions::default();
    let options = ExecuteOptions {
        default_password: default_password.map(Password::new),
        hash_params: HashParams {
            memory_kib: e.argon2_memory_kib.unwrap_or(DEFAULT_ARGON2_MEMORY_KIB),
            iterations: e.argon2_iterations.unwrap_or(DEFAULT_ARGON2_ITERATIONS),
            ..HashParams::default()
        },
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
        println!("Run #{run_id}");
        println!("  results: {}", results_path.display());
        println!("  emails:  {}", mailer.describe());
        println!("  database: {}", args.db.db.display());
    }
    Ok(exit_code(&results))
}

fn write_results(path: &Path, results: &Results) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
    }
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, results.to_csv())
        .and_then(|()| std::fs::rename(&tmp, path))
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
