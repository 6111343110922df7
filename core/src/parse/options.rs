//! How a file is read: delimiter, group separator and limits.

/// Default for [`ParseOptions::max_file_bytes`]: 512 MiB.
pub const DEFAULT_MAX_FILE_BYTES: usize = 512 * 1024 * 1024;
/// Default for [`ParseOptions::max_rows`]: two million data rows.
pub const DEFAULT_MAX_ROWS: usize = 2_000_000;
/// Default for [`ParseOptions::max_field_bytes`]: 4 KiB per cell.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 4 * 1024;
/// Default for [`ParseOptions::max_columns`]: 100 columns per line.
pub const DEFAULT_MAX_COLUMNS: usize = 100;
/// Default for [`ParseOptions::max_value_chars`]: 255 characters per profile value.
pub const DEFAULT_MAX_VALUE_CHARS: usize = 255;
/// Default for [`ParseOptions::max_issues_per_row`]: 10 issues listed per row.
pub const DEFAULT_MAX_ISSUES_PER_ROW: usize = 10;
/// Default for [`ParseOptions::max_issues`]: 1,000 issues listed per file.
pub const DEFAULT_MAX_ISSUES: usize = 1_000;
/// The largest file the engine can hold at all (offsets are 32-bit): just under 4 GiB.
pub const MAX_FILE_BYTES: usize = u32::MAX as usize - 1;

/// Options of [`parse`](crate::parse). `ParseOptions::default()` suits most hosts.
///
/// ```
/// let options = lms_bulk_upload::ParseOptions { max_rows: 10_000, ..Default::default() };
/// assert_eq!(options.delimiter, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// The delimiter, or `None` to detect `,` `;` or tab from the header line (and honour
    /// Excel's `sep=` first line).
    pub delimiter: Option<u8>,
    /// The separator between several group names in one `addgroup`/`removegroup` cell.
    pub group_separator: char,
    /// Largest accepted file, in bytes (`file_too_large`). Capped at [`MAX_FILE_BYTES`].
    pub max_file_bytes: usize,
    /// Most data rows (`too_many_rows`).
    pub max_rows: usize,
    /// Longest cell, in bytes (`field_too_long`).
    pub max_field_bytes: usize,
    /// Most columns on a line (`too_many_columns`).
    pub max_columns: usize,
    /// Longest profile value (names, phone, ...), in characters (`value_too_long`, a row error).
    pub max_value_chars: usize,
    /// Most issues listed for one row (at least 1). Past it, one `too_many_issues` warning
    /// on the row says how many more there were; the row is rejected all the same.
    pub max_issues_per_row: usize,
    /// Most issues listed for the file, in line order (0 lists none). Past it, one
    /// `too_many_issues` warning without a line says how many more there were; rows with
    /// errors are rejected whether or not their issues are listed.
    pub max_issues: usize,
    /// The value that clears an optional field of an existing user when profiles are
    /// updated (a blank cell keeps the stored value): `#clear` by default, compared ignoring
    /// ASCII case; `None` turns clearing off. In a required column it is an error
    /// (`clear_in_required_column`); for a new user it is the same as a blank cell.
    pub clear_token: Option<String>,
    /// The host's own profile fields (at most [`MAX_PROFILE_FIELDS`](crate::MAX_PROFILE_FIELDS)):
    /// their columns are read and validated like the built-in ones, their values reach the
    /// store in [`Profile::custom`](crate::Profile::custom). A bad declaration fails `parse`
    /// (`invalid_option`).
    pub fields: Vec<crate::parse::fields::ProfileField>,
    /// The host's login methods besides the built-in `password` (`saml`, `oidc`...): the
    /// values the `auth` column and the `default_login_method` setting may name.
    pub login_methods: Vec<String>,
    /// For a spreadsheet, the sheet to read by its name (`None`: the first sheet).
    pub sheet: Option<String>,
    /// The file's encoding, when the host or the administrator knows it (`None`: a byte
    /// order mark decides, else UTF-8 if the bytes are UTF-8, else the legacy code page
    /// detected from the letters, with `encoding_guessed`). A byte order mark still wins.
    pub encoding: Option<crate::Encoding>,
    /// Columns matched by hand: the header cell at this 0-based position is read as the
    /// named column or host profile field (any of its names or aliases), or ignored
    /// (`None`), whatever its header says. A position past the header, or a name that is
    /// no column or declared field, fails `parse` (`invalid_option`).
    pub column_assignments: std::collections::BTreeMap<usize, Option<String>>,
    /// Threads that read the rows: `0` (the default) for the available cores, at most
    /// [`MAX_PARSE_THREADS`]; `1` reads them in one pass on the calling thread. A larger
    /// file is cut into chunks at record boundaries and the chunks read at once; the result
    /// is the same, byte for byte, whatever the number of threads (see `docs/PERFORMANCE.md`).
    pub threads: usize,
}

/// The most threads [`ParseOptions::threads`] uses.
pub const MAX_PARSE_THREADS: usize = 16;

/// Default for [`ParseOptions::clear_token`].
pub const DEFAULT_CLEAR_TOKEN: &str = "#clear";

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            delimiter: None,
            group_separator: ';',
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_rows: DEFAULT_MAX_ROWS,
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            max_columns: DEFAULT_MAX_COLUMNS,
            max_value_chars: DEFAULT_MAX_VALUE_CHARS,
            max_issues_per_row: DEFAULT_MAX_ISSUES_PER_ROW,
            max_issues: DEFAULT_MAX_ISSUES,
            clear_token: Some(DEFAULT_CLEAR_TOKEN.to_owned()),
            fields: Vec::new(),
            login_methods: Vec::new(),
            sheet: None,
            encoding: None,
            column_assignments: std::collections::BTreeMap::new(),
            threads: 0,
        }
    }
}
