//! Rekey the tree: wrap every secret's data key for the recipients `.sops.yaml` names
//! now (sops `updatekeys` over the whole tree), optionally after adding or removing
//! recipients in `.sops.yaml`. `git secrets rekey` and `doctor --fix` both call
//! [`rekey`] inside a [`Transaction`], then finish it.
//!
//! All or nothing: every new file is computed in memory first (one that does not
//! parse or cannot be decrypted stops before anything is written), then `.sops.yaml`
//! and the files are written. A file that loses a recipient, and every file when a
//! recipient is removed, gets a fresh data key: the removed key could unwrap the old
//! one, and may have kept a copy of the file.
//!
//! A rerun after a crash finishes the job: files already in the new state are not
//! rewritten, and every secret file that differs from HEAD is committed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::secrets::with_new_data_key;
use super::Transaction;
use crate::atomic;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::recipient_change::RecipientChange;
use crate::sops::config_edit::{edit_recipients, RecipientEdit};
use crate::sops::file::{load, KeyPlan, SopsFile};
use crate::sops::formats::yaml::DEFAULT_INDENT;
use crate::sops::keys::Identities;
use crate::sops::rules::Config;

/// What [`rekey`] wrote, for the commit.
#[derive(Debug)]
pub struct Rekeyed {
    /// Every path the commit covers: `.sops.yaml` and each secret file.
    pub paths: Vec<PathBuf>,
}

/// The commit message of a rekey that adds and removes these recipients.
pub fn message(edit: &RecipientEdit) -> String {
    let mut m = "rekey".to_string();
    for r in &edit.add {
        m.push_str(&format!("\n\nadd recipient {r}"));
    }
    for r in &edit.remove {
        m.push_str(&format!("\n\nremove recipient {r}"));
    }
    m
}

