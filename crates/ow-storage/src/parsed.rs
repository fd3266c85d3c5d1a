//! Fields parsed once at import, reused by the flush.
//!
//! `openwatch import` must parse every JSON line to find its time (`eventTime`) and to
//! reject invalid JSON; the flush that writes the line into a segment parses it again for
//! field discovery (spec `insights-language.md` §3.2: field statistics and promoted
//! columns). The two parses were about a third of an import's instructions. An importer can
//! instead flatten each event once, with the flush's own rules
//! ([`crate::fields::flatten_json_with`], the same field cap), and hand the leaves to
//! [`crate::Store::bulk_import_parsed`]: the store keeps them beside the buffer, by
//! `__seq`, and the flush's discovery reads them instead of parsing `@message`.
//!
//! The leaves are only an acceleration. An event without them (PutLogEvents, a text line,
//! a string with escapes, a flush retried after an error, compaction) is parsed at the
//! flush as before, and a segment is the same either way (a test compares the files).
//!
//! Shapes:
//! - a [`Leaf`] is one flattened field: a path id of the store's [`FieldNames`] and the
//!   byte range of its value's text inside `@message` (`len` = [`Leaf::NULL`] for `null`);
//! - [`ParsedLeaves`] holds the leaves of a run of events (an importer's batch of one log
//!   stream, then a log group's buffer).

use std::borrow::Cow;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::fields::{flatten_json_with_trie, JsonScalar, PathTrie};
use crate::hash::FxHashMap;

/// At most this many distinct paths get an id (hostile input with a new key in every event
/// must not grow the table without bound; ids fit a u16); events with other paths are
/// parsed at the flush.
pub const MAX_FIELD_NAMES: usize = 65_535;

/// One flattened field of an event, in 8 bytes: the path's id in [`FieldNames`] and its
/// value's text as a byte range of the event's `@message`. A value longer than
/// [`Leaf::MAX_LEN`] bytes has no leaf (its event is parsed at the flush).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// Byte offset of the value's text in `@message`.
    pub start: u32,
    /// Path id ([`FieldNames::id`]).
    pub path: u16,
    /// Byte length of the value's text; or [`Leaf::NULL`] for a JSON `null` (a field that
    /// counts, without a value), [`Leaf::TRUE`] or [`Leaf::FALSE`] for a boolean.
    pub len: u16,
}

impl Leaf {
    /// `len` of a `null` leaf.
    pub const NULL: u16 = u16::MAX;
    /// `len` of a `true` leaf.
    pub const TRUE: u16 = u16::MAX - 1;
    /// `len` of a `false` leaf.
    pub const FALSE: u16 = u16::MAX - 2;
    /// The longest value text a leaf holds, in bytes.
    pub const MAX_LEN: usize = u16::MAX as usize - 3;
}

/// The store-wide table of flattened field paths (`userIdentity.arn`, `resources.0.ARN`…)
/// that [`Leaf::path`] ids name. Append-only: an id never changes meaning. Shared by the
/// importer (which assigns ids) and the flush (which reads names), behind a mutex that each
/// side takes once per new path, not per event.
#[derive(Debug, Default)]
pub struct FieldNames {
    inner: Mutex<NamesInner>,
}

#[derive(Debug, Default)]
struct NamesInner {
    ids: FxHashMap<Arc<str>, u16>,
    names: Vec<Arc<str>>,
}

impl FieldNames {
    /// The id of `path`, assigned on first use; `None` once [`MAX_FIELD_NAMES`] paths have
    /// ids and `path` is not one of them.
    pub fn id(&self, path: &str) -> Option<u16> {
        let mut g = self.inner.lock();
        if let Some(&id) = g.ids.get(path) {
            return Some(id);
        }
        if g.names.len() >= MAX_FIELD_NAMES {
            return None;
        }
        let id = g.names.len() as u16;
        let name: Arc<str> = Arc::from(path);
        g.ids.insert(name.clone(), id);
        g.names.push(name);
        Some(id)
    }

    /// The path of id `id`, if assigned.
    pub fn name(&self, id: u16) -> Option<Arc<str>> {
        self.inner.lock().names.get(id as usize).cloned()
    }
}

/// Leaves of a run of events, in event order; an event may have none recorded ("not
/// parsed": the flush parses its `@message`), which differs from an event parsed to zero
/// fields (`{}`).
#[derive(Debug, Default, Clone)]
pub struct ParsedLeaves {
    /// Per event: (index of its first leaf, leaf count); count [`NOT_PARSED`] = none.
    spans: Vec<(u32, u32)>,
    leaves: Vec<Leaf>,
}

