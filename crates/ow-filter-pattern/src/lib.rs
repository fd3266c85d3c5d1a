//! CloudWatch Logs filter patterns: parse once, match many events, extract metric values.
//!
//! Filter patterns are the small language of `FilterLogEvents`, `TestMetricFilter`, metric
//! filters and subscription filters — a different language from Logs Insights QL. The
//! reference is `shared/spec/filter-patterns.md` (section numbers below refer to it).
//!
//! Main types:
//! - [`FilterPattern`]: a parsed pattern of one of four families, chosen by its first
//!   non-blank character (§1 \[I\]): `{` JSON (§4), `[` space-delimited (§5), `%…%` regex (§3),
//!   anything else terms (§2). The empty pattern matches every event.
//! - [`LogMessage`]: one event's message, with its JSON parsed lazily and at most once, so
//!   many filters can be run over one event cheaply (§10).
//! - [`Extracted`]: what a match yields for metric filters and `TestMetricFilter`
//!   (`$.field` / `$name` values), looked up with a [`ValueSelector`].
//! - [`PatternOptions`]: AWS limits and the switches for behaviour the spec marks \[I\].
//! - [`packs::cis`]: the CIS AWS Foundations CloudTrail metric filters (§9) as data.
//!
//! ```
//! use ow_filter_pattern::{FilterPattern, ValueSelector};
//!
//! let p = FilterPattern::parse(r#"{ $.eventName = "ConsoleLogin" && $.errorMessage = "Failed*" }"#)?;
//! assert!(p.matches(r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#));
//! assert!(!p.matches(r#"{"eventName":"ConsoleLogin"}"#));
//!
//! let p = FilterPattern::parse("[ip, user, ..., status = 4*, bytes]")?;
//! let x = p.extract("10.0.0.1 frank GET /a 404 1534").expect("matches");
//! assert_eq!(x.get(&ValueSelector::parse("$bytes")?).and_then(|v| v.as_f64()), Some(1534.0));
//!
//! assert!(FilterPattern::parse("%something!%").is_err());
//! # Ok::<(), ow_filter_pattern::PatternError>(())
//! ```
//!
//! Errors: [`PatternError`] (user errors map to `InvalidParameterException`). Parsing never
//! panics, whatever the input.
//!
//! # Choices on items the spec marks \[I\]
//! Each is to be settled against `TestMetricFilter`; the three the spec asks to keep
//! switchable are [`PatternOptions`] fields.
//! - Terms: whole-term matching by default ([`TermMatching`]); mixed `?`/plain items form
//!   CDK-style OR-of-AND groups; `-X` alone matches events without `X`; `" "` matches events
//!   containing a space; bare terms are Unicode letters/digits/`_`; in quoted strings `\"`
//!   and `\\` are escapes and any other backslash is literal.
//! - Regex: the space is allowed (documented example `%bind: address%`); `\d \w \s` (and
//!   negations) are ASCII classes; `\t \n \r` and escaped allowed symbols are accepted,
//!   every other escape is rejected; `%%` is rejected.
//! - JSON: a missing selector makes every comparison false, `!=` included; an object/array
//!   value never compares; a selector on an array without an index does not match; `!=` on a
//!   present scalar is the negation of `=`; a numeric literal compares with a JSON string that
//!   is a number (switch); a string/wildcard value compares with a number's JSON text and with
//!   `true`/`false`; `= *` matches any scalar including `null`; `$.a[*]`, `==`, `IS NOT`,
//!   positive `EXISTS` are errors; keywords (`IS NULL`…) are upper case only; `\*` in a quoted
//!   value is a literal star; parentheses nest at most 200 deep.
//! - Space-delimited: runs of whitespace are one separator; `"…"`/`[…]` followed by more
//!   characters stay one field; an unclosed `"`/`[` is an ordinary character; at most one
//!   `...`; without `...` the last field absorbs the rest of the line (switch); field names
//!   are case-sensitive and conditions combined with `&&`/`||` must name the same field.
//! - Extraction: JSON `extractedValues` are keyed by the selector text (`$.a.b`).

