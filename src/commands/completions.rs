//! `git secrets completions bash|zsh|fish`: shell completions generated from
//! the CLI definition. For bash, also `_git_secrets`, the hook git's own
//! completion calls after `git secrets `, and secret names from the secrets dir.

use super::Ctx;
use crate::cli::Cli;
use crate::error::Result;
use clap::Args;
use clap::CommandFactory;
use clap_complete::Shell;

/// Bash glue: git's completion (`__git_main`) calls `_git_secrets` for
/// `git secrets …`; we reuse the clap function with the words shifted so it
/// sees `git-secrets …`, and complete secret names for commands taking one.
const BASH_GIT_GLUE: &str = r#"
# Completion after `git secrets ` through git's own bash completion.
_git_secrets() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local sub="" i
    for ((i = 2; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in -*) ;; *) sub="${COMP_WORDS[i]}"; break ;; esac
    done
    case "$sub" in
        show|edit|rotate|exec)
            if [[ "$cur" != -* ]]; then
                local dir
                dir="$(git rev-parse --show-toplevel 2>/dev/null)/$(git config secrets.dir || echo secrets)/secrets"
                if [[ -d "$dir" ]]; then
                    local names
                    names=$(cd "$dir" && for f in *; do [[ -f "$f" ]] && echo "${f%.*}"; done)
                    COMPREPLY=($(compgen -W "$names" -- "$cur"))
                    return
                fi
            fi
            ;;
    esac
    local COMP_WORDS_SAVED=("${COMP_WORDS[@]}")
    COMP_WORDS=(git-secrets "${COMP_WORDS[@]:2}")
    COMP_CWORD=$((COMP_CWORD - 1))
    _git__secrets git-secrets "$cur" "${COMP_WORDS[COMP_CWORD-1]}"
    COMP_WORDS=("${COMP_WORDS_SAVED[@]}")
}
"#;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh or fish.
    pub shell: clap_complete::Shell,
}

pub fn run(_ctx: &Ctx, args: CompletionsArgs) -> Result<i32> {
    let mut out = Vec::new();
    write(args.shell, &mut out);
    crate::ui::write_stdout(&out)
}

/// Writes the completion script for `shell`.
pub fn write(shell: Shell, out: &mut Vec<u8>) {
    let mut cmd = Cli::command();
    if shell == Shell::Bash {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "git-secrets", &mut script);
        // clap_complete 4.6 names the subcommand states of a hyphenated binary two
        // ways (`git__secrets__subcmd__x` when matching words, `git__subcmd__secrets…`
        // in the case labels), so subcommand options never complete; unify them.
        let script =
            String::from_utf8_lossy(&script).replace("git__subcmd__secrets", "git__secrets");
        out.extend_from_slice(script.as_bytes());
        out.extend_from_slice(BASH_GIT_GLUE.as_bytes());
    } else {
        clap_complete::generate(shell, &mut cmd, "git-secrets", out);
    }
}
