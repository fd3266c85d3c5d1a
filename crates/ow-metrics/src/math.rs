//! Metric math (api.md B.3 "Metric math basics"): lexer, parser and evaluator over time
//! series aligned on a common grid.
//!
//! Supported: numbers, ids, `'…'`/`"…"` strings, array literals `[a, b]`, `+ - * / ^`,
//! unary `-`, comparisons `== != <= >= < >`, `AND`/`&&`, `OR`/`||`, and the functions `ABS,
//! AVG, CEIL, DATAPOINT_COUNT, DATE, DAY, DIFF, DIFF_TIME, EPOCH, FILL, FIRST, FLOOR, HOUR,
//! IF, LAST, LOG, LOG10, MAX, METRIC_COUNT, METRICS, MIN, MINUTE, MONTH, PERIOD, RATE,
//! REMOVE_EMPTY, RUNNING_SUM, SORT, STDDEV, SUM, TIME_SERIES, YEAR`. `SEARCH`,
//! `ANOMALY_DETECTION_BAND`, `INSIGHT_RULE_METRIC`, `SERVICE_QUOTA`, `SLICE` and Metrics
//! Insights SQL are rejected with an error naming the function.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};

/// A time series: label, period (s) and points `timestamp_ms → value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Label.
    pub label: String,
    /// Period in seconds.
    pub period_s: i64,
    /// Points.
    pub points: BTreeMap<i64, f64>,
}

/// A metric-math value: scalar, time series or array of time series.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// S.
    Scalar(f64),
    /// TS.
    Series(Series),
    /// TS[].
    Array(Vec<Series>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let save = i;
                i += 1;
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    i += 1;
                }
                if i < chars.len() && chars[i].is_ascii_digit() {
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                } else {
                    i = save;
                }
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Tok::Num(
                text.parse().map_err(|_| format!("invalid number {text}"))?,
            ));
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
            continue;
        }
        if c == '\'' || c == '"' {
            let q = c;
            i += 1;
            let start = i;
            while i < chars.len() && chars[i] != q {
                i += 1;
            }
            if i >= chars.len() {
                return Err("unterminated string".into());
            }
            out.push(Tok::Str(chars[start..i].iter().collect()));
            i += 1;
            continue;
        }
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let op2 = ["==", "!=", "<=", ">=", "&&", "||"]
            .into_iter()
            .find(|o| *o == two);
        if let Some(o) = op2 {
            out.push(Tok::Op(o));
            i += 2;
            continue;
        }
        let t = match c {
            '+' => Tok::Op("+"),
            '-' => Tok::Op("-"),
            '*' => Tok::Op("*"),
            '/' => Tok::Op("/"),
            '^' => Tok::Op("^"),
            '<' => Tok::Op("<"),
            '>' => Tok::Op(">"),
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            other => return Err(format!("unexpected character '{other}'")),
        };
        out.push(t);
        i += 1;
    }
    Ok(out)
}

