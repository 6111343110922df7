//! What the administrator's screens need from the engine: a column matched by hand, a cell
//! fixed in place (validated by the same rules), a plan without the lines the
//! administrator excluded, and "did you mean" for an unknown column.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, plan_with, rewrite_file, suggest_column, Action, CellEdit, Column, ExistingUser,
    MemoryStore, ParseOptions, PlanOptions, Settings,
};
use std::collections::BTreeMap;

const FILE: &str = "First Name,Surnme,Email,Shoe size\nAna,Lopez,ana@example.com,38\nBo,Chan,bo@example,41\nCy,Egan,cy@example.com,40\n";

#[test]
fn a_column_assigned_by_hand_is_read_as_that_column_and_ignoring_one_silences_it() {
    let options = ParseOptions::default();
    // Without a surname column the file is refused.
    let refused = parse(FILE.as_bytes(), &options).unwrap_err();
    assert_eq!(refused.code().as_str(), "missing_required_column");

    let assigned = ParseOptions {
        column_assignments: BTreeMap::from([(1, Some("last name".to_owned())), (3, None)]),
        ..ParseOptions::default()
    };
    let upload = parse(FILE.as_bytes(), &assigned).unwrap();
    assert_eq!(upload.header()[1].column, Some(Column::LastName));
    assert_eq!(upload.header()[3].column, None);
    assert!(
        !upload
            .issues()
            .iter()
            .any(|i| i.code.as_str() == "unknown_column"),
        "a column ignored by hand is no unknown column"
    );
    assert_eq!(upload.row(0).unwrap().get(Column::LastName), "Lopez");

    for (position, name) in [(1, "shoe"), (9, "lastname")] {
        let wrong = ParseOptions {
            column_assignments: BTreeMap::from([(position, Some(name.to_owned()))]),
            ..ParseOptions::default()
        };
        let e = parse(FILE.as_bytes(), &wrong).unwrap_err();
        assert_eq!(e.code().as_str(), "invalid_option", "{position} {name}");
    }
}

