//! The operation table of the metrics service: decode the neutral request tree into the
//! `ow_metrics` input, call it, build the [`Out`] tree with the model's member names
//! (botocore `cloudwatch/2010-08-01/service-2.json`; api.md B.3).

use ow_metrics::{
    AlarmHistoryItem, CompositeAlarm, DescribeAlarmHistoryInput, DescribeAlarmsForMetricInput,
    DescribeAlarmsInput, Dimension, GetMetricDataInput, GetMetricStatisticsInput, ListMetricsInput,
    MetricAlarm, MetricDataQuery, MetricDatumInput, MetricId, MetricRef, MetricStat, Monitoring,
    PutCompositeAlarmInput, PutMetricAlarmInput, PutMetricDataInput, StatisticSet, Tag,
};
use serde_json::Value;

use super::wire::{In, Out, St};
use super::WireError;

macro_rules! ops {
    ($($name:ident => $output:expr),* $(,)?) => {
        /// The metrics operations, named as on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Op { $($name),* }

        impl Op {
            /// Every operation.
            pub const ALL: &'static [Op] = &[$(Op::$name),*];

            /// The wire name.
            pub fn name(self) -> &'static str {
                match self { $(Op::$name => stringify!($name)),* }
            }

            /// The operation called `name` (exact).
            pub fn from_name(name: &str) -> Option<Op> {
                match name { $(stringify!($name) => Some(Op::$name),)* _ => None }
            }

            /// Whether the model gives the operation an output structure (Query responses
            /// then have an `<OpResult>` element).
            pub fn has_output(self) -> bool {
                match self { $(Op::$name => $output),* }
            }
        }
    };
}

ops!(
    PutMetricData => false,
    GetMetricData => true,
    GetMetricStatistics => true,
    ListMetrics => true,
    PutMetricAlarm => false,
    PutCompositeAlarm => false,
    DescribeAlarms => true,
    DescribeAlarmsForMetric => true,
    DescribeAlarmHistory => true,
    SetAlarmState => false,
    DeleteAlarms => false,
    EnableAlarmActions => false,
    DisableAlarmActions => false,
    TagResource => true,
    UntagResource => true,
    ListTagsForResource => true,
    PutDashboard => true,
    GetDashboard => true,
    ListDashboards => true,
    DeleteDashboards => true,
);

type R<T> = Result<T, WireError>;

fn missing(member: &str) -> WireError {
    WireError {
        type_name: "MissingRequiredParameterException".into(),
        code: "MissingParameter".into(),
        status: 400,
        message: format!("The parameter {member} is required."),
        sender: true,
        validation: None,
    }
}

