//! Where things are: the parent repo, the secrets dir, the example dir, secret files.
//!
//! Defaults are found, not configured: the secrets dir is `<parent>/secrets`, the
//! example dir `<parent>/secrets-example`. `--dir` (relative to the current dir, like
//! any path flag) or `git config secrets.dir` (relative to the parent root) move the
//! secrets dir, even outside the parent (`../kubenix-secrets`); `git config
//! secrets.example` moves the example dir and `secrets.input` names the flake input.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::{absolute, normalize, Repo};

/// Default name of the secrets dir, relative to the parent root.
pub const DEFAULT_DIR: &str = "secrets";
/// Default name of the public example dir, relative to the parent root.
pub const DEFAULT_EXAMPLE_DIR: &str = "secrets-example";
/// The dir inside the secrets dir that holds the encrypted files.
pub const SECRETS_SUBDIR: &str = "secrets";
/// Extensions of the formats we know, in the order they are preferred when listing.
pub const KNOWN_EXTENSIONS: &[&str] = &["yaml", "yml", "json", "env", "ini"];

/// Choices made on the command line, which beat git config and defaults.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--dir`: the secrets dir, relative to the current dir (`start`) when relative.
    pub dir: Option<PathBuf>,
    /// `--input`: the flake input name.
    pub input: Option<String>,
}

/// The places one invocation works on.
pub struct Layout {
    /// The public parent repository (the Nix flake).
    pub parent: Repo,
    /// The secrets dir (the private inner repo), absolute; it may not exist yet.
    pub dir: PathBuf,
    /// The public example dir, absolute; it may not exist.
    pub example_dir: PathBuf,
    /// The flake input name when given (`--input` or `secrets.input`); otherwise the nix
    /// module finds it from `flake.nix` (the input whose url points at `dir`).
    pub input: Option<String>,
}

impl Layout {
    /// Finds the layout from `start` (the current dir, or `-C`). Works from anywhere in
    /// the parent, and from inside the secrets dir: when the nearest repo is the inner
    /// one, the parent is the repo above it whose secrets dir it is.
    pub fn discover(start: &Path, overrides: &Overrides) -> Result<Layout> {
        let start = absolute(start)?;
        let flag_dir = overrides.dir.as_ref().map(|d| normalize(&start.join(d)));
        let nearest = Repo::discover(&start)?;
        let parent = match parent_above(&nearest, flag_dir.as_deref())? {
            Some(parent) => parent,
            None => nearest,
        };
        let dir = match flag_dir {
            Some(d) => d,
            None => configured_dir(&parent),
        };
        let example_dir = match parent.config_string("secrets.example") {
            Some(p) => normalize(&parent.root().join(p)),
            None => parent.root().join(DEFAULT_EXAMPLE_DIR),
        };
        let input = overrides
            .input
            .clone()
            .or_else(|| parent.config_string("secrets.input"));
        Ok(Layout {
            parent,
            dir,
            example_dir,
            input,
        })
    }

    /// The parent's work tree root.
    pub fn root(&self) -> &Path {
        self.parent.root()
    }

    /// The secrets dir relative to the parent root (`secrets`), or `None` when it lies
    /// outside the parent.
    pub fn dir_in_parent(&self) -> Option<&Path> {
        self.dir.strip_prefix(self.root()).ok()
    }

    /// The inner repo, when the secrets dir is a git repo of its own (not merely a dir
    /// of the parent).
    pub fn inner(&self) -> Result<Option<Repo>> {
        if !self.dir.join(".git").exists() {
            return Ok(None);
        }
        Repo::open(&self.dir).map(Some)
    }

    /// `<dir>/secrets`, where the encrypted files live.
    pub fn secrets_subdir(&self) -> PathBuf {
        self.dir.join(SECRETS_SUBDIR)
    }

    /// Every secret file in `<dir>/secrets/` (dot files skipped), sorted by name.
    pub fn secret_files(&self) -> Result<Vec<PathBuf>> {
        secret_files_in(&self.secrets_subdir())
    }

    /// The secret files in `<dir>/secrets/` with their names, sorted by name.
    pub fn named_secrets(&self) -> Result<Vec<SecretFile>> {
        let mut out: Vec<SecretFile> = self
            .secret_files()?
            .into_iter()
            .map(|path| SecretFile {
                name: secret_name_of(&path),
                path,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.path.cmp(&b.path)));
        Ok(out)
    }

    /// The path a new secret `name` with extension `ext` gets.
    pub fn new_secret_path(&self, name: &SecretName, ext: &str) -> PathBuf {
        self.secrets_subdir()
            .join(format!("{}.{ext}", name.as_str()))
    }

