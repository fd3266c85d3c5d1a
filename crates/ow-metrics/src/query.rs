//! `GetMetricData` (api.md B.3): `MetricStat` queries and metric-math expressions, shared by
//! the API and by metric-math alarms.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::math::{self, Series, Value};
use crate::model::{Dimension, MetricId, Statistic};
use crate::store::{
    round_start_time, validate_dimensions, validate_namespace, validate_query_period, MetricStore,
};

/// `Metric` inside a `MetricStat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricRef {
    /// `Namespace`.
    pub namespace: Option<String>,
    /// `MetricName`.
    pub metric_name: Option<String>,
    /// `Dimensions` (the full dimension set).
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
}

/// `MetricStat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    /// `Metric`*.
    pub metric: MetricRef,
    /// `Period`* in seconds.
    pub period: Option<i64>,
    /// `Stat`* (basic or extended statistic).
    pub stat: Option<String>,
    /// `Unit` filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// `MetricDataQuery` (GetMetricData and the `Metrics` of a metric-math alarm).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    /// `Id`* (`^[a-z][A-Za-z0-9_]*`, unique, ≤ 255).
    pub id: String,
    /// `MetricStat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    /// `Expression` (≤ 2048).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// `Label`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `ReturnData` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
    /// `Period` in seconds (for expressions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    /// `AccountId` (cross-account is not supported: must be absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// `GetMetricData` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetMetricDataInput {
    /// `MetricDataQueries`* (≤ 500).
    pub metric_data_queries: Vec<MetricDataQuery>,
    /// `StartTime`*, epoch ms (inclusive).
    pub start_time_ms: Option<i64>,
    /// `EndTime`*, epoch ms (exclusive).
    pub end_time_ms: Option<i64>,
    /// `NextToken`.
    pub next_token: Option<String>,
    /// `ScanBy`: `TimestampDescending` (default) or `TimestampAscending`.
    pub scan_by: Option<String>,
    /// `MaxDatapoints` (default 100,800).
    pub max_datapoints: Option<usize>,
}

/// One `MetricDataResults` element.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDataResult {
    /// `Id`.
    pub id: String,
    /// `Label`.
    pub label: String,
    /// `Timestamps`, epoch ms (parallel to `values`).
    pub timestamps_ms: Vec<i64>,
    /// `Values`.
    pub values: Vec<f64>,
    /// `StatusCode`: `Complete` or `PartialData` (more on the next page).
    pub status_code: String,
}