/// Runs one operation; `None` = no output structure.
pub(crate) fn run(m: &Monitoring, account: &str, op: Op, input: &Value) -> R<Option<Out>> {
    let i = In::root(input);
    let out = match op {
        Op::PutMetricData => {
            m.store.put_metric_data(&put_metric_data(&i)?)?;
            St::new().done()
        }
        Op::GetMetricStatistics => get_metric_statistics(m, &i)?,
        Op::GetMetricData => get_metric_data(m, &i)?,
        Op::ListMetrics => list_metrics(m, &i)?,
        Op::PutMetricAlarm => {
            m.alarms.put_metric_alarm(&put_metric_alarm(&i)?)?;
            St::new().done()
        }
        Op::PutCompositeAlarm => {
            m.alarms.put_composite_alarm(&put_composite_alarm(&i)?)?;
            St::new().done()
        }
        Op::DescribeAlarms => describe_alarms(m, &i)?,
        Op::DescribeAlarmsForMetric => {
            let input = DescribeAlarmsForMetricInput {
                metric_name: i.s("MetricName")?,
                namespace: i.s("Namespace")?,
                statistic: i.s("Statistic")?,
                extended_statistic: i.s("ExtendedStatistic")?,
                dimensions: dimensions(&i, "Dimensions")?,
                period: i.i64("Period")?,
                unit: i.s("Unit")?,
            };
            let alarms = m.alarms.describe_alarms_for_metric(&input)?;
            St::new()
                .list("MetricAlarms", alarms.iter().map(metric_alarm).collect())
                .done()
        }
        Op::DescribeAlarmHistory => {
            let input = DescribeAlarmHistoryInput {
                alarm_name: i.s("AlarmName")?,
                alarm_types: i.strs("AlarmTypes")?,
                history_item_type: i.s("HistoryItemType")?,
                start_date_ms: i.time_ms("StartDate")?,
                end_date_ms: i.time_ms("EndDate")?,
                max_records: usize_member(&i, "MaxRecords")?,
                next_token: i.s("NextToken")?,
                scan_by: i.s("ScanBy")?,
            };
            let (items, next) = m.alarms.describe_alarm_history(&input)?;
            St::new()
                .list(
                    "AlarmHistoryItems",
                    items.iter().map(history_item).collect(),
                )
                .os("NextToken", next.as_deref())
                .done()
        }
        Op::SetAlarmState => {
            let name = i.s("AlarmName")?.ok_or_else(|| missing("AlarmName"))?;
            let state = i.s("StateValue")?.ok_or_else(|| missing("StateValue"))?;
            let reason = i.s("StateReason")?.ok_or_else(|| missing("StateReason"))?;
            let data = i.s("StateReasonData")?;
            m.alarms
                .set_alarm_state(&name, &state, &reason, data.as_deref())?;
            St::new().done()
        }
        Op::DeleteAlarms => {
            let names = required_names(&i)?;
            m.alarms.delete_alarms(&names)?;
            St::new().done()
        }
        Op::EnableAlarmActions | Op::DisableAlarmActions => {
            let names = required_names(&i)?;
            m.alarms
                .set_actions_enabled(&names, op == Op::EnableAlarmActions)?;
            St::new().done()
        }
        Op::TagResource => {
            let arn = i.s("ResourceARN")?.ok_or_else(|| missing("ResourceARN"))?;
            if !i.has("Tags") {
                return Err(missing("Tags"));
            }
            match dashboard_of_arn(&arn) {
                Some(name) => m.dashboards.edit_tags(name, &tags(&i)?, &[])?,
                None => m.alarms.tag_resource(&arn, &tags(&i)?)?,
            }
            St::new().done()
        }
        Op::UntagResource => {
            let arn = i.s("ResourceARN")?.ok_or_else(|| missing("ResourceARN"))?;
            if !i.has("TagKeys") {
                return Err(missing("TagKeys"));
            }
            match dashboard_of_arn(&arn) {
                Some(name) => m.dashboards.edit_tags(name, &[], &i.strs("TagKeys")?)?,
                None => m.alarms.untag_resource(&arn, &i.strs("TagKeys")?)?,
            }
            St::new().done()
        }
        Op::ListTagsForResource => {
            let arn = i.s("ResourceARN")?.ok_or_else(|| missing("ResourceARN"))?;
            let tags = match dashboard_of_arn(&arn) {
                Some(name) => m.dashboards.list_tags(name)?,
                None => m.alarms.list_tags_for_resource(&arn)?,
            };
            St::new()
                .list("Tags", tags.iter().map(tag_out).collect())
                .done()
        }
        Op::PutDashboard => {
            let now = m.store.clock().now_ms();
            let warnings = m.dashboards.put_dashboard(
                i.s("DashboardName")?.as_deref(),
                i.s("DashboardBody")?.as_deref(),
                &tags(&i)?,
                now,
            )?;
            St::new()
                .put(
                    "DashboardValidationMessages",
                    super::validation_out(&warnings),
                )
                .done()
        }
        Op::GetDashboard => {
            let d = m
                .dashboards
                .get_dashboard(i.s("DashboardName")?.as_deref())?;
            St::new()
                .s("DashboardArn", dashboard_arn(account, &d.name))
                .s("DashboardBody", d.body)
                .s("DashboardName", d.name)
                .done()
        }
        Op::ListDashboards => {
            let (entries, next) = m.dashboards.list_dashboards(
                i.s("DashboardNamePrefix")?.as_deref(),
                i.s("NextToken")?.as_deref(),
            )?;
            St::new()
                .list(
                    "DashboardEntries",
                    entries
                        .iter()
                        .map(|e| {
                            St::new()
                                .s("DashboardName", e.name.clone())
                                .s("DashboardArn", dashboard_arn(account, &e.name))
                                .put("LastModified", Out::Time(e.last_modified_ms))
                                .put("Size", Out::Int(e.size as i64))
                                .done()
                        })
                        .collect(),
                )
                .os("NextToken", next.as_deref())
                .done()
        }
        Op::DeleteDashboards => {
            if !i.has("DashboardNames") {
                return Err(missing("DashboardNames"));
            }
            m.dashboards.delete_dashboards(&i.strs("DashboardNames")?)?;
            St::new().done()
        }
    };
    Ok(op.has_output().then_some(out))
}

