//! Reads YAML into the neutral tree the way sops 3.11 does: go-yaml v3
//! parses it into nodes with head/line/foot comments, and sops' store
//! flattens those comments into comment items of the enclosing map or list.
//!
//! This is our own reader for YAML's block and flow syntax. Comments are
//! placed with a model of go-yaml's scanner (`yaml_parser_scan_comments`):
//! a run of comment lines after some content is split into "foot" groups
//! (which stay with the content above) and a final "head" group (which goes
//! with the next key or item). A line comment moves before its entry, as
//! sops writes it. Anchors and aliases are expanded, as sops does.

use super::resolve::{parse_timestamp, resolve_plain, Resolved};
use crate::error::{Error, Result};
use crate::sops::error::{SopsError, YamlCause};
use crate::sops::formats::json::MAX_DEPTH;
use crate::sops::tree::{MapItem, Node, Scalar, SeqItem};
use std::collections::{HashMap, HashSet};

/// Up to this many keys, a map's duplicate check compares keys directly.
const SHORT_MAP: usize = 16;

/// Nodes that alias expansion may add to one stream. Every `*alias` copies
/// its anchored node, so anchors that alias each other twice grow the tree
/// exponentially ("billion laughs": 40 short lines would need terabytes).
/// go-yaml's decoder refuses such documents too ("excessive aliasing").
const MAX_ALIAS_NODES: usize = 100_000;

/// Parses a YAML stream into documents, keeping comments as items.
pub fn parse(input: &[u8]) -> Result<Vec<Node>> {
    let text = std::str::from_utf8(input).map_err(|e| SopsError::YamlNotUtf8(e.to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some((at, c)) = first_unprintable(text) {
        let line = text[..at].matches('\n').count() + 1;
        return Err(SopsError::YamlControlCharacter {
            code: u32::from(c),
            line,
        }
        .into());
    }
    // Most files have no carriage return: then the text is used as it is (the two
    // replacements copied a 4 MB file twice).
    let text = if text.as_bytes().contains(&b'\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let mut p = Parser::new(&text);
    p.stream()
}

/// The first character of `text` that go-yaml's reader refuses, with its byte offset.
/// ASCII text is checked in blocks without decoding characters (the common case, and a
/// tenth of a large decrypt when done character by character).
fn first_unprintable(text: &str) -> Option<(usize, char)> {
    let bytes = text.as_bytes();
    let mut clean = 0;
    for chunk in bytes.chunks(64) {
        // No short-circuit inside a block, so the compiler can vectorise it.
        let ok = chunk.iter().fold(true, |ok, &b| {
            ok & (matches!(b, b' '..=b'~') | (b == b'\t') | (b == b'\n') | (b == b'\r'))
        });
        if !ok {
            break;
        }
        clean += chunk.len();
    }
    // `clean` is at a character boundary: everything before it is ASCII.
    text[clean..]
        .char_indices()
        .find(|&(_, c)| !is_printable(c))
        .map(|(at, c)| (clean + at, c))
}

/// The characters go-yaml's reader accepts (YAML's printable set);
/// anything else fails with "control characters are not allowed".
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Map,
    Seq,
}

/// An open block collection: its indentation and the comments waiting to
/// be placed after its last item so far.
struct Frame {
    indent: i64,
    kind: FrameKind,
    pending: Vec<String>,
}

/// One comment line met between two tokens.
#[derive(Debug, Clone)]
struct GapComment {
    line: usize,
    col: i64,
    text: String,
}

#[derive(Debug, Clone)]
enum GapLine {
    Comment(GapComment),
    Blank,
}

/// Node properties: `&anchor` and `!tag`.
#[derive(Default, Debug, Clone)]
struct Props {
    anchor: Option<String>,
    tag: Option<String>,
}

/// The text being read, indexed by character.
enum Text<'t> {
    /// All ASCII (most files): a character index is a byte index, so the text is read
    /// in place, runs are found with `memchr` and copied as slices. (Decoding it into
    /// characters took four bytes of memory per byte of input, and the page faults
    /// for them were a fifth of a large decrypt.)
    Ascii(&'t str),
    /// Anything else, decoded once.
    Chars(Vec<char>),
}

impl Text<'_> {
    fn get(&self, i: usize) -> Option<char> {
        match self {
            Text::Ascii(t) => t.as_bytes().get(i).map(|&b| char::from(b)),
            Text::Chars(c) => c.get(i).copied(),
        }
    }

    /// The character at `i`, which the caller knows is in the text (`'\0'` otherwise,
    /// which no rule below matches: control characters were refused up front).
    fn at(&self, i: usize) -> char {
        self.get(i).unwrap_or('\0')
    }

    fn len(&self) -> usize {
        match self {
            Text::Ascii(t) => t.len(),
            Text::Chars(c) => c.len(),
        }
    }
}

struct Parser<'t> {
    s: Text<'t>,
    pos: usize,
    line: usize,
    line_start: usize,
    frames: Vec<Frame>,
    /// Head comments for whatever entry comes next, at any level.
    carry: Vec<String>,
    /// Anchored nodes with their size and height, for bounding aliases.
    anchors: HashMap<String, Anchored>,
    /// Line of the last content token, for telling foot from head comments.
    last_content_line: usize,
    /// Nodes being read around the current position, up to `MAX_DEPTH`:
    /// the parser, the emitter and the tree walkers all recurse.
    depth: usize,
    /// Nodes added by alias expansion so far, up to `MAX_ALIAS_NODES`.
    alias_nodes: usize,
    /// The next block node starts on the line of its map key (`key: …`), where YAML allows
    /// no block collection: `password: a: b` is an error, never a nested map.
    on_key_line: bool,
}

/// A node with an `&anchor`, and what copying it costs.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

/// The number of nodes in `node` (itself included) and its height (0 for a
/// scalar). Recursion is safe: the parser never builds trees deeper than
/// `MAX_DEPTH`.
fn extent(node: &Node) -> (usize, usize) {
    if let Node::Scalar(_) = node {
        return (1, 0);
    }
    node.children()
        .into_iter()
        .map(extent)
        .fold((1, 1), |(n, h), (cn, ch)| (n + cn, h.max(ch + 1)))
}

fn too_deep(line: usize) -> Error {
    SopsError::YamlTooDeep {
        max: MAX_DEPTH,
        line,
    }
    .into()
}

/// A character named in an error: syntax characters as themselves, anything else (it
/// may belong to a secret value) only as "a character" — errors name positions and
/// keys, never values.
pub(crate) fn shown_char(c: char) -> String {
    if "{}[],:#&*!|>'\"%@`-?\\".contains(c) {
        format!("'{c}'")
    } else {
        "a character".to_string()
    }
}

fn err_at(line: usize, col: i64, msg: impl std::fmt::Display) -> Error {
    syntax(line, col, msg, YamlCause::Other)
}

