//! The crate's error type.

/// Errors raised while building a function call at plan time.
///
/// All variants but [`FunctionError::Internal`] are user errors in the query: the
/// planner turns them into a `MalformedQueryException`-style diagnostic on the call's
/// span. Runtime problems with individual values never error: they yield null
/// (missing), per spec §3.3/§3.4.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FunctionError {
    /// No function of that name (names are case-insensitive).
    #[error("unknown function `{name}`")]
    UnknownFunction {
        /// The name as given.
        name: String,
    },
    /// The function exists in the language but this engine does not implement it.
    #[error("function `{name}` is not supported by OpenWatch yet")]
    Unsupported {
        /// Canonical function name.
        name: String,
    },
    /// Wrong number of arguments.
    #[error("`{name}` takes {expected} argument(s), got {got}")]
    Arity {
        /// Canonical function name.
        name: String,
        /// Human-readable expectation, e.g. `2 or 3`.
        expected: String,
        /// Number given.
        got: usize,
    },
    /// An argument that must be a constant (regex, period, format, time zone,
    /// percentile) is an expression.
    #[error("argument {index} of `{name}` must be a literal {what}")]
    NotLiteral {
        /// Canonical function name.
        name: String,
        /// 1-based argument position.
        index: usize,
        /// What kind of literal is expected.
        what: String,
    },
    /// A literal argument is invalid (bad regex, bad format, out-of-range number…).
    #[error("invalid argument {index} of `{name}`: {message}")]
    InvalidArgument {
        /// Canonical function name.
        name: String,
        /// 1-based argument position.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A time period literal is malformed (spec §6.3).
    #[error("invalid time period `{text}`: {reason}")]
    InvalidPeriod {
        /// The text as written.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// An aggregate was used outside `stats`, or a scalar function inside an
    /// aggregate-only position (reported by the planner through this variant).
    #[error("`{name}` is an aggregate function and can only be used in stats")]
    AggregateOutsideStats {
        /// Canonical function name.
        name: String,
    },
    /// A bug in this crate or in how it was called (not the user's fault).
    #[error("internal error in the function library: {0}")]
    Internal(String),
}
