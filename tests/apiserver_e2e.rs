//! End to end against a real Kubernetes control plane: kube-apiserver v1.37 and etcd (built from
//! the Go module proxy, `make tools`), OSM's own MeshConfig CRD (the upstream YAML of v1.2.4 and
//! v0.9.2, `tests/fixtures/osm-crds`), the webhook as a local `meshconfig-webhook serve` process
//! and the ValidatingWebhookConfiguration the chart renders (`helm template`, with `webhook.url`
//! pointing the apiserver at the local process), driven by the pinned `kubectl`.
//!
//! One control plane per CRD release is shared by the tests of this binary; each test gets its own
//! mesh namespace, MeshConfig, webhook process and webhook configuration (the chart's
//! namespaceSelector keeps them apart), so tests run in parallel without seeing each other.
//!
//! What kubectl prints is asserted byte for byte where it is the contract users see.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Webhook;
use support::control_plane::{ControlPlane, LogsOnFailure, Run};
use support::tools::tool;

const WEBHOOK: &str = "meshconfig-webhook.openservicemesh.io";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

static V1_2: LazyLock<ControlPlane> = LazyLock::new(|| ControlPlane::with_osm_crd("meshconfig-crd-v1.2.4.yaml"));
static V0_9: LazyLock<ControlPlane> = LazyLock::new(|| ControlPlane::with_osm_crd("meshconfig-crd-v0.9.2.yaml"));
static V1_0: LazyLock<ControlPlane> = LazyLock::new(|| ControlPlane::with_osm_crd("meshconfig-crd-v1.0.0.yaml"));

/// Options of a test's mesh.
#[derive(Clone)]
struct MeshOptions {
    release: &'static str,
    preset: &'static str,
    /// Extra `--set` values for the chart's webhook configuration.
    values: Vec<String>,
    /// Extra flags for `meshconfig-webhook serve`.
    serve: Vec<String>,
    /// The mesh namespace; default: a fresh one named after the test. At most one test per
    /// control plane may take a fixed name.
    namespace: Option<&'static str>,
}

impl Default for MeshOptions {
    fn default() -> Self {
        MeshOptions {
            release: "1.2",
            preset: "objects/meshconfig-v1.2.4.json",
            values: vec![],
            serve: vec![],
            namespace: None,
        }
    }
}

/// One test's mesh: a namespace with OSM's preset MeshConfig, a webhook process serving it and
/// the chart's webhook configuration routing that namespace to the process.
struct Mesh {
    cp: &'static ControlPlane,
    ns: String,
    opts: MeshOptions,
    webhook: Option<Webhook>,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

static MESHES: AtomicUsize = AtomicUsize::new(0);

impl Mesh {
    /// Creates the namespace and the preset MeshConfig (before any webhook sees it).
    fn new(cp: &'static ControlPlane, name: &str, opts: MeshOptions) -> Mesh {
        let ns = opts
            .namespace
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{name}-{}", MESHES.fetch_add(1, Ordering::Relaxed)));
        cp.kubectl(&["create", "namespace", &ns]).success("create namespace");
        let mut preset = support::read_json(opts.preset);
        preset["metadata"]["namespace"] = json!(ns);
        cp.kubectl_stdin(&["create", "-f", "-"], Some(&preset.to_string()))
            .success("create the preset MeshConfig");
        let dir = tempfile::tempdir().expect("tempdir");
        Mesh {
            cp,
            ca_file: dir.path().join("ca.crt"),
            ns,
            opts,
            webhook: None,
            _dir: dir,
        }
    }

    /// Starts the webhook for this namespace (development certificates) and registers it.
    fn serve_and_register(&mut self) {
        let mut args = vec![
            "--mesh-namespace".to_owned(),
            self.ns.clone(),
            "--osm-release".to_owned(),
            self.opts.release.to_owned(),
        ];
        args.extend(self.opts.serve.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let webhook = Webhook::start(&args);
        std::fs::write(&self.ca_file, &webhook.ca_pem).expect("write CA");
        let url = webhook.url("/validate");
        self.webhook = Some(webhook);
        self.register(&url, &self.ca_file.clone());
    }

    fn release(&self) -> String {
        format!("e2e-{}", self.ns)
    }

    /// The webhook configuration exactly as the chart renders it for this namespace, pointed at
    /// `url` and trusting `ca_file`.
    fn rendered_configuration(&self, url: &str, ca_file: &Path) -> String {
        let chart = repo().join("charts/meshconfig-webhook");
        let mut args: Vec<String> = [
            "template",
            &self.release(),
            &chart.display().to_string(),
            "--namespace",
            &self.ns,
            "--kube-version",
            "v1.37.2",
            "--show-only",
            "templates/validatingwebhookconfiguration.yaml",
            "--set",
            &format!("osm.meshNamespace={}", self.ns),
            "--set-string",
            &format!("osm.release={}", self.opts.release),
            // url mode: the caBundle is the local process's CA; no Secret is named or mounted.
            "--set",
            "certificates.mode=secret",
            "--set-file",
            &format!("certificates.secret.caBundle={}", ca_file.display()),
            "--set",
            &format!("webhook.url={url}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for v in &self.opts.values {
            args.push("--set".to_owned());
            args.push(v.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = std::process::Command::new(tool("helm"))
            .args(&args)
            .output()
            .expect("run helm template");
        assert!(
            out.status.success(),
            "helm template failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 manifests")
    }

    /// Applies the chart's webhook configuration and waits until the apiserver calls the webhook.
    fn register(&self, url: &str, ca_file: &Path) {
        self.cp.apply(&self.rendered_configuration(url, ca_file));
        self.wait_until(true);
    }

    fn configuration_name(&self) -> String {
        format!("{}-meshconfig-webhook", self.release())
    }

    /// Waits until a probe (a server-side dry run of a duration OSM cannot parse) is denied by the webhook
    /// (`registered`) or admitted (not registered): the apiserver picks up configurations
    /// asynchronously.
    fn wait_until(&self, registered: bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let run = self.patch(
                r#"{"spec":{"certificate":{"serviceCertValidityDuration":"1x"}}}"#,
                &["--dry-run=server"],
            );
            let denied = run.stderr.contains(r#"unknown unit "x" in duration "1x""#);
            if denied == registered {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the webhook configuration was not {} within 30s: {run:?}",
                if registered { "effective" } else { "removed" }
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn patch(&self, patch: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "-n",
            &self.ns,
            "patch",
            "meshconfig",
            "osm-mesh-config",
            "--type=merge",
            "-p",
            patch,
        ];
        args.extend_from_slice(extra);
        self.cp.kubectl(&args)
    }

    fn get(&self) -> Value {
        let run = self
            .cp
            .kubectl(&["-n", &self.ns, "get", "meshconfig", "osm-mesh-config", "-o", "json"])
            .success("get the MeshConfig");
        serde_json::from_str(&run.stdout).expect("MeshConfig JSON")
    }

    /// How many reviews the webhook has answered (its own metric).
    fn reviews(&self) -> u64 {
        let webhook = self.webhook.as_ref().expect("webhook running");
        let metrics = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(webhook.metrics());
        metrics
            .lines()
            .filter(|l| l.starts_with("meshconfig_webhook_requests_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(w) = &self.webhook {
                eprintln!("webhook logs:\n{}", w.logs().join("\n"));
            }
            return;
        }
        // Free the namespace's objects; the shared control plane goes on for other tests.
        let _ = self.cp.kubectl(&[
            "delete",
            "validatingwebhookconfiguration",
            &self.configuration_name(),
            "--ignore-not-found",
        ]);
        let _ = self.cp.kubectl(&["delete", "namespace", &self.ns, "--wait=false"]);
    }
}

fn mesh(name: &str) -> Mesh {
    let mut m = Mesh::new(&V1_2, name, MeshOptions::default());
    m.serve_and_register();
    m
}

// ---------------------------------------------------------------------------------------------
// MeshConfig through the real apiserver (OSM v1.2.4's CRD)

#[test]
fn rejects_the_seed_patch_in_the_crd_before_the_webhook_is_called() {
    let _logs = LogsOnFailure(&V1_2);
    // Where Azure Arc's OSM extension keeps its MeshConfig.
    let mut m = Mesh::new(
        &V1_2,
        "seed",
        MeshOptions {
            namespace: Some(support::MESH_NAMESPACE),
            ..MeshOptions::default()
        },
    );
    m.serve_and_register();
    let before = m.reviews();
    let run = V1_2.kubectl(&[
        "patch",
        "meshconfig",
        "osm-mesh-config",
        "-n",
        "arc-osm-system",
        "-p",
        r#"{"spec":{"traffic":{"enableEgress":"no"}}}"#,
        "--type=merge",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"\n"
    );
    // The CRD's schema rejected it; the apiserver never asked the webhook.
    assert_eq!(m.reviews(), before, "the webhook was called for a CRD-invalid object");
}

#[test]
fn rejects_a_semantic_error_as_kubectl_prints_it() {
    let _logs = LogsOnFailure(&V1_2);
    let m = mesh("semantic");
    let run = m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "The MeshConfig \"osm-mesh-config\" is invalid: spec.certificate.serviceCertValidityDuration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\"\n"
        )
    );
    assert_eq!(m.get()["spec"]["certificate"]["serviceCertValidityDuration"], "24h");
}

#[test]
fn rejects_two_errors_at_once_as_kubectl_prints_them() {
    let _logs = LogsOnFailure(&V1_2);
    let m = mesh("two");
    let run = m.patch(
        r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x","certKeyBitSize":12}}}"#,
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "The MeshConfig \"osm-mesh-config\" is invalid: \n* spec.certificate.certKeyBitSize: Invalid value: 12: must be between 2048 and 4096, inclusive\n* spec.certificate.serviceCertValidityDuration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\"\n"
        )
    );
}

#[test]
fn accepts_a_risky_value_with_a_warning_kubectl_prints() {
    let _logs = LogsOnFailure(&V1_2);
    let m = mesh("warning");
    let run = m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"30m"}}}"#, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "meshconfig.config.openservicemesh.io/osm-mesh-config patched\n"
    );
    assert!(
        run.stderr
            .starts_with("Warning: spec.certificate.serviceCertValidityDuration: "),
        "{run:?}"
    );
    assert_eq!(m.get()["spec"]["certificate"]["serviceCertValidityDuration"], "30m");
}

#[test]
fn accepts_an_unrelated_change_beside_a_stored_invalid_value_and_rejects_changing_it() {
    let _logs = LogsOnFailure(&V1_2);
    // The invalid value is stored while no webhook is registered for this namespace.
    let mut m = Mesh::new(&V1_2, "ratchet", MeshOptions::default());
    m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#, &[])
        .success("store an invalid value before the webhook is registered");
    m.serve_and_register();

    let run = m.patch(r#"{"spec":{"sidecar":{"logLevel":"debug"}}}"#, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("Warning: ")
            && run.stderr.contains("spec.certificate.serviceCertValidityDuration")
            && run.stderr.contains("24x"),
        "the ratcheting warning must reach kubectl: {run:?}"
    );
    assert_eq!(m.get()["spec"]["sidecar"]["logLevel"], "debug");

    let run = m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"25x"}}}"#, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("Invalid value: \"25x\": time: unknown unit \"x\" in duration \"25x\""),
        "{run:?}"
    );
}

