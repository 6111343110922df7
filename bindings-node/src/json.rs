//! Key conversion between JavaScript (camelCase) and the core (snake_case).

use serde_json::{Map, Value};

/// `first_name` → `firstName`.
pub(crate) fn camel_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
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

/// `firstName` → `first_name`.
pub(crate) fn snake_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn rename(value: Value, f: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (f(&k), rename(v, f)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| rename(v, f)).collect()),
        other => other,
    }
}

/// Renames every object key of `value` to camelCase (values are left alone).
pub(crate) fn camelize(value: Value) -> Value {
    rename(value, &camel_key)
}

/// Renames every object key of `value` to snake_case (values are left alone).
pub(crate) fn snakify(value: Value) -> Value {
    rename(value, &snake_key)
}

/// Serialises `value` with camelCase keys.
pub(crate) fn to_camel_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_value(value)
        .map(camelize)
        .and_then(|v| serde_json::to_string(&v))
        .unwrap_or_default()
}

/// A host's id may be a number (an integer primary key): the core wants text.
pub(crate) fn id_to_string(value: &mut Value) {
    if let Value::Number(n) = value {
        *value = Value::String(n.to_string());
    }
}
