//! CloudWatch dashboards (api.md B.3 `PutDashboard` / `GetDashboard` / `ListDashboards` /
//! `DeleteDashboards`): the body is kept exactly as the client sent it, one file per
//! dashboard (`<dir>/<DashboardName>.json`, written atomically), validated the way AWS
//! validates it before it is saved.
//!
//! Validation \[I: AWS validates against a JSON schema it does not publish; the checks and
//! the JSON-schema-style wording below follow the messages AWS is seen to return, e.g.
//! `{"DataPath": "/widgets/0", "Message": "Should have required property 'properties'"}`\]:
//! - the body is a JSON object with a `widgets` array of at most
//!   [`DashboardLimits::max_widgets`] objects;
//! - each widget has a string `type`, integer `x` (0–23), `y` (≥ 0), `width` (1–24),
//!   `height` (1–1000) when present, and a `properties` object (except `explorer`);
//! - `metric` widgets need `properties.metrics` (an array of arrays) unless they are
//!   `alarm`-annotation-only; `text` widgets need a string `properties.markdown`; `log`
//!   widgets a string `properties.query`; `alarm` widgets an array `properties.alarms`;
//! - `periodOverride` is `auto` or `inherit`; `start`/`end` are strings.
//!
//! Errors are `DashboardInvalidInputError` (`InvalidParameterInput`, 400) with every
//! validation message; an unknown dashboard is `DashboardNotFoundError` (`ResourceNotFound`,
//! 404).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde_json::Value;

use crate::alarm::{check_tags, Tag};
use crate::error::{MetricsError, Result};

/// The file holding dashboard tags (its leading dot keeps it apart from dashboard names).
const TAGS_FILE: &str = ".tags.json";

/// Limits of dashboards, AWS values by default.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardLimits {
    /// Widgets per dashboard (AWS: 500).
    pub max_widgets: usize,
    /// `DashboardName` length (AWS: 255).
    pub max_name_chars: usize,
    /// `ListDashboards` page size (AWS: 1,000).
    pub list_page: usize,
    /// Names per `DeleteDashboards` call (AWS: 100).
    pub max_delete_names: usize,
    /// Body size in bytes (AWS documents a 1 MB request; 1,048,576 here).
    pub max_body_bytes: usize,
    /// Tags per dashboard (AWS: 50).
    pub max_tags: usize,
}

impl Default for DashboardLimits {
    fn default() -> Self {
        DashboardLimits {
            max_widgets: 500,
            max_name_chars: 255,
            list_page: 1000,
            max_delete_names: 100,
            max_body_bytes: 1 << 20,
            max_tags: 50,
        }
    }
}

/// A stored dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// `DashboardName`.
    pub name: String,
    /// `DashboardBody`, byte for byte as put.
    pub body: String,
    /// `LastModified`, epoch ms.
    pub last_modified_ms: i64,
    /// Tags (`PutDashboard` `Tags`, `TagResource` on the dashboard ARN).
    pub tags: Vec<Tag>,
}

/// One `ListDashboards` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardEntry {
    /// `DashboardName`.
    pub name: String,
    /// `LastModified`, epoch ms.
    pub last_modified_ms: i64,
    /// `Size` in bytes (of the body).
    pub size: u64,
}

/// The dashboards of one account. Dashboards are global (not Regional) in AWS.
#[derive(Debug)]
pub struct DashboardStore {
    dir: Option<PathBuf>,
    limits: DashboardLimits,
    dashboards: Mutex<BTreeMap<String, Dashboard>>,
}

impl DashboardStore {
    /// An empty, non-persistent store.
    pub fn in_memory(limits: DashboardLimits) -> Self {
        DashboardStore {
            dir: None,
            limits,
            dashboards: Mutex::new(BTreeMap::new()),
        }
    }

