//! The in-memory buffer: acknowledged events not yet in a segment, as Arrow batches.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int64Array, Int64Builder, RecordBatch, StringBuilder, UInt64Builder,
};
use arrow::compute::filter_record_batch;

use crate::error::{Result, StoreError};
use crate::schema::core_schema;

/// Rows collected before they are sealed into an immutable batch.
const SEAL_ROWS: usize = 8192;

/// Buffered events of one log group: sealed Arrow batches plus a small mutable tail.
#[derive(Debug, Default)]
pub(crate) struct GroupBuffer {
    pub sealed: Vec<RecordBatch>,
    active: Active,
    /// Σ(message bytes) buffered (sealed + active).
    pub message_bytes: usize,
    pub rows: usize,
    /// Smallest ingestion time (epoch ms) of the buffered events, for the flush by age.
    pub oldest_ingest_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Active {
    ts: Vec<i64>,
    ingest: Vec<i64>,
    stream: Vec<Arc<str>>,
    message: Vec<String>,
    seq: Vec<u64>,
}

impl GroupBuffer {
    /// Appends one event.
    pub fn push(&mut self, ts: i64, ingest: i64, stream: &Arc<str>, message: String, seq: u64) {
        self.message_bytes += message.len();
        self.rows += 1;
        self.oldest_ingest_ms = Some(self.oldest_ingest_ms.map_or(ingest, |o| o.min(ingest)));
        let a = &mut self.active;
        a.ts.push(ts);
        a.ingest.push(ingest);
        a.stream.push(stream.clone());
        a.message.push(message);
        a.seq.push(seq);
        if a.ts.len() >= SEAL_ROWS {
            if let Ok(b) = self.active_batch() {
                self.sealed.push(b);
                self.active = Active::default();
            }
        }
    }

    fn active_batch(&self) -> Result<RecordBatch> {
        let a = &self.active;
        let mut stream = StringBuilder::with_capacity(a.stream.len(), a.stream.len() * 16);
        for s in &a.stream {
            stream.append_value(s);
        }
        let bytes: usize = a.message.iter().map(String::len).sum();
        let mut msg = StringBuilder::with_capacity(a.message.len(), bytes);
        for m in &a.message {
            msg.append_value(m);
        }
        let mut ts = Int64Builder::with_capacity(a.ts.len());
        ts.append_slice(&a.ts);
        let mut ingest = Int64Builder::with_capacity(a.ingest.len());
        ingest.append_slice(&a.ingest);
        let mut seq = UInt64Builder::with_capacity(a.seq.len());
        seq.append_slice(&a.seq);
        let cols: Vec<ArrayRef> = vec![
            Arc::new(ts.finish()),
            Arc::new(ingest.finish()),
            Arc::new(stream.finish()),
            Arc::new(msg.finish()),
            Arc::new(seq.finish()),
        ];
        RecordBatch::try_new(core_schema(), cols).map_err(|e| StoreError::Internal(e.to_string()))
    }

    /// All buffered rows as batches (sealed ones shared, the tail copied).
    pub fn batches(&self) -> Result<Vec<RecordBatch>> {
        let mut out = self.sealed.clone();
        if !self.active.ts.is_empty() {
            out.push(self.active_batch()?);
        }
        Ok(out)
    }

    /// Takes everything out, leaving the buffer empty.
    pub fn take(&mut self) -> Result<Vec<RecordBatch>> {
        let out = self.batches()?;
        *self = GroupBuffer::default();
        Ok(out)
    }

    /// Puts batches taken by [`GroupBuffer::take`] back in front (a flush that failed).
    pub fn restore(&mut self, batches: Vec<RecordBatch>) {
        for b in &batches {
            self.rows += b.num_rows();
            self.see_ingest(b);
            if let Some(m) = b
                .column(3)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
            {
                self.message_bytes += m.value_data().len();
            }
        }
        self.sealed.splice(0..0, batches);
    }

