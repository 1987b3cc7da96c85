//! The secrets themselves: `.sops.yaml` and its rules, each file valid sops with a MAC
//! that verifies and the recipients the rules name, no plaintext among them, a key
//! that decrypts (and is not readable by others), and a matching public example.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::scene::{Content, Decryption, SecretFile};
use super::{count, list, Check, Fix, Scene};
use crate::change::rekey;
use crate::example::{Difference, RealSecret};
use crate::sops::keys::Identities;
use crate::sops::rules::Config;

/// The secrets' checks, in report order.
pub fn checks(s: &Scene) -> Vec<Check> {
    let config = load_config(s);
    vec![
        sops_config(s, &config),
        plaintext(s),
        valid(s),
        identity(s),
        key_permissions(s),
        mac(s),
        recipients(s, &config),
        example(s),
    ]
}

fn load_config(s: &Scene) -> Option<crate::error::Result<Config>> {
    let path = s.layout.dir.join(".sops.yaml");
    path.is_file().then(|| Config::load(&path))
}

fn sops_config(s: &Scene, config: &Option<crate::error::Result<Config>>) -> Check {
    const ID: &str = "sops.config";
    let dir = s.dir_shown();
    let cfg = match config {
        None if !s.layout.dir.is_dir() => return Check::skip(ID, "no secrets dir"),
        None => {
            return Check::fail(ID, format!("{dir}/.sops.yaml is missing: new secrets have no recipients"))
                .hint(format!(
                    "create {dir}/.sops.yaml with creation_rules: [{{path_regex: ^secrets/, age: <your age1… key>}}]"
                ))
        }
        Some(Err(e)) => return Check::error(ID, e),
        Some(Ok(c)) => c,
    };
    let misses: Vec<String> = s
        .secrets
        .iter()
        .filter(|f| cfg.rule_for(&f.path).is_err())
        .map(|f| f.rel.clone())
        .collect();
    if misses.is_empty() {
        Check::ok(
            ID,
            format!(
                ".sops.yaml parses; {} every secret",
                count(cfg.creation_rules.len(), "rule covers", "rules cover")
            ),
        )
    } else {
        Check::fail(
            ID,
            format!("no creation rule of .sops.yaml matches {}", list(&misses, 3)),
        )
        .hint(format!(
            "add a creation_rules entry whose path_regex matches them (e.g. path_regex: ^secrets/) in {dir}/.sops.yaml"
        ))
    }
}

fn plaintext(s: &Scene) -> Check {
    const ID: &str = "secrets.plaintext";
    let dir = s.dir_shown();
    let plain: Vec<&SecretFile> = s
        .secrets
        .iter()
        .filter(|f| matches!(f.content, Content::Plaintext))
        .collect();
    if plain.is_empty() {
        return Check::ok(ID, "no plaintext file among the secrets");
    }
    let names: Vec<String> = plain.iter().map(|f| f.rel.clone()).collect();
    let mut c = Check::fail(
        ID,
        format!("plaintext among the secrets: {}", list(&names, 3)),
    );
    for f in &plain {
        c = c.hint(format!(
            "encrypt it: git secrets encrypt -i {}",
            crate::quote::shell(&f.path.display().to_string())
        ));
    }
    let committed = s.inner.as_ref().is_some_and(|inner| {
        plain
            .iter()
            .any(|f| inner.head_entry(&f.path).ok().flatten().is_some())
    });
    if committed {
        c = c.hint(format!(
            "it is committed in the secrets repo; purge it from there too: git -C {dir} filter-repo --path <file> --invert-paths"
        ));
    }
    c
}

fn valid(s: &Scene) -> Check {
    const ID: &str = "secrets.valid";
    if !s.layout.dir.is_dir() {
        return Check::skip(ID, "no secrets dir");
    }
    let bad: Vec<(&SecretFile, &crate::error::Error)> = s
        .secrets
        .iter()
        .filter_map(|f| match &f.content {
            Content::Invalid(e) => Some((f, e)),
            _ => None,
        })
        .collect();
    let n = s
        .secrets
        .iter()
        .filter(|f| matches!(f.content, Content::Sops(..)))
        .count();
    if bad.is_empty() {
        if n == 0 {
            return Check::warn(ID, "no secrets yet").hint("add one: git secrets add NAME");
        }
        return Check::ok(
            ID,
            format!("{} valid sops", count(n, "file is", "files are")),
        );
    }
    let mut c = Check::fail(
        ID,
        format!(
            "not valid sops: {}",
            list(
                &bad.iter()
                    .map(|(f, e)| format!("{} ({})", f.rel, e.message))
                    .collect::<Vec<_>>(),
                2
            )
        ),
    );
    for (f, _) in bad {
        c = c.hint(format!(
            "restore it: git -C {} checkout -- {}",
            s.dir_shown(),
            crate::quote::shell(&f.rel)
        ));
    }
    c
}

