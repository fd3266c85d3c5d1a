//! Block-skipping n-gram index of `@message`: a sidecar object next to each segment.
//!
//! `@message like 'literal'` is a case-sensitive substring test (spec
//! `insights-language.md` §5.2). A message containing the literal contains every byte
//! n-gram of it, so a block of rows whose set of n-grams lacks one of the literal's n-grams
//! holds no match. Per block (one `@message` data page of the segment, so that the reader
//! skips exactly the pages it does not need) the index keeps a one-hash Bloom filter of
//! the block's byte 4-grams (within each message; never across messages).
//!
//! The filter answers "maybe" or "no": a "no" is always right (the property test in
//! `tests/storage` checks it), a "maybe" may be wrong. A needle has many n-grams and all
//! must hit, so a high per-n-gram false-positive rate (a well filled filter) still prunes.
//!
//! # Sidecar format (`<segment file>.ngram`, little-endian)
//!
//! ```text
//! magic "OWNG" | version u8 (1) | n u8 (4) | hashes u8 (1) | reserved u8
//! segment rows u64 | block count u32 | crc32 of everything after this field u32
//! per block: first row u64 | rows u32 | message bytes u64 | filter words u32 | words × u64
//! ```
//!
//! A missing, truncated, corrupt (checksum) or unknown-version sidecar, or one whose row
//! count differs from the segment's, is ignored by readers: no skipping, never an error.
//! Segment file names are never reused (a process-unique suffix), so a sidecar can only
//! describe its own segment.

use std::path::{Path, PathBuf};

/// Suffix appended to a segment's file name (object path or local path) to name its sidecar.
pub const SIDECAR_SUFFIX: &str = ".ngram";

/// Bytes per n-gram. 4: measured on 1 GB of CloudTrail, 3-grams of access key ids,
/// request ids and IPs are present in nearly every block; 4-grams prune access key ids
/// and part of the user names and ARNs, at about 140,000 distinct 4-grams per 1,000 rows.
pub const NGRAM_BYTES: usize = 4;

const MAGIC: &[u8; 4] = b"OWNG";
const VERSION: u8 = 1;
const HEADER_BYTES: usize = 4 + 4 + 8 + 4 + 4;
const BLOCK_HEADER_BYTES: usize = 8 + 4 + 8 + 4;

/// The sidecar path of a segment file (local path).
pub fn sidecar_path(segment: &Path) -> PathBuf {
    let mut s = segment.as_os_str().to_owned();
    s.push(SIDECAR_SUFFIX);
    PathBuf::from(s)
}

/// The n-gram index of one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramIndex {
    /// Rows of the segment the index describes.
    pub row_count: u64,
    /// Blocks in row order, covering rows `0..row_count` without gaps or overlap.
    pub blocks: Vec<NgramBlock>,
}

/// One block of consecutive rows of a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramBlock {
    /// Index of the block's first row in the segment (0-based, across row groups).
    pub first_row: u64,
    /// Rows in the block.
    pub rows: u64,
    /// UTF-8 bytes of `@message` of the block's rows (for `bytesScanned` of skipped blocks).
    pub message_bytes: u64,
    /// Bloom filter bits (one hash per 4-gram); empty when no message of the block has
    /// 4 bytes or more.
    pub bits: Vec<u64>,
}

/// The 4-gram starting at `i` (callers ensure `i + 4 <= s.len()`).
#[inline(always)]
fn gram(s: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]])
}

/// Bit position of a 4-gram in a filter of `nbits` bits (multiplicative hash, then a
/// multiply-shift range reduction: no division, no allocation).
#[inline(always)]
fn position(g: u32, nbits: u64) -> u64 {
    let h = u64::from(g).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    (h * nbits) >> 32
}

impl NgramBlock {
    /// Builds a block's filter from its messages with about `bits_per_kib` bits per KiB of
    /// message text (rounded up to whole 64-bit words, at least one word when any message
    /// has 4 bytes).
    pub fn build<'a>(
        first_row: u64,
        messages: impl Iterator<Item = &'a [u8]> + Clone,
        bits_per_kib: u64,
    ) -> NgramBlock {
        let mut rows = 0u64;
        let mut bytes = 0u64;
        let mut gram_bytes = 0u64;
        for m in messages.clone() {
            rows += 1;
            bytes += m.len() as u64;
            if m.len() >= NGRAM_BYTES {
                gram_bytes += m.len() as u64;
            }
        }
        let mut bits = Vec::new();
        if gram_bytes > 0 {
            let want = (gram_bytes * bits_per_kib).div_ceil(1024).max(64);
            let words = want.div_ceil(64).min(u64::from(u32::MAX)) as usize;
            bits = vec![0u64; words];
            let nbits = (words as u64) * 64;
            for m in messages {
                if m.len() < NGRAM_BYTES {
                    continue;
                }
                // a shift register over the bytes: the 4-gram at i is gram(m, i)
                let mut g = gram(m, 0);
                let p = position(g, nbits);
                bits[(p >> 6) as usize] |= 1 << (p & 63);
                for &c in &m[NGRAM_BYTES..] {
                    g = (g >> 8) | (u32::from(c) << 24);
                    let p = position(g, nbits);
                    bits[(p >> 6) as usize] |= 1 << (p & 63);
                }
            }
        }
        NgramBlock {
            first_row,
            rows,
            message_bytes: bytes,
            bits,
        }
    }

    /// Whether some message of the block may contain `literal` as a substring. `true` for
    /// literals shorter than 4 bytes (no pruning); `false` only if the block certainly holds
    /// no such message.
    pub fn may_contain(&self, literal: &[u8]) -> bool {
        if literal.len() < NGRAM_BYTES {
            return true;
        }
        if self.bits.is_empty() {
            // no message of the block has 4 bytes, so none contains the literal
            return false;
        }
        let nbits = (self.bits.len() as u64) * 64;
        (0..=literal.len() - NGRAM_BYTES).all(|i| {
            let p = position(gram(literal, i), nbits);
            self.bits[(p >> 6) as usize] & (1 << (p & 63)) != 0
        })
    }
}

