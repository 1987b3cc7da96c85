//! The one place where the plumbing's typed errors ([`SopsError`], [`NixError`],
//! [`GitError`]) become the [`Error`] a user reads: the variant's message as the
//! `error:` line, its exit class, and the `hint:` lines that say what to do — the words
//! that name commands, flags and files. The engine says *what* went wrong; this module
//! says what to do about it, so a renamed flag or command changes here only.
//!
//! The conversions run where an engine error meets `?` in a function that returns
//! [`crate::Result`]; `ui::render_error` prints the result.

use crate::error::Error;
use crate::git::GitError;
use crate::nix::error::{LockFailure, NixError};
use crate::plaintext::PlaintextError;
use crate::sops::error::{RecipientShape, SopsError, YamlCause};
use crate::sops::keys::{BadKeyLine, Found, Looked};

/// The same hint for every file a user can restore from the inner repo's history.
const RESTORE_FILE: &str = "restore the file from git (git checkout -- FILE)";
const RESTORE_LOCK: &str =
    "restore it from git (git checkout flake.lock) or delete it and lock again";
const INSTALL_NIX: &str = "install Nix or set GIT_SECRETS_NIX to the path of a working `nix`";
const RESET_BY_HAND: &str = "edit the age: values by hand, then run `git secrets rekey`";
const NOT_UTF8: &str = "store binary or non-UTF-8 data as a binary secret instead";
const TOP_LEVEL_MAP: &str = "wrap the value in a key, e.g. `data: …`";
const ONE_VALUE: &str = "a secret needs at least one value, e.g. `key: value`";
const INI_SYNTAX: &str =
    "sops reads INI with go-ini: `key = value` lines under `[section]` headers";
const HAND_EDITED: &str =
    "the file was edited by hand after encryption; restore it from git or re-encrypt it";

/// One line for each place that held something unusable, and why, and for a source
/// refused for a line, how to fix it (also doctor's key.identity hints).
pub(crate) fn unusable(looked: &[Looked]) -> Vec<String> {
    let mut h = Vec::new();
    for l in looked {
        match &l.found {
            Found::NoKey => h.push(format!(
                "{}: holds no age secret key (a line AGE-SECRET-KEY-1…)",
                l.place
            )),
            Found::Failed(why) => h.push(format!("{}: {why}", l.place)),
            Found::Refused(bad) => {
                h.push(format!(
                    "{}: {bad}; like sops, git-secrets then uses none of the keys it holds",
                    l.place
                ));
                h.push(refused_fix(&l.place, bad));
            }
            _ => {}
        }
    }
    h
}

/// What to do about a source refused for a line: the line to fix, and what a line may be.
fn refused_fix(place: &str, bad: &BadKeyLine) -> String {
    let rule = "every line must be an AGE-SECRET-KEY-1… key, start with #, or be empty";
    let n = bad.line;
    match &bad.file {
        Some(f) => format!(
            "fix or delete line {n} of {}: {rule}",
            crate::quote::shell(&f.display().to_string())
        ),
        None if place.starts_with("SOPS_AGE_KEY_CMD") => {
            format!("fix the command so that line {n} of what it prints is right: {rule}")
        }
        None => format!("fix or delete line {n} of {place}: {rule}"),
    }
}

/// The shell command that makes an age key at `key_file` (sops' default key file; the
/// placeholder FILE when there is none): `age-keygen -o` creates the file, not its
/// dirs, which a new machine does not have.
pub(crate) fn make_key(key_file: Option<&std::path::Path>) -> String {
    let Some(p) = key_file else {
        return "age-keygen -o FILE".into();
    };
    let file = crate::quote::shell(&p.display().to_string()).into_owned();
    match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => format!(
            "mkdir -p {} && age-keygen -o {file}",
            crate::quote::shell(&d.display().to_string())
        ),
        None => format!("age-keygen -o {file}"),
    }
}

