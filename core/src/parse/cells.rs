//! Where each row's values are: most of them are read in place from the file's text, which
//! the upload owns, by offsets a byte or two long; a value that is not in the text as it is
//! (merged cells, a quoted cell with `""` inside, a replaced character) is copied.
//!
//! A row's record in `spans` takes one of four forms (its kind, kept in two bits a row),
//! for the slots up to its last value (the rest are blank):
//!
//! - adjacent: each value ends one byte before the next one starts (a delimiter between,
//!   no spaces trimmed): one byte a slot, its end past the row's base;
//! - pairs of bytes: each value's start and end past the base, when the row's values lie
//!   within 255 bytes of it;
//! - pairs of 16-bit offsets, within 65,535 bytes;
//! - copied: the values one after the other in `copied`, a 32-bit end each (a value starts
//!   where the one before ended), the base their start there.

/// The kinds of a row's record (see the module's documentation).
const ADJACENT: u8 = 0;
const PAIRS8: u8 = 1;
const PAIRS16: u8 = 2;
const COPIED: u8 = 3;

/// The most slots a row has (one per built-in column and per host profile field).
const MAX_SLOTS: usize = super::MAX_SLOTS;

/// The rows' values, by offsets into the text they were read from.
#[derive(Clone, Default)]
pub(crate) struct Cells {
    /// Per row: where its record in `spans` ends (it starts where the row before's ends).
    row_ends: Vec<u32>,
    /// Per row: the offset its values are counted from (in the text, or in `copied`).
    bases: Vec<u32>,
    /// Per row, four bits (two rows a byte, the first in the low bits): whether it is valid
    /// (bit 0) and its kind (bits 1 and 2).
    flags: Vec<u8>,
    /// The rows' records, one after the other.
    spans: Vec<u8>,
    /// The values of the copied rows.
    copied: String,
}

/// The index would pass 4 GiB (a file of several GB): too large to read.
#[derive(Debug)]
pub(crate) struct Full;

impl Cells {
    /// Room for `rows` rows and `spans` bytes of their records.
    pub(crate) fn with_capacity(rows: usize, spans: usize) -> Cells {
        Cells {
            row_ends: Vec::with_capacity(rows),
            bases: Vec::with_capacity(rows),
            flags: Vec::with_capacity(rows.div_ceil(2)),
            spans: Vec::with_capacity(spans),
            copied: String::new(),
        }
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.bases.len()
    }

    fn nibble(&self, row: usize) -> u8 {
        (self.flags[row / 2] >> ((row % 2) * 4)) & 0xF
    }

    fn push_nibble(&mut self, nibble: u8) {
        if self.len().is_multiple_of(2) {
            self.flags.push(nibble);
        } else if let Some(last) = self.flags.last_mut() {
            *last |= nibble << 4;
        }
    }

    /// Whether the row has no errors.
    pub(crate) fn is_valid(&self, row: usize) -> bool {
        self.nibble(row) & 1 == 1
    }

    /// Marks the row as having an error.
    pub(crate) fn set_invalid(&mut self, row: usize) {
        self.flags[row / 2] &= !(1 << ((row % 2) * 4));
    }

    /// How many rows are valid.
    pub(crate) fn count_valid(&self) -> usize {
        let pairs: usize = self
            .flags
            .iter()
            .map(|f| (f & 0x11).count_ones() as usize)
            .sum();
        pairs
    }

    /// Whether some row has an error.
    pub(crate) fn has_invalid(&self) -> bool {
        self.count_valid() < self.len()
    }

    /// The value of `slot` in `row`, `text` being the text the rows were read from.
    #[inline]
    pub(crate) fn get<'t>(&'t self, text: &'t str, row: usize, slot: usize) -> &'t str {
        let from = match row {
            0 => 0,
            _ => self.row_ends[row - 1] as usize,
        };
        let record = &self.spans[from..self.row_ends[row] as usize];
        let base = self.bases[row] as usize;
        let value = match self.nibble(row) >> 1 {
            ADJACENT => record.get(slot).map(|&end| {
                let start = match slot {
                    0 => 0,
                    _ => usize::from(record[slot - 1]) + 1,
                };
                (text, start, usize::from(end))
            }),
            PAIRS8 => record
                .get(2 * slot..2 * slot + 2)
                .map(|p| (text, usize::from(p[0]), usize::from(p[1]))),
            PAIRS16 => record.get(4 * slot..4 * slot + 4).map(|p| {
                let start = u16::from_le_bytes([p[0], p[1]]);
                let end = u16::from_le_bytes([p[2], p[3]]);
                (text, usize::from(start), usize::from(end))
            }),
            _ => record.get(4 * slot..4 * slot + 4).map(|p| {
                let end = u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize;
                let start = match slot {
                    0 => 0,
                    _ => {
                        let q = &record[4 * slot - 4..4 * slot];
                        u32::from_le_bytes([q[0], q[1], q[2], q[3]]) as usize
                    }
                };
                (self.copied.as_str(), start, end)
            }),
        };
        match value {
            Some((text, start, end)) => text.get(base + start..base + end).unwrap_or(""),
            None => "",
        }
    }

