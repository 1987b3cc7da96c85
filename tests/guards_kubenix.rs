//! The leak guards measured on a realistic kubenix parent (issue 18): a few hundred lines
//! of Kubernetes/Talos/Helm Nix whose namespaces, names, hosts and URLs are also values
//! of the (fully encrypted) kubeconfig and talosconfig, and realistic leaks of the
//! secrets' credentials (a service-account token, a client key, a CA key, API tokens,
//! base64 of each). Every clean file must commit (names only warn: 0 false blocks) and
//! every leak must be blocked (0 missed). The fixture is `fixtures/kubenix/`; its
//! secrets were made by `fixtures/kubenix/make-secrets.sh` (throwaway keys).
//!
//! Run with `--nocapture` to see the table.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::cluster::Cluster;
use std::fs;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kubenix")
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The values of every `key: value` line for `key` in a YAML text, in order.
fn fields(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim().to_string())
        .collect()
}

fn decode(b64: &str) -> String {
    String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
}

fn wrap76(text: &str) -> String {
    STANDARD
        .encode(text)
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect()
}

/// (exit code, report) of `doctor --staged --json` with only `rel` staged.
fn doctor_staged(c: &Cluster, rel: &str) -> (i32, serde_json::Value) {
    c.git(&c.parent, &["add", "-f", "--", rel]);
    let out = c.cmd(&["doctor", "--staged", "--json"]).output().unwrap();
    c.git(&c.parent, &["rm", "-q", "--cached", "--", rel]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{rel}: not a report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn with_status<'a>(report: &'a serde_json::Value, status: &str) -> Vec<&'a str> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == status)
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_kubenix_parent_commits_without_false_blocks_and_every_credential_leak_is_blocked() {
    let dir = fixture().join("secrets");
    let secrets: Vec<(String, String)> = files(&dir)
        .into_iter()
        .map(|f| (f.clone(), fs::read_to_string(dir.join(&f)).unwrap()))
        .collect();
    let refs: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let c = Cluster::new(&refs);
    let text = |name: &str| {
        secrets
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, t)| t.clone())
            .unwrap()
    };
    let kubeconfig = text("kubeconfig.yaml");
    let talosconfig = text("talosconfig.yaml");
    let talos_secrets = text("talos-secrets.yaml");
    let sa_token = fields(&kubeconfig, "token")[0].clone();
    let client_key = decode(&fields(&kubeconfig, "client-key-data")[0]);
    // certs.k8s.key: the Kubernetes CA's private key (keys in order: etcd, k8s, …)
    let ca_key = decode(&fields(&talos_secrets, "key")[1]);
    let talos_key = decode(&fields(&talosconfig, "key")[0]);
    let hcloud = fields(&text("hcloud.yaml"), "hcloud_token")[0].clone();
    let grafana = text("grafana.yaml");
    let admin_password = fields(&grafana, "admin_password")[0].clone();
    let oidc_secret = fields(&grafana, "oidc_client_secret")[0].clone();
    let cf_token = fields(&text("cloudflare.yaml"), "api_token")[0].clone();
    let bootstrap = fields(&talos_secrets, "bootstraptoken")[0].clone();
    let secretbox = fields(&talos_secrets, "secretboxencryptionsecret")[0].clone();
    let pushover = fields(&text("monitoring-values.yaml"), "token")[0].clone();
    let pushover_user = fields(&text("monitoring-values.yaml"), "- user_key")[0].clone();
    let ssh_key = common::ssh_key_text();
    let b64 = |s: &str| STANDARD.encode(s);
    let leaks: Vec<(&str, &str, String)> = vec![
        ("service-account token in a manifest", "k8s/ci-token.nix", format!("{{ ci.token = \"{sa_token}\"; }}\n")),
        ("hcloud token in .envrc", ".envrc", format!("export HCLOUD_TOKEN={hcloud}\n")),
        ("client key (PEM)", "pki/admin.key", client_key.clone()),
        ("Kubernetes CA key (PEM)", "pki/ca.key", ca_key.clone()),
        ("talosconfig client key (PEM)", "talos/admin.key", talos_key.clone()),
        ("grafana admin password in Helm values", "k8s/grafana-values.nix", format!("{{ grafana.adminPassword = \"{admin_password}\"; }}\n")),
        ("OIDC client secret in grafana.ini", "k8s/grafana-oidc.nix", format!("{{ client_secret = \"{oidc_secret}\"; }}\n")),
        ("cloudflare token in a Secret's stringData", "k8s/cloudflare.yaml", format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: cloudflare\n  namespace: cert-manager\nstringData:\n  api_token: {cf_token}\n")),
        ("Talos bootstrap token in a machine-config patch", "cluster/patch.nix", format!("{{ cluster.token = \"{bootstrap}\"; }}\n")),
        ("Talos secretbox key", "cluster/secretbox.nix", format!("{{ cluster.secretboxEncryptionSecret = \"{secretbox}\"; }}\n")),
        ("the whole decrypted kubeconfig", "kubeconfig", kubeconfig.clone()),
        ("alertmanager's pushover token and user key in Nix", "k8s/alerts.nix", format!("{{ pushover = {{ token = \"{pushover}\"; user_key = \"{pushover_user}\"; }}; }}\n")),
        ("Flux's sops-age Secret: the age key, base64", "k8s/flux-sops-age.nix", format!("{{ data.\"age.agekey\" = \"{}\"; }}\n", b64(&common::key_text("age-a")))),
        ("an OpenSSH deploy key", "deploy/id_ed25519", ssh_key),
        ("base64 of the token in a Secret's data:", "k8s/ci-secret.yaml", format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ndata:\n  token: {}\n", b64(&sa_token))),
        ("base64 of the hcloud token in Nix", "k8s/hcloud-secret.nix", format!("{{ data.token = \"{}\"; }}\n", b64(&hcloud))),
        ("base64 of the token + newline (echo | base64)", "notes/token.b64", b64(&format!("{sa_token}\n"))),
        ("base64 of the client key, wrapped by base64(1)", "pki/admin.key.b64", wrap76(&client_key)),
        ("base64 of the CA key, wrapped by base64(1)", "pki/ca.key.b64", wrap76(&ca_key)),
        ("base64 of the talos key inside a JSON blob", "talos/blob.b64", b64(&format!("{{\"key\":{}}}", serde_json::to_string(&talos_key).unwrap()))),
        ("base64 of the grafana password in a Secret", "k8s/grafana-secret.yaml", format!("data:\n  admin-password: {}\n", b64(&admin_password))),
    ];
    let mut clean = files(&fixture().join("parent"));
    for f in &clean {
        let to = c.parent.join(f);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(fixture().join("parent").join(f), &to).unwrap();
    }
    // certificates are public by design: the cluster CA's, as an OIDC or kubeconfig
    // template would carry it, warns at most
    let ca_crt = decode(&fields(&kubeconfig, "certificate-authority-data")[0]);
    fs::create_dir_all(c.parent.join("pki")).unwrap();
    fs::write(c.parent.join("pki/ca.crt"), &ca_crt).unwrap();
    clean.push("pki/ca.crt".into());
    let mut rows: Vec<String> = Vec::new();
    let mut false_blocks = 0;
    let mut warned = 0;
    for f in &clean {
        let (code, report) = doctor_staged(&c, f);
        let fails = with_status(&report, "fail");
        let warns = with_status(&report, "warn");
        if code != 0 {
            false_blocks += 1;
        }
        if !warns.is_empty() {
            warned += 1;
        }
        rows.push(format!(
            "clean  {:<34} {:<7} {}",
            f,
            if code == 0 { "commits" } else { "BLOCKED" },
            [fails, warns].concat().join(" ")
        ));
    }
    let mut missed = 0;
    for (what, rel, text) in &leaks {
        let to = c.parent.join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::write(&to, text).unwrap();
        let (code, report) = doctor_staged(&c, rel);
        let fails = with_status(&report, "fail");
        if code == 0 {
            missed += 1;
        }
        rows.push(format!(
            "leak   {:<34} {:<7} {} ({what})",
            rel,
            if code == 0 { "MISSED" } else { "blocked" },
            fails.join(" ")
        ));
        fs::remove_file(&to).unwrap();
    }
    let lines: usize = clean
        .iter()
        .map(|f| {
            fs::read_to_string(c.parent.join(f))
                .unwrap()
                .lines()
                .count()
        })
        .sum();
    eprintln!(
        "{}\n\nclean files: {} ({lines} lines), false blocks: {false_blocks}, with a warning: {warned}\nleaks: {}, missed: {missed}",
        rows.join("\n"),
        clean.len(),
        leaks.len()
    );
    assert_eq!((false_blocks, missed), (0, 0), "{}", rows.join("\n"));
    // --history reads the same list: commit the clean tree (the leaks, only ever
    // staged, pruned), nothing fails
    c.git(&c.parent, &["reflog", "expire", "--expire=now", "--all"]);
    c.git(&c.parent, &["gc", "-q", "--prune=now"]);
    for f in &clean {
        c.git(&c.parent, &["add", "-f", "--", f]);
    }
    c.git(&c.parent, &["commit", "-qm", "clean tree", "--no-verify"]);
    let out = c.cmd(&["doctor", "--history", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let history_fails: Vec<&str> = with_status(&report, "fail")
        .into_iter()
        .filter(|id| id.starts_with("history."))
        .collect();
    assert_eq!(history_fails, Vec::<&str>::new(), "{report:#}");
}
