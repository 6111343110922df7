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

/// From the start of `bytes`, up to the first CR, LF or `"` (or the end): how many bytes
/// come before it, whether it is a `"`, and whether those bytes are all printable ASCII.
/// Eight bytes at a time (the "has less / has more" word tricks, exact for existence);
/// a word with anything else is looked at byte by byte.
pub(super) fn scan_line(bytes: &[u8]) -> (usize, bool, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // a byte < n (n <= 128); a byte > n (n <= 127)
    let has_less = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let has_more = |x: u64, n: u8| (x.wrapping_add(ONES * u64::from(127 - n)) | x) & HIGH;
    let mut printable = true;
    let mut at = 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        let special =
            has_less(x, 0x20) | has_more(x, 0x7e) | has_less(x ^ (ONES * u64::from(b'"')), 1);
        if special != 0 {
            for (k, &b) in word.iter().enumerate() {
                match b {
                    b'\r' | b'\n' => return (at + k, false, printable),
                    b'"' => return (at + k, true, printable),
                    0x20..=0x7e => {}
                    _ => printable = false,
                }
            }
        }
        at += 8;
    }
    for (k, &b) in words.remainder().iter().enumerate() {
        match b {
            b'\r' | b'\n' => return (at + k, false, printable),
            b'"' => return (at + k, true, printable),
            0x20..=0x7e => {}
            _ => printable = false,
        }
    }
    (bytes.len(), false, printable)
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
            "Zoë\tNgata".as_bytes().to_vec(),
        ];
        let all: Vec<u8> = (0..=255u8)
            .chain(b"abc\"~ \x7f\x1f".iter().copied())
            .collect();
        let simple_line = |bytes: &[u8]| {
            let end = bytes
                .iter()
                .position(|b| b"\r\n\"".contains(b))
                .unwrap_or(bytes.len());
            let printable = bytes[..end].iter().all(|b| (0x20..0x7f).contains(b));
            (end, bytes.get(end) == Some(&b'"'), printable)
        };
        for start in 0..all.len() {
            for len in [1, 3, 8, 9, 17, 40] {
                if let Some(bytes) = all.get(start..start + len) {
                    assert_eq!(scan_line(bytes), simple_line(bytes), "{bytes:?}");
                }
            }
        }
        for bytes in &samples {
            let simple = bytes.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_byte(bytes, b'\n'), simple);
            let simple = bytes.iter().all(|b| (0x20..0x7f).contains(b));
            assert_eq!(is_printable_ascii(bytes), simple, "{bytes:?}");
            assert_eq!(scan_line(bytes), simple_line(bytes), "{bytes:?}");
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
