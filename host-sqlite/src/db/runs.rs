//! The `upload_runs` table: each `apply` and `undo`, its plan (for an exact resume) and its
//! results, and which run undid which.
//!
//! A run of the CLI stores its plan as `Plan::to_json` (the plan key lives in this database
//! too, so a signature made with it would prove nothing a fingerprint does not), compressed
//! ([`deflate_plan`]: zlib, `plan_deflate`, with `plan_json` left empty); every reader takes
//! it back with [`stored_plan`]: inflated (bounded, a corrupt stream refused), then
//! `Plan::from_json` (the content against its fingerprint) and the fingerprint against the
//! one the run was recorded with. The server's runs store the signed plan the administrator
//! approved in `plan_json`, which `from_json` reads as well.

use super::Db;
use crate::Error;
use flate2::{read::ZlibDecoder, write::ZlibEncoder, Compression};
use rusqlite::{params, OptionalExtension};
use std::io::{Read, Write};

/// The most a stored plan inflates to: as large as a plan file `apply --plan-file` reads.
const MAX_STORED_PLAN_BYTES: u64 = 4 << 30;

/// A run as listed by `results --list`.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub id: i64,
    pub source: String,
    pub fingerprint: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub results_path: Option<String>,
    /// Set on an undo: the run it undoes.
    pub undo_of_run: Option<i64>,
    /// Set on a run that was undone: the undo run.
    pub undone_by: Option<i64>,
}

/// How many runs have finished: part of the run key, so that applying the same file again
/// after a finished run is a new run (with its own results file).
pub fn finished_count(db: &Db) -> rusqlite::Result<i64> {
    db.conn().query_row(
        "SELECT count(*) FROM upload_runs WHERE status = 'finished'",
        [],
        |r| r.get(0),
    )
}

/// An interrupted run, to resume.
pub struct Unfinished {
    pub id: i64,
    /// The plan's fingerprint, recorded when the run started.
    pub fingerprint: String,
    pub plan_json: String,
    /// The plan's JSON compressed ([`deflate_plan`]), when `plan_json` is empty.
    pub plan_deflate: Option<Vec<u8>>,
    /// Where its results go (decided when it started).
    pub results_path: Option<String>,
}

/// An interrupted run with this key or fingerprint.
pub fn find_unfinished(
    db: &Db,
    run_key: Option<&str>,
    fingerprint: Option<&str>,
) -> rusqlite::Result<Option<Unfinished>> {
    db.conn()
        .query_row(
            "SELECT id, fingerprint, plan_json, results_path, plan_deflate FROM upload_runs \
             WHERE status = 'running' AND (run_key = ?1 OR fingerprint = ?2) \
             ORDER BY id DESC LIMIT 1",
            params![run_key, fingerprint],
            |r| {
                Ok(Unfinished {
                    id: r.get(0)?,
                    fingerprint: r.get(1)?,
                    plan_json: r.get(2)?,
                    results_path: r.get(3)?,
                    plan_deflate: r.get(4)?,
                })
            },
        )
        .optional()
}

/// The plan as a run stores it: `Plan::to_json`'s bytes compressed with zlib at its fastest
/// level, written as they are made (no whole JSON in memory: about 25 times smaller than the
/// JSON, a twenty-fifth of the pages SQLite writes to the WAL and the database). The bytes
/// come from `Plan::write_json` (a large plan's rows written on other threads while this
/// one compresses them), the same bytes as `to_json`'s.
pub fn deflate_plan(plan: &lms_bulk_upload::Plan) -> Result<Vec<u8>, Error> {
    deflate_with(plan.rows().len().saturating_mul(24), |out| {
        plan.write_json(out)
    })
}

/// `text` as [`deflate_plan`] compresses a plan's JSON (for tests and tools).
pub fn deflate(text: &[u8]) -> Vec<u8> {
    deflate_with(text.len() / 16, |out| out.write_all(text)).unwrap_or_default()
}