/// `GetMetricData` output.
#[derive(Debug, Clone, PartialEq)]
pub struct GetMetricDataOutput {
    /// `MetricDataResults`.
    pub metric_data_results: Vec<MetricDataResult>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// Checks a query id: `^[a-z][A-Za-z0-9_]*$`, ≤ 255.
pub(crate) fn valid_id(id: &str) -> bool {
    id.len() <= 255
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A validated query.
pub(crate) enum Prepared {
    Stat {
        metric: MetricId,
        period_s: i64,
        stat: Statistic,
        unit: Option<String>,
    },
    Expr(math::Expr),
}

/// Validates a list of queries (`param` is `MetricDataQueries` or `Metrics`).
pub(crate) fn prepare(
    param: &str,
    queries: &[MetricDataQuery],
    store: &MetricStore,
) -> Result<Vec<Prepared>> {
    let limits = store.limits();
    if queries.is_empty() {
        return Err(MetricsError::missing(param));
    }
    if queries.len() > limits.max_metric_data_queries {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection {param} must not have a size greater than {}.",
            limits.max_metric_data_queries
        )));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let p = format!("{param}.member.{}", i + 1);
        if !valid_id(&q.id) {
            return Err(MetricsError::invalid_value(&format!("{p}.Id"), &q.id));
        }
        if !seen.insert(q.id.as_str()) {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The value {} for parameter {p}.Id is not unique.",
                q.id
            )));
        }
        if q.account_id.is_some() {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter {p}.AccountId is not supported: OpenWatch has no cross-account observability."
            )));
        }
        if let Some(per) = q.period {
            validate_query_period(&format!("{p}.Period"), per)?;
        }
        out.push(match (&q.metric_stat, &q.expression) {
            (Some(_), Some(_)) => {
                return Err(MetricsError::exclusive(
                    &format!("{p}.MetricStat"),
                    &format!("{p}.Expression"),
                ))
            }
            (None, None) => {
                return Err(MetricsError::MissingParameter(format!(
                    "Exactly one of {p}.MetricStat and {p}.Expression must be specified."
                )))
            }
            (Some(ms), None) => {
                let sp = format!("{p}.MetricStat");
                let ns = ms
                    .metric
                    .namespace
                    .as_deref()
                    .ok_or_else(|| MetricsError::missing(&format!("{sp}.Metric.Namespace")))?;
                validate_namespace(&format!("{sp}.Metric.Namespace"), ns)?;
                let name = ms
                    .metric
                    .metric_name
                    .as_deref()
                    .ok_or_else(|| MetricsError::missing(&format!("{sp}.Metric.MetricName")))?;
                crate::model::check_len(&format!("{sp}.Metric.MetricName"), name, 1, 255)?;
                let dims = validate_dimensions(
                    &format!("{sp}.Metric.Dimensions"),
                    &ms.metric.dimensions,
                    limits,
                )?;
                let period_s = ms
                    .period
                    .ok_or_else(|| MetricsError::missing(&format!("{sp}.Period")))?;
                validate_query_period(&format!("{sp}.Period"), period_s)?;
                let stat_text = ms
                    .stat
                    .as_deref()
                    .ok_or_else(|| MetricsError::missing(&format!("{sp}.Stat")))?;
                let stat = Statistic::parse(&format!("{sp}.Stat"), stat_text)?;
                if let Some(u) = &ms.unit {
                    crate::model::validate_unit(&format!("{sp}.Unit"), u)?;
                }
                Prepared::Stat {
                    metric: MetricId::new(ns, name, dims),
                    period_s,
                    stat,
                    unit: ms.unit.clone(),
                }
            }
            (None, Some(e)) => {
                if e.is_empty() || e.chars().count() > 2048 {
                    return Err(MetricsError::InvalidParameterValue(format!(
                        "The parameter {p}.Expression must be between 1 and 2048 characters long."
                    )));
                }
                let ast = math::parse(e).map_err(|m| {
                    MetricsError::InvalidParameterValue(format!(
                        "Error in expression {}: {m}",
                        q.id
                    ))
                })?;
                Prepared::Expr(ast)
            }
        });
    }
    Ok(out)
}

