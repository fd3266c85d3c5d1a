//! Position tokens for paginated lists [I: AWS tokens are opaque; this format is ours].
//!
//! A token is the sort key of the last item of a page: the next page starts strictly after
//! it in the list's own order, so items created or deleted between calls never make an
//! item that exists throughout repeat or vanish (an offset would). The key is JSON, written
//! in hex after a prefix that names the list.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// `prefix` + the hex of `key`'s JSON.
pub(crate) fn encode<T: Serialize>(prefix: &str, key: &T) -> String {
    let json = serde_json::to_string(key).unwrap_or_default();
    let mut s = String::with_capacity(prefix.len() + 2 * json.len());
    s.push_str(prefix);
    for b in json.bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The key of a token made by [`encode`] with `prefix`; `None` for anything else.
pub(crate) fn decode<T: DeserializeOwned>(prefix: &str, token: &str) -> Option<T> {
    let hex = token.strip_prefix(prefix)?;
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    serde_json::from_slice(&bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let k = ("a/b".to_string(), "ünï".to_string());
        let t = encode("mf2:", &k);
        assert_eq!(decode::<(String, String)>("mf2:", &t), Some(k));
        assert_eq!(decode::<(String, String)>("da2:", &t), None);
        assert_eq!(
            decode::<(i64, u64)>("ah2:", &encode("ah2:", &(-3i64, 4u64))),
            Some((-3, 4))
        );
        for bad in ["", "mf2:", "mf2:7", "mf2:zz", "mf1:3", "mf2:5b5d"] {
            assert_eq!(decode::<(String, String)>("mf2:", bad), None, "{bad}");
        }
    }
}