/// Where sops looked and what to do: first each place that held something unusable and
/// why, then the places that held nothing, then how to get a key there.
fn no_identity(looked: &[Looked], key_file: Option<&std::path::Path>) -> Vec<String> {
    let mut h = unusable(looked);
    let empty: Vec<String> = looked
        .iter()
        .filter_map(|l| match l.found {
            Found::NotSet => Some(format!("{} (not set)", l.place)),
            Found::NoFile => Some(format!("{} (no such file)", l.place)),
            _ => None,
        })
        .collect();
    if !empty.is_empty() {
        let also = if h.is_empty() { "" } else { "also " };
        h.push(format!("{also}looked in: {}", empty.join(", ")));
    }
    let make = match key_file {
        Some(p) => {
            let file = p.display().to_string();
            h.push(format!(
                "put your age key in {file}, or set SOPS_AGE_KEY_FILE to the file that holds it"
            ));
            make_key(Some(p))
        }
        None => {
            h.push("set HOME (or XDG_CONFIG_HOME to an absolute path) and put your age key in its sops/age/keys.txt, or set SOPS_AGE_KEY_FILE to the file that holds it".into());
            make_key(None)
        }
    };
    h.push(format!(
        "no key yet? {make} makes one; then someone who can decrypt runs: git secrets rekey --add-recipient <its age1… public key>"
    ));
    h
}

