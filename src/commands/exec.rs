//! `git secrets exec NAME|PATH [--field a.b] (--file VAR | --env VAR) -- CMD…`:
//! run CMD with secrets handed over as a sealed memfd (`/dev/fd/N`), a tmpfs
//! file (`--tmpfs`) or an environment variable. Plaintext never touches a disk.
//!
//! Without `--tmpfs` nothing needs cleaning up, so the tool `exec`s CMD in
//! place: no parent stays, CMD gets signals and its exit status directly.
//! With `--tmpfs` a parent stays to remove the file on every exit path.

use super::Ctx;
use crate::error::{Error, Result};
use crate::layout::SecretArg;
use crate::plaintext;
use crate::sops::file::{load, render_extract, Decrypted, SopsFile};
use crate::sops::formats::yaml::DEFAULT_INDENT;
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::path::{display, lookup, parse_extract, parse_field, Step};
use crate::sops::tree::{go_format_float_g, Node, Scalar};
use clap::{Args, ValueEnum};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use zeroize::Zeroizing;

/// Exit code when CMD cannot be found (as in POSIX shells).
const EXIT_NOT_FOUND: i32 = 127;
/// Exit code when CMD exists but cannot be run (as in POSIX shells).
const EXIT_CANNOT_RUN: i32 = 126;

/// How a secret reaches CMD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    File,
    Env,
}

/// One `--file`/`--env` binding: which variable gets which secret (part).
#[derive(Debug, Clone, PartialEq)]
struct Binding {
    target: Target,
    var: String,
    /// A secret name or a path.
    secret: SecretArg,
    /// The field, when only a part of the secret is wanted.
    steps: Option<Vec<Step>>,
}

/// A `--file`/`--env` value as clap parses it: `VAR` (for the positional SECRET)
/// or `VAR=SECRET[:FIELD]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecBinding {
    /// The variable CMD gets.
    pub var: String,
    /// What it gets; `None` for the positional SECRET.
    pub source: Option<BindingSource>,
}

/// The `SECRET[:FIELD]` of a binding.
#[derive(Debug, Clone, PartialEq)]
pub enum BindingSource {
    /// A secret name or path, and maybe a field of it.
    Secret {
        /// The secret.
        secret: SecretArg,
        /// The field, when only a part is wanted.
        steps: Option<Vec<Step>>,
    },
    /// A path with a `:` in it: the whole file when one of that name exists (decided
    /// against the current dir, which `-C` sets after parsing), else `PATH:FIELD`.
    PathWithColon {
        /// The argument as one path.
        whole: PathBuf,
        /// The path before the first `:` and the field after it, when that parses.
        split: Option<(PathBuf, Vec<Step>)>,
    },
}

impl std::str::FromStr for ExecBinding {
    type Err = Error;
    fn from_str(spec: &str) -> Result<ExecBinding> {
        let (var, reference) = match spec.split_once('=') {
            Some((v, r)) => (v, Some(r)),
            None => (spec, None),
        };
        if !is_env_name(var) {
            // Not echoed: a value pasted here (`--env 'p@ss'`) must not reach a log.
            return Err(Error::usage(
                "it does not start with a variable name (not shown: it may be a value)",
            )
            .hint("write VAR or VAR=SECRET[:FIELD]; VAR is letters, digits and _, and SECRET a secret name, never a value"));
        }
        let source = match reference {
            None => None,
            Some("") => {
                return Err(Error::usage(format!("no secret after '=' in {spec}"))
                    .hint(format!("write {var}=NAME or {var}=NAME:FIELD")))
            }
            Some(r) if crate::layout::is_path_argument(r) && r.contains(':') => {
                Some(BindingSource::PathWithColon {
                    whole: PathBuf::from(r),
                    split: r
                        .split_once(':')
                        .and_then(|(p, f)| Some((PathBuf::from(p), parse_field(f).ok()?))),
                })
            }
            Some(r) => {
                let (secret, steps) = match r.split_once(':') {
                    Some((s, f)) => (s, Some(parse_field(f)?)),
                    None => (r, None),
                };
                Some(BindingSource::Secret {
                    secret: SecretArg::parse(secret)?,
                    steps,
                })
            }
        };
        Ok(ExecBinding {
            var: var.to_string(),
            source,
        })
    }
}

/// `git secrets exec`: plaintext reaches CMD as a sealed memfd (`/dev/fd/N`),
/// a tmpfs file, or an environment variable, and never a disk.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  git secrets exec kubeconfig --file KUBECONFIG -- kubectl get pods
  git secrets exec hcloud-token --field hcloud_token --env HCLOUD_TOKEN -- hcloud server list
  git secrets exec --file KUBECONFIG=kubeconfig --env HCLOUD_TOKEN=hcloud-token:hcloud_token -- make

