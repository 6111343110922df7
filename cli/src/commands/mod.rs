//! The subcommands.

pub mod apply;
pub mod init;
pub mod plan;
pub mod results;
pub mod validate;

use crate::args::{DbArgs, ParseArgs, SettingsArgs};
use crate::config;
use crate::db::{self, Db, SqliteStore};
use crate::exit::{io_error, CliError};
use lms_bulk_upload::{parse, Plan, SettingsBuilder, Upload};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Reads a file whole.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| io_error("cannot read", path, e))
}

/// Parses, turning a file error into exit code 2 with the fields.
pub fn parse_file(bytes: &[u8], args: &ParseArgs) -> Result<Upload, CliError> {
    let options = config::parse_options(args)?;
    Ok(parse(bytes, &options)?)
}

/// The results folder: `--results-dir`, or `results/` next to the database.
pub fn results_dir(db: &DbArgs) -> PathBuf {
    db.results_dir
        .clone()
        .unwrap_or_else(|| beside(&db.db, "results"))
}

/// A folder next to the database file.
pub fn beside(db: &Path, name: &str) -> PathBuf {
    match db.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => dir.join(name),
        None => PathBuf::from(name),
    }
}

/// A plan made from a file, with what `apply` needs to record and resume it.
pub struct Planned {
    pub db: Rc<Db>,
    pub plan: Plan,
    /// Derived from the file, the settings and how many runs the database has finished.
    pub run_key: String,
    pub results_path: PathBuf,
    /// An interrupted run of the same file and settings: `apply` resumes it.
    pub resume: Option<(i64, Plan)>,
    pub default_password: Option<String>,
}

/// Parse, settings, plan: the common part of `plan` and `apply`.
pub fn plan_file(
    file: &Path,
    db_args: &DbArgs,
    parse_args: &ParseArgs,
    settings_args: &SettingsArgs,
) -> Result<Planned, CliError> {
    let bytes = read(file)?;
    let upload = parse_file(&bytes, parse_args)?;
    let mut builder = config::settings_builder(settings_args)?;
    let db = Db::open(&db_args.db)?;
    let finished = db::runs::finished_count(&db)?;
    let run_key = run_key(&bytes, &builder, parse_args, finished);
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let results_path = results_dir(db_args).join(format!("{stem}-{run_key}.csv"));
    if builder.results_url == SettingsBuilder::default().results_url {
        builder.results_url = config::file_url(&results_path);
    }
    let default_password = builder.default_password.clone();
    let settings = builder.build()?;
    let resume = match db::runs::find_unfinished(&db, Some(&run_key), None)? {
        Some((id, json)) => Some((id, Plan::from_json(&json)?)),
        None => None,
    };
    let mut store = SqliteStore::new(db.clone());
    let plan = lms_bulk_upload::plan(&upload, &settings, &mut store)?;
    Ok(Planned {
        db,
        plan,
        run_key,
        results_path,
        resume,
        default_password,
    })
}

fn run_key(bytes: &[u8], builder: &SettingsBuilder, parse: &ParseArgs, finished: i64) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    h.update([0]);
    h.update(serde_json::to_vec(builder).unwrap_or_default());
    h.update([0]);
    h.update(format!(
        "{:?}|{:?}|{finished}",
        parse.delimiter, parse.group_separator
    ));
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