#[test]
fn dry_run_reaches_the_webhook_and_stores_nothing() {
    let _logs = LogsOnFailure(&V1_2);
    let m = mesh("dryrun");
    let version = m.get()["metadata"]["resourceVersion"].clone();

    let run = m.patch(
        r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#,
        &["--dry-run=server"],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.certificate.serviceCertValidityDuration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\"\n"
    );

    let before = m.reviews();
    let run = m.patch(
        r#"{"spec":{"certificate":{"serviceCertValidityDuration":"48h"}}}"#,
        &["--dry-run=server"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    // kubectl 1.37 no longer marks a server-side dry run in its output; the stored object shows it.
    assert_eq!(
        run.stdout,
        "meshconfig.config.openservicemesh.io/osm-mesh-config patched\n"
    );
    assert_eq!(m.reviews(), before + 1, "the dry run must reach the webhook");
    let stored = m.get();
    assert_eq!(stored["spec"]["certificate"]["serviceCertValidityDuration"], "24h");
    assert_eq!(stored["metadata"]["resourceVersion"], version);
}

#[test]
fn rejects_delete_when_protected_and_accepts_it_when_not() {
    let _logs = LogsOnFailure(&V1_2);
    let mut protected = Mesh::new(
        &V1_2,
        "protect",
        MeshOptions {
            values: vec!["webhook.protectDelete=true".to_owned()],
            serve: vec!["--protect-delete".to_owned()],
            ..MeshOptions::default()
        },
    );
    protected.serve_and_register();
    let run = protected
        .cp
        .kubectl(&["-n", &protected.ns, "delete", "meshconfig", "osm-mesh-config"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "Error from server (Forbidden): admission webhook \"{WEBHOOK}\" denied the request: "
        )),
        "{run:?}"
    );
    assert_eq!(protected.get()["metadata"]["name"], "osm-mesh-config");

    let open = mesh("unprotected");
    let run = open
        .cp
        .kubectl(&["-n", &open.ns, "delete", "meshconfig", "osm-mesh-config"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "meshconfig.config.openservicemesh.io \"osm-mesh-config\" deleted from {} namespace\n",
            open.ns
        )
    );
}

#[test]
fn accepts_the_write_the_apiserver_retries_after_a_503_with_retry_after() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let _logs = LogsOnFailure(&V1_2);
    let mut m = Mesh::new(
        &V1_2,
        "retry",
        MeshOptions {
            serve: vec!["--max-in-flight=1".into()],
            ..MeshOptions::default()
        },
    );
    m.serve_and_register();
    let webhook = m.webhook.as_ref().expect("webhook");
    let (addr, ca) = (webhook.addr, webhook.ca_pem.clone());
    // A client that takes the one review slot and sends its body slowly: while it holds the
    // slot, the webhook answers the apiserver `503 … retry` with `Retry-After: 1`.
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let body = support::read_json("reviews/meshconfig-create-v1.json").to_string();
            let (first, rest) = body.split_at(body.len() / 2);
            let mut tls = support::tls_stream(addr, &ca).await;
            let head = format!(
                "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
                body.len()
            );
            tls.write_all(head.as_bytes()).await.expect("write the first half");
            tls.flush().await.expect("flush");
            // The server takes the slot once it has the headers.
            tokio::time::sleep(Duration::from_millis(300)).await;
            held_tx.send(()).expect("signal");
            tokio::time::sleep(Duration::from_millis(3000)).await;
            tls.write_all(rest.as_bytes()).await.expect("write the rest");
            let mut answer = Vec::new();
            let _ = tls.read_to_end(&mut answer).await;
            String::from_utf8_lossy(&answer).into_owned()
        })
    });
    held_rx.recv().expect("the slot is held");
    let started = Instant::now();
    let run = m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#, &[]);
    let took = started.elapsed();
    let held = holder.join().expect("holder");
    assert!(held.starts_with("HTTP/1.1 200"), "{held}");
    // The apiserver got 503s, waited as told and retried within its 5 s timeout: the answer is the
    // webhook's decision, not a failed call.
    assert_eq!(
        run.stderr,
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.certificate.serviceCertValidityDuration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\"\n",
        "{run:?}"
    );
    let refused = m
        .webhook
        .as_ref()
        .expect("webhook")
        .logs()
        .iter()
        .filter(|l| l.contains("too many admission reviews in flight"))
        .count();
    assert!(refused >= 1, "the apiserver's first call must have met the held slot");
    assert!(
        took >= Duration::from_millis(1500),
        "answered after {took:?}: not by a retry"
    );
}

