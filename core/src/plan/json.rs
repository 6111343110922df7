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

/// Feeds the plan's canonical bytes (everything but the fingerprint and the signature) to
/// `digest`: the bytes the fingerprint and the signature cover.
///
/// They are the compact JSON of [`Canonical`] (serde_json's), written in parts: the fields
/// before the rows, the rows a block at a time, then the shard. For a large plan, another
/// thread writes the blocks of rows while this one digests them (SHA-256 is sequential;
/// writing the JSON is as much work again).
pub(super) fn write_canonical<D: sha2::digest::Update>(plan: &Plan, digest: D) -> D {
    let threaded = plan.rows.len() >= MIN_ROWS_FOR_A_THREAD
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    write_canonical_in_blocks(plan, digest, BLOCK_ROWS, threaded)
}

/// [`write_canonical`] with blocks of `block_rows` rows, written on another thread or not.
pub(super) fn write_canonical_in_blocks<D: sha2::digest::Update>(
    plan: &Plan,
    mut digest: D,
    block_rows: usize,
    threaded: bool,
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
    let blocks = plan.rows.chunks(block_rows.max(1));
    if threaded {
        digest = digest_blocks_threaded(blocks, digest);
    } else {
        for (index, block) in blocks.enumerate() {
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

/// The blocks written on a thread of their own and digested here, in order; at most a few
/// blocks are held at once (their buffers go back to the writer to be filled again).
fn digest_blocks_threaded<'r, D: sha2::digest::Update>(
    blocks: impl Iterator<Item = &'r [PlanRow]> + Send,
    mut digest: D,
) -> D {
    use std::sync::mpsc;
    let (full, written) = mpsc::sync_channel::<Vec<u8>>(2);
    let (empty, to_fill) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        scope.spawn(move || write_blocks_on_worker(blocks, &full, &to_fill));
        for buffer in written {
            digest.update(&buffer);
            let _ = empty.send(buffer);
        }
    });
    digest
}

/// Writes the blocks into buffers (those sent back, or new ones) and sends them in order
/// (a function of its own, so that `make bench-callgrind` counts what the thread does).
#[inline(never)]
fn write_blocks_on_worker<'r>(
    blocks: impl Iterator<Item = &'r [PlanRow]>,
    full: &std::sync::mpsc::SyncSender<Vec<u8>>,
    to_fill: &std::sync::mpsc::Receiver<Vec<u8>>,
) {
    for (index, block) in blocks.enumerate() {
        let mut buffer = to_fill.try_recv().unwrap_or_default();
        buffer.clear();
        write_block(&mut buffer, index == 0, block);
        if full.send(buffer).is_err() {
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
                for threaded in [false, true] {
                    let written =
                        write_canonical_in_blocks(plan, Bytes::default(), block_rows, threaded);
                    assert_eq!(
                        String::from_utf8_lossy(&written.0),
                        String::from_utf8_lossy(&expected),
                        "{block_rows} rows a block, threaded {threaded}"
                    );
                }
            }
            assert_eq!(write_canonical(plan, Bytes::default()).0, expected);
        }
        assert!(shards.iter().all(|s| s.shard.is_some()));
    }
}
