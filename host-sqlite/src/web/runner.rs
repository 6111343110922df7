//! The server's runs: one background thread executes approved plans one at a time per
//! database (under the same apply lock as the CLI), from the plan the server signed and
//! stored, with the run's journal. A run interrupted by a restart is resumed when the
//! server starts again; cancel stops between rows.

use crate::db::{runs, Db};
use crate::mail::{OutboxFormat, OutboxMailer, RunMailer, SmtpMailer};
use crate::run::{execute_run, ExecSettings};
use crate::{lock, Error, ErrorKind};
use lettre::message::Mailbox;
use lms_bulk_upload::{Password, Plan, Progress};
use rusqlite::params;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Where the runs' emails go: SMTP, or an outbox folder.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://` or `smtps://` URL; `None`: the outbox.
    pub smtp: Option<String>,
    /// The outbox folder.
    pub outbox: PathBuf,
    /// The sender.
    pub from: Mailbox,
}

impl MailSettings {
    /// Opens the transport (SMTP is checked by connecting) for a run on `db`: the outbox
    /// publishes in two phases, and opening it finishes what a stopped run left pending
    /// (call it under the apply lock). Call [`RunMailer::finish`] once the rows are done.
    pub fn open(&self, db: &Rc<Db>) -> Result<Box<dyn RunMailer>, Error> {
        match &self.smtp {
            Some(url) => {
                let smtp = SmtpMailer::new(url, self.from.clone()).map_err(Error::usage)?;
                smtp.check().map_err(Error::host)?;
                Ok(Box::new(smtp))
            }
            None => Ok(Box::new(OutboxMailer::open_for_run(
                &self.outbox,
                self.from.clone(),
                OutboxFormat::Eml,
                db,
            )?)),
        }
    }
}

#[derive(Debug)]
struct Live {
    done: u64,
    total: u64,
    cancel: Arc<AtomicBool>,
}

