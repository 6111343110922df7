//! The host protocol: how a binding's host object (a Python, JavaScript or Ruby object with
//! the store's, mailer's or journal's methods) becomes a [`Store`], [`Mailer`] or [`Journal`].
//!
//! A binding implements one small trait, [`HostObject`]: "does the object have this method"
//! and "call this method with these JSON values". Everything else — the arguments each
//! method gets, which methods are optional and what their absence means, how replies are
//! read and validated (ids as text from numbers, nulls, nested or top-level profile fields,
//! missing optional keys), camelCase naming for JavaScript — lives here, once, so that every
//! language behaves alike. A reply of the wrong shape fails with
//! [`IssueCode::InvalidHostReply`]; a missing required method with
//! [`IssueCode::HostMethodMissing`].
//!
//! ```
//! use lms_bulk_upload::host::{HostObject, HostStore, Naming};
//! use lms_bulk_upload::{HostError, Store};
//! use serde_json::{json, Value};
//!
//! /// A host whose `find_users` answers with an int id and top-level profile fields.
//! struct Scripted;
//! impl HostObject for Scripted {
//!     fn has_method(&mut self, method: &str) -> bool {
//!         method != "all_group_names" && method != "checkpoint"
//!     }
//!     fn call(&mut self, method: &str, _args: Vec<Value>) -> Result<Value, HostError> {
//!         Ok(match method {
//!             "find_users" => json!([{"id": 7, "email": "a@x.com", "first_name": "A"}]),
//!             _ => Value::Null,
//!         })
//!     }
//! }
//!
//! let mut store = HostStore::new(Scripted, Naming::Snake)?;
//! let users = store.find_users(&["A@x.com"])?;
//! assert_eq!(users[0].id.0, "7");
//! assert_eq!(users[0].profile.first_name.as_deref(), Some("A"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{Error, ErrorKind};
use crate::execute::invitation::{InvitationDigest, NewInvitation, StoredInvitation};
use crate::execute::journal::{Journal, JournalEntry};
use crate::execute::password::PasswordHash;
use crate::execute::results::ResultRow;
use crate::host::mailer::{Mailer, Message};
use crate::host::store::{
    ContentKind, ContentRef, ExistingUser, Group, HostError, NewUser, OptionalMethod, Profile,
    ScopePage, Store, UserId,
};
use crate::issue::IssueCode;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// A host object as a binding reaches it: methods called by name with JSON values.
///
/// Method names are given in the [`Naming`] of the adapter that calls them (snake_case for
/// Python and Ruby, camelCase for JavaScript). An implementation converts the values to its
/// language's own (dicts, objects, hashes), calls the method, and converts the reply back:
/// integers that do not fit 64 bits become strings of their digits; a missing reply
/// (`None`, `undefined`, `nil`) is `Value::Null`. An exception the method raises becomes a
/// [`HostError`] with its message, transient when the exception says so, and the exception
/// itself as the error's source where the language allows it.
pub trait HostObject {
    /// Whether the object has a callable `method`.
    fn has_method(&mut self, method: &str) -> bool;
    /// Calls `method` with positional `args` and returns its reply.
    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError>;
}

impl<H: HostObject + ?Sized> HostObject for &mut H {
    fn has_method(&mut self, method: &str) -> bool {
        (**self).has_method(method)
    }
    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        (**self).call(method, args)
    }
}

impl<H: HostObject + ?Sized> HostObject for Box<H> {
    fn has_method(&mut self, method: &str) -> bool {
        (**self).has_method(method)
    }
    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        (**self).call(method, args)
    }
}

/// How a language spells method names and record keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Naming {
    /// `find_users`, `first_name` (Rust, Python, Ruby).
    #[default]
    Snake,
    /// `findUsers`, `firstName` (JavaScript).
    Camel,
}

impl Naming {
    /// `name` (snake_case) in this naming.
    pub fn name(self, name: &str) -> String {
        match self {
            Naming::Snake => name.to_owned(),
            Naming::Camel => camel(name),
        }
    }

