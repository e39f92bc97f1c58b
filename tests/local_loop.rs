//! The README's local loop, run as written: etcd and kube-apiserver from `./bin`, OSM's CRD,
//! `meshconfig-webhook serve` on this machine, the chart installed in development mode
//! (`webhook.url`) and a patch that the webhook refuses.
//!
//! The block runs in bash line for line, except its first line (`make tools`, a release build and
//! `PATH`), which the test does itself: `./bin` and this test's build of the binary go on `PATH`.
//! It listens on the ports the README names (2379, 2380, 6443, 8443, 9090), so this file holds one
//! test and its own binary: nothing else in the suite binds them.

mod support;

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::tools::tool;

const SECTION: &str = "## A local loop: a control plane, the webhook, a patch";
const FIRST_LINE: &str = "make tools && cargo build --release && export PATH=$PWD/bin:$PWD/target/release:$PATH";
const TIMEOUT: Duration = Duration::from_secs(180);

/// The section's `sh` block and the line its `console` block says the last command prints.
fn recipe() -> (Vec<String>, String) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme
        .find(SECTION)
        .unwrap_or_else(|| panic!("README.md has no section {SECTION:?}"));
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let block = |fence: &str| -> String {
        let from = section
            .find(fence)
            .unwrap_or_else(|| panic!("the section has no {fence} block"))
            + fence.len();
        let len = section[from..].find("```").expect("the block ends");
        section[from..from + len].to_owned()
    };
    let lines = block("```sh\n").lines().map(str::to_owned).collect();
    let expected = block("```console\n").trim_end().to_owned();
    (lines, expected)
}

#[test]
fn runs_the_readmes_local_loop_and_the_webhook_refuses_its_patch() {
    let (lines, expected) = recipe();
    assert_eq!(
        lines.first().map(String::as_str),
        Some(FIRST_LINE),
        "the recipe's first line changed"
    );
    // Fail loudly, saying how to get them, when the tools are missing.
    let bin = tool("kube-apiserver").parent().expect("./bin").to_path_buf();
    for t in ["etcd", "kubectl", "helm"] {
        tool(t);
    }
    let ours = Path::new(support::BIN).parent().expect("the binary's directory");
    let home = tempfile::tempdir().expect("home");
    let script = format!(
        "set -eu\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\nexport PATH={}:{}:$PATH\n{}\n",
        bin.display(),
        ours.display(),
        lines[1..].join("\n")
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home.path())
        // The recipe's mktemp directories go with the test's.
        .env("TMPDIR", home.path())
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout stops etcd, the apiserver and the webhook too.
        .process_group(0)
        .spawn()
        .expect("spawn bash");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for bash") {
            break Some(status);
        }
        if Instant::now() > deadline {
            kill_group(child.id());
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // What outlives bash (an apiserver still shutting down after its etcd went) goes now.
    kill_group(child.id());
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut stdout);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = status.unwrap_or_else(|| panic!("the recipe did not finish within {TIMEOUT:?}:\n{stdout}\n{stderr}"));
    // The last command is the refused patch: kubectl exits 1 and prints the denial last.
    assert_eq!(status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(
        stderr.lines().last(),
        Some(expected.as_str()),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

/// SIGKILL to the process group `pgid` (bash's builtin `kill`: no other tool needed).
fn kill_group(pgid: u32) {
    let _ = Command::new("bash")
        .args(["-c", &format!("kill -KILL -- -{pgid} 2>/dev/null")])
        .status();
}