fn identity(s: &Scene) -> Check {
    const ID: &str = "key.identity";
    let ids = &s.identities;
    // sops refuses the whole source too: the user's `sops` wrappers fail on it, even
    // when another source's key decrypts here
    if let Some(refused) = crate::sops::keys::first_refusal(&ids.looked) {
        return Check::fail(ID, refused).hints(crate::hints::unusable(&ids.looked));
    }
    if ids.is_empty() {
        // the same words as a command that needs one
        let err: crate::error::Error = crate::sops::error::SopsError::NoIdentity {
            looked: ids.looked.clone(),
            key_file: crate::sops::keys::default_key_file(),
        }
        .into();
        return Check::warn(
            ID,
            "no age identity found: secrets cannot be decrypted or checked here",
        )
        .hints(err.hints);
    }
    let from: Vec<String> = ids.sources.iter().map(|s| s.label.clone()).collect();
    let locked: Vec<String> = s
        .secrets
        .iter()
        .filter(|f| matches!(f.content, Content::Sops(_, Decryption::Locked)))
        .map(|f| f.rel.clone())
        .collect();
    if locked.is_empty() {
        return Check::ok(
            ID,
            format!("identities from {} decrypt every secret", from.join(", ")),
        );
    }
    let mut c = Check::warn(
        ID,
        format!("your identities cannot decrypt {}", list(&locked, 3)),
    );
    // a key file that could not be read may be where the right key is
    c = c.hints(crate::hints::unusable(&ids.looked));
    if let Some(me) = ids.recipients().first() {
        c = c.hint(format!(
            "ask someone who can decrypt to run: git secrets rekey --add-recipient {me}"
        ));
    }
    c
}

fn key_permissions(s: &Scene) -> Check {
    const ID: &str = "key.permissions";
    let files: Vec<&Path> = s
        .identities
        .sources
        .iter()
        .filter_map(|src| src.path.as_deref())
        .collect();
    if files.is_empty() {
        return Check::skip(ID, "no key file in use");
    }
    for f in &files {
        if let Ok(m) = std::fs::metadata(f) {
            let mode = m.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Check::fail(
                    ID,
                    format!(
                        "key file {} is readable by others (mode {mode:04o})",
                        f.display()
                    ),
                )
                .hint(format!(
                    "chmod 600 {}",
                    crate::quote::shell(&f.display().to_string())
                ))
                .with_fix(Fix::Chmod(f.to_path_buf()));
            }
        }
    }
    Check::ok(
        ID,
        format!(
            "{} mode 0600",
            count(files.len(), "key file has", "key files have")
        ),
    )
}

fn mac(s: &Scene) -> Check {
    const ID: &str = "secrets.mac";
    if s.identities.is_empty() {
        return Check::skip(ID, "no identity to decrypt with");
    }
    let broken: Vec<(&SecretFile, &crate::error::Error)> = s
        .secrets
        .iter()
        .filter_map(|f| match &f.content {
            Content::Sops(_, Decryption::Broken(e)) => Some((f, e)),
            _ => None,
        })
        .collect();
    let (open, closed) = s.opened();
    if !broken.is_empty() {
        let mut c = Check::fail(
            ID,
            format!(
                "MAC check failed for {}: {}",
                list(
                    &broken
                        .iter()
                        .map(|(f, _)| f.rel.clone())
                        .collect::<Vec<_>>(),
                    3
                ),
                broken[0].1.message
            ),
        );
        for (f, _) in &broken {
            c = c.hint(format!(
                "restore it: git -C {} checkout -- {} (or from an older commit: git -C {} log -- {})",
                s.dir_shown(),
                crate::quote::shell(&f.rel),
                s.dir_shown(),
                crate::quote::shell(&f.rel)
            ));
        }
        return c;
    }
    if open.is_empty() {
        return Check::skip(ID, "no secret could be decrypted with your identities");
    }
    let mut msg = format!(
        "{} decrypt and verify",
        count(open.len(), "secret", "secrets")
    );
    if closed > 0 {
        msg.push_str(&format!(" ({closed} not checked: no key)"));
    }
    Check::ok(ID, msg)
}

