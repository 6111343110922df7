//! The thread that publishes an outbox's committed batches (see `mail::pending`): after a
//! batch's transaction commits, its messages are renamed from the pending folder into the
//! outbox here, while the engine goes on with the next rows, instead of on the engine's
//! thread inside the commit. A batch is published only after its commit (the commit hands
//! it over), and its record is removed only after every file of it is moved (the mailer
//! removes it on the engine's thread once this thread has said so): a process stopped in
//! between leaves the batch recorded, and the next opening of the outbox finishes it.

use super::pending;
use lms_bulk_upload::HostError;
use std::path::Path;
use std::rc::{Rc, Weak};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

/// Hands a committed batch to the publishing thread (see `Db::stage_outbox`). Holds the
/// thread's queue weakly: the thread ends when its mailer finishes, whatever the database
/// still holds.
pub(crate) struct Publisher(Weak<Sender<String>>);

impl Publisher {
    /// Queues the publication of committed batch `batch`; `false` if the thread is gone (the
    /// caller publishes the batch itself).
    pub(crate) fn queue(&self, batch: &str) -> bool {
        self.0
            .upgrade()
            .is_some_and(|jobs| jobs.send(batch.to_owned()).is_ok())
    }
}

/// What the publishing thread has done since it was last asked.
#[derive(Default)]
pub(super) struct Done {
    /// The batches moved into the outbox, whose records may go.
    pub published: Vec<String>,
    /// Why a batch could not be moved (it stays recorded, and the next opening of the outbox
    /// moves it).
    pub error: Option<HostError>,
}

/// The publishing thread of a mailer, started with its first batch recorded.
pub(super) struct PublishThread {
    jobs: Option<Rc<Sender<String>>>,
    done: Receiver<Result<String, HostError>>,
    thread: Option<JoinHandle<()>>,
}

impl PublishThread {
    /// Starts the thread publishing into the outbox `dir`; `None` if it cannot be started
    /// (the commit then publishes on its own thread, as without one).
    pub(super) fn start(dir: &Path) -> Option<PublishThread> {
        let (jobs, queue) = mpsc::channel::<String>();
        let (report, done) = mpsc::channel();
        let dir = dir.to_owned();
        let thread = std::thread::Builder::new()
            .name("outbox-publish".into())
            .spawn(move || publish_batches(&dir, &queue, &report))
            .ok()?;
        Some(PublishThread {
            jobs: Some(Rc::new(jobs)),
            done,
            thread: Some(thread),
        })
    }

    /// The handle a batch's record carries until its commit.
    pub(super) fn publisher(&self) -> Publisher {
        Publisher(self.jobs.as_ref().map_or_else(Weak::new, Rc::downgrade))
    }

    /// What the thread has done so far, without waiting.
    pub(super) fn done(&self) -> Done {
        let mut done = Done::default();
        for result in self.done.try_iter() {
            match result {
                Ok(batch) => done.published.push(batch),
                Err(e) => {
                    done.error.get_or_insert(e);
                }
            }
        }
        done
    }

    /// Waits until every batch handed over is done, and ends the thread.
    pub(super) fn finish(&mut self) -> Done {
        self.end();
        self.done()
    }

    /// Closes the queue (the thread ends once it has done every batch in it) and waits for
    /// the thread.
    fn end(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PublishThread {
    fn drop(&mut self) {
        self.end();
    }
}

fn publish_batches(
    dir: &Path,
    queue: &Receiver<String>,
    report: &Sender<Result<String, HostError>>,
) {
    for batch in queue {
        let result = pending::publish(dir, &batch).map(|()| batch).map_err(|e| {
            HostError::permanent(format!(
                "outbox {}: a batch is committed but its emails could not be moved into the \
                 folder ({e}); they are when the outbox is next opened",
                dir.display()
            ))
        });
        if report.send(result).is_err() {
            return;
        }
    }
}
