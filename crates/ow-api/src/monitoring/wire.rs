//! The protocol-neutral request and response shapes the operation table works on.
//!
//! Requests of all three protocols are decoded into a `serde_json::Value` tree with the
//! model's member names (PascalCase): AWS JSON 1.0 as sent, Smithy RPC v2 CBOR converted
//! (tag-1 timestamps become numbers of epoch seconds), AWS Query forms rebuilt from their
//! `A.member.N.B` keys (scalars stay strings). The accessors of `In` therefore accept a
//! number or its text, a boolean or `true`/`false`, and a timestamp as epoch seconds or
//! ISO 8601, so one operation table serves every protocol.
//!
//! Responses are [`Out`] trees; each codec renders them (timestamps: epoch seconds in JSON,
//! CBOR tag 1 + double, ISO 8601 in XML; lists `<member>`, maps `<entry><key/><value/>`).

use serde_json::Value;

use super::WireError;

/// A response tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A timestamp, epoch milliseconds.
    Time(i64),
    /// A list.
    List(Vec<Out>),
    /// A structure: members in model order (absent members are left out).
    Struct(Vec<(&'static str, Out)>),
    /// A map with string keys.
    Map(Vec<(String, Out)>),
}

/// Builds a structure, leaving out `None` members.
pub(crate) struct St(Vec<(&'static str, Out)>);

impl St {
    pub(crate) fn new() -> Self {
        St(Vec::new())
    }
    pub(crate) fn put(mut self, k: &'static str, v: Out) -> Self {
        self.0.push((k, v));
        self
    }
    pub(crate) fn opt(self, k: &'static str, v: Option<Out>) -> Self {
        match v {
            Some(v) => self.put(k, v),
            None => self,
        }
    }
    pub(crate) fn s(self, k: &'static str, v: impl Into<String>) -> Self {
        self.put(k, Out::Str(v.into()))
    }
    pub(crate) fn os(self, k: &'static str, v: Option<&str>) -> Self {
        self.opt(k, v.map(|s| Out::Str(s.to_string())))
    }
    pub(crate) fn list(self, k: &'static str, v: Vec<Out>) -> Self {
        self.put(k, Out::List(v))
    }
    pub(crate) fn strs(self, k: &'static str, v: &[String]) -> Self {
        self.list(k, v.iter().map(|s| Out::Str(s.clone())).collect())
    }
    pub(crate) fn done(self) -> Out {
        Out::Struct(self.0)
    }
}

/// Read access to a decoded request structure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct In<'a> {
    value: &'a Value,
    path: &'a str,
}

fn bad(path: &str, key: &str, v: &Value) -> WireError {
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let name = if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    };
    WireError::invalid_value(format!(
        "The value {} for parameter {name} is invalid.",
        shown.chars().take(100).collect::<String>()
    ))
}

static NULL: Value = Value::Null;

impl<'a> In<'a> {
    pub(crate) fn root(value: &'a Value) -> Self {
        In { value, path: "" }
    }

    fn get(&self, k: &str) -> Option<&'a Value> {
        match self.value.get(k) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A string member.
    pub(crate) fn s(&self, k: &str) -> Result<Option<String>, WireError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ Value::Number(_)) => Ok(Some(v.to_string())),
            Some(v) => Err(bad(self.path, k, v)),
        }
    }

    /// A double member (a JSON/CBOR number or its text in a Query form).
    pub(crate) fn f64(&self, k: &str) -> Result<Option<f64>, WireError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| bad(self.path, k, &NULL)),
            Some(v @ Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(x) => Ok(Some(x)),
                Err(_) => Err(bad(self.path, k, v)),
            },
            Some(v) => Err(bad(self.path, k, v)),
        }
    }

    /// An integer member.
    pub(crate) fn i64(&self, k: &str) -> Result<Option<i64>, WireError> {
        match self.get(k) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => match n.as_i64() {
                Some(x) => Ok(Some(x)),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                    _ => Err(bad(self.path, k, v)),
                },
            },
            Some(v @ Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| bad(self.path, k, v))
            }
            Some(v) => Err(bad(self.path, k, v)),
        }
    }

    /// A boolean member.
    pub(crate) fn bool(&self, k: &str) -> Result<Option<bool>, WireError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(v) => Err(bad(self.path, k, v)),
        }
    }

    /// A timestamp member as epoch ms: a number of epoch seconds (JSON 1.0, CBOR tag 1), or
    /// ISO 8601 text (Query; `2016-10-03T23:00:00Z`, fractional seconds and offsets allowed).
    pub(crate) fn time_ms(&self, k: &str) -> Result<Option<i64>, WireError> {
        match self.get(k) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => match n.as_f64() {
                Some(s) if s.is_finite() && s.abs() < 1.0e13 => {
                    Ok(Some((s * 1000.0).round() as i64))
                }
                _ => Err(bad(self.path, k, v)),
            },
            Some(v @ Value::String(s)) => {
                parse_time(s).map(Some).ok_or_else(|| bad(self.path, k, v))
            }
            Some(v) => Err(bad(self.path, k, v)),
        }
    }

    /// A list member (absent or an empty Query value = empty).
    pub(crate) fn list(&self, k: &str) -> Result<Vec<In<'a>>, WireError> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a
                .iter()
                .map(|v| In {
                    value: v,
                    path: self.path,
                })
                .collect()),
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(v) => Err(bad(self.path, k, v)),
        }
    }

    /// A list of strings.
    pub(crate) fn strs(&self, k: &str) -> Result<Vec<String>, WireError> {
        self.list(k)?
            .into_iter()
            .map(|i| match i.value {
                Value::String(s) => Ok(s.clone()),
                v => Err(bad(self.path, k, v)),
            })
            .collect()
    }

    /// A list of doubles.
    pub(crate) fn f64s(&self, k: &str) -> Result<Vec<f64>, WireError> {
        self.list(k)?
            .into_iter()
            .map(|i| match i.value {
                Value::Number(n) => n.as_f64().ok_or_else(|| bad(self.path, k, i.value)),
                Value::String(s) => s.trim().parse().map_err(|_| bad(self.path, k, i.value)),
                v => Err(bad(self.path, k, v)),
            })
            .collect()
    }

    /// A structure member.
    pub(crate) fn obj(&self, k: &str) -> Result<Option<In<'a>>, WireError> {
        match self.get(k) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(In {
                value: v,
                path: self.path,
            })),
            Some(v) => Err(bad(self.path, k, v)),
        }
    }

    /// Whether the member is present.
    pub(crate) fn has(&self, k: &str) -> bool {
        self.get(k).is_some()
    }
}