#![deny(missing_docs)]

mod cursor;
mod error;
mod json;
pub mod packs;
mod regex;
mod space;
mod term;
mod value;

use std::cell::OnceCell;
use std::fmt;

pub use error::{PatternError, SyntaxErrorKind};
pub use json::JsonPath;

use cursor::Cursor;
use json::JsonPattern;
use regex::RestrictedRegex;
use space::SpacePattern;
use term::TermPattern;

/// How a plain term (`ERROR`, `"INTERNAL SERVER ERROR"`) is looked for in a message
/// (§2, an open question marked \[I\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TermMatching {
    /// The term must occur delimited by non-word characters (or the message edges) wherever
    /// the term itself starts or ends with a letter, digit or `_`: `AUTHORIZED` does not match
    /// `UNAUTHORIZED`. The spec's recommended default, pending `TestMetricFilter` golden files.
    #[default]
    WholeTerm,
    /// Plain substring containment (what moto and other emulators do).
    Substring,
}

/// Limits and switches for behaviour the spec leaves open.
///
/// `Default` gives AWS's limits and the spec's recommended choices for the \[I\] items.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternOptions {
    /// Maximum pattern length in characters. AWS: 1024 (`FilterPattern` shape, §1 \[V\]).
    pub max_length_chars: usize,
    /// Maximum number of `%…%` regex expressions in one pattern. AWS: 2 (§1 \[V\]). The
    /// per-log-group quota (5 patterns with regex) belongs to the filter store; see
    /// [`FilterPattern::regex_count`].
    pub max_regex_per_pattern: usize,
    /// Term matching mode (§2 \[I\]); default [`TermMatching::WholeTerm`].
    pub term_matching: TermMatching,
    /// In a space-delimited pattern without `...`, whether the last field absorbs the rest of
    /// the line when the event has more fields than the pattern (§5.2 \[I\]; default `true`,
    /// the value being the raw remaining text). With `false` the field counts must be equal.
    pub last_field_absorbs_rest: bool,
    /// Whether a numeric literal in a JSON pattern compares with a JSON *string* that is a
    /// number (`{ $.errorCode = 400 }` vs `"errorCode":"400"`, §4.2 \[I\]; default `true`).
    pub numeric_string_coercion: bool,
}

impl Default for PatternOptions {
    fn default() -> Self {
        PatternOptions {
            max_length_chars: 1024,
            max_regex_per_pattern: 2,
            term_matching: TermMatching::WholeTerm,
            last_field_absorbs_rest: true,
            numeric_string_coercion: true,
        }
    }
}

/// The four pattern families (§1), plus the empty pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternFamily {
    /// Empty or blank: matches every event (§1 \[V\]).
    MatchAll,
    /// Terms, phrases, `?` alternatives and `-` exclusions (§2).
    Terms,
    /// A standalone `%…%` regex (§3).
    Regex,
    /// `{ … }` (§4).
    Json,
    /// `[ … ]` (§5).
    SpaceDelimited,
}

#[derive(Debug, Clone)]
enum Compiled {
    MatchAll,
    Terms(TermPattern),
    Regex(RestrictedRegex),
    Json(JsonPattern),
    Space(SpacePattern),
}

/// A parsed CloudWatch Logs filter pattern.
///
/// Parse with [`FilterPattern::parse`] (AWS defaults) or [`FilterPattern::parse_with`];
/// then [`matches`](FilterPattern::matches) decides whether an event's message matches and
/// [`extract`](FilterPattern::extract) also returns the values a metric filter publishes.
/// Matching is case-sensitive everywhere (§1 \[V\]).
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    compiled: Compiled,
    regex_count: usize,
    options: PatternOptions,
}