    /// Adds a row whose slots hold `values` (up to its last value; a blank value is `""`).
    /// A value that is a slice of `body`, which starts at `body_at` in the text, is kept by
    /// its offsets; if one is not, the row's values are copied. (Inlined: it is a part of
    /// every row's reading, which the chunks' `append` made the compiler call instead.)
    #[inline(always)]
    pub(crate) fn push_row(
        &mut self,
        body: &str,
        body_at: usize,
        values: &[&str],
        valid: bool,
    ) -> Result<(), Full> {
        let origin = body.as_ptr() as usize;
        // where a value starts in the body, if it is a slice of it
        let offset = |value: &str| {
            let at = (value.as_ptr() as usize).wrapping_sub(origin);
            at.checked_add(value.len())
                .is_some_and(|end| end <= body.len())
                .then_some(at)
        };
        let (kind, base) =
            if let Some(base) = self.push_adjacent(values, offset, origin, body.len()) {
                (ADJACENT, base + body_at)
            } else if let Some((kind, base)) = self.push_pairs(values, offset) {
                (kind, base + body_at)
            } else {
                (COPIED, self.push_copied(values)?)
            };
        let end = u32::try_from(self.spans.len()).map_err(|_| Full)?;
        let base = u32::try_from(base).map_err(|_| Full)?;
        self.push_nibble(kind << 1 | u8::from(valid));
        self.row_ends.push(end);
        self.bases.push(base);
        Ok(())
    }

    /// [`Cells::push_row`] of a row whose values are all in `body`, given as byte ranges
    /// of it (`start..end`, on character boundaries; blank: equal ends): the same record,
    /// byte for byte, without the values' text.
    #[inline(always)]
    pub(crate) fn push_ranges(
        &mut self,
        body: &str,
        body_at: usize,
        ranges: &[(u32, u32)],
        valid: bool,
    ) -> Result<(), Full> {
        let (kind, base) = if let Some(base) = self.push_adjacent_ranges(ranges, body.len()) {
            (ADJACENT, base + body_at)
        } else if let Some((kind, base)) = self.push_pairs_ranges(ranges) {
            (kind, base + body_at)
        } else {
            // values more than 64 KiB apart: copied, as `push_row` copies them
            let mut values = [""; MAX_SLOTS];
            for (value, &(start, end)) in values.iter_mut().zip(ranges) {
                *value = body.get(start as usize..end as usize).unwrap_or("");
            }
            (COPIED, self.push_copied(&values[..ranges.len()])?)
        };
        let end = u32::try_from(self.spans.len()).map_err(|_| Full)?;
        let base = u32::try_from(base).map_err(|_| Full)?;
        self.push_nibble(kind << 1 | u8::from(valid));
        self.row_ends.push(end);
        self.bases.push(base);
        Ok(())
    }

    /// [`Cells::push_adjacent`] of ranges of the body.
    #[inline(always)]
    fn push_adjacent_ranges(&mut self, ranges: &[(u32, u32)], body_len: usize) -> Option<usize> {
        let mut all = [0u8; MAX_SLOTS];
        let ends = all.get_mut(..ranges.len())?;
        let base = match ranges.iter().position(|&(start, end)| start != end) {
            Some(slot) => (ranges[slot].0 as usize).checked_sub(slot)?,
            None => 0,
        };
        let (mut next, mut last, mut chained) = (0usize, 0usize, true);
        for (end_byte, &(start, end)) in ends.iter_mut().zip(ranges) {
            let len = (end - start) as usize;
            let at = (start as usize).wrapping_sub(base);
            chained &= (len == 0) | (at == next);
            let end = next + len;
            last = if len == 0 { last } else { end };
            *end_byte = end as u8;
            next = end + 1;
        }
        if !chained || next > 256 || base + last > body_len {
            return None;
        }
        let at = self.spans.len();
        if ranges.len() <= 8 && self.spans.capacity() - at >= 8 {
            self.spans.extend_from_slice(&all[..8]);
            self.spans.truncate(at + ranges.len());
        } else {
            self.spans.extend_from_slice(&all[..ranges.len()]);
        }
        Some(base)
    }

