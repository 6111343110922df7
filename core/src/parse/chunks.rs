//! Reading the rows on several threads: the body is cut into chunks after a line feed,
//! each chunk read by a parser of its own as if a record started there, and the chunks
//! joined in file order. A cut is only a guess (a quoted cell may span it); it is proven
//! when the parser of the chunk before, reading on past its end, finds its next record
//! starting exactly where the chunk's first record starts. A chunk whose cut is not proven
//! is thrown away and read again by that parser, so the outcome is always that of one
//! parser reading the whole body: the same rows, lines, issues, duplicates and errors,
//! byte for byte, whatever the number of threads.

use super::bytes::{count_byte, count_lf_cr};
use super::cells::Cells;
use super::issue_log::IssueLog;
use super::{file_error, Parser};
use crate::error::Error;
use crate::issue::IssueCode;
use crate::parse::options::{ParseOptions, MAX_PARSE_THREADS};
use std::sync::{Condvar, Mutex, PoisonError};

/// Chunks are at least this long (a smaller file is read in one pass)...
pub(super) const MIN_CHUNK_BYTES: usize = 256 << 10;
/// ... and there are at most this many a thread: enough that the chunks read ahead of the
/// joining (a quarter of them at most, see [`read_in_chunks`]) hold little memory.
const CHUNKS_PER_THREAD: usize = 32;

/// The chunks a thread may have read (or be reading) ahead of the joining, at most. With
/// one (two chunks on two threads), a worker that finished its chunk while the chunk the
/// joining waits for was still being read (its thread taken by the joining thread or by
/// another process) waited for it, idle; with four, a worker stops only when that chunk is
/// eight chunks behind on two threads.
const AHEAD_PER_THREAD: usize = 4;

/// A file whose lines are shorter than this on average is read in one pass: the index of
/// its rows (line, validity, cell ends: 13 bytes and more a row) outweighs its text, and
/// the chunks' copies of it, joined at the end, would raise the peak of memory by half.
pub(super) const MIN_LINE_BYTES: usize = 32;

/// The rows read so far: the values of the upload in the making, by chunk or whole.
pub(super) struct Rows {
    /// Where each row's values are in the text, and whether it is valid.
    pub(super) cells: Cells,
    pub(super) lines: Vec<u32>,
    /// Per valid row: the high 32 bits of its email's hash, then its index (see
    /// `mark_duplicates`); reserved at the first valid row (a file of bad rows needs none).
    pub(super) email_hashes: Vec<u64>,
    pub(super) log: IssueLog,
    /// The rows expected (an upper bound), for `email_hashes`' reservation.
    pub(super) estimate: usize,
}

impl Rows {
    /// Room for `rows` rows of `cells` cells in all.
    pub(super) fn new(rows: usize, cells: usize, log: IssueLog) -> Rows {
        Rows {
            cells: Cells::with_capacity(rows, cells),
            lines: Vec::with_capacity(rows),
            email_hashes: Vec::new(),
            log,
            estimate: rows,
        }
    }

    /// Adds the rows of the chunk that follows, as if they had been read here.
    fn append(&mut self, chunk: Rows) -> Result<(), Error> {
        let row_base = self.lines.len() as u64;
        self.cells.append(chunk.cells).map_err(|_| too_large())?;
        self.lines.extend_from_slice(&chunk.lines);
        if self.email_hashes.capacity() == 0 && !chunk.email_hashes.is_empty() {
            let left = self.estimate.saturating_sub(self.lines.len());
            self.email_hashes
                .reserve_exact(left.max(chunk.email_hashes.len()));
        }
        self.email_hashes
            .extend(chunk.email_hashes.iter().map(|key| key + row_base));
        self.log.append(chunk.log);
        Ok(())
    }
}

/// The error of a file whose index of values would pass 4 GiB (a file of gigabytes).
pub(super) fn too_large() -> Error {
    file_error(
        IssueCode::FileTooLarge,
        None,
        None,
        "the file has too many values to index (more than 4 GiB of offsets)".into(),
    )
}

/// The threads `options.threads` asks for: the available cores for 0, at most
/// [`MAX_PARSE_THREADS`].
pub(super) fn threads(options: &ParseOptions) -> usize {
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        n => n,
    };
    threads.clamp(1, MAX_PARSE_THREADS)
}

