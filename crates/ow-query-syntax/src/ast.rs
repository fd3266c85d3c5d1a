//! The abstract syntax tree of a Logs Insights query (spec §4, §5).
//!
//! Every node is wrapped in [`Node<T>`], which pairs the value with the byte-offset [`Span`]
//! of the source text it came from. **Equality of nodes ignores spans**: two trees are `==`
//! when they denote the same query, wherever it was written (this is what the print/parse
//! round trip and planners comparing expressions want). Compare `node.span` explicitly when
//! positions matter.
//!
//! Spelling is normalised where the language is case-insensitive (command names, keywords,
//! units) and kept where it is not (field names, string contents). Function calls keep both
//! the canonical catalogue name ([`Call::name`], lower case) and the spelling as written
//! ([`Call::written`]), because AWS names un-aliased result columns after the text as written
//! (`COUNT(*)` vs `count(*)`, spec §4.5).
//!
//! Field names: [`Field::name`] is the path as written with backticks removed, e.g.
//! `userIdentity.arn`, `requestParameters.items.0.id`, `@message`, `foo-bar` (from
//! `` `foo-bar` ``). A dotted path is *one* field name here; whether `j.items` means the
//! flattened field `j.items` or member `items` of a `jsonParse` map `j` is decided by the
//! planner from what `j` is. Access written with brackets or after a non-field expression
//! (`m.list[1].x`, ``m.`a.b` ``) is [`Expr::Index`] / [`Expr::Member`].

use std::fmt;

pub use ow_diagnostics::Span;

/// A value of type `T` with the span of its source text.
#[derive(Clone)]
pub struct Node<T> {
    /// The value.
    pub node: T,
    /// Byte offsets of the source text this node was parsed from.
    pub span: Span,
}

impl<T> Node<T> {
    /// Wraps `node` with `span`.
    pub fn new(node: T, span: Span) -> Self {
        Node { node, span }
    }

    /// Maps the value, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Node<U> {
        Node {
            node: f(self.node),
            span: self.span,
        }
    }

    /// A reference to the value wrapped with the same span.
    pub fn as_ref(&self) -> Node<&T> {
        Node {
            node: &self.node,
            span: self.span,
        }
    }
}

impl<T: PartialEq> PartialEq for Node<T> {
    /// Compares values only; spans are ignored (see the module docs).
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T> std::ops::Deref for Node<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.node
    }
}

impl<T: fmt::Debug> fmt::Debug for Node<T> {
    /// `@start..end value`: compact enough for golden files.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{:?} ", self.span)?;
        self.node.fmt(f)
    }
}

/// A whole query (or a subquery): a pipeline of commands separated by `|` (spec §1).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    /// The commands, left to right.
    pub commands: Vec<Node<Command>>,
}

/// A field name (see the module docs for paths and backticks).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Field {
    /// The name as written, backticks removed and `` \` `` unescaped. Case-sensitive.
    pub name: String,
}

impl Field {
    /// A field with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Field { name: name.into() }
    }
}

