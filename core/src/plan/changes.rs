//! Old → new values of a plan row, for a preview: what each profile field and the login
//! method become, beside what the store holds now.

use super::{Operation, PlanRow};
use crate::host::store::ExistingUser;
use serde::{Deserialize, Serialize};

/// One field a row writes: its value before (`None`: empty) and after (`None`: cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field's snake_case name (`first_name`, a host field's name, `login_method`).
    pub field: String,
    /// What the store holds now.
    pub before: Option<String>,
    /// What the row writes.
    pub after: Option<String>,
}

impl PlanRow {
    /// Every field the row writes with its value before and after: for a new user, each
    /// value of its profile (before is `None`); for an update, each changed field with the
    /// value `before` holds now (read from the store when the preview is shown, so it may
    /// differ from when the plan was made); a login method change as `login_method`
    /// (`None` standing for the built-in password login).
    ///
    /// ```
    /// use lms_bulk_upload::{parse, plan, MemoryStore, Settings};
    /// let upload = parse(b"firstname,lastname,email\nAna,Lopez,ana@example.com\n", &Default::default()).unwrap();
    /// let p = plan(&upload, &Settings::builder().build().unwrap(), &mut MemoryStore::new()).unwrap();
    /// let changes = p.rows().get(0).unwrap().changes(None);
    /// assert_eq!(changes[0].field, "first_name");
    /// assert_eq!(changes[0].after.as_deref(), Some("Ana"));
    /// ```
    pub fn changes(&self, before: Option<&ExistingUser>) -> Vec<FieldChange> {
        let mut out = Vec::new();
        let now = before.map(|u| &u.profile);
        for op in &self.operations {
            match op {
                Operation::CreateUser {
                    profile,
                    login_method,
                } => {
                    for (field, value) in profile.fields() {
                        if let Some(value) = value.filter(|v| !v.is_empty()) {
                            out.push(FieldChange {
                                field: field.to_owned(),
                                before: None,
                                after: Some(value.to_owned()),
                            });
                        }
                    }
                    for (name, value) in &profile.custom {
                        out.push(FieldChange {
                            field: name.clone(),
                            before: None,
                            after: (!value.is_empty()).then(|| value.clone()),
                        });
                    }
                    if let Some(method) = login_method {
                        out.push(FieldChange {
                            field: "login_method".into(),
                            before: None,
                            after: Some(method.clone()),
                        });
                    }
                }
                Operation::UpdateProfile { changes, .. } => {
                    let old = now.map(|p| p.fields());
                    for (i, (field, value)) in changes.fields().into_iter().enumerate() {
                        if let Some(value) = value {
                            out.push(FieldChange {
                                field: field.to_owned(),
                                before: old.and_then(|o| o[i].1).map(str::to_owned),
                                after: (!value.is_empty()).then(|| value.to_owned()),
                            });
                        }
                    }
                    for (name, value) in &changes.custom {
                        out.push(FieldChange {
                            field: name.clone(),
                            before: now.and_then(|p| p.custom.get(name)).cloned(),
                            after: (!value.is_empty()).then(|| value.clone()),
                        });
                    }
                }
                Operation::SetLoginMethod { method, .. } => out.push(FieldChange {
                    field: "login_method".into(),
                    before: before.and_then(|u| u.login_method.clone()),
                    after: (method != crate::host::store::PASSWORD_LOGIN).then(|| method.clone()),
                }),
                _ => {}
            }
        }
        out
    }
}
