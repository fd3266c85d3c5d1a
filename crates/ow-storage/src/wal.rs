//! The write-ahead log: checksummed, length-prefixed records in numbered files.
//!
//! File `wal/<number, 20 digits>.wal`: an 8-byte header `OWWAL\0\0\x01`, then records:
//!
//! ```text
//! len: u32 LE (payload bytes, > 0) | crc32: u32 LE (of payload) | payload
//! payload = kind u8 (1 = events)
//!         | group_id u64 | first_seq u64 | ingestion_time_ms i64
//!         | stream_len u32 | stream (UTF-8)
//!         | count u32 | count × (timestamp_ms i64 | message_len u32 | message (UTF-8))
//! ```
//!
//! All integers little-endian. A record is acknowledged only after the file is fsynced
//! past its end (group commit: see `Store`). On replay a record that is cut short (a
//! torn write) or fails its checksum ends the log: the file is truncated there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

/// File header: magic + format version 1.
pub(crate) const HEADER: &[u8; 8] = b"OWWAL\0\0\x01";
const KIND_EVENTS: u8 = 1;
/// Largest payload accepted on replay (a corrupt length must not make us allocate GBs).
const MAX_RECORD: usize = 256 << 20;

/// Events of one log stream appended by one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WalBatch {
    pub group_id: u64,
    pub first_seq: u64,
    pub ingestion_time_ms: i64,
    pub stream: String,
    /// `(timestamp_ms, message)`.
    pub events: Vec<(i64, String)>,
}

