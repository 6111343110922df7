//! The plan's JSON form and its fingerprint.

use super::{Plan, PlanRow, PlanSettings, Summary, PLAN_FORMAT_VERSION};
use crate::error::{Error, ErrorKind};
use crate::issue::{Issue, IssueCode};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The content the fingerprint covers: everything but the fingerprint itself (written in
/// parts by [`write_canonical`]; whole by the test that checks the parts make it).
#[derive(Serialize)]
#[cfg_attr(not(test), allow(dead_code))]
struct Canonical<'a> {
    format_version: u32,
    settings: &'a PlanSettings,
    summary: &'a Summary,
    file_issues: &'a [Issue],
    rows: &'a [PlanRow],
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a super::shard::ShardSpec>,
}

/// Writes into a hasher or a MAC without building the whole JSON in memory.
struct DigestWriter<D>(D);

impl<D: sha2::digest::Update> std::io::Write for DigestWriter<D> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds `value`'s compact JSON to `digest`. serde_json writes a plan in pieces of two or
/// three bytes (a million-row plan in some 145 million writes): they are gathered in a
/// buffer first, so the digest is updated a block of 64 KiB at a time.
pub(crate) fn digest_json<D: sha2::digest::Update, T: Serialize + ?Sized>(
    value: &T,
    digest: D,
) -> D {
    let mut writer = std::io::BufWriter::with_capacity(64 * 1024, DigestWriter(digest));
    // Serialising plain data structures into a digest cannot fail, nor can flushing into one.
    let _ = serde_json::to_writer(&mut writer, value);
    let _ = std::io::Write::flush(&mut writer);
    writer.into_parts().0 .0
}

/// Rows serialised together: a block is handed from the thread that writes the rows' JSON
/// to the one that digests it.
const BLOCK_ROWS: usize = 2_048;

/// Plans of fewer rows are digested on the calling thread alone.
const MIN_ROWS_FOR_A_THREAD: usize = 16_384;

/// The most threads writing a plan's rows while the calling thread digests them: writing
/// the JSON takes about three times as long as SHA-256 with the CPU's SHA instructions.
const MAX_WRITERS: usize = 3;

/// Feeds the plan's canonical bytes (everything but the fingerprint and the signature) to
/// `digest`: the bytes the fingerprint and the signature cover.
///
/// They are the compact JSON of [`Canonical`] (serde_json's), written in parts: the fields
/// before the rows, the rows a block at a time, then the shard. For a large plan, other
/// threads (one per core, at most [`MAX_WRITERS`]) write the blocks of rows while this one
/// digests them in order (SHA-256 is sequential, and writing the JSON is the larger part).
pub(super) fn write_canonical<D: sha2::digest::Update>(plan: &Plan, digest: D) -> D {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let writers = if plan.rows.len() >= MIN_ROWS_FOR_A_THREAD && cores > 1 {
        cores.min(MAX_WRITERS)
    } else {
        0
    };
    write_canonical_in_blocks(plan, digest, BLOCK_ROWS, writers)
}

/// [`write_canonical`] with blocks of `block_rows` rows, written by `writers` other threads
/// (0: on this one).
pub(super) fn write_canonical_in_blocks<D: sha2::digest::Update>(
    plan: &Plan,
    mut digest: D,
    block_rows: usize,
    writers: usize,
) -> D {
    /// The fields before the rows, in [`Canonical`]'s order.
    #[derive(Serialize)]
    struct Head<'a> {
        format_version: u32,
        settings: &'a PlanSettings,
        summary: &'a Summary,
        file_issues: &'a [Issue],
    }
    let head = Head {
        format_version: plan.format_version,
        settings: &plan.settings,
        summary: &plan.summary,
        file_issues: &plan.file_issues,
    };
    // `{...}` without its closing brace, then the rows as the next field.
    let mut bytes = serde_json::to_vec(&head).unwrap_or_default();
    bytes.pop();
    bytes.extend_from_slice(b",\"rows\":[");
    digest.update(&bytes);
    if writers > 0 {
        digest = digest_blocks_threaded(&plan.rows, block_rows, writers, digest);
    } else {
        for (index, block) in plan.rows.chunks(block_rows.max(1)).enumerate() {
            bytes.clear();
            write_block(&mut bytes, index == 0, block);
            digest.update(&bytes);
        }
    }
    digest.update(b"]");
    if let Some(shard) = &plan.shard {
        digest.update(b",\"shard\":");
        digest = digest_json(shard, digest);
    }
    digest.update(b"}");
    digest
}

