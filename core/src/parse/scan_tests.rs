//! The line scan by 16-byte blocks (`bytes::scan_line`) against the reading by 8-byte
//! words it replaced (kept here as `scan_line_words`): the same fields, lengths and
//! flags, and the same outcome for a line over the fields' limit (too many columns, or
//! read by `csv_core`); and the masks of other targets' word tricks against SSE2's.

use super::bytes::{block_masks, block_masks_words, scan_line};

/// What the parser makes of a scan: `csv_core`'s reading, too many columns, or the line.
fn outcome(scan: (usize, bool, bool, bool), bounds: &[(usize, usize)], max: usize) -> String {
    let (len, slow, printable, clean) = scan;
    if slow {
        "slow".to_string()
    } else if bounds.len() > max {
        "too many columns".to_string()
    } else {
        format!("{len} {printable} {clean} {bounds:?}")
    }
}

#[test]
fn blocks_read_as_words_did() {
    let alphabet: &[u8] = b"ab,,,\"\"\n\r ~\x7f\x1f\x80\xc3\xa9\xe2\xff\t";
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..40_000 {
        let len = (next() % 72) as usize;
        // mostly plain bytes, so that long plain runs and fields meet the limits
        let line: Vec<u8> = (0..len)
            .map(|_| match next() % 8 {
                0..=3 => b'a' + (next() % 26) as u8,
                4 => b',',
                _ => alphabet[(next() % alphabet.len() as u64) as usize],
            })
            .collect();
        let max_fields = [0, 1, 2, 3, 5, 8, 13, usize::MAX][round % 8];
        let max_quoted = [usize::MAX, 0, 1, 4, 20][round % 5];
        let (mut old, mut new) = (Vec::new(), Vec::new());
        let old_scan = scan_line_words(&line, b',', max_fields, max_quoted, &mut old);
        let new_scan = scan_line(&line, b',', max_fields, max_quoted, &mut new);
        assert_eq!(
            outcome(old_scan, &old, max_fields),
            outcome(new_scan, &new, max_fields),
            "{line:?} {max_fields} {max_quoted}"
        );
    }
}

#[test]
fn word_masks_agree_with_sse2() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..100_000u32 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut block = [0u8; 16];
        for (i, b) in block.iter_mut().enumerate() {
            let r = (seed.rotate_left(i as u32 * 4) as u8) ^ (round as u8);
            // plain bytes most of the time, so that the first special byte moves about
            *b = if r.is_multiple_of(4) {
                r
            } else {
                b'a' + r % 26
            };
            if r.is_multiple_of(9) {
                *b = b',';
            }
        }
        let (special, equal) = block_masks(&block, b',');
        let (word_special, word_equal) = block_masks_words(&block, b',');
        assert_eq!(equal, word_equal, "{block:?}");
        assert_eq!(
            special.trailing_zeros(),
            word_special.trailing_zeros(),
            "{block:?}"
        );
        let exact = block.iter().enumerate().fold(0u32, |m, (i, &b)| {
            m | u32::from(!(0x20..=0x7e).contains(&b) || b == b'"') << i
        });
        assert_eq!(special, exact, "{block:?}");
    }
}