#[test]
fn a_fixed_cell_is_validated_by_the_same_rules_and_other_cells_are_kept() {
    let options = ParseOptions {
        column_assignments: BTreeMap::from([(1, Some("lastname".to_owned()))]),
        ..ParseOptions::default()
    };
    let upload = parse(FILE.as_bytes(), &options).unwrap();
    let bo = upload.rows().find(|r| r.email() == "bo@example").unwrap();
    assert!(!bo.is_valid());
    let line = bo.line();

    let bad = CellEdit {
        line,
        column: 2,
        value: "still wrong".into(),
    };
    let still = rewrite_file(FILE.as_bytes(), &options, &[bad], &BTreeMap::new()).unwrap();
    let reparsed = parse(&still, &options).unwrap();
    let row = reparsed.rows().find(|r| r.line() == line).unwrap();
    assert!(!row.is_valid());
    assert_eq!(row.issues()[0].code.as_str(), "invalid_email");

    let good = CellEdit {
        line,
        column: 2,
        value: "bo@example.com".into(),
    };
    let fixed = rewrite_file(FILE.as_bytes(), &options, &[good], &BTreeMap::new()).unwrap();
    assert!(fixed.starts_with(b"\xEF\xBB\xBF"));
    let reparsed = parse(&fixed, &options).unwrap();
    assert!(!reparsed.has_errors());
    assert_eq!(reparsed.len(), 3);
    assert_eq!(reparsed.row(0).unwrap().get(Column::FirstName), "Ana");

    // A value with the delimiter and quotes survives the round trip as one cell.
    let tricky = CellEdit {
        line,
        column: 0,
        value: "Bo, \"the\" Chan".into(),
    };
    let out = rewrite_file(&fixed, &options, &[tricky], &BTreeMap::new()).unwrap();
    let reparsed = parse(&out, &options).unwrap();
    assert_eq!(
        reparsed.row(1).unwrap().get(Column::FirstName),
        "Bo, \"the\" Chan"
    );

    // Renamed headers: the download carries the assignment, and parses without it.
    let headers = BTreeMap::from([(1, "lastname".to_owned())]);
    let renamed = rewrite_file(&fixed, &options, &[], &headers).unwrap();
    assert!(parse(&renamed, &ParseOptions::default()).is_ok());

    for edit in [
        CellEdit {
            line: 1,
            column: 0,
            value: "x".into(),
        },
        CellEdit {
            line: 99,
            column: 0,
            value: "x".into(),
        },
        CellEdit {
            line,
            column: 4,
            value: "x".into(),
        },
    ] {
        let e = rewrite_file(
            FILE.as_bytes(),
            &options,
            std::slice::from_ref(&edit),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(e.code().as_str(), "invalid_option", "{edit:?}");
    }
    let small = ParseOptions {
        max_file_bytes: FILE.len() + 8,
        ..options.clone()
    };
    let long = CellEdit {
        line,
        column: 0,
        value: "x".repeat(200),
    };
    let e = rewrite_file(FILE.as_bytes(), &small, &[long], &BTreeMap::new()).unwrap_err();
    assert_eq!(e.code().as_str(), "file_too_large");
}

#[test]
fn excluded_lines_leave_the_plan_and_their_users_are_never_suspended_as_missing() {
    let file = "firstname,lastname,email\nAna,Lopez,ana@example.com\nBo,Chan,bo@example.com\n";
    let upload = parse(file.as_bytes(), &ParseOptions::default()).unwrap();
    let mut store = MemoryStore::new();
    for (id, email) in [("u1", "bo@example.com"), ("u2", "zed@example.com")] {
        let user: ExistingUser = serde_json::from_value(serde_json::json!({
            "id": id, "email": email,
            "profile": {"first_name": "Old", "last_name": "User"}
        }))
        .unwrap();
        store.add_user(user);
    }
    let settings = Settings::builder()
        .suspend_missing_users(true)
        .missing_users_threshold(100)
        .build()
        .unwrap();
    let all = plan(&upload, &settings, &mut store).unwrap();
    assert_eq!(all.summary().suspensions, 1, "zed is missing from the file");
    let options = PlanOptions {
        exclude_lines: [3].into_iter().collect(),
        ..Default::default()
    };
    let some = plan_with(&upload, &settings, &mut store, &options).unwrap();
    let lines: Vec<u32> = some.rows().iter().map(|r| r.line).collect();
    assert!(!lines.contains(&3));
    assert_eq!(some.rows().to_vec()[0].action, Action::Create);
    assert_eq!(
        some.summary().suspensions,
        1,
        "bo, excluded, is not suspended"
    );
    assert_eq!(some.summary().create, 1);
    assert_ne!(some.fingerprint(), all.fingerprint());
}

#[test]
fn an_unknown_column_gets_the_closest_name() {
    assert_eq!(suggest_column("Surnme", &[]).as_deref(), Some("lastname"));
    assert_eq!(
        suggest_column("Emial", &[]).as_deref(),
        Some("emailaddress")
    );
    assert_eq!(suggest_column("zzzzzz", &[]), None);
    assert_eq!(suggest_column("", &[]), None);
}

#[test]
fn lines_are_those_parse_gives_with_a_sep_line_blank_lines_and_crlf() {
    let file = "sep=;\r\nfirstname;lastname;email\r\n\r\nAna;\"Lo\r\npez\";ana@example.com\r\n\r\nBo;Chan;bo@example\r\n";
    let options = ParseOptions::default();
    let upload = parse(file.as_bytes(), &options).unwrap();
    let bo = upload.rows().find(|r| r.email() == "bo@example").unwrap();
    let edit = CellEdit {
        line: bo.line(),
        column: 2,
        value: "bo@example.com".into(),
    };
    let fixed = rewrite_file(file.as_bytes(), &options, &[edit], &BTreeMap::new()).unwrap();
    let reparsed = parse(&fixed, &options).unwrap();
    assert_eq!(reparsed.len(), 2);
    assert!(reparsed.rows().any(|r| r.email() == "bo@example.com"));
}

#[test]
fn a_preview_shows_old_and_new_values_of_an_update() {
    let file = "firstname,lastname,email,organisation\nBo,Chan-Lee,bo@example.com,#clear\n";
    let upload = parse(file.as_bytes(), &ParseOptions::default()).unwrap();
    let mut store = MemoryStore::new();
    let user: ExistingUser = serde_json::from_value(serde_json::json!({
        "id": "u1", "email": "bo@example.com",
        "profile": {"first_name": "Bo", "last_name": "Chan", "organisation": "Acme"}
    }))
    .unwrap();
    store.add_user(user.clone());
    let settings = Settings::builder()
        .update_existing_profiles(true)
        .build()
        .unwrap();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    let changes = planned.rows().to_vec()[0].changes(Some(&user));
    let shown: Vec<(&str, Option<&str>, Option<&str>)> = changes
        .iter()
        .map(|c| (c.field.as_str(), c.before.as_deref(), c.after.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("last_name", Some("Chan"), Some("Chan-Lee")),
            ("organisation", Some("Acme"), None)
        ]
    );
}

#[test]
fn the_header_of_a_refused_file_is_read_with_its_matches_so_a_column_can_be_assigned() {
    let options = ParseOptions::default();
    assert!(parse(FILE.as_bytes(), &options).is_err());
    let cells = lms_bulk_upload::read_header(FILE.as_bytes(), &options).unwrap();
    let shown: Vec<(&str, Option<Column>)> = cells
        .iter()
        .map(|c| (c.header.as_str(), c.column))
        .collect();
    assert_eq!(
        shown,
        [
            ("First Name", Some(Column::FirstName)),
            ("Surnme", None),
            ("Email", Some(Column::EmailAddress)),
            ("Shoe size", None)
        ]
    );
    let assigned = ParseOptions {
        column_assignments: BTreeMap::from([(1, Some("lastname".to_owned()))]),
        ..ParseOptions::default()
    };
    let cells = lms_bulk_upload::read_header(FILE.as_bytes(), &assigned).unwrap();
    assert_eq!(cells[1].column, Some(Column::LastName));
    assert!(lms_bulk_upload::read_header(b"\n\n", &options).is_err());
}
