//! [`Store`] on the SQLite database.

use super::now::Timestamp;
use super::{host_error, Db};
use lms_bulk_upload::{
    email_key, ContentKind, ContentRef, ExistingUser, Group, HostError, InvitationDigest,
    NewInvitation, NewUser, OptionalMethod, PasswordHash, Profile, ScopePage, Store,
    StoredInvitation, UserId, PASSWORD_LOGIN,
};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Params, Statement};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Emails (or names) per `IN (...)` query.
const IN_CHUNK: usize = 500;

/// The LMS's users, groups and content in SQLite. Writes go into one transaction per batch of
/// rows, committed when the engine calls [`Store::checkpoint`].
///
/// `'c` is the life of the statements a store made by [`SqliteStore::holding`] keeps
/// prepared (borrowed from the database's connection); a store made by [`SqliteStore::new`]
/// keeps none.
pub struct SqliteStore<'c> {
    db: Rc<Db>,
    /// The statements a run executes for each new user, prepared once for the store's life
    /// instead of taken from rusqlite's statement cache at each use (which hashes the SQL
    /// text and allocates a key each time: about 1,700 instructions a use).
    held: Option<Held<'c>>,
    /// The columns that refer to a user (foreign keys to `users`), read from the schema on
    /// the first [`Store::delete_user`].
    references: Option<Vec<Reference>>,
    /// The `invitation_uploads` id of the upload fingerprint last seen.
    upload_id: Option<(String, i64)>,
    /// The users [`Store::create_user`] inserted in the open transaction (its number, the
    /// ids in increasing order): each exists and is unprotected until that transaction
    /// ends, so its memberships and enrolments are inserted without looking it up again.
    created: (u64, Vec<i64>),
    /// The groups and content found to exist in the open transaction (its number): a store
    /// that holds its statements queues a new user's memberships and enrolments in them
    /// ([`Db::queue_member`]), which then cannot fail for want of either.
    existing: (Option<u64>, Vec<i64>, Vec<ContentRef>),
}

/// Which insert of a user created in the open transaction.
#[derive(Clone, Copy)]
enum Fresh {
    Member,
    Enrol,
}

impl Fresh {
    fn sql(self) -> &'static str {
        match self {
            Fresh::Member => MEMBER_FRESH,
            Fresh::Enrol => ENROL_FRESH,
        }
    }
}

/// A column of another table that refers to a column of `users`.
struct Reference {
    table: String,
    column: String,
    /// The `users` column it refers to (`id` when the key names the primary key).
    to: String,
}

/// The statements [`SqliteStore::holding`] keeps prepared: the same SQL text the store
/// otherwise takes from the connection's statement cache.
struct Held<'c> {
    create_user: Statement<'c>,
    member_fresh: Statement<'c>,
    enrol_fresh: Statement<'c>,
}

/// A new user's insert.
const CREATE_USER: &str = "INSERT INTO users (email, email_key, first_name, last_name, \
     phone_number, unique_id, country, organisation, language_code, password_hash, \
     force_password_reset, login_method, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// A membership of a user created in the open transaction (see [`SqliteStore::insert_for_user`]).
const MEMBER_FRESH: &str = "INSERT INTO group_members (group_id, user_id) VALUES (?1, ?2) \
     ON CONFLICT (group_id, user_id) DO NOTHING";

/// A membership of any other user: only if it exists and is unprotected.
const MEMBER_CHECKED: &str = "INSERT INTO group_members (group_id, user_id) \
     SELECT ?1, id FROM users WHERE id = ?2 AND protected = 0 \
     ON CONFLICT (group_id, user_id) DO UPDATE SET user_id = excluded.user_id";

/// An enrolment of a user created in the open transaction.
const ENROL_FRESH: &str = "INSERT INTO enrolments (user_id, kind, content_id, enrolled_at) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (user_id, kind, content_id) DO NOTHING";

/// An enrolment of any other user: only if it exists and is unprotected.
const ENROL_CHECKED: &str = "INSERT INTO enrolments (user_id, kind, content_id, enrolled_at) \
     SELECT id, ?2, ?3, ?4 FROM users WHERE id = ?1 AND protected = 0 \
     ON CONFLICT (user_id, kind, content_id) DO UPDATE SET kind = excluded.kind";

impl SqliteStore<'static> {
    pub fn new(db: Rc<Db>) -> SqliteStore<'static> {
        SqliteStore {
            db,
            held: None,
            references: None,
            upload_id: None,
            created: (0, Vec::new()),
            existing: (None, Vec::new(), Vec::new()),
        }
    }
}

