//! Hand-written recursive-descent parser with precedence climbing for expressions.
//!
//! Architecture invariant: parsing never fails and never panics. [`parse`] always returns
//! the commands it could parse plus every diagnostic; after an error inside a command the
//! parser skips to the next `|` at the same nesting level and carries on, so all errors of
//! a query are reported, not just the first. Recursion is bounded ([`MAX_DEPTH`]) so deeply
//! nested input cannot overflow the stack.
//!
//! Decisions on undocumented points (spec \[I\] items):
//! - A leading `|` before the first command is accepted with a warning (Q204), so pasted
//!   one-command-per-line queries still work while `openwatch check` points it out.
//! - Operator precedence is spec §5.1's recommendation; comparisons do not chain (Q205).
//! - Unary minus binds tighter than `^` (§5.1 lists it above `^`): `-2 ^ 2` is `(-2) ^ 2`.

use std::collections::VecDeque;

use ow_diagnostics::{Diagnostic, Span};

use crate::ast::*;
use crate::codes;
use crate::commands;
use crate::functions;
use crate::lexer::{LexError, Lexer, Token, TokenKind};
use crate::suggest::did_you_mean;

/// Maximum nesting of expressions/subqueries before the parser gives up (Q209).
pub const MAX_DEPTH: usize = 100;

/// The result of [`parse`]: a (possibly partial) query and the diagnostics.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The commands that parsed. `Some` always (possibly with no commands) so tools can
    /// work on partial input; check [`Parsed::diagnostics`] for errors.
    pub query: Option<Query>,
    /// Lexical and syntax diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans of `#` comments (trivia, not in the AST; [`crate::print()`] drops them).
    pub comments: Vec<Span>,
}

/// Parses a query (syntax only; [`crate::check()`] adds the semantic checks).
pub fn parse(src: &str) -> Parsed {
    let mut p = Parser::new(src);
    let query = p.parse_query(false);
    // the top-level loop always runs to the end of input, so every comment has been lexed
    let comments = p.lexer.comments().to_vec();
    let mut diagnostics = p.diags;
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Parsed {
        query: Some(query),
        diagnostics,
        comments,
    }
}

/// Marker for "a diagnostic was emitted; recover".
struct Fail;

type PResult<T> = Result<T, Fail>;

/// Words that cannot be plain field names where an expression starts.
const RESERVED: &[&str] = &["and", "or", "not", "like", "in", "as", "by"];