/// A parsed metric-math expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Number literal.
    Num(f64),
    /// String literal.
    Str(String),
    /// Reference to another query's `Id`.
    Ref(String),
    /// Upper-case bare word used as an argument (`REPEAT`, `LINEAR`, `ASC`, `SUM` …).
    Keyword(String),
    /// `[a, b, …]`.
    Array(Vec<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// Binary operation.
    Bin(&'static str, Box<Expr>, Box<Expr>),
    /// Function call.
    Call(String, Vec<Expr>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 100;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn is_op(&self, ops: &[&str]) -> Option<&'static str> {
        match self.peek() {
            Some(Tok::Op(o)) if ops.contains(o) => Some(o),
            Some(Tok::Ident(w)) if w == "AND" && ops.contains(&"&&") => Some("&&"),
            Some(Tok::Ident(w)) if w == "OR" && ops.contains(&"||") => Some("||"),
            _ => None,
        }
    }
    fn binary(&mut self, level: usize) -> Result<Expr, String> {
        const LEVELS: [&[&str]; 5] = [
            &["||"],
            &["&&"],
            &["==", "!=", "<=", ">=", "<", ">"],
            &["+", "-"],
            &["*", "/"],
        ];
        if level == LEVELS.len() {
            return self.power();
        }
        let mut lhs = self.binary(level + 1)?;
        while let Some(op) = self.is_op(LEVELS[level]) {
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }
    fn power(&mut self) -> Result<Expr, String> {
        let base = self.unary()?;
        if self.is_op(&["^"]).is_some() {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("expression nested too deeply".into());
            }
            let exp = self.power()?;
            self.depth -= 1;
            return Ok(Expr::Bin("^", Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.is_op(&["-"]).is_some() {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("expression nested too deeply".into());
            }
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(e)));
        }
        self.primary()
    }
    fn list(&mut self, close: Tok) -> Result<Vec<Expr>, String> {
        let mut items = Vec::new();
        if self.peek() == Some(&close) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(t) if t == close => return Ok(items),
                _ => return Err("expected ',' or a closing bracket".into()),
            }
        }
    }
    fn expr(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let e = self.binary(0);
        self.depth -= 1;
        e
    }
    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::LParen) => {
                let e = self.expr()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err("expected ')'".into()),
                }
            }
            Some(Tok::LBracket) => Ok(Expr::Array(self.list(Tok::RBracket)?)),
            Some(Tok::Ident(w)) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    if !w
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    {
                        return Err(format!("unknown function {w}: functions are upper case"));
                    }
                    let args = self.list(Tok::RParen)?;
                    Ok(Expr::Call(w, args))
                } else if w.starts_with(|c: char| c.is_ascii_lowercase()) {
                    Ok(Expr::Ref(w))
                } else {
                    Ok(Expr::Keyword(w))
                }
            }
            Some(t) => Err(format!("unexpected token {t:?}")),
            None => Err("unexpected end of expression".into()),
        }
    }
}

/// Parses an expression.
///
/// # Errors
/// A message describing the syntax error.
pub fn parse(src: &str) -> Result<Expr, String> {
    let t = src.trim_start();
    if t.len() >= 6 && t[..6].eq_ignore_ascii_case("SELECT") {
        return Err("Metrics Insights queries (SELECT …) are not supported".into());
    }
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return Err(format!("unexpected token {:?}", p.toks[p.pos]));
    }
    check_supported(&e)?;
    Ok(e)
}

const UNSUPPORTED: [&str; 5] = [
    "SEARCH",
    "ANOMALY_DETECTION_BAND",
    "INSIGHT_RULE_METRIC",
    "SERVICE_QUOTA",
    "SLICE",
];

fn check_supported(e: &Expr) -> Result<(), String> {
    match e {
        Expr::Call(f, args) => {
            if UNSUPPORTED.contains(&f.as_str()) {
                return Err(format!("the function {f} is not supported by OpenWatch"));
            }
            args.iter().try_for_each(check_supported)
        }
        Expr::Array(v) => v.iter().try_for_each(check_supported),
        Expr::Neg(x) => check_supported(x),
        Expr::Bin(_, a, b) => {
            check_supported(a)?;
            check_supported(b)
        }
        _ => Ok(()),
    }
}

/// The ids an expression references (for dependency ordering).
pub fn references(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Ref(r) => out.push(r.clone()),
        Expr::Array(v) | Expr::Call(_, v) => v.iter().for_each(|x| references(x, out)),
        Expr::Neg(x) => references(x, out),
        Expr::Bin(_, a, b) => {
            references(a, out);
            references(b, out);
        }
        _ => {}
    }
}

/// Whether the expression calls `METRICS()` (then it depends on every metric query).
pub fn uses_metrics_fn(e: &Expr) -> bool {
    match e {
        Expr::Call(f, args) => f == "METRICS" || args.iter().any(uses_metrics_fn),
        Expr::Array(v) => v.iter().any(uses_metrics_fn),
        Expr::Neg(x) => uses_metrics_fn(x),
        Expr::Bin(_, a, b) => uses_metrics_fn(a) || uses_metrics_fn(b),
        _ => false,
    }
}

/// What an evaluation can see.
pub struct Env<'a> {
    /// Values of the queries evaluated so far, by id.
    pub vars: &'a BTreeMap<String, Value>,
    /// Ids of the `MetricStat` queries, in request order (for `METRICS()`).
    pub metric_ids: &'a [String],
    /// Grid start (ms), end (exclusive, ms) and default period (s) for `TIME_SERIES` and
    /// `FILL`.
    pub start_ms: i64,
    /// Grid end (exclusive), ms.
    pub end_ms: i64,
    /// Period of expression results, s.
    pub period_s: i64,
}

