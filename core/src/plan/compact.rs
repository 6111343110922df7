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
use std::collections::BTreeMap;
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
        assert!(
            range.start <= range.end && range.end <= self.len(),
            "rows {range:?} of {} decoded",
            self.len()
        );
        out.reserve(range.len());
        let mut r = Reader {
            bytes: &self.bytes,
            pos: self.start(range.start),
        };
        for _ in range {
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

    /// `rows` encoded on up to `threads` threads: the same bytes as pushing them one by one.
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
    match op {
        Operation::CreateUser {
            profile,
            login_method,
        } => {
            out.push(CREATE_USER);
            put_profile(out, profile);
            put_opt_str(out, login_method.as_deref());
        }
        Operation::SetLoginMethod { method, expect } => {
            out.push(SET_LOGIN_METHOD);
            put_str(out, method);
            put_opt_str(out, expect.as_deref());
        }
        Operation::ReactivateUser => out.push(REACTIVATE_USER),
        Operation::UpdateProfile { changes, expect } => {
            out.push(UPDATE_PROFILE);
            put_profile(out, changes);
            match expect {
                None => out.push(0),
                Some(expect) => {
                    out.push(1);
                    put_profile(out, expect);
                }
            }
        }
        Operation::SetPassword => out.push(SET_PASSWORD),
        Operation::Invite => out.push(INVITE),
        Operation::RevokeInvitations => out.push(REVOKE_INVITATIONS),
        Operation::AddToGroup { group } => {
            out.push(ADD_TO_GROUP);
            put_group(out, group);
        }
        Operation::RemoveFromGroup { group } => {
            out.push(REMOVE_FROM_GROUP);
            put_group(out, group);
        }
        Operation::Enrol { content } => {
            out.push(ENROL);
            put_content(out, content);
        }
        Operation::SendEmail { kind } => {
            out.push(SEND_EMAIL);
            out.push(message_kind_tag(*kind));
        }
        Operation::SuspendUser => out.push(SUSPEND_USER),
        Operation::DeleteUser => out.push(DELETE_USER),
        Operation::Withdraw { content } => {
            out.push(WITHDRAW);
            put_content(out, content);
        }
    }
}

fn put_noop(out: &mut Vec<u8>, noop: &Noop) {
    match noop {
        Noop::AlreadyMember { group } => {
            out.push(ALREADY_MEMBER);
            put_str(out, group);
        }
        Noop::NotAMember { group } => {
            out.push(NOT_A_MEMBER);
            put_str(out, group);
        }
        Noop::AlreadyEnrolled { content } => {
            out.push(ALREADY_ENROLLED);
            put_content(out, content);
        }
        Noop::ProfileUnchanged => out.push(PROFILE_UNCHANGED),
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

    fn bytes_of(&mut self, len: usize) -> String {
        let end = self.pos + len;
        let s = String::from_utf8(self.bytes[self.pos..end].to_vec())
            .expect("a compact string was a String's UTF-8 when written");
        self.pos = end;
        s
    }

    fn str(&mut self) -> String {
        let len = self.len();
        self.bytes_of(len)
    }

    fn opt_str(&mut self) -> Option<String> {
        match self.len() {
            0 => None,
            n => Some(self.bytes_of(n - 1)),
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
        let line = self.u32();
        let action = self.action();
        let email = self.str();
        let first_name = self.str();
        let last_name = self.str();
        let user_id = self.opt_str().map(UserId);
        let operations = (0..self.len()).map(|_| self.operation()).collect();
        let noops = (0..self.len()).map(|_| self.noop()).collect();
        let issues = (0..self.len()).map(|_| self.issue()).collect();
        PlanRow {
            line,
            email,
            first_name,
            last_name,
            action,
            user_id,
            operations,
            noops,
            issues,
        }
    }

    fn profile(&mut self) -> Profile {
        let mask = self.byte();
        let mut field = |i: u8| (mask & (1 << i) != 0).then(|| self.str());
        let first_name = field(0);
        let last_name = field(1);
        let phone_number = field(2);
        let unique_id = field(3);
        let country = field(4);
        let organisation = field(5);
        let language_code = field(6);
        assert!(
            mask < 1 << 7,
            "a compact profile mask has the 7 fields' bits only, as written, not {mask:#x}"
        );
        let mut custom = BTreeMap::new();
        for _ in 0..self.len() {
            let name = self.str();
            let value = self.str();
            custom.insert(name, value);
        }
        Profile {
            first_name,
            last_name,
            phone_number,
            unique_id,
            country,
            organisation,
            language_code,
            custom,
        }
    }

    fn group(&mut self) -> Group {
        let id = self.str();
        let name = self.str();
        Group { id, name }
    }

    fn content(&mut self) -> ContentRef {
        let kind = *CONTENT_KINDS
            .get(usize::from(self.byte()))
            .expect("a compact content kind byte was written from CONTENT_KINDS");
        ContentRef {
            kind,
            id: self.str(),
        }
    }

    fn operation(&mut self) -> Operation {
        match self.byte() {
            CREATE_USER => Operation::CreateUser {
                profile: Box::new(self.profile()),
                login_method: self.opt_str(),
            },
            SET_LOGIN_METHOD => Operation::SetLoginMethod {
                method: self.str(),
                expect: self.opt_str(),
            },
            REACTIVATE_USER => Operation::ReactivateUser,
            UPDATE_PROFILE => Operation::UpdateProfile {
                changes: Box::new(self.profile()),
                expect: self.flag().then(|| Box::new(self.profile())),
            },
            SET_PASSWORD => Operation::SetPassword,
            INVITE => Operation::Invite,
            REVOKE_INVITATIONS => Operation::RevokeInvitations,
            ADD_TO_GROUP => Operation::AddToGroup {
                group: self.group(),
            },
            REMOVE_FROM_GROUP => Operation::RemoveFromGroup {
                group: self.group(),
            },
            ENROL => Operation::Enrol {
                content: self.content(),
            },
            SEND_EMAIL => Operation::SendEmail {
                kind: *MESSAGE_KINDS
                    .get(usize::from(self.byte()))
                    .expect("a compact message kind byte was written from MESSAGE_KINDS"),
            },
            SUSPEND_USER => Operation::SuspendUser,
            DELETE_USER => Operation::DeleteUser,
            WITHDRAW => Operation::Withdraw {
                content: self.content(),
            },
            tag => panic!("a compact operation tag is one put_operation writes, not {tag}"),
        }
    }

    fn noop(&mut self) -> Noop {
        match self.byte() {
            ALREADY_MEMBER => Noop::AlreadyMember { group: self.str() },
            NOT_A_MEMBER => Noop::NotAMember { group: self.str() },
            ALREADY_ENROLLED => Noop::AlreadyEnrolled {
                content: self.content(),
            },
            PROFILE_UNCHANGED => Noop::ProfileUnchanged,
            tag => panic!("a compact noop tag is one put_noop writes, not {tag}"),
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
mod tests {
    use super::*;
    use crate::execute::ExecuteOptions;
    use crate::host::memory::{MemoryStore, RecordingMailer};
    use crate::host::store::ExistingUser;
    use crate::plan::settings::Settings;
    use crate::{parse, plan, plan_undo, HashParams, ParseOptions, ProfileField, UndoOptions};

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

    fn hand_built() -> Vec<PlanRow> {
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
        pushed
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
    struct Rng(u64);

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
        fn row(&mut self) -> PlanRow {
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
}
