//! Compiler diagnostics shared by the OpenWatch query front end and engine.
//!
//! A [`Diagnostic`] is plain data: a stable [`Code`] (`Q101`), a [`Severity`], a one-line
//! message, a primary [`Span`] (byte offsets into the query text), secondary [`Label`]s and
//! free-form help/notes. Nothing here renders text for terminals; `ow_query_syntax::render`
//! does that, and the API turns a diagnostic into AWS's `MalformedQueryException`
//! (`queryCompileError.location.{startCharOffset,endCharOffset}` are *character* offsets, see
//! [`Span::char_offsets`]).
//!
//! Code ranges (stable; never reuse a retired code):
//! - `Q1xx`: lexical errors (ow-query-syntax lexer)
//! - `Q2xx`: syntax errors (ow-query-syntax parser)
//! - `Q3xx`: semantic checks AWS performs at compile time (ow-query-syntax checker)
//! - `Q4xx`: planning errors (ow-query planner)
//!
//! ```
//! use ow_diagnostics::{Code, Diagnostic, Span};
//! let d = Diagnostic::error(Code("Q201"), "expected a command", Span::new(0, 3))
//!     .with_label(Span::new(0, 3), "not a command")
//!     .with_help("commands are separated by `|`");
//! assert!(d.is_error());
//! assert_eq!(Span::new(0, 3).char_offsets("héllo"), (0, 2));
//! ```

use std::fmt;

/// A half-open byte range `[start, end)` into the query text.
///
/// Offsets are UTF-8 byte offsets (so they can slice the source directly). `start <= end`
/// always holds for spans produced by the parser; an empty span (`start == end`) points
/// between two characters, e.g. at the end of input.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets). If `end < start` they are swapped so the
    /// invariant `start <= end` holds.
    pub fn new(start: usize, end: usize) -> Span {
        if end < start {
            Span {
                start: end,
                end: start,
            }
        } else {
            Span { start, end }
        }
    }

    /// The empty span at `offset`.
    pub fn point(offset: usize) -> Span {
        Span {
            start: offset,
            end: offset,
        }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// True when the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The text the span covers, or `None` if it is out of bounds or not on char boundaries.
    pub fn slice(self, src: &str) -> Option<&str> {
        src.get(self.start..self.end)
    }

    /// Converts to `(start, end)` *character* (Unicode scalar) offsets, the unit AWS uses in
    /// `queryCompileError.location.startCharOffset/endCharOffset` (spec §10). Offsets past the
    /// end of `src` are clamped to the character count.
    pub fn char_offsets(self, src: &str) -> (usize, usize) {
        let to_char = |byte: usize| -> usize {
            let byte = byte.min(src.len());
            src.char_indices().take_while(|(i, _)| *i < byte).count()
        };
        (to_char(self.start), to_char(self.end))
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A stable diagnostic code such as `Q203`. The producing crate owns the constants (e.g.
/// `ow_query_syntax::codes`); the code never changes meaning once published.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub &'static str);

impl Code {
    /// The code text, e.g. `"Q203"`.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// A bug in OpenWatch itself (an internal invariant broke); the query may be fine.
    Bug,
    /// The query is rejected (AWS: `MalformedQueryException`).
    Error,
    /// The query runs but probably not as the author meant (e.g. `bin(300s)` is capped).
    Warning,
    /// Extra information attached to other diagnostics.
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Bug => "bug",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// A secondary span with a short message ("first `stats` is here").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    /// What the label points at (byte offsets).
    pub span: Span,
    /// Short text shown under the span; may be empty.
    pub message: String,
}

/// One problem found in a query.
///
/// `span` is the primary location (what AWS would report as the compile error location);
/// `labels` add secondary locations; `help` holds suggestions ("did you mean `stats`?") and
/// `notes` background facts ("AWS allows at most 2 `stats` commands").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Stable code, e.g. `Q301`.
    pub code: Code,
    /// Error, warning, …
    pub severity: Severity,
    /// One-line message, lower-case start, no trailing period.
    pub message: String,
    /// Primary location (byte offsets into the query text).
    pub span: Span,
    /// Message shown under the primary span; may be empty.
    pub primary_label: String,
    /// Secondary locations.
    pub labels: Vec<Label>,
    /// Suggestions, each one sentence.
    pub help: Vec<String>,
    /// Background notes, each one sentence.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A new diagnostic of the given severity with no labels, help or notes.
    pub fn new(severity: Severity, code: Code, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            span,
            primary_label: String::new(),
            labels: Vec::new(),
            help: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A new error.
    pub fn error(code: Code, message: impl Into<String>, span: Span) -> Self {
        Diagnostic::new(Severity::Error, code, message, span)
    }

    /// A new warning.
    pub fn warning(code: Code, message: impl Into<String>, span: Span) -> Self {
        Diagnostic::new(Severity::Warning, code, message, span)
    }

    /// Sets the text shown under the primary span.
    pub fn with_primary_label(mut self, message: impl Into<String>) -> Self {
        self.primary_label = message.into();
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// True for [`Severity::Error`] and [`Severity::Bug`]: the query must be rejected.
    pub fn is_error(&self) -> bool {
        matches!(self.severity, Severity::Error | Severity::Bug)
    }
}

impl fmt::Display for Diagnostic {
    /// `error[Q201]: message (at 3..7)`; terminal rendering with carets lives in
    /// `ow_query_syntax::render`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {} (at {})",
            self.severity, self.code, self.message, self.span
        )
    }
}

/// True when any diagnostic in the list rejects the query.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