impl FilterPattern {
    /// Parses a pattern with [`PatternOptions::default`] (AWS limits, recommended choices).
    ///
    /// # Errors
    /// [`PatternError::TooLong`] over 1024 characters, [`PatternError::TooManyRegex`] for more
    /// than two `%…%`, [`PatternError::Syntax`] (with a byte position) for anything malformed
    /// or unsupported. Never panics.
    pub fn parse(pattern: &str) -> Result<FilterPattern, PatternError> {
        FilterPattern::parse_with(pattern, &PatternOptions::default())
    }

    /// Parses a pattern with explicit options. Errors as for [`FilterPattern::parse`].
    pub fn parse_with(
        pattern: &str,
        options: &PatternOptions,
    ) -> Result<FilterPattern, PatternError> {
        let len = pattern.chars().count();
        if len > options.max_length_chars {
            return Err(PatternError::TooLong {
                len,
                max: options.max_length_chars,
            });
        }
        let mut cur = Cursor::new(pattern, 0);
        cur.skip_ws();
        let start = cur.pos();
        let trimmed = pattern.trim();
        let (compiled, regex_count) = match cur.peek() {
            None => (Compiled::MatchAll, 0),
            Some('{') => {
                let (p, n) = JsonPattern::parse(&mut cur)?;
                (Compiled::Json(p), n)
            }
            Some('[') => {
                let (p, n) = SpacePattern::parse(&mut cur)?;
                (Compiled::Space(p), n)
            }
            Some('%') if trimmed.len() >= 2 && trimmed.ends_with('%') => {
                let body = trimmed.get(1..trimmed.len() - 1).unwrap_or("");
                // A `%` inside the body is rejected by the alphabet check.
                let re = RestrictedRegex::compile(body, start + 1, start)?;
                (Compiled::Regex(re), 1)
            }
            Some(_) => (Compiled::Terms(TermPattern::parse(pattern, start)?), 0),
        };
        if regex_count > options.max_regex_per_pattern {
            return Err(PatternError::TooManyRegex {
                count: regex_count,
                max: options.max_regex_per_pattern,
            });
        }
        Ok(FilterPattern {
            source: pattern.to_string(),
            compiled,
            regex_count,
            options: options.clone(),
        })
    }

    /// The pattern text exactly as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Which family the pattern belongs to.
    pub fn family(&self) -> PatternFamily {
        match self.compiled {
            Compiled::MatchAll => PatternFamily::MatchAll,
            Compiled::Terms(_) => PatternFamily::Terms,
            Compiled::Regex(_) => PatternFamily::Regex,
            Compiled::Json(_) => PatternFamily::Json,
            Compiled::Space(_) => PatternFamily::SpaceDelimited,
        }
    }

    /// Number of `%…%` regex expressions in the pattern (for the per-log-group quota of 5
    /// regex-bearing patterns across metric and subscription filters, §1 \[V\]).
    pub fn regex_count(&self) -> usize {
        self.regex_count
    }

    /// The options the pattern was parsed with.
    pub fn options(&self) -> &PatternOptions {
        &self.options
    }

