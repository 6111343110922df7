//! Plan rows kept as bytes: a million-row plan held as [`PlanRow`]s costs ~600 bytes a row
//! (176 inline and about eight small allocations); encoded it costs about a hundred.
//!
//! # Layout
//!
//! All rows are appended to one buffer; `ends[i]` is the offset just past row `i` (a `u64`,
//! so a plan may exceed 4 GB of encoded bytes). A row is:
//!
//! ```text
//! line        varint (LEB128)           first, so `line` reads it alone
//! action      byte (index in ACTIONS)   second, so `action` reads it after the line
//! email, first_name, last_name          str = varint length + UTF-8 bytes
//! user_id     opt = varint 0 for None, else length + 1, then the bytes
//! operations  varint count, then each: tag byte + its fields (see `put_operation`)
//! noops       varint count, then each: tag byte + its fields
//! issues      varint count, then each: code (varint, index in IssueCode::ALL),
//!             severity byte, line (varint 0 for None, else line + 1), column opt, message str
//! ```
//!
//! A profile is a byte whose bit `i` marks field `i` of [`Profile::fields`]'s order present,
//! the present fields' strs in that order, then the custom fields: varint count and
//! key/value strs in the map's (sorted) order. A `Group` is its id and name strs; a
//! `ContentRef` its kind byte and id str.
//!
//! Every choice is a function of the value alone (minimal varints, maps in key order), so
//! equal rows give equal bytes and the derived `PartialEq` is row equality. The decoder reads
//! only bytes this module wrote: a failed decode is a bug here, hence the `expect`s.

use super::{Action, Noop, Operation, PlanRow};
use crate::host::mailer::MessageKind;
use crate::host::store::{ContentKind, ContentRef, Group, Profile, UserId};
use crate::issue::{Issue, IssueCode, Severity};
use std::fmt;
use std::ops::Range;

/// Bytes reserved a row by [`CompactRows::with_capacity`] (the benchmark's rows take ~100).
const GUESSED_ROW_BYTES: usize = 96;

/// Plan rows encoded in one byte buffer, each decoded on access.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct CompactRows {
    /// The rows' encodings, one after the other.
    bytes: Vec<u8>,
    /// The offset in `bytes` just past each row.
    ends: Vec<u64>,
}

impl CompactRows {
    /// No rows.
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// No rows, with room for the index of `rows` rows and a guess of their bytes.
    pub(crate) fn with_capacity(rows: usize) -> Self {
        CompactRows {
            bytes: Vec::with_capacity(rows.saturating_mul(GUESSED_ROW_BYTES)),
            ends: Vec::with_capacity(rows),
        }
    }

    /// Appends one row.
    pub(crate) fn push(&mut self, row: &PlanRow) {
        put_row(&mut self.bytes, row);
        self.ends.push(self.bytes.len() as u64);
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no rows.
    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Row `index`, decoded.
    pub(crate) fn get(&self, index: usize) -> Option<PlanRow> {
        self.reader(index).map(|mut r| r.row())
    }

    /// Appends the rows of `range` decoded (for execute's batches and serialisation).
    ///
    /// Panics, like slicing, if the range is out of bounds or decreasing.
    pub(crate) fn decode_into(&self, range: Range<usize>, out: &mut Vec<PlanRow>) {
        let mut r = self.range_reader(&range);
        out.reserve(range.len());
        for _ in range {
            out.push(r.row());
        }
    }

    /// Decodes the rows of `range` into `out`: `out[i]` is overwritten with row
    /// `range.start + i`, reusing the Strings, Vecs and Boxes it already holds (cleared and
    /// refilled; a String's capacity kept), then `out` is truncated or extended to
    /// `range.len()`. The result is equal (==) to what `decode_into` gives.
    ///
    /// Panics, like slicing, if the range is out of bounds or decreasing.
    pub(crate) fn decode_reusing(&self, range: Range<usize>, out: &mut Vec<PlanRow>) {
        let mut r = self.range_reader(&range);
        out.truncate(range.len());
        for row in out.iter_mut() {
            r.row_into(row);
        }
        out.reserve(range.len() - out.len());
        while out.len() < range.len() {
            out.push(r.row());
        }
    }

    /// The line of row `index`, without decoding the rest of it.
    pub(crate) fn line(&self, index: usize) -> Option<u32> {
        self.reader(index).map(|mut r| r.u32())
    }

    /// The action of row `index`, without decoding the rest of it.
    pub(crate) fn action(&self, index: usize) -> Option<Action> {
        self.reader(index).map(|mut r| {
            r.varint();
            r.action()
        })
    }

    /// Appends row `index` of `other`, its bytes copied, not decoded.
    pub(crate) fn push_copy(&mut self, other: &CompactRows, index: usize) {
        let (start, end) = (other.start(index), offset(other.ends[index]));
        self.bytes.extend_from_slice(&other.bytes[start..end]);
        self.ends.push(self.bytes.len() as u64);
    }

    /// Appends `other`'s rows after these (rows encoded on several threads, joined in order).
    pub(crate) fn append(&mut self, other: CompactRows) {
        if self.is_empty() && self.bytes.capacity() <= other.bytes.capacity() {
            *self = other;
            return;
        }
        let base = self.bytes.len() as u64;
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|end| base + end));
    }

    /// `rows` encoded on up to `threads` threads: the same bytes as pushing them one by one
    /// (what the tests compare; a plan encodes its rows with `PlanRows::from_vec`, which
    /// drops each once encoded).
    #[cfg(test)]
    pub(crate) fn encode(rows: &[PlanRow], threads: usize) -> CompactRows {
        let threads = threads.clamp(1, rows.len().max(1));
        if threads == 1 {
            let mut out = CompactRows::with_capacity(rows.len());
            for row in rows {
                out.push(row);
            }
            return out;
        }
        let chunk = rows.len().div_ceil(threads);
        let parts: Vec<CompactRows> = std::thread::scope(|scope| {
            let handles: Vec<_> = rows
                .chunks(chunk)
                .map(|part| scope.spawn(move || CompactRows::encode(part, 1)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("encoding plan rows does not panic"))
                .collect()
        });
        let total: usize = parts.iter().map(|p| p.bytes.len()).sum();
        let mut out = CompactRows {
            bytes: Vec::with_capacity(total),
            ends: Vec::with_capacity(rows.len()),
        };
        for part in parts {
            out.append(part);
        }
        out
    }

    /// Gives back the room reserved beyond the rows.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Heap bytes held (capacity, not length).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * std::mem::size_of::<u64>()
    }

    /// Where row `index` starts.
    fn start(&self, index: usize) -> usize {
        match index.checked_sub(1) {
            None => 0,
            Some(previous) => offset(self.ends[previous]),
        }
    }

    /// A reader at the start of `range`'s first row; panics, like slicing, if the range is
    /// out of bounds or decreasing.
    fn range_reader(&self, range: &Range<usize>) -> Reader<'_> {
        assert!(
            range.start <= range.end && range.end <= self.len(),
            "rows {range:?} of {} decoded",
            self.len()
        );
        Reader {
            bytes: &self.bytes,
            pos: self.start(range.start),
        }
    }

    /// A reader at the start of row `index`, if there is one.
    fn reader(&self, index: usize) -> Option<Reader<'_>> {
        (index < self.len()).then(|| Reader {
            bytes: &self.bytes,
            pos: self.start(index),
        })
    }
}