#[test]
fn failure_policy_fail_refuses_and_ignore_admits_writes_while_the_webhook_is_down() {
    let _logs = LogsOnFailure(&V1_2);
    for (policy, admitted) in [("Fail", false), ("Ignore", true)] {
        let mut m = Mesh::new(
            &V1_2,
            &format!("down-{}", policy.to_lowercase()),
            MeshOptions {
                values: vec![format!("webhook.failurePolicy={policy}")],
                ..MeshOptions::default()
            },
        );
        m.serve_and_register();
        let port = m.webhook.as_ref().expect("webhook").addr.port();
        drop(m.webhook.take());

        let run = m.patch(r#"{"spec":{"sidecar":{"logLevel":"debug"}}}"#, &[]);
        if admitted {
            assert_eq!(run.code, Some(0), "{policy}: {run:?}");
            assert_eq!(m.get()["spec"]["sidecar"]["logLevel"], "debug");
        } else {
            assert_eq!(run.code, Some(1), "{policy}: {run:?}");
            assert_eq!(
                run.stderr,
                format!(
                    "Error from server (InternalError): Internal error occurred: failed calling webhook \"{WEBHOOK}\": failed to call webhook: Post \"https://127.0.0.1:{port}/validate?timeout=5s\": dial tcp 127.0.0.1:{port}: connect: connection refused\n"
                )
            );
            assert_eq!(m.get()["spec"]["sidecar"]["logLevel"], "error");
        }
    }
}

#[test]
fn accepts_every_write_while_the_serving_certificate_rotates() {
    let _logs = LogsOnFailure(&V1_2);
    let mut m = Mesh::new(&V1_2, "rotate", MeshOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let old = meshconfig_webhook::certs::generate("meshconfig-webhook", &m.ns).expect("old pair");
    let new = meshconfig_webhook::certs::generate("meshconfig-webhook", &m.ns).expect("new pair");
    let paths = meshconfig_webhook::certs::write(dir.path(), &old).expect("write old pair");
    // docs/install.md's CA rotation: the caBundle trusts both CAs before the serving pair changes.
    let bundle = format!("{}{}", old.ca_pem, new.ca_pem);
    let webhook = Webhook::with_cert_files(
        &paths.cert,
        &paths.key,
        bundle.as_bytes(),
        "200ms",
        &["--mesh-namespace", &m.ns],
    );
    std::fs::write(&m.ca_file, &bundle).expect("write CA bundle");
    let url = webhook.url("/validate");
    m.webhook = Some(webhook);
    m.register(&url, &m.ca_file.clone());

    let failures = Arc::new(Mutex::new(Vec::new()));
    let writes = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (cp, ns) = (m.cp, m.ns.clone());
        let (failures, writes, stop) = (failures.clone(), writes.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let patch = format!(r#"{{"spec":{{"sidecar":{{"configResyncInterval":"{}s"}}}}}}"#, 60 + i);
                let run = cp.kubectl(&[
                    "-n",
                    &ns,
                    "patch",
                    "meshconfig",
                    "osm-mesh-config",
                    "--type=merge",
                    "-p",
                    &patch,
                ]);
                writes.fetch_add(1, Ordering::Relaxed);
                if !run.ok() {
                    failures.lock().expect("failures").push(run.stderr);
                }
            }
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    // Swap the pair as the kubelet swaps a mounted Secret: new files, then one rename.
    let staging = dir.path().join("next");
    let next = meshconfig_webhook::certs::write(&staging, &new).expect("write new pair");
    std::fs::rename(&next.cert, &paths.cert).expect("swap certificate");
    std::fs::rename(&next.key, &paths.key).expect("swap key");
    let reloaded = |m: &Mesh| {
        m.webhook
            .as_ref()
            .expect("webhook")
            .logs()
            .iter()
            .any(|l| l.contains("loaded a new serving certificate"))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reloaded(&m) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Keep writing through the new certificate for a while.
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer thread");

    let failures = failures.lock().expect("failures");
    let writes = writes.load(Ordering::Relaxed);
    assert!(writes >= 5, "only {writes} writes during the rotation");
    assert!(
        failures.is_empty(),
        "{} of {writes} writes failed: {failures:?}",
        failures.len()
    );
    assert!(reloaded(&m), "the webhook never loaded the new certificate");
    println!("certificate rotation: {writes} writes, 0 failed");
}

#[test]
fn rejects_a_bad_osm_config_configmap_and_leaves_other_configmaps_alone() {
    let _logs = LogsOnFailure(&V1_2);
    let m = mesh("osmconfig");
    let configmap = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "osm-config", "namespace": m.ns},
        "data": support::read_json("configmap/osm-config-v0.8.4.json")["data"].clone(),
    });
    m.cp.kubectl_stdin(&["create", "-f", "-"], Some(&configmap.to_string()))
        .success("create the v0.8.4 default osm-config");
    let run = m.cp.kubectl(&[
        "-n",
        &m.ns,
        "patch",
        "configmap",
        "osm-config",
        "--type=merge",
        "-p",
        r#"{"data":{"egress":"yes"}}"#,
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "The ConfigMap \"osm-config\" is invalid: data.egress: Invalid value: \"yes\": must be a boolean (true or false)\n"
        )
    );
    let before = m.reviews();
    m.cp.kubectl(&["-n", &m.ns, "create", "configmap", "other", "--from-literal=egress=yes"])
        .success("another ConfigMap is not the webhook's business");
    assert_eq!(
        m.reviews(),
        before,
        "matchConditions must keep other ConfigMaps from the webhook"
    );
}

#[test]
fn rejects_log_level_off_in_osms_crd_before_the_webhook() {
    let _logs = LogsOnFailure(&V1_2);
    let m = mesh("off");
    let before = m.reviews();
    let run = m.patch(r#"{"spec":{"sidecar":{"logLevel":"off"}}}"#, &[]);
    // OSM's CRD lists `off` unquoted: YAML 1.1 reads it as the boolean false, so the enum the
    // apiserver enforces has no "off" and Envoy's `off` can never be stored.
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.sidecar.logLevel: Unsupported value: \"off\": supported values: \"trace\", \"debug\", \"info\", \"warning\", \"warn\", \"error\", \"critical\", \"false\"\n"
    );
    assert_eq!(m.reviews(), before, "the webhook was called for a CRD-invalid object");
}

// ---------------------------------------------------------------------------------------------
// Every enum of every shipped CRD, as the apiserver holds it

/// A control plane whose MeshConfig CRD the enum walk replaces release by release (its own, so
/// that no other test sees the CRD change).
static ENUMS: LazyLock<ControlPlane> = LazyLock::new(ControlPlane::start);

/// Each release's CRD, in the order the walk installs them (each serves every version the one
/// before it stored), with the schemas it serves and the preset each is checked from.
const CRD_WALK: &[(&str, &[(&str, &str)])] = &[
    (
        "meshconfig-crd-v0.9.2.yaml",
        &[("0.9", "objects/meshconfig-v0.9.2.json")],
    ),
    (
        "meshconfig-crd-v0.10.0.yaml",
        &[("0.10", "objects/meshconfig-v0.10.0.json")],
    ),
    (
        "meshconfig-crd-v0.11.1.yaml",
        &[("0.11", "objects/meshconfig-v0.11.1.json")],
    ),
    (
        "meshconfig-crd-v1.0.0.yaml",
        &[("1.0", "objects/meshconfig-v1.0.0.json")],
    ),
    (
        "meshconfig-crd-v1.1.4.yaml",
        &[
            ("1.1", "objects/meshconfig-v1.1.4.json"),
            ("1.1", "objects/meshconfig-v1.1.4-v1alpha1.json"),
        ],
    ),
    (
        "meshconfig-crd-v1.2.4.yaml",
        &[
            ("1.2", "objects/meshconfig-v1.2.4.json"),
            ("1.2", "objects/meshconfig-v1.2.4-v1alpha1.json"),
        ],
    ),
    (
        "meshconfig-crd-pre-rel-v1.2.yaml",
        &[("1.2", "objects/meshconfig-pre-rel-v1.2.json")],
    ),
];

/// Stands for a word written bare (unquoted) in the YAML manifest, as a user would write it.
const BARE: &str = "\u{0}bare:";

/// The paths (`["sidecar", "logLevel"]`) and written members of every enum under `n`.
fn enums(
    n: &meshconfig_webhook::schema::Node,
    path: &mut Vec<&'static str>,
    out: &mut Vec<(Vec<&'static str>, &'static [&'static str])>,
) {
    if !n.enum_values.is_empty() {
        out.push((path.clone(), n.enum_values));
    }
    for (k, child) in &n.props {
        path.push(k);
        enums(child, path, out);
        path.pop();
    }
}

/// The values a user might write for an enum: every member quoted (as JSON would), every
/// member and the YAML 1.1 booleans `off`, `on` and `no` bare (as a YAML manifest would), a
/// member in the wrong case and a word that is no member.
fn enum_candidates(members: &[&str]) -> Vec<Value> {
    let mut out: Vec<Value> = members.iter().map(|m| json!(m)).collect();
    for m in members.iter().copied().chain(["off", "on", "no"]) {
        let bare = json!(format!("{BARE}{m}"));
        if !out.contains(&bare) {
            out.push(bare);
        }
    }
    if let Some(first) = members.first() {
        out.push(json!(first.to_uppercase()));
    }
    out.push(json!("bogus"));
    out
}

/// `v` as a block-style YAML mapping: strings double-quoted (JSON's quoting is YAML's), except
/// the ones marked [`BARE`], which are written as plain scalars.
fn block_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let scalar = |v: &Value| match v {
        Value::String(s) => s.strip_prefix(BARE).map_or_else(|| v.to_string(), str::to_owned),
        other => other.to_string(),
    };
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                match val {
                    Value::Object(o) if !o.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        block_yaml(val, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        for item in a {
                            match item {
                                Value::Object(_) | Value::Array(_) => {
                                    out.push_str(&format!("{pad}- {}\n", item));
                                }
                                other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
                            }
                        }
                    }
                    other => out.push_str(&format!("{pad}{k}: {}\n", scalar(other))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// What a server-side dry run of a replacement answers, as `validate` prints it: the denial
/// kubectl prints, or `allowed`, with the warnings either way.
fn dry_run_answer(run: &Run) -> (String, Vec<String>) {
    let (warnings, rest): (Vec<&str>, Vec<&str>) = run.stderr.lines().partition(|l| l.starts_with("Warning: "));
    let warnings = warnings.into_iter().map(str::to_owned).collect();
    if run.ok() {
        ("allowed".to_owned(), warnings)
    } else {
        (rest.iter().map(|l| format!("{l}\n")).collect(), warnings)
    }
}

#[test]
fn validate_answers_every_enum_of_every_shipped_crd_as_a_server_side_dry_run() {
    let _logs = LogsOnFailure(&ENUMS);
    let cp: &'static ControlPlane = &ENUMS;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for (crd, schemas) in CRD_WALK {
        // Applied as kubectl applies OSM's CRD (YAML 1.1), replacing the release before.
        cp.install_osm_crd(crd);
        for (release, preset) in *schemas {
            let mut m = Mesh::new(
                cp,
                "enums",
                MeshOptions {
                    release,
                    preset,
                    ..MeshOptions::default()
                },
            );
            m.serve_and_register();
            let mut base = support::read_json(preset);
            base["metadata"]["namespace"] = json!(m.ns);
            let version = base["apiVersion"]
                .as_str()
                .and_then(|a| a.rsplit('/').next())
                .unwrap_or("");
            let schema = meshconfig_webhook::schema::Schema::get(
                release.parse().expect("release"),
                meshconfig_webhook::schema::ApiVersion::parse(version).expect("api version"),
            )
            .expect("schema");
            let mut found = Vec::new();
            enums(&schema.spec, &mut Vec::new(), &mut found);
            assert!(!found.is_empty(), "{crd} {version}: no enum in the schema");
            for (path, members) in found {
                for value in enum_candidates(members) {
                    let mut doc = base.clone();
                    let mut at = &mut doc["spec"];
                    for k in &path {
                        at = &mut at[*k];
                    }
                    *at = value.clone();
                    let mut yaml = String::new();
                    block_yaml(&doc, 0, &mut yaml);
                    let file = dir.path().join("doc.yaml");
                    std::fs::write(&file, &yaml).expect("write the manifest");
                    let file = file.display().to_string();
                    // The apiserver may take a moment to serve a replaced CRD's schema.
                    let deadline = Instant::now() + Duration::from_secs(10);
                    let (cluster, ours) = loop {
                        let cluster = dry_run_answer(&cp.kubectl(&["replace", "--dry-run=server", "-f", &file]));
                        let out = std::process::Command::new(support::BIN)
                            .args(["validate", "--osm-release", release, "--mesh-namespace", &m.ns, &file])
                            .output()
                            .expect("run validate");
                        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                        let stderr = String::from_utf8_lossy(&out.stderr);
                        let warnings: Vec<String> = stderr
                            .lines()
                            .filter(|l| l.starts_with("Warning: "))
                            .map(str::to_owned)
                            .collect();
                        let verdict = match out.status.code() {
                            Some(0) => "allowed".to_owned(),
                            Some(1) => stdout,
                            other => format!("validate exited {other:?}: {stderr}"),
                        };
                        let ours = (verdict, warnings);
                        if cluster == ours || Instant::now() > deadline {
                            break (cluster, ours);
                        }
                        std::thread::sleep(Duration::from_millis(250));
                    };
                    compared += 1;
                    if cluster != ours {
                        disagreements.push(format!(
                            "{crd} ({release}, {version}) spec.{} = {}:\n  the cluster: {cluster:?}\n  validate:    {ours:?}",
                            path.join("."),
                            value.as_str().map_or_else(|| value.to_string(), |s| s.replace(BARE, "bare "))
                        ));
                    }
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {compared} disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    eprintln!("validate and the apiserver agree on {compared} enum values");
}

// ---------------------------------------------------------------------------------------------
// OSM v0.9.2's CRD

#[test]
fn rejects_a_semantic_error_on_osm_v0_9_2s_crd() {
    let _logs = LogsOnFailure(&V0_9);
    let mut m = Mesh::new(
        &V0_9,
        "v09",
        MeshOptions {
            release: "0.9",
            preset: "objects/meshconfig-v0.9.2.json",
            ..MeshOptions::default()
        },
    );
    m.serve_and_register();
    let run = m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "The MeshConfig \"osm-mesh-config\" is invalid: spec.certificate.serviceCertValidityDuration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\"\n"
        )
    );
    let run = m.patch(r#"{"spec":{"traffic":{"enableEgress":"no"}}}"#, &[]);
    assert_eq!(
        run.stderr,
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"\n"
    );
}

// ---------------------------------------------------------------------------------------------
// The chart installed into the real apiserver

#[test]
fn helm_install_registers_the_webhook_in_each_self_contained_certificate_mode() {
    let _logs = LogsOnFailure(&V1_2);
    let cp: &ControlPlane = &V1_2;
    let chart = repo().join("charts/meshconfig-webhook").display().to_string();
    let certs = tempfile::tempdir().expect("tempdir");
    for mode in ["helm", "secret"] {
        let ns = format!("install-{mode}");
        let release = format!("mcw-{mode}");
        cp.kubectl(&["create", "namespace", &ns]).success("create namespace");
        let mut args = vec![
            "install".to_owned(),
            release.clone(),
            chart.clone(),
            "--namespace".to_owned(),
            ns.clone(),
            "--set".to_owned(),
            format!("osm.meshNamespace={ns}"),
        ];
        if mode == "secret" {
            let generated = meshconfig_webhook::certs::generate(&format!("{release}-meshconfig-webhook"), &ns)
                .expect("generate certificates");
            let paths = meshconfig_webhook::certs::write(certs.path(), &generated).expect("write certificates");
            cp.kubectl(&[
                "-n",
                &ns,
                "create",
                "secret",
                "tls",
                "byo-tls",
                &format!("--cert={}", paths.cert.display()),
                &format!("--key={}", paths.key.display()),
            ])
            .success("create the TLS Secret");
            args.extend([
                "--set".to_owned(),
                "certificates.mode=secret".to_owned(),
                "--set".to_owned(),
                "certificates.secret.name=byo-tls".to_owned(),
                "--set-file".to_owned(),
                format!("certificates.secret.caBundle={}", paths.ca.display()),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = cp.helm(&args);
        assert!(run.ok(), "helm install ({mode}) failed: {run:?}");

        let configuration = format!("{release}-meshconfig-webhook");
        let run = cp
            .kubectl(&["get", "validatingwebhookconfiguration", &configuration, "-o", "json"])
            .success("get the webhook configuration");
        let vwc: Value = serde_json::from_str(&run.stdout).expect("VWC JSON");
        let webhooks = vwc["webhooks"].as_array().expect("webhooks");
        assert_eq!(webhooks.len(), 2, "{mode}: {vwc}");
        for w in webhooks {
            assert_eq!(w["clientConfig"]["service"]["name"], configuration.as_str(), "{mode}");
            assert_eq!(w["clientConfig"]["service"]["namespace"], ns.as_str(), "{mode}");
            let bundle = w["clientConfig"]["caBundle"].as_str().unwrap_or("");
            assert!(!bundle.is_empty(), "{mode}: the caBundle must be set");
            assert_eq!(w["failurePolicy"], "Fail");
            assert_eq!(
                w["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
                ns.as_str()
            );
        }
        for (kind, name) in [
            ("deployment", configuration.as_str()),
            ("service", configuration.as_str()),
            ("serviceaccount", configuration.as_str()),
            ("poddisruptionbudget", configuration.as_str()),
        ] {
            cp.kubectl(&["-n", &ns, "get", kind, name])
                .success(&format!("{mode}: {kind}/{name} installed"));
        }
        if mode == "helm" {
            cp.kubectl(&["-n", &ns, "get", "secret", &format!("{configuration}-tls")])
                .success("helm mode: the generated TLS Secret");
        }
        // With no pod to answer and failurePolicy Fail, writes in the mesh namespace are refused:
        // the registration is live.
        let run = cp.kubectl_stdin(
            &["create", "-f", "-"],
            Some(
                &json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "osm-config", "namespace": ns}, "data": {}})
                .to_string(),
            ),
        );
        assert_eq!(run.code, Some(1), "{mode}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("failed calling webhook \"osm-config.{WEBHOOK}\"")),
            "{mode}: {run:?}"
        );
        cp.helm(&["uninstall", &release, "--namespace", &ns])
            .success("helm uninstall");
    }
}

/// cert-manager's Certificate and Issuer CRDs (fixtures), without the Helm directives upstream
/// keeps in their labels, installed once into `cp`.
fn install_cert_manager_crds(cp: &ControlPlane) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for file in ["crd-certificates.yaml", "crd-issuers.yaml"] {
            let path = repo().join("tests/fixtures/cert-manager-crds").join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut crd: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            let meta = crd["metadata"].as_object_mut().expect("metadata");
            meta.remove("labels");
            meta.remove("annotations");
            cp.apply(&crd.to_string());
        }
        cp.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/certificates.cert-manager.io",
            "crd/issuers.cert-manager.io",
        ])
        .success("wait for cert-manager's CRDs");
    });
}

#[test]
fn accepts_the_charts_cert_manager_objects_under_cert_managers_own_schemas() {
    let _logs = LogsOnFailure(&V1_2);
    let cp: &ControlPlane = &V1_2;
    install_cert_manager_crds(cp);
    let ns = "cert-manager-objects";
    cp.kubectl(&["create", "namespace", ns]).success("create namespace");
    let chart = repo().join("charts/meshconfig-webhook").display().to_string();
    for (values, expected) in [
        ("cert-manager.yaml", 4),
        // An issuer of the user's: only the serving Certificate.
        ("cert-manager-issuer.yaml", 1),
    ] {
        let values = repo().join("tests/fixtures/chart").join(values).display().to_string();
        let out = std::process::Command::new(tool("helm"))
            .args(["template", "mcw", &chart, "--namespace", ns, "-f", &values])
            .args(["--show-only", "templates/cert-manager.yaml"])
            .output()
            .expect("run helm");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let manifests = String::from_utf8(out.stdout).expect("utf-8");
        // kubectl's default field validation is Strict: an unknown or misplaced field is an error.
        let run = cp
            .kubectl_stdin(&["apply", "--dry-run=server", "-n", ns, "-f", "-"], Some(&manifests))
            .success(&format!("the apiserver accepts the cert-manager objects of {values}"));
        assert_eq!(run.stdout.lines().count(), expected, "{run:?}");
        assert!(
            run.stdout.lines().all(|l| l.ends_with("created (server dry run)")),
            "{run:?}"
        );
    }
    // The schemas are enforced: a field cert-manager does not have is refused.
    let bogus = json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "bogus", "namespace": ns},
        "spec": {"secretName": "x", "issuerRef": {"name": "y"}, "rotationPolicy": "Never"}});
    let run = cp.kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], Some(&bogus.to_string()));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("unknown field \"spec.rotationPolicy\""), "{run:?}");
    let _ = cp.kubectl(&["delete", "namespace", ns, "--wait=false"]);
}