/// Encodes `batch` as one framed record appended to `out`.
pub(crate) fn encode_record<'a, I>(
    out: &mut Vec<u8>,
    group_id: u64,
    first_seq: u64,
    ingestion_time_ms: i64,
    stream: &str,
    events: I,
) -> Result<()>
where
    I: ExactSizeIterator<Item = (i64, &'a str)>,
{
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    out.push(KIND_EVENTS);
    out.extend_from_slice(&group_id.to_le_bytes());
    out.extend_from_slice(&first_seq.to_le_bytes());
    out.extend_from_slice(&ingestion_time_ms.to_le_bytes());
    put_str(out, stream)?;
    let count = u32::try_from(events.len())
        .map_err(|_| StoreError::InvalidParameter("too many events in one write".into()))?;
    out.extend_from_slice(&count.to_le_bytes());
    for (ts, msg) in events {
        out.extend_from_slice(&ts.to_le_bytes());
        put_str(out, msg)?;
    }
    let len = out.len() - start - 8;
    if len > MAX_RECORD {
        out.truncate(start);
        return Err(StoreError::InvalidParameter(format!(
            "one write of {len} bytes exceeds the WAL record limit of {MAX_RECORD} bytes"
        )));
    }
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn put_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
    let n = u32::try_from(s.len())
        .map_err(|_| StoreError::InvalidParameter("string longer than 4 GiB".into()))?;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

fn decode_payload(p: &[u8]) -> Option<WalBatch> {
    let mut c = Cursor { b: p, pos: 0 };
    if c.take(1)?[0] != KIND_EVENTS {
        return None;
    }
    let group_id = c.u64()?;
    let first_seq = c.u64()?;
    let ingestion_time_ms = c.i64()?;
    let stream = c.string()?;
    let count = c.u32()? as usize;
    let mut events = Vec::with_capacity(count.min(p.len() / 12));
    for _ in 0..count {
        let ts = c.i64()?;
        events.push((ts, c.string()?));
    }
    (c.pos == p.len()).then_some(WalBatch {
        group_id,
        first_seq,
        ingestion_time_ms,
        stream,
        events,
    })
}

/// What reading one WAL file found.
#[derive(Debug, Default)]
pub(crate) struct ReadResult {
    pub batches: Vec<WalBatch>,
    /// Length of the valid prefix of the file (header + whole, valid records).
    pub valid_len: u64,
    /// Total file length.
    pub file_len: u64,
    /// Why reading stopped before the end, if it did.
    pub problem: Option<String>,
}

/// Reads all valid records of a WAL file, stopping at the first torn or corrupt one.
pub(crate) fn read_file(path: &Path) -> Result<ReadResult> {
    let mut data = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(|e| StoreError::io(path, e))?;
    let mut r = ReadResult {
        file_len: data.len() as u64,
        ..Default::default()
    };
    if data.len() < HEADER.len() || &data[..HEADER.len()] != HEADER {
        r.problem = Some(if data.len() < HEADER.len() {
            "file header is incomplete".into()
        } else {
            "file header is not an OpenWatch WAL header".into()
        });
        return Ok(r);
    }
    let mut pos = HEADER.len();
    r.valid_len = pos as u64;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < 8 {
            r.problem = Some(format!("torn record header at offset {pos}"));
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len == 0 || len > MAX_RECORD {
            r.problem = Some(format!("invalid record length {len} at offset {pos}"));
            break;
        }
        if rest.len() - 8 < len {
            r.problem = Some(format!(
                "torn record at offset {pos}: {len} payload bytes announced, {} present",
                rest.len() - 8
            ));
            break;
        }
        let payload = &rest[8..8 + len];
        if crc32fast::hash(payload) != crc {
            r.problem = Some(format!("checksum mismatch in record at offset {pos}"));
            break;
        }
        match decode_payload(payload) {
            Some(b) => r.batches.push(b),
            None => {
                r.problem = Some(format!("undecodable record at offset {pos}"));
                break;
            }
        }
        pos += 8 + len;
        r.valid_len = pos as u64;
    }
    Ok(r)
}

/// Path of WAL file `number` in `dir`.
pub(crate) fn file_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.wal"))
}

/// WAL file numbers present in `dir`, ascending.
pub(crate) fn list_files(dir: &Path) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(num) = name.strip_suffix(".wal") {
            if let Ok(n) = num.parse::<u64>() {
                out.push(n);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Creates WAL file `number` (header written and fsynced, directory fsynced).
pub(crate) fn create_file(dir: &Path, number: u64) -> Result<File> {
    let path = file_path(dir, number);
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::io(&path, e))?;
    f.write_all(HEADER).map_err(|e| StoreError::io(&path, e))?;
    f.sync_all().map_err(|e| StoreError::io(&path, e))?;
    sync_dir(dir)?;
    Ok(f)
}

/// Truncates a damaged WAL file to its valid prefix and fsyncs it.
pub(crate) fn truncate_file(path: &Path, len: u64) -> Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    f.set_len(len).map_err(|e| StoreError::io(path, e))?;
    f.sync_all().map_err(|e| StoreError::io(path, e))
}

/// fsyncs a directory so that created/renamed/removed entries are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Batch<'a> = (u64, &'a str, &'a [(i64, &'a str)]);

    fn write(dir: &Path, n: u64, batches: &[Batch<'_>]) -> PathBuf {
        let mut buf = HEADER.to_vec();
        for (i, (g, s, evs)) in batches.iter().enumerate() {
            encode_record(&mut buf, *g, i as u64, 7, s, evs.iter().copied()).unwrap();
        }
        let p = file_path(dir, n);
        std::fs::write(&p, &buf).unwrap();
        p
    }

    #[test]
    fn round_trip_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            1,
            &[(1, "s", &[(5, "a"), (6, "bé")]), (2, "t", &[(7, "c")])],
        );
        let r = read_file(&p).unwrap();
        assert_eq!(r.batches.len(), 2);
        assert_eq!(r.batches[0].events[1], (6, "bé".to_string()));
        assert_eq!(r.batches[1].first_seq, 1);
        assert!(r.problem.is_none());
        assert_eq!(r.valid_len, r.file_len);
        let full = std::fs::read(&p).unwrap();
        let first_end = {
            let len = u32::from_le_bytes(full[8..12].try_into().unwrap()) as usize;
            8 + 8 + len
        };
        // every cut inside the second record loses exactly the second record
        for cut in first_end + 1..full.len() {
            std::fs::write(&p, &full[..cut]).unwrap();
            let r = read_file(&p).unwrap();
            assert_eq!(r.batches.len(), 1, "cut {cut}");
            assert_eq!(r.valid_len, first_end as u64);
            assert!(r.problem.is_some());
        }
        // a flipped bit in the payload is caught by the checksum
        let mut bad = full.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x40;
        std::fs::write(&p, &bad).unwrap();
        let r = read_file(&p).unwrap();
        assert_eq!(r.batches.len(), 1);
        assert!(r.problem.unwrap().contains("checksum"));
    }
}
