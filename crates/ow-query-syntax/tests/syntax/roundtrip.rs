//! Property: printing any AST and parsing it back gives the same AST (spans ignored; node
//! equality ignores spans by design).

use ow_query_syntax::ast::*;
use ow_query_syntax::functions::FUNCTIONS;
use ow_query_syntax::{parse, print, Span};
use proptest::prelude::*;

fn n<T>(node: T) -> Node<T> {
    Node::new(node, Span::default())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z_][a-zA-Z0-9_]{0,6}",
        2 => "[a-z][a-z0-9]{0,4}(\\.[a-z0-9]{1,4}){1,2}",
        1 => "@{1,2}[a-z][a-zA-Z]{0,5}",
        1 => prop::sample::select(vec!["foo-bar", "a b", "by", "not", "in", "x`y", "back\\slash", "true", "1abc", "déjà", "as"]).prop_map(String::from),
    ]
}

fn field() -> impl Strategy<Value = Node<Field>> {
    name().prop_map(|s| n(Field::new(s)))
}

fn period() -> impl Strategy<Value = Period> {
    (
        0u64..100_000,
        prop::sample::select(vec![
            TimeUnit::Millisecond,
            TimeUnit::Second,
            TimeUnit::Minute,
            TimeUnit::Hour,
            TimeUnit::Day,
            TimeUnit::Week,
            TimeUnit::Month,
            TimeUnit::Quarter,
            TimeUnit::Year,
        ]),
    )
        .prop_map(|(amount, unit)| Period { amount, unit })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        (0u32..1_000_000).prop_map(|v| Number {
            text: v.to_string(),
            value: f64::from(v)
        }),
        (0u32..100_000, 1u32..100).prop_map(|(a, b)| {
            let text = format!("{a}.{b:02}");
            let value = text.parse().unwrap();
            Number { text, value }
        }),
    ]
}

fn regex_lit() -> impl Strategy<Value = RegexLit> {
    let piece = prop_oneof![
        4 => "[a-z0-9 #.*()?/|\"']".prop_map(String::from),
        1 => prop::sample::select(vec!["\\d", "\\s", "\\w", "\\.", "\\\\"]).prop_map(String::from),
    ];
    (prop::collection::vec(piece, 0..8), "[imsx]{0,2}").prop_map(|(pieces, flags)| RegexLit {
        pattern: pieces.concat(),
        flags,
    })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<String>().prop_map(Literal::String),
        number().prop_map(Literal::Number),
        regex_lit().prop_map(Literal::Regex),
        any::<bool>().prop_map(Literal::Bool),
        period().prop_map(Literal::Period),
    ]
}

fn call_name() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(
            FUNCTIONS
                .iter()
                .map(|f| (f.canonical, f.name))
                .collect::<Vec<_>>(),
        ),
        any::<bool>(),
    )
        .prop_map(|((canonical, key), upper)| {
            let written = if upper {
                canonical.to_ascii_uppercase()
            } else {
                canonical.to_string()
            };
            (written, key.to_string())
        })
}

const OPS: &[BinaryOp] = &[
    BinaryOp::Or,
    BinaryOp::And,
    BinaryOp::Eq,
    BinaryOp::NotEq,
    BinaryOp::Lt,
    BinaryOp::LtEq,
    BinaryOp::Gt,
    BinaryOp::GtEq,
    BinaryOp::Like,
    BinaryOp::NotLike,
    BinaryOp::RegexMatch,
    BinaryOp::In,
    BinaryOp::NotIn,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Mod,
    BinaryOp::Pow,
];

fn expr() -> impl Strategy<Value = Node<Expr>> {
    let leaf = prop_oneof![
        literal().prop_map(|l| n(Expr::Literal(l))),
        name().prop_map(|s| n(Expr::Field(Field::new(s)))),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            (prop::sample::select(OPS), inner.clone(), inner.clone()).prop_map(|(op, l, r)| n(
                Expr::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r)
                }
            )),
            (any::<bool>(), inner.clone()).prop_map(|(neg, e)| n(Expr::Unary {
                op: if neg { UnaryOp::Neg } else { UnaryOp::Not },
                expr: Box::new(e)
            })),
            (call_name(), prop::collection::vec(inner.clone(), 0..3)).prop_map(
                |((written, key), args)| n(Expr::Call(Call {
                    name: key,
                    written: n(written),
                    args
                }))
            ),
            Just(n(Expr::Call(Call {
                name: "count".into(),
                written: n("count".into()),
                args: vec![n(Expr::Star)]
            }))),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|items| n(Expr::List(items))),
            (inner.clone(), any::<String>()).prop_map(|(b, k)| n(Expr::Member {
                base: Box::new(b),
                name: n(k)
            })),
            (inner.clone(), inner).prop_map(|(b, i)| n(Expr::Index {
                base: Box::new(b),
                index: Box::new(i)
            })),
        ]
    })
}

