//! Operators (spec §5): comparisons, arithmetic, boolean logic, `like`, regex, `in`,
//! map/list access, and the boolean-context conversion used by `filter`.
//!
//! Semantics (CONTRACTS.md, chosen from spec §3.3/§3.4 \[I\]):
//! * Comparison: both sides numeric (numbers, timestamps, numeric-looking strings; a
//!   boolean counts as 1/0 only against a number) -> numeric compare; otherwise compare
//!   the string forms by code point. Maps/lists never compare.
//! * Missing or map/list operand: `= < <= > >= like =~ in` are false; `!=`, `not like`,
//!   `not in` are true (the negation of the positive test). Never null.
//! * Arithmetic: both operands coerced to numbers; missing or non-numeric -> null;
//!   division or modulo by zero -> null; non-finite results -> null. `%` keeps the sign
//!   of the dividend (`-7 % 3 = -1`); `^` is `powf`.
//! * `and`/`or`/`not` use [`Val::truthy`]: two-valued logic where missing is false.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use arrow::datatypes::DataType;

use crate::value::Val;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `%`
    Mod,
}

/// A compiled regex, compared and hashed by its source text.
#[derive(Debug, Clone)]
pub(crate) struct Re {
    pub(crate) src: String,
    pub(crate) re: regex::Regex,
}

impl Re {
    pub(crate) fn new(src: &str) -> Result<Re, regex::Error> {
        Ok(Re {
            src: src.to_owned(),
            re: regex::Regex::new(src)?,
        })
    }
}

impl PartialEq for Re {
    fn eq(&self, other: &Self) -> bool {
        self.src == other.src
    }
}
impl Eq for Re {}
impl Hash for Re {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.src.hash(state)
    }
}

/// A `like "text"` needle with its precompiled SIMD substring searcher; compared and
/// hashed by its text.
#[derive(Debug, Clone)]
pub(crate) struct Needle {
    pub(crate) text: String,
    finder: memchr::memmem::Finder<'static>,
}

impl Needle {
    pub(crate) fn new(text: &str) -> Needle {
        Needle {
            text: text.to_owned(),
            finder: memchr::memmem::Finder::new(text.as_bytes()).into_owned(),
        }
    }

    /// Does `haystack` contain the needle?
    pub(crate) fn is_in(&self, haystack: &str) -> bool {
        self.finder.find(haystack.as_bytes()).is_some()
    }
}

impl PartialEq for Needle {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for Needle {}
impl Hash for Needle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum OpFn {
    Cmp(CmpOp),
    Arith(ArithOp),
    /// `a0 op1 a1 op2 a2 …` evaluated left to right, exactly as the left-deep tree of
    /// [`OpFn::Arith`] it replaces (so a 1,000-term chain is one call, not 1,000 nested ones).
    ArithChain(Vec<ArithOp>),
    Neg,
    And,
    Or,
    Not,
    Truthy,
    Like {
        needle: Box<Needle>,
        negated: bool,
    },
    Regex {
        re: Re,
        negated: bool,
    },
    In {
        negated: bool,
    },
    Access,
    ToNumber,
}

impl OpFn {
    pub(crate) fn return_type(&self, _args: &[DataType]) -> DataType {
        match self {
            OpFn::Arith(_) | OpFn::ArithChain(_) | OpFn::Neg | OpFn::ToNumber => DataType::Float64,
            OpFn::Access => DataType::LargeUtf8,
            _ => DataType::Boolean,
        }
    }

