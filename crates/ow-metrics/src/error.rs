//! The crate's one error type.
//!
//! User errors carry AWS's error code and a message in AWS's wording where it is known
//! (api.md B.1 error table for CloudWatch metrics/alarms; A.1 for the CloudWatch Logs
//! operations of metric filters). Storage problems ([`MetricsError::Io`],
//! [`MetricsError::Corrupt`]) and bugs ([`MetricsError::Internal`]) are kept apart: the API
//! logs them and answers with a generic service fault.

use std::path::PathBuf;

/// An error from a metrics, metric-filter, alarm or action operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// CloudWatch `InvalidParameterValueException` (legacy code `InvalidParameterValue`, 400).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// CloudWatch `MissingRequiredParameterException` (`MissingParameter`, 400).
    #[error("{0}")]
    MissingParameter(String),
    /// CloudWatch `InvalidParameterCombinationException` (`InvalidParameterCombination`, 400).
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// CloudWatch `InvalidNextToken` (400).
    #[error("{0}")]
    InvalidNextToken(String),
    /// CloudWatch `InvalidFormatFault` (`InvalidFormat`, 400), e.g. `StateReasonData` that is
    /// not JSON.
    #[error("{0}")]
    InvalidFormat(String),
    /// CloudWatch `LimitExceededFault` (`LimitExceeded`, 400).
    #[error("{0}")]
    LimitExceeded(String),
    /// CloudWatch `ResourceNotFound` (404), e.g. `SetAlarmState` on an unknown alarm.
    #[error("{0}")]
    ResourceNotFound(String),
    /// CloudWatch `ResourceNotFoundException` (404): the tagging operations.
    #[error("{0}")]
    ResourceNotFoundException(String),
    /// CloudWatch `ResourceConflict` (409), e.g. deleting an alarm a composite alarm uses.
    #[error("{0}")]
    ResourceConflict(String),
    /// CloudWatch `DashboardInvalidInputError` (legacy code `InvalidParameterInput`, 400):
    /// `PutDashboard` with an invalid name or body; `messages` are the
    /// `DashboardValidationMessages` (`DataPath`, `Message`).
    #[error("{message}")]
    DashboardInvalidInput {
        /// The error message.
        message: String,
        /// `(DataPath, Message)` pairs, e.g. `("/widgets/0", "Should have required property 'type'")`.
        messages: Vec<(String, String)>,
    },
    /// CloudWatch `DashboardNotFoundError` (legacy code `ResourceNotFound`, 404).
    #[error("{0}")]
    DashboardNotFound(String),
    /// CloudWatch Logs `InvalidParameterException` (400): metric-filter operations.
    #[error("{0}")]
    LogsInvalidParameter(String),
    /// CloudWatch Logs `ResourceNotFoundException` (400): unknown metric filter.
    #[error("{0}")]
    LogsResourceNotFound(String),
    /// CloudWatch Logs `LimitExceededException` (400): e.g. more than 100 metric filters in
    /// a log group.
    #[error("{0}")]
    LogsLimitExceeded(String),
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A durable file (metrics log, metric-filter or alarm state file) failed its checksum or
    /// could not be decoded. Nothing is silently dropped except a torn last record, which
    /// was never acknowledged.
    #[error("corrupt data in {path} at line {line}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A bug in this crate, not a problem with the input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl MetricsError {
    /// The error's wire identity: `(__type for JSON protocols, legacy Query code, HTTP status)`.
    ///
    /// Source: api.md B.1 error table (CloudWatch) and A.1 (CloudWatch Logs). Non-user errors
    /// map to `InternalServiceFault` / `InternalServiceError` / 500 for CloudWatch; the Logs
    /// API layer maps them to its own `ServiceUnavailableException`.
    pub fn aws_error(&self) -> (&'static str, &'static str, u16) {
        match self {
            MetricsError::InvalidParameterValue(_) => (
                "InvalidParameterValueException",
                "InvalidParameterValue",
                400,
            ),
            MetricsError::MissingParameter(_) => {
                ("MissingRequiredParameterException", "MissingParameter", 400)
            }
            MetricsError::InvalidParameterCombination(_) => (
                "InvalidParameterCombinationException",
                "InvalidParameterCombination",
                400,
            ),
            MetricsError::InvalidNextToken(_) => ("InvalidNextToken", "InvalidNextToken", 400),
            MetricsError::InvalidFormat(_) => ("InvalidFormatFault", "InvalidFormat", 400),
            MetricsError::LimitExceeded(_) => ("LimitExceededFault", "LimitExceeded", 400),
            MetricsError::ResourceNotFound(_) => ("ResourceNotFound", "ResourceNotFound", 404),
            MetricsError::ResourceNotFoundException(_) => (
                "ResourceNotFoundException",
                "ResourceNotFoundException",
                404,
            ),
            MetricsError::ResourceConflict(_) => ("ResourceConflict", "ResourceConflict", 409),
            MetricsError::DashboardInvalidInput { .. } => {
                ("DashboardInvalidInputError", "InvalidParameterInput", 400)
            }
            MetricsError::DashboardNotFound(_) => {
                ("DashboardNotFoundError", "ResourceNotFound", 404)
            }
            MetricsError::LogsInvalidParameter(_) => (
                "InvalidParameterException",
                "InvalidParameterException",
                400,
            ),
            MetricsError::LogsResourceNotFound(_) => (
                "ResourceNotFoundException",
                "ResourceNotFoundException",
                400,
            ),
            MetricsError::LogsLimitExceeded(_) => {
                ("LimitExceededException", "LimitExceededException", 400)
            }
            MetricsError::Io { .. } | MetricsError::Corrupt { .. } | MetricsError::Internal(_) => {
                ("InternalServiceFault", "InternalServiceError", 500)
            }
        }
    }

    /// `true` for errors caused by the request (not I/O, corruption or bugs).
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            MetricsError::Io { .. } | MetricsError::Corrupt { .. } | MetricsError::Internal(_)
        )
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        MetricsError::Io {
            context: context.into(),
            source,
        }
    }

    /// AWS's usual wording for a bad value: `The value X for parameter P is invalid.`
    pub(crate) fn invalid_value(param: &str, value: impl std::fmt::Display) -> Self {
        MetricsError::InvalidParameterValue(format!(
            "The value {value} for parameter {param} is invalid."
        ))
    }

    /// AWS's wording for a missing parameter: `The parameter P is required.`
    pub(crate) fn missing(param: &str) -> Self {
        MetricsError::MissingParameter(format!("The parameter {param} is required."))
    }

    /// AWS's wording for two exclusive parameters given together.
    pub(crate) fn exclusive(a: &str, b: &str) -> Self {
        MetricsError::InvalidParameterCombination(format!(
            "The parameters {a} and {b} are mutually exclusive and you have specified both."
        ))
    }
}

/// Result alias for this crate.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;
