//! Walks a document tree the way sops does, encrypting or decrypting each
//! leaf with its key path as additional data and hashing the plaintext into
//! the MAC (`Tree.Encrypt` / `Tree.Decrypt` in sops.go).

use crate::error::Result;
use crate::sops::cipher::{is_encrypted, Cipher, Opened, Plain};
use crate::sops::error::SopsError;
use crate::sops::metadata::EncryptionRules;
use crate::sops::re2;
use crate::sops::rules::{check_one_rule_option, with_default_suffix};
use crate::sops::tree::{MapItem, Node, Scalar, SeqItem};
use regex::Regex;
use sha2::{Digest, Sha512};
use std::ops::{ControlFlow, Range};

/// The bytes a MAC with `mac_only_encrypted` starts from: sha256("sops").
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// The compiled form of a file's encryption rules.
pub struct Rules {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<Regex>,
    encrypted_regex: Option<Regex>,
    unencrypted_comment_regex: Option<Regex>,
    encrypted_comment_regex: Option<Regex>,
    mac_only_encrypted: bool,
}

/// Compiles a rule's regex with RE2's semantics (sops is written in Go). sops ignores a
/// pattern RE2 rejects and then matches nothing; we refuse it instead, so that what we
/// write never differs from what sops would read.
fn compile(name: &str, re: &Option<String>) -> Result<Option<Regex>> {
    match re.as_deref().filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => re2::compile(r).map(Some).map_err(|e| {
            SopsError::BadRegex {
                name: name.to_string(),
                pattern: r.to_string(),
                detail: e.to_string(),
            }
            .into()
        }),
    }
}

impl Rules {
    /// Compiles a file's rules as sops reads them: at most one what-to-encrypt option,
    /// and `_unencrypted` as the unencrypted suffix when there is none (a file whose
    /// metadata names no rule still decrypts with sops).
    pub fn new(r: &EncryptionRules) -> Result<Rules> {
        check_one_rule_option(r).map_err(|e| SopsError::BadFileRules(e.message))?;
        let r = &with_default_suffix(r.clone());
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Ok(Rules {
            unencrypted_suffix: nonempty(&r.unencrypted_suffix),
            encrypted_suffix: nonempty(&r.encrypted_suffix),
            unencrypted_regex: compile("unencrypted_regex", &r.unencrypted_regex)?,
            encrypted_regex: compile("encrypted_regex", &r.encrypted_regex)?,
            unencrypted_comment_regex: compile(
                "unencrypted_comment_regex",
                &r.unencrypted_comment_regex,
            )?,
            encrypted_comment_regex: compile(
                "encrypted_comment_regex",
                &r.encrypted_comment_regex,
            )?,
            mac_only_encrypted: r.mac_only_encrypted,
        })
    }

    /// sops' `shouldBeEncrypted`, rule by rule in the same order.
    fn should_encrypt(&self, path: &[String], comments: &[Vec<String>], is_comment: bool) -> bool {
        let mut enc = true;
        if let Some(sfx) = &self.unencrypted_suffix {
            if path.iter().any(|p| p.ends_with(sfx.as_str())) {
                enc = false;
            }
        }
        if let Some(sfx) = &self.encrypted_suffix {
            enc = path.iter().any(|p| p.ends_with(sfx.as_str()));
        }
        if let Some(re) = &self.unencrypted_regex {
            if path.iter().any(|p| re.is_match(p)) {
                enc = false;
            }
        }
        if let Some(re) = &self.encrypted_regex {
            enc = path.iter().any(|p| re.is_match(p));
        }
        if let Some(re) = &self.unencrypted_comment_regex {
            if comments.iter().flatten().any(|c| re.is_match(c)) {
                enc = false;
            }
        }
        if let Some(re) = &self.encrypted_comment_regex {
            let last_stack = comments.len().saturating_sub(1);
            let last_len = comments.last().map_or(0, Vec::len);
            enc = false;
            'outer: for (i, cs) in comments.iter().enumerate() {
                for (j, c) in cs.iter().enumerate() {
                    // The comment line that matches is itself not encrypted.
                    if is_comment && i == last_stack && j + 1 == last_len {
                        continue;
                    }
                    if re.is_match(c) {
                        enc = true;
                        break 'outer;
                    }
                }
            }
        }
        enc
    }
}

