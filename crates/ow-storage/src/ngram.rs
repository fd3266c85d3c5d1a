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
//! # Sizing: bits follow distinct n-grams, not bytes
//!
//! A segment gets `bits_per_kib` filter bits per KiB of message text in all, shared among
//! its blocks in proportion to each block's number of *distinct* 4-grams (estimated by
//! linear counting on a fixed 2^21-bit sketch of the block). Rows are clustered by message
//! (`StoreConfig::cluster_rows_by_message`), so some pages repeat one kind of event and
//! others are full of unique ids; sized by bytes, the first were nearly empty and the second
//! nearly full, and a needle's chance to pass a block is the fill raised to the power of
//! its n-gram count, so the full ones were read for every needle. Sized by distinct
//! n-grams, every block of a segment fills about equally. Measured on 1 GB of generated
//! CloudTrail (the benchmark's needle query, q7) with the same index size (4.9 MB): rows
//! whose `@message` is decoded fell from 115,775 to 59,608 of 685,877, and the query from
//! 0.109 s to 0.053 s.
//!
//! The sketch is the filter at its largest size: a block's bit for n-gram `g` is
//! `(sketch_position(g) × bits) >> 18`, so the final filter is the sketch folded down.
//!
//! # Sketch size: 2^18 bits (version 3)
//!
//! Version 2 sketched on 2^21 bits (256 KiB). Setting one bit per 4-gram in a table that
//! size missed the CPU's first-level cache at nearly every gram, and the sketch was a tenth
//! of an import's CPU time; 2^18 bits (32 KiB) stay in it. A filter is at most the
//! sketch, so a block's filter is now at most 2^18 bits (on 1 GB of generated CloudTrail the
//! largest was 252,032 bits, the median 89,856); a block whose share of its segment's
//! budget is larger gets 2^18 bits and prunes a little less often. Linear counting on 2^18
//! bits still estimates a block's distinct 4-grams (~280,000 per 2,048 rows of CloudTrail:
//! two thirds of the bits set).
//!
//! # Sidecar format (`<segment file>.ngram`, little-endian)
//!
//! ```text
//! magic "OWNG" | version u8 (3) | n u8 (4) | hashes u8 (1) | reserved u8
//! segment rows u64 | block count u32 | crc32 of everything after this field u32
//! per block: first row u64 | rows u32 | message bytes u64 | filter words u32 | words × u64
//! ```
//!
//! Versions 1 (one size per KiB of text, bit `(hash(g) × bits) >> 32`) and 2 (a 2^21-bit
//! sketch) are still read.
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
/// Version written: 3 (filters sized by distinct n-grams, positions via a 2^18-bit sketch).
const VERSION: u8 = 3;
/// log2 of the sketch size in bits (2^18 bits = 32 KiB per block while building).
const SKETCH_LOG2: u32 = 18;
/// log2 of version 2's sketch size in bits.
const V2_SKETCH_LOG2: u32 = 21;
const SKETCH_BITS: u64 = 1 << SKETCH_LOG2;
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
    /// Sidecar format version (1, 2 or 3): how a block's bit positions are computed.
    pub version: u8,
    /// Rows of the segment the index describes.
    pub row_count: u64,
    /// Blocks in row order, covering rows `0..row_count` without gaps or overlap.
    pub blocks: Vec<NgramBlock>,
}

/// One block of consecutive rows of a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramBlock {
    /// Format version of the index the block belongs to (how bit positions are computed).
    pub version: u8,
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

