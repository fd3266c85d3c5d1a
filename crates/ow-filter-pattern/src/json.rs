//! JSON patterns `{ … }` (filter-patterns.md §4) and JSON selectors (`$.a.b[0]`).

use std::fmt;

use serde_json::Value;

use crate::cursor::Cursor;
use crate::error::{PatternError, SyntaxErrorKind};
use crate::value::{compare, parse_literal, CmpOp, Literal, Scalar};

/// Maximum nesting of parentheses in a JSON pattern [I: AWS documents no limit; 200 is far
/// beyond any real pattern and keeps recursion bounded].
const MAX_DEPTH: usize = 200;

/// A JSON selector such as `$.userIdentity.type`, `$.arrayKey[0]` or `$.coordinates[0][1]`
/// (§4.1: `"$" ( "." name | "[" index "]" )+`, `name := [A-Za-z0-9_-]+`, 0-based indexes).
///
/// Used inside JSON patterns and, on its own, as a metric filter's `metricValue` or dimension
/// value (§6). Displays in the normalised form `$.a.b[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonPath {
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Index(usize),
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl JsonPath {
    /// Parses a complete selector (surrounding whitespace allowed).
    ///
    /// # Errors
    /// [`PatternError::Syntax`] when `text` is not exactly one selector.
    pub fn parse(text: &str) -> Result<JsonPath, PatternError> {
        let mut cur = Cursor::new(text, 0);
        cur.skip_ws();
        let path = JsonPath::parse_at(&mut cur)?;
        cur.skip_ws();
        if !cur.at_end() {
            return Err(cur.expected("end of selector"));
        }
        Ok(path)
    }

    pub(crate) fn parse_at(cur: &mut Cursor<'_>) -> Result<JsonPath, PatternError> {
        if !cur.eat("$") {
            return Err(cur.expected("a selector such as $.field"));
        }
        let mut steps = Vec::new();
        loop {
            let pos = cur.pos();
            if cur.eat(".") {
                let name = cur.take_while(is_name_char);
                if name.is_empty() {
                    return Err(PatternError::syntax(
                        pos,
                        SyntaxErrorKind::InvalidSelector {
                            reason:
                                "'.' must be followed by a field name of letters, digits, _ or -",
                        },
                    ));
                }
                steps.push(Step::Key(name.to_string()));
            } else if cur.eat("[") {
                if cur.starts_with("*") {
                    return Err(PatternError::syntax(
                        pos,
                        SyntaxErrorKind::Unsupported {
                            what: "array wildcard '[*]'".to_string(),
                        },
                    ));
                }
                let digits = cur.take_while(|c| c.is_ascii_digit());
                let index = digits.parse::<usize>().map_err(|_| {
                    PatternError::syntax(
                        pos,
                        SyntaxErrorKind::InvalidSelector {
                            reason: "'[' must be followed by an array index (0, 1, …)",
                        },
                    )
                })?;
                if !cur.eat("]") {
                    return Err(cur.expected("']'"));
                }
                steps.push(Step::Index(index));
            } else {
                break;
            }
        }
        if steps.is_empty() {
            return Err(PatternError::syntax(
                cur.pos(),
                SyntaxErrorKind::InvalidSelector {
                    reason: "'$' must be followed by .field or [index]",
                },
            ));
        }
        Ok(JsonPath { steps })
    }

    /// Follows the selector from the root of a parsed event. `None` when any step is missing
    /// (absent key, index out of range, or descending into a scalar).
    pub fn resolve<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        let mut v = root;
        for step in &self.steps {
            v = match (step, v) {
                (Step::Key(k), Value::Object(map)) => map.get(k)?,
                (Step::Index(i), Value::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for s in &self.steps {
            match s {
                Step::Key(k) => write!(f, ".{k}")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A postfix check (§4.2).
#[derive(Debug, Clone, Copy)]
enum Check {
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cmp {
        path: JsonPath,
        op: CmpOp,
        lit: Literal,
    },
    Check {
        path: JsonPath,
        check: Check,
    },
}

/// A parsed JSON pattern.
#[derive(Debug, Clone)]
pub(crate) struct JsonPattern {
    expr: Expr,
    /// Selectors in order of first appearance, for extracted values.
    selectors: Vec<JsonPath>,
}

struct Parser<'s, 'c> {
    cur: &'c mut Cursor<'s>,
    selectors: Vec<JsonPath>,
    regex_count: usize,
}

impl JsonPattern {
    /// Parses `{ expr }` with the cursor on `{`; returns the pattern and its regex count.
    pub(crate) fn parse(cur: &mut Cursor<'_>) -> Result<(JsonPattern, usize), PatternError> {
        let open = cur.pos();
        if !cur.eat("{") {
            return Err(cur.expected("'{'"));
        }
        cur.skip_ws();
        if cur.starts_with("}") {
            return Err(PatternError::syntax(
                open,
                SyntaxErrorKind::Empty {
                    family: "JSON pattern",
                },
            ));
        }
        let mut p = Parser {
            cur,
            selectors: Vec::new(),
            regex_count: 0,
        };
        let expr = p.or_expr(0)?;
        p.cur.skip_ws();
        if !p.cur.eat("}") {
            return Err(p.cur.expected("'&&', '||' or the closing '}'"));
        }
        p.cur.skip_ws();
        if !p.cur.at_end() {
            return Err(p.cur.expected("end of pattern after '}'"));
        }
        Ok((
            JsonPattern {
                expr,
                selectors: p.selectors,
            },
            p.regex_count,
        ))
    }

    /// Evaluates the pattern against a parsed event.
    pub(crate) fn matches(&self, root: &Value, coerce_strings: bool) -> bool {
        eval(&self.expr, root, coerce_strings)
    }

    /// The selectors that appear in the pattern, in order, without duplicates.
    pub(crate) fn selectors(&self) -> &[JsonPath] {
        &self.selectors
    }
}

impl Parser<'_, '_> {
    fn or_expr(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut items = vec![self.and_expr(depth)?];
        loop {
            self.cur.skip_ws();
            if self.cur.eat("||") {
                items.push(self.and_expr(depth)?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut items = vec![self.primary(depth)?];
        loop {
            self.cur.skip_ws();
            if self.cur.eat("&&") {
                items.push(self.primary(depth)?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, PatternError> {
        self.cur.skip_ws();
        let pos = self.cur.pos();
        if self.cur.eat("(") {
            if depth >= MAX_DEPTH {
                return Err(PatternError::syntax(pos, SyntaxErrorKind::TooDeeplyNested));
            }
            let inner = self.or_expr(depth + 1)?;
            self.cur.skip_ws();
            if !self.cur.eat(")") {
                return Err(self.cur.expected("'&&', '||' or ')'"));
            }
            return Ok(inner);
        }
        if !self.cur.starts_with("$") {
            return Err(self.cur.expected("a selector such as $.field, or '('"));
        }
        let path = JsonPath::parse_at(self.cur)?;
        if !self.selectors.contains(&path) {
            self.selectors.push(path.clone());
        }
        self.cur.skip_ws();
        if self.cur.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            let check = self.postfix()?;
            return Ok(Expr::Check { path, check });
        }
        let op = CmpOp::parse(self.cur)?;
        let lit = parse_literal(self.cur, op, &[')', '&', '|', '}'], &mut self.regex_count)?;
        Ok(Expr::Cmp { path, op, lit })
    }

    fn postfix(&mut self) -> Result<Check, PatternError> {
        const EXPECTED: &str = "an operator or IS NULL, IS TRUE, IS FALSE, NOT EXISTS";
        let pos = self.cur.pos();
        let word = self.cur.take_while(|c| c.is_ascii_alphabetic());
        let unsupported = |what: &str| {
            PatternError::syntax(
                pos,
                SyntaxErrorKind::Unsupported {
                    what: what.to_string(),
                },
            )
        };
        match word {
            "IS" => {
                self.cur.skip_ws();
                let second = self.cur.take_while(|c| c.is_ascii_alphabetic());
                match second {
                    "NULL" => Ok(Check::IsNull),
                    "TRUE" => Ok(Check::IsTrue),
                    "FALSE" => Ok(Check::IsFalse),
                    "NOT" => Err(unsupported("'IS NOT'")),
                    _ => Err(PatternError::syntax(
                        pos,
                        SyntaxErrorKind::Expected {
                            expected: "NULL, TRUE or FALSE after IS",
                            found: format!("'{second}'"),
                        },
                    )),
                }
            }
            "NOT" => {
                self.cur.skip_ws();
                let second = self.cur.take_while(|c| c.is_ascii_alphabetic());
                if second == "EXISTS" {
                    Ok(Check::NotExists)
                } else {
                    Err(PatternError::syntax(
                        pos,
                        SyntaxErrorKind::Expected {
                            expected: "EXISTS after NOT",
                            found: format!("'{second}'"),
                        },
                    ))
                }
            }
            "EXISTS" => Err(unsupported(
                "'EXISTS' (use NOT EXISTS, or = \"*\" for presence)",
            )),
            _ => Err(PatternError::syntax(
                pos,
                SyntaxErrorKind::Expected {
                    expected: EXPECTED,
                    found: format!("'{word}'"),
                },
            )),
        }
    }
}

/// The scalar a selector resolved to, or `None` for objects and arrays (§4.2 \[V\]: those never
/// match a comparison).
fn scalar(v: &Value) -> Option<Scalar<'_>> {
    match v {
        Value::String(s) => Some(Scalar::Str(s)),
        Value::Number(n) => Some(Scalar::Num(n)),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Null => Some(Scalar::Null),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn eval(expr: &Expr, root: &Value, coerce: bool) -> bool {
    match expr {
        Expr::Or(items) => items.iter().any(|e| eval(e, root, coerce)),
        Expr::And(items) => items.iter().all(|e| eval(e, root, coerce)),
        Expr::Cmp { path, op, lit } => match path.resolve(root).and_then(scalar) {
            // Missing selector: false for every operator, `!=` included (§4.2 [I]).
            None => false,
            Some(s) => compare(s, *op, lit, coerce),
        },
        Expr::Check { path, check } => {
            let v = path.resolve(root);
            match check {
                Check::IsNull => matches!(v, Some(Value::Null)),
                Check::IsTrue => matches!(v, Some(Value::Bool(true))),
                Check::IsFalse => matches!(v, Some(Value::Bool(false))),
                Check::NotExists => v.is_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_round_trip() {
        for s in [
            "$.a",
            "$.a.b",
            "$.arrayKey[0]",
            "$.coordinates[0][1]",
            "$.objectList[1].id",
            "$.a-b_1",
        ] {
            assert_eq!(JsonPath::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "$", "$.", "a", "$.a[", "$.a[x]", "$.a[*]", "$.a b", "$.a.@b",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }
}