/// The rows of a block, comma-separated (and after a comma, unless it is the first block).
fn write_block(out: &mut Vec<u8>, first: bool, rows: &[PlanRow]) {
    for (index, row) in rows.iter().enumerate() {
        if !(first && index == 0) {
            out.push(b',');
        }
        // Serialising plain data structures into a vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, row);
    }
}

/// The blocks of `rows` written by `writers` threads (block `i` by writer `i % writers`)
/// and digested here, in order. Each writer holds at most two blocks' JSON at a time (the
/// one it writes and one waiting), so what is held beside the plan is a few blocks of its
/// rows, whatever their size; buffers come back to be filled again.
fn digest_blocks_threaded<D: sha2::digest::Update>(
    rows: &[PlanRow],
    block_rows: usize,
    writers: usize,
    mut digest: D,
) -> D {
    use std::sync::mpsc;
    let (block_rows, writers) = (block_rows.max(1), writers.max(1));
    let blocks = rows.len().div_ceil(block_rows);
    std::thread::scope(|scope| {
        let mut lanes = Vec::with_capacity(writers);
        for writer in 0..writers {
            let (full, written) = mpsc::sync_channel::<Vec<u8>>(1);
            let (empty, to_fill) = mpsc::channel::<Vec<u8>>();
            scope.spawn(move || {
                let lane = Lane {
                    first: writer,
                    step: writers,
                    full,
                    to_fill,
                };
                write_blocks_on_worker(rows, block_rows, &lane);
            });
            lanes.push((written, empty));
        }
        for index in 0..blocks {
            let (written, empty) = &lanes[index % writers];
            // A writer stops early only by panicking, which the scope passes on.
            let Ok(buffer) = written.recv() else { break };
            digest.update(&buffer);
            // A buffer that grew for a block of large rows is not kept for another.
            if buffer.capacity() <= MAX_KEPT_BUFFER {
                let _ = empty.send(buffer);
            }
        }
    });
    digest
}

/// The largest buffer a writer gets back to fill again.
const MAX_KEPT_BUFFER: usize = 4 << 20;

/// What one writer writes (every `step`-th block from `first`) and where it sends it.
struct Lane {
    first: usize,
    step: usize,
    full: std::sync::mpsc::SyncSender<Vec<u8>>,
    to_fill: std::sync::mpsc::Receiver<Vec<u8>>,
}

