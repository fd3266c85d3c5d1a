//! The canonical pretty-printer: one command per line, later lines starting with `| `,
//! keywords in their canonical case, strings in double quotes, minimal parentheses.
//!
//! Invariant (tested by a proptest): `parse(print(q)) == q` for every query `q` (equality
//! ignores spans). Function names are printed as written, because AWS names un-aliased
//! result columns after the text as written (§4.5); everything else is normalised.
//! Whitespace inside un-aliased expressions is normalised, which can change such column
//! names (`abs(f3-f4)` becomes `abs(f3 - f4)`); alias them to keep names stable.

use std::fmt::Write;

use crate::ast::*;
use crate::Span;

/// Prints a query in canonical form (one command per line).
pub fn print(query: &Query) -> String {
    let mut out = String::new();
    for (i, c) in query.commands.iter().enumerate() {
        if i > 0 {
            out.push_str("\n| ");
        }
        command(&mut out, &c.node);
    }
    out
}

/// Prints a query in canonical form keeping its `#` comments (spans from
/// [`crate::Parsed::comments`], text from `src`, the source the query was parsed from).
///
/// A comment on its own line(s) is printed on its own line before the next command (so a
/// commented-out `# | filter …` stays where it was); a comment that shares a line with
/// code, or sits inside a multi-line command, is appended to that command's line; comments
/// after the last command come last. Comments are trivia, so the result parses to the same
/// AST.
pub fn print_with_comments(query: &Query, src: &str, comments: &[Span]) -> String {
    let n = query.commands.len();
    let mut leading: Vec<Vec<&str>> = vec![Vec::new(); n + 1];
    let mut trailing: Vec<Vec<&str>> = vec![Vec::new(); n];
    for c in comments {
        let Some(text) = c.slice(src) else { continue };
        let text = text.trim_end();
        // the command this comment is inside of, or on the same line as
        // (the last such command: on `a | b # c` the comment belongs to `b`)
        let owner = query.commands.iter().rposition(|cmd| {
            let inside = cmd.span.start <= c.start && c.start < cmd.span.end;
            let same_line = cmd.span.end <= c.start
                && src
                    .get(cmd.span.end..c.start)
                    .is_some_and(|gap| !gap.contains('\n'));
            inside || same_line
        });
        match owner {
            Some(i) => trailing[i].push(text),
            None => {
                let next = query
                    .commands
                    .iter()
                    .position(|cmd| cmd.span.start > c.start)
                    .unwrap_or(n);
                leading[next].push(text);
            }
        }
    }
    let mut out = String::new();
    for (i, cmd) in query.commands.iter().enumerate() {
        for l in &leading[i] {
            out.push_str(l);
            out.push('\n');
        }
        if i > 0 {
            out.push_str("| ");
        }
        command(&mut out, &cmd.node);
        for t in &trailing[i] {
            out.push(' ');
            out.push_str(t);
        }
        out.push('\n');
    }
    for l in &leading[n] {
        out.push_str(l);
        out.push('\n');
    }
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Prints a query on one line (`a | b | c`), as used for subqueries.
pub fn print_inline(query: &Query) -> String {
    let mut out = String::new();
    inline(&mut out, query);
    out
}

fn inline(out: &mut String, query: &Query) {
    for (i, c) in query.commands.iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        command(out, &c.node);
    }
}

/// Words that must be quoted with backticks when used as a field name.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "like",
    "in",
    "as",
    "by",
    "true",
    "false",
    "asc",
    "desc",
    "into",
    "with",
    "for",
    "offset",
    "maxspan",
    "multi",
    "output",
    "outputnew",
    "where",
    "any",
    "now",
    "logfmt",
    "csv",
    "timeshift",
];

/// True when `name` lexes as a single plain name that is not a keyword.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars().peekable();
    while chars.peek() == Some(&'@') {
        chars.next();
    }
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_alphabetic() || first == '_') {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    let mut prev = first;
    for (i, &c) in rest.iter().enumerate() {
        let ok = if c == '.' {
            // a dot must be followed by a name char (or `@`)
            rest.get(i + 1)
                .is_some_and(|n| n.is_alphanumeric() || *n == '_' || *n == '@')
        } else if c == '@' {
            prev == '.' || prev == '@'
        } else {
            c.is_alphanumeric() || c == '_'
        };
        if !ok {
            return false;
        }
        prev = c;
    }
    !KEYWORDS.contains(&name.to_ascii_lowercase().as_str())
}

