//! Building a plan from an upload, the settings and what the store says.

use super::cells::RowCells;
use super::{
    Action, Noop, Operation, PasswordSource, Plan, PlanRow, PlanRows, PlanSettings, Summary,
    PLAN_FORMAT_VERSION,
};
use crate::error::{Error, ErrorKind};
use crate::host::mailer::MessageKind;
use crate::host::store::{
    ContentRef, ExistingUser, Group, HostError, OptionalMethod, Profile, StoreRead, UserId,
};
use crate::issue::{Issue, IssueCode};
use crate::parse::column::Column;
use crate::parse::email::{emails_equal, keyed_email_hash};
use crate::parse::upload::{Row, Upload};
use crate::plan::settings::Settings;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Default number of emails (or group names) per store lookup.
pub const DEFAULT_LOOKUP_BATCH: usize = 1_000;

/// Options of [`plan_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Emails or group names per store lookup (at least 1).
    pub lookup_batch: usize,
    /// Lines left out of the plan by the administrator (a preview's per-row exclusion): the
    /// plan has no row for them and its summary does not count them. An excluded row's
    /// address still counts as in the file, so `suspend_missing_users` never suspends its
    /// user; a suspension row (numbered after the file's last line) may be excluded too.
    pub exclude_lines: BTreeSet<u32>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            lookup_batch: DEFAULT_LOOKUP_BATCH,
            exclude_lines: BTreeSet::new(),
        }
    }
}

/// Builds the plan with default options. Reads the store, writes nothing.
///
/// ```
/// use lms_bulk_upload::{parse, plan, Action, MemoryStore, Settings};
/// let upload = parse(b"firstname,lastname,email\nAna,Lopez,ana@example.com\n", &Default::default()).unwrap();
/// let settings = Settings::builder().build().unwrap();
/// let mut store = MemoryStore::new();
/// let plan = plan(&upload, &settings, &mut store).unwrap();
/// assert_eq!(plan.rows().action(0), Some(Action::Create));
/// assert_eq!(plan.summary().emails, 1);
/// ```
pub fn plan<S: StoreRead + ?Sized>(
    upload: &Upload,
    settings: &Settings,
    store: &mut S,
) -> Result<Plan, Error> {
    plan_with(upload, settings, store, &PlanOptions::default())
}

/// `&mut S` as a `&mut dyn StoreRead`, whatever `S` is (a `dyn Store` included).
pub(crate) struct View<'a, S: ?Sized>(pub(crate) &'a mut S);

impl<S: StoreRead + ?Sized> StoreRead for View<'_, S> {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        self.0.find_users(emails)
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        self.0.find_groups(names)
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        self.0.find_content(refs)
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        self.0.all_group_names()
    }
    fn supports(&mut self, write: OptionalMethod) -> bool {
        self.0.supports(write)
    }
    fn scope_users(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<crate::host::store::ScopePage, HostError> {
        self.0.scope_users(after, limit)
    }
}

fn store_error(e: HostError) -> Error {
    Error::host(
        ErrorKind::Store,
        IssueCode::StoreFailed,
        "the store failed while planning",
        &e,
    )
}

/// Builds the plan. Store lookups are batched (`options.lookup_batch` per call).
pub fn plan_with<S: StoreRead + ?Sized>(
    upload: &Upload,
    settings: &Settings,
    store: &mut S,
    options: &PlanOptions,
) -> Result<Plan, Error> {
    build(upload, settings, &mut View(store), options)
}