    /// `name` (in this naming) in snake_case: the inverse of [`Naming::name`].
    pub fn snake_name(self, name: &str) -> String {
        match self {
            Naming::Snake => name.to_owned(),
            Naming::Camel => snake(name),
        }
    }

    /// Object keys of `value`, at every depth, from snake_case to this naming — but for
    /// the keys inside a `custom` object (the host's own profile field names, passed as
    /// the host declared them).
    pub fn keys_out(self, value: Value) -> Value {
        match self {
            Naming::Snake => value,
            Naming::Camel => map_keys(value, &camel),
        }
    }

    /// Object keys of `value`, at every depth, from this naming to snake_case — but for
    /// the keys inside a `custom` object.
    pub fn keys_in(self, value: Value) -> Value {
        match self {
            Naming::Snake => value,
            Naming::Camel => map_keys(value, &snake),
        }
    }
}

fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The snake_case form of a camelCase name (a snake_case one is returned as it is).
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn map_keys(value: Value, f: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match f(&k) {
                    // Host field names are the host's own: never renamed.
                    name if name == "custom" => (name, v),
                    name => (name, map_keys(v, f)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| map_keys(v, f)).collect()),
        other => other,
    }
}

/// The part of a host object every adapter shares: naming, method presence (asked once per
/// method) and the call itself with keys converted both ways.
struct Caller<H> {
    host: H,
    naming: Naming,
    what: &'static str,
    present: HashMap<&'static str, bool>,
}

impl<H: HostObject> Caller<H> {
    fn new(
        mut host: H,
        naming: Naming,
        what: &'static str,
        required: &[&'static str],
    ) -> Result<Caller<H>, Error> {
        let mut present = HashMap::new();
        for &method in required {
            let name = naming.name(method);
            if !host.has_method(&name) {
                return Err(Error::new(
                    ErrorKind::for_host(what),
                    IssueCode::HostMethodMissing,
                    format!("the {what} object has no method {name}"),
                ));
            }
            present.insert(method, true);
        }
        Ok(Caller {
            host,
            naming,
            what,
            present,
        })
    }

    fn has(&mut self, method: &'static str) -> bool {
        let (host, naming) = (&mut self.host, self.naming);
        *self
            .present
            .entry(method)
            .or_insert_with(|| host.has_method(&naming.name(method)))
    }

    /// Calls `method` (snake_case) with `args`; the reply's keys come back in snake_case.
    fn call(&mut self, method: &'static str, args: Vec<Value>) -> Result<Value, HostError> {
        let args = args.into_iter().map(|a| self.naming.keys_out(a)).collect();
        let reply = self.host.call(&self.naming.name(method), args)?;
        Ok(self.naming.keys_in(reply))
    }

    /// Calls an optional method; `Ok(None)` when the object does not have it.
    fn call_optional(
        &mut self,
        method: &'static str,
        args: Vec<Value>,
    ) -> Result<Option<Value>, HostError> {
        if self.has(method) {
            self.call(method, args).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The method is named in snake_case whatever the naming: the message can end up in a
    /// result row, which is byte-identical in every language.
    fn invalid(&self, method: &'static str, detail: impl std::fmt::Display) -> HostError {
        HostError::coded(
            IssueCode::InvalidHostReply,
            format!("{}.{method} {detail}", self.what),
        )
    }
}

impl ErrorKind {
    fn for_host(what: &str) -> ErrorKind {
        if what == "mailer" {
            ErrorKind::Mailer
        } else {
            ErrorKind::Store
        }
    }
}

/// Reading replies: each function names what it expected in its error.
mod read {
    use super::*;

    pub(super) type Fail<'a> = &'a dyn Fn(String) -> HostError;

    pub(super) fn list(value: Value, what: &str, fail: Fail<'_>) -> Result<Vec<Value>, HostError> {
        match value {
            Value::Array(items) => Ok(items),
            Value::Null => Err(fail(format!(
                "returned nothing where a list of {what} is due (return an empty list when there are none)"
            ))),
            other => Err(fail(format!(
                "returned {} where a list of {what} is due",
                kind(&other)
            ))),
        }
    }

    pub(super) fn object(
        value: Value,
        what: &str,
        fail: Fail<'_>,
    ) -> Result<Map<String, Value>, HostError> {
        match value {
            Value::Object(map) => Ok(map),
            other => Err(fail(format!(
                "returned {} where {what} (an object) is due",
                kind(&other)
            ))),
        }
    }

    /// An id: a non-empty string, or an integer (database keys), as text.
    pub(super) fn id(
        value: Option<Value>,
        what: &str,
        fail: Fail<'_>,
    ) -> Result<String, HostError> {
        match value {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
            Some(other) => Err(fail(format!(
                "gave {what} as {}; an id is a non-empty string or an integer",
                kind(&other)
            ))),
            None => Err(fail(format!("gave no {what}"))),
        }
    }

    pub(super) fn string(
        value: Option<Value>,
        what: &str,
        fail: Fail<'_>,
    ) -> Result<String, HostError> {
        match value {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(fail(format!(
                "gave {what} as {}, not a string",
                kind(&other)
            ))),
            None => Err(fail(format!("gave no {what}"))),
        }
    }

    /// An optional text field: absent or null is `None`; numbers are written as text.
    pub(super) fn text(
        value: Option<Value>,
        what: &str,
        fail: Fail<'_>,
    ) -> Result<Option<String>, HostError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(fail(format!("gave {what} as {}, not text", kind(&other)))),
        }
    }

    /// A flag: a boolean, or 0 / 1 as SQL databases return them; absent or null is false.
    pub(super) fn flag(
        value: Option<Value>,
        what: &str,
        fail: Fail<'_>,
    ) -> Result<bool, HostError> {
        match value {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
            Some(other) => Err(fail(format!(
                "gave {what} as {}, not a boolean",
                kind(&other)
            ))),
        }
    }

    /// An optional list: absent or null is empty.
    pub(super) fn optional_list(
        value: Option<Value>,
        what: &str,
        fail: Fail<'_>,
    ) -> Result<Vec<Value>, HostError> {
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(v) => list(v, what, fail),
        }
    }