/// The hints for an engine failure, in the order they are shown.
fn sops_hints(e: &SopsError) -> Vec<String> {
    use SopsError::*;
    let one = |h: &str| vec![h.to_string()];
    match e {
        OnlyForeignKeys { .. } => one("decrypt it with sops itself (sops decrypt FILE), or rekey it to an age recipient with sops updatekeys"),
        NoIdentity { looked, key_file } => no_identity(looked, key_file.as_deref()),
        NotARecipient {
            recipients,
            own_key,
            unusable: places,
            ..
        } => {
            // a key file that could not be read may be where the right key is
            let mut h = unusable(places);
            h.push(format!("the file is encrypted for: {recipients}"));
            if let Some(k) = own_key {
                h.push(format!(
                    "your public key is {k}; ask someone who can decrypt to run: git secrets rekey --add-recipient {k}"
                ));
            }
            h
        }
        SharesDoNotCombine => one("the file's key groups are damaged; restore it from git"),
        BadShamirSplit { .. } => {
            one("shamir_threshold must be at least 2 and at most the number of key groups")
        }
        NoRecipients => {
            one("add an age recipient to .sops.yaml creation_rules, or pass --age age1…")
        }
        BadSshRecipient { .. } => {
            one("use an ssh-ed25519 or ssh-rsa public key, or an age1… key")
        }
        BadAgeRecipient { shape, .. } => one(match shape {
            RecipientShape::PostQuantum => {
                "post-quantum age recipients are not supported yet; use an age1… X25519 key"
            }
            RecipientShape::Plugin => {
                "age plugin recipients are not supported; use an age1… X25519 key or an SSH key"
            }
            RecipientShape::NotAge => {
                "an age recipient starts with age1 (see: age-keygen -y KEYFILE)"
            }
            RecipientShape::SecretKey => {
                "give its public key instead (age-keygen -y KEYFILE prints it); a secret key typed on a command line may be in your shell history"
            }
        }),
        MacUndecryptable => one(RESTORE_FILE),
        MacMismatch => one("the file was tampered with or edited by hand; restore it from git (git checkout -- FILE)"),
        NotEncFormat => one("the file may be truncated or hand-edited; restore it from git (git checkout -- FILE)"),
        BadBase64 { .. } => one("the file is damaged; restore it from git (git checkout -- FILE)"),
        AuthenticationFailed { .. } => {
            one("the value was tampered with or moved to another key; restore the file from git")
        }
        UnsupportedIvLength { .. } => {
            one("sops writes 32-byte IVs; this file was not written by sops")
        }
        UnknownValueType { .. } => one("the file may come from a newer sops; decrypt it with sops"),
        NotEncrypted { .. } | PlainWhereEncrypted { .. } => one(HAND_EDITED),
        CommentDecryptedToValue => one("the file is damaged; restore it from git"),
        TopLevelNotMap => {
            one("a top-level list or scalar cannot be encrypted; wrap it in a key")
        }
        BadMetadata(_) => one("the file may be truncated or hand-edited; restore it from git"),
        BadFileRules(_) => one("the file was edited by hand; restore it from git"),
        MetadataKeyClash { key, .. } => {
            vec![format!("the metadata key '{key}' clashes with another one")]
        }
        BadRegex { .. } => one("fix the rule in .sops.yaml: sops uses Go's RE2 syntax and would ignore this pattern, leaving values unencrypted"),
        BadConfig { .. } => one("see https://github.com/getsops/sops#using-sops-yaml-conf-to-select-kms-pgp-and-age-for-new-files"),
        ConflictingRuleOptions { .. } => one("keep one of them in the creation rule that matches this file (sops refuses the same config)"),
        NoMatchingRule { .. } => one("add a creation_rules entry whose path_regex matches this file (sops refuses it too, even with --age)"),
        RecipientsInKeyGroups { .. } => one(
            "add the recipient to the right key group by hand, then run `git secrets rekey`",
        ),
        RecipientEditBreaksConfig { .. } | RecipientEditUnsure { .. } => one(RESET_BY_HAND),
        RemovalLeavesRuleEmpty { .. } => {
            one("add the new recipient first (--add-recipient), in the same run")
        }
        BadExtractPath(_) => one(r#"write it like '["data"]["token"]' or '["list"][0]'"#),
        BadFieldPath(_) => one("write it as keys joined by dots, e.g. data.token or users.0.name"),
        NoValueAt { keys, .. } if keys.is_empty() => {
            one("check the path against the decrypted file (git secrets show NAME)")
        }
        NoValueAt { keys, .. } => vec![format!("keys there: {}", keys.join(", "))],
        UnknownFormat(_) => one("use one of: yaml, json, dotenv, ini, binary"),
        NotEncryptedFile => one("to encrypt it, run: git secrets encrypt -i FILE"),
        EncryptTopLevelNotMap | YamlTopLevelNotMap => one(TOP_LEVEL_MAP),
        EmptyFile | NoYamlDocument => one(ONE_VALUE),
        NotOneDocument(_) => one("use YAML for multi-document files"),
        OnlyStringsPrintable { .. } => {
            one("use --output-type yaml or json to print a list or number")
        }
        BinaryWithoutData => {
            one("decrypt it with the type it was encrypted as (--output-type)")
        }
        NotUtf8 { .. } => one(NOT_UTF8),
        DotenvNoEquals { .. } => one("every line must be KEY=value, a '#' comment, or empty"),
        DotenvNested { .. } => {
            one("dotenv holds only KEY=value pairs; use YAML or JSON for nested data")
        }
        IniSyntax(_) => one(INI_SYNTAX),
        IniNoDelimiter { .. } => vec![
            INI_SYNTAX.to_string(),
            "every line must be `key = value`, a comment or a [section] header".to_string(),
        ],
        IniNotSection { .. } => one(
            "INI holds key = value pairs inside [section]s; use YAML or JSON otherwise",
        ),
        IniNested { .. } => {
            one("INI values are plain strings; use YAML or JSON for nested data")
        }
        JsonTopLevelArray => one("wrap the value in an object, e.g. {\"data\": [...]}"),
        JsonTopLevelNotObject => one("wrap the value in an object, e.g. {\"data\": ...}"),
        JsonSyntax { .. } => one("check the file with a JSON linter (e.g. `jq . FILE`)"),
        JsonNumberTooLarge { .. } => {
            one("sops stores every JSON number as a float64; quote the value to keep it")
        }
        JsonNotFinite(_) => one("JSON has no NaN or infinity"),
        YamlNotUtf8(_) => one("YAML files must be UTF-8; re-save the file as UTF-8"),
        YamlControlCharacter { .. } => one(
            "sops rejects it too; write it as an escape in a double-quoted string, like \"\\x01\"",
        ),
        YamlTooDeep { max, .. } => vec![format!(
            "flatten the data; git-secrets reads at most {max} nested levels"
        )],
        YamlAliasBomb { .. } => one("write the repeated data out, or alias fewer times; anchors that alias each other grow the file exponentially"),
        YamlSyntax { cause, .. } => {
            let mut h = one("fix the YAML syntax; `sops` would reject this file too");
            h.extend(
                match cause {
                    YamlCause::Other => None,
                    YamlCause::SequenceOnKeyLine => {
                        Some("quote the value, or put the list on the next lines, indented")
                    }
                    YamlCause::MapOnKeyLine => Some(
                        "quote a value that contains ': ', or put the nested map on the next lines, indented",
                    ),
                    YamlCause::DuplicateKey => Some("remove or rename the duplicate key"),
                    YamlCause::AliasKeyNotString => Some("sops only supports string keys"),
                }
                .map(str::to_string),
            );
            h
        }
        YamlKeyNotString { text, .. } => vec![format!("quote the key: \"{text}\":")],
        YamlNotUtf8Value => one("store binary data base64-encoded, or use the binary format"),
        YamlWriterBug(_) => one("please report this with the file's structure (not its values)"),
    }
}

/// The hint for a lock failure Nix's stderr let the engine recognise.
fn lock_failure_hint(kind: LockFailure) -> &'static str {
    match kind {
        LockFailure::NoCommittedFlakeNix => "the secrets repo has no committed flake.nix: commit it there (git -C <secrets dir> add flake.nix && git -C <secrets dir> commit)",
        LockFailure::ThroughParentIndex => "the input reads the secrets dir through the parent's git index, which cannot see inside a nested repo: use url = \"git+file:./<dir>\"",
        LockFailure::NotTrackedByGit => "the input reads the secrets dir through the parent's git index, which cannot see inside a nested repo: use url = \"git+file:./<dir>\"; do not `git add` the secrets dir to the parent",
        LockFailure::SecretsDirMissing => "the secrets dir is missing: clone it (git secrets init URL) or create it (git secrets init --new)",
        LockFailure::SecretsDirNotARepo => "the secrets dir is not a git repository: clone it (git secrets init URL) or create it (git secrets init --new)",
        LockFailure::NeedsNetwork => "the secrets flake has an input the parent does not `follows`, so locking needs the network: make it follow the parent's (inputs.<secrets>.inputs.<x>.follows = \"<x>\") or remove it",
        LockFailure::MissingAttribute => "the secrets flake does not evaluate as expected; check its flake.nix",
        LockFailure::UnexpectedLockCommand => "this Nix has a lock command we did not expect; report `nix --version`",
        LockFailure::NoSuchInput => "flake.nix has no input of that name: check the input name (git config secrets.input) against the inputs in flake.nix",
    }
}