    /// The one existing file for `name`: `<dir>/secrets/<name>.<ext>` with any extension
    /// (yaml, yml, json, env, ini, or another for binary secrets). `None` when there is
    /// none; an error naming both when there are two, since either could be meant.
    pub fn find_secret(&self, name: &SecretName) -> Result<Option<PathBuf>> {
        let subdir = self.secrets_subdir();
        let rd = match std::fs::read_dir(&subdir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("list", &subdir, e)),
        };
        let mut found = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io("list", &subdir, e))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            let is_match = file_name
                .strip_prefix(name.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|ext| !ext.is_empty() && !ext.contains('.'));
            if is_match && entry.path().is_file() {
                found.push(entry.path());
            }
        }
        found.sort_by_key(|p| extension_rank(p));
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(Error::usage(format!(
                "secret '{name}' is ambiguous: {} and {} both exist",
                found[0].display(),
                found[1].display()
            ))
            .hint("remove or rename one of them, or pass the file's path instead of the name")),
        }
    }

    /// Resolves a `NAME|PATH` command argument: an argument with a `/` is a path; anything
    /// else is a secret name, even when a file of that name sits in `cwd`. A file in the
    /// current directory must never stand in for a secret: sops files have integrity, not
    /// authenticity, so anyone with the user's public key can craft one that decrypts
    /// (a `./kubeconfig` in a pull-request checkout would otherwise win).
    pub fn resolve(&self, arg: &str, cwd: &Path) -> Result<Target> {
        resolve(arg, cwd, || Ok(self))
    }

    /// The error for a name that has no secret: with no secrets repo at all, how to set one
    /// up (`add` would fail there too); else the closest existing name, if one is close.
    pub fn no_such_secret(&self, name: &str) -> Error {
        let subdir = crate::error::display_path(&self.secrets_subdir(), self.root());
        if !self.has_secrets_dir() {
            return self.no_secrets_repo();
        }
        let err = Error::usage(format!("no secret named '{name}' in {}", subdir.display()));
        let names = self.secret_names().unwrap_or_default();
        let err = match closest_name(name, &names) {
            Some(close) => err.hint(format!("did you mean '{close}'?")),
            None => err,
        };
        err.hint("see the names with `git secrets list`, or add it with `git secrets add NAME --from FILE`")
    }

    /// Whether there is a secrets dir at all: a repo, or at least its `secrets/` folder.
    pub fn has_secrets_dir(&self) -> bool {
        self.dir.join(".git").exists() || self.secrets_subdir().is_dir()
    }

    /// The error for a command that needs the secrets repo when there is none.
    pub fn no_secrets_repo(&self) -> Error {
        Error::new(format!(
            "there is no secrets repo at {}",
            crate::error::display_path(&self.dir, self.root()).display()
        ))
        .hint("clone yours with `git secrets init URL`, or start one with `git secrets init --new`")
    }

    /// The names of the secrets there are (file names without their extension).
    pub fn secret_names(&self) -> Result<Vec<String>> {
        Ok(self
            .secret_files()?
            .iter()
            .filter_map(|p| name_of_secret_file(p))
            .collect())
    }
}

/// A secret's name from its file name: the name up to its last `.` (`kubeconfig.yaml` →
/// `kubeconfig`, `tls.crt.bin` → `tls.crt`); a name without an extension is itself.
pub fn name_of_secret_file(path: &Path) -> Option<String> {
    let file_name = path.file_name()?.to_string_lossy().into_owned();
    Some(match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => file_name,
    })
}

/// The existing name closest to a mistyped one, when it is close enough to be a typo
/// (the Jaro-Winkler score clap uses for subcommands, ≥ 0.8).
fn closest_name<'a>(typed: &str, names: &'a [String]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (strsim::jaro_winkler(typed, n), n))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n.as_str())
}

/// A `NAME|PATH` command argument, parsed at the edge: with a `/` it is a path,
/// anything else must be a valid [`SecretName`] (never a file of the current dir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretArg {
    /// A bare word: a secret of the secrets dir.
    Name(SecretName),
    /// An argument with a `/`: a file anywhere (relative to the current dir).
    Path(PathBuf),
}

impl SecretArg {
    /// Splits `arg` as [`Layout::resolve`] reads it; an invalid name is a usage error.
    pub fn parse(arg: &str) -> Result<SecretArg> {
        if is_path_argument(arg) {
            Ok(SecretArg::Path(PathBuf::from(arg)))
        } else {
            SecretName::parse(arg).map(SecretArg::Name)
        }
    }
}

