//! Shell completions, including `git secrets <TAB>` through git's own bash
//! completion (real bash-completion and git's completion script).

mod common;

use common::cluster::Cluster;
use common::{assert_success, TestEnv};
use std::path::Path;

const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";
const GIT_COMPLETION: &str = "/usr/share/bash-completion/completions/git";

/// Runs the completion for `words` (the last one being completed) in `dir`.
fn complete(env: &TestEnv, dir: &Path, script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let prog = format!(
        "source {BASH_COMPLETION}; source {GIT_COMPLETION}; source '{}'; \
         COMP_WORDS=({}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
         COMP_POINT=${{#COMP_LINE}}; COMPREPLY=(); __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" ")
    );
    let out = env
        .command("bash")
        .current_dir(dir)
        .args(["-c", &prog])
        .output()
        .unwrap();
    assert_success("bash completion", &out);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
#[cfg_attr(missing_bash_completion, ignore = "needs bash-completion")]
fn git_secrets_completes_through_gits_bash_completion() {
    assert!(
        Path::new(BASH_COMPLETION).exists() && Path::new(GIT_COMPLETION).exists(),
        "bash-completion and git's completion script are needed"
    );
    // Completion only lists names: empty files do.
    let c = Cluster::builder()
        .plain_file("kubeconfig.yaml", "")
        .plain_file("hcloud-token.yaml", "")
        .unlocked()
        .build();
    let (env, repo) = (&c.env, &c.parent);
    let out = env.cmd(["completions", "bash"]).output().unwrap();
    assert_success("completions bash", &out);
    let script = env.write("git-secrets.bash", &out.stdout);

    assert_eq!(
        complete(env, repo, &script, &["git", "secrets", "sh"]),
        ["show"]
    );
    let all = complete(env, repo, &script, &["git", "secrets", ""]);
    for cmd in ["init", "show", "exec", "doctor", "decrypt"] {
        assert!(all.iter().any(|c| c == cmd), "{cmd} missing from {all:?}");
    }
    let names = complete(env, repo, &script, &["git", "secrets", "show", ""]);
    assert_eq!(names, ["hcloud-token", "kubeconfig"]);
    assert_eq!(
        complete(env, repo, &script, &["git", "secrets", "exec", "kube"]),
        ["kubeconfig"]
    );
    assert_eq!(
        complete(env, repo, &script, &["git", "secrets", "decrypt", "--inp"]),
        ["--input-type"]
    );
}

#[test]
fn zsh_and_fish_completions_are_generated() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("zsh", "#compdef git-secrets"),
        ("fish", "complete -c git-secrets"),
    ] {
        let out = env.cmd(["completions", shell]).output().unwrap();
        assert_success(shell, &out);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(marker),
            "{shell}"
        );
    }
}