/// Evaluates prepared queries over `[start_ms, end_ms)` with periods aligned on `origin_ms`.
/// Returns every query's value by id.
pub(crate) fn evaluate(
    queries: &[MetricDataQuery],
    prepared: &[Prepared],
    store: &MetricStore,
    origin_ms: i64,
    end_ms: i64,
    now_ms: i64,
) -> Result<BTreeMap<String, Value>> {
    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    let metric_ids: Vec<String> = queries
        .iter()
        .zip(prepared)
        .filter(|(_, p)| matches!(p, Prepared::Stat { .. }))
        .map(|(q, _)| q.id.clone())
        .collect();
    let min_period = prepared
        .iter()
        .filter_map(|p| match p {
            Prepared::Stat { period_s, .. } => Some(*period_s),
            Prepared::Expr(_) => None,
        })
        .min()
        .unwrap_or(60);
    for (q, p) in queries.iter().zip(prepared) {
        if let Prepared::Stat {
            metric,
            period_s,
            stat,
            unit,
        } = p
        {
            let aggs = store.aggregate(
                metric,
                origin_ms,
                *period_s,
                origin_ms,
                end_ms,
                unit.as_deref(),
                false,
                now_ms,
            );
            let points = aggs
                .into_iter()
                .filter_map(|((t, _), a)| Some((t, a.statistic(stat)?)))
                .collect();
            vars.insert(
                q.id.clone(),
                Value::Series(Series {
                    label: q
                        .label
                        .clone()
                        .unwrap_or_else(|| metric.metric_name.clone()),
                    period_s: *period_s,
                    points,
                }),
            );
        }
    }
    // Expressions in dependency order; cycles and unknown ids are errors.
    let exprs: BTreeMap<&str, (&MetricDataQuery, &math::Expr)> = queries
        .iter()
        .zip(prepared)
        .filter_map(|(q, p)| match p {
            Prepared::Expr(e) => Some((q.id.as_str(), (q, e))),
            Prepared::Stat { .. } => None,
        })
        .collect();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 visiting, 2 done
    fn visit<'a>(
        id: &'a str,
        exprs: &BTreeMap<&'a str, (&'a MetricDataQuery, &'a math::Expr)>,
        state: &mut BTreeMap<&'a str, u8>,
        order: &mut Vec<&'a str>,
    ) -> Result<()> {
        match state.get(id) {
            Some(2) => return Ok(()),
            Some(_) => {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "Error in expression {id}: circular dependency between expressions"
                )))
            }
            None => {}
        }
        state.insert(id, 1);
        if let Some((_, e)) = exprs.get(id) {
            let mut refs = Vec::new();
            math::references(e, &mut refs);
            for r in refs {
                if let Some((k, _)) = exprs.get_key_value(r.as_str()) {
                    visit(k, exprs, state, order)?;
                }
            }
        }
        state.insert(id, 2);
        order.push(id);
        Ok(())
    }
    let mut order = Vec::new();
    for q in queries {
        if exprs.contains_key(q.id.as_str()) {
            visit(q.id.as_str(), &exprs, &mut state, &mut order)?;
        }
    }
    for id in order {
        let Some((q, e)) = exprs.get(id) else {
            continue;
        };
        let period_s = q.period.unwrap_or(min_period);
        let env = math::Env {
            vars: &vars,
            metric_ids: &metric_ids,
            start_ms: origin_ms,
            end_ms,
            period_s,
        };
        let v = math::eval(e, &env).map_err(|m| {
            MetricsError::InvalidParameterValue(format!("Error in expression {id}: {m}"))
        })?;
        let v = match v {
            Value::Series(mut s) => {
                // Default label of an expression: its Id [I].
                s.label = q.label.clone().unwrap_or_else(|| q.id.clone());
                Value::Series(s)
            }
            other => other,
        };
        vars.insert(id.to_string(), v);
    }
    Ok(vars)
}

/// The prefix of `GetMetricData` tokens (`gmd1:` held a point offset).
const GMD_TOKEN: &str = "gmd2:";

