//! Analysis pass over the AST before planning: which field paths the query reads from the
//! events (so the scan extracts only those), whether it reads `@message`, the `@message`
//! substring prefilter, and the subqueries to run first.

use std::collections::HashSet;

use ow_query_syntax::ast::{BinaryOp, Command, Expr, Literal, Node, ParseMode, Query, UnaryOp};

use crate::scan::{Prefilter, SYSTEM_FIELDS};

/// What the analysis found.
#[derive(Debug, Default, Clone)]
pub struct Analysis {
    /// Field paths read from events (not system fields), in first-use order.
    pub paths: Vec<String>,
    /// Whether `@message` is read by the query (including the default output columns).
    pub needs_message: bool,
    /// Necessary condition on the raw `@message` (see [`Prefilter`]).
    pub prefilter: Option<Prefilter>,
}

/// Whether `name` is a system field the scan provides.
pub fn is_system(name: &str) -> bool {
    SYSTEM_FIELDS.contains(&name)
}

struct Walker {
    defined: HashSet<String>,
    seen: HashSet<String>,
    paths: Vec<String>,
    needs_message: bool,
    /// After the first `stats`, no field is read from events any more.
    aggregated: bool,
}

impl Walker {
    fn field(&mut self, name: &str) {
        if self.aggregated {
            return;
        }
        if name == "@message" {
            self.needs_message = true;
        }
        if is_system(name) || self.defined.contains(name) {
            return;
        }
        // `j.items` where `j` is a defined (jsonParse) value: member access, not a path.
        let mut prefix = name;
        while let Some((head, _)) = prefix.rsplit_once('.') {
            if self.defined.contains(head) {
                return;
            }
            prefix = head;
        }
        if self.seen.insert(name.to_string()) {
            self.paths.push(name.to_string());
        }
    }

    fn expr(&mut self, e: &Node<Expr>) {
        match &e.node {
            Expr::Field(f) => self.field(&f.name),
            Expr::Literal(_) | Expr::Star | Expr::Subquery(_) => {}
            Expr::List(items) => items.iter().for_each(|i| self.expr(i)),
            Expr::Call(c) => {
                // bin(), datefloor(@timestamp…) read @timestamp, a system field: nothing to scan.
                c.args.iter().for_each(|a| self.expr(a));
            }
            Expr::Unary { expr, .. } => self.expr(expr),
            Expr::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            Expr::Member { base, .. } => self.expr(base),
            Expr::Index { base, index } => {
                self.expr(base);
                self.expr(index);
            }
        }
    }

    fn define(&mut self, name: &str) {
        self.defined.insert(name.to_string());
    }
}

/// Analyses `query` (the outer query; subqueries are analysed when they run).
pub fn analyze(query: &Query) -> Analysis {
    let mut w = Walker {
        defined: HashSet::new(),
        seen: HashSet::new(),
        paths: Vec::new(),
        needs_message: false,
        aggregated: false,
    };
    let mut has_projection = false;
    let mut has_stats = false;
    for cmd in &query.commands {
        match &cmd.node {
            Command::Fields(items) | Command::Display(items) => {
                has_projection = true;
                for p in items {
                    w.expr(&p.expr);
                    if let Some(a) = &p.alias {
                        w.define(&a.name);
                    }
                }
            }
            Command::Filter(e) | Command::FilterIndex(e) => w.expr(e),
            Command::Stats(s) => {
                for p in s.aggregates.iter().chain(&s.by) {
                    w.expr(&p.expr);
                }
                has_stats = true;
                w.aggregated = true;
            }
            Command::Sort(keys) => keys.iter().for_each(|k| w.expr(&k.expr)),
            Command::Dedup(fields) => fields.iter().for_each(|f| w.field(&f.name)),
            Command::Parse(p) => {
                match &p.field {
                    Some(f) => w.field(&f.name),
                    None => w.field("@message"),
                }
                match &p.mode {
                    ParseMode::Glob { names, .. }
                    | ParseMode::Logfmt { names }
                    | ParseMode::Csv { names } => names.iter().for_each(|n| w.define(&n.name)),
                    ParseMode::Regex { regex, .. } => {
                        for name in crate::parse::regex_group_names(&regex.pattern) {
                            w.define(&name);
                        }
                    }
                }
            }
            Command::Unnest { input, into } => {
                w.expr(input);
                w.define(&into.name);
            }
            Command::Expand(f) => w.field(&f.name),
            Command::Lookup(l) => {
                w.field(&l.field.name);
                for o in &l.outputs {
                    let target = o.alias.as_ref().unwrap_or(&o.column);
                    // OUTPUTNEW reads the existing value.
                    w.field(&target.name);
                    w.define(&target.name);
                }
            }
            _ => {}
        }
    }
    if !has_projection && !has_stats {
        w.needs_message = true;
    }
    Analysis {
        paths: w.paths,
        needs_message: w.needs_message,
        prefilter: prefilter(query),
    }
}