    pub(super) fn content(value: Value, fail: Fail<'_>) -> Result<ContentRef, HostError> {
        let mut map = object(value, "a content item", fail)?;
        let kind = match map.remove("kind") {
            Some(Value::String(k)) => match k.as_str() {
                "course" => ContentKind::Course,
                "collection" => ContentKind::Collection,
                "campaign" => ContentKind::Campaign,
                _ => {
                    return Err(fail(format!(
                        "gave a content kind {k:?}; it is course, collection or campaign"
                    )))
                }
            },
            other => {
                return Err(fail(format!(
                    "gave a content item without a kind ({other:?})"
                )))
            }
        };
        let id = id(map.remove("id"), "a content id", fail)?;
        Ok(ContentRef { kind, id })
    }

    pub(super) fn kind(value: &Value) -> &'static str {
        match value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        }
    }
}

const PROFILE_KEYS: [&str; 7] = [
    "first_name",
    "last_name",
    "phone_number",
    "unique_id",
    "country",
    "organisation",
    "language_code",
];

fn profile_from(map: &mut Map<String, Value>, fail: read::Fail<'_>) -> Result<Profile, HostError> {
    let mut fields = match map.remove("profile") {
        Some(Value::Object(nested)) => nested,
        None | Some(Value::Null) => std::mem::take(map),
        Some(other) => {
            return Err(fail(format!(
                "gave a profile as {}, not an object",
                read::kind(&other)
            )))
        }
    };
    let custom = match fields.remove("custom") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(custom)) => custom
            .into_iter()
            .filter_map(|(name, v)| match read::text(Some(v), &name, fail) {
                Ok(Some(text)) => Some(Ok((name, text))),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(fail(format!(
                "gave custom profile fields as {}, not an object",
                read::kind(&other)
            )))
        }
    };
    let mut take = |key: &str| read::text(fields.remove(key), key, fail);
    Ok(Profile {
        first_name: take(PROFILE_KEYS[0])?,
        last_name: take(PROFILE_KEYS[1])?,
        phone_number: take(PROFILE_KEYS[2])?,
        unique_id: take(PROFILE_KEYS[3])?,
        country: take(PROFILE_KEYS[4])?,
        organisation: take(PROFILE_KEYS[5])?,
        language_code: take(PROFILE_KEYS[6])?,
        custom,
    })
}

