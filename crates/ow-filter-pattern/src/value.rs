//! Comparison values shared by JSON (§4) and space-delimited (§5) patterns: operators,
//! literals (number, string with `*` wildcards, `*`, `%regex%`) and how they compare with an
//! event's scalar value.

use std::borrow::Cow;

use crate::cursor::{Cursor, Piece};
use crate::error::{PatternError, SyntaxErrorKind};
use crate::regex::RestrictedRegex;

/// A comparison operator: `=`, `!=`, `<`, `<=`, `>`, `>=` (§4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// Parses an operator; `==` is rejected explicitly (§4.1: unsupported).
    pub(crate) fn parse(cur: &mut Cursor<'_>) -> Result<CmpOp, PatternError> {
        let pos = cur.pos();
        if cur.starts_with("==") {
            return Err(PatternError::syntax(
                pos,
                SyntaxErrorKind::Unsupported {
                    what: "operator '==' (use '=')".to_string(),
                },
            ));
        }
        for (text, op) in [
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("=", CmpOp::Eq),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ] {
            if cur.eat(text) {
                return Ok(op);
            }
        }
        Err(cur.expected("a comparison operator (=, !=, <, <=, >, >=)"))
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// A numeric literal: `[+-]? digits [. digits] [(e|E) [+-]? digits]`.
    Number(f64),
    /// A bare or quoted string, possibly with `*` wildcards.
    Text(Glob),
    /// `*` or `"*"` alone: any scalar value (§4.2 "field exists with any scalar value").
    Any,
    /// `%regex%`: unanchored search in the value's text form.
    Regex(RestrictedRegex),
}

/// Parses a value. `bare_stop` lists the characters (besides whitespace) that end a bare value.
pub(crate) fn parse_literal(
    cur: &mut Cursor<'_>,
    op: CmpOp,
    bare_stop: &[char],
    regex_count: &mut usize,
) -> Result<Literal, PatternError> {
    cur.skip_ws();
    let pos = cur.pos();
    let lit = match cur.peek() {
        Some('"') => {
            let pieces = cur.quoted()?;
            if pieces == [Piece::Star] {
                Literal::Any
            } else {
                Literal::Text(Glob::new(pieces))
            }
        }
        Some('%') => {
            *regex_count += 1;
            Literal::Regex(RestrictedRegex::parse_delimited(cur)?)
        }
        _ => {
            let bare = cur.take_while(|c| !c.is_whitespace() && !bare_stop.contains(&c));
            if bare.is_empty() {
                return Err(cur.expected("a value"));
            }
            if bare == "*" {
                Literal::Any
            } else if let Some(n) = parse_number(bare) {
                Literal::Number(n)
            } else {
                Literal::Text(Glob::from_bare(bare))
            }
        }
    };
    if op.is_ordering() && !matches!(lit, Literal::Number(_)) {
        return Err(PatternError::syntax(
            pos,
            SyntaxErrorKind::StringOperator { op: op.as_str() },
        ));
    }
    Ok(lit)
}

/// Parses a number with the filter-pattern grammar
/// `[+-]? digits [. digits] [(e|E) [+-]? digits]` (§4.1). Anything else (`inf`, `NaN`, `.5`,
/// `0x10`, `1_000`) is not a number.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+') | Some(b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A string with `*` wildcards, matched against a whole value (prefix, suffix and middle
/// wildcards: `"*UnauthorizedOperation"`, `"AccessDenied*"`, `123.123.*`, §4.2 \[V\]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glob {
    /// The literal text between wildcards; `segments.len() == stars + 1`.
    segments: Vec<String>,
}

impl Glob {
    pub(crate) fn new(pieces: Vec<Piece>) -> Glob {
        let mut segments = vec![String::new()];
        for p in pieces {
            match p {
                Piece::Star => segments.push(String::new()),
                Piece::Text(t) => {
                    if let Some(last) = segments.last_mut() {
                        last.push_str(&t);
                    }
                }
                Piece::LiteralStar => {
                    if let Some(last) = segments.last_mut() {
                        last.push('*');
                    }
                }
            }
        }
        Glob { segments }
    }

    /// A bare value: every `*` is a wildcard.
    pub(crate) fn from_bare(s: &str) -> Glob {
        Glob {
            segments: s.split('*').map(str::to_string).collect(),
        }
    }

