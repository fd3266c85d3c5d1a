//! The function catalogue (spec §6): every Logs Insights function with its canonical
//! spelling, aliases, arity, kind (scalar or aggregate) and argument kinds.
//!
//! The checker uses it for unknown-function, arity, argument-kind and aggregate-placement
//! diagnostics; the planner looks calls up here by [`crate::ast::Call::name`] (the
//! lower-case canonical name) with [`get`], or by any spelling with [`lookup`].
//!
//! ```
//! use ow_query_syntax::functions::{lookup, FunctionKind};
//! let f = lookup("COUNT_DISTINCT").unwrap();
//! assert_eq!(f.canonical, "count_distinct");
//! assert_eq!(f.kind, FunctionKind::Aggregate);
//! assert_eq!(lookup("countOverTime").unwrap().name, "count_over_time");
//! ```

/// Whether a function is evaluated per row or per group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FunctionKind {
    /// Per-row function, usable everywhere an expression is (spec §6.1–§6.7).
    Scalar,
    /// Aggregate, only inside `stats` (spec §6.8).
    Aggregate,
    /// Time-series aggregate, only inside `stats` (spec §6.9).
    TimeSeries,
}

impl FunctionKind {
    /// True for [`FunctionKind::Aggregate`] and [`FunctionKind::TimeSeries`].
    pub fn is_aggregate(self) -> bool {
        !matches!(self, FunctionKind::Scalar)
    }
}

/// What an argument position accepts. The checker can only judge literals statically
/// (fields are dynamically typed, spec §3.3), so the kinds say which *literals* fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// Any value.
    Any,
    /// A number (or anything coercible: string/field/expression). Rejects regex, list,
    /// period literals.
    Number,
    /// A string (or field/expression). Rejects regex, list, period literals.
    String,
    /// A string or a regex literal (`regexReplace`'s pattern).
    StringOrRegex,
    /// A boolean (or expression). Rejects regex, list, period literals.
    Bool,
    /// A timestamp-valued expression (`@timestamp`, `fromMillis(…)`). Rejects literals
    /// other than numbers.
    Timestamp,
    /// A time period literal (`5m`): required literally.
    Period,
    /// A field reference (`ispresent(f)`): required literally.
    Field,
    /// `*` or a field/expression (`count`).
    StarOrAny,
}

/// The value type a function returns (for documentation and planners).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnType {
    /// A number.
    Number,
    /// A string.
    String,
    /// A boolean.
    Bool,
    /// A timestamp.
    Timestamp,
    /// A map or list (`jsonParse`, `split`, `histogram`).
    Structured,
    /// The type of the (first) value argument (`coalesce`, `max`, `if`).
    SameAsArg,
}

/// One function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Lower-case canonical name, the key of [`crate::ast::Call::name`].
    pub name: &'static str,
    /// Canonical spelling (`toMillis`, `count_distinct`).
    pub canonical: &'static str,
    /// Other spellings, lower case (`countovertime` for `count_over_time`).
    pub aliases: &'static [&'static str],
    /// Scalar or aggregate.
    pub kind: FunctionKind,
    /// Minimum number of arguments.
    pub min_args: usize,
    /// Maximum number of arguments; `None` = unbounded.
    pub max_args: Option<usize>,
    /// Argument kinds by position; the last one repeats for further arguments.
    pub args: &'static [ArgKind],
    /// Result type.
    pub returns: ReturnType,
    /// Spec section.
    pub spec: &'static str,
}

impl FunctionSpec {
    /// The kind expected at argument position `i` (0-based).
    pub fn arg_kind(&self, i: usize) -> ArgKind {
        match self.args.get(i).or(self.args.last()) {
            Some(k) => *k,
            None => ArgKind::Any,
        }
    }

    /// Human description of the arity, e.g. `1`, `1 or 2`, `at least 1`, `2 to 21`.
    pub fn arity_text(&self) -> String {
        match self.max_args {
            Some(max) if max == self.min_args => format!("{max}"),
            Some(max) if max == self.min_args + 1 => format!("{} or {}", self.min_args, max),
            Some(max) => format!("{} to {}", self.min_args, max),
            None => format!("at least {}", self.min_args),
        }
    }
}