fn build(
    upload: &Upload,
    settings: &Settings,
    store: &mut dyn StoreRead,
    options: &PlanOptions,
) -> Result<Plan, Error> {
    let batch = options.lookup_batch.max(1);
    let enrolments = resolve_content(settings, store)?;
    let row_content = resolve_row_content(upload, store, batch)?;
    let (groups, file_has_unknown_group) = resolve_groups(upload, settings, store, batch)?;
    let settings_groups: Vec<Group> = settings
        .groups
        .iter()
        .filter_map(|name| groups.get(name.as_str()).cloned())
        .collect();
    let default_login_method = match settings.default_login_method.as_deref() {
        None => None,
        Some(m) => match crate::parse::fields::login_method(m, upload.login_methods()) {
            Some(crate::host::store::PASSWORD_LOGIN) => None,
            Some(known) => Some(known.to_owned()),
            None => {
                return Err(Error::settings(
                    IssueCode::UnknownLoginMethod,
                    format!("default_login_method {m:?} is not a login method of the host (they are password and those of the parse options' login_methods)"),
                ))
            }
        },
    };

    let plan_settings = PlanSettings {
        enrol_existing_users: settings.enrol_existing_users,
        update_existing_profiles: settings.update_existing_profiles,
        update_existing_passwords: settings.update_existing_passwords,
        password_source: if settings.send_invitations {
            PasswordSource::Invitation
        } else if settings.generate_passwords {
            PasswordSource::Generated
        } else {
            PasswordSource::Default
        },
        generated_password_length: settings.password_policy.generated_length,
        force_password_reset: settings.force_password_reset,
        send_notification_email: settings.send_notification_email,
        enrolments,
        groups: settings_groups,
        site_url: settings.site_url.clone(),
        results_url: settings.results_url.clone(),
        uploader_email: settings.uploader_email.clone(),
        invitation_url: settings
            .send_invitations
            .then(|| settings.invitation_url.clone()),
        undo_of: None,
    };
    // Near-miss suggestions for unknown groups in the file come from every group in the
    // store, not only those the file or settings name (fetched once, only when needed).
    let context = RowContext {
        settings: &plan_settings,
        groups: &groups,
        all_group_names: std::sync::OnceLock::new(),
        content: &row_content,
        default_login_method: default_login_method.as_deref(),
        reactivate_suspended_users: settings.reactivate_suspended_users,
    };
    // the names are asked for after the users, as they always were
    let (mut rows, mut tally) =
        super::pipeline::plan_rows(upload, &context, store, batch, file_has_unknown_group)
            .map_err(store_error)?;
    if settings.suspend_missing_users {
        let missing =
            super::missing::missing_users(upload, store, settings.missing_users_threshold, batch)?;
        for row in &missing {
            tally.count(row);
            rows.push(row);
        }
    }
    if !options.exclude_lines.is_empty() {
        let mut kept = rows.to_vec();
        kept.retain(|r| !options.exclude_lines.contains(&r.line));
        // counted again: what was left out is not known row by row
        tally = Tally::default();
        for row in &kept {
            tally.count(row);
        }
        rows = PlanRows::from_vec(kept);
    }
    // Issues before the first row's line belong to the file (encoding, header).
    let first_row_line = upload.row(0).map_or(u32::MAX, |r| r.line());
    let file_issues: Vec<Issue> = upload
        .issues()
        .iter()
        .filter(|i| i.line.is_none_or(|l| l < first_row_line))
        .cloned()
        .collect();
    let mut summary = tally.summary.clone();
    summary.add(&Summary::of(&[], &file_issues));
    require_methods(tally, store)?;
    let mut plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        fingerprint: String::new(),
        settings: plan_settings,
        summary,
        file_issues,
        rows,
        shard: None,
        default_password: settings.default_password.clone(),
    };
    plan.fingerprint = super::json::fingerprint(&plan);
    Ok(plan)
}

/// Rows per thread below which the rows are planned on the calling thread alone.
const MIN_ROWS_PER_THREAD: usize = 16_384;

/// The most threads planning rows.
const MAX_PLAN_THREADS: usize = 16;

/// The threads planning `n` rows: the available cores, each with at least
/// [`MIN_ROWS_PER_THREAD`] rows.
pub(super) fn row_threads(n: usize) -> usize {
    #[cfg(test)]
    if let Some(threads) = tests::THREADS.with(std::cell::Cell::get) {
        return threads;
    }
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(n / MIN_ROWS_PER_THREAD)
        .clamp(1, MAX_PLAN_THREADS)
}

/// The vectors a row's operations and no-ops are gathered in, reused from row to row, so
/// that each row keeps vectors of exactly its length.
#[derive(Default)]
pub(super) struct Scratch {
    operations: Vec<Operation>,
    noops: Vec<Noop>,
}

/// `gathered`'s items moved into a vector of exactly their number (none allocated when there
/// are none); `gathered` is left empty with its capacity, for the next row.
fn exact<T>(gathered: &mut Vec<T>) -> Vec<T> {
    let mut exact = Vec::with_capacity(gathered.len());
    exact.append(gathered);
    exact
}

/// The optional store methods the rows use (as `tally` noted them), each one the store must
/// have: refused now (`host_method_missing`), before anything is written.
fn require_methods(tally: Tally, store: &mut dyn StoreRead) -> Result<(), Error> {
    let missing = tally.missing_methods(store);
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Store,
        IssueCode::HostMethodMissing,
        format!(
            "this plan needs the store's {}, which it does not have",
            missing.join(" and ")
        ),
    ))
}

/// The optional store methods the rows' operations call that the store does not have, by
/// name, each once (for an upload plan and an undo plan alike).
pub(crate) fn missing_methods(rows: &[PlanRow], store: &mut dyn StoreRead) -> Vec<&'static str> {
    let mut tally = Tally::default();
    for row in rows {
        tally.note_methods(row);
    }
    tally.missing_methods(store)
}

/// The optional store methods `operation` calls.
fn methods_of(operation: &Operation) -> &'static [OptionalMethod] {
    use OptionalMethod as M;
    match operation {
        Operation::SetLoginMethod { .. } => &[M::SetLoginMethod],
        Operation::ReactivateUser => &[M::ReactivateUser],
        Operation::SuspendUser => &[M::SuspendUser],
        // A user the store keeps is suspended instead.
        Operation::DeleteUser => &[M::DeleteUser, M::SuspendUser],
        Operation::Withdraw { .. } => &[M::Withdraw],
        // Links that could not be verified or used would be useless: all three.
        Operation::Invite => &[M::AddInvitation, M::FindInvitation, M::RedeemInvitation],
        Operation::RevokeInvitations => &[M::RevokeInvitations],
        _ => &[],
    }
}

