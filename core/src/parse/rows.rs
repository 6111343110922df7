//! Checks of one row's values, and duplicate emails across rows.

use super::cells::{Cells, Full};
use super::issue_log::IssueLog;
use crate::issue::IssueCode;
use crate::parse::column::Column;
use crate::parse::email::{check_email, emails_equal, plainly_valid_hash};
use crate::parse::options::ParseOptions;
use crate::parse::upload::{split_groups, Upload};
use crate::parse::validate::{describe_char, find_forbidden_char, is_language_tag};

/// A row's values by slot, blank when empty: as text (`&str` slices, for a row whose values
/// are not all in the file's text as they are), or as ranges of the file's text
/// ([`Ranges`], the usual row), whose text is only made where a check needs it.
pub(super) trait RowValues {
    /// The value's length in bytes.
    fn len(&self, slot: usize) -> usize;
    /// The value's bytes.
    fn bytes(&self, slot: usize) -> &[u8];
    /// The value's bytes and, after them, any bytes that follow it in memory (up to the
    /// end of the text it is read from): the value is the first [`RowValues::len`] bytes.
    fn bytes_on(&self, slot: usize) -> &[u8];
    /// The value's text.
    fn text(&self, slot: usize) -> &str;
    /// Bit `slot` set for each slot (of the first 32) whose value is blank, `clear_len`
    /// bytes long, or longer than `max` bytes.
    fn length_flags(&self, clear_len: usize, max: usize) -> u32;
    /// Adds the row of these values (its slots up to `used`) to `cells`: see
    /// [`Cells::push_row`].
    fn push_to(
        &self,
        cells: &mut Cells,
        body: &str,
        body_at: usize,
        used: usize,
        valid: bool,
    ) -> Result<(), Full>;
}

impl RowValues for [&str] {
    #[inline(always)]
    fn len(&self, slot: usize) -> usize {
        self[slot].len()
    }
    #[inline(always)]
    fn bytes(&self, slot: usize) -> &[u8] {
        self[slot].as_bytes()
    }
    #[inline(always)]
    fn bytes_on(&self, slot: usize) -> &[u8] {
        self[slot].as_bytes()
    }
    #[inline(always)]
    fn text(&self, slot: usize) -> &str {
        self[slot]
    }
    #[inline(always)]
    fn length_flags(&self, clear_len: usize, max: usize) -> u32 {
        let mut flags = 0;
        for (slot, value) in self.iter().enumerate().take(32) {
            flags |= u32::from(length_flagged(value.len(), clear_len, max)) << slot;
        }
        flags
    }
    #[inline(always)]
    fn push_to(
        &self,
        cells: &mut Cells,
        body: &str,
        body_at: usize,
        used: usize,
        valid: bool,
    ) -> Result<(), Full> {
        cells.push_row(body, body_at, &self[..used], valid)
    }
}

/// A row's values as byte ranges of `text` (`start..end`; blank: equal ends; the slots
/// past the file's are blank, so that their number may be a multiple of 4). Every range
/// starts and ends on a character boundary (the fields of a line are cut at an ASCII
/// delimiter, a quote or a line break, and trimmed of whole characters), so a value's text
/// is its bytes.
pub(super) struct Ranges<'a> {
    pub(super) text: &'a str,
    pub(super) ranges: &'a [(u32, u32)],
}

impl RowValues for Ranges<'_> {
    #[inline(always)]
    fn len(&self, slot: usize) -> usize {
        let (start, end) = self.ranges[slot];
        (end - start) as usize
    }
    #[inline(always)]
    fn bytes(&self, slot: usize) -> &[u8] {
        let (start, end) = self.ranges[slot];
        &self.text.as_bytes()[start as usize..end as usize]
    }
    #[inline(always)]
    fn bytes_on(&self, slot: usize) -> &[u8] {
        let (start, _) = self.ranges[slot];
        self.text
            .as_bytes()
            .get(start as usize..)
            .unwrap_or_default()
    }
    #[inline(always)]
    fn text(&self, slot: usize) -> &str {
        let (start, end) = self.ranges[slot];
        self.text.get(start as usize..end as usize).unwrap_or("")
    }
    #[inline(always)]
    fn length_flags(&self, clear_len: usize, max: usize) -> u32 {
        range_length_flags(self.ranges, clear_len, max)
    }
    #[inline(always)]
    fn push_to(
        &self,
        cells: &mut Cells,
        body: &str,
        body_at: usize,
        used: usize,
        valid: bool,
    ) -> Result<(), Full> {
        cells.push_ranges(body, body_at, &self.ranges[..used], valid)
    }
}

