//! What people read: the issues table, plan and results summaries. Colour only on a terminal
//! (anstream strips the styles otherwise, and honours NO_COLOR).

use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use lms_bulk_upload::{
    Action, FileReport, Issue, IssueCode, Plan, ResultRow, Results, Severity, Status, Upload,
};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// The header cells as written in the file, by the column (or profile field) they were
/// read as: issues name the column as the administrator wrote it. Set once, after the file
/// is parsed; core's issues keep the canonical name (`emailaddress`), for machines.
static HEADERS: OnceLock<BTreeMap<String, String>> = OnceLock::new();

/// Remembers how the file names its columns, for the issues shown after.
pub fn set_headers(upload: &Upload) {
    let mut map = BTreeMap::new();
    for cell in upload.header() {
        let name = match (&cell.column, &cell.field) {
            (_, Some(field)) => field.clone(),
            (Some(column), None) => column.as_str().to_owned(),
            (None, None) => continue,
        };
        map.entry(name).or_insert_with(|| cell.header.clone());
    }
    let _ = HEADERS.set(map);
}

/// The column of an issue as the file writes it (the canonical name without a file).
pub fn column_as_written(column: &str) -> &str {
    HEADERS
        .get()
        .and_then(|m| m.get(column))
        .filter(|h| !h.is_empty())
        .map_or(column, String::as_str)
}

/// A row that was never started: the run was interrupted (Ctrl-C) before it.
pub fn not_run(row: &ResultRow) -> bool {
    row.status == Status::Failed
        && row
            .error
            .as_ref()
            .is_some_and(|e| e.code == IssueCode::Cancelled)
}

/// Whether a character must not reach a terminal as it is: C0 and C1 controls and DEL
/// (escape sequences, bell, backspace, carriage return...), bidirectional formatting
/// characters (which reorder what is shown) and the Unicode line and paragraph separators.
fn unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

/// Text from outside the program (cells, rejected values, header names, messages that
/// quote them, paths) as it may be shown on a terminal: every character of
/// [`unsafe_for_terminal`] written as a visible `\u{1b}` escape instead. Every value the CLI
/// prints goes through here; only its own styles (anstyle) are raw escape sequences.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_for_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_for_terminal(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`clean`], keeping line breaks: for the CLI's own multi-line messages.
pub fn clean_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| clean(line.strip_suffix('\r').unwrap_or(line)).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const YELLOW: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
const GREEN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
        _ => BOLD,
    }
}

