//! Golden tests over `test_data/{ok,err}`.

use ow_query_syntax::{analyze, parse, print, render_named, CheckConfig, Span};

use crate::common::{golden, queries};

/// Every `ok` query checks without any diagnostic, matches its `.ast` golden (AST with
/// spans, then the canonical form), and survives print → parse unchanged.
#[test]
fn ok_queries() {
    let files = queries("ok");
    assert!(
        files.len() >= 60,
        "expected the ok corpus, found {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let src = std::fs::read_to_string(path).expect("readable");
        let a = analyze(&src, &CheckConfig::default());
        if !a.diagnostics.is_empty() {
            failures.push(format!(
                "{}:\n{}",
                path.display(),
                render_named(&path.display().to_string(), &src, &a.diagnostics, false)
            ));
            continue;
        }
        let printed = print(&a.query);
        let text = format!("{:#?}\n--- canonical\n{printed}\n", a.query);
        if let Err(e) = golden(&path.with_extension("ast"), &text) {
            failures.push(e);
        }
        let again = parse(&printed);
        if !again.diagnostics.is_empty() || again.query.as_ref() != Some(&a.query) {
            failures.push(format!(
                "{}: canonical form does not round-trip:\n{printed}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// One `# expect: <code> <occurrence> <text>` header line: the diagnostic `code` has its
/// primary span exactly on the `occurrence`-th (1-based) appearance of `text` in the query
/// body below the headers; an empty `text` means the end of the input (just after its last
/// non-whitespace character).
struct Expect {
    code: String,
    occurrence: usize,
    text: String,
}

fn expectations(src: &str) -> (Vec<Expect>, usize) {
    let mut out = Vec::new();
    let mut body_start = 0;
    for line in src.split_inclusive('\n') {
        let Some(rest) = line.strip_prefix("# expect: ") else {
            break;
        };
        body_start += line.len();
        let rest = rest.trim_end_matches('\n');
        let mut parts = rest.splitn(3, ' ');
        let code = parts.next().unwrap_or_default().to_string();
        let occurrence = parts
            .next()
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1) as usize;
        let text = parts.next().unwrap_or_default().to_string();
        out.push(Expect {
            code,
            occurrence,
            text,
        });
    }
    (out, body_start)
}

fn expected_span(src: &str, body_start: usize, e: &Expect) -> Option<Span> {
    if e.text.is_empty() {
        return Some(Span::point(src.trim_end().len()));
    }
    let body = &src[body_start..];
    let (offset, _) = body.match_indices(&e.text).nth(e.occurrence - 1)?;
    Some(Span::new(
        body_start + offset,
        body_start + offset + e.text.len(),
    ))
}

/// Every `err` query yields the diagnostics its headers demand (code and exact span), and
/// its rendering matches the `.diag` golden.
#[test]
fn err_queries() {
    let files = queries("err");
    let mut failures = Vec::new();
    let mut rejected = 0;
    for path in &files {
        let src = std::fs::read_to_string(path).expect("readable");
        let (expects, body_start) = expectations(&src);
        if expects.is_empty() {
            failures.push(format!("{}: no `# expect:` header", path.display()));
            continue;
        }
        let a = analyze(&src, &CheckConfig::default());
        if a.has_errors() {
            rejected += 1;
        }
        for e in &expects {
            let Some(span) = expected_span(&src, body_start, e) else {
                failures.push(format!(
                    "{}: `{}` not found in the query",
                    path.display(),
                    e.text
                ));
                continue;
            };
            if !a
                .diagnostics
                .iter()
                .any(|d| d.code.as_str() == e.code && d.span == span)
            {
                let got: Vec<String> = a
                    .diagnostics
                    .iter()
                    .map(|d| {
                        format!(
                            "{} at {:?} {:?}",
                            d.code,
                            d.span,
                            d.span.slice(&src).unwrap_or("")
                        )
                    })
                    .collect();
                failures.push(format!(
                    "{}: expected {} at {:?} ({:?}); got {:?}",
                    path.display(),
                    e.code,
                    span,
                    e.text,
                    got
                ));
            }
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rendered = render_named(&name, &src, &a.diagnostics, false);
        if let Err(e) = golden(&path.with_extension("diag"), &rendered) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        rejected >= 60,
        "at least 60 malformed queries must be rejected, found {rejected}"
    );
}

/// The 10,000-character limit counts characters, not bytes, and points past the limit.
#[test]
fn query_too_long() {
    let ok = format!("filter x = \"{}\"", "é".repeat(10_000 - 13));
    assert_eq!(ok.chars().count(), 10_000);
    assert!(ow_query_syntax::check(&ok).is_ok());
    let long = format!("filter x = \"{}\"", "é".repeat(10_000 - 12));
    let diags = ow_query_syntax::check(&long).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code.as_str(), "Q300");
    assert_eq!(diags[0].span.char_offsets(&long), (10_000, 10_001));
}

/// Limits are configuration: a higher stats limit accepts three `stats`.
#[test]
fn stats_limit_is_configurable() {
    let q = "stats count(*) as a by x | stats sum(a) as b by x | stats max(b) as c";
    assert!(ow_query_syntax::check(q).is_err());
    let config = CheckConfig {
        max_stats_commands: 10,
        ..CheckConfig::default()
    };
    assert!(ow_query_syntax::check_with(q, &config).is_ok());
}

/// Deep nesting is reported, never a stack overflow.
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for src in [
        format!("filter {}1{}", "(".repeat(5000), ")".repeat(5000)),
        format!("filter {}1", "-".repeat(5000)),
        format!("filter {}x", "not ".repeat(5000)),
        format!("filter x in {}", "[".repeat(5000)),
        format!("fields {}", "abs(".repeat(5000)),
        format!("filter a in {}", "(filter a in ".repeat(3000)),
        format!("fields {}", "2 ^ ".repeat(5000)),
    ] {
        let diags = ow_query_syntax::check(&src).unwrap_err();
        assert!(
            diags.iter().any(|d| d.code.as_str() == "Q209"),
            "{}",
            &src[..40]
        );
    }
}
