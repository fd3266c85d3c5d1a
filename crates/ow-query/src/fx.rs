//! Adapter between the planner and the function library ([`ow_functions`]): every operator,
//! scalar function, aggregate and the natural sort key the planner emits goes through here,
//! so the value semantics (coercion §3.3, missing values §3.4, natural sort §4.6) live in
//! one crate.

use datafusion::logical_expr::Expr;
use ow_functions::{ArithOp, CmpOp, QueryContext};
use ow_query_syntax::ast::BinaryOp;

pub use ow_functions::is_aggregate;

/// A scalar function call (spec §6.1–§6.7). `name` is the canonical lower-case name.
pub fn scalar(name: &str, args: Vec<Expr>, ctx: &QueryContext) -> Result<Expr, String> {
    ow_functions::scalar(name, args, ctx).map_err(|e| e.to_string())
}

/// An aggregate call (spec §6.8, §6.9).
pub fn aggregate(name: &str, args: Vec<Expr>, ctx: &QueryContext) -> Result<Expr, String> {
    ow_functions::aggregate(name, args, ctx).map_err(|e| e.to_string())
}

/// `bin(period)` shifted by `offset` (`stats … by bin(5m) offset 1d`).
pub fn bin_with_offset(period: &str, offset: &str) -> Result<Expr, String> {
    ow_functions::bin_with_offset(period, offset, None).map_err(|e| e.to_string())
}

/// A binary operator other than regex-like and `in` (handled by [`regex_match`],
/// [`like_substring`] and [`in_list`]).
pub fn binary(op: BinaryOp, l: Expr, r: Expr) -> Result<Expr, String> {
    let cmp = |c| Ok(ow_functions::compare(c, l.clone(), r.clone()));
    let arith = |a| Ok(ow_functions::arithmetic(a, l.clone(), r.clone()));
    match op {
        BinaryOp::Or => Ok(ow_functions::or(l, r)),
        BinaryOp::And => Ok(ow_functions::and(l, r)),
        BinaryOp::Eq => cmp(CmpOp::Eq),
        BinaryOp::NotEq => cmp(CmpOp::NotEq),
        BinaryOp::Lt => cmp(CmpOp::Lt),
        BinaryOp::LtEq => cmp(CmpOp::LtEq),
        BinaryOp::Gt => cmp(CmpOp::Gt),
        BinaryOp::GtEq => cmp(CmpOp::GtEq),
        BinaryOp::Add => arith(ArithOp::Add),
        BinaryOp::Sub => arith(ArithOp::Sub),
        BinaryOp::Mul => arith(ArithOp::Mul),
        BinaryOp::Div => arith(ArithOp::Div),
        BinaryOp::Mod => arith(ArithOp::Mod),
        BinaryOp::Pow => arith(ArithOp::Pow),
        BinaryOp::Like | BinaryOp::NotLike => Err(format!(
            "`{}` needs a string or a regex literal on its right",
            op.as_str()
        )),
        // spec §5.2 documents `f =~ /re/` only
        BinaryOp::RegexMatch => Err(
            "`=~` needs a regex literal on its right, such as /Get.*/ (for a substring, use like \"…\")"
                .to_owned(),
        ),
        BinaryOp::In | BinaryOp::NotIn => Err(format!(
            "`{}` needs a list or a subquery on its right",
            op.as_str()
        )),
    }
}

/// The arithmetic operator for `op`, or `None` when `op` is not one of `+ - * / % ^`.
pub fn arith_op(op: BinaryOp) -> Option<ArithOp> {
    Some(match op {
        BinaryOp::Add => ArithOp::Add,
        BinaryOp::Sub => ArithOp::Sub,
        BinaryOp::Mul => ArithOp::Mul,
        BinaryOp::Div => ArithOp::Div,
        BinaryOp::Mod => ArithOp::Mod,
        BinaryOp::Pow => ArithOp::Pow,
        _ => return None,
    })
}

/// `first op1 e1 op2 e2 …` evaluated left to right as one flat call (see
/// [`ow_functions::arithmetic_chain`]).
pub fn arith_chain(first: Expr, rest: Vec<(ArithOp, Expr)>) -> Expr {
    ow_functions::arithmetic_chain(first, rest)
}

/// `l like 'text'` (substring, case-sensitive, spec §5.2) or `not like`.
pub fn like_substring(l: Expr, needle: &str, negated: bool) -> Expr {
    ow_functions::like_substring(l, needle, negated)
}

/// `l like /re/`, `l =~ /re/` (negated: `not like /re/`).
pub fn regex_match(l: Expr, pattern: &str, negated: bool) -> Result<Expr, String> {
    ow_functions::regex_match(l, pattern, negated).map_err(|e| e.to_string())
}

/// `l in [items]` / `not in`.
pub fn in_list(l: Expr, items: Vec<Expr>, negated: bool) -> Expr {
    ow_functions::in_list(l, items, negated)
}

/// `not e`.
pub fn not(e: Expr) -> Expr {
    ow_functions::not(e)
}

/// `-e`.
pub fn neg(e: Expr) -> Expr {
    ow_functions::negate(e)
}

/// `e` as a filter predicate (Boolean; missing -> false, numbers true iff non-zero).
pub fn truthy(e: Expr) -> Expr {
    ow_functions::predicate(e)
}

/// The natural-sort key of `e` (spec §4.6): sort ascending/descending with nulls last.
pub fn sort_key(e: Expr) -> Expr {
    ow_functions::natural_sort_key(e)
}

/// `base.key` on a `jsonParse` value (or an element of `unnest`).
pub fn member(base: Expr, key: &str) -> Expr {
    let seg = match key.parse::<i64>() {
        Ok(i) => datafusion::logical_expr::lit(i),
        Err(_) => datafusion::logical_expr::lit(key),
    };
    ow_functions::access(base, vec![seg])
}

/// `base[index]`.
pub fn index(base: Expr, index: Expr) -> Expr {
    ow_functions::access(base, vec![index])
}

/// `coalesce(args…)`: first present value.
pub fn coalesce(args: Vec<Expr>, ctx: &QueryContext) -> Result<Expr, String> {
    scalar("coalesce", args, ctx)
}