    /// [`Cells::push_pairs`] of ranges of the body.
    fn push_pairs_ranges(&mut self, ranges: &[(u32, u32)]) -> Option<(u8, usize)> {
        let (mut base, mut last) = (usize::MAX, 0);
        for &(start, end) in ranges.iter().filter(|(start, end)| start != end) {
            base = base.min(start as usize);
            last = last.max(end as usize);
        }
        if base == usize::MAX {
            base = 0;
        }
        let span = last.saturating_sub(base);
        let relative = |(start, end): (u32, u32)| match start != end {
            true => (start as usize - base, end as usize - base),
            false => (0, 0),
        };
        if span <= usize::from(u8::MAX) {
            for &range in ranges {
                let (start, end) = relative(range);
                self.spans.extend_from_slice(&[start as u8, end as u8]);
            }
            return Some((PAIRS8, base));
        }
        if span <= usize::from(u16::MAX) {
            for &range in ranges {
                let (start, end) = relative(range);
                self.spans.extend_from_slice(&(start as u16).to_le_bytes());
                self.spans.extend_from_slice(&(end as u16).to_le_bytes());
            }
            return Some((PAIRS16, base));
        }
        None
    }

    /// Writes the ends of the values past their base, one byte each, when each value
    /// starts one byte after the one before ends (a blank slot before the first value, or
    /// between two, takes one byte, as a blank cell between two delimiters does) and all end
    /// within 255 bytes of the base; returns the base.
    ///
    /// Only the first value is looked for in the body: each next one must start where the
    /// chain of values says, so if the chain ends in the body, every value is in it.
    #[inline(always)]
    fn push_adjacent(
        &mut self,
        values: &[&str],
        offset: impl Fn(&str) -> Option<usize>,
        origin: usize,
        body_len: usize,
    ) -> Option<usize> {
        let mut all = [0u8; MAX_SLOTS];
        let ends = all.get_mut(..values.len())?;
        let base = match values.iter().position(|v| !v.is_empty()) {
            Some(slot) => offset(values[slot])?.checked_sub(slot)?,
            None => 0,
        };
        // Without a branch a slot (the rows' values test the same way every time): where
        // the next slot starts past the base, where the last value ends, whether each
        // value starts where the chain says (a blank one, of length 0, ends where it
        // starts). The ends only grow, so the last slot's is the largest.
        let chain = origin.wrapping_add(base);
        let (mut next, mut last, mut chained) = (0, 0, true);
        for (end_byte, value) in ends.iter_mut().zip(values) {
            let at = (value.as_ptr() as usize).wrapping_sub(chain);
            chained &= value.is_empty() | (at == next);
            let end = next + value.len();
            last = if value.is_empty() { last } else { end };
            *end_byte = end as u8;
            next = end + 1;
        }
        if !chained || next > 256 || base + last > body_len {
            return None;
        }
        // A row of up to 8 slots (most files) as one 8-byte write, the bytes past its ends
        // cut off again, where a copy of its length is a call of `memcpy`; only within the
        // room reserved, so that the index never grows past its estimate for it.
        let at = self.spans.len();
        if values.len() <= 8 && self.spans.capacity() - at >= 8 {
            self.spans.extend_from_slice(&all[..8]);
            self.spans.truncate(at + values.len());
        } else {
            self.spans.extend_from_slice(&all[..values.len()]);
        }
        Some(base)
    }

    /// Writes the values' offsets in pairs of bytes or of 16-bit numbers past the first
    /// value's start, when every value is in the text within 64 KiB of it; returns the
    /// kind and the base.
    fn push_pairs(
        &mut self,
        values: &[&str],
        offset: impl Fn(&str) -> Option<usize>,
    ) -> Option<(u8, usize)> {
        let (mut base, mut last) = (usize::MAX, 0);
        for value in values.iter().filter(|v| !v.is_empty()) {
            let start = offset(value)?;
            base = base.min(start);
            last = last.max(start + value.len());
        }
        if base == usize::MAX {
            base = 0;
        }
        let span = last.saturating_sub(base);
        let relative = |value: &str| match offset(value) {
            Some(start) if !value.is_empty() => (start - base, start - base + value.len()),
            _ => (0, 0),
        };
        if span <= usize::from(u8::MAX) {
            for value in values {
                let (start, end) = relative(value);
                self.spans.extend_from_slice(&[start as u8, end as u8]);
            }
            return Some((PAIRS8, base));
        }
        if span <= usize::from(u16::MAX) {
            for value in values {
                let (start, end) = relative(value);
                self.spans.extend_from_slice(&(start as u16).to_le_bytes());
                self.spans.extend_from_slice(&(end as u16).to_le_bytes());
            }
            return Some((PAIRS16, base));
        }
        None
    }

