//! Adds and removes age recipients in `.sops.yaml` as a text edit: only the
//! `age:` values change, so the user's comments, key order, quoting and
//! layout stay exactly as they were (a parse-and-emit round trip would lose
//! them).
//!
//! Every form sops reads is handled: a comma-separated string (plain,
//! quoted, or a `>-`/`|` block scalar over several lines), a flow list
//! `[a, b]`, and a block list of `- age1…` items, in `creation_rules` and in
//! `key_groups`. The result is parsed again and checked, so an edit this
//! module got wrong is an error, never a silently different config.

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::rules::Config;
use std::path::Path;

/// What to change: recipients to add to every rule that lists age
/// recipients, and recipients to remove wherever they appear.
#[derive(Debug, Clone, Default)]
pub struct RecipientEdit {
    /// Added to every `creation_rules` entry that has an `age:` key.
    pub add: Vec<String>,
    /// Removed from every `age:` value (rules and key groups).
    pub remove: Vec<String>,
}

/// Applies `edit` to the text of a `.sops.yaml` (`path` is for messages and
/// rule matching). Returns the new text; equal to `text` when there was
/// nothing to change (recipients already present, or already gone).
pub fn edit_recipients(text: &str, path: &Path, edit: &RecipientEdit) -> Result<String> {
    let out = edit_text(text, path, edit)?;
    check(&out, path, edit)?;
    Ok(out)
}

/// The text edit alone, without the check.
fn edit_text(text: &str, path: &Path, edit: &RecipientEdit) -> Result<String> {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    let uses_groups = lines
        .iter()
        .any(|l| key_of(l).is_some_and(|k| k.key == "key_groups"));
    if uses_groups && !edit.add.is_empty() {
        return Err(SopsError::RecipientsInKeyGroups {
            config: path.to_path_buf(),
        }
        .into());
    }
    let mut i = 0;
    while i < lines.len() {
        let Some(key) = key_of(&lines[i]).filter(|k| k.key == "age") else {
            i += 1;
            continue;
        };
        let (lead, value, comment) = split_value_comment(&key.rest);
        let end = block_end(&lines, i + 1, key.column, value.is_empty());
        let replacement = if value.is_empty() {
            edit_block_list(&lines[i..end], key.column, edit, nl)
        } else if value.starts_with('|') || value.starts_with('>') {
            edit_block_scalar(&lines[i..end], edit, nl)
        } else {
            let line = &lines[i];
            let body = line.trim_end_matches(['\n', '\r']);
            let head = &body[..body.len() - key.rest.len()];
            let eol = line_ending(line);
            vec![format!(
                "{head}{lead}{}{comment}{eol}",
                edit_inline(value, edit)
            )]
        };
        let n = replacement.len();
        lines.splice(i..end, replacement);
        i += n.max(1);
    }
    Ok(lines.concat())
}

/// Parses the edited text and checks that it says what was asked.
fn check(out: &str, path: &Path, edit: &RecipientEdit) -> Result<()> {
    let cfg =
        Config::parse(out.as_bytes(), path).map_err(|e| SopsError::RecipientEditBreaksConfig {
            config: path.to_path_buf(),
            detail: e.message,
        })?;
    let unsure = |what: String| {
        Error::from(SopsError::RecipientEditUnsure {
            config: path.to_path_buf(),
            what,
        })
    };
    for (n, rule) in cfg.creation_rules.iter().enumerate() {
        let names = rule.plan.recipients();
        if let Some(r) = edit.remove.iter().find(|r| names.contains(r)) {
            return Err(unsure(format!("{r} is still in rule {}", n + 1)));
        }
        if rule.plan.groups.iter().any(Vec::is_empty) && !edit.remove.is_empty() {
            return Err(SopsError::RemovalLeavesRuleEmpty {
                removed: edit.remove.join(", "),
                rule: n + 1,
                config: path.to_path_buf(),
            }
            .into());
        }
    }
    for r in &edit.add {
        let present = cfg
            .creation_rules
            .iter()
            .any(|rule| rule.plan.recipients().contains(r));
        if !present {
            return Err(unsure(format!(
                "{r} was not added: no rule has an age: key"
            )));
        }
    }
    Ok(())
}

/// A `key: rest` line, possibly as the first key of a list item (`- key:`).
struct KeyLine {
    key: String,
    /// Column of the key's first character.
    column: usize,
    /// Everything after the colon.
    rest: String,
}