use ArgKind as A;
use FunctionKind as K;
use ReturnType as R;

macro_rules! f {
    ($canon:literal, $name:literal, [$($alias:literal),*], $kind:expr, $min:expr, $max:expr, [$($arg:expr),*], $ret:expr, $spec:literal) => {
        FunctionSpec {
            name: $name,
            canonical: $canon,
            aliases: &[$($alias),*],
            kind: $kind,
            min_args: $min,
            max_args: $max,
            args: &[$($arg),*],
            returns: $ret,
            spec: $spec,
        }
    };
}

/// The `case()` branch limit (spec §7: 10 branches), i.e. at most 21 arguments.
pub const MAX_CASE_BRANCHES: usize = 10;

/// Every function of spec §6.
pub static FUNCTIONS: &[FunctionSpec] = &[
    // §6.1 numeric
    f!(
        "abs",
        "abs",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "ceil",
        "ceil",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "floor",
        "floor",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "greatest",
        "greatest",
        [],
        K::Scalar,
        1,
        None,
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "least",
        "least",
        [],
        K::Scalar,
        1,
        None,
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "log",
        "log",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "sqrt",
        "sqrt",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "round",
        "round",
        [],
        K::Scalar,
        1,
        Some(2),
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "haversine",
        "haversine",
        [],
        K::Scalar,
        4,
        Some(4),
        [A::Number],
        R::Number,
        "§6.1"
    ),
    f!(
        "toNumber",
        "tonumber",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.1"
    ),
    f!(
        "toInt",
        "toint",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.1"
    ),
    f!(
        "toLong",
        "tolong",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.1"
    ),
    f!(
        "toDouble",
        "todouble",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.1"
    ),
    // §6.2 string
    f!(
        "isempty",
        "isempty",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.2"
    ),
    f!(
        "isblank",
        "isblank",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.2"
    ),
    f!(
        "concat",
        "concat",
        [],
        K::Scalar,
        1,
        None,
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "ltrim",
        "ltrim",
        [],
        K::Scalar,
        1,
        Some(2),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "rtrim",
        "rtrim",
        [],
        K::Scalar,
        1,
        Some(2),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "trim",
        "trim",
        [],
        K::Scalar,
        1,
        Some(2),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "strlen",
        "strlen",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Number,
        "§6.2"
    ),
    f!(
        "toupper",
        "toupper",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "tolower",
        "tolower",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "substr",
        "substr",
        [],
        K::Scalar,
        2,
        Some(3),
        [A::String, A::Number],
        R::String,
        "§6.2"
    ),
    f!(
        "replace",
        "replace",
        [],
        K::Scalar,
        3,
        Some(3),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "regexReplace",
        "regexreplace",
        [],
        K::Scalar,
        3,
        Some(3),
        [A::String, A::StringOrRegex, A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "strcontains",
        "strcontains",
        [],
        K::Scalar,
        2,
        Some(3),
        [A::String, A::String, A::Bool],
        R::Number,
        "§6.2"
    ),
    f!(
        "startsWith",
        "startswith",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::String],
        R::Number,
        "§6.2"
    ),
    f!(
        "endsWith",
        "endswith",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::String],
        R::Number,
        "§6.2"
    ),
    f!(
        "urlencode",
        "urlencode",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "urldecode",
        "urldecode",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "base64encode",
        "base64encode",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "base64decode",
        "base64decode",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "split",
        "split",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::String],
        R::Structured,
        "§6.2"
    ),
    f!(
        "hexToAscii",
        "hextoascii",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.2"
    ),
    f!(
        "hexToDec",
        "hextodec",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Number,
        "§6.2"
    ),
    f!(
        "decToHex",
        "dectohex",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Number],
        R::String,
        "§6.2"
    ),
    // §6.3 datetime
    f!(
        "bin",
        "bin",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Period],
        R::Timestamp,
        "§6.3"
    ),
    f!(
        "datefloor",
        "datefloor",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::Timestamp, A::Period],
        R::Timestamp,
        "§6.3"
    ),
    f!(
        "dateceil",
        "dateceil",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::Timestamp, A::Period],
        R::Timestamp,
        "§6.3"
    ),
    f!(
        "fromMillis",
        "frommillis",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Number],
        R::Timestamp,
        "§6.3"
    ),
    f!(
        "toMillis",
        "tomillis",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Timestamp],
        R::Number,
        "§6.3"
    ),
    f!(
        "now",
        "now",
        [],
        K::Scalar,
        0,
        Some(0),
        [],
        R::Number,
        "§6.3"
    ),
    f!(
        "parseDate",
        "parsedate",
        [],
        K::Scalar,
        2,
        Some(3),
        [A::String],
        R::Number,
        "§6.3"
    ),
    f!(
        "formatDate",
        "formatdate",
        ["strftime"],
        K::Scalar,
        2,
        Some(3),
        [A::Timestamp, A::String],
        R::String,
        "§6.3"
    ),
    // §6.4 general
    f!(
        "ispresent",
        "ispresent",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Field],
        R::Bool,
        "§6.4"
    ),
    f!(
        "coalesce",
        "coalesce",
        [],
        K::Scalar,
        1,
        None,
        [A::Any],
        R::SameAsArg,
        "§6.4"
    ),
    f!(
        "case",
        "case",
        [],
        K::Scalar,
        2,
        Some(2 * MAX_CASE_BRANCHES + 1),
        [A::Any],
        R::SameAsArg,
        "§6.4"
    ),
    f!(
        "if",
        "if",
        [],
        K::Scalar,
        3,
        Some(3),
        [A::Bool, A::Any],
        R::SameAsArg,
        "§6.4"
    ),
    f!(
        "isNumeric",
        "isnumeric",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::Bool,
        "§6.4"
    ),
    f!(
        "messageSize",
        "messagesize",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Number,
        "§6.4"
    ),
    f!(
        "queryStartTime",
        "querystarttime",
        [],
        K::Scalar,
        0,
        Some(0),
        [],
        R::Number,
        "§6.4"
    ),
    f!(
        "queryEndTime",
        "queryendtime",
        [],
        K::Scalar,
        0,
        Some(0),
        [],
        R::Number,
        "§6.4"
    ),
    f!(
        "queryTimeRange",
        "querytimerange",
        [],
        K::Scalar,
        0,
        Some(0),
        [],
        R::Number,
        "§6.4"
    ),
    f!(
        "unmask",
        "unmask",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§4.11"
    ),
    // §6.5 JSON
    f!(
        "jsonParse",
        "jsonparse",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Structured,
        "§6.5"
    ),
    f!(
        "jsonStringify",
        "jsonstringify",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::Any],
        R::String,
        "§6.5"
    ),
    f!(
        "jsonArraySize",
        "jsonarraysize",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Number,
        "§6.5"
    ),
    f!(
        "jsonArrayContains",
        "jsonarraycontains",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::String, A::Any],
        R::Bool,
        "§6.5"
    ),
    // §6.6 IP
    f!(
        "isValidIp",
        "isvalidip",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "isValidIpV4",
        "isvalidipv4",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "isValidIpV6",
        "isvalidipv6",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "isIpInSubnet",
        "isipinsubnet",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "isIpv4InSubnet",
        "isipv4insubnet",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "isIpv6InSubnet",
        "isipv6insubnet",
        [],
        K::Scalar,
        2,
        Some(2),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "ipv4ToNumber",
        "ipv4tonumber",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Number,
        "§6.6"
    ),
    f!(
        "isPrivateIP",
        "isprivateip",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "isPublicIP",
        "ispublicip",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    f!(
        "isReservedIP",
        "isreservedip",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::Bool,
        "§6.6"
    ),
    // §6.7 hashing
    f!(
        "md5",
        "md5",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.7"
    ),
    f!(
        "sha256",
        "sha256",
        [],
        K::Scalar,
        1,
        Some(1),
        [A::String],
        R::String,
        "§6.7"
    ),
    // §6.8 aggregates
    f!(
        "avg",
        "avg",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.8"
    ),
    f!(
        "count",
        "count",
        [],
        K::Aggregate,
        0,
        Some(1),
        [A::StarOrAny],
        R::Number,
        "§6.8"
    ),
    f!(
        "count_distinct",
        "count_distinct",
        ["countdistinct"],
        K::Aggregate,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.8"
    ),
    f!(
        "max",
        "max",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Any],
        R::SameAsArg,
        "§6.8"
    ),
    f!(
        "min",
        "min",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Any],
        R::SameAsArg,
        "§6.8"
    ),
    f!(
        "pct",
        "pct",
        [],
        K::Aggregate,
        2,
        Some(2),
        [A::Any, A::Number],
        R::SameAsArg,
        "§6.8"
    ),
    f!(
        "stddev",
        "stddev",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.8"
    ),
    f!(
        "sum",
        "sum",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.8"
    ),
    f!(
        "earliest",
        "earliest",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Any],
        R::SameAsArg,
        "§6.8"
    ),
    f!(
        "latest",
        "latest",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Any],
        R::SameAsArg,
        "§6.8"
    ),
    f!(
        "sortsFirst",
        "sortsfirst",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Any],
        R::SameAsArg,
        "§6.8"
    ),
    f!(
        "sortsLast",
        "sortslast",
        [],
        K::Aggregate,
        1,
        Some(1),
        [A::Any],
        R::SameAsArg,
        "§6.8"
    ),
    // §6.9 time series
    f!(
        "rate",
        "rate",
        [],
        K::TimeSeries,
        1,
        Some(2),
        [A::Number, A::Period],
        R::Number,
        "§6.9"
    ),
    f!(
        "count_over_time",
        "count_over_time",
        ["countovertime"],
        K::TimeSeries,
        1,
        Some(1),
        [A::Any],
        R::Number,
        "§6.9"
    ),
    f!(
        "sum_over_time",
        "sum_over_time",
        ["sumovertime"],
        K::TimeSeries,
        1,
        Some(1),
        [A::Number],
        R::Number,
        "§6.9"
    ),
    f!(
        "histogram",
        "histogram",
        [],
        K::TimeSeries,
        2,
        Some(2),
        [A::Number],
        R::Structured,
        "§6.9"
    ),
];

