//! A scripted host object built from a vector's `host` part, as every language's runner
//! builds one natively: methods listed in `missing` do not exist, each method answers with
//! its replies in order (the last one repeats; no list: null), and every call is recorded.

use lms_bulk_upload::host::{HostObject, Naming};
use lms_bulk_upload::HostError;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Every call of every host object of one run, in order: `[object, method, args]`.
pub(crate) type Log = Rc<RefCell<Vec<Value>>>;

pub(crate) struct Scripted {
    object: &'static str,
    naming: Naming,
    missing: Vec<String>,
    replies: HashMap<String, Vec<Value>>,
    used: HashMap<String, usize>,
    log: Log,
}

/// A reply's value as a binding hands it to core: `{"$bigint": "digits"}` is a native big
/// integer, which a binding gives as a number when it fits 64 bits and as a string of its
/// digits otherwise; record keys are in the host's naming.
fn native(value: &Value, naming: Naming) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$bigint") => {
            let digits = map["$bigint"].as_str().unwrap_or_default();
            match (digits.parse::<i64>(), digits.parse::<u64>()) {
                (Ok(n), _) => json!(n),
                (_, Ok(n)) => json!(n),
                _ => json!(digits),
            }
        }
        Value::Object(map) => {
            let converted: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (naming.name(k), native(v, naming)))
                .collect();
            Value::Object(converted)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| native(v, naming)).collect()),
        other => other.clone(),
    }
}

impl Scripted {
    /// The object `object` ("store", "mailer", "journal") of `host`, or `None` when the
    /// vector gives none (only the journal is optional).
    pub(crate) fn from_vector(
        host: &Value,
        object: &'static str,
        naming: Naming,
        log: &Log,
    ) -> Option<Scripted> {
        let spec = host.get(object).filter(|s| !s.is_null())?;
        let missing = spec["missing"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .map(|s| naming.name(s))
                    .collect()
            })
            .unwrap_or_default();
        let replies = spec["replies"]
            .as_object()
            .map(|r| {
                r.iter()
                    .map(|(method, list)| {
                        (
                            naming.name(method),
                            list.as_array().cloned().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Scripted {
            object,
            naming,
            missing,
            replies,
            used: HashMap::new(),
            log: Rc::clone(log),
        })
    }
}

impl HostObject for Scripted {
    fn has_method(&mut self, method: &str) -> bool {
        !self.missing.iter().any(|m| m == method)
    }

    fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        self.log
            .borrow_mut()
            .push(json!([self.object, method, args]));
        let Some(script) = self.replies.get(method).filter(|s| !s.is_empty()) else {
            return Ok(Value::Null);
        };
        let used = self.used.entry(method.to_owned()).or_default();
        let reply = &script[(*used).min(script.len() - 1)];
        *used += 1;
        match (reply.get("return"), reply.get("raise")) {
            (Some(value), _) => Ok(native(value, self.naming)),
            (None, Some(message)) => {
                let message = message.as_str().unwrap_or_default();
                Err(if reply["transient"] == json!(true) {
                    HostError::transient(message)
                } else {
                    HostError::permanent(message)
                })
            }
            (None, None) => Ok(Value::Null),
        }
    }
}
