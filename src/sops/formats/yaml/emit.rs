//! Writes trees exactly as sops 3.11 does: sops' yaml store turns the tree
//! into go-yaml v3 nodes (comments become head comments of the following
//! key or item, trailing ones the foot of the last), and go-yaml's encoder
//! turns those into events for its libyaml-derived emitter.
//!
//! The emitter below follows go-yaml v3's `emitterc.go` state machine for
//! the events such trees produce, because its quirks are visible in the
//! output: indentation rounded to multiples of the indent, comments that
//! trail a map inside a sequence surfacing later, blank lines after foot
//! comments, and the scalar style rules of `yaml_emitter_analyze_scalar`.

use super::resolve::{is_yaml11_special, resolve_plain};
use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::{go_format_float_g, MapItem, Node, Scalar, SeqItem};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind<'a> {
    StreamStart,
    StreamEnd,
    DocStart,
    DocEnd,
    MapStart,
    MapEnd,
    SeqStart,
    SeqEnd,
    /// The text, borrowed from the tree when it is a string (no copy of every value),
    /// and its style.
    Scalar(Cow<'a, str>, Style),
}

#[derive(Debug, Clone)]
struct Event<'a> {
    kind: Kind<'a>,
    /// Boxed: most events have none, and a large file has an event per key and value.
    comments: Option<Box<Comments>>,
    /// A scalar's analysis when choosing its style already made it (it is the same
    /// for the emitter: the text does not change in between).
    analysis: Option<ScalarData>,
}

/// A scalar's style, with the analysis that chose it when there was one.
type Styled = (Style, Option<ScalarData>);

/// The comments go-yaml attaches to a node.
#[derive(Debug, Clone, Default)]
struct Comments {
    head: String,
    line: String,
    foot: String,
    tail: String,
}

