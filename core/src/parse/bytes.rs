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

/// Reads a line from the start of `bytes` as the csv reader would, when it is simple:
/// fields split at `delimiter`, a field may be quoted if it has no `"` or line break inside
/// and its closing quote ends the field. Pushes to `bounds` each field's range (of its
/// value: the quotes left out) and returns the line's length, whether the line is not
/// simple (then the rest is meaningless: read it with csv_core), whether the values are
/// all printable ASCII, and whether they have no byte that may start a forbidden
/// character (a control, or the lead byte 0xC2 of C1 controls or 0xE2 of the
/// bidirectional marks and line separators; see `validate::is_forbidden_char`). The
/// delimiter must not be a CR, LF or `"`. Stops (as if the line ended) once `bounds` holds
/// more than `max_fields` ranges: the line has too many columns whatever follows. Looks for
/// a closing quote only within `max_quoted` bytes of the opening one.
///
/// Sixteen bytes a step: the bytes that are not plain (printable ASCII other than a
/// quote) and those equal to the delimiter found as two 16-bit masks
/// ([`block_masks`]); a block without a byte that is not plain has its delimiters from its
/// mask; in any other, so do the bytes below the first that is not plain, and the rest of
/// its 8-byte word is looked at byte by byte. The limit on the fields is checked where the
/// former reading by 8-byte words checked it (after a plain block's delimiters, and before
/// a word that is not plain), so a line over the limit ends as it did: too many columns,
/// or read by `csv_core` when a quote comes first.
///
/// Inlined into the rows' reading (its one caller on the hot path): as a call, its
/// registers saved and its four results passed back through memory cost about 30
/// instructions a row.
#[inline(always)]
pub(super) fn scan_line(
    bytes: &[u8],
    delimiter: u8,
    max_fields: usize,
    max_quoted: usize,
    bounds: &mut Vec<(usize, usize)>,
) -> (usize, bool, bool, bool) {
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
    // Pushes the fields ended by the delimiters marked in `equal` (bit `i`: the byte at
    // `at + i`); whether the line then has too many fields.
    let push_ends = |mut equal: u32, at: usize, field: &mut usize, bounds: &mut Vec<_>| {
        if equal == 0 {
            return false;
        }
        while equal != 0 {
            let i = at + equal.trailing_zeros() as usize;
            bounds.push((*field, i));
            *field = i + 1;
            equal &= equal - 1;
        }
        bounds.len() > max_fields
    };
    'words: while at < bytes.len() {
        let (special, equal) = match bytes.get(at..at + 16) {
            Some(block) => {
                let mut array = [0u8; 16];
                array.copy_from_slice(block);
                block_masks(&array, delimiter)
            }
            None => {
                // the last bytes, then line feeds (not plain: the loops below stop at the
                // end of `bytes`)
                let mut block = [b'\n'; 16];
                let rest = &bytes[at..];
                block[..rest.len()].copy_from_slice(rest);
                block_masks(&block, delimiter)
            }
        };
        // Both words plain, the usual case.
        if special == 0 {
            if push_ends(equal, at, &mut field, bounds) {
                return (at + 16, false, printable, clean);
            }
            at += 16;
            continue;
        }
        let mut first = special.trailing_zeros() as usize;
        let mut equal = equal;
        if first >= 8 {
            // the first word plain
            if push_ends(equal & 0xff, at, &mut field, bounds) {
                return (at + 8, false, printable, clean);
            }
            at += 8;
            first -= 8;
            equal >>= 8;
        }
        // The word at `at` is not plain: its bytes below `first` are (their delimiters
        // from the mask), the rest are looked at one by one.
        if bounds.len() > max_fields {
            return (at, false, printable, clean);
        }
        let _ = push_ends(equal & ((1 << first) - 1), at, &mut field, bounds);
        let mut i = at + first;
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

/// Of the 16 bytes of `block`, bit `i` set for byte `i`: those that
/// are not plain (outside printable ASCII, or a quote), and those equal to `delimiter`.
/// SSE2's byte compares (part of every x86-64), through `safe_arch`: an add, three
/// compares, an or and two `pmovmskb` for 16 bytes, where the word tricks took some 30
/// instructions.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn block_masks(block: &[u8; 16], delimiter: u8) -> (u32, u32) {
    use safe_arch::{
        add_i8_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i,
        load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let x = load_unaligned_m128i(block);
    // byte + 1 below 0x21 as a signed byte: below 0x20, or 0x7f and above
    let outside = cmp_lt_mask_i8_m128i(
        add_i8_m128i(x, set_splat_i8_m128i(1)),
        set_splat_i8_m128i(0x21),
    );
    let quote = cmp_eq_mask_i8_m128i(x, set_splat_i8_m128i(b'"' as i8));
    let special = move_mask_i8_m128i(bitor_m128i(outside, quote)) as u32;
    let equal = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(x, set_splat_i8_m128i(delimiter as i8)));
    (special, equal as u32)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(super) fn block_masks(block: &[u8; 16], delimiter: u8) -> (u32, u32) {
    block_masks_words(block, delimiter)
}

/// [`block_masks`] by word tricks, for other targets: the delimiters exactly, the bytes
/// that are not plain exactly up to the first (a borrow or carry only runs upwards from a
/// marked byte; the bits above it may be wrong, and are never read).
#[cfg(any(test, not(target_arch = "x86_64")))]
pub(super) fn block_masks_words(block: &[u8; 16], delimiter: u8) -> (u32, u32) {
    let (mut lo, mut hi) = ([0u8; 8], [0u8; 8]);
    lo.copy_from_slice(&block[..8]);
    hi.copy_from_slice(&block[8..]);
    let (lo, hi) = (u64::from_le_bytes(lo), u64::from_le_bytes(hi));
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = !HIGH;
    // a byte < n (n <= 128); a byte > n (n <= 127)
    let has_less = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let has_more = |x: u64, n: u8| (x.wrapping_add(ONES * u64::from(127 - n)) | x) & HIGH;
    let quotes = ONES * u64::from(b'"');
    let delimiters = ONES * u64::from(delimiter);
    let special = |x: u64| has_less(x, 0x20) | has_more(x, 0x7e) | has_less(x ^ quotes, 1);
    let equal = |x: u64| {
        let y = x ^ delimiters;
        !(((y & LOW7) + LOW7) | y) & HIGH
    };
    // the high bits of a word's bytes as its low 8 bits
    let bits = |m: u64| ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32;
    let lo_special = bits(special(lo));
    let special = match lo_special {
        0 => bits(special(hi)) << 8,
        _ => lo_special,
    };
    (special, bits(equal(lo)) | bits(equal(hi)) << 8)
}

/// How many LF and how many CR bytes `bytes` has, in one pass of blocks the compiler
/// vectorises: 32 byte counters a kind, one a lane, added to for up to 255 blocks of 32
/// bytes before they are summed (a sum across the lanes for each block of 64 bytes cost
/// more than the compares).
pub(super) fn count_lf_cr(bytes: &[u8]) -> (usize, usize) {
    const LANES: usize = 32;
    let (mut lf, mut cr) = (0, 0);
    let mut runs = bytes.chunks(LANES * 255);
    for run in &mut runs {
        let (mut n, mut r) = ([0u8; LANES], [0u8; LANES]);
        let mut blocks = run.chunks_exact(LANES);
        for block in &mut blocks {
            for (i, &b) in block.iter().enumerate() {
                n[i] = n[i].wrapping_add(u8::from(b == b'\n'));
                r[i] = r[i].wrapping_add(u8::from(b == b'\r'));
            }
        }
        lf += n.iter().map(|&c| usize::from(c)).sum::<usize>();
        cr += r.iter().map(|&c| usize::from(c)).sum::<usize>();
        for &b in blocks.remainder() {
            lf += usize::from(b == b'\n');
            cr += usize::from(b == b'\r');
        }
    }
    (lf, cr)
}

/// How many LF-ended lines (and a last line) have a byte other than CR: an upper bound of
/// the records of a file whose lines end with LF or CRLF.
pub(super) fn count_content_lines(bytes: &[u8]) -> usize {
    let (mut lines, mut content) = (0, false);
    for &b in bytes {
        match b {
            b'\n' => {
                lines += usize::from(content);
                content = false;
            }
            b'\r' => {}
            _ => content = true,
        }
    }
    lines + usize::from(content)
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
            b"\"a\",b,\"c,d\",\"\",\"e\tf\",g\"h\",\"i\"\"j\"".to_vec(),
            b"x,\"Acme Ltd\",y,\"\"\r\n".to_vec(),
            b"x,\"Acme Ltd\"z,y".to_vec(),
            b"x,\"Acme\nLtd\",y".to_vec(),
            b"x,\"Acme Ltd".to_vec(),
            "Zoë\tNgata".as_bytes().to_vec(),
            // a byte whose low seven bits are the delimiter, after plain bytes in its word
            b"ab\xac,cd,efghijklmnop\xac\xacq,r,\xac".to_vec(),
            "0123456789abcdef,\u{20ac}\u{12c},ghijklmnopqrstu,vw\u{12c}x,y\r\n"
                .as_bytes()
                .to_vec(),
        ];
        let all: Vec<u8> = (0..=255u8)
            .chain(b"abc\"~ \x7f\x1f".iter().copied())
            .collect();
        // The csv reader's reading of the line, when scan_line reads it.
        let check_line = |bytes: &[u8]| {
            let mut bounds = Vec::new();
            let (end, slow, printable, clean) =
                scan_line(bytes, b',', usize::MAX, usize::MAX, &mut bounds);
            let stop = bytes
                .iter()
                .position(|b| b"\r\n\"".contains(b))
                .unwrap_or(bytes.len());
            if bytes.get(stop) != Some(&b'"') {
                assert!(!slow, "{bytes:?}");
            }
            // (the parser never starts a line at a line break: the csv reader skips those)
            if slow || matches!(bytes.first(), None | Some(b'\r' | b'\n')) {
                return;
            }
            let mut reader = csv_core::Reader::new();
            let (mut output, mut ends) = (vec![0u8; 4096], vec![0usize; 1024]);
            let (_, nin, _, nend) = reader.read_record(&bytes[..end], &mut output, &mut ends);
            assert_eq!(nin, end);
            let (_, _, _, more) = reader.read_record(&[], &mut output, &mut ends[nend..]);
            let count = nend + more;
            let mut fields = Vec::new();
            let mut from = 0;
            for &to in &ends[..count] {
                fields.push(output[from..to].to_vec());
                from = to;
            }
            let ours: Vec<Vec<u8>> = bounds.iter().map(|&(a, b)| bytes[a..b].to_vec()).collect();
            assert_eq!(ours, fields, "{bytes:?}");
            let values: Vec<u8> = fields.concat();
            assert_eq!(
                printable,
                values.iter().all(|b| (0x20..0x7f).contains(b)),
                "{bytes:?}"
            );
            if clean {
                let text = std::str::from_utf8(&values).unwrap_or("");
                assert!(!text.chars().any(crate::parse::validate::is_forbidden_char));
            }
            assert!(
                end == bytes.len() || b"\r\n".contains(&bytes[end]),
                "{bytes:?}"
            );
        };
        for start in 0..all.len() {
            for len in [1, 3, 8, 9, 17, 40] {
                if let Some(bytes) = all.get(start..start + len) {
                    check_line(bytes);
                }
            }
        }
        for bytes in &samples {
            let simple = bytes.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_byte(bytes, b'\n'), simple);
            let simple = bytes.iter().all(|b| (0x20..0x7f).contains(b));
            assert_eq!(is_printable_ascii(bytes), simple, "{bytes:?}");
            check_line(bytes);
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
        // past a run of 255 blocks of counters, and past 255 of one kind in a lane
        for long in [
            (0..20_000u32)
                .map(|i| b"ab\n\r,"[(i * 7 % 5) as usize])
                .collect::<Vec<u8>>(),
            vec![b'\n'; 8160 * 2 + 31],
        ] {
            let simple = (
                long.iter().filter(|&&b| b == b'\n').count(),
                long.iter().filter(|&&b| b == b'\r').count(),
            );
            assert_eq!(count_lf_cr(&long), simple);
        }
        assert_eq!(count_content_lines(b"a\n\n\r\n b\r\nc"), 3);
        assert_eq!(count_content_lines(b"\n\n"), 0);
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
