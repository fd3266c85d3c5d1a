//! "Did you mean …?" suggestions by edit distance.

/// Edit distance between two strings, compared case-insensitively (char-wise): insertions,
/// deletions, substitutions and swaps of two adjacent characters each count 1 (the optimal
/// string alignment distance). A swap (`stast` for `stats`) is a common typo, and plain
/// Levenshtein counted it 2, too far for a five-letter word to get a suggestion.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // three rows: before the previous one (for swaps), the previous one, the current one
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                d = d.min(before[j - 1] + 1);
            }
            cur[j + 1] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate within a distance of a third of the word's length (at least 1,
/// at most 3), or `None`. Ties go to the first candidate.
///
/// Failing that, the word read as an abbreviation: the shortest candidate, if only one is
/// that short, that starts with the word's first letter, holds all its letters in order and
/// is at most twice as long (`cnt` for `count`, `evtName` for `eventName`; QA, session 18:
/// `cnt(*)` got no suggestion). Words under two letters get none this way.
pub fn did_you_mean<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let len = word.chars().count();
    if len > 64 {
        return None;
    }
    let max = (len / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    // (length, candidate, whether another candidate is as short)
    let mut abbreviated: Option<(usize, &str, bool)> = None;
    for c in candidates {
        let d = edit_distance(word, c);
        if d <= max && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
        let c_len = c.chars().count();
        if best.is_none() && len >= 2 && c_len <= 2 * len && abbreviates(word, c) {
            abbreviated = match abbreviated {
                Some((l, _, _)) if c_len < l => Some((c_len, c, false)),
                Some((l, first, _)) if c_len == l && !first.eq_ignore_ascii_case(c) => {
                    Some((l, first, true))
                }
                None => Some((c_len, c, false)),
                kept => kept,
            };
        }
    }
    best.map(|(_, c)| c).or(match abbreviated {
        Some((_, c, false)) => Some(c),
        _ => None,
    })
}

/// Whether `word` could abbreviate `candidate` (case-insensitive): the same first letter,
/// then every letter of `word` in order among the candidate's.
fn abbreviates(word: &str, candidate: &str) -> bool {
    let mut rest = candidate.chars().flat_map(char::to_lowercase);
    let mut letters = word.chars().flat_map(char::to_lowercase);
    match (letters.next(), rest.next()) {
        (Some(a), Some(b)) if a == b => {}
        _ => return false,
    }
    letters.all(|l| rest.any(|c| c == l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        // a swap of adjacent letters counts one
        assert_eq!(edit_distance("stast", "stats"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("abc", "ca"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("FILTER", "filter"), 0);
        assert_eq!(
            did_you_mean("stast", ["stats", "sort", "fields"].into_iter()),
            Some("stats")
        );
        assert_eq!(
            did_you_mean("fitler", ["filter", "fields"].into_iter()),
            Some("filter")
        );
        assert_eq!(
            did_you_mean("COUNTT", ["count", "sum"].into_iter()),
            Some("count")
        );
        assert_eq!(did_you_mean("zzzzzz", ["count", "sum"].into_iter()), None);
        // abbreviations: the shortest candidate holding the letters in order
        assert_eq!(
            did_you_mean("cnt", ["concat", "count", "count_distinct"].into_iter()),
            Some("count")
        );
        assert_eq!(
            did_you_mean("evtName", ["eventSource", "eventName"].into_iter()),
            Some("eventName")
        );
        // not when two are as short, when the first letter differs, or too long
        assert_eq!(did_you_mean("cnt", ["count", "cnote"].into_iter()), None);
        assert_eq!(did_you_mean("nt", ["count"].into_iter()), None);
        assert_eq!(did_you_mean("cd", ["count_distinct"].into_iter()), None);
        // a close word still wins over an abbreviation
        assert_eq!(
            did_you_mean("sm", ["sortsFirst", "sum"].into_iter()),
            Some("sum")
        );
    }
}
