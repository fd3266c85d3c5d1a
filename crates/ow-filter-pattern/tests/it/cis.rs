//! The CIS pack (filter-patterns.md §9) against real CloudTrail records from
//! `shared/data/cloudtrail` (gzip NDJSON, one record per line).
//!
//! For every CIS filter the expected set of matching records is computed independently by a
//! hand-written Rust predicate over the parsed record, and the pattern must agree on every
//! single line of every file. The predicates encode the spec's semantics directly: wildcard
//! = prefix/suffix test, `!=` on a missing field is false (§4.2 [I]), `NOT EXISTS` = absent.

use ow_filter_pattern::packs::{cis, CisMetricFilter};
use ow_filter_pattern::{FilterPattern, LogMessage, PatternFamily, ValueSelector};
use ow_test_utils::{cis, cloudtrail};
use serde_json::Value;

const FILES: [&str; 6] = [
    "invictus-aws_dataset.ndjson.gz",
    "stratus-red-team-detonation-logs.ndjson.gz",
    "otrf-ec2_proxy_s3_exfiltration.ndjson.gz",
    "trailscraper-testdata.ndjson.gz",
    "fixtures/awsdocs-cloudtrail-user-guide.ndjson.gz",
    "fixtures/panther-analysis-rule-tests.ndjson.gz",
];

fn at<'a>(e: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(e, |v, k| v.as_object()?.get(*k))
}

fn text<'a>(e: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(e, path)?.as_str()
}

fn is(e: &Value, path: &[&str], want: &str) -> bool {
    text(e, path) == Some(want)
}

#[test]
fn every_cis_pattern_agrees_with_its_predicate_on_every_record() {
    let pack = cis();
    let compiled: Vec<(&CisMetricFilter, FilterPattern)> = pack
        .iter()
        .map(|f| {
            let p = FilterPattern::parse(f.pattern)
                .unwrap_or_else(|e| panic!("CIS {} does not parse: {e}", f.cis_id));
            assert_eq!(p.family(), PatternFamily::Json, "CIS {}", f.cis_id);
            (f, p)
        })
        .collect();
    let mut matched = vec![0usize; pack.len()];
    let mut not_matched = vec![0usize; pack.len()];
    let mut records = 0;
    for file in FILES {
        for (n, line) in cloudtrail::lines(file).iter().enumerate() {
            records += 1;
            let record: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", n + 1));
            // One LogMessage per event, shared by all filters (JSON parsed once).
            let msg = LogMessage::new(line);
            for (i, (f, p)) in compiled.iter().enumerate() {
                let got = p.matches_message(&msg);
                let want = cis::intent(f.cis_id, &record);
                assert_eq!(
                    got,
                    want,
                    "CIS {} on {file}:{}: pattern says {got}, predicate says {want}",
                    f.cis_id,
                    n + 1
                );
                if got {
                    matched[i] += 1;
                } else {
                    not_matched[i] += 1;
                }
            }
        }
    }
    assert_eq!(
        records,
        2900 + 310 + 103 + 2 + 19 + 436,
        "README event counts"
    );
    for (i, f) in pack.iter().enumerate() {
        // Every row has real positives and real negatives in the shared data.
        assert!(matched[i] > 0, "CIS {} matched no record", f.cis_id);
        assert!(not_matched[i] > 0, "CIS {} matched every record", f.cis_id);
    }
}

/// The Stratus detonation of `cloudtrail-stop` / `cloudtrail-delete` must trip 4.5, and the
/// failed console logins in the AWS-documentation fixtures must trip 4.6.
#[test]
fn cloudtrail_tampering_and_failed_logins() {
    let by_id = |id: &str| {
        let f = cis().iter().find(|f| f.cis_id == id).expect("row");
        FilterPattern::parse(f.pattern).expect("parses")
    };
    let trail = by_id("4.5");
    let lines = cloudtrail::lines("stratus-red-team-detonation-logs.ndjson.gz");
    let hits: Vec<String> = lines
        .iter()
        .filter(|l| trail.matches(l))
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json");
            text(&v, &["eventName"]).unwrap_or("").to_string()
        })
        .collect();
    let independent = lines
        .iter()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).expect("json");
            matches!(
                text(&v, &["eventName"]),
                Some("StopLogging" | "DeleteTrail")
            )
        })
        .count();
    assert!(independent > 0);
    assert_eq!(hits.len(), independent, "{hits:?}");
    assert!(hits
        .iter()
        .all(|n| n == "StopLogging" || n == "DeleteTrail"));

    let failures = by_id("4.6");
    for file in FILES.iter().filter(|f| f.starts_with("fixtures/")) {
        let lines = cloudtrail::lines(file);
        let independent = lines
            .iter()
            .filter(|l| {
                let v: Value = serde_json::from_str(l).expect("json");
                is(&v, &["eventName"], "ConsoleLogin")
                    && is(&v, &["errorMessage"], "Failed authentication")
            })
            .count();
        let got = lines.iter().filter(|l| failures.matches(l)).count();
        assert!(independent > 0, "{file} has failed console logins");
        assert_eq!(got, independent, "{file}");
    }
}

