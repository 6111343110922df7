//! The administrators of the screens (`bulk-upload admin add`, `init --demo`): an email and
//! an argon2id hash, in a table of their own (see migration 6).

use super::Db;
use crate::Error;
use lms_bulk_upload::{hash_password, EmailAddress, HashParams, OsRandom, Password};
use rusqlite::{params, OptionalExtension};

/// What `add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new administrator.
    Created,
    /// An existing one's password was replaced.
    PasswordChanged,
}

/// Adds an administrator, or sets the password of an existing one. The address is checked
/// by the engine's rule; the password must be at least 12 characters.
pub fn add(db: &Db, email: &str, password: &Password, params: &HashParams) -> Result<Added, Error> {
    let address = EmailAddress::parse(email.trim())
        .map_err(|why| Error::usage(format!("{email:?} is not an email address: {why}")))?;
    if password.expose().chars().count() < 12 {
        return Err(Error::usage(
            "an administrator's password has at least 12 characters",
        ));
    }
    let hash = hash_password(password, params, &OsRandom)?;
    let existed = find(db, address.as_str())?.is_some();
    db.conn().execute(
        "INSERT INTO admins (email_key, email, password_hash) VALUES (?1, ?2, ?3) \
         ON CONFLICT (email_key) DO UPDATE SET password_hash = excluded.password_hash",
        params![address.key(), address.as_str(), hash.as_str()],
    )?;
    // A new password ends every session of the old one.
    db.conn().execute(
        "DELETE FROM web_sessions WHERE admin = ?1",
        params![address.key()],
    )?;
    Ok(if existed {
        Added::PasswordChanged
    } else {
        Added::Created
    })
}

/// The administrator with this email (ignoring case): the email as stored and the hash.
pub fn find(db: &Db, email: &str) -> Result<Option<(String, String)>, Error> {
    Ok(db
        .conn()
        .query_row(
            "SELECT email, password_hash FROM admins WHERE email_key = ?1",
            params![lms_bulk_upload::email_key(email.trim())],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// How many administrators there are.
pub fn count(db: &Db) -> Result<i64, Error> {
    Ok(db
        .conn()
        .query_row("SELECT count(*) FROM admins", [], |r| r.get(0))?)
}
