//! Field discovery: the Logs Insights fields of a `@message` — a JSON object flattened, or
//! the fields of an AWS text format (Lambda platform lines, Lambda runtime lines with a
//! JSON fragment, VPC flow logs; see [`aws`] for the shapes and the [I] choice of
//! recognising them by shape in every log group).
//!
//! Rules (spec `insights-language.md` §3.2 and CONTRACTS.md, shared by the engine's
//! per-row extraction, the flush-time column promotion, the field statistics and
//! GetLogRecord):
//!
//! * A message that is, after optional surrounding whitespace, one complete and valid
//!   JSON **object** has its keys as fields [V: "if `@message` is a JSON object, its keys
//!   become fields"]. A message starting with `{` that is not (a JSON array, an object
//!   followed by trailing text, invalid JSON) has none.
//! * Any other message has fields only if it has one of the [`aws`] text shapes; for a
//!   Lambda runtime line they are `@requestId` and the fields of its first JSON fragment (the first `{`,
//!   of at most [`MAX_FRAGMENT_ATTEMPTS`], that starts a complete JSON object; text after
//!   it is ignored) [V: "only for the first embedded JSON fragment"], flattened with the
//!   rules below. Plain text has none [V].
//! * Nested objects flatten with `.`; array elements become a zero-based numeric path
//!   segment: `requestParameters.instancesSet.items.0.instanceId` [V].
//! * Every scalar leaf (string, number, boolean, `null`) is one field, visited in
//!   depth-first document order; at most `max_fields` (AWS: 200, see
//!   [`DEFAULT_MAX_FIELDS`]) leaves become fields and later leaves are simply absent.
//!   [I] AWS does not document which 200 are kept; we chose depth-first document order
//!   (the spec's recommendation) and count `null` leaves toward the cap.
//! * Objects and arrays are not fields themselves; empty objects/arrays yield nothing [I].
//! * Values: strings unescaped, numbers as their exact published text (`1.688560107857E9`
//!   stays as written), booleans `true`/`false`. A `null` leaf is a field with no value:
//!   it reads as missing (CONTRACTS.md).
//! * A top-level key starting with `@` gets an extra `@` (`@timestamp` → `@@timestamp`)
//!   so it cannot shadow a system field (CONTRACTS.md). [I] Only the first path segment
//!   is renamed: a nested `a.@x` cannot collide with a system field.
//! * A key repeated inside one object: the first occurrence's value wins (document
//!   order); the leaves of every occurrence count toward the cap [I].
//! * Nesting deeper than [`MAX_DEPTH`] makes the message "not JSON" (no fields) instead of
//!   risking the stack on hostile input [I].
//!
//! Entry points: [`flatten`]/[`flatten_with`] (all fields, for promotion, statistics and
//! GetLogRecord) and [`PathExtractor::discovering`] (a fixed set of paths, one parse per
//! message, for the engine). [`PathExtractor::new`] is the JSON-only variant importers
//! use to read a time from JSON lines.
//!
//! ```
//! use ow_storage::fields::{flatten, PathExtractor, DEFAULT_MAX_FIELDS};
//!
//! let msg = r#"{"eventName":"AssumeRole","resources":[{"ARN":"arn:aws:iam::1:role/r"}],"n":1.50}"#;
//! let all = flatten(msg, DEFAULT_MAX_FIELDS).unwrap();
//! assert_eq!(all[1].0, "resources.0.ARN");
//! assert_eq!(all[2].1.as_text().as_deref(), Some("1.50"));
//!
//! let ex = PathExtractor::discovering(["n", "eventName", "missing"], DEFAULT_MAX_FIELDS);
//! let values = ex.extract(msg);
//! assert_eq!(values[0].as_deref(), Some("1.50"));
//! assert_eq!(values[1].as_deref(), Some("AssumeRole"));
//! assert_eq!(values[2], None);
//! ```

use crate::hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;

pub mod aws;

/// AWS's limit on fields extracted from one JSON event (spec §3.2 [V]: "no more than 200
/// log event fields"). Configurable through [`crate::StoreConfig::max_fields_per_event`].
pub const DEFAULT_MAX_FIELDS: usize = 200;

/// Maximum nesting depth of objects/arrays that is still parsed (see module docs) [I].
pub const MAX_DEPTH: usize = 256;

/// The value of one JSON scalar leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonScalar<'a> {
    /// A JSON string, unescaped (borrowed from the message when it has no escapes).
    String(Cow<'a, str>),
    /// A number, exactly as written in the message (borrowed), or computed by a text
    /// format's rules (owned, e.g. a Lambda `128 MB` as `128000000`).
    Number(Cow<'a, str>),
    /// `true` or `false`.
    Bool(bool),
    /// JSON `null`: the field exists for the 200-field cap but has no value.
    Null,
}

impl<'a> JsonScalar<'a> {
    /// The value as Logs Insights text (CONTRACTS.md): strings unescaped, numbers as
    /// published, booleans `true`/`false`, `None` for `null` (a missing value).
    pub fn as_text(&self) -> Option<Cow<'a, str>> {
        match self {
            JsonScalar::String(s) => Some(s.clone()),
            JsonScalar::Number(n) => Some(n.clone()),
            JsonScalar::Bool(true) => Some(Cow::Borrowed("true")),
            JsonScalar::Bool(false) => Some(Cow::Borrowed("false")),
            JsonScalar::Null => None,
        }
    }

    /// Whether the leaf is a JSON number (numbers stay numbers, spec §3.2).
    pub fn is_number(&self) -> bool {
        matches!(self, JsonScalar::Number(_))
    }
}