fn recipients(s: &Scene, config: &Option<crate::error::Result<Config>>) -> Check {
    const ID: &str = "secrets.recipients";
    let Some(Ok(cfg)) = config else {
        return Check::skip(ID, "no usable .sops.yaml");
    };
    let mut drift = Vec::new();
    for f in &s.secrets {
        let Content::Sops(file, _) = &f.content else {
            continue;
        };
        let Ok(rule) = cfg.rule_for(&f.path) else {
            continue;
        };
        // the same comparison rekey makes
        if rekey::wanted(&rule.plan) != rekey::current(file) {
            drift.push(f.rel.clone());
        }
    }
    if drift.is_empty() {
        return Check::ok(
            ID,
            "every secret is encrypted for the recipients .sops.yaml names",
        );
    }
    Check::fail(
        ID,
        format!("recipients differ from .sops.yaml for {}", list(&drift, 3)),
    )
    .hint("re-wrap every data key for the recipients .sops.yaml names: git secrets rekey")
    .with_fix(Fix::Rekey)
}

fn example(s: &Scene) -> Check {
    const ID: &str = "example.matches";
    let ex = &s.layout.example_dir;
    let shown = crate::error::display_path(ex, s.layout.root())
        .display()
        .to_string();
    if !ex.is_dir() {
        return Check::warn(
            ID,
            format!("no public example ({shown}/) for contributors without the key"),
        )
        .hint("generate it: git secrets example");
    }
    let key = match std::fs::read_to_string(ex.join("key.txt")) {
        Ok(k) => k,
        Err(_) => {
            return Check::fail(
                ID,
                format!("{shown}/key.txt is missing: the example cannot be decrypted"),
            )
            .hint("regenerate it: git secrets example")
        }
    };
    let key_txt = format!("{shown}/key.txt");
    let ids = Identities::from_age_text(&key, &key_txt);
    let real: Vec<&SecretFile> = s
        .secrets
        .iter()
        .filter(|f| matches!(f.content, Content::Sops(..)))
        .collect();
    // every key in it, even one sops would refuse for another line: a stray line does
    // not make a real key harmless
    let every_key = Identities::every_key_in(&key);
    let opened = real.iter().find(|f| match &f.content {
        Content::Sops(file, _) => file.data_key(&every_key).is_ok(),
        _ => false,
    });
    if let Some(f) = opened {
        return Check::fail(
            ID,
            format!(
                "{key_txt} is a real key: it decrypts the secret {}",
                f.name
            ),
        )
        .hint(format!(
            "the example's key is public; give it a throwaway one: rm {} && git secrets example",
            crate::quote::shell(&key_txt)
        ))
        .hint("if it was ever committed, the key is burnt: make a new one and rekey (git secrets rekey --remove-recipient <its age1… key>)");
    }
    // contributors decrypt the example with sops, which refuses the file too
    if let Some(refused) = crate::sops::keys::first_refusal(&ids.looked) {
        return Check::fail(ID, format!("{refused}: the example cannot be decrypted"))
            .hints(crate::hints::unusable(&ids.looked));
    }
    let secrets: Vec<RealSecret> = real
        .iter()
        .filter_map(|f| match &f.content {
            Content::Sops(file, opened) => Some(RealSecret {
                file_name: f
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                format: file.format,
                shape: match opened {
                    Decryption::Open(o) => Some(o.shape.concat()),
                    _ => None,
                },
            }),
            _ => None,
        })
        .collect();
    let real_values: HashSet<String> = real
        .iter()
        .filter_map(|f| match &f.content {
            Content::Sops(_, Decryption::Open(o)) => Some(o.values.iter()),
            _ => None,
        })
        .flatten()
        .map(|v| v.value.to_string())
        .collect();
    let differences = match crate::example::compare(
        &ex.join(crate::layout::SECRETS_SUBDIR),
        &secrets,
        &ids,
        &real_values,
    ) {
        Ok(d) => d,
        Err(e) => return Check::error(ID, &e),
    };
    let problems: Vec<String> = differences
        .iter()
        // without any secret to compare with (none cloned yet), extra examples are expected
        .filter(|d| !(secrets.is_empty() && matches!(d, Difference::Extra { .. })))
        .map(ToString::to_string)
        .collect();
    if problems.is_empty() {
        return Check::ok(
            ID,
            format!("{shown}/ matches the secrets and decrypts with its own key"),
        );
    }
    Check::fail(
        ID,
        format!("{shown}/ is out of date: {}", list(&problems, 2)),
    )
    .hint("regenerate it: git secrets example")
}