fn user_from(value: Value, fail: read::Fail<'_>) -> Result<ExistingUser, HostError> {
    let mut map = read::object(value, "a user", fail)?;
    let id = read::id(map.remove("id"), "a user id", fail)?;
    let email = read::string(map.remove("email"), "a user's email", fail)?;
    let groups = read::optional_list(map.remove("groups"), "group names", fail)?
        .into_iter()
        .map(|g| read::string(Some(g), "a group name", fail))
        .collect::<Result<_, _>>()?;
    let enrolments = read::optional_list(map.remove("enrolments"), "enrolments", fail)?
        .into_iter()
        .map(|c| read::content(c, fail))
        .collect::<Result<_, _>>()?;
    let protected = read::flag(map.remove("protected"), "protected", fail)?;
    let suspended = read::flag(map.remove("suspended"), "suspended", fail)?;
    let suspended_by_upload = read::flag(
        map.remove("suspended_by_upload"),
        "suspended_by_upload",
        fail,
    )?;
    let login_method = read::text(map.remove("login_method"), "login_method", fail)?;
    let profile = profile_from(&mut map, fail)?;
    Ok(ExistingUser {
        id: UserId(id),
        email,
        profile,
        groups,
        enrolments,
        protected,
        suspended,
        suspended_by_upload: suspended && suspended_by_upload,
        login_method,
    })
}

fn profile_value(profile: &Profile) -> Value {
    let mut map: Map<String, Value> = profile
        .fields()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), Value::String(v.to_owned()))))
        .collect();
    if !profile.custom.is_empty() {
        let custom = profile
            .custom
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        map.insert("custom".into(), Value::Object(custom));
    }
    Value::Object(map)
}

fn content_value(content: &ContentRef) -> Value {
    json!({"kind": content.kind.as_str(), "id": content.id})
}

fn group_value(group: &Group) -> Value {
    json!({"id": group.id, "name": group.name})
}

/// A host object as the engine's [`Store`].
///
/// Methods (snake_case here; camelCase with [`Naming::Camel`]) and what they get:
///
/// | method | arguments | reply |
/// |---|---|---|
/// | `find_users` | a list of emails | a list of users: `id`, `email`, profile fields (in a nested `profile` object or at the top level), optional `groups` (names), `enrolments` (`{kind, id}`), `protected` |
/// | `find_groups` | a list of names | a list of `{id, name}` |
/// | `find_content` | a list of `{kind, id}` | the list of those that exist |
/// | `create_user` | `{email, profile, password_hash, force_password_reset}` | the new id |
/// | `update_profile` | user id, `{field: value}` of the fields to overwrite | ignored |
/// | `set_password` | user id, password hash (PHC string), force-reset flag | ignored |
/// | `add_to_group`, `remove_from_group` | user id, `{id, name}` | ignored |
/// | `enrol` | user id, `{kind, id}` | ignored |
/// | `all_group_names` (optional) | — | a list of names (for "did you mean") |
/// | `checkpoint` (optional) | — | ignored; commit the writes so far |
/// | `suspend_user` (optional: undo) | user id | ignored |
/// | `delete_user` (optional: undo) | user id | `true` if deleted, `false` if the host keeps the user (it is then suspended) |
/// | `withdraw` (optional: undo) | user id, `{kind, id}` | ignored |
/// | `reactivate_user` (optional) | user id | ignored |
/// | `set_login_method` (optional) | user id, method name | ignored |
/// | `scope_users` (optional) | cursor (`null` first), limit | `{users: [user...], next: cursor or null}` |
/// | `add_invitation` (optional) | `{user, digest, expires_at, upload}` | ignored |
/// | `find_invitation` (optional) | digest | `null` or `{user, digest, expires_at, used}` |
/// | `redeem_invitation` (optional) | digest | `true` if it was unused and is now used |
/// | `revoke_invitations` (optional: undo) | user id, upload fingerprint | ignored |
///
/// A user's `suspended` flag (optional, like `protected`) says it is deactivated; its
/// `suspended_by_upload` flag (optional, default `false`) says the engine suspended it
/// (the host records that when `suspend_user` is called, and clears it on
/// `reactivate_user`): only such a user may be reactivated by an upload. An undo that needs
/// an optional method the object lacks is refused when it is planned.
///
/// Ids are text: an integer id from the host is written in decimal.
pub struct HostStore<H> {
    caller: Caller<H>,
}

