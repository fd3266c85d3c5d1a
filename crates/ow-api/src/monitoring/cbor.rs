//! Smithy RPC v2 CBOR (api.md B.1): request bodies decoded into the JSON-shaped tree the
//! operations read, responses encoded from [`Out`]. Timestamps: tag 1 around an integer or
//! a double of epoch seconds on input (Java v2 sends doubles); tag 1 + double on output.

use ciborium::value::Value as Cbor;
use serde_json::{Map, Value};

use super::wire::Out;
use super::WireError;

/// Decodes a CBOR body (empty = `{}`) into a JSON tree. CBOR `null` members are dropped
/// (absent), byte strings become base64 text (CloudWatch has no blob inputs).
///
/// # Errors
/// `SerializationException` for malformed CBOR or a top level that is not a map.
pub fn decode(body: &[u8]) -> Result<Value, WireError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let v: Cbor = ciborium::de::from_reader(body).map_err(|e| {
        WireError::serialization(format!("The request body is not valid CBOR: {e}"))
    })?;
    match to_json(v, 0)? {
        Value::Object(m) => Ok(Value::Object(m)),
        _ => Err(WireError::serialization(
            "The request body must be a CBOR map".to_string(),
        )),
    }
}

fn to_json(v: Cbor, depth: usize) -> Result<Value, WireError> {
    if depth > 64 {
        return Err(WireError::serialization("CBOR nesting is too deep".into()));
    }
    Ok(match v {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Integer(i) => {
            let i: i128 = i.into();
            if let Ok(x) = i64::try_from(i) {
                Value::from(x)
            } else if let Ok(x) = u64::try_from(i) {
                Value::from(x)
            } else {
                serde_json::Number::from_f64(i as f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Cbor::Float(f) => match serde_json::Number::from_f64(f) {
            Some(n) => Value::Number(n),
            // NaN / ±Infinity: kept as text so validation rejects it by name.
            None => Value::String(f.to_string()),
        },
        Cbor::Text(s) => Value::String(s),
        Cbor::Bytes(b) => {
            use base64::Engine as _;
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Cbor::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| to_json(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Cbor::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let Cbor::Text(k) = k else {
                    return Err(WireError::serialization(
                        "CBOR map keys must be text".into(),
                    ));
                };
                let v = to_json(v, depth + 1)?;
                if !v.is_null() {
                    out.insert(k, v);
                }
            }
            Value::Object(out)
        }
        Cbor::Tag(_, inner) => to_json(*inner, depth + 1)?,
        _ => Value::Null,
    })
}

/// Encodes a response tree.
pub fn to_cbor(o: &Out) -> Cbor {
    match o {
        Out::Str(s) => Cbor::Text(s.clone()),
        Out::Int(i) => Cbor::Integer((*i).into()),
        Out::Float(f) => Cbor::Float(*f),
        Out::Bool(b) => Cbor::Bool(*b),
        Out::Time(ms) => Cbor::Tag(1, Box::new(Cbor::Float(*ms as f64 / 1000.0))),
        Out::List(l) => Cbor::Array(l.iter().map(to_cbor).collect()),
        Out::Struct(m) => Cbor::Map(
            m.iter()
                .map(|(k, v)| (Cbor::Text(k.to_string()), to_cbor(v)))
                .collect(),
        ),
        Out::Map(m) => Cbor::Map(
            m.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), to_cbor(v)))
                .collect(),
        ),
    }
}

/// Serialises a CBOR value.
pub fn encode(v: &Cbor) -> Vec<u8> {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail for a plain value tree.
    let _ = ciborium::ser::into_writer(v, &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_tagged_timestamps_and_drops_nulls() {
        let v = Cbor::Map(vec![
            (
                Cbor::Text("StartTime".into()),
                Cbor::Tag(1, Box::new(Cbor::Float(1.5e9))),
            ),
            (
                Cbor::Text("EndTime".into()),
                Cbor::Tag(1, Box::new(Cbor::Integer(1_600_000_000.into()))),
            ),
            (Cbor::Text("X".into()), Cbor::Null),
            (
                Cbor::Text("L".into()),
                Cbor::Array(vec![Cbor::Text("a".into())]),
            ),
        ]);
        let tree = decode(&encode(&v)).unwrap();
        assert_eq!(
            tree,
            json!({"StartTime": 1.5e9, "EndTime": 1_600_000_000i64, "L": ["a"]})
        );
        assert!(decode(b"\xff\x00").is_err());
        assert!(decode(&encode(&Cbor::Array(vec![]))).is_err());
        assert_eq!(decode(b"").unwrap(), json!({}));
    }

    #[test]
    fn encodes_time_as_tag1_double() {
        let c = to_cbor(&Out::Time(1_500));
        assert_eq!(c, Cbor::Tag(1, Box::new(Cbor::Float(1.5))));
    }
}
