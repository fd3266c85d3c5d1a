//! AWS "updated natural sort" (spec §4.6 \[V\]) as a comparator and as a byte key whose
//! `memcmp` order equals the comparator's order, so DataFusion's native sort can be
//! used in both directions.
//!
//! Rules implemented:
//! 1. Every non-number sorts before every number (ascending).
//! 2. A non-number is split into alternating chunks of consecutive ASCII digits and
//!    non-digits. Non-digit chunks compare by code point (a chunk that is a prefix of
//!    the other is smaller); digit chunks compare by length, then value; a digit chunk
//!    against a non-digit chunk compares by the code point of their first characters.
//!    Running out of chunks first sorts first.
//! 3. Numbers compare numerically; equal values tie-break by their text, so `0 < 01`.
//! 4. Descending is the exact reverse (the caller sorts the key descending).
//!
//! What counts as a number \[I, chosen\]: values of a numeric type (`Float64`, `Int64`,
//! timestamps as epoch ms) and strings that [`parse_number`] accepts (`5`, `01`, `-3`,
//! `2.5`). The AWS wording says "only digits (optionally a number type)"; our storage
//! keeps JSON numbers as text, so numeric-looking strings must count as numbers for
//! `sort latency` on a JSON field to be numeric. Booleans sort as the strings
//! `true`/`false`; maps and lists by their JSON text. Missing values have no key (null):
//! the planner puts them last in both directions. A timestamp has no tie-break text,
//! so it sorts before a number or numeric string of the same epoch ms.

use std::cmp::Ordering;

use crate::value::{parse_number, Val};

