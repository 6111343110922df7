//! Turning the file's bytes into text: UTF-8 (with or without BOM), UTF-16 with BOM, and
//! Windows-1252 as the fallback for bytes that are not UTF-8.

use crate::error::Error;
use crate::issue::IssueCode;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The encoding a file was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8 without a byte order mark.
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-8 with a byte order mark (Excel's "CSV UTF-8").
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    /// UTF-16 little-endian with a byte order mark (Excel's "Unicode text").
    #[serde(rename = "utf-16le")]
    Utf16Le,
    /// UTF-16 big-endian with a byte order mark.
    #[serde(rename = "utf-16be")]
    Utf16Be,
    /// Windows-1252, guessed because the bytes are not valid UTF-8 (`encoding_guessed`).
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl Encoding {
    /// A short name: `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be` or `windows-1252` (also
    /// the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
        }
    }
}

/// Decodes `bytes`, borrowing when they are already UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), Error> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8Bom)),
            Err(_) => Ok((Cow::Owned(windows_1252(rest)), Encoding::Windows1252)),
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, encoding_rs::UTF_16LE).map(|t| (Cow::Owned(t), Encoding::Utf16Le));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, encoding_rs::UTF_16BE).map(|t| (Cow::Owned(t), Encoding::Utf16Be));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8)),
        Err(_) => Ok((Cow::Owned(windows_1252(bytes)), Encoding::Windows1252)),
    }
}

fn windows_1252(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

fn utf16(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> Result<String, Error> {
    match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) if bytes.len().is_multiple_of(2) => Ok(text.into_owned()),
        _ => Err(Error::file(
            IssueCode::InvalidEncoding,
            None,
            None,
            format!(
                "the file starts with a {} byte order mark but is not valid UTF-16",
                encoding.name()
            ),
        )),
    }
}
