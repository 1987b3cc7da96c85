//! The inner repo and its remote: ancestry between commits, the branch's upstream,
//! ahead/behind counts from remote-tracking refs, and the two network operations, fetch
//! (bounded by a timeout) and push.
//!
//! Ancestry questions go to `git merge-base` / `git rev-list`: they are one process
//! each, and git's answer is the one the user's own `git log` would give. Network
//! operations run the user's `git`, so ssh agents, credential helpers and
//! `url.<base>.insteadOf` apply exactly as when the user types `git fetch` / `git push`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::write::command as git_command;
use super::{ObjectId, Repo};
use crate::error::{Error, Result};
use crate::git::GitError;

/// The branch the current branch tracks (`branch.<name>.remote` / `.merge`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The remote's name (`origin`).
    pub remote: String,
    /// The remote-tracking ref that mirrors it (`refs/remotes/origin/main`).
    pub tracking_ref: String,
    /// Short form for messages (`origin/main`).
    pub short: String,
    /// The branch on the remote (`refs/heads/main`).
    pub merge_ref: String,
    /// Where the remote-tracking ref points, if it exists yet (it does not before the
    /// first fetch of a branch that was never pushed).
    pub tip: Option<ObjectId>,
}

/// Commits on each side of two tips, from `git rev-list --left-right --count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AheadBehind {
    /// Commits reachable from ours and not from theirs.
    pub ahead: usize,
    /// Commits reachable from theirs and not from ours.
    pub behind: usize,
}

/// Whether a commit is on the remote, as far as the remote-tracking refs know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteReach {
    /// The repository has no remote at all.
    NoRemote,
    /// Reachable from this remote-tracking ref (`origin/main`).
    Reachable(String),
    /// Not reachable from any remote-tracking ref (or not even present here).
    Unreachable,
}

