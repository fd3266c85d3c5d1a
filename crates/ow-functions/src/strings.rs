//! String functions (spec §6.2), `messageSize` (§6.4) and hashing (§6.7). Arguments
//! are read in string context ([`Val::as_str`]: numbers as their rendered text);
//! missing (or map/list) input -> null unless stated.
//!
//! Choices on \[I\] items:
//! * `concat`: missing arguments count as empty; all missing -> null.
//! * `substr(s, start[, len])`: 0-based, counted in Unicode code points; a negative
//!   start counts as 0; start past the end, or a negative length -> `""`.
//! * `trim` family with a second argument strips any character of that set.
//! * `urlencode` follows Java's `URLEncoder` (UTF-8; space -> `+`; `A-Za-z0-9.-*_`
//!   kept); `urldecode` decodes `%XX` and `+`; malformed escapes or invalid UTF-8 -> null.
//! * `base64decode`: standard alphabet with padding; invalid input or non-UTF-8
//!   result -> null.
//! * `split(s, delim)`: a list (JSON array of strings); an empty delimiter splits into
//!   characters.
//! * `hexToAscii`: optional `0x`; odd length, bad digits or non-UTF-8 -> null.
//! * `hexToDec`: optional sign and `0x`, case-insensitive; > 2^64 -> null.
//! * `decToHex`: truncates toward zero; lowercase with `0x`; negatives `-0x…`.
//! * `regexReplace`: replacement groups use `$1` / `${name}` (Rust regex syntax, same as
//!   Java's `$1`).
//! * `md5`/`sha256`: of the UTF-8 bytes, lowercase hex.

use std::borrow::Cow;

use arrow::datatypes::DataType;
use base64::Engine;

use crate::ops::Re;
use crate::value::{f64_to_i64, Val};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TrimSide {
    Left,
    Right,
    Both,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum StrFn {
    IsEmpty,
    IsBlank,
    Concat,
    Trim(TrimSide),
    Strlen,
    ToUpper,
    ToLower,
    Substr,
    Replace,
    RegexReplace(Re),
    StrContains,
    StartsWith,
    EndsWith,
    UrlEncode,
    UrlDecode,
    Base64Encode,
    Base64Decode,
    Split,
    HexToAscii,
    HexToDec,
    DecToHex,
    MessageSize,
    Md5,
    Sha256,
    Identity,
}

fn flag(b: bool) -> Val<'static> {
    Val::Num(if b { 1.0 } else { 0.0 })
}

fn owned(s: String) -> Val<'static> {
    Val::Str(Cow::Owned(s))
}

impl StrFn {
    pub(crate) fn return_type(&self) -> DataType {
        match self {
            StrFn::IsEmpty
            | StrFn::IsBlank
            | StrFn::Strlen
            | StrFn::StrContains
            | StrFn::StartsWith
            | StrFn::EndsWith
            | StrFn::HexToDec
            | StrFn::MessageSize => DataType::Float64,
            StrFn::Split => DataType::LargeUtf8,
            _ => DataType::Utf8,
        }
    }

