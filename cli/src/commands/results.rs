//! `bulk-upload results [RUN]`: export the results of an earlier apply or undo, or list the
//! runs.

use crate::args::{DbArgs, ResultsFormat};
use crate::db::{runs, Db};
use crate::exit::{self, io_error, CliError};
use crate::report;
use lms_bulk_upload::Results;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The export: a path the person chose (a symlink there is followed), created owner-only.
fn write_owner_only(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

pub fn run(
    db_args: &DbArgs,
    run: Option<i64>,
    list: bool,
    format: ResultsFormat,
    output: Option<&PathBuf>,
) -> Result<u8, CliError> {
    let db = Db::open(&db_args.db)?;
    if list {
        for r in runs::list(&db)? {
            let mut marks = Vec::new();
            if let Some(undone) = r.undo_of_run {
                marks.push(format!("undo of #{undone}"));
            }
            if let Some(by) = r.undone_by {
                marks.push(format!("undone by #{by}"));
            }
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!("  [{}]", marks.join(", "))
            };
            println!(
                "#{:<4} {:<9} {}  {}  {}  {}{marks}",
                r.id,
                r.status,
                r.started_at,
                report::clean(&r.source),
                report::clean(r.fingerprint.get(..19).unwrap_or(&r.fingerprint)),
                report::clean(r.results_path.as_deref().unwrap_or(""))
            );
            let _ = &r.finished_at;
        }
        return Ok(exit::OK);
    }
    let Some((id, json)) = runs::results_json(&db, run)? else {
        return Err(CliError::usage(match run {
            Some(id) => format!("run #{id} has no results (see `results --list`)"),
            None => "no finished run in this database".into(),
        }));
    };
    let results = Results::from_signed_json(&json, &db.plan_key()?).map_err(|e| {
        CliError::host(format!(
            "run #{id}: the stored results are unreadable: {}",
            e.message()
        ))
    })?;
    let text = match format {
        ResultsFormat::Csv => {
            // The run's stored plan gives the names; an unreadable one leaves them blank.
            let plan = stored_plan(&db, id);
            crate::results_csv::to_csv(&results, plan.as_ref(), None)
        }
        ResultsFormat::Json => results.to_json() + "\n",
    };
    match output {
        Some(path) => {
            write_owner_only(path, &text).map_err(|e| io_error("cannot write", path, e))?
        }
        // Data for a pipe as it is; on a terminal, no value gets to send escape sequences.
        None if std::io::stdout().is_terminal() => print!("{}", report::clean_lines(&text)),
        None => print!("{text}"),
    }
    Ok(exit::OK)
}

/// Run `id`'s plan as stored, read back checked (`runs::stored_plan`).
fn stored_plan(db: &Db, id: i64) -> Option<lms_bulk_upload::Plan> {
    let (json, fingerprint, deflate): (String, String, Option<Vec<u8>>) = db
        .conn()
        .query_row(
            "SELECT plan_json, fingerprint, plan_deflate FROM upload_runs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok()?;
    runs::stored_plan(id, &json, deflate.as_deref(), &fingerprint).ok()
}