impl<'c> SqliteStore<'c> {
    /// A store that keeps the statements it executes for each new user prepared while it
    /// lives (for a run of many rows); it writes exactly what [`SqliteStore::new`]'s would.
    pub fn holding(db: &'c Rc<Db>) -> Result<SqliteStore<'c>, HostError> {
        let conn = db.conn();
        let held = Held {
            create_user: conn.prepare(CREATE_USER).map_err(host_error)?,
            member_fresh: conn.prepare(MEMBER_FRESH).map_err(host_error)?,
            enrol_fresh: conn.prepare(ENROL_FRESH).map_err(host_error)?,
        };
        Ok(SqliteStore {
            held: Some(held),
            ..SqliteStore::new(db.clone())
        })
    }

    /// Whether user `id` was created by [`Store::create_user`] in the transaction open now.
    fn created_now(&self, id: i64) -> bool {
        self.db.open_transaction() == Some(self.created.0)
            && self.created.1.binary_search(&id).is_ok()
    }

    /// Inserts a row that belongs to user `id` (a membership, an enrolment), with the same
    /// parameters either way: `fresh` for a user of the open transaction's own, which
    /// exists and is unprotected (no lookup; and an insert of a single row of values needs
    /// no statement journal, where an `INSERT ... SELECT` copies each page it changes
    /// before changing it); otherwise `checked`, which selects the user if it is
    /// unprotected, so that no row written means no such writable user.
    fn insert_for_user(
        &mut self,
        user: &UserId,
        id: i64,
        fresh: Fresh,
        checked: &str,
        params: impl Params,
    ) -> Result<(), HostError> {
        let created_now = self.created_now(id);
        let held = match (created_now, &mut self.held) {
            (false, _) | (true, None) => None,
            (true, Some(held)) => Some(match fresh {
                Fresh::Member => &mut held.member_fresh,
                Fresh::Enrol => &mut held.enrol_fresh,
            }),
        };
        let changed = self.db.write(|conn| match held {
            Some(stmt) => stmt.execute(params),
            None => {
                let sql = if created_now { fresh.sql() } else { checked };
                conn.prepare_cached(sql)?.execute(params)
            }
        })?;
        if created_now {
            return Ok(());
        }
        written(changed, user)
    }

    /// Whether a new user's membership of `group` or enrolment in `content` may be queued:
    /// the store holds its statements (a run's), the user was created in the open
    /// transaction, and the group or content exists in it (looked up once a transaction:
    /// nothing deletes either while this connection holds it).
    fn queues(&mut self, id: i64, group: Option<i64>, content: Option<&ContentRef>) -> bool {
        if self.held.is_none() || !self.created_now(id) {
            return false;
        }
        let now = self.db.open_transaction();
        if self.existing.0 != now {
            self.existing = (now, Vec::new(), Vec::new());
        }
        let conn = self.db.conn();
        let found = |sql: &str, params: &[&dyn rusqlite::ToSql]| {
            conn.prepare_cached(sql)
                .and_then(|mut stmt| stmt.query_row(params, |_| Ok(())).optional())
                .is_ok_and(|found| found.is_some())
        };
        if let Some(group) = group {
            if !self.existing.1.contains(&group) {
                if !found("SELECT 1 FROM groups WHERE id = ?1", &[&group]) {
                    return false;
                }
                self.existing.1.push(group);
            }
        }
        if let Some(content) = content {
            if !self.existing.2.contains(content) {
                let sql = "SELECT 1 FROM content_items WHERE kind = ?1 AND id = ?2";
                if !found(sql, &[&content.kind.as_str(), &content.id]) {
                    return false;
                }
                self.existing.2.push(content.clone());
            }
        }
        true
    }

    /// Remembers user `id`, just created in the open transaction.
    fn remember_created(&mut self, id: i64) {
        match self.db.open_transaction() {
            Some(now) if now == self.created.0 => {
                if self.created.1.last().is_some_and(|&last| last >= id) {
                    // Ids grow within a transaction; if not, nothing is taken for known.
                    self.created.1.clear();
                } else {
                    self.created.1.push(id);
                }
            }
            Some(now) => self.created = (now, vec![id]),
            None => self.created.1.clear(),
        }
    }

    /// Every foreign key to `users` in the schema: memberships and enrolments today, and any
    /// table added later, so that a user something refers to is never deleted. The user's
    /// own profile field values (`user_fields`) and sign-in links (`invitations`) are part of
    /// the user, not something that refers to it: they are deleted with it.
    fn references(&mut self) -> Result<&[Reference], HostError> {
        if self.references.is_none() {
            let conn = self.db.conn();
            let mut stmt = conn
                .prepare(
                    "SELECT m.name, f.\"from\", coalesce(f.\"to\", 'id') FROM sqlite_master m, \
                     pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f.\"table\" = 'users' \
                     AND m.name NOT IN ('user_fields', 'invitations') ORDER BY m.name, f.\"from\"",
                )
                .map_err(host_error)?;
            let found = stmt
                .query_map([], |r| {
                    Ok(Reference {
                        table: r.get(0)?,
                        column: r.get(1)?,
                        to: r.get(2)?,
                    })
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(host_error)?;
            self.references = Some(found);
        }
        Ok(self.references.as_deref().unwrap_or_default())
    }
}

/// An SQL identifier, quoted.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 2);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s
}

fn user_id(id: &UserId) -> Result<i64, HostError> {
    id.0.parse()
        .map_err(|_| HostError::permanent(format!("not a user id of this database: {id}")))
}

fn group_id(group: &Group) -> Result<i64, HostError> {
    group
        .id
        .parse()
        .map_err(|_| HostError::permanent(format!("not a group id of this database: {}", group.id)))
}

/// A write that matched no row: the user is gone or protected, and nothing was changed.
fn written(changed: usize, user: &UserId) -> Result<(), HostError> {
    if changed == 0 {
        return Err(HostError::permanent(format!(
            "user {user} does not exist or is protected: nothing was changed"
        )));
    }
    Ok(())
}

fn unprotected(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1 AND protected = 0")?
        .query_row(params![id], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

fn kind_of(text: &str) -> Option<ContentKind> {
    match text {
        "course" => Some(ContentKind::Course),
        "collection" => Some(ContentKind::Collection),
        "campaign" => Some(ContentKind::Campaign),
        _ => None,
    }
}

/// The columns of `users` an [`ExistingUser`] is read from, in the order of [`existing`].
const USER_COLUMNS: &str = "id, email, first_name, last_name, phone_number, unique_id, country, \
     organisation, language_code, protected, suspended, login_method, suspended_by_upload";

fn existing(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExistingUser> {
    Ok(ExistingUser {
        id: UserId(r.get::<_, i64>(0)?.to_string()),
        email: r.get(1)?,
        profile: Profile {
            first_name: r.get(2)?,
            last_name: r.get(3)?,
            phone_number: r.get(4)?,
            unique_id: r.get(5)?,
            country: r.get(6)?,
            organisation: r.get(7)?,
            language_code: r.get(8)?,
            custom: BTreeMap::new(),
        },
        groups: Vec::new(),
        enrolments: Vec::new(),
        protected: r.get(9)?,
        suspended: r.get(10)?,
        suspended_by_upload: r.get(12)?,
        login_method: r.get(11)?,
    })
}

/// The users a `WHERE` clause selects, without their groups, enrolments and field values.
fn select_users(
    conn: &Connection,
    clause: &str,
    params: impl Params,
) -> rusqlite::Result<Vec<ExistingUser>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
    conn.prepare_cached(&sql)?
        .query_map(params, existing)?
        .collect()
}

/// Adds each user's groups, enrolments and profile field values.
fn fill(conn: &Connection, users: &mut [ExistingUser]) -> rusqlite::Result<()> {
    let index: HashMap<i64, usize> = users
        .iter()
        .enumerate()
        .filter_map(|(i, u)| Some((u.id.0.parse().ok()?, i)))
        .collect();
    let ids: Vec<i64> = index.keys().copied().collect();
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE m.user_id IN ({}) ORDER BY g.name",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(chunk))?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = index.get(&r.get::<_, i64>(0)?) {
                users[i].groups.push(r.get(1)?);
            }
        }
        let sql = format!(
            "SELECT user_id, kind, content_id FROM enrolments WHERE user_id IN ({}) \
             ORDER BY kind, content_id",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(chunk))?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            if let (Some(&i), Some(kind)) = (index.get(&r.get::<_, i64>(0)?), kind_of(&kind)) {
                users[i]
                    .enrolments
                    .push(ContentRef::new(kind, r.get::<_, String>(2)?));
            }
        }
        let sql = format!(
            "SELECT user_id, name, value FROM user_fields WHERE user_id IN ({})",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(chunk))?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = index.get(&r.get::<_, i64>(0)?) {
                users[i].profile.custom.insert(r.get(1)?, r.get(2)?);
            }
        }
    }
    Ok(())
}