/// Which rule gave a message its fields (module docs, "Non-JSON AWS formats").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The message is one JSON object.
    Json,
    /// A Lambda `START`/`END`/`REPORT` platform line.
    LambdaPlatform,
    /// A Lambda runtime line: `@requestId` and the fields of its first JSON fragment.
    LambdaRuntime,
    /// A VPC flow log record in the default (version 2) format.
    VpcFlowLog,
}

/// At most this many `{` of a Lambda runtime line are tried as the start of its first JSON
/// fragment, bounding the work on hostile input [I].
pub const MAX_FRAGMENT_ATTEMPTS: usize = 16;

/// Discovers the fields of one message: a JSON object flattened (see module docs), or one
/// of the AWS text formats of [`aws`]. Returns the fields as `(path, value)` pairs in
/// document order, at most `max_fields` of them, or `None` when the message has no
/// discoverable fields (plain text, a JSON array, invalid JSON…). Never panics.
pub fn flatten(message: &str, max_fields: usize) -> Option<Vec<(String, JsonScalar<'_>)>> {
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::default();
    let ok = flatten_with(message, max_fields, |path, value| {
        // a path seen twice (a repeated key): the first value wins
        if seen.insert(path.to_owned()) {
            out.push((path.to_owned(), value));
        }
    });
    ok.then_some(out)
}

/// Like [`flatten`], but calls `sink(path, value)` for each field instead of allocating
/// a vector. A path repeated through a repeated key is passed again (callers keep the
/// first). For a JSON-object message the sink may be called before the parser finds that
/// the message is invalid JSON further on; the return value (`false` = no fields) is the
/// verdict, so callers that must not see fields of invalid messages should buffer.
/// Borrowed values (`Cow::Borrowed` strings and numbers) always point into `message`.
pub fn flatten_with<'a, F>(message: &'a str, max_fields: usize, mut sink: F) -> bool
where
    F: FnMut(&str, JsonScalar<'a>),
{
    discover(
        message,
        max_fields,
        &Selector::All,
        &mut |p: &PathCtx, v| sink(p.path, v),
    )
    .is_some()
}

/// [`flatten_with`] for JSON objects only: a message that is not one JSON object (the AWS
/// text formats included) has no fields here (`false`). For a JSON object the sink sees
/// exactly what [`flatten_with`] passes, in the same order, under the same cap.
pub fn flatten_json_with<'a, F>(message: &'a str, max_fields: usize, mut sink: F) -> bool
where
    F: FnMut(&str, JsonScalar<'a>),
{
    Parser::new(message, max_fields).run(&mut |p: &PathCtx, v| sink(p.path, v), &Selector::All)
}

/// [`flatten_json_with`] with the paths kept as nodes of `trie` instead of strings: the
/// sink gets `(node, path, value)`, where `node` names `path` in `trie` for as long as the
/// trie is not [`PathTrie::clear`]ed. Returns `None` when the trie is full
/// ([`PathTrie::MAX_NODES`]) before the message's paths all fit: the sink has then seen only
/// some fields, and the caller should parse with [`flatten_json_with`] instead (and clear the
/// trie). Otherwise the same verdict and the same fields in the same order as
/// [`flatten_json_with`].
pub(crate) fn flatten_json_with_trie<'a, F>(
    message: &'a str,
    max_fields: usize,
    trie: &mut PathTrie,
    mut sink: F,
) -> Option<bool>
where
    F: FnMut(u32, &str, JsonScalar<'a>),
{
    let mut parser = Parser::new(message, max_fields);
    parser.trie = Some(trie);
    let ok = parser.run(
        &mut |p: &PathCtx, v| sink(p.node, p.path, v),
        &Selector::All,
    );
    (!parser.overflow).then_some(ok)
}

/// The flattened paths a parser has met, as a tree: one node per path (`userIdentity`,
/// `userIdentity.arn`, `resources.0`…), so that a parse names a path by following one
/// child per key instead of building its string and hashing it (the lookup of each field's
/// path by its whole string was a tenth of an import's parse).
///
/// Events of one kind list their keys in the same order, so the child for a key is looked
/// for first right after the previous key's child ("the next key is the one that followed
/// last time"), then among all children.
#[derive(Debug)]
pub(crate) struct PathTrie {
    nodes: Vec<TrieNode>,
    /// (parent, hash of key) -> child, for keys not where the cursor predicts them.
    by_key: HashMap<(u32, u64), u32>,
    /// At most this many nodes ([`PathTrie::MAX_NODES`] but in tests).
    max_nodes: usize,
    /// At most this many bytes ([`PathTrie::MAX_BYTES`] but in tests).
    max_bytes: usize,
    /// Bytes of the nodes' keys and paths: at most [`PathTrie::MAX_BYTES`] before the
    /// trie is cleared (deep objects with long keys would otherwise hold a lot of text).
    bytes: usize,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie::with_max_nodes(PathTrie::MAX_NODES)
    }
}

#[derive(Debug, Default)]
struct TrieNode {
    /// The key (unescaped) that leads here from the parent; an array element's index.
    key: Box<str>,
    /// The parent node (the root's is itself).
    parent: u32,
    /// The flattened path, as [`flatten`] names it: made when a field is first reported
    /// here (a node on the way to fields keeps only its key: a path per node of a deep
    /// object would be quadratic in its depth).
    path: Option<Box<str>>,
    /// Object members' nodes, in first-seen order.
    keys: Vec<u32>,
    /// Array elements' nodes, by index.
    indexes: Vec<u32>,
    /// Where in `keys` the next key of the object being parsed is expected.
    cursor: u32,
    /// This node's place in its parent's `keys` (object members only).
    place: u32,
}