/// Builds the `@message` substring prefilter from the filters before the first `stats`.
fn prefilter(query: &Query) -> Option<Prefilter> {
    let mut parts = Vec::new();
    for cmd in &query.commands {
        match &cmd.node {
            Command::Filter(e) => {
                if let Some(p) = message_condition(e) {
                    parts.push(p);
                }
            }
            Command::Stats(_) => break,
            Command::Fields(items) | Command::Display(items) => {
                if items
                    .iter()
                    .any(|p| p.alias.as_ref().is_some_and(|a| a.name == "@message"))
                {
                    break;
                }
            }
            Command::Parse(p) => {
                let defines_message = match &p.mode {
                    ParseMode::Glob { names, .. }
                    | ParseMode::Logfmt { names }
                    | ParseMode::Csv { names } => names.iter().any(|n| n.name == "@message"),
                    ParseMode::Regex { regex, .. } => {
                        crate::parse::regex_group_names(&regex.pattern)
                            .iter()
                            .any(|n| n == "@message")
                    }
                };
                if defines_message {
                    break;
                }
            }
            Command::Unnest { into, .. } if into.name == "@message" => break,
            Command::Lookup(l)
                if l.outputs
                    .iter()
                    .any(|o| o.alias.as_ref().unwrap_or(&o.column).name == "@message") =>
            {
                break
            }
            _ => {}
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Prefilter::And(parts)),
    }
}

/// A necessary condition on `@message` implied by `e` being true, if one can be stated.
fn message_condition(e: &Node<Expr>) -> Option<Prefilter> {
    match &e.node {
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::Like | BinaryOp::NotLike => {
                let is_message = matches!(&lhs.node, Expr::Field(f) if f.name == "@message");
                let Expr::Literal(Literal::String(s)) = &rhs.node else {
                    return None;
                };
                if !is_message {
                    return None;
                }
                let bytes = s.as_bytes().to_vec();
                Some(if *op == BinaryOp::Like {
                    Prefilter::Contains(bytes)
                } else {
                    Prefilter::NotContains(bytes)
                })
            }
            BinaryOp::And => {
                let l = message_condition(lhs);
                let r = message_condition(rhs);
                match (l, r) {
                    (Some(l), Some(r)) => Some(Prefilter::And(vec![l, r])),
                    (Some(x), None) | (None, Some(x)) => Some(x),
                    (None, None) => None,
                }
            }
            BinaryOp::Or => {
                let l = message_condition(lhs)?;
                let r = message_condition(rhs)?;
                Some(Prefilter::Or(vec![l, r]))
            }
            _ => None,
        },
        Expr::Unary {
            op: UnaryOp::Not,
            expr,
        } => match &expr.node {
            Expr::Binary {
                op: BinaryOp::Like,
                lhs,
                rhs,
            } => message_condition(&Node::new(
                Expr::Binary {
                    op: BinaryOp::NotLike,
                    lhs: lhs.clone(),
                    rhs: rhs.clone(),
                },
                e.span,
            )),
            _ => None,
        },
        _ => None,
    }
}
