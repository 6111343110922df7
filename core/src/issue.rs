//! Problems found in an upload, as data: a stable code, a severity, a place and a message.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// The row (or the file) cannot be used as it is.
    Error,
    /// Worth telling the administrator; nothing is left out because of it.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! issue_codes {
    ($( $variant:ident = $code:literal, $severity:ident, $meaning:literal; )*) => {
        /// Every stable machine code an [`Issue`] or an [`Error`](crate::Error) can carry.
        ///
        /// The string form (`as_str`) is the contract: once released, a code is never renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum IssueCode {
            $( #[doc = $meaning] $variant, )*
        }

        impl IssueCode {
            /// All codes, in documentation order.
            pub const ALL: &'static [IssueCode] = &[$(IssueCode::$variant,)*];

            /// The stable snake_case code.
            pub fn as_str(self) -> &'static str {
                match self { $( IssueCode::$variant => $code, )* }
            }

            /// What the code means, in one sentence.
            pub fn meaning(self) -> &'static str {
                match self { $( IssueCode::$variant => $meaning, )* }
            }

            /// The severity this code is reported with.
            pub fn severity(self) -> Severity {
                match self { $( IssueCode::$variant => Severity::$severity, )* }
            }

            /// Looks a code up by its string form.
            pub fn from_code(code: &str) -> Option<IssueCode> {
                match code { $( $code => Some(IssueCode::$variant), )* _ => None }
            }
        }
    };
}