    /// Opens the dashboards in `dir` (`<name>.json` files; created if missing).
    ///
    /// # Errors
    /// [`MetricsError::Io`] when the directory or a file cannot be read.
    pub fn open(dir: &Path, limits: DashboardLimits) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MetricsError::io(format!("creating {}", dir.display()), e))?;
        let mut map = BTreeMap::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| MetricsError::io(format!("listing {}", dir.display()), e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| MetricsError::io(format!("listing {}", dir.display()), e))?;
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if !valid_name(name, limits.max_name_chars) {
                continue;
            }
            let body = std::fs::read_to_string(&path)
                .map_err(|e| MetricsError::io(format!("reading {}", path.display()), e))?;
            let last_modified_ms = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            map.insert(
                name.to_string(),
                Dashboard {
                    name: name.to_string(),
                    body,
                    last_modified_ms,
                    tags: Vec::new(),
                },
            );
        }
        let tags_path = dir.join(TAGS_FILE);
        if tags_path.exists() {
            let text = std::fs::read_to_string(&tags_path)
                .map_err(|e| MetricsError::io(format!("reading {}", tags_path.display()), e))?;
            let saved: BTreeMap<String, Vec<Tag>> =
                serde_json::from_str(&text).map_err(|e| MetricsError::Corrupt {
                    path: tags_path.clone(),
                    line: 1,
                    reason: e.to_string(),
                })?;
            for (name, tags) in saved {
                if let Some(d) = map.get_mut(&name) {
                    d.tags = tags;
                }
            }
        }
        Ok(DashboardStore {
            dir: Some(dir.to_path_buf()),
            limits,
            dashboards: Mutex::new(map),
        })
    }

    /// `PutDashboard`: validates and saves (replacing the whole body). Returns the
    /// `DashboardValidationMessages` that are only warnings (always empty: every check here
    /// is an error).
    ///
    /// # Errors
    /// `DashboardInvalidInputError` for an invalid name or body; `Io`.
    pub fn put_dashboard(
        &self,
        name: Option<&str>,
        body: Option<&str>,
        tags: &[Tag],
        now_ms: i64,
    ) -> Result<Vec<(String, String)>> {
        let name = name.ok_or_else(|| MetricsError::missing("DashboardName"))?;
        let body = body.ok_or_else(|| MetricsError::missing("DashboardBody"))?;
        if !valid_name(name, self.limits.max_name_chars) {
            return Err(MetricsError::DashboardInvalidInput {
                message: "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).".into(),
                messages: vec![],
            });
        }
        if body.len() > self.limits.max_body_bytes {
            return Err(invalid(vec![(
                String::new(),
                format!(
                    "The dashboard body is larger than {} bytes",
                    self.limits.max_body_bytes
                ),
            )]));
        }
        let messages = validate_body(body, &self.limits);
        if !messages.is_empty() {
            return Err(invalid(messages));
        }
        check_tags(tags, self.limits.max_tags)?;
        let mut map = self.dashboards.lock();
        // Tags apply when the dashboard is created; an update keeps the existing ones
        // (as PutMetricAlarm does) [I].
        let tags = match map.get(name) {
            Some(d) => d.tags.clone(),
            None => tags.to_vec(),
        };
        let new_tags = !tags.is_empty() && !map.contains_key(name);
        if let Some(dir) = &self.dir {
            crate::persist::write_atomic(&dir.join(format!("{name}.json")), body.as_bytes())?;
        }
        map.insert(
            name.to_string(),
            Dashboard {
                name: name.to_string(),
                body: body.to_string(),
                last_modified_ms: now_ms,
                tags,
            },
        );
        if new_tags {
            self.save_tags(&map)?;
        }
        Ok(Vec::new())
    }

    /// `GetDashboard`.
    ///
    /// # Errors
    /// `MissingParameter`; `DashboardNotFoundError`.
    pub fn get_dashboard(&self, name: Option<&str>) -> Result<Dashboard> {
        let name = name.ok_or_else(|| MetricsError::missing("DashboardName"))?;
        self.dashboards
            .lock()
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    /// `ListDashboards`: names starting with `prefix`, ASCII order, pages of
    /// [`DashboardLimits::list_page`]; the token is the last name of the previous page.
    ///
    /// # Errors
    /// `InvalidParameterValue` for a prefix with characters names cannot have.
    pub fn list_dashboards(
        &self,
        prefix: Option<&str>,
        next_token: Option<&str>,
    ) -> Result<(Vec<DashboardEntry>, Option<String>)> {
        let prefix = prefix.unwrap_or("");
        if !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(MetricsError::invalid_value("DashboardNamePrefix", prefix));
        }
        let map = self.dashboards.lock();
        let mut out = Vec::new();
        let mut next = None;
        for d in map.values() {
            if !d.name.starts_with(prefix) {
                continue;
            }
            if let Some(t) = next_token {
                if d.name.as_str() <= t {
                    continue;
                }
            }
            if out.len() == self.limits.list_page {
                next = out.last().map(|e: &DashboardEntry| e.name.clone());
                break;
            }
            out.push(DashboardEntry {
                name: d.name.clone(),
                last_modified_ms: d.last_modified_ms,
                size: d.body.len() as u64,
            });
        }
        Ok((out, next))
    }

    /// `DeleteDashboards`: all or nothing — if any name is unknown nothing is deleted
    /// \[I: AWS answers `ResourceNotFound` for unknown names\].
    ///
    /// # Errors
    /// `MissingParameter` (no names); `InvalidParameterValue` (more than 100);
    /// `DashboardNotFoundError`; `Io`.
    pub fn delete_dashboards(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Err(MetricsError::missing("DashboardNames"));
        }
        if names.len() > self.limits.max_delete_names {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The collection DashboardNames must not have more than {} items.",
                self.limits.max_delete_names
            )));
        }
        let mut map = self.dashboards.lock();
        if let Some(missing) = names.iter().find(|n| !map.contains_key(n.as_str())) {
            return Err(not_found(missing));
        }
        for n in names {
            if let Some(dir) = &self.dir {
                let path = dir.join(format!("{n}.json"));
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(MetricsError::io(format!("deleting {}", path.display()), e))
                    }
                }
            }
            map.remove(n.as_str());
        }
        self.save_tags(&map)
    }

    /// `ListTagsForResource` for the dashboard called `name`.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown dashboard.
    pub fn list_tags(&self, name: &str) -> Result<Vec<Tag>> {
        self.dashboards
            .lock()
            .get(name)
            .map(|d| d.tags.clone())
            .ok_or_else(|| tag_not_found(name))
    }

    /// `TagResource` (add or overwrite) / `UntagResource` (remove keys) on a dashboard.
    ///
    /// # Errors
    /// `ResourceNotFoundException`; `InvalidParameterValue` (sizes, more than 50 tags).
    pub fn edit_tags(&self, name: &str, add: &[Tag], remove: &[String]) -> Result<()> {
        let mut map = self.dashboards.lock();
        let d = map.get_mut(name).ok_or_else(|| tag_not_found(name))?;
        let mut tags = d.tags.clone();
        for t in add {
            match tags.iter_mut().find(|e| e.key == t.key) {
                Some(e) => e.value = t.value.clone(),
                None => tags.push(t.clone()),
            }
        }
        tags.retain(|t| !remove.contains(&t.key));
        check_tags(&tags, self.limits.max_tags)?;
        d.tags = tags;
        self.save_tags(&map)
    }

    fn save_tags(&self, map: &BTreeMap<String, Dashboard>) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let tags: BTreeMap<&str, &Vec<Tag>> = map
            .values()
            .filter(|d| !d.tags.is_empty())
            .map(|d| (d.name.as_str(), &d.tags))
            .collect();
        let text = serde_json::to_vec(&tags)
            .map_err(|e| MetricsError::Internal(format!("encoding dashboard tags: {e}")))?;
        crate::persist::write_atomic(&dir.join(TAGS_FILE), &text)
    }
}

