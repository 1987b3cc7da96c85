//! INI as sops 3.11 reads and writes it: `gopkg.in/ini.v1` 1.67 with
//! `AllowNonUniqueSections`, wrapped by `stores/ini/store.go`.
//!
//! Reading follows go-ini's parser: keys before any header go to a
//! `DEFAULT` section that always comes first (even when empty); `=` or `:`
//! separate key and value; values are trimmed, lose an inline `#`/`;`
//! comment and one pair of surrounding quotes, may be `"""…"""` or `` `…` ``
//! quoted (also over several lines) or continued with a trailing `\`; a
//! repeated key overwrites the earlier value in place; comment lines attach
//! to the next key or section header and lose their `;`/`#` marks.
//!
//! Writing follows go-ini's pretty writer: `key = value` with `=` aligned per
//! section, values quoted when they need it, comments before their key as
//! `; text`, a blank line between sections. Each section becomes a map and
//! each key a string, so the AAD of a value is `section:key:`. Metadata is a
//! `[sops]` section of flattened keys, written sorted (3.11 writes it in
//! random order, 3.13 sorted; any order is read).

use super::flatten::{unflatten_metadata, value_to_string, Place};
use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::{MapItem, Node};

/// go-ini's name for the section of keys before the first header.
const DEFAULT_SECTION: &str = "DEFAULT";
/// The section that holds sops' metadata.
const SOPS_SECTION: &str = "sops";
/// The metadata as a last `[sops]` section of flattened keys.
pub(crate) const METADATA: Place = Place::Section(SOPS_SECTION);

struct Section {
    name: String,
    comment: String,
    keys: Vec<Key>,
}

struct Key {
    name: String,
    value: String,
    comment: String,
}

impl Section {
    fn new(name: String) -> Self {
        Section {
            name,
            comment: String::new(),
            keys: Vec::new(),
        }
    }

    /// go-ini's `NewKey` without shadows: a repeated name keeps its place and
    /// takes the new value. Returns the key so the caller can set its comment.
    fn set(&mut self, name: &str, value: String) -> &mut Key {
        let pos = match self.keys.iter().position(|k| k.name == name) {
            Some(pos) => {
                self.keys[pos].value = value;
                pos
            }
            None => {
                self.keys.push(Key {
                    name: name.to_string(),
                    value,
                    comment: String::new(),
                });
                self.keys.len() - 1
            }
        };
        &mut self.keys[pos]
    }
}

fn parse_error(msg: String) -> Error {
    SopsError::IniSyntax(msg).into()
}

/// Parses an INI file into a map of sections, each a map of string values
/// with its comments.
pub fn parse(input: &[u8]) -> Result<Node> {
    let input = strip_bom(input);
    let text = std::str::from_utf8(input).map_err(|e| SopsError::NotUtf8 {
        format: "INI",
        detail: e.to_string(),
    })?;
    let sections = parse_sections(text)?;
    let items = sections
        .into_iter()
        .map(|sec| {
            let mut items = Vec::new();
            if !sec.comment.is_empty() {
                items.push(MapItem::Comment(
                    strip_comment_char(&sec.comment).to_string(),
                ));
            }
            for key in sec.keys {
                items.push(MapItem::Entry(key.name, Node::str(key.value)));
                if !key.comment.is_empty() {
                    items.push(MapItem::Comment(
                        strip_comment_char(&key.comment).to_string(),
                    ));
                }
            }
            MapItem::Entry(sec.name, Node::Map(items))
        })
        .collect();
    Ok(Node::Map(items))
}

/// go-ini skips a UTF-16 byte-order mark (two bytes) or a UTF-8 one.
fn strip_bom(input: &[u8]) -> &[u8] {
    match input {
        [0xFE, 0xFF, rest @ ..] | [0xFF, 0xFE, rest @ ..] => rest,
        [0xEF, 0xBB, 0xBF, rest @ ..] => rest,
        _ => input,
    }
}

/// sops' `stripCommentChar`: leading `;`/`#` marks and spaces go.
fn strip_comment_char(c: &str) -> &str {
    if c.starts_with(';') {
        c.trim_start_matches([';', ' '])
    } else if c.starts_with('#') {
        c.trim_start_matches(['#', ' '])
    } else {
        c
    }
}

