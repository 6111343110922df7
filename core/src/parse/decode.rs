//! Turning the file's bytes into text: UTF-8 (with or without BOM), UTF-16 with BOM, and
//! Windows-1252 as the fallback for bytes that are not UTF-8.

use crate::error::Error;
use crate::issue::IssueCode;
use serde::{Deserialize, Serialize};

use std::borrow::Cow;

/// The encoding a file was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8 without a byte order mark.
    Utf8,
    /// UTF-8 with a byte order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-16 little-endian with a byte order mark (Excel's "Unicode text").
    Utf16Le,
    /// UTF-16 big-endian with a byte order mark.
    Utf16Be,
    /// Windows-1252 (Western European), detected or named.
    Windows1252,
    /// Another legacy code page (Windows-1250, Windows-1251, Shift_JIS, GBK, Big5...),
    /// detected or named.
    CodePage(CodePage),
}

/// A legacy code page other than Windows-1252, by its WHATWG name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodePage(&'static encoding_rs::Encoding);

impl CodePage {
    /// The code page's WHATWG name (`windows-1250`, `Shift_JIS`, `GBK`, `Big5`...).
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl std::fmt::Debug for CodePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Encoding {
    /// A short name: `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`, `windows-1252`, or a
    /// code page's WHATWG name (also the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
            Encoding::CodePage(page) => page.name(),
        }
    }

    /// The encoding a label names (`utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`, or any
    /// WHATWG label of a legacy encoding: `windows-1250`, `cp1251`, `shift_jis`, `sjis`,
    /// `gbk`, `big5`...), compared ignoring ASCII case.
    pub fn from_label(label: &str) -> Option<Encoding> {
        let lower = label.trim().to_ascii_lowercase();
        match lower.as_str() {
            "utf-8-bom" => return Some(Encoding::Utf8Bom),
            "utf-16le" => return Some(Encoding::Utf16Le),
            "utf-16be" => return Some(Encoding::Utf16Be),
            _ => {}
        }
        let found = encoding_rs::Encoding::for_label_no_replacement(lower.as_bytes())?;
        Some(of(found))
    }
}

/// The [`Encoding`] of an `encoding_rs` encoding.
fn of(encoding: &'static encoding_rs::Encoding) -> Encoding {
    if encoding == encoding_rs::UTF_8 {
        Encoding::Utf8
    } else if encoding == encoding_rs::UTF_16LE {
        Encoding::Utf16Le
    } else if encoding == encoding_rs::UTF_16BE {
        Encoding::Utf16Be
    } else if encoding == encoding_rs::WINDOWS_1252 {
        Encoding::Windows1252
    } else {
        Encoding::CodePage(CodePage(encoding))
    }
}

impl Serialize for Encoding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Encoding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        Encoding::from_label(&label)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown encoding {label:?}")))
    }
}

/// How a legacy code page was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chosen {
    /// The file says (a BOM), or it is valid UTF-8, or the host named the encoding.
    Known,
    /// Detected from enough letters.
    Detected,
    /// Detected from few letters ([`MIN_EVIDENCE`]), or some bytes are not valid in the
    /// chosen code page.
    Unsure,
}

