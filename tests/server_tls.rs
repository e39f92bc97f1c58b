//! TLS over the real binary: certificates from files picked up without a restart (plain writes and
//! the Kubernetes Secret volume `..data` symlink swap), broken pairs keeping the old one, start-up
//! failures, development certificates, protocol versions, ALPN, client certificates, and the
//! handshake and header-read timeouts.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use meshconfig_webhook::certs::{self, Generated};
use serde_json::Value;
use support::{Launch, Webhook, client_for, meshconfig_v1_2, review};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const RELOAD: &str = "100ms";

fn pair() -> Generated {
    certs::generate("meshconfig-webhook", "arc-osm-system").expect("generate")
}

/// Starts the webhook serving `cert`/`key`, trusting `ca_pem`.
fn start_with_files(cert: &Path, key: &Path, ca_pem: &str, extra: &[&str]) -> Webhook {
    Webhook::with_cert_files(cert, key, ca_pem.as_bytes(), RELOAD, extra)
}

/// Whether a fresh connection trusting only `ca_pem` gets an answer.
async fn served_with(wh: &Webhook, ca_pem: &str) -> bool {
    let body = review("admission.k8s.io/v1", "CREATE", Some(&meshconfig_v1_2()), None).to_string();
    client_for(ca_pem.as_bytes())
        .post(wh.url("/validate"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in\n{text}"))
}

fn write_pair(dir: &Path, g: &Generated) -> (PathBuf, PathBuf) {
    let paths = certs::write(dir, g).expect("write pair");
    (paths.cert, paths.key)
}

#[tokio::test]
async fn accepts_a_replaced_certificate_on_new_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (pair(), pair());
    let (cert, key) = write_pair(dir.path(), &a);
    let wh = start_with_files(&cert, &key, &a.ca_pem, &[]);
    assert!(served_with(&wh, &a.ca_pem).await);
    assert!(!served_with(&wh, &b.ca_pem).await);

    write_pair(dir.path(), &b);
    support::eventually(Duration::from_secs(10), "the new certificate", || async {
        served_with(&wh, &b.ca_pem).await.then_some(())
    })
    .await;
    assert!(
        !served_with(&wh, &a.ca_pem).await,
        "the old certificate is still served"
    );
    let m = wh.metrics().await;
    assert_eq!(metric(&m, "meshconfig_webhook_certificate_reloads_total"), 1.0);
    assert_eq!(metric(&m, "meshconfig_webhook_certificate_reload_failures_total"), 0.0);
}

/// Writes `g` the way the kubelet updates a Secret volume: a new timestamped directory, a
/// `..data_tmp` symlink to it renamed over `..data`, and `tls.crt`/`tls.key` linking through
/// `..data` (created on the first write).
fn secret_volume_update(dir: &Path, g: &Generated, generation: u32) {
    use std::os::unix::fs::symlink;
    let ts_name = format!("..2025_01_01_00_00_{generation:02}.{generation:09}");
    let ts = dir.join(&ts_name);
    std::fs::create_dir(&ts).expect("mkdir");
    std::fs::write(ts.join("tls.crt"), &g.cert_pem).expect("write");
    std::fs::write(ts.join("tls.key"), &g.key_pem).expect("write");
    let old = std::fs::read_link(dir.join("..data")).ok();
    symlink(&ts_name, dir.join("..data_tmp")).expect("symlink");
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("rename");
    for f in ["tls.crt", "tls.key"] {
        if std::fs::symlink_metadata(dir.join(f)).is_err() {
            symlink(format!("..data/{f}"), dir.join(f)).expect("symlink");
        }
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old)).expect("rm old");
    }
}

#[tokio::test]
async fn accepts_a_kubernetes_secret_volume_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (pair(), pair());
    secret_volume_update(dir.path(), &a, 1);
    let wh = start_with_files(&dir.path().join("tls.crt"), &dir.path().join("tls.key"), &a.ca_pem, &[]);
    assert!(served_with(&wh, &a.ca_pem).await);

    secret_volume_update(dir.path(), &b, 2);
    support::eventually(
        Duration::from_secs(10),
        "the certificate behind the swapped ..data",
        || async { served_with(&wh, &b.ca_pem).await.then_some(()) },
    )
    .await;
    assert!(!served_with(&wh, &a.ca_pem).await);
    assert_eq!(
        metric(&wh.metrics().await, "meshconfig_webhook_certificate_reloads_total"),
        1.0
    );
}