/// [`RowValues::length_flags`] of ranges: four at a time with SSE2 (their lengths by a
/// subtraction, compared with 0, the clear token's length and the limit, one
/// `movmskps`), the rest one by one.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn range_length_flags(ranges: &[(u32, u32)], clear_len: usize, max: usize) -> u32 {
    use safe_arch::{
        cast_to_m128_from_m128i, cast_to_m128i_from_m128, cmp_eq_mask_i32_m128i,
        cmp_gt_mask_i32_m128i, m128i, move_mask_m128, set_splat_i32_m128i,
        shuffle_abi_f32_all_m128, sub_i32_m128i,
    };
    let (clear, limit) = range_bounds(clear_len, max);
    // lengths compared as unsigned: both sides' top bit flipped, then compared as signed
    let top = set_splat_i32_m128i(i32::MIN);
    let zero = set_splat_i32_m128i(0);
    let clear_v = set_splat_i32_m128i(clear as i32);
    let limit_v = set_splat_i32_m128i((limit ^ 0x8000_0000) as i32);
    let mut flags = 0u32;
    let quads = ranges.len().min(32) / 4;
    for (q, quad) in ranges.chunks_exact(4).take(quads).enumerate() {
        let a = cast_to_m128_from_m128i(m128i::from([quad[0].0, quad[0].1, quad[1].0, quad[1].1]));
        let b = cast_to_m128_from_m128i(m128i::from([quad[2].0, quad[2].1, quad[3].0, quad[3].1]));
        let starts = cast_to_m128i_from_m128(shuffle_abi_f32_all_m128::<0b10_00_10_00>(a, b));
        let ends = cast_to_m128i_from_m128(shuffle_abi_f32_all_m128::<0b11_01_11_01>(a, b));
        let len = sub_i32_m128i(ends, starts);
        let hit = cmp_eq_mask_i32_m128i(len, zero)
            | cmp_eq_mask_i32_m128i(len, clear_v)
            | cmp_gt_mask_i32_m128i(len ^ top, limit_v);
        flags |= (move_mask_m128(cast_to_m128_from_m128i(hit)) as u32) << (4 * q);
    }
    let done = 4 * quads;
    flags | range_length_flags_from(ranges, done, clear, limit)
}

/// [`RowValues::length_flags`] of ranges, one by one.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn range_length_flags(ranges: &[(u32, u32)], clear_len: usize, max: usize) -> u32 {
    let (clear, limit) = range_bounds(clear_len, max);
    range_length_flags_from(ranges, 0, clear, limit)
}

/// The clear token's length and the limit as a range's lengths are (`u32`): a length
/// above `u32::MAX` is no range's (blank ones, length 0, are flagged anyway).
#[inline(always)]
fn range_bounds(clear_len: usize, max: usize) -> (u32, u32) {
    (
        u32::try_from(clear_len).unwrap_or(0),
        u32::try_from(max).unwrap_or(u32::MAX),
    )
}

/// The length flags of `ranges` from `first` on (up to 32), one by one.
#[inline(always)]
fn range_length_flags_from(ranges: &[(u32, u32)], first: usize, clear: u32, limit: u32) -> u32 {
    let mut flags = 0;
    for (slot, &(start, end)) in ranges.iter().enumerate().take(32).skip(first) {
        let len = end.wrapping_sub(start);
        flags |= u32::from(length_flagged(len, clear, limit)) << slot;
    }
    flags
}

/// Whether a value `len` bytes long is to be checked in full: blank, the clear token's
/// length (`clear`), or longer than `limit`. The one test of [`RowValues::length_flags`]
/// and of `validate_row`'s columns read one by one, for the lengths of `&str` values
/// (`usize`) and of ranges (`u32`, compared as such: no widening in the rows' loop).
#[inline(always)]
fn length_flagged<T: Copy + PartialOrd + Default>(len: T, clear: T, limit: T) -> bool {
    (len == T::default()) | (len == clear) | (len > limit)
}

