//! `git secrets doctor [--json] [--fix] [--history] [--staged]`: every check, the report
//! on stdout (text or JSON, nothing else), fixes and progress on stderr. Exit 1 when a
//! check fails; warnings alone exit 0.

use clap::Args;
use std::io::IsTerminal;

use super::Ctx;
use crate::checks::{self, fix, history, leaks, Check, Fix, Options, Report, Scene, Status};
use crate::error::Result;
use crate::layout::Overrides;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the report as JSON: {"version":1,"checks":[{"id","status","message","hints"}]}.
    #[arg(long)]
    pub json: bool,
    /// Apply the safe fixes (never deletes a file or rewrites history) and check again.
    #[arg(long, conflicts_with = "staged")]
    pub fix: bool,
    /// Also scan every object of the parent's history for leaks.
    #[arg(long, conflicts_with = "staged")]
    pub history: bool,
    /// Only the fast checks on the parent's index and staged files (pre-commit).
    #[arg(long)]
    pub staged: bool,
    /// Shortest plaintext value to search for.
    #[arg(long, default_value_t = 8, value_name = "BYTES")]
    pub min_length: usize,
    /// Pass --offline to nix when --fix relocks.
    #[arg(long)]
    pub offline: bool,
    /// Fetch the secrets repo's upstream first (bounded by GIT_SECRETS_FETCH_TIMEOUT,
    /// 30 s by default), so ahead/behind and "pushed" are current.
    #[arg(long, conflicts_with = "staged")]
    pub fetch: bool,
    /// Only scan the objects of this range (pre-push), e.g. A..B.
    #[arg(long, value_name = "RANGE", hide = true, conflicts_with_all = ["staged", "fix", "history"])]
    pub range: Option<String>,
    /// The remote the pre-push hook pushes to (its `$1`): what its remote-tracking refs
    /// hold is not scanned again.
    #[arg(long, value_name = "REMOTE", hide = true, requires = "range")]
    pub remote: Option<String>,
}

/// Runs doctor; returns the exit code.
pub fn run(ctx: &Ctx, args: DoctorArgs) -> Result<i32> {
    let opts = Options {
        min_length: args.min_length.max(1),
        offline: args.offline,
    };
    let overrides = Overrides {
        dir: ctx.global.dir.clone(),
        input: None,
    };
    let scene = match Scene::discover(&ctx.cwd, &overrides, opts.clone()) {
        Ok(s) => s,
        Err(e) => {
            // no parent repo: nothing else can be checked
            let report = Report {
                checks: vec![Check::error("parent.repo", &e)],
            };
            print(ctx, &report, args.json)?;
            return Ok(1);
        }
    };
    if args.staged {
        let report = Report {
            checks: leaks::staged(&scene),
        };
        print(ctx, &report, args.json)?;
        return Ok(exit_code(&report));
    }
    if let Some(range) = &args.range {
        crate::one_shot::use_arena_for_scan();
        let mut checks = history(
            ctx,
            &scene,
            Some(history::Pushed {
                range,
                remote: args.remote.as_deref(),
            }),
        );
        // the pushed tip's flake.lock must name an inner rev the inner remote has
        if let Some(tip) = range_tip(&scene, range) {
            checks.push(checks::remote::pushed_lock_at(&scene, tip));
        }
        let report = Report { checks };
        print(ctx, &report, args.json)?;
        return Ok(exit_code(&report));
    }
    let fetched = args.fetch.then(|| fetch(ctx, &scene));
    let scene = match fetched {
        // the remote-tracking refs moved: look again
        Some(_) => Scene::discover(&ctx.cwd, &overrides, opts.clone())?,
        None => scene,
    };
    let mut report = checks::run(&scene);
    if let Some(c) = fetched {
        report.checks.insert(0, c);
    }
    // fixes never rewrite history, so one scan serves before and after --fix
    let history_checks = if args.history {
        crate::one_shot::use_arena_for_scan();
        history(ctx, &scene, None)
    } else {
        Vec::new()
    };
    if args.fix {
        let fixes = checks::planned_fixes(&report);
        if fixes.is_empty() {
            ctx.ui.status("nothing doctor can fix on its own");
        }
        let applied: Vec<(&Fix, String)> = fixes
            .iter()
            .filter_map(|f| apply(ctx, f, &scene).map(|done| (f, done)))
            .collect();
        if !fixes.is_empty() {
            let again = Scene::discover(&ctx.cwd, &overrides, opts)?;
            let before = std::mem::replace(&mut report, checks::run(&again));
            for (f, done) in applied {
                confirm(ctx, f, &done, &before, &report);
            }
        }
    }
    report.checks.extend(history_checks);
    if args.fix {
        left_to_user(ctx, &report);
    }
    print(ctx, &report, args.json)?;
    Ok(exit_code(&report))
}

