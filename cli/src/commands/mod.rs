//! The subcommands.

pub mod admin;
pub mod apply;
pub mod catalogue;
pub(crate) mod exec;
pub mod init;
pub mod invite;
pub mod plan;
pub mod results;
pub mod undo;
pub mod validate;

use crate::args::{DbArgs, ParseArgs, SettingsArgs};
use crate::config;
use crate::db::{self, Db, SqliteStore};
use crate::exit::{self, io_error, CliError};
use crate::files::{self, ReadError};
use lms_bulk_upload::{parse_owned, IssueCode, ParseOptions, Plan, SettingsBuilder, Upload};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Reads a file of at most `limit` bytes, refusing a larger one (`file_too_large`) before
/// reading it whole: by its length, or for a pipe after `limit + 1` bytes.
pub fn read(path: &Path, limit: usize) -> Result<Vec<u8>, CliError> {
    files::read_bounded(path, limit as u64).map_err(|e| match e {
        ReadError::Io(e) => io_error("cannot read", path, e),
        ReadError::TooLarge { size } => CliError {
            code: exit::USAGE,
            message: format!(
                "{}: the file is larger than the limit of {limit} bytes{} (--max-file-bytes)",
                path.display(),
                size.map(|s| format!(" ({s} bytes)")).unwrap_or_default()
            ),
            issue_code: Some(IssueCode::FileTooLarge.as_str().to_owned()),
        },
    })
}

/// Reads the CSV file within the parse options' `max_file_bytes`, and parses it, turning a
/// file error into exit code 2 with the issue's fields. The engine checks the host's
/// declarations when parsing: a bad one (`invalid_option`) names the settings file.
/// `digest`, if any, is fed with the file's bytes first (the start of the run key): the
/// bytes themselves are handed to the upload, which keeps them as its text.
pub fn read_and_parse(
    path: &Path,
    options: &ParseOptions,
    settings: Option<&config::SettingsFile>,
    digest: Option<&mut Sha256>,
) -> Result<Upload, CliError> {
    let bytes = read(path, options.max_file_bytes)?;
    if let Some(digest) = digest {
        digest.update(&bytes);
    }
    let upload = parse_owned(bytes, options).map_err(|e| {
        let declaration = e.code() == IssueCode::InvalidOption;
        let mut err = CliError::from(e);
        if let (true, Some(file)) = (declaration, settings) {
            err.message = format!("settings file {}: {}", file.path.display(), err.message);
        }
        err
    })?;
    crate::report::set_headers(&upload);
    Ok(upload)
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
    /// The id the run will get, which its results file is named after.
    pub run_id: i64,
    pub results_path: PathBuf,
    /// An interrupted run of the same file and settings: `apply` resumes it.
    pub resume: Option<Resume>,
    pub default_password: Option<String>,
    /// The file as parsed: the results file repeats each row's own data.
    pub upload: Upload,
}

/// An interrupted run: its id, its stored plan and where its results go.
pub struct Resume {
    pub id: i64,
    pub plan: Plan,
    pub results_path: PathBuf,
}

/// The results file of run `id`: the CLI decides it, never a plan.
pub fn results_path(db_args: &DbArgs, id: i64) -> PathBuf {
    results_dir(db_args).join(format!("run-{id}.csv"))
}

/// The interrupted run with this key or fingerprint, if any. Its plan is read back with
/// `from_json` and checked against the run's fingerprint (`db::runs::stored_plan`): the
/// database is where the plan key lives, so whoever could change a plan stored there could
/// sign it too.
pub fn unfinished(
    db: &Db,
    db_args: &DbArgs,
    run_key: Option<&str>,
    fingerprint: Option<&str>,
) -> Result<Option<Resume>, CliError> {
    let Some(run) = db::runs::find_unfinished(db, run_key, fingerprint)? else {
        return Ok(None);
    };
    Ok(Some(Resume {
        id: run.id,
        plan: db::runs::stored_plan(
            run.id,
            &run.plan_json,
            run.plan_deflate.as_deref(),
            &run.fingerprint,
        )?,
        results_path: run
            .results_path
            .map(PathBuf::from)
            .unwrap_or_else(|| results_path(db_args, run.id)),
    }))
}

/// Parse, settings, plan: the common part of `plan` and `apply`.
pub fn plan_file(
    file: &Path,
    db_args: &DbArgs,
    parse_args: &ParseArgs,
    settings_args: &SettingsArgs,
) -> Result<Planned, CliError> {
    let settings_file = config::read_settings(settings_args)?;
    if names_default_password(settings_args, settings_file.as_ref()) {
        warm_password_check();
    }
    let options = config::parse_options(parse_args, settings_file.as_ref())?;
    let mut digest = Sha256::new();
    let upload = read_and_parse(file, &options, settings_file.as_ref(), Some(&mut digest))?;
    let mut builder = config::settings_builder(settings_args, settings_file.as_ref())?;
    let db = Db::open(&db_args.db)?;
    let finished = db::runs::finished_count(&db)?;
    let run_key = run_key(digest, &builder, parse_args, &options, finished);
    let run_id = db::runs::next_id(&db)?;
    let results_path = results_path(db_args, run_id);
    if builder.results_url == SettingsBuilder::default().results_url {
        builder.results_url = config::file_url(&results_path);
    }
    let default_password = builder.default_password.clone();
    let settings = builder.build()?;
    let resume = unfinished(&db, db_args, Some(&run_key), None)?;
    let mut store = SqliteStore::new(db.clone());
    let plan = lms_bulk_upload::plan(&upload, &settings, &mut store)?;
    Ok(Planned {
        db,
        plan,
        run_key,
        run_id,
        results_path,
        resume,
        default_password,
        upload,
    })
}

/// Whether the flags or the settings file give a default password, which the settings'
/// build checks with `zxcvbn` after the file is read and parsed.
fn names_default_password(args: &SettingsArgs, file: Option<&config::SettingsFile>) -> bool {
    args.default_password_env.is_some()
        || args.default_password_file.is_some()
        || args.default_password.is_some()
        || file.is_some_and(|f| f.builder.default_password.is_some())
}

/// Has `zxcvbn` build its dictionaries (about 37 ms, once per process, on first use) on a
/// thread of its own while this one reads and parses the file, instead of when the
/// settings' build first judges the default password, after the parse, on the thread
/// that goes on to plan and execute. The word judged is a fixed one, never a password;
/// its verdict is dropped. The check itself is the same, made at the same point: it
/// waits for the dictionaries if they are still being built.
fn warm_password_check() {
    let _ = std::thread::Builder::new()
        .name("zxcvbn-warm".into())
        .spawn(|| {
            let warm = lms_bulk_upload::Password::new("warming-the-dictionaries");
            let _ = lms_bulk_upload::PasswordPolicy::default().check(&warm);
        });
}

/// The run's key: `file` (SHA-256 fed with the file's bytes) fed with the settings, the
/// parse arguments and the count of finished runs.
fn run_key(
    file: Sha256,
    builder: &SettingsBuilder,
    parse: &ParseArgs,
    options: &ParseOptions,
    finished: i64,
) -> String {
    let mut h = file;
    h.update([0]);
    h.update(serde_json::to_vec(builder).unwrap_or_default());
    h.update([0]);
    h.update(format!(
        "{:?}|{:?}|{finished}",
        parse.delimiter, parse.group_separator
    ));
    // The host's declarations change the plan too.
    h.update([0]);
    h.update(format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}",
        options.fields, options.login_methods, options.clear_token, options.sheet, options.encoding
    ));
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
