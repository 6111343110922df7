//! `bulk-upload apply`: plan, confirm, execute, write the results.

use super::exec::{self, Host, Job, RunRef};
use crate::args::{ApplyArgs, DbArgs};
use crate::config;
use crate::db::{runs, Db};
use crate::exit::{self, CliError};
use crate::lock;
use crate::report;
use lms_bulk_upload::{IssueCode, Plan};
use std::path::Path;

/// The largest plan file read (a plan of 2 million rows is well under it).
const MAX_PLAN_FILE_BYTES: usize = 4 << 30;

pub fn run(args: &ApplyArgs) -> Result<u8, CliError> {
    let hash_params = exec::hash_params(&args.exec)?;
    // Held until this function returns: planning, the question and the execution.
    let _lock = lock::acquire(&args.db.db)?;
    refuse_during_undo(&args.db)?;
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
    if !writes && matches!(job.run, RunRef::New { .. }) {
        // Every row rejected or unchanged: no run to record (nor to undo), no confirmation.
        let rejected = job.plan.summary().rejected > 0;
        if !args.json {
            report::note("nothing to change: no run was recorded and no email was sent");
        } else {
            let planned = job.plan.summary();
            let summary = lms_bulk_upload::ResultSummary {
                rows: planned.rows,
                unchanged: planned.unchanged,
                rejected: planned.rejected,
                ..Default::default()
            };
            println!(
                "{}",
                serde_json::json!({ "run": null, "recorded": false, "summary": summary })
            );
        }
        return Ok(if rejected {
            exit::ROWS_REJECTED
        } else {
            exit::OK
        });
    }
    exec::require_site(
        &job.plan.settings().site_url,
        exec::sends_email(&job.plan) || job.plan.settings().uploader_email.is_some(),
        "--site-url (or site_url in the settings file, or BULK_UPLOAD_SITE_URL)",
    )?;
    if writes && !args.yes && !confirm(&args.db.db, &job.plan)? {
        report::error("not confirmed: nothing was changed");
        return Ok(exit::NOT_CONFIRMED);
    }
    let site_url = job.plan.settings().site_url.clone();
    let host = Host {
        command: "apply",
        db: &args.db,
        mail: &args.mail,
        exec: &args.exec,
        json: args.json,
        site_url: &site_url,
    };
    exec::execute_job(job, &host, hash_params)
}

/// An interrupted undo is finished before any upload: an upload in between would change what
/// the undo was planned against (and its rows would then be undone as planned, stale).
fn refuse_during_undo(db_args: &DbArgs) -> Result<(), CliError> {
    let db = Db::open(&db_args.db)?;
    match runs::unfinished_undo(&db)? {
        Some((id, of)) => Err(CliError::usage(format!(
            "run #{id} (the undo of run #{of}) was interrupted before it finished: finish it \
             with `bulk-upload undo {of}` before uploading again; nothing was changed"
        ))),
        None => Ok(()),
    }
}

fn from_file(file: &Path, args: &ApplyArgs) -> Result<Job, CliError> {
    let planned = super::plan_file(file, &args.db, &args.parse, &args.settings)?;
    let upload = Some(planned.upload);
    let (plan, run, results_path) = match planned.resume {
        Some(resume) => (resume.plan, RunRef::Resume(resume.id), resume.results_path),
        None => (
            planned.plan,
            RunRef::New {
                id: planned.run_id,
                run_key: planned.run_key,
                source: file.display().to_string(),
                undo_of_run: None,
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
        upload,
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
                    undo_of_run: None,
                };
                (run, super::results_path(&args.db, id))
            }
        };
    check_results_link(&plan, &results_path, &args.db)?;
    let file = config::read_settings(&args.settings)?;
    let default_password =
        config::settings_builder(&args.settings, file.as_ref())?.default_password;
    Ok(Job {
        db,
        plan,
        run,
        results_path,
        default_password,
        upload: None,
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
    let summary = plan.summary();
    let suspended = match plan.summary().suspensions {
        0 => String::new(),
        n => format!(" ({n} of them suspended: not in the file)"),
    };
    exec::confirm(&format!(
        "Apply to {}? {} users will be created and {} updated{suspended}, {} emails sent. \
         Emails cannot be unsent, nor passwords given back; `bulk-upload undo` reverses the rest.",
        report::clean(&db.display().to_string()),
        summary.create,
        summary.update,
        summary.emails
    ))
}
