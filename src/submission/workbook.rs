//! Worksheets read without trusting the workbook: a file of a few
//! kilobytes can declare cells A1 and XFD1048576 (a dense grid of 17
//! billion cells) or inflate to gigabytes (a zip bomb). Before calamine
//! opens a zip-based workbook (`.xlsx`, `.xlsm`, `.ods`) every entry is
//! inflated into a counter, and the file is refused past
//! [`MAX_INFLATED_BYTES`]; the cells of an `.xlsx` sheet are then read one
//! by one into a sparse list, refused past [`MAX_SHEET_CELLS`], never into
//! a grid. (`.xls` and `.ods` are read by calamine whole: `.ods` is bounded
//! by the inflated size and calamine's own cap on repeated cells, `.xls`
//! by Excel 97's grid of 65,536 × 256.)

use calamine::{Data, Reader as _};
use std::io::{Read, Seek};

/// The most bytes the entries of a zip-based workbook may inflate to.
pub const MAX_INFLATED_BYTES: u64 = 256 << 20;
/// The most entries a zip-based workbook may hold.
pub const MAX_ENTRIES: usize = 10_000;
/// The most non-empty cells read from one worksheet.
pub const MAX_SHEET_CELLS: usize = 2_000_000;

/// A worksheet's non-empty cells, sorted by (row, column), 0-based.
#[derive(Debug, Default)]
pub struct Sheet {
    cells: Vec<((u32, u32), Data)>,
}

impl Sheet {
    fn new(mut cells: Vec<((u32, u32), Data)>) -> Sheet {
        cells.sort_by_key(|(at, _)| *at);
        // A cell written twice keeps its last value, as Excel would show it.
        cells.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                std::mem::swap(&mut later.1, &mut earlier.1);
                true
            } else {
                false
            }
        });
        Sheet { cells }
    }

    /// The value at (row, column), 0-based.
    pub fn get(&self, at: (u32, u32)) -> Option<&Data> {
        self.cells
            .binary_search_by_key(&at, |(p, _)| *p)
            .ok()
            .and_then(|i| self.cells.get(i))
            .map(|(_, d)| d)
    }

    /// The first row and column holding anything (where a dense range
    /// would start), or `None` for an empty sheet.
    pub fn start(&self) -> Option<(u32, u32)> {
        let row = self.cells.first()?.0.0;
        let col = self.cells.iter().map(|((_, c), _)| *c).min()?;
        Some((row, col))
    }

    /// The last row holding anything.
    pub fn last_row(&self) -> Option<u32> {
        self.cells.last().map(|((r, _), _)| *r)
    }

    /// The cells of `row`, by column.
    pub fn row(&self, row: u32) -> &[((u32, u32), Data)] {
        let from = self.cells.partition_point(|((r, _), _)| *r < row);
        let to = self.cells.partition_point(|((r, _), _)| *r <= row);
        self.cells.get(from..to).unwrap_or(&[])
    }
}

/// Refuses a zip-based workbook whose entries inflate past
/// [`MAX_INFLATED_BYTES`] (counted while inflating, not taken from the
/// sizes the archive declares). A file that is not a zip archive passes:
/// calamine says what is wrong with it.
pub fn check_inflated_size(path: &std::path::Path) -> Result<(), String> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let mut magic = [0u8; 4];
    if file.read_exact(&mut magic).is_err() || magic != *b"PK\x03\x04" {
        return Ok(());
    }
    if file.rewind().is_err() {
        return Ok(());
    }
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(());
    };
    if zip.len() > MAX_ENTRIES {
        return Err(format!(
            "the workbook holds {} parts; regc reads workbooks of at most {MAX_ENTRIES}",
            zip.len()
        ));
    }
    let too_big = || {
        format!(
            "the workbook inflates to more than {} MB; regc reads workbooks of at most that \
             (split the submissions into several files, or send CSV)",
            MAX_INFLATED_BYTES >> 20
        )
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index(i) else {
            // calamine reports the broken archive.
            return Ok(());
        };
        let left = MAX_INFLATED_BYTES.saturating_sub(total);
        if entry.size() > left {
            return Err(too_big());
        }
        // The declared size may lie: count what actually comes out.
        let read = std::io::copy(&mut entry.take(left + 1), &mut std::io::sink()).unwrap_or(0);
        total = total.saturating_add(read);
        if total > MAX_INFLATED_BYTES {
            return Err(too_big());
        }
    }
    Ok(())
}

/// The non-empty cells of worksheet `name`: an `.xlsx` sheet read cell by
/// cell, refused past [`MAX_SHEET_CELLS`]; other formats as calamine
/// reads them.
pub fn read_sheet<R: Read + Seek>(
    book: &mut calamine::Sheets<R>,
    name: &str,
) -> Result<Sheet, String> {
    let too_many = || {
        format!(
            "worksheet {name} has more than {MAX_SHEET_CELLS} cells; regc reads sheets of at most \
             that (split the submissions into several files, or send CSV)"
        )
    };
    let mut cells = Vec::new();
    match book {
        calamine::Sheets::Xlsx(x) => {
            let mut reader = x
                .worksheet_cells_reader(name)
                .map_err(|e| format!("cannot read worksheet {name}: {e}"))?;
            while let Some(cell) = reader
                .next_cell()
                .map_err(|e| format!("cannot read worksheet {name}: {e}"))?
            {
                if matches!(cell.get_value(), calamine::DataRef::Empty) {
                    continue;
                }
                if cells.len() >= MAX_SHEET_CELLS {
                    return Err(too_many());
                }
                let at = cell.get_position();
                cells.push((at, Data::from(cell.get_value().clone())));
            }
        }
        other => {
            let range = other
                .worksheet_range(name)
                .map_err(|e| format!("cannot read worksheet {name}: {e}"))?;
            for (r, c, d) in range.used_cells() {
                if matches!(d, Data::Empty) {
                    continue;
                }
                if cells.len() >= MAX_SHEET_CELLS {
                    return Err(too_many());
                }
                let (r0, c0) = range.start().unwrap_or((0, 0));
                let at = (
                    r0.saturating_add(u32::try_from(r).unwrap_or(u32::MAX)),
                    c0.saturating_add(u32::try_from(c).unwrap_or(u32::MAX)),
                );
                cells.push((at, d.clone()));
            }
        }
    }
    Ok(Sheet::new(cells))
}

/// The name of the workbook's first worksheet.
pub fn first_sheet<R: Read + Seek>(book: &calamine::Sheets<R>) -> Option<String> {
    book.sheet_names().into_iter().next()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn sheets_are_sparse_and_keep_the_last_value() {
        let s = Sheet::new(vec![
            ((5, 2), Data::Int(3)),
            ((1, 4), Data::Int(1)),
            ((5, 2), Data::Int(4)),
            ((1, 1), Data::Int(2)),
        ]);
        assert_eq!(s.start(), Some((1, 1)));
        assert_eq!(s.last_row(), Some(5));
        assert_eq!(s.get((5, 2)), Some(&Data::Int(4)));
        assert_eq!(s.get((3, 3)), None);
        assert_eq!(s.row(1).len(), 2);
        assert!(s.row(2).is_empty());
    }
}