/// The line scan as it was, by 8-byte words (see `bytes::scan_line`).
fn scan_line_words(
    bytes: &[u8],
    delimiter: u8,
    max_fields: usize,
    max_quoted: usize,
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
    let (mut printable, mut clean) = (true, true);
    // A byte of a value other than printable ASCII.
    let mut note = |b: u8| {
        if !(0x20..=0x7e).contains(&b) {
            printable = false;
            clean &= !matches!(b, 0..=0x1f | 0x7f | 0xc2 | 0xe2);
        }
    };
    let mut field = 0;
    let mut at = 0;
    // exactly the bytes of `x` equal to the delimiter, their high bits (no carry between
    // bytes)
    let equal_bytes = |x: u64| {
        let y = x ^ delimiters;
        !(((y & LOW7) + LOW7) | y) & HIGH
    };
    // Pushes the fields ended by the delimiters marked in `equal` (the high bits of a word's
    // bytes at `at`); whether the line then has too many fields.
    let push_ends = |mut equal: u64, at: usize, field: &mut usize, bounds: &mut Vec<_>| {
        if equal == 0 {
            return false;
        }
        while equal != 0 {
            let i = at + (equal.trailing_zeros() / 8) as usize;
            bounds.push((*field, i));
            *field = i + 1;
            equal &= equal - 1;
        }
        bounds.len() > max_fields
    };
    let special = |x: u64| has_less(x, 0x20) | has_more(x, 0x7e) | has_less(x ^ quotes, 1);
    'words: while at < bytes.len() {
        // Two words at a time (one test for both, one turn of the loop) while they are
        // plain, the usual case; a word that is not is left to the steps below.
        if let Some(block) = bytes.get(at..at + 16) {
            let (mut lo, mut hi) = ([0u8; 8], [0u8; 8]);
            lo.copy_from_slice(&block[..8]);
            hi.copy_from_slice(&block[8..]);
            let (lo, hi) = (u64::from_le_bytes(lo), u64::from_le_bytes(hi));
            if special(lo) == 0 {
                if push_ends(equal_bytes(lo), at, &mut field, bounds) {
                    return (at + 8, false, printable, clean);
                }
                at += 8;
                if special(hi) == 0 {
                    if push_ends(equal_bytes(hi), at, &mut field, bounds) {
                        return (at + 8, false, printable, clean);
                    }
                    at += 8;
                    continue;
                }
            }
        }
        // where the word's bytes are looked at one by one
        let mut i = at;
        if let Some(word) = bytes.get(at..at + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let x = u64::from_le_bytes(w);
            let special = special(x);
            if special == 0 {
                if push_ends(equal_bytes(x), at, &mut field, bounds) {
                    return (at + 8, false, printable, clean);
                }
                at += 8;
                continue;
            }
            if bounds.len() > max_fields {
                return (at, false, printable, clean);
            }
            // The bytes below the first byte marked in `special` (exact for the lowest: a
            // borrow or carry only runs up from a marked byte) are printable ASCII without
            // a quote: their delimiters from the word, the rest one by one.
            let below = (special & special.wrapping_neg()) - 1;
            let _ = push_ends(equal_bytes(x) & below, at, &mut field, bounds);
            i = at + (special.trailing_zeros() / 8) as usize;
        } else if bounds.len() > max_fields {
            return (at, false, printable, clean);
        }
        let stop = (at + 8).min(bytes.len());
        while i < stop {
            let b = bytes[i];
            match b {
                b'\r' | b'\n' => {
                    bounds.push((field, i));
                    return (i, false, printable, clean);
                }
                b'"' => {
                    let content = i + 1;
                    if i != field {
                        return (i, true, printable, clean);
                    }
                    // A closing quote further than `max_quoted` is csv_core's to find
                    // (and a cell too long): no search through the rest of the file.
                    let window =
                        &bytes[content..bytes.len().min(content.saturating_add(max_quoted))];
                    let close = match window.iter().position(|&b| b == b'"') {
                        Some(close) => content + close,
                        None => return (i, true, printable, clean),
                    };
                    for &b in &bytes[content..close] {
                        if b == b'\r' || b == b'\n' {
                            return (i, true, printable, clean);
                        }
                        note(b);
                    }
                    bounds.push((content, close));
                    match bytes.get(close + 1) {
                        None | Some(b'\r' | b'\n') => return (close + 1, false, printable, clean),
                        Some(&b) if b == delimiter => {
                            field = close + 2;
                            at = close + 2;
                            continue 'words;
                        }
                        Some(_) => return (i, true, printable, clean),
                    }
                }
                _ if b == delimiter => {
                    bounds.push((field, i));
                    field = i + 1;
                }
                _ => note(b),
            }
            i += 1;
        }
        at = stop;
    }
    bounds.push((field, bytes.len()));
    (bytes.len(), false, printable, clean)
}