impl PathTrie {
    /// The root: the message's top-level object (the empty path).
    pub(crate) const ROOT: u32 = 0;
    /// At most this many nodes by default: a parse that would add more gives up (hostile
    /// input with new keys in every event must not grow the trie without bound).
    pub(crate) const MAX_NODES: usize = 1 << 17;
    /// At most this many bytes of keys and paths, likewise.
    pub(crate) const MAX_BYTES: usize = 16 << 20;

    /// An empty trie of at most `max_nodes` nodes.
    pub(crate) fn with_max_nodes(max_nodes: usize) -> Self {
        Self::with_limits(max_nodes, Self::MAX_BYTES)
    }

    /// An empty trie of at most `max_nodes` nodes and about `max_bytes` bytes of keys and
    /// paths.
    pub(crate) fn with_limits(max_nodes: usize, max_bytes: usize) -> Self {
        PathTrie {
            nodes: Vec::new(),
            by_key: HashMap::default(),
            max_nodes,
            max_bytes,
            bytes: 0,
        }
    }

    /// Bytes of keys and paths held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The path of `node` if a field was reported there, else "".
    #[cfg(test)]
    pub(crate) fn path(&self, node: u32) -> &str {
        self.nodes
            .get(node as usize)
            .and_then(|n| n.path.as_deref())
            .unwrap_or("")
    }

    /// The path of `node`, made from its keys on first use.
    fn leaf_path(&mut self, node: u32) -> &str {
        let i = node as usize;
        if i >= self.nodes.len() {
            return "";
        }
        if self.nodes[i].path.is_none() {
            // the keys from the top
            let mut chain = Vec::new();
            let mut n = node;
            while n != Self::ROOT {
                chain.push(n);
                n = self.nodes[n as usize].parent;
            }
            let mut path = String::new();
            for &c in chain.iter().rev() {
                let key = &self.nodes[c as usize].key;
                if self.nodes[c as usize].parent == Self::ROOT {
                    if key.starts_with('@') {
                        path.push('@');
                    }
                } else {
                    path.push('.');
                }
                path.push_str(key);
            }
            self.bytes += path.len();
            self.nodes[i].path = Some(path.into());
        }
        self.nodes[i].path.as_deref().unwrap_or("")
    }

    /// Drops every node: earlier node numbers mean nothing afterwards.
    pub(crate) fn clear(&mut self) {
        self.nodes.clear();
        self.by_key.clear();
        self.bytes = 0;
    }

    /// The number of nodes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the trie has no room for another node, or holds too much text.
    pub(crate) fn is_full(&self) -> bool {
        self.nodes.len() >= self.max_nodes || self.bytes >= self.max_bytes
    }

    fn key_hash(key: &str) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<crate::hash::FxHasher>::default().hash_one(key)
    }

    fn ensure_root(&mut self) {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode {
                path: Some("".into()),
                ..TrieNode::default()
            });
        }
    }

    fn start_object(&mut self, node: u32) {
        self.ensure_root();
        if let Some(n) = self.nodes.get_mut(node as usize) {
            n.cursor = 0;
        }
    }

    fn add(&mut self, parent: u32, key: &str) -> Option<u32> {
        if self.nodes.len() >= self.max_nodes || self.bytes + key.len() > self.max_bytes {
            return None;
        }
        let id = self.nodes.len() as u32;
        self.bytes += key.len();
        self.nodes.push(TrieNode {
            key: key.into(),
            parent,
            ..TrieNode::default()
        });
        Some(id)
    }

    /// The node of member `key` of the object at `parent`, added on first sight; `None`
    /// when full. (The root's members are the top-level keys, whose paths get another `@`
    /// before an `@`, spec §2.4: [`PathTrie::leaf_path`] applies that rule.)
    fn key_child(&mut self, parent: u32, key: &str) -> Option<u32> {
        self.ensure_root();
        let p = parent as usize;
        let cursor = self.nodes.get(p)?.cursor as usize;
        if let Some(&c) = self.nodes[p].keys.get(cursor) {
            if *self.nodes[c as usize].key == *key {
                self.nodes[p].cursor = cursor as u32 + 1;
                return Some(c);
            }
        }
        let h = Self::key_hash(key);
        if let Some(&c) = self.by_key.get(&(parent, h)) {
            if *self.nodes[c as usize].key == *key {
                self.nodes[p].cursor = self.nodes[c as usize].place + 1;
                return Some(c);
            }
            // a hash collision under one parent: look through the children
            if let Some(at) = self.nodes[p]
                .keys
                .iter()
                .position(|&k| *self.nodes[k as usize].key == *key)
            {
                self.nodes[p].cursor = at as u32 + 1;
                return Some(self.nodes[p].keys[at]);
            }
        }
        let c = self.add(parent, key)?;
        self.by_key.entry((parent, h)).or_insert(c);
        let place = self.nodes[p].keys.len() as u32;
        self.nodes[c as usize].place = place;
        let n = &mut self.nodes[p];
        n.keys.push(c);
        n.cursor = place + 1;
        Some(c)
    }

    /// The node of element `i` of the array at `parent`, added on first sight (elements
    /// come in order, so `i` is at most one past the known ones); `None` when full.
    fn index_child(&mut self, parent: u32, i: usize) -> Option<u32> {
        self.ensure_root();
        let p = parent as usize;
        if let Some(&c) = self.nodes.get(p)?.indexes.get(i) {
            return Some(c);
        }
        if i != self.nodes[p].indexes.len() {
            return None;
        }
        let c = self.add(parent, &i.to_string())?;
        self.nodes[p].indexes.push(c);
        Some(c)
    }
}