/// The PEM certificates in `pem`, each trimmed, in order.
fn pem_certs(pem: &str) -> Vec<String> {
    pem.split_inclusive("-----END CERTIFICATE-----")
        .map(str::trim)
        .filter(|c| c.starts_with("-----BEGIN CERTIFICATE-----"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn helm_mode_upgrades_keep_the_secret_and_renew_trusts_both_cas_for_one_revision() {
    let _logs = LogsOnFailure(&V1_2);
    let cp: &ControlPlane = &V1_2;
    let chart = repo().join("charts/meshconfig-webhook").display().to_string();
    let (ns, release) = ("helm-renew", "mcw-renew");
    let configuration = format!("{release}-meshconfig-webhook");
    let secret = format!("{configuration}-tls");
    cp.kubectl(&["create", "namespace", ns]).success("create namespace");
    // The Secret's three keys, decoded by kubectl's own template function.
    let pair = || -> Vec<String> {
        ["ca.crt", "tls.crt", "tls.key"]
            .iter()
            .map(|k| {
                let template = format!("{{{{index .data \"{k}\" | base64decode}}}}");
                let run = cp
                    .kubectl(&[
                        "-n",
                        ns,
                        "get",
                        "secret",
                        &secret,
                        "-o",
                        &format!("go-template={template}"),
                    ])
                    .success("read the TLS Secret");
                run.stdout.trim().to_owned()
            })
            .collect()
    };
    let bundle = || -> Vec<Vec<String>> {
        let run = cp
            .kubectl(&[
                "get",
                "validatingwebhookconfiguration",
                &configuration,
                "-o",
                "go-template={{range .webhooks}}{{.clientConfig.caBundle | base64decode}}\n====\n{{end}}",
            ])
            .success("read the caBundles");
        run.stdout
            .split("\n====\n")
            .filter(|b| !b.trim().is_empty())
            .map(pem_certs)
            .collect()
    };
    let helm = |verb: &str, extra: &[&str]| {
        let mut args = vec![
            verb,
            release,
            chart.as_str(),
            "--namespace",
            ns,
            "--set",
            "osm.meshNamespace=helm-renew",
        ];
        if verb == "upgrade" {
            args.push("--reuse-values");
        }
        args.extend_from_slice(extra);
        cp.helm(&args).success(&format!("helm {verb} {extra:?}"));
    };

    helm("install", &[]);
    let first = pair();
    let ca = pem_certs(&first[0]);
    assert_eq!(ca.len(), 1, "{first:?}");
    assert_eq!(
        bundle(),
        vec![ca.clone(), ca.clone()],
        "both webhooks trust the Secret's CA"
    );

    // An ordinary upgrade keeps the Secret (the chart looks it up) and the CA the apiserver trusts.
    helm("upgrade", &["--set", "replicaCount=3"]);
    assert_eq!(pair(), first, "an upgrade must keep the serving pair");
    assert_eq!(bundle(), vec![ca.clone(), ca.clone()]);

    // renew: a new pair, and for this revision the bundle trusts the new CA and the old one.
    helm("upgrade", &["--set", "certificates.helm.renew=true"]);
    let renewed = pair();
    assert_ne!(renewed[0], first[0], "renew makes a new CA");
    assert_ne!(renewed[2], first[2], "and a new key");
    let new_ca = pem_certs(&renewed[0]);
    let both = [new_ca.clone(), ca.clone()].concat();
    assert_eq!(bundle(), vec![both.clone(), both]);

    // The next upgrade without renew keeps the new pair and drops the old CA.
    helm("upgrade", &["--set", "certificates.helm.renew=false"]);
    assert_eq!(pair(), renewed);
    assert_eq!(bundle(), vec![new_ca.clone(), new_ca]);

    cp.helm(&["uninstall", release, "--namespace", ns])
        .success("helm uninstall");
    let run = cp.kubectl(&[
        "get",
        "validatingwebhookconfiguration",
        &configuration,
        "--ignore-not-found",
    ]);
    assert_eq!(
        run.stdout.trim(),
        "",
        "uninstall leaves no webhook configuration: {run:?}"
    );
}

/// The chart installed with `helm install --wait` into a mesh's namespace (in-cluster: a
/// Deployment that, without a kubelet, never gets a ready pod unless [`mark_ready`] says so).
fn helm_install_wait(m: &Mesh, timeout: &str, extra: &[&str]) -> Run {
    let chart = repo().join("charts/meshconfig-webhook").display().to_string();
    let release = m.release();
    let mesh_namespace = format!("osm.meshNamespace={}", m.ns);
    let mut args = vec![
        "install",
        &release,
        &chart,
        "--namespace",
        &m.ns,
        "--set",
        &mesh_namespace,
        "--wait",
        "--timeout",
        timeout,
    ];
    args.extend_from_slice(extra);
    m.cp.helm(&args)
}

/// Writes the status the deployment controller and the kubelet would write once every pod of the
/// Deployment's current generation is ready (this control plane runs neither).
fn mark_ready(cp: &ControlPlane, ns: &str, deployment: &str) {
    let run = cp
        .kubectl(&["-n", ns, "get", "deployment", deployment, "-o", "json"])
        .success("get the Deployment");
    let d: Value = serde_json::from_str(&run.stdout).expect("Deployment JSON");
    let replicas = d["spec"]["replicas"].as_i64().expect("replicas");
    let status = json!({"status": {
        "observedGeneration": d["metadata"]["generation"],
        "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": replicas, "availableReplicas": replicas,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
        ],
    }});
    cp.kubectl(&[
        "-n",
        ns,
        "patch",
        "deployment",
        deployment,
        "--subresource=status",
        "--type=merge",
        "-p",
        &status.to_string(),
    ])
    .success("mark the Deployment ready");
}

/// Waits until `deployment` exists (helm has created the release's resources).
fn wait_for_deployment(cp: &ControlPlane, ns: &str, deployment: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cp.kubectl(&["-n", ns, "get", "deployment", deployment]).ok() {
        assert!(
            Instant::now() < deadline,
            "helm created no Deployment {ns}/{deployment} within 60s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Mesh {
    /// The chart's webhook configuration for this mesh, if registered (its uid).
    fn registered_uid(&self) -> Option<String> {
        let run = self.cp.kubectl(&[
            "get",
            "validatingwebhookconfiguration",
            &self.configuration_name(),
            "-o",
            "jsonpath={.metadata.uid}",
        ]);
        run.ok().then_some(run.stdout)
    }

    /// Waits until a write is refused because no pod answers the registered webhook
    /// (`refused`), or admitted (not refused): the apiserver picks up configurations
    /// asynchronously.
    fn wait_until_writes_refused(&self, refused: bool) -> Run {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let run = self.patch(r#"{"spec":{"sidecar":{"logLevel":"debug"}}}"#, &["--dry-run=server"]);
            let failed_calling = run.stderr.contains(&format!("failed calling webhook \"{WEBHOOK}\""));
            if failed_calling == refused && (refused || run.ok()) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "MeshConfig writes were not {} within 30s: {run:?}",
                if refused { "refused" } else { "admitted" }
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The operations the registered MeshConfig webhook is called for.
fn operations(m: &Mesh) -> String {
    m.cp.kubectl(&[
        "get",
        "validatingwebhookconfiguration",
        &m.configuration_name(),
        "-o",
        "jsonpath={.webhooks[0].rules[0].operations}",
    ])
    .success("get the webhook configuration")
    .stdout
}

#[test]
fn accepts_meshconfig_writes_after_a_failed_helm_install_wait() {
    let _logs = LogsOnFailure(&V1_2);
    let m = Mesh::new(&V1_2, "failed-install", MeshOptions::default());
    // A typo in the image: the pods never become ready (here: no kubelet at all), --wait times out.
    let run = helm_install_wait(&m, "10s", &["--set", "image.repository=registry.invalid/typo"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "Error: INSTALLATION FAILED: resource Deployment/{}/{} not ready.",
            m.ns,
            m.configuration_name()
        )),
        "{run:?}"
    );
    assert_eq!(m.registered_uid(), None, "a failed install registered the webhook");

    // The mesh's configuration can still be changed, and is stored.
    let run = m.patch(r#"{"spec":{"sidecar":{"logLevel":"debug"}}}"#, &[]);
    assert!(run.ok(), "a MeshConfig write after the failed install: {run:?}");
    assert_eq!(m.get()["spec"]["sidecar"]["logLevel"], "debug");

    // The failed release's NOTES (helm status) say what happened and what to do.
    let status =
        m.cp.helm(&["status", &m.release(), "--namespace", &m.ns])
            .success("helm status");
    assert!(status.stdout.contains("STATUS: failed"), "{status:?}");
    assert!(
        status
            .stdout
            .contains("If the install failed (--wait timed out: an image that cannot be pulled, no node to run on),\n   nothing was registered and MeshConfig writes go on unreviewed."),
        "{status:?}"
    );
    // As the NOTES say: install again with fixed values; the registration follows the ready pods.
    let release = m.release();
    let chart = repo().join("charts/meshconfig-webhook").display().to_string();
    let again = {
        let (cp, ns, release, chart) = (m.cp, m.ns.clone(), release.clone(), chart.clone());
        std::thread::spawn(move || {
            cp.helm(&[
                "upgrade",
                "--install",
                &release,
                &chart,
                "-n",
                &ns,
                "--wait",
                "--timeout",
                "60s",
                "--reuse-values",
                "--set",
                "image.repository=ghcr.io/meshconfig-webhook/meshconfig-webhook",
            ])
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while m
        .cp
        .kubectl(&[
            "get",
            "deployment",
            "-n",
            &m.ns,
            &m.configuration_name(),
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .stdout
        != "ghcr.io/meshconfig-webhook/meshconfig-webhook:0.1.0"
    {
        assert!(
            Instant::now() < deadline,
            "helm upgrade did not update the Deployment within 60s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(m.registered_uid(), None, "registered before the pods are ready");
    mark_ready(m.cp, &m.ns, &m.configuration_name());
    let run = again.join().expect("helm upgrade thread");
    assert!(run.ok(), "helm upgrade --install: {run:?}");
    assert!(m.registered_uid().is_some(), "not registered once the pods were ready");
    m.cp.helm(&["uninstall", &release, "--namespace", &m.ns])
        .success("helm uninstall");
}

#[test]
fn registers_the_webhook_only_once_helm_sees_ready_pods_and_removes_it_on_uninstall() {
    let _logs = LogsOnFailure(&V1_2);
    let m = Mesh::new(&V1_2, "hooked", MeshOptions::default());
    let (release, deployment) = (m.release(), m.configuration_name());
    let install = {
        let (cp, ns, release) = (m.cp, m.ns.clone(), release.clone());
        let chart = repo().join("charts/meshconfig-webhook").display().to_string();
        std::thread::spawn(move || {
            cp.helm(&[
                "install",
                &release,
                &chart,
                "--namespace",
                &ns,
                "--set",
                &format!("osm.meshNamespace={ns}"),
                "--wait",
                "--timeout",
                "90s",
            ])
        })
    };
    wait_for_deployment(m.cp, &m.ns, &deployment);
    // helm is waiting for the pods: nothing is registered, writes go on.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(m.registered_uid(), None, "registered while no pod is ready");
    assert!(m.patch(r#"{"spec":{"sidecar":{"logLevel":"warn"}}}"#, &[]).ok());

    mark_ready(m.cp, &m.ns, &deployment);
    let run = install.join().expect("helm install thread");
    assert!(run.ok(), "helm install --wait: {run:?}");
    let uid = m.registered_uid().expect("registered once the pods were ready");
    let vwc: Value = serde_json::from_str(
        &m.cp
            .kubectl(&["get", "validatingwebhookconfiguration", &deployment, "-o", "json"])
            .success("get the webhook configuration")
            .stdout,
    )
    .expect("VWC JSON");
    for w in vwc["webhooks"].as_array().expect("webhooks") {
        assert_eq!(w["failurePolicy"], "Fail");
        assert_eq!(w["clientConfig"]["service"]["name"], deployment.as_str());
    }
    // Live: the Service has no ready pod behind it (a stand-in status), so writes are refused.
    m.wait_until_writes_refused(true);

    // A failed upgrade (its pods never ready) keeps the registration, whose pods still serve.
    let chart = repo().join("charts/meshconfig-webhook").display().to_string();
    let run = m.cp.helm(&[
        "upgrade",
        &release,
        &chart,
        "--namespace",
        &m.ns,
        "--reuse-values",
        "--wait",
        "--timeout",
        "5s",
        "--set",
        "webhook.protectDelete=true",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(m.registered_uid().as_deref(), Some(uid.as_str()));
    assert_eq!(
        operations(&m),
        r#"["CREATE","UPDATE"]"#,
        "the failed revision's rules are registered"
    );

    // Once those pods are ready, the same upgrade registers the new rules, in place (Helm 4
    // applies hooks server-side: there is no moment without a registration).
    mark_ready(m.cp, &m.ns, &deployment);
    let run = m.cp.helm(&[
        "upgrade",
        &release,
        &chart,
        "--namespace",
        &m.ns,
        "--reuse-values",
        "--wait",
        "--timeout",
        "60s",
        "--set",
        "webhook.protectDelete=true",
    ]);
    assert!(run.ok(), "helm upgrade --wait: {run:?}");
    assert_eq!(
        m.registered_uid().as_deref(),
        Some(uid.as_str()),
        "replaced rather than updated"
    );
    assert_eq!(operations(&m), r#"["CREATE","UPDATE","DELETE"]"#);

    // helm rollback registers the revision rolled back to, again once its pods are ready.
    let rollback = {
        let (cp, ns, release) = (m.cp, m.ns.clone(), release.clone());
        std::thread::spawn(move || {
            cp.helm(&[
                "rollback",
                &release,
                "1",
                "--namespace",
                &ns,
                "--wait",
                "--timeout",
                "90s",
            ])
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while m
        .cp
        .kubectl(&[
            "-n",
            &m.ns,
            "get",
            "deployment",
            &deployment,
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .stdout
        != "3"
    {
        assert!(
            Instant::now() < deadline,
            "helm rollback did not update the Deployment within 60s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        operations(&m),
        r#"["CREATE","UPDATE","DELETE"]"#,
        "rolled back before the pods are ready"
    );
    mark_ready(m.cp, &m.ns, &deployment);
    let run = rollback.join().expect("helm rollback thread");
    assert!(run.ok(), "helm rollback --wait: {run:?}");
    assert_eq!(operations(&m), r#"["CREATE","UPDATE"]"#);

    // Uninstall removes it (helm keeps hooks; the chart's pre-delete hook does not): writes go on.
    m.cp.helm(&["uninstall", &release, "--namespace", &m.ns])
        .success("helm uninstall");
    assert_eq!(
        m.registered_uid(),
        None,
        "the webhook configuration outlived helm uninstall"
    );
    m.wait_until_writes_refused(false);
    assert!(m.patch(r#"{"spec":{"sidecar":{"logLevel":"info"}}}"#, &[]).ok());
}

#[test]
fn policy_notes_wait_for_the_policy_then_show_the_denial_kubectl_prints() {
    let _logs = LogsOnFailure(&V1_2);
    let m = Mesh::new(&V1_2, "policy-notes", MeshOptions::default());
    let chart = repo().join("charts/meshconfig-webhook").display().to_string();
    let release = m.release();
    let run =
        m.cp.helm(&[
            "install",
            &release,
            &chart,
            "--namespace",
            &m.ns,
            "--set",
            "enforcement=policy",
            "--set",
            &format!("osm.meshNamespace={}", m.ns),
        ])
        .success("helm install enforcement=policy");
    let notes = run
        .stdout
        .split_once("NOTES:")
        .map(|(_, n)| n.replace("\\\n", " "))
        .expect("NOTES");
    let line = |prefix: &str| -> String {
        match notes.lines().map(str::trim).find(|l| l.starts_with(prefix)) {
            Some(l) => l.to_owned(),
            None => panic!("no line starting {prefix:?} in the NOTES:\n{notes}"),
        }
    };
    let (wait, try_it, denial) = (line("while "), line("kubectl patch "), line("The meshconfigs "));
    // The NOTES' own commands, right after the install, with the pinned kubectl.
    let shell = |script: &str| -> Run {
        let mut path = repo().join("bin").into_os_string();
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        let out = std::process::Command::new("timeout")
            .args(["60", "bash", "-c", script])
            .env("PATH", path)
            .env("KUBECONFIG", &m.cp.kubeconfig)
            .env("HOME", &m.cp.dir)
            .output()
            .expect("run bash");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    shell(&wait).success("the NOTES' wait for the policy");
    let run = shell(&try_it);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stderr, format!("{denial}\n"));
    m.cp.helm(&["uninstall", &release, "--namespace", &m.ns])
        .success("helm uninstall");
}

// ---------------------------------------------------------------------------------------------
// The reviews the real apiserver sends, kept as fixtures

/// A webhook stand-in that allows everything and keeps every AdmissionReview it is sent.
struct Recorder {
    port: u16,
    ca_pem: String,
    reviews: Arc<Mutex<Vec<Value>>>,
}

impl Recorder {
    fn start() -> Recorder {
        use http_body_util::{BodyExt as _, Full};
        use hyper::body::{Bytes, Incoming};
        use hyper_util::rt::TokioIo;
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        support::crypto();
        let generated = meshconfig_webhook::certs::generate("recorder", "e2e").expect("recorder certificate");
        let certs = CertificateDer::pem_slice_iter(generated.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(generated.key_pem.as_bytes()).expect("key PEM");
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("recorder TLS config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind recorder");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("recorder address").port();
        let reviews = Arc::new(Mutex::new(Vec::new()));
        let sink = reviews.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("recorder runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                while let Ok((tcp, _)) = listener.accept().await {
                    let (acceptor, sink) = (acceptor.clone(), sink.clone());
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else { return };
                        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                            let sink = sink.clone();
                            async move {
                                let body = req.into_body().collect().await?.to_bytes();
                                let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                                let answer = json!({
                                    "apiVersion": "admission.k8s.io/v1",
                                    "kind": "AdmissionReview",
                                    "response": {"uid": review["request"]["uid"], "allowed": true},
                                });
                                sink.lock().expect("reviews").push(review);
                                Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from(answer.to_string()))))
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    });
                }
            });
        });
        Recorder {
            port,
            ca_pem: generated.ca_pem,
            reviews,
        }
    }

    fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.reviews.lock().expect("reviews"))
    }
}

/// Replaces what differs from run to run (uids, times, versions, the test's namespace) by fixed
/// values, so a recorded review can be compared with the committed one.
fn normalized(review: &Value, ns: &str) -> Value {
    fn walk(v: &mut Value, ns: &str) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    match (k.as_str(), &*val) {
                        ("uid", Value::String(_)) => *val = json!("00000000-0000-0000-0000-000000000000"),
                        ("creationTimestamp" | "time", Value::String(_)) => *val = json!("2026-01-01T00:00:00Z"),
                        ("resourceVersion", Value::String(_)) => *val = json!("1000"),
                        // The hash of the admin's client certificate, new in every run.
                        ("authentication.kubernetes.io/credential-id", _) => *val = json!(["X509SHA256=recorded"]),
                        ("namespace", Value::String(s)) if s == ns => *val = json!(support::MESH_NAMESPACE),
                        _ => walk(val, ns),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, ns)),
            _ => {}
        }
    }
    let mut out = review.clone();
    walk(&mut out, ns);
    out
}

/// Records a CREATE, an UPDATE (kubectl patch: managedFields, options) and a server-side dry-run
/// UPDATE as the apiserver sends them, and compares them with `tests/fixtures/reviews/apiserver-*.json`
/// (`MESHCONFIG_RECORD_REVIEWS=1` writes them instead). The server and bench tests use these files.
#[test]
fn records_the_reviews_the_apiserver_sends() {
    let _logs = LogsOnFailure(&V1_2);
    let recorder = Recorder::start();
    let cp: &'static ControlPlane = &V1_2;
    let ns = format!("record-{}", MESHES.fetch_add(1, Ordering::Relaxed));
    cp.kubectl(&["create", "namespace", &ns]).success("create namespace");
    let m = Mesh {
        cp,
        ns: ns.clone(),
        opts: MeshOptions::default(),
        webhook: None,
        ca_file: PathBuf::new(),
        _dir: tempfile::tempdir().expect("tempdir"),
    };
    let ca_file = m._dir.path().join("ca.crt");
    std::fs::write(&ca_file, &recorder.ca_pem).expect("write CA");
    cp.apply(&m.rendered_configuration(&format!("https://127.0.0.1:{}/validate", recorder.port), &ca_file));
    // Registered once the apiserver calls the recorder (here for a throw-away ConfigMap).
    let deadline = Instant::now() + Duration::from_secs(30);
    while recorder.take().is_empty() {
        assert!(Instant::now() < deadline, "the recorder was never called");
        let _ = cp.kubectl(&["-n", &ns, "delete", "configmap", "osm-config", "--ignore-not-found"]);
        let _ = cp.kubectl(&["-n", &ns, "create", "configmap", "osm-config"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut preset = support::read_json("objects/meshconfig-v1.2.4.json");
    preset["metadata"]["namespace"] = json!(ns);
    cp.kubectl_stdin(&["create", "-f", "-"], Some(&preset.to_string()))
        .success("create");
    let create = recorder.take();
    m.patch(r#"{"spec":{"sidecar":{"logLevel":"debug"}}}"#, &[])
        .success("patch");
    let update = recorder.take();
    m.patch(r#"{"spec":{"sidecar":{"logLevel":"info"}}}"#, &["--dry-run=server"])
        .success("dry-run patch");
    let dry_run = recorder.take();

    let record = std::env::var_os("MESHCONFIG_RECORD_REVIEWS").is_some();
    for (name, reviews) in [("create", create), ("update", update), ("dry-run-update", dry_run)] {
        assert_eq!(reviews.len(), 1, "{name}: one review expected, got {reviews:#?}");
        let review = normalized(&reviews[0], &ns);
        let path = repo().join(format!("tests/fixtures/reviews/apiserver-{name}.json"));
        if record {
            let text = serde_json::to_string_pretty(&review).expect("JSON") + "\n";
            std::fs::write(&path, text).expect("write fixture");
            continue;
        }
        let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; record it with MESHCONFIG_RECORD_REVIEWS=1 cargo test --test apiserver_e2e records_",
                path.display()
            )
        }))
        .expect("fixture JSON");
        assert_eq!(
            review,
            committed,
            "the apiserver's {name} review differs from {}; if Kubernetes changed, re-record with MESHCONFIG_RECORD_REVIEWS=1",
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// OSM's own code watching and writing on the real apiserver (tools/osm-consumer)

/// OSM's informer sees what the webhook allows and never what it denies.
#[test]
fn osm_sees_allowed_changes_and_never_denied_ones() {
    let _logs = LogsOnFailure(&V1_2);
    let m = mesh("osm-watch");
    let mut osm = support::osm_consumer::Watch::start("v1.2.4", &V1_2.kubeconfig, &m.ns);
    let first = osm.view_where(Duration::from_secs(60), "the preset", |v| {
        v["spec"]["certificate"]["serviceCertValidityDuration"] == "24h"
    });
    let run = m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let after_denial = osm.during(Duration::from_secs(2));
    assert!(
        after_denial.iter().all(|v| v["event"] != "view"),
        "OSM's view changed after a denied patch: {after_denial:#?}"
    );
    m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"48h"}}}"#, &[])
        .success("an allowed patch");
    let v = osm.view_where(Duration::from_secs(30), "the allowed change", |v| {
        v["resourceVersion"] != first["resourceVersion"]
    });
    assert_eq!(v["spec"]["certificate"]["serviceCertValidityDuration"], "48h", "{v:#}");
    assert_eq!(v["effective"]["serviceCertValidityPeriod"], "48h0m0s", "{v:#}");
}

/// Without the webhook, the harmful values reach OSM: a duration it cannot parse is replaced by
/// its default, and a port it cannot decode leaves it on an older MeshConfig than the cluster's.
#[test]
fn osm_falls_back_on_harmful_values_when_the_webhook_is_off() {
    let _logs = LogsOnFailure(&V1_2);
    let m = Mesh::new(&V1_2, "osm-unguarded", MeshOptions::default());
    let mut osm = support::osm_consumer::Watch::start("v1.2.4", &V1_2.kubeconfig, &m.ns);
    osm.view_where(Duration::from_secs(60), "the preset", |v| {
        v["spec"]["certificate"].is_object()
    });
    m.patch(r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#, &[])
        .success("the CRD admits 24x");
    let v = osm.view_where(Duration::from_secs(30), "24x", |v| {
        v["spec"]["certificate"]["serviceCertValidityDuration"] == "24x"
    });
    assert_eq!(
        v["effective"]["serviceCertValidityPeriod"], "24h0m0s",
        "OSM's fallback: {v:#}"
    );
    let logged = v["logs"].as_array().into_iter().flatten().any(|l| {
        l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Error parsing service certificate validity duration 24x"))
    });
    assert!(logged, "OSM logged no parse error: {v:#}");

    let before = v["resourceVersion"].clone();
    m.patch(
        r#"{"spec":{"observability":{"tracing":{"enable":true,"port":40000}}}}"#,
        &[],
    )
    .success("the CRD admits port 40000");
    let stored = m.get()["metadata"]["resourceVersion"].clone();
    assert_ne!(stored, before);
    let lines = osm.during(Duration::from_secs(5));
    assert!(
        lines.iter().all(|v| v["event"] != "view"),
        "OSM's view moved on although it cannot decode the object: {lines:#?}"
    );
    let refused = lines.iter().flat_map(|v| v["logs"].as_array().into_iter().flatten()).any(|l| {
        l.to_string()
            .contains("cannot unmarshal number 40000 into Go struct field TracingSpec.spec.observability.tracing.port of type int16")
    });
    assert!(refused, "OSM's informer logged no decode error: {lines:#?}");
}

/// A mesh of `cp` whose MeshConfig osm-bootstrap has yet to create, with Arc `version`'s
/// preset ConfigMap in place and the webhook registered.
fn before_bootstrap(cp: &'static ControlPlane, version: &str, opts: MeshOptions) -> Mesh {
    let mut m = Mesh::new(cp, &format!("bootstrap-{}", version.replace('.', "-")), opts);
    m.serve_and_register();
    cp.kubectl(&["-n", &m.ns, "delete", "meshconfig", "osm-mesh-config"])
        .success("start without a MeshConfig, as a new install");
    let preset = std::fs::read_to_string(support::fixture(&format!(
        "arc/presets/preset-mesh-config-{version}.yaml"
    )))
    .expect("the Arc preset")
    .replace("namespace: arc-osm-system", &format!("namespace: {}", m.ns));
    cp.kubectl_stdin(&["apply", "-f", "-"], Some(&preset))
        .success("the preset ConfigMap");
    m
}

/// osm-bootstrap's own writes (the CREATE from the preset ConfigMap, then the UPDATE that adds
/// kubectl's last-applied annotation) pass the webhook for every Arc extension of the v1.2 line:
/// osm-bootstrap exits fatally when they are denied.
#[test]
fn accepts_osm_bootstraps_own_writes_for_every_arc_preset_of_the_v1_2_line() {
    let _logs = LogsOnFailure(&V1_2);
    for version in ["1.2.3", "1.2.6"] {
        let m = before_bootstrap(&V1_2, version, MeshOptions::default());
        let reviews = m.reviews();
        support::osm_consumer::ensure_mesh_config("v1.2.4", &V1_2.kubeconfig, &m.ns)
            .unwrap_or_else(|out| panic!("osm-bootstrap's CREATE failed for Arc {version}:\n{out}"));
        let created = m.get();
        assert!(
            created["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string(),
            "{created:#}"
        );
        // The upgrade path: a MeshConfig without the annotation gets it in an UPDATE.
        V1_2.kubectl(&[
            "-n",
            &m.ns,
            "annotate",
            "meshconfig",
            "osm-mesh-config",
            "kubectl.kubernetes.io/last-applied-configuration-",
        ])
        .success("remove the annotation");
        support::osm_consumer::ensure_mesh_config("v1.2.4", &V1_2.kubeconfig, &m.ns)
            .unwrap_or_else(|out| panic!("osm-bootstrap's UPDATE failed for Arc {version}:\n{out}"));
        assert!(m.get()["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string());
        // The CREATE and the UPDATE went through the webhook (the annotate too).
        assert!(
            m.reviews() >= reviews + 3,
            "{} reviews before, {} after",
            reviews,
            m.reviews()
        );
    }
}

/// OSM v1.0.0's osm-bootstrap only creates the MeshConfig (it adds no annotation later): its
/// CREATE from Arc 1.0.0-1's preset passes the webhook for release 1.0 on v1.0.0's CRD.
#[test]
fn accepts_osm_v1_0_0_bootstraps_create_for_arc_1_0_0_1s_preset() {
    let _logs = LogsOnFailure(&V1_0);
    let opts = MeshOptions {
        release: "1.0",
        preset: "objects/meshconfig-v1.0.0.json",
        ..MeshOptions::default()
    };
    let m = before_bootstrap(&V1_0, "1.0.0-1", opts);
    let reviews = m.reviews();
    support::osm_consumer::ensure_mesh_config("v1.0.0", &V1_0.kubeconfig, &m.ns)
        .unwrap_or_else(|out| panic!("osm-bootstrap's CREATE failed for Arc 1.0.0-1:\n{out}"));
    let created = m.get();
    assert_eq!(
        created["apiVersion"], "config.openservicemesh.io/v1alpha1",
        "{created:#}"
    );
    assert_eq!(
        created["spec"]["certificate"]["serviceCertValidityDuration"], "24h",
        "{created:#}"
    );
    assert!(m.reviews() > reviews, "the CREATE did not reach the webhook");
}
