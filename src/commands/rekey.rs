//! `git secrets rekey [--add-recipient R] [--remove-recipient R]`: wrap
//! every secret's data key for the recipients `.sops.yaml` names now (sops
//! `updatekeys` over the whole tree), commit once, relock.
//!
//! All or nothing: every new file is computed in memory first (one that
//! does not parse or cannot be decrypted stops the command before anything
//! is written), then `.sops.yaml` and the files are written, then one
//! commit. A file that loses a recipient, and every file when
//! `--remove-recipient` is given, gets a fresh data key: the removed key
//! could unwrap the old one, and may have kept a copy of the file.
//!
//! A rerun after a crash finishes the job: files already in the new state
//! are not rewritten, and every secret file that differs from HEAD is
//! committed (it is what this command wrote, or what it just re-wrapped).

use super::change::Session;
use super::list::secret_files;
use super::rotate::with_new_data_key;
use super::Ctx;
use crate::atomic;
use crate::cli::RekeyArgs;
use crate::error::{Error, Result};
use crate::recipient_change::RecipientChange;
use crate::relock::check_no_foreign_staged;
use crate::sops::config_edit::{edit_recipients, RecipientEdit};
use crate::sops::file::{load, KeyPlan};
use crate::sops::formats::yaml::DEFAULT_INDENT;
use crate::sops::keys::{Identities, Recipient};
use crate::sops::rules::Config;
use std::path::{Path, PathBuf};

pub fn run(ctx: &Ctx, args: RekeyArgs) -> Result<i32> {
    let canon = |list: &[String]| -> Result<Vec<String>> {
        list.iter()
            .map(|r| Recipient::parse(r).map(|r| r.to_string()))
            .collect()
    };
    let edit = RecipientEdit {
        add: canon(&args.add)?,
        remove: canon(&args.remove)?,
    };
    if let Some(r) = edit.add.iter().find(|r| edit.remove.contains(r)) {
        return Err(Error::usage(format!("{r} is both added and removed"))
            .hint("pass it to only one of --add-recipient and --remove-recipient"));
    }
    let session = Session::open(ctx)?;
    let layout = &session.layout;
    let config_path = layout.dir.join(".sops.yaml");
    if !config_path.is_file() {
        return Err(Error::new(format!("{} does not exist", session.shown(&config_path).display()))
            .hint("rekey takes the recipients from the secrets repo's .sops.yaml; create one with creation_rules and age: recipients"));
    }
    let files = secret_files(layout)?;
    let mut ours: Vec<PathBuf> = vec![config_path.clone()];
    ours.extend(files.iter().map(|f| f.path.clone()));
    let refs: Vec<&Path> = ours.iter().map(PathBuf::as_path).collect();
    check_no_foreign_staged(&session.inner, &refs)?;

    let old_text = String::from_utf8(crate::error::read_file(&config_path)?).map_err(|_| {
        Error::new(format!("{} is not UTF-8", config_path.display()))
            .hint("save .sops.yaml as UTF-8")
    })?;
    let new_text = if edit.add.is_empty() && edit.remove.is_empty() {
        old_text.clone()
    } else {
        edit_recipients(&old_text, &config_path, &edit)?
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
        let shown = session.shown(&f.path);
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
        let want = names(&rule.plan);
        let have: Vec<Vec<String>> = file
            .metadata
            .key_groups
            .iter()
            .map(|g| g.age.iter().map(|a| a.recipient.clone()).collect())
            .collect();
        change.record(
            &f.path,
            &have.concat(),
            &want.iter().flatten().cloned().collect::<Vec<_>>(),
        );
        let loses = have
            .iter()
            .flatten()
            .any(|r| !want.iter().flatten().any(|w| w == r));
        let rotate = loses || !edit.remove.is_empty();
        if have == want && !rotate {
            ctx.ui.detail(format!(
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

    // Who gains or loses access, by key and by the name .sops.yaml gives it;
    // a recipient the user did not name here (one slipped into .sops.yaml)
    // needs a yes. Printed with --yes too, and before anything is written.
    let named: Vec<String> = edit.add.iter().chain(&edit.remove).cloned().collect();
    change.finish(&[&new_text, &old_text], &named);
    if !change.is_empty() {
        ctx.ui.notice("rekey changes who can decrypt the secrets:");
        for line in change.summary_lines() {
            ctx.ui.notice(line);
        }
        if change.needs_confirmation() && !ctx.ui.confirm(&change.question(), "--yes")? {
            return Err(Error::new("rekey cancelled; nothing was changed").hint(
                "check the recipients in .sops.yaml (git log -p .sops.yaml in the secrets repo)",
            ));
        }
    }

    if new_text != old_text {
        atomic::write(&config_path, new_text.as_bytes(), 0o644)?;
        ctx.ui
            .ok(format!("updated {}", session.shown(&config_path).display()));
    }
    for (path, bytes, what) in &writes {
        atomic::write(path, bytes, 0o644)?;
        crate::failpoint::hit("rekey.after-one-file")?;
        ctx.ui
            .ok(format!("{}: {what}", session.shown(path).display()));
    }
    if writes.is_empty() && new_text == old_text {
        ctx.ui
            .status("every secret already has the recipients .sops.yaml names");
    }
    let message = args.message.unwrap_or_else(|| {
        let mut m = "rekey".to_string();
        for r in &edit.add {
            m.push_str(&format!("\n\nadd recipient {r}"));
        }
        for r in &edit.remove {
            m.push_str(&format!("\n\nremove recipient {r}"));
        }
        m
    });
    session.finish(ctx, &ours, &message, &args.lock)?;
    Ok(0)
}

/// The recipients of a plan as strings, group by group.
fn names(plan: &KeyPlan) -> Vec<Vec<String>> {
    plan.groups
        .iter()
        .map(|g| g.iter().map(|r| r.to_string()).collect())
        .collect()
}