CMD replaces git-secrets (exec), so its exit status and signals are its own; with --tmpfs a \
parent stays to remove the file, forwards signals and passes the exit status through \
(128+n when CMD dies of signal n). A CMD that cannot be found exits 127.")]
pub struct ExecArgs {
    /// Pass a secret as a file: VAR is set to its path (/dev/fd/N, or a tmpfs
    /// file with --tmpfs). VAR alone uses SECRET; VAR=NAME[:FIELD] names its
    /// own. Repeatable.
    #[arg(long = "file", value_name = "VAR[=SECRET[:FIELD]]")]
    pub files: Vec<ExecBinding>,
    /// Pass a secret as the value of VAR: a field's value, or the whole file
    /// as decrypted. VAR alone uses SECRET; VAR=NAME[:FIELD] names its own.
    /// Repeatable.
    #[arg(long = "env", value_name = "VAR[=SECRET[:FIELD]]")]
    pub envs: Vec<ExecBinding>,
    /// Use only this field of SECRET, as a dotted path (a.b, list.0).
    #[arg(long, value_name = "PATH", conflicts_with = "extract")]
    pub field: Option<String>,
    /// Use only this part of SECRET, in sops' syntax: '["a"]["b"]'.
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// How to render a map or list (and whole files): yaml or json. Needed
    /// for --env with a field that is a map.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<RenderFormat>,
    /// Use a 0600 file on tmpfs ($XDG_RUNTIME_DIR, else /dev/shm) instead of
    /// a memfd, for commands that need a real path; a parent process stays
    /// to remove it.
    #[arg(long)]
    pub tmpfs: bool,
    /// A secret name (in the secrets dir) or a path to a sops file.
    #[arg(value_name = "SECRET")]
    pub secret: Option<SecretArg>,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}
/// `exec --format` values: how a map or list becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Yaml,
    Json,
}

pub fn run(ctx: &Ctx, args: ExecArgs) -> Result<i32> {
    let bindings = parse_bindings(&args, &ctx.cwd)?;
    let (program, cmd_args) = args
        .command
        .split_first()
        .ok_or_else(|| Error::usage("no command given after --"))?; // clap requires one
    let mut cmd = Command::new(program);
    cmd.args(cmd_args);
    // CMD gets its secrets, not the identity that decrypts all of them.
    plaintext::remove_identity_env(&mut cmd);

    let format = args.format;
    let ids = Identities::discover();
    let mut opened: Vec<(PathBuf, SopsFile, Decrypted)> = Vec::new();
    let mut files: Vec<(String, String, Zeroizing<Vec<u8>>)> = Vec::new();
    for b in &bindings {
        let path = super::resolve_secret(ctx, &b.secret)?;
        // A secret used by several bindings is decrypted once.
        let idx = match opened.iter().position(|(p, _, _)| *p == path) {
            Some(i) => i,
            None => {
                let file = load(&path, None)?;
                let plain = file.decrypt(&ids)?;
                opened.push((path.clone(), file, plain));
                opened.len() - 1
            }
        };
        let (_, file, plain) = &opened[idx];
        let value = render(file, plain, b, format)?;
        match b.target {
            Target::Env => {
                if value.contains(&0) {
                    return Err(Error::new(format!(
                        "{} holds a NUL byte, which an environment variable cannot carry",
                        shown(b)
                    ))
                    .hint(format!("pass it as a file: --file {}", b.var)));
                }
                cmd.env(&b.var, OsStr::from_bytes(&value));
            }
            Target::File => files.push((b.var.clone(), file_name(&path, b), value)),
        }
    }
    drop(opened);
    if ctx.ui.verbose {
        for b in &bindings {
            ctx.ui.detail(format!("{} ← {}", b.var, shown(b)));
        }
    }
    if args.tmpfs && !files.is_empty() {
        run_with_tmpfs_files(cmd, files, program)
    } else {
        exec_in_place(cmd, files, program)
    }
}

/// Hands files over as sealed memfds and replaces this process with CMD.
/// Returns only when CMD cannot be started.
#[cfg(target_os = "linux")]
fn exec_in_place(
    mut cmd: Command,
    files: Vec<(String, String, Zeroizing<Vec<u8>>)>,
    program: &OsStr,
) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    let mut memfds = Vec::new();
    for (var, _, bytes) in files {
        let m = plaintext::SealedMemfd::create(&var, &bytes)?;
        cmd.env(&var, m.dev_path());
        memfds.push(m);
    }
    // Every other fd of ours is close-on-exec (Rust opens them so); the
    // memfds are the only ones CMD inherits from us. RLIMIT_CORE stays 0 in
    // CMD; the kernel makes it dumpable again on exec, which is fine: the
    // memory is then CMD's own.
    let err = cmd.exec();
    drop(memfds);
    Err(start_failure(program, &err))
}