/// What the plan needs of its rows as a whole, counted by the thread that plans them while
/// each row is in its cache (where two passes over every row after planning missed the
/// cache on each): the summary's counts (the file's issues aside) and the optional store
/// methods the operations call. Tallies of parts of the rows add up to the tally of all.
#[derive(Default)]
pub(super) struct Tally {
    summary: Summary,
    /// Each method needed, once, in no order.
    needed: Vec<OptionalMethod>,
}

impl Tally {
    /// Counts `row`.
    pub(super) fn count(&mut self, row: &PlanRow) {
        self.summary.count(row);
        self.note_methods(row);
    }

    fn note_methods(&mut self, row: &PlanRow) {
        for &method in row.operations.iter().flat_map(methods_of) {
            self.need(method);
        }
    }

    /// Adds `other`'s counts and methods to these.
    pub(super) fn add(&mut self, other: &Tally) {
        self.summary.add(&other.summary);
        for &method in &other.needed {
            self.need(method);
        }
    }

    /// Notes `method` as needed, once.
    fn need(&mut self, method: OptionalMethod) {
        if !self.needed.contains(&method) {
            self.needed.push(method);
        }
    }

    /// The methods needed that the store does not have, by name, asked of the store in
    /// the methods' order.
    fn missing_methods(mut self, store: &mut dyn StoreRead) -> Vec<&'static str> {
        self.needed.sort_unstable();
        self.needed
            .into_iter()
            .filter(|m| !store.supports(*m))
            .map(OptionalMethod::method_name)
            .collect()
    }
}

fn resolve_content(
    settings: &Settings,
    store: &mut dyn StoreRead,
) -> Result<Vec<ContentRef>, Error> {
    if settings.enrolments.is_empty() {
        return Ok(Vec::new());
    }
    let found: BTreeSet<ContentRef> = store
        .find_content(&settings.enrolments)
        .map_err(store_error)?
        .into_iter()
        .collect();
    if let Some(missing) = settings.enrolments.iter().find(|c| !found.contains(c)) {
        return Err(Error::settings(
            IssueCode::UnknownContent,
            format!("the {missing} selected for enrolment does not exist"),
        ));
    }
    Ok(settings.enrolments.clone())
}

/// The content the valid rows' own `course`, `collection` and `campaign` cells name that
/// the store has, `batch` items per `find_content` call; an item the store answers but was
/// not asked for is not believed.
fn resolve_row_content(
    upload: &Upload,
    store: &mut dyn StoreRead,
    batch: usize,
) -> Result<BTreeSet<ContentRef>, Error> {
    let columns = [Column::Course, Column::Collection, Column::Campaign];
    if !columns.iter().any(|c| upload.has_column(*c)) {
        return Ok(BTreeSet::new());
    }
    let named: BTreeSet<ContentRef> = upload.valid_rows().flat_map(|r| r.enrolments()).collect();
    let named: Vec<ContentRef> = named.into_iter().collect();
    let mut found = BTreeSet::new();
    for chunk in named.chunks(batch) {
        for content in store.find_content(chunk).map_err(store_error)? {
            if chunk.contains(&content) {
                found.insert(content);
            }
        }
    }
    Ok(found)
}

/// Every group named in the settings or in a valid row, resolved; unknown settings groups
/// fail. With the groups, whether a valid row names one the store does not have (every
/// name but those of the rows is a settings group, found).
fn resolve_groups(
    upload: &Upload,
    settings: &Settings,
    store: &mut dyn StoreRead,
    batch: usize,
) -> Result<(BTreeMap<String, Group>, bool), Error> {
    let mut names: BTreeSet<&str> = settings.groups.iter().map(String::as_str).collect();
    if upload.has_column(Column::AddGroup) || upload.has_column(Column::RemoveGroup) {
        for row in upload.valid_rows() {
            names.extend(adds(&row));
            names.extend(removes(&row));
        }
    }
    let names: Vec<&str> = names.into_iter().collect();
    let found = find_groups_named(&names, store, batch).map_err(store_error)?;
    if let Some(missing) = settings
        .groups
        .iter()
        .find(|g| !found.contains_key(g.as_str()))
    {
        let hint = suggestion(missing, store)?;
        return Err(Error::settings(
            IssueCode::UnknownGroup,
            format!("the group {missing:?} does not exist{hint}"),
        ));
    }
    let unknown = names.iter().any(|name| !found.contains_key(*name));
    Ok((found, unknown))
}

/// The groups among `names` that exist, by name, `batch` names per `find_groups` call; a
/// group the store answers but was not asked for is not believed.
pub(crate) fn find_groups_named(
    names: &[&str],
    store: &mut dyn StoreRead,
    batch: usize,
) -> Result<BTreeMap<String, Group>, HostError> {
    let mut found = BTreeMap::new();
    for chunk in names.chunks(batch.max(1)) {
        for group in store.find_groups(chunk)? {
            if chunk.contains(&group.name.as_str()) {
                found.insert(group.name.clone(), group);
            }
        }
    }
    Ok(found)
}

