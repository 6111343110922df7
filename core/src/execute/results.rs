//! What execution did, row by row, exportable as CSV (formula-safe) and JSON.

use crate::host::store::UserId;
use serde::{Deserialize, Serialize};

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The user was created.
    Created,
    /// The existing user was changed.
    Updated,
    /// Nothing to do.
    Unchanged,
    /// The row was left out by the plan.
    Rejected,
    /// A store or mailer error (or a cancellation) stopped the row.
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
    /// What was done, in order ("created", "added to group Sales", "emailed welcome"...).
    pub done: Vec<String>,
    /// Why the row was rejected or failed.
    pub error: Option<String>,
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
    }

    /// `(name, count)` pairs for the confirmation email.
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
    /// with the error "cancelled"; executing the plan again finishes them).
    pub cancelled: bool,
    /// Why the confirmation email to the uploader was not sent, if it was not.
    pub confirmation_error: Option<String>,
}

impl Results {
    /// The results as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The results as CSV (`line,email,status,user_id,done,error`), with every cell that a
    /// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR)
    /// prefixed with `'`.
    ///
    /// ```
    /// use lms_bulk_upload::{ResultRow, Results, Status};
    /// let results = Results {
    ///     fingerprint: String::new(),
    ///     summary: Default::default(),
    ///     rows: vec![ResultRow {
    ///         line: 2, email: "=HYPERLINK(\"http://evil\")@x.com".into(), status: Status::Failed,
    ///         user_id: None, done: vec![], error: Some("-oops".into()),
    ///     }],
    ///     cancelled: false,
    ///     confirmation_error: None,
    /// };
    /// let csv = results.to_csv();
    /// assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")@x.com\""));
    /// assert!(csv.contains(",'-oops"));
    /// ```
    pub fn to_csv(&self) -> String {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let _ = writer.write_record(["line", "email", "status", "user_id", "done", "error"]);
        for row in &self.rows {
            let line = row.line.to_string();
            let user = row.user_id.as_ref().map_or("", |u| u.0.as_str());
            let done = row.done.join("; ");
            let error = row.error.as_deref().unwrap_or("");
            let cells = [
                line.as_str(),
                &row.email,
                row.status.as_str(),
                user,
                &done,
                error,
            ];
            let _ = writer.write_record(cells.map(neutralise).iter().map(|c| c.as_ref()));
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// Prefixes a cell that a spreadsheet would evaluate as a formula with `'`.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}