/// Without memfds only environment variables work in place.
#[cfg(not(target_os = "linux"))]
fn exec_in_place(
    mut cmd: Command,
    files: Vec<(String, String, Zeroizing<Vec<u8>>)>,
    program: &OsStr,
) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    if !files.is_empty() {
        return Err(Error::usage("--file needs a memfd, which only Linux has")
            .hint("add --tmpfs to pass the file on a tmpfs directory instead"));
    }
    let err = cmd.exec();
    Err(start_failure(program, &err))
}

/// Writes the files to tmpfs, runs CMD as a child with signals forwarded,
/// removes the files, and passes CMD's exit status through.
fn run_with_tmpfs_files(
    mut cmd: Command,
    files: Vec<(String, String, Zeroizing<Vec<u8>>)>,
    program: &OsStr,
) -> Result<i32> {
    // Only now: until a file exists a signal may end us the default way, and
    // a SOPS_AGE_KEY_CMD started while decrypting kept the normal signal mask.
    // Decrypting started no thread, so the mask set here covers every thread.
    plaintext::install_signal_cleanup();
    let mut plain_files = Vec::new();
    for (var, name, bytes) in files {
        let f = plaintext::PlainFile::create(&name, &bytes)?;
        cmd.env(&var, f.path());
        plain_files.push(f);
    }
    crate::failpoint::hit("exec.after-tmpfs-file")?;
    let status = plaintext::spawn_foreground(&mut cmd).and_then(|child| {
        // The command's copies of --env values need not stay in this process.
        drop(cmd);
        child.wait()
    });
    drop(plain_files);
    match status {
        Ok(s) => Ok(exit_code(s)),
        Err(e) => Err(start_failure(program, &e)),
    }
}

/// CMD's exit code, or 128+n when signal n ended it (as shells report it).
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    }
}

/// Why CMD did not start, exiting with the shell's code for it: 127 when it is not
/// found, 126 otherwise.
fn start_failure(program: &OsStr, err: &std::io::Error) -> Error {
    let name = program.to_string_lossy();
    match err.kind() {
        std::io::ErrorKind::NotFound => Error::exit(
            EXIT_NOT_FOUND,
            format!("cannot run '{name}': command not found"),
        )
        .hint(if name.contains('/') {
            "check the path to the command".to_string()
        } else {
            format!("install {name} or put it on PATH, or give its full path")
        }),
        std::io::ErrorKind::PermissionDenied => Error::exit(
            EXIT_CANNOT_RUN,
            format!("cannot run '{name}': permission denied"),
        )
        .hint("make it executable (chmod +x) or check the directory's permissions"),
        _ => Error::exit(EXIT_CANNOT_RUN, format!("cannot run '{name}': {err}"))
            .hint("check that the command is a program this system can run"),
    }
}

/// Turns the flags into bindings; each names its variable, secret and field.
fn parse_bindings(args: &ExecArgs, cwd: &Path) -> Result<Vec<Binding>> {
    let positional_steps = match (&args.extract, &args.field) {
        (Some(e), _) => Some(parse_extract(e)?),
        (None, Some(f)) => Some(parse_field(f)?),
        (None, None) => None,
    };
    let mut out: Vec<Binding> = Vec::new();
    let specs = args
        .files
        .iter()
        .map(|s| (Target::File, s))
        .chain(args.envs.iter().map(|s| (Target::Env, s)));
    for (target, spec) in specs {
        let b = parse_binding(
            target,
            spec,
            args.secret.as_ref(),
            positional_steps.as_ref(),
            cwd,
        )?;
        if out.iter().any(|o| o.var == b.var) {
            return Err(Error::usage(format!("{} is given twice", b.var))
                .hint("each variable takes one secret"));
        }
        out.push(b);
    }
    if out.is_empty() {
        return Err(Error::usage("no --file or --env given").hint(
            "say how CMD gets the secret: --file VAR (a path to it) or --env VAR (its value)",
        ));
    }
    if args.secret.is_none() && positional_steps.is_some() {
        return Err(
            Error::usage("--field and --extract apply to SECRET, which is not given")
                .hint("write the field into the pair instead: --env VAR=NAME:FIELD"),
        );
    }
    if let Some(secret) = &args.secret {
        if !args
            .files
            .iter()
            .chain(&args.envs)
            .any(|b| b.source.is_none())
        {
            return Err(Error::usage(format!("{secret} is given but no --file or --env uses it"))
                .hint(format!("add --file VAR or --env VAR for {secret}, or drop it; did you forget `--` before the command?")));
        }
    }
    Ok(out)
}