fn nix_hints(e: &NixError) -> Vec<String> {
    use NixError::*;
    let one = |h: &str| vec![h.to_string()];
    match e {
        CannotRun { .. } => one(INSTALL_NIX),
        NotInstalled => {
            one("install Nix (https://nixos.org/download) or set GIT_SECRETS_NIX to its path")
        }
        UnreadableVersion { .. } => {
            one("check that the `nix` on PATH (or $GIT_SECRETS_NIX) is Nix or Lix")
        }
        VersionFailed { .. } => one("check that this `nix` runs on its own"),
        LockFailed {
            shown,
            parent_root,
            kind,
            network_without_offline,
            ..
        } => {
            let mut h = vec![match kind {
                Some(k) => lock_failure_hint(*k).to_string(),
                None => format!(
                    "run `{shown}` in {} to see what Nix does",
                    parent_root.display()
                ),
            }];
            if *network_without_offline {
                h.push("--offline stops Nix from retrying the network, but only helps when the inputs are already in the store".to_string());
            }
            h
        }
        LockWroteNothing { .. } => {
            one("run the command yourself in the parent flake's directory to see what Nix does")
        }
        LockRolledBack { restore_error, .. } => vec![match restore_error {
            None => "flake.lock is unchanged".to_string(),
            Some(e) => format!("could not restore flake.lock: {e}"),
        }],
        UnparsableLock(_) | LockWithoutRoot { .. } | InconsistentLock(_) => one(RESTORE_LOCK),
        InputNotLocked { input } => vec![format!(
            "check that flake.nix declares inputs.{input}.url and that the input name is right"
        )],
        LockedWithoutRev { .. } => one(
            "commit every change in the secrets repo (git -C <secrets dir> status), then lock again",
        ),
        LockedToOtherRev { .. } => one("check that the input's url points at this secrets repo and its checked-out branch, then lock again"),
        LockedWithoutNarHash { .. } => {
            one("lock again; without narHash Nix cannot check what it fetches")
        }
        FlakeSyntax { .. } => one("fix the syntax (`nix flake metadata` shows Nix's own message), then run the command again"),
        FlakeListsTooDeep { .. } => one("flatten the nested lists, then run the command again"),
        NoLiteralUrl { line, .. } => vec![format!("set it by hand: {line}")],
        ChangedWhileEditing => one("run the command again"),
        BadInputName(_) => {
            one("use letters, digits, `_`, `-` and `'`, starting with a letter or `_`")
        }
        InputExists(_) => one("check its url with `git secrets doctor`; it is not added twice"),
        CannotAddInput { name, line, .. } => vec![
            format!("add this line to the top-level attribute set of flake.nix: {line}"),
            format!("and add `{name}` to the arguments of `outputs` (or end them with `...`)"),
        ],
    }
}

