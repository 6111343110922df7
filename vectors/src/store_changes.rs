//! A scenario's `store_changes`: what happens to the store between planning and execution
//! (format: `docs/scenario-format.md`), applied to the store state as data, so that every
//! language's runner executes against the same changed store.

use serde_json::{Map, Value};

fn same_email(user: &Value, email: &str) -> bool {
    user.get("email")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case(email))
}

/// Runs `f` on the list under `key` of the state (an empty one when absent or not a list).
fn with_list<T>(
    state: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&mut Vec<Value>) -> T,
) -> T {
    let mut items = match state.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let out = f(&mut items);
    state.insert(key.to_owned(), Value::Array(items));
    out
}

/// Removes the items `keep` refuses; a removal that matches nothing is an error.
fn remove(items: &mut Vec<Value>, keep: impl Fn(&Value) -> bool, what: &str) -> Result<(), String> {
    let before = items.len();
    items.retain(|item| keep(item));
    if items.len() == before {
        Err(format!("{what} matches nothing"))
    } else {
        Ok(())
    }
}

/// Applies `changes` (a list of one-key objects) to `store` (a store state as JSON, `null`
/// for an empty one) and returns the changed state.
pub(crate) fn apply(store: &Value, changes: &Value) -> Result<Value, String> {
    let mut state = store.as_object().cloned().unwrap_or_default();
    let changes = changes.as_array().ok_or("store_changes must be a list")?;
    for (i, change) in changes.iter().enumerate() {
        let here = format!("store_changes[{i}]");
        let (op, arg) = match change.as_object().map(|m| m.iter().collect::<Vec<_>>()) {
            Some(pairs) if pairs.len() == 1 => pairs[0],
            _ => return Err(format!("{here} must be an object with one key")),
        };
        let what = format!("{here}: {op} {arg}");
        let text = || {
            arg.as_str()
                .ok_or_else(|| format!("{here}.{op} must be a string"))
        };
        let object = || {
            arg.as_object()
                .cloned()
                .ok_or_else(|| format!("{here}.{op} must be an object"))
        };
        match op.as_str() {
            "remove_user" => {
                let email = text()?;
                with_list(&mut state, "users", |users| {
                    remove(users, |u| !same_email(u, email), &what)
                })?;
            }
            "add_user" => {
                let user = Value::Object(object()?);
                with_list(&mut state, "users", |users| users.push(user));
            }
            "update_user" => {
                let fields = object()?;
                let email = fields
                    .get("email")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{here}.update_user needs an email"))?;
                with_list(&mut state, "users", |users| {
                    let user = users
                        .iter_mut()
                        .find(|u| same_email(u, email))
                        .and_then(Value::as_object_mut)
                        .ok_or_else(|| format!("{here}: no user {email}"))?;
                    user.extend(fields.clone());
                    Ok::<(), String>(())
                })?;
            }
            "remove_group" => {
                let name = text()?;
                with_list(&mut state, "groups", |groups| {
                    remove(
                        groups,
                        |g| g.get("name").and_then(Value::as_str) != Some(name),
                        &what,
                    )
                })?;
            }
            "add_group" => {
                let group = Value::Object(object()?);
                with_list(&mut state, "groups", |groups| groups.push(group));
            }
            "remove_content" => {
                let item = Value::Object(object()?);
                with_list(&mut state, "content", |content| {
                    remove(content, |c| *c != item, &what)
                })?;
            }
            "lack" => {
                let method = Value::String(text()?.to_owned());
                with_list(&mut state, "lacks", |lacks| lacks.push(method));
            }
            other => {
                return Err(format!(
                    "{here}: unknown change {other:?} (the changes are remove_user, add_user, \
                     update_user, remove_group, add_group, remove_content, lack)"
                ))
            }
        }
    }
    Ok(Value::Object(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_apply_in_order_and_refuse_what_matches_nothing() {
        let store = json!({"groups": [{"id": "g1", "name": "Sales"}],
                           "users": [{"id": "u1", "email": "Ana@x.com"}]});
        let changes = json!([
            {"update_user": {"email": "ana@x.com", "protected": true}},
            {"remove_group": "Sales"},
            {"add_user": {"email": "bo@x.com"}},
            {"remove_content": {"kind": "course", "id": "c1"}}
        ]);
        let e = apply(&store, &changes).unwrap_err();
        assert!(e.starts_with("store_changes[3]: remove_content"), "{e}");
        let changes = json!(changes.as_array().unwrap()[..3]);
        let after = apply(&store, &changes).unwrap();
        assert_eq!(after["users"][0]["protected"], json!(true));
        assert_eq!(after["users"][1]["email"], json!("bo@x.com"));
        assert_eq!(after["groups"], json!([]));
        assert!(apply(&store, &json!([{"rename": 1}]))
            .unwrap_err()
            .contains("unknown change"));
    }
}
