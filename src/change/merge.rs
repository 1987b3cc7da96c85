//! The sops-aware three-way merge: two people changed the same secret file.
//!
//! Ciphertext cannot be merged as text (every value, the MAC and `lastmodified` differ),
//! so: decrypt base, ours and theirs in memory, merge at the value level — a conflict
//! only where one value changed on both sides, differently — and encrypt the result
//! with one side's data key and recipients, so values unchanged on that side keep
//! their ciphertext (the cipher remembers each value's IV, as `edit` does).
//!
//! Which side's key: ours, unless only theirs changed the data key or recipients
//! (a rotation or a rekey, perhaps to drop someone's access): then theirs, so a merge
//! never brings a retired key back. When both changed them differently, the merge is
//! a conflict: which recipients to keep is the user's decision.

use crate::error::{Error, Result};
use crate::sops::file::{encrypt, SopsFile};
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::tree::{MapItem, Node};

/// What merging three versions of one file gave.
pub enum Outcome {
    /// The merged file, encrypted, in the file's format.
    Merged(Vec<u8>),
    /// Values changed on both sides, at these paths (`["db"]["password"]`).
    Conflict(Vec<String>),
}

/// Merges three encrypted versions of a file. `base` may be empty (the file was added
/// on both sides).
pub fn merge_files(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    format: Format,
    ids: &Identities,
    indent: crate::sops::formats::Indent,
) -> Result<Outcome> {
    let parse = |b: &[u8], side: &str| {
        SopsFile::parse(b, format)
            .map_err(|e| Error::new(format!("{side} version is not a sops file: {}", e.message)))
    };
    let ours_f = parse(ours, "our")?;
    let theirs_f = parse(theirs, "their")?;
    let base_f = if base.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(parse(base, "the common ancestor's")?)
    };
    let mut ours_d = ours_f.decrypt(ids)?;
    let mut theirs_d = theirs_f.decrypt(ids)?;
    let base_docs = match &base_f {
        Some(f) => f.decrypt(ids)?.docs.0.clone(),
        None => vec![Node::Map(Vec::new())],
    };
    let keys = |f: &SopsFile| (f.metadata.key_groups.clone(), f.metadata.shamir_threshold);
    let base_keys = base_f.as_ref().map(keys);
    let ours_changed_keys = base_keys.as_ref().is_some_and(|b| *b != keys(&ours_f));
    let theirs_changed_keys = base_keys.as_ref().is_some_and(|b| *b != keys(&theirs_f));
    if ours_changed_keys && theirs_changed_keys && keys(&ours_f) != keys(&theirs_f) {
        return Ok(Outcome::Conflict(vec![
            "(the data key or recipients: both sides rotated or rekeyed)".into(),
        ]));
    }
    let merged = match merge_docs(&base_docs, &ours_d.docs.0, &theirs_d.docs.0) {
        Ok(m) => m,
        Err(paths) => return Ok(Outcome::Conflict(paths)),
    };
    let (cipher, metadata) = if theirs_changed_keys && !ours_changed_keys {
        (&mut theirs_d.cipher, &theirs_f.metadata)
    } else {
        (&mut ours_d.cipher, &ours_f.metadata)
    };
    let file = encrypt(
        &merged,
        format,
        None,
        Some((cipher, metadata)),
        Default::default(),
    )?;
    Ok(Outcome::Merged(file.to_bytes(indent)?))
}

/// Merges documents value by value; `Err(paths)` names every value changed on both
/// sides differently.
pub fn merge_docs(
    base: &[Node],
    ours: &[Node],
    theirs: &[Node],
) -> std::result::Result<Vec<Node>, Vec<String>> {
    if ours == theirs {
        return Ok(ours.to_vec());
    }
    if base == ours {
        return Ok(theirs.to_vec());
    }
    if base == theirs {
        return Ok(ours.to_vec());
    }
    if ours.len() != theirs.len() || ours.len() != base.len() {
        return Err(vec!["(the documents of the file)".into()]);
    }
    let mut conflicts = Vec::new();
    let mut out = Vec::new();
    for ((b, o), t) in base.iter().zip(ours).zip(theirs) {
        match merge_node(Some(b), Some(o), Some(t), "", &mut conflicts) {
            Some(n) => out.push(n),
            None => out.push(Node::Map(Vec::new())),
        }
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(conflicts)
    }
}

/// Merges one node; `None` when the result is "absent" (deleted). Conflicts are
/// recorded by path and ours is kept in their place.
fn merge_node(
    base: Option<&Node>,
    ours: Option<&Node>,
    theirs: Option<&Node>,
    path: &str,
    conflicts: &mut Vec<String>,
) -> Option<Node> {
    if ours == theirs {
        return ours.cloned();
    }
    if base == ours {
        return theirs.cloned();
    }
    if base == theirs {
        return ours.cloned();
    }
    match (base, ours, theirs) {
        (Some(Node::Map(_)) | None, Some(Node::Map(o)), Some(Node::Map(t))) => {
            let empty = Vec::new();
            let b = match base {
                Some(Node::Map(b)) => b,
                _ => &empty,
            };
            Some(Node::Map(merge_maps(b, o, t, path, conflicts)))
        }
        _ => {
            conflicts.push(if path.is_empty() {
                "(the whole document)".into()
            } else {
                path.to_string()
            });
            ours.cloned()
        }
    }
}

fn entry<'a>(items: &'a [MapItem], key: &str) -> Option<&'a Node> {
    items.iter().find_map(|i| match i {
        MapItem::Entry(k, v) if k == key => Some(v),
        _ => None,
    })
}

