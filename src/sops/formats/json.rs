//! JSON as sops 3.11 reads and writes it.
//!
//! sops reads JSON token by token with Go's `encoding/json` decoder (no
//! `UseNumber`), so key order and duplicate keys survive, every number is a
//! `float64` (up to sops 3.13.1) and anything after the top-level object is
//! never looked at. It writes with `json.Marshal` per value and
//! `json.Indent(…, "\t")` over the whole: tab indent, `"key": value`, `{}`
//! and `[]` for empty containers, HTML characters escaped, trailing newline.
//! This module reproduces both sides byte for byte; it has its own small
//! parser because `serde_json` would merge duplicate keys and reject the
//! trailing bytes Go ignores.

use super::cursor::Cursor;
use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::{go_format_float_f, MapItem, Node, Scalar, SeqItem};

/// Parses a JSON document, keeping key order (and duplicate keys).
///
/// The top level must be an object; numbers become [`Scalar::Float`], as in
/// sops ≤ 3.13.1. Bytes after the closing `}` are ignored, as sops does.
pub fn parse(input: &[u8]) -> Result<Node> {
    let mut p = Parser::new(input);
    p.skip_ws();
    match p.peek() {
        Some(b'{') => {
            p.i += 1;
            p.object(0)
        }
        Some(b'[') => Err(SopsError::JsonTopLevelArray.into()),
        None => Err(Error::new("cannot read JSON: the file is empty")),
        Some(_) => Err(SopsError::JsonTopLevelNotObject.into()),
    }
}

/// Writes a document the way sops does (tab indent, trailing newline).
pub fn emit(doc: &Node) -> Result<Vec<u8>> {
    emit_indented(doc, None)
}

/// [`emit`] with `.sops.yaml`'s `stores.json.indent`: `None` (sops' default, -1) is a
/// tab per level, `Some(n)` n spaces (0: a new line per value, no indentation), as Go's
/// `json.Indent` does.
pub fn emit_indented(doc: &Node, spaces: Option<usize>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let unit = match spaces {
        None => vec![b'\t'],
        Some(n) => vec![b' '; n],
    };
    write_node(&mut out, doc, 0, &unit)?;
    out.push(b'\n');
    Ok(out)
}

/// [`emit_indented`] for a map with `last` as its final entry (an encrypted file's
/// `sops` metadata), without copying the map to append it.
pub fn emit_indented_with_last(
    doc: &Node,
    last: &MapItem,
    spaces: Option<usize>,
) -> Result<Vec<u8>> {
    let Node::Map(items) = doc else {
        return Err(SopsError::EncryptTopLevelNotMap.into());
    };
    let mut out = Vec::new();
    let unit = match spaces {
        None => vec![b'\t'],
        Some(n) => vec![b' '; n],
    };
    write_map(
        &mut out,
        items.iter().chain(std::iter::once(last)),
        0,
        &unit,
    )?;
    out.push(b'\n');
    Ok(out)
}

/// Writes one value as sops' `EmitValue` does (`--extract`): indented like a
/// file, without the trailing newline.
pub fn emit_value(node: &Node) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_node(&mut out, node, 0, b"\t")?;
    Ok(out)
}

/// Nesting deeper than this is refused rather than overflowing the stack
/// (the parser, the emitter and the tree walkers all recurse; debug builds
/// use about 2 KiB per level). Go allows 10 000; no secrets file comes near
/// either. The YAML reader uses the same bound.
pub(crate) const MAX_DEPTH: usize = 256;

