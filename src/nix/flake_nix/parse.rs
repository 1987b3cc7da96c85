//! The syntax tree walk: parse with `rnix` (errors with line and column, deep nesting
//! refused), then flatten nested attribute sets into leaves with full paths.

use std::ops::Range;

use rnix::ast::{self, AstNode, HasEntry};
use rnix::{Root, SyntaxNode, TextRange};

use super::UrlLiteral;
use crate::error::Result;
use crate::nix::error::NixError;

/// Lists nested deeper than this are refused before rnix sees them: rnix
/// bounds the depth of expressions (512) but parses list items outside
/// that count, so some 20 000 `[` overflow the stack. No flake.nix nests
/// lists anywhere near this deep.
pub(super) const MAX_LIST_DEPTH: usize = 256;

/// Parses `src`, turning the first syntax error into a message with a
/// line and column.
pub(super) fn parse(src: &str) -> Result<Root> {
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
        return Err(NixError::FlakeSyntax {
            line,
            column: col,
            what,
        }
        .into());
    }
    Ok(parsed.tree())
}

/// Refuses lists nested past `MAX_LIST_DEPTH`. Tokens, not characters, so
/// brackets in strings and comments do not count.
pub(super) fn check_list_depth(src: &str) -> Result<()> {
    let (mut depth, mut offset) = (0usize, 0usize);
    for (kind, text) in rnix::tokenize(src) {
        match kind {
            rnix::SyntaxKind::TOKEN_L_BRACK => depth += 1,
            rnix::SyntaxKind::TOKEN_R_BRACK => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_LIST_DEPTH {
            let (line, col) = line_col(src, offset);
            return Err(NixError::FlakeListsTooDeep {
                line,
                column: col,
                max: MAX_LIST_DEPTH,
            }
            .into());
        }
        offset += text.len();
    }
    Ok(())
}

/// `TOKEN_SEMICOLON` → `semicolon`, for parse errors people can read.
pub(super) fn kind_name(kind: rnix::SyntaxKind) -> String {
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

pub(super) fn range(r: TextRange) -> Range<usize> {
    usize::from(r.start())..usize::from(r.end())
}

/// The syntax node of any typed AST node (the trait method lives on rowan's
/// `AstNode`, reachable here through rnix's sub-trait bound).
pub(super) fn node<N: AstNode>(n: &N) -> &SyntaxNode {
    n.syntax()
}

/// The file's top-level attribute set, through any parentheses.
pub(super) fn top_attrset(root: &Root) -> Option<ast::AttrSet> {
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
pub(super) struct Leaf {
    pub(super) path: Vec<String>,
    pub(super) value: ast::Expr,
}

/// Flattens nested attribute sets into leaves with full attribute paths,
/// so `inputs = { x.url = …; }` and `inputs.x.url = …;` look the same.
pub(super) fn flatten(set: &ast::AttrSet, prefix: &mut Vec<String>, out: &mut Vec<Leaf>) {
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
pub(super) fn attr_names(entry: &ast::AttrpathValue) -> Option<Vec<String>> {
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
pub(super) fn literal_string(s: &ast::Str) -> Option<String> {
    s.normalized_parts()
        .into_iter()
        .map(|part| match part {
            ast::InterpolPart::Literal(text) => Some(text),
            ast::InterpolPart::Interpolation(_) => None,
        })
        .collect()
}

/// A url given as a string literal (or an old-style bare URI literal).
pub(super) fn string_literal(src: &str, value: &ast::Expr) -> Option<UrlLiteral> {
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

pub(super) fn bool_literal(value: &ast::Expr) -> Option<bool> {
    match value {
        ast::Expr::Ident(i) => match node(i).text().to_string().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The byte offset where the line holding byte `at` starts.
pub(super) fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map_or(0, |i| i + 1)
}