/// A file's built-in columns in the order of their slots (their slots grow in the order
/// of `Column::ALL`, and there are at most 32): then a row's columns to check in full are
/// found from its slots' lengths, and checked in slot order, which is theirs.
pub(super) struct SlotOrder {
    /// By slot: the index in the columns of the built-in column it holds (0 for others).
    column_at: [u8; 32],
    /// The slots of built-in columns.
    built_in: u32,
    /// The slots of the columns checked in full in every row ([`always_checked`]).
    always: u32,
}

/// The [`SlotOrder`] of `columns`, if their slots grow and are below 32 (`always`: their
/// [`always_checked`]).
pub(super) fn slot_order(columns: &[(Column, usize)], always: u32) -> Option<SlotOrder> {
    let mut order = SlotOrder {
        column_at: [0; 32],
        built_in: 0,
        always: 0,
    };
    let mut previous = None;
    for (i, &(_, slot)) in columns.iter().enumerate() {
        if slot >= 32 || previous.is_some_and(|p| p >= slot) {
            return None;
        }
        previous = Some(slot);
        order.column_at[slot] = i as u8;
        order.built_in |= 1 << slot;
        if always & (1 << i) != 0 {
            order.always |= 1 << slot;
        }
    }
    Some(order)
}

/// A row's values by slot, and the built-in columns to check with their slots: the file's,
/// in the order of `Column::ALL` (a column the file does not have is blank in every row,
/// and never required).
pub(super) struct BuiltInCells<'a, V: RowValues + ?Sized> {
    pub(super) cells: &'a V,
    pub(super) columns: &'a [(Column, usize)],
    /// Bit `i` set: `columns[i]` is checked in full in every row ([`always_checked`]).
    pub(super) always: u32,
    /// The columns by slot, when their slots are in their order.
    pub(super) order: Option<&'a SlotOrder>,
}

/// The columns of `columns` (bit `i`: `columns[i]`) whose checks look at more than a
/// value's length: the email, the language tag, the login method, the lists. Every other
/// column's value of a row without forbidden characters can only be blank, the clear
/// token or too long, all known from its length (a value has at most as many characters
/// as bytes), so `validate_row` checks it in full only when its length says it may be.
pub(super) fn always_checked(columns: &[(Column, usize)]) -> u32 {
    let mut always = 0;
    for (i, &(column, _)) in columns.iter().enumerate() {
        let reads_value = matches!(
            column,
            Column::EmailAddress
                | Column::LanguageCode
                | Column::Auth
                | Column::AddGroup
                | Column::RemoveGroup
                | Column::Course
                | Column::Collection
                | Column::Campaign
        );
        if reads_value {
            always |= 1 << i;
        }
    }
    always
}

// (a file's built-in columns fit the masks of `validate_row`)
const _: () = assert!(Column::ALL.len() <= 32);

impl<V: RowValues + ?Sized> BuiltInCells<'_, V> {
    /// The value of `column` (`""` when the file does not have it).
    fn value(&self, column: Column) -> &str {
        self.columns
            .iter()
            .find(|(c, _)| *c == column)
            .map_or("", |&(_, slot)| self.cells.text(slot))
    }
}

/// A row's cells of the host's profile fields (`None`: the column is not in the file), with
/// each field's `one_of` index, in the order of the declarations.
pub(super) struct CustomCells<'a> {
    pub(super) values: &'a [Option<&'a str>],
    pub(super) one_of: &'a [Option<crate::parse::fields::OneOfIndex>],
}

