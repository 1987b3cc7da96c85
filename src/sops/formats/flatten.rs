//! What the flat formats (dotenv, INI) share with sops' `stores` package:
//! the metadata map flattened into `age__list_0__map_enc`-style keys and
//! back (`stores/flatten.go`), where each format puts those keys ([`Place`]),
//! and `ValToString`, the text those formats write for a value that is not a
//! string.

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::{go_format_float_f, go_format_float_g, MapItem, Node, Scalar, SeqItem};
use std::collections::BTreeMap;

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";

/// The two metadata keys that are not strings; flat formats store them as
/// text and sops' `DecodeNonStrings`/`EncodeNonStrings` convert them.
const MAC_ONLY_ENCRYPTED: &str = "mac_only_encrypted";
const SHAMIR_THRESHOLD: &str = "shamir_threshold";

/// Flattens the nested metadata map into `(key, value)` pairs sorted by key
/// (Go's `sort.Strings`), as sops' dotenv store writes them: nulls dropped,
/// `mac_only_encrypted` and `shamir_threshold` as text, newlines in strings
/// escaped as `\n`.
pub fn flatten_metadata(metadata: &Node) -> Result<Vec<(String, Scalar)>> {
    let Node::Map(items) = metadata else {
        return Err(Error::new("sops metadata is not a map"));
    };
    let mut flat = BTreeMap::new();
    for item in items {
        if let MapItem::Entry(k, v) = item {
            flatten_into(v, k.clone(), &mut flat);
        }
    }
    let mut out = Vec::with_capacity(flat.len());
    for (key, value) in flat {
        let value = match (key.as_str(), value) {
            (_, Scalar::Null) => continue,
            (MAC_ONLY_ENCRYPTED, Scalar::Bool(b)) => Scalar::Str(b.to_string()),
            (SHAMIR_THRESHOLD, Scalar::Int(i)) => Scalar::Str(i.to_string()),
            (SHAMIR_THRESHOLD, Scalar::Float(f)) => Scalar::Str(format!("{f:.0}")),
            (_, Scalar::Str(s)) => Scalar::Str(s.replace('\n', "\\n")),
            (_, other) => other,
        };
        out.push((key, value));
    }
    Ok(out)
}

/// Where a flat format keeps the metadata in a file.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    /// dotenv: keys after the document's own, each a flattened key after this prefix.
    Keys(&'static str),
    /// INI: a last section of this name, holding the flattened keys.
    Section(&'static str),
}

/// `doc` with the metadata added where `place` says, flattened and sorted by key. Only
/// a map takes it (the walk has refused any other top level before a file is written).
pub fn put_metadata(doc: &Node, metadata: &Node, place: Place) -> Result<Node> {
    let entries = |prefix: &str| -> Result<Vec<MapItem>> {
        Ok(flatten_metadata(metadata)?
            .into_iter()
            .map(|(key, value)| MapItem::Entry(format!("{prefix}{key}"), Node::Scalar(value)))
            .collect())
    };
    let added = match place {
        Place::Keys(prefix) => entries(prefix)?,
        Place::Section(name) => vec![MapItem::Entry(name.into(), Node::Map(entries("")?))],
    };
    doc.with_entries(added)
        .ok_or_else(|| SopsError::EncryptTopLevelNotMap.into())
}

fn flatten_into(node: &Node, key: String, out: &mut BTreeMap<String, Scalar>) {
    match node {
        Node::Map(items) => {
            for item in items {
                if let MapItem::Entry(k, v) = item {
                    flatten_into(v, format!("{key}{MAP_SEP}{k}"), out);
                }
            }
        }
        Node::Seq(items) => {
            let values = items.iter().filter_map(|i| match i {
                SeqItem::Value(v) => Some(v),
                SeqItem::Comment(_) => None,
            });
            for (i, v) in values.enumerate() {
                flatten_into(v, format!("{key}{LIST_SEP}{i}"), out);
            }
        }
        Node::Scalar(s) => {
            out.insert(key, s.clone());
        }
    }
}

/// Rebuilds the nested metadata map from flat `(key, text)` pairs (the
/// `sops_` prefix or `[sops]` section already removed), the way sops'
/// `DecodeNewLines`, `DecodeNonStrings` and `UnflattenMetadata` do: `\n`
/// becomes a newline, `mac_only_encrypted` a bool, `shamir_threshold` an
/// int, everything else a string. Keys come out in the order sops writes
/// them in YAML and JSON, so the result equals the `sops:` map of those.
pub fn unflatten_metadata(entries: Vec<(String, String)>) -> Result<Node> {
    let mut root = Tmp::Map(Vec::new());
    for (key, text) in entries {
        let text = text.replace("\\n", "\n");
        let value = match key.as_str() {
            MAC_ONLY_ENCRYPTED => Scalar::Bool(text == "true"),
            SHAMIR_THRESHOLD => Scalar::Int(parse_threshold(&text)?),
            _ => Scalar::Str(text),
        };
        place(&mut root, &tokenize(&key), value).map_err(|e| SopsError::MetadataKeyClash {
            key: key.clone(),
            inner: Box::new(e),
        })?;
    }
    Ok(root.into_node(None))
}

/// `shamir_threshold` as sops reads it: an integer, or (older sops) a float
/// without a fractional part.
fn parse_threshold(text: &str) -> Result<i64> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i);
    }
    match text.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(Error::new(format!(
            "sops metadata: shamir_threshold is not an integer: '{text}'"
        ))),
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Key(String),
    Index(usize),
}

