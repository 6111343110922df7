//! Users missing from a file that lists everyone (`suspend_missing_users`): the users in
//! the uploader's scope, read page by page, that no row of the file names.

use super::{Action, Operation, PlanRow};
use crate::error::{Error, ErrorKind};
use crate::host::store::{HostError, OptionalMethod, StoreRead};
use crate::issue::{Issue, IssueCode};
use crate::parse::email::email_key;
use crate::parse::upload::Upload;
use std::collections::HashSet;

/// The largest scope read: a host whose cursor never ends, or whose pages hold more users
/// than asked for, is stopped once it has listed this many users.
const MAX_SCOPE_USERS: usize = 10_000_000;

/// One row per user in scope that the file does not name, is not protected and is not
/// suspended already: a suspension, after the file's rows (numbered after its last line),
/// in the store's order. Refused when the store cannot list its scope or suspend
/// (`host_method_missing`), or when more than `threshold` percent of the scope would be
/// suspended (`missing_users_threshold`).
pub(super) fn missing_users(
    upload: &Upload,
    store: &mut dyn StoreRead,
    threshold: u32,
    page_size: usize,
) -> Result<Vec<PlanRow>, Error> {
    for method in [OptionalMethod::ScopeUsers, OptionalMethod::SuspendUser] {
        if !store.supports(method) {
            return Err(Error::new(
                ErrorKind::Store,
                IssueCode::HostMethodMissing,
                format!(
                    "suspend_missing_users needs the store's {}, which it does not have",
                    method.method_name()
                ),
            ));
        }
    }
    // Every row's address counts, rejected rows included: a typo elsewhere on a person's
    // row must not suspend them, nor an address written in a form refused for the row
    // (`mailto:ana@x.com`, `Ana <ana@x.com>`, a trailing dot): its candidate counts too.
    let mut in_file: HashSet<String> = HashSet::new();
    for row in upload.rows() {
        let email = row.email();
        if !email.is_empty() {
            in_file.insert(email_key(email));
        }
        if let Some(candidate) = lenient_address(email) {
            in_file.insert(email_key(candidate));
        }
    }
    let mut line = upload.rows().map(|r| r.line()).max().unwrap_or(1);
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    let mut in_scope: u64 = 0;
    // Every user the store lists counts, duplicates and pages larger than asked included.
    let mut listed: usize = 0;
    let mut after: Option<String> = None;
    let page_size = page_size.max(1);
    let max_pages = MAX_SCOPE_USERS / page_size + 1;
    for _ in 0..max_pages {
        let page = store
            .scope_users(after.as_deref(), page_size)
            .map_err(|e| scope_error(&e))?;
        listed = listed.saturating_add(page.users.len());
        if listed > MAX_SCOPE_USERS {
            return Err(scope_error(&HostError::coded(
                IssueCode::InvalidHostReply,
                format!("store.scope_users listed more than {MAX_SCOPE_USERS} users"),
            )));
        }
        for user in page.users {
            let key = email_key(&user.email);
            if !seen.insert(key.clone()) {
                continue; // a user listed twice counts once
            }
            // Only users who could be suspended count towards the threshold: a protected
            // or already suspended user is never suspended by this upload.
            if user.protected || user.suspended {
                continue;
            }
            in_scope += 1;
            if in_file.contains(&key) {
                continue;
            }
            line = line.saturating_add(1);
            rows.push(PlanRow {
                line,
                email: user.email.clone(),
                first_name: user.profile.first_name.clone().unwrap_or_default(),
                last_name: user.profile.last_name.clone().unwrap_or_default(),
                action: Action::Update,
                user_id: Some(user.id.clone()),
                operations: vec![Operation::SuspendUser],
                noops: Vec::new(),
                issues: vec![Issue::new(
                    IssueCode::MissingFromFile,
                    Some(line),
                    None,
                    format!("{} is not in the file and is suspended", user.email),
                )],
            });
        }
        match page.next {
            None => {
                check_threshold(rows.len() as u64, in_scope, threshold)?;
                return Ok(rows);
            }
            Some(next) if after.as_deref() == Some(next.as_str()) => {
                return Err(scope_error(&HostError::coded(
                    IssueCode::InvalidHostReply,
                    "store.scope_users gave the same cursor again",
                )))
            }
            Some(next) => after = Some(next),
        }
    }
    Err(scope_error(&HostError::coded(
        IssueCode::InvalidHostReply,
        format!("store.scope_users did not end after {max_pages} pages"),
    )))
}

/// The address a cell refused for its form most likely means, for protection only (the
/// row stays rejected): inside `<...>`, after `mailto:`, without surrounding quotes,
/// spaces or trailing dots and commas. `None` when that leaves no `@`.
fn lenient_address(cell: &str) -> Option<&str> {
    let mut text = cell.trim();
    if let (Some(open), Some(close)) = (text.rfind('<'), text.rfind('>')) {
        if open < close {
            text = &text[open + 1..close];
        }
    }
    let text = text.trim();
    let text = match text.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &text[7..],
        _ => text,
    };
    let text = text.split('?').next().unwrap_or(text);
    let text = text
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '('))
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '.' | ',' | ';' | ':')
        });
    (text.contains('@') && text != cell).then_some(text)
}

fn check_threshold(suspended: u64, in_scope: u64, threshold: u32) -> Result<(), Error> {
    if suspended * 100 <= u64::from(threshold) * in_scope {
        return Ok(());
    }
    Err(Error::settings(
        IssueCode::MissingUsersThreshold,
        format!(
            "{suspended} of the {in_scope} users in scope are not in the file and would be suspended, more than missing_users_threshold ({threshold} %) allows: check the file, or raise the threshold"
        ),
    ))
}

fn scope_error(e: &HostError) -> Error {
    Error::host(
        ErrorKind::Store,
        IssueCode::StoreFailed,
        "the store could not list the users in scope",
        e,
    )
}
