//! The format-neutral tree every SOPS file is parsed into: maps and
//! sequences that keep their order and their comments, and typed scalars.
//! Encryption, the MAC and every format work on this one model.

use zeroize::Zeroize;

/// A node of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A mapping, in file order. Comments sit between entries.
    Map(Vec<MapItem>),
    /// A sequence, in file order. Comments sit between items.
    Seq(Vec<SeqItem>),
    /// A leaf value.
    Scalar(Scalar),
}

/// One entry of a map: a key and its value, or a comment line.
#[derive(Debug, Clone, PartialEq)]
pub enum MapItem {
    Entry(String, Node),
    /// The text after `#` (a leading space is kept).
    Comment(String),
}

/// One item of a sequence: a value, or a comment line.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqItem {
    Value(Node),
    /// The text after `#` (a leading space is kept).
    Comment(String),
}

/// A typed leaf. The type decides how the value is written into the
/// ciphertext (`type:` in `ENC[…]`) and into the MAC.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A timestamp, kept as RFC 3339 text with nanoseconds as Go's
    /// `time.RFC3339Nano` prints it (`2024-01-01T00:00:00Z`).
    Time(String),
    /// Raw bytes that need not be UTF-8 (binary files).
    Bytes(Vec<u8>),
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Scalar(Scalar::Str(s.into()))
    }

    /// The value at `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(items) => items.iter().find_map(|i| match i {
                MapItem::Entry(k, v) if k == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The mutable value at `key` when this is a map.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(items) => items.iter_mut().find_map(|i| match i {
                MapItem::Entry(k, v) if k == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Removes and returns the value at `key` when this is a map.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match self {
            Node::Map(items) => {
                let pos = items
                    .iter()
                    .position(|i| matches!(i, MapItem::Entry(k, _) if k == key))?;
                match items.remove(pos) {
                    MapItem::Entry(_, v) => Some(v),
                    MapItem::Comment(_) => None,
                }
            }
            _ => None,
        }
    }

    /// The same map with `entries` after its own (`None` for a list or a scalar).
    pub fn with_entries(&self, entries: impl IntoIterator<Item = MapItem>) -> Option<Node> {
        let Node::Map(items) = self else {
            return None;
        };
        let mut items = items.clone();
        items.extend(entries);
        Some(Node::Map(items))
    }

    /// The keys of a map, in order (empty for other nodes).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Node::Map(items) => items
                .iter()
                .filter_map(|i| match i {
                    MapItem::Entry(k, _) => Some(k.as_str()),
                    MapItem::Comment(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The values of a sequence, comments skipped (empty for other nodes).
    pub fn seq_values(&self) -> Vec<&Node> {
        match self {
            Node::Seq(_) => self.children(),
            _ => Vec::new(),
        }
    }

    /// The values directly under a map or a sequence, in order, comments skipped (empty
    /// for a scalar).
    pub fn children(&self) -> Vec<&Node> {
        match self {
            Node::Map(items) => items
                .iter()
                .filter_map(|i| match i {
                    MapItem::Entry(_, v) => Some(v),
                    MapItem::Comment(_) => None,
                })
                .collect(),
            Node::Seq(items) => items
                .iter()
                .filter_map(|i| match i {
                    SeqItem::Value(v) => Some(v),
                    SeqItem::Comment(_) => None,
                })
                .collect(),
            Node::Scalar(_) => Vec::new(),
        }
    }

    /// The same tree with each leaf replaced by `leaf(path, scalar)` and each comment by
    /// `comment(text)`; `path` holds the map keys and list indices from the root.
    pub fn map_leaves(
        &self,
        leaf: &mut dyn FnMut(&[crate::sops::path::Step], &Scalar) -> Node,
        comment: &dyn Fn(&str) -> String,
    ) -> Node {
        self.map_leaves_at(&mut Vec::new(), leaf, comment)
    }

    fn map_leaves_at(
        &self,
        path: &mut Vec<crate::sops::path::Step>,
        leaf: &mut dyn FnMut(&[crate::sops::path::Step], &Scalar) -> Node,
        comment: &dyn Fn(&str) -> String,
    ) -> Node {
        use crate::sops::path::Step;
        let mut under = |step: Step, node: &Node| {
            path.push(step);
            let out = node.map_leaves_at(path, leaf, comment);
            path.pop();
            out
        };
        match self {
            Node::Map(items) => Node::Map(
                items
                    .iter()
                    .map(|i| match i {
                        MapItem::Entry(k, v) => {
                            MapItem::Entry(k.clone(), under(Step::Key(k.clone()), v))
                        }
                        MapItem::Comment(c) => MapItem::Comment(comment(c)),
                    })
                    .collect(),
            ),
            Node::Seq(items) => Node::Seq(
                items
                    .iter()
                    .enumerate()
                    .map(|(n, i)| match i {
                        SeqItem::Value(v) => SeqItem::Value(under(Step::Index(n), v)),
                        SeqItem::Comment(c) => SeqItem::Comment(comment(c)),
                    })
                    .collect(),
            ),
            Node::Scalar(s) => leaf(path, s),
        }
    }

    /// The string value of a scalar string node.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }
}

impl Scalar {
    /// The name sops writes after `type:` for this scalar.
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Null | Scalar::Str(_) => "str",
            Scalar::Int(_) => "int",
            Scalar::Float(_) => "float",
            Scalar::Bool(_) => "bool",
            Scalar::Time(_) => "time",
            Scalar::Bytes(_) => "bytes",
        }
    }
}

/// NaN, +∞ or −∞ written as `names` says (in that order); `None` for a finite `f`.
fn non_finite(f: f64, [nan, pos, neg]: [&str; 3]) -> Option<String> {
    if f.is_nan() {
        Some(nan.into())
    } else if f.is_infinite() {
        Some(if f > 0.0 { pos } else { neg }.into())
    } else {
        None
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest decimal that
/// round-trips, never in exponent form. Used for the plaintext of floats.
pub fn go_format_float_f(f: f64) -> String {
    if let Some(s) = non_finite(f, ["NaN", "+Inf", "-Inf"]) {
        return s;
    }
    // Rust's Display for f64 is the shortest round-trip form without an
    // exponent, which is exactly what Go's 'f' with precision -1 prints.
    let s = format!("{f}");
    if s == "-0" {
        return "-0".into();
    }
    s
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` as go-yaml v3 uses it when
/// writing a float: exponent form for exponents < -4 or >= 6 (strconv uses
/// precision 6 for that decision when the shortest form is asked for).
pub fn go_format_float_g(f: f64) -> String {
    if let Some(s) = non_finite(f, [".nan", "+.inf", "-.inf"]) {
        return s;
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits via Rust's `{:e}` form: d.ddde±x
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0")); // ok: `{:e}` always has an 'e'
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        let abs = exp.unsigned_abs();
        format!("{mantissa}e{sign}{abs:02}")
    } else {
        format!("{f}")
    }
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        match self {
            Scalar::Str(s) | Scalar::Time(s) => s.zeroize(),
            Scalar::Bytes(b) => b.zeroize(),
            Scalar::Int(i) => i.zeroize(),
            Scalar::Float(f) => f.zeroize(),
            Scalar::Bool(b) => b.zeroize(),
            Scalar::Null => {}
        }
    }
}

impl Zeroize for Node {
    fn zeroize(&mut self) {
        match self {
            Node::Map(items) => {
                for item in items.iter_mut() {
                    match item {
                        MapItem::Entry(k, v) => {
                            k.zeroize();
                            v.zeroize();
                        }
                        MapItem::Comment(c) => c.zeroize(),
                    }
                }
            }
            Node::Seq(items) => {
                for item in items.iter_mut() {
                    match item {
                        SeqItem::Value(v) => v.zeroize(),
                        SeqItem::Comment(c) => c.zeroize(),
                    }
                }
            }
            Node::Scalar(s) => s.zeroize(),
        }
    }
}

/// A parsed plaintext document set that is wiped from memory when dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlainDocs(pub Vec<Node>);

impl Drop for PlainDocs {
    fn drop(&mut self) {
        for d in self.0.iter_mut() {
            d.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_f_matches_go() {
        assert_eq!(go_format_float_f(1.0), "1");
        assert_eq!(go_format_float_f(1e21), "1000000000000000000000");
        assert_eq!(go_format_float_f(0.1), "0.1");
        assert_eq!(go_format_float_f(f64::INFINITY), "+Inf");
    }

    #[test]
    fn float_g_matches_go() {
        assert_eq!(go_format_float_g(1.0), "1");
        assert_eq!(go_format_float_g(1e21), "1e+21");
        assert_eq!(go_format_float_g(1e6), "1e+06");
        assert_eq!(go_format_float_g(123456.5), "123456.5");
        assert_eq!(go_format_float_g(0.00001), "1e-05");
        assert_eq!(go_format_float_g(0.0001), "0.0001");
        assert_eq!(go_format_float_g(1.5e-7), "1.5e-07");
    }
}
