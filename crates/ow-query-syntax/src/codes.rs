//! Stable diagnostic codes of the query front end. `Q1xx` lexical, `Q2xx` syntax, `Q3xx`
//! semantic checks (what AWS rejects at compile time). The planner (ow-query) uses `Q4xx`.
//! A code never changes meaning; retired codes are not reused.

use ow_diagnostics::Code;

macro_rules! codes {
    ($($name:ident = $code:literal : $title:literal;)*) => {
        $(
            #[doc = $title]
            pub const $name: Code = Code($code);
        )*
        /// Every code with a one-line title, for documentation and `--explain`-style output.
        pub static ALL: &[(Code, &str)] = &[$(($name, $title)),*];
    };
}

codes! {
    UNTERMINATED_STRING = "Q101": "unterminated string literal";
    UNTERMINATED_BACKTICK = "Q102": "unterminated backtick-quoted name";
    UNTERMINATED_REGEX = "Q103": "unterminated regex literal";
    UNEXPECTED_CHAR = "Q104": "unexpected character";
    BAD_NUMBER = "Q105": "malformed number or time period";
    QUERY_PARAMETER = "Q106": "unsubstituted query parameter `{{name}}`";
    BAD_REGEX_FLAG = "Q107": "unknown regex flag";

    UNKNOWN_COMMAND = "Q201": "unknown command";
    EXPECTED = "Q202": "unexpected token (something else was expected)";
    TRAILING_INPUT = "Q203": "unexpected input after the end of a command";
    LEADING_PIPE = "Q204": "leading `|` before the first command";
    CHAINED_COMPARISON = "Q205": "comparison operators do not chain";
    DUPLICATE_OPTION = "Q206": "option given more than once";
    UNKNOWN_OPTION = "Q207": "unknown option";
    EMPTY_QUERY = "Q208": "the query has no commands";
    TOO_DEEP = "Q209": "expression nested too deeply";
    UNMATCHED_PAREN = "Q210": "unmatched `)`";
    BAD_VALUE = "Q211": "invalid literal value for this position";

    QUERY_TOO_LONG = "Q300": "query longer than the 10,000-character limit";
    UNKNOWN_FUNCTION = "Q301": "unknown function";
    AGGREGATE_OUTSIDE_STATS = "Q302": "aggregate function outside `stats`";
    WRONG_ARITY = "Q303": "wrong number of arguments";
    WRONG_ARG_KIND = "Q304": "wrong kind of argument";
    NON_AGGREGATE_IN_STATS = "Q305": "`stats` expression without an aggregate";
    MISPLACED_STAR = "Q306": "`*` outside `count(*)`";
    NESTED_AGGREGATE = "Q307": "aggregate inside another aggregate";
    AGGREGATE_IN_BY = "Q308": "aggregate in a `by` clause";
    BIN_CAPPED = "Q309": "`bin()` period above the per-unit cap (AWS silently caps it)";
    BAD_LIMIT = "Q310": "number out of range";
    GLOB_NAME_COUNT = "Q311": "`parse` glob: number of `*` differs from number of names";
    INVALID_REGEX = "Q312": "invalid or unsupported regular expression";
    REGEX_NO_GROUPS = "Q313": "`parse` regex has no named capture group";
    MISPLACED_SUBQUERY = "Q314": "subquery outside `filter … in (…)`";
    BAD_JOIN_CONDITION = "Q315": "`join … where` must compare a left field with a right field";
    BAD_FILTER_INDEX = "Q316": "`filterIndex` needs `<field> = <value>` or `<field> in [...]`";
    BAD_SOURCE_ARG = "Q317": "invalid `SOURCE logGroups(…)` argument";
    ZERO_PERIOD = "Q318": "time period of zero";

    SOURCE_NOT_FIRST = "Q320": "`SOURCE` must be the first command";
    SORT_BEFORE_STATS = "Q321": "`sort`/`limit` before the last `stats` (error with several `stats`, warning for `sort` with one)";
    AFTER_DEDUP = "Q322": "only `limit` may follow `dedup`";
    PATTERN_AFTER_SORT = "Q323": "`pattern` after `sort`";
    TOO_MANY_STATS = "Q324": "too many `stats` commands";
    TOO_MANY_JOINS = "Q325": "more than one `join`";
    FIELD_AFTER_STATS = "Q326": "field not produced by the preceding `stats`";
    BIN_WITHOUT_TIMESTAMP = "Q327": "`bin()` after `stats` without a propagated `@timestamp`";
    FILLMISSING_WITHOUT_BIN = "Q328": "`fillmissing` not after `stats … by bin()`";
    ANOMALY_WITHOUT_PATTERN = "Q329": "`anomaly` without a preceding `pattern`";
    NESTED_SUBQUERY = "Q330": "nested subquery";
    LIKE_WILDCARD = "Q332": "SQL-style wildcard in `like \"…\"` (matched literally)";
    TIMESTAMP_STRING_COMPARE = "Q333": "timestamp compared with a string";
    DUPLICATE_STATS_NAME = "Q334": "two `stats` result columns with the same name";
    TIME_EXTREME_WITHOUT_TIMESTAMP = "Q335": "`earliest()`/`latest()` after `stats` without a propagated `@timestamp`";
    NULL_AS_FIELD = "Q336": "`null` read as a field name";
    CONSTANT_SORT_KEY = "Q337": "`sort` by a constant (the rows keep their order)";
    STRING_AS_CONDITION = "Q338": "a string where a condition is expected";
}

/// The title of a code, if it is one of ours.
pub fn title(code: Code) -> Option<&'static str> {
    ALL.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for (code, title) in super::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert!(
                code.as_str().starts_with('Q') && code.as_str().len() == 4,
                "{code}"
            );
            assert!(!title.is_empty());
        }
    }
}