    pub(crate) fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        let s = |i: usize| args.get(i).and_then(|v| v.as_str());
        match self {
            StrFn::IsEmpty => flag(s(0).is_none_or(|x| x.is_empty())),
            StrFn::IsBlank => flag(s(0).is_none_or(|x| x.chars().all(char::is_whitespace))),
            StrFn::Concat => {
                let parts: Vec<_> = args.iter().filter_map(|v| v.as_str()).collect();
                if parts.is_empty() {
                    Val::Null
                } else {
                    owned(parts.concat())
                }
            }
            StrFn::Trim(side) => {
                let Some(x) = s(0) else { return Val::Null };
                let out = match args.get(1) {
                    None => match side {
                        TrimSide::Left => x.trim_start(),
                        TrimSide::Right => x.trim_end(),
                        TrimSide::Both => x.trim(),
                    }
                    .to_owned(),
                    Some(set) => {
                        let Some(set) = set.as_str() else {
                            return Val::Null;
                        };
                        let f = |c: char| set.contains(c);
                        match side {
                            TrimSide::Left => x.trim_start_matches(f),
                            TrimSide::Right => x.trim_end_matches(f),
                            TrimSide::Both => x.trim_matches(f),
                        }
                        .to_owned()
                    }
                };
                owned(out)
            }
            StrFn::Strlen => s(0).map_or(Val::Null, |x| Val::Num(x.chars().count() as f64)),
            StrFn::ToUpper => s(0).map_or(Val::Null, |x| owned(x.to_uppercase())),
            StrFn::ToLower => s(0).map_or(Val::Null, |x| owned(x.to_lowercase())),
            StrFn::Substr => substr(args),
            StrFn::Replace => match (s(0), s(1), s(2)) {
                (Some(x), Some(find), Some(repl)) if !find.is_empty() => {
                    owned(x.replace(find.as_ref(), &repl))
                }
                (Some(x), Some(_), Some(_)) => owned(x.into_owned()),
                _ => Val::Null,
            },
            StrFn::RegexReplace(re) => match (s(0), s(2)) {
                (Some(x), Some(repl)) => owned(re.re.replace_all(&x, repl.as_ref()).into_owned()),
                _ => Val::Null,
            },
            StrFn::StrContains => match (s(0), s(1)) {
                (Some(x), Some(sub)) => {
                    let ci = args.get(2).is_some_and(Val::truthy);
                    if ci {
                        flag(x.to_lowercase().contains(&sub.to_lowercase()))
                    } else {
                        flag(x.contains(sub.as_ref()))
                    }
                }
                _ => Val::Null,
            },
            StrFn::StartsWith => match (s(0), s(1)) {
                (Some(x), Some(p)) => flag(x.starts_with(p.as_ref())),
                _ => Val::Null,
            },
            StrFn::EndsWith => match (s(0), s(1)) {
                (Some(x), Some(p)) => flag(x.ends_with(p.as_ref())),
                _ => Val::Null,
            },
            StrFn::UrlEncode => s(0).map_or(Val::Null, |x| owned(url_encode(&x))),
            StrFn::UrlDecode => s(0).and_then(|x| url_decode(&x)).map_or(Val::Null, owned),
            StrFn::Base64Encode => s(0).map_or(Val::Null, |x| {
                owned(base64::engine::general_purpose::STANDARD.encode(x.as_bytes()))
            }),
            StrFn::Base64Decode => s(0)
                .and_then(|x| {
                    base64::engine::general_purpose::STANDARD
                        .decode(x.trim().as_bytes())
                        .ok()
                })
                .and_then(|b| String::from_utf8(b).ok())
                .map_or(Val::Null, owned),
            StrFn::Split => match (s(0), s(1)) {
                (Some(x), Some(d)) => {
                    let parts: Vec<&str> = if d.is_empty() {
                        x.char_indices()
                            .map(|(i, c)| &x[i..i + c.len_utf8()])
                            .collect()
                    } else {
                        x.split(d.as_ref()).collect()
                    };
                    serde_json::to_string(&parts).map_or(Val::Null, |t| Val::Json(Cow::Owned(t)))
                }
                _ => Val::Null,
            },
            StrFn::HexToAscii => s(0).and_then(|x| hex_to_ascii(&x)).map_or(Val::Null, owned),
            StrFn::HexToDec => s(0)
                .and_then(|x| hex_to_dec(&x))
                .map_or(Val::Null, Val::Num),
            StrFn::DecToHex => args
                .first()
                .and_then(Val::as_num)
                .and_then(|n| f64_to_i64(n.trunc()))
                .map_or(Val::Null, |n| {
                    owned(if n < 0 {
                        format!("-0x{:x}", n.unsigned_abs())
                    } else {
                        format!("0x{n:x}")
                    })
                }),
            StrFn::MessageSize => s(0).map_or(Val::Null, |x| Val::Num(x.len() as f64)),
            StrFn::Md5 => s(0).map_or(Val::Null, |x| {
                use md5::Digest;
                owned(hex(&md5::Md5::digest(x.as_bytes())))
            }),
            StrFn::Sha256 => s(0).map_or(Val::Null, |x| {
                use sha2::Digest;
                owned(hex(&sha2::Sha256::digest(x.as_bytes())))
            }),
            StrFn::Identity => args.first().cloned().unwrap_or(Val::Null),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn substr<'a>(args: &[Val<'a>]) -> Val<'a> {
    let Some(x) = args.first().and_then(Val::as_str) else {
        return Val::Null;
    };
    let Some(start) = args.get(1).and_then(Val::as_num) else {
        return Val::Null;
    };
    let start = start.trunc().max(0.0) as usize;
    let len = match args.get(2) {
        None => None,
        Some(v) => match v.as_num() {
            Some(l) if l < 0.0 => return owned(String::new()),
            Some(l) => Some(l.trunc() as usize),
            None => return Val::Null,
        },
    };
    let it = x.chars().skip(start);
    owned(match len {
        Some(l) => it.take(l).collect(),
        None => it.collect(),
    })
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn strip_0x(s: &str) -> &str {
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
}

