//! Term patterns over unstructured text (filter-patterns.md §2).
//!
//! `ERROR` (contains), `ERROR ARGUMENTS` (all), `?ERROR ?ARGUMENTS` (any), `ERROR -ARGUMENTS`
//! (exclusion), `"INTERNAL SERVER ERROR"` (phrase) \[V\]. Mixed `?` and plain items follow the
//! CDK rendering \[I\]: every `?` item starts a new AND-group, the items after it (plain or `-`)
//! join that group, items before the first `?` form the first group, and the groups are ORed.

use crate::cursor::{pieces_to_text, Cursor};
use crate::error::{PatternError, SyntaxErrorKind};
use crate::TermMatching;

/// One term: literal text, case-sensitive.
#[derive(Debug, Clone)]
struct Term {
    text: String,
    /// The term starts / ends with a word character (letter, digit or `_`), so whole-term
    /// matching requires a boundary there.
    word_start: bool,
    word_end: bool,
}

impl Term {
    fn new(text: String) -> Term {
        let word_start = text.chars().next().is_some_and(is_word_char);
        let word_end = text.chars().next_back().is_some_and(is_word_char);
        Term {
            text,
            word_start,
            word_end,
        }
    }

    fn occurs_in(&self, message: &str, mode: TermMatching) -> bool {
        if self.text.is_empty() {
            return true;
        }
        match mode {
            TermMatching::Substring => message.contains(self.text.as_str()),
            TermMatching::WholeTerm => {
                let mut from = 0;
                while let Some(rel) = message.get(from..).and_then(|r| r.find(self.text.as_str())) {
                    let start = from + rel;
                    let end = start + self.text.len();
                    let before_ok = !self.word_start
                        || !message
                            .get(..start)
                            .and_then(|s| s.chars().next_back())
                            .is_some_and(is_word_char);
                    let after_ok = !self.word_end
                        || !message
                            .get(end..)
                            .and_then(|s| s.chars().next())
                            .is_some_and(is_word_char);
                    if before_ok && after_ok {
                        return true;
                    }
                    // Retry from the next character: occurrences may overlap.
                    let step = message
                        .get(start..)
                        .and_then(|s| s.chars().next())
                        .map_or(1, char::len_utf8);
                    from = start + step;
                }
                false
            }
        }
    }
}

/// Word characters for term syntax and term boundaries: Unicode letters and digits and `_`
/// \[I: AWS says "alphanumeric"; non-ASCII letters are accepted rather than rejected\].
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[derive(Debug, Clone, Default)]
struct Group {
    include: Vec<Term>,
    exclude: Vec<Term>,
}

/// A parsed term pattern: OR of AND-groups.
#[derive(Debug, Clone)]
pub(crate) struct TermPattern {
    groups: Vec<Group>,
}

impl TermPattern {
    /// Parses a term pattern starting at byte `start` of `src`.
    pub(crate) fn parse(src: &str, start: usize) -> Result<TermPattern, PatternError> {
        let mut cur = Cursor::new(src, start);
        let mut groups: Vec<Group> = Vec::new();
        loop {
            cur.skip_ws();
            if cur.at_end() {
                break;
            }
            let item_pos = cur.pos();
            let prefix = match cur.peek() {
                Some('?') => {
                    cur.bump();
                    Some('?')
                }
                Some('-') => {
                    cur.bump();
                    Some('-')
                }
                _ => None,
            };
            let text = match cur.peek() {
                Some('"') => {
                    let pieces = cur.quoted()?;
                    if cur.peek().is_some_and(|c| !c.is_whitespace()) {
                        return Err(cur.expected("whitespace after a quoted term"));
                    }
                    pieces_to_text(&pieces)
                }
                None => return Err(PatternError::syntax(item_pos, SyntaxErrorKind::MissingTerm)),
                Some(c) if c.is_whitespace() => {
                    return Err(PatternError::syntax(item_pos, SyntaxErrorKind::MissingTerm))
                }
                Some(_) => {
                    let bare = cur.take_while(|c| !c.is_whitespace());
                    if !bare.chars().all(is_word_char) {
                        return Err(PatternError::syntax(
                            item_pos,
                            SyntaxErrorKind::InvalidTermCharacter {
                                term: src.get(item_pos..cur.pos()).unwrap_or(bare).to_string(),
                            },
                        ));
                    }
                    bare.to_string()
                }
            };
            let term = Term::new(text);
            if prefix == Some('?') || groups.is_empty() {
                groups.push(Group::default());
            }
            if let Some(group) = groups.last_mut() {
                if prefix == Some('-') {
                    group.exclude.push(term);
                } else {
                    group.include.push(term);
                }
            }
        }
        Ok(TermPattern { groups })
    }

    pub(crate) fn matches(&self, message: &str, mode: TermMatching) -> bool {
        self.groups.iter().any(|g| {
            g.include.iter().all(|t| t.occurs_in(message, mode))
                && !g.exclude.iter().any(|t| t.occurs_in(message, mode))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        TermPattern::parse(p, 0)
            .unwrap()
            .matches(msg, TermMatching::WholeTerm)
    }

    #[test]
    fn whole_term_boundaries() {
        assert!(m("AUTHORIZED", "AUTHORIZED REQUEST"));
        assert!(!m("AUTHORIZED", "UNAUTHORIZED REQUEST"));
        assert!(m("AUTHORIZED", "UNAUTHORIZED then AUTHORIZED"));
        assert!(m("ERROR", "[ERROR] disk"));
        assert!(!m("ERROR", "ERRORS"));
        assert!(!m("ERROR", "MY_ERROR"));
        assert!(m("\"a b a\"", "a b ab a b a"), "overlapping occurrence");
        assert!(m("\" \"", "a b"));
        assert!(!m("\" \"", "ab"));
        assert!(
            m("\"[ERROR]\"", "x[ERROR]y"),
            "non-word edges need no boundary"
        );
    }

    #[test]
    fn substring_mode() {
        let p = TermPattern::parse("AUTHORIZED", 0).unwrap();
        assert!(p.matches("UNAUTHORIZED", TermMatching::Substring));
    }

    #[test]
    fn groups() {
        assert!(m("?a b ?c d", "c d"));
        assert!(m("?a b ?c d", "a b"));
        assert!(!m("?a b ?c d", "a d"));
        assert!(m("-DEBUG", "INFO x"));
        assert!(!m("-DEBUG", "DEBUG x"));
    }
}
