//! A byte-position cursor over the pattern text, shared by the family parsers.

use crate::error::{PatternError, SyntaxErrorKind};

/// Reads a pattern left to right. `pos` is always on a UTF-8 character boundary.
pub(crate) struct Cursor<'s> {
    src: &'s str,
    pos: usize,
}

impl<'s> Cursor<'s> {
    pub(crate) fn new(src: &'s str, pos: usize) -> Self {
        Cursor { src, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(crate) fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    /// Consumes `s` if the rest starts with it.
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    /// Consumes characters while `f` holds and returns them.
    pub(crate) fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'s str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if f(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// A short excerpt of what comes next, for error messages.
    pub(crate) fn found(&self) -> String {
        let rest = self.rest();
        if rest.is_empty() {
            return "end of pattern".to_string();
        }
        let excerpt: String = rest.chars().take(16).collect();
        if excerpt.len() < rest.len() {
            format!("'{excerpt}…'")
        } else {
            format!("'{excerpt}'")
        }
    }

    pub(crate) fn expected(&self, expected: &'static str) -> PatternError {
        PatternError::syntax(
            self.pos,
            SyntaxErrorKind::Expected {
                expected,
                found: self.found(),
            },
        )
    }

    /// Reads a `"…"` string starting at the opening quote. Escapes: `\"` → `"`, `\\` → `\`;
    /// any other backslash is kept literally \[I\]. When `star_escape` is set, `\*` yields a
    /// literal star, reported as `Piece::LiteralStar` so wildcard globs can tell it apart.
    pub(crate) fn quoted(&mut self) -> Result<Vec<Piece>, PatternError> {
        let start = self.pos;
        if !self.eat("\"") {
            return Err(self.expected("'\"'"));
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(PatternError::syntax(
                        start,
                        SyntaxErrorKind::UnterminatedString,
                    ))
                }
                Some('"') => break,
                Some('\\') => match self.peek() {
                    Some('"') | Some('\\') => {
                        if let Some(c) = self.bump() {
                            text.push(c);
                        }
                    }
                    Some('*') => {
                        self.bump();
                        if !text.is_empty() {
                            pieces.push(Piece::Text(std::mem::take(&mut text)));
                        }
                        pieces.push(Piece::LiteralStar);
                    }
                    _ => text.push('\\'),
                },
                Some('*') => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Star);
                }
                Some(c) => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(pieces)
    }
}

/// A piece of a quoted or bare string value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    /// An unescaped `*`: a wildcard in JSON and space-delimited values.
    Star,
    /// `\*` inside a quoted string: a literal star \[I\].
    LiteralStar,
}

/// Joins pieces into plain text (stars as `*`), for term patterns where `*` is literal.
pub(crate) fn pieces_to_text(pieces: &[Piece]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Star | Piece::LiteralStar => s.push('*'),
        }
    }
    s
}
