//! In-memory test doubles shipped with the engine: [`MemoryStore`] and [`RecordingMailer`].

use crate::execute::invitation::{InvitationDigest, NewInvitation, StoredInvitation};
use crate::execute::password::PasswordHash;
use crate::host::mailer::{Mailer, Message};
use crate::host::store::{
    ContentRef, ExistingUser, Group, HostError, NewUser, OptionalMethod, Profile, ScopePage, Store,
    UserId,
};
use crate::parse::email::{email_key, emails_equal, keyed_email_hash};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault};

mod index;
use index::{id_hash, prefetch, prefetch_text, HashIndex, IdHasher};

/// Keeps the first of each equal item, in order: the users a lookup found, each once in
/// the order first asked for. Most lookups name each user once, which a sorted copy shows
/// without a set.
fn first_of_each(places: &mut Vec<usize>, sorted: &mut Vec<usize>) {
    sorted.clear();
    sorted.extend_from_slice(places);
    sorted.sort_unstable();
    if sorted.windows(2).all(|pair| pair[0] != pair[1]) {
        return;
    }
    let mut seen = HashSet::with_capacity(places.len());
    places.retain(|at| seen.insert(*at));
}

/// Users by email key: a randomly keyed hash of the key (`KeyedState`: safe with keys from
/// files), computed without building the key for an ASCII address.
#[derive(Debug, Clone, Default)]
struct EmailIndex {
    state: crate::keyed_hash::KeyedState,
    positions: HashIndex,
}

impl EmailIndex {
    fn hash(&self, email: &str) -> u64 {
        keyed_email_hash(&self.state, email)
    }
    fn get(&self, users: &[StoredUser], email: &str) -> Option<usize> {
        self.positions
            .find(self.hash(email), |at| emails_equal(&users[at].email, email))
    }
}

/// `u` and the number in decimal (`format!("u{n}")`, in one allocation of the right size).
fn numbered_id(n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut id = String::with_capacity(1 + digits.len() - at);
    id.push('u');
    for &d in &digits[at..] {
        id.push(char::from(d));
    }
    id
}

/// `numbered_id(n + 1)` written over `numbered_id(n)` (`id`): the trailing nines become
/// zeros and the digit before them one more (a new leading `1` after the `u` when all
/// were nines).
fn next_numbered_id(id: &mut String) {
    let mut nines = 0;
    while id.ends_with('9') {
        id.pop();
        nines += 1;
    }
    match id.pop() {
        Some(digit @ '0'..='8') => id.push(char::from(digit as u8 + 1)),
        Some(other) => {
            id.push(other);
            id.push('1');
        }
        None => id.push('1'),
    }
    for _ in 0..nines {
        id.push('0');
    }
}

/// `n` if `id` is `u{n}` as [`numbered_id`] writes it (no sign, no leading zero).
fn id_number(id: &str) -> Option<u64> {
    let digits = id.strip_prefix('u')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

/// Group names by group id, sorted by id: a user's group ids are looked up by binary
/// search, not hashed one by one.
struct GroupNames<'a>(Vec<(&'a str, &'a str)>);

impl GroupNames<'_> {
    fn get(&self, id: &str) -> Option<&str> {
        let at = self.0.binary_search_by(|&(i, _)| i.cmp(id)).ok()?;
        Some(self.0[at].1)
    }
}

/// A user held by a [`MemoryStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    /// The id (`u1`, `u2`, ... for created users).
    pub id: UserId,
    /// The email as written.
    pub email: String,
    /// Profile fields.
    pub profile: Profile,
    /// The argon2id hash, if a password was ever set.
    pub password_hash: Option<PasswordHash>,
    /// Must choose a new password at next login.
    pub force_password_reset: bool,
    /// Group ids.
    pub groups: BTreeSet<String>,
    /// Enrolments.
    pub enrolments: BTreeSet<ContentRef>,
    /// Never changed by uploads.
    pub protected: bool,
    /// Deactivated (missing from a file, or by an undo).
    pub suspended: bool,
    /// Suspended by the engine's `suspend_user` (an upload or an undo), not by someone else.
    pub suspended_by_upload: bool,
    /// How the user signs in (`None`: password).
    pub login_method: Option<String>,
}

