//! Space-delimited patterns `[ … ]` (filter-patterns.md §5).

use crate::cursor::Cursor;
use crate::error::{PatternError, SyntaxErrorKind};
use crate::value::{compare, parse_literal, CmpOp, Literal, Scalar};

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Conditions on one field: OR of AND-lists (`&&` binds tighter than `||`, as in JSON).
#[derive(Debug, Clone)]
struct Condition {
    any_of: Vec<Vec<(CmpOp, Literal)>>,
}

impl Condition {
    fn holds(&self, value: &str) -> bool {
        self.any_of.iter().any(|all| {
            all.iter()
                // A token is text; numeric literals compare when it parses as a number.
                .all(|(op, lit)| compare(Scalar::Str(value), *op, lit, true))
        })
    }
}

#[derive(Debug, Clone)]
struct NamedField {
    name: String,
    condition: Option<Condition>,
}

/// A parsed space-delimited pattern: named fields before and after an optional `...`.
#[derive(Debug, Clone)]
pub(crate) struct SpacePattern {
    before: Vec<NamedField>,
    /// `Some(after)` when the pattern has a `...`.
    after: Option<Vec<NamedField>>,
}

/// One field of an event: its value (quotes or brackets removed) and its raw byte range.
#[derive(Debug, Clone, Copy)]
struct Token<'m> {
    value: &'m str,
    start: usize,
    end: usize,
}

/// Splits a message into fields (§5.1 \[V\]): whitespace separates fields, runs of whitespace
/// count as one separator \[I\], and a field that starts with `"` or `[` extends to the next
/// `"` / `]` (which may be followed by more characters up to whitespace \[I\]) with the
/// enclosing characters removed. An unclosed `"` or `[` is an ordinary character \[I\].
fn tokenize(message: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let Some(c) = message.get(i..).and_then(|r| r.chars().next()) else {
            break;
        };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let close = match c {
            '"' => Some('"'),
            '[' => Some(']'),
            _ => None,
        };
        if let Some(close) = close {
            if let Some(rel) = message.get(i + 1..).and_then(|r| r.find(close)) {
                let inner_end = i + 1 + rel;
                let value = message.get(i + 1..inner_end).unwrap_or("");
                let mut end = inner_end + 1;
                // Characters glued to the closing quote/bracket stay part of this field.
                let glued = message
                    .get(end..)
                    .map_or(0, |r| r.find(char::is_whitespace).unwrap_or(r.len()));
                let value = if glued == 0 {
                    value
                } else {
                    end += glued;
                    message.get(start..end).unwrap_or(value)
                };
                tokens.push(Token { value, start, end });
                i = end;
                continue;
            }
        }
        let len = message
            .get(i..)
            .map_or(0, |r| r.find(char::is_whitespace).unwrap_or(r.len()));
        let end = i + len;
        tokens.push(Token {
            value: message.get(start..end).unwrap_or(""),
            start,
            end,
        });
        i = end;
    }
    tokens
}

impl SpacePattern {
    /// Parses `[ fields ]` with the cursor on `[`; returns the pattern and its regex count.
    pub(crate) fn parse(cur: &mut Cursor<'_>) -> Result<(SpacePattern, usize), PatternError> {
        let open = cur.pos();
        if !cur.eat("[") {
            return Err(cur.expected("'['"));
        }
        cur.skip_ws();
        if cur.starts_with("]") {
            return Err(PatternError::syntax(
                open,
                SyntaxErrorKind::Empty {
                    family: "space-delimited pattern",
                },
            ));
        }
        let mut regex_count = 0;
        let mut before = Vec::new();
        let mut after: Option<Vec<NamedField>> = None;
        loop {
            cur.skip_ws();
            let pos = cur.pos();
            if cur.eat("...") {
                if after.is_some() {
                    return Err(PatternError::syntax(pos, SyntaxErrorKind::MultipleEllipsis));
                }
                after = Some(Vec::new());
            } else {
                let field = parse_field(cur, &mut regex_count)?;
                match after.as_mut() {
                    Some(a) => a.push(field),
                    None => before.push(field),
                }
            }
            cur.skip_ws();
            if cur.eat(",") {
                continue;
            }
            if cur.eat("]") {
                break;
            }
            return Err(cur.expected("',' or the closing ']'"));
        }
        cur.skip_ws();
        if !cur.at_end() {
            return Err(cur.expected("end of pattern after ']'"));
        }
        Ok((SpacePattern { before, after }, regex_count))
    }