/// One command of the pipeline (spec §4). Keywords are case-insensitive in the source; the
/// variant records which command it was, never its spelling.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `fields <expr> [as <name>], …` (§4.1). Accumulates across commands.
    Fields(Vec<Node<Projection>>),
    /// `display <expr> [as <name>], …` (§4.2). Last one wins.
    Display(Vec<Node<Projection>>),
    /// `filter <expr>` or its alias `where <expr>` (§4.4). Subquery membership
    /// (`filter f in (…)`) is an [`Expr::Binary`] with [`BinaryOp::In`] and an
    /// [`Expr::Subquery`] right-hand side.
    Filter(Node<Expr>),
    /// `stats …` (§4.5).
    Stats(Stats),
    /// `sort <expr> [asc|desc], …` (§4.6).
    Sort(Vec<Node<SortKey>>),
    /// `limit <n>` or `limit any` (§4.7).
    Limit(Limit),
    /// `dedup <field>, …` (§4.10).
    Dedup(Vec<Node<Field>>),
    /// `parse …` (§4.9).
    Parse(Parse),
    /// `unmask [<field>]` (§4.11). Without a field, `@message` is meant.
    Unmask(Option<Node<Field>>),
    /// `unnest <expr> into <name>` (§4.12).
    Unnest {
        /// The list-valued input (usually a field holding a `jsonParse` list, e.g. `j.items`).
        input: Node<Expr>,
        /// The new field that holds each element.
        into: Node<Field>,
    },
    /// `expand <field>` (§4.12).
    Expand(Node<Field>),
    /// `lookup <table> <field> [as <col>] (OUTPUT|OUTPUTNEW) …` (§4.13).
    Lookup(Lookup),
    /// `cidrlookup <table> <ipField> [as <cidrColumn>] (OUTPUT|OUTPUTNEW) …` (§4.13).
    CidrLookup(Lookup),
    /// `join [type=inner|left] left=<a> right=<b> where <cond> ( <subquery> )` (§4.14).
    Join(Join),
    /// `SOURCE …` (§4.16). Must be the first command of a query or subquery.
    Source(Source),
    /// `filterIndex <field> = <value>` / `filterIndex <field> in [ … ]` (§4.17). The
    /// condition's shape is checked by the semantic checks (code Q316).
    FilterIndex(Node<Expr>),
    /// `pattern <expr>` (§4.18).
    Pattern(Node<Expr>),
    /// `anomaly` (§4.18), no arguments.
    Anomaly,
    /// `diff [previousDay|previousWeek|previousMonth]` (§4.19).
    Diff(Option<Node<DiffBaseline>>),
    /// `logcompare timeshift <dur>` (§4.19).
    LogCompare {
        /// How far back the baseline window is shifted.
        timeshift: Node<Period>,
    },
    /// `accum <field> [as <out>]` (§4.20).
    Accum {
        /// The numeric field summed.
        field: Node<Field>,
        /// Output field; `None` = planner's default (spec does not say) \[I\].
        alias: Option<Node<Field>>,
    },
    /// `autoregress <field> [as <alias>] [p=<n>[-<m>]]` (§4.20).
    Autoregress {
        /// The field whose earlier values are copied.
        field: Node<Field>,
        /// Output field name (prefix).
        alias: Option<Node<Field>>,
        /// Lags; `None` = lag 1.
        lags: Option<Node<LagRange>>,
    },
    /// `filldown [<pattern> …]` (§4.20). Patterns may contain `*` (`cpu*`); empty = all
    /// fields.
    Filldown(Vec<Node<FieldPattern>>),
    /// `fillmissing [with <value> for <field>, …]` (§4.20).
    FillMissing(Vec<Node<Fill>>),
    /// `outlier [options] <field> …` (§4.20).
    Outlier(Outlier),
    /// `sessionize <field>, … [maxspan <dur>] [as <out>]` (§4.20).
    Sessionize {
        /// Identity keys.
        keys: Vec<Node<Field>>,
        /// Inactivity gap; `None` = 30m (spec default).
        maxspan: Option<Node<Period>>,
        /// Output field; `None` = `session_id`.
        alias: Option<Node<Field>>,
    },
    /// `countFrequent <field>, …` (alias `count_frequent`) (§4.20).
    CountFrequent(Vec<Node<Field>>),
    /// `addtotals [fieldname=<n>] [row=<b>] [col=<b>] [<field>, …]` (§4.20).
    AddTotals(AddTotals),
    /// `appendcols [override=<b>] [max=<n>] ( <subquery> )` (§4.20).
    AppendCols(AppendCols),
    /// `relevantfields [<field>, …]` (§4.20). Semantics not captured in the spec \[I\]; the
    /// parser accepts an optional field list so the planner can reject it with a clear error.
    RelevantFields(Vec<Node<Field>>),
}

impl Command {
    /// The canonical (lower-case except `SOURCE`/`filterIndex`/`countFrequent`) keyword of this
    /// command, as the printer writes it.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::Fields(_) => "fields",
            Command::Display(_) => "display",
            Command::Filter(_) => "filter",
            Command::Stats(_) => "stats",
            Command::Sort(_) => "sort",
            Command::Limit(_) => "limit",
            Command::Dedup(_) => "dedup",
            Command::Parse(_) => "parse",
            Command::Unmask(_) => "unmask",
            Command::Unnest { .. } => "unnest",
            Command::Expand(_) => "expand",
            Command::Lookup(_) => "lookup",
            Command::CidrLookup(_) => "cidrlookup",
            Command::Join(_) => "join",
            Command::Source(_) => "SOURCE",
            Command::FilterIndex(_) => "filterIndex",
            Command::Pattern(_) => "pattern",
            Command::Anomaly => "anomaly",
            Command::Diff(_) => "diff",
            Command::LogCompare { .. } => "logcompare",
            Command::Accum { .. } => "accum",
            Command::Autoregress { .. } => "autoregress",
            Command::Filldown(_) => "filldown",
            Command::FillMissing(_) => "fillmissing",
            Command::Outlier(_) => "outlier",
            Command::Sessionize { .. } => "sessionize",
            Command::CountFrequent(_) => "countFrequent",
            Command::AddTotals(_) => "addtotals",
            Command::AppendCols(_) => "appendcols",
            Command::RelevantFields(_) => "relevantfields",
        }
    }
}