/// `arn:aws:cloudwatch::<account>:dashboard/<name>` (dashboards are global) \[I\].
pub(crate) fn dashboard_arn(account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch::{account}:dashboard/{name}")
}

/// The dashboard name in a dashboard ARN (`arn:<partition>:cloudwatch::<account>:dashboard/<name>`).
fn dashboard_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_, name) = rest.split_once(":dashboard/")?;
    rest.split(':').nth(1).filter(|s| *s == "cloudwatch")?;
    Some(name)
}

fn required_names(i: &In<'_>) -> R<Vec<String>> {
    if !i.has("AlarmNames") {
        return Err(missing("AlarmNames"));
    }
    i.strs("AlarmNames")
}

fn usize_member(i: &In<'_>, k: &str) -> R<Option<usize>> {
    match i.i64(k)? {
        None => Ok(None),
        Some(v) if v >= 0 => Ok(Some(v as usize)),
        Some(v) => Err(WireError::invalid_value(format!(
            "The value {v} for parameter {k} is invalid."
        ))),
    }
}

fn dimensions(i: &In<'_>, k: &str) -> R<Vec<Dimension>> {
    i.list(k)?
        .into_iter()
        .map(|d| {
            Ok(Dimension::new(
                d.s("Name")?
                    .ok_or_else(|| missing(&format!("{k}.member.N.Name")))?,
                d.s("Value")?
                    .ok_or_else(|| missing(&format!("{k}.member.N.Value")))?,
            ))
        })
        .collect()
}

fn tags(i: &In<'_>) -> R<Vec<Tag>> {
    i.list("Tags")?
        .into_iter()
        .map(|t| {
            Ok(Tag {
                key: t.s("Key")?.ok_or_else(|| missing("Tags.member.N.Key"))?,
                value: t
                    .s("Value")?
                    .ok_or_else(|| missing("Tags.member.N.Value"))?,
            })
        })
        .collect()
}

fn datum(d: &In<'_>) -> R<MetricDatumInput> {
    let stats = match d.obj("StatisticValues")? {
        None => None,
        Some(s) => Some(StatisticSet {
            sample_count: s
                .f64("SampleCount")?
                .ok_or_else(|| missing("StatisticValues.SampleCount"))?,
            sum: s
                .f64("Sum")?
                .ok_or_else(|| missing("StatisticValues.Sum"))?,
            minimum: s
                .f64("Minimum")?
                .ok_or_else(|| missing("StatisticValues.Minimum"))?,
            maximum: s
                .f64("Maximum")?
                .ok_or_else(|| missing("StatisticValues.Maximum"))?,
        }),
    };
    Ok(MetricDatumInput {
        metric_name: d.s("MetricName")?,
        dimensions: dimensions(d, "Dimensions")?,
        timestamp_ms: d.time_ms("Timestamp")?,
        value: d.f64("Value")?,
        statistic_values: stats,
        values: d.has("Values").then(|| d.f64s("Values")).transpose()?,
        counts: d.has("Counts").then(|| d.f64s("Counts")).transpose()?,
        unit: d.s("Unit")?,
        storage_resolution: d.i64("StorageResolution")?,
    })
}

fn put_metric_data(i: &In<'_>) -> R<PutMetricDataInput> {
    let mut data = i
        .list("MetricData")?
        .iter()
        .map(datum)
        .collect::<R<Vec<_>>>()?;
    let entities = i.list("EntityMetricData")?;
    for e in &entities {
        for d in e.list("MetricData")? {
            data.push(datum(&d)?);
        }
    }
    Ok(PutMetricDataInput {
        namespace: i.s("Namespace")?,
        metric_data: data,
        entity_metric_data_count: entities.len(),
    })
}

fn f(v: f64) -> Out {
    Out::Float(v)
}