impl NgramIndex {
    /// Builds the index of a segment's messages (in segment row order) cut into blocks that
    /// start at `block_starts` (row indexes, ascending; a first start other than 0 and
    /// starts beyond the rows are corrected).
    pub fn build(messages: &[&[u8]], block_starts: &[u64], bits_per_kib: u64) -> Self {
        let n = messages.len() as u64;
        let mut starts: Vec<u64> = block_starts.iter().copied().filter(|&s| s < n).collect();
        starts.sort_unstable();
        starts.dedup();
        if starts.first() != Some(&0) {
            starts.insert(0, 0);
        }
        let mut blocks = Vec::with_capacity(starts.len());
        for (k, &lo) in starts.iter().enumerate() {
            let hi = starts.get(k + 1).copied().unwrap_or(n);
            if lo >= hi {
                continue;
            }
            let rows = &messages[lo as usize..hi as usize];
            blocks.push(NgramBlock::build(lo, rows.iter().copied(), bits_per_kib));
        }
        NgramIndex {
            row_count: n,
            blocks,
        }
    }

    /// Serialises the index (format in the module docs).
    pub fn encode(&self) -> Vec<u8> {
        let words: usize = self.blocks.iter().map(|b| b.bits.len()).sum();
        let mut out =
            Vec::with_capacity(HEADER_BYTES + self.blocks.len() * BLOCK_HEADER_BYTES + words * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[VERSION, NGRAM_BYTES as u8, 1, 0]);
        out.extend_from_slice(&self.row_count.to_le_bytes());
        out.extend_from_slice(&(self.blocks.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]); // checksum, filled below
        for b in &self.blocks {
            out.extend_from_slice(&b.first_row.to_le_bytes());
            out.extend_from_slice(&(b.rows.min(u64::from(u32::MAX)) as u32).to_le_bytes());
            out.extend_from_slice(&b.message_bytes.to_le_bytes());
            out.extend_from_slice(&(b.bits.len() as u32).to_le_bytes());
            for w in &b.bits {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        let crc = crc32fast::hash(&out[HEADER_BYTES..]);
        out[HEADER_BYTES - 4..HEADER_BYTES].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses a sidecar. `None` (with the reason) when it is not a valid version-1 index:
    /// bad magic, unknown version or parameters, checksum mismatch, truncation, or blocks
    /// that do not tile `0..row_count`.
    pub fn decode(data: &[u8]) -> Result<NgramIndex, String> {
        let mut r = Reader { data, at: 0 };
        if r.take(4)? != MAGIC {
            return Err("not an n-gram index (bad magic)".into());
        }
        let params = r.take(4)?;
        if params[0] != VERSION
            || params[1] as usize != NGRAM_BYTES
            || params[2] != 1
            || params[3] != 0
        {
            return Err(format!(
                "unsupported n-gram index version {} (n {}, hashes {})",
                params[0], params[1], params[2]
            ));
        }
        let row_count = r.u64()?;
        let count = r.u32()? as usize;
        let crc = r.u32()?;
        if crc32fast::hash(&data[HEADER_BYTES..]) != crc {
            return Err("n-gram index checksum mismatch".into());
        }
        let mut blocks = Vec::with_capacity(count.min(data.len() / BLOCK_HEADER_BYTES));
        let mut next = 0u64;
        for _ in 0..count {
            let first_row = r.u64()?;
            let rows = u64::from(r.u32()?);
            let message_bytes = r.u64()?;
            let words = r.u32()? as usize;
            if first_row != next || rows == 0 {
                return Err("n-gram index blocks do not tile the segment".into());
            }
            next = first_row.saturating_add(rows);
            let raw = r.take(words.checked_mul(8).ok_or("n-gram index too large")?)?;
            let bits = raw
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect();
            blocks.push(NgramBlock {
                first_row,
                rows,
                message_bytes,
                bits,
            });
        }
        if next != row_count || r.at != data.len() {
            return Err("n-gram index blocks do not tile the segment".into());
        }
        Ok(NgramIndex { row_count, blocks })
    }

    /// Loads the sidecar of the segment at `segment` (local path) if it exists and is valid
    /// for a segment of `row_count` rows; `None` otherwise (the caller reads every block).
    pub fn load(segment: &Path, row_count: Option<u64>) -> Option<NgramIndex> {
        let path = sidecar_path(segment);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::debug!(path = %path.display(), error = %e, "n-gram index unreadable");
                }
                return None;
            }
        };
        match NgramIndex::decode(&data) {
            Ok(ix) if row_count.is_none_or(|n| n == ix.row_count) => Some(ix),
            Ok(_) => {
                tracing::debug!(path = %path.display(), "n-gram index row count differs from its segment");
                None
            }
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "n-gram index ignored");
                None
            }
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or("n-gram index truncated")?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }
}
