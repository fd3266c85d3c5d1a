//! Lookup tables for the `lookup` command (spec §4.13).
//!
//! A lookup table is a CSV file `<lookup_dir>/<name>.csv` (see
//! [`crate::EngineConfig::lookup_dir`]; the CLI uses `<data-dir>/lookup-tables/`): a header
//! row, UTF-8, at most [`crate::EngineConfig::max_lookup_bytes`] (AWS: 10 MB). Names are
//! alphanumerics and `_` (AWS rule), which also keeps paths inside the directory.
//!
//! Matching is exact on the value's text (numbers rendered as GetQueryResults shows them). If
//! several rows have the same key, the first row wins [I].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::DataType;
use datafusion::logical_expr::{ScalarUDF, Volatility};

use crate::error::QueryError;
use crate::udf::FnUdf;

/// A loaded lookup table.
#[derive(Debug)]
pub struct LookupTable {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl LookupTable {
    /// Loads `<dir>/<name>.csv`.
    ///
    /// # Errors
    /// [`QueryError::LookupTable`] for a bad name, a missing/oversized/invalid file.
    pub fn load(dir: &Path, name: &str, max_bytes: u64) -> Result<LookupTable, QueryError> {
        let err = |reason: String| QueryError::LookupTable {
            name: name.to_string(),
            reason,
        };
        if name.is_empty()
            || name.len() > 256
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(err(
                "names use only letters, digits and `_` (at most 256)".into()
            ));
        }
        let path = dir.join(format!("{name}.csv"));
        // Messages name the table's file, never the server's directory: they reach API
        // clients (MalformedQueryException).
        let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => err(format!(
                "no such table ({name}.csv is not among the lookup tables)"
            )),
            _ => err(format!("cannot read {name}.csv: {}", e.kind())),
        })?;
        if meta.len() > max_bytes {
            return Err(err(format!("{name}.csv is larger than {max_bytes} bytes")));
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_path(&path)
            .map_err(|e| err(e.to_string()))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| err(e.to_string()))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| err(e.to_string()))?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(LookupTable { header, rows })
    }

    /// Builds a table from a header and rows (tests, API-created tables).
    pub fn from_rows(header: Vec<String>, rows: Vec<Vec<String>>) -> Self {
        LookupTable { header, rows }
    }

    /// Index of a column by name (case-sensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// A UDF mapping a key value (rendered as text) to column `out` of the first row whose
    /// column `key` equals it; null when there is no such row or the cell is empty.
    pub fn udf(self: &Arc<Self>, udf_name: &str, key: usize, out: usize) -> ScalarUDF {
        let mut map: HashMap<String, Option<String>> = HashMap::new();
        for row in &self.rows {
            if let Some(k) = row.get(key) {
                let v = row.get(out).filter(|v| !v.is_empty()).cloned();
                map.entry(k.clone()).or_insert(v);
            }
        }
        let map = Arc::new(map);
        FnUdf::new(
            udf_name,
            1,
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(move |args: &[ArrayRef], _n| {
                let keys = crate::parse::to_text_array(args[0].as_ref());
                let out: StringArray = keys
                    .iter()
                    .map(|k| k.and_then(|k| map.get(k).cloned().flatten()))
                    .collect();
                Ok(Arc::new(out) as ArrayRef)
            }),
        )
    }
}
