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

/// `cfg(missing_<tool>)` for each tool not on PATH, so a test that needs it is
/// `#[cfg_attr(missing_nix, ignore = "…")]`: shown as ignored, never passed
/// by returning early. Under `CI=true` nothing is missing on purpose: the
/// test runs and fails loudly.
fn missing_tools() {
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=CI");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in ["nix", "man"] {
        println!("cargo::rustc-check-cfg=cfg(missing_{tool})");
        let found = std::env::split_paths(&path).any(|dir| dir.join(tool).is_file());
        if !found && !ci {
            println!("cargo:rustc-cfg=missing_{tool}");
        }
    }
}