/// The default time a fetch may take before it is stopped (`GIT_SECRETS_FETCH_TIMEOUT`
/// in seconds overrides it).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The fetch timeout: `GIT_SECRETS_FETCH_TIMEOUT` seconds, else [`FETCH_TIMEOUT`].
pub fn fetch_timeout_from_env() -> Duration {
    std::env::var("GIT_SECRETS_FETCH_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(FETCH_TIMEOUT)
}

impl Repo {
    fn git(&self) -> Command {
        let mut cmd = git_command();
        cmd.arg("-C").arg(self.root());
        cmd
    }

    /// Whether `id` names a commit present in this repository's object store.
    pub fn has_commit(&self, id: &str) -> bool {
        let Ok(oid) = ObjectId::from_hex(id.as_bytes()) else {
            return false;
        };
        self.gix()
            .find_header(oid)
            .is_ok_and(|h| h.kind() == gix::object::Kind::Commit)
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor).
    /// Both must exist locally.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool> {
        let mut cmd = self.git();
        cmd.args(["merge-base", "--is-ancestor", ancestor, descendant]);
        let out = quiet_output(cmd, "git merge-base --is-ancestor")?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(failed(
                &format!("git merge-base --is-ancestor {ancestor} {descendant}"),
                &out,
            )),
        }
    }

    /// The best common ancestor of `a` and `b`, `None` when their histories are unrelated.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<Option<ObjectId>> {
        let mut cmd = self.git();
        cmd.args(["merge-base", a, b]);
        let out = quiet_output(cmd, "git merge-base")?;
        match out.status.code() {
            Some(0) => parse_id(&String::from_utf8_lossy(&out.stdout)).map(Some),
            Some(1) => Ok(None),
            _ => Err(failed(&format!("git merge-base {a} {b}"), &out)),
        }
    }

    /// How many commits `ours` has that `theirs` lacks, and the other way round.
    pub fn ahead_behind(&self, ours: &str, theirs: &str) -> Result<AheadBehind> {
        let mut cmd = self.git();
        cmd.args(["rev-list", "--left-right", "--count"])
            .arg(format!("{ours}...{theirs}"))
            .arg("--");
        let out = quiet_output(cmd, "git rev-list")?;
        if !out.status.success() {
            return Err(failed(
                &format!("git rev-list --count {ours}...{theirs}"),
                &out,
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut nums = text.split_whitespace().map(str::parse::<usize>);
        match (nums.next(), nums.next()) {
            (Some(Ok(ahead)), Some(Ok(behind))) => Ok(AheadBehind { ahead, behind }),
            _ => Err(Error::new(format!(
                "unexpected output of git rev-list --count: {}",
                text.trim()
            ))),
        }
    }

    /// The upstream of the current branch, `None` when detached or when the branch
    /// tracks nothing.
    pub fn upstream(&self) -> Result<Option<Upstream>> {
        let head = self.head()?;
        let Some(branch) = head.branch() else {
            return Ok(None);
        };
        let Some(remote) = self.config_string(&format!("branch.{branch}.remote")) else {
            return Ok(None);
        };
        let Some(merge_ref) = self.config_string(&format!("branch.{branch}.merge")) else {
            return Ok(None);
        };
        // `@{upstream}` maps the merge ref through the remote's fetch refspec, as git
        // does for `git status`; it fails when that refspec does not cover the branch.
        let mut cmd = self.git();
        cmd.args(["rev-parse", "--symbolic-full-name", "@{upstream}"]);
        let out = quiet_output(cmd, "git rev-parse @{upstream}")?;
        let tracking_ref = if out.status.success() {
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        } else {
            let short = merge_ref.strip_prefix("refs/heads/").unwrap_or(&merge_ref);
            format!("refs/remotes/{remote}/{short}")
        };
        let short = tracking_ref
            .strip_prefix("refs/remotes/")
            .unwrap_or(&tracking_ref)
            .to_string();
        let tip = self.resolve_ref(&tracking_ref)?;
        Ok(Some(Upstream {
            remote,
            tracking_ref,
            short,
            merge_ref,
            tip,
        }))
    }

    /// Whether another clone can fetch `rev`: reachable from the upstream's
    /// remote-tracking ref (or, without an upstream, from any remote-tracking ref).
    /// `upstream` is [`Repo::upstream`]'s answer, passed in so a caller asking about
    /// several revs looks it up once.
    pub fn remote_reach(&self, rev: &str, upstream: Option<&Upstream>) -> Result<RemoteReach> {
        if self.remote_names().is_empty() {
            return Ok(RemoteReach::NoRemote);
        }
        if !self.has_commit(rev) {
            return Ok(RemoteReach::Unreachable);
        }
        if let Some(up) = upstream {
            if let Some(tip) = up.tip {
                return Ok(if self.is_ancestor(rev, &tip.to_string())? {
                    RemoteReach::Reachable(up.short.clone())
                } else {
                    RemoteReach::Unreachable
                });
            }
        }
        let mut cmd = self.git();
        cmd.args([
            "for-each-ref",
            "--format=%(refname:short)",
            "--contains",
            rev,
            "refs/remotes",
        ]);
        let out = quiet_output(cmd, "git for-each-ref --contains")?;
        if !out.status.success() {
            return Err(failed(&format!("git for-each-ref --contains {rev}"), &out));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(match text.lines().find(|l| !l.ends_with("/HEAD")) {
            Some(r) => RemoteReach::Reachable(r.to_string()),
            None => RemoteReach::Unreachable,
        })
    }

    /// The commit a full ref name points to, `None` when the ref does not exist.
    pub fn resolve_ref(&self, name: &str) -> Result<Option<ObjectId>> {
        match self.gix().try_find_reference(name) {
            Ok(Some(mut r)) => Ok(r.peel_to_id().ok().map(|id| id.detach())),
            Ok(None) => Ok(None),
            Err(e) => Err(Error::new(format!("cannot read ref {name}")).with_source(e)),
        }
    }

    /// The url configured for `remote`, if any.
    pub fn remote_url(&self, remote: &str) -> Option<String> {
        self.config_string(&format!("remote.{remote}.url"))
    }

    /// The names of the configured remotes.
    pub fn remote_names(&self) -> Vec<String> {
        self.gix()
            .remote_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect()
    }

    /// `git fetch --quiet <remote>`, stopped after `timeout`. A remote that cannot be
    /// reached or that hangs is an error that says which and how long we waited; the
    /// repository is left as git leaves it after an interrupted fetch (refs unchanged).
    pub fn fetch(&self, remote: &str, timeout: Duration) -> Result<()> {
        let mut cmd = self.git();
        cmd.args(["fetch", "--quiet", "--no-write-fetch-head", remote]);
        run_with_timeout(cmd, &format!("git fetch {remote}"), timeout).map_err(|e| {
            GitError::FetchFailed {
                inner: Box::new(e),
                root: self.root().to_path_buf(),
                remote: remote.to_string(),
            }
        })?;
        Ok(())
    }

    /// `git push <remote> <refspec>` as the user's git, with the terminal's stdin and
    /// stderr, so ssh agents, passphrase prompts and credential helpers work as they do
    /// for a plain `git push`.
    pub fn push(&self, remote: &str, refspecs: &[&str]) -> Result<()> {
        let mut cmd = self.git();
        cmd.args(["push", remote]).args(refspecs);
        let shown = format!("git push {remote} {}", refspecs.join(" "));
        // git push's own report goes to our stderr: stdout is for data only
        let to_stderr = {
            use std::os::fd::AsFd;
            std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null())
        };
        let status = cmd
            .stdin(Stdio::inherit())
            .stdout(to_stderr)
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| Error::new(format!("cannot run git: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(GitError::InteractiveCommandFailed {
                shown: shown.to_string(),
                root: self.root().to_path_buf(),
            }
            .into())
        }
    }
}

impl Repo {
    /// `git merge --ff-only <rev>`: moves the branch and work tree forward to `rev`.
    pub fn merge_ff_only(&self, rev: &str) -> Result<()> {
        let mut cmd = self.git();
        cmd.args(["merge", "--ff-only", "--quiet", rev]);
        let out = quiet_output(cmd, "git merge --ff-only")?;
        if out.status.success() {
            Ok(())
        } else {
            Err(failed(&format!("git merge --ff-only {rev}"), &out))
        }
    }

    /// `git rebase <onto>`: replays the local commits on top of `onto`. When git stops
    /// on a conflict the rebase is aborted (branch, index and work tree as before) and
    /// the error names the conflicting paths.
    pub fn rebase_onto(&self, onto: &str) -> Result<()> {
        let mut cmd = self.git();
        cmd.args(["rebase", "--quiet", onto]);
        let out = quiet_output(cmd, "git rebase")?;
        if out.status.success() {
            return Ok(());
        }
        let mut cmd = self.git();
        cmd.args(["diff", "--name-only", "--diff-filter=U"]);
        let conflicted = quiet_output(cmd, "git diff --diff-filter=U")
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let mut cmd = self.git();
        cmd.args(["rebase", "--abort"]);
        let aborted = quiet_output(cmd, "git rebase --abort").is_ok_and(|o| o.status.success());
        let said = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        // git's own account (and the merge driver's, which names the values), minus
        // its advice on resolving by hand: the rebase is aborted above
        let detail: Vec<String> = said
            .lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && !l.starts_with("hint:")
                    && !l.starts_with("error: could not apply")
                    && !l.starts_with("Could not apply")
            })
            .map(str::to_string)
            .collect();
        Err(GitError::RebaseFailed {
            onto: onto.to_string(),
            said,
            conflicted,
            detail,
            aborted,
            root: self.root().to_path_buf(),
        }
        .into())
    }
}