fn deflate_with(
    size_hint: usize,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Vec<u8>, Error> {
    let failed = |e: std::io::Error| Error::host(format!("the plan could not be stored: {e}"));
    let encoder = ZlibEncoder::new(Vec::with_capacity(size_hint + 4096), Compression::fast());
    // serde_json writes a few bytes at a time: gathered before the compressor sees them.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, encoder);
    write(&mut out).map_err(failed)?;
    let encoder = out.into_inner().map_err(|e| failed(e.into_error()))?;
    encoder.finish().map_err(failed)
}

/// A stored plan's JSON: `plan_json`, or `plan_deflate` inflated when it is set. The stream
/// is distrusted: one that is not zlib, is cut short, inflates past 4 GiB or to other than
/// UTF-8 is refused (`invalid_plan`).
pub fn plan_text(
    run_id: i64,
    plan_json: String,
    plan_deflate: Option<&[u8]>,
) -> Result<String, Error> {
    let Some(bytes) = plan_deflate else {
        return Ok(plan_json);
    };
    let refused = |why: String| {
        let mut err = Error::usage(format!("run #{run_id}: the stored plan: {why}"));
        err.issue_code = Some(lms_bulk_upload::IssueCode::InvalidPlan.as_str().to_owned());
        err
    };
    let mut text = Vec::with_capacity(bytes.len().saturating_mul(26).min(1 << 30));
    ZlibDecoder::new(bytes)
        .take(MAX_STORED_PLAN_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| refused(format!("it cannot be inflated: {e}")))?;
    if text.len() as u64 > MAX_STORED_PLAN_BYTES {
        return Err(refused("it inflates past 4 GiB".into()));
    }
    String::from_utf8(text).map_err(|_| refused("it is not UTF-8 text".into()))
}

/// Run `run_id`'s stored plan, read back: its JSON ([`plan_text`]), `Plan::from_json` (which
/// refuses content that does not match the plan's fingerprint), and a fingerprint other than
/// the one the run was recorded with refused (`fingerprint_mismatch`).
pub fn stored_plan(
    run_id: i64,
    plan_json: &str,
    plan_deflate: Option<&[u8]>,
    fingerprint: &str,
) -> Result<lms_bulk_upload::Plan, Error> {
    let inflated;
    let plan_json = match plan_deflate {
        None => plan_json,
        Some(_) => {
            inflated = plan_text(run_id, String::new(), plan_deflate)?;
            inflated.as_str()
        }
    };
    let plan = lms_bulk_upload::Plan::from_json(plan_json)?;
    if plan.fingerprint() != fingerprint {
        let mut err = Error::usage(format!(
            "run #{run_id}: the stored plan's fingerprint is not the one the run was recorded \
             with: it was altered after the run started"
        ));
        err.issue_code = Some(
            lms_bulk_upload::IssueCode::FingerprintMismatch
                .as_str()
                .to_owned(),
        );
        return Err(err);
    }
    Ok(plan)
}

/// When a plan with this fingerprint already finished.
pub fn finished_at(db: &Db, fingerprint: &str) -> rusqlite::Result<Option<(i64, String)>> {
    db.conn()
        .query_row(
            "SELECT id, finished_at FROM upload_runs WHERE status = 'finished' \
             AND fingerprint = ?1 ORDER BY id DESC LIMIT 1",
            params![fingerprint],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
}

/// The id the next run will get: ids are never reused (AUTOINCREMENT), so this is one more
/// than the highest ever given. Exact while this process holds the apply lock.
pub fn next_id(db: &Db) -> rusqlite::Result<i64> {
    db.conn().query_row(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'upload_runs'), 0), \
         coalesce((SELECT max(id) FROM upload_runs), 0)) + 1",
        [],
        |r| r.get(0),
    )
}

/// A new run to record.
pub struct NewRun<'a> {
    /// The id its results file is named after (from [`next_id`]).
    pub id: i64,
    pub run_key: &'a str,
    pub fingerprint: &'a str,
    pub source: &'a str,
    /// The plan's JSON, or empty when `plan_deflate` holds it compressed.
    pub plan_json: &'a str,
    /// The plan compressed ([`deflate_plan`]).
    pub plan_deflate: Option<&'a [u8]>,
    pub results_path: &'a str,
    /// Set on an undo: the run it undoes (marked undone when this one finishes).
    pub undo_of_run: Option<i64>,
}

