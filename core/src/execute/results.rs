//! What execution did, row by row, exportable as CSV (formula-safe) and JSON.
//!
//! The data (and its JSON) holds codes and typed operations only; English appears when it
//! is rendered ([`Results::to_csv`], [`Done::describe`], `Display` of [`ResultError`]).

use crate::error::{Error, ErrorKind};
use crate::host::mailer::MessageKind;
use crate::host::store::{ContentRef, Profile, UserId};
use crate::issue::{Issue, IssueCode};
use crate::plan::ShardRef;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// The user was created.
    Created,
    /// The existing user was changed.
    Updated,
    /// Nothing to do.
    Unchanged,
    /// The row was left out by the plan.
    Rejected,
    /// A store or mailer error, a cancellation, or the re-check before writing (the plan no
    /// longer holds for this row) stopped the row; the error's code says which.
    Failed,
}

impl Status {
    /// `created`, `updated`, `unchanged`, `rejected` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::Rejected => "rejected",
            Status::Failed => "failed",
        }
    }
}

/// The outcome of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The line where the record starts.
    pub line: u32,
    /// The email as written in the file.
    pub email: String,
    /// What happened.
    pub status: Status,
    /// The user's id, when known.
    pub user_id: Option<UserId>,
    /// What was done, in order.
    pub done: Vec<Done>,
    /// Why the row was rejected or failed.
    pub error: Option<ResultError>,
}

/// One operation execution performed on a row, as data: `{"op":"create_user"}`,
/// `{"op":"add_to_group","group":"Sales"}`, `{"op":"enrol","content":{"kind":"course","id":"c1"}}`,
/// `{"op":"send_email","kind":"welcome"}`...
///
/// It records what was there before, so that the upload can be undone
/// ([`plan_undo`](crate::plan_undo)): the profile values it replaced, and `already` on a
/// group or enrolment change the store already had when the row was written (then undo
/// leaves it), and `already` on a suspension or reactivation the store already had. Never a
/// password or a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Done {
    /// The user was created (with its password).
    CreateUser,
    /// Resuming: the user that an interrupted run created was found again (its password is
    /// then set anew: a `set_password` follows).
    RecoverUser,
    /// The plan's profile changes were written.
    UpdateProfile {
        /// The values written.
        #[serde(default)]
        changes: Box<Profile>,
        /// The values they replaced (`""` for a field that was empty); `null` when they are
        /// not known (the row was interrupted and resumed: the first run may have written
        /// them already), and undo then leaves those fields.
        #[serde(default)]
        before: Option<Box<Profile>>,
    },
    /// The password was set.
    SetPassword,
    /// A sign-in link was issued (its digest and expiry stored; the link itself is only in
    /// the email that follows).
    Invite,
    /// Undo: the sign-in links the undone upload issued to the user were revoked.
    RevokeInvitations,
    /// Added to the group (by name).
    AddToGroup {
        /// The group's name.
        group: String,
        /// The user was already a member when the row was written.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        already: bool,
    },
    /// Removed from the group (by name).
    RemoveFromGroup {
        /// The group's name.
        group: String,
        /// The user was already not a member when the row was written.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        already: bool,
    },
    /// Enrolled.
    Enrol {
        /// The item.
        content: ContentRef,
        /// The user was already enrolled when the row was written.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        already: bool,
    },
    /// The email was handed to the mailer.
    SendEmail {
        /// `welcome` or `password_changed`.
        kind: MessageKind,
    },
    /// The user's login method was changed.
    SetLoginMethod {
        /// The method set.
        method: String,
        /// The method before (`None`: not known, the row was resumed).
        #[serde(default)]
        before: Option<String>,
    },
    /// The suspended user was reactivated.
    ReactivateUser {
        /// The user was already active when the row was written (then undo leaves it).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        already: bool,
    },
    /// The user was suspended (missing from the file, or by an undo).
    SuspendUser {
        /// The user was already suspended when the row was written (then undo leaves it).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        already: bool,
    },
    /// Undo: the user was deleted.
    DeleteUser,
    /// Undo: the enrolment was withdrawn.
    Withdraw {
        /// The item.
        content: ContentRef,
    },
}

