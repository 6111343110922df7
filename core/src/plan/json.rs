//! The plan's JSON form and its fingerprint.

use super::{Noop, Operation, Plan, PlanRow, PlanRows, PlanSettings, Summary, PLAN_FORMAT_VERSION};
use crate::error::{Error, ErrorKind};
use crate::host::store::{ContentRef, Group, Profile};
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
    rows: &'a PlanRows,
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

/// Where the rows written come from: a plan's own (decoded a block at a time), or the rows
/// a plan is being made of, not yet encoded (the fingerprint of a new plan is taken from
/// them: decoding what was just encoded would cost as much again).
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    Decoded(&'a [PlanRow]),
    Encoded(&'a PlanRows),
}

impl Source<'_> {
    fn len(self) -> usize {
        match self {
            Source::Decoded(rows) => rows.len(),
            Source::Encoded(rows) => rows.len(),
        }
    }

    /// The rows of `range`: a slice of the decoded rows, or `scratch` filled with them (in
    /// the strings and vectors of the rows it held: a writer decodes block after block
    /// without allocating).
    fn block<'s>(
        self,
        range: std::ops::Range<usize>,
        scratch: &'s mut Vec<PlanRow>,
    ) -> &'s [PlanRow]
    where
        Self: 's,
    {
        match self {
            Source::Decoded(rows) => &rows[range],
            Source::Encoded(rows) => {
                rows.decode_reusing(range, scratch);
                scratch
            }
        }
    }
}

/// How many threads write a plan's rows while the calling thread takes their bytes: none
/// for a small plan or one core, else one per core, at most [`MAX_WRITERS`].
fn writers_for(rows: Source<'_>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if rows.len() >= MIN_ROWS_FOR_A_THREAD && cores > 1 {
        cores.min(MAX_WRITERS)
    } else {
        0
    }
}

/// Feeds the plan's canonical bytes (everything but the fingerprint and the signature) to
/// `digest`: the bytes the fingerprint and the signature cover.
///
/// They are the compact JSON of [`Canonical`] (serde_json's), written in parts: the fields
/// before the rows, the rows a block at a time, then the shard. For a large plan, other
/// threads (one per core, at most [`MAX_WRITERS`]) write the blocks of rows while this one
/// digests them in order (SHA-256 is sequential, and writing the JSON is the larger part).
pub(super) fn write_canonical<D: sha2::digest::Update>(plan: &Plan, digest: D) -> D {
    write_canonical_of(plan, Source::Encoded(&plan.rows), digest)
}

/// [`write_canonical`] of `plan` with the rows of `rows` (the plan's own, or those it is
/// being made of).
pub(super) fn write_canonical_of<D: sha2::digest::Update>(
    plan: &Plan,
    rows: Source<'_>,
    digest: D,
) -> D {
    let head = Head::of(plan, None);
    write_in_blocks(plan, &head, rows, digest, BLOCK_ROWS, writers_for(rows))
}

/// [`write_canonical`] with blocks of `block_rows` rows, written by `writers` other threads
/// (0: on this one).
#[cfg(test)]
pub(super) fn write_canonical_in_blocks<D: sha2::digest::Update>(
    plan: &Plan,
    digest: D,
    block_rows: usize,
    writers: usize,
) -> D {
    let rows = Source::Encoded(&plan.rows);
    write_in_blocks(
        plan,
        &Head::of(plan, None),
        rows,
        digest,
        block_rows,
        writers,
    )
}

/// The fields before the rows: [`Canonical`]'s without the fingerprint, [`Plan`]'s (in
/// their order: the fingerprint second) with it.
#[derive(Serialize)]
struct Head<'a> {
    format_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
    settings: &'a PlanSettings,
    summary: &'a Summary,
    file_issues: &'a [Issue],
}

impl<'a> Head<'a> {
    fn of(plan: &'a Plan, fingerprint: Option<&'a str>) -> Head<'a> {
        Head {
            format_version: plan.format_version,
            fingerprint,
            settings: &plan.settings,
            summary: &plan.summary,
            file_issues: &plan.file_issues,
        }
    }
}

/// [`Plan::to_json`]'s bytes fed to `sink`, written as [`write_canonical_in_blocks`] writes
/// the canonical ones: the plan's own fields in [`Plan`]'s order (the fingerprint second).
fn write_whole_in_blocks<D: sha2::digest::Update>(
    plan: &Plan,
    sink: D,
    block_rows: usize,
    writers: usize,
) -> D {
    let head = Head::of(plan, Some(&plan.fingerprint));
    let rows = Source::Encoded(&plan.rows);
    write_in_blocks(plan, &head, rows, sink, block_rows, writers)
}