#[tokio::test]
async fn accepts_connections_with_the_old_pair_while_the_new_one_is_broken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b, c) = (pair(), pair(), pair());
    let (cert, key) = write_pair(dir.path(), &a);
    let wh = start_with_files(&cert, &key, &a.ca_pem, &[]);

    // Half-written: the new certificate is there, its key is not.
    std::fs::write(&cert, &b.cert_pem).expect("write");
    support::eventually(Duration::from_secs(10), "a reload failure", || async {
        (metric(
            &wh.metrics().await,
            "meshconfig_webhook_certificate_reload_failures_total",
        ) >= 1.0)
            .then_some(())
    })
    .await;
    assert!(served_with(&wh, &a.ca_pem).await, "the old pair must stay in service");
    // Garbage is no better, and is reported once.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot base64\n").expect("write");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(served_with(&wh, &a.ca_pem).await);
    let m = wh.metrics().await;
    assert_eq!(metric(&m, "meshconfig_webhook_certificate_reload_failures_total"), 2.0);
    assert_eq!(metric(&m, "meshconfig_webhook_certificate_reloads_total"), 0.0);
    let errors: Vec<Value> = wh
        .log_events()
        .into_iter()
        .filter(|e| {
            e["message"] == "the changed certificate files cannot be used; still serving the previous certificate"
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0]["level"], "ERROR");
    assert_eq!(errors[0]["error"], "the private key does not match the certificate");

    // A good pair recovers.
    write_pair(dir.path(), &c);
    support::eventually(Duration::from_secs(10), "the repaired pair", || async {
        served_with(&wh, &c.ca_pem).await.then_some(())
    })
    .await;
}

#[test]
fn rejects_a_bad_pair_at_start_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (pair(), pair());
    let cert = dir.path().join("tls.crt");
    let key = dir.path().join("tls.key");
    std::fs::write(&cert, &a.cert_pem).expect("write");
    std::fs::write(&key, &b.key_pem).expect("write");
    let args = vec![
        "--tls-cert-file".to_string(),
        cert.display().to_string(),
        "--tls-key-file".to_string(),
        key.display().to_string(),
    ];
    let failure = match Webhook::launch(Launch {
        args,
        ..Launch::default()
    }) {
        Ok(_) => panic!("started with a mismatched pair"),
        Err(f) => f,
    };
    assert_eq!(failure.status.and_then(|s| s.code()), Some(1), "{failure:?}");
    let log: Value = failure
        .logs
        .iter()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("a JSON log line");
    assert_eq!(log["level"], "ERROR");
    assert_eq!(log["message"], "cannot start the webhook");
    assert_eq!(
        log["error"],
        format!(
            "cannot load the TLS certificate {} with key {}: the private key does not match the certificate",
            cert.display(),
            key.display()
        )
    );

    // A missing file too.
    let args = vec![
        "--tls-cert-file".to_string(),
        "/nonexistent/tls.crt".into(),
        "--tls-key-file".into(),
        "/nonexistent/tls.key".into(),
    ];
    let failure = Webhook::launch(Launch {
        args,
        ..Launch::default()
    })
    .err()
    .expect("must not start");
    assert_eq!(failure.status.and_then(|s| s.code()), Some(1));
    assert!(
        failure
            .logs
            .join("\n")
            .contains("reading /nonexistent/tls.crt: No such file or directory"),
        "{failure:?}"
    );
}

#[test]
fn rejects_a_cert_file_without_a_key_file() {
    let out = std::process::Command::new(support::BIN)
        .args(["serve", "--tls-cert-file", "x.crt"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the following required arguments were not provided:\n  --tls-key-file <TLS_KEY_FILE>"),
        "{stderr}"
    );
}

#[tokio::test]
async fn accepts_clients_trusting_the_development_ca_and_reuses_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert_dir = dir.path().join("certs");
    let launch = || Launch {
        args: vec!["--service-name".into(), "wh".into()],
        cert_dir: Some(cert_dir.clone()),
        ..Launch::default()
    };
    let first = Webhook::launch(launch()).expect("start");
    let ca = std::fs::read_to_string(cert_dir.join("ca.crt")).expect("ca.crt");
    assert!(served_with(&first, &ca).await);
    let created = first
        .log_events()
        .into_iter()
        .find(|e| e["ca"].is_string())
        .expect("certificate log line");
    assert_eq!(
        created["message"],
        format!(
            "created development certificates; clients verify the webhook with the CA bundle {}",
            cert_dir.join("ca.crt").display()
        )
    );
    drop(first);

    let second = Webhook::launch(launch()).expect("restart");
    assert_eq!(
        std::fs::read_to_string(cert_dir.join("ca.crt")).expect("ca.crt"),
        ca,
        "the CA was replaced"
    );
    assert!(served_with(&second, &ca).await);
    let reused = second
        .log_events()
        .into_iter()
        .find(|e| e["ca"].is_string())
        .expect("certificate log line");
    assert!(
        reused["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("reusing development certificates"),
        "{reused}"
    );
}

#[test]
fn accepts_certs_subcommand_output_for_in_cluster_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(support::BIN)
        .args(["certs", "--out"])
        .arg(dir.path())
        .args(["--service-name", "wh", "--namespace", "mesh"])
        .output()
        .expect("run certs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "serving certificate for localhost, 127.0.0.1, wh, wh.mesh, wh.mesh.svc, wh.mesh.svc.cluster.local"
        ),
        "{stdout}"
    );
    let paths = certs::Paths::in_dir(dir.path());
    certs::reusable(&paths, "wh", "mesh").expect("a usable pair for the in-cluster names");
}