/// The JSON reader is a [`Cursor`] with the steps below (private to this module).
type Parser<'a> = Cursor<'a>;

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> Error {
        let found = match self.peek() {
            None => "end of input".to_string(),
            Some(c) => crate::sops::formats::yaml::shown_char(c as char),
        };
        SopsError::JsonSyntax {
            what: what.to_string(),
            found,
            at: self.i,
        }
        .into()
    }

    /// The items of an object or array, after its opening bracket, each read by `item`,
    /// up to the `close` byte; `after_item` is the error for anything else after an item.
    fn items<T>(
        &mut self,
        depth: usize,
        close: u8,
        after_item: &str,
        mut item: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Vec<T>> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(items);
                }
                _ => return Err(self.err(after_item)),
            }
        }
    }

    /// After the opening `{`.
    fn object(&mut self, depth: usize) -> Result<Node> {
        let after = "expected ',' or '}' after object value";
        let items = self.items(depth, b'}', after, |p| {
            p.skip_ws();
            if p.peek() != Some(b'"') {
                return Err(p.err("expected an object key string"));
            }
            p.i += 1;
            let key = p.string()?;
            p.skip_ws();
            if p.peek() != Some(b':') {
                return Err(p.err("expected ':' after object key"));
            }
            p.i += 1;
            Ok(MapItem::Entry(key, p.value(depth)?))
        })?;
        Ok(Node::Map(items))
    }

    /// After the opening `[`.
    fn array(&mut self, depth: usize) -> Result<Node> {
        let after = "expected ',' or ']' after array element";
        let items = self.items(depth, b']', after, |p| Ok(SeqItem::Value(p.value(depth)?)))?;
        Ok(Node::Seq(items))
    }

    fn value(&mut self, depth: usize) -> Result<Node> {
        self.skip_ws();
        let scalar = match self.peek() {
            Some(b'{') => {
                self.i += 1;
                return self.object(depth + 1);
            }
            Some(b'[') => {
                self.i += 1;
                return self.array(depth + 1);
            }
            Some(b'"') => {
                self.i += 1;
                Scalar::Str(self.string()?)
            }
            Some(b't') => self.literal("true", Scalar::Bool(true))?,
            Some(b'f') => self.literal("false", Scalar::Bool(false))?,
            Some(b'n') => self.literal("null", Scalar::Null)?,
            Some(b'-' | b'0'..=b'9') => Scalar::Float(self.number()?),
            _ => return Err(self.err("expected a value")),
        };
        Ok(Node::Scalar(scalar))
    }

    fn literal(&mut self, word: &str, value: Scalar) -> Result<Scalar> {
        if self.bytes[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(self.err(&format!("expected '{word}'")))
        }
    }

    /// A number in JSON's grammar, read as Go's `ParseFloat` would.
    fn number(&mut self) -> Result<f64> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i - from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.err("expected a digit in number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.err("expected a digit after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
        }
        // The grammar above admits only ASCII, so this is valid UTF-8.
        let text = std::str::from_utf8(&self.bytes[start..self.i]).unwrap_or("");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(f),
            _ => Err(SopsError::JsonNumberTooLarge { at: start }.into()),
        }
    }

    /// After the opening `"`. Invalid UTF-8 and lone surrogates become
    /// U+FFFD, byte by byte, as Go's decoder does.
    fn string(&mut self) -> Result<String> {
        let mut raw: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(go_lossy_utf8(&raw));
                }
                b'\\' => {
                    self.i += 1;
                    let esc = self.peek();
                    self.i += 1;
                    let ch = match esc {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => {
                            self.i -= 1;
                            return Err(self.err("invalid escape in string"));
                        }
                    };
                    let mut buf = [0u8; 4];
                    raw.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(self.err("control character in string")),
                _ => {
                    raw.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// After `\u`: four hex digits, pairing surrogates like Go.
    fn unicode_escape(&mut self) -> Result<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.bytes[self.i..].starts_with(b"\\u") {
            let save = self.i;
            self.i += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            // Not a pair: the high half is replaced, the next escape is read on its own.
            self.i = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self.bytes.get(self.i..self.i + 4).unwrap_or(&[]);
        let text = std::str::from_utf8(digits).unwrap_or("");
        if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err("invalid \\u escape"));
        }
        self.i += 4;
        u32::from_str_radix(text, 16).map_err(|_| self.err("invalid \\u escape"))
    }
}

/// Decodes bytes as Go does when it reads a string: each byte that does not
/// start a valid UTF-8 sequence becomes one U+FFFD.
pub(crate) fn go_lossy_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push('\u{FFFD}');
        }
    }
    out
}

fn indent(out: &mut Vec<u8>, level: usize, unit: &[u8]) {
    out.push(b'\n');
    for _ in 0..level {
        out.extend_from_slice(unit);
    }
}

/// A map with these items (comments are not written: JSON has none).
fn write_map<'a>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = &'a MapItem>,
    level: usize,
    unit: &[u8],
) -> Result<()> {
    let entries = items.filter_map(|i| match i {
        MapItem::Entry(k, v) => Some((k, v)),
        MapItem::Comment(_) => None,
    });
    let mut empty = true;
    out.push(b'{');
    for (k, v) in entries {
        if !empty {
            out.push(b',');
        }
        empty = false;
        indent(out, level + 1, unit);
        write_string(out, k.as_bytes());
        out.extend_from_slice(b": ");
        write_node(out, v, level + 1, unit)?;
    }
    if !empty {
        indent(out, level, unit);
    }
    out.push(b'}');
    Ok(())
}

fn write_node(out: &mut Vec<u8>, node: &Node, level: usize, unit: &[u8]) -> Result<()> {
    match node {
        Node::Map(items) => write_map(out, items.iter(), level, unit)?,
        Node::Seq(items) => {
            let values = items.iter().filter_map(|i| match i {
                SeqItem::Value(v) => Some(v),
                SeqItem::Comment(_) => None,
            });
            let mut empty = true;
            out.push(b'[');
            for v in values {
                if !empty {
                    out.push(b',');
                }
                empty = false;
                indent(out, level + 1, unit);
                write_node(out, v, level + 1, unit)?;
            }
            if !empty {
                indent(out, level, unit);
            }
            out.push(b']');
        }
        Node::Scalar(s) => write_scalar(out, s)?,
    }
    Ok(())
}