impl Env<'_> {
    fn grid(&self, period_s: i64) -> Vec<i64> {
        let step = period_s.max(1) * 1000;
        let mut v = Vec::new();
        let mut t = self.start_ms;
        while t < self.end_ms && v.len() < 1_000_000 {
            v.push(t);
            t += step;
        }
        v
    }
}

fn series_map(s: &Series, f: impl Fn(f64) -> f64) -> Series {
    Series {
        label: s.label.clone(),
        period_s: s.period_s,
        points: s
            .points
            .iter()
            .filter_map(|(t, v)| {
                let r = f(*v);
                r.is_finite().then_some((*t, r))
            })
            .collect(),
    }
}

fn map_value(v: Value, f: impl Fn(f64) -> f64 + Copy) -> Value {
    match v {
        Value::Scalar(x) => Value::Scalar(f(x)),
        Value::Series(s) => Value::Series(series_map(&s, f)),
        Value::Array(a) => Value::Array(a.iter().map(|s| series_map(s, f)).collect()),
    }
}

fn apply_op(op: &str, a: f64, b: f64) -> f64 {
    let t = |x: bool| if x { 1.0 } else { 0.0 };
    match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => a / b,
        "^" => a.powf(b),
        "==" => t(a == b),
        "!=" => t(a != b),
        "<=" => t(a <= b),
        ">=" => t(a >= b),
        "<" => t(a < b),
        ">" => t(a > b),
        "&&" => t(a != 0.0 && b != 0.0),
        "||" => t(a != 0.0 || b != 0.0),
        _ => f64::NAN,
    }
}

fn series_series(op: &str, a: &Series, b: &Series) -> Series {
    // Missing value counts as 0 (B.3); non-finite results (division by zero) are dropped.
    let mut points = BTreeMap::new();
    for t in a.points.keys().chain(b.points.keys()) {
        if points.contains_key(t) {
            continue;
        }
        let x = a.points.get(t).copied().unwrap_or(0.0);
        let y = b.points.get(t).copied().unwrap_or(0.0);
        let r = apply_op(op, x, y);
        if r.is_finite() {
            points.insert(*t, r);
        }
    }
    Series {
        label: a.label.clone(),
        period_s: a.period_s.min(b.period_s),
        points,
    }
}

fn binary(op: &'static str, a: Value, b: Value) -> Result<Value, String> {
    use Value::*;
    Ok(match (a, b) {
        (Scalar(x), Scalar(y)) => Scalar(apply_op(op, x, y)),
        (Series(s), Scalar(y)) => Series(series_map(&s, |x| apply_op(op, x, y))),
        (Scalar(x), Series(s)) => Series(series_map(&s, |y| apply_op(op, x, y))),
        (Series(a), Series(b)) => Series(series_series(op, &a, &b)),
        (Array(a), Scalar(y)) => Array(
            a.iter()
                .map(|s| series_map(s, |x| apply_op(op, x, y)))
                .collect(),
        ),
        (Scalar(x), Array(a)) => Array(
            a.iter()
                .map(|s| series_map(s, |y| apply_op(op, x, y)))
                .collect(),
        ),
        (Array(a), Series(b)) => Array(a.iter().map(|s| series_series(op, s, &b)).collect()),
        (Series(a), Array(b)) => Array(b.iter().map(|s| series_series(op, &a, s)).collect()),
        (Array(_), Array(_)) => {
            return Err(format!(
                "the operator {op} cannot combine two arrays of time series"
            ))
        }
    })
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Avg,
    Min,
    Max,
    Stddev,
}

