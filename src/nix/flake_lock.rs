//! Reads the parent's `flake.lock` to learn what an input is locked to.
//!
//! Nix's exit code is not enough: newer Nix only warns on some lock failures
//! and exits 0, and a dirty inner repo gives a lock without `rev`. So after
//! every lock we read the file back and compare the commit id ourselves.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{read_file, Error, Result};
use crate::nix::error::NixError;

/// The raw lock file (version 7 and friends): nodes keyed by node name.
#[derive(Debug, Deserialize)]
struct RawLock {
    nodes: BTreeMap<String, RawNode>,
    root: String,
}

#[derive(Debug, Deserialize)]
struct RawNode {
    #[serde(default)]
    inputs: BTreeMap<String, InputRef>,
    locked: Option<LockedInput>,
}

/// An input of a node: either the key of another node, or a `follows` path
/// of input names starting at the root node.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum InputRef {
    Node(String),
    Follows(Vec<String>),
}

/// What one input is locked to: the `locked` attributes we care about, read from its
/// node, and which input and node they are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockedInput {
    /// The input's name in the parent's `inputs`.
    #[serde(skip)]
    pub input: String,
    /// The node key in `flake.lock` (differs from the input name when Nix had
    /// to disambiguate, e.g. `nixpkgs_2`).
    #[serde(skip)]
    pub node: String,
    /// `locked.rev`: the commit; absent when the tree was dirty.
    pub rev: Option<String>,
    /// `locked.narHash`: the content hash Nix checks on fetch.
    pub nar_hash: Option<String>,
    /// `locked.lastModified` (seconds since the epoch).
    pub last_modified: Option<u64>,
    /// `locked.revCount`.
    pub rev_count: Option<u64>,
}

/// A parsed `flake.lock`.
#[derive(Debug)]
pub struct FlakeLock {
    raw: RawLock,
}

impl FlakeLock {
    /// Parses the bytes of a `flake.lock`.
    pub fn parse(bytes: &[u8]) -> Result<FlakeLock> {
        let raw: RawLock = serde_json::from_slice(bytes).map_err(NixError::UnparsableLock)?;
        if !raw.nodes.contains_key(&raw.root) {
            return Err(NixError::LockWithoutRoot { root: raw.root }.into());
        }
        Ok(FlakeLock { raw })
    }

    /// Reads and parses the `flake.lock` at `path`.
    pub fn read(path: &Path) -> Result<FlakeLock> {
        FlakeLock::parse(&read_file(path)?).map_err(|e| Error {
            message: format!("{}: {}", path.display(), e.message),
            ..e
        })
    }

