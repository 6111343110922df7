//! Options as data: what a binding receives as a dict, an object or a hash (parse options,
//! execute options, hash parameters, templates), decoded and validated here once, so that
//! every language accepts the same keys (snake_case or camelCase) and refuses an unknown
//! key or a value out of range the same way, with [`IssueCode::InvalidOption`].

use crate::error::{Error, ErrorKind};
use crate::execute::password::HashParams;
use crate::execute::secret::Password;
use crate::execute::templates::{Template, Templates};
use crate::execute::ExecuteOptions;
use crate::host::protocol::snake;
use crate::host::Naming;
use crate::issue::IssueCode;
use crate::parse::options::ParseOptions;
use crate::plan::settings::{Settings, SettingsBuilder};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a value is, for messages: its kind, never the value itself (an option may be a
/// secret, such as a default password given with the wrong type).
fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::Settings, IssueCode::InvalidOption, message)
}

/// The entries of an options object (null: none), keys in snake_case, each one of `known`.
fn entries(value: Value, what: &str, known: &[&str]) -> Result<Vec<(String, Value)>, Error> {
    let map = match value {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        other => {
            return Err(invalid(format!(
                "{what} must be an object, not {}",
                shape(&other)
            )))
        }
    };
    map.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(key, v)| {
            let key = snake(&key);
            if known.contains(&key.as_str()) {
                Ok((key, v))
            } else {
                Err(invalid(format!(
                    "{what} has no option {key:?}; the options are {}",
                    known.join(", ")
                )))
            }
        })
        .collect()
}

fn number(value: &Value, what: &str, key: &str) -> Result<u64, Error> {
    value.as_u64().ok_or_else(|| {
        invalid(format!(
            "{what}.{key} must be a whole number ≥ 0, not {}",
            shape(value)
        ))
    })
}

fn size(value: &Value, what: &str, key: &str) -> Result<usize, Error> {
    usize::try_from(number(value, what, key)?)
        .map_err(|_| invalid(format!("{what}.{key} is too large")))
}

fn small(value: &Value, what: &str, key: &str) -> Result<u32, Error> {
    u32::try_from(number(value, what, key)?)
        .map_err(|_| invalid(format!("{what}.{key} is too large")))
}

fn one_char(value: &Value, what: &str, key: &str) -> Result<char, Error> {
    let mut chars = value.as_str().unwrap_or_default().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(invalid(format!(
            "{what}.{key} must be a single character, not {}",
            shape(value)
        ))),
    }
}

fn text(value: Value, what: &str, key: &str) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(invalid(format!(
            "{what}.{key} must be a string, not {}",
            shape(&other)
        ))),
    }
}

/// One declared profile field: `{"name", "aliases", "kind": "text" | "one_of" | "date" |
/// "number", "values" (for one_of), "required", "max_length"}`.
fn profile_field(value: Value) -> Result<crate::ProfileField, Error> {
    let what = "a profile field";
    const KEYS: [&str; 6] = [
        "name",
        "aliases",
        "kind",
        "values",
        "required",
        "max_length",
    ];
    let mut field = crate::ProfileField::text("");
    let (mut kind, mut values) = (None, None);
    for (key, v) in entries(value, what, &KEYS)? {
        match key.as_str() {
            "name" => field.name = text(v, what, &key)?,
            "aliases" | "values" => {
                let Value::Array(items) = v else {
                    return Err(invalid(format!(
                        "{what}'s {key} must be a list, not {}",
                        shape(&v)
                    )));
                };
                let items = items
                    .into_iter()
                    .map(|i| text(i, what, &key))
                    .collect::<Result<Vec<_>, _>>()?;
                if key == "aliases" {
                    field.aliases = items;
                } else {
                    values = Some(items);
                }
            }
            "kind" => kind = Some(text(v, what, &key)?),
            "required" => {
                field.required = v
                    .as_bool()
                    .ok_or_else(|| invalid(format!("{what}'s required must be true or false")))?;
            }
            _ => field.max_length = Some(size(&v, what, &key)?),
        }
    }
    field.kind = match (kind.as_deref().unwrap_or("text"), values) {
        ("one_of", Some(values)) => crate::FieldKind::OneOf(values),
        ("one_of", None) => {
            return Err(invalid(format!(
                "the profile field {:?} is one_of but gives no values",
                field.name
            )))
        }
        (_, Some(_)) => {
            return Err(invalid(format!(
                "the profile field {:?} gives values but is not one_of",
                field.name
            )))
        }
        ("text", None) => crate::FieldKind::Text,
        ("date", None) => crate::FieldKind::Date,
        ("number", None) => crate::FieldKind::Number,
        (other, None) => {
            return Err(invalid(format!(
                "a profile field's kind is text, one_of, date or number, not {other:?}"
            )))
        }
    };
    Ok(field)
}