/// `git ls-remote <url>` bounded by `timeout`: the refs a remote has (`None` entries
/// skipped); an empty list for an empty repository.
pub fn ls_remote(url: &str, cwd: &Path, timeout: Duration) -> Result<Vec<String>> {
    let mut cmd = git_command();
    cmd.current_dir(cwd).args(["ls-remote", "--", url]);
    let out = run_with_timeout(cmd, &format!("git ls-remote {url}"), timeout)?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect())
}

fn parse_id(text: &str) -> Result<ObjectId> {
    ObjectId::from_hex(text.trim().as_bytes())
        .map_err(|_| Error::new(format!("git printed no commit id: {}", text.trim())))
}

fn quiet_output(mut cmd: Command, shown: &str) -> Result<std::process::Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::new(format!("cannot run {shown}: {e}")))
}

fn failed(shown: &str, out: &std::process::Output) -> Error {
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let mut msg = format!("`{shown}` failed");
    if !said.is_empty() {
        msg.push_str(": ");
        msg.push_str(&said);
    }
    Error::new(msg)
}

/// Runs `cmd` in its own process group, waiting at most `timeout`; on timeout the whole
/// group (git and the ssh or helper it started) is killed. Returns stdout.
fn run_with_timeout(mut cmd: Command, shown: &str, timeout: Duration) -> Result<String> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    // git must not stop to ask: a prompt would wait until the timeout with nobody to
    // answer it (an ssh host-key question still reads /dev/tty; the timeout covers it)
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::new(format!("cannot run {shown}: {e}")))?;
    // read both pipes on threads so a chatty git never blocks on a full pipe
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = stdout.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = stderr.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= timeout => {
                let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
                // the group may be gone already; the wait below reaps git either way
                let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
                let _ = child.wait();
                return Err(GitError::TimedOut {
                    shown: shown.to_string(),
                    seconds: timeout.as_secs_f64(),
                }
                .into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Error::new(format!("cannot wait for {shown}: {e}"))),
        }
    };
    // once git has exited, a leftover grandchild could hold the pipes open
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    if status.success() {
        return Ok(String::from_utf8_lossy(&stdout).into_owned());
    }
    let said = String::from_utf8_lossy(&stderr).trim().to_string();
    let mut msg = format!("`{shown}` failed");
    if !said.is_empty() {
        msg.push_str(":\n");
        msg.push_str(&said);
    }
    Err(Error::new(msg))
}

impl Repo {
    /// `git config --local <key> <value>`.
    pub fn set_config(&self, key: &str, value: &str) -> Result<()> {
        super::write::run_in(self.root(), &["config", "--local", "--", key, value], &[]).map(|_| ())
    }
}
