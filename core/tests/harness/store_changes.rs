//! A scenario's `store_changes`: what happens to the store between planning and execution
//! (format: `docs/scenario-format.md`). Applied to the store state as JSON; the runner then
//! executes against a store built from the result.

use serde_json::{Map, Value};

fn same_email(user: &Value, email: &str) -> bool {
    user.get("email")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case(email))
}

fn list<'a>(state: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let value = state
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !value.is_array() {
        *value = Value::Array(Vec::new());
    }
    match value {
        Value::Array(items) => items,
        _ => unreachable!("just made a list"),
    }
}

/// Applies `changes` (a list of one-key objects) to `state` (a `StoreState` as JSON).
pub(crate) fn apply(state: &Value, changes: &Value) -> Result<Value, String> {
    let mut state = state.as_object().cloned().unwrap_or_default();
    let changes = changes.as_array().ok_or("store_changes must be a list")?;
    for (i, change) in changes.iter().enumerate() {
        let here = format!("store_changes[{i}]");
        let (op, arg) = match change.as_object().map(|m| m.iter().collect::<Vec<_>>()) {
            Some(pairs) if pairs.len() == 1 => pairs[0],
            _ => return Err(format!("{here} must be an object with one key")),
        };
        let text = || {
            arg.as_str()
                .ok_or_else(|| format!("{here}.{op} must be a string"))
        };
        let object = || {
            arg.as_object()
                .ok_or_else(|| format!("{here}.{op} must be an object"))
        };
        let removed = |items: &mut Vec<Value>, keep: &dyn Fn(&Value) -> bool| {
            let before = items.len();
            items.retain(|item| keep(item));
            if items.len() == before {
                Err(format!("{here}: {op} {arg} matches nothing"))
            } else {
                Ok(())
            }
        };
        match op.as_str() {
            "remove_user" => {
                let email = text()?;
                removed(list(&mut state, "users"), &|u| !same_email(u, email))?;
            }
            "add_user" => list(&mut state, "users").push(Value::Object(object()?.clone())),
            "update_user" => {
                let fields = object()?;
                let email = fields
                    .get("email")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{here}.update_user needs an email"))?;
                let user = list(&mut state, "users")
                    .iter_mut()
                    .find(|u| same_email(u, email))
                    .and_then(Value::as_object_mut)
                    .ok_or_else(|| format!("{here}: no user {email}"))?;
                user.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            "remove_group" => {
                let name = text()?;
                removed(list(&mut state, "groups"), &|g| {
                    g.get("name").and_then(Value::as_str) != Some(name)
                })?;
            }
            "add_group" => list(&mut state, "groups").push(Value::Object(object()?.clone())),
            "remove_content" => {
                let item = Value::Object(object()?.clone());
                removed(list(&mut state, "content"), &|c| *c != item)?;
            }
            other => {
                return Err(format!(
                    "{here}: unknown change {other:?} (this runner understands remove_user, \
                     add_user, update_user, remove_group, add_group, remove_content)"
                ))
            }
        }
    }
    Ok(Value::Object(state))
}