/// The users with these addresses, `batch` addresses per `find_users` call (planning an
/// upload, and planning an undo).
pub(crate) fn find_existing<'e>(
    emails: impl IntoIterator<Item = &'e str>,
    store: &mut dyn StoreRead,
    batch: usize,
) -> Result<Existing, HostError> {
    let emails: Vec<&str> = emails.into_iter().collect();
    let mut existing = Existing::default();
    for chunk in emails.chunks(batch.max(1)) {
        for user in store.find_users(chunk)? {
            if existing.users.is_empty() {
                // sized once for every address looked up: the index never grows
                existing.chains.reserve(emails.len());
            }
            existing.insert(user);
        }
    }
    Ok(existing)
}

/// The users the store found, indexed by a keyed hash of their email key (no key is built
/// for an ASCII address); the users stay in a vector, so growing it moves no index entry.
#[derive(Default)]
pub(crate) struct Existing {
    users: Vec<ExistingUser>,
    /// The users by the hash of their email key.
    chains: HashChains,
    /// The keys of the hash.
    state: crate::keyed_hash::KeyedState,
}

impl Existing {
    fn insert(&mut self, user: ExistingUser) {
        self.chains.push(keyed_email_hash(&self.state, &user.email));
        self.users.push(user);
    }

    /// The user found with this address (compared by email key; the last one found if the
    /// store returned several).
    pub(crate) fn get(&self, email: &str) -> Option<&ExistingUser> {
        if self.users.is_empty() {
            return None;
        }
        self.chains
            .positions(keyed_email_hash(&self.state, email))
            .map(|at| &self.users[at])
            .find(|user| emails_equal(&user.email, email))
    }
}

/// Positions `0, 1, 2, ...` of a list, by a 64-bit hash of each item (a keyed hash, kept as
/// it is): the last position pushed with a hash, and for each position the one pushed
/// before it with the same hash, so that equal hashes are walked newest first.
#[derive(Default)]
pub(super) struct HashChains {
    last: HashMap<u64, u32, std::hash::BuildHasherDefault<HashedKey>>,
    /// Per position, the one before it with the same hash (`NONE`: none).
    previous: Vec<u32>,
}

impl HashChains {
    const NONE: u32 = u32::MAX;

    /// Room for `n` more positions without growing.
    pub(super) fn reserve(&mut self, n: usize) {
        self.last.reserve(n);
        self.previous.reserve_exact(n);
    }

    /// The next position, with its hash.
    pub(super) fn push(&mut self, hash: u64) {
        let at = self.previous.len() as u32;
        let previous = self.last.insert(hash, at).unwrap_or(Self::NONE);
        self.previous.push(previous);
    }

    /// The positions pushed with `hash`, the last first.
    pub(super) fn positions(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.last.get(&hash).copied().unwrap_or(Self::NONE);
        std::iter::from_fn(move || {
            (at != Self::NONE).then(|| {
                let this = at as usize;
                at = self.previous[this];
                this
            })
        })
    }
}

/// The hasher of [`HashChains`], whose keys are already keyed hashes: it keeps them.
#[derive(Default)]
pub(crate) struct HashedKey(u64);

impl std::hash::Hasher for HashedKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// ", did you mean 'Sales'?" for a near miss among the store's group names, or "".
fn suggestion(name: &str, store: &mut dyn StoreRead) -> Result<String, Error> {
    let names = store.all_group_names().map_err(store_error)?;
    Ok(
        crate::parse::suggest::closest(name, names.iter().map(String::as_str))
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default(),
    )
}

pub(super) struct RowContext<'a> {
    settings: &'a PlanSettings,
    groups: &'a BTreeMap<String, Group>,
    /// Every group name in the store, for "did you mean" (unset when no row needs it: the
    /// store is asked for them once its users are found).
    pub(super) all_group_names: std::sync::OnceLock<Vec<String>>,
    /// The content named by the rows' own cells that the store has.
    content: &'a BTreeSet<ContentRef>,
    /// How new users sign in without an `auth` value (`None`: password).
    default_login_method: Option<&'a str>,
    /// The `reactivate_suspended_users` setting.
    reactivate_suspended_users: bool,
}

