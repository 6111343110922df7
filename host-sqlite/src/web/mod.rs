//! The web API's hooks on SQLite (`bulk-upload serve`): administrators, sessions, upload
//! sessions with their bytes, plans signed with the database's key and stored (the only
//! plans ever run: an approval names a plan id, nothing else), and runs executed by a
//! background thread with the journal.

mod runner;

pub use runner::{MailSettings, Runner};

use crate::db::{admins, runs, Db, SqliteStore};
use crate::run::ExecSettings;
use crate::Error;
use lms_bulk_upload::{
    plan_undo, ContentKind, ContentRef, Group, ParseOptions, Password, Plan, ResultSummary,
    Results, StoreRead, UndoOptions,
};
use lms_bulk_upload_web::{
    Catalog, HookError, Host, NewPlan, Reading, RunInfo, RunState, SessionRecord, StoredPlan,
    StoredUpload,
};
use rusqlite::{params, OptionalExtension};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// How the server's host is set up.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The database.
    pub db: PathBuf,
    /// The site's public URL, without a trailing slash.
    pub site_url: String,
    /// Parse options: limits, the host's fields and login methods.
    pub parse_options: ParseOptions,
    /// Where the runs' emails go.
    pub mail: MailSettings,
    /// How rows are executed.
    pub exec: ExecSettings,
}

/// The hooks on SQLite.
pub struct SqliteWebHost {
    config: WebConfig,
    runner: Runner,
    /// Plans read back (verified) lately: a preview's pages do not verify the plan again.
    plans: Mutex<VecDeque<(i64, Arc<Plan>)>>,
}

fn failed(e: impl std::fmt::Display) -> HookError {
    HookError::Failed(e.to_string())
}

impl From<Error> for HookError {
    fn from(e: Error) -> Self {
        HookError::Failed(e.message)
    }
}

fn id_of(prefix: &str, id: &str) -> Option<i64> {
    id.strip_prefix(prefix)?
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
}

fn run_name(id: i64) -> String {
    format!("run_{id}")
}

impl SqliteWebHost {
    /// Opens the database (creating and migrating it as the CLI does) and starts the runs'
    /// thread, which resumes the runs a stop of the server left unfinished.
    pub fn open(config: WebConfig) -> Result<SqliteWebHost, Error> {
        let db = Db::open(&config.db)?;
        db.plan_key()?;
        drop(db);
        let runner = Runner::start(config.db.clone(), config.mail.clone(), config.exec.clone())?;
        Ok(SqliteWebHost {
            config,
            runner,
            plans: Mutex::new(VecDeque::new()),
        })
    }

    fn db(&self) -> Result<Rc<Db>, HookError> {
        Db::open(&self.config.db).map_err(HookError::from)
    }

    /// A plan read back lately (or just stored), if any.
    fn cached_plan(&self, id: i64) -> Option<Arc<Plan>> {
        let cache = self
            .plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.iter().find(|(i, _)| *i == id).map(|(_, p)| p.clone())
    }