fn aggregate(vals: &[f64], agg: Agg) -> Option<f64> {
    if vals.is_empty() {
        return None;
    }
    let n = vals.len() as f64;
    let sum: f64 = vals.iter().sum();
    Some(match agg {
        Agg::Sum => sum,
        Agg::Avg => sum / n,
        Agg::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
        Agg::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Agg::Stddev => {
            // Sample standard deviation (n − 1) [I]; a single value gives 0.
            if vals.len() < 2 {
                0.0
            } else {
                let m = sum / n;
                (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            }
        }
    })
}

fn agg_fn(name: &str, v: Value, agg: Agg) -> Result<Value, String> {
    match v {
        Value::Array(a) => {
            let mut by_t: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for s in &a {
                for (t, x) in &s.points {
                    by_t.entry(*t).or_default().push(*x);
                }
            }
            Ok(Value::Series(Series {
                label: name.to_string(),
                period_s: a.iter().map(|s| s.period_s).min().unwrap_or(60),
                points: by_t
                    .into_iter()
                    .filter_map(|(t, v)| Some((t, aggregate(&v, agg)?)))
                    .collect(),
            }))
        }
        Value::Series(s) => {
            let vals: Vec<f64> = s.points.values().copied().collect();
            Ok(Value::Scalar(aggregate(&vals, agg).unwrap_or(f64::NAN)))
        }
        Value::Scalar(x) => Ok(Value::Scalar(x)),
    }
}

fn consecutive(s: &Series, f: impl Fn(i64, f64, i64, f64) -> f64) -> Series {
    let mut points = BTreeMap::new();
    let mut prev: Option<(i64, f64)> = None;
    for (t, v) in &s.points {
        if let Some((pt, pv)) = prev {
            let r = f(pt, pv, *t, *v);
            if r.is_finite() {
                points.insert(*t, r);
            }
        }
        prev = Some((*t, *v));
    }
    Series {
        label: s.label.clone(),
        period_s: s.period_s,
        points,
    }
}

fn per_series(v: Value, name: &str, f: impl Fn(&Series) -> Series) -> Result<Value, String> {
    match v {
        Value::Series(s) => Ok(Value::Series(f(&s))),
        Value::Array(a) => Ok(Value::Array(a.iter().map(f).collect())),
        Value::Scalar(_) => Err(format!("{name} expects a time series")),
    }
}

fn fill(s: &Series, how: &Fill, grid: &[i64]) -> Series {
    let mut points = s.points.clone();
    match how {
        Fill::Value(x) => {
            for t in grid {
                points.entry(*t).or_insert(*x);
            }
        }
        Fill::Series(f) => {
            for t in grid {
                if !points.contains_key(t) {
                    if let Some(x) = f.points.get(t) {
                        points.insert(*t, *x);
                    }
                }
            }
        }
        Fill::Repeat => {
            // The most recent real value before the gap; leading gaps stay empty [I].
            let mut last = None;
            for t in grid {
                match s.points.get(t) {
                    Some(v) => last = Some(*v),
                    None => {
                        if let Some(v) = last {
                            points.insert(*t, v);
                        }
                    }
                }
            }
        }
        Fill::Linear => {
            // Linear interpolation between the surrounding real values; leading and trailing
            // gaps stay empty [I].
            for t in grid {
                if s.points.contains_key(t) {
                    continue;
                }
                let before = s.points.range(..*t).next_back();
                let after = s.points.range(*t..).next();
                if let (Some((t0, v0)), Some((t1, v1))) = (before, after) {
                    let frac = (*t - t0) as f64 / (t1 - t0) as f64;
                    points.insert(*t, v0 + (v1 - v0) * frac);
                }
            }
        }
    }
    Series {
        label: s.label.clone(),
        period_s: s.period_s,
        points,
    }
}

enum Fill {
    Value(f64),
    Series(Series),
    Repeat,
    Linear,
}

fn time_part(t_ms: i64, part: &str) -> f64 {
    let Some(dt) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(t_ms) else {
        return f64::NAN;
    };
    (match part {
        "MINUTE" => dt.minute() as i64,
        "HOUR" => dt.hour() as i64,
        "DAY" => dt.weekday().number_from_monday() as i64,
        "DATE" => dt.day() as i64,
        "MONTH" => dt.month() as i64,
        "YEAR" => dt.year() as i64,
        _ => t_ms.div_euclid(1000),
    }) as f64
}

/// Evaluates an expression.
///
/// # Errors
/// A message for type errors, unknown ids or functions, and unsupported functions.
pub fn eval(e: &Expr, env: &Env<'_>) -> Result<Value, String> {
    match e {
        Expr::Num(n) => Ok(Value::Scalar(*n)),
        Expr::Str(_) => Err("a string is only allowed as an argument of METRICS".into()),
        Expr::Keyword(k) => Err(format!("unexpected keyword {k}")),
        Expr::Ref(r) => env
            .vars
            .get(r)
            .cloned()
            .ok_or_else(|| format!("unknown metric or expression id {r}")),
        Expr::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                match eval(i, env)? {
                    Value::Series(s) => out.push(s),
                    Value::Array(a) => out.extend(a),
                    Value::Scalar(_) => return Err("an array may only hold time series".into()),
                }
            }
            Ok(Value::Array(out))
        }
        Expr::Neg(x) => Ok(map_value(eval(x, env)?, |v| -v)),
        Expr::Bin(op, a, b) => binary(op, eval(a, env)?, eval(b, env)?),
        Expr::Call(f, args) => call(f, args, env),
    }
}