/// [`ParseOptions::column_assignments`] from `{"<position>": "<name>" | null}`: a position in
/// decimal digits (JSON's keys are strings; Python's and Ruby's integer keys arrive so), each
/// position once; null is kept (the column ignored), unlike null options elsewhere.
fn column_assignments(value: Value) -> Result<BTreeMap<usize, Option<String>>, Error> {
    let what = "parse options.column_assignments";
    let Value::Object(map) = value else {
        return Err(invalid(format!(
            "{what} must be an object from a column's 0-based position to a name or null, not {}",
            shape(&value)
        )));
    };
    let mut assignments = BTreeMap::new();
    for (key, v) in map {
        let position = Some(key.as_str())
            .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|k| k.parse::<usize>().ok())
            .ok_or_else(|| {
                invalid(format!(
                    "{what}: {key:?} is not a column's 0-based position (0, 1, 2...)"
                ))
            })?;
        let name = match v {
            Value::Null => None,
            Value::String(name) => Some(name),
            other => {
                return Err(invalid(format!(
                    "{what}.{key} must be a column's name or null, not {}",
                    shape(&other)
                )))
            }
        };
        if assignments.insert(position, name).is_some() {
            return Err(invalid(format!(
                "{what} names the position {position} twice"
            )));
        }
    }
    Ok(assignments)
}