/// Splits a flat key at every `__map_` and `__list_`, as sops' `tokenize`.
fn tokenize(path: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    // The part before the first separator is a map key; after that each
    // separator decides what the text up to the next one is.
    let mut kind_is_list = false;
    let mut start = 0;
    let mut i = 0;
    let finish = |tokens: &mut Vec<Token>, text: &str, list: bool| {
        tokens.push(if list {
            // Go ignores the Atoi error and uses 0.
            Token::Index(text.parse().unwrap_or(0))
        } else {
            Token::Key(text.to_string())
        });
    };
    while i < path.len() {
        let rest = &path[i..];
        if rest.starts_with(MAP_SEP) || rest.starts_with(LIST_SEP) {
            finish(&mut tokens, &path[start..i], kind_is_list);
            kind_is_list = rest.starts_with(LIST_SEP);
            i += if kind_is_list {
                LIST_SEP.len()
            } else {
                MAP_SEP.len()
            };
            start = i;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    finish(&mut tokens, &path[start..], kind_is_list);
    tokens
}

/// Far above any real key count; keeps a forged index from allocating gigabytes.
const MAX_LIST_INDEX: usize = 100_000;

/// The tree while it is being rebuilt; list slots not yet seen are `None`.
enum Tmp {
    Leaf(Scalar),
    Map(Vec<(String, Tmp)>),
    List(Vec<Option<Tmp>>),
}

fn clash() -> Error {
    Error::new("sops metadata: a flattened key is both a value and a map or list")
}

/// Puts `value` at the path `tokens` below `node`, creating maps and lists
/// on the way as sops' `unflatten` does (a list grows to the index seen).
fn place(node: &mut Tmp, tokens: &[Token], value: Scalar) -> Result<()> {
    let Some((first, rest)) = tokens.split_first() else {
        return Err(clash());
    };
    // What a missing slot becomes depends on the token after it.
    let fresh = || match rest.first() {
        None => Tmp::Leaf(Scalar::Null),
        Some(Token::Key(_)) => Tmp::Map(Vec::new()),
        Some(Token::Index(_)) => Tmp::List(Vec::new()),
    };
    let child: &mut Tmp = match (node, first) {
        (Tmp::Map(entries), Token::Key(k)) => {
            let pos = match entries.iter().position(|(ek, _)| ek == k) {
                Some(pos) => pos,
                None => {
                    entries.push((k.clone(), fresh()));
                    entries.len() - 1
                }
            };
            &mut entries[pos].1
        }
        (Tmp::List(items), Token::Index(i)) => {
            if *i > MAX_LIST_INDEX {
                return Err(Error::new(format!(
                    "sops metadata: list index {i} is implausibly large"
                )));
            }
            if items.len() <= *i {
                items.resize_with(i + 1, || None);
            }
            items[*i].get_or_insert_with(fresh)
        }
        _ => return Err(clash()),
    };
    match (rest.is_empty(), &mut *child) {
        (true, Tmp::Leaf(v)) => {
            *v = value;
            Ok(())
        }
        (false, Tmp::Map(_) | Tmp::List(_)) => place(child, rest, value),
        _ => Err(clash()),
    }
}

impl Tmp {
    /// Converts to a [`Node`]; `parent` is the key the node sits under (for
    /// list items: the list's key), which decides the key order.
    fn into_node(self, parent: Option<&str>) -> Node {
        match self {
            Tmp::Leaf(s) => Node::Scalar(s),
            Tmp::List(items) => Node::Seq(
                items
                    .into_iter()
                    .map(|t| {
                        SeqItem::Value(
                            t.map_or(Node::Scalar(Scalar::Null), |t| t.into_node(parent)),
                        )
                    })
                    .collect(),
            ),
            Tmp::Map(mut entries) => {
                let order = key_order(parent);
                let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(order.len());
                entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
                Node::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| {
                            let node = v.into_node(Some(&k));
                            MapItem::Entry(k, node)
                        })
                        .collect(),
                )
            }
        }
    }
}

