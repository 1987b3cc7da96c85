//! `.sops.yaml`: found by walking up from the current directory (as sops
//! does), its `creation_rules` matched against a file's path, first match
//! wins.

use crate::error::{Error, Result};
use crate::sops::file::KeyPlan;
use crate::sops::formats::yaml;
use crate::sops::keys::Recipient;
use crate::sops::metadata::EncryptionRules;
use crate::sops::tree::{Node, Scalar, SeqItem};
use regex::Regex;
use std::path::{Path, PathBuf};

/// One `creation_rules` entry.
#[derive(Debug, Clone, Default)]
pub struct CreationRule {
    pub path_regex: Option<String>,
    pub plan: KeyPlan,
    pub rules: EncryptionRules,
}

/// A parsed `.sops.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub creation_rules: Vec<CreationRule>,
    /// `stores.yaml.indent`, when set.
    pub yaml_indent: Option<usize>,
}

/// Finds `.sops.yaml` in `start` or its nearest ancestor (`.sops.yml` is
/// ignored, like sops does).
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(".sops.yaml"))
        .find(|p| p.is_file())
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::new(format!("{} is not a valid sops config: {what}", path.display()))
        .hint("see https://github.com/getsops/sops#using-sops-yaml-conf-to-select-kms-pgp-and-age-for-new-files")
}

fn string_of(node: &Node) -> Option<String> {
    match node {
        Node::Scalar(Scalar::Str(s)) => Some(s.clone()),
        Node::Scalar(Scalar::Bool(b)) => Some(b.to_string()),
        Node::Scalar(Scalar::Int(i)) => Some(i.to_string()),
        _ => None,
    }
}

fn list_of_strings(node: &Node) -> Vec<String> {
    match node {
        Node::Scalar(Scalar::Str(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Node::Seq(items) => items
            .iter()
            .filter_map(|i| match i {
                SeqItem::Value(v) => string_of(v),
                SeqItem::Comment(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn recipients(path: &Path, node: &Node) -> Result<Vec<Recipient>> {
    list_of_strings(node)
        .iter()
        .map(|r| Recipient::parse(r).map_err(|e| bad(path, e.message)))
        .collect()
}

impl Config {
    /// Reads and parses a `.sops.yaml`.
    pub fn load(path: &Path) -> Result<Config> {
        let bytes = crate::error::read_file(path)?;
        Config::parse(&bytes, path)
    }

    /// Parses `.sops.yaml` text; `path` is used for messages and matching.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Config> {
        let docs = yaml::parse(bytes).map_err(|e| bad(path, e.message))?;
        let root = docs.into_iter().next().unwrap_or(Node::Map(Vec::new()));
        let mut cfg = Config {
            path: path.to_path_buf(),
            ..Default::default()
        };
        if let Some(indent) = root
            .get("stores")
            .and_then(|s| s.get("yaml"))
            .and_then(|y| y.get("indent"))
        {
            match indent {
                Node::Scalar(Scalar::Int(i)) if *i > 0 && *i < 10 => {
                    cfg.yaml_indent = Some(*i as usize)
                }
                _ => {
                    return Err(bad(
                        path,
                        "stores.yaml.indent must be a small positive number",
                    ))
                }
            }
        }
        let Some(rules) = root.get("creation_rules") else {
            return Ok(cfg);
        };
        if !matches!(rules, Node::Seq(_)) {
            return Err(bad(path, "creation_rules must be a list"));
        }
        for rule in rules.seq_values() {
            let mut r = CreationRule::default();
            if let Some(p) = rule.get("path_regex").and_then(string_of) {
                Regex::new(&p).map_err(|e| {
                    let why = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    bad(
                        path,
                        format!("path_regex '{p}' is not a valid regular expression ({why})"),
                    )
                })?;
                r.path_regex = Some(p);
            }
            if let Some(groups) = rule.get("key_groups") {
                for g in groups.seq_values() {
                    r.plan.groups.push(match g.get("age") {
                        Some(a) => recipients(path, a)?,
                        None => Vec::new(),
                    });
                }
                if let Some(Node::Scalar(Scalar::Int(t))) = rule.get("shamir_threshold") {
                    r.plan.shamir_threshold = *t;
                }
            } else {
                r.plan.groups.push(match rule.get("age") {
                    Some(a) => recipients(path, a)?,
                    None => Vec::new(),
                });
            }
            let s = |k: &str| rule.get(k).and_then(string_of);
            r.rules = EncryptionRules {
                unencrypted_suffix: s("unencrypted_suffix"),
                encrypted_suffix: s("encrypted_suffix"),
                unencrypted_regex: s("unencrypted_regex"),
                encrypted_regex: s("encrypted_regex"),
                unencrypted_comment_regex: s("unencrypted_comment_regex"),
                encrypted_comment_regex: s("encrypted_comment_regex"),
                mac_only_encrypted: matches!(
                    rule.get("mac_only_encrypted"),
                    Some(Node::Scalar(Scalar::Bool(true)))
                ),
            };
            cfg.creation_rules.push(r);
        }
        Ok(cfg)
    }

    /// The first rule whose `path_regex` matches `file` (absolute), matched
    /// as sops does: against the path relative to the config's directory.
    pub fn rule_for(&self, file: &Path) -> Result<&CreationRule> {
        let dir = self.path.parent().unwrap_or(Path::new("/"));
        let rel = file.strip_prefix(dir).unwrap_or(file);
        let rel = rel.to_string_lossy();
        for rule in &self.creation_rules {
            match &rule.path_regex {
                None => return Ok(rule),
                Some(re) => {
                    // ok: validated in parse
                    if Regex::new(re).map(|r| r.is_match(&rel)).unwrap_or(false) {
                        return Ok(rule);
                    }
                }
            }
        }
        Err(Error::new(format!(
            "no creation rule in {} matches {}",
            self.path.display(),
            rel
        ))
        .hint("add a creation_rules entry whose path_regex matches this file, or pass --age age1…"))
    }
}

/// sops' default: `_unencrypted` as the unencrypted suffix when no rule
/// about what to encrypt is given.
pub fn with_default_suffix(mut r: EncryptionRules) -> EncryptionRules {
    if r.unencrypted_suffix.is_none()
        && r.encrypted_suffix.is_none()
        && r.unencrypted_regex.is_none()
        && r.encrypted_regex.is_none()
        && r.unencrypted_comment_regex.is_none()
        && r.encrypted_comment_regex.is_none()
    {
        r.unencrypted_suffix = Some("_unencrypted".into());
    }
    r
}

/// The YAML indent for files written or printed from `cwd`: sops reads
/// `stores.yaml.indent` from the `.sops.yaml` found from the current dir.
pub fn yaml_indent(cwd: &Path) -> usize {
    find_config(cwd)
        .and_then(|p| Config::load(&p).ok())
        .and_then(|c| c.yaml_indent)
        .unwrap_or(yaml::DEFAULT_INDENT)
}
