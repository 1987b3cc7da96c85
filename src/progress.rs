//! How the core tells the porcelain what it is doing, without printing: a
//! [`Progress`] sink receives one line at a time with its weight, and the
//! command's `Ui` decides how (and whether) to show it. Like the progress
//! callback `checks/` takes, so core functions stay testable and silent.

/// Where the core reports progress. `Ui` implements it for the terminal.
pub trait Progress {
    /// Something was done (`✓ committed …`).
    fn ok(&self, msg: &str);
    /// A neutral status line.
    fn status(&self, msg: &str);
    /// Something deserves attention; the run goes on.
    fn warn(&self, msg: &str);
    /// What the user may do next.
    fn hint(&self, msg: &str);
    /// Detail for `--verbose`.
    fn detail(&self, msg: &str);
}