/// Lines as go-ini reads them: each with its `\n`, the last one without.
struct Lines<'a> {
    rest: &'a str,
    eof: bool,
    /// The number of the line last read (1-based), for errors: they name lines, never
    /// their text, which may hold a secret.
    n: usize,
}

impl<'a> Lines<'a> {
    /// go-ini's `readUntil('\n')`: at the end it yields what is left (maybe
    /// nothing) and marks end of input.
    fn next_line(&mut self) -> &'a str {
        self.n += 1;
        match self.rest.find('\n') {
            Some(i) => {
                // Like Go, the end is only noticed by the read after the
                // last `\n`, which yields an empty line.
                let (line, rest) = self.rest.split_at(i + 1);
                self.rest = rest;
                line
            }
            None => {
                self.eof = true;
                std::mem::take(&mut self.rest)
            }
        }
    }
}

fn parse_sections(text: &str) -> Result<Vec<Section>> {
    let mut sections = vec![Section::new(DEFAULT_SECTION.to_string())];
    let mut comment = String::new();
    let mut auto_count = 1usize;
    let mut lines = Lines {
        rest: text,
        eof: false,
        n: 0,
    };
    while !lines.eof {
        let raw = lines.next_line();
        let line = raw.trim_start();
        if line.is_empty() {
            continue;
        }
        if line.starts_with(['#', ';']) {
            comment.push_str(line);
            continue;
        }
        if let Some(after) = line.strip_prefix('[') {
            let Some(close) = after.rfind(']') else {
                return Err(parse_error(format!(
                    "line {}: a section header without its closing ']'",
                    lines.n
                )));
            };
            let name = &after[..close];
            if name.is_empty() {
                return Err(parse_error(format!("line {}: empty section name", lines.n)));
            }
            if let Some(i) = after[close + 1..].find(['#', ';']) {
                comment.push_str(&after[close + 1 + i..]);
            }
            let mut sec = Section::new(name.to_string());
            sec.comment = comment.trim().to_string();
            comment.clear();
            auto_count = 1;
            sections.push(sec);
            continue;
        }
        let n = lines.n;
        let (mut name, offset) = read_key_name(line, n)?;
        if name == "-" {
            name = format!("#{auto_count}");
            auto_count += 1;
        }
        let value = read_value(&line[offset..], &mut lines, &mut comment)?;
        if name.is_empty() {
            return Err(parse_error(format!("line {n}: empty key name")));
        }
        let sec = sections
            .last_mut()
            .ok_or_else(|| parse_error("no section".into()))?; // ok: never empty
        let key = sec.set(&name, value);
        key.comment = comment.trim().to_string();
        comment.clear();
    }
    Ok(sections)
}

/// go-ini's `readKeyName` with delimiters `=:`: the trimmed key and the
/// offset just after the delimiter. Keys may be quoted with `"`, `"""` or `` ` ``.
fn read_key_name(line: &str, n: usize) -> Result<(String, usize)> {
    if let Some(quote) = opening_quote(line, 6, true) {
        let start = quote.len();
        let Some(pos) = line[start..].find(quote) else {
            return Err(parse_error(format!(
                "line {n}: a quoted key without its closing quote"
            )));
        };
        let pos = pos + start;
        // go-ini looks for the delimiter `len(quote)` bytes after the closing
        // quote starts; stay on a char boundary if that lands inside a char.
        let from = pos + start;
        let Some(i) = line.get(from..).and_then(|s| s.find(['=', ':'])) else {
            return Err(parse_error(format!(
                "line {n}: no key-value delimiter ('=' or ':') after the key"
            )));
        };
        return Ok((line[start..pos].trim().to_string(), from + i + 1));
    }
    match line.find(['=', ':']) {
        None => Err(SopsError::IniNoDelimiter { line: n }.into()),
        Some(0) => Err(parse_error(format!("line {n}: empty key name"))),
        Some(end) => Ok((line[..end].trim().to_string(), end + 1)),
    }
}

/// The quote a key or value opens with, as go-ini tells them: `"""` on a line longer
/// than `triple_longer_than` bytes, a lone `"` only where `lone_double` (keys), or `` ` ``.
fn opening_quote(line: &str, triple_longer_than: usize, lone_double: bool) -> Option<&'static str> {
    if line.len() > triple_longer_than && line.starts_with("\"\"\"") {
        Some("\"\"\"")
    } else if lone_double && line.starts_with('"') {
        Some("\"")
    } else if line.starts_with('`') {
        Some("`")
    } else {
        None
    }
}