/// Validates the values of one row into the row's issues. `printable`: every value is
/// printable ASCII; `clean`: no value has a forbidden character. Linear in the row's
/// length: messages are only built for the issues listed. Returns the email's hash
/// (`email_hash`) when the email was found valid in the pass that hashes it (a plain
/// ASCII address, the usual case). Inlined into the rows' reading, its only caller: as a
/// call, its frame saved and reloaded the row's arguments and the options' fields on every
/// row (about 43 instructions a row).
#[inline(always)]
pub(super) fn validate_row<V: RowValues + ?Sized>(
    built_in: BuiltInCells<'_, V>,
    custom: CustomCells<'_>,
    options: &ParseOptions,
    check_conflicts: bool,
    printable: bool,
    clean: bool,
    log: &mut IssueLog,
) -> Option<u64> {
    let group_separator = options.group_separator;
    let mut email_hash = None;
    let cells = built_in.cells;
    // (the clear token's length first: most values are not as long)
    let clear_len = options.clear_token.as_deref().map_or(usize::MAX, str::len);
    let max_value_chars = options.max_value_chars;
    let columns = built_in.columns;
    // The columns to check in full: those whose checks read the value, and (in a row
    // without forbidden characters) those whose length is blank, the clear token's or
    // over the limit; in any other row, all of them. In the order of `columns`, as the
    // issues are listed.
    // (`by_slot`: the bits of `flagged` are slots, see `SlotOrder`)
    let mut flagged = built_in.always;
    let mut by_slot = None;
    if !(printable || clean) {
        flagged = u32::MAX;
    } else if let Some(order) = built_in.order {
        let lengths = cells.length_flags(clear_len, max_value_chars);
        flagged = (lengths & order.built_in) | order.always;
        by_slot = Some(&order.column_at);
    } else {
        for (i, &(_, slot)) in columns.iter().enumerate().take(32) {
            let maybe = length_flagged(cells.len(slot), clear_len, max_value_chars);
            flagged |= u32::from(maybe) << i;
        }
    }
    while flagged != 0 {
        let bit = flagged.trailing_zeros() as usize;
        flagged &= flagged - 1;
        let i = match by_slot {
            Some(column_at) => usize::from(column_at[bit]),
            None => bit,
        };
        let Some(&(column, slot)) = columns.get(i) else {
            break;
        };
        let len = cells.len(slot);
        if len == 0 {
            if Column::REQUIRED.contains(&column) {
                log.push(IssueCode::MissingValue, Some(column.as_str()), || {
                    format!("{column} is blank")
                });
            }
            continue;
        }
        if len == clear_len
            && is_clear_bytes(options, cells.bytes(slot))
            && !column.may_repeat()
            && column != Column::Auth
        {
            if Column::REQUIRED.contains(&column) {
                log.push(
                    IssueCode::ClearInRequiredColumn,
                    Some(column.as_str()),
                    || format!("{column} is required and cannot be cleared"),
                );
            }
            continue;
        }
        let forbidden = if printable || clean {
            None
        } else {
            find_forbidden_char(cells.text(slot))
        };
        if let Some(c) = forbidden {
            log.push(IssueCode::ControlCharacter, Some(column.as_str()), || {
                format!("{column} contains {}", describe_char(c))
            });
            continue;
        }
        match column {
            Column::EmailAddress => {
                email_hash = plainly_valid_hash(cells.bytes_on(slot), cells.len(slot));
                if email_hash.is_some() {
                    continue;
                }
                let value = cells.text(slot);
                if let Err(why) = check_email(value) {
                    log.push(IssueCode::InvalidEmail, Some(column.as_str()), || {
                        format!("{value:?} is not a valid email address: it {why}")
                    });
                }
            }
            Column::LanguageCode if !is_language_tag(cells.text(slot)) => {
                let value = cells.text(slot);
                log.push(
                    IssueCode::InvalidLanguagecode,
                    Some(column.as_str()),
                    || {
                        let hint = value.replace('_', "-");
                        if value.contains('_') && is_language_tag(&hint) {
                            format!(
                                "{value:?} is not a BCP 47 language tag; did you mean '{hint}'?"
                            )
                        } else {
                            format!("{value:?} is not a BCP 47 language tag such as \"en-NZ\"")
                        }
                    },
                );
            }
            Column::Auth => {
                let value = cells.text(slot);
                if crate::parse::fields::login_method(value, &options.login_methods).is_none() {
                    log.push(IssueCode::UnknownLoginMethod, Some(column.as_str()), || {
                        let mut known = vec!["password"];
                        known.extend(options.login_methods.iter().map(String::as_str));
                        format!(
                            "{value:?} is not a login method here (they are {})",
                            known.join(", ")
                        )
                    });
                }
            }
            Column::AddGroup
            | Column::RemoveGroup
            | Column::Course
            | Column::Collection
            | Column::Campaign => check_list(column, cells.text(slot), options, log),
            _ => {
                let chars = if printable || cells.bytes(slot).is_ascii() {
                    len
                } else {
                    cells.text(slot).chars().count()
                };
                if chars > max_value_chars {
                    log.push(IssueCode::ValueTooLong, Some(column.as_str()), || {
                        format!(
                            "{column} is {chars} characters; the limit (max_value_chars) is {max_value_chars}"
                        )
                    });
                }
            }
        }
    }
    // `None`: the field's column is not in the file.
    let CustomCells {
        values: custom,
        one_of,
    } = custom;
    for ((field, value), index) in options.fields.iter().zip(custom).zip(one_of) {
        let name = field.name.as_str();
        let Some(value) = *value else {
            continue;
        };
        if value.is_empty() || is_clear(options, value) {
            if field.required {
                let code = if value.is_empty() {
                    IssueCode::MissingValue
                } else {
                    IssueCode::ClearInRequiredColumn
                };
                log.push(code, Some(name), || format!("{name} is required"));
            }
            continue;
        }
        if let Some(c) = find_forbidden_char(value) {
            log.push(IssueCode::ControlCharacter, Some(name), || {
                format!("{name} contains {}", describe_char(c))
            });
            continue;
        }
        let max = field.max_length.unwrap_or(options.max_value_chars);
        let chars = value.chars().count();
        if chars > max {
            log.push(IssueCode::ValueTooLong, Some(name), || {
                format!("{name} is {chars} characters; the limit is {max}")
            });
            continue;
        }
        if let Err(why) = field.check(value, index.as_ref()) {
            log.push(IssueCode::InvalidFieldValue, Some(name), || {
                format!("{name}: {why}")
            });
        }
    }
    if check_conflicts {
        let added = built_in.value(Column::AddGroup);
        let removed = built_in.value(Column::RemoveGroup);
        conflicts(added, removed, group_separator, |group| {
            log.push(
                IssueCode::GroupConflict,
                Some(Column::RemoveGroup.as_str()),
                || format!("the group {group:?} is both added and removed"),
            );
        });
    }
    email_hash
}