const NOT_PARSED: u32 = u32::MAX;

impl ParsedLeaves {
    /// Empty, with room for `events` events and `leaves` leaves (an importer sizes a batch
    /// from the previous one instead of growing, and copying, its vectors a dozen times).
    pub fn with_capacity(events: usize, leaves: usize) -> Self {
        ParsedLeaves {
            spans: Vec::with_capacity(events),
            leaves: Vec::with_capacity(leaves),
        }
    }

    /// Number of leaves recorded.
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// Appends the next event: its leaves in document order (every field the flush's
    /// flattening reports, repeated paths included), or `None` when it was not parsed.
    /// An event whose leaves no longer fit the u32 indexes is recorded as not parsed.
    pub fn push_event(&mut self, leaves: Option<&[Leaf]>) {
        let start = self.leaves.len();
        match leaves {
            Some(l) if start + l.len() < u32::MAX as usize && l.len() < NOT_PARSED as usize => {
                self.leaves.extend_from_slice(l);
                self.spans.push((start as u32, l.len() as u32));
            }
            _ => self.spans.push((0, NOT_PARSED)),
        }
    }

    /// Number of events recorded.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether no event is recorded.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The leaves of event `i`, `None` when it was not parsed or is out of range.
    pub fn event(&self, i: usize) -> Option<&[Leaf]> {
        let &(start, n) = self.spans.get(i)?;
        if n == NOT_PARSED {
            return None;
        }
        self.leaves.get(start as usize..start as usize + n as usize)
    }

    /// Bytes of the recorded spans and leaves (what the memory caps count).
    pub fn bytes(&self) -> usize {
        self.spans.len() * std::mem::size_of::<(u32, u32)>()
            + self.leaves.len() * std::mem::size_of::<Leaf>()
    }
}

/// An importer's one parse of a JSON event: its [`Leaf`]s for the store, and the values of
/// a few paths the importer needs itself (the time field, CloudTrail's account and region),
/// as [`crate::fields::PathExtractor::extract_into`] gives them (first occurrence wins,
/// even a `null`).
#[derive(Debug)]
pub struct LeafParser {
    names: Arc<FieldNames>,
    max_fields: usize,
    /// The paths whose values [`LeafParser::parse`] returns.
    wanted: Vec<String>,
    /// Per wanted path listed again: (its index, the index of its first listing).
    repeats: Vec<(usize, usize)>,
    /// Per path seen: (store id, index of the first equal wanted path or `u32::MAX`); for
    /// events parsed by path strings (when the trie is full).
    cache: FxHashMap<Box<str>, PathInfo>,
    /// The paths met so far, as a tree ([`PathTrie`]), and each node's [`PathInfo`].
    trie: PathTrie,
    by_node: Vec<Option<PathInfo>>,
    leaves: Vec<Leaf>,
    /// Whether `leaves` hold every field of the last event parsed.
    complete: bool,
    /// Fields the last event reported (at most `max_fields`).
    fields: usize,
    taken: Vec<bool>,
}

/// A path's store id ([`FieldNames::id`]) and the index of the first equal wanted path of a
/// [`LeafParser`] (`u32::MAX`: not wanted).
type PathInfo = (Option<u16>, u32);

fn path_info(names: &FieldNames, wanted: &[String], path: &str) -> PathInfo {
    let id = names.id(path);
    let want = wanted
        .iter()
        .position(|w| w == path)
        .map_or(u32::MAX, |i| i as u32);
    (id, want)
}

/// One event's state in [`LeafParser::parse`]; its buffers are the parser's, lent for the
/// event.
struct Event<'v, 'a> {
    values: &'v mut Vec<Option<Cow<'a, str>>>,
    leaves: Vec<Leaf>,
    taken: Vec<bool>,
    complete: bool,
    fields: usize,
}

impl<'v, 'a> Event<'v, 'a> {
    fn start(p: &mut LeafParser, values: &'v mut Vec<Option<Cow<'a, str>>>) -> Self {
        values.clear();
        values.resize(p.wanted.len(), None);
        let mut taken = std::mem::take(&mut p.taken);
        taken.clear();
        taken.resize(p.wanted.len(), false);
        let mut leaves = std::mem::take(&mut p.leaves);
        leaves.clear();
        Event {
            values,
            leaves,
            taken,
            complete: true,
            fields: 0,
        }
    }