    /// Copies the values into `copied` and writes their ends; returns their base.
    fn push_copied(&mut self, values: &[&str]) -> Result<usize, Full> {
        let base = self.copied.len();
        // at once: a row of long merged cells is not copied into buffers twice its size
        self.copied.reserve(values.iter().map(|v| v.len()).sum());
        for value in values {
            self.copied.push_str(value);
            let end = u32::try_from(self.copied.len() - base).map_err(|_| Full)?;
            self.spans.extend_from_slice(&end.to_le_bytes());
        }
        Ok(base)
    }

    /// Adds the rows of `other`, read from the same text after these.
    pub(crate) fn append(&mut self, other: Cells) -> Result<(), Full> {
        let spans_base = u32::try_from(self.spans.len()).map_err(|_| Full)?;
        let copied_base = u32::try_from(self.copied.len()).map_err(|_| Full)?;
        if u32::try_from(self.spans.len() + other.spans.len()).is_err()
            || u32::try_from(self.copied.len() + other.copied.len()).is_err()
        {
            return Err(Full);
        }
        self.spans.extend_from_slice(&other.spans);
        self.row_ends
            .extend(other.row_ends.iter().map(|end| end + spans_base));
        self.copied.push_str(&other.copied);
        // A copied row always copies a byte or more: without copies, or with none before
        // these, every base is taken as it is.
        if other.copied.is_empty() || copied_base == 0 {
            self.bases.extend_from_slice(&other.bases);
        } else {
            self.bases
                .extend(other.bases.iter().enumerate().map(|(row, &base)| {
                    match other.nibble(row) >> 1 {
                        COPIED => base + copied_base,
                        _ => base,
                    }
                }));
        }
        self.append_flags(&other);
        Ok(())
    }

