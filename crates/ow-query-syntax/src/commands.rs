//! The command catalogue (spec §4): which commands exist, their spellings and availability,
//! as data rather than control flow (spec §0 asks for this because AWS adds commands often).
//!
//! Command names are case-insensitive ([`lookup`] folds case). The parser dispatches on
//! [`CommandSpec::name`]; the planner can consult [`CommandSpec::infrequent_access`].

/// One Logs Insights command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// Canonical spelling as printed (`filter`, `SOURCE`, `filterIndex`, `countFrequent`).
    pub name: &'static str,
    /// Other accepted spellings (compared case-insensitively): `where` for `filter`,
    /// `count_frequent` for `countFrequent`.
    pub aliases: &'static [&'static str],
    /// Usable on log groups of the Infrequent Access class (spec §3.2: all but `pattern`,
    /// `diff`, `unmask`, `filterIndex`, `anomaly`).
    pub infrequent_access: bool,
    /// Spec section describing the command.
    pub spec: &'static str,
    /// One-line summary.
    pub summary: &'static str,
}

macro_rules! cmd {
    ($name:literal, [$($alias:literal),*], $ia:literal, $spec:literal, $summary:literal) => {
        CommandSpec {
            name: $name,
            aliases: &[$($alias),*],
            infrequent_access: $ia,
            spec: $spec,
            summary: $summary,
        }
    };
}

/// Every command of the 2026 command table (spec §4).
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("fields", [], true, "§4.1", "select and define fields"),
    cmd!(
        "display",
        [],
        true,
        "§4.2",
        "choose the output columns (last one wins)"
    ),
    cmd!(
        "filter",
        ["where"],
        true,
        "§4.4",
        "keep records matching a condition"
    ),
    cmd!("stats", [], true, "§4.5", "aggregate, optionally grouped"),
    cmd!("sort", [], true, "§4.6", "order records"),
    cmd!("limit", [], true, "§4.7", "cap the number of rows"),
    cmd!(
        "parse",
        [],
        true,
        "§4.9",
        "extract fields with a glob, regex, logfmt or CSV"
    ),
    cmd!("dedup", [], true, "§4.10", "keep the first record per key"),
    cmd!(
        "unmask",
        [],
        false,
        "§4.11",
        "show data masked by a data-protection policy"
    ),
    cmd!("unnest", [], true, "§4.12", "one record per list element"),
    cmd!(
        "expand",
        [],
        true,
        "§4.12",
        "one record per JSON array element"
    ),
    cmd!("lookup", [], true, "§4.13", "enrich from a lookup table"),
    cmd!(
        "cidrlookup",
        [],
        true,
        "§4.13",
        "enrich from CIDR ranges in a lookup table"
    ),
    cmd!(
        "join",
        [],
        true,
        "§4.14",
        "correlate with records of another log group"
    ),
    cmd!(
        "SOURCE",
        [],
        true,
        "§4.16",
        "select log groups (first command only)"
    ),
    cmd!(
        "filterIndex",
        [],
        false,
        "§4.17",
        "scan only events indexed with a value"
    ),
    cmd!(
        "pattern",
        [],
        false,
        "§4.18",
        "cluster values into templates"
    ),
    cmd!(
        "anomaly",
        [],
        false,
        "§4.18",
        "flag anomalies in pattern output"
    ),
    cmd!(
        "diff",
        [],
        false,
        "§4.19",
        "compare patterns with an earlier window"
    ),
    cmd!(
        "logcompare",
        [],
        true,
        "§4.19",
        "compare with a time-shifted baseline"
    ),
    cmd!("accum", [], true, "§4.20", "running cumulative sum"),
    cmd!(
        "autoregress",
        [],
        true,
        "§4.20",
        "copy values of previous rows"
    ),
    cmd!(
        "filldown",
        [],
        true,
        "§4.20",
        "carry the last non-null value forward"
    ),
    cmd!(
        "fillmissing",
        [],
        true,
        "§4.20",
        "insert rows for empty time bins"
    ),
    cmd!("outlier", [], true, "§4.20", "IQR outlier detection"),
    cmd!(
        "sessionize",
        [],
        true,
        "§4.20",
        "split events into sessions"
    ),
    cmd!(
        "countFrequent",
        ["count_frequent"],
        true,
        "§4.20",
        "approximate counts per value"
    ),
    cmd!("addtotals", [], true, "§4.20", "row and column totals"),
    cmd!(
        "appendcols",
        [],
        true,
        "§4.20",
        "append a subquery's columns by position"
    ),
    cmd!(
        "relevantfields",
        [],
        true,
        "§4.20",
        "listed by AWS; semantics not captured"
    ),
];

/// Deprecated spellings that are not commands any more, with the replacement (spec §4:
/// `head`/`tail` are deprecated in favour of `limit`).
pub static DEPRECATED: &[(&str, &str)] =
    &[("head", "limit"), ("tail", "sort @timestamp asc | limit")];

/// Finds a command by any spelling, case-insensitively.
pub fn lookup(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| {
        c.name.eq_ignore_ascii_case(word) || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lookup_is_case_insensitive_and_knows_aliases() {
        assert_eq!(super::lookup("WHERE").map(|c| c.name), Some("filter"));
        assert_eq!(super::lookup("source").map(|c| c.name), Some("SOURCE"));
        assert_eq!(
            super::lookup("Count_Frequent").map(|c| c.name),
            Some("countFrequent")
        );
        assert!(super::lookup("head").is_none());
    }
}
