//! JSON / structure functions (spec §6.5) and the `unnest` element rule (§4.12).
//!
//! Maps and lists travel as `LargeUtf8` JSON text (see [`crate::value`]).
//! * `jsonParse(s)`: a JSON object or array -> that map/list; any other input
//!   (scalars, invalid JSON, missing) -> missing.
//! * `jsonStringify(v)`: JSON text of a map/list; strings are quoted, numbers and
//!   booleans as JSON scalars.
//! * `jsonArraySize(f)`: element count of a JSON array (list value or string holding
//!   one); anything else -> missing.
//! * `jsonArrayContains(f, v)`: true when an element equals `v` (strings
//!   case-sensitively, numbers numerically, booleans exactly); false for invalid,
//!   non-array or empty input.

use std::borrow::Cow;

use arrow::datatypes::DataType;

use crate::value::Val;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum JsonFn {
    Parse,
    Stringify,
    ArraySize,
    ArrayContains,
}

fn json_text<'b>(v: &'b Val<'_>) -> Option<&'b str> {
    match v {
        Val::Json(t) => Some(t.as_ref()),
        Val::Str(s) => Some(s.as_ref()),
        _ => None,
    }
}

fn parse_array(v: &Val<'_>) -> Option<Vec<serde_json::Value>> {
    match serde_json::from_str::<serde_json::Value>(json_text(v)?).ok()? {
        serde_json::Value::Array(a) => Some(a),
        _ => None,
    }
}

impl JsonFn {
    pub(crate) fn return_type(&self) -> DataType {
        match self {
            JsonFn::Parse => DataType::LargeUtf8,
            JsonFn::Stringify => DataType::Utf8,
            JsonFn::ArraySize => DataType::Float64,
            JsonFn::ArrayContains => DataType::Boolean,
        }
    }

    pub(crate) fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        let Some(v) = args.first() else {
            return Val::Null;
        };
        match self {
            JsonFn::Parse => match v {
                Val::Json(_) => v.clone(),
                Val::Str(s) => match serde_json::from_str::<serde_json::Value>(s) {
                    Ok(j @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                        Val::Json(Cow::Owned(j.to_string()))
                    }
                    _ => Val::Null,
                },
                _ => Val::Null,
            },
            JsonFn::Stringify => v
                .to_json_text()
                .map_or(Val::Null, |t| Val::Str(Cow::Owned(t))),
            JsonFn::ArraySize => parse_array(v).map_or(Val::Null, |a| Val::Num(a.len() as f64)),
            JsonFn::ArrayContains => {
                let needle = args.get(1).cloned().unwrap_or(Val::Null);
                let hit = parse_array(v).is_some_and(|a| {
                    a.iter().any(|e| match (e, &needle) {
                        (serde_json::Value::String(x), n) => n.as_str().is_some_and(|y| *x == *y),
                        (serde_json::Value::Number(x), n) => {
                            x.as_f64().is_some_and(|x| n.as_num() == Some(x))
                        }
                        (serde_json::Value::Bool(x), Val::Bool(y)) => x == y,
                        (serde_json::Value::Bool(x), Val::Str(y)) => {
                            y.as_ref() == if *x { "true" } else { "false" }
                        }
                        (serde_json::Value::Null, Val::Null) => false,
                        _ => false,
                    })
                });
                Val::Bool(hit)
            }
        }
    }
}

/// The records `unnest <field> into <name>` produces from one value (spec §4.12 \[V\]):
/// each element of a list (as JSON text, ready for a `LargeUtf8` column); a map, string
/// or number is a one-element list; an empty list or a missing value yields none \[I\].
pub fn unnest_elements(v: &Val<'_>) -> Vec<String> {
    match v {
        Val::Null => Vec::new(),
        Val::Json(t) => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Array(a)) => a.iter().map(|e| e.to_string()).collect(),
            Ok(other) => vec![other.to_string()],
            Err(_) => Vec::new(),
        },
        other => other.to_json_text().into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Val<'_> {
        Val::Str(x.into())
    }

    #[test]
    fn parse_and_stringify() {
        assert_eq!(
            JsonFn::Parse.eval(&[s(r#"{"b":1, "a":[true]}"#)]),
            Val::Json(r#"{"b":1,"a":[true]}"#.into())
        );
        assert_eq!(JsonFn::Parse.eval(&[s("42")]), Val::Null);
        assert_eq!(JsonFn::Parse.eval(&[s("{oops")]), Val::Null);
        assert_eq!(
            JsonFn::Stringify.eval(&[Val::Json("[1,2]".into())]),
            s("[1,2]")
        );
        assert_eq!(JsonFn::Stringify.eval(&[s("a\"b")]), s(r#""a\"b""#));
    }

    #[test]
    fn arrays() {
        assert_eq!(
            JsonFn::ArraySize.eval(&[s(r#"["a","b",3]"#)]),
            Val::Num(3.0)
        );
        assert_eq!(JsonFn::ArraySize.eval(&[s(r#"{"a":1}"#)]), Val::Null);
        let c = |arr: &str, v: Val<'static>| JsonFn::ArrayContains.eval(&[s(arr), v]).into_owned();
        assert_eq!(c(r#"["Admin","user"]"#, s("Admin")), Val::Bool(true));
        assert_eq!(c(r#"["Admin","user"]"#, s("admin")), Val::Bool(false));
        assert_eq!(c(r#"[1,2,3]"#, Val::Num(2.0)), Val::Bool(true));
        assert_eq!(c(r#"[1,2,3]"#, s("2")), Val::Bool(true));
        assert_eq!(c(r#"[]"#, s("a")), Val::Bool(false));
        assert_eq!(c("not json", s("a")), Val::Bool(false));
        assert_eq!(c(r#"[true]"#, Val::Bool(true)), Val::Bool(true));
    }

    #[test]
    fn unnest_rules() {
        assert_eq!(
            unnest_elements(&Val::Json(r#"[{"sku":"a"},2,"x"]"#.into())),
            vec![r#"{"sku":"a"}"#, "2", r#""x""#]
        );
        assert_eq!(
            unnest_elements(&Val::Json("[]".into())),
            Vec::<String>::new()
        );
        assert_eq!(
            unnest_elements(&Val::Json(r#"{"a":1}"#.into())),
            vec![r#"{"a":1}"#]
        );
        assert_eq!(unnest_elements(&s("abc")), vec![r#""abc""#]);
        assert_eq!(unnest_elements(&Val::Null), Vec::<String>::new());
    }
}
