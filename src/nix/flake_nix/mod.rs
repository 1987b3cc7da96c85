//! Reads and edits the inputs of a `flake.nix` without evaluating it.
//!
//! We parse with `rnix` (a lossless syntax tree) so edits change only the
//! bytes they mean to: a url string literal, or one new line in the inputs.
//! Every edit keeps the user's comments, formatting and indentation; when a
//! file has a shape we cannot edit safely, the error carries the exact line
//! to add by hand instead of a guess.
//!
//! Here: the input model (what an input is, where its url points); [`edit`]: the
//! two edits; [`parse`]: the syntax tree walk both read from.

mod edit;
mod parse;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::error::Result;
use parse::*;

pub use edit::{insert_input, rewrite_url};

/// Every input a `flake.nix` declares, in the order they first appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlakeInputs {
    /// The inputs.
    pub inputs: Vec<Input>,
}

/// One flake input, from whichever syntax declared it
/// (`inputs.x.url = …;`, `inputs = { x.url = …; }`, `inputs.x = { url = …; }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The input name (`kubenix-secrets`).
    pub name: String,
    /// Its `url`, when it is a plain string literal.
    pub url: Option<UrlLiteral>,
    /// `inputs.x.follows = "y"`: the input is another one, not fetched itself.
    pub follows: Option<String>,
    /// `inputs.x.inputs.<sub>.follows = "<target>"`: which of this input's
    /// own inputs the parent replaces with its own.
    pub input_follows: BTreeMap<String, String>,
    /// `inputs.x.inputs.<sub>.url = …`: inputs of this input the parent
    /// overrides with another url (still fetched, so still a network risk).
    pub input_overrides: Vec<String>,
    /// `inputs.x.flake = false`.
    pub flake: Option<bool>,
}

/// A url string literal and where it sits in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlLiteral {
    /// The string's value (escapes resolved).
    pub value: String,
    /// Byte range of the literal in the source, quotes included.
    pub range: Range<usize>,
    /// The source text of the literal, quotes included (to check an edit
    /// is applied to the source it was read from).
    pub text: String,
    /// 1-based line of the literal, for messages.
    pub line: usize,
}

/// What a flake url points at, as far as the secrets dir is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlKind {
    /// `git+file:<path>`: Nix reads the repo's committed HEAD; what we want.
    GitFile {
        /// The path after the scheme, query and fragment removed.
        path: String,
    },
    /// `path:<path>`: Nix reads the directory through the parent's git index,
    /// which cannot see inside a nested repo; needs a rewrite.
    Path {
        /// The path after the scheme, query and fragment removed.
        path: String,
    },
    /// A bare `./secrets` (same as `path:` for Nix); needs a rewrite.
    Bare {
        /// The path, query and fragment removed.
        path: String,
    },
    /// Anything else (`github:`, `git+ssh:`, `https:`, …).
    Other,
}

impl UrlKind {
    /// Classifies a flake url string.
    pub fn of(url: &str) -> UrlKind {
        let strip = |p: &str| p.split(['?', '#']).next().unwrap_or("").to_string();
        if let Some(rest) = url.strip_prefix("git+file:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            return UrlKind::GitFile { path: strip(rest) };
        }
        if let Some(rest) = url.strip_prefix("path:") {
            return UrlKind::Path { path: strip(rest) };
        }
        if url.starts_with("./") || url.starts_with("../") || url.starts_with('/') || url == "." {
            return UrlKind::Bare { path: strip(url) };
        }
        UrlKind::Other
    }

    /// The local path for `git+file:`, `path:` and bare urls.
    pub fn path(&self) -> Option<&str> {
        match self {
            UrlKind::GitFile { path } | UrlKind::Path { path } | UrlKind::Bare { path } => {
                Some(path)
            }
            UrlKind::Other => None,
        }
    }

    /// Whether this is the `git+file:` form the tool wants.
    pub fn is_git_file(&self) -> bool {
        matches!(self, UrlKind::GitFile { .. })
    }
}