/// A binding with its secret settled: the positional one for a bare `VAR`, the
/// whole file for a path with a `:` that exists as it is.
fn parse_binding(
    target: Target,
    spec: &ExecBinding,
    positional: Option<&SecretArg>,
    positional_steps: Option<&Vec<Step>>,
    cwd: &Path,
) -> Result<Binding> {
    let flag = match target {
        Target::File => "--file",
        Target::Env => "--env",
    };
    let var = &spec.var;
    let (secret, steps) = match &spec.source {
        None => {
            let secret = positional.ok_or_else(|| {
                Error::usage(format!("{flag} {var} names no secret"))
                    .hint(format!("give the secret first (exec NAME {flag} {var} -- CMD) or write {flag} {var}=NAME[:FIELD]"))
            })?;
            (secret.clone(), positional_steps.cloned())
        }
        Some(BindingSource::Secret { secret, steps }) => (secret.clone(), steps.clone()),
        // A path (it has a `/`) to an existing file is taken whole, even with a ':' in it.
        Some(BindingSource::PathWithColon { whole, split }) => match split {
            Some((path, steps)) if !cwd.join(whole).is_file() => {
                (SecretArg::Path(path.clone()), Some(steps.clone()))
            }
            _ => (SecretArg::Path(whole.clone()), None),
        },
    };
    Ok(Binding {
        target,
        var: var.clone(),
        secret,
        steps,
    })
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what a shell accepts as a variable name.
fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The binding's source, for messages: `kubeconfig` or `hcloud-token["token"]`.
fn shown(b: &Binding) -> String {
    match &b.steps {
        Some(s) => format!("{}{}", b.secret, display(s)),
        None => b.secret.to_string(),
    }
}

/// The name of a tmpfs file: the secret's file name for a whole file, its
/// stem for a field (the extension would be wrong for a bare value).
fn file_name(path: &Path, b: &Binding) -> String {
    let part = if b.steps.is_some() {
        path.file_stem()
    } else {
        path.file_name()
    };
    part.map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && !n.starts_with('.'))
        .unwrap_or_else(|| b.var.clone())
}

/// The bytes a binding hands over: the whole file as `sops decrypt` prints
/// it, or a field's value (a scalar as text, a map or list rendered).
fn render(
    file: &SopsFile,
    plain: &Decrypted,
    b: &Binding,
    format: Option<RenderFormat>,
) -> Result<Zeroizing<Vec<u8>>> {
    let chosen = format.map(|f| match f {
        RenderFormat::Yaml => Format::Yaml,
        RenderFormat::Json => Format::Json,
    });
    let Some(steps) = &b.steps else {
        return Ok(Zeroizing::new(
            chosen
                .unwrap_or(file.format)
                .emit_plain(&plain.docs.0, DEFAULT_INDENT)?,
        ));
    };
    let first = plain
        .docs
        .0
        .first()
        .ok_or_else(|| Error::new(format!("{} has no document", b.secret)))?;
    let node = lookup(first, steps)?;
    match node {
        Node::Map(_) | Node::Seq(_) => {
            let kind = if matches!(node, Node::Map(_)) {
                "map"
            } else {
                "list"
            };
            match (b.target, chosen) {
                (Target::Env, None) => Err(Error::usage(format!(
                    "{} is a {kind}, not a single value",
                    shown(b)
                ))
                .hint(format!(
                    "add --format yaml or --format json to put it into {} as text, or name a field inside it",
                    b.var
                ))),
                (_, f) => Ok(Zeroizing::new(render_extract(
                    node,
                    f.unwrap_or(file.format),
                    DEFAULT_INDENT,
                )?)),
            }
        }
        Node::Scalar(s) => scalar_text(s).map(Zeroizing::new).ok_or_else(|| {
            Error::new(format!("{} is null", shown(b)))
                .hint("give it a value with git secrets edit, or name another field")
        }),
    }
}