/// Ours' order and comments, with theirs' new keys appended in their order.
fn merge_maps(
    base: &[MapItem],
    ours: &[MapItem],
    theirs: &[MapItem],
    path: &str,
    conflicts: &mut Vec<String>,
) -> Vec<MapItem> {
    let mut out = Vec::new();
    for item in ours {
        match item {
            MapItem::Comment(c) => out.push(MapItem::Comment(c.clone())),
            MapItem::Entry(k, o) => {
                let sub = format!("{path}[\"{k}\"]");
                if let Some(v) =
                    merge_node(entry(base, k), Some(o), entry(theirs, k), &sub, conflicts)
                {
                    out.push(MapItem::Entry(k.clone(), v));
                }
            }
        }
    }
    for item in theirs {
        if let MapItem::Entry(k, t) = item {
            if entry(ours, k).is_some() {
                continue;
            }
            let sub = format!("{path}[\"{k}\"]");
            if let Some(v) = merge_node(entry(base, k), None, Some(t), &sub, conflicts) {
                out.push(MapItem::Entry(k.clone(), v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::tree::Scalar;

    fn map(pairs: &[(&str, Node)]) -> Node {
        Node::Map(
            pairs
                .iter()
                .map(|(k, v)| MapItem::Entry(k.to_string(), v.clone()))
                .collect(),
        )
    }
    fn s(v: &str) -> Node {
        Node::str(v)
    }

    /// The driver writes the merged file with the config's store indents, JSON included
    /// (it used to pass only the YAML indent, so a `stores.json.indent: 2` repo got tabs).
    #[test]
    fn a_merged_json_file_keeps_the_configured_json_indent() {
        use age::secrecy::ExposeSecret;
        let key = age::x25519::Identity::generate();
        let ids = Identities::from_age_text(key.to_string().expose_secret(), "test key");
        let plan = crate::sops::file::KeyPlan::single(vec![crate::sops::keys::Recipient::parse(
            &key.to_public().to_string(),
        )
        .unwrap()]);
        let enc = |json: &str| {
            let docs = Format::Json.parse_plain(json.as_bytes()).unwrap();
            let file = encrypt(&docs, Format::Json, Some(&plan), None, Default::default()).unwrap();
            file.to_bytes(crate::sops::formats::Indent::default())
                .unwrap()
        };
        let base = enc(r#"{"a": "1", "b": "1"}"#);
        // both sides change the base's values under its data key, as `rotate --set` does
        let change = |json: &str| {
            let file = SopsFile::parse(&base, Format::Json).unwrap();
            let mut plain = file.decrypt(&ids).unwrap();
            let docs =
                crate::sops::tree::PlainDocs(Format::Json.parse_plain(json.as_bytes()).unwrap());
            let new = crate::change::secrets::reencrypt(&file, &mut plain.cipher, &docs).unwrap();
            new.to_bytes(crate::sops::formats::Indent::default())
                .unwrap()
        };
        let ours = change(r#"{"a": "2", "b": "1"}"#);
        let theirs = change(r#"{"a": "1", "b": "3"}"#);
        let indent = crate::sops::formats::Indent {
            json: Some(2),
            ..Default::default()
        };
        let bytes = match merge_files(&base, &ours, &theirs, Format::Json, &ids, indent) {
            Ok(Outcome::Merged(bytes)) => bytes,
            Ok(Outcome::Conflict(paths)) => panic!("conflict: {paths:?}"),
            Err(e) => panic!("{e:?}"),
        };
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("{\n  \"a\": \"ENC["), "{text}");
        assert!(!text.contains('\t'), "{text}");
    }

    #[test]
    fn disjoint_changes_merge() {
        let base = map(&[("a", s("1")), ("b", s("1")), ("c", s("1"))]);
        let ours = map(&[("a", s("2")), ("b", s("1")), ("c", s("1"))]);
        let theirs = map(&[("a", s("1")), ("b", s("3")), ("d", s("4"))]);
        let m = merge_docs(&[base], &[ours], &[theirs])
            .ok()
            .unwrap_or_default();
        assert_eq!(
            m,
            vec![map(&[("a", s("2")), ("b", s("3")), ("d", s("4"))])],
            "a from ours, b from theirs, c deleted by theirs, d added by theirs"
        );
    }

    #[test]
    fn the_same_value_changed_on_both_sides_is_a_conflict_naming_its_path() {
        let base = map(&[("db", map(&[("password", s("p0")), ("user", s("u"))]))]);
        let ours = map(&[("db", map(&[("password", s("p1")), ("user", s("u"))]))]);
        let theirs = map(&[("db", map(&[("password", s("p2")), ("user", s("v"))]))]);
        let err = merge_docs(&[base], &[ours], &[theirs])
            .err()
            .unwrap_or_default();
        assert_eq!(err, vec!["[\"db\"][\"password\"]".to_string()]);
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict_and_comments_stay() {
        let base = Node::Map(vec![
            MapItem::Comment(" keep me".into()),
            MapItem::Entry("n".into(), Node::Scalar(Scalar::Int(1))),
        ]);
        let changed = Node::Map(vec![
            MapItem::Comment(" keep me".into()),
            MapItem::Entry("n".into(), Node::Scalar(Scalar::Int(2))),
        ]);
        let m = merge_docs(
            &[base],
            std::slice::from_ref(&changed),
            std::slice::from_ref(&changed),
        );
        assert_eq!(m.ok(), Some(vec![changed]));
    }

    #[test]
    fn both_adding_a_key_with_different_values_conflicts() {
        let base = map(&[]);
        let ours = map(&[("k", s("x"))]);
        let theirs = map(&[("k", s("y"))]);
        assert_eq!(
            merge_docs(&[base], &[ours], &[theirs]).err(),
            Some(vec!["[\"k\"]".to_string()])
        );
    }
}
