//! The store and the emails as the expectations see them: normalised, then compared.

use crate::compare::{known_keys, list, matches, object, show, string, Check};
use lms_bulk_upload::{email_key, Profile};
use serde_json::{json, Value};
use std::cmp::Ordering;

/// The keys of a user in `expect.store.users`: the email, the profile fields, and the rest
/// of a user's state.
fn user_keys() -> Vec<&'static str> {
    let mut keys = vec!["email"];
    keys.extend(Profile::default().fields().map(|(name, _)| name));
    keys.extend([
        "groups",
        "enrolments",
        "protected",
        "suspended",
        "login_method",
        "custom",
        "has_password",
        "force_password_reset",
        "invitations",
    ]);
    keys
}

const EMAIL_KEYS: &[&str] = &[
    "kind",
    "to",
    "subject",
    "has_password",
    "has_invitation",
    "counts",
    "text_contains",
];

/// Content order: by kind (`course` < `collection` < `campaign`), then id.
fn content_order(a: &Value, b: &Value) -> Ordering {
    let rank = |v: &Value| {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        let n = ["course", "collection", "campaign"]
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(3);
        (n, kind.to_owned(), v.get("id").map(Value::to_string))
    };
    rank(a).cmp(&rank(b))
}

fn text_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn sort_list(value: Option<&mut Value>, order: impl FnMut(&Value, &Value) -> Ordering) {
    if let Some(items) = value.and_then(Value::as_array_mut) {
        items.sort_by(order);
    }
}

/// The store state with user ids removed, users in case-insensitive email order, groups
/// sorted by name (the store's and each user's), content and enrolments by kind then id.
pub(crate) fn normalise_store(state: &Value) -> Value {
    let mut state = state.clone();
    sort_list(state.get_mut("groups"), |a, b| {
        text_of(a, "name").cmp(text_of(b, "name"))
    });
    sort_list(state.get_mut("content"), content_order);
    if let Some(users) = state.get_mut("users").and_then(Value::as_array_mut) {
        for user in users.iter_mut() {
            if let Some(map) = user.as_object_mut() {
                map.remove("id");
                // A state leaves the count out when it is 0.
                map.entry("invitations").or_insert(json!(0));
            }
            sort_list(user.get_mut("groups"), |a, b| {
                a.as_str().unwrap_or("").cmp(b.as_str().unwrap_or(""))
            });
            sort_list(user.get_mut("enrolments"), content_order);
        }
        users.sort_by_key(|u| email_key(text_of(u, "email")));
    }
    state
}

/// `expect.store` against the store after execution.
pub(crate) fn check_store(expected: &Value, actual: &Value) -> Check {
    check_store_at(expected, actual, "expect.store")
}

/// [`check_store`] for the expectation at `at` (`expect.undo.store`...).
pub(crate) fn check_store_at(expected: &Value, actual: &Value, at: &str) -> Check {
    let map = object(expected, at)?;
    known_keys(map, &["groups", "content", "users"], at)?;
    object(actual, "outcome.store")?;
    if let Some(users) = map.get("users") {
        for (i, user) in list(users, &format!("{at}.users"))?.iter().enumerate() {
            let path = format!("{at}.users[{i}]");
            let user = object(user, &path)?;
            if user.contains_key("id") {
                return Err(format!(
                    "{path}: a user's id is the store's business and is not compared; leave it out"
                ));
            }
            known_keys(user, &user_keys(), &path)?;
        }
    }
    matches(expected, &normalise_store(actual), at)
}