/// A syntax error at `line` and 0-based column `col`, of a kind that may matter for the
/// advice.
fn syntax(line: usize, col: i64, msg: impl std::fmt::Display, cause: YamlCause) -> Error {
    SopsError::YamlSyntax {
        line,
        column: col + 1,
        what: msg.to_string(),
        cause,
    }
    .into()
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Parser<'t> {
        if text.is_ascii() {
            Parser::over(Text::Ascii(text))
        } else {
            Parser::over(Text::Chars(text.chars().collect()))
        }
    }

    fn over(s: Text<'t>) -> Parser<'t> {
        Parser {
            s,
            pos: 0,
            line: 1,
            line_start: 0,
            frames: Vec::new(),
            carry: Vec::new(),
            anchors: HashMap::new(),
            last_content_line: 0,
            depth: 0,
            alias_nodes: 0,
            on_key_line: false,
        }
    }

    // ---- character helpers -------------------------------------------

    /// The index of the first of `a`, `b`, `c` at or after `from`, if any.
    fn find3(&self, from: usize, a: u8, b: u8, c: u8) -> Option<usize> {
        match &self.s {
            Text::Ascii(t) => {
                let bytes = t.as_bytes().get(from..)?;
                memchr::memchr3(a, b, c, bytes).map(|k| from + k)
            }
            Text::Chars(chars) => {
                let (a, b, c) = (char::from(a), char::from(b), char::from(c));
                chars
                    .get(from..)?
                    .iter()
                    .position(|&x| x == a || x == b || x == c)
                    .map(|k| from + k)
            }
        }
    }

    /// Appends the characters `from..to` (on one line) to `out`.
    fn push_run(&self, out: &mut String, from: usize, to: usize) {
        match &self.s {
            Text::Ascii(t) => out.push_str(&t[from..to]),
            Text::Chars(chars) => out.extend(&chars[from..to]),
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.s.get(self.pos + n)
    }

    fn col(&self) -> i64 {
        (self.pos - self.line_start) as i64
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.line_start = self.pos;
        }
        Some(c)
    }

    fn at_eof(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn is_blank_at(&self, n: usize) -> bool {
        matches!(self.peek_at(n), None | Some(' ' | '\t' | '\n'))
    }

    fn err(&self, msg: impl std::fmt::Display) -> Error {
        err_at(self.line, self.col(), msg)
    }

    fn err_because(&self, msg: impl std::fmt::Display, cause: YamlCause) -> Error {
        syntax(self.line, self.col(), msg, cause)
    }

    fn skip_inline_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// At column 0: `---` or `...` followed by a blank.
    fn at_doc_marker(&self) -> Option<&'static str> {
        if self.col() != 0 {
            return None;
        }
        for m in ["---", "..."] {
            let ok = m
                .chars()
                .enumerate()
                .all(|(i, c)| self.peek_at(i) == Some(c));
            if ok && self.is_blank_at(3) {
                return Some(m);
            }
        }
        None
    }

    /// Reads `# text` to the end of the line; returns the text after `#`.
    fn read_comment(&mut self) -> String {
        self.bump(); // '#'
        let mut t = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            t.push(c);
            self.bump();
        }
        t
    }

    /// After a token on the current line: spaces, then an optional line
    /// comment, then the line break. Returns the line comment.
    fn line_rest(&mut self) -> Result<Option<String>> {
        self.skip_inline_space();
        let mut comment = None;
        if self.peek() == Some('#') {
            let prev = self.pos.checked_sub(1).and_then(|i| self.s.get(i));
            if self.pos > self.line_start && !matches!(prev, Some(' ' | '\t')) {
                return Err(self.err("a comment must be separated from the value by a space"));
            }
            comment = Some(self.read_comment());
        }
        match self.peek() {
            None => Ok(comment),
            Some('\n') => {
                self.bump();
                Ok(comment)
            }
            Some(c) => Err(self.err(format!("unexpected {} after a value", shown_char(c)))),
        }
    }

    /// Skips blank lines and comment lines up to the next token (which
    /// must start a line). Returns what was skipped.
    fn gap(&mut self) -> Vec<GapLine> {
        let mut out = Vec::new();
        loop {
            if self.col() != 0 {
                // Already past the indentation of a token's line (a gap
                // scanned twice), or blanks after a token.
                self.skip_inline_space();
                if self.peek() == Some('\n') {
                    self.bump();
                    continue;
                }
                return out;
            }
            let start = self.pos;
            self.skip_inline_space();
            match self.peek() {
                None => {
                    if self.pos > start {
                        out.push(GapLine::Blank);
                    }
                    return out;
                }
                Some('\n') => {
                    self.bump();
                    out.push(GapLine::Blank);
                }
                Some('#') => {
                    let line = self.line;
                    let col = self.col();
                    let text = self.read_comment();
                    out.push(GapLine::Comment(GapComment { line, col, text }));
                    if self.peek() == Some('\n') {
                        self.bump();
                    }
                }
                Some(_) => return out,
            }
        }
    }

    /// The column of the next token, or -1 at the end of the document.
    fn next_token_col(&self) -> i64 {
        if self.at_eof() || self.at_doc_marker().is_some() {
            -1
        } else {
            self.col()
        }
    }

    /// Places the comments of a gap that follows some content, using the
    /// splitting rules of go-yaml's scanner. Foot groups go to open frames
    /// (they come after the content above), the final head group to
    /// `carry` (it comes before the next entry, wherever that is).
    fn place_gap(&mut self, gap: Vec<GapLine>) {
        if gap.iter().all(|g| matches!(g, GapLine::Blank)) {
            return;
        }
        let next_indent = self.frames.last().map_or(0, |f| f.indent.max(0));
        let foot_line = self.last_content_line + 1;
        let t_col = self.next_token_col();
        let mut first_empty = true;
        let mut recent_empty = false;
        let mut prior = true; // the first foot belongs to the prior token
        let mut cur: Vec<GapComment> = Vec::new();
        let mut seen_comment = false;
        for g in gap.into_iter().map(Some).chain(std::iter::once(None)) {
            match g {
                Some(GapLine::Blank) => {
                    if !seen_comment {
                        first_empty = false;
                        continue;
                    }
                    if !cur.is_empty() && !recent_empty {
                        let start_col = cur[0].col;
                        if first_empty && (cur[0].line == foot_line || start_col < next_indent) {
                            let own = start_col < next_indent;
                            self.place_foot(std::mem::take(&mut cur), prior && !own);
                            prior = false;
                        }
                    }
                    first_empty = false;
                    recent_empty = true;
                }
                Some(GapLine::Comment(c)) => {
                    seen_comment = true;
                    if !cur.is_empty() && c.col < next_indent && c.col != cur[0].col {
                        self.place_foot(std::mem::take(&mut cur), prior);
                        prior = false;
                    }
                    cur.push(c);
                    recent_empty = false;
                }
                None if t_col < 0 => {
                    // The end of input counts as a line break in go-yaml's
                    // scan, not as a dedent.
                    if !cur.is_empty() && !recent_empty {
                        let start_col = cur[0].col;
                        if first_empty && (cur[0].line == foot_line || start_col < next_indent) {
                            let own = start_col < next_indent;
                            self.place_foot(std::mem::take(&mut cur), prior && !own);
                        }
                    }
                }
                None => {
                    if !cur.is_empty() && t_col < next_indent && t_col != cur[0].col {
                        self.place_foot(std::mem::take(&mut cur), prior);
                    }
                }
            }
        }
        self.carry.extend(cur.into_iter().map(|c| c.text));
    }

    /// A foot group: with the prior token it stays in the innermost open
    /// collection; otherwise it goes to the open collection whose indent
    /// matches its column (a list hands it to its parent map), or, with no
    /// match, waits for the next entry like a head comment.
    fn place_foot(&mut self, group: Vec<GapComment>, prior: bool) {
        if group.is_empty() {
            return;
        }
        let col = group[0].col;
        let texts = group.into_iter().map(|c| c.text);
        let target = if prior {
            self.frames.len().checked_sub(1)
        } else {
            match self.frames.iter().rposition(|f| f.indent == col) {
                Some(i) if self.frames[i].kind == FrameKind::Seq && i > 0 => Some(i - 1),
                other => other,
            }
        };
        match target {
            Some(i) if self.carry.is_empty() => self.frames[i].pending.extend(texts),
            _ => self.carry.extend(texts),
        }
    }

    // ---- documents ---------------------------------------------------

    fn stream(&mut self) -> Result<Vec<Node>> {
        let mut docs = Vec::new();
        loop {
            let gap = self.gap();
            let mut comments: Vec<String> = gap
                .into_iter()
                .filter_map(|g| match g {
                    GapLine::Comment(c) => Some(c.text),
                    GapLine::Blank => None,
                })
                .collect();
            // Directives are skipped (go-yaml accepts %YAML and %TAG).
            while self.col() == 0 && self.peek() == Some('%') {
                while !matches!(self.peek(), None | Some('\n')) {
                    self.bump();
                }
                self.bump();
                for g in self.gap() {
                    if let GapLine::Comment(c) = g {
                        comments.push(c.text);
                    }
                }
            }
            if self.at_eof() {
                return Ok(docs);
            }
            let mut explicit = false;
            if self.at_doc_marker() == Some("---") {
                explicit = true;
                for _ in 0..3 {
                    self.bump();
                }
                self.skip_inline_space();
                if self.peek() == Some('#') {
                    comments.push(self.read_comment());
                }
                if self.peek() == Some('\n') {
                    self.bump();
                }
                for g in self.gap() {
                    if let GapLine::Comment(c) = g {
                        comments.push(c.text);
                    }
                }
            } else if self.at_doc_marker() == Some("...") {
                self.skip_doc_end()?;
                continue;
            }
            self.carry = comments;
            self.anchors.clear();
            let doc = if self.at_eof() || self.at_doc_marker().is_some() {
                // An empty document: go-yaml gives a null scalar, which sops
                // turns into an empty map.
                if !explicit {
                    return Ok(docs);
                }
                Node::Map(self.carry.drain(..).map(MapItem::Comment).collect())
            } else {
                self.block_node(-1, Vec::new())?.0
            };
            let doc = self.finish_document(doc);
            docs.push(doc);
            let gap = self.gap();
            self.place_gap(gap);
            if !self.at_eof() && self.at_doc_marker().is_none() {
                return Err(self.err("unexpected content after the end of the document"));
            }
            if self.at_doc_marker() == Some("...") {
                self.skip_doc_end()?;
            }
        }
    }

    fn skip_doc_end(&mut self) -> Result<()> {
        for _ in 0..3 {
            self.bump();
        }
        self.line_rest()?;
        Ok(())
    }

    /// Trailing comments of a document go to the end of its top-level map.
    fn finish_document(&mut self, doc: Node) -> Node {
        let rest: Vec<String> = self.carry.drain(..).collect();
        match doc {
            Node::Map(mut items) => {
                items.extend(rest.into_iter().map(MapItem::Comment));
                Node::Map(items)
            }
            Node::Seq(mut items) => {
                items.extend(rest.into_iter().map(SeqItem::Comment));
                Node::Seq(items)
            }
            other => other,
        }
    }

    // ---- block nodes -------------------------------------------------

    /// Reads `&anchor` and `!tag` properties in any order.
    fn props(&mut self) -> Result<Props> {
        let mut props = Props::default();
        loop {
            match self.peek() {
                Some('&') if props.anchor.is_none() => {
                    self.bump();
                    props.anchor = Some(self.read_name());
                }
                Some('!') if props.tag.is_none() => {
                    props.tag = Some(self.read_tag()?);
                }
                _ => return Ok(props),
            }
            self.skip_inline_space();
        }
    }

    fn read_name(&mut self) -> String {
        let mut n = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}') {
                break;
            }
            n.push(c);
            self.bump();
        }
        n
    }

    fn read_tag(&mut self) -> Result<String> {
        self.bump(); // '!'
        if self.peek() == Some('<') {
            self.bump();
            let mut t = String::new();
            while let Some(c) = self.bump() {
                if c == '>' {
                    return Ok(t);
                }
                t.push(c);
            }
            return Err(self.err("unterminated verbatim tag"));
        }
        let rest = self.read_name();
        Ok(match rest.strip_prefix('!') {
            Some(suffix) => format!("tag:yaml.org,2002:{suffix}"),
            None => format!("!{rest}"),
        })
    }

    fn alias(&mut self) -> Result<Node> {
        let line = self.line;
        self.bump(); // '*'
        let name = self.read_name();
        let Some(a) = self.anchors.get(&name) else {
            return Err(self.err(format!("unknown anchor '{name}' referenced")));
        };
        if self.depth + a.height > MAX_DEPTH {
            return Err(too_deep(line));
        }
        self.alias_nodes += a.size;
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(SopsError::YamlAliasBomb {
                max: MAX_ALIAS_NODES,
                line,
                name: name.to_string(),
            }
            .into());
        }
        Ok(a.node.clone())
    }

    fn remember(&mut self, props: &Props, node: &Node) {
        if let Some(a) = &props.anchor {
            let (size, height) = extent(node);
            let node = node.clone();
            self.anchors
                .insert(a.clone(), Anchored { node, size, height });
        }
    }

    /// Runs `read` for a node one level deeper, refusing to go past
    /// `MAX_DEPTH` rather than overflowing the stack.
    fn nested<T>(&mut self, read: impl FnOnce(&mut Parser) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(self.line));
        }
        self.depth += 1;
        let out = read(self);
        self.depth -= 1;
        out
    }

    /// Parses the block node at the current position (start of a token).
    /// `parent` is the indent of the enclosing collection. Returns the node
    /// and, for scalars, the comments that sops puts before its entry.
    fn block_node(&mut self, parent: i64, head: Vec<String>) -> Result<(Node, Vec<String>)> {
        self.nested(|p| p.block_node_here(parent, head))
    }

    fn block_node_here(&mut self, parent: i64, head: Vec<String>) -> Result<(Node, Vec<String>)> {
        let on_key_line = std::mem::take(&mut self.on_key_line);
        let col = self.col();
        let props = self.props()?;
        let mut head = head;
        if props.anchor.is_some() || props.tag.is_some() {
            // Properties alone on a line: the node follows on the next lines.
            if matches!(self.peek(), None | Some('\n' | '#')) {
                if let Some(c) = self.line_rest()? {
                    head.push(c);
                }
                let gap = self.gap();
                head.extend(gap_texts(gap));
                let (node, lead) = if self.next_token_col() > parent {
                    self.block_node(parent, Vec::new())?
                } else {
                    (Node::Scalar(Scalar::Null), Vec::new())
                };
                let node = apply_collection_tag(node, &props)?;
                self.remember(&props, &node);
                head.extend(lead);
                return Ok((node, head));
            }
        }
        let c = self.peek();
        // Whether a key starts here, found once (a scan of the rest of the line).
        let mut key: Option<bool> = None;
        if on_key_line {
            // Only `- k: v` (and `? k: v`) may open a collection on a line that already
            // holds a key; go-yaml, and so sops, refuses the rest.
            if c == Some('-') && self.is_blank_at(1) {
                return Err(self.err_because(
                    "block sequence entries are not allowed in this context",
                    YamlCause::SequenceOnKeyLine,
                ));
            }
            if (c == Some('?') && self.is_blank_at(1)) || *key.insert(self.key_follows()?) {
                return Err(self.err_because(
                    "mapping values are not allowed in this context",
                    YamlCause::MapOnKeyLine,
                ));
            }
        }
        if c == Some('-') && self.is_blank_at(1) {
            let node = self.block_seq(col, head)?;
            self.remember(&props, &node);
            return Ok((node, Vec::new()));
        }
        if c == Some('?') && self.is_blank_at(1) {
            // An explicit key, as go-yaml writes keys longer than 128 bytes.
            let node = self.block_map(col, head)?;
            self.remember(&props, &node);
            return Ok((node, Vec::new()));
        }
        // A key of a block mapping starts here if a ':' follows the first
        // scalar on this line.
        if key.map_or_else(|| self.key_follows(), Ok)? {
            if props.tag.is_some() || props.anchor.is_some() {
                // Properties before the first key belong to the mapping.
                let node = self.block_map(col, head)?;
                self.remember(&props, &node);
                return Ok((node, Vec::new()));
            }
            let node = self.block_map(col, head)?;
            return Ok((node, Vec::new()));
        }
        let (node, mut lead) = self.inline_value(parent, &props)?;
        head.append(&mut lead);
        Ok((node, head))
    }

    /// Whether the token at the current position is a mapping key.
    fn key_follows(&self) -> Result<bool> {
        let mut i = self.pos;
        let s = &self.s;
        match s.get(i) {
            Some('"') | Some('\'') => {
                let q = s.at(i);
                i += 1;
                while i < s.len() {
                    if s.at(i) == q {
                        if q == '\'' && s.get(i + 1) == Some('\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if q == '"' && s.at(i) == '\\' {
                        i += 1;
                    }
                    // A backslash may be the last character of the input:
                    // the scalar is unterminated, which `double_quoted` reports.
                    match s.get(i) {
                        None => break,
                        Some('\n') => return Ok(false),
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                while matches!(s.get(i), Some(' ' | '\t')) {
                    i += 1;
                }
                Ok(s.get(i) == Some(':') && matches!(s.get(i + 1), None | Some(' ' | '\t' | '\n')))
            }
            Some('?') if matches!(s.get(i + 1), None | Some(' ' | '\t' | '\n')) => Ok(true),
            Some('[' | '{' | '|' | '>' | '#') | None => Ok(false),
            _ => {
                // Jumps from one ':', '#' or newline to the next: a value line is mostly
                // one long ENC[…] or base64 run, which this skips without a check per
                // character (it was a tenth of a small decrypt).
                while let Some(k) = self.find3(i, b':', b'#', b'\n') {
                    i = k;
                    match s.at(i) {
                        ':' if matches!(s.get(i + 1), None | Some(' ' | '\t' | '\n')) => {
                            return Ok(true)
                        }
                        '#' if i > 0 && matches!(s.at(i - 1), ' ' | '\t') => return Ok(false),
                        '\n' => return Ok(false),
                        _ => i += 1,
                    }
                }
                Ok(false)
            }
        }
    }

    /// A block sequence whose dashes sit at column `indent`.
    fn block_seq(&mut self, indent: i64, head: Vec<String>) -> Result<Node> {
        self.frames.push(Frame {
            indent,
            kind: FrameKind::Seq,
            pending: head,
        });
        let mut items: Vec<SeqItem> = Vec::new();
        loop {
            // Comments waiting for this list come before the next item.
            self.drain_into_seq(&mut items);
            self.bump(); // '-'
            self.skip_inline_space();
            let mut lead: Vec<String> = Vec::new();
            let node = if matches!(self.peek(), None | Some('\n' | '#')) {
                // "- " alone: a line comment becomes a head comment of the item.
                if let Some(c) = self.line_rest()? {
                    lead.push(c);
                }
                self.last_content_line = self.line - 1;
                let gap = self.gap();
                let mut head = gap_texts(gap);
                if self.next_token_col() > indent {
                    let (n, l) = self.block_node(indent, std::mem::take(&mut head))?;
                    lead.extend(l);
                    n
                } else {
                    lead.extend(head);
                    Node::Scalar(Scalar::Null)
                }
            } else {
                let (n, l) = self.block_node(indent, Vec::new())?;
                lead.extend(l);
                n
            };
            items.extend(lead.into_iter().map(SeqItem::Comment));
            items.push(SeqItem::Value(node));
            let gap = self.gap();
            self.place_gap(gap);
            if self.next_token_col() == indent && self.peek() == Some('-') && self.is_blank_at(1) {
                continue;
            }
            break;
        }
        self.drain_own_into_seq(&mut items);
        self.frames.pop();
        Ok(Node::Seq(items))
    }

    fn drain_into_seq(&mut self, items: &mut Vec<SeqItem>) {
        self.drain_own_into_seq(items);
        items.extend(self.carry.drain(..).map(SeqItem::Comment));
    }

    fn drain_own_into_seq(&mut self, items: &mut Vec<SeqItem>) {
        if let Some(f) = self.frames.last_mut() {
            items.extend(f.pending.drain(..).map(SeqItem::Comment));
        }
    }

    fn drain_into_map(&mut self, items: &mut Vec<MapItem>) {
        self.drain_own_into_map(items);
        items.extend(self.carry.drain(..).map(MapItem::Comment));
    }

    fn drain_own_into_map(&mut self, items: &mut Vec<MapItem>) {
        if let Some(f) = self.frames.last_mut() {
            items.extend(f.pending.drain(..).map(MapItem::Comment));
        }
    }

    /// A block mapping whose keys sit at column `indent`.
    fn block_map(&mut self, indent: i64, head: Vec<String>) -> Result<Node> {
        self.frames.push(Frame {
            indent,
            kind: FrameKind::Map,
            pending: head,
        });
        let mut items: Vec<MapItem> = Vec::new();
        // Keys seen so far, for refusing a duplicate: a short map (most of them) is
        // searched directly, a long one through a set built once it gets long.
        let mut seen: HashSet<String> = HashSet::new();
        let mut entries = 0usize;
        loop {
            self.drain_into_map(&mut items);
            let key_line = self.line;
            let key = self.key()?;
            entries += 1;
            let duplicate = if entries <= SHORT_MAP {
                items
                    .iter()
                    .any(|i| matches!(i, MapItem::Entry(k, _) if *k == key))
            } else {
                if seen.is_empty() {
                    seen.extend(items.iter().filter_map(|i| match i {
                        MapItem::Entry(k, _) => Some(k.clone()),
                        MapItem::Comment(_) => None,
                    }));
                }
                !seen.insert(key.clone())
            };
            if duplicate {
                return Err(syntax(
                    key_line,
                    indent,
                    format!("mapping key \"{key}\" already defined"),
                    YamlCause::DuplicateKey,
                ));
            }
            // After "key:" — value on this line, or on the next lines.
            self.skip_inline_space();
            let mut lead: Vec<String> = Vec::new();
            let value = if matches!(self.peek(), None | Some('\n' | '#')) {
                if let Some(c) = self.line_rest()? {
                    lead.push(c);
                }
                self.last_content_line = key_line;
                let gap = self.gap();
                let head = gap_texts(gap);
                let next = self.next_token_col();
                let is_dash = self.peek() == Some('-') && self.is_blank_at(1);
                if next > indent || (next == indent && is_dash) {
                    let (n, l) = self.block_node(indent, head)?;
                    lead.extend(l);
                    n
                } else {
                    // No value: null. Comments in between wait for the next key.
                    self.carry.extend(head);
                    Node::Scalar(Scalar::Null)
                }
            } else {
                self.on_key_line = true;
                let (n, l) = self.block_node(indent, Vec::new())?;
                lead.extend(l);
                n
            };
            items.extend(lead.into_iter().map(MapItem::Comment));
            items.push(MapItem::Entry(key, value));
            let gap = self.gap();
            self.place_gap(gap);
            if self.next_token_col() == indent && !(self.peek() == Some('-') && self.is_blank_at(1))
            {
                continue;
            }
            if self.next_token_col() > indent {
                return Err(self.err("bad indentation of a mapping entry"));
            }
            break;
        }
        self.drain_own_into_map(&mut items);
        self.frames.pop();
        Ok(Node::Map(items))
    }

    /// Reads a mapping key and its ':'; keys must decode to strings, as
    /// sops rejects other keys.
    fn key(&mut self) -> Result<String> {
        let line = self.line;
        let col = self.col();
        let explicit = self.peek() == Some('?') && self.is_blank_at(1);
        if explicit {
            self.bump();
            self.skip_inline_space();
        }
        let props = self.props()?;
        // A block scalar key (`? |-` then indented lines): what sops writes for a key
        // holding a line break. The scalar ends at the start of the `:` line.
        let mut block_key = false;
        let (text, quoted) = match self.peek() {
            Some('"') => (self.double_quoted()?, true),
            Some('\'') => (self.single_quoted()?, true),
            Some('|' | '>') if explicit => {
                let (t, comment) = self.block_scalar()?;
                if let Some(c) = comment {
                    self.carry.push(c);
                }
                block_key = true;
                (t, true)
            }
            // An alias as a key (`*k : v`) is the anchored scalar, as go-yaml reads it.
            Some('*') => match self.alias()? {
                Node::Scalar(Scalar::Str(s)) => (s, true),
                _ => {
                    return Err(syntax(
                        line,
                        col,
                        "an alias used as a key must name a string",
                        YamlCause::AliasKeyNotString,
                    ))
                }
            },
            _ => {
                let mut t = String::new();
                while let Some(c) = self.peek() {
                    if c == ':' && self.is_blank_at(1) {
                        break;
                    }
                    if c == '\n' || (explicit && c == '#' && t.ends_with([' ', '\t'])) {
                        if explicit {
                            break;
                        }
                        return Err(self.err("could not find expected ':'"));
                    }
                    t.push(c);
                    self.bump();
                }
                (t.trim_end().to_string(), false)
            }
        };
        self.skip_inline_space();
        if explicit {
            // "? key" then ": value" on the next line, at the same column.
            if !block_key {
                if let Some(c) = self.line_rest()? {
                    self.carry.push(c);
                }
            }
            let gap = self.gap();
            self.carry.extend(gap_texts(gap));
            if self.col() != col {
                return Err(self.err("could not find expected ':'"));
            }
        }
        if self.peek() != Some(':') {
            return Err(self.err("could not find expected ':'"));
        }
        self.bump();
        self.last_content_line = line;
        let scalar =
            decode_scalar(&text, quoted, props.tag.as_deref()).map_err(|m| err_at(line, col, m))?;
        match scalar {
            Scalar::Str(s) => Ok(s),
            other => Err(SopsError::YamlKeyNotString {
                line,
                text: text.to_string(),
                type_name: other.type_name().to_string(),
            }
            .into()),
        }
    }

    /// A value that starts on the current line: scalar, flow collection,
    /// alias or block scalar. Returns the node and its line comment.
    fn inline_value(&mut self, parent: i64, props: &Props) -> Result<(Node, Vec<String>)> {
        let start_line = self.line;
        let mut lead = Vec::new();
        let node = match self.peek() {
            Some('*') => {
                let n = self.alias()?;
                if let Some(c) = self.line_rest()? {
                    lead.push(c);
                }
                self.last_content_line = start_line;
                return Ok((n, lead));
            }
            Some('[' | '{') => {
                let mut n = self.flow_node(props)?;
                self.remember(props, &n);
                let end_line = self.line;
                if let Some(c) = self.line_rest()? {
                    // A line comment after a flow collection goes inside it.
                    match &mut n {
                        Node::Map(items) => items.insert(0, MapItem::Comment(c)),
                        Node::Seq(items) => items.insert(0, SeqItem::Comment(c)),
                        Node::Scalar(_) => lead.push(c),
                    }
                }
                self.last_content_line = end_line;
                return Ok((n, lead));
            }
            Some('|' | '>') => {
                let (text, comment) = self.block_scalar()?;
                if let Some(c) = comment {
                    lead.push(c);
                }
                let s =
                    decode_scalar(&text, true, props.tag.as_deref()).map_err(|m| self.err(m))?;
                Node::Scalar(s)
            }
            Some('"') => {
                let t = self.double_quoted()?;
                let end_line = self.line;
                if let Some(c) = self.line_rest()? {
                    lead.push(c);
                }
                self.last_content_line = end_line;
                Node::Scalar(
                    decode_scalar(&t, true, props.tag.as_deref()).map_err(|m| self.err(m))?,
                )
            }
            Some('\'') => {
                let t = self.single_quoted()?;
                let end_line = self.line;
                if let Some(c) = self.line_rest()? {
                    lead.push(c);
                }
                self.last_content_line = end_line;
                Node::Scalar(
                    decode_scalar(&t, true, props.tag.as_deref()).map_err(|m| self.err(m))?,
                )
            }
            _ => {
                let (t, comment, end_line) = self.plain_multiline(parent)?;
                if let Some(c) = comment {
                    lead.push(c);
                }
                self.last_content_line = end_line;
                Node::Scalar(
                    decode_scalar(&t, false, props.tag.as_deref()).map_err(|m| self.err(m))?,
                )
            }
        };
        self.remember(props, &node);
        Ok((node, lead))
    }

    /// A plain scalar in block context, possibly continued on more-indented
    /// lines (folded with spaces). Returns text, line comment, last line.
    fn plain_multiline(&mut self, parent: i64) -> Result<(String, Option<String>, usize)> {
        let mut text = self.plain_line();
        let mut end_line = self.line;
        loop {
            self.skip_inline_space();
            if self.peek() == Some('#') {
                let c = self.read_comment();
                if self.peek() == Some('\n') {
                    self.bump();
                }
                return Ok((text, Some(c), end_line));
            }
            if self.peek() != Some('\n') {
                if self.at_eof() {
                    return Ok((text, None, end_line));
                }
                return Err(self.err("unexpected character in a plain value"));
            }
            // Look ahead: continuation lines are more indented than the parent.
            let save = (self.pos, self.line, self.line_start);
            self.bump();
            let mut breaks = 0;
            loop {
                self.skip_inline_space();
                if self.peek() == Some('\n') {
                    breaks += 1;
                    self.bump();
                    continue;
                }
                break;
            }
            let ok = !self.at_eof()
                && self.col() > parent
                && self.peek() != Some('#')
                && self.at_doc_marker().is_none()
                && !self.continuation_is_key();
            if !ok {
                self.pos = save.0;
                self.line = save.1;
                self.line_start = save.2;
                self.bump();
                return Ok((text, None, end_line));
            }
            if breaks == 0 {
                text.push(' ');
            } else {
                text.extend(std::iter::repeat_n('\n', breaks));
            }
            text.push_str(&self.plain_line());
            end_line = self.line;
        }
    }

    /// Whether a continuation line would contain `: ` (then it is an error
    /// in YAML; we stop the scalar and let the caller report it).
    fn continuation_is_key(&self) -> bool {
        let mut i = self.pos;
        while i < self.s.len() && self.s.at(i) != '\n' {
            if self.s.at(i) == ':' && matches!(self.s.get(i + 1), None | Some(' ' | '\t' | '\n')) {
                return true;
            }
            if self.s.at(i) == '#' && i > 0 && matches!(self.s.at(i - 1), ' ' | '\t') {
                return false;
            }
            i += 1;
        }
        false
    }

    /// One line of a plain scalar (block context), trailing spaces trimmed.
    fn plain_line(&mut self) -> String {
        let mut t = match self.s {
            // Where the scalar ends, found first; then one copy (an `ENC[…]` value has
            // five ':' that do not end it, each a separate append before).
            Text::Ascii(text) => {
                let b = text.as_bytes();
                let start = self.pos;
                let (mut i, mut end) = (start, b.len());
                while let Some(k) = memchr::memchr3(b'\n', b':', b'#', &b[i..]) {
                    i += k;
                    let ends = match b[i] {
                        b'\n' => true,
                        b':' => matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\n')),
                        // '#' starts a comment after a blank of this scalar's line.
                        _ => i > start && matches!(b[i - 1], b' ' | b'\t'),
                    };
                    if ends {
                        end = i;
                        break;
                    }
                    i += 1;
                }
                self.pos = end;
                text[start..end].to_string()
            }
            Text::Chars(_) => self.plain_line_chars(),
        };
        let trimmed = t.trim_end_matches([' ', '\t']).len();
        // Step back over trailing blanks so a following comment is seen
        // (blanks are one byte, so bytes count characters here).
        let back = t.len() - trimmed;
        self.pos -= back;
        t.truncate(trimmed);
        t
    }

    /// [`Parser::plain_line`]'s text for decoded (non-ASCII) text, untrimmed.
    fn plain_line_chars(&mut self) -> String {
        // Room for the rest of the line: the runs below are appended without regrowing.
        let line_end = self.find3(self.pos, b'\n', b'\n', b'\n');
        let mut t = String::with_capacity(line_end.unwrap_or(self.s.len()) - self.pos);
        while let Some(c) = self.peek() {
            if c == '\n' || (c == ':' && self.is_blank_at(1)) {
                break;
            }
            if c == '#' && t.ends_with([' ', '\t']) {
                break;
            }
            // Up to the next character that can end the scalar, in one go (a
            // long token was a tenth of a decrypt char by char); no line break
            // in it, so the line counters stay right.
            let end = self
                .find3(self.pos, b'\n', b':', b'#')
                .unwrap_or(self.s.len());
            if end > self.pos {
                self.push_run(&mut t, self.pos, end);
                self.pos = end;
                continue;
            }
            t.push(c);
            self.bump();
        }
        t
    }

    fn single_quoted(&mut self) -> Result<String> {
        let (line, col) = (self.line, self.col());
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(err_at(line, col, "unterminated single-quoted string")),
                Some('\'') => {
                    if self.peek_at(1) == Some('\'') {
                        out.push('\'');
                        self.bump();
                        self.bump();
                    } else {
                        self.bump();
                        return Ok(out);
                    }
                }
                Some('\n') => self.fold_quoted_break(&mut out),
                Some(c) => {
                    out.push(c);
                    self.bump();
                }
            }
        }
    }

    /// Line folding inside quoted scalars: trailing blanks dropped, one
    /// break becomes a space, n+1 breaks become n newlines.
    fn fold_quoted_break(&mut self, out: &mut String) {
        while out.ends_with([' ', '\t']) {
            out.pop();
        }
        self.bump();
        let mut breaks = 0;
        loop {
            self.skip_inline_space();
            if self.peek() == Some('\n') {
                breaks += 1;
                self.bump();
            } else {
                break;
            }
        }
        if breaks == 0 {
            out.push(' ');
        } else {
            out.extend(std::iter::repeat_n('\n', breaks));
        }
    }

    fn double_quoted(&mut self) -> Result<String> {
        let (line, col) = (self.line, self.col());
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(err_at(line, col, "unterminated double-quoted string")),
                Some('"') => {
                    self.bump();
                    return Ok(out);
                }
                Some('\\') => {
                    self.bump();
                    let e = self
                        .bump()
                        .ok_or_else(|| err_at(line, col, "unterminated escape"))?;
                    let simple = match e {
                        '0' => Some('\0'),
                        'a' => Some('\x07'),
                        'b' => Some('\x08'),
                        't' | '\t' => Some('\t'),
                        'n' => Some('\n'),
                        'v' => Some('\x0b'),
                        'f' => Some('\x0c'),
                        'r' => Some('\r'),
                        'e' => Some('\x1b'),
                        ' ' => Some(' '),
                        '"' => Some('"'),
                        '/' => Some('/'),
                        '\\' => Some('\\'),
                        'N' => Some('\u{85}'),
                        '_' => Some('\u{a0}'),
                        'L' => Some('\u{2028}'),
                        'P' => Some('\u{2029}'),
                        _ => None,
                    };
                    if let Some(c) = simple {
                        out.push(c);
                        continue;
                    }
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        'U' => 8,
                        '\n' => {
                            // Escaped line break: joined without a space.
                            loop {
                                self.skip_inline_space();
                                if self.peek() == Some('\n') {
                                    out.push('\n');
                                    self.bump();
                                } else {
                                    break;
                                }
                            }
                            continue;
                        }
                        other => {
                            return Err(self.err(format!(
                                "found unknown escape character {}",
                                shown_char(other)
                            )))
                        }
                    };
                    let mut v = 0u32;
                    for _ in 0..n {
                        let d = self
                            .bump()
                            .and_then(|c| c.to_digit(16))
                            .ok_or_else(|| self.err("did not find expected hexdecimal number"))?;
                        v = v * 16 + d;
                    }
                    let c = char::from_u32(v)
                        .ok_or_else(|| self.err("found invalid Unicode character escape code"))?;
                    out.push(c);
                }
                Some('\n') => self.fold_quoted_break(&mut out),
                Some(c) => {
                    out.push(c);
                    self.bump();
                }
            }
        }
    }

    /// A literal (`|`) or folded (`>`) block scalar. Returns the text and
    /// the comment on the header line.
    fn block_scalar(&mut self) -> Result<(String, Option<String>)> {
        let literal = self.bump() == Some('|');
        let mut chomp = 'c'; // clip
        let mut explicit: Option<i64> = None;
        for _ in 0..2 {
            match self.peek() {
                Some('+') => {
                    chomp = '+';
                    self.bump();
                }
                Some('-') => {
                    chomp = '-';
                    self.bump();
                }
                Some(d @ '1'..='9') => {
                    explicit = Some(i64::from(d.to_digit(10).unwrap_or(1))); // ok: matched a digit
                    self.bump();
                }
                _ => {}
            }
        }
        let header_line = self.line;
        let comment = self.line_rest()?;
        let base = self.frames.last().map_or(-1, |f| f.indent);
        let mut indent = match explicit {
            Some(n) => base.max(0) + n,
            None => 0,
        };
        // Collect lines.
        let mut lines: Vec<String> = Vec::new();
        let mut max_blank_indent = 0;
        loop {
            if self.at_eof() {
                break;
            }
            let save = (self.pos, self.line, self.line_start);
            let mut n = 0i64;
            while self.peek() == Some(' ') && (indent == 0 || n < indent) {
                self.bump();
                n += 1;
            }
            match self.peek() {
                None => {
                    break;
                }
                Some('\n') => {
                    if indent == 0 {
                        max_blank_indent = max_blank_indent.max(n);
                    }
                    lines.push(String::new());
                    self.bump();
                    continue;
                }
                _ => {}
            }
            if indent == 0 {
                let min = (base + 1).max(1);
                if n < min || n < max_blank_indent {
                    if n < min {
                        self.pos = save.0;
                        self.line = save.1;
                        self.line_start = save.2;
                        break;
                    }
                    return Err(
                        self.err("found a tab character where an indentation space is expected")
                    );
                }
                indent = n;
            } else if n < indent {
                self.pos = save.0;
                self.line = save.1;
                self.line_start = save.2;
                break;
            }
            if self.at_doc_marker().is_some() {
                self.pos = save.0;
                self.line = save.1;
                self.line_start = save.2;
                break;
            }
            let mut t = String::new();
            while let Some(c) = self.peek() {
                if c == '\n' {
                    break;
                }
                t.push(c);
                self.bump();
            }
            lines.push(t);
            self.last_content_line = self.line;
            if self.peek() == Some('\n') {
                self.bump();
            } else {
                break;
            }
        }
        if lines.iter().all(|l| l.is_empty()) {
            self.last_content_line = header_line;
        }
        // Trailing empty lines belong to chomping; an unfinished last line
        // (at EOF without a newline) has no break of its own.
        let ends_with_break =
            self.s.get(self.pos.wrapping_sub(1)) == Some('\n') || lines.is_empty();
        let content_end = lines
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |p| p + 1);
        let trailing = lines.len() - content_end;
        let body = &lines[..content_end];
        let mut text = String::new();
        if literal {
            text = body.join("\n");
        } else {
            // Folding: a break between two non-empty, not more-indented
            // lines becomes a space; empty lines become newlines.
            let mut prev_more = true;
            let mut first = true;
            let mut pending_breaks = 0;
            for l in body {
                if l.is_empty() {
                    pending_breaks += 1;
                    continue;
                }
                let more = l.starts_with([' ', '\t']);
                if !first {
                    if pending_breaks == 0 && !more && !prev_more {
                        text.push(' ');
                    } else if !more && !prev_more {
                        text.extend(std::iter::repeat_n('\n', pending_breaks));
                    } else {
                        text.extend(std::iter::repeat_n('\n', pending_breaks + 1));
                    }
                } else {
                    text.extend(std::iter::repeat_n('\n', pending_breaks));
                }
                pending_breaks = 0;
                text.push_str(l);
                prev_more = more;
                first = false;
            }
        }
        let has_content = content_end > 0;
        match chomp {
            '-' => {}
            '+' => {
                if has_content && ends_with_break_or_more(trailing, ends_with_break) {
                    text.push('\n');
                }
                text.extend(std::iter::repeat_n('\n', trailing));
                if !has_content && trailing == 0 {
                    // "|+" with nothing at all stays empty.
                }
            }
            _ => {
                if has_content && (trailing > 0 || ends_with_break) {
                    text.push('\n');
                }
            }
        }
        Ok((text, comment))
    }

    // ---- flow nodes --------------------------------------------------

    fn flow_skip(&mut self, items_comments: &mut Vec<String>) -> Result<()> {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\n') => {
                    self.bump();
                }
                Some('#') => items_comments.push(self.read_comment()),
                None => return Err(self.err("unterminated flow collection")),
                _ => return Ok(()),
            }
        }
    }

    fn flow_node(&mut self, props: &Props) -> Result<Node> {
        self.nested(|p| p.flow_node_here(props))
    }

    fn flow_node_here(&mut self, props: &Props) -> Result<Node> {
        let open = self.bump();
        let close = if open == Some('[') { ']' } else { '}' };
        let mut map_items: Vec<MapItem> = Vec::new();
        let mut seq_items: Vec<SeqItem> = Vec::new();
        let mut seen: HashMap<String, ()> = HashMap::new();
        loop {
            let mut cs = Vec::new();
            self.flow_skip(&mut cs)?;
            map_items.extend(cs.iter().cloned().map(MapItem::Comment));
            seq_items.extend(cs.into_iter().map(SeqItem::Comment));
            if self.peek() == Some(close) {
                self.bump();
                break;
            }
            // Where this item goes: a comment after it on its own line (after the item
            // or its comma) is its line comment, which sops writes *before* the item.
            let (seq_at, map_at) = (seq_items.len(), map_items.len());
            let item_props = self.props()?;
            let mut cs = Vec::new();
            self.flow_skip(&mut cs)?;
            let first = self.flow_scalar_or_node(&item_props)?;
            let mut cs2 = Vec::new();
            self.flow_skip(&mut cs2)?;
            let is_pair = self.peek() == Some(':');
            let (first, entry_map) = if is_pair {
                self.bump();
                let mut cs3 = Vec::new();
                self.flow_skip(&mut cs3)?;
                let value = if matches!(self.peek(), Some(',' | ']' | '}')) {
                    Node::Scalar(Scalar::Null)
                } else {
                    let vp = self.props()?;
                    self.flow_scalar_or_node(&vp)?
                };
                let key = match first {
                    Node::Scalar(Scalar::Str(k)) => k,
                    _ => return Err(self.err("flow mapping keys must be strings")),
                };
                (Node::Scalar(Scalar::Null), Some((key, value)))
            } else {
                (first, None)
            };
            if close == '}' {
                let (k, v) = match entry_map {
                    Some(kv) => kv,
                    None => match first {
                        Node::Scalar(Scalar::Str(k)) => (k, Node::Scalar(Scalar::Null)),
                        _ => return Err(self.err("flow mapping keys must be strings")),
                    },
                };
                if seen.insert(k.clone(), ()).is_some() {
                    return Err(self.err(format!("mapping key \"{k}\" already defined")));
                }
                map_items.push(MapItem::Entry(k, v));
            } else {
                match entry_map {
                    Some((k, v)) => {
                        seq_items.push(SeqItem::Value(Node::Map(vec![MapItem::Entry(k, v)])))
                    }
                    None => seq_items.push(SeqItem::Value(first)),
                }
            }
            let mut cs = Vec::new();
            self.flow_skip(&mut cs)?;
            let comma = self.peek() == Some(',');
            if comma {
                self.bump();
                self.skip_inline_space();
                if self.peek() == Some('#') {
                    cs.push(self.read_comment());
                }
            }
            for (i, c) in cs.into_iter().enumerate() {
                map_items.insert(map_at + i, MapItem::Comment(c.clone()));
                seq_items.insert(seq_at + i, SeqItem::Comment(c));
            }
            if comma {
                continue;
            }
            match self.peek() {
                Some(c) if c == close => {
                    self.bump();
                    break;
                }
                _ => return Err(self.err("did not find expected ',' or closing bracket")),
            }
        }
        let node = if close == '}' {
            Node::Map(map_items)
        } else {
            Node::Seq(seq_items)
        };
        apply_collection_tag(node, props)
    }

    fn flow_scalar_or_node(&mut self, props: &Props) -> Result<Node> {
        let node = match self.peek() {
            Some('[' | '{') => self.flow_node(props)?,
            Some('*') => self.alias()?,
            Some('"') => {
                let t = self.double_quoted()?;
                Node::Scalar(
                    decode_scalar(&t, true, props.tag.as_deref()).map_err(|m| self.err(m))?,
                )
            }
            Some('\'') => {
                let t = self.single_quoted()?;
                Node::Scalar(
                    decode_scalar(&t, true, props.tag.as_deref()).map_err(|m| self.err(m))?,
                )
            }
            _ => {
                let mut t = String::new();
                while let Some(c) = self.peek() {
                    if matches!(c, ',' | '[' | ']' | '{' | '}')
                        || (c == ':' && self.flow_colon_ends())
                    {
                        break;
                    }
                    if c == '#' && t.ends_with([' ', '\t', '\n']) {
                        break;
                    }
                    t.push(c);
                    self.bump();
                }
                let folded = fold_plain_flow(&t);
                Node::Scalar(
                    decode_scalar(&folded, false, props.tag.as_deref()).map_err(|m| self.err(m))?,
                )
            }
        };
        self.remember(props, &node);
        Ok(node)
    }

    fn flow_colon_ends(&self) -> bool {
        matches!(
            self.peek_at(1),
            None | Some(' ' | '\t' | '\n' | ',' | ']' | '}' | '[' | '{')
        )
    }
}

