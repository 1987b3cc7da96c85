//! The two edits of a `flake.nix`: rewrite one input's url literal, insert a new input
//! (and its `outputs` argument), each changing only the bytes it means to.

use std::ops::Range;

use rnix::ast::{self, HasEntry};
use rnix::SyntaxNode;

use super::parse::*;
use super::{FlakeInputs, Input};
use crate::error::{Error, Result};
use crate::nix::error::NixError;

/// One change to the text: the bytes of the range replaced by the string.
type Edit = (Range<usize>, String);

/// Replaces the url string literal of `input` (read from this same `src`)
/// with `new_url`; nothing else in the file changes.
pub fn rewrite_url(src: &str, input: &Input, new_url: &str) -> Result<String> {
    let url = input.url.as_ref().ok_or_else(|| NixError::NoLiteralUrl {
        input: input.name.clone(),
        line: format!("inputs.{}.url = {};", input.name, quote(new_url)),
    })?;
    if src.get(url.range.clone()) != Some(url.text.as_str()) {
        return Err(NixError::ChangedWhileEditing.into());
    }
    let mut out = String::with_capacity(src.len() + new_url.len());
    out.push_str(&src[..url.range.start]);
    out.push_str(&quote(new_url));
    out.push_str(&src[url.range.end..]);
    Ok(out)
}

/// Adds `name.url = "<url>";` to the inputs of `src` and `name` to the
/// argument pattern of `outputs` when it lists its arguments without `...`
/// (Nix refuses to call it with an argument it does not name).
///
/// Edits the `inputs = { … }` attrset, or the flat `inputs.x.url = …;`
/// lines, or adds an `inputs.<name>.url` line before `outputs`. Anything
/// else is an error whose hint has the exact line to add by hand.
pub fn insert_input(src: &str, name: &str, url: &str) -> Result<String> {
    if !is_identifier(name) {
        return Err(NixError::BadInputName(name.to_string()).into());
    }
    let root = parse(src)?;
    let flat_line = format!("inputs.{name}.url = {};", quote(url));
    let manual = |why: &str| {
        Error::from(NixError::CannotAddInput {
            name: name.to_string(),
            why: why.to_string(),
            line: flat_line.clone(),
        })
    };
    if FlakeInputs::parse(src)?.get(name).is_some() {
        return Err(NixError::InputExists(name.to_string()).into());
    }
    let Some(set) = top_attrset(&root) else {
        return Err(manual("the file is not a plain attribute set { … }"));
    };

    let mut edits: Vec<Edit> = Vec::new();
    let entries: Vec<ast::AttrpathValue> = set.attrpath_values().collect();
    let inputs_entries: Vec<&ast::AttrpathValue> = entries
        .iter()
        .filter(|e| attr_names(e).is_some_and(|p| p.first().is_some_and(|f| f == "inputs")))
        .collect();
    let inputs_set =
        inputs_entries
            .iter()
            .find_map(|e| match (attr_names(e).as_deref(), e.value()) {
                (Some([only]), Some(ast::Expr::AttrSet(s))) if only == "inputs" => Some(s),
                _ => None,
            });

    if let Some(inputs_set) = inputs_set {
        let line = format!("{name}.url = {};", quote(url));
        edits.push(insert_into_set(src, &inputs_set, &line).ok_or_else(|| {
            manual("the `inputs = { … }` set has a shape we do not edit (comments only, or on one line with others)")
        })?);
    } else if inputs_entries
        .iter()
        .any(|e| attr_names(e).is_some_and(|p| p.len() == 1))
    {
        return Err(manual("`inputs` is not written as an attribute set"));
    } else if let Some(last) = inputs_entries.last() {
        edits.push(insert_after_entry(src, node(*last), &flat_line));
    } else {
        let outputs = entries
            .iter()
            .find(|e| attr_names(e).is_some_and(|p| p == ["outputs"]));
        let Some(outputs) = outputs else {
            return Err(manual("it has neither inputs nor outputs"));
        };
        edits.push(insert_before_entry(src, node(outputs), &flat_line));
    }

    if let Some(edit) = outputs_argument_edit(src, &entries, name).map_err(&manual)? {
        edits.push(edit);
    }
    let out = apply(src, edits);
    // Never hand back a file that no longer parses.
    parse(&out).map_err(|_| manual("the edited file would not parse"))?;
    Ok(out)
}

