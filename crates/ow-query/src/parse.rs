//! The `parse` command (spec §4.9) as DataFusion UDFs, plus small helper UDFs the planner
//! needs (`to_text`, JSON array elements for `expand`/`unnest`).
//!
//! - Glob mode: each `*` captures. Semantics [I, our choice, following spec §4.9]: the pattern
//!   is searched anywhere in the value (unanchored), literal parts must appear in order, every
//!   `*` is lazy (shortest run that lets the rest match) except a final `*`, which runs to the
//!   end of the value. `*` also matches newlines.
//! - Regex mode: named groups `(?<name>…)` create fields; unanchored search; `multi` yields one
//!   row per match.
//! - A value that does not match keeps its row; the parsed fields are absent (null).
//!   With `multi` and no match the row is kept once with absent fields ([I], consistent with
//!   the non-`multi` rule).
//! - Extracted values are strings.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Builder, LargeStringBuilder, ListBuilder, StringArray, StringBuilder,
    StringViewArray, StructArray, UInt32Array,
};
use arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ScalarUDF, Volatility};
use regex::Regex;

use crate::udf::FnUdf;

/// Field of the element structs of `unnest`/`expand` ([`elements_udf`]) and `parse … multi`
/// ([`parse_multi_udf`]) holding the element's 0-based position in its list. `#` cannot
/// appear in a regex capture name, so it never clashes with a parsed field.
pub const ORDINAL: &str = "ord#";

/// Names of the named capture groups of `pattern`, in order (empty if it does not compile).
pub fn regex_group_names(pattern: &str) -> Vec<String> {
    match Regex::new(pattern) {
        Ok(re) => re.capture_names().flatten().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    }
}

/// Compiles a glob pattern (spec §4.9) to a regex with one group per `*`.
pub fn glob_regex(glob: &str) -> Result<Regex, regex::Error> {
    let stars = glob.matches('*').count();
    let mut re = String::from("(?s)");
    let mut seen = 0;
    for (i, part) in glob.split('*').enumerate() {
        if i > 0 {
            seen += 1;
            let last = seen == stars;
            if last && part.is_empty() {
                re.push_str("(.*)");
            } else {
                re.push_str("(.*?)");
            }
        }
        re.push_str(&regex::escape(part));
    }
    Regex::new(&re)
}

/// Converts any array to Utf8 text per [`crate::render`] (null stays null).
pub fn to_text_array(array: &dyn Array) -> StringArray {
    if let Some(s) = array.as_any().downcast_ref::<StringArray>() {
        return s.clone();
    }
    // Field paths are string views (`scan::scan_schema`): the same text, one copy.
    if array.data_type() == &DataType::Utf8View {
        if let Ok(c) = arrow::compute::cast(array, &DataType::Utf8) {
            if let Some(s) = c.as_any().downcast_ref::<StringArray>() {
                return s.clone();
            }
        }
    }
    (0..array.len())
        .map(|i| crate::render::value(array, i))
        .collect()
}

/// A text input of the parse functions: string views (field paths, see
/// `scan::scan_schema`) and `Utf8` are read in place, anything else is rendered to text
/// once ([`to_text_array`]).
enum TextColumn {
    Utf8(StringArray),
    View(StringViewArray),
}

impl TextColumn {
    fn new(array: &dyn Array) -> TextColumn {
        match array.as_any().downcast_ref::<StringViewArray>() {
            Some(v) => TextColumn::View(v.clone()),
            None => TextColumn::Utf8(to_text_array(array)),
        }
    }

    fn len(&self) -> usize {
        match self {
            TextColumn::Utf8(a) => a.len(),
            TextColumn::View(a) => a.len(),
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            TextColumn::Utf8(a) => a.is_null(i),
            TextColumn::View(a) => a.is_null(i),
        }
    }

    fn value(&self, i: usize) -> &str {
        match self {
            TextColumn::Utf8(a) => a.value(i),
            TextColumn::View(a) => a.value(i),
        }
    }
}

/// `ow_to_text(x) -> Utf8`: the rendered text of any value (null stays null).
pub fn to_text_udf() -> ScalarUDF {
    FnUdf::new(
        "ow_to_text",
        1,
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ArrayRef], _n| Ok(Arc::new(to_text_array(args[0].as_ref())) as ArrayRef)),
    )
}

fn struct_fields(names: &[String]) -> Fields {
    names
        .iter()
        .map(|n| Field::new(n, DataType::Utf8, true))
        .collect()
}

