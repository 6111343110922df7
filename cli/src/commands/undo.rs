//! `bulk-upload undo [RUN]`: plan the undo of a run from its stored results, show it,
//! confirm, and execute it like any run (recorded, signed, journaled, results file).

use super::exec::{self, Host, Job, RunRef};
use crate::args::UndoArgs;
use crate::config;
use crate::db::{runs, Db, SqliteStore};
use crate::exit::{self, CliError};
use crate::lock;
use crate::report;
use lms_bulk_upload::{plan_undo, Plan, SettingsBuilder, UndoOptions};
use std::path::Path;

pub fn run(args: &UndoArgs) -> Result<u8, CliError> {
    let hash_params = exec::hash_params(&args.exec)?;
    // One run at a time: no `apply` or other `undo` between the check and the execution.
    let _lock = lock::acquire(&args.db.db)?;
    let db = Db::open(&args.db.db)?;
    let file = match &args.settings {
        Some(path) => Some(config::settings_file(path)?.builder),
        None => None,
    };
    let undone = target(&db, args.run)?;
    let run_key = format!("undo:{}", undone.id);
    refuse_beside_unfinished_undo(&db, undone.id)?;
    let key = db.plan_key()?;
    let (plan, run, results_path) = match super::unfinished(&db, &args.db, Some(&run_key), None)? {
        Some(resume) => {
            // An undo is planned against the store as it was: resumed across later runs it
            // would write values planned before them.
            if runs::latest_id(&db)?.is_some_and(|latest| latest > resume.id) {
                return Err(CliError::usage(format!(
                    "run #{} (the undo of run #{}) was interrupted, and later runs have run since: \
                     it is not resumed across them; nothing was changed",
                    resume.id, undone.id
                )));
            }
            report::note(&format!(
                "resuming run #{} (the undo of run #{}), interrupted before it finished: rows \
                     already done are skipped",
                resume.id, undone.id
            ));
            (resume.plan, RunRef::Resume(resume.id), resume.results_path)
        }
        None => {
            let results = runs::undoable_results(&undone, &key)?;
            let id = runs::next_id(&db)?;
            let results_path = super::results_path(&args.db, id);
            let options = options(args, file.as_ref(), &results_path)?
                .undone_creations(runs::undone_creations(&db, &key)?);
            let mut store = SqliteStore::new(db.clone());
            // The core refuses the results of an undo (`undo_of_undo`).
            let plan = plan_undo(&results, &mut store, &options)?;
            let run = RunRef::New {
                id,
                run_key,
                source: format!("undo of run #{}", undone.id),
                undo_of_run: Some(undone.id),
            };
            (plan, run, results_path)
        }
    };
    if !args.json {
        println!("Undo of run #{}", undone.id);
        report::plan_summary(&plan, false);
        println!();
    }
    let writes = plan.rows().iter().any(|r| !r.operations.is_empty());
    if !writes && matches!(run, RunRef::New { .. }) {
        // A run that changed nothing (or nothing undo reverses): no undo run is recorded,
        // and the uploader is not emailed about nothing.
        report::note(&format!(
            "run #{} changed nothing that an undo reverses: nothing to undo; no run was \
             recorded and no email was sent",
            undone.id
        ));
        if args.json {
            println!(
                "{}",
                serde_json::json!({ "run": null, "recorded": false, "undo_of_run": undone.id })
            );
        }
        return Ok(exit::OK);
    }
    if !args.yes && !confirm(&args.db.db, undone.id, &plan, args.delete)? {
        report::error("not confirmed: nothing was changed");
        return Ok(exit::NOT_CONFIRMED);
    }
    let site_url = args
        .site_url
        .clone()
        .or_else(|| file.as_ref().map(|f| f.site_url.clone()))
        .unwrap_or_else(|| SettingsBuilder::default().site_url);
    let confirmation =
        args.uploader_email.is_some() || file.as_ref().is_some_and(|f| f.uploader_email.is_some());
    if args.mail.mail_from.is_none() {
        exec::require_site(
            &site_url,
            confirmation,
            "--site-url or --mail-from (or site_url in the settings file, or BULK_UPLOAD_SITE_URL)",
        )?;
    }
    let host = Host {
        command: "undo",
        db: &args.db,
        mail: &args.mail,
        exec: &args.exec,
        json: args.json,
        site_url: &site_url,
    };
    let job = Job {
        db,
        plan,
        run,
        results_path,
        default_password: None,
        upload: None,
    };
    exec::execute_job(job, &host, hash_params)
}