fn git_hints(e: &GitError) -> Vec<String> {
    use GitError::*;
    let shell = |p: &std::path::Path| crate::quote::shell(&p.display().to_string()).into_owned();
    let one = |h: &str| vec![h.to_string()];
    match e {
        NotARepo { .. } => {
            one("run `git init` there first, or point at the repository with `-C <path>`")
        }
        Bare { .. } => one("run it from a normal clone"),
        CannotRun { missing: true, .. } => one("install git and make sure it is on PATH"),
        CannotRun { missing: false, .. } => vec![],
        CommandFailed { root, .. } => vec![format!(
            "run the same command in {} to see git's full output",
            root.display()
        )],
        InteractiveCommandFailed { root, .. } => vec![format!(
            "see git's message above; run it yourself in {}",
            shell(root)
        )],
        StaleLock { lock, .. } => vec![format!(
            "a git process that was killed (or still runs) holds {lock}; when no git command runs in this repo, remove it and run this command again: rm {}",
            crate::quote::shell(lock)
        )],
        CloneTargetNotEmpty { .. } => one("move it away, or use it as it is"),
        CloneFailed(_) => one("check the URL and that you can reach it: git ls-remote <url>"),
        RangeWalkFailed(_) => one("check that both ends of the range exist (git rev-parse A B)"),
        FetchFailed { root, remote, .. } => vec![format!(
            "check that the remote is reachable: git -C {} ls-remote {}",
            shell(root),
            crate::quote::shell(remote)
        )],
        TimedOut { .. } => vec![
            "the remote may be unreachable or waiting for input; nothing was changed".to_string(),
            "set GIT_SECRETS_FETCH_TIMEOUT=<seconds> for a slow connection".to_string(),
        ],
        RebaseFailed { aborted: true, .. } => {
            one("the rebase was aborted: your branch and files are as they were")
        }
        RebaseFailed { root, .. } => vec![format!(
            "finish or abort the rebase yourself: git -C {} rebase --abort",
            shell(root)
        )],
    }
}

/// An error that wraps one already made (a failed command): its message, source and
/// exit class stay; the wrapper's hints come after its own.
fn extend(inner: Error, hints: Vec<String>) -> Error {
    let mut inner = inner;
    inner.hints.extend(hints);
    inner
}

/// The error a user reads for an engine error: its message, exit class and hints.
fn worded(e: &dyn std::fmt::Display, usage: bool, hints: Vec<String>) -> Error {
    let err = if usage {
        Error::usage(e.to_string())
    } else {
        Error::new(e.to_string())
    };
    Error { hints, ..err }
}

impl From<PlaintextError> for Error {
    fn from(e: PlaintextError) -> Error {
        let hint = match e {
            PlaintextError::NoTmpfs { .. } => "set XDG_RUNTIME_DIR to a tmpfs directory (e.g. /run/user/$UID); plaintext is never written to disk",
            PlaintextError::Memfd { .. } => "use --tmpfs to pass the secret as a file on tmpfs instead",
        };
        worded(&e, false, vec![hint.to_string()])
    }
}

