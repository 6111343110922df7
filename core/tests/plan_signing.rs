//! Signed plans through the public API: the signature verifies with the key that made it and
//! with no other; any one-byte edit of the signed JSON is refused; an unsigned plan is refused
//! by `from_signed_json` (and still read by `from_json`); the key never shows in `Debug`.
#![allow(clippy::unwrap_used)]

use lms_bulk_upload::{
    parse, plan, ContentKind, ContentRef, ErrorKind, ExistingUser, IssueCode, MemoryStore,
    OsRandom, Plan, PlanKey, Profile, RandomSource, Settings, UserId,
};

const CSV: &str = "firstname,lastname,emailaddress,organisation,addgroup\n\
Bo,Chan,bo@x.com,Acme,Sales\n\
Ana,Lopez,ANA@x.com,Acme,Sales\n\
Root,Admin,root@x.com,,\n\
Ed,,ed@x.com,,\n";

fn store() -> MemoryStore {
    let mut store = MemoryStore::new();
    store.add_group("g1", "Sales");
    store.add_content(ContentRef::new(ContentKind::Course, "c1"));
    for (id, email, protected) in [("e1", "ana@x.com", false), ("e2", "root@x.com", true)] {
        store.add_user(ExistingUser {
            id: UserId(id.into()),
            email: email.into(),
            profile: Profile {
                first_name: Some("Someone".into()),
                last_name: Some("Lopez".into()),
                ..Profile::default()
            },
            groups: Vec::new(),
            enrolments: Vec::new(),
            protected,
            suspended: false,
            suspended_by_upload: false,
            login_method: None,
        });
    }
    store
}

fn a_plan() -> Plan {
    let upload = parse(CSV.as_bytes(), &Default::default()).unwrap();
    let settings = Settings::builder()
        .update_existing_profiles(true)
        .update_existing_passwords(true)
        .enrol(ContentRef::new(ContentKind::Course, "c1"))
        .uploader_email("admin@x.com")
        .build()
        .unwrap();
    plan(&upload, &settings, &mut store()).unwrap()
}

/// A fixed key, so the test is deterministic.
struct Fixed(u8);

impl RandomSource for Fixed {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(self.0);
    }
}

#[test]
fn a_signed_plan_reads_back_with_its_key() {
    let plan = a_plan();
    let key = PlanKey::generate(&OsRandom);
    let json = plan.to_signed_json(&key);
    assert!(json.contains("\"signature\":\""), "{json}");
    assert_eq!(json, plan.to_signed_json(&key), "deterministic");
    let back = Plan::from_signed_json(&json, &key).unwrap();
    assert_eq!(back, plan);
    assert_eq!(back.to_signed_json(&key), json);
    // The plain reader accepts a signed plan too: the signature is an extra field.
    assert_eq!(Plan::from_json(&json).unwrap(), plan);
}

#[test]
fn any_one_byte_edit_of_a_signed_plan_is_refused() {
    let plan = a_plan();
    let key = PlanKey::generate(&Fixed(9));
    let json = plan.to_signed_json(&key).into_bytes();
    assert!(
        json.len() > 1000,
        "a plan with some content: {}",
        json.len()
    );
    let mut codes = std::collections::BTreeSet::new();
    for i in 0..json.len() {
        // Two different edits per byte: a neighbouring character, and a digit or letter.
        for replacement in [json[i] ^ 1, if json[i] == b'7' { b'8' } else { b'7' }] {
            let mut edited = json.clone();
            edited[i] = replacement;
            let Ok(text) = String::from_utf8(edited) else {
                continue; // not a string a reader can be given
            };
            match Plan::from_signed_json(&text, &key) {
                Ok(_) => panic!(
                    "byte {i} ({:?} -> {:?}) edited, still accepted",
                    char::from(json[i]),
                    char::from(replacement)
                ),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Plan, "{e}");
                    codes.insert(e.code());
                }
            }
        }
    }
    assert!(
        codes.contains(&IssueCode::PlanSignatureInvalid),
        "{codes:?}"
    );
}

#[test]
fn another_key_is_refused() {
    let plan = a_plan();
    let json = plan.to_signed_json(&PlanKey::generate(&Fixed(1)));
    let e = Plan::from_signed_json(&json, &PlanKey::generate(&Fixed(2))).unwrap_err();
    assert_eq!(e.code(), IssueCode::PlanSignatureInvalid);
    assert_eq!(e.kind(), ErrorKind::Plan);
}

#[test]
fn an_unsigned_plan_is_refused_by_the_signed_reader_only() {
    let plan = a_plan();
    let key = PlanKey::generate(&OsRandom);
    let unsigned = plan.to_json();
    let e = Plan::from_signed_json(&unsigned, &key).unwrap_err();
    assert_eq!(e.code(), IssueCode::PlanUnsigned);
    assert_eq!(e.kind(), ErrorKind::Plan);
    assert_eq!(Plan::from_json(&unsigned).unwrap(), plan);
    // A signature that is not a string, or not 64 lowercase hex digits, is invalid.
    let mut value: serde_json::Value = serde_json::from_str(&plan.to_signed_json(&key)).unwrap();
    for bad in [
        serde_json::json!(null),
        serde_json::json!(42),
        serde_json::json!(""),
        serde_json::json!("zz"),
    ] {
        value["signature"] = bad;
        let e = Plan::from_signed_json(&value.to_string(), &key).unwrap_err();
        assert_eq!(e.code(), IssueCode::PlanSignatureInvalid, "{e}");
    }
    let signed = plan.to_signed_json(&key);
    let upper = {
        let mut v: serde_json::Value = serde_json::from_str(&signed).unwrap();
        let sig = v["signature"].as_str().unwrap().to_ascii_uppercase();
        v["signature"] = sig.into();
        v.to_string()
    };
    assert_eq!(
        Plan::from_signed_json(&upper, &key).unwrap_err().code(),
        IssueCode::PlanSignatureInvalid,
        "one spelling of a signature"
    );
}

#[test]
fn keys_are_long_enough_round_trip_through_hex_and_never_show() {
    let e = PlanKey::from_bytes(&[1; 31]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Settings);
    assert_eq!(e.code(), IssueCode::InvalidSetting);
    assert!(PlanKey::from_bytes(&[1; 32]).is_ok());
    assert!(PlanKey::from_bytes(&[1; 64]).is_ok());

    let key = PlanKey::generate(&OsRandom);
    let hex = key.to_hex();
    assert_eq!(hex.len(), 64);
    assert_ne!(hex.as_str(), PlanKey::generate(&OsRandom).to_hex().as_str());
    let back = PlanKey::from_hex(&hex).unwrap();
    assert_eq!(back.as_bytes(), key.as_bytes());
    assert_eq!(
        PlanKey::from_hex(&hex.to_ascii_uppercase())
            .unwrap()
            .as_bytes(),
        key.as_bytes()
    );
    for bad in ["", "abc", "zz", &hex[..62]] {
        let e = PlanKey::from_hex(bad).unwrap_err();
        assert_eq!(e.code(), IssueCode::InvalidSetting);
        assert!(bad.is_empty() || !e.message().contains(bad), "{e}");
    }

    let debug = format!("{key:?}");
    assert_eq!(debug, "PlanKey([REDACTED])");
    assert!(!debug.contains(hex.as_str()));
    // Nor in the signed plan, which carries only the MAC.
    let json = a_plan().to_signed_json(&key);
    assert!(!json.contains(hex.as_str()));
}
