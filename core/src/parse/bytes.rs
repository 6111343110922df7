//! Byte-level helpers of the parser: trimming, counting and scanning in blocks the
//! compiler vectorises.

/// `str::trim`, skipping the work when the value neither starts nor ends with a byte
/// that could be whitespace (ASCII space and controls, or any non-ASCII byte).
pub(super) fn trim(value: &str) -> &str {
    let plain = |b: u8| b > b' ' && b < 0x80;
    match value.as_bytes() {
        [first, .., last] if plain(*first) && plain(*last) => value,
        [only] if plain(*only) => value,
        _ => value.trim(),
    }
}

/// How many times `needle` occurs in `bytes` (in blocks the compiler vectorises).
pub(super) fn count_byte(bytes: &[u8], needle: u8) -> usize {
    let mut blocks = bytes.chunks_exact(64);
    let mut total = 0;
    for block in &mut blocks {
        let mut n = 0u8;
        for &b in block {
            n += u8::from(b == needle);
        }
        total += usize::from(n);
    }
    total + blocks.remainder().iter().filter(|&&b| b == needle).count()
}

/// Reads a line from the start of `bytes`, up to the first CR, LF or `"` (or the end):
/// pushes to `bounds` the range of each field that ends at a `delimiter` before that stop
/// (and of the last field, when the stop is not a `"`), and returns how many bytes come
/// before the stop, whether it is a `"`, whether the bytes other than delimiters are all
/// printable ASCII, and whether they have no byte that may start a forbidden character
/// (a control, or the lead byte 0xC2 of C1 controls or 0xE2 of the bidirectional marks and
/// line separators; see `validate::is_forbidden_char`). The delimiter must not be a CR,
/// LF or `"`.
///
/// Eight bytes at a time: a word of printable ASCII without a quote (the "has less / has
/// more" word tricks, exact for existence) has its delimiters found from an exact mask of
/// the bytes equal to it; any other word is looked at byte by byte.
pub(super) fn scan_line(
    bytes: &[u8],
    delimiter: u8,
    bounds: &mut Vec<(usize, usize)>,
) -> (usize, bool, bool, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = !HIGH;
    // a byte < n (n <= 128); a byte > n (n <= 127)
    let has_less = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let has_more = |x: u64, n: u8| (x.wrapping_add(ONES * u64::from(127 - n)) | x) & HIGH;
    let quotes = ONES * u64::from(b'"');
    let delimiters = ONES * u64::from(delimiter);
    let mut printable = true;
    let mut clean = true;
    let mut field = 0;
    let mut at = 0;
    // One byte of a word that is not plain: `Some` ends the line.
    let mut byte = |i: usize, b: u8, field: &mut usize| -> Option<bool> {
        match b {
            b'\r' | b'\n' => return Some(false),
            b'"' => return Some(true),
            _ if b == delimiter => {
                bounds.push((*field, i));
                *field = i + 1;
            }
            0x20..=0x7e => {}
            _ => {
                printable = false;
                clean &= !matches!(b, 0..=0x1f | 0x7f | 0xc2 | 0xe2);
            }
        }
        None
    };
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        if has_less(x, 0x20) | has_more(x, 0x7e) | has_less(x ^ quotes, 1) == 0 {
            let y = x ^ delimiters;
            // exactly the bytes of `x` equal to the delimiter (no carry between bytes)
            let mut equal = !(((y & LOW7) + LOW7) | y) & HIGH;
            while equal != 0 {
                let i = at + (equal.trailing_zeros() / 8) as usize;
                byte(i, delimiter, &mut field);
                equal &= equal - 1;
            }
        } else {
            for (k, &b) in word.iter().enumerate() {
                if let Some(quote) = byte(at + k, b, &mut field) {
                    if !quote {
                        bounds.push((field, at + k));
                    }
                    return (at + k, quote, printable, clean);
                }
            }
        }
        at += 8;
    }
    for (k, &b) in words.remainder().iter().enumerate() {
        if let Some(quote) = byte(at + k, b, &mut field) {
            if !quote {
                bounds.push((field, at + k));
            }
            return (at + k, quote, printable, clean);
        }
    }
    bounds.push((field, bytes.len()));
    (bytes.len(), false, printable, clean)
}

/// How many LF and how many CR bytes `bytes` has, in one pass of blocks the compiler
/// vectorises.
pub(super) fn count_lf_cr(bytes: &[u8]) -> (usize, usize) {
    let mut blocks = bytes.chunks_exact(64);
    let (mut lf, mut cr) = (0, 0);
    for block in &mut blocks {
        let (mut n, mut r) = (0u8, 0u8);
        for &b in block {
            n += u8::from(b == b'\n');
            r += u8::from(b == b'\r');
        }
        lf += usize::from(n);
        cr += usize::from(r);
    }
    for &b in blocks.remainder() {
        lf += usize::from(b == b'\n');
        cr += usize::from(b == b'\r');
    }
    (lf, cr)
}