fn projection() -> impl Strategy<Value = Node<Projection>> {
    (expr(), prop::option::of(field())).prop_map(|(expr, alias)| n(Projection { expr, alias }))
}

fn fields(min: usize) -> impl Strategy<Value = Vec<Node<Field>>> {
    prop::collection::vec(field(), min..3)
}

fn opt_bool() -> impl Strategy<Value = Option<Node<bool>>> {
    prop::option::of(any::<bool>().prop_map(n))
}

/// Simple subqueries: commands that start with a word followed by an expression.
fn subquery() -> impl Strategy<Value = Node<Query>> {
    let cmd = prop_oneof![
        expr().prop_map(|e| n(Command::Filter(e))),
        prop::collection::vec(projection(), 1..3).prop_map(|p| n(Command::Fields(p))),
        prop::collection::vec(any::<String>().prop_map(n), 1..3).prop_map(|names| n(
            Command::Source(Source {
                selector: SourceSelector::Names(names),
                start: None,
                end: None
            })
        )),
    ];
    prop::collection::vec(cmd, 1..3).prop_map(|commands| n(Query { commands }))
}

fn plain() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,5}".prop_filter("not a keyword", |s| {
        ![
            "and",
            "or",
            "not",
            "like",
            "in",
            "as",
            "by",
            "true",
            "false",
            "asc",
            "desc",
            "into",
            "with",
            "for",
            "any",
            "now",
            "where",
            "offset",
            "maxspan",
            "multi",
            "output",
            "outputnew",
            "logfmt",
            "csv",
            "timeshift",
        ]
        .contains(&s.as_str())
    })
}

