//! Settings and the host's declarations from a TOML/JSON file and the command line, and
//! parse options from flags.

use crate::args::{ParseArgs, SettingsArgs};
use crate::exit::{io_error, CliError};
use lms_bulk_upload::{ContentKind, ContentRef, ParseOptions, SettingsBuilder};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The keys of a settings file that are the host's declarations rather than settings: they
/// go to the parse options (`ParseOptions::from_value`), the rest to the engine's settings.
/// camelCase is accepted as for the settings.
const DECLARATIONS: [(&str, &str); 5] = [
    ("fields", "fields"),
    ("login_methods", "loginMethods"),
    ("clear_token", "clearToken"),
    ("sheet", "sheet"),
    ("encoding", "encoding"),
];

/// A settings file, read once: the engine's settings and the host's declarations (profile
/// `fields`, `login_methods`, `clear_token`).
pub struct SettingsFile {
    pub path: PathBuf,
    /// The settings, unvalidated (the flags go over them, then the engine builds them).
    pub builder: SettingsBuilder,
    /// The declarations as written, for `ParseOptions::from_value` (which checks them).
    pub declarations: Map<String, Value>,
    /// Whether the file names `generate_passwords` itself.
    sets_generate: bool,
}

/// Reads the `--settings` file, if any.
pub fn read_settings(args: &SettingsArgs) -> Result<Option<SettingsFile>, CliError> {
    args.settings.as_deref().map(settings_file).transpose()
}

/// Reads the settings file (if any), then applies the flags over it.
///
/// A default password, from whichever source, turns `generate_passwords` off unless the file
/// or a flag sets it explicitly (the engine then refuses the contradiction).
pub fn settings_builder(
    args: &SettingsArgs,
    file: Option<&SettingsFile>,
) -> Result<SettingsBuilder, CliError> {
    let mut b = file.map(|f| f.builder.clone()).unwrap_or_default();
    let explicit_generate =
        args.generate_passwords.is_some() || file.is_some_and(|f| f.sets_generate);
    let flags = [
        (&mut b.enrol_existing_users, args.enrol_existing_users),
        (
            &mut b.update_existing_profiles,
            args.update_existing_profiles,
        ),
        (
            &mut b.update_existing_passwords,
            args.update_existing_passwords,
        ),
        (&mut b.generate_passwords, args.generate_passwords),
        (&mut b.send_invitations, args.send_invitations),
        (&mut b.force_password_reset, args.force_password_reset),
        (&mut b.send_notification_email, args.send_notification_email),
        (&mut b.suspend_missing_users, args.suspend_missing),
        (&mut b.reactivate_suspended_users, args.reactivate_suspended),
    ];
    for (field, flag) in flags {
        if let Some(value) = flag {
            *field = value;
        }
    }
    if args.no_notification_email {
        b.send_notification_email = false;
    }
    if let Some(password) = default_password(args)? {
        b.default_password = Some(password);
    }
    if b.default_password.is_some() && !explicit_generate {
        b.generate_passwords = false;
    }
    for text in &args.enrolments {
        b.enrolments.push(content_ref(text)?);
    }
    b.groups.extend(args.groups.iter().cloned());
    if let Some(url) = &args.site_url {
        b.site_url = url.clone();
    }
    if let Some(url) = &args.results_url {
        b.results_url = url.clone();
    }
    if let Some(url) = &args.invitation_url {
        b.invitation_url = Some(url.clone());
    }
    if let Some(email) = &args.uploader_email {
        b.uploader_email = Some(email.clone());
    }
    if let Some(n) = args.min_password_length {
        b.password_policy.min_length = n;
    }
    if let Some(n) = args.generated_password_length {
        b.password_policy.generated_length = n;
    }
    if let Some(method) = &args.login_method {
        b.default_login_method = Some(method.clone());
    }
    if let Some(percent) = args.missing_threshold {
        b.missing_users_threshold = percent;
    }
    Ok(b)
}

fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| io_error("cannot read the settings file", path, e))
}

fn is_toml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

/// Reads a settings file: TOML (`.toml`) or JSON, one object whose keys are the engine's
/// settings and the host's declarations. Nothing is checked here beyond the shape; the
/// engine decodes and checks both.
pub fn settings_file(path: &Path) -> Result<SettingsFile, CliError> {
    let text = read_text(path)?;
    let failed = |why: String| CliError::usage(format!("settings file {}: {why}", path.display()));
    let value: Value = if is_toml(path) {
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| failed(toml_error(&text, &e)))?;
        serde_json::to_value(table).map_err(|e| failed(without_value(&e.to_string())))?
    } else {
        serde_json::from_str(&text).map_err(|e| failed(without_value(&e.to_string())))?
    };
    let Value::Object(map) = value else {
        return Err(failed("expected an object of settings".into()));
    };
    let mut settings = Map::new();
    let mut declarations = Map::new();
    for (key, v) in map {
        match DECLARATIONS.iter().find(|(s, c)| key == *s || key == *c) {
            Some((snake, _)) => {
                declarations.insert((*snake).to_owned(), v);
            }
            None => {
                settings.insert(key, v);
            }
        }
    }
    let sets_generate =
        settings.contains_key("generate_passwords") || settings.contains_key("generatePasswords");
    let builder = settings_of(&settings).map_err(failed)?;
    Ok(SettingsFile {
        path: path.to_owned(),
        builder,
        declarations,
        sets_generate,
    })
}

