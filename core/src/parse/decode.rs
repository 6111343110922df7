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

/// Decodes `bytes`, borrowing when they are already UTF-8. The text must fit in
/// `max_bytes` once decoded, which is checked before decoding (`file_too_large`): UTF-16
/// grows by up to half (a 2-byte unit can be 3 bytes of UTF-8) and Windows-1252 up to
/// three times (`€` is 1 byte there, 3 in UTF-8). The caller checked the file's own size.
pub(crate) fn decode(bytes: &[u8], max_bytes: usize) -> Result<(Cow<'_, str>, Encoding), Error> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8Bom)),
            Err(_) => windows_1252(bytes.len(), rest, max_bytes),
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let len = utf16_len(rest, u16::from_le_bytes);
        fits(bytes.len(), len, max_bytes)?;
        return utf16(rest, len, encoding_rs::UTF_16LE).map(|t| (Cow::Owned(t), Encoding::Utf16Le));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let len = utf16_len(rest, u16::from_be_bytes);
        fits(bytes.len(), len, max_bytes)?;
        return utf16(rest, len, encoding_rs::UTF_16BE).map(|t| (Cow::Owned(t), Encoding::Utf16Be));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8)),
        Err(_) => windows_1252(bytes.len(), bytes, max_bytes),
    }
}

/// `file_too_large` if the text, `decoded` bytes once decoded, passes `max_bytes`.
fn fits(file_bytes: usize, decoded: usize, max_bytes: usize) -> Result<(), Error> {
    if decoded <= max_bytes {
        return Ok(());
    }
    Err(Error::file(
        IssueCode::FileTooLarge,
        None,
        None,
        format!(
            "the file is {file_bytes} bytes, {decoded} once decoded to UTF-8; the limit (max_file_bytes) is {max_bytes}"
        ),
    ))
}

/// The UTF-8 length of UTF-16 code units (a surrogate counts 2: a pair is 4 bytes).
fn utf16_len(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> usize {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    units
        .map(|u| match u {
            0..=0x7F => 1,
            0x80..=0x7FF | 0xD800..=0xDFFF => 2,
            _ => 3,
        })
        .sum()
}

fn windows_1252(
    file_bytes: usize,
    bytes: &[u8],
    max_bytes: usize,
) -> Result<(Cow<'static, str>, Encoding), Error> {
    // The UTF-8 length of each byte's character (1 to 3).
    let mut lengths = [1u8; 256];
    for (b, length) in lengths.iter_mut().enumerate().skip(0x80) {
        let byte = [b as u8];
        *length = encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&byte)
            .0
            .len() as u8;
    }
    let decoded = bytes
        .iter()
        .map(|&b| usize::from(lengths[usize::from(b)]))
        .sum();
    fits(file_bytes, decoded, max_bytes)?;
    let mut decoder = encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(decoded + SPARE);
    let mut read = 0;
    loop {
        let (result, n, _) = decoder.decode_to_string(&bytes[read..], &mut text, true);
        read += n;
        match result {
            encoding_rs::CoderResult::InputEmpty => break,
            // not expected: the length was counted
            encoding_rs::CoderResult::OutputFull => text.reserve(SPARE),
        }
    }
    Ok((Cow::Owned(text), Encoding::Windows1252))
}

/// Room left after the counted length when decoding, so the decoder never stops short.
const SPARE: usize = 16;

/// Decodes UTF-16 into a string of its counted UTF-8 length `len` (`encoding_rs`'s one-shot
/// decoding reserves its worst case, one and a half times the file).
fn utf16(
    bytes: &[u8],
    len: usize,
    encoding: &'static encoding_rs::Encoding,
) -> Result<String, Error> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(len + SPARE);
    let mut read = 0;
    let valid = loop {
        let (result, n) =
            decoder.decode_to_string_without_replacement(&bytes[read..], &mut text, true);
        read += n;
        match result {
            encoding_rs::DecoderResult::InputEmpty => break true,
            encoding_rs::DecoderResult::Malformed(..) => break false,
            // not expected: the length was counted
            encoding_rs::DecoderResult::OutputFull => text.reserve(SPARE),
        }
    };
    match valid && bytes.len().is_multiple_of(2) {
        true => Ok(text),
        false => Err(Error::file(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_lengths_are_exact() {
        let text = "a\u{e9}\u{20ac}\u{1F600}z\r\n";
        let text_16 = text;
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(utf16_len(&le, u16::from_le_bytes), text.len());
        assert_eq!(utf16_len(&be, u16::from_be_bytes), text.len());
        let all: Vec<u8> = (0..=255).collect();
        let decoded = encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&all)
            .0;
        assert!(windows_1252(256, &all, decoded.len()).is_ok());
        let error = windows_1252(256, &all, decoded.len() - 1).unwrap_err();
        assert_eq!(error.code(), IssueCode::FileTooLarge);
        // decoded in one go, into the counted length (no reallocation)
        let (Cow::Owned(text), _) = windows_1252(256, &all, usize::MAX).unwrap() else {
            panic!("owned")
        };
        assert_eq!(
            (text.as_str(), text.capacity()),
            (&*decoded, decoded.len() + SPARE)
        );
        for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let mut bytes = bom.to_vec();
            bytes.extend(if bom[0] == 0xFF { &le } else { &be });
            let (Cow::Owned(decoded), _) = decode(&bytes, usize::MAX).unwrap() else {
                panic!("owned")
            };
            assert_eq!(
                (decoded.as_str(), decoded.capacity()),
                (text_16, text_16.len() + SPARE)
            );
        }
    }
}