impl ParseOptions {
    /// The options from a JSON object with any of `delimiter` (one ASCII character: `,`,
    /// `;`, a tab...), `group_separator` (one character), `max_file_bytes`, `max_rows`,
    /// `max_field_bytes`, `max_columns`, `max_value_chars`, `max_issues_per_row`, `max_issues`,
    /// `clear_token`, `fields`, `login_methods`, `sheet` (a spreadsheet's sheet by name),
    /// `encoding` (a label such as `windows-1250` or `shift_jis`), `column_assignments` (an
    /// object from a header cell's 0-based position, written in decimal digits, to the name
    /// of a column or declared profile field, or to null for a column ignored: `{"1":
    /// "last name", "3": null}`; the names and positions are checked by
    /// [`parse`](crate::parse)) and `threads` (`0`: the available cores); absent keys keep
    /// their defaults.
    ///
    /// ```
    /// let options = lms_bulk_upload::ParseOptions::from_value(serde_json::json!({"delimiter": ";"}))?;
    /// assert_eq!(options.delimiter, Some(b';'));
    /// let wrong = lms_bulk_upload::ParseOptions::from_value(serde_json::json!({"delimter": ";"}));
    /// assert_eq!(wrong.unwrap_err().code().as_str(), "invalid_option");
    /// # Ok::<(), lms_bulk_upload::Error>(())
    /// ```
    pub fn from_value(value: Value) -> Result<ParseOptions, Error> {
        const KEYS: [&str; 16] = [
            "sheet",
            "encoding",
            "column_assignments",
            "clear_token",
            "fields",
            "login_methods",
            "delimiter",
            "group_separator",
            "max_file_bytes",
            "max_rows",
            "max_field_bytes",
            "max_columns",
            "max_value_chars",
            "max_issues_per_row",
            "max_issues",
            "threads",
        ];
        let what = "parse options";
        let mut options = ParseOptions::default();
        for (key, v) in entries(value, what, &KEYS)? {
            match key.as_str() {
                "delimiter" => {
                    let c = one_char(&v, what, &key)?;
                    let byte = u8::try_from(c)
                        .ok()
                        .filter(|b| b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n'))
                        .ok_or_else(|| {
                            invalid(format!(
                                "{what}.delimiter must be one ASCII character other than a quote or a line break"
                            ))
                        })?;
                    options.delimiter = Some(byte);
                }
                "group_separator" => options.group_separator = one_char(&v, what, &key)?,
                "sheet" => options.sheet = Some(text(v, what, &key)?),
                "encoding" => {
                    let label = text(v, what, &key)?;
                    options.encoding = Some(crate::Encoding::from_label(&label).ok_or_else(|| {
                        invalid(format!(
                            "{what}.encoding must name an encoding (utf-8, windows-1250, windows-1251, shift_jis, gbk, big5...)"
                        ))
                    })?);
                }
                "column_assignments" => options.column_assignments = column_assignments(v)?,
                "fields" => {
                    let Value::Array(items) = v else {
                        return Err(invalid(format!(
                            "{what}.fields must be a list, not {}",
                            shape(&v)
                        )));
                    };
                    options.fields = items
                        .into_iter()
                        .map(profile_field)
                        .collect::<Result<_, _>>()?;
                }
                "login_methods" => {
                    let Value::Array(items) = v else {
                        return Err(invalid(format!(
                            "{what}.login_methods must be a list of names, not {}",
                            shape(&v)
                        )));
                    };
                    options.login_methods = items
                        .into_iter()
                        .map(|m| text(m, what, "login_methods"))
                        .collect::<Result<_, _>>()?;
                }
                "clear_token" => {
                    let token = text(v, what, &key)?;
                    if token.trim() != token || token.chars().any(char::is_control) {
                        return Err(invalid(format!(
                            "{what}.clear_token must have no surrounding spaces or control characters"
                        )));
                    }
                    // "" turns clearing off (JSON null means "the default").
                    options.clear_token = (!token.is_empty()).then_some(token);
                }
                "max_file_bytes" => options.max_file_bytes = size(&v, what, &key)?,
                "max_rows" => options.max_rows = size(&v, what, &key)?,
                "max_field_bytes" => options.max_field_bytes = size(&v, what, &key)?,
                "max_columns" => options.max_columns = size(&v, what, &key)?,
                "max_value_chars" => options.max_value_chars = size(&v, what, &key)?,
                "max_issues_per_row" => options.max_issues_per_row = size(&v, what, &key)?,
                "threads" => options.threads = size(&v, what, &key)?,
                _ => options.max_issues = size(&v, what, &key)?,
            }
        }
        Ok(options)
    }
}

impl HashParams {
    /// Argon2id parameters from a JSON object with any of `memory_kib`, `iterations`,
    /// `parallelism`; absent keys keep the defaults. Parameters below OWASP's minimum are
    /// refused (`weak_hash_params`) unless the object also says `"insecure_for_tests": true`
    /// ([`HashParams::insecure_for_tests`]).
    pub fn from_value(value: Value) -> Result<HashParams, Error> {
        const KEYS: [&str; 4] = [
            "memory_kib",
            "iterations",
            "parallelism",
            "insecure_for_tests",
        ];
        let what = "hash_params";
        let d = HashParams::default();
        let mut n = [d.memory_kib(), d.iterations(), d.parallelism()];
        let mut insecure = false;
        for (key, v) in entries(value, what, &KEYS)? {
            match key.as_str() {
                "insecure_for_tests" => {
                    insecure = v.as_bool().ok_or_else(|| {
                        invalid(format!(
                            "{what}.{key} must be true or false, not {}",
                            shape(&v)
                        ))
                    })?;
                }
                "memory_kib" => n[0] = small(&v, what, &key)?,
                "iterations" => n[1] = small(&v, what, &key)?,
                _ => n[2] = small(&v, what, &key)?,
            }
        }
        let params = if insecure {
            HashParams::insecure_for_tests(n[0], n[1], n[2])
        } else {
            HashParams::new(n[0], n[1], n[2])?
        };
        params.argon2()?;
        Ok(params)
    }
}

impl Templates {
    /// The default templates with those named in a JSON object replaced: any of
    /// `welcome_with_password`, `welcome`, `welcome_with_invitation`, `welcome_sso`,
    /// `password_changed_with_password`, `password_changed`,
    /// `password_changed_with_invitation`, `upload_complete`, `undo_complete`, each
    /// `{subject, text, html}`; placeholders are checked ([`Template::new`]).
    pub fn from_value(value: Value) -> Result<Templates, Error> {
        const KEYS: [&str; 9] = [
            "welcome_with_password",
            "welcome",
            "welcome_with_invitation",
            "password_changed_with_invitation",
            "welcome_sso",
            "password_changed_with_password",
            "password_changed",
            "upload_complete",
            "undo_complete",
        ];
        let mut templates = Templates::default();
        for (name, v) in entries(value, "templates", &KEYS)? {
            let what = format!("templates.{name}");
            let mut parts = [String::new(), String::new(), String::new()];
            let mut given = [false; 3];
            for (key, part) in entries(v, &what, &["subject", "text", "html"])? {
                let i = ["subject", "text", "html"]
                    .iter()
                    .position(|k| *k == key)
                    .unwrap_or(0);
                parts[i] = text(part, &what, &key)?;
                given[i] = true;
            }
            if given.contains(&false) {
                return Err(invalid(format!(
                    "{what} needs a subject, a text and an html"
                )));
            }
            let template = Template::new(&parts[0], &parts[1], &parts[2])?;
            *match name.as_str() {
                "welcome_with_password" => &mut templates.welcome_with_password,
                "welcome" => &mut templates.welcome,
                "password_changed_with_password" => &mut templates.password_changed_with_password,
                "password_changed" => &mut templates.password_changed,
                "welcome_sso" => &mut templates.welcome_sso,
                "welcome_with_invitation" => &mut templates.welcome_with_invitation,
                "password_changed_with_invitation" => {
                    &mut templates.password_changed_with_invitation
                }
                "undo_complete" => &mut templates.undo_complete,
                _ => &mut templates.upload_complete,
            } = template;
        }
        Ok(templates)
    }
}

/// The data part of [`ExecuteOptions`], as a binding receives it: everything but the
/// callbacks (progress, cancellation) and the journal, which are objects of the host's
/// language.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExecuteConfig {
    /// The default password, when the plan sets it (plans never contain it).
    pub default_password: Option<Password>,
    /// Argon2id parameters.
    pub hash_params: HashParams,
    /// Hashing threads (0: one per core); as [`ExecuteOptions::threads`], 1 also keeps the
    /// results' assembly on the calling thread.
    pub threads: usize,
    /// Rows per batch, or the default.
    pub batch_size: Option<usize>,
    /// Retries of a transient failure, or the default.
    pub retries: Option<u32>,
    /// The delay before the first retry, or the default.
    pub retry_delay: Option<Duration>,
    /// Email templates.
    pub templates: Templates,
    /// How long sign-in links live, or the default (72 hours).
    pub invitation_expiry: Option<Duration>,
}

