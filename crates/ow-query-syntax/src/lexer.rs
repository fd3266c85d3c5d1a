//! The lexer (spec §2): turns query text into tokens on demand.
//!
//! The lexer is pull-based because one character is ambiguous: `/` is division after an
//! operand (`sum(x)/1024`) but starts a regex literal where an operand is expected
//! (`like /err/`, `parse @message /(?<x>\d+)/`). Only the parser knows which, so it asks for a
//! regex explicitly with [`Lexer::lex_regex`]. Errors are carried *in* tokens
//! ([`TokenKind::Error`]) and reported by the parser when it consumes them, so tokens that
//! are lexed ahead and then re-lexed as part of a regex never produce spurious diagnostics.
//!
//! Decisions on undocumented points (all \[I\] in the spec):
//! - `#` outside a string, regex or backticks starts a comment anywhere on a line (§2.2).
//! - String escapes: `\\`, `\"`, `\'` resolve to the escaped character; a backslash before any
//!   other character is kept literally (so `"\d+"` stays `\d+` for regex-taking functions and
//!   `\n` is backslash + `n`) (§2.5).
//! - Backtick names: `` \` `` and `\\` are escapes; other backslashes are literal (§2.4).
//! - Regex literals: `\/` is an escaped slash; other escapes are kept for the regex engine;
//!   letters right after the closing `/` are flags (§2.5).
//! - Numbers: decimal, optional fraction and exponent, and `0x` hex (Grafana's tokenizer
//!   accepts both) (§2.5).

use ow_diagnostics::Span;

use crate::ast::{Period, TimeUnit};

/// A token kind. Identifiers include keywords (the language's keywords are contextual and
/// case-insensitive, so the parser decides).
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// Plain name: letters, digits, `_`, inner `.` and leading `@`s (`@message`,
    /// `userIdentity.arn`, `items.0.id`).
    Ident(String),
    /// `` `name` `` with escapes resolved.
    Backtick(String),
    /// `'…'` / `"…"` with escapes resolved.
    Str(String),
    /// A number: its text and value.
    Number(String, f64),
    /// A time period such as `5m`.
    Period(Period),
    /// A regex literal (only from [`Lexer::lex_regex`]): pattern and flags.
    Regex(String, String),
    /// `|`
    Pipe,
    /// `,`
    Comma,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `.` (only when it cannot be part of a name, e.g. ``m.`a.b` `` or `l[0].x`)
    Dot,
    /// `:`
    Colon,
    /// `=`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `=~`
    RegexMatch,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `^`
    Caret,
    /// End of input.
    Eof,
    /// Something that is not a token; the message explains it.
    Error(LexError),
}

/// A lexical error carried by a [`TokenKind::Error`] token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexError {
    /// `'…` or `"…` without the closing quote (Q101).
    UnterminatedString,
    /// `` `… `` without the closing backtick (Q102).
    UnterminatedBacktick,
    /// `/…` without the closing slash (Q103).
    UnterminatedRegex,
    /// A character that starts no token (Q104); `help` suggests the right spelling.
    UnexpectedChar {
        /// The offending text.
        text: String,
        /// Suggestion, may be empty.
        help: String,
    },
    /// A malformed number or period such as `12abc`, `1e`, `5parsecs` (Q105).
    BadNumber(String),
    /// `{{name}}`: a query-definition parameter that was not substituted (Q106).
    Parameter(String),
    /// Regex flags other than `i m s x` (Q107).
    BadRegexFlag(String),
}

/// A token with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is (byte offsets).
    pub span: Span,
    /// True when whitespace or a comment precedes the token (lets the parser glue
    /// `cpu*` in `filldown` and detect `a.b` vs `a . b`).
    pub space_before: bool,
}

