//! The parent's committed allowlist, `.git-secrets-allow`: values of secrets that are
//! public on purpose. A kubenix repo must spell out its namespaces, its cluster name and
//! its API server URL, and those are also values of the (fully encrypted) kubeconfig;
//! a line `kubeconfig:contexts.*.context.namespace` tells the leak guards not to search
//! for them. The file lives in the parent and is committed, so the hooks, `doctor
//! --staged` and `doctor --history` of every clone read the same list.
//!
//! One pattern a line, `NAME:PATH`; `#` starts a comment. In PATH (the dotted key path
//! doctor prints, `users.0.user.token`), `*` matches one component and `**` any number
//! of them; in NAME, `*` matches any secret name.

use std::path::Path;

use crate::error::{Error, Result};

/// The allowlist's file name, at the parent's root.
pub const FILE: &str = ".git-secrets-allow";

/// What a new file starts with.
const HEADER: &str =
    "# Values of the secrets that are public on purpose (names, namespaces, hosts):\n\
# the git-secrets leak guards do not search for them. One NAME:PATH a line; in PATH\n\
# `*` matches one key and `**` any number of keys. Managed by `git secrets allow`.\n";

/// One `NAME:PATH` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    name: String,
    path: String,
}

impl Pattern {
    /// Parses `NAME:PATH` (the first `:` splits; a path may hold more of them).
    pub fn parse(text: &str) -> Result<Pattern> {
        let bad = |why: &str| {
            Error::usage(format!("'{text}' is not a NAME:PATH pattern: {why}"))
                .hint("for example: git secrets allow 'kubeconfig:contexts.*.context.namespace'")
                .hint("doctor prints each value's NAME:PATH where it finds one")
        };
        let (name, path) = text.split_once(':').ok_or_else(|| bad("no ':'"))?;
        if name.is_empty() || path.is_empty() {
            return Err(bad("NAME and PATH must not be empty"));
        }
        if text.chars().any(|c| c.is_control()) || text.trim() != text {
            return Err(bad("it holds a control character or surrounding spaces"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*'))
        {
            return Err(bad("NAME is a secret name ([A-Za-z0-9._-], or * for any)"));
        }
        Ok(Pattern {
            name: name.to_string(),
            path: path.to_string(),
        })
    }

    /// Whether this pattern covers the value at `path` of secret `secret`.
    pub fn matches(&self, secret: &str, path: &str) -> bool {
        glob(self.name.as_bytes(), secret.as_bytes(), None)
            && glob(self.path.as_bytes(), path.as_bytes(), Some(b'.'))
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.path)
    }
}

/// `*` matches a run without `sep` (any run when `sep` is None), `**` any run.
fn glob(pat: &[u8], text: &[u8], sep: Option<u8>) -> bool {
    match pat {
        [] => text.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=text.len()).any(|i| glob(rest, &text[i..], sep)),
        [b'*', rest @ ..] => {
            for i in 0..=text.len() {
                if glob(rest, &text[i..], sep) {
                    return true;
                }
                if i < text.len() && Some(text[i]) == sep {
                    return false;
                }
            }
            false
        }
        [c, rest @ ..] => text.first() == Some(c) && glob(rest, &text[1..], sep),
    }
}

/// The parsed file.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    /// The patterns, in file order.
    pub patterns: Vec<Pattern>,
}

impl Allowlist {
    /// Reads `<root>/.git-secrets-allow`; a missing file is an empty list, a bad line an
    /// error naming it (the guards then fail closed rather than guess).
    pub fn load(root: &Path) -> Result<Allowlist> {
        let path = root.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Allowlist::parse(&text).map_err(|e| {
                let mut out = Error::new(format!("{FILE}: {}", e.message));
                out.hints = e.hints;
                out
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Allowlist::default()),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<Allowlist> {
        let mut patterns = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let p = Pattern::parse(line).map_err(|e| {
                let mut out = Error::new(format!("line {}: {}", n + 1, e.message));
                out.hints = vec![format!("fix or delete that line of {FILE}")];
                out
            })?;
            patterns.push(p);
        }
        Ok(Allowlist { patterns })
    }

    /// Whether some pattern covers the value at `path` of `secret`.
    pub fn allows(&self, secret: &str, path: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(secret, path))
    }
}

/// `text` (the file's current content, empty when there is none) with `add` appended
/// and every line equal to one of `remove` dropped; comments and order are kept.
pub fn edit(text: &str, add: &[Pattern], remove: &[Pattern]) -> String {
    let mut out = if text.trim().is_empty() {
        HEADER.to_string()
    } else {
        String::new()
    };
    for line in text.lines() {
        let drop = Pattern::parse(line.trim()).is_ok_and(|p| remove.contains(&p));
        if !drop {
            out.push_str(line);
            out.push('\n');
        }
    }
    for p in add {
        out.push_str(&p.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_one_key_and_two_stars_any() {
        let p = Pattern::parse("kubeconfig:contexts.*.context.namespace").unwrap();
        assert!(p.matches("kubeconfig", "contexts.0.context.namespace"));
        assert!(p.matches("kubeconfig", "contexts.12.context.namespace"));
        assert!(!p.matches("kubeconfig", "contexts.0.x.context.namespace"));
        assert!(!p.matches("kubeconfig", "contexts.0.context.namespace.x"));
        assert!(!p.matches("talosconfig", "contexts.0.context.namespace"));
        let p = Pattern::parse("*:**.namespace").unwrap();
        assert!(p.matches("any", "a.b.c.namespace"));
        assert!(!p.matches("any", "a.b.c.namespaces"));
        let p = Pattern::parse("kubeconfig:clusters.0.cluster.server").unwrap();
        assert!(p.matches("kubeconfig", "clusters.0.cluster.server"));
        assert!(!p.matches("kubeconfig", "clusters.1.cluster.server"));
    }

    #[test]
    fn bad_patterns_and_lines_are_refused_with_their_line() {
        for bad in ["nocolon", ":path", "name:", "na me:x", " a:b"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
        let e = Allowlist::parse("# c\nkubeconfig:a\nbroken\n").unwrap_err();
        assert!(e.message.starts_with("line 3:"), "{}", e.message);
    }

    #[test]
    fn edit_appends_removes_and_keeps_comments() {
        let a = Pattern::parse("k:a").unwrap();
        let b = Pattern::parse("k:b").unwrap();
        let first = edit("", std::slice::from_ref(&a), &[]);
        assert!(first.starts_with("# Values"), "{first}");
        assert!(first.ends_with("k:a\n"));
        let second = edit(&format!("{first}# mine\n"), std::slice::from_ref(&b), &[a]);
        assert!(
            !second.contains("k:a\n") && second.contains("# mine\nk:b\n"),
            "{second}"
        );
        assert_eq!(Allowlist::parse(&second).unwrap().patterns, vec![b]);
    }
}
