//! Runs `tests/conformance/*.fpt`: every example of spec/filter-patterns.md as data.
//!
//! Format: records separated by blank lines; `#` lines are comments. Keys (one per line,
//! `key: value`, exactly one space after the colon is dropped):
//! - `pattern:` the filter pattern (exactly one per record)
//! - `options:` comma list of `substring` (TermMatching::Substring), `strict-fields`
//!   (last_field_absorbs_rest = false), `no-coercion` (numeric_string_coercion = false)
//! - `match:` / `nomatch:` an event message (any number; a valid pattern needs at least one
//!   of each)
//! - `error:` the pattern must be rejected and the error text must contain this
//! - `extract:` a JSON object: the extracted values of the first `match:` message, as text

use std::path::Path;

use ow_filter_pattern::{FilterPattern, PatternOptions, TermMatching};

#[derive(Default)]
struct Record {
    line: usize,
    pattern: Option<String>,
    options: PatternOptions,
    matches: Vec<String>,
    nomatches: Vec<String>,
    error: Option<String>,
    extract: Option<serde_json::Map<String, serde_json::Value>>,
}

fn parse_file(path: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path).expect("read conformance file");
    let mut records = Vec::new();
    let mut rec: Option<Record> = None;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            records.extend(rec.take());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("{}:{lineno}: expected 'key: value'", path.display()));
        let value = value.strip_prefix(' ').unwrap_or(value).to_string();
        let r = rec.get_or_insert_with(|| Record {
            line: lineno,
            ..Record::default()
        });
        match key {
            "pattern" => {
                assert!(
                    r.pattern.is_none(),
                    "{}:{lineno}: two patterns",
                    path.display()
                );
                r.pattern = Some(value);
            }
            "options" => {
                for o in value.split(',').map(str::trim) {
                    match o {
                        "substring" => r.options.term_matching = TermMatching::Substring,
                        "strict-fields" => r.options.last_field_absorbs_rest = false,
                        "no-coercion" => r.options.numeric_string_coercion = false,
                        other => panic!("{}:{lineno}: unknown option {other}", path.display()),
                    }
                }
            }
            "match" => r.matches.push(value),
            "nomatch" => r.nomatches.push(value),
            "error" => r.error = Some(value),
            "extract" => {
                r.extract = Some(
                    serde_json::from_str(&value)
                        .unwrap_or_else(|e| panic!("{}:{lineno}: {e}", path.display())),
                )
            }
            other => panic!("{}:{lineno}: unknown key {other}", path.display()),
        }
    }
    records.extend(rec);
    records
}

#[test]
fn conformance_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("conformance dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "fpt"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in &files {
        for rec in parse_file(file) {
            let at = format!("{}:{}", file.display(), rec.line);
            let Some(pattern) = rec.pattern.as_deref() else {
                failures.push(format!("{at}: record without pattern"));
                continue;
            };
            checked += 1;
            let parsed = FilterPattern::parse_with(pattern, &rec.options);
            if let Some(expected) = &rec.error {
                match parsed {
                    Ok(_) => failures.push(format!(
                        "{at}: `{pattern}` parsed, expected error containing {expected:?}"
                    )),
                    Err(e) if !e.to_string().contains(expected.as_str()) => failures.push(format!(
                        "{at}: `{pattern}`: error {:?} does not contain {expected:?}",
                        e.to_string()
                    )),
                    Err(e) => assert!(e.is_user_error(), "{at}: {e}"),
                }
                continue;
            }
            let p = match parsed {
                Ok(p) => p,
                Err(e) => {
                    failures.push(format!("{at}: `{pattern}` failed to parse: {e}"));
                    continue;
                }
            };
            // The blank pattern matches every event, so it cannot have a non-matching one.
            let match_all = pattern.trim().is_empty();
            if rec.matches.is_empty() || (rec.nomatches.is_empty() && !match_all) {
                failures.push(format!(
                    "{at}: needs at least one match and one nomatch event"
                ));
            }
            for m in &rec.matches {
                if !p.matches(m) {
                    failures.push(format!("{at}: `{pattern}` should match {m:?}"));
                }
                if p.extract(m).is_none() {
                    failures.push(format!("{at}: `{pattern}` extract() disagrees on {m:?}"));
                }
            }
            for m in &rec.nomatches {
                if p.matches(m) {
                    failures.push(format!("{at}: `{pattern}` should not match {m:?}"));
                }
                if p.extract(m).is_some() {
                    failures.push(format!("{at}: `{pattern}` extract() disagrees on {m:?}"));
                }
            }
            if let (Some(expected), Some(first)) = (&rec.extract, rec.matches.first()) {
                let got: serde_json::Map<String, serde_json::Value> = p
                    .extract(first)
                    .map(|x| {
                        x.values()
                            .iter()
                            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.to_string())))
                            .collect()
                    })
                    .unwrap_or_default();
                if &got != expected {
                    failures.push(format!("{at}: extracted {got:?}, expected {expected:?}"));
                }
            }
        }
    }
    assert!(checked >= 60, "only {checked} conformance records found");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