fn find_chunk(conn: &Connection, keys: &[String]) -> rusqlite::Result<Vec<ExistingUser>> {
    let clause = format!("email_key IN ({})", placeholders(keys.len()));
    let mut users = select_users(conn, &clause, params_from_iter(keys))?;
    fill(conn, &mut users)?;
    Ok(users)
}

/// Writes the user's profile field values: a value replaces the stored one, `""` deletes it.
fn write_fields(
    conn: &Connection,
    id: i64,
    custom: &BTreeMap<String, String>,
) -> rusqlite::Result<()> {
    for (name, value) in custom {
        if value.is_empty() {
            conn.prepare_cached("DELETE FROM user_fields WHERE user_id = ?1 AND name = ?2")?
                .execute(params![id, name])?;
        } else {
            conn.prepare_cached(
                "INSERT INTO user_fields (user_id, name, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![id, name, value])?;
        }
    }
    Ok(())
}

/// How a login method is stored: NULL for the built-in password login.
fn stored_method(method: &str) -> Option<&str> {
    (method != PASSWORD_LOGIN).then_some(method)
}

impl SqliteStore<'_> {
    /// Suspends or reactivates; a user already in that state counts as done (a resumed
    /// run) and keeps its updated_at.
    fn set_suspended(&mut self, user: &UserId, suspended: bool) -> Result<(), HostError> {
        let id = user_id(user)?;
        let changed = self.db.write(|conn| {
            conn.prepare_cached(
                "UPDATE users SET suspended = ?2, suspended_by_upload = ?2, \
                 updated_at = CASE WHEN suspended = ?2 \
                 THEN updated_at ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END \
                 WHERE id = ?1 AND protected = 0",
            )?
            .execute(params![id, suspended])
        })?;
        written(changed, user)
    }
}

