//! Adapter over `ow_storage::fields`: extraction of field paths from a JSON `@message`.

/// Extracts `paths` (flattened field paths, spec §3.2) from one `@message` with a single JSON
/// parse. Returns one value per path, in order: the field's text (JSON strings unescaped,
/// numbers as published, booleans `true`/`false`) or `None` when the event lacks the field, the
/// message is not a JSON object, or the value is null/object/array (CONTRACTS.md).
pub fn extract_paths(message: &str, paths: &[&str]) -> Vec<Option<String>> {
    fallback::extract(message, paths)
}

mod fallback {
    use serde_json::Value;

    pub fn extract(message: &str, paths: &[&str]) -> Vec<Option<String>> {
        let trimmed = message.trim_start();
        if !trimmed.starts_with('{') {
            return vec![None; paths.len()];
        }
        let Ok(v) = serde_json::from_str::<Value>(trimmed) else {
            return vec![None; paths.len()];
        };
        paths.iter().map(|p| lookup(&v, p)).collect()
    }

    fn lookup(v: &Value, path: &str) -> Option<String> {
        let mut cur = v;
        for seg in path.split('.') {
            let key = seg
                .strip_prefix('@')
                .filter(|k| k.starts_with('@'))
                .unwrap_or(seg);
            cur = match cur {
                Value::Object(m) => m.get(key)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        match cur {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}