/// The field order of sops' metadata structs (`stores/stores.go`), which is
/// the order YAML and JSON files carry; maps not listed (kms `context`) are
/// sorted, as Go marshals maps.
fn key_order(parent: Option<&str>) -> &'static [&'static str] {
    match parent {
        None => &[
            "shamir_threshold",
            "key_groups",
            "kms",
            "gcp_kms",
            "azure_kv",
            "hc_vault",
            "age",
            "lastmodified",
            "mac",
            "pgp",
            "unencrypted_suffix",
            "encrypted_suffix",
            "unencrypted_regex",
            "encrypted_regex",
            "unencrypted_comment_regex",
            "encrypted_comment_regex",
            "mac_only_encrypted",
            "version",
        ],
        Some("key_groups") => &["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "age"],
        Some("pgp") => &["created_at", "enc", "fp"],
        Some("kms") => &["arn", "role", "context", "created_at", "enc", "aws_profile"],
        Some("gcp_kms") => &["resource_id", "created_at", "enc"],
        Some("azure_kv") => &["vault_url", "name", "version", "created_at", "enc"],
        Some("hc_vault") => &[
            "vault_address",
            "engine_path",
            "key_name",
            "created_at",
            "enc",
        ],
        Some("age") => &["recipient", "enc"],
        Some(_) => &[],
    }
}

/// sops' `ValToString`: the text dotenv and INI write for a scalar. Floats
/// use Go's `%G` with at least one decimal, times RFC 3339 without
/// fractions, null prints as Go's `<nil>`.
pub fn value_to_string(s: &Scalar) -> Vec<u8> {
    match s {
        Scalar::Null => b"<nil>".to_vec(),
        Scalar::Str(t) => t.as_bytes().to_vec(),
        Scalar::Bytes(b) => b.clone(),
        Scalar::Int(i) => i.to_string().into_bytes(),
        Scalar::Bool(b) => b.to_string().into_bytes(),
        Scalar::Float(f) => go_val_float(*f).into_bytes(),
        Scalar::Time(t) => rfc3339_without_fraction(t).into_bytes(),
    }
}

fn go_val_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return go_format_float_f(f);
    }
    let g = go_format_float_g(f).replace('e', "E");
    if g.contains('.') || g.contains('E') {
        g
    } else {
        format!("{f:.1}")
    }
}

