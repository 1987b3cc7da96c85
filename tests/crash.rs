//! Crash safety: `rotate` killed with SIGKILL at random moments, 50 times.
//! After each kill the repos hold the old or the new state — the secret file
//! decrypts to one of the two values, the inner HEAD is the old commit or one
//! new commit holding the new value, `flake.lock` parses and locks one of
//! those commits — and running the same command again completes the job.

mod common;

use common::cluster::Cluster;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

const A: &str = "apiVersion: v1\nkind: Config\ntoken: value-a-0123456789\n";
const B: &str = "apiVersion: v1\nkind: Config\ntoken: value-b-9876543210\n";

/// Our decryption of the working-tree secret (the real sops is slower and
/// not the point here; interop is proven elsewhere).
fn plaintext(c: &Cluster) -> String {
    let out = c.cmd(&["show", "kubeconfig"]).output().unwrap();
    assert!(
        out.status.success(),
        "the secret does not decrypt after a kill: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Waits until every process of group `pgid` is gone (git or nix children
/// of the killed command finish on their own, as after a real crash).
fn wait_for_group(pgid: i32) {
    let start = Instant::now();
    while nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "children of the killed command linger"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_killed_at_random_moments_leaves_old_or_new_and_a_rerun_completes() {
    let c = Cluster::new(&[("kubeconfig.yaml", A)]);
    let a = c.env.write("a.yaml", A);
    let b = c.env.write("b.yaml", B);
    // How long one rotate takes here, to spread the kills over its whole run.
    let t0 = Instant::now();
    c.cmd(&[
        "rotate",
        "kubeconfig",
        "--from",
        b.to_str().unwrap(),
        "--offline",
    ])
    .assert()
    .success();
    let full = t0.elapsed().as_micros() as u64;
    c.cmd(&[
        "rotate",
        "kubeconfig",
        "--from",
        a.to_str().unwrap(),
        "--offline",
    ])
    .assert()
    .success();

    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut killed_mid_way = 0;
    for i in 0..50 {
        let (from, old_text, new_text) = if i % 2 == 0 { (&b, A, B) } else { (&a, B, A) };
        let old_head = c.inner_head();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_micros((seed >> 33) % full.max(1));

        let mut cmd = c.env.command(common::bin());
        cmd.current_dir(&c.parent)
            .args([
                "rotate",
                "kubeconfig",
                "--from",
                from.to_str().unwrap(),
                "--offline",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = cmd.spawn().unwrap();
        let pgid = child.id() as i32;
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL, only to our process
        let _ = child.wait();
        wait_for_group(pgid);
        if !finished {
            killed_mid_way += 1;
        }

        // Old or new, never a mix.
        let text = plaintext(&c);
        assert!(
            text == old_text || text == new_text,
            "run {i}: the secret holds neither value: {text}"
        );
        let head = c.inner_head();
        if head != old_head {
            assert_eq!(
                c.git(&c.inner, &["rev-parse", "HEAD^"]),
                old_head,
                "run {i}: more than one new commit"
            );
            let committed = c.git(&c.inner, &["show", "HEAD:secrets/kubeconfig.yaml"]);
            assert!(
                committed.contains("ENC[AES256_GCM"),
                "run {i}: plaintext committed"
            );
        }
        let locked = c.locked_rev();
        assert!(
            locked == old_head || locked == head,
            "run {i}: flake.lock holds {locked}, neither {old_head} nor {head}"
        );

        // The same command again finishes the job.
        let out = c
            .cmd(&[
                "rotate",
                "kubeconfig",
                "--from",
                from.to_str().unwrap(),
                "--offline",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "run {i}: rerun failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(plaintext(&c), new_text, "run {i}");
        assert_eq!(
            c.git(&c.inner, &["status", "--porcelain"]),
            "",
            "run {i}: inner repo not clean"
        );
        assert_eq!(c.locked_rev(), c.inner_head(), "run {i}: lock not at HEAD");
    }
    // The kills must have landed inside the command, not only after it.
    assert!(
        killed_mid_way >= 25,
        "only {killed_mid_way} of 50 kills hit a running command"
    );
}
