//! Which way a relock would move the parent's lock along the inner history.
//!
//! The public `flake.lock` names an inner commit. Moving it to the inner HEAD is safe
//! only *forward* (the locked rev is an ancestor of HEAD): anything else publishes older
//! secrets — revoked credentials — or drops a teammate's change. This module decides the
//! direction from three facts about the inner history (is the locked rev here, is it an
//! ancestor of HEAD, is HEAD an ancestor of it), and turns a refusal into an error that
//! names both sides. The decision is a pure function over [`Ancestry`], so it is tested
//! without repositories; [`Repo`] answers the questions for real.

use crate::error::{Error, Result};
use crate::git::{ObjectId, Repo};
use crate::nix::flake_lock::short;

/// Answers ancestry questions about one history.
pub trait Ancestry {
    /// Whether the commit `id` is present.
    fn has(&self, id: &str) -> bool;
    /// Whether `a` is an ancestor of (or equal to) `b`.
    fn is_ancestor(&self, a: &str, b: &str) -> Result<bool>;
}

impl Ancestry for Repo {
    fn has(&self, id: &str) -> bool {
        self.has_commit(id)
    }
    fn is_ancestor(&self, a: &str, b: &str) -> Result<bool> {
        Repo::is_ancestor(self, a, b)
    }
}

/// Where the inner HEAD stands relative to the locked rev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    /// Nothing is locked yet: any HEAD may be locked.
    Unlocked,
    /// HEAD is the locked rev.
    Same,
    /// HEAD descends from the locked rev: relocking moves forward.
    Forward,
    /// HEAD is an ancestor of the locked rev: relocking would roll the secrets back.
    Behind,
    /// The locked rev is not in the inner repo: it was made elsewhere and not fetched
    /// (or not pushed by whoever made it).
    Missing,
    /// Both have commits the other lacks: relocking would drop the locked side.
    Diverged,
}

impl Direction {
    /// Whether relocking to HEAD is allowed.
    #[cfg(test)]
    pub fn allows_relock(&self) -> bool {
        matches!(
            self,
            Direction::Unlocked | Direction::Same | Direction::Forward
        )
    }

    /// A short name for reports: `forward`, `behind`, …
    pub fn name(&self) -> &'static str {
        match self {
            Direction::Unlocked => "unlocked",
            Direction::Same => "same",
            Direction::Forward => "forward",
            Direction::Behind => "behind",
            Direction::Missing => "missing",
            Direction::Diverged => "diverged",
        }
    }
}

/// Decides the direction from `locked` (the rev in `flake.lock`, if any) to `head`.
pub fn decide(history: &impl Ancestry, locked: Option<&str>, head: &str) -> Result<Direction> {
    let Some(locked) = locked else {
        return Ok(Direction::Unlocked);
    };
    if locked == head {
        return Ok(Direction::Same);
    }
    if !history.has(locked) {
        return Ok(Direction::Missing);
    }
    if history.is_ancestor(locked, head)? {
        return Ok(Direction::Forward);
    }
    if history.is_ancestor(head, locked)? {
        return Ok(Direction::Behind);
    }
    Ok(Direction::Diverged)
}