/// A pull lexer over one query string.
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Spans of the `#` comments seen so far, in order.
    comments: Vec<Span>,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            comments: Vec::new(),
        }
    }

    /// Spans of the `#` comments lexed so far (comments are trivia: the AST does not keep
    /// them).
    pub fn comments(&self) -> &[Span] {
        &self.comments
    }

    /// Moves to byte offset `pos` (must be a char boundary; clamped to the end).
    pub fn reset(&mut self, pos: usize) {
        let mut p = pos.min(self.src.len());
        while !self.src.is_char_boundary(p) {
            p -= 1;
        }
        self.pos = p;
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_char_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skips whitespace and comments; returns whether anything was skipped.
    fn skip_trivia(&mut self) -> bool {
        let start = self.pos;
        loop {
            match self.peek_char() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('#') => {
                    let comment_start = self.pos;
                    while let Some(c) = self.peek_char() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                    self.comments.push(Span::new(comment_start, self.pos));
                }
                _ => break,
            }
        }
        self.pos != start
    }

    /// The next token in normal mode (a `/` is [`TokenKind::Slash`]).
    pub fn next_token(&mut self) -> Token {
        let space_before = self.skip_trivia() || self.pos == 0;
        let start = self.pos;
        let kind = self.lex_kind();
        Token {
            kind,
            span: Span::new(start, self.pos),
            space_before,
        }
    }

    /// Lexes a regex literal starting at byte `start`, which must hold `/`. Returns a
    /// [`TokenKind::Regex`] or an error token; the lexer continues after it.
    pub fn lex_regex(&mut self, start: usize, space_before: bool) -> Token {
        self.reset(start);
        // anything lexed from `start` on is lexed again; a `#` inside the regex is literal
        self.comments.retain(|c| c.start < start);
        let kind = self.lex_regex_kind();
        Token {
            kind,
            span: Span::new(start, self.pos),
            space_before,
        }
    }

    fn lex_regex_kind(&mut self) -> TokenKind {
        if self.bump() != Some('/') {
            return TokenKind::Error(LexError::UnterminatedRegex);
        }
        let mut pattern = String::new();
        loop {
            match self.bump() {
                None => return TokenKind::Error(LexError::UnterminatedRegex),
                Some('/') => break,
                Some('\\') => match self.bump() {
                    Some('/') => pattern.push('/'),
                    Some(c) => {
                        pattern.push('\\');
                        pattern.push(c);
                    }
                    None => return TokenKind::Error(LexError::UnterminatedRegex),
                },
                Some(c) => pattern.push(c),
            }
        }
        let flags_start = self.pos;
        while self.peek_char().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.bump();
        }
        let flags = &self.src[flags_start..self.pos];
        if let Some(bad) = flags.chars().find(|c| !"imsx".contains(*c)) {
            return TokenKind::Error(LexError::BadRegexFlag(bad.to_string()));
        }
        TokenKind::Regex(pattern, flags.to_string())
    }

    fn lex_kind(&mut self) -> TokenKind {
        let Some(c) = self.bump() else {
            return TokenKind::Eof;
        };
        match c {
            '|' => {
                if self.peek_char() == Some('|') {
                    self.bump();
                    return unexpected(
                        "||",
                        "use `or` to combine conditions; `|` separates commands",
                    );
                }
                TokenKind::Pipe
            }
            ',' => TokenKind::Comma,
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            '[' => TokenKind::LBracket,
            ']' => TokenKind::RBracket,
            ':' => TokenKind::Colon,
            '+' => TokenKind::Plus,
            '-' => TokenKind::Minus,
            '*' => TokenKind::Star,
            '/' => TokenKind::Slash,
            '%' => TokenKind::Percent,
            '^' => TokenKind::Caret,
            '.' => TokenKind::Dot,
            '=' => match self.peek_char() {
                Some('~') => {
                    self.bump();
                    TokenKind::RegexMatch
                }
                Some('=') => {
                    self.bump();
                    unexpected("==", "use `=` to compare for equality")
                }
                _ => TokenKind::Eq,
            },
            '!' => match self.peek_char() {
                Some('=') => {
                    self.bump();
                    TokenKind::NotEq
                }
                Some('~') => {
                    self.bump();
                    unexpected("!~", "use `not like /regex/` to negate a regex match")
                }
                _ => unexpected("!", "use `not` to negate a condition"),
            },
            '<' => match self.peek_char() {
                Some('=') => {
                    self.bump();
                    TokenKind::LtEq
                }
                Some('>') => {
                    self.bump();
                    unexpected("<>", "use `!=` for inequality")
                }
                _ => TokenKind::Lt,
            },
            '>' => {
                if self.peek_char() == Some('=') {
                    self.bump();
                    TokenKind::GtEq
                } else {
                    TokenKind::Gt
                }
            }
            '&' => {
                if self.peek_char() == Some('&') {
                    self.bump();
                    unexpected("&&", "use `and` to combine conditions")
                } else {
                    unexpected("&", "use `and` to combine conditions")
                }
            }
            '\'' | '"' => self.lex_string(c),
            '`' => self.lex_backtick(),
            '{' if self.peek_char() == Some('{') => self.lex_parameter(),
            '@' => self.lex_ident(),
            c if is_ident_start(c) => self.lex_ident(),
            c if c.is_ascii_digit() => self.lex_number(),
            c => unexpected(&c.to_string(), ""),
        }
    }

    fn lex_string(&mut self, quote: char) -> TokenKind {
        let mut value = String::new();
        loop {
            match self.bump() {
                None => return TokenKind::Error(LexError::UnterminatedString),
                Some(c) if c == quote => return TokenKind::Str(value),
                Some('\\') => match self.bump() {
                    Some(c @ ('\\' | '"' | '\'')) => value.push(c),
                    Some(c) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return TokenKind::Error(LexError::UnterminatedString),
                },
                Some(c) => value.push(c),
            }
        }
    }

    fn lex_backtick(&mut self) -> TokenKind {
        let mut value = String::new();
        loop {
            match self.bump() {
                None => return TokenKind::Error(LexError::UnterminatedBacktick),
                Some('`') => return TokenKind::Backtick(value),
                Some('\\') if matches!(self.peek_char(), Some('`' | '\\')) => {
                    if let Some(c) = self.bump() {
                        value.push(c);
                    }
                }
                Some(c) => value.push(c),
            }
        }
    }

    fn lex_parameter(&mut self) -> TokenKind {
        // We are after the first `{`; the second is next.
        self.bump();
        let name_start = self.pos;
        while self.peek_char().is_some_and(|c| c != '}' && c != '\n') {
            self.bump();
        }
        let name = self.src[name_start..self.pos].trim().to_string();
        if self.peek_char() == Some('}') {
            self.bump();
            if self.peek_char() == Some('}') {
                self.bump();
            }
        }
        TokenKind::Error(LexError::Parameter(name))
    }

    /// We have consumed the first char (a letter, `_` or `@`).
    fn lex_ident(&mut self) -> TokenKind {
        let start = self.pos
            - self.src[..self.pos]
                .chars()
                .next_back()
                .map_or(0, char::len_utf8);
        // further leading `@`s (`@@timestamp`)
        while self.peek_char() == Some('@') {
            self.bump();
        }
        loop {
            match self.peek_char() {
                Some(c) if is_ident_continue(c) => {
                    self.bump();
                }
                // `.` continues a name only when a name character follows (`a.b`, `a.0`,
                // `@entity.@x`); otherwise it is a Dot token (``m.`a.b` ``).
                Some('.')
                    if self
                        .peek_char_at(1)
                        .is_some_and(|c| is_ident_continue(c) || c == '@') =>
                {
                    self.bump();
                    while self.peek_char() == Some('@') {
                        self.bump();
                    }
                }
                _ => break,
            }
        }
        let text = &self.src[start..self.pos];
        if text.chars().all(|c| c == '@') {
            // a lone `@` (or `@@`) is not a name
            return unexpected(
                text,
                "field names are letters, digits, `_` and `.`; quote others with backticks",
            );
        }
        TokenKind::Ident(text.to_string())
    }

    /// We have consumed the first digit.
    fn lex_number(&mut self) -> TokenKind {
        let start = self.pos - 1;
        if &self.src[start..self.pos] == "0" && matches!(self.peek_char(), Some('x' | 'X')) {
            if self.peek_char_at(1).is_some_and(|c| c.is_ascii_hexdigit()) {
                self.bump();
                while self.peek_char().is_some_and(|c| c.is_ascii_hexdigit()) {
                    self.bump();
                }
                let text = &self.src[start..self.pos];
                if self.peek_char().is_some_and(is_ident_continue) {
                    return self.bad_number(start);
                }
                return match u64::from_str_radix(&text[2..], 16) {
                    Ok(v) => TokenKind::Number(text.to_string(), v as f64),
                    Err(_) => TokenKind::Error(LexError::BadNumber(text.to_string())),
                };
            }
            return self.bad_number(start);
        }
        while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        let mut integral = true;
        if self.peek_char() == Some('.') && self.peek_char_at(1).is_some_and(|c| c.is_ascii_digit())
        {
            integral = false;
            self.bump();
            while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        // exponent: e[+-]?digits
        if matches!(self.peek_char(), Some('e' | 'E')) {
            let sign = matches!(self.peek_char_at(1), Some('+' | '-'));
            let digit_at = if sign { 2 } else { 1 };
            if self
                .peek_char_at(digit_at)
                .is_some_and(|c| c.is_ascii_digit())
            {
                integral = false;
                for _ in 0..digit_at {
                    self.bump();
                }
                while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
            }
        }
        let num_end = self.pos;
        let text = &self.src[start..num_end];
        // a unit suffix makes a time period
        if self.peek_char().is_some_and(is_ident_start) {
            let unit_start = self.pos;
            while self.peek_char().is_some_and(is_ident_continue) {
                self.bump();
            }
            let unit_text = &self.src[unit_start..self.pos];
            if !integral {
                return TokenKind::Error(LexError::BadNumber(
                    self.src[start..self.pos].to_string(),
                ));
            }
            return match (TimeUnit::parse(unit_text), text.parse::<u64>()) {
                (Some(unit), Ok(amount)) => TokenKind::Period(Period { amount, unit }),
                _ => TokenKind::Error(LexError::BadNumber(self.src[start..self.pos].to_string())),
            };
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => TokenKind::Number(text.to_string(), v),
            _ => TokenKind::Error(LexError::BadNumber(text.to_string())),
        }
    }

    fn bad_number(&mut self, start: usize) -> TokenKind {
        while self
            .peek_char()
            .is_some_and(|c| is_ident_continue(c) || c == '.')
        {
            self.bump();
        }
        TokenKind::Error(LexError::BadNumber(self.src[start..self.pos].to_string()))
    }
}