/// `<udf_name>(src) -> Struct{name: Utf8…}`: one struct field per capture name. Group `i + 1`
/// of `re` fills `names[i]` when `by_index`, otherwise the named group `names[i]`.
///
/// Fields such as `userAgent` repeat a few thousand values over millions of events, and a
/// regex search with captures costs several times a lookup. A string view input whose
/// views repeat (at most one distinct view per two rows; a promoted column has one view per
/// dictionary value) is parsed once per distinct view ([`ow_functions::distinct_views`]) and
/// the results are spread to the rows by `take`. Otherwise each batch keeps the match of
/// every distinct input it has seen ([`MatchMemo`]).
pub fn parse_udf(udf_name: &str, re: Regex, names: Vec<String>, by_index: bool) -> ScalarUDF {
    let fields = struct_fields(&names);
    let ret = DataType::Struct(fields.clone());
    // capture group index of each output field (None: the regex has no such group)
    let groups: Vec<Option<usize>> = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            if by_index {
                Some(k + 1).filter(|&g| g < re.captures_len())
            } else {
                re.capture_names().position(|c| c == Some(n.as_str()))
            }
        })
        .collect();
    FnUdf::new(
        udf_name,
        1,
        ret,
        Volatility::Immutable,
        Arc::new(move |args: &[ArrayRef], _n| {
            let text = TextColumn::new(args[0].as_ref());
            // A string view column whose values repeat (a promoted `userAgent` decoded from
            // its dictionary): parse each distinct view once, then spread the results.
            if let TextColumn::View(v) = &text {
                let len = v.len();
                let distinct = (len >= 64)
                    .then(|| ow_functions::distinct_views(v, len, len / 2))
                    .flatten();
                if let Some(d) = distinct {
                    let parsed = parse_rows(&re, &groups, &text, d.firsts.iter().copied());
                    let indices = UInt32Array::from(d.indices);
                    let cols = parsed
                        .iter()
                        .map(|c| arrow::compute::take(c.as_ref(), &indices, None))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(
                        Arc::new(StructArray::try_new(fields.clone(), cols, None)?) as ArrayRef
                    );
                }
            }
            let cols = parse_rows(&re, &groups, &text, 0..text.len());
            Ok(Arc::new(StructArray::try_new(fields.clone(), cols, None)?) as ArrayRef)
        }),
    )
}

/// Parses the rows `rows` of `text` with `re`: one Utf8 column per entry of `groups` (the
/// capture group that fills it), null where the row is null, the regex does not match or
/// the group did not take part.
fn parse_rows(
    re: &Regex,
    groups: &[Option<usize>],
    text: &TextColumn,
    rows: impl Iterator<Item = usize>,
) -> Vec<ArrayRef> {
    let mut builders: Vec<StringBuilder> = groups.iter().map(|_| StringBuilder::new()).collect();
    let mut locs = re.capture_locations();
    let mut memo = MatchMemo::default();
    // byte ranges of each field in the input; None: no match
    let mut spans: Vec<Option<(usize, usize)>> = vec![None; groups.len()];
    for i in rows {
        if text.is_null(i) {
            builders.iter_mut().for_each(|b| b.append_null());
            continue;
        }
        let v = text.value(i);
        let matched = match memo.get(v) {
            Some(found) => {
                spans.copy_from_slice(found);
                true
            }
            None => {
                let m = re.captures_read(&mut locs, v).is_some();
                for (span, g) in spans.iter_mut().zip(groups) {
                    *span = g.and_then(|g| locs.get(g)).filter(|_| m);
                }
                memo.insert(v, &spans);
                m
            }
        };
        for (b, span) in builders.iter_mut().zip(&spans) {
            b.append_option(span.filter(|_| matched).map(|(a, z)| &v[a..z]));
        }
    }
    builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect()
}

/// Per-batch memo of regex results by input text, for [`parse_udf`]. It gives up (and
/// stays off for the rest of the batch) when inputs hardly repeat, e.g. whole `@message`s:
/// after 512 lookups with fewer than a quarter of hits, or past 16,384 distinct inputs.
#[derive(Default)]
struct MatchMemo<'a> {
    // hashbrown's default hasher (foldhash, randomly seeded): SipHash was 9 % of a
    // `parse userAgent /…/ | stats … by` query
    map: datafusion::common::HashMap<&'a str, Vec<Option<(usize, usize)>>>,
    lookups: u32,
    hits: u32,
    off: bool,
}

impl<'a> MatchMemo<'a> {
    fn get(&mut self, v: &'a str) -> Option<&[Option<(usize, usize)>]> {
        if self.off {
            return None;
        }
        self.lookups += 1;
        if self.lookups == 512 && self.hits < 128 {
            self.off = true;
            self.map = Default::default();
            return None;
        }
        let found = self.map.get(v).map(Vec::as_slice);
        if found.is_some() {
            self.hits += 1;
        }
        found
    }

    fn insert(&mut self, v: &'a str, spans: &[Option<(usize, usize)>]) {
        if self.off {
            return;
        }
        if self.map.len() >= 16_384 {
            self.off = true;
            self.map = Default::default();
            return;
        }
        self.map.insert(v, spans.to_vec());
    }
}