/// The hash over plaintext leaves that becomes a file's MAC.
pub struct Mac(MacSink);

/// Where [`Mac`] hashes.
enum MacSink {
    Here(Sha512),
    /// On a thread of its own, while the walk goes on (a large file: its MAC was a tenth
    /// of a decrypt, all of it on the walking thread). The bytes go to it in chunks, in
    /// the order the walk met them.
    Thread {
        chunk: zeroize::Zeroizing<Vec<u8>>,
        to_hasher: std::sync::mpsc::SyncSender<zeroize::Zeroizing<Vec<u8>>>,
        hasher: std::thread::JoinHandle<Sha512>,
    },
}

/// How many bytes [`Mac`] gathers before it hands them to its thread.
const MAC_CHUNK: usize = 64 * 1024;

impl Mac {
    /// `threaded`: hash on a thread of its own (worth it from thousands of values up);
    /// here when that thread cannot be started.
    fn new(rules: &Rules, threaded: bool) -> Mac {
        let mut h = Sha512::new();
        if rules.mac_only_encrypted {
            h.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        if !threaded {
            return Mac(MacSink::Here(h));
        }
        let here = h.clone();
        // A few chunks in flight at most: the walk never runs far ahead of the hash.
        let (to_hasher, chunks) = std::sync::mpsc::sync_channel::<zeroize::Zeroizing<Vec<u8>>>(4);
        let start = std::thread::Builder::new()
            .name("mac".into())
            .spawn(move || {
                for chunk in chunks {
                    h.update(&chunk[..]);
                }
                h
            });
        Mac(match start {
            Ok(hasher) => MacSink::Thread {
                chunk: zeroize::Zeroizing::new(Vec::with_capacity(MAC_CHUNK)),
                to_hasher,
                hasher,
            },
            Err(_) => MacSink::Here(here),
        })
    }

    fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            MacSink::Here(h) => h.update(bytes),
            MacSink::Thread {
                chunk, to_hasher, ..
            } => {
                // Handed over before it would grow: a reallocation would copy the
                // plaintext and leave the old copy in freed memory.
                if chunk.len() + bytes.len() > chunk.capacity() && !chunk.is_empty() {
                    let full = std::mem::replace(
                        chunk,
                        zeroize::Zeroizing::new(Vec::with_capacity(MAC_CHUNK.max(bytes.len()))),
                    );
                    // The thread stops only when this sender is gone (it cannot panic).
                    let _ = to_hasher.send(full);
                }
                if chunk.capacity() < bytes.len() {
                    // An empty chunk: nothing to copy, the old buffer is given back empty.
                    chunk.reserve_exact(bytes.len());
                }
                chunk.extend_from_slice(bytes);
            }
        }
    }

    /// The MAC as sops stores it: 128 uppercase hex characters.
    pub fn finish(self) -> String {
        let h = match self.0 {
            MacSink::Here(h) => h,
            MacSink::Thread {
                chunk,
                to_hasher,
                hasher,
            } => {
                let _ = to_hasher.send(chunk);
                drop(to_hasher);
                match hasher.join() {
                    Ok(h) => h,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        };
        hex::encode_upper(h.finalize())
    }
}

enum Mode<'a> {
    Encrypt(&'a mut Cipher),
    Decrypt(&'a mut Cipher),
}

/// A leaf as the walk meets it, borrowed from the input tree: a decrypted value is
/// built from its ciphertext, so the ciphertext is never copied.
#[derive(Clone, Copy)]
enum Leaf<'a> {
    Value(&'a Scalar),
    Comment(&'a str),
}

impl<'a> Leaf<'a> {
    fn to_plain(self) -> Plain {
        match self {
            Leaf::Value(s) => Plain::Value(s.clone()),
            Leaf::Comment(c) => Plain::Comment(c.to_string()),
        }
    }

    /// The leaf's text when it could be one of [`preopen`]'s values.
    fn enc_text(self) -> Option<&'a str> {
        match self {
            Leaf::Value(Scalar::Str(s)) => Some(s),
            Leaf::Comment(c) => Some(c),
            Leaf::Value(_) => None,
        }
    }
}

/// Where the walk stands in the tree.
#[derive(Default)]
struct Position {
    /// The keys from the document's root to the current value (list items add none).
    path: Vec<String>,
    /// For each map or list the walk is in, outermost first, the comments met in it since
    /// its last value: the comment rules of the values after them see them.
    comments: Vec<Vec<String>>,
}

impl Position {
    /// A value ends the run of comments before it: they do not apply to the values after it.
    fn end_comment_run(&mut self) {
        if let Some(last) = self.comments.last_mut() {
            last.clear();
        }
    }
}

struct Walk<'a, 'd> {
    rules: &'a Rules,
    mode: Mode<'a>,
    mac: Mac,
    /// Values opened ahead of the walk (on several threads), in document order.
    pre: std::vec::IntoIter<PreOpened<'d>>,
    pre_next: Option<PreOpened<'d>>,
    /// The additional data of every pre-opened value, one after the other.
    pre_aads: String,
}

/// One value [`preopen`] opened: which string it was (by address: every string of the
/// tree has its own buffer), at which path, and the outcome.
struct PreOpened<'d> {
    text: &'d str,
    /// Where its additional data is in [`Walk::pre_aads`].
    aad: Range<usize>,
    opened: Result<Option<Opened>>,
}

/// Below this many encrypted-looking values a file is decrypted on the calling thread
/// only: starting threads costs more than it saves (tens of microseconds each).
const PARALLEL_MIN_VALUES: usize = 2048;

fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

/// Whether `aad` is [`aad`]`(path)`, without building it.
fn aad_is(aad: &str, path: &[String]) -> bool {
    if path.is_empty() {
        return aad == ":";
    }
    let mut rest = aad;
    for key in path {
        match rest
            .strip_prefix(key.as_str())
            .and_then(|r| r.strip_prefix(':'))
        {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

impl<'d> Walk<'_, 'd> {
    /// What [`preopen`] found for `text`, if it opened this very string: the walk meets
    /// the strings in the order `preopen` listed them, so this only looks at the next one.
    fn take_pre(&mut self, text: &'d str) -> Option<PreOpened<'d>> {
        let next = self.pre_next.as_ref()?;
        if !std::ptr::eq(next.text, text) {
            return None;
        }
        std::mem::replace(&mut self.pre_next, self.pre.next())
    }

    /// Opens an encrypted value at `path`, with the result [`preopen`] made for it when
    /// there is one for the same string and path, then types and records it in order.
    fn open(
        cipher: &mut Cipher,
        pre: Option<PreOpened<'d>>,
        pre_aads: &str,
        value: &str,
        path: &[String],
    ) -> Result<Plain> {
        let accept = |cipher: &mut Cipher, opened: Option<Opened>, aad: &str| match opened {
            Some(o) => cipher.accept(o, aad),
            None => Ok(Plain::Value(Scalar::Str(String::new()))),
        };
        match pre {
            Some(p) if aad_is(&pre_aads[p.aad.clone()], path) => {
                accept(cipher, p.opened?, &pre_aads[p.aad])
            }
            _ => {
                let aad = aad(path);
                let opened = cipher.open(value, &aad)?;
                accept(cipher, opened, &aad)
            }
        }
    }

    fn hash(&mut self, encrypted: bool, plain: &Plain) {
        if let Plain::Value(v) = plain {
            if !matches!(v, Scalar::Null) && (!self.rules.mac_only_encrypted || encrypted) {
                match v {
                    // The common case, hashed in place (no copy per value).
                    Scalar::Str(s) => self.mac.update(s.as_bytes()),
                    _ => {
                        let (bytes, _) = plain.to_bytes();
                        self.mac.update(&bytes[..]);
                    }
                }
            }
        }
    }

    /// Handles one leaf; returns the new leaf (encrypted string or plaintext).
    fn leaf(&mut self, leaf: Leaf<'d>, at: &Position) -> Result<Plain> {
        let (path, comments) = (&at.path[..], &at.comments[..]);
        let is_comment = matches!(leaf, Leaf::Comment(_));
        let encrypted = self.rules.should_encrypt(path, comments, is_comment);
        // Taken for every leaf, used only when it is decrypted (a value the rules leave
        // in clear may still look encrypted; its result is dropped).
        let pre = leaf.enc_text().and_then(|t| self.take_pre(t));
        match &mut self.mode {
            Mode::Encrypt(cipher) => {
                let plain_or_enc = leaf.to_plain();
                let out = if encrypted {
                    let s = cipher.encrypt(&plain_or_enc, &aad(path))?;
                    if is_comment {
                        Plain::Comment(s)
                    } else {
                        Plain::Value(Scalar::Str(s))
                    }
                } else {
                    plain_or_enc.clone()
                };
                self.hash(encrypted, &plain_or_enc);
                Ok(out)
            }
            Mode::Decrypt(cipher) => {
                let out = if !encrypted {
                    leaf.to_plain()
                } else {
                    match leaf {
                        // sops keeps a comment that does not decrypt (older files).
                        Leaf::Comment(c) => Self::open(cipher, pre, &self.pre_aads, c, path)
                            .unwrap_or_else(|_| Plain::Comment(c.to_string())),
                        Leaf::Value(Scalar::Str(s)) => {
                            Self::open(cipher, pre, &self.pre_aads, s, path).map_err(|e| {
                                if is_encrypted(s) {
                                    e
                                } else {
                                    SopsError::NotEncrypted { at: path.join(".") }.into()
                                }
                            })?
                        }
                        Leaf::Value(other) => {
                            return Err(SopsError::PlainWhereEncrypted {
                                at: path.join("."),
                                type_name: other.type_name().to_string(),
                            }
                            .into())
                        }
                    }
                };
                self.hash(encrypted, &out);
                Ok(out)
            }
        }
    }

    fn node(&mut self, node: &'d Node, at: &mut Position) -> Result<Node> {
        match node {
            Node::Map(items) => Ok(Node::Map(self.items(items, at, Self::map_item)?)),
            Node::Seq(items) => Ok(Node::Seq(self.items(items, at, Self::seq_item)?)),
            Node::Scalar(Scalar::Null) => Ok(node.clone()),
            Node::Scalar(s) => match self.leaf(Leaf::Value(s), at)? {
                Plain::Value(v) => Ok(Node::Scalar(v)),
                Plain::Comment(c) => Ok(Node::Scalar(Scalar::Str(c))),
            },
        }
    }

    /// A comment of the map or list being walked: kept for the values after it (their
    /// comment rules see it), then passed through the cipher like a value.
    fn comment(&mut self, c: &'d str, at: &mut Position) -> Result<Plain> {
        if let Some(last) = at.comments.last_mut() {
            last.push(c.to_string());
        }
        self.leaf(Leaf::Comment(c), at)
    }

    /// Walks the items of one map or list in order, each with `step`, with a run of
    /// comments of its own (see [`Position::comments`]).
    fn items<I, O>(
        &mut self,
        items: &'d [I],
        at: &mut Position,
        mut step: impl FnMut(&mut Self, &'d I, &mut Position) -> Result<O>,
    ) -> Result<Vec<O>> {
        at.comments.push(Vec::new());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(step(self, item, at)?);
        }
        at.comments.pop();
        Ok(out)
    }

    fn map_item(&mut self, item: &'d MapItem, at: &mut Position) -> Result<MapItem> {
        match item {
            MapItem::Comment(c) => Ok(MapItem::Comment(match self.comment(c, at)? {
                Plain::Comment(c) => c,
                Plain::Value(Scalar::Str(s)) => s,
                Plain::Value(_) => return Err(SopsError::CommentDecryptedToValue.into()),
            })),
            MapItem::Entry(k, v) => {
                at.path.push(k.clone());
                let new = self.node(v, at);
                at.path.pop();
                at.end_comment_run();
                Ok(MapItem::Entry(k.clone(), new?))
            }
        }
    }

    fn seq_item(&mut self, item: &'d SeqItem, at: &mut Position) -> Result<SeqItem> {
        match item {
            // An encrypted comment in a list is written as a plain string item.
            SeqItem::Comment(c) => Ok(match self.comment(c, at)? {
                Plain::Comment(c)
                    if matches!(self.mode, Mode::Encrypt(_))
                        && crate::sops::cipher::is_encrypted(&c) =>
                {
                    SeqItem::Value(Node::Scalar(Scalar::Str(c)))
                }
                Plain::Comment(c) => SeqItem::Comment(c),
                Plain::Value(v) => SeqItem::Value(Node::Scalar(v)),
            }),
            SeqItem::Value(v) => {
                let new = match v {
                    Node::Scalar(s) if !matches!(s, Scalar::Null) => {
                        match self.leaf(Leaf::Value(s), at)? {
                            Plain::Comment(c) => SeqItem::Comment(c),
                            Plain::Value(v) => SeqItem::Value(Node::Scalar(v)),
                        }
                    }
                    other => SeqItem::Value(self.node(other, at)?),
                };
                at.end_comment_run();
                Ok(new)
            }
        }
    }

    fn docs(&mut self, docs: &'d [Node]) -> Result<Vec<Node>> {
        docs.iter()
            .map(|d| match d {
                Node::Map(_) => self.node(d, &mut Position::default()),
                _ => Err(SopsError::TopLevelNotMap.into()),
            })
            .collect()
    }
}

/// Calls `visit(keys, leaf)` for each leaf under `node`, in walk order; `keys` holds the
/// map keys above the leaf, each followed by `:` (the start of its additional data).
/// Stops as soon as `visit` breaks.
fn each_leaf<'d>(
    node: &'d Node,
    keys: &mut String,
    visit: &mut impl FnMut(&str, Leaf<'d>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match node {
        Node::Map(items) => {
            for item in items {
                match item {
                    MapItem::Comment(c) => visit(keys, Leaf::Comment(c))?,
                    MapItem::Entry(k, v) => {
                        let len = keys.len();
                        keys.push_str(k);
                        keys.push(':');
                        let flow = each_leaf(v, keys, visit);
                        keys.truncate(len);
                        flow?
                    }
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                match item {
                    SeqItem::Comment(c) => visit(keys, Leaf::Comment(c))?,
                    SeqItem::Value(v) => each_leaf(v, keys, visit)?,
                }
            }
        }
        Node::Scalar(v) => visit(keys, Leaf::Value(v))?,
    }
    ControlFlow::Continue(())
}

/// Whether `docs` hold at least `n` values and comments (leaves the walk hashes).
pub(crate) fn has_leaves(docs: &[Node], n: usize) -> bool {
    let mut left = n;
    let mut count = |_: &str, _: Leaf<'_>| {
        left = left.saturating_sub(1);
        if left == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let mut keys = String::new();
    for d in docs {
        if each_leaf(d, &mut keys, &mut count).is_break() {
            break;
        }
    }
    left == 0
}

/// Encrypts every leaf the rules select; returns the new documents and the MAC.
pub fn encrypt(docs: &[Node], rules: &Rules, cipher: &mut Cipher) -> Result<(Vec<Node>, String)> {
    // A large file's MAC is hashed beside the walk, as when decrypting; the core count
    // is asked only then (std reads the cgroup quota from /proc and /sys for it).
    let threaded = has_leaves(docs, PARALLEL_MIN_VALUES)
        && std::thread::available_parallelism().map_or(1, usize::from) >= 2;
    let mut w = Walk {
        rules,
        mode: Mode::Encrypt(cipher),
        mac: Mac::new(rules, threaded),
        pre: Vec::new().into_iter(),
        pre_next: None,
        pre_aads: String::new(),
    };
    let out = w.docs(docs)?;
    Ok((out, w.mac.finish()))
}

/// Decrypts every leaf the rules select; returns plaintext documents and the
/// MAC computed over them (to compare with the stored one).
pub fn decrypt(docs: &[Node], rules: &Rules, cipher: &mut Cipher) -> Result<(Vec<Node>, String)> {
    // Asked only for a file large enough to share out: std reads the cgroup's CPU
    // quota from /proc and /sys for it, which a small decrypt need not pay.
    let threads = || std::thread::available_parallelism().map_or(1, usize::from);
    decrypt_with_threads(docs, rules, cipher, threads)
}

/// [`decrypt`] on at most `threads()` threads. A file with thousands of values has them
/// authenticated and decrypted on several threads first ([`preopen`]); the walk then
/// types them, records their IVs and hashes the MAC in document order, exactly as it
/// does alone, so the result (and the first error reported) is the same.
fn decrypt_with_threads(
    docs: &[Node],
    rules: &Rules,
    cipher: &mut Cipher,
    threads: impl FnOnce() -> usize,
) -> Result<(Vec<Node>, String)> {
    let (pre, pre_aads) = preopen(docs, cipher, threads);
    // Values opened on several threads: the file is large and there are cores to share.
    let threaded = !pre.is_empty();
    let mut pre = pre.into_iter();
    let pre_next = pre.next();
    let mut w = Walk {
        rules,
        mode: Mode::Decrypt(cipher),
        mac: Mac::new(rules, threaded),
        pre,
        pre_next,
        pre_aads,
    };
    let out = w.docs(docs)?;
    // The walk met every string `preopen` listed, in the same order.
    debug_assert!(w.pre_next.is_none());
    Ok((out, w.mac.finish()))
}

/// Every string of `docs` that looks encrypted (`ENC[AES256_GCM,…`), in the order the
/// walk meets leaves, with where its additional data is in the returned string.
fn encrypted_strings(docs: &[Node]) -> (Vec<(&str, Range<usize>)>, String) {
    let mut strings = Vec::new();
    let mut aads = String::new();
    let mut keys = String::new();
    for d in docs.iter().filter(|d| matches!(d, Node::Map(_))) {
        let _ = each_leaf(d, &mut keys, &mut |keys, leaf| {
            if let Some(s) = leaf.enc_text().filter(|s| is_encrypted(s)) {
                let start = aads.len();
                aads.push_str(if keys.is_empty() { ":" } else { keys });
                strings.push((s, start..aads.len()));
            }
            ControlFlow::Continue(())
        });
    }
    (strings, aads)
}

/// Opens the encrypted-looking strings of a large file on up to `threads()` threads, each
/// a contiguous share in document order; nothing for a small file or one thread.
fn preopen<'d>(
    docs: &'d [Node],
    cipher: &Cipher,
    threads: impl FnOnce() -> usize,
) -> (Vec<PreOpened<'d>>, String) {
    let (jobs, aads) = encrypted_strings(docs);
    if jobs.len() < PARALLEL_MIN_VALUES {
        return (Vec::new(), String::new());
    }
    let threads = threads();
    if threads < 2 {
        return (Vec::new(), String::new());
    }
    let threads = threads
        .min(jobs.len() / (PARALLEL_MIN_VALUES / 2))
        .clamp(1, 16);
    let share = jobs.len().div_ceil(threads);
    let open = |chunk: &[(&'d str, Range<usize>)]| -> Vec<PreOpened<'d>> {
        chunk
            .iter()
            .map(|(text, aad)| PreOpened {
                opened: cipher.open(text, &aads[aad.clone()]),
                text,
                aad: aad.clone(),
            })
            .collect()
    };
    let out = std::thread::scope(|scope| {
        let mut chunks = jobs.chunks(share);
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks.map(|c| scope.spawn(|| open(c))).collect();
        let mut out = open(first);
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                // A thread that died (it cannot: open returns errors) opened nothing;
                // the walk opens those values itself.
                Err(_) => break,
            }
        }
        out
    });
    (out, aads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::cipher::new_data_key;

    fn doc() -> Node {
        crate::sops::formats::yaml::doc("# top\na: x\nn_unencrypted: 5\nl:\n    - true\n    # c\n")
    }

    #[test]
    fn leaves_are_counted_up_to_the_limit() {
        // The top comment, x, 5, true and the list's comment.
        let docs = [doc()];
        assert!(has_leaves(&docs, 5));
        assert!(!has_leaves(&docs, 6));
        assert!(has_leaves(&[doc(), doc()], 10));
        assert!(!has_leaves(&[doc(), doc()], 11));
    }

    #[test]
    fn the_mac_thread_hashes_what_the_walking_thread_would() {
        let rules = default_rules();
        // Values of many sizes, some larger than a chunk, one empty.
        let values: Vec<Vec<u8>> = (0..5000)
            .map(|i| match i % 1000 {
                7 => vec![b'x'; MAC_CHUNK + i],
                8 => Vec::new(),
                _ => format!("value {i}").into_bytes(),
            })
            .collect();
        let hash = |mut mac: Mac| {
            for v in &values {
                mac.update(v);
            }
            mac.finish()
        };
        let threaded = Mac::new(&rules, true);
        assert!(matches!(threaded.0, MacSink::Thread { .. }));
        let expected = hex::encode_upper(Sha512::digest(values.concat()));
        assert_eq!(hash(Mac::new(&rules, false)), expected);
        assert_eq!(hash(threaded), expected);
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_with_equal_macs() {
        let rules = default_rules();
        let mut c = Cipher::new(new_data_key());
        let (enc, mac1) = encrypt(&[doc()], &rules, &mut c).unwrap();
        assert_eq!(
            enc[0].get("n_unencrypted"),
            Some(&Node::Scalar(Scalar::Int(5)))
        );
        assert!(enc[0]
            .get("a")
            .and_then(Node::as_str)
            .unwrap()
            .starts_with("ENC["));
        let (dec, mac2) = decrypt(&enc, &rules, &mut c).unwrap();
        assert_eq!(dec[0], doc());
        assert_eq!(mac1, mac2);
        assert_eq!(mac1.len(), 128);
    }

    /// A document with thousands of values of every kind a walk meets: nested maps,
    /// lists, comments, typed values, and ENC-looking text the rules leave in clear.
    fn big_doc(n: usize) -> Node {
        let mut items = vec![MapItem::Comment(" head".into())];
        for i in 0..n {
            let v = match i % 5 {
                0 => Node::str(format!("value {i}")),
                1 => Node::Scalar(Scalar::Int(i as i64)),
                2 => Node::Seq(vec![
                    SeqItem::Value(Node::str(format!("item {i}"))),
                    SeqItem::Comment(format!(" c{i}")),
                    SeqItem::Value(Node::Scalar(Scalar::Bool(i % 2 == 0))),
                ]),
                3 => Node::Map(vec![
                    MapItem::Entry("x".into(), Node::str(format!("x{i}"))),
                    MapItem::Entry(
                        "y_unencrypted".into(),
                        Node::str("ENC[AES256_GCM,data:bm90,iv:bm90,tag:bm90,type:str]"),
                    ),
                ]),
                _ => Node::Scalar(Scalar::Null),
            };
            items.push(MapItem::Entry(format!("k{i}"), v));
        }
        Node::Map(items)
    }

    fn default_rules() -> Rules {
        Rules::new(&EncryptionRules {
            unencrypted_suffix: Some("_unencrypted".into()),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn decrypting_on_threads_matches_one_thread_and_keeps_ivs() {
        let rules = default_rules();
        let key = new_data_key();
        let docs = [big_doc(3000), big_doc(10)];
        let (enc, mac) = encrypt(&docs, &rules, &mut Cipher::new(key.clone())).unwrap();
        assert!(encrypted_strings(&enc).0.len() >= PARALLEL_MIN_VALUES);
        let mut one = Cipher::new(key.clone());
        let mut four = Cipher::new(key);
        let a = decrypt_with_threads(&enc, &rules, &mut one, || 1).unwrap();
        let b = decrypt_with_threads(&enc, &rules, &mut four, || 4).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0, docs);
        assert_eq!(a.1, mac);
        // Both ciphers stashed the same IVs: re-encrypting gives the same ciphertext,
        // that of the file for every value of the first document (the second repeats
        // some of its paths and values; the stash keeps the last IV of those).
        let (again_one, _) = encrypt(&a.0, &rules, &mut one).unwrap();
        let (again_four, _) = encrypt(&b.0, &rules, &mut four).unwrap();
        assert!(again_one == again_four);
        assert!(again_four[1] == enc[1]);
    }

    #[test]
    fn preopened_values_carry_the_walks_additional_data() {
        let rules = default_rules();
        let (enc, _) = encrypt(&[doc()], &rules, &mut Cipher::new(new_data_key())).unwrap();
        let (strings, aads) = encrypted_strings(&enc);
        let found: Vec<&str> = strings.iter().map(|(_, r)| &aads[r.clone()]).collect();
        // The top comment, "a", and the list's value and comment (no index in the path).
        assert_eq!(found, [":", "a:", "l:", "l:"]);
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for p in [&[][..], &["a"], &["a", "b"], &["", "x"], &["a:b"]] {
            assert!(aad_is(&aad(&path(p)), &path(p)), "{p:?}");
        }
        assert!(!aad_is("a:", &path(&["a", "b"])));
        assert!(!aad_is("a:b:", &path(&["a"])));
        assert!(!aad_is(":", &path(&["a"])));
        assert!(!aad_is("a", &path(&["a"])));
    }

    #[test]
    fn decrypting_on_threads_reports_the_first_bad_value_in_document_order() {
        let rules = default_rules();
        let key = new_data_key();
        let (mut enc, _) =
            encrypt(&[big_doc(3000)], &rules, &mut Cipher::new(key.clone())).unwrap();
        // Tamper with a late value, then with an early one: the early one is reported.
        for k in ["k2900", "k100"] {
            let Some(Node::Scalar(Scalar::Str(s))) = enc[0].get_mut(k) else {
                panic!("{k} is not an encrypted string");
            };
            let other = s.replace("type:str", "type:int");
            *s = other;
        }
        let one = decrypt_with_threads(&enc, &rules, &mut Cipher::new(key.clone()), || 1)
            .err()
            .unwrap();
        let four = decrypt_with_threads(&enc, &rules, &mut Cipher::new(key), || 4)
            .err()
            .unwrap();
        one.assert_says("k100");
        assert_eq!(one.message, four.message);
    }

    #[test]
    fn mac_only_encrypted_init_is_sha256_of_sops() {
        use sha2::Sha256;
        assert_eq!(Sha256::digest(b"sops")[..], MAC_ONLY_ENCRYPTED_INIT[..]);
    }
}