impl RowContext<'_> {
    /// The plan of one row, written into `planned` (its operations and no-ops gathered in
    /// `scratch`, then kept in vectors of their exact length).
    ///
    /// `existing` is the user found for the row and whether the row may take its strings
    /// (no other row is matched to it): its id, its email and names where they are the
    /// row's byte for byte, and the names of the groups it is already a member of. The
    /// plan is the same either way; only the copies differ.
    pub(super) fn plan_row(
        &self,
        row: &RowCells<'_>,
        existing: Option<(&mut ExistingUser, bool)>,
        scratch: &mut Scratch,
        planned: &mut PlanRow,
    ) {
        // written in place, field by field (the placeholder owns nothing): no row built
        // aside, moved in, and the placeholder dropped
        planned.line = row.line();
        planned.action = Action::Rejected;
        planned.operations = std::mem::take(&mut scratch.operations);
        planned.noops = std::mem::take(&mut scratch.noops);
        planned.issues = row.row().issues().to_vec();
        let (email, first_name, last_name) = (
            row.email(),
            row.get(Column::FirstName),
            row.get(Column::LastName),
        );
        match existing {
            Some((user, true)) => {
                planned.user_id = None;
                self.plan_valid_row(row, Some(&mut *user), true, planned);
                // the row's strings taken from the user where they are the same bytes
                planned.email = take_if_same(&mut user.email, email);
                let profile = &mut user.profile;
                planned.first_name = take_if_same_in(&mut profile.first_name, first_name);
                planned.last_name = take_if_same_in(&mut profile.last_name, last_name);
                planned.user_id = Some(UserId(std::mem::take(&mut user.id.0)));
            }
            existing => {
                let user = existing.map(|(user, _)| user);
                planned.user_id = user.as_ref().map(|u| u.id.clone());
                self.plan_valid_row(row, user, false, planned);
                planned.email = email.to_owned();
                planned.first_name = first_name.to_owned();
                planned.last_name = last_name.to_owned();
            }
        }
        scratch.operations = std::mem::take(&mut planned.operations);
        planned.operations = exact(&mut scratch.operations);
        scratch.noops = std::mem::take(&mut planned.noops);
        planned.noops = exact(&mut scratch.noops);
    }

    fn plan_valid_row(
        &self,
        row: &RowCells<'_>,
        existing: Option<&mut ExistingUser>,
        take: bool,
        planned: &mut PlanRow,
    ) {
        if !row.row().is_valid() {
            return;
        }
        if let Some(issue) = self
            .unknown_group(row)
            .or_else(|| self.unknown_content(row))
            .or_else(|| self.settings_group_removed(row))
        {
            planned.issues.push(issue);
            return;
        }
        match existing {
            None => self.plan_new(row, planned),
            Some(user) if user.protected => planned.issues.push(Issue::new(
                IssueCode::ProtectedUser,
                Some(row.line()),
                Some(Column::EmailAddress.as_str()),
                format!("{} is a protected user (an administrator or outside your reach) and is left untouched", row.email()),
            )),
            Some(user) => self.plan_existing(row, user, take, planned),
        }
    }

    /// A row that removes a group the settings add everyone to contradicts the settings,
    /// like a row that adds and removes the same group (`group_conflict`).
    fn settings_group_removed(&self, row: &RowCells<'_>) -> Option<Issue> {
        let group = row
            .removes()
            .find(|g| self.settings.groups.iter().any(|s| s.name == *g))?;
        Some(Issue::new(
            IssueCode::GroupConflict,
            Some(row.line()),
            Some(Column::RemoveGroup.as_str()),
            format!("the row removes the group '{group}', which the settings add every user to"),
        ))
    }

    /// A course, collection or campaign of the row's own cells that the store does not
    /// have: the row is rejected. The near miss is looked for among the content this plan
    /// knows exists (the settings' and the rows'); the store has no list of its content.
    fn unknown_content(&self, row: &RowCells<'_>) -> Option<Issue> {
        let missing = row
            .row()
            .enrolments()
            .into_iter()
            .find(|c| !self.content.contains(c))?;
        let known = self
            .content
            .iter()
            .chain(&self.settings.enrolments)
            .filter(|c| c.kind == missing.kind)
            .map(|c| c.id.as_str());
        let hint = crate::parse::suggest::closest(&missing.id, known)
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default();
        let column = match missing.kind {
            crate::ContentKind::Course => Column::Course,
            crate::ContentKind::Collection => Column::Collection,
            crate::ContentKind::Campaign => Column::Campaign,
        };
        Some(Issue::new(
            IssueCode::UnknownContent,
            Some(row.line()),
            Some(column.as_str()),
            format!("the {missing} does not exist (ids are case-sensitive){hint}"),
        ))
    }

    /// The settings' enrolments for everyone, then the row's own, each once.
    fn enrolments_of(&self, row: &RowCells<'_>) -> impl Iterator<Item = ContentRef> + '_ {
        let mut own = row.row().enrolments();
        if !own.is_empty() {
            // The row's own are distinct already: only those of the settings are left out.
            let settings: BTreeSet<&ContentRef> = self.settings.enrolments.iter().collect();
            own.retain(|c| !settings.contains(c));
        }
        self.settings.enrolments.iter().cloned().chain(own)
    }

    fn unknown_group(&self, row: &RowCells<'_>) -> Option<Issue> {
        for (column, name) in row
            .adds()
            .map(|g| (Column::AddGroup, g))
            .chain(row.removes().map(|g| (Column::RemoveGroup, g)))
        {
            if !self.groups.contains_key(name) {
                let hint = crate::parse::suggest::closest(
                    name,
                    self.all_group_names
                        .get()
                        .into_iter()
                        .flatten()
                        .chain(self.groups.keys())
                        .map(String::as_str),
                )
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
                return Some(Issue::new(
                    IssueCode::UnknownGroup,
                    Some(row.line()),
                    Some(column.as_str()),
                    format!(
                        "the group {name:?} does not exist (group names are case-sensitive){hint}"
                    ),
                ));
            }
        }
        None
    }

    /// Whether users whose password is set get a sign-in link instead.
    fn invites(&self) -> bool {
        self.settings.password_source == PasswordSource::Invitation
    }

    fn email_op(&self, kind: MessageKind) -> Option<Operation> {
        let send = self.settings.password_source != PasswordSource::Default
            || self.settings.send_notification_email;
        send.then_some(Operation::SendEmail { kind })
    }

    fn plan_new(&self, row: &RowCells<'_>, planned: &mut PlanRow) {
        planned.action = Action::Create;
        let method = row.row().login_method().or(self.default_login_method);
        let login_method = method
            .filter(|m| *m != crate::host::store::PASSWORD_LOGIN)
            .map(str::to_owned);
        let invite = login_method.is_none() && self.invites();
        planned.operations.push(Operation::CreateUser {
            profile: Box::new(profile_of(row)),
            login_method,
        });
        if invite {
            planned.operations.push(Operation::Invite);
        }
        let mut added = Seen::default();
        for group in self
            .settings
            .groups
            .iter()
            .chain(row.adds().filter_map(|g| self.groups.get(g)))
        {
            if added.insert(&group.name) {
                planned.operations.push(Operation::AddToGroup {
                    group: group.clone(),
                });
            }
        }
        if row.removes().next().is_some() {
            planned.issues.push(Issue::new(
                IssueCode::RemovegroupOnNewUser,
                Some(row.line()),
                Some(Column::RemoveGroup.as_str()),
                "removegroup does nothing for a new user".into(),
            ));
        }
        for content in self.enrolments_of(row) {
            planned.operations.push(Operation::Enrol { content });
        }
        planned
            .operations
            .extend(self.email_op(MessageKind::Welcome));
    }

    /// With `take`, the name of a group the user is a member of already is moved out of
    /// the user's groups into its no-op (each group is looked at once a row).
    fn plan_existing(
        &self,
        row: &RowCells<'_>,
        user: &mut ExistingUser,
        take: bool,
        planned: &mut PlanRow,
    ) {
        let s = self.settings;
        let password = crate::host::store::PASSWORD_LOGIN;
        let stored_method = user.login_method.as_deref().unwrap_or(password);
        // The file's `auth` changes the method only where it is given: a file without the
        // column (or a blank cell) keeps every existing user's method.
        let new_method = row.row().login_method().filter(|m| *m != stored_method);
        let mut method = stored_method;
        if user.suspended {
            if self.reactivate_suspended_users && user.suspended_by_upload {
                planned.operations.push(Operation::ReactivateUser);
            } else {
                let why = if self.reactivate_suspended_users {
                    "the store does not say an upload suspended them (suspended_by_upload), and only such users are reactivated"
                } else {
                    "reactivate_suspended_users is off"
                };
                planned.issues.push(Issue::new(
                    IssueCode::UserSuspended,
                    Some(row.line()),
                    Some(Column::EmailAddress.as_str()),
                    format!("{} is suspended and stays so: {why}", row.email()),
                ));
            }
        }
        // Moving a user to password login sets a password they did not choose: a password
        // change, which needs update_existing_passwords too.
        let to_password_refused = new_method == Some(password) && !s.update_existing_passwords;
        if let Some(new) = new_method.filter(|_| !to_password_refused) {
            if s.update_existing_profiles {
                planned.operations.push(Operation::SetLoginMethod {
                    method: new.to_owned(),
                    expect: None,
                });
                method = new;
            } else {
                planned.issues.push(Issue::new(
                    IssueCode::ChangesNeedUpdateProfiles,
                    Some(row.line()),
                    Some(Column::Auth.as_str()),
                    "the row changes an existing user's login method, which needs update_existing_profiles".into(),
                ));
            }
        }
        if to_password_refused {
            planned.issues.push(Issue::new(
                IssueCode::ChangesNeedUpdatePasswords,
                Some(row.line()),
                Some(Column::Auth.as_str()),
                format!("the row moves an existing user from {stored_method} to password login, which sets a password they did not choose: it needs update_existing_passwords; the login method is left as it is"),
            ));
        }
        if s.update_existing_profiles {
            let changes = profile_changes(row, &user.profile);
            if changes.is_empty() {
                planned.noops.push(Noop::ProfileUnchanged);
            } else {
                planned.operations.push(Operation::UpdateProfile {
                    changes: Box::new(changes),
                    expect: None,
                });
            }
            let mut seen = Seen::default();
            for group in s
                .groups
                .iter()
                .chain(row.adds().filter_map(|g| self.groups.get(g)))
            {
                if !seen.insert(&group.name) {
                    continue;
                }
                if let Some(at) = user.groups.iter().position(|g| *g == group.name) {
                    let group = match take {
                        true => user.groups.swap_remove(at),
                        false => group.name.clone(),
                    };
                    planned.noops.push(Noop::AlreadyMember { group });
                } else {
                    planned.operations.push(Operation::AddToGroup {
                        group: group.clone(),
                    });
                }
            }
            for group in row.removes().filter_map(|g| self.groups.get(g)) {
                if !seen.insert(&group.name) {
                    continue;
                }
                if user.groups.contains(&group.name) {
                    planned.operations.push(Operation::RemoveFromGroup {
                        group: group.clone(),
                    });
                } else {
                    planned.noops.push(Noop::NotAMember {
                        group: group.name.clone(),
                    });
                }
            }
        } else if row.adds().next().is_some() || row.removes().next().is_some() {
            let column = if row.adds().next().is_some() {
                Column::AddGroup
            } else {
                Column::RemoveGroup
            };
            planned.issues.push(Issue::new(
                IssueCode::ChangesNeedUpdateProfiles,
                Some(row.line()),
                Some(column.as_str()),
                "the row changes groups of an existing user, which needs update_existing_profiles"
                    .into(),
            ));
        }
        // Password settings apply to password users only; a user moved to password login
        // needs one, whatever update_existing_passwords says.
        let moved_to_password = method == password && stored_method != password;
        if method == password && (s.update_existing_passwords || moved_to_password) {
            planned.operations.push(if self.invites() {
                Operation::Invite
            } else {
                Operation::SetPassword
            });
            planned
                .operations
                .extend(self.email_op(MessageKind::PasswordChanged));
        }
        if s.enrol_existing_users {
            for content in self.enrolments_of(row) {
                if user.enrolments.contains(&content) {
                    planned.noops.push(Noop::AlreadyEnrolled { content });
                } else {
                    planned.operations.push(Operation::Enrol { content });
                }
            }
        } else if let Some(content) = row.row().enrolments().first() {
            let column = match content.kind {
                crate::ContentKind::Course => Column::Course,
                crate::ContentKind::Collection => Column::Collection,
                crate::ContentKind::Campaign => Column::Campaign,
            };
            planned.issues.push(Issue::new(
                IssueCode::ChangesNeedEnrolExistingUsers,
                Some(row.line()),
                Some(column.as_str()),
                format!(
                    "the row enrols an existing user in the {content}, which needs \
                     enrol_existing_users; not enrolled"
                ),
            ));
        }
        // A reactivation alone (reactivate_suspended_users) is a change the settings allow.
        if !(s.update_existing_profiles || s.update_existing_passwords || s.enrol_existing_users)
            && planned.operations.is_empty()
        {
            planned.issues.push(Issue::new(
                IssueCode::ExistingUserSkipped,
                Some(row.line()),
                Some(Column::EmailAddress.as_str()),
                format!(
                    "{} already exists and no setting allows changing existing users",
                    row.email()
                ),
            ));
        }
        planned.action = if planned.operations.is_empty() {
            Action::Unchanged
        } else {
            Action::Update
        };
    }
}