/// Checks the length of each item of a list column's value (groups or content ids). Not
/// inlined: the separator's encoding, which the compiler would otherwise prepare on every
/// row, is only needed by a file that has such a column.
#[inline(never)]
fn check_list(column: Column, value: &str, options: &ParseOptions, log: &mut IssueLog) {
    let max = options.max_value_chars;
    if let Some(long) =
        split_groups(value, options.group_separator).find(|g| g.chars().count() > max)
    {
        let what = if column.is_group_list() {
            "a group name"
        } else {
            "a content id"
        };
        log.push(IssueCode::ValueTooLong, Some(column.as_str()), || {
            format!(
                "{what} is {} characters; the limit is {max}",
                long.chars().count()
            )
        });
    }
}

#[inline(always)]
fn is_clear(options: &ParseOptions, value: &str) -> bool {
    options
        .clear_token
        .as_deref()
        .is_some_and(|t| value.eq_ignore_ascii_case(t))
}

/// [`is_clear`] of a value's bytes (the same comparison: ASCII case ignored, byte for
/// byte).
#[inline(always)]
fn is_clear_bytes(options: &ParseOptions, value: &[u8]) -> bool {
    options
        .clear_token
        .as_deref()
        .is_some_and(|t| value.eq_ignore_ascii_case(t.as_bytes()))
}

/// Calls `found` with each group of `added` (in order, repeats included) that is also in
/// `removed`. A few removed groups are compared directly; more are sorted once and
/// searched, so a row of many groups costs n log n, not n².
fn conflicts<'v>(
    added: &'v str,
    removed: &'v str,
    separator: char,
    mut found: impl FnMut(&'v str),
) {
    if added.is_empty() || removed.is_empty() {
        return;
    }
    let added = split_groups(added, separator);
    if split_groups(removed, separator).nth(8).is_none() {
        for group in added {
            if split_groups(removed, separator).any(|r| r == group) {
                found(group);
            }
        }
        return;
    }
    // Each removed group as (offset, length) in `removed`: 8 bytes a group, not 16.
    let name = |&(at, len): &(u32, u32)| &removed[at as usize..(at + len) as usize];
    let base = removed.as_ptr() as usize;
    let mut sorted: Vec<(u32, u32)> = split_groups(removed, separator)
        .map(|g| ((g.as_ptr() as usize - base) as u32, g.len() as u32))
        .collect();
    sorted.sort_unstable_by(|a, b| name(a).cmp(name(b)));
    for group in added {
        if sorted.binary_search_by(|r| name(r).cmp(group)).is_ok() {
            found(group);
        }
    }
}

/// The part of an email hash kept in the keys `mark_duplicates` sorts (the low 32 bits
/// hold the row index).
pub(super) const HASH_BITS: u64 = 0xFFFF_FFFF_0000_0000;

