//! Analysis pass over the AST before planning: which field paths the query reads from the
//! events (so the scan extracts only those), whether it reads `@message`, the `@message`
//! substring prefilter, and the subqueries to run first.

use std::collections::HashSet;

use ow_diagnostics::Span;
use ow_query_syntax::ast::{BinaryOp, Command, Expr, Literal, Node, ParseMode, Query, UnaryOp};

use crate::scan::{Prefilter, GROUP, SEQ, SYSTEM_FIELDS};

/// What the analysis found.
#[derive(Debug, Default, Clone)]
pub struct Analysis {
    /// Field paths read from events (not system fields), in first-use order.
    pub paths: Vec<String>,
    /// Whether `@message` is read by the query (including the default output columns).
    pub needs_message: bool,
    /// Necessary condition on the raw `@message` from `@message like 'x'` tests only (worth
    /// reading `@message` for).
    pub prefilter: Option<Prefilter>,
    /// A stronger necessary condition that also uses tests on JSON fields; applied when
    /// `@message` is read anyway (see `prefilters`).
    pub implied_prefilter: Option<Prefilter>,
    /// Whether the scan should read newest events first: false only when the order that
    /// feeds the final cap is `sort @timestamp asc` (a reading-order hint for early
    /// termination, see [`crate::scan::ScanRequest::newest_first`]).
    pub newest_first: bool,
    /// The first field the query reads or defines under a name the engine reserves for its
    /// hidden columns (`__seq`, `__group`, `__elem…`), with its span: the planner rejects such a query
    /// (Q422) rather than confuse the two.
    pub reserved: Option<(String, Span)>,
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
    reserved: Option<(String, Span)>,
}