/// ISO 8601 / RFC 3339 text to epoch ms; also accepts a bare number of epoch seconds.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
    }
    match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs.abs() < 1.0e13 => Some((secs * 1000.0).round() as i64),
        _ => None,
    }
}

/// Epoch ms as ISO 8601 with milliseconds and `Z` (Query responses).
pub(crate) fn iso(ms: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Renders a tree as JSON (AWS JSON 1.0): timestamps as epoch seconds.
pub(crate) fn to_json(out: &Out) -> Value {
    match out {
        Out::Str(s) => Value::String(s.clone()),
        Out::Int(i) => Value::from(*i),
        Out::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Out::Bool(b) => Value::Bool(*b),
        Out::Time(ms) => {
            if ms % 1000 == 0 {
                Value::from(ms / 1000)
            } else {
                serde_json::Number::from_f64(*ms as f64 / 1000.0)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Out::List(l) => Value::Array(l.iter().map(to_json).collect()),
        Out::Struct(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect())
        }
        Out::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_accessors() {
        let v = json!({"A": "1.5", "B": 2, "C": "true", "D": "2016-10-03T23:00:00Z", "E": 1475535600.5, "F": "", "G": [1, "2"]});
        let i = In::root(&v);
        assert_eq!(i.f64("A").unwrap(), Some(1.5));
        assert_eq!(i.i64("B").unwrap(), Some(2));
        assert_eq!(i.bool("C").unwrap(), Some(true));
        assert_eq!(i.time_ms("D").unwrap(), Some(1_475_535_600_000));
        assert_eq!(i.time_ms("E").unwrap(), Some(1_475_535_600_500));
        assert!(i.list("F").unwrap().is_empty());
        assert_eq!(i.f64s("G").unwrap(), vec![1.0, 2.0]);
        assert!(i.i64("A").is_err());
        assert!(i.bool("B").is_err());
        assert_eq!(i.s("missing").unwrap(), None);
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time("2016-10-03T23:00:00.250Z"),
            Some(1_475_535_600_250)
        );
        assert_eq!(
            parse_time("2016-10-03T23:00:00+01:00"),
            Some(1_475_532_000_000)
        );
        assert_eq!(iso(1_475_535_600_250), "2016-10-03T23:00:00.250Z");
        assert_eq!(parse_time("garbage"), None);
    }
}