fn get_metric_statistics(m: &Monitoring, i: &In<'_>) -> R<Out> {
    let input = GetMetricStatisticsInput {
        namespace: i.s("Namespace")?,
        metric_name: i.s("MetricName")?,
        dimensions: dimensions(i, "Dimensions")?,
        start_time_ms: i.time_ms("StartTime")?,
        end_time_ms: i.time_ms("EndTime")?,
        period_s: i.i64("Period")?,
        statistics: i.strs("Statistics")?,
        extended_statistics: i.strs("ExtendedStatistics")?,
        unit: i.s("Unit")?,
    };
    let out = m.store.get_metric_statistics(&input)?;
    let points = out
        .datapoints
        .iter()
        .map(|d| {
            let ext = (!d.extended_statistics.is_empty()).then(|| {
                Out::Map(
                    d.extended_statistics
                        .iter()
                        .map(|(k, v)| (k.clone(), f(*v)))
                        .collect(),
                )
            });
            St::new()
                .put("Timestamp", Out::Time(d.timestamp_ms))
                .opt("SampleCount", d.sample_count.map(f))
                .opt("Average", d.average.map(f))
                .opt("Sum", d.sum.map(f))
                .opt("Minimum", d.minimum.map(f))
                .opt("Maximum", d.maximum.map(f))
                .s("Unit", d.unit.clone())
                .opt("ExtendedStatistics", ext)
                .done()
        })
        .collect();
    Ok(St::new()
        .s("Label", out.label)
        .list("Datapoints", points)
        .done())
}

fn metric_ref(i: &In<'_>) -> R<MetricRef> {
    Ok(MetricRef {
        namespace: i.s("Namespace")?,
        metric_name: i.s("MetricName")?,
        dimensions: dimensions(i, "Dimensions")?,
    })
}

fn data_query(q: &In<'_>) -> R<MetricDataQuery> {
    let metric_stat = match q.obj("MetricStat")? {
        None => None,
        Some(ms) => Some(MetricStat {
            metric: match ms.obj("Metric")? {
                Some(mr) => metric_ref(&mr)?,
                None => return Err(missing("MetricStat.Metric")),
            },
            period: ms.i64("Period")?,
            stat: ms.s("Stat")?,
            unit: ms.s("Unit")?,
        }),
    };
    Ok(MetricDataQuery {
        id: q
            .s("Id")?
            .ok_or_else(|| missing("MetricDataQueries.member.N.Id"))?,
        metric_stat,
        expression: q.s("Expression")?,
        label: q.s("Label")?,
        return_data: q.bool("ReturnData")?,
        period: q.i64("Period")?,
        account_id: q.s("AccountId")?,
    })
}

fn get_metric_data(m: &Monitoring, i: &In<'_>) -> R<Out> {
    if i.has("LabelOptions") {
        return Err(WireError::invalid_value(
            "LabelOptions (label time zones) is not supported by OpenWatch.".into(),
        ));
    }
    if !i.has("MetricDataQueries") {
        return Err(missing("MetricDataQueries"));
    }
    let input = GetMetricDataInput {
        metric_data_queries: i
            .list("MetricDataQueries")?
            .iter()
            .map(data_query)
            .collect::<R<_>>()?,
        start_time_ms: i.time_ms("StartTime")?,
        end_time_ms: i.time_ms("EndTime")?,
        next_token: i.s("NextToken")?,
        scan_by: i.s("ScanBy")?,
        max_datapoints: usize_member(i, "MaxDatapoints")?,
    };
    let out = m.store.get_metric_data(&input)?;
    let results = out
        .metric_data_results
        .iter()
        .map(|r| {
            St::new()
                .s("Id", r.id.clone())
                .s("Label", r.label.clone())
                .list(
                    "Timestamps",
                    r.timestamps_ms.iter().map(|t| Out::Time(*t)).collect(),
                )
                .list("Values", r.values.iter().map(|v| f(*v)).collect())
                .s("StatusCode", r.status_code.clone())
                .done()
        })
        .collect();
    Ok(St::new()
        .list("MetricDataResults", results)
        .os("NextToken", out.next_token.as_deref())
        .list("Messages", vec![])
        .done())
}

fn metric_out(mid: &MetricId) -> Out {
    St::new()
        .s("Namespace", mid.namespace.clone())
        .s("MetricName", mid.metric_name.clone())
        .list("Dimensions", mid.dimensions.iter().map(dim_out).collect())
        .done()
}

fn dim_out(d: &Dimension) -> Out {
    St::new()
        .s("Name", d.name.clone())
        .s("Value", d.value.clone())
        .done()
}

fn list_metrics(m: &Monitoring, i: &In<'_>) -> R<Out> {
    if i.bool("IncludeLinkedAccounts")? == Some(true) || i.has("OwningAccount") {
        return Err(WireError::invalid_value(
            "Cross-account observability (IncludeLinkedAccounts, OwningAccount) is not supported by OpenWatch.".into(),
        ));
    }
    let filters = i
        .list("Dimensions")?
        .into_iter()
        .map(|d| {
            Ok((
                d.s("Name")?
                    .ok_or_else(|| missing("Dimensions.member.N.Name"))?,
                d.s("Value")?,
            ))
        })
        .collect::<R<Vec<_>>>()?;
    let out = m.store.list_metrics(&ListMetricsInput {
        namespace: i.s("Namespace")?,
        metric_name: i.s("MetricName")?,
        dimensions: filters,
        next_token: i.s("NextToken")?,
        recently_active: i.s("RecentlyActive")?,
    })?;
    Ok(St::new()
        .list("Metrics", out.metrics.iter().map(metric_out).collect())
        .os("NextToken", out.next_token.as_deref())
        .done())
}

