//! The engine's error type.

use ow_diagnostics::Diagnostic;

/// Why a query failed. User errors first; [`QueryError::Internal`] is a bug in OpenWatch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The query does not compile (AWS `MalformedQueryException`): syntax, semantic checks
    /// (`ow_query_syntax::check`) and planning errors (codes `Q4xx`, e.g. an unsupported
    /// command). Carries every diagnostic found.
    #[error("malformed query: {}", .0.first().map(|d| d.message.as_str()).unwrap_or("no diagnostic"))]
    Malformed(Vec<Diagnostic>),
    /// A log group named by the request or by `SOURCE` does not exist
    /// (AWS `ResourceNotFoundException`).
    #[error("log group does not exist: {0}")]
    LogGroupNotFound(String),
    /// The request is invalid (AWS `InvalidParameterException`): no log groups, too many,
    /// start after end, limit out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A lookup table could not be loaded.
    #[error("lookup table {name}: {reason}")]
    LookupTable {
        /// Table name as written in the query.
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// The caller cancelled the query (AWS `StopQuery` -> status `Cancelled`).
    #[error("query cancelled")]
    Cancelled,
    /// The query ran longer than the configured timeout (AWS status `Timeout`, spec §7).
    #[error("query timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// Storage failed (I/O, corrupt segment).
    #[error("storage error: {0}")]
    Storage(String),
    /// A bug: an engine invariant broke (the query may be fine).
    #[error("internal error: {0}")]
    Internal(String),
}

impl QueryError {
    /// Builds a planning diagnostic (`Q4xx`) as a [`QueryError::Malformed`].
    pub(crate) fn plan(
        code: &'static str,
        message: impl Into<String>,
        span: ow_diagnostics::Span,
    ) -> Self {
        QueryError::Malformed(vec![Diagnostic::error(
            ow_diagnostics::Code(code),
            message,
            span,
        )])
    }
}

impl From<datafusion::error::DataFusionError> for QueryError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as D;
        match e {
            D::External(inner) => match inner.downcast::<QueryError>() {
                Ok(q) => *q,
                Err(other) => QueryError::Internal(other.to_string()),
            },
            D::Context(_, inner) => QueryError::from(*inner),
            D::Shared(inner) => QueryError::Internal(inner.to_string()),
            D::ArrowError(a, _) => QueryError::Internal(a.to_string()),
            D::IoError(io) => QueryError::Storage(io.to_string()),
            D::ParquetError(p) => QueryError::Storage(p.to_string()),
            other => QueryError::Internal(other.to_string()),
        }
    }
}
