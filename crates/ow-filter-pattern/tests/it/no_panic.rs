//! Parsing and matching never panic, on any input (COMMON.md: no panic on any input).

use ow_filter_pattern::packs::cis;
use ow_filter_pattern::{FilterPattern, LogMessage, ValueSelector};
use proptest::prelude::*;

/// Characters that matter to some family's grammar, plus a multibyte one.
const ALPHABET: &[char] = &[
    '{', '}', '[', ']', '(', ')', '$', '.', '=', '!', '<', '>', '&', '|', '"', '\\', '*', '%', '?',
    '-', ',', ' ', '\t', '\n', 'a', 'Z', '0', '9', '_', 'e', 'E', '+', '^', '#', '@', ':', 'I',
    'S', 'N', 'O', 'T', 'é', '€',
];

const SEEDS: &[&str] = &[
    "",
    "ERROR -ARGUMENTS ?WARN \"INTERNAL SERVER ERROR\"",
    "%\\d{1,3}\\.\\d{1,3}%",
    "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\" && $.actions[2] = \"nonmatch\" }",
    "{ $.SomeObject IS NULL && $.b NOT EXISTS && $.c IS TRUE }",
    "{ $.number[0] != 1e+3 || $.message = %bind: address% }",
    "[..., request=*.html*, status_code=4* || status_code = 410, bytes > 10]",
    "[w1!=ERROR && w1!=WARNING, w2 = %ERR.*%, ...]",
];

const MESSAGES: &[&str] = &[
    "",
    " ",
    "ERROR ARGUMENTS",
    "127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534",
    "{\"user\":{\"id\":1,\"email\":\"John.Stiles@example.com\"},\"actions\":[\"GET\"],\"number\":[1e3]}",
    "[1,2,[3]]",
    "{\"a\":",
    "\"unclosed [bracket é",
    "€ multibyte ü",
];

fn mutate(seed: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(kind, pos, ch) in edits {
        let c = ALPHABET[ch % ALPHABET.len()];
        let at = if chars.is_empty() {
            0
        } else {
            pos % (chars.len() + 1)
        };
        match kind % 3 {
            0 => chars.insert(at, c),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ if at < chars.len() => chars[at] = c,
            _ => chars.push(c),
        }
    }
    chars.into_iter().collect()
}

fn exercise(pattern: &str, extra_message: &str) {
    if let Ok(p) = FilterPattern::parse(pattern) {
        for m in MESSAGES.iter().copied().chain([extra_message, pattern]) {
            let msg = LogMessage::new(m);
            let matched = p.matches_message(&msg);
            let extracted = p.extract(m);
            assert_eq!(
                matched,
                extracted.is_some(),
                "pattern {pattern:?} message {m:?}"
            );
            if let Some(x) = extracted {
                for (_, v) in x.values() {
                    let _ = v.as_f64();
                }
            }
        }
    } else if let Err(e) = FilterPattern::parse(pattern) {
        assert!(e.is_user_error(), "{pattern:?}: {e}");
        let _ = e.to_string();
    }
    let _ = ValueSelector::parse(pattern);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(pattern in "\\PC{0,80}", message in "\\PC{0,80}") {
        exercise(&pattern, &message);
    }

    #[test]
    fn strings_over_the_grammar_alphabet(
        pattern in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..60),
        message in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..60),
    ) {
        let pattern: String = pattern.into_iter().collect();
        let message: String = message.into_iter().collect();
        exercise(&pattern, &message);
    }

    #[test]
    fn mutated_documented_patterns(
        seed in 0usize..(SEEDS.len() + 16),
        edits in proptest::collection::vec((0usize..3, 0usize..2000, 0usize..100), 1..6),
        message in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..40),
    ) {
        let seed = SEEDS.get(seed).copied().unwrap_or_else(|| {
            cis()[(seed - SEEDS.len()) % cis().len()].pattern
        });
        let pattern = mutate(seed, &edits);
        let message: String = message.into_iter().collect();
        exercise(&pattern, &message);
    }
}

#[test]
fn deep_nesting_and_long_inputs_are_errors_not_crashes() {
    let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(400), ")".repeat(400));
    assert!(FilterPattern::parse(&deep).is_err());
    let opts = ow_filter_pattern::PatternOptions {
        max_length_chars: 100_000,
        ..Default::default()
    };
    let very_deep = format!("{{ {}$.a = 1{} }}", "(".repeat(20_000), ")".repeat(20_000));
    assert!(FilterPattern::parse_with(&very_deep, &opts).is_err());
    let long_json = format!("{{ {} }}", vec!["$.a = 1"; 5000].join(" || "));
    let p = FilterPattern::parse_with(&long_json, &opts).expect("long but valid");
    assert!(p.matches("{\"a\":1}"));
    // A deeply nested event is just "not JSON" for serde_json's recursion limit.
    let deep_event = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let p = FilterPattern::parse("{ $[0] NOT EXISTS }").expect("parses");
    let _ = p.matches(&deep_event);
}
