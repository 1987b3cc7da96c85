//! Talking to the user: colors (console, honouring NO_COLOR and --color),
//! status lines on stderr, prompts only on a terminal, and error rendering.

use crate::cli::ColorChoice;
use crate::error::{Error, Result};
use console::{style, Term};
use std::io::IsTerminal;

/// Output settings for one run.
#[derive(Debug, Clone)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    pub yes: bool,
}

/// Applies `--color`, `NO_COLOR` and git's `color.secrets` / `color.ui` (read
/// from `dir`, the `-C` directory, else the current one) to both streams.
pub fn init_colors(choice: ColorChoice, dir: Option<&std::path::Path>) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
                // last: it runs git, and only matters on a terminal
                && git_color_config(dir) != Some(ColorChoice::Never)
        }
    };
    console::set_colors_enabled(on);
    console::set_colors_enabled_stderr(on);
}

/// What git config says about colors for us: `color.secrets` (like git's
/// `color.diff`, one command's switch), else `color.ui`. Git's words: `never`
/// and false-ish values turn colors off, `always` on, `auto`/true-ish leave it
/// to the terminal. `None` when neither is set (or git cannot be run).
fn git_color_config(dir: Option<&std::path::Path>) -> Option<ColorChoice> {
    let mut cmd = crate::git::command();
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    let out = cmd
        .args(["config", "--get-regexp", r"^color\.(secrets|ui)$"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // git prints every value in config order; the last one of a key wins
    let value_of = |key: &str| {
        text.lines()
            .rev()
            .filter_map(|l| l.split_once(' '))
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let value = value_of("color.secrets").or_else(|| value_of("color.ui"))?;
    Some(match value.as_str() {
        "never" | "false" | "no" | "off" | "0" => ColorChoice::Never,
        "always" => ColorChoice::Always,
        _ => ColorChoice::Auto,
    })
}

impl Ui {
    /// A status line on stderr (hidden by --quiet).
    pub fn status(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A success line: `✓ msg`.
    pub fn ok(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{} {}", style("✓").green(), msg.as_ref());
        }
    }

    /// A warning: `warning: msg` (shown even with --quiet).
    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!("{} {}", style("warning:").yellow().bold(), msg.as_ref());
    }

    /// A line shown even with --quiet: what the user must see before a
    /// change of who can read the secrets.
    pub fn notice(&self, msg: impl AsRef<str>) {
        eprintln!("{}", msg.as_ref());
    }

    /// A hint line.
    pub fn hint(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{} {}", style("hint:").cyan(), msg.as_ref());
        }
    }

    /// Detail shown only with --verbose.
    pub fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose && !self.quiet {
            eprintln!("{}", style(msg.as_ref()).dim());
        }
    }

    /// One step of several: a `✓` line only with --verbose (by default a
    /// summary line names the steps).
    pub fn step(&self, msg: impl AsRef<str>) {
        if self.verbose {
            self.ok(msg);
        }
    }

    /// Asks a yes/no question. `--yes` answers yes; without a terminal and
    /// without `--yes` it is an error that names the flag.
    pub fn confirm(&self, question: &str, flag_hint: &str) -> Result<bool> {
        if self.yes {
            return Ok(true);
        }
        if !std::io::stdin().is_terminal() || !Term::stderr().is_term() {
            return Err(Error::usage(format!(
                "{question} — needs an answer, but stdin is not a terminal"
            ))
            .hint(format!("pass {flag_hint} to answer yes non-interactively")));
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| Error::new(format!("prompt failed: {e}")))
    }
}

/// Prints a command-line parse error from clap so it reads like ours: `error: …`, its
/// usage lines, then `hint: …` lines.
pub fn render_usage_error(e: &clap::Error) {
    let text = e.render().to_string().replace("\n  tip: ", "\nhint: ");
    eprint!("{text}");
    if !text.contains("hint: ") {
        eprintln!(
            "{} see 'git secrets --help' (or 'git secrets help <command>')",
            style("hint:").cyan()
        );
    }
}

/// Prints an error as `error: …` and `hint: …` lines on stderr: the one place every
/// error of the tool is shown.
pub fn render_error(e: &Error) {
    eprintln!("{} {}", style("error:").red().bold(), e);
    for h in &e.hints {
        eprintln!("{} {}", style("hint:").cyan(), h);
    }
}

/// The terminal as the core's progress sink: each kind of line goes to the `Ui` method
/// of the same name.
macro_rules! progress_on_the_terminal {
    ($($line:ident),*) => {
        impl crate::progress::Progress for Ui {
            $(
                fn $line(&self, msg: &str) {
                    Ui::$line(self, msg)
                }
            )*
        }
    };
}
progress_on_the_terminal!(ok, status, warn, hint, detail, step);

/// Writes plaintext to stdout; a closed pipe is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<i32> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
    }
}