/// Whether every byte is printable ASCII (space to `~`), in blocks the compiler vectorises.
pub(super) fn is_printable_ascii(bytes: &[u8]) -> bool {
    let outside = |b: u8| u8::from(b.wrapping_sub(0x20) > 0x5e);
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        if block.iter().fold(0, |acc, &b| acc | outside(b)) != 0 {
            return false;
        }
    }
    blocks
        .remainder()
        .iter()
        .fold(0, |acc, &b| acc | outside(b))
        == 0
}

/// Whether `text` has a CR not followed by LF (before its end).
pub(super) fn has_lone_cr(text: &str) -> bool {
    let mut pieces = text.split('\r').skip(1).peekable();
    while let Some(piece) = pieces.next() {
        if !piece.starts_with('\n') && (!piece.is_empty() || pieces.peek().is_some()) {
            return true;
        }
    }
    false
}

/// Line breaks in `bytes`: LF, CRLF (once) and a lone CR, as the csv reader reads them.
pub(super) fn count_line_breaks(bytes: &[u8]) -> u32 {
    let lf = bytes.iter().filter(|&&b| b == b'\n').count();
    let cr = bytes.iter().filter(|&&b| b == b'\r').count();
    let lone_cr = if cr == 0 {
        0
    } else {
        let crlf = bytes.windows(2).filter(|w| *w == b"\r\n").count();
        cr - crlf
    };
    (lf + lone_cr) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_helpers_agree_with_the_simple_forms() {
        let samples: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"a\nb\r\nc\rd\n".to_vec(),
            (0..=255u8).cycle().take(1000).collect(),
            b"plain ascii, with spaces ~ and more text than one block of sixty-four bytes".to_vec(),
            b"a,b,,c,dd,eeeeeeeeeeeeee,f,\r\n,,,,,,,,,,,,x,\tb\xc3\xa9,c\"".to_vec(),
            "Zoë\tNgata".as_bytes().to_vec(),
        ];
        let all: Vec<u8> = (0..=255u8)
            .chain(b"abc\"~ \x7f\x1f".iter().copied())
            .collect();
        // (stop, quote, printable apart from commas, field ranges)
        let simple_line = |bytes: &[u8]| {
            let end = bytes
                .iter()
                .position(|b| b"\r\n\"".contains(b))
                .unwrap_or(bytes.len());
            let line = &bytes[..end];
            let printable = line.iter().all(|b| *b == b',' || (0x20..0x7f).contains(b));
            let quote = bytes.get(end) == Some(&b'"');
            let mut bounds = Vec::new();
            let mut field = 0;
            for (i, &b) in line.iter().enumerate() {
                if b == b',' {
                    bounds.push((field, i));
                    field = i + 1;
                }
            }
            if !quote {
                bounds.push((field, end));
            }
            (end, quote, printable, bounds)
        };
        let scan = |bytes: &[u8]| {
            let mut bounds = Vec::new();
            let (end, quote, printable, clean) = scan_line(bytes, b',', &mut bounds);
            // clean: no forbidden character in the line (when it is text)
            let line = std::str::from_utf8(&bytes[..end]).unwrap_or("");
            assert!(!clean || !line.chars().any(crate::validate::is_forbidden_char));
            (end, quote, printable, bounds)
        };
        for start in 0..all.len() {
            for len in [1, 3, 8, 9, 17, 40] {
                if let Some(bytes) = all.get(start..start + len) {
                    assert_eq!(scan(bytes), simple_line(bytes), "{bytes:?}");
                }
            }
        }
        for bytes in &samples {
            let simple = bytes.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_byte(bytes, b'\n'), simple);
            let simple = bytes.iter().all(|b| (0x20..0x7f).contains(b));
            assert_eq!(is_printable_ascii(bytes), simple, "{bytes:?}");
            assert_eq!(scan(bytes), simple_line(bytes), "{bytes:?}");
            let simple = (
                bytes.iter().filter(|&&b| b == b'\n').count(),
                bytes.iter().filter(|&&b| b == b'\r').count(),
            );
            assert_eq!(count_lf_cr(bytes), simple);
            let simple = bytes
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .count();
            assert_eq!(count_line_breaks(bytes) as usize, simple);
        }
        assert!(has_lone_cr("a\rb"));
        assert!(has_lone_cr("a\r\rb"));
        assert!(has_lone_cr("a\r\r\n"));
        assert!(!has_lone_cr("a\r\nb\r\n"));
        assert!(!has_lone_cr("a\r"));
        assert!(!has_lone_cr("a\nb"));
        assert_eq!(trim("  a "), "a");
        assert_eq!(trim("a"), "a");
        assert_eq!(trim("\u{a0}a\u{3000}"), "a");
        assert_eq!(trim("é"), "é");
        assert_eq!(trim(""), "");
    }
}