/// The sort class of a value: a non-number (its text) or a number (value, text).
#[derive(Debug, Clone, PartialEq)]
enum Class<'a> {
    Text(std::borrow::Cow<'a, str>),
    Number(f64, std::borrow::Cow<'a, str>),
}

fn classify<'a>(v: &'a Val<'_>) -> Option<Class<'a>> {
    match v {
        Val::Null => None,
        Val::Num(n) => {
            let n = if *n == 0.0 { 0.0 } else { *n };
            n.is_finite()
                .then(|| Class::Number(n, v.as_str().unwrap_or_default()))
        }
        // equal epoch ms are the same timestamp: no tie-break text (and no per-row
        // formatting when sorting by @timestamp)
        Val::Ts(ms) => Some(Class::Number(*ms as f64, "".into())),
        Val::Str(s) => match parse_number(s) {
            Some(n) => Some(Class::Number(
                if n == 0.0 { 0.0 } else { n },
                s.as_ref().into(),
            )),
            None => Some(Class::Text(s.as_ref().into())),
        },
        Val::Bool(_) | Val::Json(_) => v.render().map(Class::Text),
    }
}

/// Splits `s` into chunks of consecutive ASCII digits / non-digits.
fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let b = s.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= b.len() {
            return None;
        }
        let digit = b[start].is_ascii_digit();
        let mut end = start + 1;
        while end < b.len() && b[end].is_ascii_digit() == digit {
            end += 1;
        }
        // ASCII digit boundaries are always char boundaries
        let c = &s[start..end];
        start = end;
        Some(c)
    })
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    let mut ca = chunks(a);
    let mut cb = chunks(b);
    loop {
        match (ca.next(), cb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let xd = x.as_bytes()[0].is_ascii_digit();
                let yd = y.as_bytes()[0].is_ascii_digit();
                let o = match (xd, yd) {
                    (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
                    (false, false) => x.cmp(y),
                    // first characters differ in class: compare them by code point
                    _ => x.as_bytes()[0].cmp(&y.as_bytes()[0]),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// Compares two values in AWS natural order (ascending). Missing values sort last.
pub fn natural_cmp(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (classify(a), classify(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(Class::Text(_)), Some(Class::Number(..))) => Ordering::Less,
        (Some(Class::Number(..)), Some(Class::Text(_))) => Ordering::Greater,
        (Some(Class::Text(x)), Some(Class::Text(y))) => cmp_text(&x, &y),
        (Some(Class::Number(x, xs)), Some(Class::Number(y, ys))) => x
            .partial_cmp(&y)
            .unwrap_or(Ordering::Equal)
            .then_with(|| xs.as_bytes().cmp(ys.as_bytes())),
    }
}

/// Appends the natural sort key of `v` to `out`; returns false (appending nothing)
/// for a missing value. The key's byte order equals [`natural_cmp`].
///
/// Layout: `0x01` + text chunks, or `0x02` + 8-byte order-preserving f64 + the text.
/// A non-digit chunk is its UTF-8 bytes each plus one (UTF-8 never holds 0xFE/0xFF),
/// then a `0x00` terminator; a digit chunk is `b'0' + 1`, its length as 4 big-endian
/// bytes and its digits (fixed width once the lengths agree).
pub fn natural_key_into(v: &Val<'_>, out: &mut Vec<u8>) -> bool {
    match classify(v) {
        None => false,
        Some(Class::Number(n, text)) => {
            out.push(0x02);
            let bits = n.to_bits();
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits | (1 << 63)
            };
            out.extend_from_slice(&ordered.to_be_bytes());
            out.extend_from_slice(text.as_bytes());
            true
        }
        Some(Class::Text(text)) => {
            out.push(0x01);
            for c in chunks(&text) {
                if c.as_bytes()[0].is_ascii_digit() {
                    out.push(b'0' + 1);
                    let len = u32::try_from(c.len()).unwrap_or(u32::MAX);
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(c.as_bytes());
                } else {
                    out.extend(c.bytes().map(|b| b.wrapping_add(1)));
                    out.push(0x00);
                }
            }
            true
        }
    }
}

/// The natural sort key of `v` (`None` for a missing value). See [`natural_key_into`].
pub fn natural_key(v: &Val<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    natural_key_into(v, &mut out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// AWS' reference ascending sequence (spec §4.6 \[V\]).
    const GOLDEN: [&str; 17] = [
        "!:",
        "#",
        "*%04",
        "0#",
        "5A",
        "111A",
        "2345_",
        "@",
        "@_",
        "A",
        "A9876fghj",
        "a12345hfh",
        "0",
        "01",
        "1",
        "2",
        "3",
    ];

    fn s(x: &str) -> Val<'_> {
        Val::Str(x.into())
    }

    #[test]
    fn aws_reference_sequence_comparator() {
        let mut v: Vec<&str> = GOLDEN.iter().rev().copied().collect();
        v.sort_by(|a, b| natural_cmp(&s(a), &s(b)));
        assert_eq!(v, GOLDEN);
    }

    #[test]
    fn aws_reference_sequence_key() {
        let mut v: Vec<&str> = GOLDEN.to_vec();
        v.sort_by_key(|x| x.len()); // scramble deterministically
        v.sort_by_key(|x| natural_key(&s(x)).unwrap());
        assert_eq!(v, GOLDEN);
        // descending is the exact reverse
        v.sort_by_key(|x| std::cmp::Reverse(natural_key(&s(x)).unwrap()));
        let rev: Vec<&str> = GOLDEN.iter().rev().copied().collect();
        assert_eq!(v, rev);
    }

    #[test]
    fn numbers_of_any_type_interleave() {
        assert_eq!(natural_cmp(&Val::Num(10.0), &s("9")), Ordering::Greater);
        assert_eq!(natural_cmp(&Val::Num(2.5), &s("10")), Ordering::Less);
        assert_eq!(natural_cmp(&s("-3"), &Val::Num(-2.0)), Ordering::Less);
        assert_eq!(natural_cmp(&s("zzz"), &Val::Num(-1e9)), Ordering::Less);
        assert_eq!(natural_cmp(&Val::Null, &s("a")), Ordering::Greater);
        assert!(natural_key(&Val::Null).is_none());
    }

    fn arb_val() -> impl Strategy<Value = Val<'static>> {
        prop_oneof![
            "[a-c0-2#@_ ]{0,6}".prop_map(|x| Val::Str(x.into())),
            "[0-9]{1,4}".prop_map(|x| Val::Str(x.into())),
            (-1000i32..1000).prop_map(|n| Val::Num(f64::from(n) / 4.0)),
            any::<String>().prop_map(|x| Val::Str(x.into())),
        ]
    }

    proptest! {
        #[test]
        fn key_order_equals_comparator(a in arb_val(), b in arb_val()) {
            let ka = natural_key(&a).unwrap();
            let kb = natural_key(&b).unwrap();
            prop_assert_eq!(ka.cmp(&kb), natural_cmp(&a, &b), "{:?} vs {:?}", a, b);
        }

        #[test]
        fn comparator_is_a_total_order(a in arb_val(), b in arb_val(), c in arb_val()) {
            prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
            if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
                prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater);
            }
        }
    }
}