/// The LF and CR of each piece of `body` between the `cuts` (the first before the first
/// cut, the last after the last), counted on up to `threads` threads, each counting a run of
/// consecutive pieces.
pub(super) fn count_lf_cr_between(
    body: &[u8],
    cuts: &[usize],
    threads: usize,
) -> Vec<(usize, usize)> {
    let ends: Vec<usize> = cuts.iter().copied().chain([body.len()]).collect();
    let count = |first: usize, pieces: &[usize]| -> Vec<(usize, usize)> {
        let mut from = first;
        pieces
            .iter()
            .map(|&to| {
                let counted = count_lf_cr(&body[from..to]);
                from = to;
                counted
            })
            .collect()
    };
    if threads < 2 || ends.len() < 2 {
        return count(0, &ends);
    }
    let per_thread = ends.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut runs = ends.chunks(per_thread).enumerate();
        let first = runs.next();
        let others: Vec<_> = runs
            .map(|(i, run)| {
                let start = ends[i * per_thread - 1];
                scope.spawn(move || count(start, run))
            })
            .collect();
        let mut counts = first.map_or_else(Vec::new, |(_, run)| count(0, run));
        for other in others {
            match other.join() {
                Ok(mut more) => counts.append(&mut more),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        counts
    })
}

/// Where the body is cut for `threads` threads: after the first line feed at or after
/// every `chunk_bytes` bytes (`None`: the body's length shared among the threads, at least
/// [`MIN_CHUNK_BYTES`] a chunk). Empty when the body is read in one pass.
pub(super) fn cuts(body: &[u8], threads: usize, chunk_bytes: Option<usize>) -> Vec<usize> {
    let chunk = match chunk_bytes {
        Some(n) => n.max(1),
        None => body
            .len()
            .div_ceil(threads.max(1) * CHUNKS_PER_THREAD)
            .max(MIN_CHUNK_BYTES),
    };
    let mut cuts = Vec::new();
    if threads < 2 {
        return cuts;
    }
    let mut target = chunk;
    while target < body.len() {
        let Some(lf) = body[target..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let cut = target + lf + 1;
        if cut >= body.len() {
            break;
        }
        cuts.push(cut);
        target = cut.saturating_add(chunk).max(cut + 1);
    }
    cuts
}

/// One chunk as its parser read it.
struct Chunk<'a> {
    parser: Parser<'a>,
    rows: Rows,
    /// Where its first record starts (the cut, after any blank lines).
    first: usize,
    /// Where it starts and stops in the body, and the LF between.
    span: (usize, usize, usize),
    /// How the reading ended: at the chunk's end, or a file-level error.
    outcome: Result<(), Error>,
}

/// Reads the rows after the header into `rows` on `threads` threads: every chunk (the
/// first by `parser`, just past the header) is read by a worker into rows of its own, and
/// joined by this thread in file order as soon as it is read. Workers read at most a
/// quarter of the chunks (and at least one), and at most [`AHEAD_PER_THREAD`] a thread,
/// ahead of the joining, so the memory held twice is that of those chunks, not of the file.
pub(super) fn read_in_chunks<'a>(
    mut parser: Parser<'a>,
    rows: &mut Rows,
    check_conflicts: bool,
    threads: usize,
) -> Result<Parser<'a>, Error> {
    let cuts: Vec<(usize, u32, usize)> = parser
        .cuts
        .iter()
        .copied()
        .filter(|&(cut, _, _)| cut > parser.pos)
        .collect();
    let Some(&(first_cut, _, _)) = cuts.first() else {
        parser.read_rows(rows, check_conflicts)?;
        return Ok(parser);
    };
    let body_len = parser.body.len();
    let mut jobs: Vec<Mutex<Option<Chunk<'a>>>> = Vec::with_capacity(cuts.len() + 1);
    for (i, &(cut, line, lf_count)) in cuts.iter().enumerate() {
        let stop = cuts.get(i + 1).map_or(body_len, |next| next.0);
        let chunk = parser.for_chunk(cut, stop, line, lf_count);
        jobs.push(Mutex::new(Some(Chunk::new(chunk, cut, stop, lf_count))));
    }
    // The first chunk, read by `parser` itself, from just past the header.
    parser.stop = first_cut;
    let start = parser.pos;
    let lf_count = count_byte(&parser.body.as_bytes()[start..first_cut], b'\n');
    let first = Chunk::new(parser, start, first_cut, lf_count);
    jobs.insert(0, Mutex::new(Some(first)));
    let window = (jobs.len() / 4).clamp(1, threads * AHEAD_PER_THREAD);
    let state = Mutex::new(Progress {
        next: 0,
        joined: 0,
        read: vec![false; jobs.len()],
    });
    let changed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    let work = || loop {
        let mut progress = lock();
        while progress.next < jobs.len() && progress.next >= progress.joined + window {
            progress = changed
                .wait(progress)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let Some(job) = jobs.get(progress.next) else {
            return;
        };
        let index = progress.next;
        progress.next += 1;
        drop(progress);
        // Marks the chunk read when done, even by a panic (which the scope then raises
        // again): the joining thread never waits for it forever.
        let _done = Done(|| {
            lock().read[index] = true;
            changed.notify_all();
        });
        if let Some(chunk) = job.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            chunk.read(check_conflicts);
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.min(jobs.len()) {
            scope.spawn(work);
        }
        // Stops the workers once joining ends (an error, or a panic): nothing after counts.
        let _stop = Done(|| {
            lock().next = jobs.len();
            changed.notify_all();
        });
        join_chunks(&jobs, rows, check_conflicts, |index| {
            let mut progress = lock();
            if index > 0 {
                progress.joined = index;
                changed.notify_all();
            }
            while !progress.read[index] {
                progress = changed
                    .wait(progress)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        })
    })
}