    fn keep_plan(&self, id: i64, plan: Arc<Plan>) {
        let mut cache = self
            .plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|(i, _)| *i != id);
        cache.push_back((id, plan));
        while cache.len() > 4 {
            cache.pop_front();
        }
    }

    /// The stored plan `id`, verified: from the cache, or its signed JSON read and checked.
    fn verified_plan(&self, db: &Db, id: i64) -> Result<Arc<Plan>, HookError> {
        if let Some(plan) = self.cached_plan(id) {
            return Ok(plan);
        }
        let json: String = db
            .conn()
            .query_row(
                "SELECT plan_json FROM web_plans WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(failed)?;
        let plan = Arc::new(Plan::from_signed_json(&json, &db.plan_key()?)?);
        self.keep_plan(id, plan.clone());
        Ok(plan)
    }

    fn run_info(&self, db: &Db, id: i64) -> Result<Option<RunInfo>, HookError> {
        // The runner's state first, the row second (see `info`).
        let live = self.runner.progress(id);
        let row = db
            .conn()
            .query_row(
                &format!("{RUN_SELECT} WHERE r.id = ?1"),
                params![id],
                run_row,
            )
            .optional()
            .map_err(failed)?;
        Ok(row.map(|r| Self::info(r, live)))
    }

    /// The run of row `r`, `live` (its progress) when the runner held it. `live` must be
    /// taken before the row is read: a failing run's error is written before the runner
    /// lets it go, so a row read after that sees the error of any run no longer live. Read
    /// the other way round, a run that failed in between showed as interrupted without its
    /// reason.
    fn info(r: RunRow, live: Option<(u64, u64)>) -> RunInfo {
        let state = match (r.web_state.as_deref(), r.status.as_str()) {
            (Some("queued"), _) if live.is_some() => RunState::Queued,
            (Some("running"), "running") if live.is_some() => RunState::Running,
            (Some("cancelled"), _) => RunState::Cancelled,
            (_, "finished") => RunState::Finished,
            _ => RunState::Interrupted,
        };
        let counts: Option<ResultSummary> = r
            .counts
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok());
        let (done, total) = match live {
            Some(progress) => progress,
            None => (
                counts.as_ref().map_or(r.done, |c| c.rows.max(r.done)),
                r.total.max(counts.as_ref().map_or(0, |c| c.rows)),
            ),
        };
        RunInfo {
            id: run_name(r.id),
            undo_of: r.undo_of.map(run_name),
            plan_id: r.plan_id.map(|p| format!("pl_{p}")),
            uploader: r.admin,
            started_at: r.started_at,
            finished_at: r.finished_at,
            state,
            done,
            total,
            counts,
            undone_by: r.undone_by.map(run_name),
            error: r.error,
        }
    }
}

const RUN_SELECT: &str = "SELECT r.id, r.status, r.started_at, r.finished_at, r.undo_of_run, \
     r.undone_by, json_extract(r.results_json, '$.summary'), w.plan_id, w.admin, w.state, \
     coalesce(w.done, 0), coalesce(w.total, 0), w.error \
     FROM upload_runs r LEFT JOIN web_runs w ON w.run_id = r.id";

struct RunRow {
    id: i64,
    status: String,
    started_at: String,
    finished_at: Option<String>,
    undo_of: Option<i64>,
    undone_by: Option<i64>,
    counts: Option<String>,
    plan_id: Option<i64>,
    admin: Option<String>,
    web_state: Option<String>,
    done: u64,
    total: u64,
    error: Option<String>,
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        status: r.get(1)?,
        started_at: r.get(2)?,
        finished_at: r.get(3)?,
        undo_of: r.get(4)?,
        undone_by: r.get(5)?,
        counts: r.get(6)?,
        plan_id: r.get(7)?,
        admin: r.get(8)?,
        web_state: r.get(9)?,
        done: r.get(10)?,
        total: r.get(11)?,
        error: r.get(12)?,
    })
}

impl Host for SqliteWebHost {
    fn admin_password_hash(&self, email: &str) -> Result<Option<(String, String)>, HookError> {
        Ok(admins::find(&*self.db()?, email)?)
    }

    fn put_session(&self, s: &SessionRecord) -> Result<(), HookError> {
        let db = self.db()?;
        db.conn()
            .execute(
                "DELETE FROM web_sessions WHERE expires_at <= strftime('%s', 'now')",
                [],
            )
            .map_err(failed)?;
        db.conn()
            .execute(
                "INSERT INTO web_sessions (digest, admin, csrf_token, expires_at) \
                 VALUES (?1, (SELECT email_key FROM admins WHERE email = ?2), ?3, ?4)",
                params![&s.digest[..], s.email, s.csrf_token, s.expires_at as i64],
            )
            .map_err(failed)?;
        Ok(())
    }

    fn session(&self, digest: &[u8; 32]) -> Result<Option<SessionRecord>, HookError> {
        let db = self.db()?;
        db.conn()
            .query_row(
                "SELECT a.email, s.csrf_token, s.expires_at FROM web_sessions s \
                 JOIN admins a ON a.email_key = s.admin WHERE s.digest = ?1",
                params![&digest[..]],
                |r| {
                    Ok(SessionRecord {
                        digest: *digest,
                        email: r.get(0)?,
                        csrf_token: r.get(1)?,
                        expires_at: r.get::<_, i64>(2)?.max(0) as u64,
                    })
                },
            )
            .optional()
            .map_err(failed)
    }