/// A user in a [`StoreState`] (the language-neutral snapshot used by the scenarios).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct UserState {
    #[serde(default)]
    pub id: Option<String>,
    pub email: String,
    #[serde(default, flatten)]
    pub profile: Profile,
    /// Group names, sorted.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Sorted.
    #[serde(default)]
    pub enrolments: Vec<ContentRef>,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub suspended: bool,
    /// With `suspended`: suspended by an upload or an undo (absent: by someone else).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended_by_upload: bool,
    /// How the user signs in (absent: password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_method: Option<String>,
    #[serde(default)]
    pub has_password: bool,
    #[serde(default)]
    pub force_password_reset: bool,
    /// Sign-in links the user holds that are not used yet (expired ones included).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub invitations: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An invitation a [`MemoryStore`] keeps, under its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeptInvitation {
    user: UserId,
    expires_at: u64,
    upload: String,
    used: bool,
}

/// A whole store as data: groups, content and users (sorted by email key). No hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreState {
    /// Groups.
    pub groups: Vec<Group>,
    /// Content items.
    pub content: Vec<ContentRef>,
    /// Users.
    pub users: Vec<UserState>,
    /// The inverse writes this store does without (`["withdraw"]`): to show an undo that
    /// needs one refused. Empty: it has them all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lacks: Vec<OptionalMethod>,
}

