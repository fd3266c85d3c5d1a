//! Spec §11: every worked example parses and passes the checks.

use ow_query_syntax::{check, print, render};

use crate::common::spec_examples;

#[test]
fn worked_examples_check_clean() {
    let examples = spec_examples();
    assert!(
        examples.len() >= 33,
        "found only {} examples in spec §11",
        examples.len()
    );
    for q in &examples {
        match check(q) {
            Ok(ast) => {
                // and their canonical form checks clean too
                let printed = print(&ast);
                assert!(
                    check(&printed).is_ok(),
                    "canonical form of {q:?} fails:\n{printed}"
                );
            }
            Err(d) => panic!("spec example rejected: {q}\n{}", render(q, &d)),
        }
    }
}

/// A few examples' structure, asserted directly.
#[test]
fn worked_example_structure() {
    use ow_query_syntax::ast::*;
    let q = check("filter @message like /(?i)(error|fail)/ | stats count(*) as errors by bin(5m)")
        .unwrap();
    let Command::Stats(s) = &q.commands[1].node else {
        panic!("stats expected")
    };
    assert_eq!(
        s.aggregates[0].alias.as_ref().map(|a| a.name.as_str()),
        Some("errors")
    );
    let Expr::Call(bin) = &s.by[0].expr.node else {
        panic!("bin call expected")
    };
    assert_eq!(bin.name, "bin");
    assert_eq!(
        bin.args[0].node,
        Expr::Literal(Literal::Period(Period {
            amount: 5,
            unit: TimeUnit::Minute
        }))
    );
    let Command::Filter(f) = &q.commands[0].node else {
        panic!("filter expected")
    };
    let Expr::Binary {
        op: BinaryOp::Like,
        rhs,
        ..
    } = &f.node
    else {
        panic!("like expected")
    };
    assert_eq!(
        rhs.node,
        Expr::Literal(Literal::Regex(RegexLit {
            pattern: "(?i)(error|fail)".into(),
            flags: String::new()
        }))
    );
}