    /// One field of the event: `info` is its path's, `base..end` the message's addresses.
    #[inline]
    fn field(&mut self, (id, want): PathInfo, base: usize, end: usize, v: JsonScalar<'a>) {
        self.fields += 1;
        let span = match &v {
            JsonScalar::Null => Some((0, Leaf::NULL)),
            JsonScalar::Bool(true) => Some((0, Leaf::TRUE)),
            JsonScalar::Bool(false) => Some((0, Leaf::FALSE)),
            JsonScalar::String(Cow::Borrowed(s)) | JsonScalar::Number(Cow::Borrowed(s)) => {
                let p = s.as_ptr() as usize;
                (p >= base && p + s.len() <= end && s.len() <= Leaf::MAX_LEN)
                    .then(|| (p - base, s.len() as u16))
            }
            _ => None,
        };
        match (id, span) {
            (Some(path), Some((start, len))) if self.complete => match u32::try_from(start) {
                Ok(start) => self.leaves.push(Leaf { start, path, len }),
                Err(_) => self.complete = false,
            },
            _ => self.complete = false,
        }
        if want != u32::MAX && !std::mem::replace(&mut self.taken[want as usize], true) {
            self.values[want as usize] = v.as_text();
        }
    }

    /// Gives the buffers back to `p` and records the verdict `ok` (a JSON object).
    fn finish(self, p: &mut LeafParser, ok: bool) -> bool {
        p.leaves = self.leaves;
        p.taken = self.taken;
        p.fields = self.fields;
        p.complete = ok && self.complete;
        ok
    }
}

/// Paths a [`LeafParser`] remembers (a bound for hostile input).
const MAX_CACHED_PATHS: usize = 2 * MAX_FIELD_NAMES;

impl LeafParser {
    /// A parser giving path ids from `names`, with the flush's field cap `max_fields`
    /// (`StoreConfig::max_fields_per_event`), returning the values of `wanted`.
    pub fn new(names: Arc<FieldNames>, max_fields: usize, wanted: Vec<String>) -> Self {
        let repeats = (0..wanted.len())
            .filter_map(|i| {
                let first = wanted[..i].iter().position(|w| *w == wanted[i])?;
                Some((i, first))
            })
            .collect();
        LeafParser {
            names,
            max_fields,
            taken: vec![false; wanted.len()],
            wanted,
            repeats,
            cache: FxHashMap::default(),
            trie: PathTrie::default(),
            by_node: Vec::new(),
            leaves: Vec::new(),
            complete: false,
            fields: 0,
        }
    }

    /// Flattens `message` ([`crate::fields::flatten_json_with`]). Returns whether it is a
    /// JSON object; `values[i]` is then the text of the `i`-th wanted path, or `None`.
    /// Unlike a [`crate::fields::PathExtractor`], this parse stops collecting at the field
    /// cap: when [`LeafParser::capped`], a missing value may lie beyond it.
    pub fn parse<'a>(&mut self, message: &'a str, values: &mut Vec<Option<Cow<'a, str>>>) -> bool {
        if self.trie.is_full() {
            self.trie.clear();
            self.by_node.clear();
        }
        let base = message.as_ptr() as usize;
        let end = base + message.len();
        let mut event = Event::start(self, values);
        let by_node = &mut self.by_node;
        let names = &self.names;
        let wanted = &self.wanted;
        let parsed =
            flatten_json_with_trie(message, self.max_fields, &mut self.trie, |node, path, v| {
                let slot = node as usize;
                if slot >= by_node.len() {
                    by_node.resize(slot + 1, None);
                }
                let hit = *by_node[slot].get_or_insert_with(|| path_info(names, wanted, path));
                event.field(hit, base, end, v);
            });
        let ok = match parsed {
            Some(ok) => event.finish(self, ok),
            None => {
                // the trie is full: this event by path strings, and a fresh trie next time
                event.finish(self, false);
                self.trie.clear();
                self.by_node.clear();
                let mut event = Event::start(self, values);
                let (names, wanted) = (&self.names, &self.wanted);
                let cache = &mut self.cache;
                let ok = crate::fields::flatten_json_with(message, self.max_fields, |path, v| {
                    let hit = match cache.get(path) {
                        Some(&hit) => hit,
                        None => {
                            let hit = path_info(names, wanted, path);
                            if cache.len() < MAX_CACHED_PATHS {
                                cache.insert(path.into(), hit);
                            }
                            hit
                        }
                    };
                    event.field(hit, base, end, v);
                });
                event.finish(self, ok)
            }
        };
        if ok {
            // a wanted path listed twice gets the value at both places
            for &(i, first) in &self.repeats {
                values[i] = values[first].clone();
            }
        }
        ok
    }

    /// The leaves of the last event [`LeafParser::parse`] accepted, `None` when some field
    /// cannot be a [`Leaf`] (a string with escapes, a path past [`MAX_FIELD_NAMES`]).
    pub fn leaves(&self) -> Option<&[Leaf]> {
        self.complete.then_some(&self.leaves[..])
    }

    /// Whether the last event reached the field cap.
    pub fn capped(&self) -> bool {
        self.fields >= self.max_fields
    }
}