/// A [`Store`] in memory, for tests, examples and embedders who want one.
///
/// ```
/// use lms_bulk_upload::{ContentKind, ContentRef, MemoryStore};
/// let mut store = MemoryStore::new();
/// store.add_group("g1", "Sales");
/// store.add_content(ContentRef::new(ContentKind::Course, "c1"));
/// assert_eq!(store.state().groups.len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    users: Vec<StoredUser>,
    by_email: EmailIndex,
    by_id: HashIndex,
    groups: BTreeMap<String, Group>,
    content: BTreeSet<ContentRef>,
    next_id: u64,
    /// The number and text (`u{n}`) of the id taken last above every numbered id: the
    /// next one is written from it ([`next_numbered_id`]), a digit changed as a rule.
    last_numbered: (u64, String),
    /// The id after `last_numbered`'s, written to ask for its slot in the id index ahead
    /// of the next `create_user` ([`MemoryStore::prefetch_next_id`]).
    next_numbered: String,
    /// The largest `n` of an id `u{n}` (as [`numbered_id`] writes it) that a user was ever
    /// given or that is reserved: a number above it is free without a lookup.
    numbered_max: u64,
    reserved: HashSet<UserId, BuildHasherDefault<IdHasher>>,
    lacks: BTreeSet<OptionalMethod>,
    /// Sign-in links by digest, and each user's digests.
    invitations: HashMap<InvitationDigest, KeptInvitation>,
    invitations_by_user: HashMap<UserId, Vec<InvitationDigest>>,
    /// The place of the user last written or added (checked by id before it is used).
    recent: usize,
    /// The places of the users the last `find_users` answered, in its order, and the next
    /// one expected written (checked by id before they are used): an engine writes the
    /// users it has just read again in that order.
    found: Vec<usize>,
    found_next: usize,
    /// Whether two users were ever given the same id (the one added last is the one the
    /// id finds; `found` is then not read).
    ids_shared: bool,
    /// `found` sorted, kept from one `find_users` to the next ([`first_of_each`]).
    sorted: Vec<usize>,
    /// Each address of a `find_users` call, its hash and first candidate ([`locate`]),
    /// kept from one call to the next.
    ///
    /// [`locate`]: MemoryStore::locate
    located: Vec<(u64, Option<usize>)>,
    /// Counts of calls, by method name (to check batching).
    pub calls: BTreeMap<&'static str, u64>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store holding `state`.
    pub fn from_state(state: &StoreState) -> MemoryStore {
        let mut store = MemoryStore::new();
        store.lacks = state.lacks.iter().copied().collect();
        for group in &state.groups {
            store.add_group(&group.id, &group.name);
        }
        for content in &state.content {
            store.add_content(content.clone());
        }
        // Ids the state gives are taken first, so an id made up for a user without one
        // never equals one given to a later user.
        for user in state.users.iter().filter(|u| u.id.is_some()) {
            let id = UserId(user.id.clone().unwrap_or_default());
            store.note_numbered(&id);
            store.reserved.insert(id);
        }
        for user in &state.users {
            let id = user.id.clone().unwrap_or_else(|| store.new_id());
            let group_ids = user
                .groups
                .iter()
                .filter_map(|name| store.groups.get(name).map(|g| g.id.clone()))
                .collect();
            store.insert(StoredUser {
                id: UserId(id),
                email: user.email.clone(),
                profile: user.profile.clone(),
                password_hash: None,
                force_password_reset: user.force_password_reset,
                groups: group_ids,
                enrolments: user.enrolments.iter().cloned().collect(),
                protected: user.protected,
                suspended: user.suspended,
                suspended_by_upload: user.suspended && user.suspended_by_upload,
                login_method: user.login_method.clone(),
            });
        }
        store
    }

    /// The store as data (users sorted by email; hashes left out, `has_password` instead).
    pub fn state(&self) -> StoreState {
        let names: HashMap<&str, &str> = self
            .groups
            .values()
            .map(|g| (g.id.as_str(), g.name.as_str()))
            .collect();
        let mut users: Vec<UserState> = self
            .users
            .iter()
            .map(|u| {
                let mut groups: Vec<String> = u
                    .groups
                    .iter()
                    .filter_map(|id| names.get(id.as_str()).map(|n| (*n).to_owned()))
                    .collect();
                groups.sort();
                UserState {
                    id: Some(u.id.0.clone()),
                    email: u.email.clone(),
                    profile: u.profile.clone(),
                    groups,
                    enrolments: u.enrolments.iter().cloned().collect(),
                    protected: u.protected,
                    suspended: u.suspended,
                    suspended_by_upload: u.suspended && u.suspended_by_upload,
                    login_method: u.login_method.clone(),
                    has_password: u.password_hash.is_some(),
                    force_password_reset: u.force_password_reset,
                    invitations: self.invitations_of(&u.id),
                }
            })
            .collect();
        users.sort_by_key(|u| email_key(&u.email));
        StoreState {
            groups: self.groups.values().cloned().collect(),
            content: self.content.iter().cloned().collect(),
            users,
            lacks: self.lacks.iter().copied().collect(),
        }
    }

    /// Adds a group.
    pub fn add_group(&mut self, id: &str, name: &str) {
        self.groups.insert(
            name.to_owned(),
            Group {
                id: id.to_owned(),
                name: name.to_owned(),
            },
        );
    }

    /// Adds a content item.
    pub fn add_content(&mut self, content: ContentRef) {
        self.content.insert(content);
    }

    /// Adds an existing user (as the host would have it before the upload).
    pub fn add_user(&mut self, user: ExistingUser) {
        let group_ids = user
            .groups
            .iter()
            .filter_map(|name| self.groups.get(name).map(|g| g.id.clone()))
            .collect();
        self.insert(StoredUser {
            id: user.id,
            email: user.email,
            profile: user.profile,
            password_hash: None,
            force_password_reset: false,
            groups: group_ids,
            enrolments: user.enrolments.into_iter().collect(),
            protected: user.protected,
            suspended: user.suspended,
            suspended_by_upload: user.suspended && user.suspended_by_upload,
            login_method: user.login_method,
        });
    }

    /// How many sign-in links the user holds that are not used yet.
    pub fn invitations_of(&self, user: &UserId) -> u64 {
        self.invitations_by_user.get(user).map_or(0, |digests| {
            digests
                .iter()
                .filter(|d| self.invitations.get(d).is_some_and(|i| !i.used))
                .count() as u64
        })
    }

    /// Drops the user's unused invitations for which `drop` holds.
    fn drop_invitations(
        &mut self,
        user: &UserId,
        drop: impl Fn(&InvitationDigest, &KeptInvitation) -> bool,
    ) {
        let Some(digests) = self.invitations_by_user.get_mut(user) else {
            return;
        };
        let invitations = &mut self.invitations;
        digests.retain(|d| match invitations.get(d) {
            Some(i) if !i.used && drop(d, i) => {
                invitations.remove(d);
                false
            }
            Some(_) => true,
            None => false,
        });
    }

    /// Sets a password as the page a sign-in link opens would (after redeeming it).
    pub fn set_own_password(&mut self, user: &UserId, hash: PasswordHash) -> Result<(), HostError> {
        let user = self.user_mut(user)?;
        user.password_hash = Some(hash);
        user.force_password_reset = false;
        Ok(())
    }

    /// The user with this email (case-insensitive).
    pub fn user(&self, email: &str) -> Option<&StoredUser> {
        self.by_email
            .get(&self.users, email)
            .map(|i| &self.users[i])
    }

    /// All users, in insertion order (a deleted user's place is taken by the last one).
    pub fn users(&self) -> &[StoredUser] {
        &self.users
    }

    /// A fresh id: `u1`, `u2`... skipping every id a user already has (a loaded state may
    /// hold `u1` already), so a new user never shares an id with an existing one.
    fn new_id(&mut self) -> String {
        self.new_user_id().0
    }

    fn new_user_id(&mut self) -> UserId {
        loop {
            self.next_id += 1;
            // Above every numbered id given or reserved: no user has it (the id index, a
            // cache miss or two in a large store, is not read).
            if self.next_id > self.numbered_max {
                let (last, text) = &mut self.last_numbered;
                match (*last).checked_add(1) == Some(self.next_id) && !text.is_empty() {
                    true => next_numbered_id(text),
                    false => *text = numbered_id(self.next_id),
                }
                *last = self.next_id;
                return UserId(text.clone());
            }
            let id = UserId(numbered_id(self.next_id));
            if self.id_position(&id).is_none() && !self.reserved.contains(&id) {
                return id;
            }
        }
    }

    /// Asks for the slot in the id index of the id the next new user most likely gets (the
    /// one after the id just taken above every numbered one), a row or two before that
    /// user is indexed: the slot, a cache miss in a large store, is then at hand.
    fn prefetch_next_id(&mut self) {
        if self.last_numbered.0 != self.next_id {
            return;
        }
        let mut next = std::mem::take(&mut self.next_numbered);
        next.clone_from(&self.last_numbered.1);
        next_numbered_id(&mut next);
        let hash = BuildHasherDefault::<IdHasher>::default().hash_one(next.as_str());
        self.by_id.first.prefetch(hash);
        self.next_numbered = next;
    }

    fn insert(&mut self, user: StoredUser) {
        let hash = self.by_email.hash(&user.email);
        self.insert_with_hash(hash, user);
    }

    /// Notes the number of an id of the form [`numbered_id`] writes, if it is one.
    fn note_numbered(&mut self, id: &UserId) {
        if let Some(n) = id_number(&id.0) {
            self.numbered_max = self.numbered_max.max(n);
        }
    }

    /// Adds `user`, whose email has the hash `email_hash`; a user indexed with the same
    /// email or id before is indexed no more under it.
    fn insert_with_hash(&mut self, email_hash: u64, user: StoredUser) {
        self.note_numbered(&user.id);
        let at = self.users.len();
        let users = &self.users;
        self.by_email.positions.set(email_hash, at, |p| {
            emails_equal(&users[p].email, &user.email)
        });
        self.push_indexed_by_id(user);
    }

    /// Adds `user` (its email indexed already) at the end, indexed by its id; the user of
    /// the next write.
    fn push_indexed_by_id(&mut self, user: StoredUser) {
        let at = self.users.len();
        self.recent = at;
        let users = &self.users;
        let shared = self
            .by_id
            .set(id_hash(&user.id), at, |p| users[p].id == user.id);
        self.ids_shared |= shared;
        self.users.push(user);
    }

    /// The place of the user with this id.
    fn id_position(&self, id: &UserId) -> Option<usize> {
        self.by_id.find(id_hash(id), |p| self.users[p].id == *id)
    }

    fn user_mut(&mut self, id: &UserId) -> Result<&mut StoredUser, HostError> {
        // The user of the last write first: a row's writes all go to one user, so the id
        // index (a cache miss or two in a large store) is read once a row, not once a write.
        let index = match self.users.get(self.recent) {
            Some(user) if user.id == *id => self.recent,
            _ => match self.next_found(id).or_else(|| self.id_position(id)) {
                Some(i) => i,
                None => return Err(HostError::permanent(format!("no user {id}"))),
            },
        };
        self.recent = index;
        Ok(&mut self.users[index])
    }

    /// The place of the user with this id if it is the next or the one after among those
    /// the last `find_users` answered (the cursor moved past it), read before the id index.
    fn next_found(&mut self, id: &UserId) -> Option<usize> {
        if self.ids_shared {
            return None;
        }
        let next = self.found_next;
        let (k, at) = self
            .found
            .iter()
            .enumerate()
            .skip(next)
            .take(2)
            .find(|&(_, &at)| self.users.get(at).is_some_and(|u| u.id == *id))?;
        self.found_next = k + 1;
        Some(*at)
    }

    fn has(&self, write: OptionalMethod) -> Result<(), HostError> {
        if self.lacks.contains(&write) {
            return Err(write.missing());
        }
        Ok(())
    }

    fn count(&mut self, method: &'static str) {
        // (a method counted before, the usual case: no entry made)
        match self.calls.get_mut(method) {
            Some(calls) => *calls += 1,
            None => {
                self.calls.insert(method, 1);
            }
        }
    }

    fn group_names_by_id(&self) -> GroupNames<'_> {
        // By id, the last by name of the groups sharing an id (what a map collected in
        // name order keeps).
        let mut names: Vec<(&str, &str)> = self
            .groups
            .values()
            .rev()
            .map(|g| (g.id.as_str(), g.name.as_str()))
            .collect();
        names.sort_by_key(|&(id, _)| id);
        names.dedup_by_key(|&mut (id, _)| id);
        GroupNames(names)
    }

    /// The places of the users with these addresses, in the order asked (an address with
    /// no user left out): [`EmailIndex::get`] of each, in passes over all of them so that
    /// their cache misses overlap. In a large store an address costs some three misses one
    /// after the other (the index's slot, the user, the user's email); here every
    /// address's slot is asked for, then read, then the users found and their strings
    /// (which `existing` copies next) are asked for before any is compared.
    fn locate(&mut self, emails: &[&str], places: &mut Vec<usize>) {
        let mut located = std::mem::take(&mut self.located);
        located.clear();
        let index = &self.by_email;
        located.extend(emails.iter().map(|e| {
            let hash = index.hash(e);
            index.positions.first.prefetch(hash);
            (hash, None)
        }));
        for (hash, first) in &mut located {
            *first = index.positions.first(*hash);
        }
        let users = &self.users;
        let found = || located.iter().filter_map(|&(_, at)| users.get(at?));
        for user in found() {
            prefetch(&user.email);
            prefetch(&user.profile.last_name);
            prefetch(&user.groups);
        }
        for user in found() {
            prefetch_text(&user.email);
            prefetch_text(&user.id.0);
            if let Some(name) = &user.profile.last_name {
                prefetch_text(name);
            }
        }
        places.extend(
            emails
                .iter()
                .zip(&located)
                .filter_map(|(email, &(hash, first))| {
                    index
                        .positions
                        .find_after(hash, first, |at| emails_equal(&users[at].email, email))
                }),
        );
        self.located = located;
    }

    fn existing(&self, user: &StoredUser, names: &GroupNames<'_>) -> ExistingUser {
        // As many names as ids at most, allocated once (a collected `filter_map` starts at
        // four and goes through the general path of growing).
        let mut groups = Vec::with_capacity(user.groups.len());
        for id in &user.groups {
            if let Some(name) = names.get(id) {
                groups.push(name.to_owned());
            }
        }
        ExistingUser {
            id: user.id.clone(),
            email: user.email.clone(),
            profile: user.profile.clone(),
            groups,
            enrolments: user.enrolments.iter().cloned().collect(),
            protected: user.protected,
            suspended: user.suspended,
            suspended_by_upload: user.suspended && user.suspended_by_upload,
            login_method: user.login_method.clone(),
        }
    }
}

