//! Spans: exact positions of nodes, and the invariant that every child span lies inside its
//! parent's (checked over the whole `ok` corpus through the `@start..end` Debug output).

use ow_query_syntax::ast::*;
use ow_query_syntax::{check, parse, Span};

use crate::common::queries;

fn text(src: &str, span: Span) -> &str {
    span.slice(src).expect("span on char boundaries")
}

#[test]
fn projection_call_alias_spans() {
    let src = "fields  abs(f3 - f4)  as  diff, `foo-bar`";
    let q = check(src).unwrap();
    let Command::Fields(items) = &q.commands[0].node else {
        panic!()
    };
    assert_eq!(text(src, q.commands[0].span), src);
    assert_eq!(text(src, items[0].span), "abs(f3 - f4)  as  diff");
    assert_eq!(text(src, items[0].expr.span), "abs(f3 - f4)");
    assert_eq!(text(src, items[0].alias.as_ref().unwrap().span), "diff");
    let Expr::Call(c) = &items[0].expr.node else {
        panic!()
    };
    assert_eq!(text(src, c.written.span), "abs");
    assert_eq!(text(src, c.args[0].span), "f3 - f4");
    assert_eq!(text(src, items[1].expr.span), "`foo-bar`");
    assert_eq!(items[1].expr.node, Expr::Field(Field::new("foo-bar")));
}

#[test]
fn operator_and_paren_spans() {
    let src = "filter (a = 1) and not b like /x/i";
    let q = check(src).unwrap();
    let Command::Filter(e) = &q.commands[0].node else {
        panic!()
    };
    assert_eq!(text(src, e.span), "(a = 1) and not b like /x/i");
    let Expr::Binary {
        op: BinaryOp::And,
        lhs,
        rhs,
    } = &e.node
    else {
        panic!()
    };
    assert_eq!(text(src, lhs.span), "(a = 1)");
    assert_eq!(text(src, rhs.span), "not b like /x/i");
    let Expr::Unary {
        op: UnaryOp::Not,
        expr,
    } = &rhs.node
    else {
        panic!()
    };
    let Expr::Binary {
        op: BinaryOp::Like,
        rhs: re,
        ..
    } = &expr.node
    else {
        panic!()
    };
    assert_eq!(text(src, re.span), "/x/i");
}

#[test]
fn subquery_and_member_spans() {
    let src = "filter id in (SOURCE 'g' | fields id) | fields m.list[0].`a.b`";
    let q = check(src).unwrap();
    let Command::Filter(e) = &q.commands[0].node else {
        panic!()
    };
    let Expr::Binary {
        op: BinaryOp::In,
        rhs,
        ..
    } = &e.node
    else {
        panic!()
    };
    assert_eq!(text(src, rhs.span), "(SOURCE 'g' | fields id)");
    let Expr::Subquery(sq) = &rhs.node else {
        panic!()
    };
    assert_eq!(text(src, sq.node.commands[1].span), "fields id");
    let Command::Fields(items) = &q.commands[1].node else {
        panic!()
    };
    let Expr::Member { base, name } = &items[0].expr.node else {
        panic!()
    };
    assert_eq!(name.node, "a.b");
    assert_eq!(text(src, name.span), "`a.b`");
    assert_eq!(text(src, base.span), "m.list[0]");
}

#[test]
fn multibyte_text_keeps_byte_spans() {
    let src = "filter msg = \"héllo wörld\" | fields ünïcode";
    let q = check(src).unwrap();
    assert_eq!(text(src, q.commands[1].span), "fields ünïcode");
    let Command::Fields(items) = &q.commands[1].node else {
        panic!()
    };
    assert_eq!(items[0].expr.node, Expr::Field(Field::new("ünïcode")));
    // AWS reports character offsets
    assert_eq!(items[0].expr.span.char_offsets(src), (36, 43));
}

/// `(indent, first span on the line)` for every line of the pretty Debug output.
fn debug_spans(dump: &str) -> Vec<(usize, Option<Span>)> {
    dump.lines()
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            let span = line.find('@').and_then(|i| {
                let tail = &line[i + 1..];
                let end = tail.find(' ').unwrap_or(tail.len());
                let (a, b) = tail[..end].split_once("..")?;
                Some(Span::new(a.parse().ok()?, b.parse().ok()?))
            });
            (indent, span)
        })
        .collect()
}

#[test]
fn child_spans_nest_inside_parents_over_the_corpus() {
    let mut checked = 0;
    for path in queries("ok") {
        let src = std::fs::read_to_string(&path).unwrap();
        let q = parse(&src).query.unwrap();
        let dump = format!("{q:#?}");
        let spans = debug_spans(&dump);
        let mut stack: Vec<(usize, Span)> = Vec::new();
        for (indent, span) in spans {
            while stack.last().is_some_and(|(i, _)| *i >= indent) {
                stack.pop();
            }
            let Some(span) = span else { continue };
            assert!(
                span.slice(&src).is_some(),
                "{}: span {span:?} is not on char boundaries",
                path.display()
            );
            if let Some((_, parent)) = stack.last() {
                assert!(
                    parent.start <= span.start && span.end <= parent.end,
                    "{}: {span:?} escapes its parent {parent:?}",
                    path.display()
                );
            }
            stack.push((indent, span));
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} spans checked");
}

#[test]
fn comments_are_reported_but_hash_in_literals_is_not_a_comment() {
    let src = "# head\nfilter a like /x#y/ # tail\n| filter b = \"#\" | fields `c#d`";
    let p = parse(src);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let texts: Vec<&str> = p.comments.iter().map(|c| text(src, *c)).collect();
    assert_eq!(texts, vec!["# head", "# tail"]);
}

#[test]
fn canonical_form_can_keep_comments() {
    let src = "# count errors\nfields @timestamp,@message\n    # | filter @message like /debug/\n| filter @message like /ERROR/ # trailing\n| stats count(*)\n    # inside\n    by bin(5m)\n# the end";
    let p = parse(src);
    let q = p.query.clone().unwrap();
    let printed = ow_query_syntax::print_with_comments(&q, src, &p.comments);
    assert_eq!(
        printed,
        "# count errors\nfields @timestamp, @message\n# | filter @message like /debug/\n| filter @message like /ERROR/ # trailing\n| stats count(*) by bin(5m) # inside\n# the end"
    );
    let again = parse(&printed);
    assert_eq!(again.query.as_ref(), Some(&q));
    assert_eq!(again.comments.len(), 5);
}

#[test]
fn end_of_line_comment_belongs_to_the_last_command_on_the_line() {
    let src = "fields a | filter b = 1 # why\n| limit 3";
    let p = parse(src);
    let printed = ow_query_syntax::print_with_comments(p.query.as_ref().unwrap(), src, &p.comments);
    assert_eq!(printed, "fields a\n| filter b = 1 # why\n| limit 3");
}
