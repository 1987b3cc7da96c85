//! The `sops:` metadata block: key groups with their wrapped data keys, the
//! MAC, the encryption rules, and the version — read from any sops 3.x file
//! and written in sops 3.11's key order.

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::formats::Format;
use crate::sops::tree::{MapItem, Node, Scalar, SeqItem};

/// The sops version this tool writes into files it creates.
pub const SOPS_VERSION: &str = "3.11.0";

/// An age recipient with the data key (or share) wrapped for it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeStanza {
    pub recipient: String,
    pub enc: String,
}

/// A group of master keys; any one of them unwraps the group's key (share).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyGroup {
    pub age: Vec<AgeStanza>,
    /// Key types this tool does not handle (`pgp`, `kms`, …), kept verbatim.
    pub other: Vec<(String, Node)>,
}

impl KeyGroup {
    /// Names of the non-age key types present, e.g. `["pgp"]`.
    pub fn other_types(&self) -> Vec<&str> {
        self.other.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// The rules that decide which values are encrypted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EncryptionRules {
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<String>,
    pub encrypted_regex: Option<String>,
    pub unencrypted_comment_regex: Option<String>,
    pub encrypted_comment_regex: Option<String>,
    pub mac_only_encrypted: bool,
}

impl EncryptionRules {
    /// The string options with their sops key names, in the order sops writes them
    /// (metadata and `.sops.yaml` alike).
    pub fn named(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("unencrypted_suffix", &self.unencrypted_suffix),
            ("encrypted_suffix", &self.encrypted_suffix),
            ("unencrypted_regex", &self.unencrypted_regex),
            ("encrypted_regex", &self.encrypted_regex),
            ("unencrypted_comment_regex", &self.unencrypted_comment_regex),
            ("encrypted_comment_regex", &self.encrypted_comment_regex),
        ]
    }
}

/// The whole metadata block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    pub shamir_threshold: i64,
    pub key_groups: Vec<KeyGroup>,
    pub lastmodified: String,
    pub mac: String,
    pub rules: EncryptionRules,
    pub version: String,
}

const OTHER_KEY_TYPES: [&str; 5] = ["kms", "gcp_kms", "azure_kv", "hc_vault", "pgp"];

fn bad(what: &str) -> Error {
    SopsError::BadMetadata(what.to_string()).into()
}

fn str_field(node: &Node, key: &str) -> Option<String> {
    match node.get(key)? {
        Node::Scalar(Scalar::Str(s)) => Some(s.clone()),
        Node::Scalar(Scalar::Time(s)) => Some(s.clone()),
        Node::Scalar(Scalar::Int(i)) => Some(i.to_string()),
        Node::Scalar(Scalar::Float(f)) => Some(crate::sops::tree::go_format_float_f(*f)),
        _ => None,
    }
}

fn group_from(node: &Node) -> Result<KeyGroup> {
    let mut g = KeyGroup::default();
    if let Some(age) = node.get("age") {
        for item in age.seq_values() {
            g.age.push(AgeStanza {
                recipient: str_field(item, "recipient")
                    .ok_or_else(|| bad("age entry without recipient"))?,
                enc: str_field(item, "enc").ok_or_else(|| bad("age entry without enc"))?,
            });
        }
    }
    for t in OTHER_KEY_TYPES {
        if let Some(v) = node.get(t) {
            if !v.seq_values().is_empty() {
                g.other.push((t.to_string(), v.clone()));
            }
        }
    }
    Ok(g)
}

impl Metadata {
    /// Reads the metadata map of a sops file.
    pub fn from_node(node: &Node) -> Result<Metadata> {
        if !matches!(node, Node::Map(_)) {
            return Err(bad("'sops' is not a map"));
        }
        let key_groups = match node.get("key_groups") {
            Some(groups) => groups
                .seq_values()
                .into_iter()
                .map(group_from)
                .collect::<Result<_>>()?,
            None => vec![group_from(node)?],
        };
        let shamir_threshold = match node.get("shamir_threshold") {
            Some(Node::Scalar(Scalar::Int(i))) => *i,
            Some(Node::Scalar(Scalar::Float(f))) => *f as i64,
            _ => 0,
        };
        let mac_only_encrypted = match node.get("mac_only_encrypted") {
            Some(Node::Scalar(Scalar::Bool(b))) => *b,
            Some(Node::Scalar(Scalar::Str(s))) => s == "true",
            _ => false,
        };
        Ok(Metadata {
            shamir_threshold,
            key_groups,
            lastmodified: str_field(node, "lastmodified").ok_or_else(|| bad("no lastmodified"))?,
            mac: str_field(node, "mac").unwrap_or_default(),
            rules: EncryptionRules {
                unencrypted_suffix: str_field(node, "unencrypted_suffix"),
                encrypted_suffix: str_field(node, "encrypted_suffix"),
                unencrypted_regex: str_field(node, "unencrypted_regex"),
                encrypted_regex: str_field(node, "encrypted_regex"),
                unencrypted_comment_regex: str_field(node, "unencrypted_comment_regex"),
                encrypted_comment_regex: str_field(node, "encrypted_comment_regex"),
                mac_only_encrypted,
            },
            version: str_field(node, "version").unwrap_or_default(),
        })
    }

