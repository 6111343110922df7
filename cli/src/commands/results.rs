//! `bulk-upload results [RUN]`: export the results of an earlier apply.

use crate::args::{DbArgs, ResultsFormat};
use crate::db::{runs, Db};
use crate::exit::{self, io_error, CliError};
use lms_bulk_upload::Results;
use std::path::PathBuf;

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
            println!(
                "#{:<4} {:<9} {}  {}  {}  {}",
                r.id,
                r.status,
                r.started_at,
                r.source,
                &r.fingerprint[..r.fingerprint.len().min(19)],
                r.results_path.as_deref().unwrap_or("")
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
    let results: Results = serde_json::from_str(&json).map_err(|e| {
        CliError::host(format!("run #{id}: the stored results are unreadable: {e}"))
    })?;
    let text = match format {
        ResultsFormat::Csv => results.to_csv(),
        ResultsFormat::Json => results.to_json() + "\n",
    };
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| io_error("cannot write", path, e))?,
        None => print!("{text}"),
    }
    Ok(exit::OK)
}