/// The engine's settings from the file's other keys (serde, as `SettingsBuilder::from_json`);
/// an error names the key it is about, never the value (which may be a password under the
/// wrong key).
fn settings_of(settings: &Map<String, Value>) -> Result<SettingsBuilder, String> {
    let decode =
        |map: Map<String, Value>| serde_json::from_value::<SettingsBuilder>(Value::Object(map));
    decode(settings.clone()).map_err(|e| {
        // The first key that fails on its own is the one the error is about.
        let culprit = settings.iter().find_map(|(key, v)| {
            decode(Map::from_iter([(key.clone(), v.clone())]))
                .err()
                .map(|e| (key, e.to_string()))
        });
        match culprit {
            Some((key, message)) if message.starts_with("unknown field") => {
                // serde lists every spelling; the snake_case ones are the documented keys.
                let known: Vec<&str> = message
                    .split('`')
                    .skip(3)
                    .step_by(2)
                    .filter(|k| !k.chars().any(|c| c.is_ascii_uppercase()))
                    .collect();
                format!(
                    "unknown key {key:?}: the keys are the engine's settings ({}) and the \
                     host's declarations (fields, login_methods, clear_token, sheet, encoding)",
                    known.join(", ")
                )
            }
            Some((key, message)) => format!("{key}: {}", without_value(&message)),
            None => without_value(&e.to_string()),
        }
    })
}

/// A TOML error as its place and message only. The toml crate's own `Display` quotes the
/// offending line, which may be the one holding `default_password`; a value quoted in the
/// message itself (a type error) is cut out too.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let place = e.span().map(|span| {
        let before = &text.as_bytes()[..span.start.min(text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        format!("line {line}, column {column}: ")
    });
    let message = without_value(e.message().lines().next().unwrap_or(""));
    format!("{}{message}", place.unwrap_or_default())
}

/// A serde message without the value it may quote: "invalid type: string \"...\", expected
/// a boolean" names what was found, which may be a password given under the wrong key.
fn without_value(message: &str) -> String {
    match message.split_once(", expected ") {
        Some((found, expected)) if found.contains(['"', '`']) => {
            format!("a value of the wrong type, expected {expected}")
        }
        _ => message.to_owned(),
    }
}

fn default_password(args: &SettingsArgs) -> Result<Option<String>, CliError> {
    if let Some(var) = &args.default_password_env {
        return match std::env::var(var) {
            Ok(p) if !p.is_empty() => Ok(Some(p)),
            _ => Err(CliError::usage(format!(
                "--default-password-env: the environment variable {var} is not set"
            ))),
        };
    }
    if let Some(path) = &args.default_password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| io_error("cannot read the default password file", path, e))?;
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if line.is_empty() {
            return Err(CliError::usage(format!(
                "--default-password-file {}: the first line is empty",
                path.display()
            )));
        }
        return Ok(Some(line.to_owned()));
    }
    Ok(args.default_password.clone())
}

/// `course:ID`, `collection:ID` or `campaign:ID`.
pub fn content_ref(text: &str) -> Result<ContentRef, CliError> {
    let (kind, id) = text.split_once(':').ok_or_else(|| {
        CliError::usage(format!(
            "--enrol {text:?}: expected KIND:ID, e.g. course:induction-101"
        ))
    })?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "course" => ContentKind::Course,
        "collection" => ContentKind::Collection,
        "campaign" => ContentKind::Campaign,
        other => {
            return Err(CliError::usage(format!(
                "--enrol {text:?}: {other:?} is not course, collection or campaign"
            )))
        }
    };
    Ok(ContentRef::new(kind, id.trim()))
}

/// The parse options: the settings file's declarations (profile `fields`, `login_methods`,
/// `clear_token`) decoded by the engine, then the flags over them (`--clear-token` over the
/// file's `clear_token`).
pub fn parse_options(
    args: &ParseArgs,
    file: Option<&SettingsFile>,
) -> Result<ParseOptions, CliError> {
    let mut declared = Map::new();
    if let Some(file) = file {
        declared.clone_from(&file.declarations);
        // Decoded alone first, so that an error in the file says so.
        ParseOptions::from_value(Value::Object(declared.clone())).map_err(|e| {
            let mut err = CliError::from(e);
            err.message = format!("settings file {}: {}", file.path.display(), err.message);
            err
        })?;
    }
    let flags = [
        ("clear_token", "--clear-token", &args.clear_token),
        ("sheet", "--sheet", &args.sheet),
        ("encoding", "--encoding", &args.encoding),
    ];
    for (key, flag, value) in flags {
        if let Some(value) = value {
            declared.insert(key.into(), Value::String(value.clone()));
            // Checked alone, so that an error names the flag.
            ParseOptions::from_value(serde_json::json!({ key: value })).map_err(|e| {
                let mut err = CliError::from(e);
                err.message = format!("{flag}: {}", err.message);
                err
            })?;
        }
    }
    let mut options = ParseOptions::from_value(Value::Object(declared))?;
    options.group_separator = args.group_separator;
    if let Some(d) = &args.delimiter {
        options.delimiter = Some(match d.as_str() {
            "tab" | "\\t" | "\t" => b'\t',
            "," => b',',
            ";" => b';',
            "|" => b'|',
            other => {
                return Err(CliError::usage(format!(
                    "--delimiter {other:?}: use `,` `;` `|` or `tab`"
                )))
            }
        });
    }
    if let Some(n) = args.max_rows {
        options.max_rows = n;
    }
    if let Some(n) = args.max_file_bytes {
        options.max_file_bytes = n;
    }
    Ok(options)
}

/// A `file://` URL for an absolute path (RFC 8089), percent-encoding what needs it.
pub fn file_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut url = String::from("file://");
    let text = absolute.to_string_lossy();
    if !text.starts_with('/') {
        url.push('/');
    }
    for byte in text.replace('\\', "/").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' | b':' => {
                url.push(char::from(byte))
            }
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    url
}