/// Decodes `bytes`, borrowing when they are already UTF-8. A byte order mark decides;
/// else the encoding `named` by the host; else UTF-8 when the bytes are UTF-8; else the
/// legacy code page detected from the letters ([`detect`]). The text must fit in
/// `max_bytes` once decoded, which is checked before decoding (`file_too_large`) where the
/// decoded length can be counted (UTF-16 grows by up to half, Windows-1252 up to three
/// times) and as the text grows otherwise. The caller checked the file's own size.
pub(crate) fn decode(
    bytes: &[u8],
    max_bytes: usize,
    named: Option<Encoding>,
) -> Result<(Cow<'_, str>, Encoding, Chosen), Error> {
    let known = |(text, encoding)| (text, encoding, Chosen::Known);
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8Bom, Chosen::Known)),
            Err(_) => legacy(bytes.len(), rest, max_bytes, named),
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(bytes.len(), rest, max_bytes, Encoding::Utf16Le).map(known);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(bytes.len(), rest, max_bytes, Encoding::Utf16Be).map(known);
    }
    match (named, std::str::from_utf8(bytes)) {
        (None | Some(Encoding::Utf8 | Encoding::Utf8Bom), Ok(text)) => {
            Ok((Cow::Borrowed(text), Encoding::Utf8, Chosen::Known))
        }
        (Some(Encoding::Utf8 | Encoding::Utf8Bom), Err(e)) => Err(Error::file(
            IssueCode::InvalidEncoding,
            None,
            None,
            format!(
                "the file was said to be UTF-8 but is not: byte {} is not UTF-8",
                e.valid_up_to() + 1
            ),
        )),
        (Some(e @ (Encoding::Utf16Le | Encoding::Utf16Be)), _) => {
            utf16(bytes.len(), bytes, max_bytes, e).map(known)
        }
        _ => legacy(bytes.len(), bytes, max_bytes, named),
    }
}

/// [`decode`] of bytes given: UTF-8 (with or without a byte order mark) becomes the text
/// as it is, checked once and not copied; other encodings are decoded into text of their
/// own (and the bytes dropped). Also returns where the text starts (past a byte order
/// mark, which the text keeps).
pub(crate) fn decode_owned(
    bytes: Vec<u8>,
    max_bytes: usize,
    named: Option<Encoding>,
) -> Result<(String, usize, Encoding, Chosen), Error> {
    let bytes = match read_as_utf8(&bytes, named) {
        Some((start, encoding)) => match String::from_utf8(bytes) {
            Ok(text) => return Ok((text, start, encoding, Chosen::Known)),
            Err(e) => e.into_bytes(),
        },
        None => bytes,
    };
    let (text, encoding, chosen) = decode(&bytes, max_bytes, named)?;
    Ok((text.into_owned(), 0, encoding, chosen))
}

/// Whether [`decode`] takes `bytes` as the UTF-8 text they are when they are UTF-8 (and
/// so borrows them): after a UTF-8 byte order mark (itself UTF-8), or without a byte order
/// mark when UTF-8 or no encoding is named. Returns where the text starts (past the byte
/// order mark) and the encoding it is read in.
pub(crate) fn read_as_utf8(bytes: &[u8], named: Option<Encoding>) -> Option<(usize, Encoding)> {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let utf16 = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
    match (bom, named) {
        (true, _) => Some((3, Encoding::Utf8Bom)),
        (false, None | Some(Encoding::Utf8 | Encoding::Utf8Bom)) if !utf16 => {
            Some((0, Encoding::Utf8))
        }
        _ => None,
    }
}

/// Fewer non-ASCII bytes than this are too little to tell code pages apart: the guess is
/// [`Chosen::Unsure`].
pub(crate) const MIN_EVIDENCE: usize = 16;

/// At most this many bytes of lines with non-ASCII bytes are given to the detector: plenty
/// to tell code pages apart, and the detector's cost (about 10 MB/s on accented text) stays
/// bounded whatever the file's size.
pub(crate) const DETECTOR_BUDGET: usize = 256 << 10;

/// The legacy code page the letters of `bytes` fit best (`chardetng`, the detector of
/// Firefox, given the lines that have non-ASCII bytes, up to [`DETECTOR_BUDGET`]), and
/// whether there was enough to go on ([`MIN_EVIDENCE`]).
pub(crate) fn detect(bytes: &[u8]) -> (&'static encoding_rs::Encoding, bool) {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    let (mut fed, mut evidence) = (0, 0);
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let non_ascii = line.iter().filter(|b| !b.is_ascii()).count();
        if non_ascii == 0 {
            continue;
        }
        detector.feed(line, false);
        fed += line.len();
        evidence += non_ascii;
        if fed >= DETECTOR_BUDGET {
            break;
        }
    }
    detector.feed(b"", true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    (guess, evidence >= MIN_EVIDENCE)
}