    /// The names of the root's inputs.
    pub fn root_inputs(&self) -> Vec<String> {
        self.raw
            .nodes
            .get(&self.raw.root)
            .map(|n| n.inputs.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The node key a root input resolves to, following `follows` lists.
    /// `None` when the root has no such input.
    pub fn node_of(&self, input: &str) -> Result<Option<String>> {
        let has_input = self
            .raw
            .nodes
            .get(&self.raw.root)
            .is_some_and(|n| n.inputs.contains_key(input));
        if !has_input {
            return Ok(None);
        }
        self.resolve_path(&[input.to_string()], 0).map(Some)
    }

    /// Resolves a path of input names, starting at the root node, to a node
    /// key. `follows` paths are absolute (from the root) in lock version 7.
    fn resolve_path(&self, path: &[String], depth: usize) -> Result<String> {
        // A follows path can point at another follows; bound the recursion
        // so a corrupt file cannot loop forever.
        if depth > self.raw.nodes.len() {
            return Err(broken(format!("follows cycle at {}", path.join("/"))));
        }
        let mut node = self.raw.root.clone();
        for name in path {
            let next = self
                .raw
                .nodes
                .get(&node)
                .and_then(|n| n.inputs.get(name))
                .ok_or_else(|| broken(format!("input path {} does not exist", path.join("/"))))?;
            node = match next {
                InputRef::Node(key) => key.clone(),
                InputRef::Follows(p) => self.resolve_path(p, depth + 1)?,
            };
            if !self.raw.nodes.contains_key(&node) {
                return Err(broken(format!(
                    "input {} points at missing node {node:?}",
                    path.join("/")
                )));
            }
        }
        Ok(node)
    }

    /// What root input `input` is locked to; `None` when it is not in the
    /// lock at all.
    pub fn input(&self, input: &str) -> Result<Option<LockedInput>> {
        let Some(node) = self.node_of(input)? else {
            return Ok(None);
        };
        let locked = self.raw.nodes.get(&node).and_then(|n| n.locked.clone());
        let Some(locked) = locked else {
            return Err(broken(format!(
                "node {node:?} of input {input:?} has no `locked` attributes"
            )));
        };
        Ok(Some(LockedInput {
            input: input.to_string(),
            node,
            ..locked
        }))
    }

    /// Checks that `input` is locked to commit `expected_rev` with a
    /// `narHash`; anything else is an error, even when Nix exited 0.
    pub fn verify(&self, input: &str, expected_rev: &str) -> Result<LockedInput> {
        let locked = self.input(input)?.ok_or_else(|| NixError::InputNotLocked {
            input: input.to_string(),
        })?;
        let Some(rev) = locked.rev.as_deref() else {
            return Err(NixError::LockedWithoutRev {
                input: input.to_string(),
            }
            .into());
        };
        if rev != expected_rev {
            return Err(NixError::LockedToOtherRev {
                input: input.to_string(),
                locked: short(rev).to_string(),
                expected: short(expected_rev).to_string(),
            }
            .into());
        }
        if locked.nar_hash.as_deref().unwrap_or("").is_empty() {
            return Err(NixError::LockedWithoutNarHash {
                input: input.to_string(),
            }
            .into());
        }
        Ok(locked)
    }
}

fn broken(msg: String) -> Error {
    NixError::InconsistentLock(msg).into()
}

/// The first 12 hex digits of a commit id, for messages.
pub fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REV: &str = "f766f1ef08348b41eb58e9b9a63bb3161ba9d3f9";

    /// The lock Nix 2.8 wrote for `inputs.kubenix-secrets.url = "git+file:./secrets"`.
    const NIX_2_8_LOCK: &str = r#"{
  "nodes": {
    "kubenix-secrets": {
      "locked": {
        "lastModified": 1795619737,
        "narHash": "sha256-SP+4UgOATYQGw9TBE3vvlyI1lTdJLg4PDZMN1LmoUJc=",
        "ref": "main",
        "rev": "f766f1ef08348b41eb58e9b9a63bb3161ba9d3f9",
        "revCount": 1,
        "type": "git",
        "url": "file:./secrets"
      },
      "original": { "type": "git", "url": "file:./secrets" }
    },
    "root": { "inputs": { "kubenix-secrets": "kubenix-secrets" } }
  },
  "root": "root",
  "version": 7
}"#;

    #[test]
    fn reads_the_locked_attributes_of_a_git_file_input() {
        let lock = FlakeLock::parse(NIX_2_8_LOCK.as_bytes()).unwrap();
        let l = lock.input("kubenix-secrets").unwrap().unwrap();
        assert_eq!(l.node, "kubenix-secrets");
        assert_eq!(l.rev.as_deref(), Some(REV));
        assert_eq!(
            l.nar_hash.as_deref(),
            Some("sha256-SP+4UgOATYQGw9TBE3vvlyI1lTdJLg4PDZMN1LmoUJc=")
        );
        assert_eq!(l.last_modified, Some(1795619737));
        assert_eq!(l.rev_count, Some(1));
        assert_eq!(lock.input("other").unwrap(), None);
        assert_eq!(lock.root_inputs(), ["kubenix-secrets"]);
    }