/// `head` (an object of the fields before the rows), the rows as the next field, the shard
/// if any, and the closing brace, fed to `digest` in order.
fn write_in_blocks<D: sha2::digest::Update, H: Serialize>(
    plan: &Plan,
    head: &H,
    rows: Source<'_>,
    mut digest: D,
    block_rows: usize,
    writers: usize,
) -> D {
    // `{...}` without its closing brace, then the rows as the next field.
    let mut bytes = serde_json::to_vec(head).unwrap_or_default();
    bytes.pop();
    bytes.extend_from_slice(b",\"rows\":[");
    digest.update(&bytes);
    if writers > 0 {
        digest = digest_blocks_threaded(rows, block_rows, writers, digest);
    } else {
        let mut scratch = Vec::new();
        let block_rows = block_rows.max(1);
        for (index, start) in (0..rows.len()).step_by(block_rows).enumerate() {
            let block = rows.block(start..rows.len().min(start + block_rows), &mut scratch);
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

/// Bytes fed to a writer as a digest is fed: the first error is kept, and nothing is
/// written after it.
struct WriteSink<'a> {
    out: &'a mut dyn std::io::Write,
    error: Option<std::io::Error>,
}

impl sha2::digest::Update for WriteSink<'_> {
    fn update(&mut self, data: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(data) {
                self.error = Some(e);
            }
        }
    }
}

/// The rows of a block, comma-separated (and after a comma, unless it is the first block).
fn write_block(out: &mut Vec<u8>, first: bool, rows: &[PlanRow]) {
    for (index, row) in rows.iter().enumerate() {
        if !(first && index == 0) {
            out.push(b',');
        }
        write_row(out, row);
    }
}

/// A row's compact JSON, the bytes serde_json writes for it (`serde_json::to_writer`), for
/// the fingerprint and the signature: written here for the shapes a large plan is made of
/// (the row's fields, a profile, a group, a content reference, the common operations and
/// no-ops, strings with nothing to escape); everything else (issues, the rarer operations,
/// a string with a character to escape) is handed to serde_json as before. serde_json
/// writes a row in some 150 small writes, each through its escaping loop, which made
/// writing the rows the largest part of a plan's fingerprint. `plan::json::tests` checks
/// the bytes against serde_json's for every variant.
fn write_row(out: &mut Vec<u8>, row: &PlanRow) {
    let PlanRow {
        line,
        email,
        first_name,
        last_name,
        action,
        user_id,
        operations,
        noops,
        issues,
    } = row;
    out.extend_from_slice(b"{\"line\":");
    write_number(out, u64::from(*line));
    out.extend_from_slice(b",\"email\":");
    write_str(out, email);
    out.extend_from_slice(b",\"first_name\":");
    write_str(out, first_name);
    out.extend_from_slice(b",\"last_name\":");
    write_str(out, last_name);
    out.extend_from_slice(b",\"action\":\"");
    out.extend_from_slice(action.as_str().as_bytes());
    out.push(b'"');
    if let Some(id) = user_id {
        out.extend_from_slice(b",\"user_id\":");
        write_str(out, &id.0);
    }
    write_list(out, b",\"operations\":[", operations, write_operation);
    write_list(out, b",\"noops\":[", noops, write_noop);
    if !issues.is_empty() {
        out.extend_from_slice(b",\"issues\":");
        write_serde(out, issues);
    }
    out.push(b'}');
}

/// serde_json's bytes for `value`.
fn write_serde<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serialising plain data structures into a vector cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn write_operation(out: &mut Vec<u8>, operation: &Operation) {
    match operation {
        Operation::CreateUser {
            profile,
            login_method,
        } => {
            out.extend_from_slice(b"{\"op\":\"create_user\",\"profile\":");
            write_profile(out, profile);
            if let Some(method) = login_method {
                out.extend_from_slice(b",\"login_method\":");
                write_str(out, method);
            }
        }
        Operation::UpdateProfile { changes, expect } => {
            out.extend_from_slice(b"{\"op\":\"update_profile\",\"changes\":");
            write_profile(out, changes);
            if let Some(expect) = expect {
                out.extend_from_slice(b",\"expect\":");
                write_profile(out, expect);
            }
        }
        Operation::AddToGroup { group } => {
            out.extend_from_slice(b"{\"op\":\"add_to_group\",\"group\":");
            write_group(out, group);
        }
        Operation::RemoveFromGroup { group } => {
            out.extend_from_slice(b"{\"op\":\"remove_from_group\",\"group\":");
            write_group(out, group);
        }
        Operation::Enrol { content } => {
            out.extend_from_slice(b"{\"op\":\"enrol\",\"content\":");
            write_content(out, content);
        }
        Operation::SetPassword => out.extend_from_slice(b"{\"op\":\"set_password\""),
        Operation::Invite => out.extend_from_slice(b"{\"op\":\"invite\""),
        _ => return write_serde(out, operation),
    }
    out.push(b'}');
}

