//! Discovered fields of the AWS text log formats (spec `insights-language.md` §3.2 [V]):
//! Lambda platform lines (`START`/`END`/`REPORT`), Lambda runtime lines carrying a JSON
//! fragment, and VPC flow log records in the default (version 2) format.
//!
//! # When these formats apply [I]
//!
//! AWS knows which service writes to a log group; OpenWatch does not (imports and
//! `PutLogEvents` carry no source). We chose to recognise a format **by the exact shape of
//! the message alone, in every log group**, so that the flush (promotion, field statistics),
//! the query-time extraction and GetLogRecord need nothing but the message and can never
//! disagree. The shapes are strict so that ordinary text logs do not grow fields:
//!
//! * Lambda platform line: the message starts with exactly `REPORT RequestId: `,
//!   `START RequestId: ` or `END RequestId: ` followed by a non-empty request id.
//! * Lambda runtime line: prefix `<ISO-8601 UTC time>␣<request id>␣[<LEVEL>␣]` (Node.js
//!   runtime; ␣ is one TAB or one space, as in `… Task timed out after 3.00 seconds`) or
//!   `[<LEVEL>]\t<ISO-8601 UTC time>\t<request id>\t` (Python runtime), where the request id
//!   has the UUID shape (36 characters, dashes at 8/13/18/23, ASCII letters/digits
//!   elsewhere: the AWS docs mask ids with `xmpl`) and LEVEL is one of
//!   TRACE/DEBUG/INFO/WARN/ERROR/FATAL. Such a line has the field `@requestId` [I: the
//!   spec's example 11 reads `@requestId` from `Task timed out` lines, which have this
//!   shape], followed by the fields of its first JSON fragment, if any [V].
//! * VPC flow log record: exactly 14 fields separated by single spaces, version `2`, a
//!   12-digit account id, a `-`-or-`eni-…` interface id, addresses made of hex digits, `.`
//!   and `:`, numeric ports/protocol/packets/bytes/times, action `ACCEPT`/`REJECT`/`-`,
//!   log status `OK`/`NODATA`/`SKIPDATA`. A trailing line break is ignored.
//!
//! A message that is a JSON object is never one of these (ordinary JSON discovery applies).

use super::JsonScalar;
use std::borrow::Cow;

/// What a non-JSON message yields.
pub(super) enum Shape<'a> {
    /// A fixed list of fields (Lambda platform line or VPC flow log record), in message
    /// order; every borrowed value points into the message.
    Fields(super::Source, Vec<(&'static str, JsonScalar<'a>)>),
    /// A Lambda runtime line: its request id, and the byte offset from which its first
    /// JSON fragment is searched.
    Runtime { request_id: &'a str, from: usize },
}

