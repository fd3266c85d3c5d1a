//! Atomic file replacement for definition files (metric filters, alarms).

use std::io::Write;
use std::path::Path;

use crate::error::{MetricsError, Result};

/// Writes `bytes` to `path` atomically: a temporary file beside it is written and
/// `fsync`ed, renamed over `path`, then the directory is `fsync`ed, so a crash leaves either
/// the old or the new content.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let ctx = |what: &str| format!("{what} {}", tmp.display());
    let mut f = std::fs::File::create(&tmp).map_err(|e| MetricsError::io(ctx("creating"), e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| MetricsError::io(ctx("writing"), e))?;
    drop(f);
    std::fs::rename(&tmp, path)
        .map_err(|e| MetricsError::io(format!("renaming over {}", path.display()), e))?;
    if let Some(dir) = path.parent() {
        // Best effort: directories cannot be opened for sync on every platform.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
