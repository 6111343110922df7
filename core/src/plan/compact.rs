//! Plan rows kept as bytes: a million-row plan held as [`PlanRow`]s costs ~600 bytes a row
//! (176 inline and about eight small allocations); encoded it costs about a hundred.
//!
//! # Layout
//!
//! All rows are appended to one buffer; `ends[i]` is the offset just past row `i` (a `u64`,
//! so a plan may exceed 4 GB of encoded bytes). The buffer is a `String`: every byte the
//! encoder writes itself (a tag, a mask, a varint's) is ASCII, and every string is a `str`'s
//! UTF-8, so a string is decoded as a slice of the buffer (its two ends checked) rather
//! than by checking its bytes again. A varint is six bits a byte, lowest first, with bit 6
//! set on each byte that another follows (LEB128's seven would use bit 7, which is not
//! ASCII). A row is:
//!
//! ```text
//! line        varint                    first, so `line` reads it alone
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
    /// The rows' encodings, one after the other: UTF-8 by construction (every tag, mask and
    /// varint byte is ASCII, every string a `str`'s), so a string is read back as a slice,
    /// without checking its bytes again.
    text: String,
    /// The offset in `text` just past each row.
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
            text: String::with_capacity(rows.saturating_mul(GUESSED_ROW_BYTES)),
            ends: Vec::with_capacity(rows),
        }
    }

    /// Appends one row.
    pub(crate) fn push(&mut self, row: &PlanRow) {
        put_row(&mut self.text, row);
        self.ends.push(self.text.len() as u64);
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
        self.text.push_str(&other.text[start..end]);
        self.ends.push(self.text.len() as u64);
    }

    /// Appends `other`'s rows after these (rows encoded on several threads, joined in order).
    pub(crate) fn append(&mut self, other: CompactRows) {
        if self.is_empty() && self.text.capacity() <= other.text.capacity() {
            *self = other;
            return;
        }
        let base = self.text.len() as u64;
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| base + end));
    }

    /// Gives back the room reserved beyond the rows.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Heap bytes held (capacity, not length).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<u64>()
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
            text: &self.text,
            pos: self.start(range.start),
        }
    }

    /// A reader at the start of row `index`, if there is one.
    fn reader(&self, index: usize) -> Option<Reader<'_>> {
        (index < self.len()).then(|| Reader {
            text: &self.text,
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

/// A varint byte's value bits ...
const VARINT_BITS: u8 = 0x3f;
/// ... and the bit that says another byte follows.
const VARINT_NEXT: u64 = 0x40;

/// A byte below 0x80: one ASCII character, so the buffer stays UTF-8.
fn put_byte(out: &mut String, b: u8) {
    assert!(
        b.is_ascii(),
        "a compact tag, mask or varint byte is ASCII, not {b:#x}"
    );
    out.push(char::from(b));
}

/// `n` six bits a byte, lowest first, bit 6 set on every byte but the last: ASCII bytes
/// (LEB128's seven bits a byte would set bit 7, which UTF-8 reserves).
fn put_varint(out: &mut String, mut n: u64) {
    while n >= VARINT_NEXT {
        put_byte(out, (n as u8 & VARINT_BITS) | VARINT_NEXT as u8);
        n >>= 6;
    }
    put_byte(out, n as u8);
}

fn put_str(out: &mut String, s: &str) {
    put_varint(out, s.len() as u64);
    out.push_str(s);
}

/// `None` as 0, `Some(s)` as its length + 1 and its bytes.
fn put_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        None => put_byte(out, 0),
        Some(s) => {
            put_varint(out, s.len() as u64 + 1);
            out.push_str(s);
        }
    }
}

fn put_row(out: &mut String, row: &PlanRow) {
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
    put_byte(out, action_tag(*action));
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

fn put_profile(out: &mut String, profile: &Profile) {
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
    put_byte(out, mask);
    for field in fields.into_iter().flatten() {
        put_str(out, field);
    }
    put_varint(out, custom.len() as u64);
    for (name, value) in custom {
        put_str(out, name);
        put_str(out, value);
    }
}

fn put_group(out: &mut String, group: &Group) {
    let Group { id, name } = group;
    put_str(out, id);
    put_str(out, name);
}

fn put_content(out: &mut String, content: &ContentRef) {
    let ContentRef { kind, id } = content;
    put_byte(out, content_kind_tag(*kind));
    put_str(out, id);
}

fn put_operation(out: &mut String, op: &Operation) {
    put_byte(out, operation_tag(op));
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
                None => put_byte(out, 0),
                Some(expect) => {
                    put_byte(out, 1);
                    put_profile(out, expect);
                }
            }
        }
        Operation::AddToGroup { group } | Operation::RemoveFromGroup { group } => {
            put_group(out, group);
        }
        Operation::Enrol { content } | Operation::Withdraw { content } => put_content(out, content),
        Operation::SendEmail { kind } => put_byte(out, message_kind_tag(*kind)),
        Operation::ReactivateUser
        | Operation::SetPassword
        | Operation::Invite
        | Operation::RevokeInvitations
        | Operation::SuspendUser
        | Operation::DeleteUser => {}
    }
}

fn put_noop(out: &mut String, noop: &Noop) {
    put_byte(out, noop_tag(noop));
    match noop {
        Noop::AlreadyMember { group } | Noop::NotAMember { group } => put_str(out, group),
        Noop::AlreadyEnrolled { content } => put_content(out, content),
        Noop::ProfileUnchanged => {}
    }
}

fn put_issue(out: &mut String, issue: &Issue) {
    let Issue {
        code,
        severity,
        line,
        column,
        message,
    } = issue;
    put_varint(out, issue_code_index(*code));
    put_byte(out, severity_tag(*severity));
    put_varint(out, line.map_or(0, |line| u64::from(line) + 1));
    put_opt_str(out, column.as_deref());
    put_str(out, message);
}

// ---- decoding ---------------------------------------------------------------------------

/// Reads what the `put_*` functions wrote, in the same order.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = *self
            .text
            .as_bytes()
            .get(self.pos)
            .expect("a compact row is read within the bytes it was written to");
        self.pos += 1;
        b
    }

    /// What `put_varint` wrote.
    fn varint(&mut self) -> u64 {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            n |= u64::from(b & VARINT_BITS) << shift;
            if u64::from(b) & VARINT_NEXT == 0 {
                return n;
            }
            shift += 6;
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
        // a slice of the UTF-8 buffer: its two ends checked, not its bytes
        let text = self
            .text
            .get(self.pos..end)
            .expect("a compact string is whole characters of the buffer, as written");
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
pub(super) mod tests;
