//! A doctor report: the checks in order, rendered as text (✓ ! ✗ -) or as JSON
//! (`{"version":1,"checks":[{"id","status","message","hints":[]}]}`).

use console::style;
use serde_json::json;

use super::{Check, Status};

/// The checks of one doctor run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// In the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when any check failed (doctor then exits 1).
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// How many checks came out with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// The JSON form, exactly `{"version":1,"checks":[{"id","status","message","hints"}]}`.
    pub fn to_json(&self) -> String {
        let checks: Vec<serde_json::Value> = self
            .checks
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "status": c.status.as_str(),
                    "message": c.message,
                    "hints": c.hints,
                })
            })
            .collect();
        let v = json!({ "version": 1, "checks": checks });
        // ok: a Value built from strings always serializes
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The text form: one line per check, hints indented below it, and a summary line.
    /// Colors follow `console`'s global setting (`--color`, `NO_COLOR`).
    pub fn to_text(&self) -> String {
        let mut out = self.lines(|_| true);
        let warnings = self.count(Status::Warn);
        out.push_str(&format!(
            "{} ok, {warnings} warning{}, {} failed, {} skipped\n",
            self.count(Status::Ok),
            if warnings == 1 { "" } else { "s" },
            self.count(Status::Fail),
            self.count(Status::Skip)
        ));
        out
    }

    /// The report for `--quiet`: only the failed checks with their hints, no
    /// summary; empty when nothing failed.
    pub fn failures_to_text(&self) -> String {
        self.lines(|c| c.status == Status::Fail)
    }

    /// One line per check that `keep` selects, with its hints below.
    fn lines(&self, keep: impl Fn(&Check) -> bool) -> String {
        let width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        let mut out = String::new();
        for c in self.checks.iter().filter(|c| keep(c)) {
            let mark = match c.status {
                Status::Ok => style("✓").green(),
                Status::Warn => style("!").yellow().bold(),
                Status::Fail => style("✗").red().bold(),
                Status::Skip => style("-").dim(),
            };
            let id = format!("{:width$}", c.id);
            let id = if c.status == Status::Skip {
                style(id).dim()
            } else {
                style(id).bold()
            };
            out.push_str(&format!("{mark} {id}  {}\n", c.message));
            for h in &c.hints {
                out.push_str(&format!("  {:width$}  {} {h}\n", "", style("hint:").cyan()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            checks: vec![
                Check::ok("a.ok", "fine"),
                Check::warn("b.warn", "hmm").hint("do x"),
                Check::fail("c.fail", "broken").hint("run y").hint("then z"),
                Check::skip("d.skip", "no key"),
            ],
        }
    }

    #[test]
    fn json_has_exactly_the_agreed_shape() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["version"], 1);
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 2);
        let checks = v["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 4);
        for c in checks {
            let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["id", "status", "message", "hints"]);
        }
        assert_eq!(checks[2]["status"], "fail");
        assert_eq!(checks[2]["hints"][1], "then z");
        assert_eq!(checks[3]["status"], "skip");
    }

    #[test]
    fn text_marks_each_status_and_counts() {
        console::set_colors_enabled(false);
        let t = sample().to_text();
        assert!(t.contains("✓ a.ok"), "{t}");
        assert!(t.contains("! b.warn"), "{t}");
        assert!(t.contains("✗ c.fail"), "{t}");
        assert!(t.contains("- d.skip"), "{t}");
        assert!(t.contains("hint: run y"), "{t}");
        assert!(t.ends_with("1 ok, 1 warning, 1 failed, 1 skipped\n"), "{t}");
        assert!(sample().failed());
        assert!(!Report::default().failed());
    }
}
