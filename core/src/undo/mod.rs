//! Undoing an upload: an undo plan made from its [`Results`] and the store as it is now.
//!
//! The undo plan is a [`Plan`] like any other: previewed with its summary, serialised,
//! fingerprinted, signed, and executed with the usual re-check and journal. It reverses
//! what the results say the upload did, row by row, in the reverse order:
//!
//! | the upload did | undo does |
//! |---|---|
//! | created the user (`create_user`, `recover_user`) | its groups and enrolments are removed, then the user is suspended, or deleted when [`UndoOptions::delete_created_users`] asks and the store lets it |
//! | `update_profile` | each field it wrote is restored, unless it holds another value now (`undo_conflict`) |
//! | `add_to_group` | removed from the group (if still a member) |
//! | `remove_from_group` | added back (if the group still exists: else `undo_conflict`) |
//! | `enrol` | the enrolment is withdrawn (if still enrolled) |
//! | `set_login_method` | the method before is set again (unless changed since) |
//! | `reactivate_user` | suspended again |
//! | `suspend_user` (a user missing from the file) | reactivated |
//! | `set_password` on an existing user | nothing: listed as `not_undoable` |
//! | `send_email` | nothing (an email cannot be unsent); undo emails nobody but the uploader |
//!
//! What the store already had when the row was written (`already` in the results) is left.
//! Protected users are never touched (the row is rejected with `protected_user`), a user
//! gone since or whose email now names another id is left with `undo_conflict`, and the
//! results of an undo cannot be undone (`undo_of_undo`). An undo that needs a write the
//! store lacks ([`OptionalMethod`](crate::OptionalMethod)) is refused here
//! (`undo_unsupported`), before anything is written.

mod reverse;

use crate::error::{Error, ErrorKind};
use crate::execute::results::{Done, Results};
use crate::host::store::{ExistingUser, Group, StoreRead};
use crate::issue::IssueCode;
use crate::plan::{
    find_existing, find_groups_named, missing_methods, Existing, PasswordSource, Plan,
    PlanSettings, Summary, DEFAULT_LOOKUP_BATCH, PLAN_FORMAT_VERSION,
};
use std::collections::BTreeMap;

/// The choices of an undo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UndoOptions {
    /// Delete the users the upload created instead of suspending them (the store may keep
    /// one that has other data attached: it is then suspended). Default: suspend.
    pub delete_created_users: bool,
    /// Who gets the confirmation with the counts (no one if `None`).
    pub uploader_email: Option<String>,
    /// The link to the undo's results in the confirmation.
    pub results_url: String,
}

impl Default for UndoOptions {
    fn default() -> Self {
        UndoOptions {
            delete_created_users: false,
            uploader_email: None,
            results_url: "https://lms.example.com/uploads/results".into(),
        }
    }
}

impl UndoOptions {
    /// Suspend the users the upload created, no confirmation.
    pub fn new() -> UndoOptions {
        UndoOptions::default()
    }
    /// Delete created users (where the store lets it) instead of suspending them.
    pub fn delete_created_users(mut self, delete: bool) -> Self {
        self.delete_created_users = delete;
        self
    }
    /// Send the confirmation to this address.
    pub fn uploader_email(mut self, email: impl Into<String>) -> Self {
        self.uploader_email = Some(email.into());
        self
    }
    /// The link to the results in the confirmation.
    pub fn results_url(mut self, url: impl Into<String>) -> Self {
        self.results_url = url.into();
        self
    }

    fn check(&self) -> Result<(), Error> {
        crate::plan::settings::check_url("results_url", &self.results_url)?;
        crate::plan::settings::check_uploader_email(self.uploader_email.as_deref())
    }
}