fn tag_not_found(name: &str) -> MetricsError {
    MetricsError::ResourceNotFoundException(format!("Dashboard {name} does not exist."))
}

fn not_found(name: &str) -> MetricsError {
    MetricsError::DashboardNotFound(format!("Dashboard {name} does not exist"))
}

fn invalid(messages: Vec<(String, String)>) -> MetricsError {
    let list: Vec<Value> = messages
        .iter()
        .map(|(p, m)| serde_json::json!({"dataPath": p, "message": m}))
        .collect();
    MetricsError::DashboardInvalidInput {
        message: format!(
            "The dashboard body is invalid, there are {} validation errors: {}",
            messages.len(),
            Value::Array(list)
        ),
        messages,
    }
}

/// `DashboardName`: 1–255 characters of `[A-Za-z0-9_-]`.
pub fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Validates a dashboard body; returns `(DataPath, Message)` for every problem (empty = valid).
pub fn validate_body(body: &str, limits: &DashboardLimits) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            out.push((String::new(), format!("Invalid JSON: {e}")));
            return out;
        }
    };
    let Some(obj) = v.as_object() else {
        out.push((String::new(), "Should be object".into()));
        return out;
    };
    for key in ["start", "end"] {
        if let Some(x) = obj.get(key) {
            if !x.is_string() {
                out.push((format!("/{key}"), "Should be string".into()));
            }
        }
    }
    if let Some(p) = obj.get("periodOverride") {
        if !matches!(p.as_str(), Some("auto" | "inherit")) {
            out.push((
                "/periodOverride".into(),
                "Should be equal to one of the allowed values".into(),
            ));
        }
    }
    let Some(widgets) = obj.get("widgets") else {
        out.push((
            String::new(),
            "Should have required property 'widgets'".into(),
        ));
        return out;
    };
    let Some(widgets) = widgets.as_array() else {
        out.push(("/widgets".into(), "Should be array".into()));
        return out;
    };
    if widgets.len() > limits.max_widgets {
        out.push((
            "/widgets".into(),
            format!("Should NOT have more than {} items", limits.max_widgets),
        ));
    }
    for (i, w) in widgets.iter().enumerate() {
        validate_widget(&format!("/widgets/{i}"), w, &mut out);
    }
    out
}