/// The parts of a message a secret must stay out of.
pub(crate) fn message_parts(message: &Value) -> [(&'static str, &str); 3] {
    ["subject", "text", "html"].map(|part| (part, text_of(message, part)))
}

/// The sign-in link a message carries (`fields.invitation_url`), if any.
pub(crate) fn invitation_of(message: &Value) -> Option<&str> {
    message
        .get("fields")
        .and_then(|f| f.get("invitation_url"))
        .and_then(Value::as_str)
}

/// The token in a sign-in link: its one component of 43 base64url characters.
pub(crate) fn token_of(link: &str) -> Option<&str> {
    link.split(['/', '?', '&', '=', '#']).find(|part| {
        part.len() == lms_bulk_upload::INVITATION_TOKEN_CHARS
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn password_of(message: &Value) -> Option<&str> {
    message
        .get("fields")
        .and_then(|f| f.get("password"))
        .and_then(Value::as_str)
}

/// `expect.emails` against every message the mailer received, in order.
pub(crate) fn check_emails(expected: &Value, messages: &[Value]) -> Check {
    let expected = list(expected, "expect.emails")?;
    for (i, e) in expected.iter().enumerate() {
        let path = format!("expect.emails[{i}]");
        known_keys(object(e, &path)?, EMAIL_KEYS, &path)?;
    }
    if expected.len() != messages.len() {
        let sent: Vec<String> = messages
            .iter()
            .map(|m| format!("{} to {}", text_of(m, "kind"), text_of(m, "to")))
            .collect();
        return Err(format!(
            "expect.emails: expected {} messages, got {}: {sent:?}",
            expected.len(),
            messages.len()
        ));
    }
    for (i, (e, message)) in expected.iter().zip(messages).enumerate() {
        let path = format!("expect.emails[{i}]");
        let mut e = object(e, &path)?.clone();
        let text = text_of(message, "text");
        if let Some(has) = e.remove("has_password") {
            let has = has
                .as_bool()
                .ok_or_else(|| format!("{path}.has_password must be true or false"))?;
            match (password_of(message), has) {
                (Some(p), true) if !p.is_empty() && text.contains(p) => {}
                (Some(_), true) => {
                    return Err(format!(
                        "{path}: the message has a password field, but its text does not contain it"
                    ))
                }
                (None, false) => {}
                (Some(_), false) => {
                    return Err(format!(
                        "{path}: has_password false, but the message has a password"
                    ))
                }
                (None, true) => {
                    return Err(format!(
                        "{path}: has_password true, but the message has no password"
                    ))
                }
            }
        }
        if let Some(has) = e.remove("has_invitation") {
            let has = has
                .as_bool()
                .ok_or_else(|| format!("{path}.has_invitation must be true or false"))?;
            match (invitation_of(message), has) {
                (None, false) => {}
                (Some(_), false) => {
                    return Err(format!(
                        "{path}: has_invitation false, but the message carries a sign-in link"
                    ))
                }
                (None, true) => {
                    return Err(format!(
                        "{path}: has_invitation true, but the message has no sign-in link"
                    ))
                }
                (Some(link), true) => {
                    if token_of(link).is_none() {
                        return Err(format!("{path}: the sign-in link {link:?} holds no token"));
                    }
                    // In the HTML body the link is HTML-escaped (`&` as `&amp;`).
                    let escaped = link.replace('&', "&amp;");
                    if !text.contains(link) || !text_of(message, "html").contains(&escaped) {
                        return Err(format!(
                            "{path}: the message's text or html does not contain its sign-in link"
                        ));
                    }
                    if password_of(message).is_some() {
                        return Err(format!(
                            "{path}: a message with a sign-in link carries a password too"
                        ));
                    }
                }
            }
        }
        if let Some(needles) = e.remove("text_contains") {
            let needles = list(&needles, &format!("{path}.text_contains"))?;
            for needle in needles {
                let needle = string(needle, &format!("{path}.text_contains"))?;
                if !text.contains(needle) {
                    let mut shown = match password_of(message).filter(|p| !p.is_empty()) {
                        Some(p) => text.replace(p, "[password]"),
                        None => text.to_owned(),
                    };
                    if let Some(token) = invitation_of(message).and_then(token_of) {
                        shown = shown.replace(token, "[token]");
                    }
                    return Err(format!(
                        "{path}: the text does not contain {needle:?}: {}",
                        show(&json!(shown))
                    ));
                }
            }
        }
        let fields = message.get("fields");
        let view = json!({
            "kind": message.get("kind"),
            "to": message.get("to"),
            "subject": message.get("subject"),
            "counts": fields.and_then(|f| f.get("counts")).cloned().unwrap_or(json!({})),
        });
        matches(&Value::Object(e), &view, &path)?;
    }
    Ok(())
}