    /// The named fields of a space-delimited pattern, in order (empty for other families).
    /// A metric filter's `$name` value or dimension must name one of these (§6).
    pub fn field_names(&self) -> Vec<&str> {
        match &self.compiled {
            Compiled::Space(p) => p.field_names().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the event message matches. A JSON pattern never matches a message that is
    /// not JSON (§1 \[I\]).
    pub fn matches(&self, message: &str) -> bool {
        self.matches_message(&LogMessage::new(message))
    }

    /// Like [`matches`](FilterPattern::matches), reusing the event's cached JSON parse.
    pub fn matches_message(&self, message: &LogMessage<'_>) -> bool {
        match &self.compiled {
            Compiled::MatchAll => true,
            Compiled::Terms(t) => t.matches(message.text, self.options.term_matching),
            Compiled::Regex(r) => r.is_match(message.text),
            Compiled::Json(j) => message
                .json()
                .is_some_and(|v| j.matches(v, self.options.numeric_string_coercion)),
            Compiled::Space(s) => s.matches(message.text, self.options.last_field_absorbs_rest),
        }
    }

    /// Matches and, on a match, returns the extracted values; `None` when the event does
    /// not match.
    ///
    /// [`Extracted::values`] lists what `TestMetricFilter` reports as `extractedValues`
    /// (§6): for space-delimited patterns every named field as `$name`; for JSON patterns
    /// every selector of the pattern that resolves to a scalar, keyed by the selector text
    /// (`$.a.b`) \[I: key format\]. Other families extract nothing. For JSON events,
    /// [`Extracted::get`] can also resolve selectors that are not in the pattern (a metric
    /// filter's `metricValue` or dimensions).
    pub fn extract(&self, message: &str) -> Option<Extracted> {
        let msg = LogMessage::new(message);
        let values = self.extract_values(&msg)?;
        let json = match self.compiled {
            Compiled::Json(_) => msg.into_json(),
            _ => None,
        };
        Some(Extracted { values, json })
    }

    /// Like [`extract`](FilterPattern::extract) for a [`LogMessage`]; the event JSON is
    /// cloned into the result only for JSON patterns.
    pub fn extract_message(&self, message: &LogMessage<'_>) -> Option<Extracted> {
        let values = self.extract_values(message)?;
        let json = match self.compiled {
            Compiled::Json(_) => message.json().cloned(),
            _ => None,
        };
        Some(Extracted { values, json })
    }

    fn extract_values(&self, message: &LogMessage<'_>) -> Option<Vec<(String, ExtractedValue)>> {
        match &self.compiled {
            Compiled::Space(s) => s
                .extract(message.text, self.options.last_field_absorbs_rest)
                .map(|v| {
                    v.into_iter()
                        .map(|(k, v)| (k, ExtractedValue::Text(v)))
                        .collect()
                }),
            Compiled::Json(j) => {
                let root = message.json()?;
                if !j.matches(root, self.options.numeric_string_coercion) {
                    return None;
                }
                Some(
                    j.selectors()
                        .iter()
                        .filter_map(|p| {
                            let v = ExtractedValue::from_json(p.resolve(root)?)?;
                            Some((p.to_string(), v))
                        })
                        .collect(),
                )
            }
            _ => self.matches_message(message).then(Vec::new),
        }
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for FilterPattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FilterPattern::parse(s)
    }
}

/// One event's message, with its JSON parsed on first use and cached.
///
/// Build one per event and pass it to [`FilterPattern::matches_message`] for every filter, so
/// the JSON is parsed once however many filters run (§10). Only messages whose first
/// non-blank character is `{` or `[` are parsed; anything that is not valid JSON counts as
/// "not JSON".
#[derive(Debug)]
pub struct LogMessage<'a> {
    text: &'a str,
    json: OnceCell<Option<serde_json::Value>>,
}

impl<'a> LogMessage<'a> {
    /// Wraps a message (no work is done until a JSON pattern needs it).
    pub fn new(text: &'a str) -> Self {
        LogMessage {
            text,
            json: OnceCell::new(),
        }
    }

    /// The message text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The message parsed as JSON, or `None` when it is not JSON.
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.json
            .get_or_init(|| {
                let t = self.text.trim_start();
                if t.starts_with('{') || t.starts_with('[') {
                    serde_json::from_str(t).ok()
                } else {
                    None
                }
            })
            .as_ref()
    }

    fn into_json(self) -> Option<serde_json::Value> {
        self.json.into_inner().flatten()
    }
}

/// A value taken from a matching event.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtractedValue {
    /// A JSON string or a space-delimited field (always text).
    Text(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON boolean.
    Bool(bool),
    /// JSON `null`.
    Null,
}

