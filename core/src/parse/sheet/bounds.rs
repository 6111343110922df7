//! What a workbook may cost, checked before the spreadsheet reader does the work.
//!
//! - **Inflation** (`.xlsx`, `.ods` are zip archives): every entry is inflated once into
//!   nothing, counting, and the whole may come to at most [`INFLATION_RATIO`] times the
//!   archive's own size (plus [`INFLATION_SLACK`]) and at most four times
//!   `max_file_bytes`; past that it is a zip bomb (`file_too_large`). Declared sizes are
//!   checked first (free), actual bytes next (a lying header gains nothing).
//! - **Expansion** (`.ods`, `.xls`): the reader keeps a sheet as a dense grid from its
//!   first to its last value, and an `.ods` can repeat a row or a cell a million times in a
//!   few bytes. Each sheet's grid is measured from the file first (a streaming pass over
//!   `content.xml`; the BIFF cell records of `.xls`): a sheet past `max_rows` or
//!   `max_columns` is refused with those codes, and all sheets together may hold at most
//!   one cell per [`BYTES_PER_CELL`] bytes of the file (plus [`CELL_SLACK`]).
//! - `.xlsx` cells are streamed one by one and never held as a grid.

use super::cells::{too_many_rows, Limits};
use super::{malformed, unsupported};
use crate::error::Error;
use crate::issue::IssueCode;
use quick_xml::events::Event;
use std::io::{Cursor, Read};

/// How much larger than the archive its inflated entries may be, together.
pub(crate) const INFLATION_RATIO: usize = 100;
/// Inflated bytes allowed on top of the ratio (a small workbook's styles and themes).
pub(crate) const INFLATION_SLACK: usize = 4 << 20;
/// Bytes of the file (inflated `content.xml` for `.ods`, the workbook stream for `.xls`)
/// per cell of the grids the reader may build.
pub(crate) const BYTES_PER_CELL: usize = 8;
/// Grid cells allowed on top of that.
pub(crate) const CELL_SLACK: usize = 1 << 20;

pub(super) fn open_zip(bytes: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>, Error> {
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(malformed)
}

/// The budget of inflated bytes for an archive of `len` bytes.
fn inflation_budget(len: usize, max_file_bytes: usize) -> usize {
    len.saturating_mul(INFLATION_RATIO)
        .saturating_add(INFLATION_SLACK)
        .min(max_file_bytes.saturating_mul(4))
}

/// Refuses an archive whose entries inflate past their budget (see the module).
pub(super) fn check_inflated(bytes: &[u8], max_file_bytes: usize) -> Result<(), Error> {
    let budget = inflation_budget(bytes.len(), max_file_bytes);
    let mut archive = open_zip(bytes)?;
    let declared = (0..archive.len()).try_fold(0u64, |sum, i| {
        let size = archive.by_index_raw(i).map_err(malformed)?.size();
        Ok::<u64, Error>(sum.saturating_add(size))
    })?;
    if declared > budget as u64 {
        return Err(bomb(bytes.len(), declared, budget));
    }
    let mut left = budget as u64;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(malformed)?;
        let read =
            std::io::copy(&mut entry.take(left + 1), &mut std::io::sink()).map_err(malformed)?;
        if read > left {
            return Err(bomb(bytes.len(), budget as u64 + 1, budget));
        }
        left -= read;
    }
    Ok(())
}

fn bomb(len: usize, inflated: u64, budget: usize) -> Error {
    Error::file(
        IssueCode::FileTooLarge,
        None,
        None,
        format!(
            "the spreadsheet is {len} bytes but inflates to more than {inflated} (at most {budget} are read for a file this size)"
        ),
    )
}

/// The grid of one sheet as the reader would build it: rows from its first to its last
/// value, columns up to the widest row's last value.
#[derive(Default)]
struct Grid {
    first_row: Option<u64>,
    end_row: u64,
    width: u64,
}

impl Grid {
    fn value_row(&mut self, row: u64, repeats: u64, width: u64) {
        self.first_row.get_or_insert(row);
        self.end_row = row + repeats;
        self.width = self.width.max(width);
    }
    fn cells(&self) -> u64 {
        self.first_row
            .map_or(0, |first| (self.end_row - first).saturating_mul(self.width))
    }
}