/// go-ini's `readValue` with sops' options (continuation lines and inline
/// comments on, no Python multi-line values, no unescaping).
fn read_value(rest: &str, lines: &mut Lines<'_>, comment: &mut String) -> Result<String> {
    let line = rest.trim_start();
    if line.is_empty() {
        return Ok(String::new());
    }
    if let Some(quote) = opening_quote(line, 3, false) {
        let start = quote.len();
        return match line[start..].rfind(quote) {
            Some(pos) => Ok(line[start..start + pos].to_string()),
            None => read_multilines(&line[start..], quote, lines, comment),
        };
    }
    let line = line.trim();
    if let Some(head) = line.strip_suffix('\\') {
        return Ok(read_continuation_lines(head.to_string(), lines));
    }
    let mut line = line;
    if let Some(i) = line.find(['#', ';']) {
        comment.push_str(&line[i..]);
        line = line[..i].trim();
    }
    if has_surrounded_quote(line, '\'') || has_surrounded_quote(line, '"') {
        line = &line[1..line.len() - 1];
    }
    Ok(line.to_string())
}

/// A quoted value that goes on over the following lines, up to the last
/// closing quote on a line; what follows that quote may hold a comment.
fn read_multilines(
    head: &str,
    quote: &str,
    lines: &mut Lines<'_>,
    comment: &mut String,
) -> Result<String> {
    let mut val = head.to_string();
    let start = lines.n;
    loop {
        let next = lines.next_line();
        if let Some(pos) = next.rfind(quote) {
            val.push_str(&next[..pos]);
            if let Some(i) = next[pos..].find(['#', ';']) {
                comment.push_str(next[pos + i..].trim());
            }
            return Ok(val);
        }
        val.push_str(next);
        if lines.eof {
            return Err(parse_error(format!(
                "line {start}: a quoted value without its closing quote"
            )));
        }
    }
}

/// Lines ending in `\` continue on the next line (trimmed) until a line
/// without it or an empty line.
fn read_continuation_lines(mut val: String, lines: &mut Lines<'_>) -> String {
    loop {
        // At the end this reads "", which ends the value like an empty line.
        let next = lines.next_line().trim();
        if next.is_empty() {
            return val;
        }
        val.push_str(next);
        match val.strip_suffix('\\') {
            Some(head) => val.truncate(head.len()),
            None => return val,
        }
    }
}

/// True when `s` is `q…q` with no other `q` inside.
fn has_surrounded_quote(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && !s[1..s.len() - 1].contains(q)
}

