//! Block skipping for `@message like 'literal'` with the segment n-gram index
//! ([`ow_storage::ngram`]).
//!
//! From the scan's explicit [`Prefilter`] (a necessary condition on the raw `@message`
//! bytes) each block of a segment is kept or skipped: `Contains` keeps a block whose
//! filter holds every 4-gram of the literal; `And` keeps it when all parts do, `Or` when
//! one does; `NotContains` and literals under 4 bytes keep every block. The kept blocks
//! become a Parquet `RowSelection`, and with the page index loaded the reader does not
//! even decompress the pages of skipped blocks.
//!
//! Only sound pruning: the implied prefilter (trusted only for messages without a
//! backslash) is never used here, and a missing, corrupt or mismatched sidecar means no
//! skipping. Buffered (unflushed) events have no index and are scanned as before.

use std::path::Path;
use std::sync::atomic::Ordering;

use datafusion::parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use datafusion::parquet::file::metadata::ParquetMetaData;
use ow_storage::ngram::{NgramBlock, NgramIndex};

use crate::scan::{Prefilter, ScanCounters};

/// Whether a block may hold a row satisfying `p` (false only if it certainly holds none).
pub fn may_match(p: &Prefilter, block: &NgramBlock) -> bool {
    match p {
        Prefilter::Contains(lit) => block.may_contain(lit),
        Prefilter::NotContains(_) => true,
        Prefilter::And(v) => v.iter().all(|p| may_match(p, block)),
        Prefilter::Or(v) => v.iter().any(|p| may_match(p, block)),
    }
}

/// The blocks of one segment that may hold matches.
#[derive(Debug)]
pub struct Candidates {
    index: NgramIndex,
    keep: Vec<bool>,
}

impl Candidates {
    /// Loads the sidecar of the segment at `path` and evaluates `prefilter` on its blocks.
    /// `None` when there is no prefilter or no usable sidecar.
    pub fn load(path: &Path, prefilter: Option<&Prefilter>) -> Option<Candidates> {
        let p = prefilter?;
        let index = NgramIndex::load(path, None)?;
        let keep: Vec<bool> = index.blocks.iter().map(|b| may_match(p, b)).collect();
        Some(Candidates { index, keep })
    }

    /// Whether some block is ruled out (else reading the page index is wasted).
    pub fn prunes(&self) -> bool {
        self.keep.iter().any(|&k| !k)
    }

    /// The row selection over the row groups `row_groups` (ascending indexes into `meta`)
    /// that reads only candidate blocks, or `None` when every block is a candidate or the
    /// index does not describe this file (row count differs). An empty selection (no row
    /// selected) means the segment holds no match.
    ///
    /// Counts the blocks considered and skipped in `counters`. The scan counts the rows
    /// and `@message` bytes of skipped blocks in `recordsScanned`/`bytesScanned` as if they
    /// were read (see [`ScanCounters`]), so those statistics do not depend on the index.
    pub fn selection(
        &self,
        meta: &ParquetMetaData,
        row_groups: &[usize],
        counters: &ScanCounters,
    ) -> Option<RowSelection> {
        let total: i64 = meta.row_groups().iter().map(|rg| rg.num_rows()).sum();
        if u64::try_from(total).ok()? != self.index.row_count {
            return None;
        }
        let mut starts = Vec::with_capacity(meta.row_groups().len());
        let mut at = 0u64;
        for rg in meta.row_groups() {
            starts.push(at);
            at += rg.num_rows().max(0) as u64;
        }
        let mut selectors: Vec<RowSelector> = Vec::new();
        let push = |selectors: &mut Vec<RowSelector>, skip: bool, n: usize| {
            if n == 0 {
                return;
            }
            match selectors.last_mut() {
                Some(last) if last.skip == skip => last.row_count += n,
                _ => selectors.push(if skip {
                    RowSelector::skip(n)
                } else {
                    RowSelector::select(n)
                }),
            }
        };
        let (mut considered, mut skipped) = (0u64, 0u64);
        let mut b = 0usize;
        for &g in row_groups {
            let rg = meta.row_groups().get(g)?;
            let lo = *starts.get(g)?;
            let hi = lo + rg.num_rows().max(0) as u64;
            while b < self.index.blocks.len() {
                let blk = &self.index.blocks[b];
                if blk.first_row + blk.rows <= lo {
                    b += 1;
                } else {
                    break;
                }
            }
            let mut k = b;
            while k < self.index.blocks.len() && self.index.blocks[k].first_row < hi {
                let blk = &self.index.blocks[k];
                let s = blk.first_row.max(lo);
                let e = (blk.first_row + blk.rows).min(hi);
                let keep = self.keep[k];
                considered += 1;
                if !keep {
                    skipped += 1;
                }
                push(&mut selectors, !keep, (e - s) as usize);
                k += 1;
            }
        }
        counters
            .ngram_blocks_considered
            .fetch_add(considered, Ordering::Relaxed);
        counters
            .ngram_blocks_skipped
            .fetch_add(skipped, Ordering::Relaxed);
        if skipped == 0 {
            return None;
        }
        Some(RowSelection::from(selectors))
    }
}
