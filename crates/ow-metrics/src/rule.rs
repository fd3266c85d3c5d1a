//! Composite-alarm rules (api.md B.3 `PutCompositeAlarm`):
//!
//! ```text
//! rule   := or
//! or     := and ("OR" and)*
//! and    := unary ("AND" unary)*
//! unary  := "NOT" unary | "(" rule ")" | "TRUE" | "FALSE" | state "(" ref ")"
//! state  := "ALARM" | "OK" | "INSUFFICIENT_DATA"
//! ref    := alarm name or ARN, optionally in double quotes
//! ```
//! Precedence NOT > AND > OR \[I: the natural reading; AWS examples parenthesise\].
//! Keywords are upper case. An unquoted reference runs to the next `)`.

use std::collections::BTreeSet;

use crate::alarm::AlarmState;

/// A parsed alarm rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `TRUE` / `FALSE`.
    Const(bool),
    /// `ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)`; the reference is reduced to the alarm
    /// name (an ARN's last `alarm:` component).
    State(AlarmState, String),
    /// `NOT r`.
    Not(Box<Rule>),
    /// `a AND b`.
    And(Box<Rule>, Box<Rule>),
    /// `a OR b`.
    Or(Box<Rule>, Box<Rule>),
}

/// A rule syntax error with its character position (0-based).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// Character offset in the rule.
    pub position: usize,
    /// What was expected.
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

struct P<'a> {
    c: Vec<char>,
    i: usize,
    elements: usize,
    depth: usize,
    _src: &'a str,
}