impl MetricStore {
    /// `GetMetricData` (api.md B.3).
    ///
    /// Periods are aligned on `StartTime` rounded as for `GetMetricStatistics`. Results come
    /// in request order (only `ReturnData` queries); an expression yielding an array of time
    /// series gives one result per series, all with the expression's `Id`. `ScanBy`
    /// `TimestampDescending` (default) orders points newest first. `MaxDatapoints` bounds the
    /// points of one page; a cut result has `StatusCode=PartialData` and `NextToken` resumes
    /// after it (tokens are positions: the same request must be repeated). The position is
    /// the result's index and the timestamp of the last point returned, and the next page
    /// goes on strictly after that timestamp, so points stored between calls never make a
    /// point repeat or vanish [I: AWS tokens are opaque; see [`crate::page`]] (a search
    /// expression whose set of series changes between calls can still shift the index).
    ///
    /// # Errors
    /// `MissingParameter`, `InvalidParameterValue` (ids, periods, stats, expressions: the
    /// message is `Error in expression <id>: …`; a final result that is a scalar),
    /// `InvalidParameterCombination`, `InvalidNextToken`.
    pub fn get_metric_data(&self, input: &GetMetricDataInput) -> Result<GetMetricDataOutput> {
        let now_ms = self.clock().now_ms();
        let start = input
            .start_time_ms
            .ok_or_else(|| MetricsError::missing("StartTime"))?;
        let end = input
            .end_time_ms
            .ok_or_else(|| MetricsError::missing("EndTime"))?;
        crate::store::validate_time("StartTime", start)?;
        crate::store::validate_time("EndTime", end)?;
        if start >= end {
            return Err(MetricsError::InvalidParameterValue(
                "The parameter StartTime must be less than the parameter EndTime.".into(),
            ));
        }
        let descending = match input.scan_by.as_deref() {
            None | Some("TimestampDescending") => true,
            Some("TimestampAscending") => false,
            Some(other) => return Err(MetricsError::invalid_value("ScanBy", other)),
        };
        let max_points = input
            .max_datapoints
            .unwrap_or(self.limits().gmd_default_max_datapoints);
        if max_points == 0 {
            return Err(MetricsError::invalid_value("MaxDatapoints", 0));
        }
        let prepared = prepare("MetricDataQueries", &input.metric_data_queries, self)?;
        let min_period = prepared
            .iter()
            .filter_map(|p| match p {
                Prepared::Stat { period_s, .. } => Some(*period_s),
                Prepared::Expr(_) => None,
            })
            .chain(input.metric_data_queries.iter().filter_map(|q| q.period))
            .min()
            .unwrap_or(60);
        let origin = round_start_time(start, min_period, now_ms);
        let vars = evaluate(
            &input.metric_data_queries,
            &prepared,
            self,
            origin,
            end,
            now_ms,
        )?;
        // (id, label, points)
        #[allow(clippy::type_complexity)]
        let mut full: Vec<(String, String, Vec<(i64, f64)>)> = Vec::new();
        for q in &input.metric_data_queries {
            if q.return_data == Some(false) {
                continue;
            }
            let series: Vec<Series> = match vars.get(&q.id) {
                Some(Value::Series(s)) => vec![s.clone()],
                Some(Value::Array(a)) => a.clone(),
                Some(Value::Scalar(_)) => {
                    return Err(MetricsError::InvalidParameterValue(format!(
                        "Error in expression {}: the final result must be a time series or an array of time series",
                        q.id
                    )))
                }
                None => Vec::new(),
            };
            for s in series {
                let mut pts: Vec<(i64, f64)> = s
                    .points
                    .into_iter()
                    .filter(|(t, v)| *t >= origin && *t < end && v.is_finite())
                    .collect();
                if descending {
                    pts.reverse();
                }
                full.push((q.id.clone(), s.label, pts));
            }
        }
        // Pagination: the token is (result index, timestamp of the last point returned, or
        // none to start that result from its first point).
        let (mut ri, mut after_ts) = match &input.next_token {
            None => (0usize, None),
            Some(t) => {
                let bad = || {
                    MetricsError::InvalidNextToken("The service cannot parse the NextToken.".into())
                };
                let (ri, ts): (usize, Option<i64>) =
                    crate::page::decode(GMD_TOKEN, t).ok_or_else(bad)?;
                if ri > full.len() {
                    return Err(bad());
                }
                (ri, ts)
            }
        };
        let mut budget = max_points;
        let mut results = Vec::new();
        let mut next_token = None;
        while ri < full.len() {
            let (id, label, pts) = &full[ri];
            let from = after_ts.map_or(0, |ts| {
                pts.iter()
                    .position(|p| if descending { p.0 < ts } else { p.0 > ts })
                    .unwrap_or(pts.len())
            });
            let rest = pts.get(from..).unwrap_or(&[]);
            let take = rest.len().min(budget);
            budget -= take;
            let cut = take < rest.len();
            results.push(MetricDataResult {
                id: id.clone(),
                label: label.clone(),
                timestamps_ms: rest[..take].iter().map(|p| p.0).collect(),
                values: rest[..take].iter().map(|p| p.1).collect(),
                status_code: if cut { "PartialData" } else { "Complete" }.into(),
            });
            if cut {
                let last = rest[..take].last().map(|p| p.0);
                next_token = Some(crate::page::encode(GMD_TOKEN, &(ri, last)));
                break;
            }
            ri += 1;
            after_ts = None;
            if budget == 0 && ri < full.len() {
                next_token = Some(crate::page::encode(GMD_TOKEN, &(ri, None::<i64>)));
                break;
            }
        }
        Ok(GetMetricDataOutput {
            metric_data_results: results,
            next_token,
        })
    }
}
