//! The host's own profile fields and login methods: declared next to the parse options,
//! matched and validated like the built-in columns.

use crate::parse::column::{normalise_header, Column, ALIASES};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The most profile fields a host may declare.
pub const MAX_PROFILE_FIELDS: usize = 16;

/// What values a [`ProfileField`] takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
#[non_exhaustive]
pub enum FieldKind {
    /// Any text (no control characters, at most `max_length` characters).
    Text,
    /// One of these values, matched ignoring case and stored as declared.
    OneOf(Vec<String>),
    /// A calendar date written `YYYY-MM-DD` (ISO 8601).
    Date,
    /// A decimal number: an optional `-`, digits, an optional `.` and digits.
    Number,
}

/// A profile field the host declares (Moodle's `profile_field_*`, a `department` column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileField {
    /// The field's name, lowercase letters, digits and `_` (`department`): the key in
    /// [`Profile::custom`](crate::Profile::custom) and a header the file may use.
    pub name: String,
    /// Other headers accepted for it (matched forgivingly, like the built-in columns).
    pub aliases: Vec<String>,
    /// The values it takes.
    pub kind: FieldKind,
    /// A row without a value for it is rejected (`missing_value`); a file without the
    /// column is refused (`missing_required_column`).
    pub required: bool,
    /// Longest value in characters (`None`: [`ParseOptions::max_value_chars`](crate::ParseOptions::max_value_chars)).
    pub max_length: Option<usize>,
}

impl ProfileField {
    /// A text field that is not required.
    pub fn text(name: impl Into<String>) -> ProfileField {
        ProfileField {
            name: name.into(),
            aliases: Vec::new(),
            kind: FieldKind::Text,
            required: false,
            max_length: None,
        }
    }

    /// Why `value` (non-blank, trimmed) is not one this field takes; the stored form.
    /// `index`: the field's [`OneOfIndex`], built once per parse (a `one_of` field is then
    /// one hash lookup per cell, whatever the number of its values).
    pub(crate) fn check(&self, value: &str, index: Option<&OneOfIndex>) -> Result<String, String> {
        match &self.kind {
            FieldKind::Text => Ok(value.to_owned()),
            FieldKind::OneOf(values) => index
                .and_then(|index| index.find(value))
                .and_then(|i| values.get(i))
                .cloned()
                .ok_or_else(|| {
                    let shown: Vec<&str> = values.iter().take(10).map(String::as_str).collect();
                    format!("{value:?} is not one of {}", shown.join(", "))
                }),
            FieldKind::Date if is_iso_date(value) => Ok(value.to_owned()),
            FieldKind::Date => Err(format!(
                "{value:?} is not a date written YYYY-MM-DD (such as 2026-12-31)"
            )),
            FieldKind::Number if is_number(value) => Ok(value.to_owned()),
            FieldKind::Number => Err(format!("{value:?} is not a number")),
        }
    }
}

/// The values of a `one_of` field by their lowercase form (the first declared wins), built
/// once per parse: checking a cell lowercases the cell only.
#[derive(Clone, Default)]
pub(crate) struct OneOfIndex(HashMap<String, usize>);

/// In a fixed order (a `HashMap`'s depends on its random state), so that an `Upload`'s
/// Debug form is the same for the same file.
impl std::fmt::Debug for OneOfIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sorted: std::collections::BTreeMap<_, _> = self.0.iter().collect();
        f.debug_tuple("OneOfIndex").field(&sorted).finish()
    }
}

impl OneOfIndex {
    /// One entry per field, `None` for a field that is not `one_of`.
    pub(crate) fn for_fields(fields: &[ProfileField]) -> Vec<Option<OneOfIndex>> {
        fields
            .iter()
            .map(|field| match &field.kind {
                FieldKind::OneOf(values) => {
                    let mut map = HashMap::with_capacity(values.len());
                    for (i, v) in values.iter().enumerate() {
                        map.entry(lowercase(v)).or_insert(i);
                    }
                    Some(OneOfIndex(map))
                }
                _ => None,
            })
            .collect()
    }

    fn find(&self, value: &str) -> Option<usize> {
        self.0.get(&lowercase(value)).copied()
    }
}

fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// Each declared header (name or alias, normalised) with the index of its field, built
/// once per file: a header is matched by one lookup, whatever the number of aliases.
pub(crate) fn header_index(fields: &[ProfileField]) -> HashMap<String, usize> {
    let mut index = HashMap::new();
    for (i, field) in fields.iter().enumerate() {
        for header in std::iter::once(&field.name).chain(&field.aliases) {
            index.entry(normalise_header(header)).or_insert(i);
        }
    }
    index
}

/// Checks the host's declarations: names well-formed and distinct from each other, from
/// the built-in columns and their aliases; at most [`MAX_PROFILE_FIELDS`]; a `one_of` with
/// values; login method names well-formed. `Err` says what is wrong.
pub(crate) fn check_declarations(
    fields: &[ProfileField],
    methods: &[String],
) -> Result<(), String> {
    if fields.len() > MAX_PROFILE_FIELDS {
        return Err(format!(
            "{} profile fields are declared; at most {MAX_PROFILE_FIELDS} are allowed",
            fields.len()
        ));
    }
    let mut headers: HashSet<String> = HashSet::new();
    for field in fields {
        if !is_identifier(&field.name) {
            return Err(format!(
                "the profile field name {:?} must be 1 to 64 lowercase letters, digits or _, starting with a letter",
                field.name
            ));
        }
        for header in std::iter::once(&field.name).chain(&field.aliases) {
            let key = normalise_header(header);
            let builtin = Column::ALL.iter().any(|c| c.as_str() == key)
                || ALIASES.iter().any(|(a, _)| *a == key);
            if key.is_empty() || builtin || headers.contains(&key) {
                return Err(format!(
                    "the profile field header {header:?} is empty, a built-in column, or declared twice"
                ));
            }
            headers.insert(key);
        }
        if let FieldKind::OneOf(values) = &field.kind {
            if values.is_empty() || values.iter().any(|v| v.trim().is_empty() || v.trim() != v) {
                return Err(format!(
                    "the profile field {:?} is one_of an empty list or a blank value",
                    field.name
                ));
            }
        }
        if field.max_length == Some(0) {
            return Err(format!(
                "the profile field {:?} has max_length 0",
                field.name
            ));
        }
    }
    for method in methods {
        if !is_identifier(method) || method == crate::host::store::PASSWORD_LOGIN {
            return Err(format!(
                "the login method name {method:?} must be 1 to 64 lowercase letters, digits or _ (and not \"password\", which is built in)"
            ));
        }
    }
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_number(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn is_iso_date(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        value
            .get(r)
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// The login method a cell names: `password` or one of `methods`, ignoring case; `None`
/// when it names none of them.
pub(crate) fn login_method<'m>(value: &str, methods: &'m [String]) -> Option<&'m str> {
    if value.eq_ignore_ascii_case(crate::host::store::PASSWORD_LOGIN) {
        return Some(crate::host::store::PASSWORD_LOGIN);
    }
    methods
        .iter()
        .find(|m| m.eq_ignore_ascii_case(value))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_numbers() {
        for ok in ["2026-12-31", "2024-02-29", "0001-01-01"] {
            assert!(is_iso_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "31/12/2026",
            "2026-1-01",
            "2026-12-32",
            "",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
        for ok in ["0", "-12", "3.5", "007"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", "-", "1.", ".5", "1e3", "1,5", "+1", "NaN"] {
            assert!(!is_number(bad), "{bad}");
        }
    }

    #[test]
    fn declarations_are_checked() {
        let dept = ProfileField::text("department");
        assert!(check_declarations(std::slice::from_ref(&dept), &["saml".into()]).is_ok());
        assert!(check_declarations(&[dept.clone(), dept.clone()], &[]).is_err());
        assert!(check_declarations(&[ProfileField::text("email")], &[]).is_err());
        assert!(check_declarations(&[ProfileField::text("Dept")], &[]).is_err());
        assert!(check_declarations(&[], &["password".into()]).is_err());
        let empty = ProfileField {
            kind: FieldKind::OneOf(Vec::new()),
            ..dept
        };
        assert!(check_declarations(&[empty], &[]).is_err());
    }
}