    fn delete_session(&self, digest: &[u8; 32]) -> Result<(), HookError> {
        self.db()?
            .conn()
            .execute(
                "DELETE FROM web_sessions WHERE digest = ?1",
                params![&digest[..]],
            )
            .map_err(failed)?;
        Ok(())
    }

    fn create_upload(
        &self,
        owner: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<String, HookError> {
        let db = self.db()?;
        // The row with a zeroblob of the file's size, then the bytes written into it in
        // place: SQLite never holds a second copy of the file. One transaction.
        let tx = db.conn().unchecked_transaction().map_err(failed)?;
        tx.execute(
            "INSERT INTO web_uploads (admin, filename, bytes) VALUES (?1, ?2, x'')",
            params![owner, filename],
        )
        .map_err(failed)?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO web_upload_files (upload_id, bytes) VALUES (?1, zeroblob(?2))",
            params![id, bytes.len() as i64],
        )
        .map_err(failed)?;
        let mut blob = tx
            .blob_open(rusqlite::MAIN_DB, "web_upload_files", "bytes", id, false)
            .map_err(failed)?;
        blob.write_at(bytes, 0).map_err(failed)?;
        drop(blob);
        tx.commit().map_err(failed)?;
        Ok(format!("up_{id}"))
    }

    fn upload(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        let Some(n) = id_of("up_", id) else {
            return Ok(None);
        };
        let db = self.db()?;
        let tx = db.conn().unchecked_transaction().map_err(failed)?;
        let Some(mut upload) = upload_record(&tx, id, n)? else {
            return Ok(None);
        };
        // Read in place into one buffer of the blob's size (not materialised by SQLite,
        // then copied).
        let mut blob = tx
            .blob_open(rusqlite::MAIN_DB, "web_upload_files", "bytes", n, true)
            .map_err(failed)?;
        let mut bytes = Vec::with_capacity(blob.len());
        std::io::Read::read_to_end(&mut blob, &mut bytes).map_err(failed)?;
        drop(blob);
        tx.commit().map_err(failed)?;
        upload.size = bytes.len() as u64;
        upload.bytes = bytes;
        Ok(Some(upload))
    }

    fn upload_info(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        let Some(n) = id_of("up_", id) else {
            return Ok(None);
        };
        upload_record(self.db()?.conn(), id, n)
    }

    fn update_upload(
        &self,
        id: &str,
        expected: u64,
        bytes: Option<&[u8]>,
        assignments: &BTreeMap<usize, Option<String>>,
        reading: &Reading,
    ) -> Result<bool, HookError> {
        let Some(n) = id_of("up_", id) else {
            return Ok(false);
        };
        let json = serde_json::to_string(assignments).map_err(failed)?;
        let db = self.db()?;
        let tx = db.conn().unchecked_transaction().map_err(failed)?;
        let changed = tx
            .execute(
                "UPDATE web_uploads SET assignments = ?3, sheet = ?4, encoding = ?5, \
                 version = version + 1 WHERE id = ?1 AND version = ?2",
                params![n, expected as i64, json, reading.sheet, reading.encoding],
            )
            .map_err(failed)?;
        if let (1, Some(bytes)) = (changed, bytes) {
            tx.execute(
                "UPDATE web_upload_files SET bytes = ?2 WHERE upload_id = ?1",
                params![n, bytes],
            )
            .map_err(failed)?;
        }
        tx.commit().map_err(failed)?;
        Ok(changed == 1)
    }