impl fmt::Debug for CompactRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries((0..self.len()).filter_map(|i| self.get(i)))
            .finish()
    }
}

/// An offset of the buffer as an index (it was the length of a `Vec` on this machine).
fn offset(end: u64) -> usize {
    usize::try_from(end).expect("a row's end is within the buffer it was taken from")
}

// ---- the tags ---------------------------------------------------------------------------
// Each enum's bytes are its index in one of these tables; the encoders' exhaustive matches
// (no `_` arm) break the build when a variant is added, and a test checks that each
// table's entries encode to their own index.

const ACTIONS: [Action; 4] = [
    Action::Create,
    Action::Update,
    Action::Unchanged,
    Action::Rejected,
];

fn action_tag(action: Action) -> u8 {
    match action {
        Action::Create => 0,
        Action::Update => 1,
        Action::Unchanged => 2,
        Action::Rejected => 3,
    }
}

const CONTENT_KINDS: [ContentKind; 3] = [
    ContentKind::Course,
    ContentKind::Collection,
    ContentKind::Campaign,
];

fn content_kind_tag(kind: ContentKind) -> u8 {
    match kind {
        ContentKind::Course => 0,
        ContentKind::Collection => 1,
        ContentKind::Campaign => 2,
    }
}

const MESSAGE_KINDS: [MessageKind; 4] = [
    MessageKind::Welcome,
    MessageKind::PasswordChanged,
    MessageKind::UploadComplete,
    MessageKind::UndoComplete,
];

fn message_kind_tag(kind: MessageKind) -> u8 {
    match kind {
        MessageKind::Welcome => 0,
        MessageKind::PasswordChanged => 1,
        MessageKind::UploadComplete => 2,
        MessageKind::UndoComplete => 3,
    }
}

const SEVERITIES: [Severity; 2] = [Severity::Error, Severity::Warning];

fn severity_tag(severity: Severity) -> u8 {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
    }
}

/// The index of `code` in [`IssueCode::ALL`] (declaration order: the enum's discriminant).
fn issue_code_index(code: IssueCode) -> u64 {
    let index = code as usize;
    debug_assert_eq!(
        IssueCode::ALL[index],
        code,
        "IssueCode::ALL is in declaration order"
    );
    index as u64
}

// Operation tags.
const CREATE_USER: u8 = 0;
const SET_LOGIN_METHOD: u8 = 1;
const REACTIVATE_USER: u8 = 2;
const UPDATE_PROFILE: u8 = 3;
const SET_PASSWORD: u8 = 4;
const INVITE: u8 = 5;
const REVOKE_INVITATIONS: u8 = 6;
const ADD_TO_GROUP: u8 = 7;
const REMOVE_FROM_GROUP: u8 = 8;
const ENROL: u8 = 9;
const SEND_EMAIL: u8 = 10;
const SUSPEND_USER: u8 = 11;
const DELETE_USER: u8 = 12;
const WITHDRAW: u8 = 13;

// Noop tags.
const ALREADY_MEMBER: u8 = 0;
const NOT_A_MEMBER: u8 = 1;
const ALREADY_ENROLLED: u8 = 2;
const PROFILE_UNCHANGED: u8 = 3;

/// The tag `put_operation` writes before `op`'s fields.
fn operation_tag(op: &Operation) -> u8 {
    match op {
        Operation::CreateUser { .. } => CREATE_USER,
        Operation::SetLoginMethod { .. } => SET_LOGIN_METHOD,
        Operation::ReactivateUser => REACTIVATE_USER,
        Operation::UpdateProfile { .. } => UPDATE_PROFILE,
        Operation::SetPassword => SET_PASSWORD,
        Operation::Invite => INVITE,
        Operation::RevokeInvitations => REVOKE_INVITATIONS,
        Operation::AddToGroup { .. } => ADD_TO_GROUP,
        Operation::RemoveFromGroup { .. } => REMOVE_FROM_GROUP,
        Operation::Enrol { .. } => ENROL,
        Operation::SendEmail { .. } => SEND_EMAIL,
        Operation::SuspendUser => SUSPEND_USER,
        Operation::DeleteUser => DELETE_USER,
        Operation::Withdraw { .. } => WITHDRAW,
    }
}

/// The variant of operation tag `tag`, its fields empty (the decoder then reads them in:
/// [`Reader::operation_fields_into`]). The inverse of [`operation_tag`], which a test checks.
fn empty_operation(tag: u8) -> Operation {
    match tag {
        CREATE_USER => Operation::CreateUser {
            profile: Box::default(),
            login_method: None,
        },
        SET_LOGIN_METHOD => Operation::SetLoginMethod {
            method: String::new(),
            expect: None,
        },
        REACTIVATE_USER => Operation::ReactivateUser,
        UPDATE_PROFILE => Operation::UpdateProfile {
            changes: Box::default(),
            expect: None,
        },
        SET_PASSWORD => Operation::SetPassword,
        INVITE => Operation::Invite,
        REVOKE_INVITATIONS => Operation::RevokeInvitations,
        ADD_TO_GROUP => Operation::AddToGroup {
            group: empty_group(),
        },
        REMOVE_FROM_GROUP => Operation::RemoveFromGroup {
            group: empty_group(),
        },
        ENROL => Operation::Enrol {
            content: empty_content(),
        },
        SEND_EMAIL => Operation::SendEmail {
            kind: MESSAGE_KINDS[0],
        },
        SUSPEND_USER => Operation::SuspendUser,
        DELETE_USER => Operation::DeleteUser,
        WITHDRAW => Operation::Withdraw {
            content: empty_content(),
        },
        tag => panic!("a compact operation tag is one put_operation writes, not {tag}"),
    }
}

/// The tag `put_noop` writes before `noop`'s fields.
fn noop_tag(noop: &Noop) -> u8 {
    match noop {
        Noop::AlreadyMember { .. } => ALREADY_MEMBER,
        Noop::NotAMember { .. } => NOT_A_MEMBER,
        Noop::AlreadyEnrolled { .. } => ALREADY_ENROLLED,
        Noop::ProfileUnchanged => PROFILE_UNCHANGED,
    }
}