fn validate_widget(path: &str, w: &Value, out: &mut Vec<(String, String)>) {
    let Some(w) = w.as_object() else {
        out.push((path.to_string(), "Should be object".into()));
        return;
    };
    let kind = match w.get("type") {
        None => {
            out.push((
                path.to_string(),
                "Should have required property 'type'".into(),
            ));
            return;
        }
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            out.push((format!("{path}/type"), "Should be string".into()));
            return;
        }
    };
    for (key, min, max) in [
        ("x", 0, 23),
        ("y", 0, i64::MAX),
        ("width", 1, 24),
        ("height", 1, 1000),
    ] {
        if let Some(v) = w.get(key) {
            match v.as_i64() {
                None => out.push((format!("{path}/{key}"), "Should be integer".into())),
                Some(n) if n < min => {
                    out.push((format!("{path}/{key}"), format!("Should be >= {min}")))
                }
                Some(n) if n > max => {
                    out.push((format!("{path}/{key}"), format!("Should be <= {max}")))
                }
                Some(_) => {}
            }
        }
    }
    const KINDS: [&str; 5] = ["metric", "text", "log", "alarm", "explorer"];
    if !KINDS.contains(&kind) {
        out.push((
            format!("{path}/type"),
            "Should be equal to one of the allowed values".into(),
        ));
        return;
    }
    if kind == "explorer" {
        return;
    }
    let props = match w.get("properties") {
        None => {
            out.push((
                path.to_string(),
                "Should have required property 'properties'".into(),
            ));
            return;
        }
        Some(Value::Object(p)) => p,
        Some(_) => {
            out.push((format!("{path}/properties"), "Should be object".into()));
            return;
        }
    };
    let ppath = format!("{path}/properties");
    let need = |key: &str, check: fn(&Value) -> bool, what: &str, out: &mut Vec<_>| match props
        .get(key)
    {
        None => out.push((
            ppath.clone(),
            format!("Should have required property '{key}'"),
        )),
        Some(v) if !check(v) => out.push((format!("{ppath}/{key}"), format!("Should be {what}"))),
        Some(_) => {}
    };
    match kind {
        "text" => need("markdown", Value::is_string, "string", out),
        "log" => need("query", Value::is_string, "string", out),
        "alarm" => need("alarms", Value::is_array, "array", out),
        "metric" => {
            // A metric widget shows `metrics` rows, or only alarm annotations.
            if props.get("metrics").is_none()
                && props
                    .get("annotations")
                    .and_then(|a| a.get("alarms"))
                    .is_some()
            {
                return;
            }
            need("metrics", Value::is_array, "array", out);
            if let Some(Value::Array(rows)) = props.get("metrics") {
                for (j, row) in rows.iter().enumerate() {
                    match row.as_array() {
                        None => {
                            out.push((format!("{ppath}/metrics/{j}"), "Should be array".into()))
                        }
                        Some(items) => {
                            for (k, item) in items.iter().enumerate() {
                                let last = k + 1 == items.len();
                                let ok = item.is_string() || (last && item.is_object());
                                if !ok {
                                    out.push((
                                        format!("{ppath}/metrics/{j}/{k}"),
                                        "Should be string".into(),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            if let Some(v) = props.get("view") {
                const VIEWS: [&str; 6] =
                    ["timeSeries", "singleValue", "gauge", "bar", "pie", "table"];
                if !v.as_str().is_some_and(|s| VIEWS.contains(&s)) {
                    out.push((
                        format!("{ppath}/view"),
                        "Should be equal to one of the allowed values".into(),
                    ));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Vec<Tag> {
        vec![Tag {
            key: k.into(),
            value: v.into(),
        }]
    }

    fn check(body: &str) -> Vec<(String, String)> {
        validate_body(body, &DashboardLimits::default())
    }

    #[test]
    fn valid_bodies() {
        assert!(check(r#"{"widgets":[]}"#).is_empty());
        assert!(check(
            r##"{"start":"-PT6H","periodOverride":"auto","widgets":[
              {"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[["CISBenchmark","RootAccountUsage"],[".","NoMFAConsoleSignin",{"stat":"Sum"}]],"view":"timeSeries","region":"us-east-1"}},
              {"type":"text","x":12,"y":0,"width":12,"height":3,"properties":{"markdown":"# hi"}},
              {"type":"log","properties":{"query":"SOURCE 'trail' | fields @timestamp","region":"us-east-1"}},
              {"type":"alarm","properties":{"alarms":["arn:aws:cloudwatch:us-east-1:000000000000:alarm:a"]}}]}"##
        )
        .is_empty());
    }

    #[test]
    fn invalid_bodies() {
        assert_eq!(
            check("[]"),
            vec![(String::new(), "Should be object".into())]
        );
        assert_eq!(
            check("{}"),
            vec![(
                String::new(),
                "Should have required property 'widgets'".into()
            )]
        );
        assert_eq!(
            check(r#"{"widgets":[{"type":"metric"}]}"#),
            vec![(
                "/widgets/0".into(),
                "Should have required property 'properties'".into()
            )]
        );
        assert_eq!(
            check(r#"{"widgets":[{"type":"text","width":25,"properties":{}}]}"#),
            vec![
                ("/widgets/0/width".into(), "Should be <= 24".into()),
                (
                    "/widgets/0/properties".into(),
                    "Should have required property 'markdown'".into()
                )
            ]
        );
        assert_eq!(
            check(r#"{"widgets":[{"type":"chart","properties":{}}]}"#)[0].0,
            "/widgets/0/type"
        );
        assert!(check("{").first().is_some_and(|m| m.0.is_empty()));
    }

    #[test]
    fn store_round_trip_and_persistence() {
        let dir = tempfile::tempdir().unwrap();
        let s = DashboardStore::open(dir.path(), DashboardLimits::default()).unwrap();
        s.put_dashboard(Some("main"), Some(r#"{"widgets":[]}"#), &[], 5)
            .unwrap();
        s.put_dashboard(
            Some("other-1"),
            Some(r#"{"widgets":[]}"#),
            &tag("k", "v"),
            6,
        )
        .unwrap();
        assert!(matches!(
            s.put_dashboard(Some("bad name"), Some(r#"{"widgets":[]}"#), &[], 6),
            Err(MetricsError::DashboardInvalidInput { .. })
        ));
        let err = s.put_dashboard(Some("x"), Some("{}"), &[], 7).unwrap_err();
        assert_eq!(err.aws_error().1, "InvalidParameterInput");
        assert_eq!(
            s.get_dashboard(Some("main")).unwrap().body,
            r#"{"widgets":[]}"#
        );
        let (list, next) = s.list_dashboards(Some("o"), None).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].name, "other-1");
        assert_eq!(list[0].size, 14);
        assert!(next.is_none());
        // all-or-nothing delete
        assert!(s
            .delete_dashboards(&["main".into(), "nope".into()])
            .is_err());
        let reopened = DashboardStore::open(dir.path(), DashboardLimits::default()).unwrap();
        assert_eq!(reopened.list_dashboards(None, None).unwrap().0.len(), 2);
        reopened.delete_dashboards(&["main".into()]).unwrap();
        assert_eq!(reopened.list_tags("other-1").unwrap(), tag("k", "v"));
        reopened
            .edit_tags("other-1", &tag("env", "prod"), &["k".to_string()])
            .unwrap();
        assert!(reopened.list_tags("main").is_err());
        let again = DashboardStore::open(dir.path(), DashboardLimits::default()).unwrap();
        assert_eq!(again.list_tags("other-1").unwrap(), tag("env", "prod"));
        assert_eq!(again.list_dashboards(None, None).unwrap().0.len(), 1);
        assert!(matches!(
            again.get_dashboard(Some("main")),
            Err(MetricsError::DashboardNotFound(_))
        ));
    }
}
