//! The Logs Insights query language front end (spec `insights-language.md` §2, §4, §5, §6):
//! lexer, parser, AST, semantic checks, canonical printer and diagnostic rendering.
//!
//! - [`parse`]: text → [`ast::Query`] + syntax diagnostics. Never panics, never stops at the
//!   first error: it returns the commands it could parse and every diagnostic.
//! - [`check()`]: parse + the semantic checks AWS performs at compile time (§4.21 ordering
//!   rules, unknown functions, arity, aggregates, `bin()` caps, the 10,000-character
//!   limit). `Ok` when there are no errors (warnings are dropped; use [`analyze`] to see
//!   them).
//! - [`print()`]: the canonical form; `parse(print(q)) == q`.
//! - [`render()`]: diagnostics as `file:line:col` with a caret under the span.
//! - [`functions`] and [`commands`]: the function and command catalogues as data, shared
//!   with the planner.
//!
//! The crate does no I/O.
//!
//! ```
//! use ow_query_syntax::{ast::Command, check, parse, print, render};
//!
//! let q = check("FIELDS @timestamp, @message | filter @message like /(?i)error/ | limit 20").unwrap();
//! assert!(matches!(q.commands[1].node, Command::Filter(_)));
//! assert_eq!(
//!     print(&q),
//!     "fields @timestamp, @message\n| filter @message like /(?i)error/\n| limit 20"
//! );
//!
//! let src = "stats count(*) by bin(5m) | fitler x = 1";
//! let diags = check(src).unwrap_err();
//! assert_eq!(diags[0].code.as_str(), "Q201");
//! assert!(render(src, &diags).contains("did you mean `filter`?"));
//! # let _ = parse("");
//! ```

pub mod ast;
pub mod check;
pub mod codes;
pub mod commands;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod render;
mod suggest;

pub use ow_diagnostics::{Diagnostic, Severity, Span};

pub use check::CheckConfig;
pub use parser::{parse, Parsed};
pub use print::{print, print_with_comments};
pub use render::{render, render_named};
pub use suggest::did_you_mean;

/// Everything known about one query: the (possibly partial) AST and all diagnostics
/// (syntax and semantic, errors and warnings) in source order.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The parsed query (partial when there were syntax errors).
    pub query: Query,
    /// All diagnostics, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans of `#` comments (not part of the AST).
    pub comments: Vec<Span>,
}

use ast::Query;

impl Analysis {
    /// True when any diagnostic is an error (the query would be rejected).
    pub fn has_errors(&self) -> bool {
        ow_diagnostics::has_errors(&self.diagnostics)
    }
}

/// Parses and checks `src` with the given limits, keeping warnings.
///
/// Semantic checks run on whatever parsed, so one pass reports syntax errors in one
/// command and semantic errors in another.
pub fn analyze(src: &str, config: &CheckConfig) -> Analysis {
    let parsed = parse(src);
    let query = parsed.query.unwrap_or_default();
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(check::check_query(src, &query, config));
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Analysis {
        query,
        diagnostics,
        comments: parsed.comments,
    }
}

/// Parses and checks `src` with AWS's default limits.
///
/// # Errors
/// Every diagnostic (errors *and* warnings, in source order) when at least one is an error;
/// AWS would answer `MalformedQueryException`.
pub fn check(src: &str) -> Result<Query, Vec<Diagnostic>> {
    check_with(src, &CheckConfig::default())
}

/// [`check()`] with explicit limits.
///
/// # Errors
/// As [`check()`].
pub fn check_with(src: &str, config: &CheckConfig) -> Result<Query, Vec<Diagnostic>> {
    let a = analyze(src, config);
    if a.has_errors() {
        Err(a.diagnostics)
    } else {
        Ok(a.query)
    }
}