/// Recognises one of the formats of the module docs; `None` for any other text.
pub(super) fn shape(message: &str) -> Option<Shape<'_>> {
    let b = message.as_bytes();
    match b.first()? {
        b'R' | b'S' | b'E' => {
            lambda_platform(message).map(|f| Shape::Fields(super::Source::LambdaPlatform, f))
        }
        b'2' if b.get(1) == Some(&b' ') => {
            vpc_flow_log(message).map(|f| Shape::Fields(super::Source::VpcFlowLog, f))
        }
        b'0'..=b'9' | b'[' => lambda_runtime_prefix(message)
            .map(|(request_id, from)| Shape::Runtime { request_id, from }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Lambda platform lines

/// `START`/`END`/`REPORT` lines. Fields (spec §3.2 [V] for REPORT): `@type`, `@requestId`,
/// and for `REPORT`: `@duration`, `@billedDuration` (milliseconds, text as written),
/// `@memorySize`, `@maxMemoryUsed` (bytes: the line's MB value × 1,000,000 [V: the AWS
/// sample divides by 1000·1000]), `@xrayTraceId`, `@xraySegmentId` (when the line carries
/// an X-Ray trace). [I] `START`/`END` lines also get `@type` (`START`/`END`) and
/// `@requestId`: AWS documents the field names for "Lambda logs" without restricting them
/// to `REPORT` lines, and `@type` only makes sense if other types exist. `Init Duration`
/// and `Sampled` are not discovered fields [V: the AWS examples `parse` the init duration].
/// A standalone `XRAY TraceId: …` line (a separate event) has no fields [I].
fn lambda_platform(message: &str) -> Option<Vec<(&'static str, JsonScalar<'_>)>> {
    let line = message.trim_end();
    let (ty_len, rest) = if let Some(r) = line.strip_prefix("REPORT RequestId: ") {
        (6, r)
    } else if let Some(r) = line.strip_prefix("START RequestId: ") {
        (5, r)
    } else if let Some(r) = line.strip_prefix("END RequestId: ") {
        (3, r)
    } else {
        return None;
    };
    let id_end = rest
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let id = &rest[..id_end];
    if id.is_empty() {
        return None;
    }
    // borrowed from the message itself (the segment writer relies on that)
    let ty = &line[..ty_len];
    let mut out = vec![
        ("@type", JsonScalar::String(Cow::Borrowed(ty))),
        ("@requestId", JsonScalar::String(Cow::Borrowed(id))),
    ];
    if ty == "REPORT" {
        report_metrics(&rest[id_end..], &mut out);
    }
    Some(out)
}

/// How a REPORT value is turned into a field.
#[derive(Clone, Copy)]
enum Unit {
    /// `<decimal> ms`, kept as written.
    Ms,
    /// `<integer> MB`, converted to bytes.
    Mb,
    /// one token, kept as written (trace and segment ids).
    Id,
}

/// Labels of a REPORT line as whitespace-separated words; `None` = recognised and skipped.
const REPORT_LABELS: [(&[&str], Option<&str>, Unit); 8] = [
    (&["Billed", "Duration:"], Some("@billedDuration"), Unit::Ms),
    (&["Init", "Duration:"], None, Unit::Ms),
    (&["Duration:"], Some("@duration"), Unit::Ms),
    (
        &["Max", "Memory", "Used:"],
        Some("@maxMemoryUsed"),
        Unit::Mb,
    ),
    (&["Memory", "Size:"], Some("@memorySize"), Unit::Mb),
    (&["XRAY", "TraceId:"], Some("@xrayTraceId"), Unit::Id),
    (&["SegmentId:"], Some("@xraySegmentId"), Unit::Id),
    (&["Sampled:"], None, Unit::Id),
];

/// The metrics after the request id. The AWS docs print REPORT lines with TAB separators
/// and sometimes with runs of spaces (or single spaces) instead, so the line is read as
/// words and labels are matched word by word. The first occurrence of a field wins; a
/// value that does not have its expected form (`12.5 ms`, `128 MB`) is left out.
fn report_metrics<'a>(rest: &'a str, out: &mut Vec<(&'static str, JsonScalar<'a>)>) {
    let words: Vec<&'a str> = rest.split_ascii_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let Some(&(label, name, unit)) = REPORT_LABELS
            .iter()
            .find(|(l, _, _)| words[i..].starts_with(l))
        else {
            i += 1;
            continue;
        };
        i += label.len();
        let Some(&value) = words.get(i) else { break };
        let unit_word = match unit {
            Unit::Ms => Some("ms"),
            Unit::Mb => Some("MB"),
            Unit::Id => None,
        };
        if let Some(u) = unit_word {
            if words.get(i + 1) != Some(&u) {
                continue; // not `<value> <unit>`: not a metric
            }
        }
        i += 1 + usize::from(unit_word.is_some());
        let Some(name) = name else { continue };
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let v = match unit {
            Unit::Ms if is_decimal(value) => JsonScalar::Number(Cow::Borrowed(value)),
            Unit::Mb => match value
                .parse::<u64>()
                .ok()
                .and_then(|mb| mb.checked_mul(1_000_000))
            {
                Some(bytes) if value.bytes().all(|c| c.is_ascii_digit()) => {
                    JsonScalar::Number(Cow::Owned(bytes.to_string()))
                }
                _ => continue,
            },
            Unit::Id => JsonScalar::String(Cow::Borrowed(value)),
            Unit::Ms => continue,
        };
        out.push((name, v));
    }
}