fn backtick(out: &mut String, name: &str) {
    out.push('`');
    for c in name.chars() {
        if c == '`' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('`');
}

fn field(out: &mut String, name: &str) {
    if is_plain_name(name) {
        out.push_str(name);
    } else {
        backtick(out, name);
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn regex(out: &mut String, r: &RegexLit) {
    out.push('/');
    let mut chars = r.pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' => out.push_str("\\/"),
            '\\' => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    out.push('/');
    out.push_str(&r.flags);
}

fn period(out: &mut String, p: &Period) {
    let _ = write!(out, "{}{}", p.amount, p.unit.short());
}

fn literal(out: &mut String, l: &Literal) {
    match l {
        Literal::String(s) => string(out, s),
        Literal::Number(n) => out.push_str(&n.text),
        Literal::Regex(r) => regex(out, r),
        Literal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Literal::Period(p) => period(out, p),
    }
}

fn list<T>(out: &mut String, items: &[T], sep: &str, mut f: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        f(out, item);
    }
}

fn projection(out: &mut String, p: &Projection) {
    expr(out, &p.expr.node);
    if let Some(a) = &p.alias {
        out.push_str(" as ");
        field(out, &a.name);
    }
}

fn opt_bool(out: &mut String, name: &str, v: &Option<Node<bool>>) {
    if let Some(b) = v {
        let _ = write!(out, " {name}={}", b.node);
    }
}

fn command(out: &mut String, c: &Command) {
    out.push_str(c.keyword());
    match c {
        Command::Fields(items) | Command::Display(items) => {
            out.push(' ');
            list(out, items, ", ", |o, p| projection(o, p));
        }
        Command::Filter(e) | Command::FilterIndex(e) | Command::Pattern(e) => {
            out.push(' ');
            expr(out, &e.node);
        }
        Command::Stats(s) => {
            out.push(' ');
            list(out, &s.aggregates, ", ", |o, p| projection(o, p));
            if !s.by.is_empty() {
                out.push_str(" by ");
                list(out, &s.by, ", ", |o, p| projection(o, p));
            }
            if let Some(p) = &s.offset {
                out.push_str(" offset ");
                period(out, p);
            }
        }
        Command::Sort(keys) => {
            out.push(' ');
            list(out, keys, ", ", |o, k| {
                expr(o, &k.expr.node);
                match k.order.as_ref().map(|n| n.node) {
                    Some(SortOrder::Asc) => o.push_str(" asc"),
                    Some(SortOrder::Desc) => o.push_str(" desc"),
                    None => {}
                }
            });
        }
        Command::Limit(Limit::Count(n)) => {
            let _ = write!(out, " {}", n.node);
        }
        Command::Limit(Limit::Any) => out.push_str(" any"),
        Command::Dedup(fields) | Command::CountFrequent(fields) => {
            out.push(' ');
            list(out, fields, ", ", |o, f| field(o, &f.name));
        }
        Command::RelevantFields(fields) => {
            if !fields.is_empty() {
                out.push(' ');
                list(out, fields, ", ", |o, f| field(o, &f.name));
            }
        }
        Command::Parse(p) => {
            if let Some(f) = &p.field {
                out.push(' ');
                field(out, &f.name);
            }
            out.push(' ');
            let names = |o: &mut String, names: &[Node<Field>]| {
                if !names.is_empty() {
                    o.push_str(" as ");
                    list(o, names, ", ", |o, n| field(o, &n.name));
                }
            };
            match &p.mode {
                ParseMode::Glob { pattern, names: n } => {
                    string(out, pattern);
                    names(out, n);
                }
                ParseMode::Regex { regex: r, multi } => {
                    regex(out, r);
                    if *multi {
                        out.push_str(" multi");
                    }
                }
                ParseMode::Logfmt { names: n } => {
                    out.push_str("logfmt");
                    names(out, n);
                }
                ParseMode::Csv { names: n } => {
                    out.push_str("csv");
                    names(out, n);
                }
            }
        }
        Command::Unmask(f) => {
            if let Some(f) = f {
                out.push(' ');
                field(out, &f.name);
            }
        }
        Command::Unnest { input, into } => {
            out.push(' ');
            expr(out, &input.node);
            out.push_str(" into ");
            field(out, &into.name);
        }
        Command::Expand(f) => {
            out.push(' ');
            field(out, &f.name);
        }
        Command::Lookup(l) | Command::CidrLookup(l) => {
            out.push(' ');
            if is_plain_name(&l.table) {
                out.push_str(&l.table);
            } else {
                backtick(out, &l.table);
            }
            out.push(' ');
            field(out, &l.field.name);
            if let Some(c) = &l.table_column {
                out.push_str(" as ");
                field(out, &c.name);
            }
            out.push_str(match l.mode.node {
                LookupMode::Output => " OUTPUT ",
                LookupMode::OutputNew => " OUTPUTNEW ",
            });
            list(out, &l.outputs, ", ", |o, x| {
                field(o, &x.column.name);
                if let Some(a) = &x.alias {
                    o.push_str(" as ");
                    field(o, &a.name);
                }
            });
        }
        Command::Join(j) => {
            if let Some(k) = &j.kind {
                out.push_str(match k.node {
                    JoinKind::Inner => " type=inner",
                    JoinKind::Left => " type=left",
                });
            }
            out.push_str(" left=");
            field(out, &j.left);
            out.push_str(" right=");
            field(out, &j.right);
            out.push_str(" where ");
            expr(out, &j.condition.node);
            out.push_str(" (");
            inline(out, &j.subquery);
            out.push(')');
        }
        Command::Source(s) => {
            out.push(' ');
            match &s.selector {
                SourceSelector::Names(names) => list(out, names, ", ", |o, n| string(o, n)),
                SourceSelector::LogGroups(args) => {
                    out.push_str("logGroups(");
                    list(out, args, ", ", |o, a| {
                        o.push_str(&a.name);
                        o.push_str(": ");
                        expr(o, &a.value.node);
                    });
                    out.push(')');
                }
            }
            for (name, b) in [("start", &s.start), ("end", &s.end)] {
                if let Some(b) = b {
                    let _ = write!(out, " {name}=");
                    match &b.node {
                        TimeBound::Now => out.push_str("now"),
                        TimeBound::Relative {
                            negative,
                            period: p,
                        } => {
                            if *negative {
                                out.push('-');
                            }
                            period(out, p);
                        }
                    }
                }
            }
        }
        Command::Anomaly => {}
        Command::Diff(b) => {
            if let Some(b) = b {
                out.push_str(match b.node {
                    DiffBaseline::PreviousDay => " previousDay",
                    DiffBaseline::PreviousWeek => " previousWeek",
                    DiffBaseline::PreviousMonth => " previousMonth",
                });
            }
        }
        Command::LogCompare { timeshift } => {
            out.push_str(" timeshift ");
            period(out, timeshift);
        }
        Command::Accum { field: f, alias } => {
            out.push(' ');
            field(out, &f.name);
            if let Some(a) = alias {
                out.push_str(" as ");
                field(out, &a.name);
            }
        }
        Command::Autoregress {
            field: f,
            alias,
            lags,
        } => {
            out.push(' ');
            field(out, &f.name);
            if let Some(a) = alias {
                out.push_str(" as ");
                field(out, &a.name);
            }
            if let Some(l) = lags {
                if l.from == l.to {
                    let _ = write!(out, " p={}", l.from);
                } else {
                    let _ = write!(out, " p={}-{}", l.from, l.to);
                }
            }
        }
        Command::Filldown(patterns) => {
            for p in patterns {
                out.push(' ');
                // split on `*` and quote the pieces that need it
                let mut first = true;
                for piece in p.pattern.split('*') {
                    if !first {
                        out.push('*');
                    }
                    first = false;
                    if !piece.is_empty() {
                        field(out, piece);
                    }
                }
                out.push(',');
            }
            if !patterns.is_empty() {
                out.pop();
            }
        }
        Command::FillMissing(fills) => {
            if !fills.is_empty() {
                out.push_str(" with ");
                list(out, fills, ", ", |o, f| {
                    expr(o, &f.value.node);
                    o.push_str(" for ");
                    field(o, &f.field.name);
                });
            }
        }
        Command::Outlier(o) => {
            if let Some(a) = &o.action {
                out.push_str(match a.node {
                    OutlierAction::Remove => " action=remove",
                    OutlierAction::Transform => " action=transform",
                });
            }
            if let Some(p) = &o.param {
                let _ = write!(out, " param={}", p.text);
            }
            opt_bool(out, "uselower", &o.uselower);
            opt_bool(out, "mark", &o.mark);
            out.push(' ');
            list(out, &o.fields, ", ", |o, f| field(o, &f.name));
        }
        Command::Sessionize {
            keys,
            maxspan,
            alias,
        } => {
            out.push(' ');
            list(out, keys, ", ", |o, f| field(o, &f.name));
            if let Some(m) = maxspan {
                out.push_str(" maxspan ");
                period(out, m);
            }
            if let Some(a) = alias {
                out.push_str(" as ");
                field(out, &a.name);
            }
        }
        Command::AddTotals(a) => {
            if let Some(f) = &a.fieldname {
                out.push_str(" fieldname=");
                field(out, &f.name);
            }
            opt_bool(out, "row", &a.row);
            opt_bool(out, "col", &a.col);
            if !a.fields.is_empty() {
                out.push(' ');
                list(out, &a.fields, ", ", |o, f| field(o, &f.name));
            }
        }
        Command::AppendCols(a) => {
            opt_bool(out, "override", &a.override_);
            if let Some(m) = &a.max {
                let _ = write!(out, " max={}", m.node);
            }
            out.push_str(" (");
            inline(out, &a.subquery);
            out.push(')');
        }
    }
}

/// Binding power of an expression's top operator (higher binds tighter).
fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Binary { op, .. } => op.precedence(),
        Expr::Unary {
            op: UnaryOp::Not, ..
        } => 3,
        Expr::Unary {
            op: UnaryOp::Neg, ..
        } => 8,
        _ => 10,
    }
}

