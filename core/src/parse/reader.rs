//! Reading records from the body: a fast path for the plain lines (no quote) that splits
//! them in place, and `csv_core` for every other record, both with the same outcome as
//! the `csv` crate's reader (`has_headers(false)`, `flexible(true)`).

use super::bytes::{count_byte, count_line_breaks, scan_line};
use super::{file_error, Parser};
use crate::error::Error;
use crate::issue::IssueCode;

/// What [`Parser::read`] found.
pub(super) enum Record {
    /// A line without quotes, `body[record_start..end]`; its fields are `bounds` in it.
    /// Also says whether the line is all printable ASCII, and whether it is clean (has no
    /// forbidden character).
    Body {
        end: usize,
        printable: bool,
        clean: bool,
    },
    /// A record read by `csv_core` into `fields` (see [`Parser::field`]).
    Fields,
}

/// The `csv_core` reader the parser uses, configured as `csv::ReaderBuilder` would be.
pub(super) fn csv_reader(delimiter: u8) -> csv_core::Reader {
    csv_core::ReaderBuilder::new().delimiter(delimiter).build()
}

impl Parser<'_> {
    /// Where the record just read starts: its byte offset and 1-based line (not counting the
    /// `sep=` line). The csv reader's position is where it began looking, before any blank
    /// lines it skipped, so the blank lines are skipped here and lines are counted from byte
    /// offsets, resuming where the previous record started.
    fn locate(&mut self, position: usize) -> (usize, u32) {
        let bytes = self.body.as_bytes();
        let mut start = position.clamp(self.counted_byte, bytes.len());
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let skipped = &bytes[self.counted_byte..start];
        self.counted_line += if self.lone_cr {
            count_line_breaks(skipped)
        } else {
            count_byte(skipped, b'\n') as u32
        };
        self.counted_byte = start;
        (start, self.counted_line)
    }

    /// Reads the next record: its line, and where its fields are. (Inlined into the rows'
    /// reading, with the `csv_core` path in a function of its own.)
    #[inline(always)]
    pub(super) fn read(&mut self) -> Result<Option<(u32, Record)>, Error> {
        let bytes = self.body.as_bytes();
        // A chunk's parser stops before a record that starts at its end or later.
        if self.stop < bytes.len() && self.next_start() >= self.stop {
            return Ok(None);
        }
        // The fast path: after the first record (csv_core strips a BOM from the first),
        // with a delimiter that is not a quote or a line break. The csv reader skips
        // blank lines, then reads an unquoted line as its bytes split at the delimiter.
        if self.started && self.plain_delimiter {
            let mut start = self.pos;
            let mut lf = 0;
            while let Some(&b) = bytes.get(start) {
                match b {
                    b'\n' => lf += 1,
                    b'\r' => {}
                    _ => break,
                }
                start += 1;
            }
            if start == bytes.len() {
                self.pos = start;
                return self.end();
            }
            // (the fields' vector taken out of the parser for the scan, so that its
            // pointer and length can stay in registers between pushes)
            let mut bounds = std::mem::take(&mut self.bounds);
            bounds.clear();
            let (len, slow, printable, clean) = scan_line(
                &bytes[start..],
                self.delimiter,
                self.options.max_columns,
                self.options.max_field_bytes.saturating_add(1),
                &mut bounds,
            );
            self.bounds = bounds;
            if !slow {
                let (record_start, line) = if self.counted_byte == self.pos && !self.lone_cr {
                    // what `locate` finds, counted while skipping the blank lines
                    self.counted_line += lf;
                    self.counted_byte = start;
                    (start, self.counted_line)
                } else {
                    self.locate(start)
                };
                self.record_start = record_start;
                // The line has no line break: resume line counting at its end.
                self.counted_byte = start + len;
                self.pos = start + len;
                let line = line + self.line_offset;
                self.check_columns(self.bounds.len(), line)?;
                let end = start + len;
                let record = Record::Body {
                    end,
                    printable,
                    clean,
                };
                return Ok(Some((line, record)));
            }
        }
        self.read_with_core()
    }

    /// Reads the next record with `csv_core`: the first, and any the fast path does not.
    #[inline(never)]
    fn read_with_core(&mut self) -> Result<Option<(u32, Record)>, Error> {
        let bytes = self.body.as_bytes();
        self.started = true;
        let position = self.pos;
        let (mut outlen, mut endlen) = (0, 0);
        let delimiter = self.delimiter;
        // A chunk's parser: one built for each (`csv_core::Reader::clone`, 0.1.13, does not
        // copy the whole automaton, and a clone misreads quoted fields), as one that has
        // read a record already: past the start of the file, a byte order mark is a value's
        // first character.
        let core = self.core.get_or_insert_with(|| {
            let mut core = csv_reader(delimiter);
            let _ = core.read_record(b"\n", &mut [0; 8], &mut [0; 8]);
            core
        });
        loop {
            let (result, nin, nout, nend) = core.read_record(
                &bytes[self.pos..],
                &mut self.fields[outlen..],
                &mut self.field_ends[endlen..],
            );
            self.pos += nin;
            outlen += nout;
            endlen += nend;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    // Stop at the limits rather than grow the buffers with the record
                    // (an unterminated quote would otherwise copy the rest of the file).
                    let field_start = match endlen {
                        0 => 0,
                        n => self.field_ends[n - 1],
                    };
                    if outlen - field_start > self.options.max_field_bytes {
                        return Err(self.over_limit(position, Some(endlen)));
                    }
                    let len = (self.fields.len() * 2).max(4);
                    self.fields.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    if endlen > self.options.max_columns {
                        return Err(self.over_limit(position, None));
                    }
                    let len = (self.field_ends.len() * 2).max(4);
                    self.field_ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::Record => break,
                csv_core::ReadRecordResult::End => return self.end(),
            }
        }
        self.field_count = endlen;
        let (start, line) = self.locate(position);
        self.record_start = start;
        let line = line + self.line_offset;
        self.check_columns(endlen, line)?;
        Ok(Some((line, Record::Fields)))
    }

    /// The field at `index` of the last record read by `csv_core`.
    pub(super) fn field(&self, index: usize) -> &[u8] {
        let start = match index {
            0 => 0,
            i => self.field_ends[i - 1],
        };
        &self.fields[start..self.field_ends[index]]
    }

    /// The end of the records: an error if the last one opened a quote it never closed.
    fn end(&self) -> Result<Option<(u32, Record)>, Error> {
        match self.unterminated_quote() {
            Some(error) => Err(error),
            None => Ok(None),
        }
    }

    fn check_columns(&self, count: usize, line: u32) -> Result<(), Error> {
        if count <= self.options.max_columns {
            return Ok(());
        }
        Err(self.too_many_columns(line))
    }

    /// The `too_many_columns` error. The count is not given: reading stops at the limit.
    fn too_many_columns(&self, line: u32) -> Error {
        let max = self.options.max_columns;
        file_error(
            IssueCode::TooManyColumns,
            Some(line),
            None,
            format!("the line has more than {max} columns, the limit (max_columns)"),
        )
    }

    /// The error for a record `csv_core` stopped reading at a limit, from `position`: the
    /// field at `field` (`None`: the columns) is too long. An unterminated quote is named
    /// as such, since it is the usual cause.
    fn over_limit(&mut self, position: usize, field: Option<usize>) -> Error {
        let (start, line) = self.locate(position);
        self.record_start = start;
        let line = line + self.line_offset;
        if let Some(error) = self.unterminated_quote() {
            return error;
        }
        let Some(field) = field else {
            return self.too_many_columns(line);
        };
        let max = self.options.max_field_bytes;
        file_error(
            IssueCode::FieldTooLong,
            Some(line),
            self.column_name(field),
            format!("a cell is more than {max} bytes, the limit (max_field_bytes)"),
        )
    }

    /// If the last record read runs to the end of the file inside an open quote, the
    /// `malformed_csv` error naming the line where that record starts.
    pub(super) fn unterminated_quote(&self) -> Option<Error> {
        let start = self.record_start;
        let line = self.counted_line + self.line_offset;
        let rest = self.body.as_bytes().get(start..)?;
        let (mut quoted, mut at_field_start, mut i) = (false, true, 0);
        while i < rest.len() {
            if quoted {
                // skip 64-byte blocks without a quote (the compiler vectorises the test)
                while let Some(block) = rest.get(i..i + 64) {
                    if block.iter().fold(false, |q, &b| q | (b == b'"')) {
                        break;
                    }
                    i += 64;
                }
                if i >= rest.len() {
                    break;
                }
            }
            let b = rest[i];
            if quoted {
                if b == b'"' {
                    if rest.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        quoted = false;
                    }
                }
            } else if b == b'"' && at_field_start {
                quoted = true;
            } else if b == b'\n' || b == b'\r' {
                return None; // the record ended
            }
            at_field_start = !quoted && (b == self.delimiter);
            i += 1;
        }
        quoted.then(|| {
            file_error(
                IssueCode::MalformedCsv,
                Some(line),
                None,
                format!("a quoted field starting on line {line} is never closed"),
            )
        })
    }
}