/// A scalar as text, like `yq -r` prints it: strings raw, numbers and
/// booleans as YAML writes them. `None` for null.
fn scalar_text(s: &Scalar) -> Option<Vec<u8>> {
    Some(match s {
        Scalar::Null => return None,
        Scalar::Str(s) | Scalar::Time(s) => s.as_bytes().to_vec(),
        Scalar::Bytes(b) => b.clone(),
        Scalar::Int(i) => i.to_string().into_bytes(),
        Scalar::Float(f) => go_format_float_g(*f).into_bytes(),
        Scalar::Bool(v) => v.to_string().into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(argv: &[&str]) -> Result<Vec<Binding>> {
        let cli = crate::cli::Cli::try_parse_from(
            std::iter::once("git-secrets")
                .chain(std::iter::once("exec"))
                .chain(argv.iter().copied()),
        )
        // a value our parsers refuse comes back with their hints, as main.rs shows it
        .map_err(|e| {
            crate::cli::value_error(&e, &[]).unwrap_or_else(|| Error::usage(e.to_string()))
        })?;
        match cli.command {
            crate::cli::Command::Exec(a) => parse_bindings(&a, Path::new("/nonexistent")),
            _ => unreachable!(),
        }
    }

    fn key(s: &str) -> Step {
        Step::Key(s.into())
    }

    #[test]
    fn simple_form_binds_the_positional_secret() {
        let b = parse(&["kubeconfig", "--file", "KUBECONFIG", "--", "kubectl"]).unwrap();
        assert_eq!(
            b,
            vec![Binding {
                target: Target::File,
                var: "KUBECONFIG".into(),
                secret: "kubeconfig".parse().unwrap(),
                steps: None
            }]
        );
        let b = parse(&["hcloud-token", "--field", "a.b", "--env", "T", "--", "true"]).unwrap();
        assert_eq!(b[0].steps, Some(vec![key("a"), key("b")]));
        let b = parse(&["s", "--extract", r#"["a"][0]"#, "--env", "T", "--", "true"]).unwrap();
        assert_eq!(b[0].steps, Some(vec![key("a"), Step::Index(0)]));
    }

    #[test]
    fn pairs_name_their_own_secret_and_field() {
        let b = parse(&[
            "--file",
            "KUBECONFIG=kubeconfig",
            "--env",
            "HCLOUD_TOKEN=hcloud-token:hcloud_token",
            "--env",
            r#"X=s:["a:b"]"#,
            "--",
            "make",
        ])
        .unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(
            (b[0].target, b[0].secret.to_string().as_str()),
            (Target::File, "kubeconfig")
        );
        assert_eq!(b[0].steps, None);
        assert_eq!(
            (b[1].target, b[1].var.as_str()),
            (Target::Env, "HCLOUD_TOKEN")
        );
        assert_eq!(b[1].secret.to_string(), "hcloud-token");
        assert_eq!(b[1].steps, Some(vec![key("hcloud_token")]));
        assert_eq!(b[2].steps, Some(vec![key("a:b")]));
    }

    #[test]
    fn mixing_positional_and_pairs_works() {
        let b = parse(&["kc", "--file", "K", "--env", "T=tok:t", "--", "x"]).unwrap();
        assert_eq!(b[0].secret.to_string(), "kc");
        assert_eq!(b[1].secret.to_string(), "tok");
    }

    #[test]
    fn bad_bindings_are_usage_errors() {
        for argv in [
            &["--file", "K", "--", "x"][..],                // no secret at all
            &["s", "--", "x"],                              // no binding
            &["s", "--file", "K=other", "--", "x"],         // positional unused
            &["s", "--file", "1K", "--", "x"],              // bad name
            &["s", "--file", "K", "--env", "K", "--", "x"], // twice
            &["--file", "K=", "--", "x"],                   // empty secret
            &["--env", "K=s:a..b", "--", "x"],              // bad field
            &["--field", "a", "--env", "K=s", "--", "x"],   // field without SECRET
        ] {
            let e = parse(argv).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{argv:?}: {e}");
            assert!(!e.hints.is_empty(), "{argv:?} has no hint");
        }
        // clap itself insists on `--` before the command
        assert!(parse(&["s", "--file", "K", "kubectl"]).is_err());
    }

    #[test]
    fn scalars_render_like_yq() {
        assert_eq!(scalar_text(&Scalar::Str("a b".into())).unwrap(), b"a b");
        assert_eq!(scalar_text(&Scalar::Int(-3)).unwrap(), b"-3");
        assert_eq!(scalar_text(&Scalar::Bool(true)).unwrap(), b"true");
        assert_eq!(scalar_text(&Scalar::Float(1.5)).unwrap(), b"1.5");
        assert!(scalar_text(&Scalar::Null).is_none());
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("KUBECONFIG"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name(""));
        assert!(!is_env_name("1A"));
        assert!(!is_env_name("A-B"));
    }
}