impl<H: HostObject> HostStore<H> {
    /// The methods every store has.
    pub const REQUIRED: [&'static str; 9] = [
        "find_users",
        "find_groups",
        "find_content",
        "create_user",
        "update_profile",
        "set_password",
        "add_to_group",
        "remove_from_group",
        "enrol",
    ];

    /// Wraps `host`; fails with [`IssueCode::HostMethodMissing`] when a required method is
    /// missing.
    pub fn new(host: H, naming: Naming) -> Result<HostStore<H>, Error> {
        Ok(HostStore {
            caller: Caller::new(host, naming, "store", &Self::REQUIRED)?,
        })
    }

    /// The host object.
    pub fn host(&self) -> &H {
        &self.caller.host
    }

    /// The host object, to take it back.
    pub fn into_host(self) -> H {
        self.caller.host
    }

    fn list(
        &mut self,
        method: &'static str,
        args: Vec<Value>,
        what: &str,
    ) -> Result<Vec<Value>, HostError> {
        let reply = self.caller.call(method, args)?;
        read::list(reply, what, &|d| self.caller.invalid(method, d))
    }

    fn unit(&mut self, method: &'static str, args: Vec<Value>) -> Result<(), HostError> {
        self.caller.call(method, args).map(drop)
    }
}

impl<H: HostObject> Store for HostStore<H> {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        let items = self.list("find_users", vec![json!(emails)], "users")?;
        let fail = |d| self.caller.invalid("find_users", d);
        items.into_iter().map(|u| user_from(u, &fail)).collect()
    }

    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        let items = self.list("find_groups", vec![json!(names)], "groups")?;
        let fail = |d| self.caller.invalid("find_groups", d);
        items
            .into_iter()
            .map(|g| {
                let mut map = read::object(g, "a group", &fail)?;
                Ok(Group {
                    id: read::id(map.remove("id"), "a group id", &fail)?,
                    name: read::string(map.remove("name"), "a group name", &fail)?,
                })
            })
            .collect()
    }

    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        let args = vec![Value::Array(refs.iter().map(content_value).collect())];
        let items = self.list("find_content", args, "content items")?;
        let fail = |d| self.caller.invalid("find_content", d);
        items.into_iter().map(|c| read::content(c, &fail)).collect()
    }

    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        let arg = json!({
            "email": user.email,
            "profile": profile_value(&user.profile),
            "password_hash": user.password_hash.as_ref().map(PasswordHash::as_str),
            "force_password_reset": user.force_password_reset,
            "login_method": user.login_method,
        });
        let reply = self.caller.call("create_user", vec![arg])?;
        let fail = |d| self.caller.invalid("create_user", d);
        read::id(Some(reply), "the new user's id", &fail).map(UserId)
    }

    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        self.unit(
            "update_profile",
            vec![json!(user.0), profile_value(changes)],
        )
    }

    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        let args = vec![json!(user.0), json!(hash.as_str()), json!(force_reset)];
        self.unit("set_password", args)
    }

    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.unit("add_to_group", vec![json!(user.0), group_value(group)])
    }

    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.unit("remove_from_group", vec![json!(user.0), group_value(group)])
    }

    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.unit("enrol", vec![json!(user.0), content_value(content)])
    }

    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        let Some(reply) = self.caller.call_optional("all_group_names", Vec::new())? else {
            return Ok(Vec::new());
        };
        let fail = |d| self.caller.invalid("all_group_names", d);
        read::list(reply, "group names", &fail)?
            .into_iter()
            .map(|n| read::string(Some(n), "a group name", &fail))
            .collect()
    }

    fn checkpoint(&mut self) -> Result<(), HostError> {
        self.caller
            .call_optional("checkpoint", Vec::new())
            .map(drop)
    }

    fn supports(&mut self, write: OptionalMethod) -> bool {
        self.caller.has(write.method_name())
    }

    fn suspend_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.optional(OptionalMethod::SuspendUser, vec![json!(user.0)])
            .map(drop)
    }

    fn delete_user(&mut self, user: &UserId) -> Result<bool, HostError> {
        let reply = self.optional(OptionalMethod::DeleteUser, vec![json!(user.0)])?;
        match reply {
            Value::Bool(deleted) => Ok(deleted),
            other => Err(self.caller.invalid(
                "delete_user",
                format!("gave {}, not true or false", read::kind(&other)),
            )),
        }
    }

    fn withdraw(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        let args = vec![json!(user.0), content_value(content)];
        self.optional(OptionalMethod::Withdraw, args).map(drop)
    }

    fn reactivate_user(&mut self, user: &UserId) -> Result<(), HostError> {
        self.optional(OptionalMethod::ReactivateUser, vec![json!(user.0)])
            .map(drop)
    }

    fn set_login_method(&mut self, user: &UserId, method: &str) -> Result<(), HostError> {
        let args = vec![json!(user.0), json!(method)];
        self.optional(OptionalMethod::SetLoginMethod, args)
            .map(drop)
    }

    fn scope_users(&mut self, after: Option<&str>, limit: usize) -> Result<ScopePage, HostError> {
        let reply = self.optional(OptionalMethod::ScopeUsers, vec![json!(after), json!(limit)])?;
        let fail = |d| self.caller.invalid("scope_users", d);
        let mut page = read::object(reply, "a page of users", &fail)?;
        let users = read::list(page.remove("users").unwrap_or(Value::Null), "users", &fail)?
            .into_iter()
            .map(|u| user_from(u, &fail))
            .collect::<Result<_, _>>()?;
        let next = match page.remove("next") {
            None | Some(Value::Null) => None,
            Some(v) => Some(read::id(Some(v), "the next page's cursor", &fail)?),
        };
        Ok(ScopePage { users, next })
    }

    fn add_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        let arg = json!({
            "user": invitation.user.0,
            "digest": invitation.digest.as_str(),
            "expires_at": invitation.expires_at,
            "upload": invitation.upload,
        });
        self.optional(OptionalMethod::AddInvitation, vec![arg])
            .map(drop)
    }

    fn find_invitation(
        &mut self,
        digest: &InvitationDigest,
    ) -> Result<Option<StoredInvitation>, HostError> {
        let reply = self.optional(OptionalMethod::FindInvitation, vec![json!(digest.as_str())])?;
        self.invitation_reply(reply)
    }

    fn redeem_invitation(&mut self, digest: &InvitationDigest) -> Result<bool, HostError> {
        let reply = self.optional(
            OptionalMethod::RedeemInvitation,
            vec![json!(digest.as_str())],
        )?;
        match reply {
            Value::Bool(redeemed) => Ok(redeemed),
            other => Err(self.caller.invalid(
                "redeem_invitation",
                format!("gave {}, not true or false", read::kind(&other)),
            )),
        }
    }

    fn revoke_invitations(&mut self, user: &UserId, upload: &str) -> Result<(), HostError> {
        let args = vec![json!(user.0), json!(upload)];
        self.optional(OptionalMethod::RevokeInvitations, args)
            .map(drop)
    }
}