#[tokio::test]
async fn accepts_tls_1_2_and_1_3_and_offers_h2_only_with_http2() {
    support::crypto();
    let wh = Webhook::start(&[]);
    let body = review("admission.k8s.io/v1", "CREATE", Some(&meshconfig_v1_2()), None).to_string();
    let post = |client: reqwest::Client, url: String, body: String| async move {
        client
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    };
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let mut config = rustls::ClientConfig::builder_with_protocol_versions(&[version])
            .with_root_certificates(support::roots(&wh.ca_pem))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let r = post(support::client_with(config), wh.url("/validate"), body.clone()).await;
        assert_eq!(r.status().as_u16(), 200, "{version:?}");
        assert_eq!(r.version(), reqwest::Version::HTTP_11, "h2 offered without --http2");
    }

    let h2 = Webhook::start(&["--http2"]);
    let mut config = support::client_tls(&h2.ca_pem);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let r = post(support::client_with(config), h2.url("/validate"), body.clone()).await;
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    let reply: Value = r.json().await.expect("json");
    assert_eq!(reply["response"]["allowed"], true);
    // HTTP/1.1 clients still work.
    let r = post(client_for(&h2.ca_pem), h2.url("/validate"), body).await;
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
}

/// A client CA and a client certificate it signed (PEM chain, PEM key).
fn client_identity() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.distinguished_name.push(DnType::CommonName, "test client CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, "kube-apiserver");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer).expect("cert");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn rejects_clients_without_a_certificate_when_a_client_ca_is_set() {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    support::crypto();
    let dir = tempfile::tempdir().expect("tempdir");
    let (client_ca, client_cert, client_key) = client_identity();
    let ca_file = dir.path().join("client-ca.crt");
    std::fs::write(&ca_file, &client_ca).expect("write");
    let wh = Webhook::start(&["--client-ca-file", ca_file.to_str().expect("utf-8 path")]);
    let body = review("admission.k8s.io/v1", "CREATE", Some(&meshconfig_v1_2()), None).to_string();

    let anonymous = wh
        .client()
        .post(wh.url("/validate"))
        .header("content-type", "application/json")
        .body(body.clone());
    assert!(
        anonymous.send().await.is_err(),
        "a client without a certificate was served"
    );

    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(client_cert.as_bytes())
        .collect::<Result<_, _>>()
        .expect("chain");
    let key = PrivateKeyDer::from_pem_slice(client_key.as_bytes()).expect("key");
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(support::roots(&wh.ca_pem))
        .with_client_auth_cert(chain, key)
        .expect("client auth");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let r = support::client_with(config)
        .post(wh.url("/validate"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("a client with a certificate is served");
    assert_eq!(r.status().as_u16(), 200);
}

/// Reads until the peer closes (or errors); returns how long that took.
async fn time_to_close<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the server kept the connection open for 10s"),
        }
    }
}

#[tokio::test]
async fn rejects_clients_that_stall_the_handshake_or_the_headers() {
    let wh = Webhook::start(&["--tls-handshake-timeout", "300ms", "--header-read-timeout", "300ms"]);

    // No ClientHello at all.
    let mut tcp = tokio::net::TcpStream::connect(wh.addr).await.expect("connect");
    let waited = time_to_close(&mut tcp).await;
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    // Half a request line, then nothing.
    let mut tls = support::tls_stream(wh.addr, &wh.ca_pem).await;
    tls.write_all(b"POST /validate HTTP/1.1\r\nhost: 12")
        .await
        .expect("write");
    tls.flush().await.expect("flush");
    let waited = time_to_close(&mut tls).await;
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    // An idle keep-alive connection after a complete request.
    let mut tls = support::tls_stream(wh.addr, &wh.ca_pem).await;
    tls.write_all(b"GET /validate HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    tls.flush().await.expect("flush");
    let waited = time_to_close(&mut tls).await;
    assert!(waited < Duration::from_secs(3), "{waited:?}");

    // The server still serves.
    assert!(served_with(&wh, std::str::from_utf8(&wh.ca_pem).expect("pem")).await);
}
