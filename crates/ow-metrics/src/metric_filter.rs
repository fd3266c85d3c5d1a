//! Metric filters (filter-patterns.md §6): `PutMetricFilter`, `DescribeMetricFilters`,
//! `DeleteMetricFilter`, `TestMetricFilter`, and their evaluation over ingested events.
//!
//! Definitions are kept per log group and persisted as one JSON file,
//! `<dir>/metric-filters.json`, rewritten atomically (write to a temporary file, `fsync`,
//! rename, `fsync` the directory) on every change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ow_filter_pattern::{FilterPattern, LogMessage, PatternFamily, ValueSelector};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::model::{validate_unit, Dimension, MetricId};

/// The prefix of `DescribeMetricFilters` tokens (`mf1:` was an offset).
const MF_TOKEN: &str = "mf2:";

/// Limits of metric filters (filter-patterns.md §1, §6), AWS values by default.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFilterLimits {
    /// Metric filters per log group (AWS: 100).
    pub max_filters_per_log_group: usize,
    /// Patterns containing regex per log group (AWS: 5, counted across metric and
    /// subscription filters; this store only sees metric filters).
    pub max_regex_patterns_per_log_group: usize,
    /// Dimensions per transformation (AWS: 3).
    pub max_dimensions: usize,
    /// `TestMetricFilter` messages (AWS: 1–50).
    pub max_test_messages: usize,
    /// `DescribeMetricFilters` page size limit (AWS: 50).
    pub max_describe_limit: usize,
}

impl Default for MetricFilterLimits {
    fn default() -> Self {
        MetricFilterLimits {
            max_filters_per_log_group: 100,
            max_regex_patterns_per_log_group: 5,
            max_dimensions: 3,
            max_test_messages: 50,
            max_describe_limit: 50,
        }
    }
}

/// One `metricTransformations` element (§6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    /// `metricName` (1–255, no `:`, `*`, `$`).
    pub metric_name: String,
    /// `metricNamespace` (1–255, no `:`, `*`, `$`).
    pub metric_namespace: String,
    /// `metricValue` (≤ 100): a numeric literal, `$.field` (JSON patterns) or `$name`
    /// (space-delimited patterns).
    pub metric_value: String,
    /// `defaultValue`: published for each event that does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    /// `dimensions`: dimension name → selector (≤ 3).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// `unit` (StandardUnit); omitted = `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A stored metric filter, as `DescribeMetricFilters` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilter {
    /// `filterName`.
    pub filter_name: String,
    /// `filterPattern`.
    pub filter_pattern: String,
    /// `metricTransformations` (exactly one).
    pub metric_transformations: Vec<MetricTransformation>,
    /// `creationTime`, epoch ms.
    pub creation_time: i64,
    /// `logGroupName`.
    pub log_group_name: String,
    /// `applyOnTransformedLogs`.
    #[serde(default)]
    pub apply_on_transformed_logs: bool,
}

/// `PutMetricFilter` input (required fields are `Option` so validation reports them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutMetricFilterInput {
    /// `logGroupName`* — the caller checks that the group exists.
    pub log_group_name: Option<String>,
    /// `filterName`* (1–512, no `:` or `*`).
    pub filter_name: Option<String>,
    /// `filterPattern`* (0–1024).
    pub filter_pattern: Option<String>,
    /// `metricTransformations`* (exactly one).
    pub metric_transformations: Vec<MetricTransformation>,
    /// `applyOnTransformedLogs` (stored; transformers are not implemented, so it changes
    /// nothing).
    pub apply_on_transformed_logs: bool,
}

/// A data point a metric filter produced from one event.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterDatum {
    /// The filter that produced it.
    pub filter_name: String,
    /// The metric (namespace, name, dimensions sorted).
    pub metric: MetricId,
    /// The event's timestamp, epoch ms \[I: spec §6\].
    pub timestamp_ms: i64,
    /// The value (literal, extracted, or `defaultValue`).
    pub value: f64,
    /// The transformation's unit.
    pub unit: Option<String>,
}

/// One `TestMetricFilter` match.
#[derive(Debug, Clone, PartialEq)]
pub struct TestMatch {
    /// `eventNumber`: 1-based position of the message in the request.
    pub event_number: usize,
    /// `eventMessage`.
    pub event_message: String,
    /// `extractedValues`: `$name` / `$.a.b` → value text.
    pub extracted_values: BTreeMap<String, String>,
}

