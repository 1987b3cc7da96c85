//! `.sops.yaml`: found by walking up from the current directory (as sops
//! does), its `creation_rules` matched against a file's path, first match
//! wins.

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::file::KeyPlan;
use crate::sops::formats::{yaml, Indent};
use crate::sops::keys::Recipient;
use crate::sops::metadata::EncryptionRules;
use crate::sops::re2;
use crate::sops::tree::{Node, Scalar};
use std::path::{Path, PathBuf};

/// One `creation_rules` entry.
#[derive(Debug, Clone, Default)]
pub struct CreationRule {
    pub path_regex: Option<String>,
    pub plan: KeyPlan,
    pub rules: EncryptionRules,
}

/// One creation rule as the tool writes it into a `.sops.yaml`.
pub struct RuleToWrite<'a> {
    pub path_regex: Option<&'a str>,
    pub rules: &'a EncryptionRules,
    /// The `age:` value: recipients joined by `,`.
    pub age: &'a str,
}

/// Writes a `.sops.yaml`: `header` (comment lines), the `creation_rules` (path_regex,
/// the what-to-encrypt options in sops' order, `mac_only_encrypted`, `age`), and the
/// YAML indent when one is given. The one writer of every `.sops.yaml` the tool makes
/// (`init --new`, `example`); values are quoted only where YAML would misread them.
pub fn write_config(header: &str, rules: &[RuleToWrite<'_>], yaml_indent: Option<usize>) -> String {
    let mut out = format!("{header}creation_rules:\n");
    for rule in rules {
        let mut fields: Vec<String> = Vec::new();
        if let Some(p) = rule.path_regex {
            fields.push(format!("path_regex: {}", yaml_scalar(p)));
        }
        for (key, value) in rule.rules.named() {
            if let Some(v) = value {
                fields.push(format!("{key}: {}", yaml_scalar(v)));
            }
        }
        if rule.rules.mac_only_encrypted {
            fields.push("mac_only_encrypted: true".into());
        }
        fields.push(format!("age: {}", rule.age));
        for (i, f) in fields.iter().enumerate() {
            out.push_str(if i == 0 { "    - " } else { "      " });
            out.push_str(f);
            out.push('\n');
        }
    }
    if let Some(indent) = yaml_indent {
        out.push_str(&format!("stores:\n    yaml:\n        indent: {indent}\n"));
    }
    out
}

/// `s` as a YAML plain scalar when it reads back as the same string, else double-quoted.
fn yaml_scalar(s: &str) -> String {
    let safe_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "^/._-".contains(c));
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '^' || c == '/');
    let keyword = ["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
        .contains(&s.to_ascii_lowercase().as_str());
    if safe_chars && first_ok && !keyword {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
    }
}