/// `<udf_name>(src) -> List<Struct{name…}>`: every match of `re`; null when none.
pub fn parse_multi_udf(udf_name: &str, re: Regex, names: Vec<String>) -> ScalarUDF {
    let mut fields: Vec<Field> = struct_fields(&names)
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(ORDINAL, DataType::Int64, false));
    let fields = Fields::from(fields);
    let item = Field::new("item", DataType::Struct(fields.clone()), true);
    let ret = DataType::List(Arc::new(item.clone()));
    FnUdf::new(
        udf_name,
        1,
        ret,
        Volatility::Immutable,
        Arc::new(move |args: &[ArrayRef], _n| {
            let text = TextColumn::new(args[0].as_ref());
            let inner = arrow::array::StructBuilder::from_fields(fields.clone(), 0);
            let mut list = ListBuilder::new(inner).with_field(Arc::new(item.clone()));
            for i in 0..text.len() {
                if text.is_null(i) {
                    list.append(false);
                    continue;
                }
                let mut any = false;
                for (ord, caps) in re.captures_iter(text.value(i)).enumerate() {
                    any = true;
                    let sb = list.values();
                    for (k, n) in names.iter().enumerate() {
                        let b = sb.field_builder::<StringBuilder>(k).ok_or_else(|| {
                            DataFusionError::Internal("parse multi: field builder".into())
                        })?;
                        b.append_option(caps.name(n).map(|m| m.as_str()));
                    }
                    sb.field_builder::<Int64Builder>(names.len())
                        .ok_or_else(|| DataFusionError::Internal("parse multi: ordinal".into()))?
                        .append_value(ord as i64);
                    sb.append(true);
                }
                list.append(any);
            }
            Ok(Arc::new(list.finish()) as ArrayRef)
        }),
    )
}

/// Elements of a value for `unnest`/`expand` (spec §4.12), each as JSON text (the
/// `LargeUtf8` convention of CONTRACTS.md: maps/lists stay structured, a JSON scalar is read
/// as that scalar and renders unquoted). A JSON array gives its elements; any other JSON
/// value is a one-element list; JSON null gives `None` (no rows). Text that is not JSON gives
/// `None`, or with `non_json_as_one` a one-element list holding that string. Null elements
/// stay null.
pub fn json_elements(text: &str, non_json_as_one: bool) -> Option<Vec<Option<String>>> {
    use serde_json::Value;
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            return non_json_as_one.then(|| vec![Some(Value::String(text.to_string()).to_string())])
        }
    };
    let one = |v: &Value| -> Option<String> {
        match v {
            Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    match &v {
        Value::Array(items) => Some(items.iter().map(one).collect()),
        Value::Null => None,
        other => Some(vec![one(other)]),
    }
}

/// `<udf_name>(x) -> List<Struct{item: LargeUtf8, ord#: Int64}>`: the elements of
/// [`json_elements`] with their positions (0-based), which the planner keeps as a hidden
/// tie-breaker so that the records made from one event come out in list order.
///
/// With `non_json_as_one` (`unnest`), a plain string input (`Utf8`, `Utf8View`: an event
/// field, not a `jsonParse` value) is one element, the string itself, even when its text
/// looks like JSON: "Maps, strings and numbers are treated as a one-element list" (spec
/// §4.12 [V]). Structured values (`LargeUtf8` JSON text, CONTRACTS.md) give their elements.
pub fn elements_udf(udf_name: &str, non_json_as_one: bool) -> ScalarUDF {
    let fields = Fields::from(vec![
        Field::new("item", DataType::LargeUtf8, true),
        Field::new(ORDINAL, DataType::Int64, false),
    ]);
    let item = Field::new("item", DataType::Struct(fields.clone()), true);
    FnUdf::new(
        udf_name,
        1,
        DataType::List(Arc::new(item.clone())),
        Volatility::Immutable,
        Arc::new(move |args: &[ArrayRef], _n| {
            let plain = non_json_as_one
                && matches!(args[0].data_type(), DataType::Utf8 | DataType::Utf8View);
            let text = TextColumn::new(args[0].as_ref());
            let inner = arrow::array::StructBuilder::from_fields(fields.clone(), 0);
            let mut list = ListBuilder::new(inner).with_field(Arc::new(item.clone()));
            for i in 0..text.len() {
                let elems = if text.is_null(i) {
                    None
                } else if plain {
                    Some(vec![Some(
                        serde_json::Value::String(text.value(i).to_string()).to_string(),
                    )])
                } else {
                    json_elements(text.value(i), non_json_as_one)
                };
                match elems {
                    Some(v) => {
                        let sb = list.values();
                        for (ord, e) in v.into_iter().enumerate() {
                            sb.field_builder::<LargeStringBuilder>(0)
                                .ok_or_else(|| DataFusionError::Internal("unnest: item".into()))?
                                .append_option(e);
                            sb.field_builder::<Int64Builder>(1)
                                .ok_or_else(|| DataFusionError::Internal("unnest: ordinal".into()))?
                                .append_value(ord as i64);
                            sb.append(true);
                        }
                        list.append(true);
                    }
                    None => list.append(false),
                }
            }
            Ok(Arc::new(list.finish()) as ArrayRef)
        }),
    )
}
