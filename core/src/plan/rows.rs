//! [`PlanRows`]: a plan's rows, read one at a time.

use super::compact::CompactRows;
use super::{Action, PlanRow};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::Range;

/// The rows of a [`Plan`](super::Plan), one per data row of the file, in file order.
///
/// A plan keeps its rows encoded, not as [`PlanRow`] values: a row is decoded when it is
/// read, so a plan of a million rows holds a fraction of the memory its rows would take as
/// values. [`PlanRows::get`] and [`PlanRows::iter`] give owned rows; [`PlanRows::to_vec`]
/// decodes them all.
///
/// ```
/// use lms_bulk_upload::{parse, plan, Action, MemoryStore, Settings};
/// let upload = parse(b"firstname,lastname,email\nAna,Lopez,ana@example.com\n", &Default::default()).unwrap();
/// let p = plan(&upload, &Settings::builder().build().unwrap(), &mut MemoryStore::new()).unwrap();
/// assert_eq!(p.rows().len(), 1);
/// assert_eq!(p.rows().action(0), Some(Action::Create));
/// for row in p.rows() {
///     assert_eq!(row.email, "ana@example.com");
/// }
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PlanRows {
    rows: CompactRows,
    /// Whether a row sets a password ([`PlanRow::sets_password`]): known without decoding.
    sets_password: bool,
    /// Whether a row issues a sign-in link ([`PlanRow::invites`]).
    invites: bool,
}

/// Plans of fewer rows are encoded on the calling thread alone.
const MIN_ROWS_FOR_A_THREAD: usize = 16_384;

impl PlanRows {
    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row at `index` (0 for the file's first data row), decoded.
    pub fn get(&self, index: usize) -> Option<PlanRow> {
        self.rows.get(index)
    }

    /// The rows in order, each decoded as it is reached.
    pub fn iter(&self) -> PlanRowIter<'_> {
        self.range(0..self.len())
    }

