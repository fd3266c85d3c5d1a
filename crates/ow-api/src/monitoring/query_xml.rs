//! AWS Query (api.md B.1): `application/x-www-form-urlencoded` bodies
//! (`Action=<Op>&Version=2010-08-01&MetricData.member.1.MetricName=…`) in, XML out in
//! namespace `http://monitoring.amazonaws.com/doc/2010-08-01/`.

use serde_json::{Map, Value};

use super::wire::{iso, Out};
use super::WireError;

/// The XML namespace of CloudWatch's Query responses.
pub const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

/// Most `.`-separated parts a form key may have.
const MAX_KEY_PARTS: usize = 32;

/// The API version Query requests must name.
pub const VERSION: &str = "2010-08-01";

/// Decodes a form body into `(Action, Version, parameters)`; the parameters are rebuilt as
/// a tree: `X.member.N` becomes a list (ordered by N), `X.entry.N.key/value` a map, every
/// scalar a string.
///
/// # Errors
/// `MissingAction` when there is no `Action`.
pub fn decode_form(body: &[u8]) -> Result<(String, Option<String>, Value), WireError> {
    let mut root = Map::new();
    let mut action = None;
    let mut version = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => action = Some(v.into_owned()),
            "Version" => version = Some(v.into_owned()),
            _ => {
                // Deepest real key: MetricDataQueries.member.N.MetricStat.Metric.Dimensions
                // .member.N.Name (9 parts); the cap keeps hostile keys from deep recursion.
                if k.split('.').count() > MAX_KEY_PARTS {
                    return Err(WireError::invalid_value(format!(
                        "The parameter name {}… has more than {MAX_KEY_PARTS} parts.",
                        k.chars().take(64).collect::<String>()
                    )));
                }
                insert(&mut root, &k, v.into_owned())
            }
        }
    }
    let action = action.ok_or_else(|| WireError {
        type_name: "MissingAction".into(),
        code: "MissingAction".into(),
        status: 400,
        message: "Action is required".into(),
        sender: true,
        validation: None,
    })?;
    Ok((action, version, restructure(Value::Object(root))))
}

fn insert(root: &mut Map<String, Value>, key: &str, value: String) {
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = root;
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur.insert(p.to_string(), Value::String(value));
            return;
        }
        let next = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            // `A=x` and `A.member.1=y` both given: the structured form wins.
            *next = Value::Object(Map::new());
        }
        match next {
            Value::Object(m) => cur = m,
            _ => return,
        }
    }
}

/// `{"member": {"1": a, "2": b}}` → `[a, b]`; `{"entry": {"1": {"key": k, "value": v}}}` →
/// `{k: v}`; recursively.
fn restructure(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            if m.len() == 1 {
                if let Some(Value::Object(items)) = m.get("member") {
                    return Value::Array(indexed(items).into_iter().map(restructure).collect());
                }
                if let Some(Value::Object(items)) = m.get("entry") {
                    let mut out = Map::new();
                    for e in indexed(items) {
                        if let Value::Object(mut e) = e {
                            if let Some(Value::String(k)) = e.remove("key") {
                                let val = e.remove("value").map(restructure).unwrap_or(Value::Null);
                                out.insert(k, val);
                            }
                        }
                    }
                    return Value::Object(out);
                }
            }
            Value::Object(m.into_iter().map(|(k, v)| (k, restructure(v))).collect())
        }
        other => other,
    }
}

fn indexed(items: &Map<String, Value>) -> Vec<Value> {
    let mut list: Vec<(u64, Value)> = items
        .iter()
        .filter_map(|(k, v)| k.parse::<u64>().ok().map(|n| (n, v.clone())))
        .collect();
    list.sort_by_key(|(n, _)| *n);
    list.into_iter().map(|(_, v)| v).collect()
}

/// Escapes XML text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn scalar_text(o: &Out) -> Option<String> {
    Some(match o {
        Out::Str(s) => escape(s),
        Out::Int(i) => i.to_string(),
        Out::Float(f) => format_double(*f),
        Out::Bool(b) => b.to_string(),
        Out::Time(ms) => iso(*ms),
        _ => return None,
    })
}

