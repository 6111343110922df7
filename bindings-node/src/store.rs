//! A host's own store: a JavaScript object whose methods return values or Promises.
//!
//! The engine runs on a worker thread. Each [`Store`] call goes through one
//! `ThreadsafeFunction` (the "bridge" made by `lms.js`) to the JavaScript thread, which calls
//! the host's method, awaits it if it returns a Promise, and resolves with a JSON envelope
//! `{"ok": value}` or `{"error": message, "transient": bool}`. The worker waits for it;
//! the event loop never does.

use crate::json::{camelize, id_to_string, snakify};
use crate::worker::block_on;
use lms_bulk_upload::{
    ContentRef, ExistingUser, Group, HostError, NewUser, PasswordHash, Profile, Store, UserId,
};
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// `(method, argsJson) => Promise<envelopeJson>`, made by `lms.js` around a host object.
pub(crate) type Bridge = ThreadsafeFunction<
    FnArgs<(String, String)>,
    Promise<String>,
    FnArgs<(String, String)>,
    Status,
    false,
>;

/// Calls `method` with `args` (a JSON array, camelCase keys) on the host object behind `bridge`.
pub(crate) fn call(bridge: &Bridge, method: &str, args: Value) -> Result<Value, HostError> {
    call_raw(bridge, method, camelize(args)).map(snakify)
}

/// [`call`] without key conversion.
pub(crate) fn call_raw(bridge: &Bridge, method: &str, args: Value) -> Result<Value, HostError> {
    let request = FnArgs::from((method.to_owned(), args.to_string()));
    let reply = block_on(async {
        let promise = bridge.call_async_catch(request).await?;
        promise.await
    })
    .map_err(|e| HostError::permanent(format!("{method}: {}", e.reason)))?;
    let mut envelope: Value = serde_json::from_str(&reply)
        .map_err(|e| HostError::permanent(format!("{method}: bad reply from the bridge: {e}")))?;
    if let Some(message) = envelope.get("error") {
        let message = message.as_str().unwrap_or("error").to_owned();
        let transient = envelope.get("transient").and_then(Value::as_bool) == Some(true);
        return Err(if transient {
            HostError::transient(message)
        } else {
            HostError::permanent(message)
        });
    }
    Ok(envelope
        .get_mut("ok")
        .map(Value::take)
        .unwrap_or(Value::Null))
}

fn decode<T: DeserializeOwned>(method: &str, value: Value) -> Result<T, HostError> {
    serde_json::from_value(value).map_err(|e| {
        HostError::permanent(format!("{method} returned a value of the wrong shape: {e}"))
    })
}

/// Coerces `id` fields of a list of objects to text.
fn ids_to_text(mut value: Value) -> Value {
    if let Value::Array(items) = &mut value {
        for item in items {
            if let Some(id) = item.get_mut("id") {
                id_to_string(id);
            }
        }
    }
    value
}

/// The [`Store`] of a host object, reached through a bridge.
pub(crate) struct HostStore {
    pub(crate) bridge: Bridge,
}

impl HostStore {
    fn unit(&self, method: &str, args: Value) -> Result<(), HostError> {
        call(&self.bridge, method, args).map(drop)
    }
}

impl Store for HostStore {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        let value = call(&self.bridge, "findUsers", json!([emails]))?;
        decode("findUsers", ids_to_text(null_to_list(value)))
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        let value = call(&self.bridge, "findGroups", json!([names]))?;
        decode("findGroups", ids_to_text(null_to_list(value)))
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        let value = call(&self.bridge, "findContent", json!([refs]))?;
        decode("findContent", null_to_list(value))
    }
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        let arg = json!({
            "email": user.email,
            "profile": user.profile,
            "password_hash": user.password_hash.as_str(),
            "force_password_reset": user.force_password_reset,
        });
        let mut id = call(&self.bridge, "createUser", json!([arg]))?;
        id_to_string(&mut id);
        match id {
            Value::String(id) if !id.is_empty() => Ok(UserId(id)),
            other => Err(HostError::permanent(format!(
                "createUser must return the new user's id (a string or number), not {other}"
            ))),
        }
    }
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        self.unit("updateProfile", json!([user, changes]))
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        self.unit("setPassword", json!([user, hash.as_str(), force_reset]))
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.unit("addToGroup", json!([user, group]))
    }
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        self.unit("removeFromGroup", json!([user, group]))
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        self.unit("enrol", json!([user, content]))
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        let value = call(&self.bridge, "allGroupNames", json!([]))?;
        decode("allGroupNames", null_to_list(value))
    }
    fn checkpoint(&mut self) -> Result<(), HostError> {
        self.unit("checkpoint", json!([]))
    }
}

/// `undefined`/`null` from a lookup means "none found".
fn null_to_list(value: Value) -> Value {
    if value.is_null() {
        Value::Array(Vec::new())
    } else {
        value
    }
}
