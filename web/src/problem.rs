//! RFC 9457 problem details: every refusal of the API, with its code.

use crate::http::Response;
use serde_json::{json, Value};

/// The API's own codes, with their status (the engine's codes are listed by
/// `lms_bulk_upload::issue_codes`).
pub const API_CODES: &[(&str, u16, &str)] = &[
    ("unauthenticated", 401, "no session, or an expired one"),
    ("invalid_credentials", 401, "wrong email or password"),
    ("too_many_attempts", 429, "sign-in attempts rate-limited"),
    ("csrf_failed", 403, "missing or wrong X-CSRF-Token"),
    ("cross_origin", 403, "the request came from another origin"),
    ("not_found", 404, "no such upload, plan, run or page"),
    ("method_not_allowed", 405, "the route does not take this method"),
    ("body_too_large", 413, "the body is larger than the route takes"),
    ("unsupported_media_type", 415, "the route takes another content type"),
    ("invalid_request", 400, "malformed JSON, a wrong type or a bad query parameter"),
    ("unknown_field", 400, "a field the route does not know"),
    ("plan_already_approved", 409, "a plan is run once"),
    ("plan_outdated", 409, "the upload changed after the plan was made"),
    ("run_not_running", 409, "cancel of a run that has ended"),
    ("already_undone", 409, "a run is undone once"),
    ("undo_unfinished", 409, "an undo of this run is unfinished"),
    ("run_unfinished", 409, "the run has not finished: it cannot be undone yet"),
    ("default_password_lost", 409, "the server restarted since the plan was made: the default password it was given is gone; make the plan again"),
    ("host_failed", 500, "the database or the mail transport failed"),
];

/// A refusal: status, code, message, and the engine's issues when it has them.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The code (`unauthenticated`, or the engine's `invalid_email`...).
    pub code: String,
    /// What went wrong, for a person.
    pub detail: String,
    /// The engine's issues, when there are.
    pub issues: Option<Box<Value>>,
    /// Seconds before trying again (429).
    pub retry_after: Option<u64>,
    /// The methods allowed (405).
    pub allow: Option<Box<str>>,
}

impl Problem {
    /// A problem with one of the API's own codes (its status from [`API_CODES`]).
    pub fn new(code: &str, detail: impl Into<String>) -> Problem {
        let status = API_CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or(400, |(_, s, _)| *s);
        Problem {
            status,
            code: code.to_owned(),
            detail: detail.into(),
            issues: None,
            retry_after: None,
            allow: None,
        }
    }

    /// An engine refusal: 422 with the engine's code, or 500 when the store or mailer failed.
    pub fn engine(e: &lms_bulk_upload::Error) -> Problem {
        use lms_bulk_upload::ErrorKind;
        let status = match e.kind() {
            ErrorKind::Store | ErrorKind::Mailer => 500,
            _ => 422,
        };
        let issue = crate::views::issue_json(e.issue(), None);
        Problem {
            status,
            code: e.code().as_str().to_owned(),
            detail: e.message().to_owned(),
            issues: Some(Box::new(json!([issue]))),
            retry_after: None,
            allow: None,
        }
    }

    /// With an `Allow` header (405).
    pub fn with_allow(mut self, allowed: &str) -> Problem {
        self.allow = Some(allowed.into());
        self
    }

    /// The response.
    pub fn response(&self) -> Response {
        let title = API_CODES
            .iter()
            .find(|(c, _, _)| *c == self.code)
            .map_or("the engine refused the request", |(_, _, t)| *t);
        let mut body = json!({
            "type": format!("/problems/{}", self.code),
            "title": title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        });
        if let Some(issues) = &self.issues {
            body["issues"] = (**issues).clone();
        }
        let mut response = Response::new(self.status, "application/problem+json", body.to_string());
        if let Some(seconds) = self.retry_after {
            response = response.with_header("retry-after", seconds.to_string());
        }
        if let Some(allowed) = &self.allow {
            response = response.with_header("allow", allowed.to_string());
        }
        if self.status == 401 {
            response = response.with_header("www-authenticate", "Session");
        }
        response
    }
}