/// An output item of `fields`/`display`/`stats`: an expression with an optional `as` alias.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// The expression.
    pub expr: Node<Expr>,
    /// `as <name>`; without it the output column is named after the expression's source text
    /// (slice the source with `expr.span`) (spec §4.1, §4.5).
    pub alias: Option<Node<Field>>,
}

impl Projection {
    /// The output column name (spec §4.1, §4.5): the alias if there is one, a plain field's
    /// own name, otherwise the expression's source text exactly as written in `src` (the
    /// query text this AST was parsed from; surrounding whitespace trimmed).
    pub fn output_name(&self, src: &str) -> String {
        if let Some(a) = &self.alias {
            return a.node.name.clone();
        }
        match &self.expr.node {
            Expr::Field(f) => f.name.clone(),
            _ => self.expr.span.slice(src).unwrap_or("").trim().to_string(),
        }
    }
}

/// `stats` (spec §4.5).
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Aggregate expressions, each containing at least one aggregate call (checked, Q305).
    pub aggregates: Vec<Node<Projection>>,
    /// Grouping keys after `by` (fields, `bin(…)` or other expressions); empty = one group.
    pub by: Vec<Node<Projection>>,
    /// `offset <dur>`: shifts `bin()` buckets (§6.9).
    pub offset: Option<Node<Period>>,
}

/// A `sort` key (spec §4.6).
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    /// The sort expression (normally a field or an alias).
    pub expr: Node<Expr>,
    /// `asc`/`desc` as written; `None` when omitted. See [`SortOrder::DEFAULT`].
    pub order: Option<Node<SortOrder>>,
}

/// A sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// `asc`.
    Asc,
    /// `desc`.
    Desc,
}

impl SortOrder {
    /// The direction used when `sort` omits `asc`/`desc`. Not documented by AWS (spec §4.6
    /// \[I\]); the only evidence (moto's emulator) is *descending*, so we chose `Desc`.
    pub const DEFAULT: SortOrder = SortOrder::Desc;
}

/// `limit` (spec §4.7).
#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    /// `limit <n>`: at most `n` rows. `n >= 1` is checked (Q310).
    Count(Node<u64>),
    /// `limit any`: stop scanning once enough rows are found.
    Any,
}

/// `parse` (spec §4.9).
#[derive(Clone, Debug, PartialEq)]
pub struct Parse {
    /// The parsed field; `None` = `@message`.
    pub field: Option<Node<Field>>,
    /// How to parse.
    pub mode: ParseMode,
}

/// The four `parse` modes (spec §4.9).
#[derive(Clone, Debug, PartialEq)]
pub enum ParseMode {
    /// `"<glob>" as a, b, …`: each `*` captures into the next name (counts must match, Q311).
    Glob {
        /// The glob pattern, unescaped.
        pattern: Node<String>,
        /// Capture names.
        names: Vec<Node<Field>>,
    },
    /// `/<regex>/ [multi]`: named groups create fields; `multi` yields one row per match.
    Regex {
        /// The regex literal.
        regex: Node<RegexLit>,
        /// `multi` keyword present.
        multi: bool,
    },
    /// `logfmt [as a, b, …]`. Exact AWS syntax not captured (spec §4.9 \[I\]): we accept an
    /// optional name list restricting which keys are extracted; empty = all keys.
    Logfmt {
        /// Keys to extract; empty = all.
        names: Vec<Node<Field>>,
    },
    /// `csv [as a, b, …]`. Exact AWS syntax not captured (spec §4.9 \[I\]): names the columns
    /// by position; empty = planner default names.
    Csv {
        /// Column names by position.
        names: Vec<Node<Field>>,
    },
}

