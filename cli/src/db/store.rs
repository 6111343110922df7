//! [`Store`] on the SQLite database.

use super::{host_error, Db};
use lms_bulk_upload::{
    email_key, ContentKind, ContentRef, ExistingUser, Group, HostError, NewUser, PasswordHash,
    Profile, Store, UserId,
};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use std::collections::HashMap;
use std::rc::Rc;

/// Emails (or names) per `IN (...)` query.
const IN_CHUNK: usize = 500;

/// The LMS's users, groups and content in SQLite. Writes go into one transaction per batch of
/// rows, committed when the engine calls [`Store::checkpoint`].
pub struct SqliteStore {
    db: Rc<Db>,
}

impl SqliteStore {
    pub fn new(db: Rc<Db>) -> SqliteStore {
        SqliteStore { db }
    }
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

fn kind_of(text: &str) -> Option<ContentKind> {
    match text {
        "course" => Some(ContentKind::Course),
        "collection" => Some(ContentKind::Collection),
        "campaign" => Some(ContentKind::Campaign),
        _ => None,
    }
}

fn find_chunk(conn: &Connection, keys: &[String]) -> rusqlite::Result<Vec<ExistingUser>> {
    let sql = format!(
        "SELECT id, email, first_name, last_name, phone_number, unique_id, country, \
         organisation, language_code, protected FROM users WHERE email_key IN ({})",
        placeholders(keys.len())
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut users: Vec<ExistingUser> = stmt
        .query_map(params_from_iter(keys), |r| {
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
                },
                groups: Vec::new(),
                enrolments: Vec::new(),
                protected: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if users.is_empty() {
        return Ok(users);
    }
    let index: HashMap<String, usize> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.0.clone(), i))
        .collect();
    let ids: Vec<i64> = users.iter().filter_map(|u| u.id.0.parse().ok()).collect();
    let sql = format!(
        "SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id \
         WHERE m.user_id IN ({}) ORDER BY g.name",
        placeholders(ids.len())
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(&ids))?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if let Some(&i) = index.get(&id.to_string()) {
            users[i].groups.push(r.get(1)?);
        }
    }
    let sql = format!(
        "SELECT user_id, kind, content_id FROM enrolments WHERE user_id IN ({}) \
         ORDER BY kind, content_id",
        placeholders(ids.len())
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(&ids))?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let kind: String = r.get(1)?;
        if let (Some(&i), Some(kind)) = (index.get(&id.to_string()), kind_of(&kind)) {
            users[i]
                .enrolments
                .push(ContentRef::new(kind, r.get::<_, String>(2)?));
        }
    }
    Ok(users)
}

impl Store for SqliteStore {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
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
        self.db.write(|conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO users (email, email_key, first_name, last_name, phone_number, \
                 unique_id, country, organisation, language_code, password_hash, \
                 force_password_reset) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
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
                user.password_hash.as_str(),
                user.force_password_reset,
            ])?;
            Ok(UserId(conn.last_insert_rowid().to_string()))
        })
    }

    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        let id = user_id(user)?;
        self.db.write(|conn| {
            let mut stmt = conn.prepare_cached(
                "UPDATE users SET first_name = coalesce(?1, first_name), \
                 last_name = coalesce(?2, last_name), phone_number = coalesce(?3, phone_number), \
                 unique_id = coalesce(?4, unique_id), country = coalesce(?5, country), \
                 organisation = coalesce(?6, organisation), \
                 language_code = coalesce(?7, language_code), \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?8",
            )?;
            stmt.execute(params![
                changes.first_name,
                changes.last_name,
                changes.phone_number,
                changes.unique_id,
                changes.country,
                changes.organisation,
                changes.language_code,
                id
            ])?;
            Ok(())
        })
    }

    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        let id = user_id(user)?;
        self.db.write(|conn| {
            conn.prepare_cached(
                "UPDATE users SET password_hash = ?1, force_password_reset = ?2, \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?3",
            )?
            .execute(params![hash.as_str(), force_reset, id])?;
            Ok(())
        })
    }

    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        let (id, group) = (user_id(user)?, group_id(group)?);
        self.db.write(|conn| {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?1, ?2)",
            )?
            .execute(params![group, id])?;
            Ok(())
        })
    }

    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        let (id, group) = (user_id(user)?, group_id(group)?);
        self.db.write(|conn| {
            conn.prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2")?
                .execute(params![group, id])?;
            Ok(())
        })
    }

    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        let id = user_id(user)?;
        self.db.write(|conn| {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO enrolments (user_id, kind, content_id) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, content.kind.as_str(), content.id])?;
            Ok(())
        })
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
        self.db.commit()
    }
}