fn write_noop(out: &mut Vec<u8>, noop: &Noop) {
    match noop {
        Noop::AlreadyMember { group } => {
            out.extend_from_slice(b"{\"noop\":\"already_member\",\"group\":");
            write_str(out, group);
        }
        Noop::AlreadyEnrolled { content } => {
            out.extend_from_slice(b"{\"noop\":\"already_enrolled\",\"content\":");
            write_content(out, content);
        }
        Noop::ProfileUnchanged => out.extend_from_slice(b"{\"noop\":\"profile_unchanged\""),
        _ => return write_serde(out, noop),
    }
    out.push(b'}');
}

/// `key` (its comma, name and opening bracket) and the items, comma-separated, then `]`;
/// nothing for no items (the field is skipped when empty).
fn write_list<T>(out: &mut Vec<u8>, key: &[u8], items: &[T], write: fn(&mut Vec<u8>, &T)) {
    if items.is_empty() {
        return;
    }
    out.extend_from_slice(key);
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

fn write_profile(out: &mut Vec<u8>, profile: &Profile) {
    let Profile {
        first_name,
        last_name,
        phone_number,
        unique_id,
        country,
        organisation,
        language_code,
        custom,
    } = profile;
    let fields = [
        (&b"\"first_name\":"[..], first_name),
        (b"\"last_name\":", last_name),
        (b"\"phone_number\":", phone_number),
        (b"\"unique_id\":", unique_id),
        (b"\"country\":", country),
        (b"\"organisation\":", organisation),
        (b"\"language_code\":", language_code),
    ];
    out.push(b'{');
    let mut first = true;
    for (key, value) in fields {
        let Some(value) = value else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(key);
        write_str(out, value);
    }
    if !custom.is_empty() {
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(b"\"custom\":");
        write_serde(out, custom);
    }
    out.push(b'}');
}

fn write_group(out: &mut Vec<u8>, group: &Group) {
    let Group { id, name } = group;
    out.extend_from_slice(b"{\"id\":");
    write_str(out, id);
    out.extend_from_slice(b",\"name\":");
    write_str(out, name);
    out.push(b'}');
}

fn write_content(out: &mut Vec<u8>, content: &ContentRef) {
    let ContentRef { kind, id } = content;
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"id\":");
    write_str(out, id);
    out.push(b'}');
}

