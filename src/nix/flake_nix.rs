//! Reads and edits the inputs of a `flake.nix` without evaluating it.
//!
//! We parse with `rnix` (a lossless syntax tree) so edits change only the
//! bytes they mean to: a url string literal, or one new line in the inputs.
//! Every edit keeps the user's comments, formatting and indentation; when a
//! file has a shape we cannot edit safely, the error carries the exact line
//! to add by hand instead of a guess.

use std::collections::BTreeMap;
use std::ops::Range;

use rnix::ast::{self, AstNode, HasEntry};
use rnix::{Root, SyntaxNode, TextRange};

use crate::error::{Error, Result};

/// Every input a `flake.nix` declares, in the order they first appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlakeInputs {
    /// The inputs.
    pub inputs: Vec<Input>,
}

/// One flake input, from whichever syntax declared it
/// (`inputs.x.url = …;`, `inputs = { x.url = …; }`, `inputs.x = { url = …; }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The input name (`kubenix-secrets`).
    pub name: String,
    /// Its `url`, when it is a plain string literal.
    pub url: Option<UrlLiteral>,
    /// `inputs.x.follows = "y"`: the input is another one, not fetched itself.
    pub follows: Option<String>,
    /// `inputs.x.inputs.<sub>.follows = "<target>"`: which of this input's
    /// own inputs the parent replaces with its own.
    pub input_follows: BTreeMap<String, String>,
    /// `inputs.x.inputs.<sub>.url = …`: inputs of this input the parent
    /// overrides with another url (still fetched, so still a network risk).
    pub input_overrides: Vec<String>,
    /// `inputs.x.flake = false`.
    pub flake: Option<bool>,
}

/// A url string literal and where it sits in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlLiteral {
    /// The string's value (escapes resolved).
    pub value: String,
    /// Byte range of the literal in the source, quotes included.
    pub range: Range<usize>,
    /// The source text of the literal, quotes included (to check an edit
    /// is applied to the source it was read from).
    pub text: String,
    /// 1-based line of the literal, for messages.
    pub line: usize,
}

/// What a flake url points at, as far as the secrets dir is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlKind {
    /// `git+file:<path>`: Nix reads the repo's committed HEAD; what we want.
    GitFile {
        /// The path after the scheme, query and fragment removed.
        path: String,
    },
    /// `path:<path>`: Nix reads the directory through the parent's git index,
    /// which cannot see inside a nested repo; needs a rewrite.
    Path {
        /// The path after the scheme, query and fragment removed.
        path: String,
    },
    /// A bare `./secrets` (same as `path:` for Nix); needs a rewrite.
    Bare {
        /// The path, query and fragment removed.
        path: String,
    },
    /// Anything else (`github:`, `git+ssh:`, `https:`, …).
    Other,
}

impl UrlKind {
    /// Classifies a flake url string.
    pub fn of(url: &str) -> UrlKind {
        let strip = |p: &str| p.split(['?', '#']).next().unwrap_or("").to_string();
        if let Some(rest) = url.strip_prefix("git+file:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            return UrlKind::GitFile { path: strip(rest) };
        }
        if let Some(rest) = url.strip_prefix("path:") {
            return UrlKind::Path { path: strip(rest) };
        }
        if url.starts_with("./") || url.starts_with("../") || url.starts_with('/') || url == "." {
            return UrlKind::Bare { path: strip(url) };
        }
        UrlKind::Other
    }

    /// The local path for `git+file:`, `path:` and bare urls.
    pub fn path(&self) -> Option<&str> {
        match self {
            UrlKind::GitFile { path } | UrlKind::Path { path } | UrlKind::Bare { path } => {
                Some(path)
            }
            UrlKind::Other => None,
        }
    }

    /// Whether this is the `git+file:` form the tool wants.
    pub fn is_git_file(&self) -> bool {
        matches!(self, UrlKind::GitFile { .. })
    }
}

