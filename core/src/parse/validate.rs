//! Checks of single values: language tags and control characters.

/// Whether `c` must never appear in a value: C0/C1 controls (CR, LF, NUL, tab...), DEL, and
/// the Unicode bidirectional overrides and isolates that can disguise text (RTL override...).
pub(crate) fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}')
}

/// The first forbidden character of `value`, if any.
pub(crate) fn find_forbidden_char(value: &str) -> Option<char> {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    value.chars().find(|&c| is_forbidden_char(c))
}

/// A readable name for a forbidden character, for messages.
pub(crate) fn describe_char(c: char) -> String {
    match c {
        '\r' => "a carriage return (CR)".into(),
        '\n' => "a line break (LF)".into(),
        '\t' => "a tab".into(),
        '\0' => "a NUL byte".into(),
        '\u{202E}' => "a right-to-left override (U+202E)".into(),
        c => format!("the control character U+{:04X}", u32::from(c)),
    }
}

/// Whether `tag` is a well-formed IETF BCP 47 language tag (structure only: a 2-3 letter
/// language, then subtags of 1-8 letters or digits; `x-` private use; `i-` grandfathered
/// forms). The 4-8 letter primary subtags the grammar allows are refused: none is assigned.
///
/// Underscores (`en_NZ`) are refused: the message suggests the hyphenated form.
pub(crate) fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let first_ok = match first.len() {
        1 => first.eq_ignore_ascii_case("x") || first.eq_ignore_ascii_case("i"),
        // 4 letters are reserved and 5-8 letters ("English", "Deutsch") are registered to
        // no language: refuse them so a language *name* is reported, not silently stored.
        2 | 3 => first.bytes().all(|b| b.is_ascii_alphabetic()),
        _ => false,
    };
    if !first_ok {
        return false;
    }
    let mut count = 0;
    for part in parts {
        count += 1;
        if part.is_empty() || part.len() > 8 || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return false;
        }
    }
    first.len() > 1 || count > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for ok in [
            "en",
            "en-NZ",
            "zh-Hant-TW",
            "mi",
            "es-419",
            "x-klingon",
            "sgn-BE-FR",
            "de-CH-1996",
        ] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "e",
            "en_NZ",
            "english!",
            "en-",
            "-NZ",
            "en--NZ",
            "toolongsubtag",
            "en-abcdefghi",
            "12",
            "English",
            "Deutsch",
            "engl",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn forbidden_characters() {
        assert_eq!(find_forbidden_char("Zoë Ngata"), None);
        assert_eq!(find_forbidden_char("a\r\nBcc: x"), Some('\r'));
        assert_eq!(find_forbidden_char("evil\u{202E}fdp.exe"), Some('\u{202E}'));
        assert_eq!(find_forbidden_char("nul\0"), Some('\0'));
    }
}