/// Case sensitivity on real data: the AWS-doc fixture with `"MFAUsed":"YES"` is not `"Yes"`,
/// so 4.2 (`!= "Yes"`) matches it.
#[test]
fn mfa_value_is_compared_case_sensitively() {
    let p = FilterPattern::parse(
        cis()
            .iter()
            .find(|f| f.cis_id == "4.2")
            .expect("4.2")
            .pattern,
    )
    .expect("parses");
    let lines = cloudtrail::lines("fixtures/awsdocs-cloudtrail-user-guide.ndjson.gz");
    let upper: Vec<&String> = lines
        .iter()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).expect("json");
            is(&v, &["additionalEventData", "MFAUsed"], "YES")
        })
        .collect();
    assert!(!upper.is_empty());
    assert!(upper.iter().all(|l| p.matches(l)));
}

/// Extraction on real records: a metric filter dimension such as `$.eventName` and the
/// pattern's own selectors.
#[test]
fn extracts_selectors_from_real_records() {
    let f = cis().iter().find(|f| f.cis_id == "4.1").expect("4.1");
    let p = FilterPattern::parse(f.pattern).expect("parses");
    let dim = ValueSelector::parse("$.userIdentity.type").expect("selector");
    let region = ValueSelector::parse("$.awsRegion").expect("selector");
    let lines = cloudtrail::lines("invictus-aws_dataset.ndjson.gz");
    let mut n = 0;
    for l in &lines {
        let v: Value = serde_json::from_str(l).expect("json");
        let Some(x) = p.extract(l) else { continue };
        n += 1;
        let code = x
            .values()
            .iter()
            .find(|(k, _)| k == "$.errorCode")
            .map(|(_, v)| v.to_string());
        assert_eq!(code.as_deref(), text(&v, &["errorCode"]));
        assert_eq!(
            x.get(&dim).map(|v| v.to_string()).as_deref(),
            text(&v, &["userIdentity", "type"])
        );
        assert_eq!(
            x.get(&region).map(|v| v.to_string()).as_deref(),
            Some("us-east-1")
        );
    }
    let independent = lines
        .iter()
        .filter(|l| cis::intent("4.1", &serde_json::from_str(l).expect("json")))
        .count();
    assert!(independent > 0);
    assert_eq!(n, independent);
}

/// The pack's metadata follows the PutMetricFilter / PutMetricAlarm rules (§6, api.md).
#[test]
fn pack_metadata_is_valid() {
    let pack = cis();
    assert_eq!(pack.len(), 16);
    for f in pack {
        assert!(f.pattern.chars().count() <= 1024, "CIS {}", f.cis_id);
        for name in [f.metric_name, f.metric_namespace] {
            assert!(!name.is_empty() && name.len() <= 255);
            assert!(!name.contains([':', '*', '$']), "{name}");
        }
        assert!(!f.filter_name.contains([':', '*']));
        assert_eq!(f.metric_value.parse::<f64>().ok(), Some(1.0));
        assert_eq!(f.alarm_period_s % 60, 0);
        assert!(f.alarm_threshold >= 1.0);
    }
    // The conformance file tests the same texts, verbatim.
    let fpt = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/cis.fpt"
    ))
    .expect("cis.fpt");
    for f in pack {
        assert!(
            fpt.lines()
                .any(|l| l.strip_prefix("pattern: ") == Some(f.pattern)),
            "CIS {} missing from cis.fpt",
            f.cis_id
        );
    }
    let mut ids: Vec<&str> = pack.iter().map(|f| f.cis_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 16, "ids unique");
}
