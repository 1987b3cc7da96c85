//! Every command and flag of `git secrets`, with its help text (clap derive).
//! The man page and shell completions are generated from this definition.

use crate::commands::{
    add, allow, completions, decrypt, demo, doctor, edit, encrypt, example, exec, hooks, init,
    list, log, merge_driver, pull, push, rekey, rotate, show, textconv,
};
use crate::sops::formats::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Keep a private sops/age secrets repo nested in a public Nix flake.
///
/// The secrets live in their own git repository (`secrets/` by default),
/// ignored by the parent and wired in as a `git+file:` flake input. git-secrets
/// clones or creates it, keeps Nix's lock in step with it, encrypts and
/// decrypts sops files natively, and checks that nothing leaks into the
/// public repository.
#[derive(Debug, Parser)]
#[command(name = "git-secrets", version = crate::version::LONG, propagate_version = true)]
#[command(disable_help_subcommand = false, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Run as if started in <PATH> (like git -C).
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub chdir: Option<PathBuf>,
    /// The secrets directory (default: `secrets`, or `git config secrets.dir`).
    #[arg(long, global = true, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// When to use colors.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more about what is done.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Answer yes to every prompt (required when a prompt is needed and stdin is not a terminal).
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Clone (or create with --new) the private secrets repo and wire it into the parent flake.
    Init(init::InitArgs),
    /// Encrypt a new secret per .sops.yaml, commit it in the secrets repo, relock.
    Add(add::AddArgs),
    /// Give a secret a new value (or a fresh data key), commit, relock, verify.
    Rotate(rotate::RotateArgs),
    /// Re-wrap every secret's data key for the recipients .sops.yaml names now.
    Rekey(rekey::RekeyArgs),
    /// List the secrets with their recipients and last change.
    List(list::ListArgs),
    /// Push the secrets repo to its upstream (--parent: then commit flake.lock and push the parent).
    Push(push::PushArgs),
    /// Fetch and fast-forward (or rebase onto) the secrets repo's upstream, then relock forward.
    Pull(pull::PullArgs),
    /// The secrets repo's history with decrypted diffs, values masked (who changed what, when).
    Log(log::LogArgs),
    /// git's merge driver for sops files (installed by init): merges value by value.
    #[command(hide = true)]
    MergeDriver(merge_driver::MergeDriverArgs),
    /// git's diff textconv for sops files (installed by init): decrypted, values masked.
    #[command(hide = true)]
    Textconv(textconv::TextconvArgs),
    /// Print a secret's decrypted value.
    Show(show::ShowArgs),
    /// Edit a secret in $EDITOR on a tmpfs copy; unchanged values keep their ciphertext.
    Edit(edit::EditArgs),
    /// Run a command with secrets as files (memfd/tmpfs) or environment variables.
    Exec(exec::ExecArgs),
    /// Decrypt a sops file to stdout (like `sops decrypt`).
    ///
    /// Exits with sops' status codes, so scripts written for sops keep working: 100 no
    /// such file, 2 the file cannot be read, 1 not a sops file (or another failure), 128
    /// no identity recovers the data key, 25 a value does not decrypt, 51 MAC mismatch,
    /// 91 a bad --extract path, 4 the output format cannot hold the data. See
    /// docs/SOPS-COMPAT.md.
    Decrypt(decrypt::DecryptArgs),
    /// Encrypt a file with sops (like `sops encrypt`).
    ///
    /// Exits with sops' status codes, so scripts written for sops keep working: 100 no
    /// such file, 2 the file cannot be read or parsed (also: YAML with only comments), 92
    /// an empty file, 203 the file is already encrypted, 8 -i with stdin, 1 any other
    /// failure (.sops.yaml, recipients). See docs/SOPS-COMPAT.md.
    Encrypt(encrypt::EncryptArgs),
    /// Check the nested-secrets setup for every known failure and leak.
    Doctor(doctor::DoctorArgs),
    /// Regenerate (or --check) the public secrets-example/ from secrets/.
    Example(example::ExampleArgs),
    /// Install or remove the parent repo's pre-commit / pre-push guards.
    Hooks(hooks::HooksArgs),
    /// Mark values of the secrets as public (names, namespaces, hosts), so the guards stop warning.
    Allow(allow::AllowArgs),
    /// Build a sandbox cluster from the embedded example and walk through the tool.
    Demo(demo::DemoArgs),
    /// Print shell completions (bash, zsh, fish).
    Completions(completions::CompletionsArgs),
}

