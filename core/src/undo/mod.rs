//! Undoing an upload: an undo plan made from its [`Results`] and the store as it is now.
//! What is reversed and what is refused: [`plan_undo`](crate::plan_undo).

mod reverse;

use crate::error::{Error, ErrorKind};
use crate::execute::results::{Done, Results};
use crate::host::store::{ExistingUser, Group, StoreRead, UserId};
use crate::issue::IssueCode;
use crate::plan::{
    find_existing, find_groups_named, missing_methods, Existing, PasswordSource, Plan, PlanRows,
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
    /// The host vouches that results the engine cannot verify (read with
    /// [`Results::from_json`], not [`Results::from_signed_json`]) come from storage only the
    /// host can write. Default `false`: such results are refused (`results_unsigned`).
    /// Even then, an undo of unverified results only takes back what they say the run
    /// added (memberships, enrolments) and sets back profile values and login methods within
    /// the declarations: it never adds anyone to a group, reactivates, suspends or deletes
    /// anyone (`undo_conflict`): only verified results prove what the run created or took.
    pub results_from_trusted_storage: bool,
    /// The host's profile fields, as declared for the upload
    /// ([`ParseOptions::fields`](crate::ParseOptions::fields)): undo restores only these
    /// custom fields, and only to values they accept.
    pub fields: Vec<crate::parse::fields::ProfileField>,
    /// The host's login methods besides `password`, as declared for the upload
    /// ([`ParseOptions::login_methods`](crate::ParseOptions::login_methods)): undo sets back
    /// only `password` or one of these.
    pub login_methods: Vec<String>,
    /// Users created by an upload that has been undone since: an undo never reactivates them
    /// (`undo_conflict`). A host that keeps runs (the CLI) lists the users created by the
    /// runs it has undone.
    pub undone_creations: Vec<UserId>,
}

impl Default for UndoOptions {
    fn default() -> Self {
        UndoOptions {
            delete_created_users: false,
            uploader_email: None,
            results_url: "https://lms.example.com/uploads/results".into(),
            results_from_trusted_storage: false,
            fields: Vec::new(),
            login_methods: Vec::new(),
            undone_creations: Vec::new(),
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
    /// The host's trust decision: `true` says that results the engine cannot verify come
    /// from storage only the host can write, so they may drive the undo. Prefer signed
    /// results ([`Results::to_signed_json`]) and leave this `false`.
    pub fn results_from_trusted_storage(mut self, trusted: bool) -> Self {
        self.results_from_trusted_storage = trusted;
        self
    }
    /// The upload's declarations (its parse options' `fields` and `login_methods`): what
    /// undo may write back.
    pub fn declarations(mut self, parse: &crate::ParseOptions) -> Self {
        self.fields = parse.fields.clone();
        self.login_methods = parse.login_methods.clone();
        self
    }
    /// Users created by uploads that were undone since: never reactivated.
    pub fn undone_creations(mut self, users: impl IntoIterator<Item = UserId>) -> Self {
        self.undone_creations = users.into_iter().collect();
        self
    }

    fn check(&self) -> Result<(), Error> {
        crate::plan::settings::check_url("results_url", &self.results_url)?;
        crate::plan::settings::check_uploader_email(self.uploader_email.as_deref())
    }
}

/// Makes the plan that undoes the upload these results come from, reading the store as it
/// is now (batched `find_users` and `find_groups`; nothing is written).
///
/// The undo plan is a [`Plan`] like any other: previewed with its summary, serialised,
/// fingerprinted, signed, and executed with the usual re-check and journal. It reverses
/// what the results say the upload did, row by row, in the reverse order:
///
/// | the upload did | undo does |
/// |---|---|
/// | created the user (`create_user`, `recover_user`) | its groups and enrolments are removed, then the user is suspended, or deleted when [`UndoOptions::delete_created_users`] asks and the store lets it |
/// | `update_profile` | each field it wrote is restored, unless it holds another value now (`undo_conflict`) |
/// | `add_to_group` | removed from the group (if still a member) |
/// | `remove_from_group` | added back (if the group still exists: else `undo_conflict`) |
/// | `enrol` | the enrolment is withdrawn (if still enrolled) |
/// | `set_login_method` | the method before is set again (unless changed since) |
/// | `reactivate_user` | suspended again |
/// | `suspend_user` (a user missing from the file) | reactivated |
/// | `set_password` on an existing user | nothing: listed as `not_undoable` |
/// | `send_email` | nothing (an email cannot be unsent); undo emails nobody but the uploader |
///
/// What the store already had when the row was written (`already` in the results) is left.
/// Protected users are never touched (the row is rejected with `protected_user`), a user
/// gone since or whose email now names another id is left with `undo_conflict`, and the
/// results of an undo cannot be undone (`undo_of_undo`). An undo that needs a write the
/// store lacks ([`OptionalMethod`](crate::OptionalMethod)) is refused here
/// (`undo_unsupported`), before anything is written.
///
/// Results are untrusted data: results the engine cannot verify (not from `execute` in this
/// process, not read with [`Results::from_signed_json`]) are refused (`results_unsigned`)
/// unless the host vouches for their storage ([`UndoOptions::results_from_trusted_storage`]),
/// and an undo of such results never adds anyone to a group, reactivates, suspends or
/// deletes anyone. Whatever the results say, undo writes back only a declared custom field ([`UndoOptions::fields`]) with a value it
/// accepts, a built-in field with a value an upload could write, and `password` or a
/// declared login method; a user is suspended or deleted as created only on verified
/// results, and only if the store's user for that email still has the id the results
/// recorded at creation. Every write is
/// checked again at execution against the value it replaces (`expect`): a value changed
/// since the undo was planned fails the row (`undo_conflict`), nothing of it written.
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
    let verified = results.provenance.is_verified();
    if !verified && !options.results_from_trusted_storage {
        return Err(crate::execute::signed_results::unsigned_for_undo());
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
    let rules = reverse::Rules::new(options, verified);
    let rows: Vec<_> = touched
        .iter()
        .map(|r| reverse::row(r, &current, &rules))
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
        invitation_url: None,
        undo_of: Some(results.fingerprint.clone()),
    };
    let plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        fingerprint: String::new(),
        settings,
        summary: Summary::of(&rows, &[]),
        file_issues: Vec::new(),
        rows: PlanRows::default(),
        shard: None,
        default_password: None,
    };
    Ok(plan.with_rows(rows))
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
