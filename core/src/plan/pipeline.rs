//! A plan's rows, planned while their users are looked up.
//!
//! The calling thread asks the store for the users of the upload's valid rows, in the same
//! calls, order and batches as ever (the store is only ever called from it), a job of a few
//! calls at a time, and hands each job to a planning thread as soon as its users are in:
//! the planning thread matches each row to the user its call returned and plans the row in
//! place. Looking up and planning overlap, and each job's users are matched in a table of
//! their own (a few thousand entries, in cache), not in one of every user found.
//!
//! A user counts for the addresses of the call that returned it (compared by email key; the
//! last one if the call returned several): one the store returns for an address it was not
//! asked for in that call is not believed, as with groups and content. A rejected row
//! carries the id of the user found for the valid row with its address, if any (a duplicate
//! row, say), as it always has.

use super::build::{row_threads, HashChains, RowContext, Scratch, Tally};
use super::cells::RowCells;
use super::{PlanRow, PlanRows};
use crate::host::store::{ExistingUser, HostError, StoreRead, UserId};
use crate::keyed_hash::KeyedState;
use crate::parse::email::{emails_equal, keyed_email_hash};
use crate::parse::upload::{Row, Upload};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

/// Valid rows per job, at least (a whole number of calls: one call if a batch is larger).
const JOB_ROWS: usize = 4_096;

/// [`JOB_ROWS`], or what a test sets.
fn job_rows() -> usize {
    #[cfg(test)]
    if let Some(rows) = tests::JOB_ROWS.with(std::cell::Cell::get) {
        return rows;
    }
    JOB_ROWS
}

/// Jobs looked up while the rows are prepared, at least: none, or what a test sets.
fn early_jobs() -> usize {
    #[cfg(test)]
    return tests::EARLY_JOBS.with(std::cell::Cell::get);
    #[cfg(not(test))]
    0
}

/// A run of consecutive rows and the users their calls found.
struct Job {
    /// The upload index of the first row.
    start: usize,
    /// The upload index after the last row.
    end: usize,
    /// The valid rows' calls: each call's number of addresses, in order.
    calls: Vec<usize>,
    /// The users each call found, as the store answered them (not moved into one list).
    found: Vec<Vec<ExistingUser>>,
}

/// The rejected rows with an address, by the keyed hash of their email key; a valid row's
/// user is noted for each rejected row with its address.
struct Rejected {
    chains: HashChains,
    /// The upload index of each.
    rows: Vec<usize>,
}

impl Rejected {
    fn of(upload: &Upload, state: &KeyedState) -> Rejected {
        let mut rejected = Rejected {
            chains: HashChains::default(),
            rows: Vec::new(),
        };
        for index in 0..upload.len() {
            let Some(row) = upload.row(index) else {
                continue;
            };
            if row.is_valid() || row.email().is_empty() {
                continue;
            }
            rejected.chains.push(keyed_email_hash(state, row.email()));
            rejected.rows.push(index);
        }
        rejected
    }

    /// The rejected rows with the address `email` (of hash `hash`).
    fn with<'u>(
        &'u self,
        upload: &'u Upload,
        hash: u64,
        email: &'u str,
    ) -> impl Iterator<Item = usize> + 'u {
        self.chains
            .positions(hash)
            .map(|at| self.rows[at])
            .filter(move |&row| {
                upload
                    .row(row)
                    .is_some_and(|r| emails_equal(r.email(), email))
            })
    }
}

/// What the planning threads share.
struct Shared<'a> {
    upload: &'a Upload,
    context: &'a RowContext<'a>,
    state: KeyedState,
    rejected: Rejected,
}