/// The groups a row adds ([`Row::add_groups`]): none, without splitting, for a blank cell.
fn adds<'a>(row: &Row<'a>) -> impl Iterator<Item = &'a str> + 'a {
    let any = !row.get(Column::AddGroup).is_empty();
    any.then(|| row.add_groups()).into_iter().flatten()
}

/// The groups a row removes ([`Row::remove_groups`]): none, without splitting, for a blank
/// cell.
fn removes<'a>(row: &Row<'a>) -> impl Iterator<Item = &'a str> + 'a {
    let any = !row.get(Column::RemoveGroup).is_empty();
    any.then(|| row.remove_groups()).into_iter().flatten()
}

/// `value` as an owned string: `found`'s own, taken, where it is the same bytes, else a copy.
fn take_if_same(found: &mut String, value: &str) -> String {
    match *found == value {
        true => std::mem::take(found),
        false => value.to_owned(),
    }
}

/// [`take_if_same`] for an optional field of the found user's profile.
fn take_if_same_in(found: &mut Option<String>, value: &str) -> String {
    match found {
        Some(found) => take_if_same(found, value),
        None => value.to_owned(),
    }
}

fn profile_of(row: &RowCells<'_>) -> Profile {
    let v = |c| row.value(c).map(str::to_owned);
    // inserted one by one (the fields' names are distinct): collecting into a map costs
    // some 90 instructions even when the upload has no host profile fields
    let mut custom = BTreeMap::new();
    for (name, value) in row.row().custom_values() {
        custom.insert(name.to_owned(), value);
    }
    Profile {
        first_name: v(Column::FirstName),
        last_name: v(Column::LastName),
        phone_number: v(Column::PhoneNumber),
        unique_id: v(Column::UniqueId),
        country: v(Column::Country),
        organisation: v(Column::Organisation),
        language_code: v(Column::LanguageCode),
        custom,
    }
}