fn arity(f: &str, args: &[Expr], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min || args.len() > max {
        Err(format!(
            "{f} takes {min}{} arguments, {} given",
            if max > min {
                format!(" to {max}")
            } else {
                String::new()
            },
            args.len()
        ))
    } else {
        Ok(())
    }
}

fn call(f: &str, args: &[Expr], env: &Env<'_>) -> Result<Value, String> {
    let one = |min: usize, max: usize| -> Result<Value, String> {
        arity(f, args, min, max)?;
        eval(&args[0], env)
    };
    match f {
        "ABS" => Ok(map_value(one(1, 1)?, f64::abs)),
        "CEIL" => Ok(map_value(one(1, 1)?, f64::ceil)),
        "FLOOR" => Ok(map_value(one(1, 1)?, f64::floor)),
        "LOG" => Ok(map_value(one(1, 1)?, f64::ln)),
        "LOG10" => Ok(map_value(one(1, 1)?, f64::log10)),
        "SUM" => agg_fn(f, one(1, 1)?, Agg::Sum),
        "AVG" => agg_fn(f, one(1, 1)?, Agg::Avg),
        "MIN" => agg_fn(f, one(1, 1)?, Agg::Min),
        "MAX" => agg_fn(f, one(1, 1)?, Agg::Max),
        "STDDEV" => agg_fn(f, one(1, 1)?, Agg::Stddev),
        "METRICS" => {
            arity(f, args, 0, 1)?;
            let filter = match args.first() {
                None => None,
                Some(Expr::Str(s)) => Some(s.as_str()),
                Some(_) => return Err("METRICS takes an optional string".into()),
            };
            let mut out = Vec::new();
            for id in env.metric_ids {
                if filter.is_some_and(|s| !id.contains(s)) {
                    continue;
                }
                match env.vars.get(id) {
                    Some(Value::Series(s)) => out.push(s.clone()),
                    Some(Value::Array(a)) => out.extend(a.iter().cloned()),
                    _ => {}
                }
            }
            Ok(Value::Array(out))
        }
        "FILL" => {
            arity(f, args, 2, 2)?;
            let target = eval(&args[0], env)?;
            let how = match &args[1] {
                Expr::Keyword(k) if k == "REPEAT" => Fill::Repeat,
                Expr::Keyword(k) if k == "LINEAR" => Fill::Linear,
                other => match eval(other, env)? {
                    Value::Scalar(x) => Fill::Value(x),
                    Value::Series(s) => Fill::Series(s),
                    Value::Array(_) => {
                        return Err("FILL's second argument cannot be an array".into())
                    }
                },
            };
            per_series(target, f, |s| fill(s, &how, &env.grid(s.period_s)))
        }
        "RATE" => per_series(one(1, 1)?, f, |s| {
            consecutive(s, |t0, v0, t1, v1| (v1 - v0) / ((t1 - t0) as f64 / 1000.0))
        }),
        "DIFF" => per_series(one(1, 1)?, f, |s| consecutive(s, |_, v0, _, v1| v1 - v0)),
        "DIFF_TIME" => per_series(one(1, 1)?, f, |s| {
            consecutive(s, |t0, _, t1, _| (t1 - t0) as f64 / 1000.0)
        }),
        "RUNNING_SUM" => per_series(one(1, 1)?, f, |s| {
            let mut acc = 0.0;
            Series {
                label: s.label.clone(),
                period_s: s.period_s,
                points: s
                    .points
                    .iter()
                    .map(|(t, v)| {
                        acc += v;
                        (*t, acc)
                    })
                    .collect(),
            }
        }),
        "MINUTE" | "HOUR" | "DAY" | "DATE" | "MONTH" | "YEAR" | "EPOCH" => {
            per_series(one(1, 1)?, f, |s| Series {
                label: s.label.clone(),
                period_s: s.period_s,
                points: s.points.keys().map(|t| (*t, time_part(*t, f))).collect(),
            })
        }
        "FIRST" | "LAST" => match one(1, 1)? {
            Value::Array(a) => {
                let s = if f == "FIRST" { a.first() } else { a.last() };
                s.cloned()
                    .map(Value::Series)
                    .ok_or_else(|| format!("{f} of an empty array"))
            }
            Value::Series(s) => Ok(Value::Series(s)),
            Value::Scalar(_) => Err(format!("{f} expects an array of time series")),
        },
        "REMOVE_EMPTY" => match one(1, 1)? {
            Value::Array(a) => Ok(Value::Array(
                a.into_iter().filter(|s| !s.points.is_empty()).collect(),
            )),
            other => Ok(other),
        },
        "METRIC_COUNT" => match one(1, 1)? {
            Value::Array(a) => Ok(Value::Scalar(a.len() as f64)),
            Value::Series(_) => Ok(Value::Scalar(1.0)),
            Value::Scalar(_) => Err("METRIC_COUNT expects an array of time series".into()),
        },
        "DATAPOINT_COUNT" => match one(1, 1)? {
            Value::Series(s) => Ok(Value::Scalar(s.points.len() as f64)),
            _ => Err("DATAPOINT_COUNT expects a time series".into()),
        },
        "PERIOD" => match one(1, 1)? {
            Value::Series(s) => Ok(Value::Scalar(s.period_s as f64)),
            Value::Array(a) => Ok(Value::Scalar(
                a.first().map_or(env.period_s, |s| s.period_s) as f64,
            )),
            Value::Scalar(_) => Err("PERIOD expects a time series".into()),
        },
        "TIME_SERIES" => match one(1, 1)? {
            Value::Scalar(x) => Ok(Value::Series(Series {
                label: "TIME_SERIES".into(),
                period_s: env.period_s,
                points: env.grid(env.period_s).into_iter().map(|t| (t, x)).collect(),
            })),
            _ => Err("TIME_SERIES expects a scalar".into()),
        },
        "IF" => {
            arity(f, args, 2, 3)?;
            let c = eval(&args[0], env)?;
            let a = eval(&args[1], env)?;
            let b = args.get(2).map(|x| eval(x, env)).transpose()?;
            eval_if(c, a, b, env)
        }
        "SORT" => {
            arity(f, args, 3, 4)?;
            let Value::Array(mut a) = eval(&args[0], env)? else {
                return Err("SORT expects an array of time series".into());
            };
            let agg = match &args[1] {
                Expr::Keyword(k) if k == "SUM" => Agg::Sum,
                Expr::Keyword(k) if k == "AVG" => Agg::Avg,
                Expr::Keyword(k) if k == "MIN" => Agg::Min,
                Expr::Keyword(k) if k == "MAX" => Agg::Max,
                _ => return Err("SORT's second argument must be AVG, MIN, MAX or SUM".into()),
            };
            let desc = match &args[2] {
                Expr::Keyword(k) if k == "ASC" => false,
                Expr::Keyword(k) if k == "DESC" => true,
                _ => return Err("SORT's third argument must be ASC or DESC".into()),
            };
            let key = |s: &Series| {
                aggregate(&s.points.values().copied().collect::<Vec<_>>(), agg)
                    .unwrap_or(f64::NEG_INFINITY)
            };
            a.sort_by(|x, y| key(x).total_cmp(&key(y)));
            if desc {
                a.reverse();
            }
            if let Some(n) = args.get(3) {
                match eval(n, env)? {
                    Value::Scalar(n) if n >= 0.0 => a.truncate(n as usize),
                    _ => return Err("SORT's limit must be a non-negative number".into()),
                }
            }
            Ok(Value::Array(a))
        }
        "SEARCH" | "ANOMALY_DETECTION_BAND" | "INSIGHT_RULE_METRIC" | "SERVICE_QUOTA" | "SLICE" => {
            Err(format!("the function {f} is not supported by OpenWatch"))
        }
        other => Err(format!("unknown function {other}")),
    }
}