/// One plan row per row of the upload, in file order, the users looked up in the store in
/// calls of `batch` addresses (see the module's documentation). When `unknown_group` says so,
/// the store's every group name is asked for once its users are found (for "did you mean"),
/// and the rows are planned after that. With the rows, their [`Tally`], counted as they were
/// planned.
pub(super) fn plan_rows(
    upload: &Upload,
    context: &RowContext<'_>,
    store: &mut dyn StoreRead,
    batch: usize,
    unknown_group: bool,
) -> Result<(PlanRows, Tally), HostError> {
    let n = upload.len();
    let threads = row_threads(n);
    let state = KeyedState::new();
    let mut lookups = Lookups::new(upload, batch);
    let prepare = || Prepared {
        rejected: Rejected::of(upload, &state),
    };
    let (prepared, early) = if threads > 1 {
        prepare_while_looking_up(&prepare, &mut lookups, store)?
    } else {
        (prepare(), Vec::new())
    };
    let Prepared { rejected } = prepared;
    let shared = Shared {
        upload,
        context,
        state,
        rejected,
    };
    let Planned {
        noted,
        tally,
        mut parts,
    } = if unknown_group {
        let mut jobs: Vec<Job> = early.into_iter().map(Found::job).collect();
        while let Some(found) = lookups.next(store)? {
            jobs.push(found.job());
        }
        // set once, before any row is planned
        let _ = context.all_group_names.set(store.all_group_names()?);
        plan_jobs(&shared, threads, |planned| {
            jobs.into_iter().try_for_each(planned)
        })?
    } else {
        plan_jobs(&shared, threads, |planned| {
            for found in early {
                planned(found.job())?;
            }
            while let Some(found) = lookups.next(store)? {
                planned(found.job())?;
            }
            Ok(())
        })?
    };
    parts.sort_unstable_by_key(|part| part.start);
    for (row, user_id) in noted {
        // A noted row is a rejected one, kept by the part it is in.
        let part = parts.partition_point(|p| p.start <= row).checked_sub(1);
        let kept = part.and_then(|at| {
            let kept = &mut parts[at].kept;
            let place = kept.binary_search_by_key(&row, |(index, _)| *index).ok()?;
            Some(&mut kept[place].1)
        });
        debug_assert!(kept.is_some(), "a noted row is a kept one");
        if let Some(kept) = kept {
            kept.user_id = Some(user_id);
        }
    }
    // The jobs' encoded rows in file order, the rows each kept at their places.
    let mut encoded = PlanRows::with_capacity(n);
    for part in parts {
        let kept = part
            .kept
            .iter()
            .map(|(index, row)| (index - part.start, row));
        encoded.append_with(part.rows, kept);
    }
    encoded.shrink_to_fit();
    Ok((encoded, tally))
}

/// What planning the jobs gave: the rejected rows' users noted (upload index, user id), the
/// rows' tally, and each job's rows.
#[derive(Default)]
struct Planned {
    noted: Vec<(usize, UserId)>,
    tally: Tally,
    parts: Vec<Part>,
}

/// A job's rows, encoded as each was planned (and dropped, on the thread that planned it:
/// the rows are not all held as values, nor all freed on one thread), but for the rows
/// `kept` in their place: the rejected ones, to which a later job may still give the id of
/// a user found for a valid row.
struct Part {
    /// The upload index of the job's first row.
    start: usize,
    rows: PlanRows,
    /// The rows kept, by upload index, in order.
    kept: Vec<(usize, PlanRow)>,
}

/// What is made before the first row is planned, from the upload alone.
struct Prepared {
    rejected: Rejected,
}