/// The variant of noop tag `tag`, its fields empty. The inverse of [`noop_tag`].
fn empty_noop(tag: u8) -> Noop {
    match tag {
        ALREADY_MEMBER => Noop::AlreadyMember {
            group: String::new(),
        },
        NOT_A_MEMBER => Noop::NotAMember {
            group: String::new(),
        },
        ALREADY_ENROLLED => Noop::AlreadyEnrolled {
            content: empty_content(),
        },
        PROFILE_UNCHANGED => Noop::ProfileUnchanged,
        tag => panic!("a compact noop tag is one put_noop writes, not {tag}"),
    }
}

/// A group to decode into.
fn empty_group() -> Group {
    Group {
        id: String::new(),
        name: String::new(),
    }
}

/// A content reference to decode into (its kind is overwritten too).
fn empty_content() -> ContentRef {
    ContentRef::new(CONTENT_KINDS[0], String::new())
}

// ---- encoding ---------------------------------------------------------------------------

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// `None` as 0, `Some(s)` as its length + 1 and its bytes.
fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            put_varint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

fn put_row(out: &mut Vec<u8>, row: &PlanRow) {
    // destructured: a new field breaks the build here rather than go unencoded
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
    put_varint(out, u64::from(*line));
    out.push(action_tag(*action));
    put_str(out, email);
    put_str(out, first_name);
    put_str(out, last_name);
    put_opt_str(out, user_id.as_ref().map(|UserId(id)| id.as_str()));
    put_varint(out, operations.len() as u64);
    for op in operations {
        put_operation(out, op);
    }
    put_varint(out, noops.len() as u64);
    for noop in noops {
        put_noop(out, noop);
    }
    put_varint(out, issues.len() as u64);
    for issue in issues {
        put_issue(out, issue);
    }
}

fn put_profile(out: &mut Vec<u8>, profile: &Profile) {
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
        first_name,
        last_name,
        phone_number,
        unique_id,
        country,
        organisation,
        language_code,
    ];
    let mut mask = 0u8;
    for (i, field) in fields.iter().enumerate() {
        if field.is_some() {
            mask |= 1 << i;
        }
    }
    out.push(mask);
    for field in fields.into_iter().flatten() {
        put_str(out, field);
    }
    put_varint(out, custom.len() as u64);
    for (name, value) in custom {
        put_str(out, name);
        put_str(out, value);
    }
}

fn put_group(out: &mut Vec<u8>, group: &Group) {
    let Group { id, name } = group;
    put_str(out, id);
    put_str(out, name);
}

fn put_content(out: &mut Vec<u8>, content: &ContentRef) {
    let ContentRef { kind, id } = content;
    out.push(content_kind_tag(*kind));
    put_str(out, id);
}

fn put_operation(out: &mut Vec<u8>, op: &Operation) {
    out.push(operation_tag(op));
    match op {
        Operation::CreateUser {
            profile,
            login_method,
        } => {
            put_profile(out, profile);
            put_opt_str(out, login_method.as_deref());
        }
        Operation::SetLoginMethod { method, expect } => {
            put_str(out, method);
            put_opt_str(out, expect.as_deref());
        }
        Operation::UpdateProfile { changes, expect } => {
            put_profile(out, changes);
            match expect {
                None => out.push(0),
                Some(expect) => {
                    out.push(1);
                    put_profile(out, expect);
                }
            }
        }
        Operation::AddToGroup { group } | Operation::RemoveFromGroup { group } => {
            put_group(out, group);
        }
        Operation::Enrol { content } | Operation::Withdraw { content } => put_content(out, content),
        Operation::SendEmail { kind } => out.push(message_kind_tag(*kind)),
        Operation::ReactivateUser
        | Operation::SetPassword
        | Operation::Invite
        | Operation::RevokeInvitations
        | Operation::SuspendUser
        | Operation::DeleteUser => {}
    }
}

fn put_noop(out: &mut Vec<u8>, noop: &Noop) {
    out.push(noop_tag(noop));
    match noop {
        Noop::AlreadyMember { group } | Noop::NotAMember { group } => put_str(out, group),
        Noop::AlreadyEnrolled { content } => put_content(out, content),
        Noop::ProfileUnchanged => {}
    }
}

fn put_issue(out: &mut Vec<u8>, issue: &Issue) {
    let Issue {
        code,
        severity,
        line,
        column,
        message,
    } = issue;
    put_varint(out, issue_code_index(*code));
    out.push(severity_tag(*severity));
    put_varint(out, line.map_or(0, |line| u64::from(line) + 1));
    put_opt_str(out, column.as_deref());
    put_str(out, message);
}

// ---- decoding ---------------------------------------------------------------------------

