//! Paths into a tree: sops' `--extract '["a"]["b"][0]'` syntax and the
//! dotted `--field a.b.0` form.

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::{MapItem, Node, SeqItem};

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Parses `["a"]["b"][0]` exactly as sops' `parseTreePath` does: split at `[`, each
/// part ends with `]`; a part starting with `"` or `'` is a key (its first and last
/// character dropped), anything else a decimal index.
pub fn parse_extract(s: &str) -> Result<Vec<Step>> {
    let bad = || Error::from(SopsError::BadExtractPath(s.to_string()));
    let mut steps = Vec::new();
    for part in s.split('[').filter(|p| !p.is_empty()) {
        let part = part.strip_suffix(']').ok_or_else(bad)?;
        if part.starts_with('"') || part.starts_with('\'') {
            // Go slices [1:len-1]; a lone quote would panic there: refuse it.
            if part.len() < 2 {
                return Err(bad());
            }
            steps.push(Step::Key(part[1..part.len() - 1].to_string()));
        } else {
            // Go's strconv.Atoi: an optional sign, then digits; a negative index finds nothing.
            let n: i64 = part.parse().map_err(|_| bad())?;
            steps.push(Step::Index(usize::try_from(n).map_err(|_| bad())?));
        }
    }
    if steps.is_empty() {
        return Err(bad());
    }
    Ok(steps)
}

/// Parses `a.b.0` (or, when it starts with `[`, the extract syntax). Numeric
/// components index lists; on maps they are keys.
pub fn parse_field(s: &str) -> Result<Vec<Step>> {
    if s.starts_with('[') {
        return parse_extract(s);
    }
    if s.is_empty() || s.split('.').any(str::is_empty) {
        return Err(SopsError::BadFieldPath(s.to_string()).into());
    }
    Ok(s.split('.').map(|p| Step::Key(p.to_string())).collect())
}

/// Finds the node at `steps`. A `Key` that is a number also indexes a list.
/// Comments count as list elements, as in sops.
pub fn lookup<'a>(node: &'a Node, steps: &[Step]) -> Result<&'a Node> {
    let mut cur = node;
    for (i, step) in steps.iter().enumerate() {
        let shown = || display(&steps[..=i]);
        cur = match (cur, step) {
            (Node::Map(items), Step::Key(k)) => items
                .iter()
                .find_map(|it| match it {
                    MapItem::Entry(key, v) if key == k => Some(v),
                    _ => None,
                })
                .ok_or_else(|| not_found(&shown(), cur))?,
            (Node::Seq(items), Step::Index(n)) => {
                seq_at(items, *n).ok_or_else(|| not_found(&shown(), cur))?
            }
            (Node::Seq(items), Step::Key(k)) if k.parse::<usize>().is_ok() => {
                seq_at(items, k.parse().unwrap_or(usize::MAX))
                    .ok_or_else(|| not_found(&shown(), cur))?
            }
            _ => return Err(not_found(&shown(), cur)),
        };
    }
    Ok(cur)
}

/// Finds the node at `steps` for changing it.
pub fn lookup_mut<'a>(node: &'a mut Node, steps: &[Step]) -> Option<&'a mut Node> {
    let mut cur = node;
    for step in steps {
        cur = match (cur, step) {
            (Node::Map(items), Step::Key(k)) => items.iter_mut().find_map(|it| match it {
                MapItem::Entry(key, v) if key == k => Some(v),
                _ => None,
            })?,
            (Node::Seq(items), Step::Index(n)) => seq_at_mut(items, *n)?,
            (Node::Seq(items), Step::Key(k)) => seq_at_mut(items, k.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn seq_at(items: &[SeqItem], n: usize) -> Option<&Node> {
    match items.get(n)? {
        SeqItem::Value(v) => Some(v),
        SeqItem::Comment(_) => None,
    }
}

fn seq_at_mut(items: &mut [SeqItem], n: usize) -> Option<&mut Node> {
    match items.get_mut(n)? {
        SeqItem::Value(v) => Some(v),
        SeqItem::Comment(_) => None,
    }
}

fn not_found(path: &str, parent: &Node) -> Error {
    SopsError::NoValueAt {
        path: path.to_string(),
        keys: parent.keys().iter().map(|k| k.to_string()).collect(),
    }
    .into()
}

/// `["a"][0]` form of a path, for messages.
pub fn display(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => format!("[\"{k}\"]"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(
            parse_extract(r#"["a"]["b"][0]"#).unwrap(),
            vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(0)]
        );
        assert_eq!(
            parse_field("a.b").unwrap(),
            vec![Step::Key("a".into()), Step::Key("b".into())]
        );
        assert!(parse_extract("a").is_err());
        assert!(parse_field("a..b").is_err());
    }
}