    /// The rows of `range` (clamped to the rows there are), in order.
    pub fn range(&self, range: Range<usize>) -> PlanRowIter<'_> {
        let end = range.end.min(self.len());
        PlanRowIter {
            rows: self,
            at: range.start.min(end)..end,
        }
    }

    /// Every row, decoded.
    pub fn to_vec(&self) -> Vec<PlanRow> {
        let mut rows = Vec::with_capacity(self.len());
        self.rows.decode_into(0..self.len(), &mut rows);
        rows
    }

    /// The line the row at `index` starts on, read without decoding the row.
    pub fn line(&self, index: usize) -> Option<u32> {
        self.rows.line(index)
    }

    /// What the plan does with the row at `index`, read without decoding the row.
    pub fn action(&self, index: usize) -> Option<Action> {
        self.rows.action(index)
    }

    /// Whether any row sets a password (as [`PlanRow::sets_password`] says), read without
    /// decoding the rows.
    pub fn any_sets_password(&self) -> bool {
        self.sets_password
    }

    /// Whether any row issues a sign-in link (as [`PlanRow::invites`] says), read without
    /// decoding the rows.
    pub fn any_invites(&self) -> bool {
        self.invites
    }

    /// These rows, encoded (a large plan's on every core), each dropped once encoded, on
    /// the thread that encoded it: a million rows' dozen allocations each are freed on every
    /// core, not one after the other on the caller's.
    pub(crate) fn from_vec(mut rows: Vec<PlanRow>) -> PlanRows {
        let threads = match rows.len() {
            0..MIN_ROWS_FOR_A_THREAD => 1,
            _ => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        };
        let part_rows = rows.len().div_ceil(threads).max(1);
        let parts: Vec<PlanRows> = if threads == 1 {
            vec![PlanRows::taking(&mut rows)]
        } else {
            std::thread::scope(|scope| {
                let encoding: Vec<_> = rows
                    .chunks_mut(part_rows)
                    .map(|part| scope.spawn(move || PlanRows::taking(part)))
                    .collect();
                encoding
                    .into_iter()
                    .map(|thread| {
                        thread
                            .join()
                            .unwrap_or_else(|p| std::panic::resume_unwind(p))
                    })
                    .collect()
            })
        };
        let mut whole = PlanRows::default();
        for part in parts {
            whole.append(part);
        }
        whole.shrink_to_fit();
        whole
    }

    /// No rows, with room for `rows` of them.
    pub(crate) fn with_capacity(rows: usize) -> PlanRows {
        PlanRows {
            rows: CompactRows::with_capacity(rows),
            sets_password: false,
            invites: false,
        }
    }

    /// Appends `row`, encoded.
    pub(crate) fn push(&mut self, row: &PlanRow) {
        self.rows.push(row);
        self.sets_password |= row.sets_password();
        self.invites |= row.invites();
    }

    /// Appends `other`'s rows.
    pub(crate) fn append(&mut self, other: PlanRows) {
        self.rows.append(other.rows);
        self.sets_password |= other.sets_password;
        self.invites |= other.invites;
    }

    /// Appends `part`'s rows with the rows `between` gives at their places: `(place, row)`,
    /// the places in increasing order, each counted among the rows of the result.
    pub(crate) fn append_with<'r>(
        &mut self,
        part: PlanRows,
        between: impl IntoIterator<Item = (usize, &'r PlanRow)>,
    ) {
        let mut between = between.into_iter().peekable();
        if between.peek().is_none() {
            return self.append(part);
        }
        let (mut from_part, mut place) = (0, 0);
        loop {
            match between.next_if(|&(at, _)| at == place || from_part >= part.len()) {
                Some((_, row)) => self.push(row),
                None if from_part < part.len() => {
                    self.rows.push_copy(&part.rows, from_part);
                    from_part += 1;
                }
                None => break,
            }
            place += 1;
        }
        self.sets_password |= part.sets_password;
        self.invites |= part.invites;
    }

    /// The rows of `range`, their bytes copied; `decoded` are those rows decoded.
    pub(crate) fn part(&self, range: Range<usize>, decoded: &[PlanRow]) -> PlanRows {
        let mut part = PlanRows::with_capacity(0);
        for index in range {
            part.rows.push_copy(&self.rows, index);
        }
        part.sets_password = decoded.iter().any(PlanRow::sets_password);
        part.invites = decoded.iter().any(PlanRow::invites);
        part
    }

    /// Calls `each` with the rows in order, a block at a time (the place of its first row,
    /// and the block), each block decoded into the last one's rows. The cheap way to read
    /// every row of a large plan: a row's strings and vectors are reused from one block to
    /// the next, where [`PlanRows::iter`] and [`PlanRows::to_vec`] allocate each row anew.
    ///
    /// ```
    /// use lms_bulk_upload::{parse, plan, MemoryStore, Settings};
    /// let csv = b"firstname,lastname,email\nAna,Lopez,ana@example.com\nBo,Chen,bo@example.com\n";
    /// let upload = parse(csv, &Default::default()).unwrap();
    /// let p = plan(&upload, &Settings::builder().build().unwrap(), &mut MemoryStore::new()).unwrap();
    /// let mut names = Vec::new();
    /// p.rows().for_each_block(|_, block| {
    ///     names.extend(block.iter().map(|row| row.first_name.clone()));
    /// });
    /// assert_eq!(names, ["Ana", "Bo"]);
    /// ```
    pub fn for_each_block(&self, mut each: impl FnMut(usize, &[PlanRow])) {
        let walked = self.try_for_each_block(|start, block| {
            each(start, block);
            Ok::<(), std::convert::Infallible>(())
        });
        match walked {
            Ok(()) => {}
            Err(never) => match never {},
        }
    }

    /// [`PlanRows::for_each_block`], stopping at the first error `each` returns, and
    /// returning it.
    pub fn try_for_each_block<E>(
        &self,
        mut each: impl FnMut(usize, &[PlanRow]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut block = Vec::new();
        for start in (0..self.len()).step_by(BLOCK_ROWS) {
            self.decode_reusing(start..self.len().min(start + BLOCK_ROWS), &mut block);
            each(start, &block)?;
        }
        Ok(())
    }

    /// The first row `wanted` is true of.
    pub(crate) fn find(&self, mut wanted: impl FnMut(&PlanRow) -> bool) -> Option<PlanRow> {
        let walked =
            self.try_for_each_block(|start, block| match block.iter().position(&mut wanted) {
                Some(at) => Err(start + at),
                None => Ok(()),
            });
        walked.err().and_then(|at| self.get(at))
    }

    /// Gives back the room reserved beyond the rows.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
    }

    /// `rows` encoded, each left a placeholder (its strings and vectors freed) once encoded.
    fn taking(rows: &mut [PlanRow]) -> PlanRows {
        let mut encoded = PlanRows::with_capacity(rows.len());
        for row in rows {
            encoded.push(row);
            *row = PlanRow::placeholder();
        }
        encoded
    }

    /// Decodes the rows of `range` into `out`, reusing the allocations of the rows it holds
    /// (see [`CompactRows::decode_reusing`]); `out` ends with `range.len()` rows.
    pub(crate) fn decode_reusing(&self, range: Range<usize>, out: &mut Vec<PlanRow>) {
        self.rows.decode_reusing(range, out);
    }
}