/// `2024-01-01T00:00:00.5Z` → `2024-01-01T00:00:00Z` (Go's `time.RFC3339`).
fn rfc3339_without_fraction(t: &str) -> String {
    let Some(tpos) = t.find('T') else {
        return t.to_string();
    };
    match t[tpos..].find('.') {
        Some(dot) => {
            let dot = tpos + dot;
            let end = t[dot + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(t.len(), |n| dot + 1 + n);
            format!("{}{}", &t[..dot], &t[end..])
        }
        None => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::str(v)
    }

    fn sample() -> Node {
        Node::Map(vec![
            MapItem::Entry("shamir_threshold".into(), Node::Scalar(Scalar::Int(2))),
            MapItem::Entry(
                "key_groups".into(),
                Node::Seq(vec![
                    SeqItem::Value(Node::Map(vec![
                        MapItem::Entry("hc_vault".into(), Node::Scalar(Scalar::Null)),
                        MapItem::Entry(
                            "age".into(),
                            Node::Seq(vec![SeqItem::Value(Node::Map(vec![
                                MapItem::Entry("recipient".into(), s("age1a")),
                                MapItem::Entry("enc".into(), s("-----BEGIN\nx\n-----END\n")),
                            ]))]),
                        ),
                    ])),
                    SeqItem::Value(Node::Map(vec![MapItem::Entry(
                        "age".into(),
                        Node::Seq(vec![SeqItem::Value(Node::Map(vec![
                            MapItem::Entry("recipient".into(), s("age1b")),
                            MapItem::Entry("enc".into(), s("E")),
                        ]))]),
                    )])),
                ]),
            ),
            MapItem::Entry("lastmodified".into(), s("2024-01-01T00:00:00Z")),
            MapItem::Entry("mac".into(), s("ENC[x]")),
            MapItem::Entry(
                "mac_only_encrypted".into(),
                Node::Scalar(Scalar::Bool(true)),
            ),
            MapItem::Entry("version".into(), s("3.11.0")),
        ])
    }

    #[test]
    fn flatten_sorts_and_encodes() {
        let flat = flatten_metadata(&sample()).unwrap();
        let keys: Vec<_> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "key_groups__list_0__map_age__list_0__map_enc",
                "key_groups__list_0__map_age__list_0__map_recipient",
                "key_groups__list_1__map_age__list_0__map_enc",
                "key_groups__list_1__map_age__list_0__map_recipient",
                "lastmodified",
                "mac",
                "mac_only_encrypted",
                "shamir_threshold",
                "version",
            ]
        );
        assert_eq!(
            flat[0].1,
            Scalar::Str("-----BEGIN\\nx\\n-----END\\n".into())
        );
        assert_eq!(flat[6].1, Scalar::Str("true".into()));
        assert_eq!(flat[7].1, Scalar::Str("2".into()));
    }

    #[test]
    fn unflatten_inverts_flatten_in_sops_order() {
        let flat = flatten_metadata(&sample()).unwrap();
        let text = flat
            .into_iter()
            .rev()
            .map(|(k, v)| match v {
                Scalar::Str(t) => (k, t),
                other => panic!("{other:?}"),
            })
            .collect();
        let mut want = sample();
        // The null hc_vault is not in the flat form, so it cannot come back.
        if let Some(Node::Seq(groups)) = want.get_mut("key_groups") {
            if let SeqItem::Value(g) = &mut groups[0] {
                g.remove("hc_vault");
            }
        }
        assert_eq!(unflatten_metadata(text).unwrap(), want);
    }

    #[test]
    fn unflatten_rejects_clashes_and_bad_threshold() {
        let clash = vec![
            ("a".to_string(), "1".to_string()),
            ("a__map_b".into(), "2".into()),
        ];
        assert!(unflatten_metadata(clash).is_err());
        let bad = vec![("shamir_threshold".to_string(), "2.5".to_string())];
        assert!(unflatten_metadata(bad).is_err());
        let old = vec![("shamir_threshold".to_string(), "2.0".to_string())];
        assert_eq!(
            unflatten_metadata(old).unwrap().get("shamir_threshold"),
            Some(&Node::Scalar(Scalar::Int(2)))
        );
    }

    #[test]
    fn list_gaps_become_null() {
        let n = unflatten_metadata(vec![("l__list_1".into(), "x".into())]).unwrap();
        assert_eq!(
            n.get("l"),
            Some(&Node::Seq(vec![
                SeqItem::Value(Node::Scalar(Scalar::Null)),
                SeqItem::Value(s("x"))
            ]))
        );
    }

    #[test]
    fn tokenize_like_sops() {
        assert_eq!(
            tokenize("age__list_0__map_enc"),
            [
                Token::Key("age".into()),
                Token::Index(0),
                Token::Key("enc".into())
            ]
        );
        assert_eq!(tokenize("version"), [Token::Key("version".into())]);
    }

    #[test]
    fn val_to_string_matches_go() {
        assert_eq!(value_to_string(&Scalar::Float(1.0)), b"1.0");
        assert_eq!(value_to_string(&Scalar::Float(1.5)), b"1.5");
        assert_eq!(value_to_string(&Scalar::Float(1e6)), b"1E+06");
        assert_eq!(value_to_string(&Scalar::Float(123456.0)), b"123456.0");
        assert_eq!(value_to_string(&Scalar::Null), b"<nil>");
        assert_eq!(value_to_string(&Scalar::Bool(false)), b"false");
        assert_eq!(
            value_to_string(&Scalar::Time("2024-01-01T10:00:00.25+02:00".into())),
            b"2024-01-01T10:00:00+02:00"
        );
    }
}
