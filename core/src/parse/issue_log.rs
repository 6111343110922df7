//! The issues of a file as they are found, within the caps of [`ParseOptions`]: at most
//! `max_issues_per_row` listed per row and `max_issues` per file, in line order. An issue
//! past a cap is counted, never built (its message is not even formatted); one
//! `too_many_issues` warning per row and one for the file say how many were left out.
//! Whether a row is valid never depends on which of its issues are listed.

use crate::issue::{Issue, IssueCode};
use crate::parse::options::ParseOptions;

pub(super) struct IssueLog {
    /// The listed issues, in line order (file-level ones first), with the rows' markers.
    issues: Vec<Issue>,
    /// For each row marker in `issues`: its index there and how many issues it stands for.
    markers: Vec<(usize, usize)>,
    max_issues: usize,
    max_per_row: usize,
    /// Issues listed (markers not counted).
    listed: usize,
    /// Issues left out and not counted by a row's marker.
    omitted: usize,
    /// The row being read: its line, issues listed and left out, whether it has an error.
    row_line: u32,
    row_listed: usize,
    row_omitted: usize,
    row_error: bool,
}

impl IssueLog {
    pub(super) fn new(options: &ParseOptions) -> IssueLog {
        IssueLog {
            issues: Vec::new(),
            markers: Vec::new(),
            max_issues: options.max_issues,
            max_per_row: options.max_issues_per_row.max(1),
            listed: 0,
            omitted: 0,
            row_line: 0,
            row_listed: 0,
            row_omitted: 0,
            row_error: false,
        }
    }

    /// A file-level issue (encoding, header), before the rows.
    pub(super) fn file_issue(&mut self, issue: Issue) {
        if self.listed < self.max_issues {
            self.issues.push(issue);
            self.listed += 1;
        } else {
            self.omitted += 1;
        }
    }

    /// Starts the issues of the row on `line`.
    #[inline]
    pub(super) fn begin_row(&mut self, line: u32) {
        self.row_line = line;
        self.row_listed = 0;
        self.row_omitted = 0;
        self.row_error = false;
    }

    /// An issue of the current row; `message` is only called when the issue is listed.
    #[inline]
    pub(super) fn push(
        &mut self,
        code: IssueCode,
        column: Option<&str>,
        message: impl FnOnce() -> String,
    ) {
        self.row_error |= code.severity() == crate::Severity::Error;
        if self.row_listed >= self.max_per_row {
            self.row_omitted += 1;
        } else if self.listed >= self.max_issues {
            self.omitted += 1;
        } else {
            let issue = Issue::new(code, Some(self.row_line), column, message());
            self.issues.push(issue);
            self.listed += 1;
            self.row_listed += 1;
        }
    }

    /// Ends the current row: adds its marker if issues were left out; returns whether the
    /// row is valid (it had no error, listed or not).
    #[inline]
    pub(super) fn end_row(&mut self) -> bool {
        if self.row_omitted > 0 {
            self.markers.push((self.issues.len(), self.row_omitted));
            let marker = row_marker(self.row_line, self.row_omitted, self.max_per_row);
            self.issues.push(marker);
        }
        !self.row_error
    }

    /// Adds the issues of the rows that follow, found by another log (a chunk's, on
    /// another thread): as if they had been found here. Each log listed up to the caps on
    /// its own, so this one may now list more than `max_issues`; [`IssueLog::finish`]
    /// cuts the list where one log would have, and counts the rest.
    pub(super) fn append(&mut self, other: IssueLog) {
        let base = self.issues.len();
        self.markers.extend(
            other
                .markers
                .into_iter()
                .map(|(at, count)| (at + base, count)),
        );
        self.issues.extend(other.issues);
        self.listed += other.listed;
        self.omitted += other.omitted;
    }

    /// The final list: the issues found while reading, merged in line order with the
    /// `duplicate_email` issues found afterwards (`(line, message)`, by line, one per row),
    /// cut at `max_issues`, with the file's marker after the file-level issues.
    pub(super) fn finish<F: FnOnce() -> String>(
        self,
        duplicates: impl Iterator<Item = (u32, F)>,
    ) -> Vec<Issue> {
        let IssueLog {
            issues,
            markers,
            max_issues,
            max_per_row,
            mut omitted,
            ..
        } = self;
        let mut markers = markers.into_iter().peekable();
        let mut duplicates = duplicates.peekable();
        let mut out: Vec<Issue> = Vec::with_capacity(issues.len());
        let mut listed = 0usize;
        // Once an issue is cut, every later one is (the listing stops at one point).
        let mut cut = false;
        // The line of the last listed issue and how many real issues it has listed.
        let (mut last_line, mut on_line) = (None, 0usize);
        let mut issues = issues.into_iter().enumerate().peekable();
        loop {
            let next_duplicate = duplicates.peek().map(|(line, _)| *line);
            let take_issue = match (issues.peek(), next_duplicate) {
                (Some((_, issue)), Some(line)) => issue.line.is_none_or(|l| l <= line),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_issue {
                let Some((index, issue)) = issues.next() else {
                    break;
                };
                let marker = markers
                    .next_if(|&(at, _)| at == index)
                    .map(|(_, count)| count);
                match marker {
                    Some(count) if cut => omitted += count,
                    Some(_) => out.push(issue),
                    None if cut || listed >= max_issues => {
                        cut = true;
                        omitted += 1;
                    }
                    None => {
                        if last_line != issue.line {
                            (last_line, on_line) = (issue.line, 0);
                        }
                        on_line += 1;
                        listed += 1;
                        out.push(issue);
                    }
                }
                continue;
            }
            let Some((line, message)) = duplicates.next() else {
                break;
            };
            let on_this_line = if last_line == Some(line) { on_line } else { 0 };
            if cut || listed >= max_issues {
                cut = true;
                omitted += 1;
            } else if on_this_line >= max_per_row {
                // A valid row listed only warnings before: its marker goes after them.
                out.push(row_marker(line, 1, max_per_row));
            } else {
                out.push(Issue::new(
                    IssueCode::DuplicateEmail,
                    Some(line),
                    Some(crate::Column::EmailAddress.as_str()),
                    message(),
                ));
                (last_line, on_line) = (Some(line), on_this_line + 1);
                listed += 1;
            }
        }
        if omitted > 0 {
            let at = out.partition_point(|i| i.line.is_none());
            let (what, verb) = plural(omitted);
            let message = format!(
                "{omitted} more {what} {verb} not listed: only the first {max_issues} are (max_issues); fix these and check the file again"
            );
            out.insert(
                at,
                Issue::new(IssueCode::TooManyIssues, None, None, message),
            );
        }
        out
    }
}

fn row_marker(line: u32, count: usize, max_per_row: usize) -> Issue {
    let (what, verb) = plural(count);
    Issue::new(
        IssueCode::TooManyIssues,
        Some(line),
        None,
        format!("{count} more {what} on this row {verb} not listed (max_issues_per_row is {max_per_row})"),
    )
}

fn plural(count: usize) -> (&'static str, &'static str) {
    if count == 1 {
        ("issue", "is")
    } else {
        ("issues", "are")
    }
}
