//! End-to-end checks of the library inside real DataFusion plans: the UDFs under
//! projection/filter/sort, the UDAFs under two-phase (partial + final) aggregation over
//! two partitions, and rendering of the results.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::common::Column;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::Expr;
use datafusion::prelude::{col, lit, SessionConfig, SessionContext};

use ow_functions::render::render_column;
use ow_functions::{
    aggregate, compare, in_list, natural_sort_key, predicate, scalar, CmpOp, QueryContext,
};

const CTX: QueryContext = QueryContext {
    start_ms: 1_714_521_600_000,
    end_ms: 1_714_608_000_000,
    now_ms: 1_714_608_000_000,
    bin: None,
};

fn c(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

/// One event: `@timestamp` (ms), `host`, `status`, `v` (text, as read from logs).
type Row = (
    i64,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Events: `@timestamp`, `host`, `status` (text, as read from logs), `v` (text).
fn events() -> (Arc<Schema>, Vec<Vec<RecordBatch>>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "@timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("host", DataType::Utf8, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("v", DataType::Utf8, true),
    ]));
    let base = 1_714_566_896_789; // 2024-05-01 12:34:56.789
    let rows: [Row; 10] = [
        (base, Some("a"), Some("200"), Some("9")),
        (base + 60_000, Some("a"), Some("404"), Some("10")),
        (base + 120_000, Some("b"), Some("300"), Some("100")),
        (base + 400_000, Some("a"), None, Some("abc")),
        (base - 300_000, Some("b"), Some("500"), Some("2.5")),
        (base + 3_000, Some("a"), Some("300.0"), None),
        (base + 7_200_000, Some("b"), Some("200"), Some("01")),
        (base + 10, Some("b"), Some("oops"), Some("Z")),
        (base + 20, None, Some("200"), Some("7")),
        (base + 30, Some("a"), Some("200"), Some("7")),
    ];
    let batch = |r: &[Row]| {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(
                r.iter().map(|x| x.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(r.iter().map(|x| x.1).collect::<Vec<_>>())),
            Arc::new(StringArray::from(r.iter().map(|x| x.2).collect::<Vec<_>>())),
            Arc::new(StringArray::from(r.iter().map(|x| x.3).collect::<Vec<_>>())),
        ];
        RecordBatch::try_new(Arc::clone(&schema), cols).unwrap()
    };
    // two partitions so aggregates go through state()/merge_batch()
    let parts = vec![vec![batch(&rows[..5])], vec![batch(&rows[5..])]];
    (schema, parts)
}

fn session() -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    let (schema, parts) = events();
    ctx.register_table(
        "events",
        Arc::new(MemTable::try_new(schema, parts).unwrap()),
    )
    .unwrap();
    ctx
}

/// Runs `df`, renders every column, returns rows of rendered cells.
async fn rows(df: datafusion::dataframe::DataFrame) -> Vec<Vec<Option<String>>> {
    let batches = df.collect().await.unwrap();
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<Vec<Option<String>>> = b
            .columns()
            .iter()
            .map(|a| render_column(a).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(cols.iter().map(|c| c[r].clone()).collect());
        }
    }
    out
}

fn cells(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| Some((*s).to_owned())).collect()
}

#[tokio::test]
async fn natural_sort_in_both_directions_with_missing_last() {
    let golden = [
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
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, true)]));
    let mut shuffled: Vec<Option<&str>> = golden.iter().rev().map(|s| Some(*s)).collect();
    shuffled.insert(4, None);
    shuffled.swap(0, 9);
    let arr: ArrayRef = Arc::new(StringArray::from(shuffled));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![arr]).unwrap();
    let ctx = SessionContext::new();
    ctx.register_batch("t", batch).unwrap();

    let asc = ctx
        .table("t")
        .await
        .unwrap()
        .sort(vec![natural_sort_key(col("x")).sort(true, false)])
        .unwrap();
    let got: Vec<Option<String>> = rows(asc).await.into_iter().map(|r| r[0].clone()).collect();
    let mut want = cells(&golden);
    want.push(None);
    assert_eq!(got, want);

    let desc = ctx
        .table("t")
        .await
        .unwrap()
        .sort(vec![natural_sort_key(col("x")).sort(false, false)])
        .unwrap();
    let got: Vec<Option<String>> = rows(desc).await.into_iter().map(|r| r[0].clone()).collect();
    let mut want: Vec<Option<String>> = cells(&golden).into_iter().rev().collect();
    want.push(None);
    assert_eq!(got, want);
}