impl<H: HostObject> HostStore<H> {
    /// The sign-in link methods (all optional): `add_invitation`, `find_invitation`,
    /// `redeem_invitation`, `revoke_invitations`.
    fn invitation_reply(&mut self, reply: Value) -> Result<Option<StoredInvitation>, HostError> {
        let fail = |d| self.caller.invalid("find_invitation", d);
        if reply.is_null() {
            return Ok(None);
        }
        let mut map = read::object(reply, "an invitation or null", &fail)?;
        let user = read::id(map.remove("user"), "the invitation's user", &fail)?;
        let digest = read::string(map.remove("digest"), "the invitation's digest", &fail)?;
        let digest = InvitationDigest::from_hex(&digest)
            .ok_or_else(|| fail("gave a digest that is not 64 lowercase hex characters".into()))?;
        let expires_at = match map.remove("expires_at") {
            Some(Value::Number(n)) if n.is_u64() => n.as_u64().unwrap_or(0),
            other => {
                return Err(fail(format!(
                    "gave expires_at as {}, not seconds since the Unix epoch",
                    other.as_ref().map_or("nothing", read::kind)
                )))
            }
        };
        let used = read::flag(map.remove("used"), "used", &fail)?;
        Ok(Some(StoredInvitation {
            user: UserId(user),
            digest,
            expires_at,
            used,
        }))
    }