impl ExecuteConfig {
    /// The keys an execute-options object may have.
    pub const KEYS: [&'static str; 8] = [
        "default_password",
        "hash_params",
        "threads",
        "batch_size",
        "retries",
        "retry_delay_ms",
        "templates",
        "invitation_expiry_secs",
    ];

    /// Decodes a JSON object with any of [`ExecuteConfig::KEYS`] (snake_case or camelCase;
    /// null values are absent). `retry_delay_ms` is in milliseconds;
    /// `invitation_expiry_secs` (how long sign-in links live) in seconds, from 300 to
    /// 2,592,000 (30 days).
    pub fn from_value(value: Value) -> Result<ExecuteConfig, Error> {
        let what = "execute options";
        let mut config = ExecuteConfig::default();
        for (key, v) in entries(value, what, &Self::KEYS)? {
            match key.as_str() {
                "default_password" => {
                    config.default_password = Some(Password::new(text(v, what, &key)?));
                }
                "hash_params" => config.hash_params = HashParams::from_value(v)?,
                "threads" => config.threads = size(&v, what, &key)?,
                "batch_size" => {
                    let n = size(&v, what, &key)?;
                    if n == 0 {
                        return Err(invalid(format!("{what}.batch_size must be at least 1")));
                    }
                    config.batch_size = Some(n);
                }
                "retries" => config.retries = Some(small(&v, what, &key)?),
                "retry_delay_ms" => {
                    config.retry_delay = Some(Duration::from_millis(number(&v, what, &key)?));
                }
                "invitation_expiry_secs" => {
                    let expiry = Duration::from_secs(number(&v, what, &key)?);
                    crate::execute::invitation::check_expiry(expiry)?;
                    config.invitation_expiry = Some(expiry);
                }
                _ => config.templates = Templates::from_value(v)?,
            }
        }
        Ok(config)
    }

    /// The execute options with these values; the binding adds its callbacks and journal.
    pub fn into_options<'a>(self) -> ExecuteOptions<'a> {
        let defaults = ExecuteOptions::default();
        ExecuteOptions {
            default_password: self.default_password,
            hash_params: self.hash_params,
            threads: self.threads,
            batch_size: self.batch_size.unwrap_or(defaults.batch_size),
            retries: self.retries.unwrap_or(defaults.retries),
            retry_delay: self.retry_delay.unwrap_or(defaults.retry_delay),
            templates: self.templates,
            invitation_expiry: self.invitation_expiry.unwrap_or(defaults.invitation_expiry),
            ..defaults
        }
    }
}