impl Store for MemoryStore {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        self.count("find_users");
        // The users' places first, then their copies: the index's lookups (a cache miss or
        // two each in a large store) follow one another without a copy's allocations
        // between them.
        let mut places = std::mem::take(&mut self.found);
        places.clear();
        self.locate(emails, &mut places);
        first_of_each(&mut places, &mut self.sorted);
        let names = self.group_names_by_id();
        let mut found = Vec::with_capacity(places.len());
        found.extend(
            places
                .iter()
                .map(|&i| self.existing(&self.users[i], &names)),
        );
        self.found = places;
        self.found_next = 0;
        Ok(found)
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        self.count("find_groups");
        Ok(names
            .iter()
            .filter_map(|n| self.groups.get(*n).cloned())
            .collect())
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        self.count("find_content");
        Ok(refs
            .iter()
            .filter(|r| self.content.contains(r))
            .cloned()
            .collect())
    }
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        self.count("create_user");
        let hash = self.by_email.hash(&user.email);
        let at = self.users.len();
        let users = &self.users;
        // The new user's place indexed by its email in the probe that finds a user holding
        // the address already; nothing else reads the email index before it is pushed.
        let indexed = self
            .by_email
            .positions
            .insert_new(hash, at, |p| emails_equal(&users[p].email, &user.email));
        if !indexed {
            return Err(HostError::permanent(format!(
                "a user with the email {} already exists",
                user.email
            )));
        }
        let id = self.new_user_id();
        // `u{next_id}`, as `note_numbered` would read it back.
        self.numbered_max = self.numbered_max.max(self.next_id);
        self.prefetch_next_id();
        self.push_indexed_by_id(StoredUser {
            id: id.clone(),
            email: user.email.clone(),
            profile: user.profile.clone(),
            password_hash: user.password_hash.clone(),
            force_password_reset: user.force_password_reset,
            groups: BTreeSet::new(),
            enrolments: BTreeSet::new(),
            protected: false,
            suspended: false,
            suspended_by_upload: false,
            login_method: (user.login_method != crate::host::store::PASSWORD_LOGIN)
                .then(|| user.login_method.clone()),
        });
        Ok(id)
    }
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        self.count("update_profile");
        self.user_mut(user)?.profile.apply(changes);
        Ok(())
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        self.count("set_password");
        let user = self.user_mut(user)?;
        user.password_hash = Some(hash.clone());
        user.force_password_reset = force_reset;
        Ok(())
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.count("add_to_group");
        let groups = &mut self.user_mut(user)?.groups;
        // no copy of the id for a member already
        if !groups.contains(&group.id) {
            groups.insert(group.id.clone());
        }
        Ok(())
    }
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.count("remove_from_group");
        self.user_mut(user)?.groups.remove(&group.id);
        Ok(())
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.count("enrol");
        let enrolments = &mut self.user_mut(user)?.enrolments;
        if !enrolments.contains(content) {
            enrolments.insert(content.clone());
        }
        Ok(())
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        Ok(self.groups.keys().cloned().collect())
    }
    fn supports(&mut self, write: OptionalMethod) -> bool {
        !self.lacks.contains(&write)
    }
    fn suspend_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.count("suspend_user");
        self.has(OptionalMethod::SuspendUser)?;
        let stored = self.user_mut(user)?;
        stored.suspended = true;
        stored.suspended_by_upload = true;
        Ok(())
    }
    /// Deletes a user left with no group and no enrolment; keeps (`false`) any other.
    fn delete_user(&mut self, user: &UserId) -> Result<bool, HostError> {
        self.count("delete_user");
        self.has(OptionalMethod::DeleteUser)?;
        let stored = self.user_mut(user)?;
        if !stored.groups.is_empty() || !stored.enrolments.is_empty() {
            return Ok(false);
        }
        let Some(index) = self.id_position(user) else {
            return Ok(false);
        };
        // out of the indexes, and the last user (moved to its place) indexed there, before
        // the users move: the indexes are checked against them
        let users = &self.users;
        let removed = &users[index];
        self.by_id.remove(id_hash(user), |p| users[p].id == *user);
        let removed_hash = self.by_email.hash(&removed.email);
        self.by_email.positions.remove(removed_hash, |p| {
            emails_equal(&users[p].email, &removed.email)
        });
        let last = users.len() - 1;
        if index != last {
            let moved = &users[last];
            // (the moved user's own entries, replaced: no id shared)
            self.by_id
                .set(id_hash(&moved.id), index, |p| users[p].id == moved.id);
            let moved_hash = self.by_email.hash(&moved.email);
            self.by_email.positions.set(moved_hash, index, |p| {
                emails_equal(&users[p].email, &moved.email)
            });
        }
        let removed = self.users.swap_remove(index);
        // Its id is never handed out again.
        self.reserved.insert(removed.id);
        Ok(true)
    }
    fn withdraw(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.count("withdraw");
        self.has(OptionalMethod::Withdraw)?;
        self.user_mut(user)?.enrolments.remove(content);
        Ok(())
    }
    fn reactivate_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.count("reactivate_user");
        self.has(OptionalMethod::ReactivateUser)?;
        let stored = self.user_mut(user)?;
        stored.suspended = false;
        stored.suspended_by_upload = false;
        Ok(())
    }
    fn set_login_method(&mut self, user: &UserId, method: &str) -> Result<(), HostError> {
        self.count("set_login_method");
        self.has(OptionalMethod::SetLoginMethod)?;
        let user = self.user_mut(user)?;
        user.login_method =
            (method != crate::host::store::PASSWORD_LOGIN).then(|| method.to_owned());
        Ok(())
    }
    /// Every user is in scope, in insertion order; the cursor is a position.
    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError> {
        self.count("scope_users");
        self.has(OptionalMethod::ScopeUsers)?;
        let start = match after {
            None => 0,
            Some(cursor) => cursor
                .parse::<usize>()
                .map_err(|_| HostError::permanent(format!("no such cursor {cursor:?}")))?,
        };
        let names = self.group_names_by_id();
        let end = start.saturating_add(limit.max(1)).min(self.users.len());
        let users = self.users[start.min(end)..end]
            .iter()
            .map(|u| self.existing(u, &names))
            .collect();
        let next = (end < self.users.len()).then(|| end.to_string());
        Ok(ScopePage { users, next })
    }
    fn add_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        self.count("add_invitation");
        self.has(OptionalMethod::AddInvitation)?;
        self.user_mut(&invitation.user)?;
        self.drop_invitations(&invitation.user, |_, i| i.upload != invitation.upload);
        self.invitations_by_user
            .entry(invitation.user.clone())
            .or_default()
            .push(invitation.digest.clone());
        self.invitations.insert(
            invitation.digest.clone(),
            KeptInvitation {
                user: invitation.user.clone(),
                expires_at: invitation.expires_at,
                upload: invitation.upload.clone(),
                used: false,
            },
        );
        Ok(())
    }
    fn find_invitation(
        &mut self,
        digest: &InvitationDigest,
    ) -> Result<Option<StoredInvitation>, HostError> {
        self.count("find_invitation");
        self.has(OptionalMethod::FindInvitation)?;
        Ok(self.invitations.get(digest).map(|i| StoredInvitation {
            user: i.user.clone(),
            digest: digest.clone(),
            expires_at: i.expires_at,
            used: i.used,
        }))
    }
    fn redeem_invitation(&mut self, digest: &InvitationDigest) -> Result<bool, HostError> {
        self.count("redeem_invitation");
        self.has(OptionalMethod::RedeemInvitation)?;
        let Some(user) = self
            .invitations
            .get(digest)
            .filter(|i| !i.used)
            .map(|i| i.user.clone())
        else {
            return Ok(false);
        };
        self.drop_invitations(&user, |d, _| d != digest);
        if let Some(kept) = self.invitations.get_mut(digest) {
            kept.used = true;
        }
        Ok(true)
    }
    fn revoke_invitations(&mut self, user: &UserId, upload: &str) -> Result<(), HostError> {
        self.count("revoke_invitations");
        self.has(OptionalMethod::RevokeInvitations)?;
        self.drop_invitations(user, |_, i| i.upload == upload);
        Ok(())
    }
}

