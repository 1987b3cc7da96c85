//! `.sops.yaml` parsing and rule matching never panic.
#![no_main]
use git_secrets::sops::rules::Config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(cfg) = Config::parse(data, Path::new("/repo/.sops.yaml")) {
        let _ = cfg.rule_for(Path::new("/repo/secrets/kubeconfig.yaml"));
    }
});