impl<'a> Event<'a> {
    fn new(kind: Kind<'a>) -> Event<'a> {
        Event {
            kind,
            comments: None,
            analysis: None,
        }
    }

    /// Sets one of the comments (an empty one is the same as none).
    fn set(&mut self, which: fn(&mut Comments) -> &mut String, text: String) {
        if !text.is_empty() {
            *which(self.comments.get_or_insert_with(Default::default)) = text;
        }
    }

    fn scalar(text: Cow<'a, str>, (style, analysis): Styled) -> Event<'a> {
        let mut ev = Event::new(Kind::Scalar(text, style));
        ev.analysis = analysis;
        ev
    }
}

/// Writes documents in go-yaml v3's layout with the given indent
/// (go-yaml clamps indents outside 2..=9 to 2).
pub fn emit(docs: &[Node], indent: usize) -> Result<Vec<u8>> {
    if docs.iter().any(|d| !matches!(d, Node::Map(_))) {
        return Err(SopsError::YamlTopLevelNotMap.into());
    }
    emit_nodes(docs, None, indent)
}

/// Writes documents as [`emit`] does, each with `last` as its final entry (an encrypted
/// file's `sops` metadata), without copying the documents to append it.
pub fn emit_with_last(docs: &[Node], last: &MapItem, indent: usize) -> Result<Vec<u8>> {
    if docs.iter().any(|d| !matches!(d, Node::Map(_))) {
        return Err(SopsError::EncryptTopLevelNotMap.into());
    }
    emit_nodes(docs, Some(last), indent)
}

/// Writes one value of any kind (a list, a scalar) as a YAML document, as
/// `yaml.Marshal` does for `sops decrypt --extract`.
pub fn emit_value(node: &Node, indent: usize) -> Result<Vec<u8>> {
    emit_nodes(std::slice::from_ref(node), None, indent)
}

fn emit_nodes(docs: &[Node], last: Option<&MapItem>, indent: usize) -> Result<Vec<u8>> {
    let mut events = vec![Event::new(Kind::StreamStart)];
    for doc in docs {
        events.push(Event::new(Kind::DocStart));
        match (doc, last) {
            (Node::Map(items), Some(last)) => map_events(
                items.iter().chain(std::iter::once(last)),
                String::new(),
                String::new(),
                &mut events,
            )?,
            _ => node_events(doc, String::new(), String::new(), &mut events)?,
        }
        events.push(Event::new(Kind::DocEnd));
    }
    events.push(Event::new(Kind::StreamEnd));
    let mut e = Emitter::new(indent);
    for i in 0..events.len() {
        e.head = i;
        e.analyze_event(&events, i);
        e.state_machine(&events, i)?;
    }
    Ok(e.out)
}

/// sops' `"#" + strings.Join(comments, "\n#")`.
fn join_comments(comments: &[&str]) -> String {
    if comments.is_empty() {
        return String::new();
    }
    format!("#{}", comments.join("\n#"))
}

/// Prepends like sops' `addCommentsHead`.
fn add_head(existing: String, comments: &[&str]) -> String {
    if comments.is_empty() {
        return existing;
    }
    let c = join_comments(comments);
    if existing.is_empty() {
        c
    } else {
        format!("{c}\n{existing}")
    }
}

/// `parent`'s comments before `own` (sops' `addCommentsHead` on a node
/// that already has a head comment).
fn prepend(parent: String, own: String) -> String {
    match (parent.is_empty(), own.is_empty()) {
        (true, _) => own,
        (_, true) => parent,
        _ => format!("{parent}\n{own}"),
    }
}

/// The events of one node, as sops builds it (`treeValueToNode`,
/// `appendTreeBranch`, `appendSequence`) and go-yaml's encoder emits it.
/// `head`/`foot` are the comments sops attached to this node by its parent.
fn node_events<'a>(
    node: &'a Node,
    head: String,
    foot: String,
    out: &mut Vec<Event<'a>>,
) -> Result<()> {
    match node {
        Node::Map(items) => map_events(items.iter(), head, foot, out)?,
        Node::Seq(items) => {
            // sops builds the node with its own leading comments first and
            // then prepends the comments its parent puts before it.
            let mut own_head = String::new();
            let mut pending: Vec<&str> = Vec::new();
            let mut beginning = true;
            let start = out.len();
            out.push(Event::new(Kind::SeqStart));
            // The last value item gets the trailing comments as its foot;
            // find it first so its events can carry them.
            let last_value = items.iter().rposition(|i| matches!(i, SeqItem::Value(_)));
            let trailing: Vec<&str> = match last_value {
                Some(p) => items[p + 1..]
                    .iter()
                    .filter_map(|i| match i {
                        SeqItem::Comment(c) => Some(c.as_str()),
                        SeqItem::Value(_) => None,
                    })
                    .collect(),
                None => Vec::new(),
            };
            for (idx, item) in items.iter().enumerate() {
                match item {
                    SeqItem::Comment(c) => {
                        if last_value.is_some_and(|p| idx > p) {
                            continue;
                        }
                        pending.push(c)
                    }
                    SeqItem::Value(v) => {
                        if beginning {
                            own_head = join_comments(&pending);
                            pending.clear();
                            beginning = false;
                        }
                        let item_head = add_head(String::new(), &pending);
                        pending.clear();
                        let item_foot = if Some(idx) == last_value {
                            join_comments(&trailing)
                        } else {
                            String::new()
                        };
                        node_events(v, item_head, item_foot, out)?;
                    }
                }
            }
            if beginning {
                own_head = join_comments(&pending);
            }
            out[start].set(|c| &mut c.head, prepend(head, own_head));
            let mut end = Event::new(Kind::SeqEnd);
            end.set(|c| &mut c.foot, foot);
            out.push(end);
        }
        Node::Scalar(s) => {
            let (text, style) = scalar_text(s)?;
            let mut ev = Event::scalar(text, style);
            ev.set(|c| &mut c.head, head);
            ev.set(|c| &mut c.foot, foot);
            out.push(ev);
        }
    }
    Ok(())
}

/// The events of a map with these items (see [`node_events`]).
fn map_events<'a>(
    items: impl Iterator<Item = &'a MapItem>,
    head: String,
    foot: String,
    out: &mut Vec<Event<'a>>,
) -> Result<()> {
    // Comments before the first entry become the mapping's head;
    // later ones the head of the next key; trailing ones the foot
    // of the last key, which the encoder passes on as the tail of
    // the mapping end.
    // sops builds the node with its own leading comments first and
    // then prepends the comments its parent puts before it.
    let mut own_head = String::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut beginning = true;
    let start = out.len();
    out.push(Event::new(Kind::MapStart));
    for item in items {
        match item {
            MapItem::Comment(c) => pending.push(c),
            MapItem::Entry(k, v) => {
                if beginning {
                    own_head = join_comments(&pending);
                    pending.clear();
                    beginning = false;
                }
                let mut key = Event::scalar(Cow::Borrowed(k), string_style(k));
                key.set(|c| &mut c.head, add_head(String::new(), &pending));
                pending.clear();
                out.push(key);
                node_events(v, String::new(), String::new(), out)?;
            }
        }
    }
    let mut tail = String::new();
    if !pending.is_empty() {
        if beginning {
            own_head = join_comments(&pending);
        } else {
            tail = join_comments(&pending);
        }
    }
    out[start].set(|c| &mut c.head, prepend(head, own_head));
    let mut end = Event::new(Kind::MapEnd);
    end.set(|c| &mut c.tail, tail);
    end.set(|c| &mut c.foot, foot);
    out.push(end);
    Ok(())
}

/// The text and the style go-yaml's first encoding pass (`Node.Encode`)
/// gives a value; the final pass starts from that style.
fn scalar_text(s: &Scalar) -> Result<(Cow<'_, str>, Styled)> {
    let plain = (Style::Plain, None);
    Ok(match s {
        Scalar::Null => ("null".into(), plain),
        Scalar::Bool(b) => ((if *b { "true" } else { "false" }).into(), plain),
        Scalar::Int(i) => (i.to_string().into(), plain),
        Scalar::Float(f) => (go_format_float_g(*f).replace("+.inf", ".inf").into(), plain),
        Scalar::Time(t) => (Cow::Borrowed(t.as_str()), plain),
        Scalar::Str(s) => (Cow::Borrowed(s.as_str()), string_style(s)),
        Scalar::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => (Cow::Borrowed(s), string_style(s)),
            Err(_) => return Err(SopsError::YamlNotUtf8Value.into()),
        },
    })
}