/// Tokens that end a command.
fn is_command_end(kind: &TokenKind) -> bool {
    matches!(kind, TokenKind::Pipe | TokenKind::Eof | TokenKind::RParen)
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Ident(s) => format!("`{s}`"),
        TokenKind::Backtick(s) => format!("`` `{s}` ``"),
        TokenKind::Str(_) => "a string".into(),
        TokenKind::Number(t, _) => format!("number `{t}`"),
        TokenKind::Period(p) => format!("time period `{}{}`", p.amount, p.unit.short()),
        TokenKind::Regex(..) => "a regex".into(),
        TokenKind::Pipe => "`|`".into(),
        TokenKind::Comma => "`,`".into(),
        TokenKind::LParen => "`(`".into(),
        TokenKind::RParen => "`)`".into(),
        TokenKind::LBracket => "`[`".into(),
        TokenKind::RBracket => "`]`".into(),
        TokenKind::Dot => "`.`".into(),
        TokenKind::Colon => "`:`".into(),
        TokenKind::Eq => "`=`".into(),
        TokenKind::NotEq => "`!=`".into(),
        TokenKind::Lt => "`<`".into(),
        TokenKind::LtEq => "`<=`".into(),
        TokenKind::Gt => "`>`".into(),
        TokenKind::GtEq => "`>=`".into(),
        TokenKind::RegexMatch => "`=~`".into(),
        TokenKind::Plus => "`+`".into(),
        TokenKind::Minus => "`-`".into(),
        TokenKind::Star => "`*`".into(),
        TokenKind::Slash => "`/`".into(),
        TokenKind::Percent => "`%`".into(),
        TokenKind::Caret => "`^`".into(),
        TokenKind::Eof => "end of query".into(),
        TokenKind::Error(_) => "invalid input".into(),
    }
}

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    buf: VecDeque<Token>,
    prev_end: usize,
    diags: Vec<Diagnostic>,
    depth: usize,
    /// Start offsets of error tokens already reported.
    reported: Vec<usize>,
    /// `(` consumed minus `)` consumed: lets recovery skip to the end of the command at the
    /// nesting level where the command started.
    open_parens: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            lexer: Lexer::new(src),
            buf: VecDeque::new(),
            prev_end: 0,
            diags: Vec::new(),
            depth: 0,
            reported: Vec::new(),
            open_parens: 0,
        }
    }

    // ----- token plumbing -------------------------------------------------------------

    fn fill(&mut self, n: usize) {
        while self.buf.len() <= n {
            let t = self.lexer.next_token();
            self.buf.push_back(t);
        }
    }

    fn peek(&mut self) -> &Token {
        self.peek_nth(0)
    }

    fn peek_nth(&mut self, n: usize) -> &Token {
        self.fill(n);
        &self.buf[n]
    }

    fn kind(&mut self) -> &TokenKind {
        &self.peek().kind
    }

    fn nth_kind(&mut self, n: usize) -> &TokenKind {
        &self.peek_nth(n).kind
    }

    fn span(&mut self) -> Span {
        self.peek().span
    }

    fn bump(&mut self) -> Token {
        self.fill(0);
        let t = match self.buf.pop_front() {
            Some(t) => t,
            None => Token {
                kind: TokenKind::Eof,
                span: self.eof_span(),
                space_before: true,
            },
        };
        if let TokenKind::Error(e) = &t.kind {
            let e = e.clone();
            self.report_lex_error(&e, t.span);
        }
        match t.kind {
            TokenKind::Eof => {}
            TokenKind::LParen => self.open_parens += 1,
            TokenKind::RParen => self.open_parens = self.open_parens.saturating_sub(1),
            _ => {}
        }
        if t.kind != TokenKind::Eof {
            self.prev_end = t.span.end;
        }
        t
    }

    fn at(&mut self, kind: &TokenKind) -> bool {
        self.kind() == kind
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Span> {
        if self.at(kind) {
            Some(self.bump().span)
        } else {
            None
        }
    }

    /// True when the current token is the identifier `word` (case-insensitive).
    fn at_word(&mut self, word: &str) -> bool {
        matches!(self.kind(), TokenKind::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    /// At a word after the end of a command: a misspelt keyword that may follow an
    /// expression there (`filter x lik 'a'`, `sort x dsc`, `x not lik 'a'`): its span, the
    /// word and what to write instead. QA, session 18: these were reported as a missing `|`.
    /// Session 19: negations (`unlike`, `nlike`, `notlike`, `nin`) are `not like`/`not in`,
    /// not their opposite; long forms (`descending`) their keyword; a word as near two
    /// keywords (`ass`) names both, unless one alone shares its first letter (`dsc`).
    /// Also SQL's words for what Logs Insights says otherwise (`is null`, `between`,
    /// `contains`, `matches`, `regexp`): the help says how.
    fn misspelt_keyword(&mut self, in_sort: bool) -> Option<(Span, String, String)> {
        /// Keywords that follow an expression.
        const AFTER_EXPRESSION: [&str; 9] =
            ["like", "desc", "asc", "and", "or", "not", "in", "as", "by"];
        // Only `sort` takes a direction, and only it never takes `as` or `by` (QA, session
        // 19: `stats count(*) ass n` named `asc` or `as`).
        let candidates: Vec<&'static str> = AFTER_EXPRESSION
            .into_iter()
            .filter(|k| match *k {
                "asc" | "desc" => in_sort,
                "as" | "by" => !in_sort,
                _ => true,
            })
            .collect();
        let near = |word: &str, keywords: &[&'static str]| -> Option<String> {
            let lower = word.to_ascii_lowercase();
            if AFTER_EXPRESSION.contains(&lower.as_str()) {
                return None;
            }
            // a negation run together: `unlike`, `nlike`, `notlike`, `not_like`, `nin`
            for (keyword, spelt) in [("like", "not like"), ("in", "not in")] {
                if keywords.contains(&keyword) {
                    if let Some(head) = lower.strip_suffix(keyword) {
                        if ["un", "n", "not", "not_", "not-"].contains(&head) {
                            return Some(spelt.to_owned());
                        }
                    }
                }
            }
            // a long form: `descending`, `ascending`
            for keyword in ["desc", "asc"] {
                if keywords.contains(&keyword)
                    && lower.len() > keyword.len() + 2
                    && lower.starts_with(keyword)
                {
                    return Some(keyword.to_owned());
                }
            }
            if lower.chars().count() == 2 {
                // a two-letter keyword with one letter wrong or a swap (`bu`, `yb`, `az`;
                // QA, session 20), when only one is that near
                let near: Vec<&str> = keywords
                    .iter()
                    .copied()
                    .filter(|k| k.len() == 2 && crate::suggest::edit_distance(&lower, k) == 1)
                    .collect();
                return match near.as_slice() {
                    [one] => Some((*one).to_owned()),
                    _ => None,
                };
            }
            if lower.chars().count() < 3 {
                return None;
            }
            let best = crate::suggest::edit_distance(
                &lower,
                did_you_mean(&lower, keywords.iter().copied())?,
            );
            let closest: Vec<&str> = keywords
                .iter()
                .copied()
                .filter(|k| crate::suggest::edit_distance(&lower, k) == best)
                .collect();
            let first = lower.chars().next();
            let same_start: Vec<&str> = closest
                .iter()
                .copied()
                .filter(|k| k.chars().next() == first)
                .collect();
            Some(match (same_start.as_slice(), closest.as_slice()) {
                ([one], _) | ([], [one]) => (*one).to_owned(),
                (some, _) if !some.is_empty() => some.join("` or `"),
                (_, all) => all.join("` or `"),
            })
        };
        let t = self.peek().clone();
        let TokenKind::Ident(word) = &t.kind else {
            return None;
        };
        let sql = match word.to_ascii_lowercase().as_str() {
            "is" => Some("Logs Insights has no `is null`: test a field with `ispresent(x)` or `not ispresent(x)`"),
            "between" => Some("Logs Insights has no `between`: write `x >= a and x <= b`"),
            "contains" => Some("a substring test is `x like 'text'` (case-sensitive; `x like /(?i)text/` for any case)"),
            "matches" | "regexp" | "rlike" | "similar" => Some("a regular expression test is `x like /regex/` or `x =~ /regex/`"),
            _ => None,
        };
        if let Some(help) = sql {
            return Some((t.span, word.clone(), help.to_owned()));
        }
        if word.eq_ignore_ascii_case("having") {
            return Some((
                t.span,
                word.clone(),
                "filter after `stats` with a command of its own: `| stats count(*) as n by x | filter n > 1`".to_owned(),
            ));
        }
        // SQL's two-word clauses (QA, session 19: `stats count(*) group by x`)
        if self.nth_is_word(1, "by") {
            let help = match word.to_ascii_lowercase().as_str() {
                "group" => Some("Logs Insights groups with `by` alone: `stats count(*) by x`"),
                "order" | "sort" => {
                    Some("Logs Insights sorts with a command of its own: `| sort x desc`")
                }
                "partition" => Some("Logs Insights groups with `by` alone: `stats count(*) by x`"),
                _ => None,
            };
            if let Some(help) = help {
                return Some((t.span, word.clone(), help.to_owned()));
            }
        }
        if matches!(self.nth_kind(1), TokenKind::LParen) {
            // a function call after an expression (`by eventName bin(5m)`), not a keyword
            return Some((
                t.span,
                word.clone(),
                "a function call here: is a `,` missing before it?".to_owned(),
            ));
        }
        // a command's name: the `|` before it is missing (QA, session 20: `fields x limit
        // 10` was asked for a `,`)
        if crate::commands::lookup(word).is_some() {
            return Some((
                t.span,
                word.clone(),
                format!("`{word}` is a command: is a `|` missing before it?"),
            ));
        }
        let did_you_mean = |k: String| format!("did you mean `{k}`?");
        if word.eq_ignore_ascii_case("not") {
            // `not` is a keyword; the word after it is what went wrong
            let next = self.peek_nth(1).clone();
            let TokenKind::Ident(after) = &next.kind else {
                // `x not = 'a'` (QA, session 20)
                return matches!(next.kind, TokenKind::Eq).then(|| {
                    (
                        next.span,
                        "=".to_owned(),
                        "`not equal` is written `!=`: `x != 'a'`".to_owned(),
                    )
                });
            };
            let lower = after.to_ascii_lowercase();
            let help = match lower.as_str() {
                // QA, session 20: `x not null`, `x not exists`, `x not between a and b`
                "null" | "exists" | "present" => {
                    "test a field with `ispresent(x)` or `not ispresent(x)`".to_owned()
                }
                "between" => "write `not (x >= a and x <= b)`".to_owned(),
                // QA, session 19: `not contains` got no hint
                "contains" => "a negated substring test is `x not like 'text'`".to_owned(),
                "matches" | "regexp" | "rlike" | "similar" => {
                    "a negated regular expression test is `x not like /regex/`".to_owned()
                }
                // `not unlike`, `not nin`: a negation already; `not like` would be the
                // opposite of what the two words say together (QA, session 19)
                "unlike" | "nlike" | "notlike" | "not_like" | "nin" | "notin" | "not_in" => {
                    let keyword = if lower.ends_with("like") {
                        "like"
                    } else {
                        "in"
                    };
                    format!("one negation is written `not {keyword}`; `not {after}` would mean `{keyword}`")
                }
                _ => match near(after, &["like", "in"]) {
                    Some(k) => did_you_mean(k),
                    // `x not startswith 'a'`: `not` after an expression only forms these two
                    None => "after an expression, `not` forms only `not like` and `not in`; \
                             `not` before a condition negates it: `not (…)`"
                        .to_owned(),
                },
            };
            return Some((next.span, after.clone(), help));
        }
        let keyword = near(word, &candidates)?;
        Some((t.span, word.clone(), did_you_mean(keyword)))
    }

    fn nth_is_word(&mut self, n: usize, word: &str) -> bool {
        matches!(self.nth_kind(n), TokenKind::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> Option<Span> {
        if self.at_word(word) {
            Some(self.bump().span)
        } else {
            None
        }
    }

    fn at_command_end(&mut self) -> bool {
        is_command_end(self.kind())
    }

    /// Re-lexes the current `/` token as a regex literal.
    fn relex_regex(&mut self) -> Token {
        self.fill(0);
        let (start, space) = (self.buf[0].span.start, self.buf[0].space_before);
        self.buf.clear();
        let t = self.lexer.lex_regex(start, space);
        self.buf.push_back(t);
        self.bump()
    }

    // ----- diagnostics ----------------------------------------------------------------

    fn report_lex_error(&mut self, e: &LexError, span: Span) {
        if self.reported.contains(&span.start) {
            return;
        }
        self.reported.push(span.start);
        let d = match e {
            LexError::UnterminatedString => Diagnostic::error(
                codes::UNTERMINATED_STRING,
                "unterminated string literal",
                Span::new(span.start, span.start + 1),
            )
            .with_primary_label("this quote is never closed")
            .with_help("close the string with the same quote character; escape quotes inside it with `\\`"),
            LexError::UnterminatedBacktick => Diagnostic::error(
                codes::UNTERMINATED_BACKTICK,
                "unterminated backtick-quoted name",
                Span::new(span.start, span.start + 1),
            )
            .with_primary_label("this backtick is never closed"),
            LexError::UnterminatedRegex => Diagnostic::error(
                codes::UNTERMINATED_REGEX,
                "unterminated regex literal",
                Span::new(span.start, span.start + 1),
            )
            .with_primary_label("this `/` starts a regex that is never closed")
            .with_help("end the regex with `/`; write a literal slash inside it as `\\/`"),
            LexError::UnexpectedChar { text, help } => {
                let d = Diagnostic::error(codes::UNEXPECTED_CHAR, format!("unexpected `{text}`"), span);
                if help.is_empty() {
                    d
                } else {
                    d.with_help(help.clone())
                }
            }
            LexError::BadNumber(text) => Diagnostic::error(
                codes::BAD_NUMBER,
                format!("malformed number or time period `{text}`"),
                span,
            )
            .with_help(
                "time periods are an integer and a unit: ms, s, m, h, d, w, mo, q, y (e.g. `5m`); names cannot start with a digit unless quoted with backticks",
            ),
            LexError::Parameter(name) => Diagnostic::error(
                codes::QUERY_PARAMETER,
                format!("query parameter `{{{{{name}}}}}` was not substituted"),
                span,
            )
            .with_help("parameters of saved query definitions are replaced by their values before the query runs"),
            LexError::BadRegexFlag(flag) => Diagnostic::error(
                codes::BAD_REGEX_FLAG,
                format!("unknown regex flag `{flag}`"),
                span,
            )
            .with_help("supported flags are i, m, s and x; AWS documents inline flags such as `(?i)` at the start of the pattern"),
        };
        self.diags.push(d);
    }

    /// Reports "expected X, found Y" at the current token (or its lexical error).
    fn expected(&mut self, what: &str) -> Fail {
        let t = self.peek().clone();
        if let TokenKind::Error(e) = &t.kind {
            self.report_lex_error(e, t.span);
            return Fail;
        }
        let span = if t.kind == TokenKind::Eof {
            self.eof_span()
        } else {
            t.span
        };
        self.diags.push(
            Diagnostic::error(
                codes::EXPECTED,
                format!("expected {what}, found {}", describe(&t.kind)),
                span,
            )
            .with_primary_label(format!("expected {what}")),
        );
        Fail
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> PResult<Span> {
        match self.eat(kind) {
            Some(s) => Ok(s),
            None => Err(self.expected(what)),
        }
    }

    fn expect_word(&mut self, word: &str) -> PResult<Span> {
        match self.eat_word(word) {
            Some(s) => Ok(s),
            None => Err(self.expected(&format!("`{word}`"))),
        }
    }

    /// Skips to the end of the current command: a `|` or `)` at the nesting level `base`
    /// where the command started, or the end of input.
    fn recover(&mut self, base: usize) {
        loop {
            let at_level = self.open_parens <= base;
            match self.kind() {
                TokenKind::Eof => return,
                TokenKind::Pipe | TokenKind::RParen if at_level => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// Where "end of query" errors point: just after the last non-whitespace character.
    fn eof_span(&self) -> Span {
        Span::point(self.src.trim_end().len())
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.span();
            self.diags.push(Diagnostic::error(
                codes::TOO_DEEP,
                format!("expression nested more than {MAX_DEPTH} levels deep"),
                span,
            ));
            self.depth -= 1;
            return Err(Fail);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- queries and commands --------------------------------------------------------

    fn parse_query(&mut self, nested: bool) -> Query {
        let mut commands = Vec::new();
        let base = self.open_parens;
        if let Some(span) = self.eat(&TokenKind::Pipe) {
            self.diags.push(
                Diagnostic::warning(
                    codes::LEADING_PIPE,
                    "leading `|` before the first command",
                    span,
                )
                .with_help("remove it; `|` separates commands")
                .with_note(
                    "AWS does not document whether a leading `|` is accepted; OpenWatch accepts it",
                ),
            );
        }
        loop {
            if self.at(&TokenKind::Eof) || (nested && self.at(&TokenKind::RParen)) {
                if commands.is_empty() {
                    let span = if self.at(&TokenKind::Eof) {
                        self.eof_span()
                    } else {
                        self.span()
                    };
                    self.diags.push(
                        Diagnostic::error(codes::EMPTY_QUERY, "the query has no commands", span)
                            .with_help(
                                "start with a command such as `fields @timestamp, @message`",
                            ),
                    );
                }
                break;
            }
            if !nested && self.at(&TokenKind::RParen) {
                let span = self.bump().span;
                self.diags.push(
                    Diagnostic::error(codes::UNMATCHED_PAREN, "unmatched `)`", span)
                        .with_primary_label("no `(` opens this"),
                );
                self.recover(base);
            } else if self.at(&TokenKind::Pipe) {
                // empty command between two pipes
                let span = self.span();
                self.diags.push(
                    Diagnostic::error(codes::EXPECTED, "expected a command, found `|`", span)
                        .with_primary_label("empty command"),
                );
            } else {
                match self.parse_command() {
                    Ok(c) => {
                        commands.push(c);
                        if !self.at_command_end() {
                            let t = self.peek().clone();
                            if let TokenKind::Error(e) = &t.kind {
                                self.report_lex_error(e, t.span);
                            } else if let Some((span, word, help)) =
                                self.misspelt_keyword(matches!(
                                    commands.last().map(|c: &Node<Command>| &c.node),
                                    Some(Command::Sort(_))
                                ))
                            {
                                self.diags.push(
                                    Diagnostic::error(
                                        codes::TRAILING_INPUT,
                                        format!("unexpected `{word}`"),
                                        span,
                                    )
                                    .with_primary_label("not a keyword")
                                    .with_help(help),
                                );
                            } else {
                                // a list command: more likely a missing comma (QA, session
                                // 19: `stats count(*) by eventName awsRegion`)
                                let list = matches!(
                                    commands.last().map(|c: &Node<Command>| &c.node),
                                    Some(
                                        Command::Fields(_)
                                            | Command::Display(_)
                                            | Command::Stats(_)
                                            | Command::Sort(_)
                                            | Command::Dedup(_)
                                    )
                                ) && matches!(
                                    t.kind,
                                    TokenKind::Ident(_) | TokenKind::Backtick(_)
                                );
                                self.diags.push(
                                    Diagnostic::error(
                                        codes::TRAILING_INPUT,
                                        format!(
                                            "unexpected {} after the end of the command",
                                            describe(&t.kind)
                                        ),
                                        t.span,
                                    )
                                    .with_help(if !list {
                                        "separate commands with `|`"
                                    } else if matches!(
                                        commands.last().map(|c: &Node<Command>| &c.node),
                                        Some(Command::Sort(_))
                                    ) {
                                        "a sort direction is `asc` or `desc`; or is a `,` missing before it?"
                                    } else {
                                        "is a `,` missing before it? (commands are separated with `|`)"
                                    }),
                                );
                            }
                            self.recover(base);
                        }
                    }
                    Err(Fail) => self.recover(base),
                }
            }
            // between commands
            if self.eat(&TokenKind::Pipe).is_some() {
                if self.at(&TokenKind::Eof) || (nested && self.at(&TokenKind::RParen)) {
                    let span = if self.at(&TokenKind::Eof) {
                        self.eof_span()
                    } else {
                        self.span()
                    };
                    self.diags.push(
                        Diagnostic::error(codes::EXPECTED, "expected a command after `|`", span)
                            .with_primary_label("expected a command"),
                    );
                    break;
                }
                continue;
            }
            if self.at(&TokenKind::Eof) || (nested && self.at(&TokenKind::RParen)) {
                break;
            }
        }
        Query { commands }
    }

    fn parse_command(&mut self) -> PResult<Node<Command>> {
        let tok = self.peek().clone();
        let word = match &tok.kind {
            TokenKind::Ident(w) => w.clone(),
            _ => return Err(self.expected("a command")),
        };
        let Some(spec) = commands::lookup(&word) else {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_COMMAND,
                format!("unknown command `{word}`"),
                tok.span,
            )
            .with_primary_label("not a Logs Insights command");
            let sql = match word.to_ascii_lowercase().as_str() {
                "order" => Some("Logs Insights sorts with `sort`: `| sort x desc`"),
                "group" => Some("Logs Insights groups inside `stats`: `| stats count(*) by x`"),
                "having" => Some("filter after `stats` with `filter`: `| stats count(*) as n by x | filter n > 1`"),
                "select" => Some("choose fields with `fields`: `| fields a, b`"),
                _ => None,
            };
            if let Some((_, replacement)) = commands::DEPRECATED
                .iter()
                .find(|(old, _)| old.eq_ignore_ascii_case(&word))
            {
                d = d.with_help(format!("`{word}` is deprecated; use `{replacement}`"));
            } else if let Some(help) = sql {
                d = d.with_help(help);
            } else if let Some(s) = did_you_mean(
                &word,
                commands::COMMANDS
                    .iter()
                    .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied())),
            ) {
                d = d.with_help(format!("did you mean `{s}`?"));
            } else if self.is_expression_continuation() {
                d = d.with_help(
                    "a query is a list of commands separated by `|`; did you forget `filter`?",
                );
            }
            self.diags.push(d);
            return Err(Fail);
        };
        let start = self.bump().span.start;
        let command = match spec.name {
            "fields" => Command::Fields(self.projection_list()?),
            "display" => Command::Display(self.projection_list()?),
            "filter" => Command::Filter(self.expr()?),
            "stats" => Command::Stats(self.stats()?),
            "sort" => Command::Sort(self.sort_keys()?),
            "limit" => Command::Limit(self.limit()?),
            "parse" => Command::Parse(self.parse_cmd()?),
            "dedup" => Command::Dedup(self.field_list(true)?),
            "unmask" => {
                if self.at_command_end() {
                    Command::Unmask(None)
                } else {
                    Command::Unmask(Some(self.field_name("a field name")?))
                }
            }
            "unnest" => {
                let input = self.expr()?;
                self.expect_word("into")?;
                let into = self.field_name("a field name after `into`")?;
                Command::Unnest { input, into }
            }
            "expand" => Command::Expand(self.field_name("a field name")?),
            "lookup" => Command::Lookup(self.lookup()?),
            "cidrlookup" => Command::CidrLookup(self.lookup()?),
            "join" => Command::Join(self.join()?),
            "SOURCE" => Command::Source(self.source()?),
            "filterIndex" => Command::FilterIndex(self.expr()?),
            "pattern" => Command::Pattern(self.expr()?),
            "anomaly" => Command::Anomaly,
            "diff" => Command::Diff(self.diff()?),
            "logcompare" => {
                self.expect_word("timeshift")?;
                Command::LogCompare {
                    timeshift: self.period("a time period such as `1d`")?,
                }
            }
            "accum" => {
                let field = self.field_name("a field name")?;
                let alias = self.opt_alias()?;
                Command::Accum { field, alias }
            }
            "autoregress" => self.autoregress()?,
            "filldown" => Command::Filldown(self.filldown()?),
            "fillmissing" => Command::FillMissing(self.fillmissing()?),
            "outlier" => Command::Outlier(self.outlier()?),
            "sessionize" => self.sessionize()?,
            "countFrequent" => Command::CountFrequent(self.field_list(true)?),
            "addtotals" => Command::AddTotals(self.addtotals()?),
            "appendcols" => Command::AppendCols(self.appendcols()?),
            "relevantfields" => Command::RelevantFields(self.field_list(false)?),
            other => {
                // The catalogue and this match are kept in sync by a unit test; reaching
                // here is a bug, reported rather than panicking.
                self.diags.push(Diagnostic::new(
                    ow_diagnostics::Severity::Bug,
                    codes::UNKNOWN_COMMAND,
                    format!("command `{other}` is catalogued but has no parser"),
                    tok.span,
                ));
                return Err(Fail);
            }
        };
        Ok(Node::new(command, Span::new(start, self.prev_end)))
    }

    /// After an unknown command word: does the next token look like an operator (the user
    /// wrote an expression where a command belongs)?
    fn is_expression_continuation(&mut self) -> bool {
        matches!(
            self.nth_kind(1),
            TokenKind::Eq
                | TokenKind::NotEq
                | TokenKind::Lt
                | TokenKind::LtEq
                | TokenKind::Gt
                | TokenKind::GtEq
                | TokenKind::RegexMatch
        ) || self.nth_is_word(1, "like")
            || self.nth_is_word(1, "in")
    }

    fn field_name(&mut self, what: &str) -> PResult<Node<Field>> {
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Ident(s) => {
                self.bump();
                Ok(Node::new(Field::new(s), t.span))
            }
            TokenKind::Backtick(s) => {
                self.bump();
                Ok(Node::new(Field::new(s), t.span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn opt_alias(&mut self) -> PResult<Option<Node<Field>>> {
        if self.eat_word("as").is_some() {
            Ok(Some(self.field_name("a name after `as`")?))
        } else {
            Ok(None)
        }
    }

    /// `f, g, …`; `required` demands at least one. Commas are optional between names.
    fn field_list(&mut self, required: bool) -> PResult<Vec<Node<Field>>> {
        let mut out = Vec::new();
        if !required && self.at_command_end() {
            return Ok(out);
        }
        loop {
            out.push(self.field_name("a field name")?);
            if self.eat(&TokenKind::Comma).is_some() {
                continue;
            }
            if matches!(self.kind(), TokenKind::Ident(_) | TokenKind::Backtick(_)) {
                continue;
            }
            return Ok(out);
        }
    }

    fn projection(&mut self) -> PResult<Node<Projection>> {
        let expr = self.expr()?;
        let alias = self.opt_alias()?;
        let span = Span::new(expr.span.start, self.prev_end);
        Ok(Node::new(Projection { expr, alias }, span))
    }

    fn projection_list(&mut self) -> PResult<Vec<Node<Projection>>> {
        let mut out = vec![self.projection()?];
        while self.eat(&TokenKind::Comma).is_some() {
            out.push(self.projection()?);
        }
        Ok(out)
    }

    fn stats(&mut self) -> PResult<Stats> {
        let aggregates = self.projection_list()?;
        let mut by = Vec::new();
        if self.eat_word("by").is_some() {
            by = self.projection_list()?;
        }
        let offset = if self.eat_word("offset").is_some() {
            Some(self.period("a time period after `offset`")?)
        } else {
            None
        };
        Ok(Stats {
            aggregates,
            by,
            offset,
        })
    }

    fn sort_keys(&mut self) -> PResult<Vec<Node<SortKey>>> {
        let mut out = Vec::new();
        if self.at_word("by") && !is_command_end(self.nth_kind(1)) {
            let span = self.span();
            self.diags.push(
                Diagnostic::error(codes::EXPECTED, "expected a sort key, found `by`", span)
                    .with_primary_label("`by` belongs to `stats`")
                    .with_help("write `sort <field> [asc|desc]`"),
            );
            return Err(Fail);
        }
        loop {
            let expr = self.expr()?;
            let order = if let Some(s) = self.eat_word("asc") {
                Some(Node::new(SortOrder::Asc, s))
            } else {
                self.eat_word("desc").map(|s| Node::new(SortOrder::Desc, s))
            };
            let span = Span::new(expr.span.start, self.prev_end);
            out.push(Node::new(SortKey { expr, order }, span));
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(out);
            }
        }
    }

    fn limit(&mut self) -> PResult<Limit> {
        if self.eat_word("any").is_some() {
            return Ok(Limit::Any);
        }
        Ok(Limit::Count(self.integer("a row count or `any`")?))
    }

    /// A non-negative integer literal.
    fn integer(&mut self, what: &str) -> PResult<Node<u64>> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Number(text, v) => {
                self.bump();
                if let Ok(exact) = text.parse::<u64>() {
                    return Ok(Node::new(exact, t.span));
                }
                if v.fract() != 0.0 || *v < 0.0 || *v > u64::MAX as f64 {
                    self.diags.push(
                        Diagnostic::error(
                            codes::BAD_VALUE,
                            format!("expected a whole number, found `{text}`"),
                            t.span,
                        )
                        .with_primary_label("not a whole number"),
                    );
                    return Err(Fail);
                }
                Ok(Node::new(*v as u64, t.span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn number_lit(&mut self, what: &str) -> PResult<Node<Number>> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Number(text, v) => {
                self.bump();
                Ok(Node::new(
                    Number {
                        text: text.clone(),
                        value: *v,
                    },
                    t.span,
                ))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn period(&mut self, what: &str) -> PResult<Node<Period>> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Period(p) => {
                self.bump();
                Ok(Node::new(*p, t.span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn bool_lit(&mut self, what: &str) -> PResult<Node<bool>> {
        if let Some(s) = self.eat_word("true") {
            Ok(Node::new(true, s))
        } else if let Some(s) = self.eat_word("false") {
            Ok(Node::new(false, s))
        } else {
            Err(self.expected(what))
        }
    }

    fn parse_cmd(&mut self) -> PResult<Parse> {
        // optional field: a name followed by the pattern
        let field = match (self.kind().clone(), self.nth_kind(1).clone()) {
            (
                TokenKind::Ident(_) | TokenKind::Backtick(_),
                TokenKind::Str(_) | TokenKind::Slash,
            ) => Some(self.field_name("a field name")?),
            (TokenKind::Ident(_) | TokenKind::Backtick(_), TokenKind::Ident(w))
                if w.eq_ignore_ascii_case("logfmt") || w.eq_ignore_ascii_case("csv") =>
            {
                Some(self.field_name("a field name")?)
            }
            // `parse @message` with nothing after it: the field is there, the pattern is not
            (TokenKind::Ident(w), next)
                if is_command_end(&next)
                    && !w.eq_ignore_ascii_case("logfmt")
                    && !w.eq_ignore_ascii_case("csv") =>
            {
                Some(self.field_name("a field name")?)
            }
            (TokenKind::Backtick(_), next) if is_command_end(&next) => {
                Some(self.field_name("a field name")?)
            }
            _ => None,
        };
        let t = self.peek().clone();
        let mode = match &t.kind {
            TokenKind::Str(s) => {
                self.bump();
                let pattern = Node::new(s.clone(), t.span);
                self.expect_word("as")?;
                let names = self.name_list()?;
                ParseMode::Glob { pattern, names }
            }
            TokenKind::Slash => {
                let rt = self.relex_regex();
                let regex = match rt.kind {
                    TokenKind::Regex(pattern, flags) => {
                        Node::new(RegexLit { pattern, flags }, rt.span)
                    }
                    _ => return Err(Fail),
                };
                let multi = self.eat_word("multi").is_some();
                ParseMode::Regex { regex, multi }
            }
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("logfmt") => {
                self.bump();
                let names = if self.eat_word("as").is_some() {
                    self.name_list()?
                } else {
                    Vec::new()
                };
                ParseMode::Logfmt { names }
            }
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("csv") => {
                self.bump();
                let names = if self.eat_word("as").is_some() {
                    self.name_list()?
                } else {
                    Vec::new()
                };
                ParseMode::Csv { names }
            }
            _ => {
                let f = self.expected("a glob string, a /regex/, `logfmt` or `csv`");
                if let Some(last) = self.diags.last_mut() {
                    last.help.push("write `parse [field] \"pattern with *\" as name, …` or `parse [field] /(?<name>…)/`".into());
                }
                return Err(f);
            }
        };
        Ok(Parse { field, mode })
    }

    fn name_list(&mut self) -> PResult<Vec<Node<Field>>> {
        let mut out = vec![self.field_name("a name")?];
        while self.eat(&TokenKind::Comma).is_some() {
            out.push(self.field_name("a name")?);
        }
        Ok(out)
    }

    fn lookup(&mut self) -> PResult<Lookup> {
        let t = self.peek().clone();
        let table = match &t.kind {
            TokenKind::Ident(s) | TokenKind::Backtick(s) | TokenKind::Str(s) => {
                self.bump();
                Node::new(s.clone(), t.span)
            }
            _ => return Err(self.expected("a lookup table name")),
        };
        let field = self.field_name("the event field to match")?;
        let table_column = self.opt_alias()?;
        let mode = if let Some(s) = self.eat_word("output") {
            Node::new(LookupMode::Output, s)
        } else if let Some(s) = self.eat_word("outputnew") {
            Node::new(LookupMode::OutputNew, s)
        } else {
            return Err(self.expected("`OUTPUT` or `OUTPUTNEW`"));
        };
        let mut outputs = Vec::new();
        loop {
            let column = self.field_name("a lookup table column")?;
            let alias = self.opt_alias()?;
            let span = Span::new(column.span.start, self.prev_end);
            outputs.push(Node::new(LookupOutput { column, alias }, span));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        Ok(Lookup {
            table,
            field,
            table_column,
            mode,
            outputs,
        })
    }

    /// `name=` at the current position (an option of join/outlier/addtotals/appendcols …).
    fn at_option(&mut self) -> Option<String> {
        match (self.kind().clone(), self.nth_kind(1).clone()) {
            (TokenKind::Ident(name), TokenKind::Eq) => Some(name.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn duplicate_option<T>(&mut self, slot: &Option<T>, name: &str, span: Span) -> PResult<()> {
        if slot.is_some() {
            self.diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_OPTION,
                    format!("option `{name}` given more than once"),
                    span,
                )
                .with_primary_label("repeated here"),
            );
            return Err(Fail);
        }
        Ok(())
    }

    fn unknown_option(&mut self, name: &str, span: Span, known: &[&str]) -> Fail {
        let mut d = Diagnostic::error(
            codes::UNKNOWN_OPTION,
            format!("unknown option `{name}`"),
            span,
        )
        .with_help(format!("options here: {}", known.join(", ")));
        if let Some(s) = did_you_mean(name, known.iter().copied()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.diags.push(d);
        Fail
    }

    /// An identifier value (`left=api`).
    fn ident_value(&mut self, what: &str) -> PResult<Node<String>> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Ident(s) | TokenKind::Backtick(s) => {
                self.bump();
                Ok(Node::new(s.clone(), t.span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn join(&mut self) -> PResult<Join> {
        let (mut kind, mut left, mut right) = (None, None, None);
        while let Some(name) = self.at_option() {
            let name_span = self.bump().span;
            self.bump(); // `=`
            match name.as_str() {
                "type" => {
                    self.duplicate_option(&kind, "type", name_span)?;
                    let v = self.ident_value("`inner` or `left`")?;
                    let k = match v.node.to_ascii_lowercase().as_str() {
                        "inner" => JoinKind::Inner,
                        "left" => JoinKind::Left,
                        _ => {
                            self.diags.push(
                                Diagnostic::error(
                                    codes::BAD_VALUE,
                                    format!("unknown join type `{}`", v.node),
                                    v.span,
                                )
                                .with_help("join types are `inner` (default) and `left`"),
                            );
                            return Err(Fail);
                        }
                    };
                    kind = Some(Node::new(k, Span::new(name_span.start, v.span.end)));
                }
                "left" => {
                    self.duplicate_option(&left, "left", name_span)?;
                    left = Some(self.ident_value("an alias for the left side")?);
                }
                "right" => {
                    self.duplicate_option(&right, "right", name_span)?;
                    right = Some(self.ident_value("an alias for the right side")?);
                }
                _ => return Err(self.unknown_option(&name, name_span, &["type", "left", "right"])),
            }
        }
        let Some(left) = left else {
            return Err(self.expected("`left=<alias>`"));
        };
        let Some(right) = right else {
            return Err(self.expected("`right=<alias>`"));
        };
        self.expect_word("where")?;
        let condition = self.expr()?;
        let subquery = self.paren_subquery()?;
        Ok(Join {
            kind,
            left,
            right,
            condition,
            subquery,
        })
    }

    /// `( <query> )`
    fn paren_subquery(&mut self) -> PResult<Node<Query>> {
        let open = self.expect(&TokenKind::LParen, "`(` starting a subquery")?;
        self.enter()?;
        let q = self.parse_query(true);
        self.leave();
        let close = match self.eat(&TokenKind::RParen) {
            Some(s) => s,
            None => {
                let f = self.expected("`)` closing the subquery");
                if let Some(d) = self.diags.last_mut() {
                    d.labels.push(ow_diagnostics::Label {
                        span: open,
                        message: "subquery opened here".into(),
                    });
                }
                return Err(f);
            }
        };
        Ok(Node::new(q, Span::new(open.start, close.end)))
    }

    fn source(&mut self) -> PResult<Source> {
        let t = self.peek().clone();
        let selector = match &t.kind {
            TokenKind::Str(_) | TokenKind::Backtick(_) => {
                let mut names = Vec::new();
                loop {
                    let t = self.peek().clone();
                    match &t.kind {
                        TokenKind::Str(s) | TokenKind::Backtick(s) => {
                            self.bump();
                            names.push(Node::new(s.clone(), t.span));
                        }
                        _ => break,
                    }
                    self.eat(&TokenKind::Comma);
                }
                SourceSelector::Names(names)
            }
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("logGroups") => {
                self.bump();
                self.expect(&TokenKind::LParen, "`(` after `logGroups`")?;
                let mut args = Vec::new();
                while !self.at(&TokenKind::RParen) {
                    let name = self.ident_value("an argument name such as `namePrefix`")?;
                    self.expect(&TokenKind::Colon, "`:` after the argument name")?;
                    let value = self.expr()?;
                    let span = Span::new(name.span.start, value.span.end);
                    args.push(Node::new(SourceArg { name, value }, span));
                    if self.eat(&TokenKind::Comma).is_none() {
                        break;
                    }
                }
                self.expect(&TokenKind::RParen, "`)` closing `logGroups(`")?;
                SourceSelector::LogGroups(args)
            }
            _ => return Err(self.expected("a log group name in quotes or `logGroups(…)`")),
        };
        let (mut start, mut end) = (None, None);
        while let Some(name) = self.at_option() {
            let name_span = self.bump().span;
            self.bump();
            match name.as_str() {
                "start" => {
                    self.duplicate_option(&start, "start", name_span)?;
                    start = Some(self.time_bound()?);
                }
                "end" => {
                    self.duplicate_option(&end, "end", name_span)?;
                    end = Some(self.time_bound()?);
                }
                _ => return Err(self.unknown_option(&name, name_span, &["start", "end"])),
            }
        }
        Ok(Source {
            selector,
            start,
            end,
        })
    }

    fn time_bound(&mut self) -> PResult<Node<TimeBound>> {
        if let Some(s) = self.eat_word("now") {
            return Ok(Node::new(TimeBound::Now, s));
        }
        let minus = self.eat(&TokenKind::Minus);
        let p = self.period("`now` or a relative time such as `-1d`")?;
        let start = minus.map_or(p.span.start, |s| s.start);
        Ok(Node::new(
            TimeBound::Relative {
                negative: minus.is_some(),
                period: p.node,
            },
            Span::new(start, p.span.end),
        ))
    }

    fn diff(&mut self) -> PResult<Option<Node<DiffBaseline>>> {
        if self.at_command_end() {
            return Ok(None);
        }
        let v = self.ident_value("`previousDay`, `previousWeek` or `previousMonth`")?;
        let b = match v.node.to_ascii_lowercase().as_str() {
            "previousday" => DiffBaseline::PreviousDay,
            "previousweek" => DiffBaseline::PreviousWeek,
            "previousmonth" => DiffBaseline::PreviousMonth,
            _ => {
                let mut d = Diagnostic::error(codes::BAD_VALUE, format!("unknown diff baseline `{}`", v.node), v.span)
                    .with_help("use `previousDay`, `previousWeek`, `previousMonth`, or nothing for the preceding window");
                if let Some(s) = did_you_mean(
                    &v.node,
                    ["previousDay", "previousWeek", "previousMonth"].into_iter(),
                ) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.diags.push(d);
                return Err(Fail);
            }
        };
        Ok(Some(Node::new(b, v.span)))
    }

    fn autoregress(&mut self) -> PResult<Command> {
        let field = self.field_name("a field name")?;
        let mut alias = None;
        let mut lags: Option<Node<LagRange>> = None;
        loop {
            if self.at_word("as") {
                let s = self.span();
                self.duplicate_option(&alias, "as", s)?;
                alias = self.opt_alias()?;
            } else if let Some(name) = self.at_option() {
                let name_span = self.bump().span;
                self.bump();
                if name != "p" {
                    return Err(self.unknown_option(&name, name_span, &["p"]));
                }
                self.duplicate_option(&lags, "p", name_span)?;
                let from = self.integer("a lag such as `1` or `1-4`")?;
                let to = if self.eat(&TokenKind::Minus).is_some() {
                    self.integer("the last lag")?
                } else {
                    from.clone()
                };
                let span = Span::new(name_span.start, to.span.end);
                if from.node == 0 || to.node < from.node {
                    self.diags.push(
                        Diagnostic::error(
                            codes::BAD_LIMIT,
                            "lags must satisfy 1 <= first <= last",
                            span,
                        )
                        .with_help("write `p=1` or a range such as `p=1-4`"),
                    );
                    return Err(Fail);
                }
                lags = Some(Node::new(
                    LagRange {
                        from: from.node,
                        to: to.node,
                    },
                    span,
                ));
            } else {
                break;
            }
        }
        Ok(Command::Autoregress { field, alias, lags })
    }

    fn filldown(&mut self) -> PResult<Vec<Node<FieldPattern>>> {
        let mut out = Vec::new();
        while !self.at_command_end() {
            // glue adjacent name pieces and `*`s into one pattern: `cpu*`, `*_ms`, `a*b`
            let first = self.peek().clone();
            let mut text = String::new();
            let mut end = first.span.end;
            let mut first_piece = true;
            loop {
                let t = self.peek().clone();
                if !first_piece && (t.space_before || t.span.start != end) {
                    break;
                }
                match &t.kind {
                    TokenKind::Ident(s) | TokenKind::Backtick(s) => text.push_str(s),
                    TokenKind::Star => text.push('*'),
                    _ if first_piece => {
                        return Err(self.expected("a field name or pattern such as `cpu*`"))
                    }
                    _ => break,
                }
                self.bump();
                end = t.span.end;
                first_piece = false;
            }
            out.push(Node::new(
                FieldPattern { pattern: text },
                Span::new(first.span.start, end),
            ));
            self.eat(&TokenKind::Comma);
        }
        Ok(out)
    }

    fn fillmissing(&mut self) -> PResult<Vec<Node<Fill>>> {
        let mut out = Vec::new();
        if self.at_command_end() {
            return Ok(out);
        }
        let first = self.expect_word("with")?;
        let mut start = first.start;
        loop {
            let value = self.expr()?;
            self.expect_word("for")?;
            let field = self.field_name("the field to fill")?;
            out.push(Node::new(
                Fill { value, field },
                Span::new(start, self.prev_end),
            ));
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(out);
            }
            start = self.span().start;
            self.eat_word("with");
        }
    }

    fn outlier(&mut self) -> PResult<Outlier> {
        let mut o = Outlier {
            action: None,
            param: None,
            uselower: None,
            mark: None,
            fields: Vec::new(),
        };
        while let Some(name) = self.at_option() {
            let name_span = self.bump().span;
            self.bump();
            match name.as_str() {
                "action" => {
                    self.duplicate_option(&o.action, "action", name_span)?;
                    let v = self.ident_value("`remove` or `transform`")?;
                    let a = match v.node.to_ascii_lowercase().as_str() {
                        "remove" => OutlierAction::Remove,
                        "transform" => OutlierAction::Transform,
                        _ => {
                            self.diags.push(
                                Diagnostic::error(
                                    codes::BAD_VALUE,
                                    format!("unknown outlier action `{}`", v.node),
                                    v.span,
                                )
                                .with_help("actions are `remove` and `transform` (default)"),
                            );
                            return Err(Fail);
                        }
                    };
                    o.action = Some(Node::new(a, v.span));
                }
                "param" => {
                    self.duplicate_option(&o.param, "param", name_span)?;
                    o.param = Some(self.number_lit("a number such as `2.5`")?);
                }
                "uselower" => {
                    self.duplicate_option(&o.uselower, "uselower", name_span)?;
                    o.uselower = Some(self.bool_lit("`true` or `false`")?);
                }
                "mark" => {
                    self.duplicate_option(&o.mark, "mark", name_span)?;
                    o.mark = Some(self.bool_lit("`true` or `false`")?);
                }
                _ => {
                    return Err(self.unknown_option(
                        &name,
                        name_span,
                        &["action", "param", "uselower", "mark"],
                    ))
                }
            }
        }
        o.fields = self.field_list(true)?;
        Ok(o)
    }

    fn sessionize(&mut self) -> PResult<Command> {
        let mut keys = vec![self.field_name("a field name")?];
        while self.eat(&TokenKind::Comma).is_some() {
            keys.push(self.field_name("a field name")?);
        }
        let (mut maxspan, mut alias) = (None, None);
        loop {
            if self.at_word("maxspan") {
                let s = self.bump().span;
                self.duplicate_option(&maxspan, "maxspan", s)?;
                self.eat(&TokenKind::Eq);
                maxspan = Some(self.period("a time period such as `30m`")?);
            } else if self.at_word("as") {
                let s = self.span();
                self.duplicate_option(&alias, "as", s)?;
                alias = self.opt_alias()?;
            } else {
                break;
            }
        }
        Ok(Command::Sessionize {
            keys,
            maxspan,
            alias,
        })
    }

    fn addtotals(&mut self) -> PResult<AddTotals> {
        let mut a = AddTotals {
            fieldname: None,
            row: None,
            col: None,
            fields: Vec::new(),
        };
        while let Some(name) = self.at_option() {
            let name_span = self.bump().span;
            self.bump();
            match name.as_str() {
                "fieldname" => {
                    self.duplicate_option(&a.fieldname, "fieldname", name_span)?;
                    let t = self.peek().clone();
                    a.fieldname = Some(match &t.kind {
                        TokenKind::Str(s) => {
                            self.bump();
                            Node::new(Field::new(s.clone()), t.span)
                        }
                        _ => self.field_name("a column name")?,
                    });
                }
                "row" => {
                    self.duplicate_option(&a.row, "row", name_span)?;
                    a.row = Some(self.bool_lit("`true` or `false`")?);
                }
                "col" => {
                    self.duplicate_option(&a.col, "col", name_span)?;
                    a.col = Some(self.bool_lit("`true` or `false`")?);
                }
                _ => {
                    return Err(self.unknown_option(&name, name_span, &["fieldname", "row", "col"]))
                }
            }
        }
        a.fields = self.field_list(false)?;
        Ok(a)
    }

    fn appendcols(&mut self) -> PResult<AppendCols> {
        let (mut override_, mut max) = (None, None);
        while let Some(name) = self.at_option() {
            let name_span = self.bump().span;
            self.bump();
            match name.as_str() {
                "override" => {
                    self.duplicate_option(&override_, "override", name_span)?;
                    override_ = Some(self.bool_lit("`true` or `false`")?);
                }
                "max" => {
                    self.duplicate_option(&max, "max", name_span)?;
                    max = Some(self.integer("a row count")?);
                }
                _ => return Err(self.unknown_option(&name, name_span, &["override", "max"])),
            }
        }
        let subquery = self.paren_subquery()?;
        Ok(AppendCols {
            override_,
            max,
            subquery,
        })
    }

    // ----- expressions ------------------------------------------------------------------

    /// A full expression (lowest precedence: `or`).
    fn expr(&mut self) -> PResult<Node<Expr>> {
        self.enter()?;
        let r = self.or_expr();
        self.leave();
        r
    }

    fn binary(op: BinaryOp, lhs: Node<Expr>, rhs: Node<Expr>) -> Node<Expr> {
        let span = lhs.span.to(rhs.span);
        Node::new(
            Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        )
    }

    fn or_expr(&mut self) -> PResult<Node<Expr>> {
        let mut lhs = self.and_expr()?;
        while self.eat_word("or").is_some() {
            let rhs = self.and_expr()?;
            lhs = Self::binary(BinaryOp::Or, lhs, rhs);
        }
        Ok(lhs)
    }

    fn and_expr(&mut self) -> PResult<Node<Expr>> {
        let mut lhs = self.not_expr()?;
        while self.eat_word("and").is_some() {
            let rhs = self.not_expr()?;
            lhs = Self::binary(BinaryOp::And, lhs, rhs);
        }
        Ok(lhs)
    }

    fn not_expr(&mut self) -> PResult<Node<Expr>> {
        // `not` as prefix, but not `not like` / `not in` (those are infix and need a lhs)
        if self.at_word("not") && !self.nth_is_word(1, "like") && !self.nth_is_word(1, "in") {
            let start = self.bump().span.start;
            self.enter()?;
            let operand = self.not_expr();
            self.leave();
            let operand = operand?;
            let span = Span::new(start, operand.span.end);
            return Ok(Node::new(
                Expr::Unary {
                    op: UnaryOp::Not,
                    expr: Box::new(operand),
                },
                span,
            ));
        }
        self.comparison()
    }

    fn comparison_op(&mut self) -> Option<(BinaryOp, usize)> {
        let op = match self.kind() {
            TokenKind::Eq => BinaryOp::Eq,
            TokenKind::NotEq => BinaryOp::NotEq,
            TokenKind::Lt => BinaryOp::Lt,
            TokenKind::LtEq => BinaryOp::LtEq,
            TokenKind::Gt => BinaryOp::Gt,
            TokenKind::GtEq => BinaryOp::GtEq,
            TokenKind::RegexMatch => BinaryOp::RegexMatch,
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("like") => BinaryOp::Like,
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("in") => BinaryOp::In,
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("not") => {
                if self.nth_is_word(1, "like") {
                    return Some((BinaryOp::NotLike, 2));
                } else if self.nth_is_word(1, "in") {
                    return Some((BinaryOp::NotIn, 2));
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        Some((op, 1))
    }

    fn comparison(&mut self) -> PResult<Node<Expr>> {
        let lhs = self.additive()?;
        let Some((op, ntok)) = self.comparison_op() else {
            return Ok(lhs);
        };
        let op_span = self.span();
        for _ in 0..ntok {
            self.bump();
        }
        if matches!(op, BinaryOp::In | BinaryOp::NotIn)
            && self.at(&TokenKind::LParen)
            && !self.at_subquery()
            && self.parenthesised_list()
        {
            // SQL's `x in ('a', 'b')` (QA, session 20): a list is in brackets
            let span = self.span();
            self.diags.push(
                Diagnostic::error(
                    codes::EXPECTED,
                    "a list after `in` is written in brackets, not parentheses",
                    span,
                )
                .with_primary_label("`(` opens a list here")
                .with_help("write `x in ['a', 'b']`"),
            );
            return Err(Fail);
        }
        let rhs = if matches!(op, BinaryOp::In | BinaryOp::NotIn) && self.at_subquery() {
            let q = self.paren_subquery()?;
            let span = q.span;
            Node::new(Expr::Subquery(Box::new(q)), span)
        } else {
            self.additive()?
        };
        if let Some((_, _)) = self.comparison_op() {
            let span = self.span();
            self.diags.push(
                Diagnostic::error(
                    codes::CHAINED_COMPARISON,
                    "comparison operators cannot be chained",
                    span,
                )
                .with_label(op_span, "first comparison")
                .with_help("combine comparisons with `and`, e.g. `a < b and b < c`"),
            );
            return Err(Fail);
        }
        Ok(Self::binary(op, lhs, rhs))
    }

    /// At `(`: a `,` before its matching `)` (looking at most 256 tokens ahead), as in
    /// SQL's `x in ('a', 'b')`.
    fn parenthesised_list(&mut self) -> bool {
        let mut depth = 0usize;
        for n in 0..256 {
            match self.nth_kind(n) {
                TokenKind::LParen | TokenKind::LBracket => depth += 1,
                TokenKind::RParen | TokenKind::RBracket => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return false;
                    }
                }
                TokenKind::Comma if depth == 1 => return true,
                TokenKind::Eof | TokenKind::Pipe => return false,
                _ => {}
            }
        }
        false
    }

    /// `(` followed by a command word starts a subquery (`filter x in (SOURCE … | …)`).
    fn at_subquery(&mut self) -> bool {
        if !self.at(&TokenKind::LParen) {
            return false;
        }
        let word = match self.nth_kind(1) {
            TokenKind::Ident(w) => w.clone(),
            _ => return false,
        };
        if commands::lookup(&word).is_none() {
            return false;
        }
        // `(unmask(x))` is a call of the function `unmask`, `(filter)` a parenthesised field
        let third = self.peek_nth(2);
        match third.kind {
            TokenKind::RParen | TokenKind::Comma => false,
            TokenKind::LParen => third.space_before,
            _ => true,
        }
    }

    fn additive(&mut self) -> PResult<Node<Expr>> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.kind() {
                TokenKind::Plus => BinaryOp::Add,
                TokenKind::Minus => BinaryOp::Sub,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.multiplicative()?;
            lhs = Self::binary(op, lhs, rhs);
        }
    }

    fn multiplicative(&mut self) -> PResult<Node<Expr>> {
        let mut lhs = self.power()?;
        loop {
            let op = match self.kind() {
                TokenKind::Star => BinaryOp::Mul,
                TokenKind::Slash => BinaryOp::Div,
                TokenKind::Percent => BinaryOp::Mod,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.power()?;
            lhs = Self::binary(op, lhs, rhs);
        }
    }

    fn power(&mut self) -> PResult<Node<Expr>> {
        let lhs = self.unary()?;
        if self.eat(&TokenKind::Caret).is_some() {
            self.enter()?;
            let rhs = self.power();
            self.leave();
            return Ok(Self::binary(BinaryOp::Pow, lhs, rhs?));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Node<Expr>> {
        if let Some(s) = self.eat(&TokenKind::Minus) {
            self.enter()?;
            let operand = self.unary();
            self.leave();
            let operand = operand?;
            let span = Span::new(s.start, operand.span.end);
            return Ok(Node::new(
                Expr::Unary {
                    op: UnaryOp::Neg,
                    expr: Box::new(operand),
                },
                span,
            ));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> PResult<Node<Expr>> {
        let mut e = self.primary()?;
        loop {
            match self.kind() {
                TokenKind::LBracket => {
                    self.bump();
                    let index = self.expr()?;
                    let close = self.expect(&TokenKind::RBracket, "`]`")?;
                    let span = Span::new(e.span.start, close.end);
                    e = Node::new(
                        Expr::Index {
                            base: Box::new(e),
                            index: Box::new(index),
                        },
                        span,
                    );
                }
                TokenKind::Dot => {
                    self.bump();
                    let t = self.peek().clone();
                    match &t.kind {
                        TokenKind::Backtick(name) => {
                            self.bump();
                            let span = Span::new(e.span.start, t.span.end);
                            e = Node::new(
                                Expr::Member {
                                    base: Box::new(e),
                                    name: Node::new(name.clone(), t.span),
                                },
                                span,
                            );
                        }
                        TokenKind::Ident(path) => {
                            self.bump();
                            // `l[0].a.b` is two member accesses
                            let mut offset = t.span.start;
                            for seg in path.split('.') {
                                let seg_span = Span::new(offset, offset + seg.len());
                                offset += seg.len() + 1;
                                let span = Span::new(e.span.start, seg_span.end);
                                e = Node::new(
                                    Expr::Member {
                                        base: Box::new(e),
                                        name: Node::new(seg.to_string(), seg_span),
                                    },
                                    span,
                                );
                            }
                        }
                        _ => return Err(self.expected("a key name after `.`")),
                    }
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> PResult<Node<Expr>> {
        let t = self.peek().clone();
        let lit = |l: Literal| Ok(Node::new(Expr::Literal(l), t.span));
        match &t.kind {
            TokenKind::Number(text, v) => {
                self.bump();
                lit(Literal::Number(Number {
                    text: text.clone(),
                    value: *v,
                }))
            }
            TokenKind::Period(p) => {
                self.bump();
                lit(Literal::Period(*p))
            }
            TokenKind::Str(s) => {
                self.bump();
                lit(Literal::String(s.clone()))
            }
            TokenKind::Slash => {
                let rt = self.relex_regex();
                match rt.kind {
                    TokenKind::Regex(pattern, flags) => Ok(Node::new(
                        Expr::Literal(Literal::Regex(RegexLit { pattern, flags })),
                        rt.span,
                    )),
                    _ => Err(Fail),
                }
            }
            TokenKind::Backtick(name) => {
                self.bump();
                Ok(Node::new(Expr::Field(Field::new(name.clone())), t.span))
            }
            TokenKind::LBracket => {
                self.bump();
                self.enter()?;
                let r = self.list_rest(t.span.start);
                self.leave();
                r
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.expr()?;
                let close = match self.eat(&TokenKind::RParen) {
                    Some(c) => c,
                    None => {
                        let f = self.expected("`)`");
                        if let Some(d) = self.diags.last_mut() {
                            d.labels.push(ow_diagnostics::Label {
                                span: t.span,
                                message: "opened here".into(),
                            });
                        }
                        return Err(f);
                    }
                };
                Ok(Node::new(inner.node, Span::new(t.span.start, close.end)))
            }
            TokenKind::Ident(word) => {
                let word = word.clone();
                // `name(` is a call; with a space before `(` only for a known function without
                // dots, so `where a.x = b.y (SOURCE …)` in `join` stays a field.
                if self.nth_kind(1) == &TokenKind::LParen {
                    let adjacent = !self.peek_nth(1).space_before;
                    if adjacent || (!word.contains('.') && functions::lookup(&word).is_some()) {
                        return self.call(word, t.span);
                    }
                }
                let lower = word.to_ascii_lowercase();
                if lower == "true" || lower == "false" {
                    self.bump();
                    return lit(Literal::Bool(lower == "true"));
                }
                if RESERVED.contains(&lower.as_str()) {
                    let f = self.expected("an expression");
                    if let Some(d) = self.diags.last_mut() {
                        d.help.push(format!("`{word}` is a keyword; quote a field of that name with backticks: `{word}`"));
                    }
                    return Err(f);
                }
                self.bump();
                Ok(Node::new(Expr::Field(Field::new(word)), t.span))
            }
            TokenKind::Star => {
                let f = self.expected("an expression");
                if let Some(d) = self.diags.last_mut() {
                    d.help.push("`*` is only valid as `count(*)`".into());
                }
                Err(f)
            }
            _ => Err(self.expected("an expression")),
        }
    }

    fn list_rest(&mut self, start: usize) -> PResult<Node<Expr>> {
        let mut items = Vec::new();
        loop {
            if let Some(close) = self.eat(&TokenKind::RBracket) {
                return Ok(Node::new(Expr::List(items), Span::new(start, close.end)));
            }
            items.push(self.expr()?);
            if self.eat(&TokenKind::Comma).is_none() {
                let close = self.expect(&TokenKind::RBracket, "`,` or `]`")?;
                return Ok(Node::new(Expr::List(items), Span::new(start, close.end)));
            }
        }
    }

    fn call(&mut self, written: String, name_span: Span) -> PResult<Node<Expr>> {
        self.bump(); // name
        self.bump(); // (
        self.enter()?;
        let r = self.call_args();
        self.leave();
        let (args, close) = r?;
        let name = functions::lookup(&written)
            .map_or_else(|| written.to_ascii_lowercase(), |f| f.name.to_string());
        Ok(Node::new(
            Expr::Call(Call {
                name,
                written: Node::new(written, name_span),
                args,
            }),
            Span::new(name_span.start, close.end),
        ))
    }

    fn call_args(&mut self) -> PResult<(Vec<Node<Expr>>, Span)> {
        let mut args = Vec::new();
        loop {
            if let Some(close) = self.eat(&TokenKind::RParen) {
                return Ok((args, close));
            }
            if self.at(&TokenKind::Star)
                && matches!(self.nth_kind(1), TokenKind::RParen | TokenKind::Comma)
            {
                let s = self.bump().span;
                args.push(Node::new(Expr::Star, s));
            } else {
                args.push(self.expr()?);
            }
            if self.eat(&TokenKind::Comma).is_none() {
                // SQL's `count(distinct x)` (QA, session 20)
                let distinct = args.len() == 1
                    && matches!(&args[0].node, Expr::Field(f) if f.name.eq_ignore_ascii_case("distinct"))
                    && !self.at(&TokenKind::RParen);
                let close = self.expect(&TokenKind::RParen, "`,` or `)`");
                if distinct {
                    if let Some(d) = self.diags.pop() {
                        self.diags.push(d.with_help(
                            "Logs Insights has no `distinct` keyword: the aggregate `count_distinct(x)` counts distinct values",
                        ));
                    }
                }
                return Ok((args, close?));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogued_command_has_a_parser() {
        for c in commands::COMMANDS {
            let parsed = parse(c.name);
            assert!(
                !parsed
                    .diagnostics
                    .iter()
                    .any(|d| d.severity == ow_diagnostics::Severity::Bug),
                "{}",
                c.name
            );
        }
    }
}
