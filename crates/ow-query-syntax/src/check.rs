//! Semantic checks that AWS performs when it compiles a query (`MalformedQueryException`):
//! command ordering (spec §4.21), functions (unknown, arity, argument kinds, aggregate
//! placement, §6), `bin()` caps (§6.3), limits (§7), and field visibility after `stats`
//! (§4.5). All problems are reported, each with a stable code (see [`crate::codes`]).
//!
//! Decisions on undocumented points (spec \[I\]/\[D\] items), all configurable in
//! [`CheckConfig`]:
//! - `stats` commands per query: default **2**, the only limit AWS itself published
//!   ("quota can't be changed", 2024 docs \[D\]); a 2026 emulator uses 10 \[I\]. A linter should
//!   follow AWS's own word until a conformance run says otherwise.
//! - One `join` per query \[I\].
//! - `bin()` periods above the per-unit cap (`300s`) are a *warning*: AWS silently caps them
//!   rather than rejecting the query (§6.3).
//! - In a `stats`, a non-aggregate item must only use aliases defined earlier in the same
//!   `stats` (§4.5 alias reuse) or `by` keys; anything else is Q305.
//! - After a `stats`, a later command may name an un-aliased aggregate column by writing the
//!   aggregate text again (`| sort count(*) desc`, `| stats max(SUM(Fault))`); the text is
//!   compared ignoring case and whitespace (§4.5 \[I\]).

use std::collections::HashSet;

use ow_diagnostics::{Diagnostic, Span};

use crate::ast::*;
use crate::codes;
use crate::functions::{self, ArgKind, FunctionKind};
use crate::suggest::did_you_mean;

/// Limits enforced by the checker. Defaults are AWS's values (spec §7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckConfig {
    /// Maximum query length in characters (AWS `QueryString` 0–10,000, §2.1 \[V\]).
    pub max_query_chars: usize,
    /// Maximum `stats` commands per query (§4.5: 2 documented \[D\]; see module docs).
    pub max_stats_commands: usize,
    /// Maximum `join` commands per query (§4.14: 1 \[I\]).
    pub max_joins: usize,
    /// Maximum `namePrefix` entries in `SOURCE logGroups(…)` (§4.16: 5 \[V\]).
    pub max_name_prefixes: usize,
    /// Maximum `accountIdentifiers` entries in `SOURCE logGroups(…)` (§4.16: 20 \[V\]).
    pub max_account_identifiers: usize,
    /// Maximum `appendcols max=` (§4.20: 100,000 \[V\]).
    pub max_appendcols_rows: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            max_query_chars: 10_000,
            max_stats_commands: 2,
            max_joins: 1,
            max_name_prefixes: 5,
            max_account_identifiers: 20,
            max_appendcols_rows: 100_000,
        }
    }
}

/// Runs the semantic checks on a parsed query; returns the diagnostics (errors and
/// warnings) in source order.
pub fn check_query(src: &str, query: &Query, config: &CheckConfig) -> Vec<Diagnostic> {
    let mut c = Checker {
        src,
        config,
        diags: Vec::new(),
        depth: 0,
    };
    let chars = src.chars().count();
    if chars > config.max_query_chars {
        let start = src
            .char_indices()
            .nth(config.max_query_chars)
            .map_or(src.len(), |(i, _)| i);
        c.diags.push(
            Diagnostic::error(
                codes::QUERY_TOO_LONG,
                format!(
                    "query is {chars} characters long; the limit is {}",
                    config.max_query_chars
                ),
                Span::new(start, src.len()),
            )
            .with_primary_label("beyond the limit")
            .with_note("AWS rejects query strings longer than 10,000 characters"),
        );
    }
    c.pipeline(query);
    let mut diags = c.diags;
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    diags
}

/// Where an expression appears, for aggregate placement rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// An aggregate item of `stats`.
    StatsAggregate,
    /// A `by` key of `stats`.
    StatsBy,
    /// Any other command (`fields`, `filter`, …); the name is for messages.
    Other(&'static str),
}

/// Fields visible after a `stats` (rule 7 of §4.21).
struct Visibility {
    /// `None` before any `stats`, or when a command with hard-to-predict outputs (join,
    /// lookup, pattern, …) follows; then nothing is reported.
    names: Option<HashSet<String>>,
    /// Span of the most recent `stats`.
    stats_span: Span,
    /// Normalised texts of every stats output so far (for `sort count(*)` references).
    stats_outputs: HashSet<String>,
    /// The most recent `stats` grouped by `bin(…)`.
    binned: bool,
    /// A `stats` called an unknown function (Q301): its outputs are not known, so a later
    /// `sort count(*)` may well name one (QA, session 19: `stats cnt(*) … | sort count(*)`
    /// got a second error, "aggregate function outside stats", that the fix removes).
    outputs_unknown: bool,
}

impl Visibility {
    fn knows(&self, name: &str) -> bool {
        let Some(names) = &self.names else {
            return true;
        };
        if names.contains(name) {
            return true;
        }
        // after `stats … by bin(…)` the bin key stands for the event time, so
        // `| sort @timestamp desc` is a common, harmless idiom
        if name == "@timestamp" && self.binned {
            return true;
        }
        // map access on a visible field: `j.items` when `j` is visible
        let mut prefix = name;
        while let Some(i) = prefix.rfind('.') {
            prefix = &prefix[..i];
            if names.contains(prefix) {
                return true;
            }
        }
        // A plain name (a field, an alias) is case-sensitive (spec §2.3), as the engine
        // resolves it: `stats count(*) as Denied | sort denied` sorted nothing, silently
        // (QA, session 20). Only an expression's text (`COUNT( * )`) is compared loosely.
        if !name.contains('(') {
            return false;
        }
        let norm = normalise(name);
        names.iter().any(|n| normalise(n) == norm)
    }

    fn define(&mut self, name: &str) {
        if let Some(names) = &mut self.names {
            names.insert(name.to_string());
        }
    }
}

/// Lower-cases and strips whitespace: `COUNT( * )` and `count(*)` name the same column.
fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

struct Checker<'a> {
    src: &'a str,
    config: &'a CheckConfig,
    diags: Vec<Diagnostic>,
    /// Subquery nesting: 0 in the main query.
    depth: usize,
}