    fn reserve_run_id(&self) -> Result<String, HookError> {
        let db = self.db()?;
        // AUTOINCREMENT never gives an id at or under the sequence: bumping it reserves one
        // id that no run, of the CLI or the server, will take.
        let tx = db.conn().unchecked_transaction().map_err(failed)?;
        tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'upload_runs', \
             coalesce((SELECT max(id) FROM upload_runs), 0) \
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'upload_runs')",
            [],
        )
        .map_err(failed)?;
        tx.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(id) FROM upload_runs), 0)) + 1 \
             WHERE name = 'upload_runs'",
            [],
        )
        .map_err(failed)?;
        let id: i64 = tx
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'upload_runs'",
                [],
                |r| r.get(0),
            )
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(run_name(id))
    }

    fn create_plan(&self, p: NewPlan<'_>) -> Result<String, HookError> {
        let db = self.db()?;
        let run_id = id_of("run_", p.run_id).ok_or_else(|| failed("a reserved run id"))?;
        let upload = match p.upload {
            Some((id, version)) => Some((
                id_of("up_", id).ok_or_else(|| failed("an upload id"))?,
                version as i64,
            )),
            None => None,
        };
        let undo_of = match p.undo_of_run {
            Some(id) => Some(id_of("run_", id).ok_or_else(|| failed("a run id"))?),
            None => None,
        };
        let signed = p.plan.to_signed_json(&db.plan_key()?);
        let excluded: Vec<u32> = p.excluded_lines.iter().copied().collect();
        db.conn()
            .execute(
                "INSERT INTO web_plans (admin, upload_id, upload_version, undo_of_run, run_id, \
                 settings_json, excluded_lines, plan_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    p.owner,
                    upload.map(|u| u.0),
                    upload.map(|u| u.1),
                    undo_of,
                    run_id,
                    p.settings.to_string(),
                    serde_json::to_string(&excluded).map_err(failed)?,
                    signed
                ],
            )
            .map_err(failed)?;
        let id = db.conn().last_insert_rowid();
        // The plan this host signed and stored a moment ago: read back from memory, not
        // parsed and verified again (what runs is still read from the database, verified).
        self.keep_plan(id, p.plan.clone());
        Ok(format!("pl_{id}"))
    }

    fn plan(&self, id: &str) -> Result<Option<StoredPlan>, HookError> {
        let Some(n) = id_of("pl_", id) else {
            return Ok(None);
        };
        let db = self.db()?;
        let row = db
            .conn()
            .query_row(
                "SELECT admin, upload_id, upload_version, undo_of_run, run_id, settings_json, \
                 excluded_lines, approved, created_at FROM web_plans WHERE id = ?1",
                params![n],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, bool>(7)?,
                        r.get::<_, String>(8)?,
                    ))
                },
            )
            .optional()
            .map_err(failed)?;
        let Some((
            owner,
            upload,
            version,
            undo_of,
            run_id,
            settings,
            excluded,
            approved,
            created_at,
        )) = row
        else {
            return Ok(None);
        };
        let plan = self.verified_plan(&db, n)?;
        Ok(Some(StoredPlan {
            id: id.to_owned(),
            owner,
            plan,
            upload: upload.map(|u| (format!("up_{u}"), version.unwrap_or(0).max(0) as u64)),
            undo_of_run: undo_of.map(run_name),
            run_id: run_name(run_id),
            approved,
            settings: serde_json::from_str(&settings).map_err(failed)?,
            excluded_lines: serde_json::from_str(&excluded).map_err(failed)?,
            created_at,
        }))
    }

    fn approve(
        &self,
        plan_id: &str,
        by: &str,
        default_password: Option<Password>,
    ) -> Result<RunInfo, HookError> {
        let n = id_of("pl_", plan_id).ok_or_else(|| failed("a plan id"))?;
        let db = self.db()?;
        let (run_id, json, upload, undo_of): (i64, String, Option<i64>, Option<i64>) = db
            .conn()
            .query_row(
                "SELECT run_id, plan_json, upload_id, undo_of_run FROM web_plans WHERE id = ?1",
                params![n],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(failed)?;
        // The plan stored and signed when it was made: the very JSON recorded as the run's
        // plan is verified (never the copy in memory). Nothing from the request reaches it.
        let plan = Plan::from_signed_json(&json, &db.plan_key()?)?;
        let source = match (upload, undo_of) {
            (_, Some(run)) => format!("undo of run #{run} (web)"),
            (Some(upload), _) => db
                .conn()
                .query_row(
                    "SELECT filename FROM web_uploads WHERE id = ?1",
                    params![upload],
                    |r| r.get::<_, String>(0),
                )
                .map(|f| format!("{f} (web upload #{upload})"))
                .unwrap_or_else(|_| format!("web upload #{upload}")),
            _ => "web".into(),
        };
        let total = plan.rows().len() as i64;
        let tx = db.conn().unchecked_transaction().map_err(failed)?;
        let marked = tx
            .execute(
                "UPDATE web_plans SET approved = 1 WHERE id = ?1 AND approved = 0",
                params![n],
            )
            .map_err(failed)?;
        if marked == 0 {
            return Err(HookError::Refused {
                code: "plan_already_approved",
                message: format!("this plan was approved already (run {})", run_name(run_id)),
            });
        }
        if let Some(undone) = undo_of {
            let unfinished: i64 = tx
                .query_row(
                    "SELECT count(*) FROM upload_runs WHERE undo_of_run = ?1 AND status = 'running'",
                    params![undone],
                    |r| r.get(0),
                )
                .map_err(failed)?;
            if unfinished > 0 {
                return Err(HookError::Refused {
                    code: "undo_unfinished",
                    message: format!("an undo of run #{undone} is unfinished: let it finish first"),
                });
            }
        }
        let inserted = tx.execute(
            "INSERT INTO upload_runs (id, run_key, fingerprint, source, status, plan_json, undo_of_run) \
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
            params![
                run_id,
                format!("web:plan:{n}"),
                plan.fingerprint(),
                source,
                json,
                undo_of
            ],
        );
        if let Err(e) = inserted {
            return Err(HookError::Failed(format!(
                "run #{run_id} could not be recorded ({e}): make the plan again"
            )));
        }
        tx.execute(
            "INSERT INTO web_runs (run_id, plan_id, admin, state, total) VALUES (?1, ?2, ?3, 'queued', ?4)",
            params![run_id, n, by, total],
        )
        .map_err(failed)?;
        tx.commit().map_err(failed)?;
        self.runner.enqueue(run_id, total as u64, default_password);
        self.run_info(&db, run_id)?
            .ok_or_else(|| failed("the run just recorded cannot be read back"))
    }

    fn runs(&self, offset: u64, limit: u64) -> Result<(u64, Vec<RunInfo>), HookError> {
        let db = self.db()?;
        // The runner's state first, the rows second (see `info`).
        let live = self.runner.live_progress();
        let total: i64 = db
            .conn()
            .query_row("SELECT count(*) FROM upload_runs", [], |r| r.get(0))
            .map_err(failed)?;
        let mut stmt = db
            .conn()
            .prepare(&format!(
                "{RUN_SELECT} ORDER BY r.id DESC LIMIT ?1 OFFSET ?2"
            ))
            .map_err(failed)?;
        let rows = stmt
            .query_map(params![limit as i64, offset as i64], run_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(failed)?;
        Ok((
            total.max(0) as u64,
            rows.into_iter()
                .map(|r| {
                    let progress = live.get(&r.id).copied();
                    Self::info(r, progress)
                })
                .collect(),
        ))
    }

    fn run(&self, id: &str) -> Result<Option<RunInfo>, HookError> {
        let Some(n) = id_of("run_", id) else {
            return Ok(None);
        };
        self.run_info(&*self.db()?, n)
    }

    fn cancel(&self, id: &str) -> Result<RunInfo, HookError> {
        let n = id_of("run_", id).ok_or_else(|| failed("a run id"))?;
        if !self.runner.cancel(n) {
            return Err(HookError::Refused {
                code: "run_not_running",
                message: "this run is not running".into(),
            });
        }
        self.run_info(&*self.db()?, n)?
            .ok_or_else(|| failed("the run cannot be read back"))
    }

    fn results(&self, id: &str) -> Result<Option<Results>, HookError> {
        let Some(n) = id_of("run_", id) else {
            return Ok(None);
        };
        let db = self.db()?;
        let Some(run) = runs::get(&db, Some(n))
            .map_err(failed)?
            .filter(|r| r.id == n)
        else {
            return Ok(None);
        };
        match &run.results_json {
            Some(json) => Ok(Some(runs::stored_results(n, json, &db.plan_key()?)?)),
            None => Ok(None),
        }
    }

    fn plan_undo(
        &self,
        run_id: &str,
        delete_created_users: bool,
        uploader: &str,
        results_url: &str,
    ) -> Result<Plan, HookError> {
        let n = id_of("run_", run_id).ok_or_else(|| failed("a run id"))?;
        let db = self.db()?;
        let Some(run) = runs::get(&db, Some(n))
            .map_err(failed)?
            .filter(|r| r.id == n)
        else {
            return Err(HookError::Refused {
                code: "not_found",
                message: "no such run".into(),
            });
        };
        if run.undone_by.is_some() {
            return Err(HookError::Refused {
                code: "already_undone",
                message: format!("run #{n} was undone already"),
            });
        }
        // As `bulk-upload undo`: an unfinished undo (of this run or another) is finished
        // first, so nothing is planned beside its half-written rows.
        if let Some((id, of)) = runs::unfinished_undo(&db).map_err(failed)? {
            return Err(HookError::Refused {
                code: "undo_unfinished",
                message: format!(
                    "run #{id} (the undo of run #{of}) is unfinished: let it finish first"
                ),
            });
        }
        if run.results_json.is_none() {
            return Err(HookError::Refused {
                code: "run_unfinished",
                message: format!("run #{n} has not finished: it cannot be undone yet"),
            });
        }
        // As `bulk-upload undo` does: the stored results, read back by the one reader, and
        // the engine's plan_undo against the store as it is now.
        let key = db.plan_key()?;
        let results = runs::undoable_results(&run, &key)?;
        let options = UndoOptions::new()
            .delete_created_users(delete_created_users)
            .results_url(results_url)
            .uploader_email(uploader)
            .declarations(&self.config.parse_options)
            .undone_creations(runs::undone_creations(&db, &key)?);
        let mut store = SqliteStore::new(db.clone());
        Ok(plan_undo(&results, &mut store, &options)?)
    }

    fn with_store(&self, f: &mut dyn FnMut(&mut dyn StoreRead)) -> Result<(), HookError> {
        let mut store = SqliteStore::new(self.db()?);
        f(&mut store);
        Ok(())
    }

    fn with_store_mut(
        &self,
        f: &mut dyn FnMut(&mut dyn lms_bulk_upload::Store),
    ) -> Result<bool, HookError> {
        let mut store = SqliteStore::new(self.db()?);
        f(&mut store);
        Ok(true)
    }

    fn hash_params(&self) -> lms_bulk_upload::HashParams {
        self.config.exec.hash_params
    }

    fn catalog(&self) -> Result<Catalog, HookError> {
        let db = self.db()?;
        let mut stmt = db
            .conn()
            .prepare("SELECT id, name FROM groups ORDER BY name")
            .map_err(failed)?;
        let groups = stmt
            .query_map([], |r| {
                Ok(Group {
                    id: r.get::<_, i64>(0)?.to_string(),
                    name: r.get(1)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(failed)?;
        let mut stmt = db
            .conn()
            .prepare("SELECT kind, id, title FROM content_items ORDER BY kind, title, id")
            .map_err(failed)?;
        let content = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(failed)?
            .into_iter()
            .filter_map(|(kind, id, title)| {
                let kind = match kind.as_str() {
                    "course" => ContentKind::Course,
                    "collection" => ContentKind::Collection,
                    "campaign" => ContentKind::Campaign,
                    _ => return None,
                };
                let name = if title.is_empty() { id.clone() } else { title };
                Some((ContentRef::new(kind, id), name))
            })
            .collect();
        Ok(Catalog { groups, content })
    }

    fn parse_options(&self) -> ParseOptions {
        self.config.parse_options.clone()
    }

    fn site_url(&self) -> String {
        self.config.site_url.trim_end_matches('/').to_owned()
    }
}

/// An upload's record without its bytes (`size` is the blob's length).
fn upload_record(
    conn: &rusqlite::Connection,
    id: &str,
    n: i64,
) -> Result<Option<StoredUpload>, HookError> {
    let row = conn
        .query_row(
            "SELECT u.admin, u.filename, \
             coalesce((SELECT length(f.bytes) FROM web_upload_files f WHERE f.upload_id = u.id), 0), \
             u.assignments, u.version, u.sheet, u.encoding FROM web_uploads u WHERE u.id = ?1",
            params![n],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    Reading {
                        sheet: r.get(5)?,
                        encoding: r.get(6)?,
                    },
                ))
            },
        )
        .optional()
        .map_err(failed)?;
    let Some((owner, filename, size, assignments, version, reading)) = row else {
        return Ok(None);
    };
    let assignments: BTreeMap<usize, Option<String>> =
        serde_json::from_str(&assignments).map_err(failed)?;
    Ok(Some(StoredUpload {
        id: id.to_owned(),
        owner,
        filename,
        bytes: Vec::new(),
        size: size.max(0) as u64,
        assignments,
        reading,
        version: version.max(0) as u64,
    }))
}