fn hex_to_ascii(s: &str) -> Option<String> {
    let h = strip_0x(s.trim());
    if !h.len().is_multiple_of(2) || !h.is_ascii() {
        return None;
    }
    let bytes = (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

fn hex_to_dec(s: &str) -> Option<f64> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let h = strip_0x(t);
    if h.is_empty() || h.starts_with(['+', '-']) {
        return None;
    }
    let v = u64::from_str_radix(h, 16).ok()? as f64;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Val<'_> {
        Val::Str(x.into())
    }

    fn text(f: StrFn, args: &[Val<'_>]) -> Option<String> {
        f.eval(args).render().map(|c| c.into_owned())
    }

    #[test]
    fn trim_strips_a_character_set() {
        let t = |side, a: &[Val<'_>]| text(StrFn::Trim(side), a);
        assert_eq!(
            t(TrimSide::Both, &[s("xyZxyfooxyxyZ"), s("xyZ")]).as_deref(),
            Some("foo")
        );
        assert_eq!(
            t(TrimSide::Left, &[s("xyZxyfooxyxyZ"), s("xyZ")]).as_deref(),
            Some("fooxyxyZ")
        );
        assert_eq!(
            t(TrimSide::Right, &[s("xyZxyfooxyxyZ"), s("xyZ")]).as_deref(),
            Some("xyZxyfoo")
        );
        assert_eq!(t(TrimSide::Both, &[s("  a b \t")]).as_deref(), Some("a b"));
        assert_eq!(t(TrimSide::Left, &[s("  a ")]).as_deref(), Some("a "));
        assert_eq!(t(TrimSide::Both, &[Val::Null]), None);
    }

    #[test]
    fn substr_is_zero_based() {
        assert_eq!(
            text(
                StrFn::Substr,
                &[s("xyZfooxyZ"), Val::Num(3.0), Val::Num(3.0)]
            )
            .as_deref(),
            Some("foo")
        );
        assert_eq!(
            text(StrFn::Substr, &[s("xyZfooxyZ"), Val::Num(3.0)]).as_deref(),
            Some("fooxyZ")
        );
        assert_eq!(
            text(StrFn::Substr, &[s("abc"), Val::Num(10.0)]).as_deref(),
            Some("")
        );
        assert_eq!(
            text(StrFn::Substr, &[s("abc"), Val::Num(1.0), Val::Num(99.0)]).as_deref(),
            Some("bc")
        );
        assert_eq!(
            text(StrFn::Substr, &[s("héllo"), Val::Num(1.0), Val::Num(2.0)]).as_deref(),
            Some("él")
        );
    }

    #[test]
    fn emptiness_and_lengths() {
        assert_eq!(StrFn::IsEmpty.eval(&[Val::Null]), Val::Num(1.0));
        assert_eq!(StrFn::IsEmpty.eval(&[s("")]), Val::Num(1.0));
        assert_eq!(StrFn::IsEmpty.eval(&[s(" ")]), Val::Num(0.0));
        assert_eq!(StrFn::IsBlank.eval(&[s(" \t")]), Val::Num(1.0));
        assert_eq!(StrFn::IsBlank.eval(&[Val::Null]), Val::Num(1.0));
        assert_eq!(StrFn::IsBlank.eval(&[s(" x")]), Val::Num(0.0));
        assert_eq!(StrFn::Strlen.eval(&[s("héllo")]), Val::Num(5.0));
        assert_eq!(StrFn::MessageSize.eval(&[s("héllo")]), Val::Num(6.0));
        assert_eq!(StrFn::Strlen.eval(&[Val::Num(123.0)]), Val::Num(3.0));
    }

    #[test]
    fn concat_case_replace() {
        assert_eq!(
            text(StrFn::Concat, &[s("Get"), s("-"), Val::Num(200.0)]).as_deref(),
            Some("Get-200")
        );
        assert_eq!(
            text(StrFn::Concat, &[s("a"), Val::Null, s("b")]).as_deref(),
            Some("ab")
        );
        assert_eq!(text(StrFn::Concat, &[Val::Null]), None);
        assert_eq!(text(StrFn::ToUpper, &[s("abC")]).as_deref(), Some("ABC"));
        assert_eq!(text(StrFn::ToLower, &[s("AbC")]).as_deref(), Some("abc"));
        assert_eq!(
            text(StrFn::Replace, &[s("a.b.c"), s("."), s("::")]).as_deref(),
            Some("a::b::c")
        );
        let rr = StrFn::RegexReplace(Re::new(r"(\d+)").unwrap());
        assert_eq!(
            text(rr, &[s("id 12 and 345"), Val::Null, s("<$1>")]).as_deref(),
            Some("id <12> and <345>")
        );
    }

    #[test]
    fn contains_and_affixes() {
        assert_eq!(
            StrFn::StrContains.eval(&[s("Hello"), s("ell")]),
            Val::Num(1.0)
        );
        assert_eq!(
            StrFn::StrContains.eval(&[s("Hello"), s("ELL")]),
            Val::Num(0.0)
        );
        assert_eq!(
            StrFn::StrContains.eval(&[s("Hello"), s("ELL"), Val::Bool(true)]),
            Val::Num(1.0)
        );
        assert_eq!(
            StrFn::StartsWith.eval(&[s("Hello"), s("He")]),
            Val::Num(1.0)
        );
        assert_eq!(StrFn::EndsWith.eval(&[s("Hello"), s("He")]), Val::Num(0.0));
    }

    #[test]
    fn encodings() {
        assert_eq!(
            text(StrFn::UrlEncode, &[s("a b&c=é")]).as_deref(),
            Some("a+b%26c%3D%C3%A9")
        );
        assert_eq!(
            text(StrFn::UrlDecode, &[s("a+b%26c%3D%C3%A9")]).as_deref(),
            Some("a b&c=é")
        );
        assert_eq!(text(StrFn::UrlDecode, &[s("%zz")]), None);
        assert_eq!(
            text(StrFn::Base64Encode, &[s("Hello")]).as_deref(),
            Some("SGVsbG8=")
        );
        assert_eq!(
            text(StrFn::Base64Decode, &[s("SGVsbG8=")]).as_deref(),
            Some("Hello")
        );
        assert_eq!(text(StrFn::Base64Decode, &[s("***")]), None);
        assert_eq!(
            text(StrFn::HexToAscii, &[s("48656c6c6f")]).as_deref(),
            Some("Hello")
        );
        assert_eq!(text(StrFn::HexToAscii, &[s("4865f")]), None);
        assert_eq!(StrFn::HexToDec.eval(&[s("0xff")]), Val::Num(255.0));
        assert_eq!(StrFn::HexToDec.eval(&[s("FF")]), Val::Num(255.0));
        assert_eq!(StrFn::HexToDec.eval(&[s("xyz")]), Val::Null);
        assert_eq!(
            text(StrFn::DecToHex, &[Val::Num(255.0)]).as_deref(),
            Some("0xff")
        );
        assert_eq!(
            text(StrFn::DecToHex, &[Val::Num(-255.9)]).as_deref(),
            Some("-0xff")
        );
        assert_eq!(text(StrFn::DecToHex, &[s("16")]).as_deref(), Some("0x10"));
    }

    #[test]
    fn split_builds_a_list() {
        assert_eq!(
            StrFn::Split.eval(&[s("a,b,,c"), s(",")]),
            Val::Json(r#"["a","b","","c"]"#.into())
        );
        assert_eq!(
            StrFn::Split.eval(&[s("ab"), s("")]),
            Val::Json(r#"["a","b"]"#.into())
        );
    }

    #[test]
    fn hashes_are_lowercase_hex() {
        assert_eq!(
            text(StrFn::Md5, &[s("hello")]).as_deref(),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
        assert_eq!(
            text(StrFn::Sha256, &[s("hello")]).as_deref(),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
    }
}