fn write_scalar(out: &mut Vec<u8>, s: &Scalar) -> Result<()> {
    match s {
        Scalar::Null => out.extend_from_slice(b"null"),
        Scalar::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Scalar::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Scalar::Float(f) => out.extend_from_slice(go_json_float(*f)?.as_bytes()),
        Scalar::Str(t) | Scalar::Time(t) => write_string(out, t.as_bytes()),
        // sops holds binary data as a Go string, which marshals as text.
        Scalar::Bytes(b) => write_string(out, b),
    }
    Ok(())
}

/// A float as Go's `json.Marshal` writes it: `'f'` form, switching to `'e'`
/// below 1e-6 and from 1e21 on, with Go's `e-07` → `e-7` clean-up.
pub fn go_json_float(f: f64) -> Result<String> {
    if !f.is_finite() {
        return Err(SopsError::JsonNotFinite(f).into());
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // `{:e}` gives the shortest round-trip mantissa, like Go's precision -1.
        let e = format!("{f:e}");
        let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0")); // ok: `{:e}` always has an 'e'
        return Ok(match exp.strip_prefix('-') {
            Some(neg) => format!("{mantissa}e-{neg}"),
            None => format!("{mantissa}e+{exp:0>2}"),
        });
    }
    Ok(go_format_float_f(f))
}

/// A string as Go's `json.Marshal` writes it with HTML escaping (the
/// default): `<>&` and U+2028/U+2029 as `\u…`, control characters escaped,
/// each invalid UTF-8 byte as `\ufffd`.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                '\u{c}' => out.extend_from_slice(b"\\f"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{0}'..='\u{1f}' | '<' | '>' | '&' => {
                    let b = c as u8;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                '\u{2028}' => out.extend_from_slice(b"\\u2028"),
                '\u{2029}' => out.extend_from_slice(b"\\u2029"),
                _ => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for _ in chunk.invalid() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::formats::Format;

    #[test]
    fn floats_match_go_marshal() {
        let cases = [
            (1.0, "1"),
            (1e3, "1000"),
            (12345678901234567890.0, "12345678901234567000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
            (1e-100, "1e-100"),
            (0.000001, "0.000001"),
            (-0.0, "-0"),
            (-1.5, "-1.5"),
            (999999999999999900000.0, "999999999999999900000"),
        ];
        for (f, want) in cases {
            assert_eq!(go_json_float(f).unwrap(), want, "{f:e}");
        }
        assert!(go_json_float(f64::NAN).is_err());
    }

    #[test]
    fn strings_escape_like_go() {
        let mut out = Vec::new();
        write_string(
            &mut out,
            b"<a&b>\x01\x08\x0c\t\n\r\"\\\x7f \xe2\x80\xa8 \xff\xe2\x82",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""\u003ca\u0026b\u003e\u0001\b\f\t\n\r\"\\"#.to_string()
                + "\u{7f} \\u2028 \\ufffd\\ufffd\\ufffd\""
        );
    }

    #[test]
    fn parse_keeps_order_duplicates_and_ignores_trailing_bytes() {
        assert_eq!(
            Format::Json.round_trip(r#" {"b":1,"a":[],"a":{},"n":null} junk"#),
            "{\n\t\"b\": 1,\n\t\"a\": [],\n\t\"a\": {},\n\t\"n\": null\n}\n"
        );
    }

    #[test]
    fn parse_decodes_escapes_and_bad_utf8_like_go() {
        let doc = parse(b"{\"s\":\"\\ud83d\\ude00 \\ud800 \\u00e9 \xff\"}").unwrap();
        assert_eq!(
            doc.get("s").and_then(Node::as_str),
            Some("\u{1F600} \u{FFFD} é \u{FFFD}")
        );
    }

    #[test]
    fn numbers_are_floats() {
        let doc = parse(br#"{"i":1,"f":1.0,"e":-2E2}"#).unwrap();
        assert_eq!(doc.get("i"), Some(&Node::Scalar(Scalar::Float(1.0))));
        assert_eq!(doc.get("e"), Some(&Node::Scalar(Scalar::Float(-200.0))));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "[1]",
            "\"x\"",
            "",
            "{\"a\":1e400}",
            "{\"a\":\"x\ny\"}",
            "{\"a\":1,}",
            "{\"a\":01}",
            "{\"a\":-}",
            "{\"a\" 1}",
            "{\"a\":tru}",
            "{\"a\":\"\\x\"}",
            "{\"a\":1",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(250), "]".repeat(250));
        let doc = parse(ok.as_bytes()).unwrap();
        assert!(emit(&doc).is_ok());
        let deep = format!("{{\"a\":{}", "[".repeat(100_000));
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn empty_object_and_nested_arrays() {
        assert_eq!(Format::Json.round_trip("{}"), "{}\n");
        assert_eq!(
            Format::Json.round_trip(r#"{"a":[[1,[]],{"x":{}}]}"#),
            "{\n\t\"a\": [\n\t\t[\n\t\t\t1,\n\t\t\t[]\n\t\t],\n\t\t{\n\t\t\t\"x\": {}\n\t\t}\n\t]\n}\n"
        );
    }
}