impl Input {
    /// How the input's url points (None when it has no literal url).
    pub fn url_kind(&self) -> Option<UrlKind> {
        self.url.as_ref().map(|u| UrlKind::of(&u.value))
    }

    /// Whether the input's url names the directory `dir_rel` (relative to
    /// the flake's directory; `secrets`, `./secrets`, `../kubenix-secrets`).
    pub fn points_at(&self, dir_rel: &str) -> bool {
        let want = normalize_rel(dir_rel);
        self.url_kind()
            .and_then(|k| k.path().map(normalize_rel))
            .is_some_and(|p| p == want)
    }
}

/// `./a//b/` → `a/b`, so `git+file:./secrets` matches a dir of `secrets`.
fn normalize_rel(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

impl FlakeInputs {
    /// Parses `src` (a `flake.nix`) and collects its inputs.
    pub fn parse(src: &str) -> Result<FlakeInputs> {
        let root = parse(src)?;
        let Some(set) = top_attrset(&root) else {
            return Ok(FlakeInputs::default());
        };
        let mut leaves = Vec::new();
        flatten(&set, &mut Vec::new(), &mut leaves);
        let mut inputs: Vec<Input> = Vec::new();
        for leaf in leaves {
            let [first, name, rest @ ..] = leaf.path.as_slice() else {
                continue;
            };
            if first != "inputs" {
                continue;
            }
            let idx = match inputs.iter().position(|i| &i.name == name) {
                Some(i) => i,
                None => {
                    inputs.push(Input {
                        name: name.clone(),
                        url: None,
                        follows: None,
                        input_follows: BTreeMap::new(),
                        input_overrides: Vec::new(),
                        flake: None,
                    });
                    inputs.len() - 1
                }
            };
            let input = &mut inputs[idx];
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            match rest.as_slice() {
                ["url"] => input.url = string_literal(src, &leaf.value),
                ["follows"] => input.follows = string_literal(src, &leaf.value).map(|u| u.value),
                ["flake"] => input.flake = bool_literal(&leaf.value),
                ["inputs", sub, "follows"] => {
                    if let Some(target) = string_literal(src, &leaf.value) {
                        input.input_follows.insert(sub.to_string(), target.value);
                    }
                }
                ["inputs", sub, ..] if !input.input_overrides.iter().any(|s| s == sub) => {
                    input.input_overrides.push(sub.to_string());
                }
                _ => {}
            }
        }
        Ok(FlakeInputs { inputs })
    }

    /// The input called `name`.
    pub fn get(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// Inputs that Nix will fetch on its own (not `follows` of another):
    /// what makes a flake need the network to lock.
    pub fn fetched(&self) -> impl Iterator<Item = &Input> {
        self.inputs.iter().filter(|i| i.follows.is_none())
    }
}

/// The input of `src` that points at the secrets dir `dir_rel` (relative to
/// the flake's directory). When several do, a `git+file:` one wins.
pub fn find_secrets_input(src: &str, dir_rel: &str) -> Result<Option<Input>> {
    let all = FlakeInputs::parse(src)?;
    let mut matching: Vec<Input> = all
        .inputs
        .into_iter()
        .filter(|i| i.points_at(dir_rel))
        .collect();
    let best = matching
        .iter()
        .position(|i| i.url_kind().is_some_and(|k| k.is_git_file()))
        .unwrap_or(0);
    Ok((!matching.is_empty()).then(|| matching.swap_remove(best)))
}

/// The secrets flake's own inputs that the parent input does not `follows`:
/// each one makes `nix flake lock` reach for the network, even with
/// `--offline` when it is not in the store yet.
pub fn unfollowed_inputs(parent_input: &Input, secrets_flake: &FlakeInputs) -> Vec<String> {
    secrets_flake
        .fetched()
        .filter(|i| !parent_input.input_follows.contains_key(&i.name))
        .map(|i| i.name.clone())
        .collect()
}

/// Replaces the url string literal of `input` (read from this same `src`)
/// with `new_url`; nothing else in the file changes.
pub fn rewrite_url(src: &str, input: &Input, new_url: &str) -> Result<String> {
    let url = input.url.as_ref().ok_or_else(|| {
        Error::new(format!(
            "flake input {:?} has no literal url to rewrite",
            input.name
        ))
        .hint(format!(
            "set it by hand: inputs.{}.url = {};",
            input.name,
            quote(new_url)
        ))
    })?;
    if src.get(url.range.clone()) != Some(url.text.as_str()) {
        return Err(
            Error::new("flake.nix changed while we were editing it").hint("run the command again")
        );
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
        return Err(
            Error::usage(format!("{name:?} cannot be a flake input name"))
                .hint("use letters, digits, `_`, `-` and `'`, starting with a letter or `_`"),
        );
    }
    let root = parse(src)?;
    let flat_line = format!("inputs.{name}.url = {};", quote(url));
    let manual = |why: &str| {
        Error::new(format!(
            "cannot add the flake input {name:?} to flake.nix safely: {why}"
        ))
        .hint(format!(
            "add this line to the top-level attribute set of flake.nix: {flat_line}"
        ))
        .hint(format!(
            "and add `{name}` to the arguments of `outputs` (or end them with `...`)"
        ))
    };
    if FlakeInputs::parse(src)?.get(name).is_some() {
        return Err(
            Error::new(format!("flake.nix already has an input {name:?}"))
                .hint("check its url with `git secrets doctor`; it is not added twice"),
        );
    }
    let Some(set) = top_attrset(&root) else {
        return Err(manual("the file is not a plain attribute set { … }"));
    };

    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
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
fn outputs_argument_edit(
    src: &str,
    entries: &[ast::AttrpathValue],
    name: &str,
) -> std::result::Result<Option<(Range<usize>, String)>, &'static str> {
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
fn insert_into_set(src: &str, set: &ast::AttrSet, line: &str) -> Option<(Range<usize>, String)> {
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
fn insert_after_entry(src: &str, entry: &SyntaxNode, line: &str) -> (Range<usize>, String) {
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
fn insert_before_entry(src: &str, entry: &SyntaxNode, line: &str) -> (Range<usize>, String) {
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
fn apply(src: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = src.to_string();
    for (r, text) in edits {
        out.replace_range(r, &text);
    }
    out
}

fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The leading whitespace of the line holding byte `at`.
fn line_indent(src: &str, at: usize) -> &str {
    let start = line_start(src, at);
    let line = &src[start..];
    let len = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..len]
}

/// A Nix string literal for `value`.
fn quote(value: &str) -> String {
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

fn is_identifier(name: &str) -> bool {
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

/// Lists nested deeper than this are refused before rnix sees them: rnix
/// bounds the depth of expressions (512) but parses list items outside
/// that count, so some 20 000 `[` overflow the stack. No flake.nix nests
/// lists anywhere near this deep.
const MAX_LIST_DEPTH: usize = 256;

/// Parses `src`, turning the first syntax error into a message with a
/// line and column.
fn parse(src: &str) -> Result<Root> {
    check_list_depth(src)?;
    let parsed = Root::parse(src);
    if let Some(err) = parsed.errors().first() {
        use rnix::parser::ParseError as P;
        let (at, what) = match err {
            P::Unexpected(r) => (Some(*r), "unexpected input".to_string()),
            P::UnexpectedExtra(r) => (
                Some(*r),
                "unexpected text after the end of the expression".to_string(),
            ),
            P::UnexpectedWanted(got, r, wanted) => {
                let wanted: Vec<String> = wanted.iter().map(|k| kind_name(*k)).collect();
                (
                    Some(*r),
                    format!(
                        "unexpected {}, expected {}",
                        kind_name(*got),
                        wanted.join(" or ")
                    ),
                )
            }
            P::UnexpectedDoubleBind(r) => (Some(*r), "a pattern is bound twice".to_string()),
            P::DuplicatedArgs(r, name) => (Some(*r), format!("argument {name:?} appears twice")),
            P::UnexpectedEOF => (None, "unexpected end of file".to_string()),
            P::UnexpectedEOFWanted(wanted) => {
                let wanted: Vec<String> = wanted.iter().map(|k| kind_name(*k)).collect();
                (
                    None,
                    format!("unexpected end of file, expected {}", wanted.join(" or ")),
                )
            }
            P::RecursionLimitExceeded => (None, "nesting too deep".to_string()),
            other => (None, other.to_string()),
        };
        let offset = at.map_or(src.len(), |r| usize::from(r.start()));
        let (line, col) = line_col(src, offset);
        return Err(Error::new(format!("flake.nix does not parse: line {line}, column {col}: {what}"))
            .hint("fix the syntax (`nix flake metadata` shows Nix's own message), then run the command again"));
    }
    Ok(parsed.tree())
}

/// Refuses lists nested past `MAX_LIST_DEPTH`. Tokens, not characters, so
/// brackets in strings and comments do not count.
fn check_list_depth(src: &str) -> Result<()> {
    let (mut depth, mut offset) = (0usize, 0usize);
    for (kind, text) in rnix::tokenize(src) {
        match kind {
            rnix::SyntaxKind::TOKEN_L_BRACK => depth += 1,
            rnix::SyntaxKind::TOKEN_R_BRACK => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_LIST_DEPTH {
            let (line, col) = line_col(src, offset);
            return Err(Error::new(format!(
                "flake.nix does not parse: line {line}, column {col}: lists nested more than {MAX_LIST_DEPTH} deep"
            ))
            .hint("flatten the nested lists, then run the command again"));
        }
        offset += text.len();
    }
    Ok(())
}

/// `TOKEN_SEMICOLON` → `semicolon`, for parse errors people can read.
fn kind_name(kind: rnix::SyntaxKind) -> String {
    use rnix::SyntaxKind as K;
    let symbol = match kind {
        K::TOKEN_ASSIGN => "=",
        K::TOKEN_SEMICOLON => ";",
        K::TOKEN_L_BRACE => "{",
        K::TOKEN_R_BRACE => "}",
        K::TOKEN_L_PAREN => "(",
        K::TOKEN_R_PAREN => ")",
        K::TOKEN_L_BRACK => "[",
        K::TOKEN_R_BRACK => "]",
        K::TOKEN_COMMA => ",",
        K::TOKEN_COLON => ":",
        K::TOKEN_DOT => ".",
        _ => "",
    };
    if !symbol.is_empty() {
        return format!("`{symbol}`");
    }
    let name = format!("{kind:?}");
    let name = name
        .strip_prefix("TOKEN_")
        .or_else(|| name.strip_prefix("NODE_"))
        .unwrap_or(&name);
    format!("`{}`", name.to_lowercase().replace('_', " "))
}

/// 1-based line and column (in characters) of byte `offset`.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before[line_start(before, before.len())..].chars().count() + 1;
    (line, col)
}

fn range(r: TextRange) -> Range<usize> {
    usize::from(r.start())..usize::from(r.end())
}

/// The syntax node of any typed AST node (the trait method lives on rowan's
/// `AstNode`, reachable here through rnix's sub-trait bound).
fn node<N: AstNode>(n: &N) -> &SyntaxNode {
    n.syntax()
}

/// The file's top-level attribute set, through any parentheses.
fn top_attrset(root: &Root) -> Option<ast::AttrSet> {
    let mut expr = root.expr()?;
    loop {
        match expr {
            ast::Expr::AttrSet(s) => return Some(s),
            ast::Expr::Paren(p) => expr = p.expr()?,
            _ => return None,
        }
    }
}

/// One `a.b.c = value;` after nested attribute sets are flattened.
struct Leaf {
    path: Vec<String>,
    value: ast::Expr,
}

/// Flattens nested attribute sets into leaves with full attribute paths,
/// so `inputs = { x.url = …; }` and `inputs.x.url = …;` look the same.
fn flatten(set: &ast::AttrSet, prefix: &mut Vec<String>, out: &mut Vec<Leaf>) {
    for entry in set.attrpath_values() {
        let (Some(names), Some(value)) = (attr_names(&entry), entry.value()) else {
            continue; // `${dynamic}` names cannot be inputs Nix accepts.
        };
        let depth = prefix.len();
        prefix.extend(names);
        match value {
            ast::Expr::AttrSet(inner) => flatten(&inner, prefix, out),
            value => out.push(Leaf {
                path: prefix.clone(),
                value,
            }),
        }
        prefix.truncate(depth);
    }
}

/// The names of an attribute path; `None` when one is dynamic.
fn attr_names(entry: &ast::AttrpathValue) -> Option<Vec<String>> {
    entry
        .attrpath()?
        .attrs()
        .map(|attr| match attr {
            ast::Attr::Ident(i) => Some(node(&i).text().to_string()),
            ast::Attr::Str(s) => literal_string(&s),
            ast::Attr::Dynamic(_) => None,
        })
        .collect()
}

/// The value of a string without `${…}` interpolation.
fn literal_string(s: &ast::Str) -> Option<String> {
    s.normalized_parts()
        .into_iter()
        .map(|part| match part {
            ast::InterpolPart::Literal(text) => Some(text),
            ast::InterpolPart::Interpolation(_) => None,
        })
        .collect()
}

/// A url given as a string literal (or an old-style bare URI literal).
fn string_literal(src: &str, value: &ast::Expr) -> Option<UrlLiteral> {
    let (text, syntax) = match value {
        ast::Expr::Str(s) => (literal_string(s)?, node(s)),
        ast::Expr::Literal(l) if matches!(l.kind(), ast::LiteralKind::Uri(_)) => {
            (node(l).text().to_string(), node(l))
        }
        _ => return None,
    };
    let r = range(syntax.text_range());
    Some(UrlLiteral {
        value: text,
        text: src.get(r.clone())?.to_string(),
        line: line_col(src, r.start).0,
        range: r,
    })
}

fn bool_literal(value: &ast::Expr) -> Option<bool> {
    match value {
        ast::Expr::Ident(i) => match node(i).text().to_string().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(src: &str) -> FlakeInputs {
        FlakeInputs::parse(src).unwrap()
    }

    fn url(src: &str, name: &str) -> String {
        inputs(src)
            .get(name)
            .and_then(|i| i.url.clone())
            .unwrap()
            .value
    }

    #[test]
    fn finds_inputs_in_every_syntax() {
        let src = r#"{
  description = "x";
  inputs.flat.url = "github:a/flat";
  inputs = {
    nested.url = "github:a/nested"; # trailing comment
    sub = { url = "git+file:./secrets"; inputs.nixpkgs.follows = "nixpkgs"; };
  };
  inputs.block = {
    url = "path:./other";
    flake = false;
  };
  inputs."quoted-name".url = "github:a/q";
  inputs.alias.follows = "flat";
  inputs.uri.url = github:a/uri;
  outputs = { self, ... }: { };
}"#;
        let all = inputs(src);
        let names: Vec<&str> = all.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "flat",
                "nested",
                "sub",
                "block",
                "quoted-name",
                "alias",
                "uri"
            ]
        );
        assert_eq!(url(src, "flat"), "github:a/flat");
        assert_eq!(url(src, "nested"), "github:a/nested");
        assert_eq!(url(src, "sub"), "git+file:./secrets");
        assert_eq!(url(src, "block"), "path:./other");
        assert_eq!(url(src, "quoted-name"), "github:a/q");
        assert_eq!(url(src, "uri"), "github:a/uri");
        let sub = all.get("sub").unwrap();
        assert_eq!(
            sub.input_follows.get("nixpkgs").map(String::as_str),
            Some("nixpkgs")
        );
        assert_eq!(sub.url.as_ref().unwrap().line, 6);
        assert_eq!(all.get("block").unwrap().flake, Some(false));
        assert_eq!(all.get("alias").unwrap().follows.as_deref(), Some("flat"));
        assert_eq!(all.fetched().count(), 6);
    }

    #[test]
    fn the_seed_form_with_follows_lines() {
        let src = r#"{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    kubenix-secrets.url = "git+file:./secrets";
    kubenix-secrets.inputs.nixpkgs.follows = "nixpkgs";
    kubenix-secrets.inputs.flake-parts.follows = "flake-parts";
    kubenix-secrets.inputs.devshell.follows = "devshell";
  };
  outputs = inputs: { };
}"#;
        let s = find_secrets_input(src, "secrets").unwrap().unwrap();
        assert_eq!(s.name, "kubenix-secrets");
        assert_eq!(
            s.url_kind(),
            Some(UrlKind::GitFile {
                path: "./secrets".into()
            })
        );
        assert_eq!(s.input_follows.len(), 3);

        let secrets_flake = inputs(
            r#"{ inputs.nixpkgs.url = "github:NixOS/nixpkgs"; inputs.flake-parts.url = "github:hercules-ci/flake-parts";
                 inputs.devshell.url = "github:numtide/devshell"; inputs.sops-nix.url = "github:Mic92/sops-nix";
                 inputs.sops-nix.inputs.nixpkgs.follows = "nixpkgs"; outputs = _: { }; }"#,
        );
        assert_eq!(unfollowed_inputs(&s, &secrets_flake), ["sops-nix"]);
        assert!(unfollowed_inputs(&s, &inputs("{ outputs = _: { }; }")).is_empty());
    }

    #[test]
    fn classifies_urls() {
        assert_eq!(
            UrlKind::of("git+file:./secrets"),
            UrlKind::GitFile {
                path: "./secrets".into()
            }
        );
        assert_eq!(
            UrlKind::of("git+file:../elsewhere?ref=main"),
            UrlKind::GitFile {
                path: "../elsewhere".into()
            }
        );
        assert_eq!(
            UrlKind::of("git+file:///abs/secrets"),
            UrlKind::GitFile {
                path: "/abs/secrets".into()
            }
        );
        assert_eq!(
            UrlKind::of("path:./secrets"),
            UrlKind::Path {
                path: "./secrets".into()
            }
        );
        assert_eq!(
            UrlKind::of("./secrets"),
            UrlKind::Bare {
                path: "./secrets".into()
            }
        );
        assert_eq!(UrlKind::of("github:a/b"), UrlKind::Other);
        assert_eq!(UrlKind::of("git+ssh://host/x"), UrlKind::Other);
    }

    #[test]
    fn find_secrets_input_matches_the_dir_in_any_local_form_and_prefers_git_file() {
        let path_form = r#"{ inputs.s.url = "path:./secrets"; outputs = _: { }; }"#;
        let s = find_secrets_input(path_form, "secrets").unwrap().unwrap();
        assert_eq!(
            s.url_kind(),
            Some(UrlKind::Path {
                path: "./secrets".into()
            })
        );

        let bare = r#"{ inputs.s.url = "./secrets/"; outputs = _: { }; }"#;
        assert_eq!(
            find_secrets_input(bare, "./secrets").unwrap().unwrap().name,
            "s"
        );

        let both = r#"{ inputs.a.url = "path:./secrets"; inputs.b.url = "git+file:secrets"; outputs = _: { }; }"#;
        assert_eq!(
            find_secrets_input(both, "secrets").unwrap().unwrap().name,
            "b"
        );

        let outside = r#"{ inputs.s.url = "git+file:../kubenix-secrets"; outputs = _: { }; }"#;
        assert!(find_secrets_input(outside, "secrets").unwrap().is_none());
        assert_eq!(
            find_secrets_input(outside, "../kubenix-secrets")
                .unwrap()
                .unwrap()
                .name,
            "s"
        );
        assert!(find_secrets_input("{ }", "secrets").unwrap().is_none());
        assert!(find_secrets_input("x: x", "secrets").unwrap().is_none());
    }

    #[test]
    fn rewrite_url_changes_only_that_string() {
        let src = r#"{
  # the private repo
  inputs.secrets.url = "path:./secrets"; # keep me
  inputs.other.url = "path:./secrets-example";
  outputs = { self, secrets, other }: { };
}
"#;
        let input = find_secrets_input(src, "secrets").unwrap().unwrap();
        let out = rewrite_url(src, &input, "git+file:./secrets").unwrap();
        assert_eq!(
            out,
            src.replace(r#""path:./secrets";"#, r#""git+file:./secrets";"#)
        );
        assert!(
            rewrite_url("{ }", &input, "x").is_err(),
            "a different source is refused"
        );
    }

    #[test]
    fn insert_into_an_inputs_attrset_keeps_indentation_and_comments() {
        let src = r#"{
  description = "cluster";
  inputs = {
    # pinned
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable"; # unstable
    flake-parts.url = "github:hercules-ci/flake-parts";
  };

  outputs = inputs@{ flake-parts, ... }: { };
}
"#;
        let out = insert_input(src, "kubenix-secrets", "git+file:./secrets").unwrap();
        let want = src.replace(
            "flake-parts\";\n",
            "flake-parts\";\n    kubenix-secrets.url = \"git+file:./secrets\";\n",
        );
        assert_eq!(out, want);
        assert_eq!(url(&out, "kubenix-secrets"), "git+file:./secrets");
    }

    #[test]
    fn insert_after_a_last_entry_with_a_trailing_comment_and_tabs() {
        let src = "{\n\tinputs = {\n\t\tnixpkgs.url = \"github:x/y\"; # c\n\t};\n\toutputs = { self, nixpkgs }: { };\n}\n";
        let out = insert_input(src, "s", "git+file:./secrets").unwrap();
        assert_eq!(
            out,
            "{\n\tinputs = {\n\t\tnixpkgs.url = \"github:x/y\"; # c\n\t\ts.url = \"git+file:./secrets\";\n\t};\n\toutputs = { self, nixpkgs, s }: { };\n}\n"
        );
    }

    #[test]
    fn insert_into_flat_inputs_and_one_line_sets() {
        let flat = "{\n  inputs.a.url = \"github:x/a\";\n  inputs.b = { url = \"github:x/b\"; };\n  outputs = _: { };\n}\n";
        let out = insert_input(flat, "s", "git+file:./secrets").unwrap();
        assert_eq!(
            out,
            flat.replace(
                "b\"; };\n",
                "b\"; };\n  inputs.s.url = \"git+file:./secrets\";\n"
            )
        );

        let one_line = "{ inputs = { a.url = \"github:x/a\"; }; outputs = { self, a }: { }; }";
        let out = insert_input(one_line, "s", "git+file:./secrets").unwrap();
        assert_eq!(
            out,
            "{ inputs = { a.url = \"github:x/a\"; s.url = \"git+file:./secrets\"; }; outputs = { self, a, s }: { }; }"
        );
    }

    #[test]
    fn insert_into_an_empty_set_or_before_outputs() {
        let empty = "{\n  inputs = { };\n  outputs = { self }: { };\n}\n";
        let out = insert_input(empty, "s", "git+file:./secrets").unwrap();
        assert_eq!(out, "{\n  inputs = {\n    s.url = \"git+file:./secrets\";\n  };\n  outputs = { self, s }: { };\n}\n");

        let none = "{\n  description = \"d\";\n  outputs = { self }: { };\n}\n";
        let out = insert_input(none, "s", "git+file:./secrets").unwrap();
        assert_eq!(
            out,
            "{\n  description = \"d\";\n  inputs.s.url = \"git+file:./secrets\";\n  outputs = { self, s }: { };\n}\n"
        );
    }

    #[test]
    fn insert_extends_a_multi_line_outputs_pattern_in_its_style() {
        let trailing =
            "{\n  inputs.a.url = \"github:x/a\";\n  outputs = {\n    self,\n    a,\n  }: { };\n}\n";
        let out = insert_input(trailing, "s", "git+file:./secrets").unwrap();
        assert!(out.contains("    self,\n    a,\n    s,\n  }:"), "{out}");

        let leading = "{\n  inputs.a.url = \"github:x/a\";\n  outputs = { self\n            , a\n            }: { };\n}\n";
        let out = insert_input(leading, "s", "git+file:./secrets").unwrap();
        assert!(out.contains(", a,\n            s\n"), "{out}");
        assert!(FlakeInputs::parse(&out).is_ok());
    }

    #[test]
    fn insert_refuses_shapes_it_cannot_edit_and_says_what_to_add() {
        let line = "inputs.s.url = \"git+file:./secrets\";";
        for src in [
            "let x = 1; in { outputs = _: { }; }",
            "{ inputs = import ./inputs.nix; outputs = _: { }; }",
            "{ inputs = { # nothing yet\n  }; outputs = _: { }; }",
            "{ description = \"no outputs\"; }",
        ] {
            let err = insert_input(src, "s", "git+file:./secrets").unwrap_err();
            assert!(
                err.hints.iter().any(|h| h.contains(line)),
                "{src}: {:?}",
                err.hints
            );
        }
        let dup = "{ inputs.s.url = \"path:./secrets\"; outputs = _: { }; }";
        assert!(insert_input(dup, "s", "git+file:./secrets")
            .unwrap_err()
            .message
            .contains("already"));
        assert!(insert_input(dup, "bad name", "x").is_err());
        assert!(insert_input(dup, "rec", "x").is_err());
    }

    #[test]
    fn parse_errors_name_the_line_and_column() {
        let src = "{\n  inputs.s.url = \"git+file:./secrets\"\n  outputs = _: { };\n}\n";
        let err = FlakeInputs::parse(src).unwrap_err();
        // `"…" outputs` reads as a function call, so the `=` is what is wrong.
        assert_eq!(
            err.message,
            "flake.nix does not parse: line 3, column 11: unexpected `=`, expected `;`"
        );
        let err = find_secrets_input("{ inputs = {", "secrets").unwrap_err();
        assert!(err.message.contains("end of file"), "{}", err.message);
        assert!(insert_input("{ a = ; }", "s", "x")
            .unwrap_err()
            .message
            .contains("line 1, column"));
    }

    /// Found by probing the `flake_nix` fuzz target's parser with deep
    /// input: 20 000 `[` overflowed the stack inside rnix.
    #[test]
    fn deeply_nested_lists_are_an_error_not_a_stack_overflow() {
        let deep = format!("{{ x = {}; }}", "[".repeat(20_000));
        let err = FlakeInputs::parse(&deep).unwrap_err();
        assert!(
            err.message
                .contains("line 1, column 263: lists nested more than 256 deep"),
            "{}",
            err.message
        );
        // Brackets in strings and comments are not lists; real lists up
        // to the limit still parse.
        let fine = format!(
            "{{ s = \"{0}\"; # {0}\n l = {1}{2}; }}",
            "[".repeat(1_000),
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(FlakeInputs::parse(&fine).is_ok());
    }

    #[test]
    fn quoting_escapes_what_nix_would_interpret() {
        assert_eq!(quote(r#"a"b\c${d}$e"#), r#""a\"b\\c\${d}$e""#);
        let src = "{ inputs.s.url = \"x\"; outputs = _: { }; }";
        let input = inputs(src).get("s").cloned().unwrap();
        let out = rewrite_url(src, &input, "we\"ird${x}").unwrap();
        assert_eq!(url(&out, "s"), "we\"ird${x}");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