impl Settings {
    /// Settings from a JSON object (snake_case or camelCase keys; unknown keys refused),
    /// validated as [`SettingsBuilder::build`] does.
    pub fn from_value(value: Value) -> Result<Settings, Error> {
        let value = match value {
            Value::Null => Value::Object(Map::new()),
            other => other,
        };
        let builder: SettingsBuilder = serde_json::from_value(value).map_err(|e| {
            Error::new(
                ErrorKind::Settings,
                IssueCode::InvalidSetting,
                format!("settings: {e}"),
            )
        })?;
        builder.build()
    }

    /// The settings as a JSON object with keys in `naming`, for a host to show or store them.
    /// The default password is never in it: `has_default_password` says whether one is set.
    pub fn to_value(&self, naming: Naming) -> Value {
        let builder = SettingsBuilder {
            enrol_existing_users: self.enrol_existing_users,
            update_existing_profiles: self.update_existing_profiles,
            update_existing_passwords: self.update_existing_passwords,
            generate_passwords: self.generate_passwords,
            default_password: None,
            send_invitations: self.send_invitations,
            invitation_url: self.send_invitations.then(|| self.invitation_url.clone()),
            force_password_reset: self.force_password_reset,
            send_notification_email: self.send_notification_email,
            enrolments: self.enrolments.clone(),
            groups: self.groups.clone(),
            site_url: self.site_url.clone(),
            results_url: self.results_url.clone(),
            uploader_email: self.uploader_email.clone(),
            password_policy: self.password_policy,
            default_login_method: self.default_login_method.clone(),
            suspend_missing_users: self.suspend_missing_users,
            missing_users_threshold: self.missing_users_threshold,
            reactivate_suspended_users: self.reactivate_suspended_users,
        };
        let mut value = serde_json::to_value(builder).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert(
                "has_default_password".into(),
                Value::Bool(self.default_password.is_some()),
            );
        }
        naming.keys_out(value)
    }
}

impl crate::undo::UndoOptions {
    /// The keys an undo-options object may have.
    pub const KEYS: [&'static str; 7] = [
        "delete_created_users",
        "uploader_email",
        "results_url",
        "results_from_trusted_storage",
        "fields",
        "login_methods",
        "undone_creations",
    ];

