//! The tests of [`CompactRows`](super::CompactRows): every variant, generated rows, real
//! plans, decoding into rows reused, and the size of the benchmark's rows.

use super::*;
use crate::execute::ExecuteOptions;
use crate::host::memory::{MemoryStore, RecordingMailer};
use crate::host::store::ExistingUser;
use crate::plan::settings::Settings;
use crate::{parse, plan, plan_undo, HashParams, ParseOptions, ProfileField, UndoOptions};
use std::collections::BTreeMap;

include!("../../../benches/data/plan.rs");

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
    // lengths across the varint boundaries: 63/64 and 4095/4096 bytes, and past them
    for len in [63, 64, 127, 128, 4_095, 4_096, 16_384, 70_000] {
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

/// `rows` pushed one by one. (A plan's rows are encoded on several threads by
/// `PlanRows::from_vec`, whose tests compare its bytes with these.)
fn encode(rows: &[PlanRow]) -> CompactRows {
    let mut encoded = CompactRows::with_capacity(rows.len());
    for row in rows {
        encoded.push(row);
    }
    encoded
}

/// Every way in: pushed one by one, appended in two parts; and every way out: get,
/// decode_into of every prefix and some sub-ranges, line and action.
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
    let (a, b) = rows.split_at(third);
    let mut joined = encode(a);
    joined.append(encode(b));
    assert_eq!(joined, pushed);
    let mut into_empty = CompactRows::new();
    into_empty.append(pushed.clone());
    into_empty.append(CompactRows::new());
    assert_eq!(into_empty, pushed);
    let mut shrunk = pushed.clone();
    shrunk.shrink_to_fit();
    assert_eq!(shrunk, pushed);
    assert!(shrunk.heap_bytes() >= shrunk.text.len() + 8 * shrunk.len());
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
    let compact = encode(&hand_built());
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
fn varints_are_minimal_and_ascii() {
    for (n, bytes) in [
        (0u64, vec![0u8]),
        (63, vec![0x3f]),
        (64, vec![0x40, 0x01]),
        (4_095, vec![0x7f, 0x3f]),
        (4_096, vec![0x40, 0x40, 0x01]),
        (
            u64::from(u32::MAX),
            vec![0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x03],
        ),
        (u64::MAX, [vec![0x7f; 10], vec![0x0f]].concat()),
    ] {
        let mut out = String::new();
        put_varint(&mut out, n);
        assert_eq!(out.as_bytes(), bytes, "{n}");
        assert!(out.is_ascii(), "{n}");
        let mut r = Reader { text: &out, pos: 0 };
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
        let one = |k: usize| encode(&rows[k..=k]);
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
    let mut compact = encode(&rows);
    let reserved = compact.heap_bytes();
    compact.shrink_to_fit();
    let per_row = compact.heap_bytes() as f64 / ROWS as f64;
    println!(
        "{ROWS} benchmark rows: {per_row:.1} heap bytes a row ({:.1} encoded + 8 index; {:.1} before shrink_to_fit)",
        compact.text.len() as f64 / ROWS as f64,
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
    let compact = encode(&planned.rows().to_vec());
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