#[tokio::test]
async fn filters_with_coercion_and_missing_rules() {
    let ctx = session();
    let count = |e: Expr| {
        let ctx = ctx.clone();
        async move {
            let df = ctx
                .table("events")
                .await
                .unwrap()
                .filter(predicate(e))
                .unwrap();
            df.count().await.unwrap()
        }
    };
    // "300" and "300.0" equal the number 300
    assert_eq!(count(compare(CmpOp::Eq, c("status"), lit(300))).await, 2);
    // != keeps the record whose status is missing: 10 rows minus the four "200"
    assert_eq!(
        count(compare(CmpOp::NotEq, c("status"), lit("200"))).await,
        6
    );
    // 404, 500 numerically; "oops" >= 400 compares as strings ("o" > "4")
    assert_eq!(count(compare(CmpOp::GtEq, c("status"), lit(400))).await, 3);
    let list = vec![lit(300), lit(404), lit("oops")];
    assert_eq!(count(in_list(c("status"), list.clone(), false)).await, 4);
    assert_eq!(count(in_list(c("status"), list, true)).await, 6);
    let re = ow_functions::regex_match(c("status"), "^[45]", false).unwrap();
    assert_eq!(count(re).await, 2);
    // isempty() is numeric 1/0 and works as a filter
    let empty = scalar("isempty", vec![c("status")], &CTX).unwrap();
    assert_eq!(count(empty).await, 1);
}

#[tokio::test]
async fn scalar_functions_over_columns() {
    let ctx = session();
    let df = ctx
        .table("events")
        .await
        .unwrap()
        .filter(predicate(compare(CmpOp::Eq, c("v"), lit("100"))))
        .unwrap()
        .select(vec![
            scalar("bin", vec![lit("5m")], &CTX).unwrap().alias("b"),
            scalar("concat", vec![c("host"), lit("-"), c("status")], &CTX)
                .unwrap()
                .alias("k"),
            ow_functions::arithmetic(ow_functions::ArithOp::Mul, c("v"), lit(2.5)).alias("m"),
            scalar("toMillis", vec![c("@timestamp")], &CTX)
                .unwrap()
                .alias("ms"),
            scalar("strlen", vec![c("v")], &CTX).unwrap().alias("len"),
        ])
        .unwrap();
    assert_eq!(
        rows(df).await,
        vec![cells(&[
            "2024-05-01 12:35:00.000",
            "b-300",
            "250",
            "1714567016789",
            "3"
        ])]
    );
}

#[tokio::test]
async fn aggregates_over_two_partitions() {
    let ctx = session();
    let aggs = vec![
        aggregate("count", vec![], &CTX).unwrap().alias("n"),
        aggregate("count", vec![c("status")], &CTX)
            .unwrap()
            .alias("n_status"),
        aggregate("count_distinct", vec![c("status")], &CTX)
            .unwrap()
            .alias("distinct"),
        aggregate("max", vec![c("v")], &CTX).unwrap().alias("max"),
        aggregate("min", vec![c("v")], &CTX).unwrap().alias("min"),
        aggregate("sum", vec![c("status")], &CTX)
            .unwrap()
            .alias("sum"),
        aggregate("avg", vec![c("v")], &CTX).unwrap().alias("avg"),
        aggregate("countOverTime", vec![c("v")], &CTX)
            .unwrap()
            .alias("cot"),
        aggregate("sum_over_time", vec![c("v")], &CTX)
            .unwrap()
            .alias("sot"),
        aggregate("pct", vec![c("status"), lit(50)], &CTX)
            .unwrap()
            .alias("p50"),
        aggregate("pct", vec![c("status"), lit(90)], &CTX)
            .unwrap()
            .alias("p90"),
        aggregate("earliest", vec![c("v")], &CTX)
            .unwrap()
            .alias("first"),
        aggregate("latest", vec![c("v")], &CTX)
            .unwrap()
            .alias("last"),
        aggregate("sortsFirst", vec![c("host")], &CTX)
            .unwrap()
            .alias("sf"),
    ];
    let df = ctx
        .table("events")
        .await
        .unwrap()
        // count_over_time(v) counts the 9 present values, sum_over_time(v) sums the numeric ones
        .aggregate(vec![], aggs)
        .unwrap();
    // status present on 9 rows: 200 x4, 404, 300, 500, 300.0, oops -> numeric sum 2304
    // v numeric: 9, 10, 100, 2.5, 01, 7, 7 -> avg 136.5/7 = 19.5
    // natural order of v: abc < Z? no: non-numbers first by code point: "Z" < "abc"; max is 100
    // pct 50 of [200,200,200,200,300,300,404,500] (nearest rank 4) = 200; pct 90: rank 8 = 500
    assert_eq!(
        rows(df).await,
        vec![cells(&[
            "10", "9", "6", "100", "Z", "2304", "19.5", "9", "136.5", "200", "500", "2.5", "01",
            "a"
        ])]
    );
}

