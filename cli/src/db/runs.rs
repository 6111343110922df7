//! The `upload_runs` table: each `apply`, its plan (for an exact resume) and its results.

use super::Db;
use rusqlite::{params, OptionalExtension};

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

/// An interrupted run with this key or fingerprint: `(id, plan_json)`.
pub fn find_unfinished(
    db: &Db,
    run_key: Option<&str>,
    fingerprint: Option<&str>,
) -> rusqlite::Result<Option<(i64, String)>> {
    db.conn()
        .query_row(
            "SELECT id, plan_json FROM upload_runs WHERE status = 'running' \
             AND (run_key = ?1 OR fingerprint = ?2) ORDER BY id DESC LIMIT 1",
            params![run_key, fingerprint],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
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

/// Records a new run (committed before anything is written).
pub fn start(
    db: &Db,
    run_key: &str,
    fingerprint: &str,
    source: &str,
    plan_json: &str,
    results_path: &str,
) -> rusqlite::Result<i64> {
    db.conn().execute(
        "INSERT INTO upload_runs (run_key, fingerprint, source, status, plan_json, results_path) \
         VALUES (?1, ?2, ?3, 'running', ?4, ?5)",
        params![run_key, fingerprint, source, plan_json, results_path],
    )?;
    Ok(db.conn().last_insert_rowid())
}

/// Marks a run finished with its results.
pub fn finish(db: &Db, id: i64, results_json: &str) -> rusqlite::Result<()> {
    db.conn().execute(
        "UPDATE upload_runs SET status = 'finished', results_json = ?1, \
         finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?2",
        params![results_json, id],
    )?;
    Ok(())
}

pub fn list(db: &Db) -> rusqlite::Result<Vec<RunInfo>> {
    let mut stmt = db.conn().prepare(
        "SELECT id, source, fingerprint, status, started_at, finished_at, results_path \
         FROM upload_runs ORDER BY id",
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