    pub(crate) fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Val::Null);
        match self {
            OpFn::Cmp(op) => Val::Bool(compare_op(*op, &arg(0), &arg(1))),
            OpFn::Arith(op) => arith(*op, &arg(0), &arg(1)),
            OpFn::ArithChain(chain) => {
                let mut acc: Val<'a> = arg(0);
                for (i, op) in chain.iter().enumerate() {
                    acc = arith(*op, &acc, &arg(i + 1));
                }
                acc
            }
            OpFn::Neg => arg(0).as_num().map_or(Val::Null, |n| Val::Num(-n)),
            OpFn::And => Val::Bool(args.iter().all(Val::truthy)),
            OpFn::Or => Val::Bool(args.iter().any(Val::truthy)),
            OpFn::Not => Val::Bool(!arg(0).truthy()),
            OpFn::Truthy => Val::Bool(arg(0).truthy()),
            OpFn::Like { needle, negated } => {
                let hit = arg(0).as_str().is_some_and(|s| needle.is_in(&s));
                Val::Bool(hit != *negated)
            }
            OpFn::Regex { re, negated } => {
                let hit = arg(0).as_str().is_some_and(|s| re.re.is_match(&s));
                Val::Bool(hit != *negated)
            }
            OpFn::In { negated } => {
                let v = arg(0);
                let hit = args
                    .get(1..)
                    .unwrap_or_default()
                    .iter()
                    .any(|e| compare(&v, e) == Some(Ordering::Equal));
                Val::Bool(hit != *negated)
            }
            OpFn::Access => access(&arg(0), args.get(1..).unwrap_or_default()),
            OpFn::ToNumber => arg(0).as_num().map_or(Val::Null, Val::Num),
        }
    }
}

/// Compares two values per the chosen §3.3 rule; `None` when either is missing or a
/// map/list (such comparisons are false).
pub fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    if matches!(a, Val::Null | Val::Json(_)) || matches!(b, Val::Null | Val::Json(_)) {
        return None;
    }
    let num = |x: &Val<'_>, other: &Val<'_>| match x {
        Val::Bool(_) => matches!(other, Val::Num(_)).then(|| x.as_num()).flatten(),
        _ if x.is_numeric() => x.as_num(),
        _ => None,
    };
    // the right side is usually a literal: test it first
    if let Some(y) = num(b, a) {
        if let Some(x) = num(a, b) {
            // Two integers written as text (ids: session ids, ARN suffixes, account numbers
            // with 16+ digits) compare exactly: as f64, 1688990515440126480 and
            // …481 are the same number. [I] AWS's behaviour past 2^53 is undocumented; an
            // exact comparison never equates two different ids, and agrees with the f64
            // comparison wherever that one is exact. The planner hands an unquoted integer
            // literal of 16+ digits over as text, so `id = 1688990515440126481` is exact too;
            // arithmetic results are f64, and `sort`, `min()` and `max()` still order such
            // values as floats.
            let long = |v: &Val<'_>| match v {
                Val::Str(s) => long_integer(s),
                _ => None,
            };
            if let (Some(i), Some(j)) = (long(a), long(b)) {
                return Some(i.cmp(&j));
            }
            return x.partial_cmp(&y);
        }
    }
    let x = a.as_str()?;
    let y = b.as_str()?;
    Some(x.as_bytes().cmp(y.as_bytes()))
}