/// `digits[.digits]`
fn is_decimal(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

// ---------------------------------------------------------------------------------------
// Lambda runtime lines

/// The request id and the byte offset of the application text after a Lambda runtime
/// prefix (module docs), or `None` when the message does not start with one.
fn lambda_runtime_prefix(message: &str) -> Option<(&str, usize)> {
    if let Some(rest) = message.strip_prefix('[') {
        // Python: [LEVEL] \t TIME \t ID \t text
        let mut parts = rest.splitn(4, '\t');
        let level = parts.next()?.strip_suffix(']')?;
        let time = parts.next()?;
        let id = parts.next()?;
        parts.next()?;
        return (is_level(level) && is_iso_utc(time) && is_request_id(id))
            .then(|| (id, 1 + level.len() + 2 + time.len() + 1 + id.len() + 1));
    }
    // Node.js: TIME ␣ ID ␣ [LEVEL ␣] text, ␣ = one TAB or one space
    let sep = |c: char| c == '\t' || c == ' ';
    let time_end = message.find(sep)?;
    if !is_iso_utc(&message[..time_end]) {
        return None;
    }
    let id_start = time_end + 1;
    let id = message.get(id_start..id_start + 36)?;
    if !is_request_id(id) {
        return None;
    }
    let after_id = id_start + 36;
    match message[after_id..].chars().next() {
        None => return Some((id, after_id)),
        Some(c) if sep(c) => {}
        Some(_) => return None,
    }
    let text = after_id + 1;
    if let Some(level_len) = message[text..].find(sep) {
        if is_level(&message[text..text + level_len]) {
            return Some((id, text + level_len + 1));
        }
    }
    Some((id, text))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`
fn is_iso_utc(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return false;
    }
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let head_ok = shape.iter().zip(b).all(|(&p, &c)| match p {
        b'd' => c.is_ascii_digit(),
        _ => p == c,
    });
    let tail = &b[19..b.len() - 1];
    head_ok
        && (tail.is_empty()
            || (tail.len() > 1 && tail[0] == b'.' && tail[1..].iter().all(u8::is_ascii_digit)))
}

/// UUID shape: 36 characters, `-` at 8, 13, 18, 23, ASCII letters or digits elsewhere.
fn is_request_id(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_alphanumeric(),
        })
}

fn is_level(s: &str) -> bool {
    matches!(s, "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL")
}

// ---------------------------------------------------------------------------------------
// VPC flow logs

/// Field names of the default format, version 2 [V].
const VPC_FIELDS: [&str; 14] = [
    "version",
    "accountId",
    "interfaceId",
    "srcAddr",
    "dstAddr",
    "srcPort",
    "dstPort",
    "protocol",
    "packets",
    "bytes",
    "startTime",
    "endTime",
    "action",
    "logStatus",
];

/// A default-format (version 2) record. [I] A field whose value is `-` (AWS: "not
/// applicable or could not be computed", e.g. every traffic field of a `NODATA` or
/// `SKIPDATA` record) is **absent** (missing, spec §3.4): `ispresent(srcAddr)` tells such
/// records apart, `count(bytes)` counts only records with traffic, and `stats … by srcAddr`
/// makes no `-` group. Numeric fields (version, ports, protocol, packets, bytes,
/// start/end time in epoch seconds) are numbers; the others strings.
fn vpc_flow_log(message: &str) -> Option<Vec<(&'static str, JsonScalar<'_>)>> {
    let line = message.trim_end_matches(['\n', '\r']);
    let mut toks = [""; 14];
    let mut n = 0;
    for t in line.split(' ') {
        if n == 14 {
            return None;
        }
        toks[n] = t;
        n += 1;
    }
    if n != 14 {
        return None;
    }
    let digits = |t: &str| !t.is_empty() && t.len() <= 20 && t.bytes().all(|c| c.is_ascii_digit());
    let dash_or = |t: &str, f: &dyn Fn(&str) -> bool| t == "-" || f(t);
    let addr = |t: &str| {
        !t.is_empty()
            && t.len() <= 45
            && t.contains(['.', ':'])
            && t.bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b'.' || c == b':')
    };
    let ok = toks[0] == "2"
        && toks[1].len() == 12
        && digits(toks[1])
        && dash_or(toks[2], &|t| t.starts_with("eni-") && t.len() > 4)
        && dash_or(toks[3], &addr)
        && dash_or(toks[4], &addr)
        && toks[5..10].iter().all(|t| dash_or(t, &digits))
        && digits(toks[10])
        && digits(toks[11])
        && matches!(toks[12], "ACCEPT" | "REJECT" | "-")
        && matches!(toks[13], "OK" | "NODATA" | "SKIPDATA");
    if !ok {
        return None;
    }
    let numeric = [0usize, 5, 6, 7, 8, 9, 10, 11];
    Some(
        VPC_FIELDS
            .iter()
            .zip(toks)
            .enumerate()
            .filter(|(_, (_, t))| *t != "-")
            .map(|(i, (&name, t))| {
                let v = if numeric.contains(&i) {
                    JsonScalar::Number(Cow::Borrowed(t))
                } else {
                    JsonScalar::String(Cow::Borrowed(t))
                };
                (name, v)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use crate::fields::{flatten, source_of, PathExtractor, Source, DEFAULT_MAX_FIELDS};

    fn fields(msg: &str) -> Vec<(String, String)> {
        flatten(msg, DEFAULT_MAX_FIELDS)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_text().map(|t| (k, t.into_owned())))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn fixture(name: &str) -> String {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/other/fixtures/"
        );
        std::fs::read_to_string(format!("{p}{name}")).expect("fixture")
    }

    #[test]
    fn report_line_with_tabs_and_xray() {
        let msg = "REPORT RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac\tDuration: 128.83 ms\tBilled Duration: 200 ms\tMemory Size: 128 MB\tMax Memory Used: 74 MB\tInit Duration: 166.62 ms\tXRAY TraceId: 1-5d9d007f-0a8c7fd02xmpl480aed55ef0\tSegmentId: 3d752xmpl1bbe37e\tSampled: true";
        assert_eq!(
            fields(msg),
            pairs(&[
                ("@type", "REPORT"),
                ("@requestId", "c793869b-ee49-115b-a5b6-4fd21e8dedac"),
                ("@duration", "128.83"),
                ("@billedDuration", "200"),
                ("@memorySize", "128000000"),
                ("@maxMemoryUsed", "74000000"),
                ("@xrayTraceId", "1-5d9d007f-0a8c7fd02xmpl480aed55ef0"),
                ("@xraySegmentId", "3d752xmpl1bbe37e"),
            ])
        );
        assert_eq!(source_of(msg, 200), Some(Source::LambdaPlatform));
    }

    #[test]
    fn report_line_with_space_separators_and_init_first() {
        let msg = "REPORT RequestId: f8ac1208... Init Duration: 48.26 ms   Duration: 237.17 ms   Billed Duration: 300 ms   Memory Size: 128 MB   Max Memory Used: 26 MB";
        assert_eq!(
            fields(msg),
            pairs(&[
                ("@type", "REPORT"),
                ("@requestId", "f8ac1208..."),
                ("@duration", "237.17"),
                ("@billedDuration", "300"),
                ("@memorySize", "128000000"),
                ("@maxMemoryUsed", "26000000"),
            ])
        );
        // single spaces between items, trailing TAB + newline
        let msg = "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95  Duration: 15.74 ms  Billed Duration: 16 ms Memory Size: 128 MB Max Memory Used: 56 MB  Init Duration: 130.49 ms\t\n";
        let f = fields(msg);
        assert_eq!(f[2], ("@duration".into(), "15.74".into()));
        assert_eq!(f[3], ("@billedDuration".into(), "16".into()));
        assert_eq!(f[5], ("@maxMemoryUsed".into(), "56000000".into()));
        assert_eq!(f.len(), 6);
    }

    #[test]
    fn start_and_end_lines_have_type_and_request_id() {
        assert_eq!(
            fields("START RequestId: d1cf0ccb-xmpl-46e6-950d-04c96c9b1c5d Version: $LATEST\n"),
            pairs(&[
                ("@type", "START"),
                ("@requestId", "d1cf0ccb-xmpl-46e6-950d-04c96c9b1c5d")
            ])
        );
        assert_eq!(
            fields("END RequestId: id"),
            pairs(&[("@type", "END"), ("@requestId", "id")])
        );
    }

    #[test]
    fn malformed_metric_values_are_left_out() {
        let f = fields(
            "REPORT RequestId: x\tDuration: fast ms\tMemory Size: 1.5 MB\tBilled Duration: 3 s",
        );
        assert_eq!(f, pairs(&[("@type", "REPORT"), ("@requestId", "x")]));
    }

    #[test]
    fn ordinary_text_has_no_fields() {
        for m in [
            "REPORT: all good",
            "REPORT RequestId: ",
            "STARTED RequestId: x",
            "XRAY TraceId: 1-5e7e8131-7ff0xmpl32bfb31045d0a3bb\tSegmentId: 0152xmpl6016310f\tSampled: true",
            "2 things happened",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK extra",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 MAYBE OK",
            "2 123456789010 eni-1 host.example 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK",
            "3 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK",
            "2024-01-01T00:00:00Z\tnot-a-request-id\tINFO\t{\"a\":1}",
            "2024-01-01T00:00:00Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bfx\tINFO",
            "2024-01-01T00:00:00Z  4ce9340a-b765-490f-ad8a-02ab3415e2bf INFO",
            "[INFO]\t2024-01-01T00:00:00Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf",
            "2024-01-01 00:00:00 INFO {\"a\":1}",
            "[INFO] {\"a\":1}",
            "{\"a\":1} trailing",
            "",
        ] {
            assert_eq!(flatten(m, 200).map(|v| v.len()), None, "{m:?}");
        }
    }

    #[test]
    fn vpc_flow_logs_fixture() {
        let text = fixture("vpc-flow-logs-v2.awsdocs.log");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        for l in &lines {
            assert_eq!(source_of(l, 200), Some(Source::VpcFlowLog), "{l}");
        }
        assert_eq!(
            fields(lines[1]),
            pairs(&[
                ("version", "2"),
                ("accountId", "123456789010"),
                ("interfaceId", "eni-1235b8ca123456789"),
                ("srcAddr", "172.31.9.69"),
                ("dstAddr", "172.31.9.12"),
                ("srcPort", "49761"),
                ("dstPort", "3389"),
                ("protocol", "6"),
                ("packets", "20"),
                ("bytes", "4249"),
                ("startTime", "1418530010"),
                ("endTime", "1418530070"),
                ("action", "REJECT"),
                ("logStatus", "OK"),
            ])
        );
        // NODATA: '-' fields are absent
        assert_eq!(
            fields(lines[2]),
            pairs(&[
                ("version", "2"),
                ("accountId", "123456789010"),
                ("interfaceId", "eni-1235b8ca123456789"),
                ("startTime", "1431280876"),
                ("endTime", "1431280934"),
                ("logStatus", "NODATA"),
            ])
        );
        // IPv6 addresses
        assert_eq!(
            fields(lines[6])[3].1,
            "2001:db8:1234:a100:8d6e:3477:df66:f105"
        );
    }

    #[test]
    fn lambda_platform_fixture_every_report_line_has_its_metrics() {
        let text = fixture("lambda-platform-lines.awsdocs.log");
        let mut reports = 0;
        for l in text.lines() {
            let f = fields(l);
            let ty = f
                .iter()
                .find(|(k, _)| k == "@type")
                .map(|(_, v)| v.as_str());
            match l.split(' ').next() {
                Some(t @ ("START" | "END")) => assert_eq!(ty, Some(t), "{l}"),
                Some("REPORT") => {
                    reports += 1;
                    let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
                    for n in [
                        "@duration",
                        "@billedDuration",
                        "@memorySize",
                        "@maxMemoryUsed",
                    ] {
                        assert!(names.contains(&n), "{n} in {l}");
                    }
                }
                _ => assert!(f.is_empty(), "{l}"),
            }
        }
        assert_eq!(reports, 11);
    }

    #[test]
    fn lambda_runtime_lines_use_the_first_json_fragment() {
        // Node.js runtime, first fragment only
        const ID: &str = "4ce9340a-b765-490f-ad8a-02ab3415e2bf";
        let m = "2024-05-01T10:00:00.123Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\tgot {\"a\":1,\"@b\":{\"c\":true}} then {\"z\":2}";
        assert_eq!(
            fields(m),
            pairs(&[("@requestId", ID), ("a", "1"), ("@@b.c", "true")])
        );
        assert_eq!(source_of(m, 200), Some(Source::LambdaRuntime));
        // a '{' that does not start valid JSON is skipped; the next one is the fragment
        let m = "2024-05-01T10:00:00Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tERROR\tset {x} {\"k\":\"v\"}";
        assert_eq!(fields(m), pairs(&[("@requestId", ID), ("k", "v")]));
        // Python runtime
        let m = "[WARN]\t2024-05-01T10:00:00.123Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\t{\"level\":\"w\"}\n";
        assert_eq!(fields(m), pairs(&[("@requestId", ID), ("level", "w")]));
        // no fragment: only the request id (space-separated, as the runtime's timeout line)
        let m = "2024-05-01T10:00:03.000Z 4ce9340a-b765-490f-ad8a-02ab3415e2bf Task timed out after 3.00 seconds";
        assert_eq!(fields(m), pairs(&[("@requestId", ID)]));
        // the extractor agrees
        let m = "2024-05-01T10:00:00.123Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\tx {\"a\":{\"b\":[5]}} {\"a\":9}";
        let ex = PathExtractor::discovering(["a.b.0", "a"], 200);
        let got = ex.extract(m);
        assert_eq!(got[0].as_deref(), Some("5"));
        assert_eq!(got[1], None);
        // the JSON-only extractor does not look at text formats
        assert_eq!(PathExtractor::new(["a.b.0"], 200).extract(m)[0], None);
    }

    #[test]
    fn get_log_events_fixture_fragments() {
        let text = fixture("lambda-get-log-events.awsdocs.ndjson");
        let msgs: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                v["message"].as_str().expect("message").to_string()
            })
            .collect();
        assert_eq!(msgs.len(), 5);
        // START
        assert_eq!(fields(&msgs[0])[0], ("@type".into(), "START".into()));
        // a fragment truncated by the docs ("...") is not JSON: only the request id
        let id = "4ce9340a-b765-490f-ad8a-02ab3415e2bf";
        assert_eq!(fields(&msgs[1]), pairs(&[("@requestId", id)]));
        // "EVENT\r{\r  \"key\": \"value\"\r}\n"
        assert_eq!(
            fields(&msgs[2]),
            pairs(&[("@requestId", id), ("key", "value")])
        );
        // REPORT with "27 ms \t" (space before the TAB) and a trailing "\t\n"
        assert_eq!(
            fields(&msgs[4]),
            pairs(&[
                ("@type", "REPORT"),
                ("@requestId", "4ce9340a-b765-490f-ad8a-02ab3415e2bf"),
                ("@duration", "26.73"),
                ("@billedDuration", "27"),
                ("@memorySize", "128000000"),
                ("@maxMemoryUsed", "75000000"),
            ])
        );
    }

    #[test]
    fn extractor_agrees_with_flatten_on_text_formats() {
        let msgs = [
            "REPORT RequestId: r\tDuration: 1.5 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
        ];
        for m in msgs {
            let all = fields(m);
            let paths: Vec<&str> = all
                .iter()
                .map(|(k, _)| k.as_str())
                .chain(["srcAddr"])
                .collect();
            let got = PathExtractor::discovering(paths.clone(), 200).extract(m);
            for (i, (_, want)) in all.iter().enumerate() {
                assert_eq!(got[i].as_deref(), Some(want.as_str()), "{m} {}", paths[i]);
            }
            assert_eq!(got[all.len()], None);
        }
    }

    proptest::proptest! {
        #[test]
        fn text_shapes_never_panic(s in "(REPORT RequestId: |START RequestId: |2 |\\[INFO\\]\t|2024-01-01T00:00:00Z\t)[ -~\t{}\"é]{0,80}") {
            let _ = flatten(&s, 200);
            let _ = PathExtractor::discovering(["@duration", "a", "srcAddr"], 3).extract(&s);
        }
    }
}