/// A [`Mailer`] that keeps every message it is given.
#[derive(Debug, Clone, Default)]
pub struct RecordingMailer {
    /// The messages, in the order they were sent.
    pub messages: Vec<Message>,
}

impl RecordingMailer {
    /// An empty mailer.
    pub fn new() -> RecordingMailer {
        RecordingMailer::default()
    }
}

impl Mailer for RecordingMailer {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        self.messages.push(message.clone());
        Ok(())
    }
}

#[cfg(test)]
mod id_tests {
    use super::*;
    use crate::execute::password::PasswordHash;

    fn new_user(email: &str) -> NewUser {
        NewUser {
            email: email.into(),
            profile: Profile::default(),
            password_hash: Some(PasswordHash::from_phc("$argon2id$test")),
            login_method: "password".into(),
            force_password_reset: false,
        }
    }

    #[test]
    fn numbered_ids_are_u_and_the_number() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            assert_eq!(numbered_id(n), format!("u{n}"));
        }
    }

    #[test]
    fn the_next_numbered_id_written_over_the_last_is_numbered_id() {
        let mut id = numbered_id(0);
        for n in 1..=12_345 {
            next_numbered_id(&mut id);
            assert_eq!(id, numbered_id(n));
        }
        for n in [99_999, 999_999_999, u64::MAX - 1] {
            let mut id = numbered_id(n);
            next_numbered_id(&mut id);
            assert_eq!(id, numbered_id(n + 1));
        }
        // ids taken in turn by a store; below a loaded id (no text kept); above it again
        let mut store = MemoryStore::new();
        let mut taken: Vec<String> = (0..120).map(|_| store.new_id()).collect();
        store.numbered_max = 1_000;
        taken.push(store.new_id());
        store.next_id = 1_000;
        taken.push(store.new_id());
        taken.push(store.new_id());
        let mut expected: Vec<String> = (1..=121).map(numbered_id).collect();
        expected.extend([numbered_id(1_001), numbered_id(1_002)]);
        assert_eq!(taken, expected);
    }

    #[test]
    fn numbered_ids_are_read_back_only_as_numbered_id_writes_them() {
        for n in [0, 1, 10, 12_345, u64::MAX] {
            assert_eq!(id_number(&numbered_id(n)), Some(n));
        }
        for id in [
            "u",
            "u01",
            "u-1",
            "u+1",
            "x1",
            "u1a",
            "U1",
            "u18446744073709551616",
        ] {
            assert_eq!(id_number(id), None, "{id}");
        }
    }

    #[test]
    fn a_write_by_id_goes_to_the_user_the_id_finds_after_a_lookup() {
        let user = |id: &str, email: &str| ExistingUser::new(id, email);
        let organisation = |o: &str| Profile {
            organisation: Some(o.into()),
            ..Profile::default()
        };
        // Two users with one id: the one added last is the one the id finds, lookup or not.
        let mut store = MemoryStore::new();
        store.add_user(user("x", "a@x.org"));
        store.add_user(user("x", "b@x.org"));
        store.add_user(user("y", "c@x.org"));
        let found = store.find_users(&["a@x.org", "c@x.org"]).expect("found");
        assert_eq!(found.len(), 2);
        store
            .update_profile(&UserId("x".into()), &organisation("X"))
            .expect("x");
        store
            .update_profile(&UserId("y".into()), &organisation("Y"))
            .expect("y");
        let organisations: Vec<Option<&str>> = store
            .users()
            .iter()
            .map(|u| u.profile.organisation.as_deref())
            .collect();
        assert_eq!(organisations, [None, Some("X"), Some("Y")]);
    }

    #[test]
    fn new_users_never_take_an_id_of_the_loaded_state() {
        let state: StoreState = serde_json::from_value(serde_json::json!({
            "users": [{"email": "x@x.com", "first_name": "X", "last_name": "Y"},
                      {"id": "u1", "email": "a@x.com", "first_name": "A", "last_name": "B"},
                      {"id": "u3", "email": "c@x.com", "first_name": "C", "last_name": "D"}]
        }))
        .unwrap();
        let mut store = MemoryStore::from_state(&state);
        let mut ids: Vec<String> = store.users().iter().map(|u| u.id.0.clone()).collect();
        for email in ["n1@x.com", "n2@x.com", "n3@x.com"] {
            ids.push(store.create_user(&new_user(email)).unwrap().0);
        }
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
    }

    #[test]
    fn deleting_a_user_moves_the_last_one_in_the_indexes() {
        let mut store = MemoryStore::new();
        let ids: Vec<UserId> = ["a@x.org", "B@x.org", "c@x.org"]
            .iter()
            .map(|e| store.create_user(&new_user(e)).expect("created"))
            .collect();
        assert!(store.delete_user(&ids[0]).expect("deleted"));
        assert!(store.user("a@x.org").is_none());
        assert_eq!(store.user("C@X.org").map(|u| &u.id), Some(&ids[2]));
        assert_eq!(store.user("b@x.org").map(|u| &u.id), Some(&ids[1]));
        store
            .update_profile(&ids[2], &Profile::default())
            .expect("found by id");
        assert!(store.delete_user(&ids[2]).expect("deleted"));
        assert!(store.user("c@x.org").is_none() && store.users().len() == 1);
        assert!(store.create_user(&new_user("b@X.ORG")).is_err());
        let again = store
            .create_user(&new_user("a@x.org"))
            .expect("created again");
        assert!(!ids.contains(&again), "{again:?}");
    }
}