/// Finds a function by its lower-case canonical name (as stored in
/// [`crate::ast::Call::name`]).
pub fn get(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Finds a function by any spelling (canonical or alias), case-insensitively (spec §2.3).
pub fn lookup(written: &str) -> Option<&'static FunctionSpec> {
    let lower = written.to_ascii_lowercase();
    FUNCTIONS
        .iter()
        .find(|f| f.name == lower || f.aliases.contains(&lower.as_str()))
}

/// Every spelling (canonical names and aliases), for "did you mean" suggestions.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .flat_map(|f| std::iter::once(f.canonical).chain(f.aliases.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_canonical_and_unique() {
        for f in FUNCTIONS {
            assert_eq!(f.name, f.canonical.to_ascii_lowercase(), "{}", f.canonical);
            assert_eq!(
                FUNCTIONS.iter().filter(|g| g.name == f.name).count(),
                1,
                "{}",
                f.name
            );
            assert!(f.max_args.is_none_or(|m| m >= f.min_args));
        }
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(lookup("STRFTIME").map(|f| f.name), Some("formatdate"));
        assert_eq!(lookup("sumOverTime").map(|f| f.name), Some("sum_over_time"));
        assert_eq!(lookup("toMillis").map(|f| f.canonical), Some("toMillis"));
        assert!(lookup("nosuch").is_none());
        assert_eq!(get("case").map(|f| f.max_args), Some(Some(21)));
    }
}
