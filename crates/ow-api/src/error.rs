//! The one error type of the API and its table to AWS's wire errors.
//!
//! Every failure a handler can produce is an [`ApiError`]; [`ApiError::wire`] maps it to the
//! AWS JSON 1.1 error triple (`__type`, HTTP status, `message`) — the only place that mapping
//! lives (spec/api.md §A.1 "Errors"). Internal errors are logged with their detail and the
//! client sees a generic message.

use axum::http::StatusCode;
use serde_json::{json, Value};

/// An error answered to a client, as the AWS error it stands for.
///
/// User errors (the client's fault, HTTP 400 unless noted) are separate from
/// [`ApiError::Internal`] (a bug or an I/O failure on our side, HTTP 500).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A parameter is invalid (`InvalidParameterException`, 400). CloudWatch Logs also uses
    /// it for model constraint violations ("1 validation error detected: …") [I].
    #[error("{0}")]
    InvalidParameter(String),
    /// The named log group, log stream, query or query definition does not exist
    /// (`ResourceNotFoundException`, 400).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The resource already exists (`ResourceAlreadyExistsException`, 400).
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// A quota is exceeded, e.g. concurrent queries (`LimitExceededException`, 400).
    #[error("{0}")]
    LimitExceeded(String),
    /// The operation is not valid in the resource's state, e.g. StopQuery on a finished query
    /// (`InvalidOperationException`, 400).
    #[error("{0}")]
    InvalidOperation(String),
    /// The request is not valid in the resource's state (`ValidationException`, 400), e.g.
    /// DeleteLogGroup on a log group with deletion protection enabled ("Protecting log groups
    /// from deletion", CloudWatch Logs User Guide [V]).
    #[error("{0}")]
    Validation(String),
    /// The query does not compile (`MalformedQueryException`, 400). Offsets are character
    /// offsets into the query string, `end` exclusive.
    #[error("{message}")]
    MalformedQuery {
        /// The first diagnostic's message (with its code).
        message: String,
        /// `queryCompileError.location.startCharOffset`.
        start_char: usize,
        /// `queryCompileError.location.endCharOffset`.
        end_char: usize,
    },
    /// A resource would have more than 50 tags (`TooManyTagsException`, 400, with
    /// `resourceName`).
    #[error("{message}")]
    TooManyTags {
        /// The message.
        message: String,
        /// The resource ARN.
        resource_name: String,
    },
    /// The body is not JSON, or a member has the wrong JSON type (`SerializationException`,
    /// 400) [I: the name the AWS JSON protocol front end uses].
    #[error("{0}")]
    Serialization(String),
    /// `X-Amz-Target` is missing or names no operation we serve
    /// (`UnknownOperationException`, 400) [I].
    #[error("{0}")]
    UnknownOperation(String),
    /// No `Authorization` header (`MissingAuthenticationTokenException`, 400) [I].
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The `Authorization` header is not a complete SigV4 header
    /// (`IncompleteSignatureException`, 400) [I].
    #[error("{0}")]
    IncompleteSignature(String),
    /// The signature does not match, or the request is too old/new
    /// (`InvalidSignatureException`, 400) [I].
    #[error("{0}")]
    InvalidSignature(String),
    /// The access key id is unknown (`UnrecognizedClientException`, 400; spec §A.2
    /// PutLogEvents rule 8).
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// The HTTP body is larger than the configured cap (`RequestEntityTooLargeException`,
    /// 413) [I: AWS's front end answers 413; the name is ours].
    #[error("Request body of more than {limit_bytes} bytes is not accepted")]
    RequestTooLarge {
        /// The cap that was exceeded, in bytes.
        limit_bytes: usize,
    },
    /// The server is shutting down or cannot serve now (`ServiceUnavailableException`, 503).
    #[error("{0}")]
    ServiceUnavailable(String),
    /// A bug or an I/O failure on our side. The detail is logged, never sent
    /// (`ServiceUnavailableException`, 500: the fault the Logs model has).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The AWS error name (`__type`), the HTTP status and the message sent to the client.
    ///
    /// This is the one table from errors to the wire (spec/api.md §A.1).
    pub fn wire(&self) -> (&'static str, StatusCode, String) {
        use ApiError as E;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            E::InvalidParameter(m) => ("InvalidParameterException", bad, m.clone()),
            E::ResourceNotFound(m) => ("ResourceNotFoundException", bad, m.clone()),
            E::ResourceAlreadyExists(m) => ("ResourceAlreadyExistsException", bad, m.clone()),
            E::LimitExceeded(m) => ("LimitExceededException", bad, m.clone()),
            E::InvalidOperation(m) => ("InvalidOperationException", bad, m.clone()),
            E::Validation(m) => ("ValidationException", bad, m.clone()),
            E::MalformedQuery { message, .. } => ("MalformedQueryException", bad, message.clone()),
            E::TooManyTags { message, .. } => ("TooManyTagsException", bad, message.clone()),
            E::Serialization(m) => ("SerializationException", bad, m.clone()),
            E::UnknownOperation(m) => ("UnknownOperationException", bad, m.clone()),
            E::MissingAuthenticationToken => {
                ("MissingAuthenticationTokenException", bad, self.to_string())
            }
            E::IncompleteSignature(m) => ("IncompleteSignatureException", bad, m.clone()),
            E::InvalidSignature(m) => ("InvalidSignatureException", bad, m.clone()),
            E::UnrecognizedClient => ("UnrecognizedClientException", bad, self.to_string()),
            E::RequestTooLarge { .. } => (
                "RequestEntityTooLargeException",
                StatusCode::PAYLOAD_TOO_LARGE,
                self.to_string(),
            ),
            E::ServiceUnavailable(m) => (
                "ServiceUnavailableException",
                StatusCode::SERVICE_UNAVAILABLE,
                m.clone(),
            ),
            E::Internal(_) => (
                "ServiceUnavailableException",
                StatusCode::INTERNAL_SERVER_ERROR,
                "The service encountered an internal error; see the server log".to_string(),
            ),
        }
    }

    /// The JSON error body: `{"__type": …, "message": …}` plus the members some errors carry
    /// (`queryCompileError` for `MalformedQueryException`, spec §A.1).
    pub fn body(&self) -> Value {
        let (kind, _, message) = self.wire();
        let mut body = json!({ "__type": kind, "message": message });
        if let ApiError::MalformedQuery {
            message,
            start_char,
            end_char,
        } = self
        {
            body["queryCompileError"] = json!({
                "location": { "startCharOffset": start_char, "endCharOffset": end_char },
                "message": message,
            });
        }
        if let ApiError::TooManyTags { resource_name, .. } = self {
            body["resourceName"] = json!(resource_name);
        }
        body
    }

    /// An `InvalidParameterException` in AWS's model-validation wording:
    /// `1 validation error detected: Value '<v>' at '<member>' failed to satisfy constraint: <c>`.
    pub fn constraint(member: &str, value: impl std::fmt::Display, constraint: &str) -> Self {
        ApiError::InvalidParameter(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: {constraint}"
        ))
    }

    /// An `InvalidParameterException` for a required member that is absent.
    pub fn missing(member: &str) -> Self {
        ApiError::InvalidParameter(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy \
             constraint: Member must not be null"
        ))
    }
}