    /// Assigns event fields to pattern fields; `None` when the event has too few fields (or
    /// too many and the last field may not absorb them).
    fn bind<'m>(&self, message: &'m str, absorb_rest: bool) -> Option<Vec<(&NamedField, &'m str)>> {
        let tokens = tokenize(message);
        let mut out = Vec::with_capacity(self.before.len());
        match &self.after {
            None => {
                let n = self.before.len();
                if tokens.len() < n || (tokens.len() > n && !absorb_rest) {
                    return None;
                }
                for (i, field) in self.before.iter().enumerate() {
                    let tok = tokens.get(i)?;
                    let value = if i + 1 == n && tokens.len() > n {
                        // The last field absorbs the remaining fields as written [I].
                        let last = tokens.last()?;
                        message.get(tok.start..last.end)?
                    } else {
                        tok.value
                    };
                    out.push((field, value));
                }
            }
            Some(after) => {
                if tokens.len() < self.before.len() + after.len() {
                    return None;
                }
                for (field, tok) in self.before.iter().zip(&tokens) {
                    out.push((field, tok.value));
                }
                let skip = tokens.len() - after.len();
                for (field, tok) in after.iter().zip(tokens.get(skip..)?) {
                    out.push((field, tok.value));
                }
            }
        }
        Some(out)
    }

    pub(crate) fn matches(&self, message: &str, absorb_rest: bool) -> bool {
        self.bind(message, absorb_rest).is_some_and(|bound| {
            bound
                .iter()
                .all(|(f, v)| f.condition.as_ref().is_none_or(|c| c.holds(v)))
        })
    }

    /// `($name, value)` for every named field when the event matches (§5.2 \[V\]: "the
    /// extracted value of field x is published as $x").
    pub(crate) fn extract(
        &self,
        message: &str,
        absorb_rest: bool,
    ) -> Option<Vec<(String, String)>> {
        let bound = self.bind(message, absorb_rest)?;
        if !bound
            .iter()
            .all(|(f, v)| f.condition.as_ref().is_none_or(|c| c.holds(v)))
        {
            return None;
        }
        Some(
            bound
                .into_iter()
                .map(|(f, v)| (format!("${}", f.name), v.to_string()))
                .collect(),
        )
    }

    /// The field names, in pattern order.
    pub(crate) fn field_names(&self) -> impl Iterator<Item = &str> {
        self.before
            .iter()
            .chain(self.after.iter().flatten())
            .map(|f| f.name.as_str())
    }
}

fn parse_name<'s>(cur: &mut Cursor<'s>) -> Result<&'s str, PatternError> {
    let name = cur.take_while(is_name_char);
    if name.is_empty() {
        return Err(cur.expected("a field name (letters, digits, _ or -) or '...'"));
    }
    Ok(name)
}

fn parse_field(cur: &mut Cursor<'_>, regex_count: &mut usize) -> Result<NamedField, PatternError> {
    let name = parse_name(cur)?;
    cur.skip_ws();
    if cur.at_end() || cur.starts_with(",") || cur.starts_with("]") {
        return Ok(NamedField {
            name: name.to_string(),
            condition: None,
        });
    }
    let stop = [',', ']', '&', '|'];
    let mut any_of = vec![Vec::new()];
    loop {
        let op = CmpOp::parse(cur)?;
        let lit = parse_literal(cur, op, &stop, regex_count)?;
        if let Some(all) = any_of.last_mut() {
            all.push((op, lit));
        }
        cur.skip_ws();
        if cur.eat("||") {
            any_of.push(Vec::new());
        } else if !cur.eat("&&") {
            break;
        }
        cur.skip_ws();
        let pos = cur.pos();
        let other = parse_name(cur)?;
        if other != name {
            return Err(PatternError::syntax(
                pos,
                SyntaxErrorKind::MixedFieldNames {
                    expected: name.to_string(),
                    found: other.to_string(),
                },
            ));
        }
        cur.skip_ws();
    }
    Ok(NamedField {
        name: name.to_string(),
        condition: Some(Condition { any_of }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_the_documented_example() {
        let msg = r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
        let values: Vec<&str> = tokenize(msg).iter().map(|t| t.value).collect();
        assert_eq!(
            values,
            [
                "127.0.0.1",
                "Prod",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /index.html HTTP/1.0",
                "404",
                "1534"
            ]
        );
    }

    #[test]
    fn tokenizer_edge_cases() {
        let values = |m: &str| {
            tokenize(m)
                .iter()
                .map(|t| t.value.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(values("  a   b  "), ["a", "b"]);
        assert_eq!(values(r#"a "unclosed b"#), ["a", "\"unclosed", "b"]);
        assert_eq!(values(r#""x"y z"#), ["\"x\"y", "z"]);
        assert_eq!(values(""), Vec::<String>::new());
        assert_eq!(values("[]"), [""]);
    }
}