impl std::str::FromStr for SecretArg {
    type Err = Error;
    fn from_str(s: &str) -> Result<SecretArg> {
        SecretArg::parse(s)
    }
}

impl std::str::FromStr for SecretName {
    type Err = Error;
    fn from_str(s: &str) -> Result<SecretName> {
        SecretName::parse(s)
    }
}

impl fmt::Display for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretArg::Name(n) => n.fmt(f),
            SecretArg::Path(p) => p.display().fmt(f),
        }
    }
}

/// Resolves a `NAME|PATH` command argument as [`Layout::resolve`] does; `layout` is asked
/// for only when the argument is a name, so a path works outside any repository.
pub fn resolve<L: std::borrow::Borrow<Layout>>(
    arg: &str,
    cwd: &Path,
    layout: impl FnOnce() -> Result<L>,
) -> Result<Target> {
    resolve_arg(&SecretArg::parse(arg)?, cwd, layout)
}

/// Resolves a parsed `NAME|PATH` argument (see [`resolve`]).
pub fn resolve_arg<L: std::borrow::Borrow<Layout>>(
    arg: &SecretArg,
    cwd: &Path,
    layout: impl FnOnce() -> Result<L>,
) -> Result<Target> {
    let name = match arg {
        SecretArg::Path(p) => return path_target(p, cwd),
        SecretArg::Name(n) => n.clone(),
    };
    let arg = name.as_str();
    let layout = layout()?;
    let layout = layout.borrow();
    match layout.find_secret(&name)? {
        Some(path) => Ok(Target::Secret { name, path }),
        None if cwd.join(arg).is_file() => Err(layout.no_such_secret(arg).hint(format!(
            "to use the file of that name in this directory, give it as a path: ./{arg}"
        ))),
        None => Err(layout.no_such_secret(arg)),
    }
}

/// Whether a `NAME|PATH` argument is a path: only when it contains a `/`.
pub fn is_path_argument(arg: &str) -> bool {
    arg.contains('/') || arg.contains(std::path::MAIN_SEPARATOR)
}

/// The file a path argument names; it must exist and be a file.
fn path_target(arg: &Path, cwd: &Path) -> Result<Target> {
    let as_path = cwd.join(arg);
    if !as_path.is_file() {
        return Err(Error::usage(format!("no such file: {}", arg.display()))
            .hint("pass a secret name (see `git secrets list`) or an existing path"));
    }
    Ok(Target::Path(as_path))
}

/// What a `NAME|PATH` argument turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A secret of the layout, found by name.
    Secret {
        /// The name given.
        name: SecretName,
        /// Its file.
        path: PathBuf,
    },
    /// A file given by path (may lie anywhere).
    Path(PathBuf),
}

impl Target {
    /// The file to work on.
    pub fn path(&self) -> &Path {
        match self {
            Target::Secret { path, .. } | Target::Path(path) => path,
        }
    }
}

/// A secret's name: `[A-Za-z0-9][A-Za-z0-9._-]*`. It becomes part of a file name and of
/// a Nix attribute path, so nothing that could leave the secrets dir gets through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretName(String);

impl SecretName {
    /// Checks `s` and wraps it; anything else (a `/`, a leading `.`, `..`, spaces, empty)
    /// is a usage error.
    pub fn parse(s: &str) -> Result<SecretName> {
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if first_ok && rest_ok {
            return Ok(SecretName(s.to_string()));
        }
        // A word with characters no name or path has (spaces, quotes, `@!$…`) is more
        // likely a value typed in the wrong place (`--env TOKEN=p@ss`): not echoed.
        let shown = if s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        {
            format!("invalid secret name '{s}'")
        } else {
            "invalid secret name (not shown: it has characters no name has, and may be a value)"
                .to_string()
        };
        Err(Error::usage(shown).hint(
            "a name starts with a letter or digit and has only letters, digits, '.', '_' \
             and '-' (no '/'); to use a file elsewhere, pass its path",
        ))
    }