    /// Decodes a JSON object with any of [`UndoOptions::KEYS`](crate::UndoOptions::KEYS)
    /// (snake_case or camelCase; null values are absent); the values are checked by
    /// [`plan_undo`](crate::plan_undo).
    ///
    /// ```
    /// use lms_bulk_upload::UndoOptions;
    /// let options = UndoOptions::from_value(serde_json::json!({"deleteCreatedUsers": true}))?;
    /// assert!(options.delete_created_users);
    /// let wrong = UndoOptions::from_value(serde_json::json!({"delete": true}));
    /// assert_eq!(wrong.unwrap_err().code().as_str(), "invalid_option");
    /// # Ok::<(), lms_bulk_upload::Error>(())
    /// ```
    pub fn from_value(value: Value) -> Result<crate::undo::UndoOptions, Error> {
        let what = "undo options";
        let mut options = crate::undo::UndoOptions::default();
        for (key, v) in entries(value, what, &Self::KEYS)? {
            let flag = |v: &Value| {
                v.as_bool().ok_or_else(|| {
                    invalid(format!(
                        "{what}.{key} must be true or false, not {}",
                        shape(v)
                    ))
                })
            };
            match key.as_str() {
                "delete_created_users" => options.delete_created_users = flag(&v)?,
                "results_from_trusted_storage" => options.results_from_trusted_storage = flag(&v)?,
                "fields" => {
                    options.fields =
                        ParseOptions::from_value(serde_json::json!({ "fields": v }))?.fields;
                }
                "login_methods" => {
                    options.login_methods =
                        ParseOptions::from_value(serde_json::json!({ "login_methods": v }))?
                            .login_methods;
                }
                "undone_creations" => {
                    let Value::Array(items) = v else {
                        return Err(invalid(format!(
                            "{what}.undone_creations must be a list of user ids, not {}",
                            shape(&v)
                        )));
                    };
                    options.undone_creations = items
                        .into_iter()
                        .map(|id| text(id, what, "undone_creations").map(crate::UserId))
                        .collect::<Result<_, _>>()?;
                }
                "uploader_email" => options.uploader_email = Some(text(v, what, &key)?),
                _ => options.results_url = text(v, what, &key)?,
            }
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn camel_and_snake_keys_decode_alike() {
        let a = ExecuteConfig::from_value(json!({"batchSize": 3, "retryDelayMs": 0})).unwrap();
        let b = ExecuteConfig::from_value(json!({"batch_size": 3, "retry_delay_ms": 0})).unwrap();
        assert_eq!((a.batch_size, a.retry_delay), (b.batch_size, b.retry_delay));
        assert_eq!(a.batch_size, Some(3));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_a_code() {
        for bad in [
            json!({"batch": 3}),
            json!({"batch_size": 0}),
            json!({"batch_size": -1}),
            json!({"templates": {"welcome": {"subject": "s"}}}),
            json!({"templates": {"greeting": {}}}),
            json!({"hash_params": {"memory": 1}}),
            json!([1]),
        ] {
            let e = ExecuteConfig::from_value(bad.clone()).unwrap_err();
            assert_eq!(e.code(), IssueCode::InvalidOption, "{bad}");
        }
        let e = ParseOptions::from_value(json!({"delimiter": ",,"})).unwrap_err();
        assert_eq!(e.code(), IssueCode::InvalidOption);
        let e = ParseOptions::from_value(json!({"delimiter": "\""})).unwrap_err();
        assert_eq!(e.code(), IssueCode::InvalidOption);
    }

    #[test]
    fn column_assignments_decode_from_positions_to_names_or_null() {
        let options =
            ParseOptions::from_value(json!({"columnAssignments": {"1": "last name", "3": null}}))
                .unwrap();
        assert_eq!(
            options.column_assignments,
            BTreeMap::from([(1, Some("last name".to_owned())), (3, None)])
        );
        let none = ParseOptions::from_value(json!({"column_assignments": null})).unwrap();
        assert!(none.column_assignments.is_empty());
        for bad in [
            json!([["1", "email"]]),
            json!({"-1": "email"}),
            json!({"+1": "email"}),
            json!({"one": "email"}),
            json!({"": "email"}),
            json!({"99999999999999999999999": "email"}),
            json!({"1": 2}),
            json!({"1": ["email"]}),
            json!({"1": "email", "01": null}),
        ] {
            let e = ParseOptions::from_value(json!({ "column_assignments": bad })).unwrap_err();
            assert_eq!(e.code(), IssueCode::InvalidOption, "{bad}");
        }
    }

    #[test]
    fn a_template_placeholder_is_checked() {
        let t = json!({"welcome": {"subject": "Hi", "text": "{{nope}}", "html": ""}});
        let e = Templates::from_value(t).unwrap_err();
        assert_eq!(e.code(), IssueCode::InvalidTemplate);
    }

    #[test]
    fn exported_settings_never_hold_the_default_password() {
        let value = json!({"generatePasswords": false, "defaultPassword": "Corr3ct-horse-battery"});
        let settings = Settings::from_value(value).unwrap();
        let out = settings.to_value(Naming::Camel);
        assert_eq!(out["hasDefaultPassword"], json!(true));
        assert_eq!(out["generatePasswords"], json!(false));
        assert!(!out.to_string().contains("Corr3ct"));
        assert_eq!(
            Settings::from_value(settings.to_value(Naming::Snake))
                .unwrap_err()
                .code(),
            IssueCode::InvalidSetting,
            "has_default_password is not an input"
        );
    }

    #[test]
    fn a_password_policy_takes_camel_case_and_refuses_unknown_keys() {
        let camel = json!({"passwordPolicy": {"generatedLength": 20}});
        assert_eq!(
            Settings::from_value(camel)
                .unwrap()
                .password_policy
                .generated_length,
            20
        );
        let typo = json!({"password_policy": {"generated_lenght": 20}});
        assert_eq!(
            Settings::from_value(typo).unwrap_err().code(),
            IssueCode::InvalidSetting
        );
    }

    #[test]
    fn the_default_password_is_not_in_debug() {
        let c = ExecuteConfig::from_value(json!({"default_password": "Sekr3t!pass"})).unwrap();
        assert!(!format!("{c:?}").contains("Sekr3t"));
    }
}