impl ExtractedValue {
    fn from_json(v: &serde_json::Value) -> Option<ExtractedValue> {
        Some(match v {
            serde_json::Value::String(s) => ExtractedValue::Text(s.clone()),
            serde_json::Value::Number(n) => ExtractedValue::Number(n.clone()),
            serde_json::Value::Bool(b) => ExtractedValue::Bool(*b),
            serde_json::Value::Null => ExtractedValue::Null,
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => return None,
        })
    }

    /// The numeric reading a metric filter publishes: JSON numbers, and text that is a
    /// number in the filter-pattern grammar (`12`, `-0.5`, `1e3`). `None` otherwise — then no
    /// data point is emitted (§6 \[I\]).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ExtractedValue::Number(n) => n.as_f64(),
            ExtractedValue::Text(s) => value::parse_number(s.trim()),
            ExtractedValue::Bool(_) | ExtractedValue::Null => None,
        }
    }
}

impl fmt::Display for ExtractedValue {
    /// The text form used for dimension values and `extractedValues`: strings as they are,
    /// numbers in JSON form, `true`/`false`, `null`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractedValue::Text(s) => f.write_str(s),
            ExtractedValue::Number(n) => write!(f, "{n}"),
            ExtractedValue::Bool(b) => write!(f, "{b}"),
            ExtractedValue::Null => f.write_str("null"),
        }
    }
}

/// A metric filter's reference to an event value (§6): `$.field…` for JSON patterns or
/// `$name` for space-delimited patterns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueSelector {
    /// `$.a.b[0]`.
    Json(JsonPath),
    /// `$name` — a named field of a space-delimited pattern (name without the `$`).
    Field(String),
}

impl ValueSelector {
    /// Parses `$.a.b[0]` or `$name` (name: letters, digits, `_`, `-`).
    ///
    /// # Errors
    /// [`PatternError::Syntax`] for anything else (a numeric literal such as `"1"` is not a
    /// selector: callers check for literals first).
    pub fn parse(text: &str) -> Result<ValueSelector, PatternError> {
        let t = text.trim();
        let offset = text.len() - text.trim_start().len();
        if t.starts_with("$.") || t.starts_with("$[") {
            return JsonPath::parse(text).map(ValueSelector::Json);
        }
        match t.strip_prefix('$') {
            Some(name)
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                Ok(ValueSelector::Field(name.to_string()))
            }
            _ => Err(PatternError::syntax(
                offset,
                SyntaxErrorKind::InvalidSelector {
                    reason: "expected $.field (JSON patterns) or $name (space-delimited patterns)",
                },
            )),
        }
    }
}

impl fmt::Display for ValueSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSelector::Json(p) => write!(f, "{p}"),
            ValueSelector::Field(n) => write!(f, "${n}"),
        }
    }
}

/// The result of a successful [`FilterPattern::extract`].
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    values: Vec<(String, ExtractedValue)>,
    json: Option<serde_json::Value>,
}

impl Extracted {
    /// `TestMetricFilter`'s `extractedValues`, in pattern order: `("$name", value)` for
    /// space-delimited patterns, `("$.a.b", value)` for JSON patterns (see
    /// [`FilterPattern::extract`]).
    pub fn values(&self) -> &[(String, ExtractedValue)] {
        &self.values
    }

    /// Resolves a selector against the match. `$name` looks up a space-delimited field;
    /// `$.a.b` resolves in the event JSON (any selector, not only those of the pattern).
    /// `None` when the value is missing or is an object/array.
    pub fn get(&self, selector: &ValueSelector) -> Option<ExtractedValue> {
        match selector {
            ValueSelector::Field(name) => self
                .values
                .iter()
                .find(|(k, _)| k.strip_prefix('$') == Some(name.as_str()))
                .map(|(_, v)| v.clone()),
            ValueSelector::Json(path) => {
                ExtractedValue::from_json(path.resolve(self.json.as_ref()?)?)
            }
        }
    }
}