/// A log group's parsed leaves by `__seq`, beside its buffer (see module docs): the runs
/// importers handed over, each covering consecutive sequence numbers, moved in, not copied.
#[derive(Debug, Default)]
pub(crate) struct ParsedBySeq {
    /// First `__seq` of each run, increasing.
    starts: Vec<u64>,
    runs: Vec<ParsedLeaves>,
    /// Σ [`ParsedLeaves::bytes`] of the runs.
    bytes: usize,
}

impl ParsedBySeq {
    /// Adds the leaves of the events with sequence numbers `first_seq..` (one per event of
    /// `leaves`), unless they would take the runs past `max_bytes` (many fields of a few
    /// bytes each cost more in leaves than in text: past the cap their events are parsed at
    /// the flush, as without leaves, and memory stays bounded). Runs must come in increasing
    /// order; one that overlaps the last is dropped too.
    pub fn add_run(&mut self, first_seq: u64, leaves: ParsedLeaves, max_bytes: usize) {
        if leaves.is_empty() || self.bytes + leaves.bytes() > max_bytes {
            return;
        }
        if let (Some(&s), Some(r)) = (self.starts.last(), self.runs.last()) {
            if first_seq < s.saturating_add(r.len() as u64) {
                return;
            }
        }
        self.bytes += leaves.bytes();
        self.starts.push(first_seq);
        self.runs.push(leaves);
    }