    /// Like [`SecretName::parse`], for a name that is about to be created: a name ending in
    /// a format's extension (`talos.yaml`) is refused, since the file would become
    /// `talos.yaml.yaml` and the name `talos.yaml`; the extension comes from the format.
    pub fn parse_new(s: &str) -> Result<SecretName> {
        let name = SecretName::parse(s)?;
        if let Some((stem, ext)) = s.rsplit_once('.') {
            if matches!(ext, "yaml" | "yml" | "json" | "env" | "ini") && !stem.is_empty() {
                return Err(Error::usage(format!(
                    "a secret name has no extension: '{s}' ends in '.{ext}', and its file would get a second one"
                ))
                .hint(format!(
                    "name it '{stem}' (the file gets its extension from --format or --from's)"
                )));
            }
        }
        Ok(name)
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The repo above `nearest` whose secrets dir `nearest` is, if any.
fn parent_above(nearest: &Repo, flag_dir: Option<&Path>) -> Result<Option<Repo>> {
    let Some(up) = nearest.root().parent() else {
        return Ok(None);
    };
    // no repo above is the common case (we are in the parent), not an error
    let Ok(above) = Repo::discover(up) else {
        return Ok(None);
    };
    let dir = match flag_dir {
        Some(d) => d.to_path_buf(),
        None => configured_dir(&above),
    };
    let same = std::fs::canonicalize(&dir).is_ok_and(|d| d == nearest.root());
    Ok(same.then_some(above))
}

/// The secrets dir `parent` uses without a `--dir` flag.
fn configured_dir(parent: &Repo) -> PathBuf {
    match parent.config_string("secrets.dir") {
        Some(d) => normalize(&parent.root().join(d)),
        None => parent.root().join(DEFAULT_DIR),
    }
}

fn extension_rank(path: &Path) -> usize {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    KNOWN_EXTENSIONS
        .iter()
        .position(|k| *k == ext)
        .unwrap_or(KNOWN_EXTENSIONS.len())
}

/// One secret file of the secrets dir, with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFile {
    /// The name: the file name without its last extension (as the secrets flake names it).
    pub name: String,
    /// Absolute path.
    pub path: PathBuf,
}

/// The secret's name for a file: its file name without the last extension
/// (`kubeconfig.yaml` → `kubeconfig`, `tls.pem` → `tls`, `.env` stays `.env`).
pub fn secret_name_of(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => file_name,
    }
}

