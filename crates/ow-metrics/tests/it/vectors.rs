//! api.md B.4 golden vectors, every row and every TreatMissingData mode: once through the
//! pure `evaluate_slots`, once end-to-end (PutMetricData → alarm → evaluator on a FakeClock).

use ow_metrics::*;

use crate::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    S(AlarmState),
    Keep,
}
use AlarmState::*;
use Want::*;

const MODES: [&str; 4] = ["missing", "ignore", "breaching", "notBreaching"];

/// (points oldest→newest, [missing, ignore, breaching, notBreaching])
const N3M3: [(&str, [Want; 4]); 5] = [
    ("0 - X - X", [S(Ok), S(Ok), S(Ok), S(Ok)]),
    ("0 - - - -", [S(Ok), S(Ok), S(Ok), S(Ok)]),
    ("- - - - -", [S(InsufficientData), Keep, S(Alarm), S(Ok)]),
    ("0 X X - X", [S(Alarm), S(Alarm), S(Alarm), S(Alarm)]),
    ("- - X - -", [S(Alarm), Keep, S(Alarm), S(Ok)]),
];

const N3M2: [(&str, [Want; 4]); 5] = [
    ("0 - X - X", [S(Alarm), S(Alarm), S(Alarm), S(Alarm)]),
    ("0 0 X 0 X", [S(Alarm), S(Alarm), S(Alarm), S(Alarm)]),
    ("0 - X - -", [S(Ok), S(Ok), S(Alarm), S(Ok)]),
    ("- - - - 0", [S(Ok), S(Ok), S(Alarm), S(Ok)]),
    ("- - - X -", [S(Alarm), Keep, S(Alarm), S(Ok)]),
];

fn slots(s: &str) -> Vec<Option<bool>> {
    s.split_whitespace()
        .map(|t| match t {
            "0" => Some(false),
            "X" => Some(true),
            _ => None,
        })
        .collect()
}

fn tables() -> Vec<(usize, &'static str, [Want; 4])> {
    N3M3.iter()
        .map(|(p, w)| (3, *p, *w))
        .chain(N3M2.iter().map(|(p, w)| (2, *p, *w)))
        .collect()
}

#[test]
fn b4_tables_pure() {
    for (m, points, wants) in tables() {
        for (mode, want) in MODES.iter().zip(wants) {
            let tmd = TreatMissingData::parse(mode).unwrap();
            let got = evaluate_slots(&slots(points), 3, m, tmd);
            let expect = match want {
                S(s) => Verdict::State(s),
                Keep => Verdict::Keep,
            };
            assert_eq!(got, expect, "N=3 M={m} `{points}` {mode}");
        }
    }
}

/// Runs one row through the engine. `initial`: the state forced with SetAlarmState before the
/// evaluation (to observe "keep").
fn engine_state(m: usize, points: &str, mode: &str, initial: Option<AlarmState>) -> AlarmState {
    // Evaluation at T0 + 10 min (+25 s: mid-minute); range = the 5 minutes before T0 + 10 min.
    let eval_at = T0 + 10 * MIN + 25_000;
    let e = env(eval_at);
    let boundary = T0 + 10 * MIN;
    let mut data = Vec::new();
    for (i, s) in slots(points).iter().enumerate() {
        let slot_start = boundary - (5 - i as i64) * MIN;
        if let Some(b) = s {
            data.push(datum(
                "Latency",
                slot_start + 7_000,
                if *b { 10.0 } else { 1.0 },
            ));
        }
    }
    if !data.is_empty() {
        put(&e.store, "Test", data);
    }
    e.alarms
        .put_metric_alarm(&simple_alarm(
            "a",
            "Latency",
            60,
            3,
            m as i64,
            5.0,
            "GreaterThanThreshold",
            mode,
        ))
        .unwrap();
    if let Some(s) = initial {
        e.alarms
            .set_alarm_state("a", s.as_str(), "forced by test", None)
            .unwrap();
    }
    e.alarms.evaluate_due();
    state_of(&e.alarms, "a").state_value
}

#[test]
fn b4_tables_through_the_engine() {
    for (m, points, wants) in tables() {
        for (mode, want) in MODES.iter().zip(wants) {
            match want {
                S(s) => assert_eq!(
                    engine_state(m, points, mode, None),
                    s,
                    "N=3 M={m} `{points}` {mode}"
                ),
                Keep => {
                    for initial in [Alarm, Ok] {
                        assert_eq!(
                            engine_state(m, points, mode, Some(initial)),
                            initial,
                            "N=3 M={m} `{points}` {mode} keeps {initial:?}"
                        );
                    }
                    // From the initial state nothing is decided either.
                    assert_eq!(engine_state(m, points, mode, None), InsufficientData);
                }
            }
        }
    }
}