fn child(out: &mut String, e: &Expr, parens: bool) {
    if parens {
        out.push('(');
        expr(out, e);
        out.push(')');
    } else {
        expr(out, e);
    }
}

/// Prints an expression with the parentheses its shape needs (and no others).
pub fn expr_to_string(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e);
    out
}

fn expr(out: &mut String, e: &Expr) {
    match e {
        Expr::Literal(l) => literal(out, l),
        Expr::Field(f) => field(out, &f.name),
        Expr::Star => out.push('*'),
        Expr::List(items) => {
            out.push('[');
            list(out, items, ", ", |o, i| expr(o, &i.node));
            out.push(']');
        }
        Expr::Call(c) => {
            out.push_str(&c.written);
            out.push('(');
            list(out, &c.args, ", ", |o, a| expr(o, &a.node));
            out.push(')');
        }
        Expr::Unary {
            op: UnaryOp::Neg,
            expr: inner,
        } => {
            out.push('-');
            // `- -x` rather than `--x`, and parentheses around anything looser than unary
            let p = prec(&inner.node);
            if matches!(
                inner.node,
                Expr::Unary {
                    op: UnaryOp::Neg,
                    ..
                }
            ) {
                out.push(' ');
            }
            child(out, &inner.node, p < 8);
        }
        Expr::Unary {
            op: UnaryOp::Not,
            expr: inner,
        } => {
            out.push_str("not ");
            child(out, &inner.node, prec(&inner.node) < 3);
        }
        Expr::Binary { op, lhs, rhs } => {
            let p = op.precedence();
            let (lp, rp) = (prec(&lhs.node), prec(&rhs.node));
            let (lparen, rparen) = if op.is_comparison() {
                (lp <= p, rp <= p)
            } else if *op == BinaryOp::Pow {
                (lp <= p, rp < p)
            } else {
                (lp < p, rp <= p)
            };
            // `not` binds looser than every operator above `and`
            let lparen = lparen
                || (p > 3
                    && matches!(
                        lhs.node,
                        Expr::Unary {
                            op: UnaryOp::Not,
                            ..
                        }
                    ));
            let rparen = rparen
                || (p > 3
                    && matches!(
                        rhs.node,
                        Expr::Unary {
                            op: UnaryOp::Not,
                            ..
                        }
                    ));
            child(out, &lhs.node, lparen);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            if let Expr::Subquery(q) = &rhs.node {
                out.push('(');
                inline(out, q);
                out.push(')');
            } else {
                child(out, &rhs.node, rparen);
            }
        }
        Expr::Member { base, name } => {
            child(out, &base.node, prec(&base.node) < 10);
            out.push('.');
            backtick(out, name);
        }
        Expr::Index { base, index } => {
            child(out, &base.node, prec(&base.node) < 10);
            out.push('[');
            expr(out, &index.node);
            out.push(']');
        }
        Expr::Subquery(q) => {
            out.push('(');
            inline(out, q);
            out.push(')');
        }
    }
}