impl From<SopsError> for Error {
    fn from(e: SopsError) -> Error {
        let err = worded(&e, e.is_usage(), sops_hints(&e));
        match e {
            SopsError::MetadataKeyClash { inner, .. } => extend(*inner, err.hints),
            e => Error {
                sops_code: e.sops_code(),
                ..err
            },
        }
    }
}

impl From<NixError> for Error {
    fn from(e: NixError) -> Error {
        let err = worded(&e, e.is_usage(), nix_hints(&e));
        match e {
            NixError::LockRolledBack { inner, .. } => extend(*inner, err.hints),
            NixError::UnparsableLock(source) => err.with_source(source),
            _ => err,
        }
    }
}

impl From<GitError> for Error {
    fn from(e: GitError) -> Error {
        let err = worded(&e, false, git_hints(&e));
        match e {
            GitError::CommandFailed { inner, .. }
            | GitError::CloneFailed(inner)
            | GitError::RangeWalkFailed(inner)
            | GitError::FetchFailed { inner, .. } => extend(*inner, err.hints),
            GitError::NotARepo { source, .. } => Error { source, ..err },
            _ => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The engine says what went wrong; the words for the terminal (hints, commands,
    /// flags) are added here. A `.hint(` or a CLI word in `sops/`, `nix/`, `git/` or
    /// `plaintext.rs` code is advice in the wrong layer.
    #[test]
    fn the_engine_words_no_hints_and_names_no_cli_flags() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        for dir in ["sops", "nix", "git"] {
            rust_files(&src.join(dir), &mut files);
        }
        files.push(src.join("plaintext.rs"));
        let words = [
            ".hint(",
            "git secrets ",
            "--age",
            "--output-type",
            "--add-recipient",
        ];
        let mut found = Vec::new();
        for file in &files {
            // The secrets flake `init --new` writes: file content for the user's repo,
            // whose comments name the command its wrappers run.
            if file.ends_with("nix/template.rs") {
                continue;
            }
            let text = std::fs::read_to_string(file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if let Some(w) = words.iter().find(|w| code.contains(*w)) {
                    found.push(format!("{}:{}: {w}", file.display(), n + 1));
                }
            }
        }
        assert!(
            found.is_empty(),
            "CLI words in the engine:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn an_engine_error_keeps_its_message_exit_class_and_sops_code() {
        let e = Error::from(SopsError::MacMismatch);
        assert_eq!(
            e.to_string(),
            "MAC mismatch: the file's content was changed after encryption"
        );
        assert_eq!(e.sops_code, Some(crate::sops::codes::MAC_MISMATCH));
        assert_eq!(e.exit_code(), 1);
        assert_eq!(e.hints.len(), 1);
        let usage = Error::from(SopsError::BadFieldPath("a..b".into()));
        assert_eq!(usage.exit_code(), 2);
    }

    #[test]
    fn a_user_who_cannot_decrypt_is_told_their_key_and_the_command_to_ask_for() {
        let e = Error::from(SopsError::NotARecipient {
            unlocked: 0,
            needed: 1,
            recipients: "age1aaa, age1bbb".into(),
            own_key: Some("age1me".into()),
            unusable: vec![],
        });
        assert_eq!(
            e.to_string(),
            "none of your age identities can decrypt this file"
        );
        assert_eq!(
            e.hints,
            [
                "the file is encrypted for: age1aaa, age1bbb",
                "your public key is age1me; ask someone who can decrypt to run: git secrets rekey --add-recipient age1me",
            ]
        );
    }

    #[test]
    fn a_wrapped_failure_keeps_the_inner_words_and_adds_its_hint() {
        let inner = Error::new("`git fetch origin` failed (exit code 128)").hint("first");
        let e = Error::from(GitError::FetchFailed {
            inner: Box::new(inner),
            root: "/r".into(),
            remote: "origin".into(),
        });
        assert_eq!(e.to_string(), "`git fetch origin` failed (exit code 128)");
        assert_eq!(e.hints[0], "first");
        assert!(e.hints[1].contains("ls-remote origin"), "{:?}", e.hints);
    }
}
