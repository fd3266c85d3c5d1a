//! The one error type of `ow-storage`.

use std::path::PathBuf;

/// Errors of the store. User errors (a request the caller can fix) are kept apart from
/// storage failures ([`StoreError::Io`], [`StoreError::Corrupt`]) and bugs
/// ([`StoreError::Internal`]). The API crate maps the user variants to AWS error types
/// (named in each variant's doc).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The log group does not exist (AWS `ResourceNotFoundException`).
    #[error("The specified log group does not exist: {0}")]
    LogGroupNotFound(String),
    /// The log stream does not exist (AWS `ResourceNotFoundException`).
    #[error("The specified log stream does not exist: {group}/{stream}")]
    LogStreamNotFound {
        /// Log group name.
        group: String,
        /// Log stream name.
        stream: String,
    },
    /// The log group already exists (AWS `ResourceAlreadyExistsException`).
    #[error("The specified log group already exists: {0}")]
    LogGroupAlreadyExists(String),
    /// The log stream already exists (AWS `ResourceAlreadyExistsException`).
    #[error("The specified log stream already exists: {group}/{stream}")]
    LogStreamAlreadyExists {
        /// Log group name.
        group: String,
        /// Log stream name.
        stream: String,
    },
    /// A parameter is invalid (AWS `InvalidParameterException`); the message says which
    /// rule was broken, in AWS's words where known.
    #[error("{0}")]
    InvalidParameter(String),
    /// The log group has deletion protection enabled, which blocks DeleteLogGroup and
    /// DeleteLogStream (AWS `ValidationException`, "Protecting log groups from deletion",
    /// CloudWatch Logs User Guide); the message is AWS's for DeleteLogGroup, inferred [I]
    /// for DeleteLogStream.
    #[error("{0}")]
    DeletionProtected(String),
    /// A pagination token was not produced by this store (AWS `InvalidParameterException`).
    #[error("The specified nextToken is invalid: {0}")]
    InvalidNextToken(String),
    /// An I/O error on a file of the data directory.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An error from the object store holding the segments.
    #[error("object store error: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// Parquet or Arrow failed to encode or decode a segment.
    #[error("segment encoding error in {path}: {message}")]
    Segment {
        /// The segment file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The data directory is damaged (an unreadable manifest or streams file, files that
    /// disagree). Torn WAL tails are *not* errors: they are truncated on recovery and
    /// reported in [`crate::RecoveryReport`].
    #[error("corrupt data directory: {0}")]
    Corrupt(String),
    /// The data directory was written in a format version this build does not read (a
    /// newer build wrote it): nothing is wrong with it, this build is too old.
    #[error("unsupported data directory: {0}")]
    UnsupportedFormat(String),
    /// The store was closed or a background step failed earlier; no more writes.
    #[error("store is closed: {0}")]
    Closed(String),
    /// A write to a store opened by [`crate::Store::open_read_only`].
    #[error("read-only store: {0}")]
    ReadOnly(String),
    /// A bug in OpenWatch (an invariant was broken); please report it.
    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    /// Whether the error is the caller's (maps to a 4xx AWS error) rather than the store's.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::LogGroupNotFound(_)
                | StoreError::LogStreamNotFound { .. }
                | StoreError::LogGroupAlreadyExists(_)
                | StoreError::LogStreamAlreadyExists { .. }
                | StoreError::InvalidParameter(_)
                | StoreError::DeletionProtected(_)
                | StoreError::InvalidNextToken(_)
        )
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