/// Writes a map of sections the way sops (through go-ini) writes INI.
pub fn emit(doc: &Node) -> Result<Vec<u8>> {
    let sections = to_sections(doc)?;
    let mut out = Vec::new();
    let last = sections.len().saturating_sub(1);
    for (i, sec) in sections.iter().enumerate() {
        push_comment(&mut out, &sec.comment, false);
        if i > 0 || sec.name.to_uppercase() != DEFAULT_SECTION {
            out.push(b'[');
            out.extend_from_slice(sec.name.as_bytes());
            out.extend_from_slice(b"]\n");
        } else if sec.keys.is_empty() {
            // go-ini writes nothing for an empty leading default section.
            continue;
        }
        let quoted: Vec<String> = sec.keys.iter().map(|k| quote_key(&k.name)).collect();
        let align = quoted.iter().map(String::len).max().unwrap_or(0);
        for (key, name) in sec.keys.iter().zip(&quoted) {
            push_comment(&mut out, &key.comment, true);
            out.extend_from_slice(name.as_bytes());
            out.extend(std::iter::repeat_n(b' ', align - name.len()));
            out.extend_from_slice(b" = ");
            out.extend_from_slice(quote_value(&key.value).as_bytes());
            out.push(b'\n');
        }
        if i != last {
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// Writes a section's or a key's comment as go-ini does, a line each: a line that
/// starts with `;` or `#` as the mark, one space and the trimmed rest; another line
/// after `; `, trimmed for a key's comment (`trim_unmarked`), kept as it is for a section's.
fn push_comment(out: &mut Vec<u8>, comment: &str, trim_unmarked: bool) {
    if comment.is_empty() {
        return;
    }
    for line in comment.split('\n') {
        if line.starts_with(['#', ';']) {
            out.extend_from_slice(&line.as_bytes()[..1]);
            out.push(b' ');
            out.extend_from_slice(line[1..].trim().as_bytes());
        } else {
            out.extend_from_slice(b"; ");
            let line = if trim_unmarked { line.trim() } else { line };
            out.extend_from_slice(line.as_bytes());
        }
        out.push(b'\n');
    }
}

/// go-ini quotes a key with a quote or delimiter in backticks, one with a
/// backtick in triple quotes.
fn quote_key(name: &str) -> String {
    if name.contains(['"', '=', ':']) {
        format!("`{name}`")
    } else if name.contains('`') {
        format!("\"\"\"{name}\"\"\"")
    } else {
        name.to_string()
    }
}

/// go-ini quotes a value with a newline or backtick in triple quotes, one
/// with a comment mark in backticks, one with outer spaces in double quotes.
fn quote_value(val: &str) -> String {
    if val.contains(['\n', '`']) {
        format!("\"\"\"{val}\"\"\"")
    } else if val.contains(['#', ';']) {
        format!("`{val}`")
    } else if val.trim().len() != val.len() {
        format!("\"{val}\"")
    } else {
        val.to_string()
    }
}

/// The sections sops' `encodeTree` builds from the tree: a leading comment
/// is the section's comment, a later one replaces the comment of the key
/// before it, a repeated key overwrites the earlier value in place.
fn to_sections(doc: &Node) -> Result<Vec<Section>> {
    let Node::Map(items) = doc else {
        return Err(Error::new("an INI file holds a map of sections"));
    };
    let mut sections = Vec::new();
    for item in items {
        let MapItem::Entry(name, value) = item else {
            continue;
        };
        if name.is_empty() {
            return Err(Error::new("cannot write INI: empty section name"));
        }
        let Node::Map(entries) = value else {
            return Err(SopsError::IniNotSection { name: name.clone() }.into());
        };
        let mut sec = Section::new(name.clone());
        let mut rest = entries.as_slice();
        if let Some((MapItem::Comment(c), tail)) = rest.split_first() {
            sec.comment = c.clone();
            rest = tail;
        }
        let mut last: Option<usize> = None;
        for entry in rest {
            match entry {
                MapItem::Comment(c) => {
                    if let Some(k) = last {
                        sec.keys[k].comment = c.clone();
                    }
                }
                MapItem::Entry(k, v) => {
                    if k.is_empty() {
                        return Err(Error::new(format!(
                            "cannot write INI: empty key name in section '{name}'"
                        )));
                    }
                    let Node::Scalar(s) = v else {
                        return Err(SopsError::IniNested {
                            section: name.clone(),
                            key: k.clone(),
                        }
                        .into());
                    };
                    let text = String::from_utf8_lossy(&value_to_string(s)).into_owned();
                    sec.set(k, text);
                    last = sec.keys.iter().position(|key| &key.name == k);
                }
            }
        }
        sections.push(sec);
    }
    Ok(sections)
}

/// Removes the `[sops]` section(s) and returns the first one's keys as the
/// nested metadata map (the shape of the YAML/JSON `sops:` map); `None` when
/// there is no such section.
pub fn take_metadata(doc: &mut Node) -> Result<Option<Node>> {
    let Node::Map(items) = doc else {
        return Ok(None);
    };
    let mut found: Option<Node> = None;
    items.retain(|item| match item {
        MapItem::Entry(name, value) if name == SOPS_SECTION => {
            found.get_or_insert_with(|| value.clone());
            false
        }
        _ => true,
    });
    let Some(Node::Map(section)) = found else {
        return Ok(None);
    };
    let flat = section
        .into_iter()
        .filter_map(|item| match item {
            MapItem::Entry(k, Node::Scalar(s)) => Some((
                k,
                String::from_utf8_lossy(&value_to_string(&s)).into_owned(),
            )),
            _ => None,
        })
        .collect();
    unflatten_metadata(flat).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::formats::flatten::put_metadata;
    use crate::sops::formats::Format;

    #[test]
    fn default_section_comes_first_and_is_skipped_when_empty() {
        let doc = parse(b"[a]\nk=v\n").unwrap();
        let Node::Map(items) = &doc else { panic!() };
        assert!(
            matches!(&items[0], MapItem::Entry(n, Node::Map(m)) if n == "DEFAULT" && m.is_empty())
        );
        assert_eq!(Format::Ini.round_trip("[a]\nk=v\n"), "[a]\nk = v\n");
        assert_eq!(
            Format::Ini.round_trip("top=1\n[a]\nk=v\n"),
            "top = 1\n\n[a]\nk = v\n"
        );
    }

    #[test]
    fn values_lose_quotes_comments_and_continuations() {
        let doc = parse(
            b"[s]\na = \"q\"  ; c\nb = 'x'\nc = `back#tick` ; gone\nd = has # hash\ne = cont \\\n  inued\n\
              f = \"\"\"m1\r\nm2\"\"\" ; after\ng:colon\n",
        )
        .unwrap();
        let s = doc.get("s").unwrap();
        assert_eq!(s.get("a"), Some(&Node::str("q")));
        assert_eq!(s.get("b"), Some(&Node::str("x")));
        assert_eq!(s.get("c"), Some(&Node::str("back#tick")));
        assert_eq!(s.get("d"), Some(&Node::str("has")));
        assert_eq!(s.get("e"), Some(&Node::str("cont inued")));
        assert_eq!(s.get("f"), Some(&Node::str("m1\r\nm2")));
        assert_eq!(s.get("g"), Some(&Node::str("colon")));
        let Node::Map(items) = s else { panic!() };
        assert_eq!(items[1], MapItem::Comment("c".into()));
    }

    #[test]
    fn comments_attach_to_the_next_key_or_header() {
        let out =
            Format::Ini.round_trip("; file\n# two\ntop = 1\n[s] ; inline\n; k\nk = v\n; end\n");
        assert_eq!(out, "; file\n# two\ntop = 1\n\n; inline\n[s]\n; k\nk = v\n");
    }

    #[test]
    fn repeated_key_overwrites_in_place_and_drops_its_comment() {
        assert_eq!(
            Format::Ini.round_trip("[s]\n; c\na = 1\nb = 2\na = 3\n"),
            "[s]\na = 3\nb = 2\n"
        );
    }

    #[test]
    fn writer_aligns_and_quotes_like_go_ini() {
        let out = Format::Ini.round_trip(
            "[s]\n\"q:k\" = \"  padded  \"\n`b\"k` = x\nkey`tick = `a;b`\nlong_key_name_here=\nv = \"\"\"l1\nl2\"\"\"\n",
        );
        assert_eq!(
            out,
            "[s]\n`q:k`              = \"  padded  \"\n`b\"k`              = x\n\
             \"\"\"key`tick\"\"\"     = `a;b`\nlong_key_name_here = \nv                  = \"\"\"l1\nl2\"\"\"\n"
        );
    }

    #[test]
    fn explicit_default_and_duplicate_sections_stay_apart() {
        assert_eq!(
            Format::Ini.round_trip("\u{feff}[DEFAULT]\r\nk = v\r\n[a]\r\nx=1\r\n[a]\r\ny=2\r\n"),
            "[DEFAULT]\nk = v\n\n[a]\nx = 1\n\n[a]\ny = 2\n"
        );
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "novalue\n",
            "[unclosed\n",
            "[]\n",
            "=x\n",
            "[s]\nk = \"\"\"open\nmore\n",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metadata_section_round_trips() {
        let text = "[s]\nk = ENC[x]\n\n[sops]\nversion = 3.11.0\nage__list_0__map_enc = a\\nb\\n\n\
                    age__list_0__map_recipient = age1x\nlastmodified = 2024-01-01T00:00:00Z\nmac = ENC[m]\n";
        let mut doc = parse(text.as_bytes()).unwrap();
        let md = take_metadata(&mut doc).unwrap().unwrap();
        assert_eq!(md.get("version"), Some(&Node::str("3.11.0")));
        assert!(doc.get("sops").is_none());
        let out =
            String::from_utf8(emit(&put_metadata(&doc, &md, METADATA).unwrap()).unwrap()).unwrap();
        assert_eq!(
            out,
            "[s]\nk = ENC[x]\n\n[sops]\nage__list_0__map_enc       = a\\nb\\n\n\
             age__list_0__map_recipient = age1x\nlastmodified               = 2024-01-01T00:00:00Z\n\
             mac                        = ENC[m]\nversion                    = 3.11.0\n"
        );
    }
}