/// A parsed `.sops.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub creation_rules: Vec<CreationRule>,
    /// Whether the file has a `creation_rules` key at all (sops treats a config without
    /// one as no config when it looks for recipients).
    pub has_creation_rules: bool,
    /// `stores.yaml.indent`, when set (already clamped as go-yaml clamps it).
    pub yaml_indent: Option<usize>,
    /// `stores.json.indent`, when set to 0 or more (spaces; unset or -1 is a tab).
    pub json_indent: Option<usize>,
    /// `stores.json_binary.indent`, likewise for binary files.
    pub json_binary_indent: Option<usize>,
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
    SopsError::BadConfig {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
    .into()
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
        Node::Seq(_) => node
            .seq_values()
            .into_iter()
            .filter_map(string_of)
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
        let store_indent =
            |store: &str| root.get("stores").and_then(|s| s.get(store)?.get("indent"));
        if let Some(indent) = store_indent("yaml") {
            // sops: 0 is its default (4), a negative one is an error; go-yaml then
            // clamps anything outside 2..=9 to 2.
            cfg.yaml_indent = match indent {
                Node::Scalar(Scalar::Int(0)) => None,
                Node::Scalar(Scalar::Int(i)) if (2..=9).contains(i) => Some(*i as usize),
                Node::Scalar(Scalar::Int(i)) if *i > 0 => Some(2),
                _ => {
                    return Err(bad(
                        path,
                        "stores.yaml.indent must be a number of spaces (0 or more)",
                    ))
                }
            };
        }
        for (store, slot) in [
            ("json", &mut cfg.json_indent),
            ("json_binary", &mut cfg.json_binary_indent),
        ] {
            if let Some(indent) = store_indent(store) {
                // sops: -1 (its default) is a tab, 0 or more that many spaces.
                *slot = match indent {
                    Node::Scalar(Scalar::Int(-1)) => None,
                    Node::Scalar(Scalar::Int(i)) if (0..=64).contains(i) => Some(*i as usize),
                    _ => {
                        return Err(bad(
                            path,
                            format!(
                                "stores.{store}.indent must be -1 (a tab) or a number of spaces"
                            ),
                        ))
                    }
                };
            }
        }
        let Some(rules) = root.get("creation_rules") else {
            return Ok(cfg);
        };
        match rules {
            Node::Seq(_) => cfg.has_creation_rules = true,
            Node::Scalar(Scalar::Null) => return Ok(cfg),
            _ => return Err(bad(path, "creation_rules must be a list")),
        }
        for rule in rules.seq_values() {
            let mut r = CreationRule::default();
            if let Some(p) = rule.get("path_regex").and_then(string_of) {
                if !p.is_empty() {
                    re2::compile(&p).map_err(|e| {
                        bad(
                            path,
                            format!("path_regex '{p}' is not a valid regular expression ({e})"),
                        )
                    })?;
                    r.path_regex = Some(p);
                }
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
            // An empty option is no option, as in sops (Go's zero value).
            let s = |k: &str| rule.get(k).and_then(string_of).filter(|v| !v.is_empty());
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

    /// The first rule whose `path_regex` matches `file`, matched as sops does: the
    /// file's absolute path, cleaned (`..` and `.` resolved without following links, as
    /// Go's `filepath.Abs`), minus the config's directory and `/` when it is below it.
    /// A matching rule with more than one of the what-to-encrypt options is refused,
    /// as sops refuses it.
    pub fn rule_for(&self, file: &Path) -> Result<&CreationRule> {
        let rel = self.relative_path(file);
        let rule = self.first_match(&rel)?;
        check_one_rule_option(&rule.rules).map_err(|e| SopsError::ConflictingRuleOptions {
            config: self.path.clone(),
            detail: e.message,
        })?;
        Ok(rule)
    }

    /// The text sops matches `path_regex` against for `file`.
    pub fn relative_path(&self, file: &Path) -> String {
        let dir = clean_path(self.path.parent().unwrap_or(Path::new("/")));
        let file = clean_path(file);
        let file = file.to_string_lossy();
        let mut prefix = dir.to_string_lossy().into_owned();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        file.strip_prefix(&prefix).unwrap_or(&file).to_string()
    }

    fn first_match(&self, rel: &str) -> Result<&CreationRule> {
        for rule in &self.creation_rules {
            match &rule.path_regex {
                None => return Ok(rule),
                Some(re) => {
                    // ok: validated in parse
                    if re2::compile(re).map(|r| r.is_match(rel)).unwrap_or(false) {
                        return Ok(rule);
                    }
                }
            }
        }
        Err(SopsError::NoMatchingRule {
            config: self.path.clone(),
            file: rel.to_string(),
        }
        .into())
    }
}

/// sops' default unencrypted suffix.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// How many of the six what-to-encrypt options are set (an empty one is unset).
pub fn rule_option_count(r: &EncryptionRules) -> usize {
    [
        &r.unencrypted_suffix,
        &r.encrypted_suffix,
        &r.unencrypted_regex,
        &r.encrypted_regex,
        &r.unencrypted_comment_regex,
        &r.encrypted_comment_regex,
    ]
    .iter()
    .filter(|o| o.as_deref().is_some_and(|v| !v.is_empty()))
    .count()
}

/// sops allows at most one of the what-to-encrypt options per rule and per file.
pub fn check_one_rule_option(r: &EncryptionRules) -> Result<()> {
    if rule_option_count(r) > 1 {
        return Err(Error::new(
            "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, \
             unencrypted_regex, encrypted_comment_regex or unencrypted_comment_regex",
        )
        .sops(crate::sops::codes::ERROR_CONFLICTING_PARAMETERS));
    }
    Ok(())
}

/// sops' default: `_unencrypted` as the unencrypted suffix when no rule
/// about what to encrypt is given (an empty option counts as not given).
pub fn with_default_suffix(mut r: EncryptionRules) -> EncryptionRules {
    for o in [
        &mut r.unencrypted_suffix,
        &mut r.encrypted_suffix,
        &mut r.unencrypted_regex,
        &mut r.encrypted_regex,
        &mut r.unencrypted_comment_regex,
        &mut r.encrypted_comment_regex,
    ] {
        if o.as_deref() == Some("") {
            *o = None;
        }
    }
    if rule_option_count(&r) == 0 {
        r.unencrypted_suffix = Some(DEFAULT_UNENCRYPTED_SUFFIX.into());
    }
    r
}

/// A path made absolute against `cwd`-free rules: `.` and `..` resolved lexically and
/// repeated `/` collapsed, like Go's `filepath.Clean` (links are not followed). A
/// relative path is first joined to the current directory.
pub fn clean_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::from("/");
    for c in abs.components() {
        match c {
            Component::Prefix(_) | Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

/// How files written or printed from `cwd` are indented: sops reads `stores` from the
/// `.sops.yaml` found from the current dir (for encrypt and decrypt alike).
pub fn store_indent(cwd: &Path) -> Indent {
    find_config(cwd)
        .and_then(|p| Config::load(&p).ok())
        .map(|c| c.indent())
        .unwrap_or_default()
}

/// [`store_indent`] for a command that writes: a `.sops.yaml` that does not parse is
/// an error, as in sops (which refuses every command then), so a rewrite never drops
/// the indent the file asks for without a word.
pub fn store_indent_checked(cwd: &Path) -> Result<Indent> {
    match find_config(cwd) {
        Some(p) => Config::load(&p).map(|c| c.indent()),
        None => Ok(Indent::default()),
    }
}

impl Config {
    /// The `stores` indents of this config, sops' defaults where unset.
    pub fn indent(&self) -> Indent {
        Indent {
            yaml: self.yaml_indent.unwrap_or(yaml::DEFAULT_INDENT),
            json: self.json_indent,
            json_binary: self.json_binary_indent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    #[test]
    fn a_written_config_reads_back_as_written() {
        let tricky = EncryptionRules {
            encrypted_regex: Some("^(data|stringData)$".into()),
            ..EncryptionRules::default()
        };
        let plain = EncryptionRules::default();
        let rules = [
            RuleToWrite {
                path_regex: Some("^secrets/"),
                rules: &plain,
                age: A,
            },
            RuleToWrite {
                path_regex: Some("true"),
                rules: &tricky,
                age: A,
            },
            RuleToWrite {
                path_regex: Some("-x: y #z"),
                rules: &plain,
                age: A,
            },
        ];
        let text = write_config("# header\n", &rules, Some(2));
        assert!(
            text.starts_with("# header\ncreation_rules:\n    - path_regex: ^secrets/\n      age: ")
        );
        let cfg = Config::parse(text.as_bytes(), Path::new("/r/.sops.yaml")).unwrap();
        let back: Vec<(Option<String>, Option<String>, Vec<String>)> = cfg
            .creation_rules
            .iter()
            .map(|r| {
                (
                    r.path_regex.clone(),
                    r.rules.encrypted_regex.clone(),
                    r.plan.recipients(),
                )
            })
            .collect();
        assert_eq!(
            back,
            [
                (Some("^secrets/".into()), None, vec![A.to_string()]),
                (
                    Some("true".into()),
                    Some("^(data|stringData)$".into()),
                    vec![A.to_string()]
                ),
                (Some("-x: y #z".into()), None, vec![A.to_string()]),
            ]
        );
        assert_eq!(cfg.yaml_indent, Some(2));
    }
}