/// The value of `text` when it is an integer too long for an f64 to hold exactly:
/// `[+-]digits`, more than 15 characters, at most 38 digits (an `i128` holds them); `None`
/// for anything else, so [`compare`] keeps its float path for short numbers and pays
/// nothing for them. The planner uses the same rule to keep such literals as text.
pub fn long_integer(text: &str) -> Option<i128> {
    let b = text.as_bytes();
    if b.len() <= 15 || b.len() > 39 {
        return None;
    }
    let (negative, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 38 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits
        .iter()
        .fold(0i128, |acc, d| acc * 10 + i128::from(d - b'0'));
    Some(if negative { -magnitude } else { magnitude })
}

/// Evaluates a comparison operator with the missing-value rules of §3.4 (chosen).
pub fn compare_op(op: CmpOp, a: &Val<'_>, b: &Val<'_>) -> bool {
    let o = compare(a, b);
    match op {
        CmpOp::Eq => o == Some(Ordering::Equal),
        CmpOp::NotEq => o != Some(Ordering::Equal),
        CmpOp::Lt => o == Some(Ordering::Less),
        CmpOp::LtEq => matches!(o, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => o == Some(Ordering::Greater),
        CmpOp::GtEq => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn arith<'a>(op: ArithOp, a: &Val<'_>, b: &Val<'_>) -> Val<'a> {
    let (Some(x), Some(y)) = (a.as_num(), b.as_num()) else {
        return Val::Null;
    };
    let r = match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        ArithOp::Div if y == 0.0 => return Val::Null,
        ArithOp::Div => x / y,
        ArithOp::Mod if y == 0.0 => return Val::Null,
        ArithOp::Mod => x % y,
        ArithOp::Pow => x.powf(y),
    };
    if r.is_finite() {
        Val::Num(r)
    } else {
        Val::Null
    }
}

/// `m.key`, `m.a.b`, `l[1]`, ``m.`a.b` `` on a map/list (spec §6.5): walks the
/// segments (strings are keys, or indexes into a list when they are whole numbers;
/// numbers are 0-based list indexes). Missing key, out-of-range index, or a base that
/// is not a map/list -> missing. Strings holding a JSON object/array are accepted as
/// a base too (e.g. a field with a JSON array in string form).
fn access<'a>(base: &Val<'_>, segments: &[Val<'_>]) -> Val<'a> {
    let text = match base {
        Val::Json(t) => t.as_ref(),
        Val::Str(s) if s.trim_start().starts_with(['{', '[']) => s.as_ref(),
        _ => return Val::Null,
    };
    let Ok(root) = serde_json::from_str::<serde_json::Value>(text) else {
        return Val::Null;
    };
    let mut cur = &root;
    for seg in segments {
        let next = match (cur, seg) {
            (serde_json::Value::Object(m), s) => s.as_str().and_then(|k| m.get(k.as_ref())),
            (serde_json::Value::Array(l), s) => {
                let idx = match s {
                    Val::Num(n) if n.fract() == 0.0 && *n >= 0.0 => Some(*n as usize),
                    Val::Str(t) => t.parse::<usize>().ok(),
                    _ => None,
                };
                idx.and_then(|i| l.get(i))
            }
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Val::Null,
        }
    }
    Val::from_json(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Val<'_> {
        Val::Str(x.into())
    }

    #[test]
    fn comparisons_coerce_numbers_and_strings() {
        // parsed "300" matches the number 300 (spec §3.3 doc example)
        assert!(compare_op(CmpOp::Eq, &s("300"), &Val::Num(300.0)));
        assert!(compare_op(CmpOp::Eq, &s("300.0"), &s("300")));
        assert!(compare_op(CmpOp::Lt, &s("9"), &s("10")));
        assert!(compare_op(CmpOp::Gt, &s("b"), &s("a")));
        assert!(compare_op(CmpOp::Lt, &s("10"), &s("9a"))); // string compare
        assert!(!compare_op(CmpOp::Eq, &s("Error"), &s("error")));
        assert!(compare_op(CmpOp::Eq, &Val::Bool(true), &s("true")));
        assert!(compare_op(CmpOp::Eq, &Val::Bool(true), &Val::Num(1.0)));
        assert!(compare_op(CmpOp::Gt, &Val::Ts(2000), &Val::Num(1000.0)));
        assert!(compare_op(
            CmpOp::Gt,
            &Val::Ts(1_714_566_896_789),
            &s("2024-05-01 00:00:00")
        ));
    }

    #[test]
    fn long_integer_texts_compare_exactly() {
        // new user: two session ids one apart were equal as f64 (both 1.6889905154401265e18)
        let (a, b) = (s("1688990515440126480"), s("1688990515440126481"));
        assert!(!compare_op(CmpOp::Eq, &a, &b));
        assert!(compare_op(CmpOp::NotEq, &a, &b));
        assert!(compare_op(CmpOp::Lt, &a, &b));
        assert!(compare_op(CmpOp::Eq, &b, &s("1688990515440126481")));
        // past 2^53, both signs, leading zeros and a plus sign still compare as numbers
        assert!(compare_op(
            CmpOp::Gt,
            &s("9007199254740993"),
            &s("9007199254740992")
        ));
        assert!(compare_op(
            CmpOp::Lt,
            &s("-9007199254740993"),
            &s("-9007199254740992")
        ));
        assert!(compare_op(CmpOp::Eq, &s("0001688990515440126481"), &b));
        assert!(compare_op(CmpOp::Eq, &s("+1688990515440126481"), &b));
        // a long integer against a short number or a decimal: the float comparison, as before
        assert!(compare_op(CmpOp::Gt, &b, &s("5")));
        assert!(compare_op(CmpOp::Eq, &s("0000000000000005"), &s("5")));
        assert!(compare_op(
            CmpOp::Lt,
            &s("1688990515440126481"),
            &s("1.7e18")
        ));
        // 39 digits do not fit: the float comparison
        let huge = "1".repeat(39);
        assert!(compare_op(CmpOp::Eq, &s(&huge), &s(&huge)));
        // `in` uses the same comparison
        let inside = OpFn::In { negated: false }.eval(&[b.clone(), a.clone()]);
        assert!(matches!(inside, Val::Bool(false)));
    }

    #[test]
    fn missing_operands_follow_section_3_4() {
        for op in [CmpOp::Eq, CmpOp::Lt, CmpOp::LtEq, CmpOp::Gt, CmpOp::GtEq] {
            assert!(!compare_op(op, &Val::Null, &s("x")));
            assert!(!compare_op(op, &s("x"), &Val::Null));
            assert!(!compare_op(op, &Val::Json("{}".into()), &s("x")));
        }
        assert!(compare_op(CmpOp::NotEq, &Val::Null, &s("x")));
        assert!(compare_op(CmpOp::NotEq, &Val::Null, &Val::Null));
        let like = OpFn::Like {
            needle: Box::new(Needle::new("x")),
            negated: false,
        };
        assert_eq!(like.eval(&[Val::Null]), Val::Bool(false));
        let not_like = OpFn::Like {
            needle: Box::new(Needle::new("x")),
            negated: true,
        };
        assert_eq!(not_like.eval(&[Val::Null]), Val::Bool(true));
        let not_in = OpFn::In { negated: true };
        assert_eq!(not_in.eval(&[Val::Null, s("a")]), Val::Bool(true));
        let is_in = OpFn::In { negated: false };
        assert_eq!(is_in.eval(&[Val::Null, s("a")]), Val::Bool(false));
    }

    #[test]
    fn arithmetic() {
        let chain = OpFn::ArithChain(vec![ArithOp::Sub, ArithOp::Mul, ArithOp::Div]);
        // ((10 - 4) * 3) / 2, left to right like the nested operators.
        assert_eq!(
            chain.eval(&[Val::Num(10.0), s("4"), Val::Num(3.0), Val::Num(2.0)]),
            Val::Num(9.0)
        );
        assert_eq!(
            chain.eval(&[Val::Num(10.0), Val::Null, Val::Num(3.0), Val::Num(2.0)]),
            Val::Null
        );
        assert_eq!(
            chain.eval(&[Val::Num(10.0), s("4"), Val::Num(3.0), Val::Num(0.0)]),
            Val::Null
        );
        let a = |op, x: Val<'static>, y: Val<'static>| OpFn::Arith(op).eval(&[x, y]);
        assert_eq!(a(ArithOp::Pow, Val::Num(2.0), Val::Num(3.0)), Val::Num(8.0));
        assert_eq!(
            a(ArithOp::Mod, Val::Num(10.0), Val::Num(3.0)),
            Val::Num(1.0)
        );
        assert_eq!(
            a(ArithOp::Mod, Val::Num(-7.0), Val::Num(3.0)),
            Val::Num(-1.0)
        );
        assert_eq!(a(ArithOp::Div, Val::Num(1.0), Val::Num(0.0)), Val::Null);
        assert_eq!(a(ArithOp::Mod, Val::Num(1.0), Val::Num(0.0)), Val::Null);
        assert_eq!(a(ArithOp::Add, s("2"), s("3")), Val::Num(5.0));
        assert_eq!(a(ArithOp::Add, s("two"), s("3")), Val::Null);
        assert_eq!(a(ArithOp::Sub, Val::Null, Val::Num(3.0)), Val::Null);
        assert_eq!(a(ArithOp::Div, Val::Num(7.0), Val::Num(2.0)), Val::Num(3.5));
        assert_eq!(OpFn::Neg.eval(&[s("4")]), Val::Num(-4.0));
    }

    #[test]
    fn like_is_a_literal_substring() {
        let like = |n: &str, v: &str| {
            OpFn::Like {
                needle: Box::new(Needle::new(n)),
                negated: false,
            }
            .eval(&[s(v)])
            .into_owned()
        };
        assert_eq!(like("rror", "Error 42"), Val::Bool(true));
        assert_eq!(like("error", "Error 42"), Val::Bool(false));
        assert_eq!(like("E*", "Error"), Val::Bool(false));
        assert_eq!(like("E*", "E*rror"), Val::Bool(true));
        assert_eq!(like("%_", "a%_b"), Val::Bool(true));
        // numbers match on their string form
        let n = OpFn::Like {
            needle: Box::new(Needle::new("50")),
            negated: false,
        };
        assert_eq!(n.eval(&[Val::Num(503.0)]), Val::Bool(true));
    }

    #[test]
    fn regex_is_unanchored() {
        let r = |p: &str, v: &str| {
            OpFn::Regex {
                re: Re::new(p).unwrap(),
                negated: false,
            }
            .eval(&[s(v)])
            .into_owned()
        };
        assert_eq!(r("rro", "Error"), Val::Bool(true));
        assert_eq!(r("^rro", "Error"), Val::Bool(false));
        assert_eq!(r("E*", "xyz"), Val::Bool(true));
        assert_eq!(r("(?i)error|fail", "FAILED"), Val::Bool(true));
        assert_eq!(r("error|fail", "FAILED"), Val::Bool(false));
    }

    #[test]
    fn in_list_with_mixed_types() {
        let is_in = OpFn::In { negated: false };
        let list = [Val::Num(300.0), Val::Num(400.0), s("foo")];
        let eval = |v: Val<'static>| {
            let mut a = vec![v];
            a.extend(list.iter().cloned());
            is_in.eval(&a)
        };
        assert_eq!(eval(s("300")), Val::Bool(true));
        assert_eq!(eval(s("foo")), Val::Bool(true));
        assert_eq!(eval(s("fo")), Val::Bool(false));
        assert_eq!(eval(s("500")), Val::Bool(false));
    }

    #[test]
    fn boolean_logic_treats_missing_as_false() {
        assert_eq!(OpFn::Not.eval(&[Val::Null]), Val::Bool(true));
        assert_eq!(
            OpFn::And.eval(&[Val::Bool(true), Val::Null]),
            Val::Bool(false)
        );
        assert_eq!(
            OpFn::Or.eval(&[Val::Num(0.0), Val::Num(2.0)]),
            Val::Bool(true)
        );
        assert_eq!(OpFn::Truthy.eval(&[Val::Num(1.0)]), Val::Bool(true));
    }

    #[test]
    fn access_walks_maps_and_lists() {
        let m = Val::Json(r#"{"a":{"b":[10,{"x":"y"}]},"user.id":"u1","n":null}"#.into());
        let get = |segs: &[Val<'static>]| {
            let mut a = vec![m.clone()];
            a.extend(segs.iter().cloned());
            OpFn::Access.eval(&a)
        };
        assert_eq!(get(&[s("a"), s("b"), Val::Num(0.0)]), Val::Num(10.0));
        assert_eq!(
            get(&[s("a"), s("b"), Val::Num(1.0), s("x")]),
            Val::Str("y".into())
        );
        assert_eq!(get(&[s("user.id")]), Val::Str("u1".into()));
        assert_eq!(
            get(&[s("a"), s("b")]),
            Val::Json("[10,{\"x\":\"y\"}]".into())
        );
        assert_eq!(get(&[s("nope")]), Val::Null);
        assert_eq!(get(&[s("n")]), Val::Null);
        assert_eq!(get(&[s("a"), s("b"), Val::Num(5.0)]), Val::Null);
        assert_eq!(OpFn::Access.eval(&[s("plain"), s("a")]), Val::Null);
    }
}
