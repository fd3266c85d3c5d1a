//! Fuzz target: no input may panic the Logs Insights front end (lexer, parser, checks,
//! printer, renderer), and a query that checks clean must survive print → parse unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ow_query_syntax::{analyze, parse, print, print_with_comments, render, CheckConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let analysis = analyze(src, &CheckConfig::default());
    let _ = render(src, &analysis.diagnostics);
    let printed = print(&analysis.query);
    let reparsed = parse(&printed);
    let with_comments = print_with_comments(&analysis.query, src, &analysis.comments);
    if !analysis.has_errors() {
        assert_eq!(reparsed.query.as_ref(), Some(&analysis.query), "round trip via {printed:?}");
        let again = parse(&with_comments);
        assert_eq!(again.query.as_ref(), Some(&analysis.query), "round trip via {with_comments:?}");
    }
});