/// Applies `edit` to `.sops.yaml` and rewraps (or, where a recipient goes, re-encrypts
/// with a fresh data key) every secret of the transaction's repo; writes nothing
/// unless every file works. The caller finishes the transaction with the paths.
///
/// Before anything is written, `approve` gets who gains and who loses access (by
/// key and by the name `.sops.yaml` gives it) when anyone does; the porcelain shows
/// it and asks (a recipient slipped into `.sops.yaml` must not get a data key
/// silently). `false` stops the rekey with nothing changed.
pub fn rekey(
    tx: &Transaction,
    edit: &RecipientEdit,
    progress: &dyn Progress,
    approve: &dyn Fn(&RecipientChange) -> Result<bool>,
) -> Result<Rekeyed> {
    let layout = &tx.layout;
    let config_path = layout.dir.join(".sops.yaml");
    if !config_path.is_file() {
        return Err(Error::new(format!("{} does not exist", tx.shown(&config_path).display()))
            .hint("rekey takes the recipients from the secrets repo's .sops.yaml; create one with creation_rules and age: recipients"));
    }
    let files = layout.named_secrets()?;
    let mut ours: Vec<PathBuf> = vec![config_path.clone()];
    ours.extend(files.iter().map(|f| f.path.clone()));
    let refs: Vec<&Path> = ours.iter().map(PathBuf::as_path).collect();
    tx.check_no_foreign_staged(&refs)?;

    let old_text = String::from_utf8(crate::error::read_file(&config_path)?).map_err(|_| {
        Error::new(format!("{} is not UTF-8", config_path.display()))
            .hint("save .sops.yaml as UTF-8")
    })?;
    let new_text = if edit.add.is_empty() && edit.remove.is_empty() {
        old_text.clone()
    } else {
        edit_recipients(&old_text, &config_path, edit)?
    };
    let config = Config::parse(new_text.as_bytes(), &config_path)?;
    let indent = config.yaml_indent.unwrap_or(DEFAULT_INDENT);

    // everything in memory first: nothing is written unless every file works
    let ids = Identities::discover();
    let mut loaded = Vec::new();
    for f in &files {
        let file = load(&f.path, None)?;
        loaded.push((f, file));
    }
    if let Some(r) = edit.remove.iter().find(|r| {
        !old_text.contains(r.as_str())
            && !loaded
                .iter()
                .any(|(_, file)| file.metadata.age_recipients().contains(&r.as_str()))
    }) {
        return Err(Error::usage(format!(
            "{r} is not a recipient of .sops.yaml or of any secret"
        ))
        .hint("see the recipients with `git secrets list`"));
    }
    let mut writes: Vec<(PathBuf, Vec<u8>, &'static str)> = Vec::new();
    let mut change = RecipientChange::default();
    for (f, file) in &loaded {
        let shown = tx.shown(&f.path);
        if let Some(g) = file
            .metadata
            .key_groups
            .iter()
            .find(|g| !g.other.is_empty())
        {
            return Err(Error::new(format!(
                "{} is also encrypted with {} keys, which git-secrets cannot re-wrap",
                shown.display(),
                g.other_types().join(", ")
            ))
            .hint("rekey it with sops itself (sops updatekeys FILE); nothing was changed"));
        }
        let rule = config.rule_for(&f.path)?;
        let (want, have) = (wanted(&rule.plan), current(file));
        change.record(
            &f.path,
            &have.iter().flatten().cloned().collect::<Vec<_>>(),
            &want.iter().flatten().cloned().collect::<Vec<_>>(),
        );
        let loses = have
            .iter()
            .flatten()
            .any(|r| !want.iter().flatten().any(|w| w == r));
        let rotate = loses || !edit.remove.is_empty();
        if have == want && !rotate {
            progress.detail(&format!(
                "{}: recipients already up to date",
                shown.display()
            ));
            continue;
        }
        let key = file.data_key(&ids).map_err(|e| {
            e.hint(format!(
                "cannot rekey {}: every secret must be decryptable by you; nothing was changed",
                shown.display()
            ))
        })?;
        if rotate {
            let plain = file.decrypt_with_key(key)?;
            let fresh = with_new_data_key(file, &plain.docs, &rule.plan)?;
            writes.push((f.path.clone(), fresh.to_bytes(indent)?, "new data key"));
            continue;
        }
        let mut new = file.clone();
        new.update_keys(&key, &rule.plan)?;
        writes.push((f.path.clone(), new.to_bytes(indent)?, "re-wrapped"));
    }

    let named: Vec<String> = edit.add.iter().chain(&edit.remove).cloned().collect();
    change.finish(&[&new_text, &old_text], &named);
    if !change.is_empty() && !approve(&change)? {
        return Err(Error::new("rekey cancelled; nothing was changed").hint(
            "check the recipients in .sops.yaml (git log -p .sops.yaml in the secrets repo)",
        ));
    }

    if new_text != old_text {
        atomic::write(&config_path, new_text.as_bytes(), 0o644)?;
        progress.ok(&format!("updated {}", tx.shown(&config_path).display()));
    }
    for (path, bytes, what) in &writes {
        atomic::write(path, bytes, 0o644)?;
        crate::failpoint::hit("rekey.after-one-file")?;
        progress.ok(&format!("{}: {what}", tx.shown(path).display()));
    }
    if writes.is_empty() && new_text == old_text {
        progress.status("every secret already has the recipients .sops.yaml names");
    }
    Ok(Rekeyed { paths: ours })
}

/// The age recipients `plan` names, group by group (order within a group does not
/// matter to sops).
pub fn wanted(plan: &KeyPlan) -> Vec<BTreeSet<String>> {
    plan.groups
        .iter()
        .map(|g| g.iter().map(|r| r.to_string()).collect())
        .collect()
}

/// The age recipients `file`'s data key is wrapped for now, group by group.
pub fn current(file: &SopsFile) -> Vec<BTreeSet<String>> {
    file.metadata
        .key_groups
        .iter()
        .map(|g| g.age.iter().map(|a| a.recipient.clone()).collect())
        .collect()
}