/// Prints the issues as a table: line, column, code, message.
pub fn issues_table(issues: &[&Issue]) {
    if issues.is_empty() {
        return;
    }
    let line_w = issues
        .iter()
        .map(|i| i.line.map_or(1, |l| l.to_string().len()))
        .max()
        .unwrap_or(4)
        .max(4);
    let col_w = issues
        .iter()
        .map(|i| {
            i.column
                .as_deref()
                .map_or(1, |c| clean(column_as_written(c)).chars().count())
        })
        .max()
        .unwrap_or(6)
        .clamp(6, 24);
    let code_w = issues
        .iter()
        .map(|i| i.code.as_str().len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{BOLD}{:>line_w$}  {:<col_w$}  {:<code_w$}  MESSAGE{BOLD:#}",
        "LINE", "COLUMN", "CODE"
    );
    for issue in issues {
        let line = issue.line.map_or("-".to_owned(), |l| l.to_string());
        let column: String = clean(issue.column.as_deref().map_or("-", column_as_written))
            .chars()
            .take(24)
            .collect();
        let style = severity_style(issue.severity);
        println!(
            "{:>line_w$}  {:<col_w$}  {style}{:<code_w$}{style:#}  {}",
            line,
            column,
            issue.code.as_str(),
            clean(&issue.message)
        );
    }
}

fn count(issues: &[&Issue], severity: Severity) -> usize {
    issues.iter().filter(|i| i.severity == severity).count()
}

fn plural(n: impl Into<u64>, word: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `validate`: the issues and one summary line.
pub fn file_report(name: &str, report: &FileReport) {
    let issues: Vec<&Issue> = report.issues.iter().collect();
    issues_table(&issues);
    if !issues.is_empty() {
        println!();
    }
    let rejected = report.rows - report.valid_rows;
    let (errors, warnings) = (
        count(&issues, Severity::Error),
        count(&issues, Severity::Warning),
    );
    let style = if rejected > 0 { RED } else { GREEN };
    // A spreadsheet has a sheet, not an encoding or a delimiter.
    let read_as = match &report.sheet {
        Some(sheet) => format!("sheet {:?}", clean(sheet)),
        None => format!(
            "{} encoding, delimiter {:?}",
            report.encoding.as_str(),
            report.delimiter
        ),
    };
    println!(
        "{BOLD}{}{BOLD:#}: {} ({read_as}): {style}{} valid, {} with errors{style:#}; {}, {}",
        clean(name),
        plural(report.rows as u64, "row"),
        report.valid_rows,
        rejected,
        plural(errors as u64, "error"),
        plural(warnings as u64, "warning"),
    );
}

/// Every issue of a plan, file-level first, then by line (the rows read a block at a time,
/// not each decoded whole).
pub fn plan_issues(plan: &Plan) -> Vec<Issue> {
    let mut issues = plan.file_issues().to_vec();
    plan.rows().for_each_block(|_, block| {
        issues.extend(block.iter().flat_map(|r| r.issues.iter().cloned()));
    });
    issues
}

/// `plan`, `apply` and `undo`: the issues, optionally every row, and the counts.
pub fn plan_summary(plan: &Plan, rows: bool) {
    let issues = plan_issues(plan);
    issues_table(&issues.iter().collect::<Vec<_>>());
    if !issues.is_empty() {
        println!();
    }
    if rows {
        for row in plan.rows() {
            let style = match row.action {
                Action::Create => GREEN,
                Action::Update => BOLD,
                Action::Unchanged => DIM,
                Action::Rejected => RED,
                _ => BOLD,
            };
            println!(
                "{:>6}  {style}{:<9}{style:#}  {}  {DIM}{} operation(s){DIM:#}",
                row.line,
                row.action.as_str(),
                clean(&row.email),
                row.operations.len()
            );
        }
        println!();
    }
    let s = plan.summary();
    if let Some(undone) = plan.undo_of() {
        println!(
            "{BOLD}Undo plan{BOLD:#} {DIM}{} (undoes {}){DIM:#}",
            clean(plan.fingerprint()),
            clean(undone.get(..19).unwrap_or(undone))
        );
        println!(
            "  rows {}: {} to change, {} left as they are, {}{} rejected{:#}",
            s.rows,
            s.update,
            s.unchanged,
            if s.rejected > 0 { RED } else { Style::new() },
            s.rejected,
            if s.rejected > 0 { RED } else { Style::new() },
        );
        println!(
            "  users to suspend {}, to delete {}, profiles to restore {}, group removals {}, \
             group additions {}, enrolments to withdraw {}, emails {}",
            s.suspensions,
            s.deletions,
            s.profile_updates,
            s.group_removals,
            s.group_additions,
            s.withdrawals,
            s.emails
        );
        if let Some(line) = counts(&[
            ("users to reactivate", s.reactivations),
            ("login methods to restore", s.login_method_changes),
        ]) {
            println!("  {line}");
        }
        if s.warnings > 0 {
            println!(
                "  {YELLOW}{} (not undoable, or changed since: left as they are){YELLOW:#}",
                plural(s.warnings, "warning")
            );
        }
        return;
    }
    println!(
        "{BOLD}Plan{BOLD:#} {DIM}{}{DIM:#}",
        clean(plan.fingerprint())
    );
    println!(
        "  rows {}: {GREEN}{} to create{GREEN:#}, {} to update, {} unchanged, {}{} rejected{:#}",
        s.rows,
        s.create,
        s.update,
        s.unchanged,
        if s.rejected > 0 { RED } else { Style::new() },
        s.rejected,
        if s.rejected > 0 { RED } else { Style::new() },
    );
    println!(
        "  passwords to set {}, profile updates {}, group additions {}, removals {}, enrolments {}, emails {}",
        s.passwords, s.profile_updates, s.group_additions, s.group_removals, s.enrolments, s.emails
    );
    if s.suspensions > 0 {
        println!(
            "  {YELLOW}users to suspend {} (not in the file){YELLOW:#}",
            s.suspensions
        );
    }
    if let Some(line) = counts(&[
        ("users to reactivate", s.reactivations),
        ("login method changes", s.login_method_changes),
    ]) {
        println!("  {line}");
    }
    if s.warnings > 0 {
        println!("  {YELLOW}{}{YELLOW:#}", plural(s.warnings, "warning"));
    }
}

/// The counts that are not zero, as `name n, name n`; `None` when all are zero.
fn counts(pairs: &[(&str, u64)]) -> Option<String> {
    let shown: Vec<String> = pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    (!shown.is_empty()).then(|| shown.join(", "))
}

/// `apply` and `undo` (the `command` that resumes): the counts and the rows that failed.
pub fn results_summary(results: &Results, command: &str) {
    let failed: Vec<_> = results
        .rows
        .iter()
        .filter(|r| r.status == Status::Failed && !not_run(r))
        .collect();
    let not_run = results.rows.iter().filter(|r| not_run(r)).count() as u64;
    if !failed.is_empty() {
        println!("{BOLD}Failed rows{BOLD:#}");
        for row in failed.iter().take(50) {
            println!(
                "{:>6}  {}  {RED}{}{RED:#}",
                row.line,
                clean(&row.email),
                clean(
                    &row.error
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )
            );
        }
        if failed.len() > 50 {
            println!("  … and {} more (see the results file)", failed.len() - 50);
        }
        println!();
    }
    let s = &results.summary;
    let failed = s.failed.saturating_sub(not_run);
    let red = if failed > 0 { RED } else { Style::new() };
    let not_run = if not_run > 0 {
        format!(", {YELLOW}{not_run} not run{YELLOW:#}")
    } else {
        String::new()
    };
    println!(
        "{BOLD}Done{BOLD:#}: {}: {GREEN}{} created{GREEN:#}, {} updated, {} unchanged, {} rejected, {red}{failed} failed{red:#}{not_run}; {}",
        plural(s.rows, "row"),
        s.created,
        s.updated,
        s.unchanged,
        s.rejected,
        plural(s.emails_sent, "email"),
    );
    if let Some(line) = counts(&[
        ("deleted", s.deleted),
        ("suspended", s.suspended),
        ("reactivated", s.reactivated),
        ("login methods changed", s.login_methods_changed),
    ]) {
        println!("  users {line}");
    }
    if s.resumed > 0 {
        println!(
            "  {} already done by the interrupted run (resumed)",
            s.resumed
        );
    }
    if results.cancelled {
        println!("  {YELLOW}interrupted: run `{command}` again to finish{YELLOW:#}");
    }
    if let Some(e) = &results.confirmation_error {
        println!(
            "  {YELLOW}the confirmation email was not sent: {}{YELLOW:#}",
            clean(&e.to_string())
        );
    }
}

/// An error line on standard error.
pub fn error(message: &str) {
    eprintln!("{RED}{BOLD}error{BOLD:#}{RED:#}: {}", clean_lines(message));
}

/// A note on standard error.
pub fn note(message: &str) {
    eprintln!("{DIM}{}{DIM:#}", clean_lines(message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert!(matches!(clean("Zoë Müller, ok"), Cow::Borrowed(_)));
        assert_eq!(clean("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(clean("\u{1b}]0;title\u{7}"), "\\u{1b}]0;title\\u{7}");
        assert_eq!(clean("x\u{9b}31m"), "x\\u{9b}31m", "C1 CSI");
        assert_eq!(clean("\r\u{8}\u{7f}\0"), "\\u{d}\\u{8}\\u{7f}\\u{0}");
        assert_eq!(
            clean("abc\u{202e}gpj.exe"),
            "abc\\u{202e}gpj.exe",
            "bidi override"
        );
        assert_eq!(clean_lines("one\u{1b}\ntwo"), "one\\u{1b}\ntwo");
    }
}
