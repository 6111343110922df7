//! Settings from a TOML/JSON file and the command line, and parse options from flags.

use crate::args::{ParseArgs, SettingsArgs};
use crate::exit::{io_error, CliError};
use lms_bulk_upload::{ContentKind, ContentRef, ParseOptions, SettingsBuilder};
use std::path::Path;

/// Reads the settings file (if any), then applies the flags over it.
///
/// A default password, from whichever source, turns `generate_passwords` off unless the file
/// or a flag sets it explicitly (the engine then refuses the contradiction).
pub fn settings_builder(args: &SettingsArgs) -> Result<SettingsBuilder, CliError> {
    let mut b = match &args.settings {
        Some(path) => read_file(path)?,
        None => SettingsBuilder::default(),
    };
    let explicit_generate = args.generate_passwords.is_some() || file_sets_generate(args)?;
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
        (&mut b.force_password_reset, args.force_password_reset),
        (&mut b.send_notification_email, args.send_notification_email),
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
    if let Some(email) = &args.uploader_email {
        b.uploader_email = Some(email.clone());
    }
    if let Some(n) = args.min_password_length {
        b.password_policy.min_length = n;
    }
    if let Some(n) = args.generated_password_length {
        b.password_policy.generated_length = n;
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

/// The settings file alone (`undo` takes only the uploader, the results link and the site
/// from it).
pub fn settings_file(path: &Path) -> Result<SettingsBuilder, CliError> {
    read_file(path)
}

fn read_file(path: &Path) -> Result<SettingsBuilder, CliError> {
    let text = read_text(path)?;
    if is_toml(path) {
        toml::from_str(&text).map_err(|e| {
            CliError::usage(format!(
                "settings file {}: {}",
                path.display(),
                toml_error(&text, &e)
            ))
        })
    } else {
        SettingsBuilder::from_json(&text).map_err(|e| {
            CliError::usage(format!(
                "settings file {}: {}",
                path.display(),
                without_value(e.message())
            ))
        })
    }
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

/// Whether the settings file names `generate_passwords` itself.
fn file_sets_generate(args: &SettingsArgs) -> Result<bool, CliError> {
    let Some(path) = &args.settings else {
        return Ok(false);
    };
    let text = read_text(path)?;
    let value: serde_json::Value = if is_toml(path) {
        toml::from_str(&text).unwrap_or_default()
    } else {
        serde_json::from_str(&text).unwrap_or_default()
    };
    Ok(value.get("generate_passwords").is_some() || value.get("generatePasswords").is_some())
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

pub fn parse_options(args: &ParseArgs) -> Result<ParseOptions, CliError> {
    let mut options = ParseOptions {
        group_separator: args.group_separator,
        ..ParseOptions::default()
    };
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