impl Store for SqliteStore<'_> {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        // Their memberships and enrolments are read: the queued ones written first.
        self.db.flush_fresh()?;
        let mut keys: Vec<String> = emails.iter().map(|e| email_key(e)).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        for chunk in keys.chunks(IN_CHUNK) {
            out.extend(find_chunk(self.db.conn(), chunk).map_err(host_error)?);
        }
        Ok(out)
    }

    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        let mut out = Vec::new();
        for chunk in names.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT id, name FROM groups WHERE name IN ({}) ORDER BY name",
                placeholders(chunk.len())
            );
            let conn = self.db.conn();
            let mut stmt = conn.prepare_cached(&sql).map_err(host_error)?;
            let found = stmt
                .query_map(params_from_iter(chunk), |r| {
                    Ok(Group {
                        id: r.get::<_, i64>(0)?.to_string(),
                        name: r.get(1)?,
                    })
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(host_error)?;
            out.extend(found);
        }
        Ok(out)
    }

    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        let conn = self.db.conn();
        let mut stmt = conn
            .prepare_cached("SELECT 1 FROM content_items WHERE kind = ?1 AND id = ?2")
            .map_err(host_error)?;
        let mut out = Vec::new();
        for content in refs {
            let found = stmt
                .query_row(params![content.kind.as_str(), content.id], |_| Ok(()))
                .optional()
                .map_err(host_error)?;
            if found.is_some() {
                out.push(content.clone());
            }
        }
        Ok(out)
    }

    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        let p = &user.profile;
        let insert = |stmt: &mut Statement<'_>| {
            stmt.execute(params![
                user.email,
                email_key(&user.email),
                p.first_name.as_deref().unwrap_or(""),
                p.last_name.as_deref().unwrap_or(""),
                p.phone_number,
                p.unique_id,
                p.country,
                p.organisation,
                p.language_code,
                user.password_hash.as_ref().map(|h| h.as_str()),
                user.force_password_reset,
                stored_method(&user.login_method),
                // The column's default, made here (see `now`).
                Timestamp::now().as_str(),
            ])
        };
        let held = self.held.as_mut().map(|h| &mut h.create_user);
        // Users and their field values only: the queued memberships stay queued.
        let id = self.db.write_beside_fresh(|conn| {
            match held {
                Some(stmt) => insert(stmt)?,
                None => insert(&mut *conn.prepare_cached(CREATE_USER)?)?,
            };
            let id = conn.last_insert_rowid();
            write_fields(conn, id, &p.custom)?;
            Ok(id)
        })?;
        self.remember_created(id);
        Ok(UserId(id.to_string()))
    }

    /// A field that is `None` is left as it is; `Some("")` clears it: NULL, or `''` for the
    /// first and last name, which every user has (NOT NULL). A profile field value is
    /// written to `user_fields` (`""` deletes its row).
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        let id = user_id(user)?;
        let changed = self.db.write(|conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE users SET first_name = coalesce(?1, first_name), \
                 last_name = coalesce(?2, last_name), \
                 phone_number = CASE WHEN ?3 IS NULL THEN phone_number ELSE nullif(?3, '') END, \
                 unique_id = CASE WHEN ?4 IS NULL THEN unique_id ELSE nullif(?4, '') END, \
                 country = CASE WHEN ?5 IS NULL THEN country ELSE nullif(?5, '') END, \
                 organisation = CASE WHEN ?6 IS NULL THEN organisation ELSE nullif(?6, '') END, \
                 language_code = CASE WHEN ?7 IS NULL THEN language_code ELSE nullif(?7, '') END, \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 WHERE id = ?8 AND protected = 0",
                )?
                .execute(params![
                    changes.first_name,
                    changes.last_name,
                    changes.phone_number,
                    changes.unique_id,
                    changes.country,
                    changes.organisation,
                    changes.language_code,
                    id
                ])?;
            // Only for the user the statement found unprotected.
            if changed > 0 {
                write_fields(conn, id, &changes.custom)?;
            }
            Ok(changed)
        })?;
        written(changed, user)
    }

    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        let id = user_id(user)?;
        let changed = self.db.write(|conn| {
            conn.prepare_cached(
                "UPDATE users SET password_hash = ?1, force_password_reset = ?2, \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 WHERE id = ?3 AND protected = 0",
            )?
            .execute(params![hash.as_str(), force_reset, id])
        })?;
        written(changed, user)
    }

    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        let (id, group) = (user_id(user)?, group_id(group)?);
        if self.queues(id, Some(group), None) && self.db.queue_member(group, id) {
            return Ok(());
        }
        // Checked: the upsert counts an existing membership as one row, so 0 means no such
        // unprotected user (idempotent for resuming, and refused for a protected user).
        self.insert_for_user(user, id, Fresh::Member, MEMBER_CHECKED, params![group, id])
    }

    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        let (id, group) = (user_id(user)?, group_id(group)?);
        let writable = self.db.write(|conn| {
            let removed = conn
                .prepare_cached(
                    "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2 \
                     AND user_id IN (SELECT id FROM users WHERE id = ?2 AND protected = 0)",
                )?
                .execute(params![group, id])?;
            // Not a member (any more) is fine when resuming; a protected user is not.
            Ok(removed > 0 || unprotected(conn, id)?)
        })?;
        written(usize::from(writable), user)
    }

    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        let id = user_id(user)?;
        // The column's default, made here (see `now`); an enrolment that was there keeps
        // its time.
        let at = Timestamp::now();
        if self.queues(id, None, Some(content))
            && self
                .db
                .queue_enrol(id, content.kind.as_str(), &content.id, at)
        {
            return Ok(());
        }
        self.insert_for_user(
            user,
            id,
            Fresh::Enrol,
            ENROL_CHECKED,
            params![id, content.kind.as_str(), content.id, at.as_str()],
        )
    }

    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        let conn = self.db.conn();
        let mut stmt = conn
            .prepare_cached("SELECT name FROM groups ORDER BY name")
            .map_err(host_error)?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(host_error)
    }

    fn checkpoint(&mut self) -> Result<(), HostError> {
        // The transaction ends (committed, or failed): its users are no longer its own.
        self.created.1.clear();
        self.db.commit()
    }

    fn supports(&mut self, write: OptionalMethod) -> bool {
        matches!(
            write,
            OptionalMethod::SuspendUser
                | OptionalMethod::DeleteUser
                | OptionalMethod::Withdraw
                | OptionalMethod::ReactivateUser
                | OptionalMethod::SetLoginMethod
                | OptionalMethod::ScopeUsers
                | OptionalMethod::AddInvitation
                | OptionalMethod::FindInvitation
                | OptionalMethod::RedeemInvitation
                | OptionalMethod::RevokeInvitations
        )
    }

    fn reactivate_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.set_suspended(user, false)
    }

    /// `password` is stored as NULL. The password hash is left as it is: a user moved to
    /// another method keeps it (unused), and one moved back gets a new one from the engine.
    fn set_login_method(&mut self, user: &UserId, method: &str) -> Result<(), HostError> {
        let id = user_id(user)?;
        let changed = self.db.write(|conn| {
            conn.prepare_cached(
                "UPDATE users SET login_method = ?1, updated_at = CASE WHEN login_method IS ?1 \
                 THEN updated_at ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END \
                 WHERE id = ?2 AND protected = 0",
            )?
            .execute(params![stored_method(method), id])
        })?;
        written(changed, user)
    }

    /// Every user of the database is within the uploader's reach: all of them, in id order,
    /// `limit` at a time; the cursor is the last id of the page. Protected users are listed
    /// too (the engine counts them in the scope and never suspends them).
    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError> {
        let after: i64 = match after {
            None => 0,
            Some(cursor) => cursor.parse().map_err(|_| {
                HostError::permanent(format!("not a cursor of this database: {cursor:?}"))
            })?,
        };
        let limit = limit.max(1);
        self.db.flush_fresh()?;
        let conn = self.db.conn();
        // One more than asked for says whether there is a next page.
        let asked = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let mut users = select_users(conn, "id > ?1 ORDER BY id LIMIT ?2", params![after, asked])
            .map_err(host_error)?;
        let next = (users.len() > limit).then(|| {
            users.truncate(limit);
            users.last().map(|u| u.id.0.clone()).unwrap_or_default()
        });
        fill(conn, &mut users).map_err(host_error)?;
        Ok(ScopePage { users, next })
    }

    fn suspend_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.set_suspended(user, true)
    }

    /// Deletes the user only when no row of any table refers to it (no membership, no
    /// enrolment, nothing a later table holds): `false`, and nothing changed, otherwise.
    fn delete_user(&mut self, user: &UserId) -> Result<bool, HostError> {
        let id = user_id(user)?;
        // Deleted or not, no longer taken for known to exist.
        self.created.1.retain(|&created| created != id);
        let checks: Vec<String> = self
            .references()?
            .iter()
            .map(|r| {
                format!(
                    "SELECT EXISTS (SELECT 1 FROM {} WHERE {} IN (SELECT {} FROM users WHERE id = ?1))",
                    quoted(&r.table),
                    quoted(&r.column),
                    quoted(&r.to)
                )
            })
            .collect();
        let outcome = self.db.write(|conn| {
            if !unprotected(conn, id)? {
                return Ok(None);
            }
            for sql in &checks {
                let referred: bool = conn
                    .prepare_cached(sql)?
                    .query_row(params![id], |r| r.get(0))?;
                if referred {
                    return Ok(Some(false));
                }
            }
            // The user's own field values and links go with it (also ON DELETE CASCADE).
            conn.prepare_cached("DELETE FROM user_fields WHERE user_id = ?1")?
                .execute(params![id])?;
            conn.prepare_cached("DELETE FROM invitations WHERE user_id = ?1")?
                .execute(params![id])?;
            let deleted = conn
                .prepare_cached("DELETE FROM users WHERE id = ?1 AND protected = 0")?
                .execute(params![id])?;
            Ok(Some(deleted > 0))
        })?;
        match outcome {
            Some(deleted) => Ok(deleted),
            None => written(0, user).map(|()| false),
        }
    }

    fn add_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        self.keep_invitation(invitation)
    }

    fn find_invitation(
        &mut self,
        digest: &InvitationDigest,
    ) -> Result<Option<StoredInvitation>, HostError> {
        let conn = self.db.conn();
        let found = conn
            .prepare_cached(
                "SELECT user_id, digest, expires_at, used_at IS NOT NULL FROM invitations \
                 WHERE digest = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![&digest.to_bytes()[..]], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                })
                .optional()
            })
            .map_err(host_error)?;
        Ok(found.and_then(|(user, stored, expires_at, used)| {
            Some(StoredInvitation {
                user: UserId(user.to_string()),
                digest: InvitationDigest::from_bytes(&stored)?,
                expires_at: u64::try_from(expires_at).unwrap_or(0),
                used,
            })
        }))
    }

    /// Marks the link used and deletes the user's other unused links, in the open
    /// transaction; the caller commits (with the password the user chose) by `checkpoint`.
    fn redeem_invitation(&mut self, digest: &InvitationDigest) -> Result<bool, HostError> {
        let digest = digest.to_bytes();
        self.db.write(|conn| {
            let used = conn
                .prepare_cached(
                    "UPDATE invitations SET used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                     WHERE digest = ?1 AND used_at IS NULL",
                )?
                .execute(params![&digest[..]])?;
            if used == 0 {
                return Ok(false);
            }
            conn.prepare_cached(
                "DELETE FROM invitations WHERE used_at IS NULL AND user_id = \
                 (SELECT user_id FROM invitations WHERE digest = ?1)",
            )?
            .execute(params![&digest[..]])?;
            Ok(true)
        })
    }

    fn revoke_invitations(&mut self, user: &UserId, upload: &str) -> Result<(), HostError> {
        let id = user_id(user)?;
        let Some(upload) = self.known_upload(upload)? else {
            return Ok(());
        };
        self.db.write(|conn| {
            conn.prepare_cached(
                "DELETE FROM invitations WHERE user_id = ?1 AND upload_id = ?2 AND used_at IS NULL",
            )?
            .execute(params![id, upload])
        })?;
        Ok(())
    }

    fn withdraw(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        let id = user_id(user)?;
        let writable = self.db.write(|conn| {
            let removed = conn
                .prepare_cached(
                    "DELETE FROM enrolments WHERE user_id = ?1 AND kind = ?2 AND content_id = ?3 \
                     AND user_id IN (SELECT id FROM users WHERE id = ?1 AND protected = 0)",
                )?
                .execute(params![id, content.kind.as_str(), content.id])?;
            // Not enrolled (any more) is fine when resuming; a protected user is not.
            Ok(removed > 0 || unprotected(conn, id)?)
        })?;
        written(usize::from(writable), user)
    }
}