/// Every secret file directly in `dir` (a `secrets/` dir of the private repo
/// or of the example), dot files (`.gitkeep`) skipped, sorted; none when
/// `dir` does not exist.
pub fn secret_files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut files = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testutil::{discover_outside_any_repo, git, init, parent_with_inner, write};

    #[test]
    fn secret_names_table() {
        let good = [
            "kubeconfig",
            "a",
            "0",
            "db-password",
            "tls.crt",
            "A_b-c.9",
            "a..b",
        ];
        for n in good {
            assert_eq!(
                SecretName::parse(n).unwrap().as_str(),
                n,
                "{n} should parse"
            );
        }
        let bad = [
            "", ".", "..", ".hidden", "-x", "_x", "a/b", "../x", "/abs", "a b", "ä", "a\\b", "x/",
            "a\n", "name*",
        ];
        for n in bad {
            let err = SecretName::parse(n).expect_err(n);
            assert_eq!(err.kind, crate::error::Kind::Usage, "{n}");
            assert!(!err.hints.is_empty(), "{n}");
        }
    }

    #[test]
    fn discovers_from_the_parent_root_a_subdir_and_inside_the_inner_repo() {
        let (_tmp, parent) = parent_with_inner();
        std::fs::create_dir_all(parent.join("modules/deep")).unwrap();
        for start in [
            parent.clone(),
            parent.join("modules/deep"),
            parent.join("secrets"),
            parent.join("secrets/secrets"),
        ] {
            let l = Layout::discover(&start, &Overrides::default()).unwrap();
            assert_eq!(l.root(), parent, "from {}", start.display());
            assert_eq!(l.dir, parent.join("secrets"));
            assert_eq!(l.example_dir, parent.join("secrets-example"));
            assert_eq!(l.dir_in_parent(), Some(Path::new("secrets")));
            assert_eq!(l.input, None);
            assert!(l.inner().unwrap().is_some());
        }
    }

    #[test]
    fn a_nested_repo_that_is_not_the_secrets_dir_is_its_own_parent() {
        let (_tmp, parent) = parent_with_inner();
        let other = parent.join("vendor/lib");
        init(&other);
        let l = Layout::discover(&other, &Overrides::default()).unwrap();
        assert_eq!(l.root(), other);
    }

    #[test]
    fn config_and_flag_move_the_dirs_even_outside_the_parent() {
        let (tmp, parent) = parent_with_inner();
        let outside = parent.parent().unwrap().join("kubenix-secrets");
        init(&outside);
        git(&parent, &["config", "secrets.dir", "../kubenix-secrets"]);
        git(&parent, &["config", "secrets.example", "examples/secrets"]);
        git(&parent, &["config", "secrets.input", "kubenix-secrets"]);
        let l = Layout::discover(&parent, &Overrides::default()).unwrap();
        assert_eq!(l.dir, outside);
        assert_eq!(l.dir_in_parent(), None);
        assert_eq!(l.example_dir, parent.join("examples/secrets"));
        assert_eq!(l.input.as_deref(), Some("kubenix-secrets"));
        // an outside dir is not below the parent, so from inside it the nearest repo wins
        let from_outside = Layout::discover(&outside, &Overrides::default()).unwrap();
        assert_eq!(from_outside.root(), outside);
        // the flag beats config and is relative to the start dir
        let o = Overrides {
            dir: Some("secrets".into()),
            input: Some("mine".into()),
        };
        let l = Layout::discover(&parent, &o).unwrap();
        assert_eq!(l.dir, parent.join("secrets"));
        assert_eq!(l.input.as_deref(), Some("mine"));
        // and from inside the inner repo with `--dir .`, the parent is still found
        let o = Overrides {
            dir: Some(".".into()),
            input: None,
        };
        let l = Layout::discover(&parent.join("secrets"), &o).unwrap();
        assert_eq!(l.root(), parent);
        drop(tmp);
    }

    #[test]
    fn outside_any_repo_the_error_says_git_init_or_dash_c() {
        discover_outside_any_repo(|dir| Layout::discover(dir, &Overrides::default()));
    }

    #[test]
    fn names_resolve_to_the_one_file_with_any_extension() {
        let (_tmp, parent) = parent_with_inner();
        let l = Layout::discover(&parent, &Overrides::default()).unwrap();
        let inner = parent.join("secrets");
        write(&inner, "secrets/db.json", "{}");
        write(&inner, "secrets/tls.pem", "x");
        write(&inner, "secrets/tls.crt.yaml", "x");
        let find = |n: &str| l.find_secret(&SecretName::parse(n).unwrap()).unwrap();
        assert_eq!(
            find("kubeconfig"),
            Some(inner.join("secrets/kubeconfig.yaml"))
        );
        assert_eq!(find("db"), Some(inner.join("secrets/db.json")));
        assert_eq!(find("tls"), Some(inner.join("secrets/tls.pem")));
        assert_eq!(find("tls.crt"), Some(inner.join("secrets/tls.crt.yaml")));
        assert_eq!(find("kube"), None);
        write(&inner, "secrets/db.yaml", "a: 1");
        let err = l
            .find_secret(&SecretName::parse("db").unwrap())
            .unwrap_err();
        err.assert_says("db.yaml");
        err.assert_says("db.json");
        let name = SecretName::parse("x").unwrap();
        assert_eq!(
            l.new_secret_path(&name, "yaml"),
            inner.join("secrets/x.yaml")
        );
    }

    #[test]
    fn name_or_path_arguments() {
        let (_tmp, parent) = parent_with_inner();
        let l = Layout::discover(&parent, &Overrides::default()).unwrap();
        let kc = parent.join("secrets/secrets/kubeconfig.yaml");
        // a name
        let t = l.resolve("kubeconfig", &parent).unwrap();
        assert_eq!(t.path(), kc);
        assert!(matches!(t, Target::Secret { .. }));
        // a path with a slash
        let t = l
            .resolve("secrets/secrets/kubeconfig.yaml", &parent)
            .unwrap();
        assert_eq!(t, Target::Path(kc.clone()));
        // a bare word is always a name, even when a file of that name sits in the cwd
        write(&parent, "kubeconfig", "plain");
        let t = l.resolve("kubeconfig", &parent).unwrap();
        assert_eq!(t.path(), kc);
        assert!(matches!(t, Target::Secret { .. }));
        let t = l.resolve("./kubeconfig", &parent).unwrap();
        assert_eq!(t, Target::Path(parent.join("./kubeconfig")));
        write(&parent, "only-here", "plain");
        let e = l.resolve("only-here", &parent).unwrap_err();
        assert!(e.hints.iter().any(|h| h.contains("./only-here")), "{e:?}");
        // errors
        let e = l.resolve("nope/x.yaml", &parent).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Usage);
        let e = l.resolve("missing", &parent).unwrap_err();
        assert!(e.hints.iter().any(|h| h.contains("git secrets list")));
        assert!(SecretName::parse_new("talos.yaml").is_err());
        assert!(SecretName::parse_new("tls.crt").is_ok());
        let e = l.resolve("kubeconfg", &parent).unwrap_err();
        assert!(
            e.hints.iter().any(|h| h == "did you mean 'kubeconfig'?"),
            "{e:?}"
        );
        let e = l.resolve("..", &parent).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Usage);
    }
}