/// Doubles as AWS's XML prints them: integral values keep `.0` (`1.0`), others shortest
/// round-trip text.
fn format_double(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn write_value(xml: &mut String, o: &Out) {
    if let Some(t) = scalar_text(o) {
        xml.push_str(&t);
        return;
    }
    match o {
        Out::List(items) => {
            for it in items {
                xml.push_str("<member>");
                write_value(xml, it);
                xml.push_str("</member>");
            }
        }
        Out::Struct(members) => {
            for (k, v) in members {
                element(xml, k, v);
            }
        }
        Out::Map(entries) => {
            for (k, v) in entries {
                xml.push_str("<entry><key>");
                xml.push_str(&escape(k));
                xml.push_str("</key><value>");
                write_value(xml, v);
                xml.push_str("</value></entry>");
            }
        }
        _ => {}
    }
}

fn element(xml: &mut String, name: &str, v: &Out) {
    xml.push('<');
    xml.push_str(name);
    xml.push('>');
    write_value(xml, v);
    xml.push_str("</");
    xml.push_str(name);
    xml.push('>');
}

/// `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId>…` — no
/// `OpResult` when the operation has no output.
pub fn response(op: &str, result: Option<&Out>, request_id: &str) -> String {
    let mut xml = format!("<{op}Response xmlns=\"{XMLNS}\">");
    if let Some(r) = result {
        element(&mut xml, &format!("{op}Result"), r);
    }
    xml.push_str("<ResponseMetadata><RequestId>");
    xml.push_str(&escape(request_id));
    xml.push_str("</RequestId></ResponseMetadata></");
    xml.push_str(op);
    xml.push_str("Response>");
    xml
}

/// `<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…`
/// `</Message></Error><RequestId>…</RequestId></ErrorResponse>`; a dashboard validation
/// error also carries `<dashboardValidationMessages>` inside `<Error>` [I: the model's member
/// name].
pub fn error(e: &WireError, request_id: &str) -> String {
    let mut xml = format!("<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>");
    xml.push_str(if e.sender { "Sender" } else { "Receiver" });
    xml.push_str("</Type><Code>");
    xml.push_str(&escape(&e.code));
    xml.push_str("</Code><Message>");
    xml.push_str(&escape(&e.message));
    xml.push_str("</Message>");
    if let Some(v) = &e.validation {
        element(
            &mut xml,
            "dashboardValidationMessages",
            &super::validation_out(v),
        );
    }
    xml.push_str("</Error><RequestId>");
    xml.push_str(&escape(request_id));
    xml.push_str("</RequestId></ErrorResponse>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_become_trees() {
        let body = b"Action=PutMetricData&Version=2010-08-01&Namespace=Ns&MetricData.member.2.MetricName=B&MetricData.member.1.MetricName=A&MetricData.member.1.Dimensions.member.1.Name=d&MetricData.member.1.Dimensions.member.1.Value=v%20x&MetricData.member.1.Value=1.5&Tags.entry.1.key=k&Tags.entry.1.value=val&AlarmNames=";
        let (action, version, tree) = decode_form(body).unwrap();
        assert_eq!(action, "PutMetricData");
        assert_eq!(version.as_deref(), Some("2010-08-01"));
        assert_eq!(
            tree,
            json!({"Namespace": "Ns", "MetricData": [
                {"MetricName": "A", "Dimensions": [{"Name": "d", "Value": "v x"}], "Value": "1.5"},
                {"MetricName": "B"}], "Tags": {"k": "val"}, "AlarmNames": ""})
        );
        assert!(decode_form(b"Version=2010-08-01").is_err());
        let deep = format!("Action=ListMetrics&{}=1", vec!["a"; 100_000].join("."));
        assert!(decode_form(deep.as_bytes()).is_err());
    }

    #[test]
    fn xml_shapes() {
        let out = Out::Struct(vec![
            ("Label", Out::Str("a<b".into())),
            (
                "Datapoints",
                Out::List(vec![Out::Struct(vec![
                    ("Timestamp", Out::Time(1_475_535_600_000)),
                    ("Sum", Out::Float(2.0)),
                    (
                        "ExtendedStatistics",
                        Out::Map(vec![("p99".into(), Out::Float(1.5))]),
                    ),
                ])]),
            ),
        ]);
        assert_eq!(
            response("GetMetricStatistics", Some(&out), "rid"),
            "<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><GetMetricStatisticsResult><Label>a&lt;b</Label><Datapoints><member><Timestamp>2016-10-03T23:00:00.000Z</Timestamp><Sum>2.0</Sum><ExtendedStatistics><entry><key>p99</key><value>1.5</value></entry></ExtendedStatistics></member></Datapoints></GetMetricStatisticsResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetMetricStatisticsResponse>"
        );
        assert_eq!(
            response("PutMetricData", None, "r"),
            "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PutMetricDataResponse>"
        );
    }
}