fn put_metric_alarm(i: &In<'_>) -> R<PutMetricAlarmInput> {
    Ok(PutMetricAlarmInput {
        alarm_name: i.s("AlarmName")?,
        alarm_description: i.s("AlarmDescription")?,
        actions_enabled: i.bool("ActionsEnabled")?,
        ok_actions: i.strs("OKActions")?,
        alarm_actions: i.strs("AlarmActions")?,
        insufficient_data_actions: i.strs("InsufficientDataActions")?,
        metric_name: i.s("MetricName")?,
        namespace: i.s("Namespace")?,
        statistic: i.s("Statistic")?,
        extended_statistic: i.s("ExtendedStatistic")?,
        dimensions: dimensions(i, "Dimensions")?,
        period: i.i64("Period")?,
        unit: i.s("Unit")?,
        evaluation_periods: i.i64("EvaluationPeriods")?,
        datapoints_to_alarm: i.i64("DatapointsToAlarm")?,
        threshold: i.f64("Threshold")?,
        comparison_operator: i.s("ComparisonOperator")?,
        treat_missing_data: i.s("TreatMissingData")?,
        evaluate_low_sample_count_percentile: i.s("EvaluateLowSampleCountPercentile")?,
        metrics: i
            .list("Metrics")?
            .iter()
            .map(data_query)
            .collect::<R<_>>()?,
        threshold_metric_id: i.s("ThresholdMetricId")?,
        tags: tags(i)?,
        has_evaluation_criteria: i.has("EvaluationCriteria"),
    })
}

fn put_composite_alarm(i: &In<'_>) -> R<PutCompositeAlarmInput> {
    Ok(PutCompositeAlarmInput {
        alarm_name: i.s("AlarmName")?,
        alarm_rule: i.s("AlarmRule")?,
        alarm_description: i.s("AlarmDescription")?,
        actions_enabled: i.bool("ActionsEnabled")?,
        alarm_actions: i.strs("AlarmActions")?,
        ok_actions: i.strs("OKActions")?,
        insufficient_data_actions: i.strs("InsufficientDataActions")?,
        tags: tags(i)?,
        actions_suppressor: i.s("ActionsSuppressor")?,
        actions_suppressor_wait_period: i.i64("ActionsSuppressorWaitPeriod")?,
        actions_suppressor_extension_period: i.i64("ActionsSuppressorExtensionPeriod")?,
    })
}

fn describe_alarms(m: &Monitoring, i: &In<'_>) -> R<Out> {
    let input = DescribeAlarmsInput {
        alarm_names: i.strs("AlarmNames")?,
        alarm_name_prefix: i.s("AlarmNamePrefix")?,
        alarm_types: i.strs("AlarmTypes")?,
        children_of_alarm_name: i.s("ChildrenOfAlarmName")?,
        parents_of_alarm_name: i.s("ParentsOfAlarmName")?,
        state_value: i.s("StateValue")?,
        action_prefix: i.s("ActionPrefix")?,
        max_records: usize_member(i, "MaxRecords")?,
        next_token: i.s("NextToken")?,
    };
    let out = m.alarms.describe_alarms(&input)?;
    Ok(St::new()
        .list(
            "CompositeAlarms",
            out.composite_alarms.iter().map(composite_alarm).collect(),
        )
        .list(
            "MetricAlarms",
            out.metric_alarms.iter().map(metric_alarm).collect(),
        )
        .os("NextToken", out.next_token.as_deref())
        .done())
}

fn query_out(q: &MetricDataQuery) -> Out {
    let ms = q.metric_stat.as_ref().map(|ms| {
        St::new()
            .put(
                "Metric",
                St::new()
                    .os("Namespace", ms.metric.namespace.as_deref())
                    .os("MetricName", ms.metric.metric_name.as_deref())
                    .list(
                        "Dimensions",
                        ms.metric.dimensions.iter().map(dim_out).collect(),
                    )
                    .done(),
            )
            .opt("Period", ms.period.map(Out::Int))
            .os("Stat", ms.stat.as_deref())
            .os("Unit", ms.unit.as_deref())
            .done()
    });
    St::new()
        .s("Id", q.id.clone())
        .opt("MetricStat", ms)
        .os("Expression", q.expression.as_deref())
        .os("Label", q.label.as_deref())
        .opt("ReturnData", q.return_data.map(Out::Bool))
        .opt("Period", q.period.map(Out::Int))
        .os("AccountId", q.account_id.as_deref())
        .done()
}