/// go-yaml's `stringv` style choice followed by the emitter's
/// `select_scalar_style` in a plain block context (the first pass).
fn string_style(s: &str) -> Styled {
    let can_plain = resolve_plain(s).is_str() && !is_yaml11_special(s);
    let style = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze_scalar(s.as_bytes());
    (select_style(style, &a, false, false), Some(a))
}

#[derive(Debug, Default, Clone, PartialEq)]
struct ScalarData {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
    empty: bool,
}

fn select_style(style: Style, a: &ScalarData, simple_key: bool, flow: bool) -> Style {
    let mut style = style;
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain {
        if (flow && !a.flow_plain_allowed) || (!flow && !a.block_plain_allowed) {
            style = Style::Single;
        }
        if a.empty && (flow || simple_key) {
            style = Style::Single;
        }
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || flow || simple_key) {
        style = Style::Double;
    }
    style
}

fn width(c: u8) -> usize {
    if c & 0x80 == 0 {
        1
    } else if c & 0xE0 == 0xC0 {
        2
    } else if c & 0xF0 == 0xE0 {
        3
    } else if c & 0xF8 == 0xF0 {
        4
    } else {
        1
    }
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// libyaml's `is_printable` as go-yaml has it: note that 4-byte UTF-8
/// (emoji) is not "printable", so such strings are double-quoted.
fn is_printable(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    let c1 = at(b, i + 1);
    let c2 = at(b, i + 2);
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (c == 0xC2 && c1 >= 0xA0)
        || (c > 0xC2 && c < 0xED)
        || (c == 0xED && c1 < 0xA0)
        || c == 0xEE
        || (c == 0xEF && !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)))
}

fn is_space(b: &[u8], i: usize) -> bool {
    at(b, i) == b' '
}

fn is_break(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    c == b'\r'
        || c == b'\n'
        || (c == 0xC2 && at(b, i + 1) == 0x85)
        || (c == 0xE2 && at(b, i + 1) == 0x80 && (at(b, i + 2) == 0xA8 || at(b, i + 2) == 0xA9))
}

fn is_blankz(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    c == b' ' || c == b'\t' || is_break(b, i) || i >= b.len()
}

/// `yaml_emitter_analyze_scalar`.
fn analyze_scalar(value: &[u8]) -> ScalarData {
    analyze(value, true)
}

/// ASCII that, past the first byte, is no indicator, blank, break or special
/// character: it changes nothing in the analysis but "the previous byte was
/// not white space".
fn is_inert(c: u8) -> bool {
    INERT[usize::from(c)]
}

/// [`is_inert`] as a table: one load per byte in the runs it skips (base64 blobs,
/// `ENC[…]` payloads), where the range tests were most of the analysis.
static INERT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'.' | b'_' | b'-');
        c += 1;
    }
    t
};

/// How [`analyze_one_line`] sees a byte past the first.
const NEUTRAL: u8 = 1;
const FLOW_IND: u8 = 2;
const OTHER: u8 = 4;

/// Printable ASCII but the space: past the first byte of a scalar with no blank in it,
/// only the flow indicators (and `:`) change the analysis. Everything else (blanks,
/// breaks, controls, DEL, non-ASCII) is [`OTHER`].
static ONE_LINE: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut c = 0x21;
    while c < 0x7F {
        t[c] = match c as u8 {
            b',' | b'?' | b'[' | b']' | b'{' | b'}' | b':' => FLOW_IND,
            _ => NEUTRAL,
        };
        c += 1;
    }
    t
};

/// The analysis of a scalar that starts with a letter or digit and holds only printable
/// ASCII without a space (an `ENC[…]` value, a token, a URL, a name: nearly every scalar
/// of a secrets file), from one table lookup per byte; `None` for any other scalar.
/// With no blank and no break, no leading or trailing space, no `#` after a blank and no
/// `: ` can occur; what is left is whether a flow indicator appears and whether the
/// scalar ends in `:` (a `:` before the end of the text).
fn analyze_one_line(value: &[u8]) -> Option<ScalarData> {
    let (&first, rest) = value.split_first()?;
    if !first.is_ascii_alphanumeric() {
        return None;
    }
    // No early exit: the loop stays branch-free, and a scalar that fails is rare.
    let seen = rest
        .iter()
        .fold(0, |acc, &c| acc | ONE_LINE[usize::from(c)]);
    if seen & OTHER != 0 {
        return None;
    }
    let flow_ind = seen & FLOW_IND != 0;
    let block_ind = rest.last() == Some(&b':');
    Some(ScalarData {
        multiline: false,
        flow_plain_allowed: !flow_ind,
        block_plain_allowed: !block_ind,
        single_quoted_allowed: true,
        block_allowed: true,
        empty: false,
    })
}