/// A text edit for adding `name` to `outputs = { self, … }:`; `None` when
/// the arguments already accept it.
pub(super) fn outputs_argument_edit(
    src: &str,
    entries: &[ast::AttrpathValue],
    name: &str,
) -> std::result::Result<Option<Edit>, &'static str> {
    let outputs = entries
        .iter()
        .find(|e| attr_names(e).is_some_and(|p| p == ["outputs"]));
    let Some(ast::Expr::Lambda(lambda)) = outputs.and_then(|o| o.value()) else {
        return Ok(None);
    };
    let Some(ast::Param::Pattern(pattern)) = lambda.param() else {
        return Ok(None); // `outputs = inputs: …` takes everything.
    };
    if pattern.ellipsis_token().is_some() {
        return Ok(None);
    }
    let pat: Vec<ast::PatEntry> = pattern.pat_entries().collect();
    if pat
        .iter()
        .any(|p| p.ident().is_some_and(|i| node(&i).text() == name))
    {
        return Ok(None);
    }
    let Some(last) = pat.last() else {
        return Err("`outputs` takes an empty argument set");
    };
    let last_range = range(node(last).text_range());
    let one_per_line = pat.len() >= 2 && {
        let first_end = range(node(&pat[0]).text_range()).end;
        let second_start = range(node(&pat[1]).text_range()).start;
        src[first_end..second_start].contains('\n')
    };
    if !one_per_line {
        return Ok(Some((last_range.end..last_range.end, format!(", {name}"))));
    }
    let indent = line_indent(src, last_range.start).to_string();
    // Keep a trailing-comma style: `nixpkgs,` → `nixpkgs,\n  name,`.
    let after = &src[last_range.end..];
    let trimmed = after.trim_start_matches([' ', '\t']);
    if trimmed.starts_with(',') {
        let comma = last_range.end + (after.len() - trimmed.len()) + 1;
        Ok(Some((comma..comma, format!("\n{indent}{name},"))))
    } else {
        Ok(Some((
            last_range.end..last_range.end,
            format!(",\n{indent}{name}"),
        )))
    }
}

/// Inserts `line` as the last entry of `set`, on its own line with the
/// indentation of the entries when they are one per line.
pub(super) fn insert_into_set(src: &str, set: &ast::AttrSet, line: &str) -> Option<Edit> {
    if let Some(last) = set.entries().last() {
        return Some(insert_after_entry(src, node(&last), line));
    }
    // An empty set: `inputs = { };` becomes a block, unless it holds
    // comments we would have to move.
    let open = range(set.l_curly_token()?.text_range()).end;
    let close = range(set.r_curly_token()?.text_range()).start;
    if !src[open..close].trim().is_empty() {
        return None;
    }
    let indent = line_indent(src, range(node(set).text_range()).start);
    Some((open..close, format!("\n{indent}  {line}\n{indent}")))
}

/// Inserts `line` after the entry `entry`: on a new line below it (after any
/// comment that ends its line) when it starts its line, else inline.
pub(super) fn insert_after_entry(src: &str, entry: &SyntaxNode, line: &str) -> Edit {
    let r = range(entry.text_range());
    let rest_of_line = src[r.end..].split('\n').next().unwrap_or("");
    let comment_or_blank =
        rest_of_line.trim().is_empty() || rest_of_line.trim_start().starts_with('#');
    let starts_line = src[line_start(src, r.start)..r.start].trim().is_empty();
    if starts_line && comment_or_blank {
        let at = r.end + rest_of_line.len();
        let indent = line_indent(src, r.start);
        if at >= src.len() {
            return (at..at, format!("\n{indent}{line}"));
        }
        // Insert after the newline so the new entry gets its own line.
        (at + 1..at + 1, format!("{indent}{line}\n"))
    } else {
        (r.end..r.end, format!(" {line}"))
    }
}

/// Inserts `line` before `entry`, on its own line when the entry starts one.
pub(super) fn insert_before_entry(src: &str, entry: &SyntaxNode, line: &str) -> Edit {
    let r = range(entry.text_range());
    let start = line_start(src, r.start);
    if src[start..r.start].trim().is_empty() {
        let indent = &src[start..r.start];
        (start..start, format!("{indent}{line}\n"))
    } else {
        (r.start..r.start, format!("{line} "))
    }
}

/// Applies non-overlapping edits, last first so earlier offsets stay valid.
pub(super) fn apply(src: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = src.to_string();
    for (r, text) in edits {
        out.replace_range(r, &text);
    }
    out
}

/// The leading whitespace of the line holding byte `at`.
pub(super) fn line_indent(src: &str, at: usize) -> &str {
    let start = line_start(src, at);
    let line = &src[start..];
    let len = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..len]
}

/// A Nix string literal for `value`.
pub(super) fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn is_identifier(name: &str) -> bool {
    const KEYWORDS: [&str; 10] = [
        "assert", "else", "if", "in", "inherit", "let", "or", "rec", "then", "with",
    ];
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
        && !KEYWORDS.contains(&name)
}