/// `DescribeMetricFilters` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribeMetricFiltersInput {
    /// `logGroupName`.
    pub log_group_name: Option<String>,
    /// `filterNamePrefix` (needs `logGroupName`).
    pub filter_name_prefix: Option<String>,
    /// `metricName` (needs `metricNamespace`).
    pub metric_name: Option<String>,
    /// `metricNamespace` (needs `metricName`).
    pub metric_namespace: Option<String>,
    /// `limit` (1–50, default 50).
    pub limit: Option<usize>,
    /// `nextToken`.
    pub next_token: Option<String>,
}

#[derive(Debug, Clone)]
enum MetricValue {
    Literal(f64),
    Selector(ValueSelector),
}

#[derive(Debug, Clone)]
struct Compiled {
    def: MetricFilter,
    pattern: FilterPattern,
    value: MetricValue,
    dimensions: Vec<(String, ValueSelector)>,
}

fn validation(value: &str, field: &str, constraint: &str) -> MetricsError {
    MetricsError::LogsInvalidParameter(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

fn check_name(value: &str, field: &str, max: usize, forbidden: &[char]) -> Result<()> {
    let n = value.chars().count();
    if n == 0 {
        return Err(validation(
            value,
            field,
            "Member must have length greater than or equal to 1",
        ));
    }
    if n > max {
        return Err(validation(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if value.chars().any(|c| forbidden.contains(&c)) {
        let class: String = forbidden.iter().collect();
        return Err(validation(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: [^{class}]*"),
        ));
    }
    Ok(())
}

fn parse_literal(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.starts_with('$') {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn compile_selector(pattern: &FilterPattern, text: &str, what: &str) -> Result<ValueSelector> {
    let sel = ValueSelector::parse(text)
        .map_err(|e| MetricsError::LogsInvalidParameter(format!("Invalid {what} '{text}': {e}")))?;
    match (&sel, pattern.family()) {
        (ValueSelector::Json(_), PatternFamily::Json) => Ok(sel),
        (ValueSelector::Field(name), PatternFamily::SpaceDelimited) => {
            if pattern.field_names().contains(&name.as_str()) {
                Ok(sel)
            } else {
                Err(MetricsError::LogsInvalidParameter(format!(
                    "Invalid {what} '{text}': the filter pattern has no field named {name}."
                )))
            }
        }
        _ => Err(MetricsError::LogsInvalidParameter(format!(
            "Invalid {what} '{text}': $.field selectors need a JSON filter pattern and $name selectors a space-delimited one."
        ))),
    }
}

fn compile(def: MetricFilter, limits: &MetricFilterLimits) -> Result<Compiled> {
    check_name(&def.filter_name, "filterName", 512, &[':', '*'])?;
    let pattern = FilterPattern::parse(&def.filter_pattern)
        .map_err(|e| MetricsError::LogsInvalidParameter(e.to_string()))?;
    if def.metric_transformations.len() != 1 {
        return Err(validation(
            &format!("{} items", def.metric_transformations.len()),
            "metricTransformations",
            "Member must have length less than or equal to 1 and greater than or equal to 1",
        ));
    }
    let t = &def.metric_transformations[0];
    check_name(
        &t.metric_name,
        "metricTransformations.1.member.metricName",
        255,
        &[':', '*', '$'],
    )?;
    check_name(
        &t.metric_namespace,
        "metricTransformations.1.member.metricNamespace",
        255,
        &[':', '*', '$'],
    )?;
    check_name(
        &t.metric_value,
        "metricTransformations.1.member.metricValue",
        100,
        &[],
    )?;
    if let Some(u) = &t.unit {
        validate_unit("metricTransformations.1.member.unit", u)
            .map_err(|e| MetricsError::LogsInvalidParameter(e.to_string()))?;
    }
    if t.default_value.is_some_and(|v| !v.is_finite()) {
        return Err(MetricsError::LogsInvalidParameter(
            "Invalid defaultValue: it must be a finite number.".into(),
        ));
    }
    let value = match parse_literal(&t.metric_value) {
        Some(v) => MetricValue::Literal(v),
        None => MetricValue::Selector(compile_selector(&pattern, &t.metric_value, "metric value")?),
    };
    if t.dimensions.len() > limits.max_dimensions {
        return Err(MetricsError::LogsLimitExceeded(format!(
            "A metric transformation can have at most {} dimensions.",
            limits.max_dimensions
        )));
    }
    if !t.dimensions.is_empty() && t.default_value.is_some() {
        return Err(MetricsError::LogsInvalidParameter(
            "A metric transformation cannot have both dimensions and a defaultValue.".into(),
        ));
    }
    let mut dimensions = Vec::new();
    for (name, sel) in &t.dimensions {
        check_name(
            name,
            "metricTransformations.1.member.dimensions.key",
            255,
            &[],
        )?;
        dimensions.push((
            name.clone(),
            compile_selector(&pattern, sel, "dimension value")?,
        ));
    }
    Ok(Compiled {
        def,
        pattern,
        value,
        dimensions,
    })
}

/// All metric filters, by log group. Share it behind an `Arc`; methods take `&self`.
#[derive(Debug)]
pub struct MetricFilterSet {
    path: Option<PathBuf>,
    limits: MetricFilterLimits,
    groups: RwLock<BTreeMap<String, Vec<Compiled>>>,
}

impl MetricFilterSet {
    /// An empty, non-persistent set.
    pub fn in_memory(limits: MetricFilterLimits) -> Self {
        MetricFilterSet {
            path: None,
            limits,
            groups: RwLock::new(BTreeMap::new()),
        }
    }

    /// Opens the set stored in `dir/metric-filters.json` (empty when the file is absent).
    ///
    /// # Errors
    /// [`MetricsError::Io`] on read errors; [`MetricsError::Corrupt`] when the file is not
    /// valid or a stored filter no longer compiles.
    pub fn open(dir: &Path, limits: MetricFilterLimits) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MetricsError::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join("metric-filters.json");
        let mut groups: BTreeMap<String, Vec<Compiled>> = BTreeMap::new();
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| MetricsError::io(format!("reading {}", path.display()), e))?;
            let corrupt = |reason: String| MetricsError::Corrupt {
                path: path.clone(),
                line: 1,
                reason,
            };
            let defs: Vec<MetricFilter> =
                serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
            for d in defs {
                let c = compile(d, &limits).map_err(|e| corrupt(e.to_string()))?;
                groups
                    .entry(c.def.log_group_name.clone())
                    .or_default()
                    .push(c);
            }
        }
        Ok(MetricFilterSet {
            path: Some(path),
            limits,
            groups: RwLock::new(groups),
        })
    }

    fn save(&self, groups: &BTreeMap<String, Vec<Compiled>>) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let defs: Vec<&MetricFilter> = groups.values().flatten().map(|c| &c.def).collect();
        let json = serde_json::to_vec_pretty(&defs)
            .map_err(|e| MetricsError::Internal(format!("encoding metric filters: {e}")))?;
        crate::persist::write_atomic(path, &json)
    }

    /// `PutMetricFilter`: creates, or replaces the filter of the same name in the group.
    /// `now_ms` becomes `creationTime`. The caller must have checked that the log group
    /// exists (`ResourceNotFoundException` is its error).
    ///
    /// # Errors
    /// `InvalidParameterException` for any invalid field (pattern syntax included),
    /// `LimitExceededException` over 100 filters, 5 regex patterns, or 3 dimensions;
    /// [`MetricsError::Io`] when the file cannot be written (then nothing changed).
    pub fn put_metric_filter(&self, input: &PutMetricFilterInput, now_ms: i64) -> Result<()> {
        let group = input
            .log_group_name
            .as_deref()
            .ok_or_else(|| validation("null", "logGroupName", "Member must not be null"))?;
        check_name(group, "logGroupName", 512, &[])?;
        let name = input
            .filter_name
            .as_deref()
            .ok_or_else(|| validation("null", "filterName", "Member must not be null"))?;
        let pattern = input
            .filter_pattern
            .as_deref()
            .ok_or_else(|| validation("null", "filterPattern", "Member must not be null"))?;
        let def = MetricFilter {
            filter_name: name.to_string(),
            filter_pattern: pattern.to_string(),
            metric_transformations: input.metric_transformations.clone(),
            creation_time: now_ms,
            log_group_name: group.to_string(),
            apply_on_transformed_logs: input.apply_on_transformed_logs,
        };
        let compiled = compile(def, &self.limits)?;
        let mut groups = self.groups.write();
        let mut next = groups.clone();
        let list = next.entry(group.to_string()).or_default();
        list.retain(|c| c.def.filter_name != name);
        if list.len() >= self.limits.max_filters_per_log_group {
            return Err(MetricsError::LogsLimitExceeded(
                "Resource limit exceeded.".into(),
            ));
        }
        if compiled.pattern.regex_count() > 0
            && list.iter().filter(|c| c.pattern.regex_count() > 0).count()
                >= self.limits.max_regex_patterns_per_log_group
        {
            return Err(MetricsError::LogsLimitExceeded(format!(
                "A log group can have at most {} filter patterns that contain regular expressions.",
                self.limits.max_regex_patterns_per_log_group
            )));
        }
        list.push(compiled);
        list.sort_by(|a, b| a.def.filter_name.cmp(&b.def.filter_name));
        self.save(&next)?;
        *groups = next;
        Ok(())
    }

    /// `DeleteMetricFilter`.
    ///
    /// # Errors
    /// `ResourceNotFoundException` ("The specified metric filter does not exist.").
    pub fn delete_metric_filter(&self, log_group: &str, filter_name: &str) -> Result<()> {
        let mut groups = self.groups.write();
        let mut next = groups.clone();
        let list = next.entry(log_group.to_string()).or_default();
        let before = list.len();
        list.retain(|c| c.def.filter_name != filter_name);
        if list.len() == before {
            return Err(MetricsError::LogsResourceNotFound(
                "The specified metric filter does not exist.".into(),
            ));
        }
        if list.is_empty() {
            next.remove(log_group);
        }
        self.save(&next)?;
        *groups = next;
        Ok(())
    }

    /// Drops every filter of a deleted log group (no error when it had none).
    ///
    /// # Errors
    /// [`MetricsError::Io`] when the file cannot be written.
    pub fn delete_log_group(&self, log_group: &str) -> Result<()> {
        let mut groups = self.groups.write();
        if !groups.contains_key(log_group) {
            return Ok(());
        }
        let mut next = groups.clone();
        next.remove(log_group);
        self.save(&next)?;
        *groups = next;
        Ok(())
    }

    /// `DescribeMetricFilters`: filters sorted by log group then name. `nextToken` is the
    /// `(log group, filter name)` of the page's last filter and the next page starts strictly
    /// after it, so filters put or deleted between calls never make another filter repeat or
    /// vanish [I: AWS tokens are opaque; see [`crate::page`]].
    ///
    /// # Errors
    /// `InvalidParameterException` for a prefix without a log group, only one of
    /// `metricName`/`metricNamespace`, a limit outside 1–50, or a bad token.
    pub fn describe_metric_filters(
        &self,
        input: &DescribeMetricFiltersInput,
    ) -> Result<(Vec<MetricFilter>, Option<String>)> {
        if input.filter_name_prefix.is_some() && input.log_group_name.is_none() {
            return Err(MetricsError::LogsInvalidParameter(
                "If you specify a filter name prefix, you must also specify a log group name."
                    .into(),
            ));
        }
        if input.metric_name.is_some() != input.metric_namespace.is_some() {
            return Err(MetricsError::LogsInvalidParameter(
                "metricName and metricNamespace must be specified together.".into(),
            ));
        }
        let limit = input.limit.unwrap_or(self.limits.max_describe_limit);
        if limit == 0 || limit > self.limits.max_describe_limit {
            return Err(validation(
                &limit.to_string(),
                "limit",
                &format!(
                    "Member must have value less than or equal to {}",
                    self.limits.max_describe_limit
                ),
            ));
        }
        let after: Option<(String, String)> = match &input.next_token {
            None => None,
            Some(t) => Some(crate::page::decode(MF_TOKEN, t).ok_or_else(|| {
                MetricsError::LogsInvalidParameter("The specified nextToken is invalid.".into())
            })?),
        };
        let groups = self.groups.read();
        let mut matching = groups
            .iter()
            .filter(|(g, _)| input.log_group_name.as_ref().is_none_or(|n| n == *g))
            .flat_map(|(_, l)| l.iter().map(|c| &c.def))
            .filter(|d| {
                input
                    .filter_name_prefix
                    .as_ref()
                    .is_none_or(|p| d.filter_name.starts_with(p.as_str()))
                    && match (&input.metric_name, &input.metric_namespace) {
                        (Some(n), Some(ns)) => d
                            .metric_transformations
                            .iter()
                            .any(|t| t.metric_name == *n && t.metric_namespace == *ns),
                        _ => true,
                    }
                    && after.as_ref().is_none_or(|(g, f)| {
                        (d.log_group_name.as_str(), d.filter_name.as_str())
                            > (g.as_str(), f.as_str())
                    })
            });
        let page: Vec<MetricFilter> = matching.by_ref().take(limit).cloned().collect();
        let next = match (matching.next(), page.last()) {
            (Some(_), Some(last)) => Some(crate::page::encode(
                MF_TOKEN,
                &(&last.log_group_name, &last.filter_name),
            )),
            _ => None,
        };
        Ok((page, next))
    }

    /// Number of metric filters of the group (`metricFilterCount` of DescribeLogGroups).
    pub fn filter_count(&self, log_group: &str) -> usize {
        self.groups.read().get(log_group).map_or(0, Vec::len)
    }

    /// Whether any filter is defined for the group (lets ingestion skip work).
    pub fn has_filters(&self, log_group: &str) -> bool {
        self.groups
            .read()
            .get(log_group)
            .is_some_and(|l| !l.is_empty())
    }

    /// Evaluates every metric filter of `log_group` over ingested events
    /// `(timestamp_ms, message)` and returns the data points to store (§6): a matching event
    /// publishes `metricValue` (literal, or the extracted value when it is numeric) with the
    /// extracted dimensions; a non-matching event publishes `defaultValue` when one is set.
    /// An extracted value that is not numeric, or a dimension selector that resolves to
    /// nothing, publishes nothing (§6 \[I\]). Each event's JSON is parsed at most once.
    /// Pure: no I/O, no clock. Data points come in event order, then filter-name order.
    pub fn apply(&self, log_group: &str, events: &[(i64, &str)]) -> Vec<FilterDatum> {
        let groups = self.groups.read();
        let Some(filters) = groups.get(log_group) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (ts, text) in events {
            let msg = LogMessage::new(text);
            for f in filters {
                let Some(t) = f.def.metric_transformations.first() else {
                    continue;
                };
                let emit = |value: f64, dims: Vec<Dimension>| FilterDatum {
                    filter_name: f.def.filter_name.clone(),
                    metric: MetricId::new(t.metric_namespace.clone(), t.metric_name.clone(), dims),
                    timestamp_ms: *ts,
                    value,
                    unit: t.unit.clone(),
                };
                let needs_values =
                    matches!(f.value, MetricValue::Selector(_)) || !f.dimensions.is_empty();
                if !needs_values {
                    if f.pattern.matches_message(&msg) {
                        if let MetricValue::Literal(v) = f.value {
                            out.push(emit(v, Vec::new()));
                        }
                    } else if let Some(d) = t.default_value {
                        out.push(emit(d, Vec::new()));
                    }
                    continue;
                }
                match f.pattern.extract_message(&msg) {
                    None => {
                        if let Some(d) = t.default_value {
                            out.push(emit(d, Vec::new()));
                        }
                    }
                    Some(x) => {
                        let value = match &f.value {
                            MetricValue::Literal(v) => Some(*v),
                            MetricValue::Selector(s) => x.get(s).and_then(|v| v.as_f64()),
                        };
                        let dims: Option<Vec<Dimension>> = f
                            .dimensions
                            .iter()
                            .map(|(n, s)| {
                                let v = x.get(s)?.to_string();
                                (!v.is_empty()).then(|| Dimension::new(n.clone(), v))
                            })
                            .collect();
                        if let (Some(v), Some(d)) = (value, dims) {
                            out.push(emit(v, d));
                        }
                    }
                }
            }
        }
        out
    }
}

/// `TestMetricFilter` (§6): which of `messages` (1–50) match `pattern`, with their
/// `extractedValues`.
///
/// # Errors
/// `InvalidParameterException` for an invalid pattern or a message count outside 1–50.
pub fn test_metric_filter(
    pattern: &str,
    messages: &[String],
    limits: &MetricFilterLimits,
) -> Result<Vec<TestMatch>> {
    if messages.is_empty() || messages.len() > limits.max_test_messages {
        return Err(validation(
            &format!("{} items", messages.len()),
            "logEventMessages",
            &format!(
                "Member must have length less than or equal to {} and greater than or equal to 1",
                limits.max_test_messages
            ),
        ));
    }
    let p = FilterPattern::parse(pattern)
        .map_err(|e| MetricsError::LogsInvalidParameter(e.to_string()))?;
    Ok(messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let x = p.extract(m)?;
            Some(TestMatch {
                event_number: i + 1,
                event_message: m.clone(),
                extracted_values: x
                    .values()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_string()))
                    .collect(),
            })
        })
        .collect())
}