issue_codes! {
    // File-level: these fail `parse`.
    EmptyFile = "empty_file", Error, "The file has no content at all.";
    NoDataRows = "no_data_rows", Error, "The file has a header line but no user rows.";
    MissingRequiredColumn = "missing_required_column", Error, "A required column (firstname, lastname, emailaddress) is not in the header.";
    DuplicateColumn = "duplicate_column", Error, "A column other than addgroup/removegroup appears twice in the header.";
    MalformedCsv = "malformed_csv", Error, "The bytes cannot be read as CSV (for example an unterminated quote).";
    InvalidEncoding = "invalid_encoding", Error, "The file declares UTF-16 with a byte order mark but is not valid UTF-16.";
    FileTooLarge = "file_too_large", Error, "The file is larger than the max_file_bytes limit.";
    TooManyRows = "too_many_rows", Error, "The file has more data rows than the max_rows limit.";
    TooManyColumns = "too_many_columns", Error, "A line has more columns than the max_columns limit.";
    FieldTooLong = "field_too_long", Error, "A cell is longer than the max_field_bytes limit.";
    UnsupportedFile = "unsupported_file", Error, "The file is neither CSV text nor a spreadsheet the engine reads (.xlsx, .xls, .ods); for example another kind of zip archive.";
    MalformedSpreadsheet = "malformed_spreadsheet", Error, "The file looks like a spreadsheet (.xlsx, .xls, .ods) but cannot be read as one (damaged, encrypted, or cells out of order).";
    SheetNotFound = "sheet_not_found", Error, "The workbook has no sheet of the name asked for (the message lists its sheets).";
    // File-level warnings.
    UnknownColumn = "unknown_column", Warning, "A header column is not recognised; its values are ignored.";
    EncodingGuessed = "encoding_guessed", Warning, "The file is not valid UTF-8 and was read in the legacy code page its letters fit best (Windows-1252, Windows-1250, Windows-1251, Shift_JIS...), named in the message.";
    EncodingUnsure = "encoding_unsure", Warning, "The detected code page is not certain (few accented letters to judge from, or some bytes are not valid in it): check the names, and name the encoding if they look wrong.";
    PasswordColumn = "password_column", Warning, "The file has a password column: passwords are never taken from a file; the column is ignored (choose generated passwords, a default password or sign-in links in the settings).";
    ExtraValues = "extra_values", Warning, "A row has values after the last header column; they are ignored.";
    TooManyIssues = "too_many_issues", Warning, "More issues than max_issues_per_row (on a row) or max_issues (in the file) were found: the first are listed, this one says how many more there were.";
    // Row-level: the row is rejected, the others go on.
    MissingValue = "missing_value", Error, "A required value (firstname, lastname, emailaddress) is blank.";
    InvalidEmail = "invalid_email", Error, "The email address is not a valid address (syntax or RFC 5321 length).";
    DuplicateEmail = "duplicate_email", Error, "The email address already appears on an earlier line (compared case-insensitively); the first occurrence wins.";
    InvalidLanguagecode = "invalid_languagecode", Error, "The languagecode is not a well-formed IETF BCP 47 tag such as en-NZ.";
    ControlCharacter = "control_character", Error, "A value contains a control or bidirectional-override character (line breaks, NUL, RTL override...).";
    ValueTooLong = "value_too_long", Error, "A value is longer than the max_value_chars limit for profile fields.";
    GroupConflict = "group_conflict", Error, "The same group is both added and removed on one row.";
    InvalidFieldValue = "invalid_field_value", Error, "A value of one of the host's profile fields is not of its kind (not one of its values, not a YYYY-MM-DD date, not a number).";
    UnknownLoginMethod = "unknown_login_method", Error, "The auth column (or the default_login_method setting) names a login method the host does not have.";
    ClearInRequiredColumn = "clear_in_required_column", Error, "The clear token (#clear by default) is in a required column (firstname, lastname, emailaddress): a required value cannot be cleared.";
    // Found when planning against the store.
    UnknownGroup = "unknown_group", Error, "A group named in the file or the settings does not exist (names are case-sensitive).";
    UnknownContent = "unknown_content", Error, "A course, collection or campaign selected for enrolment (in the settings, or in a row's course, collection or campaign cell) does not exist.";
    ProtectedUser = "protected_user", Error, "The user exists and is protected (an administrator or outside the uploader's reach); the row is left untouched.";
    RemovegroupOnNewUser = "removegroup_on_new_user", Warning, "A removegroup value on a row that creates a new user does nothing.";
    ExistingUserSkipped = "existing_user_skipped", Warning, "The user exists and no setting allows changing existing users; nothing is done.";
    ChangesNeedUpdatePasswords = "changes_need_update_passwords", Warning, "The row moves an existing user to password login, which sets a password they did not choose: it needs update_existing_passwords; the user's login method is left as it is.";
    UserSuspended = "user_suspended", Warning, "The existing user is suspended and stays so: reactivate_suspended_users is off, or the host does not say an upload suspended them (suspended_by_upload); the row's other changes are made.";
    MissingFromFile = "missing_from_file", Warning, "With suspend_missing_users: the user is within the uploader's reach but not in the file, and is suspended (a row of its own, after the file's rows).";
    ChangesNeedEnrolExistingUsers = "changes_need_enrol_existing_users", Warning, "The row's course, collection or campaign cells would enrol an existing user, but enrol_existing_users is off: they are not enrolled.";
    ChangesNeedUpdateProfiles = "changes_need_update_profiles", Warning, "The row asks for profile or group changes to an existing user, but update_existing_profiles is off.";
    MissingUsersThreshold = "missing_users_threshold", Error, "With suspend_missing_users: more users would be suspended than missing_users_threshold allows (a percentage of the users in scope); the plan is refused.";
    // Settings errors.
    DefaultPasswordRequired = "default_password_required", Error, "generate_passwords is off, so a default_password is required.";
    DefaultPasswordWithGenerated = "default_password_with_generated", Error, "A default_password was given while generate_passwords is on; choose one.";
    NotificationRequiredForGeneratedPasswords = "notification_required_for_generated_passwords", Error, "send_notification_email can only be off when generate_passwords is off: a generated password must reach its user.";
    DefaultPasswordWithInvitations = "default_password_with_invitations", Error, "A default_password was given while send_invitations is on: users choose their own password through their sign-in link.";
    NotificationRequiredForInvitations = "notification_required_for_invitations", Error, "send_notification_email cannot be off with send_invitations: the sign-in link reaches its user by email.";
    WeakDefaultPassword = "weak_default_password", Error, "The default_password does not meet the password policy.";
    InvalidSetting = "invalid_setting", Error, "A setting has a value out of its range (for example a URL or email that is not valid).";
    WeakGeneratedPassword = "weak_generated_password", Error, "generated_password_length is below 12 characters, in the settings or in a plan given to execute.";
    WeakHashParams = "weak_hash_params", Error, "The argon2id parameters are below OWASP's minimum (19456 KiB, 2 iterations, 1 lane) and not marked insecure_for_tests.";
    // Plan and execution.
    FingerprintMismatch = "fingerprint_mismatch", Error, "The plan's content does not match its fingerprint: it was altered after planning.";
    UnsupportedPlanVersion = "unsupported_plan_version", Error, "The plan was written by an incompatible version of the engine.";
    InvalidPlan = "invalid_plan", Error, "The plan JSON cannot be read.";
    InvalidResults = "invalid_results", Error, "Results JSON read back (for a merge) cannot be read or its summary is not its rows.";
    PlanUnsigned = "plan_unsigned", Error, "The plan has no signature, and only plans signed with the host's key are accepted here.";
    PlanSignatureInvalid = "plan_signature_invalid", Error, "The plan's signature does not match its content: it was changed after signing, or signed with another key.";
    ResultsUnsigned = "results_unsigned", Error, "The results have no verified signature (read with from_json, or built by hand): they cannot drive an undo unless the host says they come from storage only it can write.";
    ResultsSignatureInvalid = "results_signature_invalid", Error, "The results' signature does not match their content: they were changed after signing, or signed with another key.";
    PlanIsShard = "plan_is_shard", Error, "The plan is a shard of a larger plan: a shard cannot be sharded again, and shard results are merged against the parent plan only.";
    ShardSetsPassword = "shard_sets_password", Error, "The plan sets a new password on an existing user: it cannot be sharded (or a shard that does is refused at execution), since a shard replayed later would set it again over the password the user chose since.";
    ShardMissing = "shard_missing", Error, "Merging shard results: a shard of the parent plan has no results (it has not run yet, or was left out).";
    ShardDuplicate = "shard_duplicate", Error, "Merging shard results: the same shard's results were given twice.";
    ShardForeign = "shard_foreign", Error, "Merging shard results: a result is not from a shard of this parent plan (another plan, another sharding, or rows that do not match).";
    ShardResultMismatch = "shard_result_mismatch", Error, "Merging shard results: a row names another person or user id than the parent plan's row on its line, or records something that row does not do (edited results); nothing is merged.";
    StoreFailed = "store_failed", Error, "The host's store reported an error.";
    MailerFailed = "mailer_failed", Error, "The host's mailer reported an error.";
    Cancelled = "cancelled", Error, "Execution was cancelled before this row.";
    InvalidTemplate = "invalid_template", Error, "An email template names a placeholder that does not exist.";
    InvalidHostReply = "invalid_host_reply", Error, "A host store, mailer or journal answered with a value of the wrong shape (a null where a list is due, a user without an id...).";
    HostMethodMissing = "host_method_missing", Error, "A host object lacks a method the engine needs (find_users, send...).";
    InvalidOption = "invalid_option", Error, "A parse or execute option is unknown or has a value out of its range.";
    // Re-checked at execution, just before a row is written: the row is not written at all.
    StalePlan = "stale_plan", Error, "The user the plan updates is gone, or their id or email changed since planning (for example deleted, or an id reused for someone else); the row is not written: plan again.";
    UserNowProtected = "user_now_protected", Error, "The user became protected after planning; the row is not written.";
    UserExistsNow = "user_exists_now", Error, "A user the plan creates exists by the time of execution; the row is not written: plan again.";
    GroupGone = "group_gone", Error, "A group the row changes no longer exists at execution (deleted, or recreated with another id); the row is not written.";
    ContentGone = "content_gone", Error, "A course, collection or campaign the row enrols in no longer exists at execution; the row is not written.";
    // Undoing an upload.
    UndoOfUndo = "undo_of_undo", Error, "The results are those of an undo: an undo cannot be undone (upload the file again instead).";
    UndoUnsupported = "undo_unsupported", Error, "The undo needs a store write the host does not have (suspend_user, delete_user or withdraw); refused when the undo is planned.";
    UndoConflict = "undo_conflict", Warning, "Something the upload did was changed since (a value edited, a user gone or replaced, a group deleted): undo leaves it as it is now.";
    NotUndoable = "not_undoable", Warning, "The upload set (and emailed) a new password for an existing user: undo cannot take it back.";
    // Sign-in links, when one is verified or redeemed.
    InvitationUnknown = "invitation_unknown", Error, "The sign-in link's token is not one the store knows: malformed, never issued, or revoked (by a newer link, or by undoing the upload that sent it).";
    InvitationUsed = "invitation_used", Error, "The sign-in link was used already: each link works once.";
    WeakPassword = "weak_password", Error, "The password a user chose through their sign-in link is too short or too easy to guess (zxcvbn).";
    InvitationExpired = "invitation_expired", Error, "The sign-in link has expired (the host sets how long links live; 72 hours by default).";
}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem: its code, how bad it is, where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Issue {
    /// The stable machine code.
    pub code: IssueCode,
    /// `error` (the row or file is not used) or `warning`.
    pub severity: Severity,
    /// The 1-based physical line where the record starts (the header is line 1), if any.
    pub line: Option<u32>,
    /// The canonical column name (or the header text of an unknown column), if any.
    pub column: Option<String>,
    /// A human-readable message.
    pub message: String,
}

impl Issue {
    /// An issue with the code's own severity.
    pub fn new(code: IssueCode, line: Option<u32>, column: Option<&str>, message: String) -> Issue {
        Issue {
            code,
            severity: code.severity(),
            line,
            column: column.map(str::to_owned),
            message,
        }
    }

    /// Whether the issue is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(column) = &self.column {
            write!(f, "{column}: ")?;
        }
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// A code with its meaning, as listed by [`issue_codes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    /// The stable code.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// One sentence.
    pub meaning: &'static str,
}

/// Every issue and error code with its severity and meaning.
///
/// ```
/// let codes = lms_bulk_upload::issue_codes();
/// assert!(codes.iter().any(|c| c.code == "duplicate_email"));
/// ```
pub fn issue_codes() -> Vec<CodeInfo> {
    IssueCode::ALL
        .iter()
        .map(|c| CodeInfo {
            code: c.as_str(),
            severity: c.severity().as_str(),
            meaning: c.meaning(),
        })
        .collect()
}