impl std::fmt::Debug for PlanRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The rows of [`PlanRows::iter`] and [`PlanRows::range`], decoded one at a time.
#[derive(Debug, Clone)]
pub struct PlanRowIter<'a> {
    rows: &'a PlanRows,
    at: Range<usize>,
}

impl Iterator for PlanRowIter<'_> {
    type Item = PlanRow;
    fn next(&mut self) -> Option<PlanRow> {
        let index = self.at.next()?;
        self.rows.get(index)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.at.size_hint()
    }
    fn nth(&mut self, n: usize) -> Option<PlanRow> {
        let index = self.at.nth(n)?;
        self.rows.get(index)
    }
}

impl DoubleEndedIterator for PlanRowIter<'_> {
    fn next_back(&mut self) -> Option<PlanRow> {
        let index = self.at.next_back()?;
        self.rows.get(index)
    }
}

impl ExactSizeIterator for PlanRowIter<'_> {}

impl std::iter::FusedIterator for PlanRowIter<'_> {}

impl<'a> IntoIterator for &'a PlanRows {
    type Item = PlanRow;
    type IntoIter = PlanRowIter<'a>;
    fn into_iter(self) -> PlanRowIter<'a> {
        self.iter()
    }
}

impl From<Vec<PlanRow>> for PlanRows {
    fn from(rows: Vec<PlanRow>) -> PlanRows {
        PlanRows::from_vec(rows)
    }
}

/// The rows [`PlanRows::try_for_each_block`] decodes at a time.
const BLOCK_ROWS: usize = 1_024;

impl Serialize for PlanRows {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        self.try_for_each_block(|_, block| {
            block.iter().try_for_each(|row| seq.serialize_element(row))
        })?;
        seq.end()
    }
}