/// A part of a secret (`--field a.b` or `--extract '["a"]["b"]'`), parsed at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct PartPath(pub Vec<crate::sops::path::Step>);

impl PartPath {
    /// `--field`: keys joined by dots (`a.b.0`).
    pub fn field(s: &str) -> crate::Result<PartPath> {
        crate::sops::path::parse_field(s).map(PartPath)
    }

    /// `--extract`: sops' syntax (`["a"]["b"][0]`).
    pub fn extract(s: &str) -> crate::Result<PartPath> {
        crate::sops::path::parse_extract(s).map(PartPath)
    }
}

/// Format selection shared by decrypt/encrypt.
#[derive(Debug, Args, Clone, Default)]
pub struct TypeArgs {
    /// Input format: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_parser = Format::parse)]
    pub input_type: Option<Format>,
    /// Output format (default: the input format).
    #[arg(long, value_name = "TYPE", value_parser = Format::parse)]
    pub output_type: Option<Format>,
}

/// The flags of every command that relocks the parent's flake input (the changing
/// commands, init, pull).
#[derive(Debug, Args, Clone, Default)]
pub struct LockArgs {
    /// Do not relock the parent flake.
    #[arg(long)]
    pub no_lock: bool,
    /// Pass --offline to nix.
    #[arg(long)]
    pub offline: bool,
}

/// The options every changing command (add, rotate, rekey, edit) shares: the commit
/// message, and how far it goes after writing (commit, relock, commit the parent, push).
/// Written once here, so each flag's help reads the same in every command.
#[derive(Debug, Args, Clone, Default)]
pub struct ChangeArgs {
    /// Commit message in the secrets repo (default: the command and what it changed,
    /// e.g. `rotate db`).
    #[arg(short, long, value_name = "MSG")]
    pub message: Option<String>,
    /// Do not commit in the secrets repo (and so do not lock).
    #[arg(long)]
    pub no_commit: bool,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Also commit the parent's flake.lock.
    #[arg(long)]
    pub commit_parent: bool,
    /// Push the secrets repo afterwards (default with `git config secrets.push true`).
    #[arg(long, conflicts_with_all = ["no_commit", "no_push"])]
    pub push: bool,
    /// Do not push, even when `git config secrets.push` is true.
    #[arg(long)]
    pub no_push: bool,
}

impl ChangeArgs {
    /// The commit message: `-m`'s, else `default`.
    pub fn message_or(&self, default: impl FnOnce() -> String) -> String {
        self.message.clone().unwrap_or_else(default)
    }

    /// Whether an option about the commit, the lock or the push was given: they mean
    /// nothing where there is no secrets repo (`--offline` only does nothing there).
    pub fn names_a_commit(&self) -> bool {
        self.message.is_some()
            || self.no_commit
            || self.lock.no_lock
            || self.commit_parent
            || self.push
            || self.no_push
    }

    /// How far the change transaction goes.
    pub fn options(&self) -> crate::change::Options {
        crate::change::Options {
            no_commit: self.no_commit,
            no_lock: self.lock.no_lock,
            commit_parent: self.commit_parent,
            offline: self.lock.offline,
            push: match (self.push, self.no_push) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
        }
    }
}

/// The hot calls without building clap's command tree: `decrypt FILE`, `encrypt [--age R]
/// [-i] FILE`, `show SECRET` and the devshell wrappers' `exec SECRET [--field F] [--tmpfs]
/// (--env V | --file V)… -- CMD…`.
/// Building every subcommand's parser was about an eighth of such a run. Anything else (any
/// other flag, a `--flag=value`, a repeated `--field` or `--tmpfs`, a `-`-led or empty value,
/// a global option) is `None`, for clap to parse; a test holds this equal to clap.
pub fn parse_plain(args: &[std::ffi::OsString]) -> Option<Cli> {
    let command = match args.get(1)?.to_str()? {
        "decrypt" => plain_decrypt(args),
        "encrypt" => plain_encrypt(args),
        "show" => plain_show(args),
        "exec" => plain_exec(args),
        _ => None,
    }?;
    Some(Cli {
        global: GlobalArgs {
            chdir: None,
            dir: None,
            color: ColorChoice::Auto,
            quiet: false,
            verbose: false,
            yes: false,
        },
        command,
    })
}