#[tokio::test]
async fn grouped_stats_by_bin() {
    let ctx = session();
    let bin = scalar("bin", vec![lit("1h")], &CTX).unwrap().alias("hour");
    let df = ctx
        .table("events")
        .await
        .unwrap()
        .aggregate(
            vec![bin],
            vec![
                aggregate("count", vec![], &CTX).unwrap().alias("n"),
                aggregate("stddev", vec![c("v")], &CTX).unwrap().alias("sd"),
            ],
        )
        .unwrap()
        .sort(vec![col("hour").sort(true, false)])
        .unwrap();
    let got = rows(df).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0][0].as_deref(), Some("2024-05-01 12:00:00.000"));
    assert_eq!(got[0][1].as_deref(), Some("9"));
    assert_eq!(
        got[1],
        vec![
            Some("2024-05-01 14:00:00.000".into()),
            Some("1".into()),
            None
        ]
    );
    // sample stddev of 9, 10, 100, 2.5, 7, 7
    let vals = [9.0, 10.0, 100.0, 2.5, 7.0, 7.0];
    let mean = vals.iter().sum::<f64>() / 6.0;
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0;
    let sd: f64 = got[0][2].as_deref().unwrap().parse().unwrap();
    assert!((sd - var.sqrt()).abs() < 1e-9, "{sd}");
}

#[tokio::test]
async fn json_values_flow_through_plans() {
    let ctx = SessionContext::new();
    let schema = Arc::new(Schema::new(vec![Field::new(
        "@message",
        DataType::Utf8,
        false,
    )]));
    let msgs: ArrayRef = Arc::new(StringArray::from(vec![
        r#"{"user":{"name":"bob","roles":["admin","dev"]},"n":3}"#,
        r#"{"user":{"name":"amy","roles":[]},"n":"4"}"#,
        "plain text",
    ]));
    ctx.register_batch("t", RecordBatch::try_new(schema, vec![msgs]).unwrap())
        .unwrap();
    let j = scalar("jsonParse", vec![c("@message")], &CTX).unwrap();
    let df = ctx
        .table("t")
        .await
        .unwrap()
        .select(vec![
            ow_functions::access(j.clone(), vec![lit("user"), lit("name")]).alias("name"),
            ow_functions::access(j.clone(), vec![lit("user"), lit("roles"), lit(0)]).alias("r0"),
            scalar(
                "jsonArraySize",
                vec![ow_functions::access(
                    j.clone(),
                    vec![lit("user"), lit("roles")],
                )],
                &CTX,
            )
            .unwrap()
            .alias("nroles"),
            ow_functions::arithmetic(
                ow_functions::ArithOp::Add,
                ow_functions::access(j.clone(), vec![lit("n")]),
                lit(1),
            )
            .alias("n1"),
        ])
        .unwrap();
    assert_eq!(
        rows(df).await,
        vec![
            cells(&["bob", "admin", "2", "4"]),
            vec![Some("amy".into()), None, Some("0".into()), Some("5".into())],
            vec![None, None, None, None],
        ]
    );
}

