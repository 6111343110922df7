//! A host's own mailer (a JavaScript object with `send(message)`), and messages as JSON.

use crate::store::Bridge;
use lms_bulk_upload::{HostError, Mailer, Message};
use serde_json::{json, Map, Value};

/// A message as JavaScript sees it (camelCase keys). The generated password, when there is
/// one, is in `fields.password` and in the bodies: the mailer is where it must go.
pub(crate) fn message_json(message: &Message) -> Value {
    let f = &message.fields;
    let counts: Map<String, Value> = f
        .counts
        .iter()
        .map(|(name, count)| (name.clone(), json!(count)))
        .collect();
    json!({
        "kind": message.kind.as_str(),
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "fields": {
            "firstName": f.first_name,
            "lastName": f.last_name,
            "login": f.login,
            "siteUrl": f.site_url,
            "password": f.password.as_ref().map(|p| p.expose()),
            "resultsUrl": f.results_url,
            "counts": counts,
        },
    })
}

/// The [`Mailer`] of a host object, reached through a bridge.
pub(crate) struct HostMailer {
    pub(crate) bridge: Bridge,
}

impl Mailer for HostMailer {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        // Sent as-is: `call` would camelize keys, and the count names are data.
        crate::store::call_raw(&self.bridge, "send", json!([message_json(message)])).map(drop)
    }
}
