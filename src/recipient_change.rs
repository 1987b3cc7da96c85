//! Who gains or loses access when the secrets are re-wrapped for the
//! recipients `.sops.yaml` names: each recipient by key and by the name
//! `.sops.yaml` gives it (the comment or YAML anchor on its line), so a key
//! slipped into `.sops.yaml` (a commit, a merge) is seen, and confirmed,
//! before it gets any data key. `rekey` and `doctor --fix` use it.

use crate::error::Result;
use crate::layout::Layout;
use crate::sops::file::load;
use crate::sops::rules::Config;
use std::path::{Path, PathBuf};

/// One recipient that gains or loses access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The recipient as `.sops.yaml` or the file writes it (`age1…`, `ssh-ed25519 …`).
    pub recipient: String,
    /// What `.sops.yaml` calls it: the comment or anchor on its line.
    pub label: Option<String>,
    /// The secret files it is added to or removed from.
    pub files: Vec<PathBuf>,
    /// Given on the command line (`--add-recipient`/`--remove-recipient`):
    /// the user named it already and need not confirm it again.
    pub explicit: bool,
}

impl Named {
    /// `age1…  (alice)`, or the key alone when `.sops.yaml` gives no name.
    pub fn describe(&self) -> String {
        match &self.label {
            Some(l) => format!("{} ({l})", self.recipient),
            None => format!("{} (no name in .sops.yaml)", self.recipient),
        }
    }
}

/// The recipients a rekey adds and removes, over every secret file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecipientChange {
    pub added: Vec<Named>,
    pub removed: Vec<Named>,
}

impl RecipientChange {
    /// Records one file that has `have` and will get `want`.
    pub fn record(&mut self, file: &Path, have: &[String], want: &[String]) {
        for r in want.iter().filter(|r| !have.contains(r)) {
            add_file(&mut self.added, r, file);
        }
        for r in have.iter().filter(|r| !want.contains(r)) {
            add_file(&mut self.removed, r, file);
        }
    }

    /// Fills in labels from `.sops.yaml` texts (the new one first, then the
    /// old, where a removed recipient still is) and marks the recipients the
    /// user named on the command line.
    pub fn finish(&mut self, config_texts: &[&str], explicit: &[String]) {
        for n in self.added.iter_mut().chain(self.removed.iter_mut()) {
            n.label = config_texts.iter().find_map(|t| label(t, &n.recipient));
            n.explicit = explicit.contains(&n.recipient);
        }
    }

    /// True when nobody gains or loses access.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// True when some recipient changes that the user did not name.
    pub fn needs_confirmation(&self) -> bool {
        self.added.iter().chain(&self.removed).any(|n| !n.explicit)
    }

    /// One line per recipient: `+ age1… (bob): 3 secrets`.
    pub fn summary_lines(&self) -> Vec<String> {
        let line = |sign: &str, n: &Named| {
            let count = n.files.len();
            format!(
                "  {sign} {}: {count} secret{}{}",
                n.describe(),
                if count == 1 { "" } else { "s" },
                if n.explicit {
                    " (given on the command line)"
                } else {
                    ""
                }
            )
        };
        self.added
            .iter()
            .map(|n| line("+", n))
            .chain(self.removed.iter().map(|n| line("-", n)))
            .collect()
    }

    /// The question that names them: `Give access to age1… (bob) and take it from …?`
    pub fn question(&self) -> String {
        let names = |v: &[Named]| v.iter().map(Named::describe).collect::<Vec<_>>().join(", ");
        match (self.added.is_empty(), self.removed.is_empty()) {
            (false, true) => format!("Give {} access to the secrets?", names(&self.added)),
            (true, false) => format!("Take access to the secrets from {}?", names(&self.removed)),
            _ => format!(
                "Give {} access to the secrets and take it from {}?",
                names(&self.added),
                names(&self.removed)
            ),
        }
    }
}

fn add_file(list: &mut Vec<Named>, recipient: &str, file: &Path) {
    match list.iter_mut().find(|n| n.recipient == recipient) {
        Some(n) => n.files.push(file.to_path_buf()),
        None => list.push(Named {
            recipient: recipient.to_string(),
            label: None,
            files: vec![file.to_path_buf()],
            explicit: false,
        }),
    }
}

/// What `.sops.yaml` calls `recipient`: the comment on the line that holds
/// it, else the YAML anchor there (`- &alice age1…`), else a comment line
/// right above it.
pub fn label(config_text: &str, recipient: &str) -> Option<String> {
    let lines: Vec<&str> = config_text.lines().collect();
    let i = lines.iter().position(|l| l.contains(recipient))?;
    let line = lines[i];
    if let Some((_, c)) = line.split_once(" #") {
        let c = c.trim();
        if !c.is_empty() {
            return Some(c.to_string());
        }
    }
    if let Some(anchor) = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix('&'))
        .filter(|a| !a.is_empty())
    {
        return Some(anchor.to_string());
    }
    let above = lines.get(i.checked_sub(1)?)?.trim();
    above
        .strip_prefix('#')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

/// The change a rekey would make now: every secret file's age recipients
/// against what `.sops.yaml` names for it. Files that do not load, or that
/// no rule matches, are left out (rekey itself reports them).
pub fn plan(layout: &Layout) -> Result<RecipientChange> {
    let config_path = layout.dir.join(".sops.yaml");
    let text = String::from_utf8_lossy(&crate::error::read_file(&config_path)?).into_owned();
    let config = Config::parse(text.as_bytes(), &config_path)?;
    let mut change = RecipientChange::default();
    for path in layout.secret_files()? {
        let (Ok(file), Ok(rule)) = (load(&path, None), config.rule_for(&path)) else {
            continue;
        };
        let have: Vec<String> = file
            .metadata
            .age_recipients()
            .into_iter()
            .map(String::from)
            .collect();
        change.record(&path, &have, &rule.plan.recipients());
    }
    change.finish(&[&text], &[]);
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_comment_the_anchor_or_the_line_above() {
        let text = "keys:\n  - &alice age1aaa\n  # bob's laptop\n  - age1bbb\n\
                    creation_rules:\n  - age: age1ccc # the team\n  - age: age1ddd\n";
        assert_eq!(label(text, "age1aaa").as_deref(), Some("alice"));
        assert_eq!(label(text, "age1bbb").as_deref(), Some("bob's laptop"));
        assert_eq!(label(text, "age1ccc").as_deref(), Some("the team"));
        assert_eq!(label(text, "age1ddd"), None);
        assert_eq!(label(text, "age1zzz"), None);
    }

    #[test]
    fn a_change_lists_each_recipient_once_with_its_files() {
        let mut c = RecipientChange::default();
        let a = || "age1a".to_string();
        let b = || "age1b".to_string();
        c.record(Path::new("x"), &[a()], &[a(), b()]);
        c.record(Path::new("y"), &[a()], &[a(), b()]);
        c.record(Path::new("z"), &[a(), b()], &[b()]);
        c.finish(&["age: age1a,age1b # team\n"], &[]);
        assert_eq!(c.added.len(), 1);
        assert_eq!(c.added[0].files.len(), 2);
        assert_eq!(c.removed[0].recipient, "age1a");
        assert!(c.needs_confirmation());
        let q = c.question();
        assert!(q.contains("age1b (team)") && q.contains("age1a"), "{q}");
        c.finish(&[], &[a(), b()]);
        assert!(!c.needs_confirmation());
    }
}