/// Sign-in links: only digests are stored, inside the batch's transaction like every other
/// write.
impl SqliteStore<'_> {
    /// The id of an upload's fingerprint in `invitation_uploads` (added on first use; the
    /// last one is remembered: an upload issues all its links under one).
    fn upload_id(&mut self, fingerprint: &str) -> Result<i64, HostError> {
        if let Some((known, id)) = &self.upload_id {
            if known == fingerprint {
                return Ok(*id);
            }
        }
        let id = self.db.write(|conn| {
            conn.prepare_cached(
                "INSERT INTO invitation_uploads (fingerprint) VALUES (?1) \
                 ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = excluded.fingerprint \
                 RETURNING id",
            )?
            .query_row(params![fingerprint], |r| r.get::<_, i64>(0))
        })?;
        self.upload_id = Some((fingerprint.to_owned(), id));
        Ok(id)
    }

    /// The id of an upload's fingerprint, if it issued any link.
    fn known_upload(&self, fingerprint: &str) -> Result<Option<i64>, HostError> {
        self.db
            .conn()
            .prepare_cached("SELECT id FROM invitation_uploads WHERE fingerprint = ?1")
            .and_then(|mut s| s.query_row(params![fingerprint], |r| r.get(0)).optional())
            .map_err(host_error)
    }

    fn keep_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        let id = user_id(&invitation.user)?;
        let upload = self.upload_id(&invitation.upload)?;
        let expires = i64::try_from(invitation.expires_at).unwrap_or(i64::MAX);
        let digest = invitation.digest.to_bytes();
        // Sign-in links only (and users read): the queued memberships stay queued.
        let changed = self.db.write_beside_fresh(|conn| {
            // Looked for first: most users have no other link (a new user never has), and a
            // DELETE on this table builds a temporary index even when it finds nothing.
            let others: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM invitations \
                     WHERE user_id = ?1 AND used_at IS NULL AND upload_id <> ?2)",
                )?
                .query_row(params![id, upload], |r| r.get(0))?;
            if others {
                conn.prepare_cached(
                    "DELETE FROM invitations \
                     WHERE user_id = ?1 AND used_at IS NULL AND upload_id <> ?2",
                )?
                .execute(params![id, upload])?;
            }
            conn.prepare_cached(
                "INSERT INTO invitations (digest, user_id, upload_id, expires_at) \
                 SELECT ?1, id, ?3, ?4 FROM users WHERE id = ?2 AND protected = 0",
            )?
            .execute(params![&digest[..], id, upload, expires])
        })?;
        written(changed, &invitation.user)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lms_bulk_upload::{hash_password, HashParams, OsRandom, Password};

    /// A database with a protected user 1 and an ordinary user 2, both in group 1.
    fn db() -> (tempfile::TempDir, Rc<Db>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3")).ok().unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO users (id, email, email_key, first_name, last_name, protected) VALUES
                   (1, 'root@x.com', 'root@x.com', 'Root', 'Admin', 1),
                   (2, 'ana@x.com', 'ana@x.com', 'Ana', 'Lopez', 0);
                 INSERT INTO groups (id, name) VALUES (1, 'Sales'), (2, 'Support');
                 INSERT INTO group_members VALUES (1, 1), (1, 2);
                 INSERT INTO content_items (kind, id) VALUES ('course', 'c1');",
            )
            .unwrap();
        (dir, db)
    }

    /// Everything a write could change, to compare before and after.
    fn snapshot(db: &Db) -> String {
        db.conn()
            .query_row(
                "SELECT (SELECT group_concat(id || first_name || coalesce(password_hash, '') \
                 || force_password_reset || coalesce(organisation, '') || suspended \
                 || coalesce(login_method, ''), ';') FROM users) || '|' || \
                 (SELECT coalesce(group_concat(user_id || name || value, ';'), '') \
                 FROM user_fields) || '|' || \
                 (SELECT coalesce(group_concat(group_id || '-' || user_id, ';'), '') \
                 FROM group_members) || '|' || \
                 (SELECT coalesce(group_concat(user_id || content_id, ';'), '') FROM enrolments)",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn no_write_reaches_a_protected_or_missing_user() {
        let (_dir, db) = db();
        let mut store = SqliteStore::new(db.clone());
        let params = HashParams::insecure_for_tests(64, 1, 1);
        let hash = hash_password(&Password::new("Correct-horse-9"), &params, &OsRandom).unwrap();
        let changes = Profile {
            organisation: Some("Evil".into()),
            ..Profile::default()
        };
        let sales = Group {
            id: "1".into(),
            name: "Sales".into(),
        };
        let support = Group {
            id: "2".into(),
            name: "Support".into(),
        };
        let course = ContentRef::new(ContentKind::Course, "c1");
        let custom = Profile {
            custom: BTreeMap::from([("department".to_owned(), "Evil".to_owned())]),
            ..Profile::default()
        };
        let before = snapshot(&db);
        for id in ["1", "99"] {
            let user = UserId(id.into());
            let refused = [
                store.update_profile(&user, &changes),
                store.set_password(&user, &hash, true),
                store.add_to_group(&user, &support),
                store.remove_from_group(&user, &sales),
                store.enrol(&user, &course),
                store.withdraw(&user, &course),
                store.suspend_user(&user),
                store.delete_user(&user).map(|_| ()),
                store.reactivate_user(&user),
                store.set_login_method(&user, "saml"),
                store.update_profile(&user, &custom),
            ];
            for (i, outcome) in refused.into_iter().enumerate() {
                let e = outcome.unwrap_err();
                assert!(
                    e.message().contains("protected"),
                    "write {i} on {id}: {e:?}"
                );
            }
        }
        store.checkpoint().unwrap();
        assert_eq!(snapshot(&db), before, "nothing changed");

        // The same writes on the ordinary user go through, and repeating them (a resumed
        // run) is not an error.
        let ana = UserId("2".into());
        for _ in 0..2 {
            store.update_profile(&ana, &changes).unwrap();
            store.set_password(&ana, &hash, false).unwrap();
            store.add_to_group(&ana, &support).unwrap();
            store.remove_from_group(&ana, &sales).unwrap();
            store.enrol(&ana, &course).unwrap();
        }
        store.checkpoint().unwrap();
        let after = snapshot(&db);
        assert!(after.contains("2-2") && !after.contains("1-2"), "{after}");
        assert!(after.contains("2c1"), "{after}");
        assert!(
            after.contains("1-1"),
            "the protected user's membership stays: {after}"
        );
    }

    fn user(store: &mut SqliteStore, email: &str) -> ExistingUser {
        store.find_users(&[email]).unwrap().pop().unwrap()
    }

    #[test]
    fn an_empty_value_clears_a_field() {
        let (_dir, db) = db();
        let mut store = SqliteStore::new(db.clone());
        let ana = UserId("2".into());
        let set = Profile {
            phone_number: Some("+64 21 555".into()),
            organisation: Some("Kōwhai".into()),
            ..Profile::default()
        };
        store.update_profile(&ana, &set).unwrap();
        let clear = Profile {
            phone_number: Some(String::new()),
            last_name: Some(String::new()),
            ..Profile::default()
        };
        store.update_profile(&ana, &clear).unwrap();
        store.checkpoint().unwrap();
        let (phone, organisation, last): (Option<String>, Option<String>, String) = db
            .conn()
            .query_row(
                "SELECT phone_number, organisation, last_name FROM users WHERE id = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(phone, None, "Some(\"\") stores NULL");
        assert_eq!(organisation.as_deref(), Some("Kōwhai"), "None leaves it");
        assert_eq!(last, "", "a name is NOT NULL: cleared to ''");
        assert_eq!(user(&mut store, "ana@x.com").profile.phone_number, None);
    }

    #[test]
    fn inverse_writes_suspend_withdraw_and_delete_only_a_user_nothing_refers_to() {
        let (_dir, db) = db();
        let mut store = SqliteStore::new(db.clone());
        for write in [
            OptionalMethod::SuspendUser,
            OptionalMethod::DeleteUser,
            OptionalMethod::Withdraw,
        ] {
            assert!(store.supports(write), "{write:?}");
        }
        let course = ContentRef::new(ContentKind::Course, "c1");
        let sales = Group {
            id: "1".into(),
            name: "Sales".into(),
        };
        let ana = UserId("2".into());
        store.enrol(&ana, &course).unwrap();
        store.checkpoint().unwrap();
        assert!(!user(&mut store, "ana@x.com").suspended);

        // In a group and enrolled: kept.
        assert!(!store.delete_user(&ana).unwrap());
        store.withdraw(&ana, &course).unwrap();
        store.withdraw(&ana, &course).unwrap(); // not enrolled any more: fine
        assert!(!store.delete_user(&ana).unwrap(), "still in Sales");
        store.checkpoint().unwrap();
        assert!(user(&mut store, "ana@x.com").enrolments.is_empty());

        for _ in 0..2 {
            store.suspend_user(&ana).unwrap();
        }
        store.checkpoint().unwrap();
        assert!(user(&mut store, "ana@x.com").suspended);

        // A row of a table added later that refers to the user keeps it too.
        db.conn()
            .execute_batch(
                "CREATE TABLE submissions (id INTEGER PRIMARY KEY, \
                 author INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE);
                 INSERT INTO submissions (author) VALUES (2);",
            )
            .unwrap();
        let mut store = SqliteStore::new(db.clone());
        store.remove_from_group(&ana, &sales).unwrap();
        assert!(
            !store.delete_user(&ana).unwrap(),
            "a submission refers to it"
        );
        store.checkpoint().unwrap();
        db.conn().execute("DELETE FROM submissions", []).unwrap();
        assert!(store.delete_user(&ana).unwrap());
        store.checkpoint().unwrap();
        assert!(store.find_users(&["ana@x.com"]).unwrap().is_empty());
        assert!(
            store.delete_user(&ana).is_err(),
            "a user already gone is an error, like every write"
        );
        assert_eq!(
            db.conn()
                .query_row("SELECT count(*) FROM users WHERE id = 1", [], |r| r
                    .get::<_, i64>(0))
                .unwrap(),
            1,
            "the protected user stays"
        );
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn new_user(email: &str, method: &str, hash: Option<PasswordHash>) -> NewUser {
        NewUser {
            email: email.into(),
            profile: Profile {
                first_name: Some("New".into()),
                last_name: Some("Person".into()),
                custom: fields(&[("department", "Sales"), ("grade", "B")]),
                ..Profile::default()
            },
            password_hash: hash,
            force_password_reset: false,
            login_method: method.into(),
        }
    }

    #[test]
    fn profile_field_values_are_created_read_changed_and_deleted() {
        let (_dir, db) = db();
        let mut store = SqliteStore::new(db.clone());
        let id = store
            .create_user(&new_user("cy@x.com", "saml", None))
            .unwrap();
        store.checkpoint().unwrap();
        let cy = user(&mut store, "cy@x.com");
        assert_eq!(cy.id, id);
        assert_eq!(
            cy.profile.custom,
            fields(&[("department", "Sales"), ("grade", "B")])
        );
        assert_eq!(cy.login_method.as_deref(), Some("saml"));
        let (hash, method): (Option<String>, Option<String>) = db
            .conn()
            .query_row(
                "SELECT password_hash, login_method FROM users WHERE email_key = 'cy@x.com'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((hash, method.as_deref()), (None, Some("saml")));

        let changes = Profile {
            organisation: Some("Kōwhai".into()),
            custom: fields(&[("department", "Support"), ("grade", ""), ("site", "AKL")]),
            ..Profile::default()
        };
        for _ in 0..2 {
            store.update_profile(&id, &changes).unwrap();
        }
        store.checkpoint().unwrap();
        let cy = user(&mut store, "cy@x.com");
        assert_eq!(
            cy.profile.custom,
            fields(&[("department", "Support"), ("site", "AKL")]),
            "a value replaced, \"\" deleted, a new one added"
        );
        assert_eq!(cy.profile.organisation.as_deref(), Some("Kōwhai"));
        assert_eq!(
            user(&mut store, "ana@x.com").profile.custom,
            BTreeMap::new(),
            "nobody else's values"
        );

        // A user with nothing but its own values attached is deleted, and they with it.
        assert!(store.delete_user(&id).unwrap());
        store.checkpoint().unwrap();
        let left: i64 = db
            .conn()
            .query_row("SELECT count(*) FROM user_fields", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn a_user_created_in_the_open_transaction_gets_its_memberships_and_enrolments() {
        let (_dir, db) = db();
        let mut store = SqliteStore::new(db.clone());
        let sales = Group {
            id: "1".into(),
            name: "Sales".into(),
        };
        let course = ContentRef::new(ContentKind::Course, "c1");
        let id = store
            .create_user(&new_user("cy@x.com", "saml", None))
            .unwrap();
        for _ in 0..2 {
            store.add_to_group(&id, &sales).unwrap();
            store.enrol(&id, &course).unwrap();
        }
        let missing = Group {
            id: "9".into(),
            name: "Gone".into(),
        };
        assert!(
            store.add_to_group(&id, &missing).is_err(),
            "a group that is not there is refused (foreign key)"
        );
        store.checkpoint().unwrap();
        let cy = user(&mut store, "cy@x.com");
        assert_eq!(cy.groups, ["Sales"]);
        assert_eq!(cy.enrolments, std::slice::from_ref(&course));
        let (created, enrolled): (String, String) = db
            .conn()
            .query_row(
                "SELECT u.created_at, e.enrolled_at FROM users u JOIN enrolments e \
                 ON e.user_id = u.id WHERE u.email_key = 'cy@x.com'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        for stamp in [&created, &enrolled] {
            assert_eq!(stamp.len(), 24, "{stamp}");
            assert!(
                stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
                "{stamp}"
            );
        }

        // Deleted in its transaction: no longer taken for known.
        let dee = store
            .create_user(&new_user("dee@x.com", "saml", None))
            .unwrap();
        assert!(store.delete_user(&dee).unwrap());
        let e = store.add_to_group(&dee, &sales).unwrap_err();
        assert!(e.message().contains("does not exist"), "{e:?}");
        store.checkpoint().unwrap();

        // After the commit, the users of a new transaction only.
        store.add_to_group(&id, &sales).unwrap();
        store.checkpoint().unwrap();
        assert_eq!(user(&mut store, "cy@x.com").groups, ["Sales"]);
    }

    #[test]
    fn login_methods_and_reactivation() {
        let (_dir, db) = db();
        let mut store = SqliteStore::new(db.clone());
        let params = HashParams::insecure_for_tests(64, 1, 1);
        let hash = hash_password(&Password::new("Correct-horse-9"), &params, &OsRandom).unwrap();
        let id = store
            .create_user(&new_user("bo@x.com", "password", Some(hash)))
            .unwrap();
        store.checkpoint().unwrap();
        assert_eq!(user(&mut store, "bo@x.com").login_method, None);
        for _ in 0..2 {
            store.set_login_method(&id, "oidc").unwrap();
        }
        store.checkpoint().unwrap();
        assert_eq!(
            user(&mut store, "bo@x.com").login_method.as_deref(),
            Some("oidc")
        );
        store.set_login_method(&id, "password").unwrap();
        store.checkpoint().unwrap();
        assert_eq!(user(&mut store, "bo@x.com").login_method, None, "NULL");

        store.suspend_user(&id).unwrap();
        store.checkpoint().unwrap();
        assert!(user(&mut store, "bo@x.com").suspended);
        for _ in 0..2 {
            store.reactivate_user(&id).unwrap();
        }
        store.checkpoint().unwrap();
        assert!(!user(&mut store, "bo@x.com").suspended);
    }

    #[test]
    fn scope_users_lists_everyone_in_id_order_a_page_at_a_time() {
        let (_dir, db) = db();
        let mut store = SqliteStore::new(db.clone());
        for method in OptionalMethod::ALL {
            assert!(store.supports(method), "{method:?}");
        }
        store
            .create_user(&new_user("cy@x.com", "saml", None))
            .unwrap();
        store.checkpoint().unwrap();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = store.scope_users(after.as_deref(), 2).unwrap();
            pages += 1;
            assert!(page.users.len() <= 2);
            seen.extend(page.users);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 2, "2 + 1 users: the second page is the last");
        let emails: Vec<&str> = seen.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["root@x.com", "ana@x.com", "cy@x.com"]);
        assert!(seen[0].protected, "protected users are in the scope");
        assert_eq!(seen[1].groups, ["Sales"], "filled like find_users");
        assert_eq!(seen[2].profile.custom.len(), 2);
        let all = store.scope_users(None, 1000).unwrap();
        assert_eq!((all.users.len(), all.next), (3, None));
        assert!(store.scope_users(Some("x"), 10).is_err());
    }

    /// The same writes through a store that queues new users' memberships and enrolments
    /// (`holding`, a run's) and through one that writes each at once (`new`): the same
    /// answers, the same errors, the same reads in the open transaction and the same rows.
    #[test]
    fn queued_memberships_and_enrolments_write_what_single_inserts_write() {
        fn writes(store: &mut SqliteStore<'_>) -> Vec<String> {
            let sales = Group {
                id: "1".into(),
                name: "Sales".into(),
            };
            let support = Group {
                id: "2".into(),
                name: "Support".into(),
            };
            let gone = Group {
                id: "9".into(),
                name: "Gone".into(),
            };
            let course = ContentRef::new(ContentKind::Course, "c1");
            let missing = ContentRef::new(ContentKind::Course, "c9");
            let ana = UserId("2".into());
            let mut said = Vec::new();
            let mut say = |what: Result<String, HostError>| {
                said.push(match what {
                    Ok(v) => v,
                    Err(e) => format!("error: {}", e.message()),
                });
            };
            for batch in 0..2 {
                for n in 0..5 {
                    let id = store
                        .create_user(&new_user(&format!("u{batch}-{n}@x.com"), "saml", None))
                        .unwrap();
                    for _ in 0..2 {
                        say(store.add_to_group(&id, &sales).map(|()| "ok".into()));
                        say(store.enrol(&id, &course).map(|()| "ok".into()));
                    }
                    say(store.add_to_group(&id, &gone).map(|()| "ok".into()));
                    say(store.enrol(&id, &missing).map(|()| "ok".into()));
                    if n == 1 {
                        // A write of another kind between queued rows.
                        say(store.add_to_group(&ana, &support).map(|()| "ok".into()));
                    }
                    if n == 2 {
                        // Read back in the open transaction.
                        let email = format!("u{batch}-{n}@x.com");
                        let found = store.find_users(&[email.as_str()]).unwrap();
                        say(Ok(format!(
                            "{:?} {:?}",
                            found[0].groups, found[0].enrolments
                        )));
                    }
                    if n == 3 {
                        // Queued rows refer to it: not deleted.
                        say(store.delete_user(&id).map(|d| d.to_string()));
                    }
                    if n == 4 {
                        say(store.add_to_group(&id, &support).map(|()| "ok".into()));
                    }
                }
                store.checkpoint().unwrap();
            }
            said
        }
        let (_one, single) = db();
        let (_two, queued) = db();
        let said_single = writes(&mut SqliteStore::new(single.clone()));
        let mut store = SqliteStore::holding(&queued).unwrap();
        let said_queued = writes(&mut store);
        drop(store);
        assert_eq!(said_queued, said_single);
        assert!(
            said_single.iter().any(|s| s.contains("FOREIGN KEY")),
            "{said_single:?}"
        );
        assert_eq!(snapshot(&queued), snapshot(&single));
        let count = |db: &Db| -> (i64, i64) {
            db.conn()
                .query_row(
                    "SELECT (SELECT count(*) FROM group_members), (SELECT count(*) FROM enrolments)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
        };
        assert_eq!(count(&queued), (15, 10));
        assert_eq!(count(&queued), count(&single));
    }

    #[test]
    fn queued_rows_of_a_transaction_rolled_back_are_not_written() {
        let (_dir, db) = db();
        let mut store = SqliteStore::holding(&db).unwrap();
        let sales = Group {
            id: "1".into(),
            name: "Sales".into(),
        };
        let id = store
            .create_user(&new_user("cy@x.com", "saml", None))
            .unwrap();
        store.add_to_group(&id, &sales).unwrap();
        db.conn().execute_batch("ROLLBACK").unwrap();
        // The next batch: its own user, and nothing of the one rolled back.
        let dee = store
            .create_user(&new_user("dee@x.com", "saml", None))
            .unwrap();
        store.add_to_group(&dee, &sales).unwrap();
        store.checkpoint().unwrap();
        let members: String = db
            .conn()
            .query_row(
                "SELECT group_concat(email_key, ';') FROM (SELECT u.email_key FROM \
                 group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = 1 \
                 ORDER BY u.id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(members, "root@x.com;ana@x.com;dee@x.com");
    }
}