fn ends_with_break_or_more(trailing: usize, ends_with_break: bool) -> bool {
    trailing > 0 || ends_with_break
}

/// Folds a multi-line plain scalar from a flow collection.
fn fold_plain_flow(t: &str) -> String {
    let lines: Vec<&str> = t.split('\n').map(|l| l.trim_matches([' ', '\t'])).collect();
    let mut out = String::new();
    let mut breaks = 0;
    for (i, l) in lines.iter().enumerate() {
        if i > 0 && l.is_empty() && i + 1 < lines.len() {
            breaks += 1;
            continue;
        }
        if i > 0 && !l.is_empty() {
            if breaks == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', breaks));
            }
            breaks = 0;
        }
        out.push_str(l);
    }
    out.trim_end().to_string()
}

fn gap_texts(gap: Vec<GapLine>) -> Vec<String> {
    gap.into_iter()
        .filter_map(|g| match g {
            GapLine::Comment(c) => Some(c.text),
            GapLine::Blank => None,
        })
        .collect()
}

/// Tags on collections are dropped (sops keeps only the content), except
/// that a scalar-only tag on a collection is an error in go-yaml too.
fn apply_collection_tag(node: Node, _props: &Props) -> Result<Node> {
    Ok(node)
}

const YAML_TAG: &str = "tag:yaml.org,2002:";