impl<'de> Deserialize<'de> for PlanRows {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PlanRows, D::Error> {
        Vec::<PlanRow>::deserialize(deserializer).map(PlanRows::from_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::super::compact::tests::{hand_built, Rng};
    use super::*;

    /// Hand-built rows of every shape, then generated ones: enough to be encoded on threads.
    fn rows(generated: usize) -> Vec<PlanRow> {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut rows = hand_built();
        rows.extend((0..generated).map(|_| rng.row()));
        rows
    }

    #[test]
    fn rows_read_back_as_they_were_given_on_one_thread_or_several() {
        for generated in [0, 100, MIN_ROWS_FOR_A_THREAD + 1_000] {
            let given = rows(generated);
            let kept = PlanRows::from_vec(given.clone());
            // the same bytes as the rows pushed one by one, whatever the threads
            let mut pushed = PlanRows::with_capacity(0);
            for row in &given {
                pushed.push(row);
            }
            assert_eq!(kept, pushed);
            assert_eq!(kept.len(), given.len());
            assert_eq!(kept.to_vec(), given);
            assert_eq!(kept.iter().len(), given.len());
            assert!(kept.iter().eq(given.iter().cloned()));
            assert!(kept.iter().rev().eq(given.iter().rev().cloned()));
            assert_eq!(kept.iter().nth(3), given.get(3).cloned());
            for (index, row) in given.iter().enumerate().step_by(97) {
                assert_eq!(kept.get(index).as_ref(), Some(row));
                assert_eq!(kept.line(index), Some(row.line));
                assert_eq!(kept.action(index), Some(row.action));
            }
            assert_eq!(
                (kept.get(given.len()), kept.line(given.len())),
                (None, None)
            );
            let any = |f: fn(&PlanRow) -> bool| given.iter().any(f);
            assert_eq!(kept.any_sets_password(), any(PlanRow::sets_password));
            assert_eq!(kept.any_invites(), any(PlanRow::invites));
            for wanted in [Action::Update, Action::Rejected] {
                let last = given.iter().rposition(|r| r.action == wanted);
                let is = |r: &PlanRow| r.action == wanted && Some(r) == last.map(|at| &given[at]);
                assert_eq!(kept.find(is), given.iter().find(|r| is(r)).cloned());
            }
            assert_eq!(kept.find(|_| false), None);
            // serialised as the rows' list is
            assert_eq!(
                serde_json::to_string(&kept).unwrap(),
                serde_json::to_string(&given).unwrap()
            );
            let back: PlanRows =
                serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
            assert_eq!(back, kept);
        }
    }

    #[test]
    fn a_range_is_clamped_to_the_rows() {
        let given = rows(10);
        let kept = PlanRows::from_vec(given.clone());
        let n = given.len();
        assert!(kept.range(2..5).eq(given[2..5].iter().cloned()));
        assert!(kept.range(n - 2..n + 10).eq(given[n - 2..].iter().cloned()));
        assert_eq!(kept.range(n + 5..n + 10).count(), 0);
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = kept.range(5..2);
        assert_eq!(backwards.count(), 0);
    }

    /// A job's encoded rows with the rows it kept at their places (first, between, last,
    /// several together, and beyond the part's rows) read back in order.
    #[test]
    fn rows_kept_in_place_are_put_back_at_their_places() {
        let given = rows(40);
        for kept_at in [
            vec![],
            vec![0],
            vec![0, 1, 7],
            vec![3, 4, 5],
            vec![given.len() - 1],
        ] {
            let part: Vec<PlanRow> = (0..given.len())
                .filter(|i| !kept_at.contains(i))
                .map(|i| given[i].clone())
                .collect();
            let mut whole = PlanRows::from_vec(given[..2].to_vec());
            let between = kept_at.iter().map(|&at| (at, &given[at]));
            whole.append_with(PlanRows::from_vec(part), between);
            let mut expected = given[..2].to_vec();
            expected.extend(given.iter().cloned());
            assert_eq!(whole.to_vec(), expected, "kept at {kept_at:?}");
        }
    }

    #[test]
    fn a_part_is_the_rows_of_its_range() {
        let given = rows(50);
        let kept = PlanRows::from_vec(given.clone());
        for range in [0..0, 0..1, 3..20, 10..given.len()] {
            let part = kept.part(range.clone(), &given[range.clone()]);
            assert_eq!(part, PlanRows::from_vec(given[range].to_vec()));
        }
    }
}