    /// Writes the metadata map in sops 3.11's key order, omitting empty lists.
    /// Inside `key_groups` sops always writes `hc_vault` and `age` (Go nil
    /// slices: `[]` in YAML, `null` in JSON, nothing once flattened).
    pub fn to_node(&self, format: Format) -> Node {
        let mut m: Vec<MapItem> = Vec::new();
        let entry = |k: &str, v: Node| MapItem::Entry(k.to_string(), v);
        let s = |v: &str| Node::Scalar(Scalar::Str(v.to_string()));
        if self.shamir_threshold != 0 {
            m.push(entry(
                "shamir_threshold",
                Node::Scalar(Scalar::Int(self.shamir_threshold)),
            ));
        }
        let age_node = |g: &KeyGroup| {
            Node::Seq(
                g.age
                    .iter()
                    .map(|a| {
                        SeqItem::Value(Node::Map(vec![
                            entry("recipient", s(&a.recipient)),
                            entry("enc", s(&a.enc)),
                        ]))
                    })
                    .collect(),
            )
        };
        let other =
            |g: &KeyGroup, t: &str| g.other.iter().find(|(k, _)| k == t).map(|(_, v)| v.clone());
        if self.key_groups.len() > 1 {
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    let mut items = Vec::new();
                    for t in ["pgp", "kms", "gcp_kms", "azure_kv"] {
                        if let Some(v) = other(g, t) {
                            items.push(entry(t, v));
                        }
                    }
                    let nil = match format {
                        Format::Yaml => Some(Node::Seq(Vec::new())),
                        Format::Json | Format::Binary => Some(Node::Scalar(Scalar::Null)),
                        Format::Dotenv | Format::Ini => None,
                    };
                    match (other(g, "hc_vault"), &nil) {
                        (Some(v), _) => items.push(entry("hc_vault", v)),
                        (None, Some(n)) => items.push(entry("hc_vault", n.clone())),
                        (None, None) => {}
                    }
                    match (g.age.is_empty(), &nil) {
                        (false, _) => items.push(entry("age", age_node(g))),
                        (true, Some(n)) => items.push(entry("age", n.clone())),
                        (true, None) => {}
                    }
                    SeqItem::Value(Node::Map(items))
                })
                .collect();
            m.push(entry("key_groups", Node::Seq(groups)));
        }
        let single = if self.key_groups.len() == 1 {
            self.key_groups.first()
        } else {
            None
        };
        if let Some(g) = single {
            for t in ["kms", "gcp_kms", "azure_kv", "hc_vault"] {
                if let Some(v) = other(g, t) {
                    m.push(entry(t, v));
                }
            }
            if !g.age.is_empty() {
                m.push(entry("age", age_node(g)));
            }
        }
        m.push(entry("lastmodified", s(&self.lastmodified)));
        m.push(entry("mac", s(&self.mac)));
        if let Some(v) = single.and_then(|g| other(g, "pgp")) {
            m.push(entry("pgp", v));
        }
        for (k, v) in self.rules.named() {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                m.push(entry(k, s(v)));
            }
        }
        if self.rules.mac_only_encrypted {
            m.push(entry(
                "mac_only_encrypted",
                Node::Scalar(Scalar::Bool(true)),
            ));
        }
        m.push(entry("version", s(&self.version)));
        Node::Map(m)
    }

    /// Every age recipient named in any key group.
    pub fn age_recipients(&self) -> Vec<&str> {
        self.key_groups
            .iter()
            .flat_map(|g| g.age.iter().map(|a| a.recipient.as_str()))
            .collect()
    }

    /// The MAC's additional data: `lastmodified` re-formatted as Go's
    /// `time.RFC3339` (fractions dropped, `Z` for UTC, offset otherwise).
    pub fn mac_aad(&self) -> Result<String> {
        let t = chrono::DateTime::parse_from_rfc3339(&self.lastmodified).map_err(|_| {
            bad(&format!(
                "lastmodified '{}' is not RFC 3339",
                self.lastmodified
            ))
        })?;
        let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
        let off = t.offset().local_minus_utc();
        if off == 0 {
            Ok(format!("{base}Z"))
        } else {
            Ok(format!("{base}{}", t.format("%:z")))
        }
    }

    /// Sets `lastmodified` to now, as sops does on every write.
    pub fn touch(&mut self) {
        self.lastmodified = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let md = Metadata {
            shamir_threshold: 0,
            key_groups: vec![KeyGroup {
                age: vec![AgeStanza {
                    recipient: "age1x".into(),
                    enc: "-----BEGIN AGE ENCRYPTED FILE-----\n".into(),
                }],
                other: vec![],
            }],
            lastmodified: "2024-01-01T00:00:00Z".into(),
            mac: "ENC[…]".into(),
            rules: EncryptionRules {
                unencrypted_suffix: Some("_unencrypted".into()),
                ..Default::default()
            },
            version: SOPS_VERSION.into(),
        };
        let node = md.to_node(Format::Yaml);
        let keys = node.keys();
        assert_eq!(
            keys,
            [
                "age",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        assert_eq!(Metadata::from_node(&node).unwrap(), md);
    }

    #[test]
    fn mac_aad_formats_like_go() {
        let mut md = Metadata {
            lastmodified: "2024-05-06T07:08:09.123Z".into(),
            ..Default::default()
        };
        assert_eq!(md.mac_aad().unwrap(), "2024-05-06T07:08:09Z");
        md.lastmodified = "2024-05-06T07:08:09+02:00".into();
        assert_eq!(md.mac_aad().unwrap(), "2024-05-06T07:08:09+02:00");
    }
}