/// A JSON string: quoted as it is when it has nothing JSON escapes (a control character,
/// a quote or a backslash), else written by serde_json.
fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if escapes_any(bytes) {
        return write_serde(out, text);
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// Whether `bytes` hold a byte JSON escapes (a control character, a quote or a backslash),
/// read eight bytes a step: a row's strings are short (most under 24 bytes), and a loop over
/// bytes, or the vectorised one with its byte-by-byte tail, took some 80 instructions each.
/// Words may overlap (the last one ends at the end): a byte read twice changes nothing.
fn escapes_any(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let word = |at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let half = |at: usize| {
        let mut w = [0; 4];
        w.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    let found = if n >= 8 {
        let mut found = escapes_in(word(n - 8));
        let mut at = 0;
        while at + 8 < n {
            found |= escapes_in(word(at));
            at += 8;
        }
        found
    } else if n >= 4 {
        escapes_in(half(0) | half(n - 4) << 32)
    } else if n > 0 {
        // the first, middle and last bytes are all of them; spaces above
        const SPACES: u64 = 0x2020_2020_2000_0000;
        let byte = |at: usize| u64::from(bytes[at]);
        escapes_in(byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16 | SPACES)
    } else {
        0
    };
    found != 0
}

/// Non-zero when a byte of `word` is below 0x20, a quote or a backslash. Exact as a yes or
/// no: a byte's test borrows from the byte above only when that byte is itself one of them.
fn escapes_in(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // a byte below n (n <= 0x80): its high bit set by the subtraction and clear in the byte
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    (below(word, 0x20) | below(quote, 1) | below(backslash, 1)) & HIGH
}

/// A number in decimal.
fn write_number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The blocks of `rows` written by `writers` threads (block `i` by writer `i % writers`)
/// and digested here, in order. Each writer holds at most two blocks' JSON at a time (the
/// one it writes and one waiting), so what is held beside the plan is a few blocks of its
/// rows, whatever their size; buffers come back to be filled again.
fn digest_blocks_threaded<D: sha2::digest::Update>(
    rows: Source<'_>,
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
fn write_blocks_on_worker(rows: Source<'_>, block_rows: usize, lane: &Lane) {
    let starts = (0..rows.len()).step_by(block_rows).enumerate();
    let mut scratch = Vec::new();
    for (index, start) in starts.skip(lane.first).step_by(lane.step) {
        let block = rows.block(start..rows.len().min(start + block_rows), &mut scratch);
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
    fingerprint_of(plan, Source::Encoded(&plan.rows))
}

/// The fingerprint of `plan` with the rows of `rows`.
pub(super) fn fingerprint_of(plan: &Plan, rows: Source<'_>) -> String {
    let digest = write_canonical_of(plan, rows, Sha256::new()).finalize();
    format!("sha256:{}", hex(&digest))
}

pub(super) fn plan_error(code: IssueCode, message: String) -> Error {
    Error::new(ErrorKind::Plan, code, message)
}

impl Plan {
    /// This plan given `rows`, encoded, and the fingerprint of the whole, taken from `rows`
    /// as they are (decoding the rows just encoded would cost as much again): how an undo
    /// plan is made (a new plan's rows are encoded as they are planned, a shard's copied).
    pub(crate) fn with_rows(mut self, rows: Vec<PlanRow>) -> Plan {
        self.fingerprint = fingerprint_of(&self, Source::Decoded(&rows));
        self.rows = PlanRows::from_vec(rows);
        self
    }

    /// The plan as compact JSON (deterministic: same inputs, same bytes; no password).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Writes [`to_json`](Plan::to_json)'s bytes into `out`, without holding them whole:
    /// the rows a block at a time, each written as the fingerprint writes them (by hand for
    /// the common shapes, several times faster than serde_json), and for a large plan on
    /// other threads (one per core, at most three) while this one writes them to `out` in
    /// order. A host that stores the plan compressed feeds its compressor with this.
    ///
    /// # Errors
    ///
    /// The first error `out` returns; nothing is written after it.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let sink = WriteSink { out, error: None };
        let writers = writers_for(Source::Encoded(&self.rows));
        let sink = write_whole_in_blocks(self, sink, BLOCK_ROWS, writers);
        sink.error.map_or(Ok(()), Err)
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
    fn rows_written_by_hand_are_the_bytes_serde_json_writes() {
        use crate::host::mailer::MessageKind;
        use crate::host::store::{Group, Profile, UserId};
        use crate::plan::{Action, Noop, Operation};
        let texts = [
            "",
            "plain",
            "ana@example.com",
            "qu\"ote",
            "back\\slash",
            "tab\tnew\nline\r",
            "\u{0}\u{1}\u{8}\u{c}\u{1f}",
            "del\u{7f} /slash",
            "é ü 😀 \u{2028}",
        ];
        let full = |t: &str| Profile {
            first_name: Some(t.into()),
            last_name: Some(format!("{t}2")),
            phone_number: Some(String::new()),
            unique_id: Some(t.into()),
            country: Some("NZ".into()),
            organisation: Some(t.into()),
            language_code: Some("en".into()),
            custom: [
                ("k".to_owned(), t.to_owned()),
                (t.to_owned(), "v".to_owned()),
            ]
            .into(),
        };
        let some = |t: &str| Profile {
            organisation: Some(t.into()),
            ..Profile::default()
        };
        let custom_only = |t: &str| Profile {
            custom: [(t.to_owned(), t.to_owned())].into(),
            ..Profile::default()
        };
        let group = |t: &str| Group {
            id: format!("{t}-id"),
            name: t.into(),
        };
        let kinds = [
            ContentKind::Course,
            ContentKind::Collection,
            ContentKind::Campaign,
        ];
        let actions = [
            Action::Create,
            Action::Update,
            Action::Unchanged,
            Action::Rejected,
        ];
        let mut rows = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let content = ContentRef::new(kinds[i % 3], *t);
            let operations = vec![
                Operation::CreateUser {
                    profile: Box::new(full(t)),
                    login_method: None,
                },
                Operation::CreateUser {
                    profile: Box::new(Profile::default()),
                    login_method: Some((*t).into()),
                },
                Operation::SetLoginMethod {
                    method: (*t).into(),
                    expect: Some("password".into()),
                },
                Operation::ReactivateUser,
                Operation::UpdateProfile {
                    changes: Box::new(some(t)),
                    expect: None,
                },
                Operation::UpdateProfile {
                    changes: Box::new(custom_only(t)),
                    expect: Some(Box::new(full(t))),
                },
                Operation::SetPassword,
                Operation::Invite,
                Operation::RevokeInvitations,
                Operation::AddToGroup { group: group(t) },
                Operation::RemoveFromGroup { group: group(t) },
                Operation::Enrol {
                    content: content.clone(),
                },
                Operation::SendEmail {
                    kind: MessageKind::PasswordChanged,
                },
                Operation::SuspendUser,
                Operation::DeleteUser,
                Operation::Withdraw {
                    content: content.clone(),
                },
            ];
            let noops = vec![
                Noop::AlreadyMember { group: (*t).into() },
                Noop::NotAMember { group: (*t).into() },
                Noop::AlreadyEnrolled { content },
                Noop::ProfileUnchanged,
            ];
            let issues = vec![crate::issue::Issue::new(
                crate::issue::IssueCode::ProtectedUser,
                Some(7),
                Some("email"),
                format!("{t} is protected"),
            )];
            let row = PlanRow {
                line: [0, 1, 99, u32::MAX][i % 4],
                email: (*t).into(),
                first_name: format!("{t}F"),
                last_name: String::new(),
                action: actions[i % 4],
                user_id: Some(UserId((*t).into())),
                operations,
                noops,
                issues,
            };
            for (ops, noops, issues, user) in [
                (true, true, true, true),
                (true, false, false, false),
                (false, true, false, true),
                (false, false, true, false),
                (false, false, false, false),
            ] {
                let mut variant = row.clone();
                if !ops {
                    variant.operations.clear();
                }
                if !noops {
                    variant.noops.clear();
                }
                if !issues {
                    variant.issues.clear();
                }
                if !user {
                    variant.user_id = None;
                }
                rows.push(variant);
            }
            // each operation and no-op on its own
            for op in &row.operations {
                let mut variant = row.clone();
                variant.operations = vec![op.clone()];
                rows.push(variant);
            }
            for noop in &row.noops {
                let mut variant = row.clone();
                variant.noops = vec![noop.clone()];
                rows.push(variant);
            }
        }
        for row in &rows {
            let mut written = Vec::new();
            write_row(&mut written, row);
            let expected = serde_json::to_string(row).expect("serialises");
            assert_eq!(String::from_utf8(written).expect("UTF-8"), expected);
        }
    }

    #[test]
    fn escapes_are_found_as_a_byte_by_byte_search_finds_them() {
        let slow = |b: &[u8]| b.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        // every length to 33, each byte value at each place among plain bytes, alone and
        // beside bytes that borrow (0x00, 0x80), are high (0xff) or are next to the tested
        // values
        let beside = [0x00u8, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x80, 0xa2, 0xdc, 0xff];
        for n in 0..=33 {
            let mut bytes = vec![b'a'; n];
            assert!(!escapes_any(&bytes), "{n}");
            for at in 0..n {
                for value in 0..=255u8 {
                    bytes[at] = value;
                    assert_eq!(escapes_any(&bytes), slow(&bytes), "{n} {at} {value}");
                    for near in [at.wrapping_sub(1), at + 1].into_iter().filter(|&i| i < n) {
                        for &other in &beside {
                            bytes[near] = other;
                            let (fast, expected) = (escapes_any(&bytes), slow(&bytes));
                            assert_eq!(fast, expected, "{n} {at} {value} {near} {other}");
                        }
                        bytes[near] = b'a';
                    }
                }
                bytes[at] = b'a';
            }
        }
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

    #[test]
    fn write_json_writes_to_json_s_bytes() {
        let parent = a_plan(9, 9);
        let empty = a_plan(2, 0);
        let shards = parent.shards(4).expect("shards");
        for plan in [&parent, &empty].into_iter().chain(&shards) {
            let expected = plan.to_json();
            for block_rows in [1, 2, 3, 5, 100] {
                for writers in [0, 1, 2, 3] {
                    let written =
                        write_whole_in_blocks(plan, Bytes::default(), block_rows, writers);
                    assert_eq!(
                        String::from_utf8_lossy(&written.0),
                        expected,
                        "{block_rows} rows a block, {writers} writers"
                    );
                }
            }
            let mut out = Vec::new();
            plan.write_json(&mut out).expect("writes");
            assert_eq!(String::from_utf8(out).expect("UTF-8"), expected);
        }
        // A writer that fails: its error, and nothing written after it.
        struct Full(usize);
        impl std::io::Write for Full {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("full"));
                }
                self.0 -= 1;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut full = Full(1);
        let err = parent.write_json(&mut full).expect_err("fails");
        assert_eq!(err.to_string(), "full");
    }
}