    /// A copy of this buffer without the rows of log stream `stream` (DeleteLogStream).
    pub fn without_stream(&self, stream: &str) -> Result<GroupBuffer> {
        let mut out = GroupBuffer::default();
        for b in self.batches()? {
            let Some(st) = b
                .column(2)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
            else {
                return Err(StoreError::Internal("@logStream column is not Utf8".into()));
            };
            let mask: BooleanArray = st.iter().map(|s| Some(s != Some(stream))).collect();
            let f =
                filter_record_batch(&b, &mask).map_err(|e| StoreError::Internal(e.to_string()))?;
            if f.num_rows() > 0 {
                out.rows += f.num_rows();
                out.see_ingest(&f);
                if let Some(m) = f
                    .column(3)
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                {
                    let offs = m.value_offsets();
                    out.message_bytes += (offs[offs.len() - 1] - offs[0]) as usize;
                }
                out.sealed.push(f);
            }
        }
        Ok(out)
    }

    /// Lowers `oldest_ingest_ms` to the smallest `@ingestionTime` of `b`.
    fn see_ingest(&mut self, b: &RecordBatch) {
        if let Some(ing) = b.column(1).as_any().downcast_ref::<Int64Array>() {
            if let Some(min) = ing.values().iter().min() {
                self.oldest_ingest_ms = Some(self.oldest_ingest_ms.map_or(*min, |o| o.min(*min)));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

/// Rows of `batches` whose `@timestamp` lies in `[start_ms, end_ms]`.
pub(crate) fn filter_range(
    batches: &[RecordBatch],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let Some(ts) = b.column(0).as_any().downcast_ref::<Int64Array>() else {
            return Err(StoreError::Internal(
                "@timestamp column is not Int64".into(),
            ));
        };
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for v in ts.values().iter() {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
        if b.num_rows() == 0 || hi < start_ms || lo > end_ms {
            continue;
        }
        if lo >= start_ms && hi <= end_ms {
            out.push(b.clone());
            continue;
        }
        let mask: BooleanArray = ts
            .values()
            .iter()
            .map(|v| Some(*v >= start_ms && *v <= end_ms))
            .collect();
        let f = filter_record_batch(b, &mask).map_err(|e| StoreError::Internal(e.to_string()))?;
        if f.num_rows() > 0 {
            out.push(f);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, StringArray, UInt64Array};

    fn messages(batches: &[RecordBatch]) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for b in batches {
            let m = b.column(3).as_any().downcast_ref::<StringArray>().unwrap();
            let q = b.column(4).as_any().downcast_ref::<UInt64Array>().unwrap();
            out.extend((0..b.num_rows()).map(|i| (q.value(i), m.value(i).to_owned())));
        }
        out
    }

    #[test]
    fn sealed_and_active_rows_read_back_in_order_across_seals_and_takes() {
        let stream: Arc<str> = Arc::from("s");
        let mut buf = GroupBuffer::default();
        let text = |i: u64| {
            format!(
                "{{\"n\":{i},\"pad\":\"{}\"}}",
                "x".repeat((i % 50) as usize)
            )
        };
        let n = 2 * SEAL_ROWS as u64 + 100;
        for i in 0..n {
            buf.push(i as i64, 7, &stream, text(i), i);
        }
        assert_eq!(buf.sealed.len(), 2);
        assert_eq!(buf.rows, n as usize);
        let want: Vec<(u64, String)> = (0..n).map(|i| (i, text(i))).collect();
        // a snapshot's read leaves the buffer as it was
        assert_eq!(messages(&buf.batches().unwrap()), want);
        assert_eq!(messages(&buf.batches().unwrap()), want);
        let bytes: usize = want.iter().map(|(_, m)| m.len()).sum();
        assert_eq!(buf.message_bytes, bytes);
        assert_eq!(messages(&buf.take().unwrap()), want);
        assert!(buf.is_empty());
        // after a take, the next batch fills and seals the same way
        for i in n..n + SEAL_ROWS as u64 + 1 {
            buf.push(i as i64, 7, &stream, text(i), i);
        }
        let again: Vec<(u64, String)> = (n..n + SEAL_ROWS as u64 + 1)
            .map(|i| (i, text(i)))
            .collect();
        assert_eq!(buf.sealed.len(), 1);
        assert_eq!(messages(&buf.batches().unwrap()), again);
    }
}
