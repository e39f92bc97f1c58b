//! Shared helpers for the server tests: start the real binary on free ports, TLS clients that
//! verify the webhook's CA, review builders, the pinned tools (`tools`) and a real control plane
//! (`control_plane`).

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

pub mod control_plane;
pub mod osm_consumer;
pub mod tools;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_meshconfig-webhook");
pub const UID: &str = "705ab4f5-6393-11e8-b7cc-42010a800002";
pub const MESH_NAMESPACE: &str = "arc-osm-system";

/// How long a webhook may take to report that it serves.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Installs ring as rustls' process default (reqwest is built without a provider).
pub fn crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// How long [`Webhook::logs`] waits for the webhook's log writer (five 20 ms batches).
const LOG_SETTLE: Duration = Duration::from_millis(100);

/// A running `meshconfig-webhook serve` process. Killed on drop if still running.
pub struct Webhook {
    child: Child,
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    /// The CA bundle that verifies the serving certificate.
    pub ca_pem: Vec<u8>,
    logs: Arc<Mutex<Vec<String>>>,
    /// Holds the development certificate directory.
    _dir: Option<tempfile::TempDir>,
}

/// Why a webhook did not come up.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub logs: Vec<String>,
}

/// Options beyond the flags: environment variables and the CA to trust.
#[derive(Default)]
pub struct Launch<'a> {
    pub args: Vec<String>,
    pub env: Vec<(&'a str, String)>,
    /// The CA bundle to trust; default: `ca.crt` of the development certificates.
    pub ca_pem: Option<Vec<u8>>,
    /// Where development certificates go; default: a fresh temp dir.
    pub cert_dir: Option<PathBuf>,
}