impl ResultRow {
    /// What was done, in English, `; `-separated (the results CSV's `done` cell).
    pub fn done_text(&self) -> String {
        self.done
            .iter()
            .map(Done::describe)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The error as text (`code: message`), or empty (the results CSV's `error` cell).
    pub fn error_text(&self) -> String {
        self.error
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

impl Done {
    /// The operation in English, for rendered output ("added to group Sales").
    pub fn describe(&self) -> String {
        match self {
            Done::CreateUser => "created".into(),
            Done::RecoverUser => "found again (resumed)".into(),
            Done::UpdateProfile { .. } => "profile updated".into(),
            Done::SetPassword => "password set".into(),
            Done::Invite => "sign-in link issued".into(),
            Done::RevokeInvitations => "sign-in links revoked".into(),
            Done::AddToGroup { group, .. } => format!("added to group {group}"),
            Done::RemoveFromGroup { group, .. } => format!("removed from group {group}"),
            Done::Enrol { content, .. } => format!("enrolled in {content}"),
            Done::SendEmail { kind } => format!("emailed {}", kind.as_str()),
            Done::SetLoginMethod { method, .. } => format!("login method set to {method}"),
            Done::ReactivateUser { .. } => "reactivated".into(),
            Done::SuspendUser { .. } => "suspended".into(),
            Done::DeleteUser => "deleted".into(),
            Done::Withdraw { content } => format!("withdrawn from {content}"),
        }
    }
}

/// Why a row was rejected or failed (or the confirmation email was not sent): a stable code
/// and a message. A rejected row's error is its first error issue; its other error issues
/// follow in `more`, in order.
///
/// Codes: a rejected row's issue codes (`invalid_email`, `protected_user`, ...);
/// `cancelled`; `store_failed`, `mailer_failed` (the message is the host's); the re-check's
/// `stale_plan`, `user_now_protected`, `user_exists_now`, `group_gone`, `content_gone`;
/// `invalid_plan` for a row whose operations cannot be carried out as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultError {
    /// The stable code.
    pub code: IssueCode,
    /// What happened, for people.
    pub message: String,
    /// A rejected row's further errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<ResultError>,
}

impl ResultError {
    /// An error with a code and a message.
    pub fn new(code: IssueCode, message: impl Into<String>) -> ResultError {
        ResultError {
            code,
            message: message.into(),
            more: Vec::new(),
        }
    }

    /// The error issues of a rejected row, the first one leading; `None` if it has none.
    pub(crate) fn from_issues(issues: &[Issue]) -> Option<ResultError> {
        let mut errors = issues
            .iter()
            .filter(|i| i.is_error())
            .map(|i| ResultError::new(i.code, i.message.clone()));
        let mut first = errors.next()?;
        first.more = errors.collect();
        Some(first)
    }
}

impl fmt::Display for ResultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)?;
        for other in &self.more {
            write!(f, "; {other}")?;
        }
        Ok(())
    }
}

/// Counts of an execution.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ResultSummary {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub failed: u64,
    pub emails_sent: u64,
    /// Rows skipped because a journal said an earlier run finished them.
    pub resumed: u64,
    /// Users suspended (missing from the file, or created by the upload an undo reversed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suspended: u64,
    /// Users deleted (an undo).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deleted: u64,
    /// Suspended users reactivated.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reactivated: u64,
    /// Users whose login method was changed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub login_methods_changed: u64,
}