/// Real CloudTrail records (invictus-aws_dataset, 2,900 events): the library's answers
/// against values computed independently from the JSON with serde_json and std.
#[tokio::test]
async fn real_cloudtrail_events() {
    use std::collections::{BTreeMap, HashSet};
    use std::io::Read;

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cloudtrail/invictus-aws_dataset.ndjson.gz"
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let recs: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let str_at =
        |r: &serde_json::Value, p: &str| r.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
    let event_time: Vec<Option<String>> = recs.iter().map(|r| str_at(r, "/eventTime")).collect();
    let ip: Vec<Option<String>> = recs.iter().map(|r| str_at(r, "/sourceIPAddress")).collect();
    let bytes_out: Vec<Option<String>> = recs
        .iter()
        .map(|r| {
            r.pointer("/additionalEventData/bytesTransferredOut")
                .filter(|v| v.is_number())
                .map(|v| v.to_string())
        })
        .collect();

    let schema = Arc::new(Schema::new(vec![
        Field::new("@message", DataType::Utf8, false),
        Field::new("eventTime", DataType::Utf8, true),
        Field::new("sourceIPAddress", DataType::Utf8, true),
        Field::new(
            "additionalEventData.bytesTransferredOut",
            DataType::Utf8,
            true,
        ),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(lines.clone())),
            Arc::new(StringArray::from(event_time.clone())),
            Arc::new(StringArray::from(ip.clone())),
            Arc::new(StringArray::from(bytes_out.clone())),
        ],
    )
    .unwrap();
    let ctx = SessionContext::new();
    ctx.register_batch("ct", batch).unwrap();

    // 1. one-row stats
    let distinct_ips = ip.iter().flatten().collect::<HashSet<_>>().len();
    let max_time = event_time.iter().flatten().max().unwrap().clone();
    let min_time = event_time.iter().flatten().min().unwrap().clone();
    let sum_out: f64 = bytes_out
        .iter()
        .flatten()
        .map(|s| s.parse::<f64>().unwrap())
        .sum();
    assert_eq!(max_time, "2023-07-10T12:37:50Z"); // README: time span 11:42:18 -> 12:37:50
    let df = ctx
        .table("ct")
        .await
        .unwrap()
        .aggregate(
            vec![],
            vec![
                aggregate("count_distinct", vec![c("sourceIPAddress")], &CTX)
                    .unwrap()
                    .alias("ips"),
                aggregate("max", vec![c("eventTime")], &CTX)
                    .unwrap()
                    .alias("max"),
                aggregate("min", vec![c("eventTime")], &CTX)
                    .unwrap()
                    .alias("min"),
                aggregate(
                    "sum",
                    vec![c("additionalEventData.bytesTransferredOut")],
                    &CTX,
                )
                .unwrap()
                .alias("out"),
            ],
        )
        .unwrap();
    assert_eq!(
        rows(df).await,
        vec![vec![
            Some(distinct_ips.to_string()),
            Some(max_time),
            Some(min_time),
            Some(ow_functions::render::format_number(sum_out)),
        ]]
    );

    // 2. IPv4 subnet filter against std's parser and a manual mask
    let want_private10 = ip
        .iter()
        .flatten()
        .filter_map(|s| s.parse::<std::net::Ipv4Addr>().ok())
        .filter(|a| a.octets()[0] == 10)
        .count();
    let f = scalar(
        "isIpv4InSubnet",
        vec![c("sourceIPAddress"), lit("10.0.0.0/8")],
        &CTX,
    )
    .unwrap();
    let n = ctx
        .table("ct")
        .await
        .unwrap()
        .filter(predicate(f))
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(n, want_private10);
    assert!(n > 0);

    // 3. events per 5-minute bucket of the ISO eventTime text
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for t in event_time.iter().flatten() {
        let dt = chrono::DateTime::parse_from_rfc3339(t).unwrap();
        let ms = dt.timestamp_millis();
        let floor = ms - ms.rem_euclid(300_000);
        let key = chrono::DateTime::from_timestamp_millis(floor)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string();
        *want.entry(key).or_default() += 1;
    }
    let bucket = scalar("datefloor", vec![c("eventTime"), lit("5m")], &CTX).unwrap();
    let df = ctx
        .table("ct")
        .await
        .unwrap()
        .aggregate(
            vec![bucket.alias("t")],
            vec![aggregate("count", vec![], &CTX).unwrap().alias("n")],
        )
        .unwrap()
        .sort(vec![col("t").sort(true, false)])
        .unwrap();
    let got: BTreeMap<String, usize> = rows(df)
        .await
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].clone().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);

    // 4. jsonParse + access agree with the flattened path on every event
    let user = ow_functions::access(
        scalar("jsonParse", vec![c("@message")], &CTX).unwrap(),
        vec![lit("userIdentity"), lit("userName")],
    );
    let df = ctx
        .table("ct")
        .await
        .unwrap()
        .select(vec![user.alias("u")])
        .unwrap();
    let got: Vec<Option<String>> = rows(df).await.into_iter().map(|r| r[0].clone()).collect();
    let want: Vec<Option<String>> = recs
        .iter()
        .map(|r| str_at(r, "/userIdentity/userName"))
        .collect();
    assert_eq!(got, want);
    assert!(want.iter().flatten().count() > 1000);
}