/// Writes the lane's blocks into buffers (those sent back, or new ones) and sends them in
/// order (a function of its own, so that `make bench-callgrind` counts what the thread does).
#[inline(never)]
fn write_blocks_on_worker(rows: &[PlanRow], block_rows: usize, lane: &Lane) {
    let blocks = rows.chunks(block_rows).enumerate();
    for (index, block) in blocks.skip(lane.first).step_by(lane.step) {
        let mut buffer = lane.to_fill.try_recv().unwrap_or_default();
        buffer.clear();
        write_block(&mut buffer, index == 0, block);
        if lane.full.send(buffer).is_err() {
            return;
        }
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

pub(crate) fn fingerprint(plan: &Plan) -> String {
    let digest = write_canonical(plan, Sha256::new()).finalize();
    format!("sha256:{}", hex(&digest))
}

pub(super) fn plan_error(code: IssueCode, message: String) -> Error {
    Error::new(ErrorKind::Plan, code, message)
}

impl Plan {
    /// The plan as compact JSON (deterministic: same inputs, same bytes; no password).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The plan as indented JSON, for people.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a plan back, refusing another format version or content that does not match
    /// the fingerprint (`fingerprint_mismatch`: the plan was altered after planning).
    ///
    /// The fingerprint is a plain SHA-256 anyone can recompute: it catches accidents, not
    /// edits. A plan that crossed a place others can write is read with
    /// [`from_signed_json`](Plan::from_signed_json) instead.
    ///
    /// A shard (a plan with a `shard` section, which may carry the default password's hash)
    /// is refused (`plan_unsigned`): shards are read with
    /// [`from_signed_json`](Plan::from_signed_json) only.
    ///
    /// A plan made with a default password needs it again:
    /// [`with_default_password`](Plan::with_default_password).
    pub fn from_json(json: &str) -> Result<Plan, Error> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            plan_error(
                IssueCode::InvalidPlan,
                format!("the plan is not valid JSON: {e}"),
            )
        })?;
        if value.get("shard").is_some() {
            return Err(plan_error(
                IssueCode::PlanUnsigned,
                "the plan is a shard: shards cross a queue and are read only with \
                 Plan::from_signed_json (signed with this host's key)"
                    .into(),
            ));
        }
        Plan::from_value(value)
    }

    /// Reads a plan from parsed JSON: the checks of [`Plan::from_json`].
    pub(super) fn from_value(value: serde_json::Value) -> Result<Plan, Error> {
        match value.get("format_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(plan_error(
                    IssueCode::UnsupportedPlanVersion,
                    format!("the plan has format version {v}; this engine reads version {PLAN_FORMAT_VERSION}"),
                ))
            }
            None => return Err(plan_error(IssueCode::InvalidPlan, "the plan has no format_version".into())),
        }
        let plan: Plan = serde_json::from_value(value).map_err(|e| {
            plan_error(
                IssueCode::InvalidPlan,
                format!("the plan cannot be read: {e}"),
            )
        })?;
        let expected = fingerprint(&plan);
        if expected != plan.fingerprint {
            return Err(plan_error(
                IssueCode::FingerprintMismatch,
                "the plan's content does not match its fingerprint: it was altered after planning"
                    .into(),
            ));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, ContentKind, ContentRef, MemoryStore, Settings};

    /// Gathers what a digest would be fed.
    #[derive(Default)]
    struct Bytes(Vec<u8>);

    impl sha2::digest::Update for Bytes {
        fn update(&mut self, data: &[u8]) {
            self.0.extend_from_slice(data);
        }
    }

    fn whole(plan: &Plan) -> Vec<u8> {
        serde_json::to_vec(&Canonical {
            format_version: plan.format_version,
            settings: &plan.settings,
            summary: &plan.summary,
            file_issues: &plan.file_issues,
            rows: &plan.rows,
            shard: plan.shard.as_ref(),
        })
        .expect("serialises")
    }

    /// A plan of `rows` rows (of which those after `kept` are left out).
    fn a_plan(rows: usize, kept: u32) -> Plan {
        let mut file = String::from("firstname,lastname,email,course\n");
        for i in 0..rows {
            // a row with an error and a warning among them, and characters JSON escapes
            let email = if i == 3 {
                "not-an-email".to_owned()
            } else {
                format!("u{i}@example.com")
            };
            file.push_str(&format!("\"A\"\"\\\t{i}\",Lé{i},{email},c1\n"));
        }
        let upload = parse(file.as_bytes(), &Default::default()).expect("parses");
        let mut store = MemoryStore::new();
        store.add_content(ContentRef::new(ContentKind::Course, "c1"));
        let settings = Settings::builder().build().expect("settings");
        let options = crate::PlanOptions {
            exclude_lines: (kept + 2..=rows as u32 + 1).collect(),
            ..Default::default()
        };
        crate::plan_with(&upload, &settings, &mut store, &options).expect("plan")
    }

    #[test]
    fn the_canonical_bytes_written_in_blocks_are_the_whole_plans_compact_json() {
        let parent = a_plan(9, 9);
        let empty = a_plan(2, 0);
        assert!(parent.rows.len() == 9 && empty.rows.is_empty());
        let shards = parent.shards(4).expect("shards");
        for plan in [&parent, &empty].into_iter().chain(&shards) {
            let expected = whole(plan);
            for block_rows in [1, 2, 3, 5, 100] {
                for writers in [0, 1, 2, 3] {
                    let written =
                        write_canonical_in_blocks(plan, Bytes::default(), block_rows, writers);
                    assert_eq!(
                        String::from_utf8_lossy(&written.0),
                        String::from_utf8_lossy(&expected),
                        "{block_rows} rows a block, {writers} writers"
                    );
                }
            }
            assert_eq!(write_canonical(plan, Bytes::default()).0, expected);
        }
        assert!(shards.iter().all(|s| s.shard.is_some()));
    }
}