/// Reads what the `put_*` functions wrote, in the same order.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = *self
            .bytes
            .get(self.pos)
            .expect("a compact row is read within the bytes it was written to");
        self.pos += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return n;
            }
            shift += 7;
        }
    }

    fn len(&mut self) -> usize {
        usize::try_from(self.varint()).expect("a compact length was a usize when written")
    }

    fn u32(&mut self) -> u32 {
        u32::try_from(self.varint()).expect("a compact line was a u32 when written")
    }

    /// Overwrites `s` with the next `len` bytes, keeping its allocation if it is large
    /// enough (a new one is exactly `len` bytes).
    fn bytes_into(&mut self, len: usize, s: &mut String) {
        let end = self.pos + len;
        let text = std::str::from_utf8(&self.bytes[self.pos..end])
            .expect("a compact string was a String's UTF-8 when written");
        self.pos = end;
        s.clear();
        s.reserve_exact(len);
        s.push_str(text);
    }

    fn str(&mut self) -> String {
        let mut s = String::new();
        self.str_into(&mut s);
        s
    }

    /// What `put_str` wrote, into `s`.
    fn str_into(&mut self, s: &mut String) {
        let len = self.len();
        self.bytes_into(len, s);
    }

    /// The length of what `put_opt_str` wrote: `None` for `None`.
    fn opt_len(&mut self) -> Option<usize> {
        self.len().checked_sub(1)
    }

    fn opt_str(&mut self) -> Option<String> {
        let mut s = None;
        self.opt_str_into(&mut s);
        s
    }

    /// What `put_opt_str` wrote, into `s` (the `String` of a `Some` reused).
    fn opt_str_into(&mut self, s: &mut Option<String>) {
        match self.opt_len() {
            None => *s = None,
            Some(len) => self.bytes_into(len, s.get_or_insert_with(String::new)),
        }
    }

    fn flag(&mut self) -> bool {
        match self.byte() {
            0 => false,
            1 => true,
            b => panic!("a compact presence byte is 0 or 1 as written, not {b}"),
        }
    }

    fn action(&mut self) -> Action {
        *ACTIONS
            .get(usize::from(self.byte()))
            .expect("a compact action byte was written from ACTIONS")
    }

    fn row(&mut self) -> PlanRow {
        let mut row = PlanRow::placeholder();
        self.row_into(&mut row);
        row
    }

    /// What `put_row` wrote, into `row`, reusing the allocations it holds.
    fn row_into(&mut self, row: &mut PlanRow) {
        // destructured: a new field breaks the build here rather than go undecoded
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
        *line = self.u32();
        *action = self.action();
        self.str_into(email);
        self.str_into(first_name);
        self.str_into(last_name);
        match self.opt_len() {
            None => *user_id = None,
            Some(len) => {
                let UserId(id) = user_id.get_or_insert_with(|| UserId(String::new()));
                self.bytes_into(len, id);
            }
        }
        self.items_into(operations, Self::operation_into, Self::operation);
        self.items_into(noops, Self::noop_into, Self::noop);
        // rare: decoded afresh
        let count = self.len();
        issues.clear();
        issues.reserve_exact(count);
        for _ in 0..count {
            issues.push(self.issue());
        }
    }

    /// What `put_profile` wrote, into `profile` (each present field's `String` reused).
    fn profile_into(&mut self, profile: &mut Profile) {
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
        let mask = self.byte();
        assert!(
            mask < 1 << 7,
            "a compact profile mask has the 7 fields' bits only, as written, not {mask:#x}"
        );
        let fields = [
            first_name,
            last_name,
            phone_number,
            unique_id,
            country,
            organisation,
            language_code,
        ];
        for (i, field) in fields.into_iter().enumerate() {
            if mask & (1 << i) == 0 {
                *field = None;
            } else {
                self.str_into(field.get_or_insert_with(String::new));
            }
        }
        // rare: decoded afresh
        custom.clear();
        for _ in 0..self.len() {
            let name = self.str();
            let value = self.str();
            custom.insert(name, value);
        }
    }

    /// What `put_group` wrote, into `group`.
    fn group_into(&mut self, group: &mut Group) {
        let Group { id, name } = group;
        self.str_into(id);
        self.str_into(name);
    }

    /// What `put_content` wrote, into `content`.
    fn content_into(&mut self, content: &mut ContentRef) {
        let ContentRef { kind, id } = content;
        *kind = *CONTENT_KINDS
            .get(usize::from(self.byte()))
            .expect("a compact content kind byte was written from CONTENT_KINDS");
        self.str_into(id);
    }

    /// A varint count and that many items, into `items`: the first ones it holds decoded in
    /// place by `into`, the rest by `fresh`, the extra ones dropped.
    fn items_into<T>(
        &mut self,
        items: &mut Vec<T>,
        into: fn(&mut Self, &mut T),
        fresh: fn(&mut Self) -> T,
    ) {
        let count = self.len();
        items.truncate(count);
        for item in items.iter_mut() {
            into(self, item);
        }
        items.reserve_exact(count - items.len());
        while items.len() < count {
            items.push(fresh(self));
        }
    }

    fn operation(&mut self) -> Operation {
        let mut op = empty_operation(self.byte());
        self.operation_fields_into(&mut op);
        op
    }

    /// What `put_operation` wrote, into `op`: in place if it is the variant written, else
    /// into a new one.
    fn operation_into(&mut self, op: &mut Operation) {
        let tag = self.byte();
        if operation_tag(op) != tag {
            *op = empty_operation(tag);
        }
        self.operation_fields_into(op);
    }

    /// The fields `put_operation` wrote after `op`'s tag, into `op`.
    fn operation_fields_into(&mut self, op: &mut Operation) {
        match op {
            Operation::CreateUser {
                profile,
                login_method,
            } => {
                self.profile_into(profile);
                self.opt_str_into(login_method);
            }
            Operation::SetLoginMethod { method, expect } => {
                self.str_into(method);
                self.opt_str_into(expect);
            }
            Operation::UpdateProfile { changes, expect } => {
                self.profile_into(changes);
                if self.flag() {
                    self.profile_into(expect.get_or_insert_with(Box::default));
                } else {
                    *expect = None;
                }
            }
            Operation::AddToGroup { group } | Operation::RemoveFromGroup { group } => {
                self.group_into(group);
            }
            Operation::Enrol { content } | Operation::Withdraw { content } => {
                self.content_into(content);
            }
            Operation::SendEmail { kind } => {
                *kind = *MESSAGE_KINDS
                    .get(usize::from(self.byte()))
                    .expect("a compact message kind byte was written from MESSAGE_KINDS");
            }
            Operation::ReactivateUser
            | Operation::SetPassword
            | Operation::Invite
            | Operation::RevokeInvitations
            | Operation::SuspendUser
            | Operation::DeleteUser => {}
        }
    }

    fn noop(&mut self) -> Noop {
        let mut noop = empty_noop(self.byte());
        self.noop_fields_into(&mut noop);
        noop
    }

    /// What `put_noop` wrote, into `noop`: in place if it is the variant written.
    fn noop_into(&mut self, noop: &mut Noop) {
        let tag = self.byte();
        if noop_tag(noop) != tag {
            *noop = empty_noop(tag);
        }
        self.noop_fields_into(noop);
    }

    /// The fields `put_noop` wrote after `noop`'s tag, into `noop`.
    fn noop_fields_into(&mut self, noop: &mut Noop) {
        match noop {
            Noop::AlreadyMember { group } | Noop::NotAMember { group } => self.str_into(group),
            Noop::AlreadyEnrolled { content } => self.content_into(content),
            Noop::ProfileUnchanged => {}
        }
    }

    fn issue(&mut self) -> Issue {
        let code = *IssueCode::ALL
            .get(self.len())
            .expect("a compact issue code is an index in IssueCode::ALL");
        let severity = *SEVERITIES
            .get(usize::from(self.byte()))
            .expect("a compact severity byte was written from SEVERITIES");
        let line = match self.varint() {
            0 => None,
            n => Some(u32::try_from(n - 1).expect("a compact issue line was a u32 when written")),
        };
        let column = self.opt_str();
        let message = self.str();
        Issue {
            code,
            severity,
            line,
            column,
            message,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::execute::ExecuteOptions;
    use crate::host::memory::{MemoryStore, RecordingMailer};
    use crate::host::store::ExistingUser;
    use crate::plan::settings::Settings;
    use crate::{parse, plan, plan_undo, HashParams, ParseOptions, ProfileField, UndoOptions};
    use std::collections::BTreeMap;

    include!("../../benches/data/plan.rs");

    fn profile_full() -> Profile {
        Profile {
            first_name: Some("Ána".into()),
            last_name: Some("Ø'Brien 山田".into()),
            phone_number: Some(String::new()),
            unique_id: Some("E-1".into()),
            country: Some("NZ".into()),
            organisation: Some("x".repeat(200)),
            language_code: Some("mi-NZ".into()),
            custom: BTreeMap::from([
                ("department".into(), "Sales 🚀".into()),
                ("empty".into(), String::new()),
                (String::new(), "blank name".into()),
            ]),
        }
    }

    fn issue(code: IssueCode, line: Option<u32>, column: Option<&str>, message: &str) -> Issue {
        Issue {
            code,
            severity: code.severity(),
            line,
            column: column.map(str::to_owned),
            message: message.into(),
        }
    }

    fn group(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            name: name.into(),
        }
    }

    fn every_operation() -> Vec<Operation> {
        let mut ops = vec![
            Operation::CreateUser {
                profile: Box::new(profile_full()),
                login_method: None,
            },
            Operation::CreateUser {
                profile: Box::default(),
                login_method: Some(String::new()),
            },
            Operation::CreateUser {
                profile: Box::new(Profile {
                    language_code: Some("en".into()),
                    ..Profile::default()
                }),
                login_method: Some("saml".into()),
            },
            Operation::SetLoginMethod {
                method: "password".into(),
                expect: None,
            },
            Operation::SetLoginMethod {
                method: String::new(),
                expect: Some(String::new()),
            },
            Operation::SetLoginMethod {
                method: "oidc".into(),
                expect: Some("saml".into()),
            },
            Operation::ReactivateUser,
            Operation::UpdateProfile {
                changes: Box::new(profile_full()),
                expect: None,
            },
            Operation::UpdateProfile {
                changes: Box::default(),
                expect: Some(Box::default()),
            },
            Operation::UpdateProfile {
                changes: Box::new(Profile {
                    country: Some(String::new()),
                    ..Profile::default()
                }),
                expect: Some(Box::new(profile_full())),
            },
            Operation::SetPassword,
            Operation::Invite,
            Operation::RevokeInvitations,
            Operation::AddToGroup {
                group: group("g1", "Sales"),
            },
            Operation::AddToGroup {
                group: group("", ""),
            },
            Operation::RemoveFromGroup {
                group: group("g2", "Support ☎"),
            },
            Operation::SuspendUser,
            Operation::DeleteUser,
        ];
        for kind in CONTENT_KINDS {
            ops.push(Operation::Enrol {
                content: ContentRef::new(kind, format!("{kind:?}-1")),
            });
            ops.push(Operation::Withdraw {
                content: ContentRef::new(kind, ""),
            });
        }
        for kind in MESSAGE_KINDS {
            ops.push(Operation::SendEmail { kind });
        }
        ops
    }

    fn every_noop() -> Vec<Noop> {
        let mut noops = vec![
            Noop::AlreadyMember {
                group: "Sales".into(),
            },
            Noop::AlreadyMember {
                group: String::new(),
            },
            Noop::NotAMember {
                group: "Ünïcödé".into(),
            },
            Noop::ProfileUnchanged,
        ];
        for kind in CONTENT_KINDS {
            noops.push(Noop::AlreadyEnrolled {
                content: ContentRef::new(kind, "c9"),
            });
        }
        noops
    }

    /// Rows of every shape the encoding has (each variant, empty and long strings...).
    pub(in crate::plan) fn hand_built() -> Vec<PlanRow> {
        let mut rows = Vec::new();
        let mut empty = PlanRow::placeholder();
        rows.push(empty.clone());
        empty.line = u32::MAX;
        empty.user_id = Some(UserId(String::new()));
        rows.push(empty);
        for action in ACTIONS {
            rows.push(PlanRow {
                line: 2,
                email: "ana@example.com".into(),
                first_name: "Ana".into(),
                last_name: "López".into(),
                action,
                user_id: Some(UserId("u-1".into())),
                operations: every_operation(),
                noops: every_noop(),
                issues: vec![
                    issue(IssueCode::InvalidEmail, Some(2), Some("email"), "bad"),
                    issue(IssueCode::UndoConflict, None, None, ""),
                    issue(IssueCode::EmptyFile, Some(0), Some(""), "é"),
                    issue(IssueCode::InvitationExpired, Some(u32::MAX), None, "last"),
                ],
            });
        }
        // an issue whose severity is not its code's own
        let mut odd = PlanRow::placeholder();
        odd.issues.push(Issue {
            severity: Severity::Warning,
            ..issue(IssueCode::MalformedCsv, Some(127), None, "m")
        });
        rows.push(odd);
        // lengths across the varint boundaries: 127/128 and 16383/16384 bytes
        for len in [127, 128, 16_383, 16_384, 70_000] {
            let long = "a".repeat(len);
            rows.push(PlanRow {
                line: len as u32,
                email: long.clone(),
                first_name: "é".repeat(len / 2),
                last_name: String::new(),
                action: Action::Update,
                user_id: Some(UserId(long.clone())),
                operations: vec![Operation::UpdateProfile {
                    changes: Box::new(Profile {
                        unique_id: Some(long.clone()),
                        custom: BTreeMap::from([(long.clone(), long.clone())]),
                        ..Profile::default()
                    }),
                    expect: Some(Box::new(Profile {
                        phone_number: Some(String::new()),
                        ..Profile::default()
                    })),
                }],
                noops: vec![Noop::NotAMember {
                    group: long.clone(),
                }],
                issues: vec![issue(
                    IssueCode::FieldTooLong,
                    Some(len as u32),
                    Some(&long),
                    &long,
                )],
            });
        }
        // many operations (a count above 127)
        let mut many = PlanRow::placeholder();
        many.operations = (0..300)
            .map(|i| Operation::AddToGroup {
                group: group(&format!("g{i}"), &format!("G{i}")),
            })
            .collect();
        rows.push(many);
        rows
    }

    /// Every way in: pushed one by one, encoded on 1, 2 and 7 threads, appended in two
    /// parts; and every way out: get, decode_into of every prefix and some sub-ranges,
    /// line and action.
    fn check(rows: &[PlanRow]) -> CompactRows {
        let mut pushed = CompactRows::new();
        for row in rows {
            pushed.push(row);
        }
        assert_eq!(pushed.len(), rows.len());
        assert_eq!(pushed.is_empty(), rows.is_empty());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(pushed.get(i).as_ref(), Some(row), "row {i}");
            assert_eq!(pushed.line(i), Some(row.line));
            assert_eq!(pushed.action(i), Some(row.action));
        }
        assert_eq!(pushed.get(rows.len()), None);
        assert_eq!(pushed.line(rows.len()), None);
        assert_eq!(pushed.action(rows.len()), None);
        let mut all = Vec::new();
        pushed.decode_into(0..rows.len(), &mut all);
        assert_eq!(all, rows);
        let third = rows.len() / 3;
        for range in [
            0..0,
            third..2 * third,
            third..rows.len(),
            rows.len()..rows.len(),
        ] {
            let mut out = vec![PlanRow::placeholder()];
            pushed.decode_into(range.clone(), &mut out);
            assert_eq!(out[1..], rows[range]);
        }
        for threads in [0, 1, 2, 7] {
            let encoded = CompactRows::encode(rows, threads);
            assert_eq!(encoded.bytes, pushed.bytes, "{threads} threads");
            assert_eq!(encoded.ends, pushed.ends, "{threads} threads");
            assert_eq!(encoded, pushed);
        }
        let (a, b) = rows.split_at(third);
        let mut joined = CompactRows::encode(a, 1);
        joined.append(CompactRows::encode(b, 1));
        assert_eq!(joined, pushed);
        let mut into_empty = CompactRows::new();
        into_empty.append(pushed.clone());
        into_empty.append(CompactRows::new());
        assert_eq!(into_empty, pushed);
        let mut shrunk = pushed.clone();
        shrunk.shrink_to_fit();
        assert_eq!(shrunk, pushed);
        assert!(shrunk.heap_bytes() >= shrunk.bytes.len() + 8 * shrunk.len());
        check_reusing(&pushed);
        pushed
    }

    /// `n` rows of other shapes to decode over: generated ones (another seed) and, among the
    /// first, the hand-built ones; every other row with its operations rotated and its noops
    /// reversed (other variants at each position).
    fn others(n: usize) -> Vec<PlanRow> {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let hand = hand_built();
        (0..n)
            .map(|i| {
                let mut row = match hand.get(i / 3) {
                    Some(row) if i % 3 == 0 => row.clone(),
                    _ => rng.row(),
                };
                if i % 2 == 0 {
                    let turn = 1.min(row.operations.len());
                    row.operations.rotate_left(turn);
                    row.noops.reverse();
                }
                row
            })
            .collect()
    }

    /// `decode_reusing` over rows of other shapes, more and fewer of them than the range, and
    /// over successive ranges into the same Vec, gives what `decode_into` gives.
    fn check_reusing(compact: &CompactRows) {
        let n = compact.len();
        let decoded = |range: Range<usize>| {
            let mut out = Vec::new();
            compact.decode_into(range, &mut out);
            out
        };
        for range in [0..n, n / 3..2 * n / 3, n - 1..n, n..n, 0..0] {
            let len = range.len();
            for held in [0, 1, len / 2, len, len + 3] {
                let mut out = others(held);
                compact.decode_reusing(range.clone(), &mut out);
                assert_eq!(out, decoded(range.clone()), "{range:?} over {held} rows");
            }
        }
        // successive batches into one Vec, forwards then backwards
        let mut out = others(50);
        let mut start = 0;
        for size in [1000, 7, 0, 333, 1, 1500].into_iter().cycle() {
            if start >= n {
                break;
            }
            let end = n.min(start + size);
            compact.decode_reusing(start..end, &mut out);
            assert_eq!(out, decoded(start..end), "{start}..{end}");
            start = end;
        }
        let mut end = n;
        for size in [3, 700, 1, 0, 2000].into_iter().cycle() {
            if end == 0 {
                break;
            }
            let start = end.saturating_sub(size);
            compact.decode_reusing(start..end, &mut out);
            assert_eq!(out, decoded(start..end), "{start}..{end}");
            end = start;
        }
    }

    #[test]
    fn the_tag_tables_match_the_encoders() {
        for (i, a) in ACTIONS.into_iter().enumerate() {
            assert_eq!(usize::from(action_tag(a)), i);
        }
        for (i, k) in CONTENT_KINDS.into_iter().enumerate() {
            assert_eq!(usize::from(content_kind_tag(k)), i);
        }
        for (i, k) in MESSAGE_KINDS.into_iter().enumerate() {
            assert_eq!(usize::from(message_kind_tag(k)), i);
        }
        for (i, s) in SEVERITIES.into_iter().enumerate() {
            assert_eq!(usize::from(severity_tag(s)), i);
        }
        for (i, c) in IssueCode::ALL.iter().enumerate() {
            assert_eq!(issue_code_index(*c), i as u64);
        }
        for tag in CREATE_USER..=WITHDRAW {
            assert_eq!(operation_tag(&empty_operation(tag)), tag);
        }
        for op in every_operation() {
            let empty = empty_operation(operation_tag(&op));
            assert_eq!(std::mem::discriminant(&empty), std::mem::discriminant(&op));
        }
        for tag in ALREADY_MEMBER..=PROFILE_UNCHANGED {
            assert_eq!(noop_tag(&empty_noop(tag)), tag);
        }
        for noop in every_noop() {
            let empty = empty_noop(noop_tag(&noop));
            assert_eq!(
                std::mem::discriminant(&empty),
                std::mem::discriminant(&noop)
            );
        }
    }

    /// Decoding rows of the same shapes again keeps the rows' allocations: a change that
    /// decodes afresh fails here.
    #[test]
    fn decoding_again_reuses_the_allocations() {
        let compact = CompactRows::encode(&hand_built(), 1);
        // rows 2 to 5 have the same operations, noops and string lengths
        let pointers = |out: &[PlanRow]| {
            let row = &out[0];
            let Operation::CreateUser { profile, .. } = &row.operations[0] else {
                panic!("row 2 starts with CreateUser")
            };
            let Operation::UpdateProfile {
                expect: Some(expect),
                ..
            } = &row.operations[9]
            else {
                panic!("row 2's tenth operation is an UpdateProfile with expect")
            };
            let Some(Noop::AlreadyEnrolled { content }) = row.noops.last() else {
                panic!("row 2 ends with AlreadyEnrolled")
            };
            [
                out.as_ptr() as usize,
                row.email.as_ptr() as usize,
                row.last_name.as_ptr() as usize,
                row.user_id
                    .as_ref()
                    .map_or(0, |UserId(id)| id.as_ptr() as usize),
                row.operations.as_ptr() as usize,
                std::ptr::from_ref::<Profile>(profile) as usize,
                profile
                    .first_name
                    .as_ref()
                    .map_or(0, |s| s.as_ptr() as usize),
                profile
                    .organisation
                    .as_ref()
                    .map_or(0, |s| s.as_ptr() as usize),
                std::ptr::from_ref::<Profile>(expect) as usize,
                expect
                    .language_code
                    .as_ref()
                    .map_or(0, |s| s.as_ptr() as usize),
                row.noops.as_ptr() as usize,
                content.id.as_ptr() as usize,
                out[1].email.as_ptr() as usize,
            ]
        };
        let mut out = Vec::new();
        compact.decode_reusing(2..4, &mut out);
        let first = pointers(&out);
        assert!(first.iter().all(|&p| p != 0));
        compact.decode_reusing(2..4, &mut out);
        assert_eq!(pointers(&out), first);
        compact.decode_reusing(4..6, &mut out);
        assert_eq!(pointers(&out), first);
        let mut expected = Vec::new();
        compact.decode_into(4..6, &mut expected);
        assert_eq!(out, expected);
    }

    #[test]
    fn hand_built_rows_round_trip() {
        let rows = hand_built();
        let compact = check(&rows);
        // None and Some("") differ
        assert_ne!(compact.get(0), compact.get(1));
        let debug = format!("{compact:?}");
        assert_eq!(debug, format!("{rows:?}"));
        assert_eq!(format!("{:?}", CompactRows::new()), "[]");
        assert_eq!(CompactRows::with_capacity(10), CompactRows::new());
    }

    #[test]
    fn varints_are_minimal_leb128() {
        for (n, bytes) in [
            (0u64, vec![0u8]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (16_383, vec![0xff, 0x7f]),
            (16_384, vec![0x80, 0x80, 0x01]),
            (u64::from(u32::MAX), vec![0xff, 0xff, 0xff, 0xff, 0x0f]),
            (u64::MAX, [vec![0xff; 9], vec![0x01]].concat()),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(out, bytes, "{n}");
            let mut r = Reader {
                bytes: &out,
                pos: 0,
            };
            assert_eq!(r.varint(), n);
            assert_eq!(r.pos, out.len());
        }
    }

    /// A small xorshift: pseudo-random rows without a crate.
    /// Pseudo-random rows (xorshift).
    pub(in crate::plan) struct Rng(pub(in crate::plan) u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pick<T: Clone>(&mut self, items: &[T]) -> T {
            items[self.below(items.len() as u64) as usize].clone()
        }
        fn string(&mut self) -> String {
            const PIECES: &[&str] = &["", "a", "Z", "0", " ", "é", "山", "🚀", "@", "\"", "\n"];
            let len = match self.below(20) {
                0 => 200 + self.below(300),
                _ => self.below(12),
            };
            (0..len).map(|_| self.pick(PIECES)).collect()
        }
        fn opt_string(&mut self) -> Option<String> {
            match self.below(3) {
                0 => None,
                1 => Some(String::new()),
                _ => Some(self.string()),
            }
        }
        fn profile(&mut self) -> Profile {
            Profile {
                first_name: self.opt_string(),
                last_name: self.opt_string(),
                phone_number: self.opt_string(),
                unique_id: self.opt_string(),
                country: self.opt_string(),
                organisation: self.opt_string(),
                language_code: self.opt_string(),
                custom: (0..self.below(4))
                    .map(|_| (self.string(), self.string()))
                    .collect(),
            }
        }
        fn content(&mut self) -> ContentRef {
            let kind = self.pick(&CONTENT_KINDS);
            ContentRef::new(kind, self.string())
        }
        fn group(&mut self) -> Group {
            Group {
                id: self.string(),
                name: self.string(),
            }
        }
        fn operation(&mut self) -> Operation {
            match self.below(14) {
                0 => Operation::CreateUser {
                    profile: Box::new(self.profile()),
                    login_method: self.opt_string(),
                },
                1 => Operation::SetLoginMethod {
                    method: self.string(),
                    expect: self.opt_string(),
                },
                2 => Operation::ReactivateUser,
                3 => Operation::UpdateProfile {
                    changes: Box::new(self.profile()),
                    expect: (self.below(2) == 0).then(|| Box::new(self.profile())),
                },
                4 => Operation::SetPassword,
                5 => Operation::Invite,
                6 => Operation::RevokeInvitations,
                7 => Operation::AddToGroup {
                    group: self.group(),
                },
                8 => Operation::RemoveFromGroup {
                    group: self.group(),
                },
                9 => Operation::Enrol {
                    content: self.content(),
                },
                10 => Operation::SendEmail {
                    kind: self.pick(&MESSAGE_KINDS),
                },
                11 => Operation::SuspendUser,
                12 => Operation::DeleteUser,
                _ => Operation::Withdraw {
                    content: self.content(),
                },
            }
        }
        fn noop(&mut self) -> Noop {
            match self.below(4) {
                0 => Noop::AlreadyMember {
                    group: self.string(),
                },
                1 => Noop::NotAMember {
                    group: self.string(),
                },
                2 => Noop::AlreadyEnrolled {
                    content: self.content(),
                },
                _ => Noop::ProfileUnchanged,
            }
        }
        fn issue(&mut self) -> Issue {
            Issue {
                code: self.pick(IssueCode::ALL),
                severity: self.pick(&SEVERITIES),
                line: match self.below(3) {
                    0 => None,
                    1 => Some(u32::MAX - self.below(2) as u32),
                    _ => Some(self.below(1 << 20) as u32),
                },
                column: self.opt_string(),
                message: self.string(),
            }
        }
        pub(in crate::plan) fn row(&mut self) -> PlanRow {
            PlanRow {
                line: match self.below(10) {
                    0 => 0,
                    1 => u32::MAX,
                    _ => self.next() as u32 >> self.below(32),
                },
                email: self.string(),
                first_name: self.string(),
                last_name: self.string(),
                action: self.pick(&ACTIONS),
                user_id: self.opt_string().map(UserId),
                operations: (0..self.below(5)).map(|_| self.operation()).collect(),
                noops: (0..self.below(3)).map(|_| self.noop()).collect(),
                issues: (0..self.below(3)).map(|_| self.issue()).collect(),
            }
        }
    }

    #[test]
    fn generated_rows_round_trip() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let rows: Vec<PlanRow> = (0..3000).map(|_| rng.row()).collect();
        let compact = check(&rows);
        // canonical: equal rows give equal bytes, different rows different ones
        for i in 0..rows.len() - 1 {
            let (a, b) = (i, i + 1);
            let one = |k: usize| CompactRows::encode(&rows[k..=k], 1);
            assert_eq!(one(a) == one(b), rows[a] == rows[b]);
        }
        let mut again = CompactRows::with_capacity(rows.len());
        for i in 0..compact.len() {
            again.push(&compact.get(i).unwrap());
        }
        assert_eq!(again, compact);
    }

    fn fast() -> ExecuteOptions<'static> {
        ExecuteOptions {
            hash_params: HashParams::insecure_for_tests(64, 1, 1),
            ..ExecuteOptions::default()
        }
    }

    fn user(i: usize, login_method: Option<&str>) -> ExistingUser {
        ExistingUser {
            id: UserId(format!("e{i}")),
            email: format!("u{i}@example.com"),
            profile: Profile {
                first_name: Some(format!("Old{i}")),
                last_name: Some(format!("L{i}")),
                phone_number: Some("+64 1".into()),
                custom: BTreeMap::from([("department".into(), "Old".into())]),
                ..Profile::default()
            },
            groups: vec!["Sales".into()],
            enrolments: vec![ContentRef::new(ContentKind::Course, "c1")],
            protected: i == 9,
            suspended: i % 4 == 1,
            suspended_by_upload: i % 8 == 1,
            login_method: login_method.map(str::to_owned),
        }
    }

    #[test]
    fn real_plans_and_their_undo_round_trip() {
        let mut file = String::from(
            "firstname,lastname,email,phone,organisation,department,auth,addgroup,removegroup,course\n",
        );
        for i in 0..61 {
            let email = if i % 13 == 5 {
                format!("bad{i}")
            } else {
                format!("U{i}@example.com")
            };
            let add = ["", "Sales", "Support", "Nope", "Support;Sales"][i % 5];
            let remove = ["", "", "Sales", "", ""][i % 5];
            let course = ["", "c1", "", "", "c2", "c1"][i % 6];
            let auth = ["", "saml", "password"][(i / 3) % 3];
            let phone = ["", "+64 1", "+64 2"][(i / 2) % 3];
            let department = ["", "Old", "New"][(i / 4) % 3];
            file.push_str(&format!(
                "F{i},L{i},{email},{phone},Org {i},{department},{auth},{add},{remove},{course}\n"
            ));
        }
        file.push_str("F0,L0,U0@example.com,,,,,,,\n");
        let parse_options = ParseOptions {
            login_methods: vec!["saml".into()],
            fields: vec![ProfileField::text("department")],
            ..ParseOptions::default()
        };
        let upload = parse(file.as_bytes(), &parse_options).unwrap();
        let mut store = MemoryStore::new();
        store.add_group("g1", "Sales");
        store.add_group("g2", "Support");
        store.add_content(ContentRef::new(ContentKind::Course, "c1"));
        for i in (0..61).step_by(3) {
            store.add_user(user(i, ["saml", "password"].get((i / 3) % 3).copied()));
        }
        let settings = Settings::builder()
            .update_existing_profiles(true)
            .update_existing_passwords(true)
            .enrol_existing_users(true)
            .reactivate_suspended_users(true)
            .send_invitations(true)
            .invitation_url("https://lms.example.com/invite/{token}")
            .enrol(ContentRef::new(ContentKind::Course, "c1"))
            .group("Support")
            .build()
            .unwrap();
        let planned = plan(&upload, &settings, &mut store).unwrap();
        check(&planned.rows().to_vec());
        let results = planned
            .execute(&mut store, &mut RecordingMailer::new(), fast())
            .unwrap();
        let undo = plan_undo(
            &results,
            &mut store,
            &UndoOptions::new().results_from_trusted_storage(true),
        )
        .unwrap();
        check(&undo.rows().to_vec());
        let undo_rows = undo.rows().to_vec();
        let ops = || undo_rows.iter().flat_map(|r| &r.operations);
        assert!(ops().any(|op| matches!(
            op,
            Operation::UpdateProfile {
                expect: Some(_),
                ..
            }
        )));
        assert!(ops().any(|op| matches!(
            op,
            Operation::SetLoginMethod {
                expect: Some(_),
                ..
            }
        )));
    }

    /// The benchmark's rows (1 in 10 adds a group, half the users exist) take at most 200
    /// bytes a row, index included.
    #[test]
    fn the_benchmark_rows_take_at_most_200_bytes_each() {
        const ROWS: usize = 20_000;
        let upload = parse(&csv(ROWS), &ParseOptions::default()).unwrap();
        let mut store = store(ROWS / 2);
        let planned = plan(&upload, &plan_settings(), &mut store).unwrap();
        let rows = planned.rows().to_vec();
        assert_eq!(rows.len(), ROWS);
        let mut compact = CompactRows::encode(&rows, 4);
        let reserved = compact.heap_bytes();
        compact.shrink_to_fit();
        let per_row = compact.heap_bytes() as f64 / ROWS as f64;
        println!(
            "{ROWS} benchmark rows: {per_row:.1} heap bytes a row ({:.1} encoded + 8 index; {:.1} before shrink_to_fit)",
            compact.bytes.len() as f64 / ROWS as f64,
            reserved as f64 / ROWS as f64,
        );
        assert!(per_row <= 200.0, "{per_row} bytes a row");
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(compact.get(i).as_ref(), Some(row), "row {i}");
        }
    }

    /// Decoding a million benchmark rows in batches of 1,000: into a new Vec each batch,
    /// and reusing one Vec (`cargo test --release -p lms-bulk-upload --lib
    /// decoding_a_million_rows -- --ignored --nocapture`).
    #[test]
    #[ignore = "a timing, for release builds"]
    fn decoding_a_million_rows() {
        const ROWS: usize = 1_000_000;
        const BATCH: usize = 1_000;
        let upload = parse(&csv(ROWS), &ParseOptions::default()).unwrap();
        let mut store = store(ROWS / 2);
        let planned = plan(&upload, &plan_settings(), &mut store).unwrap();
        let compact = CompactRows::encode(&planned.rows().to_vec(), 4);
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let mut emails = 0;
            for start in (0..ROWS).step_by(BATCH) {
                let mut out = Vec::new();
                compact.decode_into(start..start + BATCH, &mut out);
                emails += out.iter().map(|r| r.email.len()).sum::<usize>();
            }
            let fresh = started.elapsed();
            let started = std::time::Instant::now();
            let mut out = Vec::new();
            let mut again = 0;
            for start in (0..ROWS).step_by(BATCH) {
                compact.decode_reusing(start..start + BATCH, &mut out);
                again += out.iter().map(|r| r.email.len()).sum::<usize>();
            }
            let reusing = started.elapsed();
            assert_eq!(emails, again);
            println!(
                "{ROWS} rows in batches of {BATCH}: decode_into {:.1} ms, decode_reusing {:.1} ms",
                fresh.as_secs_f64() * 1e3,
                reusing.as_secs_f64() * 1e3
            );
        }
    }
}