impl Input {
    /// How the input's url points (None when it has no literal url).
    pub fn url_kind(&self) -> Option<UrlKind> {
        self.url.as_ref().map(|u| UrlKind::of(&u.value))
    }

    /// Whether the input's url names the directory `dir_rel` (relative to
    /// the flake's directory; `secrets`, `./secrets`, `../kubenix-secrets`).
    pub fn points_at(&self, dir_rel: &str) -> bool {
        let want = normalize_rel(dir_rel);
        self.url_kind()
            .and_then(|k| k.path().map(normalize_rel))
            .is_some_and(|p| p == want)
    }
}

/// `./a//b/` → `a/b`, so `git+file:./secrets` matches a dir of `secrets`.
pub(super) fn normalize_rel(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

impl FlakeInputs {
    /// Parses `src` (a `flake.nix`) and collects its inputs.
    pub fn parse(src: &str) -> Result<FlakeInputs> {
        let root = parse(src)?;
        let Some(set) = top_attrset(&root) else {
            return Ok(FlakeInputs::default());
        };
        let mut leaves = Vec::new();
        flatten(&set, &mut Vec::new(), &mut leaves);
        let mut inputs: Vec<Input> = Vec::new();
        for leaf in leaves {
            let [first, name, rest @ ..] = leaf.path.as_slice() else {
                continue;
            };
            if first != "inputs" {
                continue;
            }
            let idx = match inputs.iter().position(|i| &i.name == name) {
                Some(i) => i,
                None => {
                    inputs.push(Input {
                        name: name.clone(),
                        url: None,
                        follows: None,
                        input_follows: BTreeMap::new(),
                        input_overrides: Vec::new(),
                        flake: None,
                    });
                    inputs.len() - 1
                }
            };
            let input = &mut inputs[idx];
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            match rest.as_slice() {
                ["url"] => input.url = string_literal(src, &leaf.value),
                ["follows"] => input.follows = string_literal(src, &leaf.value).map(|u| u.value),
                ["flake"] => input.flake = bool_literal(&leaf.value),
                ["inputs", sub, "follows"] => {
                    if let Some(target) = string_literal(src, &leaf.value) {
                        input.input_follows.insert(sub.to_string(), target.value);
                    }
                }
                ["inputs", sub, ..] if !input.input_overrides.iter().any(|s| s == sub) => {
                    input.input_overrides.push(sub.to_string());
                }
                _ => {}
            }
        }
        Ok(FlakeInputs { inputs })
    }

    /// The input called `name`.
    pub fn get(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// Inputs that Nix will fetch on its own (not `follows` of another):
    /// what makes a flake need the network to lock.
    pub fn fetched(&self) -> impl Iterator<Item = &Input> {
        self.inputs.iter().filter(|i| i.follows.is_none())
    }
}

/// The input of `src` that points at the secrets dir `dir_rel` (relative to
/// the flake's directory). When several do, a `git+file:` one wins.
pub fn find_secrets_input(src: &str, dir_rel: &str) -> Result<Option<Input>> {
    let all = FlakeInputs::parse(src)?;
    let mut matching: Vec<Input> = all
        .inputs
        .into_iter()
        .filter(|i| i.points_at(dir_rel))
        .collect();
    let best = matching
        .iter()
        .position(|i| i.url_kind().is_some_and(|k| k.is_git_file()))
        .unwrap_or(0);
    Ok((!matching.is_empty()).then(|| matching.swap_remove(best)))
}

/// The secrets flake's own inputs that the parent input does not `follows`:
/// each one makes `nix flake lock` reach for the network, even with
/// `--offline` when it is not in the store yet.
pub fn unfollowed_inputs(parent_input: &Input, secrets_flake: &FlakeInputs) -> Vec<String> {
    secrets_flake
        .fetched()
        .filter(|i| !parent_input.input_follows.contains_key(&i.name))
        .map(|i| i.name.clone())
        .collect()
}

#[cfg(test)]
mod tests;