/// The run to undo: the one asked for, or the latest. With no run named, an interrupted
/// undo that is the latest run stands for the run it undoes (so that it is resumed).
fn target(db: &Db, asked: Option<i64>) -> Result<runs::Run, CliError> {
    let Some(run) = runs::get(db, asked)? else {
        return Err(CliError::usage(match asked {
            Some(id) => format!("there is no run #{id} in this database (see `results --list`)"),
            None => "there is no run in this database to undo".into(),
        }));
    };
    match (asked, run.status.as_str(), run.undo_of_run) {
        (None, "running", Some(undone)) => runs::get(db, Some(undone))?
            .ok_or_else(|| CliError::host(format!("run #{undone} is missing from the database"))),
        (Some(_), "running", Some(undone)) => Err(CliError::usage(format!(
            "run #{} is the undo of run #{undone}, interrupted before it finished: \
             `bulk-upload undo {undone}` finishes it",
            run.id
        ))),
        _ => Ok(run),
    }
}

/// Another run's undo, interrupted, must be finished first (`bulk-upload undo RUN` resumes
/// it): undos planned beside it would each see the other's half-written rows.
fn refuse_beside_unfinished_undo(db: &Db, undone: i64) -> Result<(), CliError> {
    match runs::unfinished_undo(db)? {
        Some((id, of)) if of != undone => Err(CliError::usage(format!(
            "run #{id} (the undo of run #{of}) was interrupted before it finished: finish it \
             with `bulk-upload undo {of}` first; nothing was changed"
        ))),
        _ => Ok(()),
    }
}

/// The core's undo options from the flags and the settings file.
fn options(
    args: &UndoArgs,
    file: Option<&SettingsBuilder>,
    results_path: &Path,
) -> Result<UndoOptions, CliError> {
    let default_url = SettingsBuilder::default().results_url;
    let results_url = args
        .results_url
        .clone()
        .or_else(|| {
            file.map(|f| f.results_url.clone())
                .filter(|u| *u != default_url)
        })
        .unwrap_or_else(|| config::file_url(results_path));
    let mut options = UndoOptions::new()
        .delete_created_users(args.delete)
        .results_url(results_url);
    let uploader = args
        .uploader_email
        .clone()
        .or_else(|| file.and_then(|f| f.uploader_email.clone()));
    if let Some(email) = uploader {
        options = options.uploader_email(email);
    }
    // The upload's declarations (profile fields, login methods): what undo may write back.
    if let Some(path) = &args.settings {
        let none = crate::args::ParseArgs {
            delimiter: None,
            group_separator: ';',
            max_rows: None,
            max_file_bytes: None,
            clear_token: None,
            sheet: None,
            encoding: None,
        };
        let declared = config::parse_options(&none, Some(&config::settings_file(path)?))?;
        options = options.declarations(&declared);
    }
    Ok(options)
}

/// The question, with the plan's counts.
fn confirm(db: &Path, undone: i64, plan: &Plan, delete: bool) -> Result<bool, CliError> {
    let s = plan.summary();
    let created = if delete {
        format!(
            "{} users it created will be deleted (or suspended, when anything refers to them)",
            s.deletions
        )
    } else {
        format!("{} users it created will be suspended", s.suspensions)
    };
    exec::confirm(&format!(
        "Undo run #{undone} in {}? {created}; {} users changed in all. No user is emailed.",
        report::clean(&db.display().to_string()),
        s.update,
    ))
}
