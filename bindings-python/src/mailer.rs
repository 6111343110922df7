//! A host's own mailer, written in Python, as a core `Mailer`; messages as dicts; and the
//! `mailer` argument of `execute`.

use crate::memory::PyRecordingMailer;
use crate::store::HostObject;
use lms_bulk_upload::{HostError, Mailer, Message};
use pyo3::prelude::*;
use serde_json::{json, Map, Value};

/// A message as a plain value: kind, to, subject, text, html and the fields it was rendered
/// from (`password` only when one was generated; `counts` for `upload_complete`).
pub(crate) fn message_value(message: &Message) -> Value {
    let f = &message.fields;
    let mut fields = Map::new();
    fields.insert("first_name".into(), json!(f.first_name));
    fields.insert("last_name".into(), json!(f.last_name));
    fields.insert("login".into(), json!(f.login));
    fields.insert("site_url".into(), json!(f.site_url));
    if let Some(password) = &f.password {
        fields.insert("password".into(), json!(password.expose()));
    }
    fields.insert("results_url".into(), json!(f.results_url));
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

/// A host mailer written in Python: `send(message: dict)`.
pub(crate) struct HostMailer(pub(crate) HostObject);

impl Mailer for HostMailer {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        self.0
            .call("send", &[message_value(message)], false)
            .map(drop)
    }
}

/// The `mailer` argument: the native `RecordingMailer` or a Python object with `send`.
pub(crate) enum MailerArg<'py> {
    Recording(PyRefMut<'py, PyRecordingMailer>),
    Host(HostMailer),
}

impl<'py> MailerArg<'py> {
    pub(crate) fn new(obj: &Bound<'py, PyAny>) -> PyResult<MailerArg<'py>> {
        if let Ok(recording) = obj.cast::<PyRecordingMailer>() {
            return Ok(MailerArg::Recording(recording.try_borrow_mut()?));
        }
        Ok(MailerArg::Host(HostMailer(HostObject::new(
            obj,
            "mailer",
            &["send"],
        )?)))
    }

    pub(crate) fn as_mailer(&mut self) -> &mut (dyn Mailer + Send) {
        match self {
            MailerArg::Recording(m) => &mut m.inner,
            MailerArg::Host(h) => h,
        }
    }

    pub(crate) fn take_error(&mut self) -> Option<PyErr> {
        match self {
            MailerArg::Recording(_) => None,
            MailerArg::Host(h) => h.0.first_error.take(),
        }
    }
}