/// The profile columns, in the order of [`Profile::fields`].
const PROFILE_COLUMNS: [Column; 7] = [
    Column::FirstName,
    Column::LastName,
    Column::PhoneNumber,
    Column::UniqueId,
    Column::Country,
    Column::Organisation,
    Column::LanguageCode,
];

/// The non-blank cells that differ from what is stored, and `""` for a stored value the
/// row clears (the clear token).
fn profile_changes(row: &RowCells<'_>, stored: &Profile) -> Profile {
    let mut changes = Profile::default();
    for ((slot, (_, old)), column) in changes
        .fields_mut()
        .into_iter()
        .zip(stored.fields())
        .zip(PROFILE_COLUMNS)
    {
        *slot = match row.value(column) {
            Some(n) if old != Some(n) => Some(n.to_owned()),
            // the cell read again only where there is a stored value to clear
            None if old.is_some_and(|o| !o.is_empty()) && row.clears(column) => Some(String::new()),
            _ => None,
        };
    }
    let stored = &stored.custom;
    for (name, value) in row.row().custom_values() {
        if stored.get(name) != Some(&value) {
            changes.custom.insert(name.to_owned(), value);
        }
    }
    for name in row.row().cleared_fields() {
        if stored.get(name).is_some_and(|v| !v.is_empty()) {
            changes.custom.insert(name.to_owned(), String::new());
        }
    }
    changes
}