fn metric_alarm(a: &MetricAlarm) -> Out {
    let c = &a.config;
    St::new()
        .s("AlarmName", a.name())
        .s("AlarmArn", a.alarm_arn.clone())
        .os("AlarmDescription", c.alarm_description.as_deref())
        .put(
            "AlarmConfigurationUpdatedTimestamp",
            Out::Time(a.alarm_configuration_updated_ms),
        )
        .put(
            "ActionsEnabled",
            Out::Bool(c.actions_enabled.unwrap_or(true)),
        )
        .strs("OKActions", &c.ok_actions)
        .strs("AlarmActions", &c.alarm_actions)
        .strs("InsufficientDataActions", &c.insufficient_data_actions)
        .s("StateValue", a.state_value.as_str())
        .s("StateReason", a.state_reason.clone())
        .os("StateReasonData", a.state_reason_data.as_deref())
        .put("StateUpdatedTimestamp", Out::Time(a.state_updated_ms))
        .os("MetricName", c.metric_name.as_deref())
        .os("Namespace", c.namespace.as_deref())
        .os("Statistic", c.statistic.as_deref())
        .os("ExtendedStatistic", c.extended_statistic.as_deref())
        .list("Dimensions", c.dimensions.iter().map(dim_out).collect())
        .opt("Period", c.period.map(Out::Int))
        .os("Unit", c.unit.as_deref())
        .opt("EvaluationPeriods", c.evaluation_periods.map(Out::Int))
        .opt("DatapointsToAlarm", c.datapoints_to_alarm.map(Out::Int))
        .opt("Threshold", c.threshold.map(Out::Float))
        .os("ComparisonOperator", c.comparison_operator.as_deref())
        .os("TreatMissingData", c.treat_missing_data.as_deref())
        .os(
            "EvaluateLowSampleCountPercentile",
            c.evaluate_low_sample_count_percentile.as_deref(),
        )
        .opt(
            "Metrics",
            (!c.metrics.is_empty()).then(|| Out::List(c.metrics.iter().map(query_out).collect())),
        )
        .os("ThresholdMetricId", c.threshold_metric_id.as_deref())
        .put(
            "StateTransitionedTimestamp",
            Out::Time(a.state_transitioned_ms),
        )
        .done()
}

fn composite_alarm(a: &CompositeAlarm) -> Out {
    let c = &a.config;
    St::new()
        .put(
            "ActionsEnabled",
            Out::Bool(c.actions_enabled.unwrap_or(true)),
        )
        .strs("AlarmActions", &c.alarm_actions)
        .s("AlarmArn", a.alarm_arn.clone())
        .put(
            "AlarmConfigurationUpdatedTimestamp",
            Out::Time(a.alarm_configuration_updated_ms),
        )
        .os("AlarmDescription", c.alarm_description.as_deref())
        .s("AlarmName", a.name())
        .os("AlarmRule", c.alarm_rule.as_deref())
        .strs("InsufficientDataActions", &c.insufficient_data_actions)
        .strs("OKActions", &c.ok_actions)
        .s("StateReason", a.state_reason.clone())
        .os("StateReasonData", a.state_reason_data.as_deref())
        .put("StateUpdatedTimestamp", Out::Time(a.state_updated_ms))
        .s("StateValue", a.state_value.as_str())
        .put(
            "StateTransitionedTimestamp",
            Out::Time(a.state_transitioned_ms),
        )
        .done()
}

fn history_item(h: &AlarmHistoryItem) -> Out {
    St::new()
        .s("AlarmName", h.alarm_name.clone())
        .s("AlarmType", h.alarm_type.clone())
        .put("Timestamp", Out::Time(h.timestamp_ms))
        .s("HistoryItemType", h.history_item_type.clone())
        .s("HistorySummary", h.history_summary.clone())
        .s("HistoryData", h.history_data.clone())
        .done()
}

fn tag_out(t: &Tag) -> Out {
    St::new()
        .s("Key", t.key.clone())
        .s("Value", t.value.clone())
        .done()
}