impl<'a> Checker<'a> {
    fn text(&self, span: Span) -> &'a str {
        span.slice(self.src).unwrap_or("")
    }

    /// The output column name of a projection (see [`Projection::output_name`]).
    fn output_name(&self, p: &Projection) -> String {
        p.output_name(self.src)
    }

    // ----- pipeline-level rules (§4.21) --------------------------------------------------

    fn pipeline(&mut self, query: &Query) {
        let cmds = &query.commands;
        // 1. SOURCE first
        for (i, c) in cmds.iter().enumerate() {
            if i > 0 && matches!(c.node, Command::Source(_)) {
                self.diags.push(
                    Diagnostic::error(
                        codes::SOURCE_NOT_FIRST,
                        "`SOURCE` must be the first command",
                        c.span,
                    )
                    .with_label(cmds[0].span, "the query starts here")
                    .with_help("move `SOURCE` to the start of the query"),
                );
            }
        }
        // 5. stats count, 6. joins
        let stats: Vec<&Node<Command>> = cmds
            .iter()
            .filter(|c| matches!(c.node, Command::Stats(_)))
            .collect();
        if stats.len() > self.config.max_stats_commands {
            for extra in &stats[self.config.max_stats_commands..] {
                self.diags.push(
                    Diagnostic::error(
                        codes::TOO_MANY_STATS,
                        format!(
                            "too many `stats` commands: at most {} per query",
                            self.config.max_stats_commands
                        ),
                        extra.span,
                    )
                    .with_label(stats[0].span, "first `stats`")
                    .with_note("AWS documents a limit of two `stats` commands per query"),
                );
            }
        }
        let joins: Vec<&Node<Command>> = cmds
            .iter()
            .filter(|c| matches!(c.node, Command::Join(_)))
            .collect();
        if joins.len() > self.config.max_joins {
            for extra in &joins[self.config.max_joins..] {
                self.diags.push(
                    Diagnostic::error(
                        codes::TOO_MANY_JOINS,
                        format!("at most {} `join` per query", self.config.max_joins),
                        extra.span,
                    )
                    .with_label(joins[0].span, "first `join`"),
                );
            }
        }
        // 2. sort/limit after the last stats. AWS states the rule for queries with several
        //    `stats` (§4.5 \[V\]); with a single `stats`, real dashboards sort before it and
        //    run, so there a `sort` only draws a warning (it cannot change the result) and a
        //    `limit` (which does change it: it caps the input) nothing \[I\].
        if let Some(last_stats) = cmds
            .iter()
            .rposition(|c| matches!(c.node, Command::Stats(_)))
        {
            let several = stats.len() > 1;
            for c in &cmds[..last_stats] {
                let kw = c.node.keyword();
                match (&c.node, several) {
                    (Command::Sort(_) | Command::Limit(_), true) => self.diags.push(
                        Diagnostic::error(
                            codes::SORT_BEFORE_STATS,
                            format!("`{kw}` must come after the last `stats`"),
                            c.span,
                        )
                        .with_label(cmds[last_stats].span, "last `stats` is here")
                        .with_help(format!("move `{kw}` after the last `stats`"))
                        .with_note("AWS requires `sort` and `limit` after the last of several `stats` commands"),
                    ),
                    (Command::Sort(_), false) => self.diags.push(
                        Diagnostic::warning(
                            codes::SORT_BEFORE_STATS,
                            "`sort` before `stats` has no effect on the result",
                            c.span,
                        )
                        .with_label(cmds[last_stats].span, "`stats` is here")
                        .with_help("sort the aggregated rows instead: move `sort` after `stats`"),
                    ),
                    _ => {}
                }
            }
        }
        // 3. only limit after dedup
        if let Some(d) = cmds
            .iter()
            .position(|c| matches!(c.node, Command::Dedup(_)))
        {
            if let Some(bad) = cmds[d + 1..]
                .iter()
                .find(|c| !matches!(c.node, Command::Limit(_)))
            {
                self.diags.push(
                    Diagnostic::error(
                        codes::AFTER_DEDUP,
                        format!(
                            "`{}` cannot follow `dedup`; only `limit` may",
                            bad.node.keyword()
                        ),
                        bad.span,
                    )
                    .with_label(cmds[d].span, "`dedup` is here")
                    .with_help("move `dedup` to the end of the query (before `limit`)"),
                );
            }
        }
        // 4. pattern not after sort; 9. anomaly after pattern; 8. fillmissing after stats by bin
        let mut seen_sort: Option<Span> = None;
        let mut seen_pattern = false;
        let mut binned_stats = false;
        for c in cmds {
            match &c.node {
                Command::Sort(_) => seen_sort = seen_sort.or(Some(c.span)),
                Command::Pattern(_) => {
                    if let Some(s) = seen_sort {
                        self.diags.push(
                            Diagnostic::error(
                                codes::PATTERN_AFTER_SORT,
                                "`pattern` cannot follow `sort`",
                                c.span,
                            )
                            .with_label(s, "`sort` is here"),
                        );
                    }
                    seen_pattern = true;
                }
                Command::Anomaly if !seen_pattern => {
                    self.diags.push(
                        Diagnostic::error(
                            codes::ANOMALY_WITHOUT_PATTERN,
                            "`anomaly` needs a preceding `pattern`",
                            c.span,
                        )
                        .with_help("write `pattern @message | anomaly`"),
                    );
                }
                Command::Stats(s) => {
                    binned_stats = s.by.iter().any(|p| contains_call(&p.expr, "bin"));
                }
                Command::FillMissing(_) if !binned_stats => {
                    self.diags.push(
                        Diagnostic::warning(
                            codes::FILLMISSING_WITHOUT_BIN,
                            "`fillmissing` only has an effect after `stats … by bin(…)`",
                            c.span,
                        )
                        .with_help("group by a time bin first, e.g. `stats count(*) as n by bin(1m) | fillmissing`"),
                    );
                }
                _ => {}
            }
        }
        // per-command checks with field visibility
        let mut vis = Visibility {
            names: None,
            stats_span: Span::default(),
            stats_outputs: HashSet::new(),
            binned: false,
            outputs_unknown: false,
        };
        for c in cmds {
            self.command(c, &mut vis);
        }
    }

    fn command(&mut self, c: &Node<Command>, vis: &mut Visibility) {
        let kw = c.node.keyword();
        match &c.node {
            Command::Fields(items) | Command::Display(items) => {
                for p in items {
                    self.expr(&p.expr, Ctx::Other(kw), vis, false);
                    vis.define(&self.output_name(p));
                }
            }
            Command::Filter(e) => {
                self.string_conditions(e);
                self.expr(e, Ctx::Other(kw), vis, true)
            }
            Command::Stats(s) => self.stats(s, c.span, vis),
            Command::Sort(keys) => {
                for k in keys {
                    if matches!(k.expr.node, Expr::Literal(_)) {
                        // QA (session 20): `sort "n" desc`, `sort 2 desc` (SQL habits)
                        self.diags.push(
                            Diagnostic::warning(
                                codes::CONSTANT_SORT_KEY,
                                "`sort` by a constant: every row has the same key, so the rows keep their order",
                                k.expr.span,
                            )
                            .with_help("sort by a field or an alias: `sort n desc` (a name with spaces or symbols in backticks)"),
                        );
                    }
                    self.expr(&k.expr, Ctx::Other(kw), vis, false);
                }
            }
            Command::Limit(Limit::Count(n)) => {
                if n.node == 0 {
                    self.diags.push(
                        Diagnostic::error(codes::BAD_LIMIT, "`limit` must be at least 1", n.span)
                            .with_help(
                                "use `limit 1` or more; `limit any` stops early without a count",
                            ),
                    );
                }
            }
            Command::Limit(Limit::Any) | Command::Anomaly => {}
            Command::Dedup(fields) => {
                for f in fields {
                    self.field_ref(&f.name, f.span, vis);
                }
            }
            Command::Parse(p) => {
                if let Some(f) = &p.field {
                    self.field_ref(&f.name, f.span, vis);
                }
                self.parse_mode(&p.mode, vis);
            }
            Command::Unmask(f) => {
                if let Some(f) = f {
                    self.field_ref(&f.name, f.span, vis);
                }
            }
            Command::Unnest { input, into } => {
                self.expr(input, Ctx::Other(kw), vis, false);
                vis.define(&into.name);
            }
            Command::Expand(f) => self.field_ref(&f.name, f.span, vis),
            Command::Lookup(l) | Command::CidrLookup(l) => {
                self.field_ref(&l.field.name, l.field.span, vis);
                vis.names = None;
            }
            Command::Join(j) => {
                self.join_condition(j);
                self.subquery(&j.subquery);
                vis.names = None;
            }
            Command::Source(s) => self.source(s),
            Command::FilterIndex(e) => {
                self.filter_index(e);
                self.expr(e, Ctx::Other(kw), vis, false);
            }
            Command::Pattern(e) => {
                self.expr(e, Ctx::Other(kw), vis, false);
                vis.names = None;
            }
            Command::Diff(_) | Command::LogCompare { .. } => vis.names = None,
            Command::Accum { field, alias } => {
                self.field_ref(&field.name, field.span, vis);
                if let Some(a) = alias {
                    vis.define(&a.name);
                } else {
                    vis.names = None;
                }
            }
            Command::Autoregress { field, .. } => {
                self.field_ref(&field.name, field.span, vis);
                vis.names = None;
            }
            Command::Filldown(_) => {}
            Command::FillMissing(fills) => {
                for f in fills {
                    self.expr(&f.value, Ctx::Other(kw), vis, false);
                    self.field_ref(&f.field.name, f.field.span, vis);
                }
            }
            Command::Outlier(o) => {
                for f in &o.fields {
                    self.field_ref(&f.name, f.span, vis);
                }
                if o.mark.is_some() {
                    vis.names = None;
                }
            }
            Command::Sessionize {
                keys,
                maxspan,
                alias,
            } => {
                for k in keys {
                    self.field_ref(&k.name, k.span, vis);
                }
                if let Some(p) = maxspan {
                    self.nonzero_period(p);
                }
                vis.define(alias.as_ref().map_or("session_id", |a| a.name.as_str()));
            }
            Command::CountFrequent(fields) => {
                for f in fields {
                    self.field_ref(&f.name, f.span, vis);
                }
                vis.names = None;
            }
            Command::AddTotals(a) => {
                for f in &a.fields {
                    self.field_ref(&f.name, f.span, vis);
                }
                vis.names = None;
            }
            Command::AppendCols(a) => {
                if let Some(m) = &a.max {
                    if m.node == 0 || m.node > self.config.max_appendcols_rows {
                        self.diags.push(Diagnostic::error(
                            codes::BAD_LIMIT,
                            format!(
                                "`appendcols max` must be between 1 and {}",
                                self.config.max_appendcols_rows
                            ),
                            m.span,
                        ));
                    }
                }
                self.subquery(&a.subquery);
                vis.names = None;
            }
            Command::RelevantFields(_) => vis.names = None,
        }
    }

    fn subquery(&mut self, q: &Node<Query>) {
        if self.depth > 0 {
            self.diags.push(
                Diagnostic::error(
                    codes::NESTED_SUBQUERY,
                    "subqueries cannot be nested",
                    q.span,
                )
                .with_note("AWS allows one level of subqueries"),
            );
            return;
        }
        self.depth += 1;
        self.pipeline(&q.node);
        self.depth -= 1;
    }

    /// Reports a field that the preceding `stats` did not produce. Inside a later `stats` this
    /// is the documented compile error (§4.5, §4.21 rule 7); in other commands AWS's
    /// behaviour is not documented, so it is a warning (the field will simply be empty) \[I\].
    fn field_ref(&mut self, name: &str, span: Span, vis: &Visibility) {
        self.field_ref_in(name, span, vis, false);
    }

    fn field_ref_in(&mut self, name: &str, span: Span, vis: &Visibility, in_stats: bool) {
        if vis.knows(name) {
            return;
        }
        let mut d = if in_stats {
            Diagnostic::error(
                codes::FIELD_AFTER_STATS,
                format!("field `{name}` is not available after `stats`"),
                span,
            )
        } else {
            Diagnostic::warning(
                codes::FIELD_AFTER_STATS,
                format!("field `{name}` is not available after `stats`; it will be empty"),
                span,
            )
        }
        .with_label(
            vis.stats_span,
            "only the group keys and aggregates of this `stats` remain",
        );
        if let Some(names) = &vis.names {
            let mut list: Vec<&str> = names.iter().map(String::as_str).collect();
            list.sort_unstable();
            if let Some(s) = did_you_mean(name, list.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            if !list.is_empty() {
                d = d.with_note(format!("available fields: {}", list.join(", ")));
            }
        }
        self.diags.push(d);
    }

    fn stats(&mut self, s: &Stats, span: Span, vis: &mut Visibility) {
        // by keys first: they are evaluated per input record
        let mut by_names = Vec::new();
        for p in &s.by {
            self.expr(&p.expr, Ctx::StatsBy, vis, false);
            by_names.push(self.output_name(p));
        }
        let mut aliases: Vec<String> = Vec::new();
        for p in &s.aggregates {
            let has_agg = self.contains_aggregate(&p.expr, vis);
            let mut bare = Vec::new();
            collect_bare_fields(&p.expr, &mut bare, &|c: &Node<Expr>| self.is_opaque(c, vis));
            let mut ok_bare = true;
            for (name, fspan) in &bare {
                let known = aliases.iter().chain(by_names.iter()).any(|a| a == name);
                if !known {
                    ok_bare = false;
                    self.diags.push(
                        Diagnostic::error(
                            codes::NON_AGGREGATE_IN_STATS,
                            format!(
                                "field `{name}` is used in `stats` outside an aggregate function"
                            ),
                            *fspan,
                        )
                        .with_help(format!(
                            "aggregate it (e.g. `max({name})`) or group by it with `by {name}`"
                        )),
                    );
                }
            }
            let unknown_call = contains_unknown_call(&p.expr);
            if !has_agg && bare.is_empty() && ok_bare && !unknown_call {
                self.diags.push(
                    Diagnostic::error(
                        codes::NON_AGGREGATE_IN_STATS,
                        "`stats` expression contains no aggregate function",
                        p.expr.span,
                    )
                    .with_help("use an aggregate such as count(*), sum(x), avg(x), pct(x, 95)"),
                );
            }
            // check calls etc. inside, with the earlier aliases visible
            let mut inner = Visibility {
                names: vis.names.clone().map(|mut n| {
                    n.extend(aliases.iter().cloned());
                    n
                }),
                stats_span: vis.stats_span,
                stats_outputs: vis.stats_outputs.clone(),
                binned: false,
                outputs_unknown: vis.outputs_unknown,
            };
            self.expr_inner(&p.expr, Ctx::StatsAggregate, &mut inner, false, false);
            aliases.push(self.output_name(p));
        }
        if let Some(o) = &s.offset {
            self.nonzero_period(o);
        }
        // one result column per name: `count(*) as c, sum(x) as c` or `by a, a` would name
        // two columns alike [I: our rule; the engine cannot tell them apart]
        let mut first: Vec<(String, Span)> = Vec::new();
        for p in s.by.iter().chain(&s.aggregates) {
            let name = self.output_name(p);
            let at = p.alias.as_ref().map_or(p.expr.span, |a| a.span);
            match first.iter().find(|(n, _)| *n == name) {
                Some((_, earlier)) => self.diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_STATS_NAME,
                        format!("`stats` already has a result column named `{name}`"),
                        at,
                    )
                    .with_label(*earlier, "first named here")
                    .with_help("give one of them another name with `as`"),
                ),
                None => first.push((name, at)),
            }
        }
        // what remains visible
        let mut names: HashSet<String> = by_names.iter().cloned().collect();
        names.extend(aliases.iter().cloned());
        for n in &names {
            vis.stats_outputs.insert(normalise(n));
        }
        vis.outputs_unknown = s.aggregates.iter().any(|p| contains_unknown_call(&p.expr));
        vis.names = (!vis.outputs_unknown).then_some(names);
        vis.stats_span = span;
        vis.binned = s.by.iter().any(|p| contains_call(&p.expr, "bin"));
    }

    fn is_aggregate_call(&self, e: &Node<Expr>, vis: &Visibility) -> bool {
        match &e.node {
            Expr::Call(c) => {
                functions::get(&c.name).is_some_and(|f| f.kind.is_aggregate())
                    && !vis.stats_outputs.contains(&normalise(self.text(e.span)))
            }
            _ => false,
        }
    }

    /// An aggregate call, or a call that names an earlier stats column by its text.
    fn is_opaque(&self, e: &Node<Expr>, vis: &Visibility) -> bool {
        match &e.node {
            // An unknown function (Q301) is opaque too: whether it aggregates is not known,
            // and "field used outside an aggregate" for its argument misled (QA, session 18:
            // `count_distinc(x)`).
            Expr::Call(c) => {
                functions::get(&c.name).is_none_or(|f| f.kind.is_aggregate())
                    || vis.stats_outputs.contains(&normalise(self.text(e.span)))
            }
            _ => false,
        }
    }

    fn contains_aggregate(&self, e: &Node<Expr>, vis: &Visibility) -> bool {
        if self.is_aggregate_call(e, vis) {
            return true;
        }
        let mut found = false;
        for_each_child(e, &mut |c| found |= self.contains_aggregate(c, vis));
        found
    }

    // ----- expressions ----------------------------------------------------------------

    fn expr(&mut self, e: &Node<Expr>, ctx: Ctx, vis: &mut Visibility, in_filter: bool) {
        self.expr_inner(e, ctx, vis, false, in_filter);
    }

    /// `in_agg`: inside an aggregate's arguments (nested aggregates are errors).
    fn expr_inner(
        &mut self,
        e: &Node<Expr>,
        ctx: Ctx,
        vis: &mut Visibility,
        in_agg: bool,
        in_filter: bool,
    ) {
        match &e.node {
            Expr::Literal(Literal::Regex(r)) => {
                self.regex(r, e.span);
            }
            Expr::Literal(_) => {}
            Expr::Field(f) => {
                // a backticked `null` names a field on purpose (QA, session 20)
                if f.name.eq_ignore_ascii_case("null")
                    && !self
                        .src
                        .get(e.span.start..)
                        .is_some_and(|t| t.starts_with('`'))
                {
                    self.null_as_field(e.span);
                }
                self.field_ref_in(
                    &f.name,
                    e.span,
                    vis,
                    matches!(ctx, Ctx::StatsAggregate | Ctx::StatsBy),
                )
            }
            Expr::Star => self.misplaced_star(e.span),
            Expr::List(items) => {
                for i in items {
                    self.expr_inner(i, ctx, vis, in_agg, false);
                }
            }
            Expr::Call(call) => self.call(e, call, ctx, vis, in_agg),
            Expr::Unary { expr, .. } => self.expr_inner(expr, ctx, vis, in_agg, in_filter),
            Expr::Binary { op, lhs, rhs } => {
                self.lint_binary(*op, lhs, rhs);
                let keep_filter = in_filter && matches!(op, BinaryOp::And | BinaryOp::Or);
                self.expr_inner(lhs, ctx, vis, in_agg, keep_filter);
                if let Expr::Subquery(q) = &rhs.node {
                    if in_filter && matches!(op, BinaryOp::In | BinaryOp::NotIn) {
                        self.subquery(q);
                        return;
                    }
                }
                self.expr_inner(rhs, ctx, vis, in_agg, keep_filter);
            }
            Expr::Member { base, .. } => self.expr_inner(base, ctx, vis, in_agg, false),
            Expr::Index { base, index } => {
                self.expr_inner(base, ctx, vis, in_agg, false);
                self.expr_inner(index, ctx, vis, in_agg, false);
            }
            Expr::Subquery(q) => {
                self.diags.push(
                    Diagnostic::error(
                        codes::MISPLACED_SUBQUERY,
                        "a subquery is only allowed as `filter <field> in (…)`",
                        q.span,
                    )
                    .with_help("write `filter field in (SOURCE … | fields field)`"),
                );
            }
        }
    }

    /// Warnings for two classic traps: SQL-style wildcards in `like "…"` (spec §5.2: a
    /// string is a plain substring, `%`/`*` are literal) and comparing `@timestamp` with a
    /// date string (§3.3: unsupported; compare `toMillis(@timestamp)` with epoch ms).
    fn lint_binary(&mut self, op: BinaryOp, lhs: &Node<Expr>, rhs: &Node<Expr>) {
        if matches!(op, BinaryOp::Like | BinaryOp::NotLike) {
            if let Expr::Literal(Literal::String(text)) = &rhs.node {
                let wild = |c: char| c == '%' || c == '*';
                if text.len() > 1 && (text.starts_with(wild) || text.ends_with(wild)) {
                    let inner = text.trim_matches(wild);
                    self.diags.push(
                        Diagnostic::warning(
                            codes::LIKE_WILDCARD,
                            "`like` with a string is a substring match; `%` and `*` are matched literally",
                            rhs.span,
                        )
                        .with_help(format!(
                            "drop the wildcards (`like \"{inner}\"`) or use a regex such as `like /{inner}/`"
                        )),
                    );
                }
            }
        }
        if op.is_comparison()
            && !matches!(
                op,
                BinaryOp::Like
                    | BinaryOp::NotLike
                    | BinaryOp::RegexMatch
                    | BinaryOp::In
                    | BinaryOp::NotIn
            )
        {
            let is_time = |e: &Node<Expr>| matches!(&e.node, Expr::Field(f) if f.name == "@timestamp" || f.name == "@ingestionTime");
            let string_side = match (&lhs.node, &rhs.node) {
                (_, Expr::Literal(Literal::String(_))) if is_time(lhs) => Some(rhs.span),
                (Expr::Literal(Literal::String(_)), _) if is_time(rhs) => Some(lhs.span),
                _ => None,
            };
            if let Some(span) = string_side {
                self.diags.push(
                    Diagnostic::warning(
                        codes::TIMESTAMP_STRING_COMPARE,
                        "comparing a timestamp with a string does not filter by date",
                        span,
                    )
                    .with_help(
                        "compare epoch milliseconds: `toMillis(@timestamp) >= 1700000000000`",
                    )
                    .with_note("AWS does not support filtering by human-readable timestamps"),
                );
            }
        }
    }

    /// A string literal where `filter` wants a condition: the whole filter, or an operand of
    /// `and`, `or`, `not` (spec §5.1: they take boolean operands). QA (session 20):
    /// `filter eventName = "AssumeRole" or "GetCallerIdentity"` kept AssumeRole only.
    #[inline(never)]
    fn string_conditions(&mut self, e: &Node<Expr>) {
        match &e.node {
            Expr::Literal(crate::ast::Literal::String(_)) => self.diags.push(
                Diagnostic::warning(
                    codes::STRING_AS_CONDITION,
                    "a string is not a condition: it never matches",
                    e.span,
                )
                .with_help(
                    "compare a field with it (`x = 'a' or x = 'b'`, or `x in ['a', 'b']`), or test a substring with `x like 'a'`",
                ),
            ),
            Expr::Binary {
                op: BinaryOp::And | BinaryOp::Or,
                lhs,
                rhs,
            } => {
                self.string_conditions(lhs);
                self.string_conditions(rhs);
            }
            Expr::Unary {
                op: UnaryOp::Not,
                expr,
            } => self.string_conditions(expr),
            _ => {}
        }
    }

    /// QA (session 19): `filter errorCode != null` matched every event. Out of line: the
    /// recursive expression walk's frame stays small (a 2,000-term chain overflowed the
    /// stack when the diagnostic was built inline).
    #[inline(never)]
    fn null_as_field(&mut self, span: Span) {
        self.diags.push(
            Diagnostic::warning(
                codes::NULL_AS_FIELD,
                "`null` is read as a field name: Logs Insights has no null literal",
                span,
            )
            .with_help("test whether a field exists with `ispresent(x)` or `not ispresent(x)`"),
        );
    }

    #[inline(never)]
    fn misplaced_star(&mut self, span: Span) {
        self.diags.push(
            Diagnostic::error(
                codes::MISPLACED_STAR,
                "`*` is only allowed as `count(*)`",
                span,
            )
            .with_help("name a field instead"),
        );
    }

    fn call(&mut self, e: &Node<Expr>, call: &Call, ctx: Ctx, vis: &mut Visibility, in_agg: bool) {
        // a reference to an earlier stats column by its text (`sort count(*) desc`)
        if vis.stats_outputs.contains(&normalise(self.text(e.span))) {
            return;
        }
        let Some(spec) = functions::get(&call.name) else {
            let written = &call.written.node;
            let mut d = Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown function `{written}`"),
                call.written.span,
            )
            .with_primary_label("not a Logs Insights function");
            // in a `stats` aggregate, an aggregate first (`cnt` is `count`, not `concat`)
            let aggregates = functions::FUNCTIONS
                .iter()
                .filter(|f| f.kind.is_aggregate())
                .flat_map(|f| std::iter::once(f.canonical).chain(f.aliases.iter().copied()));
            let suggestion = match ctx {
                Ctx::StatsAggregate if !in_agg => did_you_mean(written, aggregates),
                _ => None,
            }
            .or_else(|| did_you_mean(written, functions::all_names()));
            if let Some(help) = other_languages_help(written) {
                d = d.with_help(help);
            } else if let Some(name) = other_languages_name(written) {
                d = d.with_help(if name.contains(['(', ' ']) {
                    format!("in Logs Insights, write `{name}`")
                } else {
                    format!("Logs Insights calls it `{name}`")
                });
            } else if let Some(s) = suggestion {
                d = d.with_help(format!("did you mean `{s}`?"));
            } else if crate::commands::lookup(written).is_some() {
                d = d.with_help(format!(
                    "`{written}` is a command, not a function; separate commands with `|`"
                ));
            }
            self.diags.push(d);
            for a in &call.args {
                // `*` may be right for the function meant (`cnt(*)`): Q301 says enough
                if !matches!(a.node, Expr::Star) {
                    self.expr_inner(a, ctx, vis, in_agg, false);
                }
            }
            return;
        };
        let is_agg = spec.kind.is_aggregate();
        if is_agg {
            match ctx {
                Ctx::StatsAggregate if in_agg => {
                    self.diags.push(
                        Diagnostic::error(
                            codes::NESTED_AGGREGATE,
                            format!("aggregate `{}` inside another aggregate", call.written.node),
                            e.span,
                        )
                        .with_help("compute the inner aggregate in a first `stats` and aggregate its result in a second"),
                    );
                }
                Ctx::StatsAggregate => {}
                Ctx::StatsBy => {
                    self.diags.push(
                        Diagnostic::error(
                            codes::AGGREGATE_IN_BY,
                            format!("aggregate `{}` cannot be a `by` key", call.written.node),
                            e.span,
                        )
                        .with_help("group by fields or `bin(…)`; aggregates go before `by`"),
                    );
                }
                Ctx::Other(_) if vis.outputs_unknown => {}
                Ctx::Other(cmd) => {
                    let kind = if spec.kind == FunctionKind::TimeSeries {
                        "time-series function"
                    } else {
                        "aggregate function"
                    };
                    self.diags.push(
                        Diagnostic::error(
                            codes::AGGREGATE_OUTSIDE_STATS,
                            format!(
                                "{kind} `{}` can only be used in `stats`, not in `{cmd}`",
                                call.written.node
                            ),
                            e.span,
                        )
                        .with_help(format!("use `stats {}` to aggregate", self.text(e.span))),
                    );
                }
            }
        }
        // arity
        let n = call.args.len();
        if n < spec.min_args || spec.max_args.is_some_and(|m| n > m) {
            let mut d = Diagnostic::error(
                codes::WRONG_ARITY,
                format!(
                    "`{}` takes {} argument{}, found {n}",
                    call.written.node,
                    spec.arity_text(),
                    if spec.arity_text() == "1" { "" } else { "s" }
                ),
                e.span,
            );
            if spec.name == "case" {
                d = d.with_note(format!(
                    "case() takes condition/value pairs and an optional default, at most {} branches",
                    functions::MAX_CASE_BRANCHES
                ));
            }
            self.diags.push(d);
        }
        // argument kinds
        for (i, a) in call.args.iter().enumerate() {
            let kind = spec.arg_kind(i);
            self.arg_kind(call, i, a, kind);
            match &a.node {
                Expr::Star if kind == ArgKind::StarOrAny => {}
                Expr::Star => {} // reported by arg_kind
                _ => self.expr_inner(a, ctx, vis, in_agg || is_agg, false),
            }
        }
        if spec.name == "bin" {
            if let Some(Node {
                node: Expr::Literal(Literal::Period(p)),
                span,
            }) = call.args.first()
            {
                self.bin_period(*p, *span);
            }
            if vis
                .names
                .as_ref()
                .is_some_and(|n| !n.contains("@timestamp"))
            {
                self.diags.push(
                    Diagnostic::error(
                        codes::BIN_WITHOUT_TIMESTAMP,
                        "`bin()` reads `@timestamp`, which the preceding `stats` did not keep",
                        e.span,
                    )
                    .with_label(vis.stats_span, "this `stats` drops `@timestamp`")
                    .with_help("keep a timestamp in the first `stats` (e.g. `max(@timestamp) as @t`) and use `datefloor(@t, 5m)`"),
                );
            }
        }
        // earliest(f)/latest(f) pick by the events' @timestamp, like bin() (spec §6.9).
        if matches!(spec.name, "earliest" | "latest")
            && vis
                .names
                .as_ref()
                .is_some_and(|n| !n.contains("@timestamp"))
        {
            self.diags.push(
                Diagnostic::error(
                    codes::TIME_EXTREME_WITHOUT_TIMESTAMP,
                    format!(
                        "`{}()` picks a value by `@timestamp`, which the preceding `stats` did not keep",
                        call.written.node
                    ),
                    e.span,
                )
                .with_label(vis.stats_span, "this `stats` drops `@timestamp`"),
            );
        }
    }

    fn arg_kind(&mut self, call: &Call, i: usize, a: &Node<Expr>, kind: ArgKind) {
        let what = |k: ArgKind| match k {
            ArgKind::Period => "a time period such as `5m`",
            ArgKind::Field => "a field name",
            ArgKind::Number => "a number",
            ArgKind::String => "a string",
            ArgKind::StringOrRegex => "a string or /regex/",
            ArgKind::Bool => "a condition",
            ArgKind::Timestamp => "a timestamp such as `@timestamp`",
            ArgKind::Any | ArgKind::StarOrAny => "a value",
        };
        let found = match &a.node {
            Expr::Literal(Literal::Regex(_)) => Some("a regex"),
            Expr::Literal(Literal::Period(_)) => Some("a time period"),
            Expr::Literal(Literal::String(_)) => Some("a string"),
            Expr::Literal(Literal::Number(_)) => Some("a number"),
            Expr::Literal(Literal::Bool(_)) => Some("a boolean"),
            Expr::List(_) => Some("a list"),
            Expr::Star => Some("`*`"),
            _ => None,
        };
        let ok = match (kind, &a.node) {
            (_, Expr::Star) => kind == ArgKind::StarOrAny,
            (ArgKind::Period, Expr::Literal(Literal::Period(_))) => true,
            (ArgKind::Period, _) => false,
            (ArgKind::Field, Expr::Field(_) | Expr::Member { .. } | Expr::Index { .. }) => true,
            (ArgKind::Field, _) => false,
            (ArgKind::StringOrRegex, Expr::Literal(Literal::Regex(_))) => true,
            (_, Expr::Literal(Literal::Regex(_) | Literal::Period(_))) => false,
            (ArgKind::Any | ArgKind::StarOrAny, _) => true,
            (_, Expr::List(_)) => false,
            _ => true,
        };
        if !ok && matches!(a.node, Expr::Star) {
            self.misplaced_star(a.span);
            return;
        }
        if !ok {
            let found = found.unwrap_or("an expression");
            let mut d = Diagnostic::error(
                codes::WRONG_ARG_KIND,
                format!(
                    "argument {} of `{}` must be {}, found {found}",
                    i + 1,
                    call.written.node,
                    what(kind)
                ),
                a.span,
            );
            if kind == ArgKind::Period {
                d = d.with_help("time periods are written like `30s`, `5m`, `1h`, `1d`");
            }
            if matches!(a.node, Expr::Star) {
                d = d.with_help("`*` is only valid as `count(*)`");
            }
            self.diags.push(d);
        }
    }

    fn nonzero_period(&mut self, p: &Node<Period>) -> bool {
        if p.amount == 0 {
            self.diags.push(
                Diagnostic::error(
                    codes::ZERO_PERIOD,
                    "time period must be greater than zero",
                    p.span,
                )
                .with_primary_label("zero length"),
            );
            return false;
        }
        true
    }

    /// Spec §6.3: `ms` ≤ 1000, `s` ≤ 60, `m` ≤ 60, `h` ≤ 24; larger values are silently
    /// capped by AWS.
    fn bin_period(&mut self, p: Period, span: Span) {
        if !self.nonzero_period(&Node::new(p, span)) {
            return;
        }
        let cap = match p.unit {
            TimeUnit::Millisecond => 1000,
            TimeUnit::Second | TimeUnit::Minute => 60,
            TimeUnit::Hour => 24,
            _ => return,
        };
        if p.amount <= cap {
            return;
        }
        let capped = format!("{}{}", cap, p.unit.short());
        let mut d = Diagnostic::warning(
            codes::BIN_CAPPED,
            format!(
                "`bin({}{})` is capped to `bin({capped})` by AWS",
                p.amount,
                p.unit.short()
            ),
            span,
        )
        .with_primary_label(format!("at most {cap}{} for this unit", p.unit.short()));
        if let Some(ms) = p.fixed_ms() {
            let better = [
                (TimeUnit::Day, 86_400_000u64),
                (TimeUnit::Hour, 3_600_000),
                (TimeUnit::Minute, 60_000),
                (TimeUnit::Second, 1_000),
            ]
            .into_iter()
            .find(|(_, u)| ms % u == 0 && ms / u > 0);
            if let Some((unit, u)) = better {
                d = d.with_help(format!("write `bin({}{})`", ms / u, unit.short()));
            }
        }
        self.diags.push(d);
    }

    /// Validates a regex literal (flags applied as a leading `(?flags)`), reporting Q312;
    /// returns the compiled regex when it is valid and within our compile budget. A pattern
    /// that is valid but too big to compile here is not judged: AWS's engine has other
    /// limits.
    fn regex(&mut self, r: &RegexLit, span: Span) -> Option<regex::Regex> {
        let pattern = if r.flags.is_empty() {
            r.pattern.clone()
        } else {
            format!("(?{}){}", r.flags, r.pattern)
        };
        match regex::RegexBuilder::new(&pattern)
            .size_limit(1 << 22)
            .build()
        {
            Ok(re) => Some(re),
            Err(regex::Error::CompiledTooBig(_)) => None,
            Err(e) => {
                let msg = e.to_string();
                let detail = msg
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                let mut d = Diagnostic::error(
                    codes::INVALID_REGEX,
                    format!("invalid regular expression: {detail}"),
                    span,
                );
                if msg.contains("look-around") || msg.contains("backreference") {
                    d = d.with_note(
                        "Logs Insights regexes (RE2/Hyperscan) support neither look-around nor back-references",
                    );
                }
                // A `/` ends the literal even inside `[…]` (spec §2, regex literals: "a
                // literal `/` must be escaped `\/`" [I]), so `[^/]+` cuts the regex short and
                // leaves its class open; say so on the first error of the cascade.
                if msg.contains("unclosed character class") {
                    d = d.with_help(
                        "a `/` ends the regex, even inside `[…]`: write `\\/` for a slash",
                    );
                }
                self.diags.push(d);
                None
            }
        }
    }

    fn parse_mode(&mut self, mode: &ParseMode, vis: &mut Visibility) {
        match mode {
            ParseMode::Glob { pattern, names } => {
                let stars = pattern.matches('*').count();
                if stars != names.len() {
                    let names_span = match (names.first(), names.last()) {
                        (Some(a), Some(b)) => a.span.to(b.span),
                        _ => pattern.span,
                    };
                    self.diags.push(
                        Diagnostic::error(
                            codes::GLOB_NAME_COUNT,
                            format!(
                                "the pattern has {stars} `*` but {} name{} follow `as`",
                                names.len(),
                                if names.len() == 1 { "" } else { "s" }
                            ),
                            pattern.span,
                        )
                        .with_label(names_span, "names here")
                        .with_help("each `*` captures into one name, in order"),
                    );
                }
                for n in names {
                    vis.define(&n.name);
                }
            }
            ParseMode::Regex { regex, .. } => {
                if let Some(re) = self.regex(&regex.node, regex.span) {
                    let names: Vec<&str> = re.capture_names().flatten().collect();
                    if names.is_empty() {
                        self.diags.push(
                            Diagnostic::warning(
                                codes::REGEX_NO_GROUPS,
                                "this `parse` regex has no named capture group, so it extracts nothing",
                                regex.span,
                            )
                            .with_help("name the parts to extract: `(?<name>…)`"),
                        );
                    }
                    for n in names {
                        vis.define(n);
                    }
                }
            }
            ParseMode::Logfmt { names } | ParseMode::Csv { names } => {
                if names.is_empty() {
                    vis.names = None;
                }
                for n in names {
                    vis.define(&n.name);
                }
            }
        }
    }

    fn join_condition(&mut self, j: &Join) {
        let ok = match &j.condition.node {
            Expr::Binary {
                op: BinaryOp::Eq,
                lhs,
                rhs,
            } => {
                let side = |e: &Node<Expr>| match &e.node {
                    Expr::Field(f) => f.name.split_once('.').map(|(a, _)| a.to_string()),
                    _ => None,
                };
                match (side(lhs), side(rhs)) {
                    (Some(a), Some(b)) => {
                        (a == j.left.node && b == j.right.node)
                            || (a == j.right.node && b == j.left.node)
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if !ok {
            self.diags.push(
                Diagnostic::error(
                    codes::BAD_JOIN_CONDITION,
                    format!(
                        "the join condition must be `{0}.<field> = {1}.<field>`",
                        j.left.node, j.right.node
                    ),
                    j.condition.span,
                )
                .with_label(j.left.span, "left alias")
                .with_label(j.right.span, "right alias"),
            );
        }
    }

    fn filter_index(&mut self, e: &Node<Expr>) {
        let is_lit = |e: &Node<Expr>| {
            matches!(
                e.node,
                Expr::Literal(Literal::String(_) | Literal::Number(_) | Literal::Bool(_))
            )
        };
        let ok = match &e.node {
            Expr::Binary {
                op: BinaryOp::Eq,
                lhs,
                rhs,
            } => matches!(lhs.node, Expr::Field(_)) && is_lit(rhs),
            Expr::Binary {
                op: BinaryOp::In,
                lhs,
                rhs,
            } => {
                matches!(lhs.node, Expr::Field(_))
                    && matches!(&rhs.node, Expr::List(items) if items.iter().all(is_lit))
            }
            _ => false,
        };
        if !ok {
            self.diags.push(
                Diagnostic::error(
                    codes::BAD_FILTER_INDEX,
                    "`filterIndex` takes `<field> = <value>` or `<field> in [<values>]`",
                    e.span,
                )
                .with_help("use `filter` for other conditions"),
            );
        }
    }

    fn source(&mut self, s: &Source) {
        if let SourceSelector::LogGroups(args) = &s.selector {
            for a in args {
                let key = a.name.to_ascii_lowercase();
                let limit = match key.as_str() {
                    "nameprefix" => Some(self.config.max_name_prefixes),
                    "accountidentifiers" => Some(self.config.max_account_identifiers),
                    "class" => None,
                    _ => continue, // tag selectors: syntax not captured \[I\]
                };
                let Expr::List(items) = &a.value.node else {
                    self.diags.push(Diagnostic::error(
                        codes::BAD_SOURCE_ARG,
                        format!(
                            "`{}` takes a list of strings such as ['value']",
                            a.name.node
                        ),
                        a.value.span,
                    ));
                    continue;
                };
                if let Some(bad) = items
                    .iter()
                    .find(|i| !matches!(i.node, Expr::Literal(Literal::String(_))))
                {
                    self.diags.push(Diagnostic::error(
                        codes::BAD_SOURCE_ARG,
                        format!("`{}` values must be strings", a.name.node),
                        bad.span,
                    ));
                }
                if let Some(max) = limit {
                    if items.len() > max {
                        self.diags.push(Diagnostic::error(
                            codes::BAD_SOURCE_ARG,
                            format!(
                                "`{}` accepts at most {max} values, found {}",
                                a.name.node,
                                items.len()
                            ),
                            a.value.span,
                        ));
                    }
                }
                if key == "class" {
                    for i in items {
                        if let Expr::Literal(Literal::String(v)) = &i.node {
                            if v != "STANDARD" && v != "INFREQUENT_ACCESS" {
                                self.diags.push(
                                    Diagnostic::error(
                                        codes::BAD_SOURCE_ARG,
                                        format!("unknown log class `{v}`"),
                                        i.span,
                                    )
                                    .with_help(
                                        "log classes are 'STANDARD' and 'INFREQUENT_ACCESS'",
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calls `f` on each direct child expression.
fn for_each_child(e: &Node<Expr>, f: &mut dyn FnMut(&Node<Expr>)) {
    match &e.node {
        Expr::Literal(_) | Expr::Field(_) | Expr::Star | Expr::Subquery(_) => {}
        Expr::List(items) => items.iter().for_each(&mut *f),
        Expr::Call(c) => c.args.iter().for_each(&mut *f),
        Expr::Unary { expr, .. } => f(expr),
        Expr::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        Expr::Member { base, .. } => f(base),
        Expr::Index { base, index } => {
            f(base);
            f(index);
        }
    }
}

/// True when `e` contains a call of the (lower-case canonical) function `name`.
fn contains_call(e: &Node<Expr>, name: &str) -> bool {
    if matches!(&e.node, Expr::Call(c) if c.name == name) {
        return true;
    }
    let mut found = false;
    for_each_child(e, &mut |c| found |= contains_call(c, name));
    found
}

/// Help for a function name of other query languages that Logs Insights writes another way
/// (QA, session 19: `p90(x)` and `variance(x)` got no hint): a percentile shorthand
/// (`p90`, `p99`: Splunk's and Datadog's) is `pct(x, 90)`; variance has no function
/// (spec §6.8 lists `stddev` only).
fn other_languages_help(written: &str) -> Option<String> {
    let lower = written.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix('p').and_then(percentile_of) {
        return Some(format!(
            "in Logs Insights, a percentile is the aggregate `pct(x, {n})` (in `stats`)"
        ));
    }
    matches!(
        lower.as_str(),
        "variance" | "var" | "var_samp" | "var_pop" | "variance_samp"
    )
    .then(|| {
        "Logs Insights has no variance function: the aggregate `stddev(x)` (in `stats`) is its \
         square root"
            .to_owned()
    })
}

/// The percentile a shorthand's digits name: `90` (p90), `99.9` (p99.9), and `999` or
/// `9999` as 99.9 and 99.99 (p999, as monitoring tools write it).
fn percentile_of(digits: &str) -> Option<String> {
    let valid = |v: f64| (0.0..=100.0).contains(&v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let v: f64 = digits.parse().ok()?;
    if valid(v) {
        return Some(digits.to_owned());
    }
    // p999 -> 99.9
    let tail = digits.strip_prefix("99").filter(|t| !t.contains('.'))?;
    let dotted = format!("99.{tail}");
    dotted
        .parse::<f64>()
        .ok()
        .filter(|&v| valid(v))
        .map(|_| dotted)
}

/// The Logs Insights function for a name other query languages (SQL, Splunk, KQL) use,
/// which edit distance does not find (QA, session 19: `percentile`, `distinct_count`,
/// `lower`, `isnull` got no suggestion).
fn other_languages_name(written: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("percentile", "pct"),
        ("percentile_cont", "pct"),
        ("percentile_disc", "pct"),
        ("quantile", "pct"),
        ("median", "pct(x, 50)"),
        ("distinct_count", "count_distinct"),
        ("countdistinct", "count_distinct"),
        ("approx_count_distinct", "count_distinct"),
        ("dc", "count_distinct"),
        ("dcount", "count_distinct"),
        ("mean", "avg"),
        ("average", "avg"),
        ("stdev", "stddev"),
        ("std", "stddev"),
        ("stddev_samp", "stddev"),
        ("first", "earliest"),
        ("last", "latest"),
        ("lower", "tolower"),
        ("lowercase", "tolower"),
        ("lcase", "tolower"),
        ("upper", "toupper"),
        ("uppercase", "toupper"),
        ("ucase", "toupper"),
        ("len", "strlen"),
        ("length", "strlen"),
        ("char_length", "strlen"),
        ("substring", "substr"),
        ("contains", "strcontains"),
        ("isnull", "not ispresent(x)"),
        ("isnotnull", "ispresent"),
        ("ifnull", "coalesce"),
        ("nvl", "coalesce"),
        ("iif", "if"),
        ("to_number", "toNumber"),
        ("tonumber", "toNumber"),
    ];
    let lower = written.to_ascii_lowercase();
    NAMES
        .iter()
        .find(|(other, _)| *other == lower)
        .map(|(_, name)| *name)
}

/// True when `e` calls a function missing from the catalogue (already reported as Q301).
fn contains_unknown_call(e: &Node<Expr>) -> bool {
    if matches!(&e.node, Expr::Call(c) if functions::get(&c.name).is_none()) {
        return true;
    }
    let mut found = false;
    for_each_child(e, &mut |c| found |= contains_unknown_call(c));
    found
}

/// Field references of `e` that are not inside an aggregate call.
fn collect_bare_fields(
    e: &Node<Expr>,
    out: &mut Vec<(String, Span)>,
    is_agg: &dyn Fn(&Node<Expr>) -> bool,
) {
    if is_agg(e) {
        return;
    }
    match &e.node {
        Expr::Field(f) => out.push((f.name.clone(), e.span)),
        Expr::Member { base, .. } => collect_bare_fields(base, out, is_agg),
        _ => for_each_child(e, &mut |c| collect_bare_fields(c, out, is_agg)),
    }
}
