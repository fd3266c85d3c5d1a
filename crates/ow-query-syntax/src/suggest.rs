//! "Did you mean …?" suggestions by edit distance.

/// Levenshtein distance between two strings, compared case-insensitively (char-wise).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate within a distance of a third of the word's length (at least 1,
/// at most 3), or `None`. Ties go to the first candidate.
pub fn did_you_mean<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let len = word.chars().count();
    if len > 64 {
        return None;
    }
    let max = (len / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(word, c);
        if d <= max && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("stast", "stats"), 2);
        assert_eq!(
            did_you_mean("fitler", ["filter", "fields"].into_iter()),
            Some("filter")
        );
        assert_eq!(
            did_you_mean("COUNTT", ["count", "sum"].into_iter()),
            Some("count")
        );
        assert_eq!(did_you_mean("zzzzzz", ["count", "sum"].into_iter()), None);
    }
}
