//! Integration tests of the importers against the shared real data
//! (`../shared/data`, counts read from its `manifest.json`).

mod data;
mod formats;

use std::path::PathBuf;

/// `../shared/data` relative to the repository root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
}

/// The shared data's manifest.
pub fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(data_dir().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}
