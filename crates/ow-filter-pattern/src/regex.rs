//! `%…%` regular expressions in AWS's restricted dialect (filter-patterns.md §3).
//!
//! The text between the percent signs is checked against the documented alphabet \[V\]:
//! ASCII letters and digits, the symbols `: _ # = @ / ; , -`, the operators
//! `^ $ ? [ ] { } | \ * + .`, and the space (the documented example `%bind: address%` contains
//! one). Parentheses and every other character are rejected, and so are multibyte characters.
//! Escapes: `\d \D \w \W \s \S` (ASCII classes, as in Java's default mode \[I\]), `\t \n \r`,
//! and a backslash before any allowed symbol, operator or space (a literal). Other escapes
//! (`\b`, `\p`, `\1`, `\x41`, …) are rejected \[I: not in AWS's list\]. The checked text is then
//! translated to the Rust `regex` crate and compiled; matching is an unanchored search \[V\].

use crate::cursor::Cursor;
use crate::error::{PatternError, SyntaxErrorKind};

/// Upper bound on the compiled program size (bytes), so `%a{1000}{1000}%` is an error rather
/// than a memory spike.
const COMPILED_SIZE_LIMIT: usize = 2 << 20;

/// A validated, compiled `%…%` regex.
#[derive(Debug, Clone)]
pub(crate) struct RestrictedRegex {
    regex: regex::Regex,
}

const SYMBOLS: &str = ":_#=@/;,- ";
const OPERATORS: &str = "^$?[]{}|\\*+.";

impl RestrictedRegex {
    /// Parses `%…%` at the cursor (which must be on the opening `%`).
    pub(crate) fn parse_delimited(cur: &mut Cursor<'_>) -> Result<RestrictedRegex, PatternError> {
        let open = cur.pos();
        if !cur.eat("%") {
            return Err(cur.expected("'%'"));
        }
        let body_start = cur.pos();
        let body = cur.take_while(|c| c != '%');
        if !cur.eat("%") {
            return Err(PatternError::syntax(
                open,
                SyntaxErrorKind::UnterminatedRegex,
            ));
        }
        Self::compile(body, body_start, open)
    }

    /// Validates and compiles a regex body. `body_start` is the byte offset of `body` in the
    /// pattern, `open` the offset of its `%`.
    pub(crate) fn compile(
        body: &str,
        body_start: usize,
        open: usize,
    ) -> Result<RestrictedRegex, PatternError> {
        if body.is_empty() {
            return Err(PatternError::syntax(open, SyntaxErrorKind::EmptyRegex));
        }
        let translated = translate(body, body_start)?;
        let regex = regex::RegexBuilder::new(&translated)
            .size_limit(COMPILED_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                PatternError::syntax(
                    open,
                    SyntaxErrorKind::InvalidRegex {
                        reason: short_reason(&e),
                    },
                )
            })?;
        Ok(RestrictedRegex { regex })
    }

    /// Unanchored search, case-sensitive.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// Checks the alphabet and rewrites escapes for the Rust `regex` crate.
