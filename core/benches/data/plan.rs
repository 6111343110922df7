// The plan benchmark's upload and store (`benches/plan_execute.rs`, and
// `examples/count_instructions.rs`): a file of `rows` new or existing users, and a
// `MemoryStore` holding every other one of them. Included with `include!`.

/// The upload: `rows` users, one in ten added to the `Support` group.
fn csv(rows: usize) -> Vec<u8> {
    let mut out = String::with_capacity(rows * 64);
    out.push_str("firstname,lastname,emailaddress,organisation,addgroup\n");
    for i in 0..rows {
        let group = if i % 10 == 0 { "Support" } else { "" };
        out.push_str(&format!(
            "First{i},Last{i},user{i}@example.com,Org {},{group}\n",
            i % 97
        ));
    }
    out.into_bytes()
}

/// Every other row of the file is an existing user (500,000 of 1,000,000).
fn store(existing: usize) -> MemoryStore {
    let mut store = MemoryStore::new();
    store.add_group("g1", "Sales");
    store.add_group("g2", "Support");
    store.add_content(ContentRef::new(ContentKind::Course, "c1"));
    for n in 0..existing {
        let i = n * 2;
        store.add_user(ExistingUser {
            id: UserId(format!("e{i}")),
            email: format!("user{i}@example.com"),
            profile: Profile {
                first_name: Some(format!("First{i}")),
                last_name: Some(format!("Last{i}")),
                organisation: Some("Old Org".into()),
                ..Profile::default()
            },
            groups: vec!["Sales".into()],
            enrolments: Vec::new(),
            protected: false,
            suspended: false,
            suspended_by_upload: false,
            login_method: None,
        });
    }
    store
}


/// The settings of the plan: a default password, profiles updated, one course, one group.
fn plan_settings() -> Settings {
    Settings::builder()
    .generate_passwords(false)
    .default_password("Welcome-to-Intuto-2026")
    .send_notification_email(false)
    .update_existing_profiles(true)
    .enrol_existing_users(true)
    .enrol(ContentRef::new(ContentKind::Course, "c1"))
    .group("Sales")
    .build()
    .expect("valid settings")
}