/// Which rule, if any, gives `message` fields (the same decision [`flatten`] makes, without
/// collecting the fields of a JSON object).
pub fn source_of(message: &str, max_fields: usize) -> Option<Source> {
    discover(
        message,
        max_fields,
        &Selector::All,
        &mut |_: &PathCtx, _| {},
    )
}

/// The one discovery routine behind [`flatten`], [`flatten_with`] and
/// [`PathExtractor::discovering`].
fn discover<'a>(
    message: &'a str,
    max_fields: usize,
    sel: &Selector<'_>,
    sink: &mut Sink<'_, 'a>,
) -> Option<Source> {
    let first = message
        .bytes()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first == Some(b'{') {
        let mut parser = Parser::new(message, max_fields);
        return parser.run(sink, sel).then_some(Source::Json);
    }
    match aws::shape(message)? {
        aws::Shape::Fields(source, fields) => {
            for (name, v) in fields.into_iter().take(max_fields) {
                if sel.wants(name) {
                    sink(
                        &PathCtx {
                            path: name,
                            node: NO_NODE,
                        },
                        v,
                    );
                }
            }
            Some(source)
        }
        aws::Shape::Runtime { request_id, from } => {
            const NAME: &str = "@requestId";
            if max_fields == 0 {
                return Some(Source::LambdaRuntime);
            }
            if sel.wants(NAME) {
                sink(
                    &PathCtx {
                        path: NAME,
                        node: NO_NODE,
                    },
                    JsonScalar::String(Cow::Borrowed(request_id)),
                );
            }
            let Some(rest) = message.get(from..) else {
                return Some(Source::LambdaRuntime);
            };
            for off in memchr::memchr_iter(b'{', rest.as_bytes()).take(MAX_FRAGMENT_ATTEMPTS) {
                let Some(frag) = rest.get(off..) else { break };
                let mut found: Vec<(String, JsonScalar<'a>)> = Vec::new();
                // the request id counts toward the cap
                let mut parser = Parser::new(frag, max_fields - 1);
                let ok = parser.run_prefix(
                    &mut |p: &PathCtx, v| found.push((p.path.to_owned(), v)),
                    sel,
                );
                if ok {
                    for (path, v) in found {
                        sink(
                            &PathCtx {
                                path: &path,
                                node: NO_NODE,
                            },
                            v,
                        );
                    }
                    break;
                }
            }
            Some(Source::LambdaRuntime)
        }
    }
}

/// Extracts a fixed set of field paths from messages with one parse per message, using
/// exactly the rules of [`flatten`] (same 200-field cap, same naming).
///
/// Subtrees that cannot contain a wanted path are only validated and counted (for the
/// field cap), never turned into path strings, so asking for 3 paths of a 2 KB
/// CloudTrail record is cheap.
#[derive(Debug, Clone)]
pub struct PathExtractor {
    paths: Vec<String>,
    index: HashMap<String, usize>,
    /// The paths and every proper prefix of them ending before a '.': what a walk must
    /// enter (one lookup per key instead of one per set).
    walked: HashSet<String>,
    max_fields: usize,
    discover: bool,
}

impl PathExtractor {
    /// Builds a **JSON-only** extractor for `paths` (flattened names exactly as a query
    /// names them, e.g. `userIdentity.arn`, `resources.0.ARN`, `@@timestamp`): a message
    /// that is not one JSON object has no fields, whatever its shape (importers use this to
    /// read a time from JSON lines). Duplicates are allowed and each position gets the
    /// value. `max_fields` is the per-event field cap.
    pub fn new<I, S>(paths: I, max_fields: usize) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::build(paths, max_fields, false)
    }

    /// Like [`PathExtractor::new`] but with the full field discovery of [`flatten`]: JSON
    /// objects and the AWS text formats (Lambda, VPC flow logs). This is what the query
    /// engine uses, so that it sees exactly the fields the flush promotes and counts.
    pub fn discovering<I, S>(paths: I, max_fields: usize) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::build(paths, max_fields, true)
    }

    fn build<I, S>(paths: I, max_fields: usize, discover: bool) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let paths: Vec<String> = paths.into_iter().map(Into::into).collect();
        let mut index = HashMap::default();
        let mut walked = HashSet::default();
        for (i, p) in paths.iter().enumerate() {
            index.entry(p.clone()).or_insert(i);
            walked.insert(p.clone());
            // every proper prefix ending before a '.' may be an object/array on the way
            for (pos, _) in p.match_indices('.') {
                walked.insert(p[..pos].to_owned());
            }
        }
        PathExtractor {
            paths,
            index,
            walked,
            max_fields,
            discover,
        }
    }

    /// The paths, in the order their values are returned.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Values of the paths for one message: `result[i]` is the text of `paths()[i]`, or
    /// `None` when the field is absent, `null`, an object/array, beyond the field cap, or
    /// the message has no fields (not a JSON object, or for [`PathExtractor::discovering`]
    /// not one of the AWS text formats either).
    pub fn extract<'a>(&self, message: &'a str) -> Vec<Option<Cow<'a, str>>> {
        let mut out = vec![None; self.paths.len()];
        self.extract_into(message, &mut out);
        out
    }

    /// Like [`PathExtractor::extract`] but writes into `out` (resized to `paths().len()`
    /// and reset to `None` first), so a caller can reuse one buffer per batch. Returns
    /// whether the message has fields (for [`PathExtractor::new`]: is a JSON object).
    pub fn extract_into<'a>(&self, message: &'a str, out: &mut Vec<Option<Cow<'a, str>>>) -> bool {
        out.clear();
        out.resize(self.paths.len(), None);
        if self.paths.is_empty() {
            return false;
        }
        let mut found: Vec<(usize, JsonScalar<'a>)> = Vec::new();
        let selector = Selector::Paths(&self.walked);
        let mut sink = |p: &PathCtx, v| {
            if let Some(&i) = self.index.get(p.path) {
                found.push((i, v));
            }
        };
        let ok = if self.discover {
            discover(message, self.max_fields, &selector, &mut sink).is_some()
        } else {
            Parser::new(message, self.max_fields).run(&mut sink, &selector)
        };
        if !ok {
            return false;
        }
        let mut taken = vec![false; self.paths.len()];
        for (i, v) in found {
            // first occurrence wins (even a null one)
            if !taken[i] {
                taken[i] = true;
                out[i] = v.as_text();
            }
        }
        // duplicate paths in the request share the first index
        if self.index.len() != self.paths.len() {
            for (i, p) in self.paths.iter().enumerate() {
                if let Some(&first) = self.index.get(p) {
                    if first != i {
                        out[i] = out[first].clone();
                    }
                }
            }
        }
        true
    }
}