fn command() -> impl Strategy<Value = Node<Command>> {
    let parse_mode = prop_oneof![
        (any::<String>(), fields(1)).prop_map(|(p, names)| ParseMode::Glob {
            pattern: n(p),
            names
        }),
        (regex_lit(), any::<bool>()).prop_map(|(r, multi)| ParseMode::Regex { regex: n(r), multi }),
        fields(0).prop_map(|names| ParseMode::Logfmt { names }),
        fields(0).prop_map(|names| ParseMode::Csv { names }),
    ];
    let time_bound = prop_oneof![
        Just(TimeBound::Now),
        (any::<bool>(), period())
            .prop_map(|(negative, period)| TimeBound::Relative { negative, period }),
    ];
    let pattern = prop::collection::vec(prop_oneof![name(), Just("*".to_string())], 1..4).prop_map(
        |pieces| {
            // glue pieces with `*` between names so no two names touch
            let mut s = String::new();
            for p in pieces {
                if !s.is_empty() && !s.ends_with('*') && p != "*" {
                    s.push('*');
                }
                s.push_str(&p);
            }
            n(FieldPattern { pattern: s })
        },
    );
    let c1 = prop_oneof![
        prop::collection::vec(projection(), 1..3).prop_map(Command::Fields),
        prop::collection::vec(projection(), 1..3).prop_map(Command::Display),
        expr().prop_map(Command::Filter),
        (field(), subquery()).prop_map(|(f, q)| Command::Filter(n(Expr::Binary {
            op: BinaryOp::In,
            lhs: Box::new(n(Expr::Field(f.node))),
            rhs: Box::new(n(Expr::Subquery(Box::new(q))))
        }))),
        (
            prop::collection::vec(projection(), 1..3),
            prop::collection::vec(projection(), 0..3),
            prop::option::of(period().prop_map(n))
        )
            .prop_map(|(aggregates, by, offset)| Command::Stats(Stats {
                aggregates,
                by,
                offset
            })),
        prop::collection::vec(
            (
                expr(),
                prop::option::of(
                    prop::sample::select(vec![SortOrder::Asc, SortOrder::Desc]).prop_map(n)
                )
            )
                .prop_map(|(expr, order)| n(SortKey { expr, order })),
            1..3
        )
        .prop_map(Command::Sort),
        prop_oneof![
            any::<u64>().prop_map(|v| Limit::Count(n(v))),
            Just(Limit::Any)
        ]
        .prop_map(Command::Limit),
        fields(1).prop_map(Command::Dedup),
        (prop::option::of(field()), parse_mode)
            .prop_map(|(field, mode)| Command::Parse(Parse { field, mode })),
        prop::option::of(field()).prop_map(Command::Unmask),
        (expr(), field()).prop_map(|(input, into)| Command::Unnest { input, into }),
        field().prop_map(Command::Expand),
    ];
    let lookup = || {
        (
            plain(),
            field(),
            prop::option::of(field()),
            any::<bool>(),
            prop::collection::vec((field(), prop::option::of(field())), 1..3),
        )
            .prop_map(|(table, field, table_column, new, outs)| Lookup {
                table: n(table),
                field,
                table_column,
                mode: n(if new {
                    LookupMode::OutputNew
                } else {
                    LookupMode::Output
                }),
                outputs: outs
                    .into_iter()
                    .map(|(column, alias)| n(LookupOutput { column, alias }))
                    .collect(),
            })
    };
    let c2 = prop_oneof![
        lookup().prop_map(Command::Lookup),
        lookup().prop_map(Command::CidrLookup),
        (
            prop::option::of(any::<bool>()),
            plain(),
            plain(),
            plain(),
            plain(),
            subquery()
        )
            .prop_map(|(kind, l, r, a, b, subquery)| {
                Command::Join(Join {
                    kind: kind.map(|left| {
                        n(if left {
                            JoinKind::Left
                        } else {
                            JoinKind::Inner
                        })
                    }),
                    condition: n(Expr::Binary {
                        op: BinaryOp::Eq,
                        lhs: Box::new(n(Expr::Field(Field::new(format!("{l}.{a}"))))),
                        rhs: Box::new(n(Expr::Field(Field::new(format!("{r}.{b}"))))),
                    }),
                    left: n(l),
                    right: n(r),
                    subquery,
                })
            }),
        (
            prop_oneof![
                prop::collection::vec(any::<String>().prop_map(n), 1..3)
                    .prop_map(SourceSelector::Names),
                prop::collection::vec(
                    (plain(), expr()).prop_map(|(k, v)| n(SourceArg {
                        name: n(k),
                        value: v
                    })),
                    0..3
                )
                .prop_map(SourceSelector::LogGroups),
            ],
            prop::option::of(time_bound.clone().prop_map(n)),
            prop::option::of(time_bound.prop_map(n))
        )
            .prop_map(|(selector, start, end)| Command::Source(Source {
                selector,
                start,
                end
            })),
        expr().prop_map(Command::FilterIndex),
        expr().prop_map(Command::Pattern),
        Just(Command::Anomaly),
        prop::option::of(
            prop::sample::select(vec![
                DiffBaseline::PreviousDay,
                DiffBaseline::PreviousWeek,
                DiffBaseline::PreviousMonth
            ])
            .prop_map(n)
        )
        .prop_map(Command::Diff),
        period().prop_map(|p| Command::LogCompare { timeshift: n(p) }),
        (field(), prop::option::of(field()))
            .prop_map(|(field, alias)| Command::Accum { field, alias }),
        (
            field(),
            prop::option::of(field()),
            prop::option::of((1u64..50, 0u64..5))
        )
            .prop_map(|(field, alias, lags)| Command::Autoregress {
                field,
                alias,
                lags: lags.map(|(from, extra)| n(LagRange {
                    from,
                    to: from + extra
                })),
            }),
    ];
    let c3 = prop_oneof![
        prop::collection::vec(pattern, 0..3).prop_map(Command::Filldown),
        prop::collection::vec(
            (expr(), field()).prop_map(|(value, field)| n(Fill { value, field })),
            0..3
        )
        .prop_map(Command::FillMissing),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(number()),
            opt_bool(),
            opt_bool(),
            fields(1)
        )
            .prop_map(|(action, param, uselower, mark, fields)| Command::Outlier(
                Outlier {
                    action: action.map(|r| n(if r {
                        OutlierAction::Remove
                    } else {
                        OutlierAction::Transform
                    })),
                    param: param.map(n),
                    uselower,
                    mark,
                    fields,
                }
            )),
        (
            fields(1),
            prop::option::of(period().prop_map(n)),
            prop::option::of(field())
        )
            .prop_map(|(keys, maxspan, alias)| Command::Sessionize {
                keys,
                maxspan,
                alias
            }),
        fields(1).prop_map(Command::CountFrequent),
        (prop::option::of(field()), opt_bool(), opt_bool(), fields(0)).prop_map(
            |(fieldname, row, col, fields)| Command::AddTotals(AddTotals {
                fieldname,
                row,
                col,
                fields
            })
        ),
        (
            opt_bool(),
            prop::option::of(any::<u64>().prop_map(n)),
            subquery()
        )
            .prop_map(
                |(override_, max, subquery)| Command::AppendCols(AppendCols {
                    override_,
                    max,
                    subquery
                })
            ),
        fields(0).prop_map(Command::RelevantFields),
    ];
    prop_oneof![c1, c2, c3].prop_map(n)
}

fn query() -> impl Strategy<Value = Query> {
    prop::collection::vec(command(), 1..5).prop_map(|commands| Query { commands })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(q in query()) {
        let printed = print(&q);
        let parsed = parse(&printed);
        prop_assert!(parsed.diagnostics.is_empty(), "diagnostics for:\n{}\n{:?}", printed, parsed.diagnostics);
        prop_assert_eq!(parsed.query.as_ref(), Some(&q), "printed:\n{}", printed);
        // printing is a fixed point
        prop_assert_eq!(print(parsed.query.as_ref().unwrap()), printed);
    }
}