struct Shared {
    db: PathBuf,
    mail: MailSettings,
    exec: ExecSettings,
    queue: Mutex<VecDeque<i64>>,
    wake: Condvar,
    live: Mutex<HashMap<i64, Live>>,
    passwords: Mutex<HashMap<i64, Password>>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The runs' executor.
#[derive(Clone)]
pub struct Runner {
    shared: Arc<Shared>,
}

impl Runner {
    /// Starts the executor thread and queues every run of the screens left unfinished
    /// (approved, or interrupted by a stop of the server): they resume from their journal.
    pub fn start(db: PathBuf, mail: MailSettings, exec: ExecSettings) -> Result<Runner, Error> {
        let shared = Arc::new(Shared {
            db,
            mail,
            exec,
            queue: Mutex::new(VecDeque::new()),
            wake: Condvar::new(),
            live: Mutex::new(HashMap::new()),
            passwords: Mutex::new(HashMap::new()),
        });
        let runner = Runner { shared };
        let unfinished: Vec<(i64, u64)> = {
            let db = Db::open(&runner.shared.db)?;
            let mut stmt = db.conn().prepare(
                "SELECT w.run_id, w.total FROM web_runs w JOIN upload_runs r ON r.id = w.run_id \
                 WHERE r.status = 'running' ORDER BY w.run_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (id, total) in unfinished {
            runner.enqueue(id, total, None);
        }
        let worker = runner.shared.clone();
        std::thread::Builder::new()
            .name("bulk-upload-runs".into())
            .spawn(move || work(&worker))
            .map_err(|e| Error::host(format!("cannot start the runs' thread: {e}")))?;
        Ok(runner)
    }

    /// Queues a run (recorded in `upload_runs` and `web_runs`).
    pub fn enqueue(&self, id: i64, total: u64, default_password: Option<Password>) {
        if let Some(password) = default_password {
            guard(&self.shared.passwords).insert(id, password);
        }
        guard(&self.shared.live).insert(
            id,
            Live {
                done: 0,
                total,
                cancel: Arc::new(AtomicBool::new(false)),
            },
        );
        guard(&self.shared.queue).push_back(id);
        self.shared.wake.notify_all();
    }

    /// Asks a queued or running run to stop between rows; `false` when it is not live here.
    pub fn cancel(&self, id: i64) -> bool {
        match guard(&self.shared.live).get(&id) {
            Some(live) => {
                live.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// The progress of a live run: rows done, rows in all.
    pub fn progress(&self, id: i64) -> Option<(u64, u64)> {
        guard(&self.shared.live).get(&id).map(|l| (l.done, l.total))
    }

    /// [`Runner::progress`] of every live run, taken at once.
    pub fn live_progress(&self) -> HashMap<i64, (u64, u64)> {
        guard(&self.shared.live)
            .iter()
            .map(|(&id, l)| (id, (l.done, l.total)))
            .collect()
    }
}

fn work(shared: &Arc<Shared>) {
    loop {
        let id = {
            let mut queue = guard(&shared.queue);
            loop {
                if let Some(id) = queue.pop_front() {
                    break id;
                }
                queue = shared
                    .wake
                    .wait(queue)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(shared, id)));
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.message),
            Err(_) => {
                Some("the run stopped unexpectedly (a bug): restart the server to resume it".into())
            }
        };
        if let Some(message) = failure {
            if let Ok(db) = Db::open(&shared.db) {
                let _ = db.conn().execute(
                    "UPDATE web_runs SET state = 'interrupted', error = ?2 WHERE run_id = ?1",
                    params![id, message],
                );
            }
        }
        guard(&shared.live).remove(&id);
        guard(&shared.passwords).remove(&id);
    }
}

/// Takes the database's apply lock, waiting while another run (a CLI `apply`) holds it.
fn take_lock(shared: &Shared) -> Result<lock::ApplyLock, Error> {
    loop {
        match lock::acquire(&shared.db) {
            Ok(held) => return Ok(held),
            Err(e) if e.kind == ErrorKind::Busy => std::thread::sleep(Duration::from_millis(500)),
            Err(e) => return Err(e),
        }
    }
}

fn run(shared: &Shared, id: i64) -> Result<(), Error> {
    let _lock = take_lock(shared)?;
    let db = Db::open(&shared.db)?;
    let Some(run) = runs::get(&db, Some(id))?.filter(|r| r.id == id) else {
        return Err(Error::host(format!("run #{id} is missing")));
    };
    if run.status != "running" {
        return Ok(());
    }
    let plan_json: String = db.conn().query_row(
        "SELECT plan_json FROM upload_runs WHERE id = ?1",
        params![id],
        |r| r.get(0),
    )?;
    // Only a plan this database signed is run.
    let plan = Plan::from_signed_json(&plan_json, &db.plan_key()?)?;
    db.conn().execute(
        "UPDATE web_runs SET state = 'running', error = NULL WHERE run_id = ?1",
        params![id],
    )?;
    let cancel = guard(&shared.live)
        .get(&id)
        .map(|l| l.cancel.clone())
        .unwrap_or_default();
    let mut mailer = shared.mail.open(&db)?;
    let password = guard(&shared.passwords).remove(&id);
    let live = &shared.live;
    let progress = move |p: Progress| {
        if let Some(l) = guard(live).get_mut(&id) {
            l.done = p.done;
            l.total = p.total;
        }
    };
    let results = execute_run(
        &db,
        &plan,
        id,
        mailer.as_mut(),
        &shared.exec,
        password,
        Some(Box::new(progress)),
        Some(cancel.clone()),
    )?;
    // The outbox's thread moves the last committed batches into the folder before the run
    // is recorded finished. A batch it could not move fails the run here, which stays
    // running (the server's next start resumes it, and opening the outbox then publishes
    // the batch) and is shown interrupted with the reason.
    mailer.finish().map_err(|e| {
        Error::host(format!(
            "{}; the rows done so far are committed, and restarting the server resumes the run",
            e.message()
        ))
    })?;
    drop(mailer);
    let failed = results.summary.failed > 0;
    runs::finish(&db, id, &results, failed)?;
    let state = if results.cancelled {
        "cancelled"
    } else {
        "finished"
    };
    db.conn().execute(
        "UPDATE web_runs SET state = ?2, done = ?3 WHERE run_id = ?1",
        params![id, state, results.rows.len() as i64],
    )?;
    Ok(())
}