/// go-yaml's scalar decoding into `interface{}`: quoted and block scalars
/// are strings unless tagged; plain ones resolve; tags force a type.
pub(crate) fn decode_scalar(
    text: &str,
    quoted: bool,
    tag: Option<&str>,
) -> std::result::Result<Scalar, String> {
    let short = tag.map(|t| match t.strip_prefix(YAML_TAG) {
        Some(s) => format!("!!{s}"),
        None => t.to_string(),
    });
    let short = short.as_deref();
    if short == Some("!!binary") {
        let cleaned: String = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map_err(|_| "!!binary value contains invalid base64 data".to_string())?;
        return match String::from_utf8(bytes) {
            Ok(s) => Ok(Scalar::Str(s)),
            Err(e) => Ok(Scalar::Bytes(e.into_bytes())),
        };
    }
    let resolved = match short {
        None | Some("!") if quoted => return Ok(Scalar::Str(text.to_string())),
        Some("!!str") => return Ok(Scalar::Str(text.to_string())),
        None => resolve_plain(text),
        Some(t @ ("!!int" | "!!float" | "!!bool" | "!!null" | "!!timestamp")) => {
            let r = if t == "!!timestamp" {
                parse_timestamp(text).map_or_else(|| resolve_plain(text), Resolved::Time)
            } else {
                resolve_plain(text)
            };
            let ok = match (t, &r) {
                ("!!int", Resolved::Int(_) | Resolved::Uint(_)) => true,
                ("!!float", Resolved::Float(_)) => true,
                ("!!float", Resolved::Int(i)) => {
                    return Ok(Scalar::Float(*i as f64));
                }
                ("!!bool", Resolved::Bool(_)) => true,
                ("!!null", Resolved::Null) => true,
                ("!!timestamp", Resolved::Time(_)) => true,
                _ => false,
            };
            if !ok {
                return Err(format!("the value cannot be decoded as a {t}"));
            }
            r
        }
        // Other tags (custom ones, !!map on a scalar, …) keep the text.
        Some(_) => return Ok(Scalar::Str(text.to_string())),
    };
    resolved
        .into_scalar(text)
        .ok_or_else(|| "an integer does not fit in 64 bits; sops cannot handle it (quote it to keep it as a string)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret must never end up in a map key (keys are not encrypted): go-yaml refuses a
    /// block collection on the line of a key, and so do we. `- k: v` stays allowed.
    #[test]
    fn a_map_or_list_on_the_line_of_a_key_is_refused_like_go_yaml() {
        for bad in [
            "password: SuperSecretP4ss: x\n",
            "a:\n  password: SuperSecretP4ss: x\n",
            "password: &a SuperSecretP4ss: x\n",
            "password: \"SuperSecretP4ss\": x\n",
            "- password: SuperSecretP4ss: x\n",
            "password: - x\n",
            "password: ? x\n",
        ] {
            let err = parse(bad.as_bytes()).expect_err(bad).to_string();
            assert!(err.contains("not allowed in this context"), "{bad}: {err}");
            assert!(
                !err.contains("SuperSecretP4ss"),
                "the error echoes the value: {err}"
            );
        }
        for good in [
            "- password: x\n",
            "- - a: b\n",
            "? k\n: v\n",
            "a:\n  b: c\n",
            "url: http://x:80/a\n",
            "t: a:b\n",
            "k: &a\n  b: c\n",
            "k: [a: b]\n",
        ] {
            assert!(parse(good.as_bytes()).is_ok(), "{good} should parse");
        }
    }

    /// Found by the `formats` fuzz target: a double-quoted scalar ending in
    /// a lone backslash read past the end of the input.
    #[test]
    fn backslash_at_end_of_a_quoted_key_is_an_error_not_a_panic() {
        let err = parse(b"\"1\\%\\\\\\%\\\\\\\\\\\\\\").unwrap_err();
        assert!(err.to_string().contains("YAML"), "{err}");
        assert!(parse(b"\"\\").is_err());
    }

    /// Found by the `formats` fuzz target's write-and-reread check: a
    /// control character sops refuses was read, and the file written from
    /// it did not parse again.
    #[test]
    fn control_characters_are_refused_like_go_yaml() {
        let found = b"a: ![2, twlt*.\x00\t\x00i,%\n ne\r\r\n&\n: &b\n \n  -\n &s he\n]\n";
        let err = parse(found).unwrap_err().to_string();
        assert!(
            err.contains("control character (U+0000) on line 1"),
            "{err}"
        );
        let err = error_of("a: 1\nb: x\u{1}y\n");
        assert!(err.contains("(U+0001) on line 2"), "{err}");
        // Escapes are fine, and so are tabs, CRs, NEL and the non-ASCII planes.
        let docs = parse("a: \"x\\x01\"\r\nb: \"\tü\u{85}😀\"\n".as_bytes()).unwrap();
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn printable_check_in_blocks_finds_what_a_character_scan_finds() {
        let slow = |t: &str| t.char_indices().find(|&(_, c)| !is_printable(c));
        let long = "a: b\n".repeat(40);
        for t in [
            String::new(),
            "plain".to_string(),
            format!("{long}\u{1}"),
            format!("{long}é\u{7f}x"),
            format!("é{long}\u{0}"),
            format!("{long}\r\n\t{long}"),
            format!("{}\u{b}", "x".repeat(63)),
            format!("{}\u{b}", "x".repeat(64)),
            format!("{}\u{feff}", "x".repeat(100)),
        ] {
            assert_eq!(first_unprintable(&t), slow(&t), "{t:?}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused_in_short_and_long_maps() {
        let map = |n: usize, dup: Option<usize>| {
            let mut t: String = (0..n).map(|i| format!("k{i}: v\n")).collect();
            if let Some(d) = dup {
                t.push_str(&format!("k{d}: again\n"));
            }
            t
        };
        for n in [1, 3, 15, 16, 17, 40] {
            assert!(parse(map(n, None).as_bytes()).is_ok(), "{n}");
            for d in [0, n - 1] {
                let e = error_of(&map(n, Some(d)));
                assert!(e.contains(&format!("line {}", n + 1)), "{e}");
                assert!(e.contains(&format!("\"k{d}\" already defined")), "{e}");
            }
        }
    }

    #[test]
    fn ascii_runs_parse_like_characters() {
        let inputs = [
            "a: b\nc: d # note\n",
            "url: https://x.example:6443/a#frag\nk: v#no-comment\n",
            "key: ENC[AES256_GCM,data:AAA=,iv:BBB=,tag:CCC=,type:str]\n",
            "list:\n    - a: 1\n      b: two words\n    - plain\n      continued: no\n",
            "m:\n  long plain\n  over lines\nn: x\n",
            "\"q:k\": 'v: w'\n? explicit\n: value\n",
            "a: b: c\n",
            "x: :y\nz: a:b:c # c\n",
            "# only\n---\nd: [1, 2]\n...\n",
            "a: x#y z #c\nb: v:\nc: #\nd: x: \ne: end:",
            "a: b:c: d\n",
            "k: one:two#three :four\t#five\n",
            "k: trailing blanks   \t\nl: x",
        ];
        for input in inputs {
            let fast = Parser::new(input).stream().map_err(|e| e.message);
            let slow = Parser::over(Text::Chars(input.chars().collect()))
                .stream()
                .map_err(|e| e.message);
            assert_eq!(fast, slow, "{input:?}");
        }
    }

    fn error_of(input: &str) -> String {
        match parse(input.as_bytes()) {
            Ok(_) => panic!("{:?}… should not parse", &input[..input.len().min(40)]),
            Err(e) => e.to_string(),
        }
    }

    /// Runs `f` with the stack of a main thread (8 MiB). A debug build
    /// needs about 10 KiB per YAML level, so 256 levels do not fit in a
    /// test thread's 2 MiB; the CLI parses on its main thread.
    fn with_main_thread_stack(f: impl FnOnce() + Send + 'static) {
        let t = std::thread::Builder::new().stack_size(8 << 20).spawn(f);
        t.unwrap().join().unwrap();
    }

    /// Deep nesting is refused at 256 levels, like JSON, instead of
    /// overflowing the stack (each of these crashed with a 64 MiB stack).
    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        with_main_thread_stack(deep_nesting);
    }

    fn deep_nesting() {
        let flow = "[".repeat(100_000);
        let block_seq = "- ".repeat(50_000);
        let block_map: String = (0..5_000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        let props_alone = "&a\n".repeat(50_000);
        for deep in [flow, block_seq, block_map, props_alone] {
            let err = error_of(&deep);
            assert!(err.contains("nests more than 256 levels"), "{err}");
        }
    }

    /// Up to the limit, deep files still parse and write back (the emitter
    /// recurses too, so this also checks it has the stack for it).
    #[test]
    fn nesting_just_under_the_limit_parses_and_emits() {
        with_main_thread_stack(nesting_under_the_limit);
    }

    fn nesting_under_the_limit() {
        let flow = format!("a: {}1{}\n", "[".repeat(250), "]".repeat(250));
        let block: String = (0..250).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        for ok in [flow, block] {
            let docs = parse(ok.as_bytes()).unwrap();
            super::super::emit(&docs, 2).unwrap();
        }
    }

    /// A "billion laughs" chain of anchors is refused instead of eating
    /// all memory; ordinary reuse of anchors still works.
    #[test]
    fn exponential_aliases_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x]\n");
        for i in 1..40 {
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
        }
        let err = error_of(&bomb);
        assert!(err.contains("aliases expand to more than"), "{err}");
        let mut block_bomb = String::from("a0: &a0 x\n");
        for i in 1..40 {
            block_bomb.push_str(&format!("a{i}: &a{i}\n  - *a{p}\n  - *a{p}\n", p = i - 1));
        }
        let err = error_of(&block_bomb);
        assert!(err.contains("aliases expand"), "{err}");

        let reuse = "base: &b {user: u, host: h}\nx: *b\ny: [*b, *b]\n";
        let docs = parse(reuse.as_bytes()).unwrap();
        assert_eq!(docs.len(), 1);
    }

    /// An alias copies its anchor's depth: a deep anchor used deep down
    /// would otherwise build a tree past the limit.
    #[test]
    fn an_alias_cannot_nest_past_the_limit() {
        with_main_thread_stack(alias_past_the_limit);
    }

    fn alias_past_the_limit() {
        let deep = format!("a: &d {}1{}\n", "[".repeat(200), "]".repeat(200));
        let ok = format!("{deep}b: *d\n");
        assert!(parse(ok.as_bytes()).is_ok());
        let too_deep = format!("{deep}b: {}*d{}\n", "[".repeat(100), "]".repeat(100));
        assert!(error_of(&too_deep).contains("nests more than 256 levels"));
    }
}
