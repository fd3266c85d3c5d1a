//! No input can panic the front end: thousands of deterministic mutations of the corpus go
//! through parse, check, print and render. Also, whenever a mutant checks clean, its
//! canonical form must round-trip.

use ow_query_syntax::{analyze, parse, print, render, CheckConfig};

use crate::common::{queries, spec_examples};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const FRAGMENTS: &[&str] = &[
    "|",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "'",
    "`",
    "/",
    "\\",
    "#",
    "{{",
    "}}",
    "-",
    "*",
    ",",
    ".",
    ":",
    "=",
    "!=",
    "=~",
    "<=",
    " not ",
    " in ",
    " like ",
    " and ",
    " or ",
    " by ",
    " as ",
    "stats ",
    "filter ",
    "SOURCE ",
    "count(*)",
    "bin(",
    "5m",
    "0x",
    "1e",
    "é",
    "🦀",
    "\u{0}",
    "\n",
    "\t",
    "@",
    "@@",
    "..",
    "((((",
    "))))",
    "not not",
    "join left=a right=b where ",
];

fn char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut Rng, src: &str) -> String {
    let mut s = src.to_string();
    for _ in 0..1 + rng.below(3) {
        let a = char_boundary(&s, rng.below(s.len() + 1));
        let b = char_boundary(&s, a + rng.below(12));
        match rng.below(6) {
            0 => s.replace_range(a..b, ""),
            1 => s.insert_str(a, FRAGMENTS[rng.below(FRAGMENTS.len())]),
            2 => {
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            3 => s.truncate(a),
            4 => {
                let piece = s[a..b].to_string();
                s.replace_range(a..b, "");
                let c = char_boundary(&s, rng.below(s.len() + 1));
                s.insert_str(c, &piece);
            }
            _ => s.replace_range(a..b, FRAGMENTS[rng.below(FRAGMENTS.len())]),
        }
    }
    s
}

#[test]
fn mutated_corpus_never_panics() {
    let mut corpus: Vec<String> = queries("ok")
        .into_iter()
        .chain(queries("err"))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    corpus.extend(spec_examples());
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let config = CheckConfig::default();
    let mut clean = 0;
    const MUTANTS: usize = 6000;
    for i in 0..MUTANTS {
        let base = &corpus[i % corpus.len()];
        let src = mutate(&mut rng, base);
        let a = analyze(&src, &config);
        for d in &a.diagnostics {
            assert!(
                d.span.slice(&src).is_some(),
                "diagnostic span {:?} off char boundaries in {src:?}",
                d.span
            );
        }
        let _ = render(&src, &a.diagnostics);
        let printed = print(&a.query);
        let re = parse(&printed);
        let with_comments = ow_query_syntax::print_with_comments(&a.query, &src, &a.comments);
        if !a.has_errors() {
            clean += 1;
            let re2 = parse(&with_comments);
            assert_eq!(
                re2.query.as_ref(),
                Some(&a.query),
                "comment-keeping round trip of {src:?} via\n{with_comments}"
            );
            assert!(
                re.diagnostics.iter().all(|d| !d.is_error()),
                "canonical form of {src:?} fails:\n{printed}"
            );
            assert_eq!(
                re.query.as_ref(),
                Some(&a.query),
                "round trip of {src:?} via\n{printed}"
            );
        }
    }
    // the mutations must exercise both paths
    assert!(
        clean > 100 && clean < MUTANTS - 100,
        "{clean} of {MUTANTS} mutants were clean"
    );
}

/// Every prefix of every corpus query (what an editor sees while the user types) is
/// handled: no panic, every diagnostic span inside the text.
#[test]
fn every_prefix_is_handled() {
    let config = CheckConfig::default();
    let mut prefixes = 0;
    for path in queries("ok").into_iter().chain(queries("err")) {
        let src = std::fs::read_to_string(path).expect("readable");
        for (i, _) in src.char_indices() {
            let prefix = &src[..i];
            let a = analyze(prefix, &config);
            for d in &a.diagnostics {
                assert!(
                    d.span.slice(prefix).is_some(),
                    "span {:?} outside {prefix:?}",
                    d.span
                );
            }
            prefixes += 1;
        }
    }
    assert!(prefixes > 5_000, "{prefixes}");
}