/// A value clap takes as it is: not empty, not led by `-`.
fn plain_value(arg: &std::ffi::OsStr) -> Option<&std::ffi::OsStr> {
    let bytes = arg.as_encoded_bytes();
    (!bytes.is_empty() && bytes[0] != b'-').then_some(arg)
}

fn plain_decrypt(args: &[std::ffi::OsString]) -> Option<Command> {
    let [_, _, file] = args else {
        return None;
    };
    Some(Command::Decrypt(decrypt::DecryptArgs {
        file: PathBuf::from(plain_value(file)?),
        extract: None,
        types: TypeArgs::default(),
    }))
}

fn plain_encrypt(args: &[std::ffi::OsString]) -> Option<Command> {
    let mut encrypt = encrypt::EncryptArgs {
        file: PathBuf::new(),
        age: None,
        in_place: false,
        types: TypeArgs::default(),
    };
    let mut file = None;
    let mut options = args.get(2..)?.iter();
    while let Some(arg) = options.next() {
        match arg.to_str() {
            Some("--age") if encrypt.age.is_none() => {
                encrypt.age = Some(plain_value(options.next()?)?.to_str()?.to_string())
            }
            Some("-i" | "--in-place") if !encrypt.in_place => encrypt.in_place = true,
            _ if file.is_none() => file = Some(PathBuf::from(plain_value(arg)?)),
            _ => return None,
        }
    }
    encrypt.file = file?;
    // Without --age, clap reads the recipients from the environment: let it.
    if encrypt.age.is_none() && std::env::var_os("SOPS_AGE_RECIPIENTS").is_some() {
        return None;
    }
    Some(Command::Encrypt(encrypt))
}

fn plain_show(args: &[std::ffi::OsString]) -> Option<Command> {
    let [_, _, secret] = args else {
        return None;
    };
    Some(Command::Show(show::ShowArgs {
        secret: plain_value(secret)?.to_str()?.parse().ok()?,
        extract: None,
        field: None,
    }))
}

fn plain_exec(args: &[std::ffi::OsString]) -> Option<Command> {
    let dashes = args.iter().position(|a| a == "--")?;
    let mut exec = exec::ExecArgs {
        files: Vec::new(),
        envs: Vec::new(),
        field: None,
        extract: None,
        format: None,
        tmpfs: false,
        secret: None,
        command: args.get(dashes + 1..)?.to_vec(),
    };
    if exec.command.is_empty() {
        return None;
    }
    let mut options = args.get(2..dashes)?.iter();
    while let Some(arg) = options.next() {
        let arg = arg.to_str()?;
        let mut value =
            || -> Option<String> { Some(plain_value(options.next()?)?.to_str()?.to_string()) };
        match arg {
            "--tmpfs" if !exec.tmpfs => exec.tmpfs = true,
            "--field" if exec.field.is_none() => {
                exec.field = Some(PartPath::field(&value()?).ok()?)
            }
            "--env" => exec.envs.push(value()?.parse().ok()?),
            "--file" => exec.files.push(value()?.parse().ok()?),
            _ if exec.secret.is_none() => {
                exec.secret = Some(plain_value(arg.as_ref())?.to_str()?.parse().ok()?)
            }
            _ => return None,
        }
    }
    Some(Command::Exec(exec))
}

/// A value clap refused through one of our parsers (a secret name, `--set`, exec's
/// `--env`/`--file`): the parser's own words, named after the argument, with its hints.
/// clap's own rendering would echo the value and drop the hints; our words decide what
/// of the value is shown, so a secret typed in the wrong place is never echoed.
pub fn value_error(e: &clap::Error, args: &[std::ffi::OsString]) -> Option<crate::Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let ours = std::error::Error::source(e)?.downcast_ref::<crate::Error>()?;
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(a)) => a.as_str(),
        _ => "an argument",
    };
    let value = match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(v)) => Some(v.as_str()),
        _ => None,
    };
    let nth = value
        .and_then(|v| occurrence(args, arg.split(' ').next().unwrap_or(arg), v))
        .map(|n| format!(" (number {n})"))
        .unwrap_or_default();
    let mut err = crate::Error::usage(format!("invalid value for '{arg}'{nth}: {ours}"));
    err.hints = ours.hints.clone();
    Some(err)
}