/// Plans the jobs `feed` gives, on `threads` threads (the calling one alone for 1) while
/// `feed` goes on.
fn plan_jobs(
    shared: &Shared<'_>,
    threads: usize,
    feed: impl FnOnce(&mut dyn FnMut(Job) -> Result<(), HostError>) -> Result<(), HostError>,
) -> Result<Planned, HostError> {
    let mut planned = Planned::default();
    if threads == 1 {
        let mut scratch = Scratch::default();
        feed(&mut |job| {
            plan_job(shared, job, &mut scratch, &mut planned);
            Ok(())
        })?;
        return Ok(planned);
    }
    std::thread::scope(|scope| {
        // at most two jobs per thread wait: what is held of the users found stays small
        let (send, receive) = sync_channel::<Job>(2 * threads);
        // dropped with the last worker, even one that panicked: a send then fails rather
        // than wait for a thread that is gone
        let receive = Arc::new(Mutex::new(receive));
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let receive = Arc::clone(&receive);
                scope.spawn(move || plan_jobs_on_worker(shared, &receive))
            })
            .collect();
        drop(receive);
        let fed = feed(&mut |job| {
            send.send(job)
                .map_err(|_| HostError::permanent("a thread planning the rows stopped"))
        });
        drop(send);
        for worker in workers {
            match worker.join() {
                Ok(mut done) => {
                    planned.noted.append(&mut done.noted);
                    planned.tally.add(&done.tally);
                    planned.parts.append(&mut done.parts);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        fed.map(|()| planned)
    })
}

/// `prepare` on a thread of its own (named so that `scripts/bench-callgrind.sh` counts it
/// with the other threads' work).
#[inline(never)]
fn prepare_on_worker(prepare: &(dyn Fn() -> Prepared + Sync)) -> Prepared {
    prepare()
}

/// What the planning needs before its first row, made on a thread of its own while the
/// calling thread looks up the first jobs' users (the store's calls are the same either
/// way): the rejected rows' index, which held up the first lookup when made first; with the
/// jobs looked up meanwhile, for as long as that took.
fn prepare_while_looking_up(
    prepare: &(dyn Fn() -> Prepared + Sync),
    lookups: &mut Lookups<'_>,
    store: &mut dyn StoreRead,
) -> Result<(Prepared, Vec<Found>), HostError> {
    std::thread::scope(|scope| {
        let preparing = scope.spawn(move || prepare_on_worker(prepare));
        let mut early = Vec::new();
        let at_least = early_jobs();
        while early.len() < at_least || !preparing.is_finished() {
            match lookups.next(store)? {
                Some(found) => early.push(found),
                None => break,
            }
        }
        match preparing.join() {
            Ok(prepared) => Ok((prepared, early)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The store's calls for the users of every valid row, `batch` addresses a call, a job of
/// calls at a time, in file order.
struct Lookups<'u> {
    upload: &'u Upload,
    batch: usize,
    /// Valid rows per job: a whole number of calls.
    job_rows: usize,
    /// The upload index of the next job's first row.
    start: usize,
    emails: Vec<&'u str>,
}

/// A job's rows (upload indexes `start..end`) and the users their calls found.
struct Found {
    start: usize,
    end: usize,
    calls: Vec<usize>,
    found: Vec<Vec<ExistingUser>>,
}

impl Found {
    /// The job of these rows.
    fn job(self) -> Job {
        Job {
            start: self.start,
            end: self.end,
            calls: self.calls,
            found: self.found,
        }
    }
}

impl<'u> Lookups<'u> {
    fn new(upload: &'u Upload, batch: usize) -> Lookups<'u> {
        let batch = batch.max(1);
        let job_rows = job_rows().div_ceil(batch) * batch;
        Lookups {
            upload,
            batch,
            job_rows,
            start: 0,
            emails: Vec::with_capacity(job_rows.min(upload.len())),
        }
    }

    /// Calls the store for the next job's users; `None` once every row has had its job.
    fn next(&mut self, store: &mut dyn StoreRead) -> Result<Option<Found>, HostError> {
        let upload = self.upload;
        let start = self.start;
        if start >= upload.len() {
            return Ok(None);
        }
        self.emails.clear();
        let mut end = start;
        while end < upload.len() && self.emails.len() < self.job_rows {
            if let Some(row) = upload.row(end).filter(|r| r.is_valid()) {
                self.emails.push(row.email());
            }
            end += 1;
        }
        if self.emails.len() == self.job_rows {
            // the rejected rows up to the next valid one belong to this job
            while end < upload.len() && upload.row(end).is_some_and(|r| !r.is_valid()) {
                end += 1;
            }
        }
        let mut calls = Vec::with_capacity(self.emails.len().div_ceil(self.batch));
        let mut found = Vec::with_capacity(calls.capacity());
        for chunk in self.emails.chunks(self.batch) {
            calls.push(chunk.len());
            found.push(store.find_users(chunk)?);
        }
        self.start = end;
        Ok(Some(Found {
            start,
            end,
            calls,
            found,
        }))
    }
}

/// Plans jobs as they come until there are no more.
#[inline(never)]
fn plan_jobs_on_worker(shared: &Shared<'_>, jobs: &Mutex<Receiver<Job>>) -> Planned {
    let mut scratch = Scratch::default();
    let mut planned = Planned::default();
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => break,
        };
        match job {
            Ok(job) => plan_job(shared, job, &mut scratch, &mut planned),
            Err(_) => break,
        }
    }
    planned
}

/// Plans a job's rows in place, each valid row with the user its call found.
///
/// The rows are matched to their users first, then planned: a user that only one row is
/// matched to lends that row its strings (its id, and its email, names and group names
/// where they are the row's, byte for byte) instead of their copies; the job's users are
/// dropped with the job. Each row is counted in `tally` once planned.
fn plan_job(shared: &Shared<'_>, mut job: Job, scratch: &mut Scratch, planned: &mut Planned) {
    let Planned {
        noted,
        tally,
        parts,
    } = planned;
    let mut part = Part {
        start: job.start,
        rows: PlanRows::with_capacity(job.end - job.start),
        kept: Vec::new(),
    };
    let Shared {
        upload,
        context,
        state,
        rejected,
    } = shared;
    let matches =
        Matches::in_order(upload, &job).unwrap_or_else(|| Matches::by_hash(upload, state, &job));
    if !rejected.rows.is_empty() {
        for &(at, email) in &matches.rows {
            let (Some(email), Some(&(call, index))) = (email, matches.places.get(at as usize))
            else {
                continue;
            };
            let user = &job.found[call as usize][index as usize];
            let hash = keyed_email_hash(state, email);
            noted.extend(
                rejected
                    .with(upload, hash, email)
                    .map(|r| (r, user.id.clone())),
            );
        }
    }
    let Matches { rows, places, uses } = matches;
    // Each row planned into the one slot, then encoded (or kept, if rejected).
    let mut slot = PlanRow::placeholder();
    for (index_in_upload, (at, email)) in (job.start..job.end).zip(rows) {
        let Some(row) = upload.row(index_in_upload) else {
            tally.count(&slot);
            part.kept.push((index_in_upload, PlanRow::placeholder()));
            continue;
        };
        let found = (at != Matches::NONE).then(|| {
            let (call, index) = places[at as usize];
            let user = &mut job.found[call as usize][index as usize];
            (user, uses[at as usize] == 1)
        });
        context.plan_row(
            &RowCells::read(upload, row, email),
            found,
            scratch,
            &mut slot,
        );
        tally.count(&slot);
        let planned = std::mem::replace(&mut slot, PlanRow::placeholder());
        if row.is_valid() {
            part.rows.push(&planned);
        } else {
            part.kept.push((index_in_upload, planned));
        }
    }
    parts.push(part);
}

/// A job's rows matched to the users their calls found.
#[derive(Debug, PartialEq, Eq)]
struct Matches<'u> {
    /// For each row, the place of its user in `places` ([`Matches::NONE`]: none) and, for a
    /// valid row, its email (read once).
    rows: Vec<(u32, Option<&'u str>)>,
    /// The job's users, each as (call, index in the call's answer), call after call.
    places: Vec<(u32, u32)>,
    /// How many rows each user is matched to.
    uses: Vec<u8>,
}

impl<'u> Matches<'u> {
    /// No user.
    const NONE: u32 = u32::MAX;

    fn new(job: &Job) -> Matches<'u> {
        let mut places = Vec::with_capacity(job.found.iter().map(Vec::len).sum());
        for (call, users) in job.found.iter().enumerate() {
            places.extend((0..users.len()).map(|index| (call as u32, index as u32)));
        }
        Matches {
            rows: Vec::with_capacity(job.end - job.start),
            uses: vec![0; places.len()],
            places,
        }
    }

    /// The valid rows of the job with the call each was asked in, in order.
    fn valid_rows(
        upload: &'u Upload,
        job: &Job,
    ) -> impl Iterator<Item = Option<(Row<'u>, usize)>> + 'u {
        let calls = job.calls.clone();
        let mut call = 0;
        let mut left_in_call = calls.first().copied().unwrap_or(0);
        (job.start..job.end).map(move |index_in_upload| {
            let row = upload.row(index_in_upload).filter(|r| r.is_valid())?;
            while left_in_call == 0 {
                call += 1;
                left_in_call = calls.get(call).copied().unwrap_or(usize::MAX);
            }
            left_in_call -= 1;
            Some((row, call))
        })
    }

    /// The matches when the store answered each call with the users of its addresses in
    /// the order asked, each once: every user of a call is then the one of the next valid
    /// row whose address it has, and no hash is needed. `None` when a call's answer is not
    /// that (a user out of order, one not asked for, one twice).
    ///
    /// This gives what [`Matches::by_hash`] gives because the upload's valid rows have
    /// distinct email keys (the parse marks every later duplicate invalid): a user with
    /// the address of the row it was matched to has no other row's, and a row not matched
    /// has no user's.
    fn in_order(upload: &'u Upload, job: &Job) -> Option<Matches<'u>> {
        let mut matches = Matches::new(job);
        // the place of the next user to match, and of the first after the current call's
        // (the calls up to `summed` counted in it)
        let (mut next, mut call_end, mut summed) = (0, 0, 0);
        for valid in Self::valid_rows(upload, job) {
            let Some((row, call)) = valid else {
                matches.rows.push((Self::NONE, None));
                continue;
            };
            while summed <= call {
                // every user of the calls before was matched
                if next != call_end {
                    return None;
                }
                call_end += job.found.get(summed).map_or(0, Vec::len);
                summed += 1;
            }
            let email = row.email();
            let user = (next < call_end).then(|| &matches.places[next]);
            let same = user.is_some_and(|&(call, index)| {
                emails_equal(&job.found[call as usize][index as usize].email, email)
            });
            if same {
                matches.uses[next] = 1;
                matches.rows.push((next as u32, Some(email)));
                next += 1;
            } else {
                matches.rows.push((Self::NONE, Some(email)));
            }
        }
        (next == matches.places.len()).then_some(matches)
    }

    /// The matches found by hash: a row's user is the one of its call with its address
    /// (compared by email key; the last one if the call returned several).
    fn by_hash(upload: &'u Upload, state: &KeyedState, job: &Job) -> Matches<'u> {
        let mut matches = Matches::new(job);
        // the job's users by hash, each by its place
        let mut chains = HashChains::default();
        chains.reserve(matches.places.len());
        for &(call, index) in &matches.places {
            let user = &job.found[call as usize][index as usize];
            chains.push(keyed_email_hash(state, &user.email));
        }
        for valid in Self::valid_rows(upload, job) {
            let Some((row, call)) = valid else {
                matches.rows.push((Self::NONE, None));
                continue;
            };
            let email = row.email();
            let hash = keyed_email_hash(state, email);
            let at = chains.positions(hash).find(|&at| {
                let (found_by, index) = matches.places[at];
                found_by as usize == call
                    && emails_equal(&job.found[call][index as usize].email, email)
            });
            match at {
                Some(at) => {
                    matches.uses[at] = matches.uses[at].saturating_add(1);
                    matches.rows.push((at as u32, Some(email)));
                }
                None => matches.rows.push((Self::NONE, Some(email))),
            }
        }
        matches
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::build::tests::THREADS;
    use crate::host::store::{
        ExistingUser, Group, HostError, OptionalMethod, ScopePage, StoreRead,
    };
    use crate::{parse, plan_with, ContentRef, MemoryStore, PlanOptions, Settings};
    use std::cell::Cell;

    thread_local! {
        /// Valid rows per job (`None`: [`super::JOB_ROWS`]).
        pub(in crate::plan) static JOB_ROWS: Cell<Option<usize>> = const { Cell::new(None) };
        /// Jobs looked up while the rows are prepared, at least.
        pub(in crate::plan) static EARLY_JOBS: Cell<usize> = const { Cell::new(0) };
    }

    fn user(id: &str, email: &str) -> ExistingUser {
        ExistingUser::new(id, email)
    }

    /// The plan's rows as (line, action, user id), on `threads` threads, jobs of `job_rows`
    /// valid rows and calls of `batch` addresses.
    fn planned(
        file: &str,
        store: &mut dyn StoreRead,
        threads: usize,
        job_rows: usize,
        batch: usize,
    ) -> String {
        let upload = parse(file.as_bytes(), &Default::default()).expect("parses");
        THREADS.with(|t| t.set(Some(threads)));
        JOB_ROWS.with(|j| j.set(Some(job_rows)));
        let options = PlanOptions {
            lookup_batch: batch,
            ..PlanOptions::default()
        };
        let settings = Settings::builder().build().expect("settings");
        let plan = plan_with(&upload, &settings, store, &options);
        THREADS.with(|t| t.set(None));
        JOB_ROWS.with(|j| j.set(None));
        plan.expect("plan").to_json()
    }

    /// The users of `emails` in `store`, as a store that answers in the order asked.
    fn answer(store: &mut MemoryStore, emails: &[&str]) -> Vec<ExistingUser> {
        StoreRead::find_users(store, emails).expect("found")
    }

    #[test]
    fn matching_in_order_gives_what_matching_by_hash_gives() {
        // line 3: a duplicate of line 2 in another case (rejected); line 5: not an address;
        // line 6: no last name; a non-ASCII address
        let file = "firstname,lastname,email\n\
                    A,L,one@example.com\n\
                    B,L,ONE@example.com\n\
                    C,L,two@example.com\n\
                    D,L,bad\n\
                    E,,three@example.com\n\
                    F,L,ana@Exämple.com\n\
                    G,L,four@example.com\n\
                    H,L,five@example.com\n";
        let upload = parse(file.as_bytes(), &Default::default()).expect("parses");
        let valid: Vec<&str> = upload.valid_rows().map(|r| r.email()).collect();
        assert_eq!(valid.len(), 5, "{valid:?}");
        let mut store = MemoryStore::new();
        store.add_user(user("u1", "One@Example.com"));
        store.add_user(user("u4", "four@example.com"));
        store.add_user(user("u6", "Ana@exämple.com"));
        store.add_user(user("u5", "five@example.com"));
        store.add_user(user("u3", "three@example.com"));
        let state = crate::keyed_hash::KeyedState::new();
        for batch in [1, 2, 3, 5] {
            let calls: Vec<usize> = valid.chunks(batch).map(<[&str]>::len).collect();
            let asked: Vec<Vec<ExistingUser>> = valid
                .chunks(batch)
                .map(|chunk| answer(&mut store, chunk))
                .collect();
            // the answers as a store could give them: in order; reversed; with a user not
            // asked for, or one twice, or one of the call after
            let mut answers = vec![(asked.clone(), true)];
            let mut reversed = asked.clone();
            reversed.iter_mut().for_each(|users| users.reverse());
            let in_order = asked.iter().all(|users| users.len() < 2);
            answers.push((reversed, in_order));
            let mut extra = asked.clone();
            extra[0].push(user("x", "nobody@example.com"));
            answers.push((extra, false));
            let mut twice = asked.clone();
            if let Some(first) = twice.iter_mut().find(|users| !users.is_empty()) {
                first.push(first[0].clone());
            }
            answers.push((twice, false));
            let mut later = asked.clone();
            if later.len() > 1 {
                let next = later[1..].iter().find_map(|users| users.first().cloned());
                later[0].extend(next);
            }
            answers.push((
                later,
                asked.len() < 2 || asked[1..].iter().all(Vec::is_empty),
            ));
            for (found, expected_in_order) in answers {
                let job = super::Job {
                    start: 0,
                    end: upload.len(),
                    calls: calls.clone(),
                    found,
                };
                let by_hash = super::Matches::by_hash(&upload, &state, &job);
                let matched = by_hash.rows.iter().filter(|r| r.0 != super::Matches::NONE);
                assert!(matched.count() >= 3, "calls of {batch}");
                match super::Matches::in_order(&upload, &job) {
                    Some(in_order) => assert_eq!(in_order, by_hash, "calls of {batch}"),
                    None => assert!(!expected_in_order, "calls of {batch}: {:?}", job.found),
                }
            }
        }
    }

    #[test]
    fn rejected_rows_carry_the_id_of_the_user_found_for_their_address() {
        // line 2: no last name, the address of a user looked up later (line 5);
        // line 6: a duplicate of line 3, in another case; line 7: nobody asked for it
        let file = "firstname,lastname,email\n\
                    A,,five@example.com\n\
                    B,L,three@example.com\n\
                    C,L,new@example.com\n\
                    D,L,five@example.com\n\
                    E,L,THREE@example.com\n\
                    F,,nobody@example.com\n";
        let mut store = MemoryStore::new();
        store.add_user(user("u3", "three@example.com"));
        store.add_user(user("u5", "Five@Example.com"));
        store.add_user(user("u9", "nobody@example.com"));
        for (threads, job_rows, batch) in [(1, 4_096, 1_000), (1, 1, 1), (2, 1, 1), (3, 2, 1)] {
            let json: serde_json::Value =
                serde_json::from_str(&planned(file, &mut store, threads, job_rows, batch))
                    .expect("json");
            let ids: Vec<Option<&str>> = json["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| r["user_id"].as_str())
                .collect();
            assert_eq!(
                ids,
                [Some("u5"), Some("u3"), None, Some("u5"), Some("u3"), None],
                "{threads} threads, jobs of {job_rows}, calls of {batch}"
            );
        }
    }

    /// A store that also returns, with its first call, the user of an address the call did
    /// not ask for unless it is asked for both.
    struct Eager(MemoryStore, bool);

    impl StoreRead for Eager {
        fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
            let mut users = StoreRead::find_users(&mut self.0, emails)?;
            if !std::mem::replace(&mut self.1, true) {
                users.push(user("intruder", "later@example.com"));
            }
            Ok(users)
        }
        fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
            StoreRead::find_groups(&mut self.0, names)
        }
        fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
            StoreRead::find_content(&mut self.0, refs)
        }
        fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
            StoreRead::all_group_names(&mut self.0)
        }
        fn supports(&mut self, write: OptionalMethod) -> bool {
            StoreRead::supports(&mut self.0, write)
        }
        fn scope_users(
            &mut self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<ScopePage, HostError> {
            StoreRead::scope_users(&mut self.0, after, limit)
        }
    }

    #[test]
    fn a_user_returned_for_an_address_not_asked_in_that_call_is_not_believed() {
        let file = "firstname,lastname,email\n\
                    A,L,first@example.com\n\
                    B,L,later@example.com\n";
        for (threads, job_rows, batch) in [(1, 4_096, 1), (2, 1, 1)] {
            let mut store = Eager(MemoryStore::new(), false);
            let json = planned(file, &mut store, threads, job_rows, batch);
            assert!(!json.contains("intruder"), "{json}");
            assert_eq!(json.matches("\"action\":\"create\"").count(), 2, "{json}");
        }
        // asked for in the call that returned it: believed
        let mut store = Eager(MemoryStore::new(), false);
        let json = planned(file, &mut store, 1, 4_096, 2);
        assert!(json.contains("\"user_id\":\"intruder\""), "{json}");
    }
}