fn eval_if(c: Value, a: Value, b: Option<Value>, env: &Env<'_>) -> Result<Value, String> {
    // Per timestamp (B.3): condition point missing -> dropped; true -> a (missing a -> 0);
    // false -> b (omitted or missing b -> dropped).
    let Value::Series(cond) = c else {
        return match c {
            Value::Scalar(x) => Ok(if x != 0.0 {
                a
            } else {
                b.unwrap_or_else(|| {
                    Value::Series(Series {
                        label: "IF".into(),
                        period_s: env.period_s,
                        points: BTreeMap::new(),
                    })
                })
            }),
            _ => Err("IF's condition cannot be an array".into()),
        };
    };
    let at = |v: &Value, t: i64| -> Option<f64> {
        match v {
            Value::Scalar(x) => Some(*x),
            Value::Series(s) => s.points.get(&t).copied(),
            Value::Array(_) => None,
        }
    };
    if matches!(a, Value::Array(_)) || matches!(b, Some(Value::Array(_))) {
        return Err("IF's branches cannot be arrays".into());
    }
    let mut points = BTreeMap::new();
    for (t, cv) in &cond.points {
        let r = if *cv != 0.0 {
            Some(at(&a, *t).unwrap_or(0.0))
        } else {
            b.as_ref().and_then(|b| at(b, *t))
        };
        if let Some(r) = r.filter(|r| r.is_finite()) {
            points.insert(*t, r);
        }
    }
    Ok(Value::Series(Series {
        label: cond.label.clone(),
        period_s: cond.period_s.min(env.period_s.max(1)),
        points,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(label: &str, pts: &[(i64, f64)]) -> Series {
        Series {
            label: label.into(),
            period_s: 60,
            points: pts.iter().copied().collect(),
        }
    }

    fn run(src: &str, vars: &BTreeMap<String, Value>, ids: &[String]) -> Result<Value, String> {
        let env = Env {
            vars,
            metric_ids: ids,
            start_ms: 0,
            end_ms: 300_000,
            period_s: 60,
        };
        eval(&parse(src)?, &env)
    }

    fn pts(v: Value) -> Vec<(i64, f64)> {
        match v {
            Value::Series(s) => s.points.into_iter().collect(),
            other => panic!("not a series: {other:?}"),
        }
    }

    #[test]
    fn arithmetic_missing_as_zero_and_div_by_zero_dropped() {
        let mut vars = BTreeMap::new();
        vars.insert(
            "m1".into(),
            Value::Series(ts("a", &[(0, 10.0), (60_000, 20.0)])),
        );
        vars.insert(
            "m2".into(),
            Value::Series(ts("b", &[(0, 2.0), (120_000, 4.0)])),
        );
        let ids = vec!["m1".to_string(), "m2".to_string()];
        assert_eq!(
            pts(run("m1 + m2 * 2", &vars, &ids).unwrap()),
            vec![(0, 14.0), (60_000, 20.0), (120_000, 8.0)]
        );
        // m1/m2: at 60s m2 missing -> 0 -> division by zero -> dropped; at 120s 0/4 = 0
        assert_eq!(
            pts(run("m1 / m2", &vars, &ids).unwrap()),
            vec![(0, 5.0), (120_000, 0.0)]
        );
        assert_eq!(
            pts(run("SUM(METRICS())", &vars, &ids).unwrap()),
            vec![(0, 12.0), (60_000, 20.0), (120_000, 4.0)]
        );
        assert_eq!(
            pts(run("m1 - AVG(m1)", &vars, &ids).unwrap()),
            vec![(0, -5.0), (60_000, 5.0)]
        );
        assert_eq!(pts(run("FILL(m1, 0)", &vars, &ids).unwrap()).len(), 5);
        assert_eq!(
            pts(run("FILL(m2, LINEAR)", &vars, &ids).unwrap()),
            vec![(0, 2.0), (60_000, 3.0), (120_000, 4.0)]
        );
        assert_eq!(
            pts(run("FILL(m1, REPEAT)", &vars, &ids).unwrap()).last(),
            Some(&(240_000, 20.0))
        );
        assert_eq!(
            pts(run("RATE(m1)", &vars, &ids).unwrap()),
            vec![(60_000, 10.0 / 60.0)]
        );
        assert_eq!(
            pts(run("IF(m1 > 15, 1, 0)", &vars, &ids).unwrap()),
            vec![(0, 0.0), (60_000, 1.0)]
        );
        assert_eq!(
            pts(run("2 ^ 3 ^ 2 + -m1", &vars, &ids).unwrap()),
            vec![(0, 502.0), (60_000, 492.0)]
        );
        assert!(run("SEARCH('{AWS/EC2}', 'Average', 300)", &vars, &ids)
            .unwrap_err()
            .contains("not supported"));
        assert!(run("m1 +", &vars, &ids).is_err());
        assert!(run("m3", &vars, &ids).is_err());
    }
}