fn unexpected(text: &str, help: &str) -> TokenKind {
    TokenKind::Error(LexError::UnexpectedChar {
        text: text.to_string(),
        help: help.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let mut lx = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token();
            if t.kind == TokenKind::Eof {
                return out;
            }
            out.push(t.kind);
        }
    }

    #[test]
    fn names_paths_and_at_fields() {
        assert_eq!(
            kinds("@message userIdentity.arn items.0.id @@ts"),
            vec![
                TokenKind::Ident("@message".into()),
                TokenKind::Ident("userIdentity.arn".into()),
                TokenKind::Ident("items.0.id".into()),
                TokenKind::Ident("@@ts".into()),
            ]
        );
        assert_eq!(
            kinds("m.`a.b`"),
            vec![
                TokenKind::Ident("m".into()),
                TokenKind::Dot,
                TokenKind::Backtick("a.b".into())
            ]
        );
    }

    #[test]
    fn numbers_and_periods() {
        assert_eq!(kinds("42")[0], TokenKind::Number("42".into(), 42.0));
        assert_eq!(kinds("1e-3")[0], TokenKind::Number("1e-3".into(), 0.001));
        assert_eq!(kinds("0xff")[0], TokenKind::Number("0xff".into(), 255.0));
        assert_eq!(
            kinds("300ms")[0],
            TokenKind::Period(Period {
                amount: 300,
                unit: TimeUnit::Millisecond
            })
        );
        assert_eq!(
            kinds("2HRS")[0],
            TokenKind::Period(Period {
                amount: 2,
                unit: TimeUnit::Hour
            })
        );
        assert!(matches!(
            kinds("5parsecs")[0],
            TokenKind::Error(LexError::BadNumber(_))
        ));
    }

    #[test]
    fn strings_escapes_and_comments() {
        assert_eq!(
            kinds(r#""a\"b" 'c\'d' "\d""#),
            vec![
                TokenKind::Str("a\"b".into()),
                TokenKind::Str("c'd".into()),
                TokenKind::Str("\\d".into()),
            ]
        );
        assert_eq!(
            kinds("a # comment | b\n| c"),
            vec![
                TokenKind::Ident("a".into()),
                TokenKind::Pipe,
                TokenKind::Ident("c".into()),
            ]
        );
        assert_eq!(kinds("\"a#b\"")[0], TokenKind::Str("a#b".into()));
    }

    #[test]
    fn regex_on_demand() {
        let src = r"/a\/b#c/i rest";
        let mut lx = Lexer::new(src);
        let t = lx.lex_regex(0, true);
        assert_eq!(t.kind, TokenKind::Regex("a/b#c".into(), "i".into()));
        assert_eq!(t.span, Span::new(0, 9));
        assert_eq!(lx.next_token().kind, TokenKind::Ident("rest".into()));
    }
}