/// `lookup`/`cidrlookup` (spec §4.13).
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// Lookup table name (alphanumerics and `_`, ≤ 256 chars).
    pub table: Node<String>,
    /// The event field matched against the table.
    pub field: Node<Field>,
    /// `as <col>`: the table column to match (default: same name as `field`; for
    /// `cidrlookup` the CIDR column).
    pub table_column: Option<Node<Field>>,
    /// `OUTPUT` (overwrite) or `OUTPUTNEW` (fill empty only).
    pub mode: Node<LookupMode>,
    /// Table columns to copy, each optionally renamed.
    pub outputs: Vec<Node<LookupOutput>>,
}

/// `OUTPUT` or `OUTPUTNEW`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LookupMode {
    /// `OUTPUT`: overwrite existing event fields.
    Output,
    /// `OUTPUTNEW`: only fill fields that are empty.
    OutputNew,
}

/// One `<lookupField> [as <eventField>]` of a lookup.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupOutput {
    /// Column of the lookup table.
    pub column: Node<Field>,
    /// Event field to write; `None` = the column name.
    pub alias: Option<Node<Field>>,
}

/// `join` (spec §4.14).
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    /// `type=inner|left`; `None` = inner.
    pub kind: Option<Node<JoinKind>>,
    /// `left=<alias>`.
    pub left: Node<String>,
    /// `right=<alias>`.
    pub right: Node<String>,
    /// `where <cond>` (an equality of `left.f` and `right.g`, checked Q315).
    pub condition: Node<Expr>,
    /// The right side, in parentheses, usually starting with `SOURCE`.
    pub subquery: Node<Query>,
}

/// Join type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// Matches only (default).
    Inner,
    /// Every left record.
    Left,
}

/// `SOURCE` (spec §4.16).
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Which log groups.
    pub selector: SourceSelector,
    /// `start=<time>`.
    pub start: Option<Node<TimeBound>>,
    /// `end=<time>`.
    pub end: Option<Node<TimeBound>>,
}

/// The log group selection of `SOURCE`.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceSelector {
    /// `SOURCE 'name' ['name' …]` (names as string literals, comma-separated).
    Names(Vec<Node<String>>),
    /// `SOURCE logGroups(namePrefix: [...], accountIdentifiers: [...], class: [...], …)`;
    /// empty = all log groups.
    LogGroups(Vec<Node<SourceArg>>),
}

/// One `key: value` argument of `logGroups(…)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceArg {
    /// The key as written (`namePrefix`, `accountIdentifiers`, `class`, tag keys …).
    pub name: Node<String>,
    /// The value: normally a list of strings.
    pub value: Node<Expr>,
}

/// A `start=`/`end=` bound of `SOURCE`.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeBound {
    /// `now`.
    Now,
    /// `-<dur>` (negative = in the past) or `<dur>`.
    Relative {
        /// True when written with a leading `-`.
        negative: bool,
        /// The duration.
        period: Period,
    },
}

/// `diff` baselines (spec §4.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiffBaseline {
    /// `previousDay`.
    PreviousDay,
    /// `previousWeek`.
    PreviousWeek,
    /// `previousMonth`.
    PreviousMonth,
}

/// `p=<from>[-<to>]` of `autoregress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LagRange {
    /// First lag (≥ 1).
    pub from: u64,
    /// Last lag (≥ `from`); equal to `from` for `p=<n>`.
    pub to: u64,
}

/// A field name pattern of `filldown`: `*` matches any run of characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldPattern {
    /// The pattern as written (backticks removed).
    pub pattern: String,
}

/// `with <value> for <field>` of `fillmissing`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fill {
    /// The constant written into empty rows.
    pub value: Node<Expr>,
    /// The field filled.
    pub field: Node<Field>,
}

/// `outlier` options and fields (spec §4.20). `None` options take the documented defaults
/// (action transform, param 2.5, uselower false, mark false).
#[derive(Clone, Debug, PartialEq)]
pub struct Outlier {
    /// `action=remove|transform`.
    pub action: Option<Node<OutlierAction>>,
    /// `param=<n>`: the IQR multiplier.
    pub param: Option<Node<Number>>,
    /// `uselower=true|false`.
    pub uselower: Option<Node<bool>>,
    /// `mark=true|false`.
    pub mark: Option<Node<bool>>,
    /// Fields tested (at least one, Q202 otherwise).
    pub fields: Vec<Node<Field>>,
}