fn translate(body: &str, body_start: usize) -> Result<String, PatternError> {
    let mut out = String::with_capacity(body.len() + 8);
    // Depth of `[...]` classes (the Rust crate, like Java, allows nested classes).
    let mut class_depth = 0usize;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let pos = body_start + i;
        if !c.is_ascii() {
            return Err(PatternError::syntax(
                pos,
                SyntaxErrorKind::InvalidRegexCharacter { ch: c },
            ));
        }
        if c.is_ascii_alphanumeric() || SYMBOLS.contains(c) {
            // Literal (no verbose-mode flag is ever enabled, so ` ` and `#` stay literal).
            out.push(c);
            continue;
        }
        if !OPERATORS.contains(c) {
            return Err(PatternError::syntax(
                pos,
                SyntaxErrorKind::InvalidRegexCharacter { ch: c },
            ));
        }
        match c {
            '[' => {
                class_depth += 1;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal in both dialects.
                if chars.peek().map(|&(_, n)| n) == Some('^') {
                    chars.next();
                    out.push('^');
                }
                if chars.peek().map(|&(_, n)| n) == Some(']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            ']' => {
                class_depth = class_depth.saturating_sub(1);
                out.push(']');
            }
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(PatternError::syntax(
                        pos,
                        SyntaxErrorKind::UnsupportedRegexEscape { ch: None },
                    ));
                };
                let in_class = class_depth > 0;
                let ascii_class = |name: &str, negated: bool| {
                    let neg = if negated { "^" } else { "" };
                    if in_class {
                        format!("[:{neg}{name}:]")
                    } else {
                        format!("[[:{neg}{name}:]]")
                    }
                };
                match e {
                    'd' => out.push_str(&ascii_class("digit", false)),
                    'D' => out.push_str(&ascii_class("digit", true)),
                    'w' => out.push_str(&ascii_class("word", false)),
                    'W' => out.push_str(&ascii_class("word", true)),
                    's' => out.push_str(&ascii_class("space", false)),
                    'S' => out.push_str(&ascii_class("space", true)),
                    't' => out.push_str("\\t"),
                    'n' => out.push_str("\\n"),
                    'r' => out.push_str("\\r"),
                    e if e.is_ascii() && (SYMBOLS.contains(e) || OPERATORS.contains(e)) => {
                        // A literal; `regex::escape` escapes it only if it is a Rust meta
                        // character.
                        out.push_str(&regex::escape(&e.to_string()));
                    }
                    other => {
                        return Err(PatternError::syntax(
                            pos,
                            SyntaxErrorKind::UnsupportedRegexEscape { ch: Some(other) },
                        ))
                    }
                }
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// The last line of the regex crate's error message (the reason), without the echoed pattern.
fn short_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("compiled regex exceeds the size limit of {limit} bytes")
        }
        other => {
            let text = other.to_string();
            text.lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or("malformed regex")
                .to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(body: &str) -> Result<RestrictedRegex, PatternError> {
        RestrictedRegex::compile(body, 1, 0)
    }

    #[test]
    fn documented_examples() {
        assert!(re("AUTHORIZED").unwrap().is_match("UNAUTHORIZED REQUEST"));
        let ip = re(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}").unwrap();
        assert!(ip.is_match("from 10.0.12.7 port 22"));
        assert!(!ip.is_match("from 10.0.x.7"));
        let alt = re("[Ee]rror|[Ff]ail").unwrap();
        assert!(alt.is_match("an error"));
        assert!(alt.is_match("Failed"));
        assert!(!alt.is_match("ERROR"));
        let colour = re("colou?r").unwrap();
        assert!(colour.is_match("color") && colour.is_match("colour"));
        assert!(re("bind: address")
            .unwrap()
            .is_match("bind: address already in use"));
    }

    #[test]
    fn rejects_what_the_spec_rejects() {
        let kind = |body: &str| match re(body) {
            Err(PatternError::Syntax { kind, .. }) => kind,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(
            kind("something!"),
            SyntaxErrorKind::InvalidRegexCharacter { ch: '!' }
        );
        assert_eq!(
            kind("(?i)error"),
            SyntaxErrorKind::InvalidRegexCharacter { ch: '(' }
        );
        assert_eq!(
            kind("é"),
            SyntaxErrorKind::InvalidRegexCharacter { ch: 'é' }
        );
        assert_eq!(
            kind(r"\b"),
            SyntaxErrorKind::UnsupportedRegexEscape { ch: Some('b') }
        );
        assert_eq!(
            kind("a\\"),
            SyntaxErrorKind::UnsupportedRegexEscape { ch: None }
        );
        assert!(matches!(kind("[a"), SyntaxErrorKind::InvalidRegex { .. }));
        assert!(matches!(kind("a{2"), SyntaxErrorKind::InvalidRegex { .. }));
        assert!(matches!(
            kind("a{1000}{1000}{1000}"),
            SyntaxErrorKind::InvalidRegex { .. }
        ));
    }

    #[test]
    fn class_escapes_are_ascii() {
        let d = re(r"^\d+$").unwrap();
        assert!(d.is_match("0123"));
        assert!(
            !d.is_match("٣"),
            "Arabic-indic digit is not \\d in Java's default mode"
        );
        assert!(re(r"[\d\s]x").unwrap().is_match("7x"));
        assert!(re(r"a\.b").unwrap().is_match("a.b"));
        assert!(!re(r"a\.b").unwrap().is_match("axb"));
        assert!(re(r"a\ b").unwrap().is_match("a b"));
        assert!(re(r"a\-b").unwrap().is_match("a-b"));
        assert!(re(r"a\:b\/c").unwrap().is_match("a:b/c"));
    }
}