/// B.4 note: `0 - - - -` with `breaching` is OK, and one minute later, once the OK point left
/// the range, ALARM.
#[test]
fn breaching_fill_alarms_once_the_ok_point_leaves_the_range() {
    let boundary = T0 + 10 * MIN;
    let e = env(boundary + 1_000);
    put(
        &e.store,
        "Test",
        vec![datum("Latency", boundary - 5 * MIN + 1_000, 1.0)],
    );
    e.alarms
        .put_metric_alarm(&simple_alarm(
            "a",
            "Latency",
            60,
            3,
            3,
            5.0,
            "GreaterThanThreshold",
            "breaching",
        ))
        .unwrap();
    let ch = e.alarms.evaluate_due();
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].new_state, Ok);
    e.clock.set_ms(boundary + MIN + 1_000);
    let ch = e.alarms.evaluate_due();
    assert_eq!(ch.len(), 1, "{ch:?}");
    assert_eq!(ch[0].new_state, Alarm);
    assert_eq!(
        ch[0].reason,
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."
    );
}

/// Premature-alarm rule, B.4: `- - - - X` and `- - - X -` (N=3, M=3) do not alarm, and the
/// breach alarms once it is 3 periods old with nothing after it.
#[test]
fn early_alarm_rule_over_time() {
    let boundary = T0 + 10 * MIN;
    let e = env(boundary);
    put(
        &e.store,
        "Test",
        vec![datum("Latency", boundary - MIN + 1_000, 10.0)],
    );
    e.alarms
        .put_metric_alarm(&simple_alarm(
            "a",
            "Latency",
            60,
            3,
            3,
            5.0,
            "GreaterThanThreshold",
            "missing",
        ))
        .unwrap();
    let mut seen = Vec::new();
    for k in 0..4 {
        e.clock.set_ms(boundary + k * MIN);
        e.alarms.evaluate_due();
        seen.push(state_of(&e.alarms, "a").state_value);
    }
    // - - - - X, - - - X -: OK (the next point might be fine); - - X - -: ALARM;
    // - X - - -: the breach is outside the last N periods → OK.
    assert_eq!(seen, vec![Ok, Ok, Alarm, Ok]);
}

/// B.4 cadence: with a 5-minute period and N=1 the evaluation at the end of minute 6 reads
/// minutes 2–6 (a sliding window ending at the evaluation minute, not period-aligned).
/// With R = N (no extra periods) a sample in minute 2 counts at 12:06 and not at 12:07.
#[test]
fn sliding_window_minutes_2_to_6() {
    let clock = std::sync::Arc::new(FakeClock::new(T0 + 6 * MIN + 30_000));
    let store = std::sync::Arc::new(MetricStore::in_memory(
        MetricLimits::default(),
        clock.clone(),
    ));
    let cfg = AlarmConfig {
        evaluation_range_extra_periods: 0,
        ..Default::default()
    };
    let alarms = AlarmEngine::in_memory(store.clone(), clock.clone(), cfg);
    // "minute 2" = 12:01:00–12:02:00.
    put(&store, "Test", vec![datum("M", T0 + MIN + 30_000, 9.0)]);
    alarms
        .put_metric_alarm(&simple_alarm(
            "w",
            "M",
            300,
            1,
            1,
            1.0,
            "GreaterThanThreshold",
            "notBreaching",
        ))
        .unwrap();
    alarms.evaluate_due();
    assert_eq!(state_of(&alarms, "w").state_value, Alarm);
    clock.set_ms(T0 + 7 * MIN);
    alarms.evaluate_due();
    assert_eq!(state_of(&alarms, "w").state_value, Ok);
}

/// A 10-second (high-resolution) alarm is evaluated every 10 s over high-resolution data.
#[test]
fn high_resolution_alarm_every_ten_seconds() {
    let e = env(T0 + 20_000);
    let hi = |ts: i64, v: f64| MetricDatumInput {
        storage_resolution: Some(1),
        ..datum("Hi", ts, v)
    };
    put(
        &e.store,
        "Test",
        vec![hi(T0 + 12_000, 9.0), hi(T0 + 25_000, 0.5)],
    );
    e.alarms
        .put_metric_alarm(&simple_alarm(
            "hr",
            "Hi",
            10,
            1,
            1,
            1.0,
            "GreaterThanThreshold",
            "missing",
        ))
        .unwrap();
    e.alarms.evaluate_due(); // boundary 12:00:20 reads [12:00:10, 12:00:20)
    assert_eq!(state_of(&e.alarms, "hr").state_value, Alarm);
    e.clock.set_ms(T0 + 29_000);
    assert!(e.alarms.evaluate_due().is_empty(), "same 10 s boundary");
    e.clock.set_ms(T0 + 30_000); // reads [12:00:20, 12:00:30): 0.5
    e.alarms.evaluate_due();
    assert_eq!(state_of(&e.alarms, "hr").state_value, Ok);
    // Standard-resolution data is invisible to a 10 s alarm: a standard sample inside the
    // range [12:01:00, 12:01:10) is not a data point, so the alarm has none: INSUFFICIENT_DATA.
    put(&e.store, "Test", vec![datum("Hi", T0 + 65_000, 50.0)]);
    e.clock.set_ms(T0 + 70_000);
    e.alarms.evaluate_due();
    assert_eq!(state_of(&e.alarms, "hr").state_value, InsufficientData);
}