fn alarm_name_of(r: &str) -> String {
    // arn:aws:cloudwatch:<region>:<account>:alarm:<name>
    if r.starts_with("arn:") {
        let parts: Vec<&str> = r.splitn(7, ':').collect();
        if parts.len() == 7 && parts[5] == "alarm" {
            return parts[6].to_string();
        }
    }
    r.to_string()
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.c.len() && self.c[self.i].is_whitespace() {
            self.i += 1;
        }
    }
    fn err<T>(&self, m: impl Into<String>) -> Result<T, RuleError> {
        Err(RuleError {
            position: self.i,
            message: m.into(),
        })
    }
    fn word(&mut self) -> Option<String> {
        self.ws();
        let s = self.i;
        let mut j = self.i;
        while j < self.c.len() && (self.c[j].is_ascii_alphabetic() || self.c[j] == '_') {
            j += 1;
        }
        (j > s).then(|| self.c[s..j].iter().collect())
    }
    fn keyword(&mut self, k: &str) -> bool {
        let save = self.i;
        match self.word() {
            Some(w) if w == k => {
                self.i += k.chars().count();
                // must not be followed by an identifier character
                true
            }
            _ => {
                self.i = save;
                false
            }
        }
    }
    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut l = self.and()?;
        while self.keyword("OR") {
            let r = self.and()?;
            l = Rule::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut l = self.unary()?;
        while self.keyword("AND") {
            let r = self.unary()?;
            l = Rule::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Rule, RuleError> {
        self.depth += 1;
        if self.depth > 200 {
            return self.err("rule nested too deeply");
        }
        self.ws();
        let r = if self.i < self.c.len() && self.c[self.i] == '(' {
            self.i += 1;
            self.elements += 1;
            let r = self.or()?;
            self.ws();
            if self.i >= self.c.len() || self.c[self.i] != ')' {
                return self.err("expected ')'");
            }
            self.i += 1;
            r
        } else {
            let save = self.i;
            match self.word().as_deref() {
                Some("NOT") => {
                    self.i += 3;
                    Rule::Not(Box::new(self.unary()?))
                }
                Some("TRUE") => {
                    self.i += 4;
                    self.elements += 1;
                    Rule::Const(true)
                }
                Some("FALSE") => {
                    self.i += 5;
                    self.elements += 1;
                    Rule::Const(false)
                }
                Some(w @ ("ALARM" | "OK" | "INSUFFICIENT_DATA")) => {
                    let state = AlarmState::parse(w).unwrap_or(AlarmState::InsufficientData);
                    self.i += w.len();
                    self.ws();
                    if self.i >= self.c.len() || self.c[self.i] != '(' {
                        return self.err(format!("expected '(' after {w}"));
                    }
                    self.i += 1;
                    self.ws();
                    let name = if self.i < self.c.len() && self.c[self.i] == '"' {
                        self.i += 1;
                        let s = self.i;
                        while self.i < self.c.len() && self.c[self.i] != '"' {
                            self.i += 1;
                        }
                        if self.i >= self.c.len() {
                            return self.err("unterminated quoted alarm name");
                        }
                        let n: String = self.c[s..self.i].iter().collect();
                        self.i += 1;
                        self.ws();
                        n
                    } else {
                        let s = self.i;
                        while self.i < self.c.len() && self.c[self.i] != ')' {
                            self.i += 1;
                        }
                        self.c[s..self.i]
                            .iter()
                            .collect::<String>()
                            .trim_end()
                            .to_string()
                    };
                    if self.i >= self.c.len() || self.c[self.i] != ')' {
                        return self.err("expected ')' after the alarm name");
                    }
                    if name.is_empty() {
                        return self.err("empty alarm name");
                    }
                    self.i += 1;
                    self.elements += 1;
                    Rule::State(state, alarm_name_of(&name))
                }
                _ => {
                    self.i = save;
                    return self.err(
                        "expected ALARM(…), OK(…), INSUFFICIENT_DATA(…), TRUE, FALSE, NOT or '('",
                    );
                }
            }
        };
        self.depth -= 1;
        Ok(r)
    }
}

impl Rule {
    /// Parses a rule; also returns the number of elements (children, `TRUE`/`FALSE`,
    /// parenthesised groups) for the 500-element limit.
    ///
    /// # Errors
    /// [`RuleError`] with the position of the first problem.
    pub fn parse(src: &str) -> Result<(Rule, usize), RuleError> {
        let mut p = P {
            c: src.chars().collect(),
            i: 0,
            elements: 0,
            depth: 0,
            _src: src,
        };
        let r = p.or()?;
        p.ws();
        if p.i < p.c.len() {
            return p.err("unexpected text after the rule (AND/OR/NOT must be upper case)");
        }
        Ok((r, p.elements))
    }

    /// The distinct alarm names the rule refers to.
    pub fn children(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut BTreeSet<String>) {
        match self {
            Rule::Const(_) => {}
            Rule::State(_, n) => {
                out.insert(n.clone());
            }
            Rule::Not(r) => r.collect(out),
            Rule::And(a, b) | Rule::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }

    /// Evaluates the rule given each child's current state (`None`: unknown alarm, whose
    /// state tests are false).
    pub fn eval(&self, state_of: &dyn Fn(&str) -> Option<AlarmState>) -> bool {
        match self {
            Rule::Const(b) => *b,
            Rule::State(s, n) => state_of(n) == Some(*s),
            Rule::Not(r) => !r.eval(state_of),
            Rule::And(a, b) => a.eval(state_of) && b.eval(state_of),
            Rule::Or(a, b) => a.eval(state_of) || b.eval(state_of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_evaluates() {
        let (r, n) = Rule::parse(
            r#"ALARM(cpu) AND NOT OK("disk full") OR (INSUFFICIENT_DATA(arn:aws:cloudwatch:us-east-1:123456789012:alarm:mem) AND TRUE)"#,
        )
        .unwrap();
        assert_eq!(n, 5);
        assert_eq!(
            r.children().into_iter().collect::<Vec<_>>(),
            vec!["cpu", "disk full", "mem"]
        );
        let st = |a: AlarmState, d: AlarmState, m: AlarmState| {
            move |n: &str| match n {
                "cpu" => Some(a),
                "disk full" => Some(d),
                "mem" => Some(m),
                _ => None,
            }
        };
        use AlarmState::*;
        assert!(r.eval(&st(Alarm, Alarm, Ok)));
        assert!(!r.eval(&st(Alarm, Ok, Ok)));
        assert!(r.eval(&st(Ok, Ok, InsufficientData)));
        // precedence: NOT > AND > OR
        let (r, _) = Rule::parse("FALSE AND FALSE OR TRUE").unwrap();
        assert!(r.eval(&|_| None));
        let (r, _) = Rule::parse("NOT TRUE OR TRUE").unwrap();
        assert!(r.eval(&|_| None));
    }

    #[test]
    fn errors_have_positions() {
        for (src, pos) in [
            ("ALARM(x) and OK(y)", 9),
            ("ALARM(x", 7),
            ("(TRUE", 5),
            ("ALARM()", 6),
            ("", 0),
            ("MAYBE(x)", 0),
            ("ALARM(\"x)", 9),
        ] {
            let e = Rule::parse(src).unwrap_err();
            assert_eq!(e.position, pos, "{src}: {e}");
        }
    }
}