impl Webhook {
    /// Starts the webhook serving the `cert`/`key` files (re-read every `reload`), with clients
    /// trusting `ca_pem`.
    pub fn with_cert_files(cert: &Path, key: &Path, ca_pem: &[u8], reload: &str, extra: &[&str]) -> Webhook {
        let mut args: Vec<String> = vec![
            "--tls-cert-file".into(),
            cert.display().to_string(),
            "--tls-key-file".into(),
            key.display().to_string(),
            "--cert-reload-interval".into(),
            reload.into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Webhook::launch(Launch {
            args,
            ca_pem: Some(ca_pem.to_vec()),
            ..Launch::default()
        })
        .unwrap_or_else(|f| panic!("webhook did not start: {f:?}"))
    }

    /// Starts the webhook with development certificates in a fresh temp dir, on free loopback
    /// ports, logging JSON, plus `args`.
    pub fn start(args: &[&str]) -> Webhook {
        Self::launch(Launch {
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Launch::default()
        })
        .unwrap_or_else(|f| panic!("webhook did not start: {f:?}"))
    }

    pub fn launch(l: Launch<'_>) -> Result<Webhook, StartFailure> {
        crypto();
        let dir = tempfile::tempdir().expect("tempdir");
        let cert_dir = l.cert_dir.clone().unwrap_or_else(|| dir.path().to_owned());
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--cert-dir")
        .arg(&cert_dir)
        .args(&l.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in &l.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn meshconfig-webhook");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<Value>();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
                sink.lock().expect("logs").push(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return Err(StartFailure {
                    status: Some(status),
                    logs: logs.lock().expect("logs").clone(),
                });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(StartFailure {
                    status: None,
                    logs: logs.lock().expect("logs").clone(),
                });
            }
            let Ok(v) = rx.recv_timeout(Duration::from_millis(50)) else {
                continue;
            };
            if v["message"] == "serving admission reviews" {
                let addr = v["addr"].as_str().and_then(|a| a.parse().ok()).expect("addr in log");
                let admin = v["admin_addr"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    .expect("admin_addr in log");
                let ca_pem = l
                    .ca_pem
                    .unwrap_or_else(|| std::fs::read(cert_dir.join("ca.crt")).expect("ca.crt"));
                return Ok(Webhook {
                    child,
                    addr,
                    admin,
                    ca_pem,
                    logs,
                    _dir: Some(dir),
                });
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.admin.port())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (as the kubelet does).
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(ok.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// What the webhook has logged so far. It writes its lines in batches every 20 ms
    /// (src/cli/log_writer.rs), so this first waits five of those: a line logged before the
    /// call is then in what it returns.
    pub fn logs(&self) -> Vec<String> {
        std::thread::sleep(LOG_SETTLE);
        self.logs.lock().expect("logs").clone()
    }

    /// The log lines as JSON objects.
    pub fn log_events(&self) -> Vec<Value> {
        self.logs()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// A client that trusts only this webhook's CA.
    pub fn client(&self) -> reqwest::Client {
        client_for(&self.ca_pem)
    }

    /// Posts a review (as JSON) and returns the status and parsed body.
    pub async fn review(&self, body: &Value) -> (u16, Value) {
        let r = self
            .client()
            .post(self.url("/validate"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST /validate");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// The admin port's `/metrics` text.
    pub async fn metrics(&self) -> String {
        http_get(&self.admin_url("/metrics"))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A plain-HTTP GET that ignores proxy settings (the admin port is on loopback).
pub async fn http_get(url: &str) -> reqwest::Result<reqwest::Response> {
    crypto();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()?
        .get(url)
        .send()
        .await
}

/// rustls client configuration trusting `ca_pem` only.
pub fn client_tls(ca_pem: &[u8]) -> rustls::ClientConfig {
    crypto();
    rustls::ClientConfig::builder()
        .with_root_certificates(roots(ca_pem))
        .with_no_client_auth()
}

pub fn roots(ca_pem: &[u8]) -> rustls::RootCertStore {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c.expect("CA PEM")).expect("add CA");
    }
    roots
}

/// A reqwest client over `config` (ALPN as set in it).
pub fn client_with(config: rustls::ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A reqwest client trusting `ca_pem` only, offering HTTP/1.1.
pub fn client_for(ca_pem: &[u8]) -> reqwest::Client {
    let mut config = client_tls(ca_pem);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    client_with(config)
}

/// A raw TLS stream to the webhook, for requests written by hand.
pub async fn tls_stream(addr: SocketAddr, ca_pem: &[u8]) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut config = client_tls(ca_pem);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name");
    connector.connect(name, tcp).await.expect("TLS handshake")
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)
}

pub fn read_json(path: &str) -> Value {
    let p = fixture(path);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A stored MeshConfig as OSM v1.2.4 installs it (config.openservicemesh.io/v1alpha2).
pub fn meshconfig_v1_2() -> Value {
    read_json("objects/meshconfig-v1.2.4.json")
}

/// A stored MeshConfig as OSM v0.9.2 installs it (config.openservicemesh.io/v1alpha1).
pub fn meshconfig_v0_9() -> Value {
    read_json("objects/meshconfig-v0.9.2.json")
}

/// Merges `patch` into `object` (RFC 7386), as `kubectl patch --type=merge` does.
pub fn merged(object: &Value, patch: Value) -> Value {
    let mut out = object.clone();
    json_patch::merge(&mut out, &patch);
    out
}

/// An AdmissionReview for a MeshConfig, as kube-apiserver sends it.
pub fn review(api_version: &str, operation: &str, object: Option<&Value>, old: Option<&Value>) -> Value {
    let subject = object.or(old).cloned().unwrap_or(Value::Null);
    let version = subject["apiVersion"]
        .as_str()
        .and_then(|v| v.rsplit('/').next())
        .unwrap_or("v1alpha2")
        .to_owned();
    let name = subject.pointer("/metadata/name").cloned().unwrap_or(json!(""));
    let namespace = subject
        .pointer("/metadata/namespace")
        .cloned()
        .unwrap_or(json!(MESH_NAMESPACE));
    let options_kind = match operation {
        "CREATE" => "CreateOptions",
        "UPDATE" => "UpdateOptions",
        _ => "DeleteOptions",
    };
    json!({
        "apiVersion": api_version,
        "kind": "AdmissionReview",
        "request": {
            "uid": UID,
            "kind": {"group": "config.openservicemesh.io", "version": version, "kind": "MeshConfig"},
            "resource": {"group": "config.openservicemesh.io", "version": version, "resource": "meshconfigs"},
            "requestKind": {"group": "config.openservicemesh.io", "version": version, "kind": "MeshConfig"},
            "requestResource": {"group": "config.openservicemesh.io", "version": version, "resource": "meshconfigs"},
            "name": name,
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": old,
            "dryRun": false,
            "options": {"kind": options_kind, "apiVersion": "meta.k8s.io/v1"},
        }
    })
}

/// Polls `f` until it returns `Some`, or panics after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
