//! The official AWS SDK for Rust for CloudWatch (aws-sdk-cloudwatch, which speaks Smithy RPC
//! v2 CBOR since its 2025-12 model) against a real server on a loopback port: metrics,
//! alarms, tags, dashboards and errors through a client that is not ours.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDataQuery, MetricDatum, MetricStat, StandardUnit,
    StateValue, Statistic, Tag,
};
use aws_sdk_cloudwatch::Client;

use crate::common::{key, now_ms, ACCOUNT};
use crate::sdk::TestServer;

fn client(endpoint: &str) -> Client {
    let k = key();
    let creds = aws_sdk_cloudwatch::config::Credentials::new(
        k.access_key_id,
        k.secret_access_key,
        None,
        None,
        "test",
    );
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_cloudwatch_every_operation() {
    let server = TestServer::start(ow_api::ApiConfig::default(), |_| {}).await;
    let cw = client(&server.endpoint);
    let t_ms = (now_ms() / 60_000 - 2) * 60_000;
    let t = DateTime::from_millis(t_ms);
    let end = DateTime::from_millis(t_ms + 60_000);

    cw.put_metric_data()
        .namespace("Sdk/App")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Host", "a"))
                .timestamp(t)
                .value(10.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Host", "a"))
                .timestamp(t)
                .values(20.0)
                .values(30.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let listed = cw.list_metrics().namespace("Sdk/App").send().await.unwrap();
    let metrics = listed.metrics();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].metric_name(), Some("Latency"));
    assert_eq!(metrics[0].dimensions()[0].value(), Some("a"));

    let stats = cw
        .get_metric_statistics()
        .namespace("Sdk/App")
        .metric_name("Latency")
        .dimensions(dim("Host", "a"))
        .start_time(t)
        .end_time(end)
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::Maximum)
        .statistics(Statistic::SampleCount)
        .send()
        .await
        .unwrap();
    let dp = &stats.datapoints()[0];
    assert_eq!(dp.sum(), Some(60.0));
    assert_eq!(dp.maximum(), Some(30.0));
    assert_eq!(dp.sample_count(), Some(3.0));
    assert_eq!(dp.timestamp().unwrap().to_millis().unwrap(), t_ms);
    assert_eq!(dp.unit(), Some(&StandardUnit::Milliseconds));

    let data = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("m1")
                .metric_stat(
                    MetricStat::builder()
                        .metric(
                            aws_sdk_cloudwatch::types::Metric::builder()
                                .namespace("Sdk/App")
                                .metric_name("Latency")
                                .dimensions(dim("Host", "a"))
                                .build(),
                        )
                        .period(60)
                        .stat("Average")
                        .build(),
                )
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("e1")
                .expression("m1 + 1")
                .build(),
        )
        .start_time(t)
        .end_time(end)
        .send()
        .await
        .unwrap();
    let results = data.metric_data_results();
    let m1 = results.iter().find(|r| r.id() == Some("m1")).unwrap();
    let e1 = results.iter().find(|r| r.id() == Some("e1")).unwrap();
    assert_eq!(m1.values(), &[20.0]);
    assert_eq!(e1.values(), &[21.0]);
    assert_eq!(m1.timestamps()[0].to_millis().unwrap(), t_ms);

    // Alarms.
    cw.put_metric_alarm()
        .alarm_name("sdk-alarm")
        .namespace("Sdk/App")
        .metric_name("Latency")
        .dimensions(dim("Host", "a"))
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(1)
        .threshold(25.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .unwrap();
    let described = cw
        .describe_alarms()
        .alarm_names("sdk-alarm")
        .send()
        .await
        .unwrap();
    let a = &described.metric_alarms()[0];
    assert_eq!(a.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(
        a.alarm_arn(),
        Some(format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:sdk-alarm").as_str())
    );
    assert_eq!(a.threshold(), Some(25.0));
    assert_eq!(a.actions_enabled(), Some(true));
    cw.set_alarm_state()
        .alarm_name("sdk-alarm")
        .state_value(StateValue::Alarm)
        .state_reason("drill")
        .send()
        .await
        .unwrap();
    let history = cw
        .describe_alarm_history()
        .alarm_name("sdk-alarm")
        .send()
        .await
        .unwrap();
    assert!(history
        .alarm_history_items()
        .iter()
        .any(|h| h.history_summary() == Some("Alarm updated from INSUFFICIENT_DATA to ALARM")));
    let for_metric = cw
        .describe_alarms_for_metric()
        .namespace("Sdk/App")
        .metric_name("Latency")
        .dimensions(dim("Host", "a"))
        .send()
        .await
        .unwrap();
    assert_eq!(for_metric.metric_alarms().len(), 1);
    cw.disable_alarm_actions()
        .alarm_names("sdk-alarm")
        .send()
        .await
        .unwrap();
    cw.enable_alarm_actions()
        .alarm_names("sdk-alarm")
        .send()
        .await
        .unwrap();
    let arn = a.alarm_arn().unwrap().to_string();
    cw.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("env").value("prod").build())
        .send()
        .await
        .unwrap();
    cw.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), Some("env"));
    cw.put_composite_alarm()
        .alarm_name("sdk-composite")
        .alarm_rule("ALARM(\"sdk-alarm\")")
        .send()
        .await
        .unwrap();
    let err = cw
        .delete_alarms()
        .alarm_names("sdk-alarm")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&err),
        Some("ResourceConflict")
    );
    cw.delete_alarms()
        .alarm_names("sdk-composite")
        .send()
        .await
        .unwrap();
    cw.delete_alarms()
        .alarm_names("sdk-alarm")
        .send()
        .await
        .unwrap();

    // Dashboards.
    let body = r#"{"widgets":[{"type":"metric","properties":{"metrics":[["Sdk/App","Latency","Host","a"]],"region":"us-east-1"}}]}"#;
    let put = cw
        .put_dashboard()
        .dashboard_name("sdk")
        .dashboard_body(body)
        .send()
        .await
        .unwrap();
    assert!(put.dashboard_validation_messages().is_empty());
    let got = cw
        .get_dashboard()
        .dashboard_name("sdk")
        .send()
        .await
        .unwrap();
    assert_eq!(got.dashboard_body(), Some(body));
    let list = cw.list_dashboards().send().await.unwrap();
    assert_eq!(list.dashboard_entries()[0].size(), Some(body.len() as i64));
    let err = cw
        .put_dashboard()
        .dashboard_name("bad")
        .dashboard_body("{}")
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert!(service.is_dashboard_invalid_input_error(), "{service:?}");
    cw.delete_dashboards()
        .dashboard_names("sdk")
        .send()
        .await
        .unwrap();
    let err = cw
        .get_dashboard()
        .dashboard_name("sdk")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_dashboard_not_found_error());

    // A validation error keeps its legacy code through the CBOR error body + header.
    let err = cw
        .put_metric_data()
        .namespace("AWS/EC2")
        .metric_data(MetricDatum::builder().metric_name("x").value(1.0).build())
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert!(
        service.is_invalid_parameter_value_exception(),
        "{service:?}"
    );
    server.stop().await;
}