/// The length of the longest common prefix of `a` and `b`, 8 bytes at a time.
pub(crate) fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let word = |s: &[u8], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let mut i = 0;
    while i + 8 <= n {
        let x = word(a, i) ^ word(b, i);
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Bit position of a 4-gram in a filter of `nbits` bits (multiplicative hash, then a
/// multiply-shift range reduction: no division, no allocation). Version 1's position, and
/// the position in the sketch of versions 2 (`nbits` = 2^21) and 3 (`nbits` =
/// [`SKETCH_BITS`]).
#[inline(always)]
fn position(g: u32, nbits: u64) -> u64 {
    let h = u64::from(g).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    (h * nbits) >> 32
}

/// Versions 2 and 3: the bit of sketch position `p` (of a `2^log2`-bit sketch) in a filter
/// of `nbits` bits (<= the sketch).
#[inline(always)]
fn fold(p: u64, nbits: u64, log2: u32) -> u64 {
    (p * nbits) >> log2
}

/// 64-bit words of the sketch.
const SKETCH_WORDS: usize = (SKETCH_BITS / 64) as usize;

/// A zeroed sketch, on the heap (256 KiB: too large for a thread's stack).
fn zeroed_sketch() -> Box<[u64; SKETCH_WORDS]> {
    match vec![0u64; SKETCH_WORDS].into_boxed_slice().try_into() {
        Ok(bits) => bits,
        Err(_) => unreachable!("a vector of SKETCH_WORDS words converts to an array of them"),
    }
}

/// Sets the sketch bit of 4-gram `g`. The position is below 2^21, so its word index is
/// below [`SKETCH_WORDS`] and the compiler drops the bounds check on the fixed-size array.
#[inline(always)]
fn set_gram(bits: &mut [u64; SKETCH_WORDS], g: u32) {
    let p = position(g, SKETCH_BITS);
    bits[(p >> 6) as usize] |= 1 << (p & 63);
}

/// The 4-gram at `k` of a chunk, read as one unaligned 32-bit load.
#[inline(always)]
fn chunk_gram<const N: usize>(c: &[u8; N], k: usize) -> u32 {
    // `copy_from_slice` of 4 bytes is one load; `from_le_bytes([c[k], c[k + 1], ..])`
    // became 4 byte loads and shifts once the compiler shared bytes between grams
    let mut b = [0u8; NGRAM_BYTES];
    b.copy_from_slice(&c[k..k + NGRAM_BYTES]);
    u32::from_le_bytes(b)
}

/// Sets the sketch bits of every 4-gram of `m` (none if it is shorter than 4 bytes).
#[inline(always)]
fn set_grams(bits: &mut [u64; SKETCH_WORDS], m: &[u8]) {
    // 8 grams per step from 11 bytes, one length check per 8 grams
    let mut rest = m;
    while let Some(c) = rest.first_chunk::<11>() {
        for k in 0..8 {
            set_gram(bits, chunk_gram(c, k));
        }
        rest = &rest[8..];
    }
    // the last 0 to 7 grams
    while let Some(c) = rest.first_chunk::<NGRAM_BYTES>() {
        set_gram(bits, chunk_gram(c, 0));
        rest = &rest[1..];
    }
}

/// A block being built: its counts and its sketch (the filter at [`SKETCH_BITS`] bits).
struct Sketch {
    first_row: u64,
    rows: u64,
    message_bytes: u64,
    /// Bytes of the block's messages of 4 bytes or more (those that have 4-grams).
    gram_bytes: u64,
    /// The sketch; `None` while no message has 4 bytes or more.
    bits: Option<Box<[u64; SKETCH_WORDS]>>,
    /// Linear-counting estimate of the block's distinct 4-grams.
    distinct: f64,
}

impl Sketch {
    fn build<'a>(first_row: u64, messages: impl Iterator<Item = &'a [u8]>) -> Sketch {
        let mut sk = Sketch {
            first_row,
            rows: 0,
            message_bytes: 0,
            gram_bytes: 0,
            bits: None,
            distinct: 0.0,
        };
        // the last message whose 4-grams are all in the sketch
        let mut prev: &[u8] = &[];
        for m in messages {
            sk.rows += 1;
            sk.message_bytes += m.len() as u64;
            if m.len() < NGRAM_BYTES {
                continue;
            }
            let bits = sk.bits.get_or_insert_with(zeroed_sketch);
            sk.gram_bytes += m.len() as u64;
            // The 4-grams that lie wholly inside the prefix `m` shares with `prev` are in
            // the sketch already. Segments order a row group's messages by their bytes, so
            // neighbours share long prefixes (a quarter of generated CloudTrail's bytes).
            let from = common_prefix_len(prev, m).saturating_sub(NGRAM_BYTES - 1);
            prev = m;
            set_grams(bits, &m[from..]);
        }
        if let Some(bits) = &sk.bits {
            let set: u64 = bits.iter().map(|w| u64::from(w.count_ones())).sum();
            let m = SKETCH_BITS as f64;
            // linear counting; a saturated sketch counts as 20 bits' worth per bit
            sk.distinct = if set >= SKETCH_BITS {
                20.0 * m
            } else {
                -m * (1.0 - set as f64 / m).ln()
            };
        }
        sk
    }

    /// Folds the sketch into a filter of `words` 64-bit words (at most the sketch's).
    fn finish(self, words: usize) -> NgramBlock {
        let mut bits = Vec::new();
        if let Some(sketch) = &self.bits {
            let words = words.clamp(1, SKETCH_WORDS);
            let nbits = (words as u64) * 64;
            bits = vec![0u64; words];
            for (wi, &w) in sketch.iter().enumerate() {
                let mut x = w;
                while x != 0 {
                    let q = fold(
                        (wi as u64) * 64 + u64::from(x.trailing_zeros()),
                        nbits,
                        SKETCH_LOG2,
                    );
                    bits[(q >> 6) as usize] |= 1 << (q & 63);
                    x &= x - 1;
                }
            }
        }
        NgramBlock {
            version: VERSION,
            first_row: self.first_row,
            rows: self.rows,
            message_bytes: self.message_bytes,
            bits,
        }
    }
}

impl NgramBlock {
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
            let g = gram(literal, i);
            let p = match self.version {
                1 => position(g, nbits),
                2 => fold(position(g, 1 << V2_SKETCH_LOG2), nbits, V2_SKETCH_LOG2),
                _ => fold(position(g, SKETCH_BITS), nbits, SKETCH_LOG2),
            };
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
        let mut sketches = Vec::with_capacity(starts.len());
        for (k, &lo) in starts.iter().enumerate() {
            let hi = starts.get(k + 1).copied().unwrap_or(n);
            if lo >= hi {
                continue;
            }
            let rows = &messages[lo as usize..hi as usize];
            sketches.push(Sketch::build(lo, rows.iter().copied()));
        }
        // the segment's budget, shared in proportion to distinct 4-grams (module docs)
        let budget: f64 = sketches
            .iter()
            .map(|s| s.gram_bytes as f64 * bits_per_kib as f64 / 1024.0)
            .sum();
        let distinct: f64 = sketches.iter().map(|s| s.distinct).sum();
        let blocks = sketches
            .into_iter()
            .map(|s| {
                let share = if distinct > 0.0 {
                    budget * s.distinct / distinct
                } else {
                    0.0
                };
                let words = (share / 64.0).ceil().max(1.0) as usize;
                s.finish(words)
            })
            .collect();
        NgramIndex {
            version: VERSION,
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
        out.extend_from_slice(&[self.version, NGRAM_BYTES as u8, 1, 0]);
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

    /// Parses a sidecar. `None` (with the reason) when it is not a valid version 1, 2 or 3 index:
    /// bad magic, unknown version or parameters, checksum mismatch, truncation, or blocks
    /// that do not tile `0..row_count`.
    pub fn decode(data: &[u8]) -> Result<NgramIndex, String> {
        let mut r = Reader { data, at: 0 };
        if r.take(4)? != MAGIC {
            return Err("not an n-gram index (bad magic)".into());
        }
        let params = r.take(4)?;
        let version = params[0];
        if !(1..=VERSION).contains(&version)
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
                version,
                first_row,
                rows,
                message_bytes,
                bits,
            });
        }
        if next != row_count || r.at != data.len() {
            return Err("n-gram index blocks do not tile the segment".into());
        }
        Ok(NgramIndex {
            version,
            row_count,
            blocks,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A filter of an older version, each 4-gram's bit at `bit(gram, filter bits)`.
    fn old_block(
        version: u8,
        first_row: u64,
        messages: &[&[u8]],
        words: usize,
        bit: impl Fn(u32, u64) -> u64,
    ) -> NgramBlock {
        let nbits = (words as u64) * 64;
        let mut bits = vec![0u64; words];
        for m in messages {
            for i in 0..=m.len().saturating_sub(NGRAM_BYTES) {
                if m.len() >= NGRAM_BYTES {
                    let p = bit(gram(m, i), nbits);
                    bits[(p >> 6) as usize] |= 1 << (p & 63);
                }
            }
        }
        NgramBlock {
            version,
            first_row,
            rows: messages.len() as u64,
            message_bytes: messages.iter().map(|m| m.len() as u64).sum(),
            bits,
        }
    }

    /// A version-1 filter: one size per KiB, bit `(hash × bits) >> 32`.
    fn v1_block(first_row: u64, messages: &[&[u8]], words: usize) -> NgramBlock {
        old_block(1, first_row, messages, words, position)
    }

    /// A version-2 filter: positions in a 2^21-bit sketch, folded to `words` words.
    fn v2_block(first_row: u64, messages: &[&[u8]], words: usize) -> NgramBlock {
        old_block(2, first_row, messages, words, |g, nbits| {
            fold(position(g, 1 << V2_SKETCH_LOG2), nbits, V2_SKETCH_LOG2)
        })
    }

    #[test]
    fn version_1_and_2_sidecars_are_still_read() {
        let a: &[&[u8]] = &[b"{\"accessKeyId\":\"AKIA3NEEDLE7RQXZ2WKV\"}"];
        let b: &[&[u8]] = &[b"{\"eventName\":\"GetObject\"}", b"plain text line"];
        let mut back = None;
        for (version, blocks) in [
            (1, vec![v1_block(0, a, 2), v1_block(1, b, 2)]),
            (2, vec![v2_block(0, a, 4), v2_block(1, b, 4)]),
        ] {
            let ix = NgramIndex {
                version,
                row_count: 3,
                blocks,
            };
            let bytes = ix.encode();
            assert_eq!(bytes[4], version, "written as version {version}");
            let read = NgramIndex::decode(&bytes).unwrap();
            assert_eq!(read, ix);
            assert!(read.blocks[0].may_contain(b"AKIA3NEEDLE7RQXZ2WKV"));
            assert!(read.blocks[1].may_contain(b"GetObject"));
            assert!(read.blocks[1].may_contain(b"text"));
            assert!(!read.blocks[1].may_contain(b"AKIA3NEEDLE7RQXZ2WKV"));
            back = Some(read);
        }
        let back = back.unwrap();
        // the same messages as version 3 set other bits
        let v3 = NgramIndex::build(&[a[0], b[0], b[1]], &[0, 1], 64 * 8 * 1024);
        assert_eq!(v3.version, 3);
        assert_ne!(v3.blocks[1].bits, back.blocks[1].bits);
        assert!(!v3.blocks[1].may_contain(b"AKIA3NEEDLE7RQXZ2WKV"));
    }

    /// Every 4-gram of every message, hashed one by one into a sketch.
    fn naive_sketch(msgs: &[&[u8]]) -> Vec<u64> {
        let mut want = vec![0u64; SKETCH_WORDS];
        for m in msgs {
            for i in 0..=m.len().saturating_sub(NGRAM_BYTES) {
                if m.len() >= NGRAM_BYTES {
                    let p = position(gram(m, i), SKETCH_BITS);
                    want[(p >> 6) as usize] |= 1 << (p & 63);
                }
            }
        }
        want
    }

    /// The sketch's words (all zero when no message had a 4-gram).
    fn sketch_words(sk: &Sketch) -> Vec<u64> {
        sk.bits
            .as_deref()
            .map_or_else(|| vec![0; SKETCH_WORDS], |b| b.to_vec())
    }

    /// `n` pseudo-random bytes (xorshift64 from `seed`).
    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn every_gram_is_set_at_every_length_offset_and_shared_prefix() {
        // Grams are read 8 at a time from 11-byte chunks, then one by one: lengths 0..=27
        // cover no chunk, one and two chunks with every tail; messages start at every
        // offset of a word, and the second message shares 0 to all of its bytes with the
        // first (the prefix skip), so every gram position starts the hashed part.
        let buf = noise(7, 80);
        for len in 0..=27 {
            for off in 0..8 {
                let first = &buf[off..off + len];
                for shared in 0..=len {
                    // shares exactly `shared` bytes: the next one differs
                    let mut second = first[..shared].to_vec();
                    second.extend_from_slice(&buf[48..48 + len - shared]);
                    if shared < len && second[shared] == first[shared] {
                        second[shared] ^= 1;
                    }
                    let msgs = [first, &second[..]];
                    let sk = Sketch::build(0, msgs.iter().copied());
                    assert!(
                        sketch_words(&sk) == naive_sketch(&msgs),
                        "length {len}, offset {off}, shared {shared}"
                    );
                    assert_eq!(sk.bits.is_some(), len >= NGRAM_BYTES);
                }
            }
        }
    }

    #[test]
    fn folding_matches_folding_bit_by_bit() {
        let texts: Vec<Vec<u8>> = (0..400).map(|i| noise(i + 1, 600)).collect();
        let msgs: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
        let sketch = naive_sketch(&msgs);
        let set: u32 = sketch.iter().map(|w| w.count_ones()).sum();
        // a third of the sketch's 2^18 bits: most words hold several
        assert!(set > 70_000, "{set} bits set");
        for words in [
            1, 2, 3, 7, 100, 511, 512, 513, 1000, 4095, 4096, 4097, 20_000,
        ] {
            let block = Sketch::build(0, msgs.iter().copied()).finish(words);
            let words = words.min(SKETCH_WORDS);
            let nbits = (words as u64) * 64;
            let mut want = vec![0u64; words];
            for (wi, &w) in sketch.iter().enumerate() {
                for t in 0..64 {
                    if w & (1 << t) != 0 {
                        let q = fold(wi as u64 * 64 + t, nbits, SKETCH_LOG2);
                        want[(q >> 6) as usize] |= 1 << (q & 63);
                    }
                }
            }
            assert!(block.bits == want, "{words} words");
        }
        // no message with a 4-gram: no filter
        assert!(Sketch::build(0, [&b"abc"[..]].into_iter())
            .finish(8)
            .bits
            .is_empty());
    }

    #[test]
    fn shared_prefixes_are_hashed_once_with_the_same_bits() {
        // sorted messages with long shared prefixes, one a prefix of the next, one shorter
        // than a 4-gram in between, one equal to its predecessor
        let mut texts: Vec<String> = (0..300)
            .map(|i| format!("{{\"eventName\":\"Get{}\",\"n\":{}}}", i % 7, i * 37 % 101))
            .collect();
        texts.push("{\"eventName\":\"Get1".into());
        texts.push("ab".into());
        texts.push("{\"eventName\":\"Get1".into());
        texts.push("{\"eventName\":\"Get1\"".into());
        texts.sort();
        let msgs: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        let sk = Sketch::build(0, msgs.iter().copied());
        assert!(
            sketch_words(&sk) == naive_sketch(&msgs),
            "the sketch differs from hashing every 4-gram"
        );
        assert_eq!(sk.rows, msgs.len() as u64);
        for (a, b, n) in [
            (&b"abcdefghijk"[..], &b"abcdefghijz"[..], 10),
            (b"abc", b"abcdef", 3),
            (b"", b"x", 0),
            (b"0123456789abcdef", b"0123456789abcdef", 16),
        ] {
            assert_eq!(common_prefix_len(a, b), n);
        }
    }

    #[test]
    fn bits_follow_distinct_ngrams_not_bytes() {
        // block 0: one message repeated (few distinct 4-grams); block 1: as many bytes of
        // distinct text. Same bytes, so version 1 gave both the same size.
        let repeated: Vec<Vec<u8>> = (0..2000)
            .map(|_| b"{\"eventName\":\"GetObject\",\"awsRegion\":\"us-east-1\"}".to_vec())
            .collect();
        let len = repeated[0].len();
        let unique: Vec<Vec<u8>> = (0..2000u64)
            .map(|i| {
                let mut m = format!("{:016x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).repeat(4);
                m.truncate(len);
                m.into_bytes()
            })
            .collect();
        let msgs: Vec<&[u8]> = repeated.iter().chain(&unique).map(Vec::as_slice).collect();
        let ix = NgramIndex::build(&msgs, &[0, 2000], 40);
        assert_eq!(ix.version, 3);
        let (small, large) = (ix.blocks[0].bits.len(), ix.blocks[1].bits.len());
        assert!(small * 20 < large, "{small} words vs {large}");
        // the budget is kept: about 40 bits per KiB over the segment, whole words per block
        let budget = (msgs.iter().map(|m| m.len()).sum::<usize>() * 40).div_ceil(1024);
        assert!(
            (small + large) * 64 <= budget + 2 * 64,
            "{} > {budget}",
            (small + large) * 64
        );
        // and nothing is lost: every 4-gram of every message is found in its block
        for (k, m) in msgs.iter().enumerate() {
            let block = &ix.blocks[usize::from(k >= 2000)];
            assert!(block.may_contain(m), "message {k}");
        }
    }
}
