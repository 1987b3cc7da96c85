//! `git secrets list [--json]`: every secret with its file, format,
//! recipients, last change (the inner repo's history) and whether this
//! user's identities can decrypt it.

use super::Ctx;
use crate::error::{display_path, Error, Result};
use crate::sops::file::load;
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use clap::Args;
use serde_json::json;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ListArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let inner = layout.inner()?;
    let ids = Identities::discover();
    let mut rows = Vec::new();
    for f in layout.named_secrets()? {
        let format = Format::from_path(&f.path);
        let last = match &inner {
            Some(repo) => repo.last_commit_touching(&f.path)?,
            None => None,
        };
        let (recipients, can_decrypt, error) = match load(&f.path, None) {
            Ok(file) => (
                file.metadata
                    .age_recipients()
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>(),
                file.data_key(&ids).is_ok(),
                None,
            ),
            Err(e) => (Vec::new(), false, Some(e.message)),
        };
        let mut row = json!({
            "name": f.name,
            "file": display_path(&f.path, layout.root()).display().to_string(),
            "format": format_name(format),
            "recipients": recipients,
            "last_change": last.map(|c| json!({
                "commit": c.id.to_string(),
                "time": time_rfc3339(c.time),
                "summary": c.summary,
            })),
            "can_decrypt": can_decrypt,
        });
        if let Some(e) = error {
            row["error"] = json!(e);
        }
        rows.push(row);
    }
    if args.json {
        let doc = json!({ "version": 1, "secrets": rows });
        let mut text = serde_json::to_string_pretty(&doc)
            .map_err(|e| Error::new(format!("cannot write JSON: {e}")))?;
        text.push('\n');
        return crate::ui::write_stdout(text.as_bytes());
    }
    if rows.is_empty() && !layout.has_secrets_dir() {
        return Err(layout.no_secrets_repo());
    }
    if rows.is_empty() {
        ctx.ui.status(format!(
            "no secrets in {}; add one with `git secrets add NAME --from FILE`",
            display_path(&layout.secrets_subdir(), layout.root()).display()
        ));
        return Ok(0);
    }
    crate::ui::write_stdout(table(&rows).as_bytes())
}

/// The rows as an aligned text table.
fn table(rows: &[serde_json::Value]) -> String {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let table: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let last = match &r["last_change"] {
                serde_json::Value::Null => "not committed".to_string(),
                c => format!(
                    "{} {} {}",
                    &s(&c["commit"])[..12.min(s(&c["commit"]).len())],
                    s(&c["time"]).get(..10).unwrap_or(""),
                    s(&c["summary"])
                ),
            };
            let recips = r["recipients"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| short_recipient(&s(x)))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let can = if r.get("error").is_some() {
                "invalid"
            } else if r["can_decrypt"].as_bool() == Some(true) {
                "yes"
            } else {
                "no"
            };
            [
                s(&r["name"]),
                s(&r["format"]),
                can.to_string(),
                recips,
                last,
            ]
        })
        .collect();
    let header = ["NAME", "FORMAT", "DECRYPT", "RECIPIENTS", "LAST CHANGE"];
    let mut widths = header.map(str::len);
    for row in &table {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for row in &table {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    out
}

/// `age1abcd…wxyz`: enough to tell keys apart in a table.
fn short_recipient(r: &str) -> String {
    if r.chars().count() <= 16 {
        return r.to_string();
    }
    let head: String = r.chars().take(8).collect();
    let tail: String = r
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head}…{tail}")
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Yaml => "yaml",
        Format::Json => "json",
        Format::Dotenv => "dotenv",
        Format::Ini => "ini",
        Format::Binary => "binary",
    }
}

fn time_rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