/// Makes the plan that undoes the upload these results come from, reading the store as it
/// is now (batched `find_users` and `find_groups`; nothing is written). See the
/// [module](self) for what is reversed and what is refused.
///
/// ```
/// use lms_bulk_upload::{
///     parse, plan, plan_undo, ExecuteOptions, HashParams, MemoryStore, ParseOptions,
///     RecordingMailer, Settings, UndoOptions,
/// };
/// let upload = parse(b"firstname,lastname,email\nAna,Lee,ana@x.com\n", &ParseOptions::default())?;
/// let mut store = MemoryStore::new();
/// let settings = Settings::builder().build()?;
/// let options = || ExecuteOptions {
///     hash_params: HashParams::insecure_for_tests(64, 1, 1),
///     ..ExecuteOptions::default()
/// };
/// let results = plan(&upload, &settings, &mut store)?
///     .execute(&mut store, &mut RecordingMailer::new(), options())?;
/// let undo = plan_undo(&results, &mut store, &UndoOptions::new())?;
/// assert_eq!(undo.summary().suspensions, 1);
/// undo.execute(&mut store, &mut RecordingMailer::new(), options())?;
/// assert!(store.user("ana@x.com").unwrap().suspended);
/// # Ok::<(), lms_bulk_upload::Error>(())
/// ```
pub fn plan_undo<S: StoreRead + ?Sized>(
    results: &Results,
    store: &mut S,
    options: &UndoOptions,
) -> Result<Plan, Error> {
    let store: &mut dyn StoreRead = &mut crate::plan::View(store);
    options.check()?;
    if let Some(upload) = &results.undo_of {
        return Err(Error::new(
            ErrorKind::Plan,
            IssueCode::UndoOfUndo,
            format!(
                "these are the results of an undo (of {upload}): an undo cannot be undone; upload the file again instead"
            ),
        ));
    }
    let touched: Vec<_> = results
        .rows
        .iter()
        .filter(|r| r.user_id.is_some() && r.done.iter().any(reverse::changes_store))
        .collect();
    let emails = touched.iter().map(|r| r.email.as_str());
    let users = find_existing(emails, store, DEFAULT_LOOKUP_BATCH).map_err(|e| read_failed(&e))?;
    let groups = find_groups(store, touched.iter().flat_map(|r| &r.done))?;
    let current = Current { users, groups };
    let rows: Vec<_> = touched
        .iter()
        .map(|r| reverse::row(r, &current, options.delete_created_users))
        .collect();
    let missing = missing_methods(&rows, store);
    if !missing.is_empty() {
        return Err(Error::new(
            ErrorKind::Store,
            IssueCode::UndoUnsupported,
            format!(
                "this undo needs the store's {}, which it does not have",
                missing.join(" and ")
            ),
        ));
    }
    let settings = PlanSettings {
        enrol_existing_users: false,
        update_existing_profiles: false,
        update_existing_passwords: false,
        password_source: PasswordSource::Generated,
        generated_password_length: crate::execute::password::MIN_GENERATED_PASSWORD_LENGTH,
        force_password_reset: false,
        send_notification_email: false,
        enrolments: Vec::new(),
        groups: Vec::new(),
        site_url: String::new(),
        results_url: options.results_url.clone(),
        uploader_email: options.uploader_email.clone(),
        undo_of: Some(results.fingerprint.clone()),
    };
    let mut plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        fingerprint: String::new(),
        settings,
        summary: Summary::of(&rows, &[]),
        file_issues: Vec::new(),
        rows,
        shard: None,
        default_password: None,
    };
    plan.fingerprint = crate::plan::fingerprint(&plan);
    Ok(plan)
}

impl Plan {
    /// The fingerprint of the upload this plan undoes, when it is an undo plan.
    pub fn undo_of(&self) -> Option<&str> {
        self.settings.undo_of.as_deref()
    }
}

/// What the store says now about the users and groups the results name.
pub(super) struct Current {
    users: Existing,
    groups: BTreeMap<String, Group>,
}

impl Current {
    fn user(&self, email: &str) -> Option<&ExistingUser> {
        self.users.get(email)
    }
    fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }
}

fn find_groups<'a>(
    store: &mut dyn StoreRead,
    done: impl Iterator<Item = &'a Done>,
) -> Result<BTreeMap<String, Group>, Error> {
    let mut names: Vec<&str> = done
        .filter_map(|d| match d {
            Done::AddToGroup { group, .. } | Done::RemoveFromGroup { group, .. } => {
                Some(group.as_str())
            }
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    find_groups_named(&names, store, DEFAULT_LOOKUP_BATCH).map_err(|e| read_failed(&e))
}

fn read_failed(e: &crate::host::store::HostError) -> Error {
    Error::host(
        ErrorKind::Store,
        e.code().unwrap_or(IssueCode::StoreFailed),
        "the store could not be read to plan the undo",
        e,
    )
}
