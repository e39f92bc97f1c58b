//! OSM's own code as a judge: the `osm-consumer-<version>` binaries that `make tools` builds from
//! the Go module proxy (`tools/osm-consumer`, `.ci/osm-consumer`). Each reads objects as JSON lines
//! and answers, per object, what OSM does with it: `harm` (OSM mishandles a written value),
//! `ignored` (OSM logs it and changes nothing), its logs and the effective values.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::tools::{tool, tools_dir};

/// What OSM did with one object.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub id: String,
    pub decoded: bool,
    /// `(field, detail)` of every value OSM mishandles.
    pub harm: Vec<(String, String)>,
    /// `(field, detail)` of every value OSM logs and leaves unapplied.
    pub ignored: Vec<(String, String)>,
    /// The whole answer, for failure messages.
    pub raw: Value,
}

fn findings(v: &Value, key: &str) -> Vec<(String, String)> {
    v[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or_default().to_owned(),
                f["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Runs OSM `version`'s consumer on `objects` (`(id, object)`), one process for all of them.
/// Panics, saying how to get it, when the consumer is not installed or fails.
pub fn judge(version: &str, objects: &[(String, Value)]) -> Vec<Verdict> {
    run(version, objects, None)
}

/// As [`judge`], each object an UPDATE of `old` (the v0.8.4 consumer runs OSM's own webhook on it).
pub fn judge_with_old(version: &str, objects: &[(String, Value)], old: &Value) -> Vec<Verdict> {
    run(version, objects, Some(old))
}

fn run(version: &str, objects: &[(String, Value)], old: Option<&Value>) -> Vec<Verdict> {
    let bin = tool(&format!("osm-consumer-{version}"));
    tool("iptables-restore");
    let mut child = Command::new(&bin)
        .arg("--iptables-dir")
        .arg(tools_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut input = Vec::new();
    for (id, object) in objects {
        let case = match old {
            Some(old) => json!({"id": id, "object": object, "oldObject": old}),
            None => json!({"id": id, "object": object}),
        };
        serde_json::to_writer(&mut input, &case).expect("encode a case");
        input.push(b'\n');
    }
    let mut stdin = child.stdin.take().expect("consumer stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("consumer output");
    writer.join().expect("writer thread").expect("write the cases");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        bin.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<Verdict> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let raw: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("consumer answered {line:?}: {e}"));
            assert!(
                raw["error"].is_null(),
                "osm-consumer-{version} could not judge a case: {raw}"
            );
            Verdict {
                id: raw["id"].as_str().unwrap_or_default().to_owned(),
                decoded: raw["decoded"].as_bool().unwrap_or(false),
                harm: findings(&raw, "harm"),
                ignored: findings(&raw, "ignored"),
                raw,
            }
        })
        .collect();
    assert_eq!(
        verdicts.len(),
        objects.len(),
        "osm-consumer-{version} answered {} of {} cases:\n{}",
        verdicts.len(),
        objects.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    verdicts
}

/// OSM's informer and configurator watching `osm-mesh-config` on a real apiserver
/// (`osm-consumer-<version> watch`): each line is OSM's view after a change, or what OSM logged.
pub struct Watch {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<Value>,
    /// Every line seen so far, for failure messages.
    pub seen: Vec<Value>,
}

impl Watch {
    pub fn start(version: &str, kubeconfig: &std::path::Path, namespace: &str) -> Watch {
        let bin = tool(&format!("osm-consumer-{version}"));
        let mut child = Command::new(&bin)
            .args(["watch", "--kubeconfig"])
            .arg(kubeconfig)
            .args(["--namespace", namespace])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("watch stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line, or `None` after `timeout`.
    pub fn next(&mut self, timeout: std::time::Duration) -> Option<Value> {
        let v = self.lines.recv_timeout(timeout).ok()?;
        self.seen.push(v.clone());
        Some(v)
    }

    /// The first view (not a log line) that satisfies `ok`, within `timeout`; panics otherwise.
    pub fn view_where(&mut self, timeout: std::time::Duration, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.next(left) {
                Some(v) if v["event"] == "view" && ok(&v) => return v,
                Some(_) => {}
                None => break,
            }
        }
        panic!(
            "OSM's view never showed {what} within {timeout:?}; it printed:\n{:#?}",
            self.seen
        )
    }

    /// Every line printed within `d`.
    pub fn during(&mut self, d: std::time::Duration) -> Vec<Value> {
        let deadline = std::time::Instant::now() + d;
        let mut out = Vec::new();
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.next(left) {
                Some(v) => out.push(v),
                None => break,
            }
        }
        out
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs osm-bootstrap's own `ensureMeshConfig` (OSM `version`'s, as a test binary built by
/// `.ci/osm-consumer`) against the apiserver of `kubeconfig` in `namespace`; its output when it
/// fails.
pub fn ensure_mesh_config(version: &str, kubeconfig: &std::path::Path, namespace: &str) -> Result<String, String> {
    let bin = tool(&format!("osm-consumer-{version}-osm-bootstrap"));
    let out = Command::new(&bin)
        .args(["-test.run", "^TestOSMConsumerEnsureMeshConfig$", "-test.v"])
        .env("OSM_CONSUMER_KUBECONFIG", kubeconfig)
        .env("OSM_CONSUMER_NAMESPACE", namespace)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.contains("--- PASS: TestOSMConsumerEnsureMeshConfig") {
        Ok(text)
    } else {
        Err(text)
    }
}