/// The commit a pre-push range ends at (`A..B` → B, or a single rev).
fn range_tip(scene: &Scene, range: &str) -> Option<crate::git::ObjectId> {
    let tip = range.rsplit("..").next().unwrap_or(range);
    let id = crate::git::ObjectId::from_hex(tip.as_bytes()).ok()?;
    scene.layout.parent.has_commit(tip).then_some(id)
}

/// `doctor --fetch`: fetches the inner repo's upstream remote, bounded by the fetch
/// timeout; the outcome is a check of its own, first in the report.
fn fetch(ctx: &Ctx, scene: &Scene) -> Check {
    const ID: &str = "remote.fetch";
    let Some(inner) = &scene.inner else {
        return Check::skip(ID, "the secrets dir is not a git repo");
    };
    let remote = match inner.upstream() {
        Ok(Some(up)) => up.remote,
        Ok(None) => match inner.remote_names().first() {
            Some(r) => r.clone(),
            None => return Check::skip(ID, "the secrets repo has no remote to fetch"),
        },
        Err(e) => return Check::error(ID, &e),
    };
    let timeout = crate::git::fetch_timeout_from_env();
    ctx.ui
        .status(format!("fetching {remote} in the secrets repo …"));
    match inner.fetch(&remote, timeout) {
        Ok(()) => Check::ok(ID, format!("fetched {remote}")),
        Err(e) => Check::error(ID, &e),
    }
}

fn exit_code(report: &Report) -> i32 {
    i32::from(report.failed())
}

fn apply(ctx: &Ctx, f: &Fix, scene: &Scene) -> Option<String> {
    if *f == Fix::Rekey {
        // Name who gains or loses access before asking (and with --yes too):
        // .sops.yaml may list a recipient nobody meant to add.
        let decided = match crate::recipient_change::plan(&scene.layout) {
            Ok(change) if !change.is_empty() => super::confirm_recipient_change(ctx, &change),
            _ => ctx.ui.confirm(&format!("{}?", f.describe()), "--yes"),
        };
        match decided {
            Ok(true) => {}
            Ok(false) => {
                ctx.ui.status(format!("skipped: {}", f.describe()));
                return None;
            }
            Err(e) => {
                ctx.ui
                    .warn(format!("skipped: {}: {}", f.describe(), e.message));
                for h in &e.hints {
                    ctx.ui.hint(h);
                }
                return None;
            }
        }
    }
    match fix::apply(f, scene, &ctx.ui) {
        Ok(done) => Some(done),
        Err(e) => {
            ctx.ui.warn(format!("could not {}: {}", f.describe(), e));
            for h in &e.hints {
                ctx.ui.hint(h);
            }
            None
        }
    }
}

/// Says "fixed" only for a fix whose checks pass when doctor looks again: a fix that
/// ran but changed nothing (or not enough) names the check that still fails.
fn confirm(ctx: &Ctx, f: &Fix, done: &str, before: &Report, after: &Report) {
    let failing = |c: &&Check| matches!(c.status, Status::Fail | Status::Warn);
    let asked: Vec<&str> = before
        .checks
        .iter()
        .filter(failing)
        .filter(|c| c.fix.as_ref() == Some(f))
        .map(|c| c.id)
        .collect();
    match after
        .checks
        .iter()
        .filter(failing)
        .find(|c| asked.contains(&c.id))
    {
        None => ctx.ui.ok(format!("fixed: {done}")),
        Some(c) => ctx.ui.warn(format!(
            "not fixed: {} ({done}), but {} still {}: {}",
            f.describe(),
            c.id,
            if c.status == Status::Fail {
                "fails"
            } else {
                "warns"
            },
            c.message
        )),
    }
}

fn left_to_user(ctx: &Ctx, report: &Report) {
    let left: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect();
    if left.is_empty() {
        return;
    }
    ctx.ui.status("left to you:");
    for c in left {
        let what = c.hints.first().map(String::as_str).unwrap_or(&c.message);
        ctx.ui.status(format!("  {}: {what}", c.id));
    }
}

fn history(ctx: &Ctx, scene: &Scene, pushed: Option<history::Pushed<'_>>) -> Vec<Check> {
    let bar = (std::io::stderr().is_terminal() && !ctx.ui.quiet).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} scanning history: {pos} objects")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    });
    let progress = |n: u64| {
        if let Some(pb) = &bar {
            pb.set_position(n);
        }
    };
    let out = history::history(scene, pushed, &progress);
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    out
}

/// The report on stdout: JSON (always whole: it is data), or text; with
/// `--quiet` the text names only the failed checks, nothing when none failed
/// (the exit code says the same). A reader that went away (`doctor | head`) is
/// no error.
fn print(ctx: &Ctx, report: &Report, json: bool) -> Result<()> {
    let text = if json {
        report.to_json()
    } else if ctx.ui.quiet {
        report.failures_to_text()
    } else {
        report.to_text()
    };
    crate::ui::write_stdout(text.as_bytes()).map(|_| ())
}
