// Records `git describe` of the source tree for `--version` (or
// $GIT_SECRETS_DESCRIBE when the builder sets it: the Nix build has no .git),
// and tells the integration tests which external tools are missing.
fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    println!("cargo:rerun-if-env-changed=GIT_SECRETS_DESCRIBE");
    let describe = std::env::var("GIT_SECRETS_DESCRIBE")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(git_describe)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=GIT_SECRETS_DESCRIBE={describe}");
    missing_tools();
}

fn git_describe() -> Option<String> {
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--tags"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `cfg(missing_<tool>)` for each tool the tests need that is not here, so a test that
/// needs it is `#[cfg_attr(missing_nix, ignore = "needs nix")]`: shown as ignored, never
/// passed by returning early. Under `CI=true` nothing is missing on purpose: the test
/// runs and fails loudly (tests/common `require_tool`).
fn missing_tools() {
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=GIT_SECRETS_TEST_SOPS");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let files = [
        ("awslabs", "/usr/bin/git-secrets"),
        (
            "bash_completion",
            "/usr/share/bash-completion/bash_completion",
        ),
    ];
    let programs = ["nix", "sops", "age", "strace", "man", "python3", "yq"];
    for name in programs.iter().copied().chain(files.iter().map(|f| f.0)) {
        println!("cargo::rustc-check-cfg=cfg(missing_{name})");
    }
    if ci {
        return;
    }
    for p in programs {
        let found = if p == "sops" {
            std::env::var_os("GIT_SECRETS_TEST_SOPS").is_some() || on_path("sops")
        } else {
            on_path(p)
        };
        if !found {
            println!("cargo:rustc-cfg=missing_{p}");
        }
    }
    for (name, path) in files {
        if !std::path::Path::new(path).exists() {
            println!("cargo:rustc-cfg=missing_{name}");
        }
    }
}

fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| {
        std::fs::metadata(d.join(name))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}