/// Decodes bytes that are not UTF-8 with the code page `named`, or the one detected.
fn legacy(
    file_bytes: usize,
    bytes: &[u8],
    max_bytes: usize,
    named: Option<Encoding>,
) -> Result<(Cow<'static, str>, Encoding, Chosen), Error> {
    let (encoding, sure) = match named {
        Some(Encoding::CodePage(page)) => (page.0, None),
        Some(_) => (encoding_rs::WINDOWS_1252, None),
        None => {
            let (guess, sure) = detect(bytes);
            (guess, Some(sure))
        }
    };
    let (text, malformed) = if encoding == encoding_rs::WINDOWS_1252 {
        (windows_1252(file_bytes, bytes, max_bytes)?, false)
    } else {
        code_page(file_bytes, bytes, max_bytes, encoding)?
    };
    let chosen = match sure {
        None => Chosen::Known,
        Some(true) if !malformed => Chosen::Detected,
        Some(_) => Chosen::Unsure,
    };
    Ok((Cow::Owned(text), of(encoding), chosen))
}

/// Decodes with a code page whose decoded length is not counted ahead (multi-byte ones):
/// the text is checked against `max_bytes` as it grows. Also says whether some bytes were
/// not valid in it (each became U+FFFD).
fn code_page(
    file_bytes: usize,
    bytes: &[u8],
    max_bytes: usize,
    encoding: &'static encoding_rs::Encoding,
) -> Result<(String, bool), Error> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(bytes.len().min(max_bytes) + SPARE);
    let (mut read, mut malformed) = (0, false);
    loop {
        let (result, n, replaced) = decoder.decode_to_string(&bytes[read..], &mut text, true);
        read += n;
        malformed |= replaced;
        fits(file_bytes, text.len(), max_bytes)?;
        match result {
            encoding_rs::CoderResult::InputEmpty => break,
            encoding_rs::CoderResult::OutputFull => {
                let left = (bytes.len() - read).saturating_mul(3);
                text.reserve(left.min(max_bytes.saturating_sub(text.len())) + SPARE);
            }
        }
    }
    Ok((text, malformed))
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

/// Decodes UTF-16 (`encoding` is `Utf16Le` or `Utf16Be`), its length counted first.
fn utf16(
    file_bytes: usize,
    bytes: &[u8],
    max_bytes: usize,
    encoding: Encoding,
) -> Result<(Cow<'static, str>, Encoding), Error> {
    let (unit, coder): (fn([u8; 2]) -> u16, _) = match encoding {
        Encoding::Utf16Be => (u16::from_be_bytes, encoding_rs::UTF_16BE),
        _ => (u16::from_le_bytes, encoding_rs::UTF_16LE),
    };
    let len = utf16_len(bytes, unit);
    fits(file_bytes, len, max_bytes)?;
    utf16_units(bytes, len, coder).map(|t| (Cow::Owned(t), encoding))
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

fn windows_1252(file_bytes: usize, bytes: &[u8], max_bytes: usize) -> Result<String, Error> {
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
    Ok(text)
}

/// Room left after the counted length when decoding, so the decoder never stops short.
const SPARE: usize = 16;

/// Decodes UTF-16 into a string of its counted UTF-8 length `len` (`encoding_rs`'s one-shot
/// decoding reserves its worst case, one and a half times the file).
fn utf16_units(
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
        let text = windows_1252(256, &all, usize::MAX).unwrap();
        assert_eq!(
            (text.as_str(), text.capacity()),
            (&*decoded, decoded.len() + SPARE)
        );
        for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let mut bytes = bom.to_vec();
            bytes.extend(if bom[0] == 0xFF { &le } else { &be });
            let (Cow::Owned(decoded), _, Chosen::Known) = decode(&bytes, usize::MAX, None).unwrap()
            else {
                panic!("owned")
            };
            assert_eq!(
                (decoded.as_str(), decoded.capacity()),
                (text_16, text_16.len() + SPARE)
            );
        }
    }
}