    /// Whole-value match, case-sensitive (§1 \[V\]).
    pub(crate) fn matches(&self, s: &str) -> bool {
        match self.segments.as_slice() {
            [] => s.is_empty(),
            [only] => s == only,
            [first, middle @ .., last] => {
                if s.len() < first.len() + last.len()
                    || !s.starts_with(first.as_str())
                    || !s.ends_with(last.as_str())
                {
                    return false;
                }
                let Some(mut rest) = s.get(first.len()..s.len() - last.len()) else {
                    return false;
                };
                for seg in middle {
                    if seg.is_empty() {
                        continue;
                    }
                    match rest.find(seg.as_str()) {
                        Some(i) => rest = rest.get(i + seg.len()..).unwrap_or(""),
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

/// A scalar value from an event: a JSON leaf or a space-delimited token.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Str(&'a str),
    Num(&'a serde_json::Number),
    Bool(bool),
    Null,
}

impl<'a> Scalar<'a> {
    /// The text a string or wildcard pattern is compared with: strings as they are, numbers in
    /// their JSON form, booleans as `true`/`false`; `null` has none \[I\].
    fn text(&self) -> Option<Cow<'a, str>> {
        match *self {
            Scalar::Str(s) => Some(Cow::Borrowed(s)),
            Scalar::Num(n) => Some(Cow::Owned(n.to_string())),
            Scalar::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            Scalar::Null => None,
        }
    }

    /// The numeric value a numeric literal is compared with. A JSON string counts only when
    /// it is a number by [`parse_number`] and `coerce_strings` is set; a space-delimited token
    /// is always text and so is always parsed (§4.2 type matching \[I\]).
    fn number(&self, coerce_strings: bool) -> Option<f64> {
        match *self {
            Scalar::Num(n) => n.as_f64(),
            Scalar::Str(s) if coerce_strings => parse_number(s),
            _ => None,
        }
    }
}

/// Evaluates `scalar op literal`.
///
/// `!=` is the negation of `=` on a present scalar (missing fields never reach this point:
/// they make every comparison false, §4.2 \[I\]). Ordering operators hold only when the value
/// has a numeric reading.
pub(crate) fn compare(scalar: Scalar<'_>, op: CmpOp, lit: &Literal, coerce_strings: bool) -> bool {
    let eq = |scalar: Scalar<'_>| -> Option<bool> {
        Some(match lit {
            Literal::Any => true,
            Literal::Text(g) => match scalar.text() {
                Some(t) => g.matches(&t),
                None => false,
            },
            Literal::Regex(r) => match scalar.text() {
                Some(t) => r.is_match(&t),
                None => false,
            },
            Literal::Number(n) => match scalar.number(coerce_strings) {
                Some(v) => v == *n,
                None => false,
            },
        })
    };
    match op {
        CmpOp::Eq => eq(scalar).unwrap_or(false),
        CmpOp::Ne => !eq(scalar).unwrap_or(true),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let (Literal::Number(n), Some(v)) = (lit, scalar.number(coerce_strings)) else {
                return false;
            };
            match op {
                CmpOp::Lt => v < *n,
                CmpOp::Le => v <= *n,
                CmpOp::Gt => v > *n,
                _ => v >= *n,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_pattern_grammar() {
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert_eq!(parse_number("+1e+3"), Some(1000.0));
        assert_eq!(parse_number("-2.5"), Some(-2.5));
        for bad in [
            "",
            "+",
            ".5",
            "5.",
            "1e",
            "inf",
            "NaN",
            "0x10",
            "1_0",
            "123.123.*",
            "4*",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn globs() {
        let g = Glob::from_bare("123.123.*");
        assert!(g.matches("123.123.1.1"));
        assert!(g.matches("123.123."));
        assert!(!g.matches("123.124.1.1"));
        let g = Glob::from_bare("*.html*");
        assert!(g.matches("GET /index.html HTTP/1.0"));
        assert!(!g.matches("GET /index.htm"));
        let g = Glob::from_bare("a*a");
        assert!(!g.matches("a"), "prefix and suffix must not overlap");
        assert!(g.matches("aa"));
        let g = Glob::new(vec![Piece::Text("a".into()), Piece::LiteralStar]);
        assert!(g.matches("a*"));
        assert!(!g.matches("ab"));
    }
}
