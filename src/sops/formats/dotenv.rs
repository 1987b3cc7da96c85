//! dotenv as sops 3.11 reads and writes it (`stores/dotenv/store.go`).
//!
//! Deliberately simple, like sops: one `KEY=value` per line split at the
//! first `=`, nothing trimmed, no quotes or `export` understood; a literal
//! `\n` in a value is a newline; lines starting with `#` are comments; empty
//! lines vanish. Metadata sits in the same file as flattened, sorted
//! `sops_*` keys.

use super::flatten::{unflatten_metadata, value_to_string, Place};
use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::{MapItem, Node, Scalar};

/// The prefix that marks metadata keys.
const SOPS_PREFIX: &str = "sops_";
/// The metadata as flattened `sops_*` keys after the document's own.
pub(crate) const METADATA: Place = Place::Keys(SOPS_PREFIX);

/// Parses a dotenv file into a flat map of strings and comments.
pub fn parse(input: &[u8]) -> Result<Node> {
    let text = std::str::from_utf8(input).map_err(|e| SopsError::NotUtf8 {
        format: "dotenv",
        detail: e.to_string(),
    })?;
    let mut items = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            items.push(MapItem::Comment(comment.to_string()));
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            // The line is not shown: it may be (part of) a secret value.
            return Err(SopsError::DotenvNoEquals { line: n + 1 }.into());
        };
        items.push(MapItem::Entry(
            key.to_string(),
            Node::str(value.replace("\\n", "\n")),
        ));
    }
    Ok(Node::Map(items))
}

/// Writes a flat map as dotenv: `KEY=value` lines (newlines in strings as
/// `\n`), comments as `#text`.
pub fn emit(doc: &Node) -> Result<Vec<u8>> {
    let Node::Map(items) = doc else {
        return Err(Error::new("a dotenv file holds a flat map of keys"));
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            MapItem::Comment(c) => {
                out.push(b'#');
                out.extend_from_slice(c.as_bytes());
            }
            MapItem::Entry(key, Node::Scalar(s)) => {
                out.extend_from_slice(key.as_bytes());
                out.push(b'=');
                match s {
                    Scalar::Str(t) => out.extend_from_slice(t.replace('\n', "\\n").as_bytes()),
                    Scalar::Bytes(b) => escape_newlines(&mut out, b),
                    other => out.extend_from_slice(&value_to_string(other)),
                }
            }
            MapItem::Entry(key, _) => {
                return Err(SopsError::DotenvNested { key: key.clone() }.into())
            }
        }
        out.push(b'\n');
    }
    Ok(out)
}

fn escape_newlines(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            out.extend_from_slice(b"\\n");
        } else {
            out.push(b);
        }
    }
}

/// Removes the flattened `sops_*` keys and returns them as the nested
/// metadata map (the shape of the YAML/JSON `sops:` map); `None` when the
/// file has none.
pub fn take_metadata(doc: &mut Node) -> Result<Option<Node>> {
    let Node::Map(items) = doc else {
        return Ok(None);
    };
    let mut flat = Vec::new();
    items.retain(|item| match item {
        MapItem::Entry(k, v) if k.starts_with(SOPS_PREFIX) => {
            let text = match v {
                Node::Scalar(s) => String::from_utf8_lossy(&value_to_string(s)).into_owned(),
                _ => String::new(),
            };
            flat.push((k[SOPS_PREFIX.len()..].to_string(), text));
            false
        }
        _ => true,
    });
    if flat.is_empty() {
        return Ok(None);
    }
    unflatten_metadata(flat).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::formats::flatten::put_metadata;

    #[test]
    fn parse_splits_at_first_equals_and_keeps_everything_else() {
        // Every value a string, as it stands after the first `=`; the blank line gone.
        assert_eq!(
            parse(b"# c\nA=1\nB = x \nC=\"q\"\n\nD=a\\nb\nE=a=b\nexport H=x\r\n").unwrap(),
            crate::sops::formats::yaml::doc(
                r#"# c
A: "1"
"B ": " x "
C: '"q"'
D: "a\nb"
E: a=b
export H: "x\r"
"#
            )
        );
    }

    #[test]
    fn parse_rejects_a_line_without_equals() {
        assert!(parse(b"A=1\n  # indented\n").is_err());
        assert!(parse(b"\xff=1\n").is_err());
    }

    #[test]
    fn emit_escapes_newlines_and_formats_non_strings() {
        let doc = crate::sops::formats::yaml::doc("#c\nA: \"a\\nb\"\nF: 2.0\nT: true\n");
        assert_eq!(emit(&doc).unwrap(), b"#c\nA=a\\nb\nF=2.0\nT=true\n");
        let nested = Node::Map(vec![MapItem::Entry("A".into(), Node::Map(vec![]))]);
        assert!(emit(&nested).is_err());
    }

    #[test]
    fn metadata_round_trips_through_flat_keys() {
        let text = "A=1\nsops_version=3.11.0\nsops_age__list_0__map_recipient=age1x\n\
                    sops_age__list_0__map_enc=L1\\nL2\\n\nsops_lastmodified=2024-01-01T00:00:00Z\n\
                    sops_mac_only_encrypted=true\n";
        let mut doc = parse(text.as_bytes()).unwrap();
        let md = take_metadata(&mut doc).unwrap().unwrap();
        assert_eq!(
            doc,
            Node::Map(vec![MapItem::Entry("A".into(), Node::str("1"))])
        );
        let age = md.get("age").unwrap();
        let Node::Seq(keys) = age else { panic!() };
        let crate::sops::tree::SeqItem::Value(k0) = &keys[0] else {
            panic!()
        };
        assert_eq!(k0.get("enc"), Some(&Node::str("L1\nL2\n")));
        assert_eq!(
            md.get("mac_only_encrypted"),
            Some(&Node::Scalar(Scalar::Bool(true)))
        );
        let Node::Map(top) = &md else { panic!() };
        let order: Vec<_> = top
            .iter()
            .map(|i| match i {
                MapItem::Entry(k, _) => k.as_str(),
                MapItem::Comment(_) => "#",
            })
            .collect();
        assert_eq!(
            order,
            ["age", "lastmodified", "mac_only_encrypted", "version"]
        );
        let back = emit(&put_metadata(&doc, &md, METADATA).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(back).unwrap(),
            "A=1\nsops_age__list_0__map_enc=L1\\nL2\\n\nsops_age__list_0__map_recipient=age1x\n\
             sops_lastmodified=2024-01-01T00:00:00Z\nsops_mac_only_encrypted=true\nsops_version=3.11.0\n"
        );
    }

    #[test]
    fn no_sops_keys_means_no_metadata() {
        let mut doc = parse(b"A=1\n").unwrap();
        assert_eq!(take_metadata(&mut doc).unwrap(), None);
    }
}
