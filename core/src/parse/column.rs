//! The columns an upload file may have, and the forgiving header matching.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A recognised column of the upload file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Column {
    /// `firstname` (required).
    FirstName,
    /// `lastname` (required).
    LastName,
    /// `emailaddress` (required): the user's identity and login.
    EmailAddress,
    /// `phonenumber`.
    PhoneNumber,
    /// `uniqueid`: the host's own identifier for the person (employee number...).
    UniqueId,
    /// `country`.
    Country,
    /// `organisation`.
    Organisation,
    /// `languagecode`: an IETF BCP 47 tag such as `en-NZ`.
    LanguageCode,
    /// `addgroup`: groups to add the user to; may repeat, cells may list several.
    AddGroup,
    /// `removegroup`: groups to remove the user from; may repeat, cells may list several.
    RemoveGroup,
    /// `auth`: how the user signs in, `password` or one of the host's login methods
    /// ([`ParseOptions::login_methods`](crate::ParseOptions::login_methods)).
    Auth,
    /// `course`: courses to enrol this user in, by id; may repeat (`course1`, `course2`...),
    /// cells may list several, as groups.
    Course,
    /// `collection`: collections to enrol this user in, by id; as `course`.
    Collection,
    /// `campaign`: campaigns to enrol this user in, by id; as `course`.
    Campaign,
}

impl Column {
    /// Every column, in the canonical order.
    pub const ALL: [Column; 14] = [
        Column::FirstName,
        Column::LastName,
        Column::EmailAddress,
        Column::PhoneNumber,
        Column::UniqueId,
        Column::Country,
        Column::Organisation,
        Column::LanguageCode,
        Column::AddGroup,
        Column::RemoveGroup,
        Column::Auth,
        Column::Course,
        Column::Collection,
        Column::Campaign,
    ];

    /// The columns every file must have.
    pub const REQUIRED: [Column; 3] = [Column::FirstName, Column::LastName, Column::EmailAddress];

    /// The canonical header name.
    pub fn as_str(self) -> &'static str {
        match self {
            Column::FirstName => "firstname",
            Column::LastName => "lastname",
            Column::EmailAddress => "emailaddress",
            Column::PhoneNumber => "phonenumber",
            Column::UniqueId => "uniqueid",
            Column::Country => "country",
            Column::Organisation => "organisation",
            Column::LanguageCode => "languagecode",
            Column::AddGroup => "addgroup",
            Column::RemoveGroup => "removegroup",
            Column::Auth => "auth",
            Column::Course => "course",
            Column::Collection => "collection",
            Column::Campaign => "campaign",
        }
    }

    /// Whether the column may appear several times (values are merged).
    pub fn may_repeat(self) -> bool {
        self.is_group_list() || self.content_kind().is_some()
    }

    /// Whether the column is a list of group names.
    pub fn is_group_list(self) -> bool {
        matches!(self, Column::AddGroup | Column::RemoveGroup)
    }

    /// The kind of content a per-row enrolment column lists (`course`, `collection`,
    /// `campaign`), `None` for the other columns.
    pub fn content_kind(self) -> Option<crate::ContentKind> {
        match self {
            Column::Course => Some(crate::ContentKind::Course),
            Column::Collection => Some(crate::ContentKind::Collection),
            Column::Campaign => Some(crate::ContentKind::Campaign),
            _ => None,
        }
    }

    /// Matches a header cell: case-insensitive, surrounding spaces trimmed, spaces, `_`
    /// and `-` ignored, then the canonical names and the [`ALIASES`] table.
    ///
    /// ```
    /// use lms_bulk_upload::Column;
    /// assert_eq!(Column::from_header(" E-mail Address "), Some(Column::EmailAddress));
    /// assert_eq!(Column::from_header("first_name"), Some(Column::FirstName));
    /// assert_eq!(Column::from_header("Surname"), Some(Column::LastName));
    /// assert_eq!(Column::from_header("shoe size"), None);
    /// ```
    pub fn from_header(header: &str) -> Option<Column> {
        Column::from_normalised(&normalise_header(header))
    }

    pub(crate) fn from_normalised(key: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.as_str() == key)
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == key)
                    .map(|(_, c)| *c)
            })
    }
}

/// A header as it is compared: surrounding spaces trimmed, spaces, `_`, `-` and no-break
/// spaces removed, lowercase.
pub(crate) fn normalise_header(header: &str) -> String {
    header
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\u{a0}'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Other header names accepted for each column, after normalisation (lowercase, no spaces,
/// `_` or `-`). `id` alone is deliberately absent: it is too often the host's database key.
pub const ALIASES: &[(&str, Column)] = &[
    ("first", Column::FirstName),
    ("fname", Column::FirstName),
    ("givenname", Column::FirstName),
    ("forename", Column::FirstName),
    ("last", Column::LastName),
    ("lname", Column::LastName),
    ("surname", Column::LastName),
    ("familyname", Column::LastName),
    ("email", Column::EmailAddress),
    ("mail", Column::EmailAddress),
    ("emailid", Column::EmailAddress),
    ("phone", Column::PhoneNumber),
    ("mobile", Column::PhoneNumber),
    ("mobilenumber", Column::PhoneNumber),
    ("telephone", Column::PhoneNumber),
    ("employeeid", Column::UniqueId),
    ("externalid", Column::UniqueId),
    ("staffid", Column::UniqueId),
    ("organization", Column::Organisation),
    ("company", Column::Organisation),
    ("language", Column::LanguageCode),
    ("locale", Column::LanguageCode),
    ("lang", Column::LanguageCode),
    ("addgroups", Column::AddGroup),
    ("group", Column::AddGroup),
    ("groups", Column::AddGroup),
    ("removegroups", Column::RemoveGroup),
    ("courses", Column::Course),
    ("course1", Column::Course),
    ("course2", Column::Course),
    ("course3", Column::Course),
    ("course4", Column::Course),
    ("course5", Column::Course),
    ("collections", Column::Collection),
    ("campaigns", Column::Campaign),
    ("authmethod", Column::Auth),
    ("authentication", Column::Auth),
    ("loginmethod", Column::Auth),
];
