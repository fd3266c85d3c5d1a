//! The CIS and canary packs over real CloudTrail (`shared/data/cloudtrail`, gzip NDJSON): every
//! event of the Stratus Red Team detonation logs and the two fixture sets goes through the
//! metric filters into the store, the alarms are evaluated after every event minute on the
//! fake clock, and the set of alarms that reached ALARM must equal the set computed
//! independently by hand-written predicates over the parsed records.

use std::collections::BTreeSet;
use std::sync::Arc;

use ow_metrics::*;
use ow_test_utils::{cis, cloudtrail};
use serde_json::Value;

const FILES: [&str; 3] = [
    "stratus-red-team-detonation-logs.ndjson.gz",
    "fixtures/awsdocs-cloudtrail-user-guide.ndjson.gz",
    "fixtures/panther-analysis-rule-tests.ndjson.gz",
];

fn s<'a>(e: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(e, |v, k| v.get(*k))?.as_str()
}

/// Installs a pack, feeds the events, evaluates after every event minute; returns the alarms
/// that ever reached ALARM, the engine and the clock.
fn run_pack(
    pack: &packs::Pack,
    evs: &[(i64, String, Value)],
) -> (BTreeSet<String>, AlarmEngine, Arc<FakeClock>) {
    let first = evs.first().map_or(0, |e| e.0);
    let clock = Arc::new(FakeClock::new(first));
    let store = Arc::new(MetricStore::in_memory(
        MetricLimits::default(),
        clock.clone(),
    ));
    let filters = MetricFilterSet::in_memory(MetricFilterLimits::default());
    let alarms = AlarmEngine::in_memory(store.clone(), clock.clone(), AlarmConfig::default());
    for f in &pack.metric_filters {
        filters.put_metric_filter(f, first).unwrap();
    }
    for a in &pack.alarms {
        alarms.put_metric_alarm(a).unwrap();
    }
    // Ingest everything (the filters are pure over (timestamp, message)).
    let batch: Vec<(i64, &str)> = evs.iter().map(|(t, l, _)| (*t, l.as_str())).collect();
    let data = filters.apply("cloudtrail", &batch);
    store.put_filter_data(&data).unwrap();
    let boundaries: BTreeSet<i64> = evs
        .iter()
        .map(|e| e.0.div_euclid(60_000) * 60_000 + 60_000)
        .collect();
    let mut fired = BTreeSet::new();
    for b in boundaries {
        clock.set_ms(b);
        for c in alarms.evaluate_due() {
            if c.new_state == AlarmState::Alarm {
                fired.insert(c.alarm_name);
            }
        }
    }
    (fired, alarms, clock)
}

#[test]
fn cis_pack_on_real_cloudtrail() {
    let evs = cloudtrail::events(&FILES);
    assert!(evs.len() > 600, "{} events", evs.len());
    let pack = packs::cis("cloudtrail");
    assert_eq!(pack.metric_filters.len(), 16);
    let expected: BTreeSet<String> = pack
        .metric_filters
        .iter()
        .map(|f| f.filter_name.clone().unwrap())
        .filter(|name| evs.iter().any(|(_, _, e)| cis::intent_of(name, e)))
        .collect();
    // The fixtures hold a positive example for every row.
    assert_eq!(expected.len(), 16, "{expected:?}");
    let (fired, alarms, clock) = run_pack(&pack, &evs);
    assert_eq!(fired, expected);

    // The Stratus detonation logs alone: real attack traffic, where only some rows fire.
    let stratus = cloudtrail::events(&FILES[..1]);
    let expected_stratus: BTreeSet<String> = pack
        .metric_filters
        .iter()
        .map(|f| f.filter_name.clone().unwrap())
        .filter(|name| stratus.iter().any(|(_, _, e)| cis::intent_of(name, e)))
        .collect();
    assert!(
        expected_stratus.len() >= 3 && expected_stratus.len() < 16,
        "{expected_stratus:?}"
    );
    assert_eq!(run_pack(&pack, &stratus).0, expected_stratus);

    // Every matching event produced exactly one data point of value 1 (count check per filter).
    let filters = MetricFilterSet::in_memory(MetricFilterLimits::default());
    for f in &pack.metric_filters {
        filters.put_metric_filter(f, 0).unwrap();
    }
    for f in &pack.metric_filters {
        let name = f.filter_name.clone().unwrap();
        let want = evs
            .iter()
            .filter(|(_, _, e)| cis::intent_of(&name, e))
            .count();
        let got = evs
            .iter()
            .map(|(t, l, _)| {
                filters
                    .apply("cloudtrail", &[(*t, l.as_str())])
                    .into_iter()
                    .filter(|d| d.filter_name == name)
                    .count()
            })
            .sum::<usize>();
        assert_eq!(got, want, "{name}");
    }

    // Ten minutes after the last event every alarm is OK again (notBreaching, Sum over 300 s).
    clock.set_ms(evs.last().unwrap().0 + 10 * 60_000);
    alarms.evaluate_due();
    let all = alarms
        .describe_alarms(&DescribeAlarmsInput::default())
        .unwrap();
    assert_eq!(all.metric_alarms.len(), 16);
    assert!(all
        .metric_alarms
        .iter()
        .all(|a| a.state_value == AlarmState::Ok));
    // History is kept two weeks: the years of fixture transitions were pruned as time moved.
    let now = evs.last().unwrap().0 + 10 * 60_000;
    let mut token = None;
    let mut n = 0;
    loop {
        let (h, next) = alarms
            .describe_alarm_history(&DescribeAlarmHistoryInput {
                next_token: token,
                ..Default::default()
            })
            .unwrap();
        n += h.len();
        assert!(h.iter().all(|i| i.timestamp_ms >= now - 14 * 86_400_000));
        token = next;
        if token.is_none() {
            break;
        }
    }
    // (Whether anything is left depends on the last two weeks of data; the bound is the point.)
    let _ = n;
}

/// Canary pack: any event naming a decoy resource alarms.
#[test]
fn canary_pack_on_real_cloudtrail() {
    let evs = cloudtrail::events(&FILES);
    let names = [
        "malicious-iam-user",
        "stratus-red-team-retrieve-secret-7",
        "never-touched-decoy",
    ];
    let pack = packs::canary("cloudtrail", &names).unwrap();
    // Independent predicate: the name equals a name field, or occurs in an id/ARN field.
    let touches = |e: &Value, n: &str| {
        let rp = |k: &str| s(e, &["requestParameters", k]);
        ["bucketName", "userName", "roleName", "tableName", "name"]
            .iter()
            .any(|k| rp(k) == Some(n))
            || ["secretId", "keyId", "functionName"]
                .iter()
                .any(|k| rp(k).is_some_and(|v| v.contains(n)))
            || (0..2).any(|i| {
                e["resources"]
                    .get(i)
                    .and_then(|r| r["ARN"].as_str())
                    .is_some_and(|a| a.contains(n))
            })
    };
    let expected: BTreeSet<String> = names
        .iter()
        .filter(|n| evs.iter().any(|(_, _, e)| touches(e, n)))
        .map(|n| format!("Canary-{n}"))
        .collect();
    assert_eq!(expected.len(), 2, "{expected:?}");
    let (fired, _, _) = run_pack(&pack, &evs);
    assert_eq!(fired, expected);

    assert!(packs::canary("g", &["bad\"name"]).is_err());
    assert!(packs::canary("g", &[&"x".repeat(80)]).is_err());
}
