//! Shared helpers.

use std::path::{Path, PathBuf};

/// `crates/ow-query-syntax/test_data`.
pub fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

/// The `.q` files of `test_data/<dir>`, sorted by name.
pub fn queries(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(test_data().join(dir))
        .expect("test_data directory exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "q"))
        .collect();
    files.sort();
    files
}

/// The worked examples of spec §11 (`N. \`query\`` lines).
pub fn spec_examples() -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/insights-language.md");
    let spec = std::fs::read_to_string(&path).expect("the shared spec is readable");
    let section = spec
        .split("## 11. Worked examples")
        .nth(1)
        .and_then(|s| s.split("## 12.").next())
        .expect("spec has §11");
    section
        .lines()
        .filter_map(|l| {
            let (num, rest) = l.split_once(". `")?;
            num.trim().parse::<u32>().ok()?;
            rest.strip_suffix('`').map(str::to_string)
        })
        .collect()
}

/// Compares `actual` with the golden file at `path`, or rewrites it when `UPDATE_EXPECT`
/// is set. Returns a failure description.
pub fn golden(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => Ok(()),
        Ok(expected) => Err(format!(
            "{} differs from the golden file (UPDATE_EXPECT=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(_) => Err(format!("{} is missing (UPDATE_EXPECT=1 to create)\n{actual}", path.display())),
    }
}