/// Runs its closure when dropped.
struct Done<F: FnMut()>(F);

impl<F: FnMut()> Drop for Done<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// What the workers and the joining thread share: the next chunk to read, how many are
/// joined, which are read.
struct Progress {
    next: usize,
    joined: usize,
    read: Vec<bool>,
}

/// Joins the chunks in file order into `rows` (`wait(i)` returns once chunk `i` is read,
/// `i` chunks being joined): a chunk whose first record is where the reading before it
/// stopped is taken whole; any other is read again, on from there. Returns the parser that
/// read last.
fn join_chunks<'a>(
    jobs: &[Mutex<Option<Chunk<'a>>>],
    rows: &mut Rows,
    check_conflicts: bool,
    mut wait: impl FnMut(usize),
) -> Result<Parser<'a>, Error> {
    let take = |index: usize| {
        jobs.get(index)
            .and_then(|job| job.lock().unwrap_or_else(PoisonError::into_inner).take())
    };
    wait(0);
    let Some(first) = take(0) else {
        return Err(lost_chunk());
    };
    let max_rows = first.parser.options.max_rows;
    let mut outcome = first.outcome;
    let mut parser = first.parser;
    rows.append(first.rows)?;
    for index in 1..jobs.len() {
        outcome?;
        wait(index);
        let Some(chunk) = take(index) else {
            return Err(lost_chunk());
        };
        if chunk.first == parser.next_start() {
            if rows.lines.len() + chunk.rows.lines.len() > max_rows {
                let line = chunk.rows.lines[max_rows - rows.lines.len()];
                return Err(too_many_rows(line, max_rows));
            }
            rows.append(chunk.rows)?;
            outcome = chunk.outcome;
            parser = chunk.parser;
        } else {
            parser.stop = chunk.parser.stop;
            drop(chunk);
            outcome = parser.read_rows(rows, check_conflicts);
        }
    }
    outcome?;
    Ok(parser)
}

/// A chunk missing when it is joined: a worker panicked (never expected).
fn lost_chunk() -> Error {
    Error::new(
        crate::ErrorKind::File,
        IssueCode::InvalidOption,
        "a thread reading the file stopped",
    )
}

impl<'a> Chunk<'a> {
    /// A chunk of the body from `start` to `stop` with `lf_count` LF, to be read by
    /// `parser` (its rows are reserved when it is read: see [`Chunk::read`]).
    fn new(parser: Parser<'a>, start: usize, stop: usize, lf_count: usize) -> Chunk<'a> {
        let log = IssueLog::new(parser.options);
        Chunk {
            first: parser.next_start(),
            rows: Rows::new(0, 0, log),
            span: (start, stop, lf_count),
            parser,
            outcome: Ok(()),
        }
    }

    /// Reads the chunk's rows, into buffers reserved for them now. (Never inlined: it is
    /// what a worker thread does, which `make bench-callgrind` counts by this name.)
    #[inline(never)]
    fn read(&mut self, check_conflicts: bool) {
        let (start, stop, lf_count) = self.span;
        let (rows, ends) = self
            .parser
            .estimates(&self.parser.body.as_bytes()[start..stop], lf_count);
        let log = std::mem::replace(&mut self.rows.log, IssueLog::new(self.parser.options));
        self.rows = Rows::new(rows, ends, log);
        self.outcome = self.parser.read_rows(&mut self.rows, check_conflicts);
    }
}

/// The `too_many_rows` error, on the line of the first row past `max_rows`.
pub(super) fn too_many_rows(line: u32, max_rows: usize) -> Error {
    file_error(
        IssueCode::TooManyRows,
        Some(line),
        None,
        format!("the file has more than {max_rows} data rows (max_rows)"),
    )
}