// ---------------------------------------------------------------------------------------
// The parser: a strict, allocation-light recursive-descent JSON walker.

struct PathCtx<'p> {
    path: &'p str,
    /// The path's node in the parser's [`PathTrie`], or [`NO_NODE`] when it parses without
    /// one.
    node: u32,
}

/// [`PathCtx::node`] of a parser without a trie.
const NO_NODE: u32 = u32::MAX;

enum Selector<'s> {
    All,
    /// The paths and their prefixes ([`PathExtractor`]'s `walked`).
    Paths(&'s HashSet<String>),
}

impl Selector<'_> {
    /// Whether the value at `path` (a container or a leaf) must be walked with paths.
    fn wants(&self, path: &str) -> bool {
        match self {
            Selector::All => true,
            Selector::Paths(walked) => walked.contains(path),
        }
    }
}

/// Whether `s` holds a byte below 0x20: a raw control character, which a JSON string may
/// not contain (RFC 8259 §7). Eight bytes at a time: a word holds a byte below `n` (<= 128)
/// exactly when `(x - n·0x01…01) & !x & 0x80…80` is not zero ("hasless", Bit Twiddling
/// Hacks), and the words' terms can be OR-ed before the mask.
#[inline]
fn has_control(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = s.chunks_exact(8);
    let mut acc = 0u64;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        acc |= x.wrapping_sub(ONES * 0x20) & !x;
    }
    acc & HIGH != 0 || chunks.remainder().iter().any(|&b| b < 0x20)
}

/// The length of the plain run at the start of a JSON string's body `s`: the index of the
/// first `"`, `\\` or control character (< 0x20), or `None` when there is none. Eight bytes
/// at a time with the "haszero"/"hasless" word tests (see [`has_control`]): each test's
/// lowest flagged byte is a true hit (a false one only ever lies above a true one), so the
/// lowest flagged byte of the three is the answer.
#[inline]
fn plain_run_len(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(c) = s.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        let q = x ^ (ONES * u64::from(b'"'));
        let b = x ^ (ONES * u64::from(b'\\'));
        let hits = ((q.wrapping_sub(ONES) & !q)
            | (b.wrapping_sub(ONES) & !b)
            | (x.wrapping_sub(ONES * 0x20) & !x))
            & HIGH;
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s.get(i..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| i + p)
}

struct Parser<'a, 't> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    fields: usize,
    max_fields: usize,
    /// The current path, built key by key (without a trie).
    path: String,
    depth: usize,
    /// With a trie, the current path is a node of it instead of a string (see [`PathTrie`]).
    trie: Option<&'t mut PathTrie>,
    node: u32,
    /// The trie was full: some fields were not reported (the caller parses again without).
    overflow: bool,
}