/// Keys below which duplicates are found on the calling thread alone.
const MIN_PARALLEL_KEYS: usize = 1 << 16;

/// A part of keys below this is split on the calling thread alone (a thread started for
/// it would cost about as much as the half it takes: the deeper parts on many threads).
const MIN_PARALLEL_SPLIT: usize = 1 << 15;

/// Rejects every later occurrence of an email (case-insensitive); the first one wins.
/// Returns the `(later, first)` row indexes, by `later`, for the `duplicate_email` issues.
///
/// `keys` holds, per valid row, 32 bits of its email's hash above its index: sorting them
/// groups equal hashes in file order. Equal hashes are confirmed by comparing the emails,
/// so a collision costs a comparison, never a wrong duplicate. On `threads` threads, the
/// keys are first split by the top bits of their hash (equal hashes share them), and each
/// part is sorted and searched on a thread of its own: the pairs found are the same.
pub(super) fn mark_duplicates(
    upload: &mut Upload,
    mut keys: Vec<u64>,
    threads: usize,
) -> Vec<(u32, u32)> {
    let parts: usize = if keys.len() < MIN_PARALLEL_KEYS {
        1
    } else {
        // a power of two, at most `threads`, at most 16
        1 << threads.clamp(1, 16).ilog2()
    };
    let mut found = if parts == 1 {
        duplicates_in(upload, &mut keys)
    } else {
        let split = split_by_top_bits(&mut keys, parts.ilog2());
        let upload = &*upload;
        std::thread::scope(|scope| {
            let mut split = split.into_iter();
            let first = split.next();
            let others: Vec<_> = split
                .map(|part| scope.spawn(move || duplicates_in(upload, part)))
                .collect();
            let mut found = first.map_or_else(Vec::new, |part| duplicates_in(upload, part));
            for other in others {
                match other.join() {
                    Ok(mut more) => found.append(&mut more),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            found
        })
    };
    found.sort_unstable();
    for &(later, _) in &found {
        upload.cells.set_invalid(later as usize);
    }
    found
}

/// `keys` cut into `2^bits` parts by the top `bits` bits, each part's keys together (an
/// in-place partition by one bit after the other, each a pass over the keys: on two
/// threads for a part of [`MIN_PARALLEL_SPLIT`] keys or more, see [`partition_on_two`]).
fn split_by_top_bits(keys: &mut [u64], bits: u32) -> Vec<&mut [u64]> {
    let mut parts = vec![keys];
    for bit in 0..bits {
        let mask = 1u64 << (63 - bit);
        let mut next = Vec::with_capacity(parts.len() * 2);
        for part in parts {
            let low = match part.len() < MIN_PARALLEL_SPLIT {
                true => partition(part, mask),
                false => partition_on_two(part, mask),
            };
            let (clear, set) = part.split_at_mut(low);
            next.push(clear);
            next.push(set);
        }
        parts = next;
    }
    parts
}

/// [`partition`] on two threads, a half each: then the first half's keys with the bit set
/// and as many of the second half's with it clear (its last ones) change places, a block
/// for a block. The keys of a part are sorted after, so their order within it does not
/// count. Returns how many keys have the bit clear.
fn partition_on_two(keys: &mut [u64], mask: u64) -> usize {
    let half = keys.len() / 2;
    let (first, second) = keys.split_at_mut(half);
    let in_second = &mut *second;
    let (clear_first, clear_second) = std::thread::scope(|scope| {
        let other = scope.spawn(move || partition(in_second, mask));
        let here = partition(first, mask);
        match other.join() {
            Ok(there) => (here, there),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    let moved = (half - clear_first).min(clear_second);
    first[clear_first..clear_first + moved]
        .swap_with_slice(&mut second[clear_second - moved..clear_second]);
    clear_first + clear_second
}

/// Moves the keys with the `mask` bit clear before those with it set (in no order within
/// each); returns how many are clear.
fn partition(keys: &mut [u64], mask: u64) -> usize {
    // invariant: keys[..low] has the bit clear, keys[low..i] has it set; the swap is made
    // whatever the bit (of two keys with it set, when set), so that the loop has no branch
    // on the hash's random bits to mispredict
    let mut low = 0;
    for i in 0..keys.len() {
        let clear = keys[i] & mask == 0;
        keys.swap(low, i);
        low += usize::from(clear);
    }
    low
}

/// The `(later, first)` pairs among `keys` (sorted here), in no order.
fn duplicates_in(upload: &Upload, keys: &mut [u64]) -> Vec<(u32, u32)> {
    // The standard library's sort, not a radix or flag sort of the hash bits: those take
    // fewer instructions but scatter the keys over the whole array, a cache miss a key
    // (3.5 times the wall time at 1,000,000 keys; docs/PERFORMANCE.md).
    keys.sort_unstable();
    let index = |key: u64| (key & !HASH_BITS) as usize;
    let mut found = Vec::new();
    // (most hashes are a row's own: a group of one, passed over)
    for group in keys.chunk_by(|a, b| a & HASH_BITS == b & HASH_BITS) {
        if group.len() == 1 {
            continue;
        }
        if group.len() > 16 {
            // Many rows share a hash (one address repeated, or crafted collisions): sort
            // them by their lowercase form rather than compare each with all earlier ones.
            let mut emails: Vec<(String, usize)> = group
                .iter()
                .map(|&key| {
                    let row = index(key);
                    let email = upload.row(row).map_or("", |r| r.email());
                    // the identity `emails_equal` compares
                    let key = crate::parse::email::email_key(email);
                    (key, row)
                })
                .collect();
            emails.sort_unstable();
            for pair in emails.chunk_by(|a, b| a.0 == b.0) {
                found.extend(
                    pair[1..]
                        .iter()
                        .map(|&(_, later)| (later as u32, pair[0].1 as u32)),
                );
            }
            continue;
        }
        for (k, &later) in group.iter().enumerate().skip(1) {
            let later = index(later);
            let email = upload.row(later).map_or("", |r| r.email());
            let first = group[..k].iter().map(|&key| index(key)).find(|&earlier| {
                emails_equal(upload.row(earlier).map_or("", |r| r.email()), email)
            });
            if let Some(first) = first {
                found.push((later as u32, first as u32));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{partition_on_two, range_length_flags, range_length_flags_from, HASH_BITS};

    #[test]
    fn length_flags_by_four_are_those_one_by_one() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for round in 0..20_000 {
            let slots = next(40) as usize;
            let ranges: Vec<(u32, u32)> = (0..slots)
                .map(|_| {
                    let start = match next(4) {
                        0 => u32::MAX - next(8) as u32,
                        _ => next(1 << 20) as u32,
                    };
                    let len = match next(5) {
                        0 => 0,
                        1 => 6,
                        2 => u32::MAX - start,
                        _ => next(300) as u32,
                    };
                    (start, start.wrapping_add(len))
                })
                .collect();
            let clear_len = [6, 0, usize::MAX, 1 << 33][round % 4];
            let max = [255, 0, usize::MAX, u32::MAX as usize, 1 << 31][round % 5];
            let clear = u32::try_from(clear_len).unwrap_or(0);
            let limit = u32::try_from(max).unwrap_or(u32::MAX);
            assert_eq!(
                range_length_flags(&ranges, clear_len, max),
                range_length_flags_from(&ranges, 0, clear, limit),
                "{ranges:?}, {clear_len}, {max}"
            );
        }
    }

    #[test]
    fn the_partition_on_two_threads_keeps_the_keys_and_splits_them_by_the_bit() {
        let mut state: u64 = 0x51_7CC1_B727_220A;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state
        };
        // empty, one key, all clear, all set, mostly one way, random; even and odd lengths
        for (len, set_in) in [
            (0, 2),
            (1, 2),
            (1_000, 0),
            (1_001, 1),
            (5_000, 9),
            (5_001, 2),
            (70_000, 2),
            (70_001, 3),
        ] {
            let mask = 1u64 << 63;
            let mut keys: Vec<u64> = (0..len as u64)
                .map(|index| {
                    let set = match set_in {
                        0 => false,
                        1 => true,
                        n => next() % n == 0,
                    };
                    (next() & HASH_BITS & !mask) | u64::from(set) << 63 | index
                })
                .collect();
            let mut expected = keys.clone();
            expected.sort_unstable();
            let clear = partition_on_two(&mut keys, mask);
            assert!(keys[..clear].iter().all(|&k| k & mask == 0), "{len}");
            assert!(keys[clear..].iter().all(|&k| k & mask != 0), "{len}");
            keys.sort_unstable();
            assert_eq!(keys, expected, "{len}");
        }
    }
}
