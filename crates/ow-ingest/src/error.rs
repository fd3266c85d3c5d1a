//! The one error type of `ow-ingest`.

use std::path::PathBuf;

/// Errors that stop an import. Malformed records do *not* stop an import: they are
/// counted and reported in [`crate::ImportSummary`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// An input path could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file, directory or `-` (stdin).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid import options (a user error), e.g. an unknown format name.
    #[error("{0}")]
    InvalidOptions(String),
    /// The store writer stopped early; its own error is reported instead (never
    /// returned to callers of this crate's functions).
    #[error("the store writer stopped")]
    WriterStopped,
    /// A bug in OpenWatch.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store refused the events for a reason that is not about one record
    /// (I/O, a closed store, an invalid log group name).
    #[error(transparent)]
    Store(#[from] ow_storage::StoreError),
}

/// Result alias of this crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