/// The analysis; `skip_inert` takes [`analyze_one_line`]'s answer when it has one and
/// otherwise jumps over runs of [`is_inert`] bytes at once, which are most of a secret's
/// bytes (base64, hex, `ENC[…]` payloads): byte by byte, the analysis took a fifth of a
/// decrypt's instructions. Tests compare both ways.
fn analyze(value: &[u8], skip_inert: bool) -> ScalarData {
    if skip_inert {
        if let Some(d) = analyze_one_line(value) {
            return d;
        }
    }
    if value.is_empty() {
        return ScalarData {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
            empty: true,
        };
    }
    let mut block_ind = false;
    let mut flow_ind = false;
    let mut line_breaks = false;
    let mut special = false;
    let mut tabs = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    if value.starts_with(b"---") || value.starts_with(b"...") {
        block_ind = true;
        flow_ind = true;
    }
    let mut preceded_by_ws = true;
    let mut i = 0;
    while i < value.len() {
        if skip_inert && i > 0 && is_inert(value[i]) {
            i += value[i..].iter().take_while(|&&c| is_inert(c)).count();
            prev_space = false;
            prev_break = false;
            preceded_by_ws = false;
            continue;
        }
        let w = width(value[i]);
        let followed_by_ws = i + w >= value.len() || is_blankz(value, i + w);
        let c = value[i];
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                b'?' | b':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                b'-' if followed_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                b',' | b'?' | b'[' | b']' | b'{' | b'}' => flow_ind = true,
                b':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                b'#' if preceded_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if c == b'\t' {
            tabs = true;
        } else if !is_printable(value, i) {
            special = true;
        }
        if is_space(value, i) {
            if i == 0 {
                leading_space = true;
            }
            if i + w == value.len() {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(value, i) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + w == value.len() {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_blankz(value, i);
        i += w;
    }
    let mut d = ScalarData {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
        empty: false,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        d.flow_plain_allowed = false;
        d.block_plain_allowed = false;
    }
    if trailing_space {
        d.block_allowed = false;
    }
    if break_space {
        d.flow_plain_allowed = false;
        d.block_plain_allowed = false;
        d.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        d.flow_plain_allowed = false;
        d.block_plain_allowed = false;
        d.single_quoted_allowed = false;
    }
    if space_break || special {
        d.block_allowed = false;
    }
    if line_breaks {
        d.flow_plain_allowed = false;
        d.block_plain_allowed = false;
    }
    if flow_ind {
        d.flow_plain_allowed = false;
    }
    if block_ind {
        d.block_plain_allowed = false;
    }
    d
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StreamStart,
    FirstDocStart,
    DocStart,
    DocContent,
    DocEnd,
    FlowSeqFirstItem,
    FlowSeqItem,
    FlowSeqTrailItem,
    FlowMapFirstKey,
    FlowMapKey,
    FlowMapTrailKey,
    FlowMapSimpleValue,
    FlowMapValue,
    BlockSeqFirstItem,
    BlockSeqItem,
    BlockMapFirstKey,
    BlockMapKey,
    BlockMapSimpleValue,
    BlockMapValue,
    End,
}

struct Emitter {
    out: Vec<u8>,
    best_indent: i64,
    state: State,
    states: Vec<State>,
    indent: i64,
    indents: Vec<i64>,
    flow_level: usize,
    column: i64,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    foot_indent: i64,
    simple_key_context: bool,
    head: usize,
    head_comment: Vec<u8>,
    line_comment: Vec<u8>,
    foot_comment: Vec<u8>,
    tail_comment: Vec<u8>,
    key_line_comment: Vec<u8>,
    scalar: ScalarData,
    scalar_style: Style,
}

type R = Result<()>;

fn internal(what: &str) -> Error {
    SopsError::YamlWriterBug(what.to_string()).into()
}

impl Emitter {
    fn new(indent: usize) -> Emitter {
        let best = indent as i64;
        Emitter {
            out: Vec::new(),
            best_indent: if (2..=9).contains(&best) { best } else { 2 },
            state: State::StreamStart,
            states: Vec::new(),
            indent: -1,
            indents: Vec::new(),
            flow_level: 0,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            foot_indent: -1,
            simple_key_context: false,
            head: 0,
            head_comment: Vec::new(),
            line_comment: Vec::new(),
            foot_comment: Vec::new(),
            tail_comment: Vec::new(),
            key_line_comment: Vec::new(),
            scalar: ScalarData::default(),
            scalar_style: Style::Plain,
        }
    }

    fn analyze_event(&mut self, events: &[Event], i: usize) {
        let ev = &events[i];
        if let Some(c) = &ev.comments {
            if !c.head.is_empty() {
                self.head_comment = c.head.as_bytes().to_vec();
            }
            if !c.line.is_empty() {
                self.line_comment = c.line.as_bytes().to_vec();
            }
            if !c.foot.is_empty() {
                self.foot_comment = c.foot.as_bytes().to_vec();
            }
            if !c.tail.is_empty() {
                self.tail_comment = c.tail.as_bytes().to_vec();
            }
        }
        if let Kind::Scalar(v, _) = &ev.kind {
            self.scalar = match &ev.analysis {
                Some(a) => a.clone(),
                None => analyze_scalar(v.as_bytes()),
            };
        }
    }

    fn pop_state(&mut self) -> R {
        self.state = self
            .states
            .pop()
            .ok_or_else(|| internal("state stack empty"))?;
        Ok(())
    }

    fn pop_indent(&mut self) -> R {
        self.indent = self
            .indents
            .pop()
            .ok_or_else(|| internal("indent stack empty"))?;
        Ok(())
    }

    fn state_machine(&mut self, events: &[Event], i: usize) -> R {
        match self.state {
            State::StreamStart => {
                if events[i].kind != Kind::StreamStart {
                    return Err(internal("expected stream start"));
                }
                self.indent = -1;
                self.state = State::FirstDocStart;
                Ok(())
            }
            State::FirstDocStart => self.document_start(events, i, true),
            State::DocStart => self.document_start(events, i, false),
            State::DocContent => self.document_content(events, i),
            State::DocEnd => self.document_end(events, i),
            State::FlowSeqFirstItem => self.flow_sequence_item(events, i, true, false),
            State::FlowSeqItem => self.flow_sequence_item(events, i, false, false),
            State::FlowSeqTrailItem => self.flow_sequence_item(events, i, false, true),
            State::FlowMapFirstKey => self.flow_mapping_key(events, i, true, false),
            State::FlowMapKey => self.flow_mapping_key(events, i, false, false),
            State::FlowMapTrailKey => self.flow_mapping_key(events, i, false, true),
            State::FlowMapSimpleValue => self.flow_mapping_value(events, i, true),
            State::FlowMapValue => self.flow_mapping_value(events, i, false),
            State::BlockSeqFirstItem => self.block_sequence_item(events, i, true),
            State::BlockSeqItem => self.block_sequence_item(events, i, false),
            State::BlockMapFirstKey => self.block_mapping_key(events, i, true),
            State::BlockMapKey => self.block_mapping_key(events, i, false),
            State::BlockMapSimpleValue => self.block_mapping_value(events, i, true),
            State::BlockMapValue => self.block_mapping_value(events, i, false),
            State::End => Err(internal("event after stream end")),
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            if self.states.last() == Some(&State::BlockSeqItem) {
                // go-yaml: the first indent inside a sequence just skips "- ".
                self.indent += 2;
            } else {
                // go-yaml: everything else aligns to a multiple of the indent.
                self.indent =
                    self.best_indent * ((self.indent + self.best_indent) / self.best_indent);
            }
        }
    }

    fn document_start(&mut self, events: &[Event], i: usize, first: bool) -> R {
        match events[i].kind {
            Kind::DocStart => {
                if !first {
                    self.write_indent();
                    self.write_indicator(b"---", true, false, false);
                    self.write_indent();
                }
                if !self.head_comment.is_empty() {
                    self.process_head_comment();
                    self.put_break();
                }
                self.state = State::DocContent;
                Ok(())
            }
            Kind::StreamEnd => {
                // go-yaml's encoder clears open_ended before the stream end.
                self.state = State::End;
                Ok(())
            }
            _ => Err(internal("expected document start")),
        }
    }

    fn document_content(&mut self, events: &[Event], i: usize) -> R {
        self.states.push(State::DocEnd);
        self.process_head_comment();
        self.emit_node(events, i, true, false, false, false)?;
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn document_end(&mut self, events: &[Event], i: usize) -> R {
        if events[i].kind != Kind::DocEnd {
            return Err(internal("expected document end"));
        }
        // go-yaml forces a blank line before a document's foot comment.
        self.foot_indent = 0;
        self.process_foot_comment();
        self.foot_indent = -1;
        self.write_indent();
        self.state = State::DocStart;
        Ok(())
    }

    fn flow_sequence_item(&mut self, events: &[Event], i: usize, first: bool, trail: bool) -> R {
        if first {
            self.write_indicator(b"[", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if events[i].kind == Kind::SeqEnd {
            self.flow_level -= 1;
            self.pop_indent()?;
            if self.column == 0 {
                self.write_indent();
            }
            self.write_indicator(b"]", false, false, false);
            self.process_line_comment();
            self.process_foot_comment();
            return self.pop_state();
        }
        if !first && !trail {
            self.write_indicator(b",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        let has = self.line_comment.len() + self.foot_comment.len() + self.tail_comment.len() > 0;
        self.states.push(if has {
            State::FlowSeqTrailItem
        } else {
            State::FlowSeqItem
        });
        self.emit_node(events, i, false, true, false, false)?;
        if self.line_comment.len() + self.foot_comment.len() + self.tail_comment.len() > 0 {
            self.write_indicator(b",", false, false, false);
        }
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn flow_mapping_key(&mut self, events: &[Event], i: usize, first: bool, trail: bool) -> R {
        if first {
            self.write_indicator(b"{", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if events[i].kind == Kind::MapEnd {
            if self.head_comment.len() + self.foot_comment.len() + self.tail_comment.len() > 0
                && !first
                && !trail
            {
                self.write_indicator(b",", false, false, false);
            }
            self.process_head_comment();
            self.flow_level -= 1;
            self.pop_indent()?;
            self.write_indicator(b"}", false, false, false);
            self.process_line_comment();
            self.process_foot_comment();
            return self.pop_state();
        }
        if !first && !trail {
            self.write_indicator(b",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        if self.check_simple_key(events) {
            self.states.push(State::FlowMapSimpleValue);
            return self.emit_node(events, i, false, false, true, true);
        }
        self.write_indicator(b"?", true, false, false);
        self.states.push(State::FlowMapValue);
        self.emit_node(events, i, false, false, true, false)
    }

    fn flow_mapping_value(&mut self, events: &[Event], i: usize, simple: bool) -> R {
        if simple {
            self.write_indicator(b":", false, false, false);
        } else {
            self.write_indicator(b":", true, false, false);
        }
        let has = self.line_comment.len() + self.foot_comment.len() + self.tail_comment.len() > 0;
        self.states.push(if has {
            State::FlowMapTrailKey
        } else {
            State::FlowMapKey
        });
        self.emit_node(events, i, false, false, true, false)?;
        if self.line_comment.len() + self.foot_comment.len() + self.tail_comment.len() > 0 {
            self.write_indicator(b",", false, false, false);
        }
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn block_sequence_item(&mut self, events: &[Event], i: usize, first: bool) -> R {
        if first {
            self.increase_indent(false, false);
        }
        if events[i].kind == Kind::SeqEnd {
            self.pop_indent()?;
            return self.pop_state();
        }
        self.process_head_comment();
        self.write_indent();
        self.write_indicator(b"-", true, false, true);
        self.states.push(State::BlockSeqItem);
        self.emit_node(events, i, false, true, false, false)?;
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn block_mapping_key(&mut self, events: &[Event], i: usize, first: bool) -> R {
        if first {
            self.increase_indent(false, false);
        }
        self.process_head_comment();
        if events[i].kind == Kind::MapEnd {
            self.pop_indent()?;
            return self.pop_state();
        }
        self.write_indent();
        if !self.line_comment.is_empty() {
            self.key_line_comment = std::mem::take(&mut self.line_comment);
        }
        if self.check_simple_key(events) {
            self.states.push(State::BlockMapSimpleValue);
            return self.emit_node(events, i, false, false, true, true);
        }
        self.write_indicator(b"?", true, false, true);
        self.states.push(State::BlockMapValue);
        self.emit_node(events, i, false, false, true, false)
    }

    fn block_mapping_value(&mut self, events: &[Event], i: usize, simple: bool) -> R {
        if simple {
            self.write_indicator(b":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(b":", true, false, true);
        }
        if !self.key_line_comment.is_empty() {
            match events[i].kind {
                Kind::Scalar(..) if self.line_comment.is_empty() => {
                    self.line_comment = std::mem::take(&mut self.key_line_comment);
                }
                Kind::MapStart | Kind::SeqStart => {
                    std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
                    self.process_line_comment();
                    std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
                }
                _ => {}
            }
        }
        self.states.push(State::BlockMapKey);
        self.emit_node(events, i, false, false, true, false)?;
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn emit_node(
        &mut self,
        events: &[Event],
        i: usize,
        _root: bool,
        _sequence: bool,
        _mapping: bool,
        simple_key: bool,
    ) -> R {
        self.simple_key_context = simple_key;
        match &events[i].kind {
            Kind::Scalar(value, style) => self.emit_scalar(value.as_bytes(), *style),
            Kind::SeqStart => {
                let empty = events.get(i + 1).is_some_and(|e| e.kind == Kind::SeqEnd);
                self.state = if self.flow_level > 0 || empty {
                    State::FlowSeqFirstItem
                } else {
                    State::BlockSeqFirstItem
                };
                Ok(())
            }
            Kind::MapStart => {
                let empty = events.get(i + 1).is_some_and(|e| e.kind == Kind::MapEnd);
                self.state = if self.flow_level > 0 || empty {
                    State::FlowMapFirstKey
                } else {
                    State::BlockMapFirstKey
                };
                Ok(())
            }
            _ => Err(internal("expected a node")),
        }
    }

    fn check_simple_key(&self, events: &[Event]) -> bool {
        let ev = &events[self.head];
        let len = match &ev.kind {
            Kind::Scalar(value, _) => {
                if self.scalar.multiline {
                    return false;
                }
                value.len()
            }
            Kind::SeqStart => {
                if events.get(self.head + 1).map(|e| &e.kind) != Some(&Kind::SeqEnd) {
                    return false;
                }
                0
            }
            Kind::MapStart => {
                if events.get(self.head + 1).map(|e| &e.kind) != Some(&Kind::MapEnd) {
                    return false;
                }
                0
            }
            _ => return false,
        };
        len <= 128
    }

    fn emit_scalar(&mut self, value: &[u8], style: Style) -> R {
        self.scalar_style = select_style(
            style,
            &self.scalar,
            self.simple_key_context,
            self.flow_level > 0,
        );
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match self.scalar_style {
            Style::Plain => self.write_plain(value, allow_breaks),
            Style::Single => self.write_single(value),
            Style::Double => self.write_double(value),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent()?;
        self.pop_state()
    }

    fn process_head_comment(&mut self) {
        if !self.tail_comment.is_empty() {
            self.write_indent();
            let c = std::mem::take(&mut self.tail_comment);
            self.write_comment(&c);
            self.foot_indent = self.indent.max(0);
        }
        if self.head_comment.is_empty() {
            return;
        }
        self.write_indent();
        let c = std::mem::take(&mut self.head_comment);
        self.write_comment(&c);
    }

    fn process_line_comment(&mut self) {
        if self.line_comment.is_empty() {
            return;
        }
        if !self.whitespace {
            self.put(b' ');
        }
        let c = std::mem::take(&mut self.line_comment);
        self.write_comment(&c);
    }

    fn process_foot_comment(&mut self) {
        if self.foot_comment.is_empty() {
            return;
        }
        self.write_indent();
        let c = std::mem::take(&mut self.foot_comment);
        self.write_comment(&c);
        self.foot_indent = self.indent.max(0);
    }

    fn put(&mut self, c: u8) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
        self.indention = true;
    }

    /// Copies one UTF-8 character.
    fn write(&mut self, s: &[u8], i: &mut usize) {
        let w = width(s[*i]).min(s.len() - *i);
        self.out.extend_from_slice(&s[*i..*i + w]);
        self.column += 1;
        *i += w;
    }

    fn write_break(&mut self, s: &[u8], i: &mut usize) {
        if s[*i] == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(s, i);
            self.column = 0;
            self.indention = true;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.foot_indent == indent {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
        self.foot_indent = -1;
    }

    fn write_indicator(&mut self, ind: &[u8], need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(b' ');
        }
        let mut i = 0;
        while i < ind.len() {
            self.write(ind, &mut i);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn write_comment(&mut self, comment: &[u8]) {
        let mut breaks = false;
        let mut pound = false;
        let mut i = 0;
        while i < comment.len() {
            if is_break(comment, i) {
                self.write_break(comment, &mut i);
                breaks = true;
                pound = false;
            } else {
                if breaks {
                    self.write_indent();
                }
                if !pound {
                    if comment[i] != b'#' {
                        self.put(b'#');
                        self.put(b' ');
                    }
                    pound = true;
                }
                self.write(comment, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
        if !breaks {
            self.put_break();
        }
        self.whitespace = true;
    }

    fn write_plain(&mut self, value: &[u8], _allow_breaks: bool) {
        if value == b"<<" {
            // go-yaml's node parser tags a plain "<<" as !!merge while its
            // resolver calls it a string, so the encoder keeps the tag.
            self.write_indicator(b"!!merge", true, false, false);
        }
        if !value.is_empty() && !self.whitespace {
            self.put(b' ');
        }
        // Plain style is never chosen for text with line breaks, and the
        // width is unlimited, so the text is copied as is, in one go: the column
        // counts characters, as `write` does one at a time (the text is UTF-8).
        self.out.extend_from_slice(value);
        self.column += value.iter().filter(|&&b| b & 0xC0 != 0x80).count() as i64;
        if !value.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
    }

    fn write_single(&mut self, value: &[u8]) {
        self.write_indicator(b"'", true, false, false);
        let mut breaks = false;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                if !breaks && value[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if value[i] == b'\'' {
                    self.put(b'\'');
                }
                self.write(value, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, value: &[u8]) {
        self.write_indicator(b"\"", true, false, false);
        let mut i = 0;
        while i < value.len() {
            let bom = at(value, i) == 0xEF && at(value, i + 1) == 0xBB && at(value, i + 2) == 0xBF;
            if !is_printable(value, i)
                || bom
                || is_break(value, i)
                || value[i] == b'"'
                || value[i] == b'\\'
            {
                let w = width(value[i]).min(value.len() - i);
                let v: u32 = std::str::from_utf8(&value[i..i + w])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map_or(u32::from(value[i]), u32::from);
                i += w;
                self.put(b'\\');
                let short = match v {
                    0x00 => Some(b'0'),
                    0x07 => Some(b'a'),
                    0x08 => Some(b'b'),
                    0x09 => Some(b't'),
                    0x0A => Some(b'n'),
                    0x0B => Some(b'v'),
                    0x0C => Some(b'f'),
                    0x0D => Some(b'r'),
                    0x1B => Some(b'e'),
                    0x22 => Some(b'"'),
                    0x5C => Some(b'\\'),
                    0x85 => Some(b'N'),
                    0xA0 => Some(b'_'),
                    0x2028 => Some(b'L'),
                    0x2029 => Some(b'P'),
                    _ => None,
                };
                match short {
                    Some(c) => self.put(c),
                    None => {
                        let (letter, digits) = if v <= 0xFF {
                            (b'x', 2)
                        } else if v <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(letter);
                        for k in (0..digits).rev() {
                            let d = ((v >> (4 * k)) & 0xF) as u8;
                            self.put(if d < 10 { b'0' + d } else { b'A' + d - 10 });
                        }
                    }
                }
            } else {
                self.write(value, &mut i);
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_hints(&mut self, value: &[u8]) {
        if is_space(value, 0) || is_break(value, 0) {
            let hint = [b'0' + self.best_indent as u8];
            self.write_indicator(&hint, false, false, false);
        }
        self.open_ended = false;
        let chomp = if value.is_empty() {
            Some(b'-')
        } else {
            let mut i = value.len() - 1;
            while i > 0 && value[i] & 0xC0 == 0x80 {
                i -= 1;
            }
            if !is_break(value, i) {
                Some(b'-')
            } else if i == 0 {
                Some(b'+')
            } else {
                i -= 1;
                while i > 0 && value[i] & 0xC0 == 0x80 {
                    i -= 1;
                }
                if is_break(value, i) {
                    Some(b'+')
                } else {
                    None
                }
            }
        };
        if let Some(c) = chomp {
            self.write_indicator(&[c], false, false, false);
        }
    }

    fn write_literal(&mut self, value: &[u8]) {
        self.write_indicator(b"|", true, false, false);
        self.write_block_hints(value);
        // go-yaml v3.0.4 (go.yaml.in/yaml/v3, used by sops 3.11) breaks the
        // line after the header itself, so a leading empty line survives.
        if self.line_comment.is_empty() {
            self.put_break();
        } else {
            self.process_line_comment();
        }
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inert_table_is_the_rule() {
        for c in 0..=255u8 {
            let rule =
                c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'.' | b'_' | b'-');
            assert_eq!(is_inert(c), rule, "{c}");
        }
    }

    #[test]
    fn skipping_inert_runs_changes_no_scalar_analysis() {
        // Inert bytes next to everything that matters: indicators, blanks,
        // breaks, multi-byte and non-printable characters, at every position.
        let alphabet = [
            "a", "Z", "0", "+", "/", "=", ".", "_", "-", " ", "\t", "\n", "\r", ":", "#", "?", ",",
            "[", "}", "'", "\"", "é", "\u{85}", "\u{2028}", "😀", "\u{feff}", "\u{1}", "ab", "{",
            "]", "!", "&", "*", "|", ">", "%", "@", "`", "~", "\\", "\u{7f}", "(", ";",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut cases: Vec<String> = Vec::new();
        for a in alphabet {
            for b in alphabet {
                cases.push(format!("{a}{b}"));
                for c in alphabet {
                    cases.push(format!("{a}{b}{c}"));
                }
            }
        }
        for _ in 0..20_000 {
            let len = next(16);
            cases.push((0..len).map(|_| alphabet[next(alphabet.len())]).collect());
        }
        cases.extend(
            [
                "---x",
                "...",
                "a b",
                "ENC[AES256_GCM,data:Zm9v,iv:YmFy,type:str]",
                "ENC[AES256_GCM,data:Zm9v,iv:YmFy,type:str]:",
                "https://x.example.invalid/a?b=c#d",
                "a: b",
                "a:",
                "a#b",
                "a #b",
            ]
            .map(String::from),
        );
        for v in &cases {
            assert_eq!(
                analyze(v.as_bytes(), true),
                analyze(v.as_bytes(), false),
                "{v:?}"
            );
        }
    }

    fn out(docs: &[Node]) -> String {
        String::from_utf8(emit(docs, 4).unwrap()).unwrap()
    }

    #[test]
    fn nested_maps_and_lists_use_go_yaml_indentation() {
        let doc = Node::Map(vec![
            MapItem::Entry(
                "l".into(),
                Node::Seq(vec![
                    SeqItem::Value(Node::str("a")),
                    SeqItem::Value(Node::Map(vec![
                        MapItem::Entry("k".into(), Node::str("v")),
                        MapItem::Entry(
                            "m".into(),
                            Node::Map(vec![MapItem::Entry(
                                "x".into(),
                                Node::Scalar(Scalar::Int(1)),
                            )]),
                        ),
                    ])),
                ]),
            ),
            MapItem::Entry("e".into(), Node::Map(vec![])),
        ]);
        assert_eq!(
            out(&[doc]),
            "l:\n    - a\n    - k: v\n      m:\n        x: 1\ne: {}\n"
        );
    }

    #[test]
    fn strings_are_quoted_like_go_yaml() {
        let s = |v: &str| out(&[Node::Map(vec![MapItem::Entry("k".into(), Node::str(v))])]);
        assert_eq!(s("true"), "k: \"true\"\n");
        assert_eq!(s(": x"), "k: ': x'\n");
        assert_eq!(s("it's"), "k: it's\n");
        assert_eq!(s(""), "k: \"\"\n");
        assert_eq!(s("x\n"), "k: |\n    x\n");
        assert_eq!(s(" x\ny"), "k: |4-\n     x\n    y\n");
        assert_eq!(s("😀"), "k: \"\\U0001F600\"\n");
        assert_eq!(s("a \nb"), "k: \"a \\nb\"\n");
    }
}
