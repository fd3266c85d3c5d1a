//! The crate's one error type.
//!
//! Every user-facing variant maps to AWS's `InvalidParameterException` (filter-patterns.md
//! §10: AWS answers an invalid pattern with `InvalidParameterException` and a message such as
//! "Invalid character(s) in term"; the exact wording is not a contract \[I\]).
//! [`PatternError::Internal`] is a bug in this crate and maps to a service fault.

use std::fmt;

/// An error from parsing a filter pattern or a metric-filter value selector.
///
/// Positions are UTF-8 **byte** offsets into the pattern text as given (before any trimming).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is longer than the configured maximum
    /// ([`crate::PatternOptions::max_length_chars`], AWS: 1024 characters, `FilterPattern` shape \[V\]).
    #[error("Invalid filter pattern: length {len} exceeds the maximum of {max} characters")]
    TooLong {
        /// Length of the pattern in characters (Unicode scalar values).
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The pattern contains more `%…%` regex expressions than allowed
    /// ([`crate::PatternOptions::max_regex_per_pattern`], AWS: 2 \[V\]).
    #[error("Invalid filter pattern: {count} regex expressions, at most {max} are allowed in one pattern")]
    TooManyRegex {
        /// Number of regex expressions found.
        count: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The pattern text does not follow the grammar of its family.
    #[error("Invalid filter pattern: {kind} (at byte {position})")]
    Syntax {
        /// Byte offset of the offending text in the pattern.
        position: usize,
        /// What is wrong.
        kind: SyntaxErrorKind,
    },
    /// A bug in this crate, not a problem with the input.
    #[error("internal error in filter pattern evaluation: {0}")]
    Internal(String),
}

impl PatternError {
    /// The AWS error type this error is reported as on the wire:
    /// `InvalidParameterException` for user errors, `ServiceUnavailableException` for
    /// [`PatternError::Internal`] (api.md A.1 error shapes).
    pub fn aws_error_type(&self) -> &'static str {
        match self {
            PatternError::Internal(_) => "ServiceUnavailableException",
            _ => "InvalidParameterException",
        }
    }

    /// `true` for errors caused by the input (everything except [`PatternError::Internal`]).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, PatternError::Internal(_))
    }

    /// Byte offset into the pattern, when the error has one.
    pub fn position(&self) -> Option<usize> {
        match self {
            PatternError::Syntax { position, .. } => Some(*position),
            _ => None,
        }
    }

    pub(crate) fn syntax(position: usize, kind: SyntaxErrorKind) -> Self {
        PatternError::Syntax { position, kind }
    }
}

/// The specific grammar violation in a [`PatternError::Syntax`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// A term pattern item contains characters other than letters, digits and `_` without
    /// being quoted (filter-patterns.md §2 \[V\]).
    InvalidTermCharacter {
        /// The offending term as written.
        term: String,
    },
    /// A `?` or `-` is not followed by a term.
    MissingTerm,
    /// A `"` string is not closed.
    UnterminatedString,
    /// A `%` regex is not closed.
    UnterminatedRegex,
    /// Something else was expected here.
    Expected {
        /// What the grammar expects, e.g. "a selector such as $.field".
        expected: &'static str,
        /// What was found (a short excerpt, or "end of pattern").
        found: String,
    },
    /// A JSON selector or space-delimited field name is malformed.
    InvalidSelector {
        /// Why.
        reason: &'static str,
    },
    /// A construct AWS does not support (`==`, `IS NOT`, `EXISTS`, `$.a[*]`, …).
    Unsupported {
        /// The construct, as written or described.
        what: String,
    },
    /// `<`, `<=`, `>`, `>=` used with a value that is not a number (§4.2: string operators
    /// are only `=` and `!=` \[V\]).
    StringOperator {
        /// The operator.
        op: &'static str,
    },
    /// Parentheses nest deeper than this implementation allows (200 levels) \[I\].
    TooDeeplyNested,
    /// A character that §3 does not allow inside `%…%`.
    InvalidRegexCharacter {
        /// The character.
        ch: char,
    },
    /// A backslash escape that §3 does not allow inside `%…%`.
    UnsupportedRegexEscape {
        /// The character after the backslash (`None`: the regex ends with `\`).
        ch: Option<char>,
    },
    /// The regex is empty (`%%`) \[I: rejected rather than matching everything\].
    EmptyRegex,
    /// The regex uses only allowed characters but is still malformed (`%[a%`, `%a{2%`).
    InvalidRegex {
        /// Reason reported by the regex compiler.
        reason: String,
    },
    /// An empty `{}` JSON pattern or `[]` space-delimited pattern.
    Empty {
        /// "JSON pattern" or "space-delimited pattern".
        family: &'static str,
    },
    /// More than one `...` in a space-delimited pattern \[I: CDK's rule\].
    MultipleEllipsis,
    /// The conditions of one space-delimited field name different fields (§5.2).
    MixedFieldNames {
        /// The field the condition list started with.
        expected: String,
        /// The other name.
        found: String,
    },
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SyntaxErrorKind::*;
        match self {
            InvalidTermCharacter { term } => write!(
                f,
                "Invalid character(s) in term '{term}'; terms with characters other than letters, digits and _ must be double-quoted"
            ),
            MissingTerm => f.write_str("expected a term after '?' or '-'"),
            UnterminatedString => f.write_str("unterminated double-quoted string"),
            UnterminatedRegex => f.write_str("unterminated regex: missing closing '%'"),
            Expected { expected, found } => write!(f, "expected {expected}, found {found}"),
            InvalidSelector { reason } => write!(f, "invalid selector: {reason}"),
            Unsupported { what } => write!(f, "{what} is not supported"),
            StringOperator { op } => write!(
                f,
                "operator {op} needs a numeric value; strings can only be compared with = or !="
            ),
            TooDeeplyNested => f.write_str("parentheses nested too deeply"),
            InvalidRegexCharacter { ch } if !ch.is_ascii() => write!(
                f,
                "Invalid character '{ch}' in regex: multibyte characters are not supported in regex"
            ),
            InvalidRegexCharacter { ch } => write!(
                f,
                "Invalid character '{ch}' in regex; allowed are letters, digits, space, : _ # = @ / ; , - and the operators ^ $ ? [ ] {{ }} | \\ * + . (parentheses are not supported)"
            ),
            UnsupportedRegexEscape { ch: Some(c) } => {
                write!(f, "unsupported escape '\\{c}' in regex")
            }
            UnsupportedRegexEscape { ch: None } => f.write_str("regex ends with a lone '\\'"),
            EmptyRegex => f.write_str("empty regex '%%'"),
            InvalidRegex { reason } => write!(f, "invalid regex: {reason}"),
            Empty { family } => write!(f, "empty {family}"),
            MultipleEllipsis => f.write_str("at most one '...' is allowed in a space-delimited pattern"),
            MixedFieldNames { expected, found } => write!(
                f,
                "conditions combined with && or || must all name the same field: '{expected}' and '{found}'"
            ),
        }
    }
}