    /// Calls an optional method: `host_method_missing` when the object lacks it.
    fn optional(&mut self, write: OptionalMethod, args: Vec<Value>) -> Result<Value, HostError> {
        self.caller
            .call_optional(write.method_name(), args)?
            .ok_or_else(|| write.missing())
    }
}

/// A message as the host's mailer gets it: `kind`, `to`, `subject`, `text`, `html` and
/// `fields` (`first_name`, `last_name`, `login`, `site_url`, `results_url`, `password` and
/// `invitation_url` only when the message carries one, and `counts` as `{name: number}` for `upload_complete`).
pub fn message_value(message: &Message) -> Value {
    let f = &message.fields;
    let mut fields = Map::new();
    fields.insert("first_name".into(), json!(f.first_name));
    fields.insert("last_name".into(), json!(f.last_name));
    fields.insert("login".into(), json!(f.login));
    fields.insert("site_url".into(), json!(f.site_url));
    if let Some(password) = &f.password {
        fields.insert("password".into(), json!(password.expose()));
    }
    if let Some(link) = &f.invitation_url {
        fields.insert("invitation_url".into(), json!(link.expose()));
    }
    fields.insert("results_url".into(), json!(f.results_url));
    if let Some(method) = &f.login_method {
        fields.insert("login_method".into(), json!(method));
    }
    let counts: Map<String, Value> = f
        .counts
        .iter()
        .map(|(name, n)| (name.clone(), json!(n)))
        .collect();
    fields.insert("counts".into(), Value::Object(counts));
    json!({
        "kind": message.kind.as_str(),
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "fields": fields,
    })
}

/// A host object as the engine's [`Mailer`]: `send(message)` (see [`message_value`]), and
/// an optional `flush()` that hands over queued messages; it is called after every batch,
/// before the store's checkpoint.
pub struct HostMailer<H> {
    caller: Caller<H>,
}

impl<H: HostObject> HostMailer<H> {
    /// Wraps `host`; fails with [`IssueCode::HostMethodMissing`] without `send`.
    pub fn new(host: H, naming: Naming) -> Result<HostMailer<H>, Error> {
        Ok(HostMailer {
            caller: Caller::new(host, naming, "mailer", &["send"])?,
        })
    }

    /// The host object.
    pub fn host(&self) -> &H {
        &self.caller.host
    }
}

impl<H: HostObject> Mailer for HostMailer<H> {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        self.caller
            .call("send", vec![message_value(message)])
            .map(drop)
    }

    fn flush(&mut self) -> Result<(), HostError> {
        self.caller.call_optional("flush", Vec::new()).map(drop)
    }
}

/// A host object as the engine's [`Journal`]: `load(fingerprint)` returns a mapping from line
/// (a number, or its digits as a key) to `null` (begun) or the finished result row (as in the
/// results JSON), or null when nothing was recorded; `begin(fingerprint, line)`;
/// `finish(fingerprint, row)`.
pub struct HostJournal<H> {
    caller: Caller<H>,
}

impl<H: HostObject> HostJournal<H> {
    /// Wraps `host`; fails with [`IssueCode::HostMethodMissing`] when a method is missing.
    pub fn new(host: H, naming: Naming) -> Result<HostJournal<H>, Error> {
        Ok(HostJournal {
            caller: Caller::new(host, naming, "journal", &["load", "begin", "finish"])?,
        })
    }
}