    /// The leaves of event `seq`, if recorded.
    pub fn get(&self, seq: u64) -> Option<&[Leaf]> {
        let k = self.starts.partition_point(|&s| s <= seq).checked_sub(1)?;
        let idx = usize::try_from(seq - self.starts[k]).ok()?;
        self.runs[k].event(idx)
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(path: u16) -> Leaf {
        Leaf {
            path,
            start: 1,
            len: 2,
        }
    }

    fn run(paths: &[Option<u16>]) -> ParsedLeaves {
        let mut p = ParsedLeaves::default();
        for x in paths {
            p.push_event(x.map(leaf).as_ref().map(std::slice::from_ref));
        }
        p
    }

    #[test]
    fn events_without_leaves_differ_from_events_with_none() {
        let mut p = ParsedLeaves::default();
        p.push_event(Some(&[leaf(0), leaf(1)]));
        p.push_event(None);
        p.push_event(Some(&[]));
        assert_eq!(p.len(), 3);
        assert_eq!(p.event(0), Some(&[leaf(0), leaf(1)][..]));
        assert_eq!(p.event(1), None);
        assert_eq!(p.event(2), Some(&[][..]));
        assert_eq!(p.event(3), None);
    }

    #[test]
    fn runs_are_found_by_sequence_number_and_gaps_read_as_not_parsed() {
        let mut s = ParsedBySeq::default();
        s.add_run(5, ParsedLeaves::default(), usize::MAX); // empty: nothing
        assert!(s.is_empty());
        s.add_run(7, run(&[Some(3), None]), usize::MAX);
        s.add_run(10, run(&[Some(4)]), usize::MAX);
        s.add_run(8, run(&[Some(9)]), usize::MAX); // overlaps: dropped
        s.add_run(11, run(&[Some(5), Some(6)]), usize::MAX);
        assert_eq!(s.get(7), Some(&[leaf(3)][..]));
        assert_eq!(s.get(6), None);
        assert_eq!(s.get(8), None);
        assert_eq!(s.get(9), None);
        assert_eq!(s.get(10), Some(&[leaf(4)][..]));
        assert_eq!(s.get(11), Some(&[leaf(5)][..]));
        assert_eq!(s.get(12), Some(&[leaf(6)][..]));
        assert_eq!(s.get(13), None);
        assert_eq!(s.get(0), None);
        assert_eq!(s.get(u64::MAX), None);
    }

    #[test]
    fn runs_past_the_memory_cap_are_not_kept() {
        let mut s = ParsedBySeq::default();
        let one = run(&[Some(1)]).bytes();
        s.add_run(0, run(&[Some(1)]), 2 * one);
        s.add_run(1, run(&[Some(2)]), 2 * one);
        s.add_run(2, run(&[Some(3)]), 2 * one); // over the cap: parsed at the flush
        assert_eq!(s.get(1), Some(&[leaf(2)][..]));
        assert_eq!(s.get(2), None);
    }

    /// A full trie makes the parser clear it and parse the event by path strings: every
    /// event still gets the leaves and values a parser with room gives.
    #[test]
    fn a_full_path_trie_falls_back_without_changing_leaves_or_values() {
        let names = Arc::new(FieldNames::default());
        let wanted = vec!["eventTime".to_owned(), "o.k3".to_owned(), "o.k3".to_owned()];
        let mut small = LeafParser::new(names.clone(), 200, wanted.clone());
        small.trie = PathTrie::with_max_nodes(24);
        let mut fallbacks = 0;
        for e in 0..60 {
            // shapes vary: 5 to 14 keys under "o", some per event, in rotating order
            let n = 5 + e % 10;
            let mut keys: Vec<String> = (0..n).map(|k| format!("\"k{k}\":{}", e * k)).collect();
            keys.rotate_left(e % n);
            keys.push(format!("\"x{}\":[1,{{\"y\":\"z\"}}]", e % 7));
            let msg = format!(
                "{{\"eventTime\":\"t{e}\",\"o\":{{{}}},\"@a\":null}}",
                keys.join(",")
            );
            let mut got = Vec::new();
            let before = small.trie.len();
            assert!(small.parse(&msg, &mut got), "{msg}");
            if small.trie.len() < before {
                fallbacks += 1;
            }
            // the reference: a new parser, a trie with room
            let mut fresh = LeafParser::new(names.clone(), 200, wanted.clone());
            let mut want = Vec::new();
            assert!(fresh.parse(&msg, &mut want));
            assert_eq!(got, want, "{msg}");
            assert_eq!(small.leaves(), fresh.leaves(), "{msg}");
            assert_eq!(small.leaves().map(<[Leaf]>::len), Some(n + 4), "{msg}");
            assert_eq!(got[0].as_deref(), Some(format!("t{e}").as_str()));
            assert_eq!(got[1], got[2]);
        }
        assert!(fallbacks > 0, "the trie never filled");
    }

    /// Deep objects with long keys: the trie holds each key once and a path only where a
    /// field is, and is cleared past its byte bound (a path per node was quadratic in the
    /// depth: 16 MB of such input took 1.7 GiB).
    #[test]
    fn deep_long_keys_stay_within_the_trie_byte_bound() {
        let names = Arc::new(FieldNames::default());
        let wanted = vec!["t".to_owned()];
        let mut p = LeafParser::new(names.clone(), 200, wanted.clone());
        let max_bytes = 400_000;
        p.trie = PathTrie::with_limits(PathTrie::MAX_NODES, max_bytes);
        let depth = 120;
        for e in 0..40 {
            let mut msg = format!("{{\"t\":\"{e}\"");
            for d in 0..depth {
                msg.push_str(&format!(",\"{}{e}x{d}\":{{\"v\":1", "k".repeat(300)));
            }
            msg.push_str(&"}".repeat(depth + 1));
            let mut got = Vec::new();
            assert!(p.parse(&msg, &mut got));
            // at most one event's keys (37 KB) and paths (120 fields' paths of up to 37 KB,
            // 2.2 MB: as long as the fields' names) past the bound, never 40 events' worth
            assert!(p.trie.bytes() < max_bytes + 2_500_000, "{}", p.trie.bytes());
            let mut fresh = LeafParser::new(names.clone(), 200, wanted.clone());
            let mut want = Vec::new();
            assert!(fresh.parse(&msg, &mut want));
            assert_eq!(got, want);
            assert_eq!(p.leaves(), fresh.leaves());
            assert_eq!(got[0].as_deref(), Some(e.to_string().as_str()));
        }
    }

    #[test]
    fn names_get_stable_ids_up_to_the_cap() {
        let n = FieldNames::default();
        assert_eq!(n.id("a.b"), Some(0));
        assert_eq!(n.id("c"), Some(1));
        assert_eq!(n.id("a.b"), Some(0));
        assert_eq!(n.name(1).as_deref(), Some("c"));
        assert_eq!(n.name(2), None);
        for i in 2..MAX_FIELD_NAMES {
            assert_eq!(n.id(&format!("k{i}")), Some(i as u16));
        }
        assert_eq!(n.id("one.more"), None);
        assert_eq!(n.id("c"), Some(1));
    }
}
