//! The public `secrets-example/`: the same files as the private secrets, with
//! the same structure (keys, list lengths, scalar types, comment positions)
//! but placeholder values that never equal a real one.

use crate::error::Result;
use crate::sops::file::SopsFile;
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::path::Step;
use crate::sops::tree::{MapItem, Node, Scalar, SeqItem};
use std::collections::HashSet;
use std::path::Path;

/// The header of the example's committed key file.
pub const KEY_HEADER: &str =
    "# This age key is PUBLIC ON PURPOSE: it only decrypts secrets-example/,\n\
# which holds placeholder values. Never use it for real secrets.\n";

/// Builds the placeholder twin of a document. `real` holds every real leaf
/// value (as text) so a placeholder can never equal one.
pub fn placeholder(doc: &Node, real: &HashSet<String>) -> Node {
    let mut leaf = |path: &[Step], s: &Scalar| {
        let names: Vec<String> = path
            .iter()
            .map(|step| match step {
                Step::Key(k) => k.clone(),
                Step::Index(n) => n.to_string(),
            })
            .collect();
        Node::Scalar(placeholder_scalar(s, &names, real))
    };
    doc.map_leaves(&mut leaf, &|_| " example comment".into())
}

fn placeholder_scalar(s: &Scalar, path: &[String], real: &HashSet<String>) -> Scalar {
    let base = if path.is_empty() {
        "value".to_string()
    } else {
        path.join("-")
    };
    let candidate = |make: &dyn Fn(usize) -> Scalar| {
        (0..)
            .map(make)
            .find(|c| !real.contains(&leaf_text(c)))
            .unwrap_or(Scalar::Null) // ok: the range is endless, find always returns
    };
    match s {
        Scalar::Null => Scalar::Null,
        Scalar::Str(v) if v.is_empty() => Scalar::Str(String::new()),
        Scalar::Str(v) if v.contains('\n') => {
            candidate(&|n| Scalar::Str(format!("example {base}{}\nsecond line\n", suffix(n))))
        }
        Scalar::Str(_) => candidate(&|n| Scalar::Str(format!("example-{base}{}", suffix(n)))),
        Scalar::Bytes(_) => {
            candidate(&|n| Scalar::Bytes(format!("example binary {n}\n").into_bytes()))
        }
        Scalar::Int(_) => candidate(&|n| Scalar::Int(1000 + n as i64)),
        Scalar::Float(_) => candidate(&|n| Scalar::Float(0.5 + n as f64)),
        // Always false: a placeholder must not depend on the real value.
        Scalar::Bool(_) => Scalar::Bool(false),
        Scalar::Time(_) => {
            candidate(&|n| Scalar::Time(format!("2000-01-{:02}T00:00:00Z", 1 + n % 28)))
        }
    }
}

fn suffix(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("-{n}")
    }
}

/// The text of a leaf, as compared against real values.
pub fn leaf_text(s: &Scalar) -> String {
    match s {
        Scalar::Null => String::new(),
        Scalar::Str(v) | Scalar::Time(v) => v.clone(),
        Scalar::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => crate::sops::tree::go_format_float_f(*f),
        Scalar::Bool(b) => b.to_string(),
    }
}

/// Every non-empty leaf value of a document, as text.
pub fn leaf_values(node: &Node, out: &mut Vec<String>) {
    match node {
        Node::Scalar(s) => {
            let t = leaf_text(s);
            if !t.is_empty() {
                out.push(t);
            }
        }
        _ => node
            .children()
            .into_iter()
            .for_each(|c| leaf_values(c, out)),
    }
}

/// The shape of a document: every key path with its type, in order.
pub fn shape(node: &Node) -> Vec<String> {
    let mut out = Vec::new();
    shape_into(node, "", &mut out);
    out
}

fn shape_into(node: &Node, prefix: &str, out: &mut Vec<String>) {
    match node {
        Node::Map(items) => {
            out.push(format!("{prefix} map"));
            for i in items {
                match i {
                    MapItem::Entry(k, v) => shape_into(v, &format!("{prefix}.{k}"), out),
                    MapItem::Comment(_) => out.push(format!("{prefix} comment")),
                }
            }
        }
        Node::Seq(items) => {
            out.push(format!("{prefix} list[{}]", items.len()));
            for (n, i) in items.iter().enumerate() {
                match i {
                    SeqItem::Value(v) => shape_into(v, &format!("{prefix}[{n}]"), out),
                    SeqItem::Comment(_) => out.push(format!("{prefix}[{n}] comment")),
                }
            }
        }
        Node::Scalar(s) => out.push(format!(
            "{prefix} {}",
            match s {
                Scalar::Null => "null",
                Scalar::Str(v) if v.contains('\n') => "multiline",
                other => other.type_name(),
            }
        )),
    }
}