impl<H: HostObject> Journal for HostJournal<H> {
    fn load(&mut self, fingerprint: &str) -> Result<BTreeMap<u32, JournalEntry>, HostError> {
        let reply = self.caller.call("load", vec![json!(fingerprint)])?;
        let fail = |d| self.caller.invalid("load", d);
        let map = match reply {
            Value::Null => return Ok(BTreeMap::new()),
            other => read::object(other, "a mapping from line to row", &fail)?,
        };
        map.into_iter()
            .map(|(line, row)| {
                let line: u32 = line
                    .parse()
                    .map_err(|_| fail(format!("gave {line:?} as a line number")))?;
                let entry = match row {
                    Value::Null => JournalEntry::Begun,
                    // Begun, and the id `created` recorded for the row's new user.
                    id @ (Value::String(_) | Value::Number(_)) => JournalEntry::Created(UserId(
                        read::id(Some(id), "the created user's id", &fail)?,
                    )),
                    row => JournalEntry::Finished(
                        serde_json::from_value::<ResultRow>(row)
                            .map_err(|e| fail(format!("gave a row that cannot be read: {e}")))?,
                    ),
                };
                Ok((line, entry))
            })
            .collect()
    }

    fn begin(&mut self, fingerprint: &str, line: u32) -> Result<(), HostError> {
        let args = vec![json!(fingerprint), json!(line)];
        self.caller.call("begin", args).map(drop)
    }

    fn finish(&mut self, fingerprint: &str, row: &ResultRow) -> Result<(), HostError> {
        let row = serde_json::to_value(row)
            .map_err(|e| HostError::permanent(format!("a result row cannot be written: {e}")))?;
        self.caller
            .call("finish", vec![json!(fingerprint), row])
            .map(drop)
    }

    /// Optional: a journal without `created` records nothing, and never adopts a user on
    /// resuming.
    fn created(&mut self, fingerprint: &str, line: u32, user: &UserId) -> Result<(), HostError> {
        let args = vec![json!(fingerprint), json!(line), json!(user.0)];
        self.caller.call_optional("created", args).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Script(Vec<(String, Vec<Value>)>, Value);

    impl HostObject for Script {
        fn has_method(&mut self, method: &str) -> bool {
            !method.contains("checkpoint") && !method.contains("flush")
        }
        fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
            self.0.push((method.to_owned(), args));
            Ok(self.1.clone())
        }
    }

    #[test]
    fn names_convert_both_ways() {
        assert_eq!(Naming::Camel.name("find_users"), "findUsers");
        assert_eq!(Naming::Camel.name("all_group_names"), "allGroupNames");
        assert_eq!(snake("passwordHash"), "password_hash");
        let value = json!({"first_name": "A", "nested": [{"force_password_reset": true}]});
        let round = Naming::Camel.keys_in(Naming::Camel.keys_out(value.clone()));
        assert_eq!(round, value);
    }

    #[test]
    fn camel_host_gets_camel_keys() {
        let mut store = HostStore::new(Script(Vec::new(), json!("9")), Naming::Camel).unwrap();
        let user = NewUser {
            email: "a@x.com".into(),
            profile: Profile {
                first_name: Some("A".into()),
                ..Profile::default()
            },
            password_hash: Some(PasswordHash::from_phc("$argon2id$x")),
            login_method: "password".into(),
            force_password_reset: true,
        };
        assert_eq!(store.create_user(&user).unwrap().0, "9");
        let (method, args) = &store.host().0[0];
        assert_eq!(method, "createUser");
        assert_eq!(args[0]["forcePasswordReset"], json!(true));
        assert_eq!(args[0]["profile"]["firstName"], json!("A"));
        store.checkpoint().unwrap();
        assert_eq!(store.host().0.len(), 1, "checkpoint is optional and absent");
    }

    #[test]
    fn null_where_a_list_is_due_is_an_invalid_reply() {
        let mut store = HostStore::new(Script(Vec::new(), Value::Null), Naming::Snake).unwrap();
        let e = store.find_users(&["a@x.com"]).unwrap_err();
        assert_eq!(e.code(), Some(IssueCode::InvalidHostReply));
        assert!(e.message().contains("store.find_users"), "{}", e.message());
    }
}