/// Counts that results without them leave out (their JSON keeps the bytes it had).
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ResultSummary {
    pub(crate) fn count(&mut self, row: &ResultRow) {
        self.rows += 1;
        match row.status {
            Status::Created => self.created += 1,
            Status::Updated => self.updated += 1,
            Status::Unchanged => self.unchanged += 1,
            Status::Rejected => self.rejected += 1,
            Status::Failed => self.failed += 1,
        }
        for done in &row.done {
            match done {
                Done::SuspendUser { .. } => self.suspended += 1,
                Done::DeleteUser => self.deleted += 1,
                Done::ReactivateUser { .. } => self.reactivated += 1,
                Done::SetLoginMethod { .. } => self.login_methods_changed += 1,
                _ => {}
            }
        }
    }

    /// `(name, count)` pairs for the confirmation email (the suspensions, deletions,
    /// reactivations and login method changes only when there are some).
    pub fn pairs(&self) -> Vec<(String, u64)> {
        [
            ("rows", self.rows),
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("rejected", self.rejected),
            ("failed", self.failed),
            ("emails sent", self.emails_sent),
        ]
        .into_iter()
        .chain(
            [
                ("suspended", self.suspended),
                ("deleted", self.deleted),
                ("reactivated", self.reactivated),
                ("login methods changed", self.login_methods_changed),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0),
        )
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// The results of [`execute`](crate::execute).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Results {
    /// The fingerprint of the plan that was executed.
    pub fingerprint: String,
    /// Counts.
    pub summary: ResultSummary,
    /// One entry per row, in file order.
    pub rows: Vec<ResultRow>,
    /// Whether execution was cancelled before the end (the rest of the rows are `failed`
    /// with the code `cancelled`; executing the plan again finishes them).
    pub cancelled: bool,
    /// Why the confirmation email to the uploader was not sent, if it was not
    /// (`mailer_failed`).
    pub confirmation_error: Option<ResultError>,
    /// Set when the plan executed was a shard: which one (for [`Results::merge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRef>,
    /// Whether the uploader's confirmation was left to the finalising job: true for a shard,
    /// whose confirmation is sent once for all shards by [`Results::send_confirmation`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirmation_deferred: bool,
    /// Set when the plan executed was an undo: the fingerprint of the upload it reversed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_of: Option<String>,
    /// Where these results come from, as far as the engine can vouch: never serialised, so
    /// results read back are [`Provenance::unverified`] unless their signature was checked
    /// ([`Results::from_signed_json`]). Results built by hand take `Default::default()`.
    #[serde(skip)]
    pub provenance: Provenance,
}

/// Whether the engine itself vouches for a [`Results`]: made by [`execute`](crate::execute)
/// in this process, read back with a verified signature ([`Results::from_signed_json`]), or
/// merged from such results. Results read with [`Results::from_json`] (or built by hand) are
/// unverified, and [`plan_undo`](crate::plan_undo) refuses them unless the host says they
/// come from storage only it can write
/// ([`UndoOptions::results_from_trusted_storage`](crate::UndoOptions::results_from_trusted_storage)).
///
/// It is never part of the results' JSON (an attacker who edits results cannot set it), and
/// two results that say the same thing are equal whatever their provenance.
#[derive(Debug, Clone, Copy, Default)]
pub struct Provenance {
    verified: bool,
}

impl Provenance {
    /// Results the engine cannot vouch for (the default).
    pub fn unverified() -> Provenance {
        Provenance { verified: false }
    }
    /// Made by `execute` in this process, or read back with a verified signature.
    pub(crate) fn verified() -> Provenance {
        Provenance { verified: true }
    }
    /// Whether the engine vouches for the results.
    pub fn is_verified(self) -> bool {
        self.verified
    }
}

impl PartialEq for Provenance {
    /// Results are compared by what they say, not by where they come from.
    fn eq(&self, _: &Provenance) -> bool {
        true
    }
}

impl Eq for Provenance {}

impl Results {
    /// The results as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Results read back from [`Results::to_json`] — as a finalising job does with the
    /// results its shard jobs stored, before [`Results::merge`]. The summary is recounted
    /// from the rows; results whose stated summary disagrees are refused
    /// ([`IssueCode::InvalidResults`]), like results that cannot be read.
    ///
    /// ```
    /// # use lms_bulk_upload::Results;
    /// let e = Results::from_json("{}").unwrap_err();
    /// assert_eq!(e.code().as_str(), "invalid_results");
    /// ```
    pub fn from_json(json: &str) -> Result<Results, Error> {
        // Straight from the text (no intermediate JSON tree: results can be large).
        let results: Results = serde_json::from_str(json).map_err(|e| invalid_results(&e))?;
        results.recounted()
    }

    /// The checks of [`Results::from_json`] on parsed JSON; the results are unverified.
    pub(crate) fn from_value(value: serde_json::Value) -> Result<Results, Error> {
        let results: Results = serde_json::from_value(value).map_err(|e| invalid_results(&e))?;
        results.recounted()
    }

    /// These results, if their summary is the count of their rows.
    fn recounted(self) -> Result<Results, Error> {
        let results = self;
        let invalid = |why: String| Error::new(ErrorKind::Plan, IssueCode::InvalidResults, why);
        let mut recounted = ResultSummary {
            emails_sent: results.summary.emails_sent,
            resumed: results.summary.resumed,
            ..ResultSummary::default()
        };
        for row in &results.rows {
            recounted.count(row);
        }
        if recounted != results.summary {
            return Err(invalid(
                "the results' summary does not match their rows".to_owned(),
            ));
        }
        Ok(results)
    }

    /// The results as CSV (`line,email,status,user_id,done,error`), in English: every cell
    /// quoted, and every cell that a spreadsheet could run as a formula (its first
    /// non-space character is `=`, `+`, `-`, `@`, tab, CR, LF or NUL) prefixed with `'`.
    ///
    /// ```
    /// use lms_bulk_upload::{IssueCode, ResultError, ResultRow, Results, Status};
    /// let results = Results {
    ///     fingerprint: String::new(),
    ///     summary: Default::default(),
    ///     rows: vec![ResultRow {
    ///         line: 2, email: "=HYPERLINK(\"http://evil\")@x.com".into(), status: Status::Failed,
    ///         user_id: None, done: vec![],
    ///         error: Some(ResultError::new(IssueCode::StoreFailed, " -oops")),
    ///     }],
    ///     cancelled: false,
    ///     confirmation_error: None,
    ///     shard: None,
    ///     confirmation_deferred: false,
    ///     undo_of: None,
    ///     provenance: Default::default(),
    /// };
    /// let csv = results.to_csv();
    /// assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")@x.com\""));
    /// assert!(csv.contains(",\"' -oops [store_failed]\"\r\n"));
    /// ```
    pub fn to_csv(&self) -> String {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Always)
            .from_writer(Vec::new());
        let _ = writer.write_record(["line", "email", "status", "user_id", "done", "error"]);
        for row in &self.rows {
            let line = row.line.to_string();
            let user = row.user_id.as_ref().map_or("", |u| u.0.as_str());
            let (done, error) = (row.done_text(), row.error_text());
            let cells = [
                line.as_str(),
                &row.email,
                row.status.as_str(),
                user,
                &done,
                &error,
            ];
            let _ = writer.write_record(cells.map(neutralise).iter().map(|c| c.as_ref()));
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

fn invalid_results(e: &serde_json::Error) -> Error {
    Error::new(
        ErrorKind::Plan,
        IssueCode::InvalidResults,
        format!("the results JSON: {e}"),
    )
}

/// Prefixes with `'` a cell that a spreadsheet could evaluate as a formula: one whose first
/// character other than a space (or another Unicode blank) is `=`, `+`, `-`, `@`, tab, CR, LF or NUL (OWASP's CSV
/// injection guidance). Quoting the cell, which [`Results::to_csv`] does for every cell, is
/// the other half: a `;` or `,` inside it cannot start a new cell in any locale.
///
/// ```
/// use lms_bulk_upload::neutralise;
/// assert_eq!(neutralise("=1+2"), "'=1+2");
/// assert_eq!(neutralise("  @SUM(A1)"), "'  @SUM(A1)");
/// assert_eq!(neutralise("\0=1"), "'\0=1");
/// assert_eq!(neutralise("\u{a0}\u{3000}-1"), "'\u{a0}\u{3000}-1");
/// assert_eq!(neutralise("x;=1+2"), "x;=1+2");
/// assert_eq!(neutralise("ana@x.com"), "ana@x.com");
/// ```
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    // Spaces (and other blanks that are not triggers themselves) may come first.
    let first = cell
        .trim_start_matches(|c: char| c.is_whitespace() && !matches!(c, '\t' | '\r' | '\n'))
        .chars()
        .next();
    match first {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '\0') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}