/// Measures every table of an `.ods` (its `content.xml`, streamed) and refuses one the
/// limits do not allow (see the module).
pub(super) fn check_ods_cells(bytes: &[u8], limits: &Limits) -> Result<(), Error> {
    let mut archive = open_zip(bytes)?;
    let content = archive.by_name("content.xml").map_err(malformed)?;
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let mut buf = Vec::new();
    let mut total: u64 = 0;
    let mut grid = Grid::default();
    // The row being read: its repeats, the column after its last value, the column now.
    let mut row: Option<(u64, u64, u64)> = None;
    let mut rows_before: u64 = 0;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(malformed)?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"table:table" => {
                grid = Grid::default();
                rows_before = 0;
            }
            Event::End(e) if e.name().as_ref() == b"table:table" => {
                total = total.saturating_add(grid.cells());
                check_total(total, reader.buffer_position(), limits)?;
            }
            Event::Start(ref e) | Event::Empty(ref e)
                if e.name().as_ref() == b"table:table-row" =>
            {
                let repeats = repeat(e, "table:number-rows-repeated")?;
                row = Some((repeats, 0, 0));
                if matches!(event, Event::Empty(_)) {
                    rows_before = rows_before.saturating_add(repeats);
                    row = None;
                }
            }
            Event::End(e) if e.name().as_ref() == b"table:table-row" => {
                if let Some((repeats, width, _)) = row.take() {
                    if width > 0 {
                        if width > limits.max_columns as u64 {
                            return Err(columns(rows_before + 1, width, limits));
                        }
                        grid.value_row(rows_before, repeats, width);
                        if grid.end_row > (limits.max_rows as u64).saturating_mul(2) + 1 {
                            return Err(too_many_rows(
                                u32::try_from(grid.end_row).unwrap_or(u32::MAX),
                                limits.max_rows,
                            ));
                        }
                    }
                    rows_before = rows_before.saturating_add(repeats);
                }
            }
            Event::Start(ref e) | Event::Empty(ref e)
                if matches!(
                    e.name().as_ref(),
                    b"table:table-cell" | b"table:covered-table-cell"
                ) =>
            {
                let repeats = repeat(e, "table:number-columns-repeated")?;
                let has_value = matches!(event, Event::Start(_))
                    || e.try_get_attribute("office:value-type")
                        .map_err(malformed)?
                        .is_some();
                if let Some((_, width, column)) = row.as_mut() {
                    *column = column.saturating_add(repeats);
                    if has_value {
                        *width = *column;
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

fn repeat(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Result<u64, Error> {
    match e.try_get_attribute(name).map_err(malformed)? {
        None => Ok(1),
        Some(a) => std::str::from_utf8(&a.value)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| malformed(format_args!("{name} is not a positive number"))),
    }
}

fn check_total(cells: u64, file_bytes: u64, limits: &Limits) -> Result<(), Error> {
    let allowed = (file_bytes / BYTES_PER_CELL as u64).saturating_add(CELL_SLACK as u64);
    if cells > allowed {
        return Err(Error::file(
            IssueCode::FileTooLarge,
            None,
            None,
            format!(
                "the spreadsheet's sheets span {cells} cells, more than a file of {file_bytes} bytes may (at most {allowed}; max_rows {}, max_columns {})",
                limits.max_rows, limits.max_columns
            ),
        ));
    }
    Ok(())
}

fn columns(line: u64, width: u64, limits: &Limits) -> Error {
    Error::file(
        IssueCode::TooManyColumns,
        Some(u32::try_from(line).unwrap_or(u32::MAX)),
        None,
        format!(
            "row {line} has values up to column {width}; the limit (max_columns) is {}",
            limits.max_columns
        ),
    )
}

/// BIFF record types that hold one cell (row, column first), and MULRK / MULBLANK, which
/// hold a run of cells of one row.
const CELL_RECORDS: [u16; 8] = [
    0x0006, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00D6,
];
const MULRK: u16 = 0x00BD;
const MULBLANK: u16 = 0x00BE;
const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;

/// Measures the cell records of every sheet of an `.xls` (its `Workbook` stream) and
/// refuses one the limits do not allow (see the module).
pub(super) fn check_xls_cells(bytes: &[u8], limits: &Limits) -> Result<(), Error> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(malformed)?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| file.is_stream(n))
        .ok_or_else(|| {
            unsupported("the file is a Compound File (OLE2) but not an Excel workbook")
        })?;
    let mut stream = Vec::new();
    file.open_stream(name)
        .map_err(malformed)?
        .take(bytes.len() as u64)
        .read_to_end(&mut stream)
        .map_err(malformed)?;
    let mut total: u64 = 0;
    // One sheet's bounds: first/last row, first/last column.
    let mut bounds: Option<(u64, u64, u64, u64)> = None;
    let mut at = 0;
    while let Some(header) = stream.get(at..at + 4) {
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        let data = stream.get(at + 4..at + 4 + len).unwrap_or(&[]);
        at += 4 + len;
        let cells = match kind {
            BOF | EOF => {
                if let Some((r0, r1, c0, c1)) = bounds.take() {
                    total = total.saturating_add((r1 - r0 + 1).saturating_mul(c1 - c0 + 1));
                    check_total(total, stream.len() as u64, limits)?;
                }
                continue;
            }
            k if CELL_RECORDS.contains(&k) && data.len() >= 4 => {
                let column = u64::from(u16::from_le_bytes([data[2], data[3]]));
                Some((
                    u64::from(u16::from_le_bytes([data[0], data[1]])),
                    column,
                    column,
                ))
            }
            MULRK | MULBLANK if data.len() >= 6 => {
                let first = u64::from(u16::from_le_bytes([data[2], data[3]]));
                let last = u64::from(u16::from_le_bytes([
                    data[data.len() - 2],
                    data[data.len() - 1],
                ]));
                Some((
                    u64::from(u16::from_le_bytes([data[0], data[1]])),
                    first,
                    last.max(first),
                ))
            }
            _ => None,
        };
        if let Some((row, first, last)) = cells {
            if last >= limits.max_columns as u64 {
                return Err(columns(row + 1, last + 1, limits));
            }
            if row > (limits.max_rows as u64).saturating_mul(2) {
                return Err(too_many_rows(
                    u32::try_from(row + 1).unwrap_or(u32::MAX),
                    limits.max_rows,
                ));
            }
            bounds = Some(match bounds {
                None => (row, row, first, last),
                Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(first), c1.max(last)),
            });
        }
    }
    if let Some((r0, r1, c0, c1)) = bounds {
        total = total.saturating_add((r1 - r0 + 1).saturating_mul(c1 - c0 + 1));
        check_total(total, stream.len() as u64, limits)?;
    }
    Ok(())
}
