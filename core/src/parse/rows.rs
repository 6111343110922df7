//! Checks of one row's values, and duplicate emails across rows.

use crate::issue::{Issue, IssueCode};
use crate::parse::column::Column;
use crate::parse::email::{check_email, emails_equal};
use crate::parse::options::ParseOptions;
use crate::parse::upload::{split_groups, Upload};
use crate::parse::validate::{describe_char, find_forbidden_char, is_language_tag};

/// Validates the values of one row (indexed by `Column as usize`, `""` when blank or
/// absent); returns whether it has no errors. `printable`: every value is printable ASCII;
/// `clean`: no value has a forbidden character.
#[allow(clippy::too_many_arguments)]
pub(super) fn validate_row(
    values: &[&str; 10],
    line: u32,
    options: &ParseOptions,
    group_separator: char,
    check_conflicts: bool,
    printable: bool,
    clean: bool,
    issues: &mut Vec<Issue>,
) -> bool {
    let start = issues.len();
    let mut push = |code: IssueCode, column: Column, message: String| {
        issues.push(Issue::new(code, Some(line), Some(column.as_str()), message));
    };
    for column in Column::ALL {
        let value = values[column as usize];
        if value.is_empty() {
            if Column::REQUIRED.contains(&column) {
                push(
                    IssueCode::MissingValue,
                    column,
                    format!("{column} is blank"),
                );
            }
            continue;
        }
        let forbidden = if printable || clean {
            None
        } else {
            find_forbidden_char(value)
        };
        if let Some(c) = forbidden {
            push(
                IssueCode::ControlCharacter,
                column,
                format!("{column} contains {}", describe_char(c)),
            );
            continue;
        }
        match column {
            Column::EmailAddress => {
                if let Err(why) = check_email(value) {
                    push(
                        IssueCode::InvalidEmail,
                        column,
                        format!("{value:?} is not a valid email address: it {why}"),
                    );
                }
            }
            Column::LanguageCode if !is_language_tag(value) => {
                let hint = value.replace('_', "-");
                let message = if value.contains('_') && is_language_tag(&hint) {
                    format!("{value:?} is not a BCP 47 language tag; did you mean '{hint}'?")
                } else {
                    format!("{value:?} is not a BCP 47 language tag such as \"en-NZ\"")
                };
                push(IssueCode::InvalidLanguagecode, column, message);
            }
            Column::AddGroup | Column::RemoveGroup => {
                if let Some(long) = split_groups(value, group_separator)
                    .find(|g| g.chars().count() > options.max_value_chars)
                {
                    push(
                        IssueCode::ValueTooLong,
                        column,
                        format!(
                            "a group name is {} characters; the limit is {}",
                            long.chars().count(),
                            options.max_value_chars
                        ),
                    );
                }
            }
            _ => {
                let chars = if printable || value.is_ascii() {
                    value.len()
                } else {
                    value.chars().count()
                };
                if chars > options.max_value_chars {
                    push(
                        IssueCode::ValueTooLong,
                        column,
                        format!(
                            "{column} is {chars} characters; the limit (max_value_chars) is {}",
                            options.max_value_chars
                        ),
                    );
                }
            }
        }
    }
    if check_conflicts {
        let removed = values[Column::RemoveGroup as usize];
        for group in split_groups(values[Column::AddGroup as usize], group_separator) {
            if split_groups(removed, group_separator).any(|r| r == group) {
                push(
                    IssueCode::GroupConflict,
                    Column::RemoveGroup,
                    format!("the group {group:?} is both added and removed"),
                );
            }
        }
    }
    issues[start..].iter().all(|i| !i.is_error())
}

/// The part of an email hash kept in the keys `mark_duplicates` sorts (the low 32 bits
/// hold the row index).
pub(super) const HASH_BITS: u64 = 0xFFFF_FFFF_0000_0000;

/// Rejects every later occurrence of an email (case-insensitive); the first one wins.
///
/// `keys` holds, per valid row, 32 bits of its email's hash above its index: sorting them
/// groups equal hashes in file order. Equal hashes are confirmed by comparing the emails,
/// so a collision costs a comparison, never a wrong duplicate.
pub(super) fn mark_duplicates(upload: &mut Upload, mut keys: Vec<u64>) {
    keys.sort_unstable();
    let index = |key: u64| (key & !HASH_BITS) as usize;
    let mut found = Vec::new();
    let mut group_start = 0;
    for i in 1..=keys.len() {
        if i < keys.len() && keys[i] & HASH_BITS == keys[group_start] & HASH_BITS {
            continue;
        }
        let group = &keys[group_start..i];
        group_start = i;
        if group.len() > 16 {
            // Many rows share a hash (one address repeated, or crafted collisions): sort
            // them by their lowercase form rather than compare each with all earlier ones.
            let mut emails: Vec<(String, usize)> = group
                .iter()
                .map(|&key| {
                    let row = index(key);
                    let email = upload.row(row).map_or("", |r| r.email());
                    // the lowercase form `emails_equal` compares, char by char
                    let key: String = email.chars().flat_map(char::to_lowercase).collect();
                    (key, row)
                })
                .collect();
            emails.sort_unstable();
            for pair in emails.chunk_by(|a, b| a.0 == b.0) {
                found.extend(pair[1..].iter().map(|&(_, later)| (later, pair[0].1)));
            }
            continue;
        }
        for (k, &later) in group.iter().enumerate().skip(1) {
            let later = index(later);
            let email = upload.row(later).map_or("", |r| r.email());
            let first = group[..k].iter().map(|&key| index(key)).find(|&earlier| {
                emails_equal(upload.row(earlier).map_or("", |r| r.email()), email)
            });
            if let Some(first) = first {
                found.push((later, first));
            }
        }
    }
    found.sort_unstable();
    for (later, first) in found {
        upload.valid[later] = false;
        let (line, first_line) = (upload.lines[later], upload.lines[first]);
        let email = upload.row(later).map_or("", |r| r.email()).to_owned();
        upload.issues.push(Issue::new(
            IssueCode::DuplicateEmail,
            Some(line),
            Some(Column::EmailAddress.as_str()),
            format!(
                "{email:?} already appears on line {first_line}; only the first occurrence is used"
            ),
        ));
    }
}