    /// Adds the flags of `other`'s rows after these rows' (`bases` already holds both):
    /// byte for byte when these are an even number, else each byte made of two nibbles
    /// of `other` shifted by one (an odd count leaves the last byte's high nibble 0).
    fn append_flags(&mut self, other: &Cells) {
        let rows = other.len();
        if rows == 0 {
            return;
        }
        if (self.len() - rows).is_multiple_of(2) {
            self.flags.extend_from_slice(&other.flags);
            return;
        }
        if let Some(last) = self.flags.last_mut() {
            *last |= other.flags[0] << 4;
        }
        let next = other.flags.iter().skip(1).chain([&0]);
        self.flags.extend(
            other
                .flags
                .iter()
                .zip(next)
                .map(|(&low, &high)| (low >> 4) | (high << 4))
                .take((rows - 1).div_ceil(2)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows pushed in one pass, and the same rows pushed in two or three parts joined by
    /// `append` (cut after every row, so each part starts on an even and an odd row, with
    /// and without copied rows before it), give the same index byte for byte.
    #[test]
    fn append_is_one_pass() {
        let body = format!("a,bb,,ccc\n  x , y\n{}\n", "z".repeat(300));
        let merged = String::from("g1;g2");
        let rows: Vec<(Vec<&str>, bool)> = vec![
            (vec![&body[0..1], &body[2..4], "", &body[6..9]], true),
            (vec![&body[0..1], &merged], false),
            (vec!["", &body[12..13], "", &body[16..17]], true),
            (vec![&merged, "", &merged], true),
            (vec![&body[0..1], &body[18..318]], false),
            (vec![], true),
            (vec![&body[2..4]], false),
        ];
        let push = |cells: &mut Cells, rows: &[(Vec<&str>, bool)]| {
            for (values, valid) in rows {
                cells.push_row(&body, 3, values, *valid).unwrap();
            }
        };
        let mut whole = Cells::with_capacity(0, 0);
        push(&mut whole, &rows);
        whole.set_invalid(2);
        let same = |a: &Cells, b: &Cells| {
            assert_eq!(a.row_ends, b.row_ends);
            assert_eq!(a.bases, b.bases);
            assert_eq!(a.flags, b.flags);
            assert_eq!(a.spans, b.spans);
            assert_eq!(a.copied, b.copied);
        };
        for cut in 0..=rows.len() {
            for second in cut..=rows.len() {
                let mut joined = Cells::with_capacity(0, 0);
                for part in [&rows[..cut], &rows[cut..second], &rows[second..]] {
                    let mut cells = Cells::with_capacity(0, 0);
                    push(&mut cells, part);
                    joined.append(cells).unwrap();
                }
                joined.set_invalid(2);
                same(&joined, &whole);
            }
        }
    }

    /// A row given as ranges of the body gives the record its values as slices give, byte
    /// for byte, in every kind (blank values anywhere, adjacent or not, far apart).
    #[test]
    fn ranges_push_as_slices_do() {
        let body = format!(
            "a,bb,,ccc\n  x , y\n{}\n{}",
            "z".repeat(300),
            "w".repeat(70_000)
        );
        let end = body.len() as u32;
        let rows: Vec<Vec<(u32, u32)>> = vec![
            vec![(0, 1), (2, 4), (5, 5), (6, 9)],
            vec![(0, 0), (12, 13), (0, 0), (16, 17)],
            vec![(0, 1), (20, 320)],
            vec![(0, 1), (end - 70_000, end)],
            vec![(0, 0), (3, 3), (2, 4)],
            vec![(7, 7), (0, 0)],
            vec![(1, 1), (2, 4)],
            vec![(0, 1); 9],
            vec![(2, 4), (5, 5), (6, 9), (10, 10), (11, 11)],
            vec![],
        ];
        let mut slices = Cells::with_capacity(0, 0);
        let mut ranges = Cells::with_capacity(0, 0);
        for (i, row) in rows.iter().enumerate() {
            let values: Vec<&str> = row
                .iter()
                .map(|&(s, e)| {
                    if s == e {
                        ""
                    } else {
                        &body[s as usize..e as usize]
                    }
                })
                .collect();
            slices.push_row(&body, 3, &values, i % 3 != 0).unwrap();
            ranges.push_ranges(&body, 3, row, i % 3 != 0).unwrap();
        }
        assert_eq!(ranges.row_ends, slices.row_ends);
        assert_eq!(ranges.bases, slices.bases);
        assert_eq!(ranges.flags, slices.flags);
        assert_eq!(ranges.spans, slices.spans);
        assert_eq!(ranges.copied, slices.copied);
    }

    /// Each row's values read back as they were given, in every kind, and after `append`.
    #[test]
    fn values_read_back_in_every_kind() {
        let body = format!(
            "a,bb,,ccc\n  x , y\n{}\n{}",
            "z".repeat(300),
            "w".repeat(70_000)
        );
        let at = 5; // as if the body followed 5 bytes of text
        let text = format!("sep=;{body}");
        let merged = String::from("g1;g2");
        let long = &body[body.len() - 70_000..];
        let rows: Vec<Vec<&str>> = vec![
            vec![&body[0..1], &body[2..4], "", &body[6..9]], // adjacent
            vec!["", &body[12..13], "", &body[16..17]],      // pairs of bytes (trimmed)
            vec![&body[0..1], &body[20..320]],               // 16-bit pairs
            vec![&body[0..1], long],                         // copied: too far apart
            vec![&body[0..1], &merged, ""],                  // copied: not in the body
            vec!["", "", &body[2..4]],                       // adjacent, blanks first
            vec![],
        ];
        let mut cells = Cells::with_capacity(0, 0);
        for (i, values) in rows.iter().enumerate() {
            cells.push_row(&body, at, values, i % 2 == 0).unwrap();
        }
        let kinds: Vec<u8> = (0..rows.len()).map(|r| cells.nibble(r) >> 1).collect();
        assert_eq!(
            kinds,
            [ADJACENT, PAIRS8, PAIRS16, COPIED, COPIED, ADJACENT, ADJACENT]
        );
        let mut twice = cells.clone();
        twice.append(cells.clone()).unwrap();
        for (i, values) in rows.iter().chain(rows.iter()).enumerate() {
            for slot in 0..6 {
                let expected = values.get(slot).copied().unwrap_or("");
                assert_eq!(twice.get(&text, i, slot), expected, "row {i} slot {slot}");
            }
            assert_eq!(twice.is_valid(i), (i % rows.len()).is_multiple_of(2));
        }
        assert_eq!(twice.count_valid(), 8);
        twice.set_invalid(2);
        assert_eq!((twice.count_valid(), twice.has_invalid()), (7, true));
    }
}