impl Walker {
    /// Notes `name` (read or defined at `span`) if the engine reserves it.
    fn check(&mut self, name: &str, span: Span) {
        if self.reserved.is_none()
            && (name == SEQ || name == GROUP || name.starts_with(crate::plan::ELEM))
        {
            self.reserved = Some((name.to_string(), span));
        }
    }

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
            Expr::Field(f) => {
                self.check(&f.name, e.span);
                self.field(&f.name)
            }
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
        reserved: None,
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
                        w.check(&a.name, a.span);
                        w.define(&a.name);
                    }
                }
            }
            Command::Filter(e) | Command::FilterIndex(e) => w.expr(e),
            Command::Stats(s) => {
                for p in s.aggregates.iter().chain(&s.by) {
                    w.expr(&p.expr);
                    if let Some(a) = &p.alias {
                        w.check(&a.name, a.span);
                    }
                }
                has_stats = true;
                w.aggregated = true;
            }
            Command::Sort(keys) => keys.iter().for_each(|k| w.expr(&k.expr)),
            Command::Dedup(fields) => fields.iter().for_each(|f| {
                w.check(&f.name, f.span);
                w.field(&f.name)
            }),
            Command::Parse(p) => {
                match &p.field {
                    Some(f) => {
                        w.check(&f.name, f.span);
                        w.field(&f.name)
                    }
                    None => w.field("@message"),
                }
                match &p.mode {
                    ParseMode::Glob { names, .. }
                    | ParseMode::Logfmt { names }
                    | ParseMode::Csv { names } => names.iter().for_each(|n| {
                        w.check(&n.name, n.span);
                        w.define(&n.name)
                    }),
                    ParseMode::Regex { regex, .. } => {
                        for name in crate::parse::regex_group_names(&regex.pattern) {
                            w.check(&name, regex.span);
                            w.define(&name);
                        }
                    }
                }
            }
            Command::Unnest { input, into } => {
                w.expr(input);
                w.check(&into.name, into.span);
                w.define(&into.name);
            }
            Command::Expand(f) => {
                w.check(&f.name, f.span);
                w.field(&f.name)
            }
            Command::Lookup(l) => {
                w.check(&l.field.name, l.field.span);
                w.field(&l.field.name);
                for o in &l.outputs {
                    let target = o.alias.as_ref().unwrap_or(&o.column);
                    w.check(&target.name, target.span);
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
    let (explicit, full) = prefilters(query);
    Analysis {
        paths: w.paths,
        needs_message: w.needs_message,
        prefilter: explicit,
        implied_prefilter: full,
        newest_first: newest_first(query),
        reserved: w.reserved,
    }
}

/// The reading order that lets a top-N end early: the last `sort` before any `stats`
/// decides; `sort @timestamp asc` (first key) reads oldest first, anything else (and the
/// default `@timestamp desc`) newest first.
fn newest_first(query: &Query) -> bool {
    use ow_query_syntax::ast::SortOrder;
    let mut newest = true;
    for cmd in &query.commands {
        match &cmd.node {
            Command::Stats(_) => break,
            Command::Sort(keys) => {
                newest = match keys.first() {
                    Some(k) if matches!(&k.expr.node, Expr::Field(f) if f.name == "@timestamp") => {
                        k.order
                            .as_ref()
                            .map(|o| o.node)
                            .unwrap_or(SortOrder::DEFAULT)
                            != SortOrder::Asc
                    }
                    _ => true,
                };
            }
            _ => {}
        }
    }
    newest
}

/// Names a command defines (outputs), for tracking what a field name means at a filter.
fn defined_names(cmd: &Command) -> Vec<String> {
    match cmd {
        Command::Fields(items) | Command::Display(items) => items
            .iter()
            .filter_map(|p| p.alias.as_ref().map(|a| a.name.clone()))
            .collect(),
        Command::Parse(p) => match &p.mode {
            ParseMode::Glob { names, .. }
            | ParseMode::Logfmt { names }
            | ParseMode::Csv { names } => names.iter().map(|n| n.name.clone()).collect(),
            ParseMode::Regex { regex, .. } => crate::parse::regex_group_names(&regex.pattern),
        },
        Command::Unnest { into, .. } => vec![into.name.clone()],
        Command::Expand(f) => vec![f.name.clone()],
        Command::Lookup(l) => l
            .outputs
            .iter()
            .map(|o| o.alias.as_ref().unwrap_or(&o.column).name.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// What a field name denotes at some point of the pipeline, for the prefilter.
#[derive(Clone)]
enum Meaning {
    /// The raw `@message`.
    Message,
    /// A field extracted from the JSON `@message` (its text occurs in the raw message).
    Path,
    /// Anything else (computed, parsed, looked up, system fields other than `@message`).
    Opaque,
}

/// Builds the substring prefilters from the filters before the first `stats`:
/// `(explicit, full)`. `explicit` uses only `@message like 'x'` tests; `full` adds
/// conditions implied by tests on JSON fields (`f like 'x'`, `f = 'x'`, `f in ['x', …]`
/// where `f` is a path or a plain alias of one): if such a test passes, the field's text
/// contains `x`, so the raw message does too, provided `x` has no character JSON may escape
/// (only printable ASCII other than `"`, `\`, `/`) and `=`/`in` compare as strings (`x` is
/// not numeric, §3.3).
fn prefilters(query: &Query) -> (Option<Prefilter>, Option<Prefilter>) {
    let mut explicit = Vec::new();
    let mut full = Vec::new();
    let mut meanings: std::collections::HashMap<String, Meaning> = std::collections::HashMap::new();
    for cmd in &query.commands {
        match &cmd.node {
            Command::Filter(e) => {
                let lookup = |name: &str| -> Meaning {
                    match meanings.get(name) {
                        Some(m) => m.clone(),
                        None if name == "@message" => Meaning::Message,
                        None if is_system(name) => Meaning::Opaque,
                        None => Meaning::Path,
                    }
                };
                if let Some(p) = condition(e, &lookup, false) {
                    explicit.push(p);
                }
                if let Some(p) = condition(e, &lookup, true) {
                    full.push(p);
                }
            }
            // Rows dropped early would change which rows a limit/dedup keeps.
            Command::Stats(_) | Command::Limit(_) | Command::Dedup(_) => break,
            Command::Fields(items) | Command::Display(items) => {
                for p in items {
                    let Some(alias) = &p.alias else { continue };
                    let m = match &p.expr.node {
                        Expr::Field(f) => match meanings.get(&f.name) {
                            Some(m) => m.clone(),
                            None if f.name == "@message" => Meaning::Message,
                            None if is_system(&f.name) => Meaning::Opaque,
                            None => Meaning::Path,
                        },
                        _ => Meaning::Opaque,
                    };
                    meanings.insert(alias.name.clone(), m);
                }
            }
            other => {
                for n in defined_names(other) {
                    meanings.insert(n, Meaning::Opaque);
                }
            }
        }
    }
    let join = |mut parts: Vec<Prefilter>| match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Prefilter::And(parts)),
    };
    (join(explicit), join(full))
}

/// Most literal alternatives a regex prefilter may test (each is one substring search).
const MAX_REGEX_LITERALS: usize = 64;

/// Literals one of which every match of the regex must contain, e.g. `AccessDenied` or
/// `Unauthorized` for `/AccessDenied|Unauthorized/`, `-000120-` … `-000129-` for
/// `/-00012[0-9]-/`, the case variants of `(?i)deny`. They are the regex's prefix
/// literals (`regex_syntax::hir::literal::Extractor`): every match starts with one of
/// them (a truncated, inexact literal is still a prefix of the match), so the text the
/// regex runs on contains it. `None` when there is no such finite, non-empty set (an empty
/// literal, `.*` at the start, too many variants) or the regex does not parse (the planner
/// reports that).
fn required_literals(r: &ow_query_syntax::ast::RegexLit) -> Option<Vec<Vec<u8>>> {
    let pattern = crate::plan::regex_text(r);
    let hir = regex_syntax::Parser::new().parse(&pattern).ok()?;
    let mut extractor = regex_syntax::hir::literal::Extractor::new();
    extractor.kind(regex_syntax::hir::literal::ExtractKind::Prefix);
    let seq = extractor.extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty()
        || literals.len() > MAX_REGEX_LITERALS
        || literals.iter().any(|l| l.as_bytes().is_empty())
    {
        return None;
    }
    Some(literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// A literal usable as a substring condition (non-empty).
fn json_safe(s: &str) -> bool {
    !s.is_empty()
}

/// A necessary condition on the raw `@message` implied by `e` being true, if one can be
/// stated. `implied` also uses tests on JSON fields (see [`prefilters`]).
fn condition(
    e: &Node<Expr>,
    meaning: &dyn Fn(&str) -> Meaning,
    implied: bool,
) -> Option<Prefilter> {
    let field_meaning = |x: &Node<Expr>| match &x.node {
        Expr::Field(f) => Some(meaning(&f.name)),
        _ => None,
    };
    match &e.node {
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::Like | BinaryOp::RegexMatch
                if matches!(&rhs.node, Expr::Literal(Literal::Regex(_))) =>
            {
                // A match contains one of the regex's required literals.
                let Expr::Literal(Literal::Regex(r)) = &rhs.node else {
                    return None;
                };
                let alts = required_literals(r)?;
                let ok = match field_meaning(lhs)? {
                    Meaning::Message => true,
                    Meaning::Path => implied,
                    Meaning::Opaque => false,
                };
                if !ok {
                    return None;
                }
                let mut v: Vec<Prefilter> = alts.into_iter().map(Prefilter::Contains).collect();
                if v.len() == 1 {
                    v.pop()
                } else {
                    Some(Prefilter::Or(v))
                }
            }
            BinaryOp::Like | BinaryOp::NotLike => {
                let Expr::Literal(Literal::String(s)) = &rhs.node else {
                    return None;
                };
                match (field_meaning(lhs)?, op) {
                    (Meaning::Message, BinaryOp::Like) => {
                        Some(Prefilter::Contains(s.as_bytes().to_vec()))
                    }
                    (Meaning::Message, _) => Some(Prefilter::NotContains(s.as_bytes().to_vec())),
                    (Meaning::Path, BinaryOp::Like) if implied && json_safe(s) => {
                        Some(Prefilter::Contains(s.as_bytes().to_vec()))
                    }
                    _ => None,
                }
            }
            BinaryOp::Eq if implied => {
                let Expr::Literal(Literal::String(s)) = &rhs.node else {
                    return None;
                };
                match field_meaning(lhs)? {
                    Meaning::Path if json_safe(s) && s.trim().parse::<f64>().is_err() => {
                        Some(Prefilter::Contains(s.as_bytes().to_vec()))
                    }
                    _ => None,
                }
            }
            BinaryOp::In if implied => {
                let Expr::List(items) = &rhs.node else {
                    return None;
                };
                if !matches!(field_meaning(lhs)?, Meaning::Path) {
                    return None;
                }
                let mut alts = Vec::new();
                for i in items {
                    match &i.node {
                        Expr::Literal(Literal::String(s))
                            if json_safe(s) && s.trim().parse::<f64>().is_err() =>
                        {
                            alts.push(Prefilter::Contains(s.as_bytes().to_vec()))
                        }
                        _ => return None,
                    }
                }
                if alts.is_empty() {
                    return None;
                }
                Some(Prefilter::Or(alts))
            }
            BinaryOp::And => {
                let l = condition(lhs, meaning, implied);
                let r = condition(rhs, meaning, implied);
                match (l, r) {
                    (Some(l), Some(r)) => Some(Prefilter::And(vec![l, r])),
                    (Some(x), None) | (None, Some(x)) => Some(x),
                    (None, None) => None,
                }
            }
            BinaryOp::Or => {
                let l = condition(lhs, meaning, implied)?;
                let r = condition(rhs, meaning, implied)?;
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
            } if matches!(field_meaning(lhs), Some(Meaning::Message)) => {
                let Expr::Literal(Literal::String(s)) = &rhs.node else {
                    return None;
                };
                Some(Prefilter::NotContains(s.as_bytes().to_vec()))
            }
            _ => None,
        },
        _ => None,
    }
}