/// A commit as the user would recognise it: short id, subject and date.
pub fn describe_commit(repo: &Repo, id: &str) -> String {
    let Ok(oid) = ObjectId::from_hex(id.as_bytes()) else {
        return short(id).to_string();
    };
    match repo.commit_info(oid) {
        Ok(info) => {
            let date = chrono::DateTime::from_timestamp(info.time, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            format!("{} {:?} ({date})", short(id), info.summary)
        }
        Err(_) => short(id).to_string(),
    }
}

/// `Ok(direction)` when relocking `input` from `locked` to `head` is allowed, else the
/// refusal: what each side is and what to do. Nothing is changed either way.
pub fn check(repo: &Repo, input: &str, locked: Option<&str>, head: &str) -> Result<Direction> {
    let direction = decide(repo, locked, head)?;
    let Some(locked) = locked else {
        return Ok(direction);
    };
    let dir = crate::quote::shell(&repo.root().display().to_string()).into_owned();
    let err = match direction {
        Direction::Unlocked | Direction::Same | Direction::Forward => return Ok(direction),
        Direction::Behind => Error::new(format!(
            "refusing to move the lock of {input} backwards: flake.lock locks {}, and the secrets repo's HEAD {} is older",
            describe_commit(repo, locked),
            describe_commit(repo, head),
        ))
        .hint("the lock names newer secrets than you have; bring them in first: git secrets pull")
        .hint(format!(
            "nothing was changed; to see what you lack: git -C {dir} log --oneline {}..{}",
            short(head),
            short(locked)
        )),
        Direction::Missing => Error::new(format!(
            "refusing to relock {input}: flake.lock locks {}, a commit the secrets repo does not have (HEAD is {})",
            short(locked),
            describe_commit(repo, head),
        ))
        .hint("someone locked a commit you have not fetched: git secrets pull")
        .hint("if pull cannot find it either, whoever locked it has not pushed the secrets repo (git secrets push on their machine)")
        .hint("nothing was changed"),
        Direction::Diverged => {
            let base = repo
                .merge_base(locked, head)
                .ok()
                .flatten()
                .map(|b| format!(" (they part at {})", describe_commit(repo, &b.to_string())))
                .unwrap_or_default();
            Error::new(format!(
                "refusing to relock {input} sideways: flake.lock locks {} and the secrets repo's HEAD is {}; each has commits the other lacks{base}",
                describe_commit(repo, locked),
                describe_commit(repo, head),
            ))
            .hint("relocking would drop the locked side's changes; merge them first: git secrets pull")
            .hint(format!(
                "nothing was changed; to compare: git -C {dir} log --oneline --left-right {}...{}",
                short(locked),
                short(head)
            ))
        }
    };
    Err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A history as child → parents.
    struct Graph(HashMap<&'static str, Vec<&'static str>>);

    impl Ancestry for Graph {
        fn has(&self, id: &str) -> bool {
            self.0.contains_key(id)
        }
        fn is_ancestor(&self, a: &str, b: &str) -> Result<bool> {
            if a == b {
                return Ok(true);
            }
            let parents = self.0.get(b).cloned().unwrap_or_default();
            for p in parents {
                if self.is_ancestor(a, p)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }

    /// a ← b ← c (main line), b ← x (a side branch), c + x ← m (a merge)
    fn graph() -> Graph {
        Graph(HashMap::from([
            ("a", vec![]),
            ("b", vec!["a"]),
            ("c", vec!["b"]),
            ("x", vec!["b"]),
            ("m", vec!["c", "x"]),
        ]))
    }

    /// Where HEAD stands from the locked rev, on the graph above, and whether that
    /// allows a relock (onwards from the lock, or nothing locked yet, only).
    #[test]
    fn the_direction_from_the_locked_rev_to_head() {
        let g = graph();
        for (locked, head, want, relock) in [
            // forward: the locked rev is an ancestor of HEAD
            (Some("a"), "c", Direction::Forward, true),
            (Some("x"), "m", Direction::Forward, true),
            (None, "c", Direction::Unlocked, true),
            (Some("c"), "c", Direction::Same, true),
            // behind: HEAD is an ancestor of the locked rev
            (Some("c"), "a", Direction::Behind, false),
            (Some("m"), "x", Direction::Behind, false),
            // missing: the locked rev is not here
            (Some("zzz"), "c", Direction::Missing, false),
            // diverged: each side has commits the other lacks
            (Some("c"), "x", Direction::Diverged, false),
            (Some("x"), "c", Direction::Diverged, false),
        ] {
            assert_eq!(want.allows_relock(), relock, "{want:?}");
            assert_eq!(
                decide(&g, locked, head).ok(),
                Some(want),
                "{locked:?} to {head}"
            );
        }
    }
}