/// Which use of a repeated `--flag` holds `value` (1-based), when the flag is given more
/// than once: the message names the position, never a value that may be a secret.
fn occurrence(args: &[std::ffi::OsString], flag: &str, value: &str) -> Option<usize> {
    if !flag.starts_with("--") {
        return None;
    }
    let glued = format!("{flag}={value}");
    let mut uses = 0;
    let mut nth = None;
    let mut prev_is_flag = false;
    for a in args.iter().skip(1) {
        let a = a.to_str();
        if a == Some("--") {
            break;
        }
        let is_flag = a == Some(flag);
        let holds = a == Some(glued.as_str()) || (prev_is_flag && a == Some(value));
        if is_flag || a.is_some_and(|a| a.starts_with(&format!("{flag}="))) {
            uses += 1;
        }
        if holds && nth.is_none() {
            nth = Some(uses);
        }
        prev_is_flag = is_flag;
    }
    nth.filter(|_| uses > 1)
}

/// clap's "unexpected argument 'X' found" (and its tip) echo X, which may be a
/// secret typed where an option was expected (`--set password hunter2` takes
/// `hunter2` for a stray argument). For such an error whose X does not look
/// like a bare option, returns our own text naming X's position instead.
pub fn redact_usage_error(e: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let option_like = arg.starts_with('-')
        && !arg.contains('=')
        && arg.len() <= 40
        && arg
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if option_like {
        return None;
    }
    let position = args
        .iter()
        .skip(1)
        .position(|a| a.to_str() == Some(arg.as_str()))
        .map_or_else(
            || "an argument".to_string(),
            |i| format!("argument {}", i + 1),
        );
    Some(format!(
        "error: unexpected {position} (not shown: it may be a secret value)\n\
         hint: an option takes one value: quote a value with spaces, write --set PATH=VALUE as one word, \
         or pass secrets with --set-from PATH=- or --from - (stdin)\n\
         hint: see 'git secrets --help' (or 'git secrets help <command>')\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_calls_parse_as_clap_does_and_leave_the_rest_to_clap() {
        let argv = |a: &[&str]| {
            std::iter::once("git-secrets")
                .chain(a.iter().copied())
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        let fast: &[&[&str]] = &[
            &["decrypt", "secret.yaml"],
            &["decrypt", "dir/x.json"],
            &["decrypt", "help"],
            &["decrypt", "decrypt"],
            &["decrypt", "a b"],
            &["decrypt", "é"],
            &["encrypt", "--age", "age1x", "kubeconfig.yaml"],
            &["encrypt", "kubeconfig.yaml", "--age", "age1x,age1y"],
            &["encrypt", "-i", "--age", "age1x", "s.json"],
            &["encrypt", "s.json", "--in-place"],
            &["encrypt", "dir/s.env"],
            &["encrypt", "--age", "age1x", "help"],
            &["show", "kubeconfig"],
            &["show", "./s.yaml"],
            &["show", "help"],
            &["exec", "s.yaml", "--file", "KUBECONFIG", "--", "true"],
            &[
                "exec", "--tmpfs", "s.yaml", "--file", "K", "--", "kubectl", "get", "-A",
            ],
            &[
                "exec", "s", "--field", "a.b", "--env", "T", "--", "x", "--", "y",
            ],
            &[
                "exec",
                "/nix/store/x-s.yaml",
                "--field",
                "t",
                "--env",
                "T",
                "--",
                "sh",
            ],
            &[
                "exec", "--env", "A=s:a", "--file", "B=t", "--env", "C", "--", "c",
            ],
            &["exec", "--env", "A=s:a", "--", "c"],
            &["exec", "s", "--", "c"],
            &[
                "exec", "--field", "f", "s", "--tmpfs", "--file", "V", "--", "c",
            ],
        ];
        for a in fast {
            let args = argv(a);
            let ours = parse_plain(&args).map(|c| format!("{c:?}"));
            let clap = Cli::try_parse_from(&args).map(|c| format!("{c:?}")).ok();
            // clap reads encrypt's recipients from SOPS_AGE_RECIPIENTS when --age is not
            // given; the fast path leaves that case to it.
            let from_env = a[0] == "encrypt"
                && !a.contains(&"--age")
                && std::env::var_os("SOPS_AGE_RECIPIENTS").is_some();
            assert!(ours.is_some() || from_env, "{a:?}");
            if ours.is_some() {
                assert_eq!(ours, clap, "{a:?}");
            }
        }
        let to_clap: &[&[&str]] = &[
            &[],
            &["decrypt"],
            &["decrypt", "-"],
            &["decrypt", "--help"],
            &["decrypt", "-q"],
            &["decrypt", ""],
            &["decrypt", "x", "-q"],
            &["-q", "decrypt", "x"],
            &["encrypt"],
            &["encrypt", "-"],
            &["encrypt", "--age", "age1x"],
            &["encrypt", "--age", "-", "x"],
            &["encrypt", "--age", "", "x"],
            &["encrypt", "--age=age1x", "x"],
            &["encrypt", "--age", "a", "--age", "b", "x"],
            &["encrypt", "x", "y"],
            &["encrypt", "-i", "-i", "x"],
            &["encrypt", "-iq", "x"],
            &["encrypt", "x", "--input-type", "yaml"],
            &["encrypt", "x", "--output-type", "json"],
            &["encrypt", "x", "--help"],
            &["encrypt", "x", "-v"],
            &["encrypt", ""],
            &["show"],
            &["show", "x", "--field", "a"],
            &["show", "-x"],
            &["show", ""],
            &["list", "x"],
            &["exec", "s", "--file", "V"],
            &["exec", "s", "--file", "V", "--"],
            &["exec", "s", "--file", "--", "c"],
            &["exec", "s", "--file=V", "--", "c"],
            &["exec", "s", "--file", "-V", "--", "c"],
            &["exec", "s", "--file", "", "--", "c"],
            &["exec", "s", "t", "--file", "V", "--", "c"],
            &[
                "exec", "s", "--field", "a", "--field", "b", "--env", "V", "--", "c",
            ],
            &["exec", "s", "--tmpfs", "--tmpfs", "--file", "V", "--", "c"],
            &["exec", "s", "--extract", "[\"a\"]", "--env", "V", "--", "c"],
            &["exec", "s", "--format", "json", "--env", "V", "--", "c"],
            &["exec", "s", "-q", "--env", "V", "--", "c"],
            &["exec", "s", "--env", "V", "-C", "d", "--", "c"],
            &["exec", "s", "--help", "--", "c"],
            // a value our parsers refuse goes to clap, which reports it
            &["show", ".x"],
            &["show", ".."],
            &["exec", ".s", "--env", "A", "--", "c"],
            &["exec", "s", "--env", "1X", "--", "c"],
            &["exec", "s", "--file", "A=", "--", "c"],
            &["exec", "--env", "A=s:a..b", "--", "c"],
            &["exec", "s", "--field", "a..b", "--env", "A", "--", "c"],
            &["show", "s", "--field", "a..b"],
        ];
        for a in to_clap {
            assert!(parse_plain(&argv(a)).is_none(), "{a:?}");
        }
        for a in &to_clap[to_clap.len() - 8..] {
            let e = Cli::try_parse_from(argv(a)).unwrap_err();
            assert!(value_error(&e, &argv(a)).is_some(), "{a:?}: {e}");
        }
    }

    #[test]
    fn a_stray_argument_is_named_by_position_never_echoed() {
        use clap::CommandFactory;
        let argv = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let args = argv(&[
            "git-secrets",
            "rotate",
            "db",
            "--set",
            "password",
            "hunter2x",
        ]);
        let e = Cli::command().try_get_matches_from(&args).unwrap_err();
        let text = redact_usage_error(&e, &args).unwrap();
        assert!(text.contains("argument 5"), "{text}");
        assert!(!text.contains("hunter2x"), "{text}");
        // a mistyped option is shown with clap's suggestion
        let args = argv(&["git-secrets", "rotate", "db", "--sett", "a=b"]);
        let e = Cli::command().try_get_matches_from(&args).unwrap_err();
        assert!(redact_usage_error(&e, &args).is_none());
        // an unknown option with a value glued on: clap names the option only
        let args = argv(&["git-secrets", "rotate", "db", "--token=hunter2x"]);
        let e = Cli::command().try_get_matches_from(&args).unwrap_err();
        let text = redact_usage_error(&e, &args).unwrap_or_else(|| e.render().to_string());
        assert!(!text.contains("hunter2x"), "{text}");
    }
}