/// Records a new run (committed before anything is written) under the id its results file
/// was named after. If another process took that id meanwhile, the insert fails: two runs
/// never share an id, a journal or a results file.
pub fn start(db: &Db, run: &NewRun<'_>) -> Result<i64, Error> {
    let inserted = db.conn().execute(
        "INSERT INTO upload_runs (id, run_key, fingerprint, source, status, plan_json, \
         results_path, undo_of_run, plan_deflate) VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, \
         ?7, ?8)",
        params![
            run.id,
            run.run_key,
            run.fingerprint,
            run.source,
            run.plan_json,
            run.results_path,
            run.undo_of_run,
            run.plan_deflate
        ],
    );
    match inserted {
        Ok(_) => Ok(run.id),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
            Err(Error::host(format!(
                "run #{} was started by another process meanwhile; plan again",
                run.id
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks a run finished with its results; only a run still running (never twice). An undo
/// in which no row `failed` marks the run it undoes as undone by it, in the same
/// transaction; after one with failed rows the run can be undone again (the new undo plan
/// is made from the store as it is then, so it does only what is left). The results are
/// stored signed with the database's key, and read back verified ([`stored_results`]).
pub fn finish(
    db: &Db,
    id: i64,
    results: &lms_bulk_upload::Results,
    failed: bool,
) -> Result<(), Error> {
    finish_signed(db, id, &results.to_signed_json(&db.plan_key()?), failed)
}

/// [`finish`] with the results already signed with the database's key
/// (`Results::to_signed_json`), by a caller that signs them while it does something else.
pub fn finish_signed(db: &Db, id: i64, results_json: &str, failed: bool) -> Result<(), Error> {
    finish_signed_open(db, id, results_json, failed)?.commit()
}

/// [`finish_signed`]'s writes, in a transaction left open: committed by
/// [`Finishing::commit`], rolled back if it is dropped. A caller that writes something else
/// the run must have before it is recorded finished (the CLI's results file) stores the
/// results meanwhile and commits only once that is written.
pub fn finish_signed_open<'a>(
    db: &'a Db,
    id: i64,
    results_json: &str,
    failed: bool,
) -> Result<Finishing<'a>, Error> {
    let tx = db.conn().unchecked_transaction()?;
    let changed = tx.execute(
        "UPDATE upload_runs SET status = 'finished', results_json = ?1, \
         finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?2 AND status = 'running'",
        params![results_json, id],
    )?;
    if changed == 0 {
        return Err(Error::host(format!(
            "run #{id} was not running any more: its results were not recorded again"
        )));
    }
    if !failed {
        tx.execute(
            "UPDATE upload_runs SET undone_by = ?1 WHERE undone_by IS NULL \
             AND id = (SELECT undo_of_run FROM upload_runs WHERE id = ?1)",
            params![id],
        )?;
    }
    Ok(Finishing(tx))
}

/// A run recorded finished in a transaction not yet committed ([`finish_signed_open`]).
#[must_use = "the run is recorded finished only when this is committed"]
pub struct Finishing<'a>(rusqlite::Transaction<'a>);

impl Finishing<'_> {
    /// Commits: the run is finished, with its results.
    pub fn commit(self) -> Result<(), Error> {
        self.0.commit()?;
        Ok(())
    }
}

/// A run, as `undo` needs it.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: i64,
    pub status: String,
    /// Set once it has finished.
    pub results_json: Option<String>,
    pub undo_of_run: Option<i64>,
    pub undone_by: Option<i64>,
}

/// Run `id`, or the latest run when `id` is `None`.
pub fn get(db: &Db, id: Option<i64>) -> rusqlite::Result<Option<Run>> {
    db.conn()
        .query_row(
            "SELECT id, status, results_json, undo_of_run, undone_by FROM upload_runs \
             WHERE (?1 IS NULL OR id = ?1) ORDER BY id DESC LIMIT 1",
            params![id],
            |r| {
                Ok(Run {
                    id: r.get(0)?,
                    status: r.get(1)?,
                    results_json: r.get(2)?,
                    undo_of_run: r.get(3)?,
                    undone_by: r.get(4)?,
                })
            },
        )
        .optional()
}