/// `outlier action=…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutlierAction {
    /// Drop outlying rows.
    Remove,
    /// Clamp to the boundary (default).
    Transform,
}

/// `addtotals` (spec §4.20).
#[derive(Clone, Debug, PartialEq)]
pub struct AddTotals {
    /// `fieldname=<Name>`: row-total column, default `Total`.
    pub fieldname: Option<Node<Field>>,
    /// `row=<bool>`: add a row-total column (default true).
    pub row: Option<Node<bool>>,
    /// `col=<bool>`: append a column-totals row (default false).
    pub col: Option<Node<bool>>,
    /// Fields summed; empty = all numeric fields.
    pub fields: Vec<Node<Field>>,
}

/// `appendcols` (spec §4.20).
#[derive(Clone, Debug, PartialEq)]
pub struct AppendCols {
    /// `override=<bool>` (default false).
    pub override_: Option<Node<bool>>,
    /// `max=<n>` (1–100,000, default 10,000; range checked Q310).
    pub max: Option<Node<u64>>,
    /// The subquery in parentheses.
    pub subquery: Node<Query>,
}

/// A number literal: the text as written and its value.
#[derive(Clone)]
pub struct Number {
    /// The text as written (`42`, `2.5`, `1e-3`, `0x1F`).
    pub text: String,
    /// The value as a 64-bit float.
    pub value: f64,
}

impl fmt::Debug for Number {
    /// `Number(2.5)`: the text as written (compact golden files).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.text)
    }
}

impl PartialEq for Number {
    /// Numbers are equal when their values are equal (`1.0 == 1`); NaN cannot be written.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// A regex literal `/pattern/flags` (spec §2.5, §2.6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegexLit {
    /// The pattern between the slashes with `\/` unescaped to `/`; other escapes are kept
    /// for the regex engine. Inline flags such as `(?i)` stay in the pattern.
    pub pattern: String,
    /// Letters written right after the closing `/` (subset of `imsx`). Not documented by AWS
    /// \[I\]: accepted as an extension equivalent to a leading `(?flags)`.
    pub flags: String,
}

/// A time period literal such as `5m`, `1h`, `300ms` (spec §2.5, §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    /// The count as written (`5` in `5m`).
    pub amount: u64,
    /// The unit.
    pub unit: TimeUnit,
}

/// Period units (spec §6.3): every accepted spelling maps to one variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeUnit {
    /// `ms`, `msec`, `millisecond(s)`.
    Millisecond,
    /// `s`, `sec(s)`, `second(s)`.
    Second,
    /// `m`, `min(s)`, `minute(s)`.
    Minute,
    /// `h`, `hr(s)`, `hour(s)`.
    Hour,
    /// `d`, `day(s)`.
    Day,
    /// `w`, `week(s)`.
    Week,
    /// `mo`, `mon(s)`, `month(s)`.
    Month,
    /// `q`, `qtr(s)`, `quarter(s)`.
    Quarter,
    /// `y`, `yr(s)`, `year(s)`.
    Year,
}

impl TimeUnit {
    /// The canonical short spelling (`ms s m h d w mo q y`).
    pub fn short(self) -> &'static str {
        match self {
            TimeUnit::Millisecond => "ms",
            TimeUnit::Second => "s",
            TimeUnit::Minute => "m",
            TimeUnit::Hour => "h",
            TimeUnit::Day => "d",
            TimeUnit::Week => "w",
            TimeUnit::Month => "mo",
            TimeUnit::Quarter => "q",
            TimeUnit::Year => "y",
        }
    }

    /// Fixed length in milliseconds, or `None` for calendar units (month, quarter, year).
    pub fn fixed_ms(self) -> Option<u64> {
        match self {
            TimeUnit::Millisecond => Some(1),
            TimeUnit::Second => Some(1_000),
            TimeUnit::Minute => Some(60_000),
            TimeUnit::Hour => Some(3_600_000),
            TimeUnit::Day => Some(86_400_000),
            TimeUnit::Week => Some(604_800_000),
            TimeUnit::Month | TimeUnit::Quarter | TimeUnit::Year => None,
        }
    }

    /// Parses a unit spelling, case-insensitively (spec §6.3: multi-letter units accept a
    /// plural `s`).
    pub fn parse(text: &str) -> Option<TimeUnit> {
        let lower = text.to_ascii_lowercase();
        let t = lower.as_str();
        let unit = match t {
            "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => TimeUnit::Millisecond,
            "s" | "sec" | "secs" | "second" | "seconds" => TimeUnit::Second,
            "m" | "min" | "mins" | "minute" | "minutes" => TimeUnit::Minute,
            "h" | "hr" | "hrs" | "hour" | "hours" => TimeUnit::Hour,
            "d" | "day" | "days" => TimeUnit::Day,
            "w" | "week" | "weeks" => TimeUnit::Week,
            "mo" | "mon" | "mons" | "month" | "months" => TimeUnit::Month,
            "q" | "qtr" | "qtrs" | "quarter" | "quarters" => TimeUnit::Quarter,
            "y" | "yr" | "yrs" | "year" | "years" => TimeUnit::Year,
            _ => return None,
        };
        Some(unit)
    }
}