/// Human-readable differences between two shapes (first few).
pub fn shape_diff(real: &[String], example: &[String]) -> Vec<String> {
    let a: HashSet<&String> = real.iter().collect();
    let b: HashSet<&String> = example.iter().collect();
    let mut out: Vec<String> = real
        .iter()
        .filter(|x| !b.contains(x))
        .map(|x| format!("missing in example: {}", x.trim_start_matches('.')))
        .collect();
    out.extend(
        example
            .iter()
            .filter(|x| !a.contains(x))
            .map(|x| format!("only in example: {}", x.trim_start_matches('.'))),
    );
    out
}

/// A real secret as the example is compared with it.
pub struct RealSecret {
    /// Its file name under `secrets/`; its example has the same one.
    pub file_name: String,
    pub format: Format,
    /// [`shape`] of its documents, concatenated (placeholders keep the shape); `None`
    /// when it could not be decrypted here, so only its presence is compared.
    pub shape: Option<Vec<String>>,
}

/// One way the example differs from the secrets, named by file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A secret has no example (a secret was added since).
    Missing {
        file: String,
    },
    /// An example has no secret (a secret was removed since).
    Extra {
        file: String,
    },
    DoesNotDecrypt {
        file: String,
        why: String,
    },
    /// The lines of [`shape_diff`] for one file.
    Structure {
        file: String,
        diffs: Vec<String>,
    },
    /// The example holds a value of a real secret.
    HoldsRealValue {
        file: String,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing { file } => {
                write!(f, "{file}: missing in the example (a secret was added)")
            }
            Difference::Extra { file } => {
                write!(f, "{file}: only in the example (a secret was removed)")
            }
            Difference::DoesNotDecrypt { file, why } => {
                write!(f, "{file}: does not decrypt with the example key: {why}")
            }
            Difference::Structure { file, diffs } => {
                let first: Vec<&str> = diffs.iter().take(2).map(String::as_str).collect();
                write!(f, "{file}: {}", first.join("; "))?;
                if diffs.len() > first.len() {
                    write!(f, " and {} more", diffs.len() - first.len())?;
                }
                Ok(())
            }
            Difference::HoldsRealValue { file } => write!(f, "{file}: holds a real secret value"),
        }
    }
}

/// Compares the example's `secrets/` dir with the real secrets: every secret has an
/// example of the same file name that decrypts with the example's `ids`, has the
/// secret's shape and holds none of `real_values`; no example is left without a secret.
/// `example doctor` and `example --check` both ask this.
pub fn compare(
    example_secrets: &Path,
    real: &[RealSecret],
    ids: &Identities,
    real_values: &HashSet<String>,
) -> Result<Vec<Difference>> {
    let mut out = Vec::new();
    for secret in real {
        let file = secret.file_name.clone();
        let Ok(bytes) = std::fs::read(example_secrets.join(&file)) else {
            out.push(Difference::Missing { file });
            continue;
        };
        let ex = match SopsFile::parse(&bytes, secret.format).and_then(|f| f.decrypt(ids)) {
            Ok(d) => d,
            Err(e) => {
                out.push(Difference::DoesNotDecrypt {
                    file,
                    why: e.to_string(),
                });
                continue;
            }
        };
        if let Some(want) = &secret.shape {
            let have: Vec<String> = ex.docs.0.iter().flat_map(shape).collect();
            let diffs = shape_diff(want, &have);
            if !diffs.is_empty() {
                out.push(Difference::Structure {
                    file: file.clone(),
                    diffs,
                });
            }
        }
        let mut values = Vec::new();
        ex.docs.0.iter().for_each(|d| leaf_values(d, &mut values));
        if values.iter().any(|v| real_values.contains(v)) {
            out.push(Difference::HoldsRealValue { file });
        }
    }
    for path in crate::layout::secret_files_in(example_secrets)? {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !real.iter().any(|r| r.file_name == file) {
            out.push(Difference::Extra { file });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_shape_and_avoid_real_values() {
        let doc = crate::sops::formats::yaml::doc(
            "# secret note\ntoken: example-token\nport: 1000\nlist:\n    - a\n    - b\n",
        );
        let mut vals = Vec::new();
        leaf_values(&doc, &mut vals);
        let real: HashSet<String> = vals.into_iter().collect();
        let ph = placeholder(&doc, &real);
        assert_eq!(shape(&ph), shape(&doc));
        let mut ph_vals = Vec::new();
        leaf_values(&ph, &mut ph_vals);
        for v in ph_vals {
            assert!(!real.contains(&v), "{v} is a real value");
        }
        assert_eq!(ph.get("token"), Some(&Node::str("example-token-1")));
    }
}