pub fn list(db: &Db) -> rusqlite::Result<Vec<RunInfo>> {
    let mut stmt = db.conn().prepare(
        "SELECT id, source, fingerprint, status, started_at, finished_at, results_path, \
         undo_of_run, undone_by FROM upload_runs ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RunInfo {
            id: r.get(0)?,
            source: r.get(1)?,
            fingerprint: r.get(2)?,
            status: r.get(3)?,
            started_at: r.get(4)?,
            finished_at: r.get(5)?,
            results_path: r.get(6)?,
            undo_of_run: r.get(7)?,
            undone_by: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// The results JSON of a finished run (the latest when `id` is `None`).
pub fn results_json(db: &Db, id: Option<i64>) -> rusqlite::Result<Option<(i64, String)>> {
    db.conn()
        .query_row(
            "SELECT id, results_json FROM upload_runs WHERE results_json IS NOT NULL \
             AND (?1 IS NULL OR id = ?1) ORDER BY id DESC LIMIT 1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
}

/// The interrupted undo, if any: `(its id, the run it undoes)`.
pub fn unfinished_undo(db: &Db) -> rusqlite::Result<Option<(i64, i64)>> {
    db.conn()
        .query_row(
            "SELECT id, undo_of_run FROM upload_runs WHERE status = 'running' \
             AND undo_of_run IS NOT NULL ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
}

/// The id of the latest run.
pub fn latest_id(db: &Db) -> rusqlite::Result<Option<i64>> {
    db.conn()
        .query_row("SELECT max(id) FROM upload_runs", [], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

/// The stored results of every run that was undone.
pub fn undone_results(db: &Db) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = db.conn().prepare(
        "SELECT id, results_json FROM upload_runs WHERE undone_by IS NOT NULL \
         AND results_json IS NOT NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// A run's stored results read back: the one function the CLI's `results` and `undo` and
/// the web server use, so that what is checked on the way back is checked everywhere.
/// Results are stored signed with the database's key and read back verified
/// (`results_unsigned`, `results_signature_invalid`).
pub fn stored_results(
    run_id: i64,
    json: &str,
    key: &lms_bulk_upload::PlanKey,
) -> Result<lms_bulk_upload::Results, Error> {
    lms_bulk_upload::Results::from_signed_json(json, key).map_err(|e| {
        let mut err = Error::from(e);
        err.message = format!("run #{run_id}: the stored results: {}", err.message);
        err
    })
}

/// The stored results of a run that may be undone: finished, and not undone already.
pub fn undoable_results(
    run: &Run,
    key: &lms_bulk_upload::PlanKey,
) -> Result<lms_bulk_upload::Results, Error> {
    if let Some(by) = run.undone_by {
        return Err(Error::usage(format!(
            "run #{} was already undone by run #{by}: nothing was changed (see `results --list`)",
            run.id
        )));
    }
    let Some(json) = &run.results_json else {
        return Err(Error::usage(format!(
            "run #{} has not finished (it was interrupted): `apply` it again to finish it, then \
             undo it; nothing was changed",
            run.id
        )));
    };
    stored_results(run.id, json, key)
}

/// The users created by the runs undone so far (from their stored results, read back
/// verified): an undo never reactivates them. Used by `bulk-upload undo` and the web host.
pub fn undone_creations(
    db: &Db,
    key: &lms_bulk_upload::PlanKey,
) -> Result<Vec<lms_bulk_upload::UserId>, Error> {
    let mut users = Vec::new();
    for (id, json) in undone_results(db)? {
        let results = stored_results(id, &json, key)?;
        users.extend(
            results
                .rows
                .into_iter()
                .filter(|r| r.status == lms_bulk_upload::Status::Created)
                .filter_map(|r| r.user_id),
        );
    }
    Ok(users)
}
