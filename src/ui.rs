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

/// Applies `--color` and `NO_COLOR` to both streams.
pub fn init_colors(choice: ColorChoice) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    console::set_colors_enabled(on);
    console::set_colors_enabled_stderr(on);
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

/// The terminal as the core's progress sink.
impl crate::progress::Progress for Ui {
    fn ok(&self, msg: &str) {
        Ui::ok(self, msg)
    }
    fn status(&self, msg: &str) {
        Ui::status(self, msg)
    }
    fn warn(&self, msg: &str) {
        Ui::warn(self, msg)
    }
    fn hint(&self, msg: &str) {
        Ui::hint(self, msg)
    }
    fn detail(&self, msg: &str) {
        Ui::detail(self, msg)
    }
}

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