    #[test]
    fn verify_accepts_the_expected_rev_and_rejects_others() {
        let lock = FlakeLock::parse(NIX_2_8_LOCK.as_bytes()).unwrap();
        assert!(lock.verify("kubenix-secrets", REV).is_ok());
        let err = lock
            .verify(
                "kubenix-secrets",
                "0123456789abcdef0123456789abcdef01234567",
            )
            .unwrap_err();
        err.assert_says("f766f1ef0834");
        err.assert_says("0123456789ab");
        let err = lock.verify("secrets", REV).unwrap_err();
        err.assert_says("no input \"secrets\"");
    }

    #[test]
    fn verify_rejects_a_dirty_lock_without_rev_and_a_missing_nar_hash() {
        // What Nix 2.8 writes when the inner repo has uncommitted changes.
        let dirty = r#"{"nodes":{"s":{"locked":{"lastModified":1,"narHash":"sha256-x","type":"git","url":"file:./secrets"}},
            "root":{"inputs":{"s":"s"}}},"root":"root","version":7}"#;
        let err = FlakeLock::parse(dirty.as_bytes())
            .unwrap()
            .verify("s", REV)
            .unwrap_err();
        err.assert_says("without a commit id");
        assert!(err.hints[0].contains("commit"));

        let no_hash = format!(
            r#"{{"nodes":{{"s":{{"locked":{{"rev":"{REV}","type":"git"}}}},"root":{{"inputs":{{"s":"s"}}}}}},"root":"root","version":7}}"#
        );
        let err = FlakeLock::parse(no_hash.as_bytes())
            .unwrap()
            .verify("s", REV)
            .unwrap_err();
        err.assert_says("narHash");
    }

    #[test]
    fn follows_node_keys_that_differ_from_input_names_and_follows_lists() {
        let text = format!(
            r#"{{"nodes":{{
              "nixpkgs":{{"locked":{{"type":"github","rev":"aaa","narHash":"sha256-a"}}}},
              "nixpkgs_2":{{"locked":{{"type":"github","rev":"bbb","narHash":"sha256-b"}}}},
              "other":{{"inputs":{{"nixpkgs":"nixpkgs_2"}},"locked":{{"type":"github","rev":"ccc","narHash":"sha256-c"}}}},
              "secrets_1":{{"inputs":{{"nixpkgs":["nixpkgs"]}},"locked":{{"type":"git","rev":"{REV}","narHash":"sha256-s"}}}},
              "root":{{"inputs":{{"nixpkgs":"nixpkgs","other":"other","kubenix-secrets":"secrets_1",
                                  "alias":["kubenix-secrets"],"deep":["other","nixpkgs"],"self-ref":[]}}}}
            }},"root":"root","version":7}}"#
        );
        let lock = FlakeLock::parse(text.as_bytes()).unwrap();
        let s = lock.verify("kubenix-secrets", REV).unwrap();
        assert_eq!(s.node, "secrets_1");
        assert_eq!(lock.input("alias").unwrap().unwrap().node, "secrets_1");
        assert_eq!(
            lock.input("deep").unwrap().unwrap().rev.as_deref(),
            Some("bbb")
        );
        assert_eq!(lock.node_of("self-ref").unwrap().as_deref(), Some("root"));
    }

    #[test]
    fn broken_files_are_errors_not_panics() {
        assert!(FlakeLock::parse(b"").is_err());
        assert!(FlakeLock::parse(b"{\"nodes\":{},\"root\":\"root\"}").is_err());
        let dangling =
            r#"{"nodes":{"root":{"inputs":{"s":"gone","f":["nope"]}}},"root":"root","version":7}"#;
        let lock = FlakeLock::parse(dangling.as_bytes()).unwrap();
        assert!(lock.input("s").is_err());
        assert!(lock.input("f").is_err());
        let cycle =
            r#"{"nodes":{"root":{"inputs":{"a":["b"],"b":["a"]}}},"root":"root","version":7}"#;
        assert!(FlakeLock::parse(cycle.as_bytes())
            .unwrap()
            .input("a")
            .is_err());
    }
}