type Sink<'s, 'a> = dyn FnMut(&PathCtx, JsonScalar<'a>) + 's;

impl<'a, 't> Parser<'a, 't> {
    fn new(src: &'a str, max_fields: usize) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            fields: 0,
            max_fields,
            path: String::new(),
            depth: 0,
            trie: None,
            node: PathTrie::ROOT,
            overflow: false,
        }
    }

    fn run(&mut self, sink: &mut Sink<'_, 'a>, sel: &Selector<'_>) -> bool {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return false;
        }
        if self.object(sink, sel, true, true).is_none() {
            return false;
        }
        self.skip_ws();
        self.pos == self.bytes.len()
    }

    /// Parses one JSON object at the start of the input and ignores what follows it (a
    /// JSON fragment embedded in a text line).
    fn run_prefix(&mut self, sink: &mut Sink<'_, 'a>, sel: &Selector<'_>) -> bool {
        if self.peek() != Some(b'{') {
            return false;
        }
        self.object(sink, sel, true, true).is_some()
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Parses a value at the current path. `walk` = build paths and report leaves.
    fn value(&mut self, sink: &mut Sink<'_, 'a>, sel: &Selector<'_>, walk: bool) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'{' => self.object(sink, sel, walk, false),
            b'[' => self.array(sink, sel, walk),
            b'"' => {
                let s = self.string()?;
                self.leaf(sink, walk, JsonScalar::String(s));
                Some(())
            }
            b't' => {
                self.literal(b"true")?;
                self.leaf(sink, walk, JsonScalar::Bool(true));
                Some(())
            }
            b'f' => {
                self.literal(b"false")?;
                self.leaf(sink, walk, JsonScalar::Bool(false));
                Some(())
            }
            b'n' => {
                self.literal(b"null")?;
                self.leaf(sink, walk, JsonScalar::Null);
                Some(())
            }
            b'-' | b'0'..=b'9' => {
                let n = self.number()?;
                self.leaf(sink, walk, JsonScalar::Number(Cow::Borrowed(n)));
                Some(())
            }
            _ => None,
        }
    }

    #[inline]
    fn leaf(&mut self, sink: &mut Sink<'_, 'a>, walk: bool, v: JsonScalar<'a>) {
        if self.fields < self.max_fields {
            self.fields += 1;
            if walk {
                let node = self.node;
                match self.trie.as_deref_mut() {
                    Some(trie) => sink(
                        &PathCtx {
                            path: trie.leaf_path(node),
                            node,
                        },
                        v,
                    ),
                    None => sink(
                        &PathCtx {
                            path: &self.path,
                            node: NO_NODE,
                        },
                        v,
                    ),
                }
            }
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn object(
        &mut self,
        sink: &mut Sink<'_, 'a>,
        sel: &Selector<'_>,
        walk: bool,
        top: bool,
    ) -> Option<()> {
        self.enter()?;
        self.pos += 1; // '{'
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Some(());
        }
        let base_len = self.path.len();
        let base_node = self.node;
        if walk {
            if let Some(trie) = self.trie.as_deref_mut() {
                trie.start_object(base_node);
            }
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            // child walking: only when still collecting fields and the path is wanted.
            // A repeated key is walked again; consumers keep the first value per path.
            let mut child_walk = walk && self.fields < self.max_fields;
            if child_walk {
                if let Some(trie) = self.trie.as_deref_mut() {
                    // the trie serves `Selector::All` only: every path is wanted
                    match trie.key_child(base_node, &key) {
                        Some(child) => self.node = child,
                        None => {
                            self.overflow = true;
                            child_walk = false;
                        }
                    }
                } else {
                    if !top {
                        self.path.push('.');
                    } else if key.starts_with('@') {
                        self.path.push('@');
                    }
                    self.path.push_str(&key);
                    child_walk = sel.wants(&self.path);
                }
            }
            self.value(sink, sel, child_walk)?;
            self.path.truncate(base_len);
            self.node = base_node;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, sink: &mut Sink<'_, 'a>, sel: &Selector<'_>, walk: bool) -> Option<()> {
        self.enter()?;
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            self.depth -= 1;
            return Some(());
        }
        let base_len = self.path.len();
        let base_node = self.node;
        let mut i: usize = 0;
        loop {
            let mut child_walk = walk && self.fields < self.max_fields;
            if child_walk {
                if let Some(trie) = self.trie.as_deref_mut() {
                    match trie.index_child(base_node, i) {
                        Some(child) => self.node = child,
                        None => {
                            self.overflow = true;
                            child_walk = false;
                        }
                    }
                } else {
                    use std::fmt::Write;
                    self.path.push('.');
                    let _ = write!(self.path, "{i}");
                    child_walk = sel.wants(&self.path);
                }
            }
            self.value(sink, sel, child_walk)?;
            self.path.truncate(base_len);
            self.node = base_node;
            i += 1;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        if self.bytes.get(self.pos..self.pos + lit.len())? == lit {
            self.pos += lit.len();
            Some(())
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        self.src.get(start..self.pos)
    }

    #[inline]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Parses a string starting at the opening quote; returns it unescaped.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // fast path: no escapes (most strings are short: one pass, no call)
        let rest = self.bytes.get(self.pos..)?;
        let off = plain_run_len(rest)?;
        if rest[off] < 0x20 {
            return None; // raw control character
        }
        self.pos += off;
        if self.bytes[self.pos] == b'"' {
            let s = self.src.get(start..self.pos)?;
            self.pos += 1;
            return Some(Cow::Borrowed(s));
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(self.src.get(start..self.pos)?);
        loop {
            let b = *self.bytes.get(self.pos)?;
            match b {
                b'"' => {
                    self.pos += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.pos += 1;
                    let e = *self.bytes.get(self.pos)?;
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes.get(self.pos..self.pos + 2)? != b"\\u" {
                                    return None;
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                            } else {
                                char::from_u32(hi)?
                            };
                            out.push(c);
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f => return None,
                _ => {
                    let rest = self.bytes.get(self.pos..)?;
                    let off = memchr::memchr2(b'"', b'\\', rest)?;
                    if has_control(&rest[..off]) {
                        return None;
                    }
                    out.push_str(self.src.get(self.pos..self.pos + off)?);
                    self.pos += off;
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.bytes.get(self.pos..self.pos + 4)?;
        let s = std::str::from_utf8(h).ok()?;
        let v = u32::from_str_radix(s, 16).ok()?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        self.pos += 4;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_runs_end_at_the_first_quote_backslash_or_control_character() {
        let naive = |s: &[u8]| s.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        for len in 0..20 {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![b'a'; len];
                    s[pos] = b;
                    assert_eq!(
                        plain_run_len(&s),
                        naive(&s),
                        "byte {b:#x} at {pos} of {len}"
                    );
                    // a second special byte after the first never moves the answer
                    if pos + 1 < len {
                        s[pos + 1] = b'"';
                        assert_eq!(plain_run_len(&s), naive(&s), "{s:?}");
                    }
                }
            }
        }
        for s in random_bytes(0x2545_F491_4F6C_DD1D, 50_000) {
            assert_eq!(plain_run_len(&s), naive(&s), "{s:?}");
        }
    }

    /// `n` pseudo-random byte strings of 16 to 23 bytes (xorshift64 from `seed`): words
    /// with bytes on both sides of every bound the word tests use, and borrows between them.
    fn random_bytes(seed: u64, n: usize) -> Vec<Vec<u8>> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()
                    .iter()
                    .chain(x.rotate_left(23).to_le_bytes().iter())
                    .chain(x.rotate_left(41).to_le_bytes()[..(x % 8) as usize].iter())
                    .copied()
                    .collect()
            })
            .collect()
    }

    #[test]
    fn control_characters_are_found_at_every_position() {
        for len in 0..20 {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![b'a'; len];
                    s[pos] = b;
                    assert_eq!(has_control(&s), b < 0x20, "byte {b:#x} at {pos} of {len}");
                }
            }
        }
        // words mixing bytes around the bound (0x1f, 0x20, 0x80, 0xff) and borrows; two
        // in three with their control bytes lifted, so that both answers occur
        for (k, s) in random_bytes(0x9E37_79B9_7F4A_7C15, 20_000)
            .into_iter()
            .enumerate()
        {
            let s: Vec<u8> = if k % 3 == 0 {
                s
            } else {
                s.iter()
                    .map(|&b| if b < 0x20 { b | 0x20 } else { b })
                    .collect()
            };
            assert_eq!(has_control(&s), s.iter().any(|&b| b < 0x20), "{s:?}");
        }
    }

    fn flat(msg: &str) -> Option<Vec<(String, Option<String>)>> {
        flatten(msg, DEFAULT_MAX_FIELDS).map(|v| {
            v.into_iter()
                .map(|(p, s)| (p, s.as_text().map(|c| c.into_owned())))
                .collect()
        })
    }

    #[test]
    fn nested_objects_and_arrays_flatten_with_dots_and_indexes() {
        let got = flat(r#"{"a":{"b":"x","c":[1,{"d":true}]},"e":null,"f":[],"g":{},"h":-0.5e3}"#)
            .unwrap();
        let want: Vec<(String, Option<String>)> = vec![
            ("a.b".into(), Some("x".into())),
            ("a.c.0".into(), Some("1".into())),
            ("a.c.1.d".into(), Some("true".into())),
            ("e".into(), None),
            ("h".into(), Some("-0.5e3".into())),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn numbers_keep_published_text_and_type() {
        let v = flatten(r#"{"t":1.688560107857E9,"s":"1"}"#, 200).unwrap();
        assert_eq!(
            v[0].1,
            JsonScalar::Number(Cow::Borrowed("1.688560107857E9"))
        );
        assert!(v[0].1.is_number());
        assert!(!v[1].1.is_number());
    }

    #[test]
    fn escapes_are_decoded_in_keys_and_values() {
        let got = flat(r#"{"k\"ey":"a\nb\u00e9\ud83d\ude00\/"}"#).unwrap();
        assert_eq!(got, vec![("k\"ey".into(), Some("a\nbé😀/".into()))]);
    }

    #[test]
    fn trie_paths_follow_key_order_changes_repeats_and_escapes() {
        let mut trie = PathTrie::default();
        let msgs = [
            r#"{"a":1,"b":{"c":2,"d":[3,{"e":4}]},"@t":5}"#,
            r#"{"b":{"d":[6],"c":7},"a":8,"x":{"c":9}}"#,
            r#"{"a":1,"a":{"b":2},"b\u0063":3,"bc":4,"@@u":5,"":6,"q":{"":7}}"#,
            r#"{"b":{"c":2,"d":[3,{"e":4},5]},"a":1}"#,
        ];
        for msg in msgs {
            let mut want = Vec::new();
            assert!(flatten_json_with(msg, 200, |p, v| want.push((p.to_owned(), v.as_text()))));
            let mut got = Vec::new();
            let mut nodes = Vec::new();
            let ok = flatten_json_with_trie(msg, 200, &mut trie, |n, p, v| {
                got.push((p.to_owned(), v.as_text()));
                nodes.push(n);
            });
            assert_eq!(ok, Some(true), "{msg}");
            assert_eq!(got, want, "{msg}");
            for (n, (p, _)) in nodes.iter().zip(&got) {
                assert_eq!(trie.path(*n), p, "{msg}");
            }
        }
        assert_eq!(trie.path(PathTrie::ROOT), "");
    }

    #[test]
    fn at_keys_get_an_extra_at_only_at_top_level() {
        let got = flat(r#"{"@timestamp":"x","a":{"@b":1}}"#).unwrap();
        assert_eq!(got[0].0, "@@timestamp");
        assert_eq!(got[1].0, "a.@b");
    }

    #[test]
    fn non_objects_and_invalid_json_have_no_fields() {
        for m in [
            "",
            "plain text",
            "[1,2]",
            "\"s\"",
            "{\"a\":1} trailing",
            "{\"a\":1",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":tru}",
            "{a:1}",
            "{\"a\":1,}",
        ] {
            assert_eq!(flat(m), None, "{m:?}");
        }
        assert_eq!(flat("  {\"a\":1}\n").unwrap().len(), 1);
    }

    #[test]
    fn cap_counts_leaves_in_document_order() {
        let body: Vec<String> = (0..250).map(|i| format!("\"k{i}\":{i}")).collect();
        let msg = format!("{{{}}}", body.join(","));
        let v = flatten(&msg, 200).unwrap();
        assert_eq!(v.len(), 200);
        assert_eq!(v[199].0, "k199");
        let ex = PathExtractor::new(["k199", "k200"], 200);
        let got = ex.extract(&msg);
        assert_eq!(got[0].as_deref(), Some("199"));
        assert_eq!(got[1], None);
    }

    #[test]
    fn extractor_matches_flatten_and_counts_skipped_subtrees() {
        // 'big' has 3 leaves that count toward a cap of 4 even though not extracted
        let msg = r#"{"big":{"x":[1,2,3]},"a":"1","b":"2"}"#;
        let ex = PathExtractor::new(["a", "b", "big.x.1"], 4);
        let got = ex.extract(msg);
        assert_eq!(got[0].as_deref(), Some("1"));
        assert_eq!(got[1], None);
        assert_eq!(got[2].as_deref(), Some("2"));
    }

    #[test]
    fn duplicate_keys_first_wins_and_duplicate_requests_share() {
        let ex = PathExtractor::new(["a", "a"], 200);
        let got = ex.extract(r#"{"a":"first","a":"second"}"#);
        assert_eq!(got[0].as_deref(), Some("first"));
        assert_eq!(got[1].as_deref(), Some("first"));
        assert_eq!(flat(r#"{"a":"first","a":"second"}"#).unwrap().len(), 1);
    }

    #[test]
    fn deep_nesting_is_not_a_crash() {
        let msg = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(flat(&msg), None);
    }

    #[test]
    fn objects_and_arrays_are_not_values() {
        let ex = PathExtractor::new(["a", "a.b"], 200);
        let got = ex.extract(r#"{"a":{"b":[1]}}"#);
        assert_eq!(got, vec![None, None]);
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i32>().prop_map(|n| serde_json::json!(n)),
            "[a-c@.\\\"é ]{0,4}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[a-c@.]{0,3}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The engine's extraction and the flush's promotion see the same fields.
        #[test]
        fn extractor_agrees_with_flatten(v in json_value(), cap in 1usize..12) {
            let obj = serde_json::json!({"root": v, "z": 1});
            let msg = obj.to_string();
            let all = flatten(&msg, cap).unwrap();
            let mut first: Vec<(String, Option<String>)> = Vec::new();
            for (p, val) in &all {
                if !first.iter().any(|(q, _)| q == p) {
                    first.push((p.clone(), val.as_text().map(|c| c.into_owned())));
                }
            }
            let paths: Vec<&str> = first.iter().map(|(p, _)| p.as_str()).collect();
            let ex = PathExtractor::new(paths.clone(), cap);
            let got = ex.extract(&msg);
            for ((p, want), got) in first.iter().zip(got) {
                proptest::prop_assert_eq!(want.as_deref(), got.as_deref(), "path {}", p);
            }
            proptest::prop_assert!(all.len() <= cap);
        }

        /// Paths as trie nodes give the same fields as path strings, event after event of
        /// one trie, and a full trie gives up instead of reporting fewer fields.
        #[test]
        fn trie_paths_agree_with_path_strings(
            vs in proptest::collection::vec(json_value(), 1..6),
            cap in 1usize..40,
            max_nodes in 1usize..60,
        ) {
            let mut trie = PathTrie::with_max_nodes(max_nodes);
            for v in vs {
                let msg = serde_json::json!({"root": v, "@z": 1, "a": [v]}).to_string();
                let mut want: Vec<(String, Option<String>)> = Vec::new();
                let ok = flatten_json_with(&msg, cap, |p, v| {
                    want.push((p.to_owned(), v.as_text().map(|c| c.into_owned())));
                });
                let mut got: Vec<(u32, String, Option<String>)> = Vec::new();
                let res = flatten_json_with_trie(&msg, cap, &mut trie, |n, p, v| {
                    got.push((n, p.to_owned(), v.as_text().map(|c| c.into_owned())));
                });
                match res {
                    Some(got_ok) => {
                        proptest::prop_assert_eq!(got_ok, ok);
                        let got_fields: Vec<(String, Option<String>)> =
                            got.iter().map(|(_, p, v)| (p.clone(), v.clone())).collect();
                        proptest::prop_assert_eq!(&got_fields, &want);
                        for (n, p, _) in &got {
                            proptest::prop_assert_eq!(trie.path(*n), p.as_str());
                        }
                    }
                    None => {
                        proptest::prop_assert!(trie.is_full());
                        trie.clear();
                    }
                }
            }
        }

        #[test]
        fn never_panics_on_arbitrary_text(s in ".{0,200}") {
            let _ = flatten(&s, 200);
            let _ = PathExtractor::new(["a", "a.b"], 3).extract(&s);
        }

        #[test]
        fn agrees_with_serde_json_on_validity(s in "[{}\\[\\]\":,a-c0-9 .eE+\\-]{0,40}") {
            let ours = flatten(&s, 200).is_some();
            let theirs = matches!(serde_json::from_str::<serde_json::Value>(&s), Ok(serde_json::Value::Object(_)));
            proptest::prop_assert_eq!(ours, theirs);
        }
    }
}