fn key_of(line: &str) -> Option<KeyLine> {
    let body = line.trim_end_matches(['\n', '\r']);
    let indent = body.len() - body.trim_start_matches(' ').len();
    let mut column = indent;
    let mut s = &body[indent..];
    while let Some(r) = s.strip_prefix("- ") {
        let pad = r.len() - r.trim_start_matches(' ').len();
        column += 2 + pad;
        s = &r[pad..];
    }
    let colon = s.find(':')?;
    let key = &s[..colon];
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let rest = &s[colon + 1..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some(KeyLine {
        key: key.to_string(),
        column,
        rest: rest.to_string(),
    })
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn line_ending(line: &str) -> &'static str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// The index after the last line that belongs to the value of the key at
/// `column` (deeper lines; with `list`, also `- ` items at the same column).
/// Trailing blank lines are left to whatever follows.
fn block_end(lines: &[String], start: usize, column: usize, list: bool) -> usize {
    let mut end = start;
    let mut last_content = start;
    while end < lines.len() {
        let l = &lines[end];
        if is_blank(l) {
            end += 1;
            continue;
        }
        let ind = indent_of(l);
        let belongs = ind > column || (list && ind == column && l[ind..].starts_with('-'));
        if !belongs {
            break;
        }
        end += 1;
        last_content = end;
    }
    last_content
}

/// Splits an inline value into its leading spaces, the value, and a
/// trailing ` # comment` (kept with its spaces so it is written back as is).
fn split_value_comment(rest: &str) -> (&str, &str, &str) {
    let rest = rest.trim_end_matches(['\n', '\r']);
    let lead = rest.len() - rest.trim_start().len();
    let s = &rest[lead..];
    let value_end = match s.chars().next() {
        Some('"') => closing(s, '"'),
        Some('\'') => closing(s, '\''),
        Some('[') => s.find(']').map(|i| i + 1),
        _ => None,
    };
    let value_end =
        value_end.unwrap_or_else(|| s.find(" #").or_else(|| s.find("\t#")).unwrap_or(s.len()));
    let value = s[..value_end].trim_end();
    let comment_start = lead + value.len();
    (&rest[..lead], value, &rest[comment_start..])
}

/// Index after the closing quote of a quoted scalar starting at 0.
fn closing(s: &str, q: char) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' if q == '"' => i += 2,
            c if c == q as u8 => {
                if q == '\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Applies the edit to a list of recipients, keeping order; new ones last.
fn apply(list: Vec<String>, edit: &RecipientEdit) -> Vec<String> {
    let mut out: Vec<String> = list
        .into_iter()
        .filter(|r| !edit.remove.contains(r))
        .collect();
    for r in &edit.add {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

fn split_commas(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// `age1a,age1b`, `"age1a, age1b"`, `'…'`, `[age1a, age1b]`.
fn edit_inline(value: &str, edit: &RecipientEdit) -> String {
    let (open, inner, close) = if let Some(v) = value.strip_prefix('[') {
        ("[", v.strip_suffix(']').unwrap_or(v), "]")
    } else if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        ("\"", &value[1..value.len() - 1], "\"")
    } else if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
        ("'", &value[1..value.len() - 1], "'")
    } else {
        ("", value, "")
    };
    let sep = if inner.contains(", ") || open == "[" {
        ", "
    } else {
        ","
    };
    // age recipients never need quotes inside a flow list
    let items = split_commas(inner)
        .into_iter()
        .map(|s| s.trim_matches(['"', '\'']).to_string())
        .collect();
    format!("{open}{}{close}", apply(items, edit).join(sep))
}

/// `age: >-` followed by `age1a,` / `age1b` lines.
fn edit_block_scalar(block: &[String], edit: &RecipientEdit, nl: &str) -> Vec<String> {
    let content: Vec<&String> = block[1..].iter().filter(|l| !is_blank(l)).collect();
    let indent = content.first().map_or(0, |l| indent_of(l));
    let text: String = content
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(",");
    let items = apply(split_commas(&text), edit);
    let mut out = vec![block[0].clone()];
    let n = items.len();
    for (k, r) in items.into_iter().enumerate() {
        let comma = if k + 1 < n { "," } else { "" };
        out.push(format!("{}{r}{comma}{nl}", " ".repeat(indent)));
    }
    out
}

/// `age:` followed by `- age1…` items (or nothing: an empty value).
fn edit_block_list(block: &[String], column: usize, edit: &RecipientEdit, nl: &str) -> Vec<String> {
    let head = &block[0];
    let mut out = vec![head.clone()];
    let mut existing = Vec::new();
    let mut item_prefix = None;
    for l in &block[1..] {
        let ind = indent_of(l);
        let Some(item) = l[ind..].strip_prefix('-') else {
            out.push(l.clone()); // a comment or a blank line inside the list
            continue;
        };
        let (_, value, _) = split_value_comment(item);
        let r = value.trim_matches(['"', '\'']).to_string();
        item_prefix = Some(format!("{}- ", " ".repeat(ind)));
        if edit.remove.contains(&r) {
            continue;
        }
        existing.push(r);
        out.push(l.clone());
    }
    let to_add: Vec<&String> = edit.add.iter().filter(|r| !existing.contains(r)).collect();
    if block.len() == 1 && !to_add.is_empty() {
        // `age:` with no value at all: give it a plain string value
        let body = head.trim_end_matches(['\n', '\r']);
        let eol = line_ending(head);
        let joined: Vec<&str> = to_add.iter().map(|s| s.as_str()).collect();
        return vec![format!("{body} {}{eol}", joined.join(","))];
    }
    let prefix = item_prefix.unwrap_or_else(|| format!("{}- ", " ".repeat(column + 2)));
    // insert after the last item, before trailing comments of the list
    let last_item = out
        .iter()
        .rposition(|l| l.trim_start().starts_with('-'))
        .map_or(out.len(), |p| p + 1);
    if let Some(before) = last_item.checked_sub(1).and_then(|p| out.get_mut(p)) {
        // the file's last line may lack its newline; the new item goes after it
        if line_ending(before).is_empty() && !to_add.is_empty() {
            before.push_str(nl);
        }
    }
    let new: Vec<String> = to_add.iter().map(|r| format!("{prefix}{r}{nl}")).collect();
    out.splice(last_item..last_item, new);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    const B: &str = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
    const C: &str = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw";

    fn add(r: &str) -> RecipientEdit {
        RecipientEdit {
            add: vec![r.into()],
            remove: vec![],
        }
    }
    fn remove(r: &str) -> RecipientEdit {
        RecipientEdit {
            add: vec![],
            remove: vec![r.into()],
        }
    }
    fn replace(old: &str, new: &str) -> RecipientEdit {
        RecipientEdit {
            add: vec![new.into()],
            remove: vec![old.into()],
        }
    }
    // the text edit alone: the check parses YAML, tested with `rekey` in tests/loop.rs
    fn run(text: &str, e: &RecipientEdit) -> String {
        edit_text(text, Path::new("/x/.sops.yaml"), e).unwrap()
    }

    #[test]
    fn comma_string_keeps_comments_and_order() {
        let text = format!(
            "# who can read the secrets\ncreation_rules:\n  # all of them\n  - path_regex: secrets/.*\n    age: {A} # alice\n    encrypted_regex: ^data$\n"
        );
        let added = run(&text, &add(B));
        assert_eq!(
            added,
            format!("# who can read the secrets\ncreation_rules:\n  # all of them\n  - path_regex: secrets/.*\n    age: {A},{B} # alice\n    encrypted_regex: ^data$\n")
        );
        assert_eq!(run(&added, &remove(A)), text.replace(A, B));
        // nothing to do: same text
        assert_eq!(run(&added, &add(B)), added);
    }

    /// Each way `age:` can be written keeps its style: a quoted string, a flow list, a
    /// folded block scalar, block lists (comments kept, in every rule), CRLF lines and
    /// a last line without its newline.
    #[test]
    fn edits_keep_the_style_of_each_list() {
        for (text, edit, want) in [
            (
                format!("creation_rules:\n  - age: \"{A}, {B}\"\n  - age: [{A}]\n  - age: >-\n      {A},\n      {B}\n    path_regex: x\n"),
                replace(A, C),
                format!("creation_rules:\n  - age: \"{B}, {C}\"\n  - age: [{C}]\n  - age: >-\n      {B},\n      {C}\n    path_regex: x\n"),
            ),
            (
                format!("creation_rules:\n  - path_regex: a\n    age:\n      - {A} # alice\n      # bob below\n      - {B}\n  - path_regex: b\n    age:\n    - {A}\n"),
                add(C),
                format!("creation_rules:\n  - path_regex: a\n    age:\n      - {A} # alice\n      # bob below\n      - {B}\n      - {C}\n  - path_regex: b\n    age:\n    - {A}\n    - {C}\n"),
            ),
            (
                format!("creation_rules:\r\n  - age:\r\n      - {A}"),
                add(B),
                format!("creation_rules:\r\n  - age:\r\n      - {A}\r\n      - {B}\r\n"),
            ),
        ] {
            assert_eq!(run(&text, &edit), want, "{text:?}");
        }
    }

    #[test]
    fn key_groups_lose_a_recipient_but_never_gain_one() {
        let groups = format!("creation_rules:\n  - key_groups:\n      - age:\n          - {A}\n          - {B}\n      - age:\n          - {C}\n");
        let out = run(&groups, &remove(B));
        assert_eq!(out, groups.replace(&format!("          - {B}\n"), ""));
        let err = edit_text(&groups, Path::new("/x/.sops.yaml"), &add(B)).unwrap_err();
        err.assert_says("key_groups");
    }

    #[test]
    fn removing_the_last_recipient_is_refused() {
        let text = format!("creation_rules:\n  - age: {A}\n");
        let err = edit_recipients(&text, Path::new("/x/.sops.yaml"), &remove(A)).unwrap_err();
        err.assert_says("no age recipient");
        // but replacing it in one run works
        let out = run(&text, &replace(A, B));
        assert_eq!(out, format!("creation_rules:\n  - age: {B}\n"));
    }
}