/// The group names a row has planned already: a few searched in turn, or a set once there
/// are more (a crafted row naming thousands of groups stays linear). Nothing is allocated
/// for the few.
#[derive(Default)]
struct Seen<'a> {
    few: [&'a str; 8],
    count: usize,
    /// Made once there are more than the few (a default set draws its random keys).
    many: Option<std::collections::HashSet<&'a str>>,
}

impl<'a> Seen<'a> {
    /// Whether `name` is new (it is remembered).
    fn insert(&mut self, name: &'a str) -> bool {
        if self.count < self.few.len() {
            if self.few[..self.count].contains(&name) {
                return false;
            }
            self.few[self.count] = name;
            self.count += 1;
            return true;
        }
        let few = self.few;
        self.many
            .get_or_insert_with(|| few.into_iter().collect())
            .insert(name)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::pipeline::tests::{EARLY_JOBS, JOB_ROWS};
    use super::*;
    use crate::{parse, ContentKind, MemoryStore, UserId};
    use std::cell::Cell;

    thread_local! {
        /// Threads planning rows, whatever the upload's size (`None`: as for a real plan).
        pub(in crate::plan) static THREADS: Cell<Option<usize>> = const { Cell::new(None) };
    }

    #[test]
    fn rows_planned_on_several_threads_are_those_planned_on_one() {
        // with an unknown group (every user looked up before the first row is planned) and
        // without (rows planned while users are looked up)
        same_on_several_threads("Nope");
        same_on_several_threads("Support");
    }

    fn same_on_several_threads(fourth_group: &str) {
        let mut file = String::from("firstname,lastname,email,addgroup,removegroup,course\n");
        for i in 0..61 {
            let email = if i % 13 == 5 {
                format!("bad{i}")
            } else {
                format!("U{i}@example.com")
            };
            let add = ["", "Sales", "Support;Sales", fourth_group][i % 4];
            let remove = ["", "", "Support", ""][i % 3];
            let course = ["", "c1", "c2"][i % 3];
            file.push_str(&format!("F{i},L{i},{email},{add},{remove},{course}\n"));
        }
        let upload = parse(file.as_bytes(), &Default::default()).expect("parses");
        let mut store = MemoryStore::new();
        store.add_group("g1", "Sales");
        store.add_group("g2", "Support");
        store.add_content(ContentRef::new(ContentKind::Course, "c1"));
        for i in (0..61).step_by(3) {
            store.add_user(ExistingUser {
                id: UserId(format!("e{i}")),
                email: format!("u{i}@example.com"),
                profile: Profile {
                    first_name: Some(format!("F{i}")),
                    last_name: Some("Other".into()),
                    ..Profile::default()
                },
                groups: vec!["Support".into()],
                enrolments: Vec::new(),
                protected: i % 7 == 0,
                suspended: false,
                suspended_by_upload: false,
                login_method: None,
            });
        }
        let settings = Settings::builder()
            .update_existing_profiles(true)
            .enrol_existing_users(true)
            .build()
            .expect("settings");
        let planned = |threads, job_rows, lookup_batch, early| {
            THREADS.with(|t| t.set(Some(threads)));
            JOB_ROWS.with(|j| j.set(Some(job_rows)));
            EARLY_JOBS.with(|e| e.set(early));
            let options = PlanOptions {
                lookup_batch,
                ..PlanOptions::default()
            };
            let json = plan_with(&upload, &settings, &mut store.clone(), &options)
                .expect("plan")
                .to_json();
            THREADS.with(|t| t.set(None));
            JOB_ROWS.with(|j| j.set(None));
            EARLY_JOBS.with(|e| e.set(0));
            json
        };
        let one = planned(1, 4_096, DEFAULT_LOOKUP_BATCH, 0);
        assert!(
            one.contains("\"update\"") && one.contains("\"create\"") && one.contains("rejected")
        );
        // the rows handed to the threads a few at a time, the users looked up a few at a time
        for threads in [1, 2, 3, 7, 61, 64] {
            for (job_rows, lookup_batch) in [(4_096, 1_000), (1, 1), (5, 2), (8, 3), (13, 13)] {
                // at least this many jobs looked up while the rows are prepared
                for early in [0, 1, 3, usize::MAX] {
                    assert_eq!(
                        planned(threads, job_rows, lookup_batch, early),
                        one,
                        "{threads} threads, jobs of {job_rows}, calls of {lookup_batch}, \
                         {early} jobs looked up early"
                    );
                }
            }
        }
    }
}