impl Period {
    /// Fixed duration in milliseconds (saturating), or `None` for calendar units.
    pub fn fixed_ms(self) -> Option<u64> {
        self.unit.fixed_ms().map(|u| u.saturating_mul(self.amount))
    }
}

/// A literal value (spec §2.5).
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `'…'` or `"…"`, escapes resolved.
    String(String),
    /// `42`, `2.5`, `1e-3`. Negative numbers are unary minus.
    Number(Number),
    /// `/…/flags`.
    Regex(RegexLit),
    /// `true` / `false` (case-insensitive).
    Bool(bool),
    /// `5m`, `1h`, `300ms`.
    Period(Period),
}

/// An expression (spec §5). Parentheses are not kept as nodes: grouping is the tree's
/// shape, and a parenthesised expression's span includes its parentheses.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A literal.
    Literal(Literal),
    /// A field reference.
    Field(Field),
    /// `*`: only as the argument of `count(*)` (checked, Q306).
    Star,
    /// `[e1, e2, …]`.
    List(Vec<Node<Expr>>),
    /// A function call.
    Call(Call),
    /// `-e` / `not e`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Node<Expr>>,
    },
    /// `l op r`, including `like`, `not like`, `=~`, `in`, `not in`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Node<Expr>>,
        /// Right operand.
        rhs: Box<Node<Expr>>,
    },
    /// `base.name` where `base` is not a plain field (e.g. `` m.`a.b` ``, `l[0].x`).
    Member {
        /// The map expression.
        base: Box<Node<Expr>>,
        /// The key (backticks removed).
        name: Node<String>,
    },
    /// `base[index]` (0-based list index or map key).
    Index {
        /// The list or map expression.
        base: Box<Node<Expr>>,
        /// The index expression.
        index: Box<Node<Expr>>,
    },
    /// `( <query> )` as the right operand of `in`/`not in` (spec §4.15).
    Subquery(Box<Node<Query>>),
}

/// A function call `name(args…)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Canonical catalogue name, lower case (`count_distinct`, `tomillis`,
    /// `count_over_time` for `countOverTime`): look it up in [`crate::functions`]. For an
    /// unknown function (reported Q301) the written name lower-cased.
    pub name: String,
    /// The name exactly as written (`COUNT`, `toMillis`): AWS auto column names use it.
    pub written: Node<String>,
    /// Arguments.
    pub args: Vec<Node<Expr>>,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`.
    Neg,
    /// `not x`.
    Not,
}

/// Binary operators (spec §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `=`.
    Eq,
    /// `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `like` (substring for a string, regex search for a regex literal).
    Like,
    /// `not like`.
    NotLike,
    /// `=~` (regex search).
    RegexMatch,
    /// `in`.
    In,
    /// `not in`.
    NotIn,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `^` (right-associative).
    Pow,
}

impl BinaryOp {
    /// The operator as the printer writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Like => "like",
            BinaryOp::NotLike => "not like",
            BinaryOp::RegexMatch => "=~",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
        }
    }

    /// Binding power per spec §5.1 \[I\] (higher binds tighter): `or` 1, `and` 2, (`not` 3),
    /// comparisons/like/in 4, `+ -` 5, `* / %` 6, `^` 7, (unary minus 8).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq
            | BinaryOp::Like
            | BinaryOp::NotLike
            | BinaryOp::RegexMatch
            | BinaryOp::In
            | BinaryOp::NotIn => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
            BinaryOp::Pow => 7,
        }
    }

    /// True for comparison-class operators, which do not associate (`a < b < c` is an
    /// error, Q205).
    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}
