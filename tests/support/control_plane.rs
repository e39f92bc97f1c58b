//! A real Kubernetes control plane for the end-to-end tests: etcd and kube-apiserver (built from
//! the Go module proxy by `.ci/control-plane` into `./bin`) on free loopback ports, with temporary
//! data directories, freshly generated serving, client and service-account keys, an admin user
//! authenticated by a client certificate (group `system:masters`) and a kubeconfig for the
//! project's pinned `kubectl`.
//!
//! Each process runs under a small shell watchdog that holds a pipe from the test process: when
//! the control plane is dropped, or the test process ends in any way (a panic, a failed
//! assertion, SIGKILL), the pipe closes and the watchdog kills the process and removes its
//! files. So a control plane shared by every test of a binary (`static`, never dropped) is torn
//! down too.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

use super::tools::tool;

/// How long etcd and kube-apiserver may take to report ready (a loaded 2-core machine).
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// Lines of each log printed when a test fails.
const LOG_TAIL: usize = 40;

/// A process under a watchdog shell; dropping it (or the test process ending) ends the process.
struct Watched {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
}

impl Watched {
    /// Starts `program args…` with stdout and stderr in `log`; `cleanup` is removed when it ends.
    fn spawn(name: &'static str, program: &Path, args: &[String], log: PathBuf, cleanup: &Path) -> Watched {
        // The shell starts the program in the background, then reads its stdin until EOF: the
        // test process holds the other end, so EOF means "the test process is gone or done".
        // A subshell runs the program and records its exit status in `<log>.exit`.
        let script = r#"prog="$1"; log="$2"; cleanup="$3"; shift 3
( "$prog" "$@" >>"$log" 2>&1 & echo $! >"$log.pid"; wait $!; echo $? >"$log.exit" ) &
while [ ! -s "$log.pid" ]; do sleep 0.01; done
pid=$(cat "$log.pid")
trap 'kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$cleanup"' EXIT
trap 'exit 0' TERM INT HUP
while read -r _; do :; done
exit 0"#;
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("watchdog")
            .arg(program)
            .arg(&log)
            .arg(cleanup)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", program.display()));
        let mut child = child;
        let stdin = child.stdin.take();
        Watched {
            name,
            child,
            stdin,
            log,
        }
    }

    /// The process's exit status, once it has ended.
    fn exited(&self) -> Option<String> {
        let mut path = self.log.clone().into_os_string();
        path.push(".exit");
        std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
    }

    fn tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // Closing the pipe lets the watchdog kill the process and clean up; wait for it.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The result of a command: exit code and output as text.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the command's output unless it succeeded.
    pub fn success(self, what: &str) -> Run {
        assert!(
            self.ok(),
            "{what} failed ({:?}):\n{}\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// etcd and kube-apiserver, reachable through [`ControlPlane::kubectl`].
pub struct ControlPlane {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// The kubeconfig of the admin user.
    pub kubeconfig: PathBuf,
    /// The CA that signed the apiserver's serving certificate and the admin's client certificate.
    pub ca_pem: String,
    /// Where certificates, logs and the kubeconfig live; removed when the control plane ends.
    pub dir: PathBuf,
    // Dropped in declaration order: the apiserver before its etcd.
    apiserver: Watched,
    etcd: Watched,
}

/// A free loopback port (bound, then released for the process that takes it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Pki {
    ca_pem: String,
    serving_cert: String,
    serving_key: String,
    client_cert: String,
    client_key: String,
    service_account_key: String,
    service_account_public_key: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name.push(DnType::CommonName, "e2e control-plane CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key).expect("self-sign CA");
    let issuer = Issuer::new(ca, ca_key);

    let serving_key = KeyPair::generate().expect("serving key");
    let mut serving = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "kubernetes".to_owned(),
        "kubernetes.default.svc".to_owned(),
    ])
    .expect("serving params");
    serving.distinguished_name.push(DnType::CommonName, "kube-apiserver");
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_cert = serving.signed_by(&serving_key, &issuer).expect("sign serving");

    // The admin: kube-apiserver maps O to groups; system:masters passes every authorizer.
    let client_key = KeyPair::generate().expect("client key");
    let mut client = CertificateParams::new(Vec::<String>::new()).expect("client params");
    client.distinguished_name.push(DnType::CommonName, "e2e-admin");
    client
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client.signed_by(&client_key, &issuer).expect("sign client");

    // kube-apiserver verifies tokens with the public key and signs them with the private one.
    let service_account = KeyPair::generate().expect("service-account key");
    Pki {
        ca_pem: ca_cert.pem(),
        serving_cert: serving_cert.pem(),
        serving_key: serving_key.serialize_pem(),
        client_cert: client_cert.pem(),
        client_key: client_key.serialize_pem(),
        service_account_public_key: service_account.public_key_pem(),
        service_account_key: service_account.serialize_pem(),
    }
}

fn write(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

impl ControlPlane {
    /// Starts etcd and kube-apiserver and waits until the apiserver's `/readyz` answers `ok`.
    /// Fails (never skips) when the binaries are missing, saying how to get them.
    pub fn start() -> ControlPlane {
        let etcd_bin = tool("etcd");
        let apiserver_bin = tool("kube-apiserver");
        tool("kubectl");

        // Kept out of /tmp's tmpfs-sized limits and easy to find: under the target directory.
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("control-plane");
        std::fs::create_dir_all(&base).expect("create control-plane base dir");
        let dir = tempfile::Builder::new()
            .prefix("cp-")
            .tempdir_in(&base)
            .expect("control-plane dir")
            .keep();

        let pki = pki();
        let ca = dir.join("ca.crt");
        write(&ca, &pki.ca_pem);
        write(&dir.join("apiserver.crt"), &pki.serving_cert);
        write(&dir.join("apiserver.key"), &pki.serving_key);
        write(&dir.join("admin.crt"), &pki.client_cert);
        write(&dir.join("admin.key"), &pki.client_key);
        write(&dir.join("sa.key"), &pki.service_account_key);
        write(&dir.join("sa.pub"), &pki.service_account_public_key);

        let client_port = free_port();
        let peer_port = free_port();
        let etcd_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let d = |name: &str| dir.join(name).display().to_string();
        let etcd_args: Vec<String> = [
            "--name=e2e".to_owned(),
            format!("--data-dir={}", d("etcd")),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=e2e={peer_url}"),
            // A test cluster's data is thrown away: skip fsync, the slowest part of every write.
            "--unsafe-no-fsync=true".to_owned(),
            "--log-level=warn".to_owned(),
        ]
        .into();
        let etcd = Watched::spawn("etcd", &etcd_bin, &etcd_args, dir.join("etcd.log"), &dir);
        wait_for_etcd(&etcd, client_port);

        let port = free_port();
        let apiserver_args: Vec<String> = [
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".to_owned(),
            "--advertise-address=127.0.0.1".to_owned(),
            // The endpoint reconciler refuses a loopback address; no pod needs the
            // kubernetes Service's endpoints here.
            "--endpoint-reconciler-type=none".to_owned(),
            format!("--secure-port={port}"),
            format!("--cert-dir={}", d("apiserver-certs")),
            format!("--tls-cert-file={}", d("apiserver.crt")),
            format!("--tls-private-key-file={}", d("apiserver.key")),
            format!("--client-ca-file={}", d("ca.crt")),
            format!("--service-account-key-file={}", d("sa.pub")),
            format!("--service-account-signing-key-file={}", d("sa.key")),
            "--service-account-issuer=https://kubernetes.default.svc".to_owned(),
            "--service-cluster-ip-range=10.0.0.0/24".to_owned(),
            "--authorization-mode=RBAC".to_owned(),
            "--allow-privileged=true".to_owned(),
            // No controller-manager runs: nothing would create service-account tokens.
            "--disable-admission-plugins=ServiceAccount".to_owned(),
        ]
        .into();
        let apiserver = Watched::spawn(
            "kube-apiserver",
            &apiserver_bin,
            &apiserver_args,
            dir.join("kube-apiserver.log"),
            &dir,
        );

        let url = format!("https://127.0.0.1:{port}");
        let kubeconfig = dir.join("kubeconfig");
        write(
            &kubeconfig,
            &format!(
                "apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: {url}
    certificate-authority: {ca}
users:
- name: admin
  user:
    client-certificate: {cert}
    client-key: {key}
contexts:
- name: e2e
  context:
    cluster: e2e
    user: admin
current-context: e2e
",
                ca = ca.display(),
                cert = d("admin.crt"),
                key = d("admin.key"),
            ),
        );
        let cp = ControlPlane {
            url,
            kubeconfig,
            ca_pem: pki.ca_pem,
            dir,
            apiserver,
            etcd,
        };
        cp.wait_ready();
        cp
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            let run = self.kubectl(&["get", "--raw=/readyz"]);
            if run.ok() && run.stdout.trim() == "ok" {
                return;
            }
            last = format!("{}{}", run.stdout, run.stderr);
            if let Some(code) = self.apiserver.exited().or_else(|| self.etcd.exited()) {
                panic!(
                    "the control plane exited (status {code}) before it was ready\n{}",
                    self.log_tails()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "kube-apiserver was not ready within {READY_TIMEOUT:?}; last /readyz: {last}\n{}",
            self.log_tails()
        );
    }

    /// The last lines of etcd's and kube-apiserver's logs, for a failure message.
    pub fn log_tails(&self) -> String {
        [&self.etcd, &self.apiserver]
            .iter()
            .map(|w| format!("--- {} ({}) ---\n{}", w.name, w.log.display(), w.tail(LOG_TAIL)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Runs kube-controller-manager against this control plane with only `controllers` (e.g.
    /// `validatingadmissionpolicy-status-controller`, which writes policies' `status.typeChecking`).
    /// It stops when the returned guard is dropped or the test process ends.
    pub fn controller_manager(&self, controllers: &str) -> ControllerManager {
        let bin = tool("kube-controller-manager");
        let args: Vec<String> = [
            format!("--kubeconfig={}", self.kubeconfig.display()),
            format!("--controllers={controllers}"),
            "--leader-elect=false".to_owned(),
            // No serving endpoint (health, metrics): nothing here reads it.
            "--secure-port=0".to_owned(),
        ]
        .into();
        let log = self.dir.join(format!("kube-controller-manager-{}.log", free_port()));
        let scratch = self.dir.join("kcm-scratch");
        ControllerManager(Watched::spawn("kube-controller-manager", &bin, &args, log, &scratch))
    }

    /// Starts a control plane with OSM's MeshConfig CRD `crd` (a file under
    /// tests/fixtures/osm-crds) installed and established.
    pub fn with_osm_crd(crd: &str) -> ControlPlane {
        let cp = ControlPlane::start();
        cp.install_osm_crd(crd);
        cp
    }

    /// Applies OSM's CRD `crd` (a file of `tests/fixtures/osm-crds`) as kubectl applies it
    /// (YAML 1.1), replacing the one installed before, and waits until it is established.
    pub fn install_osm_crd(&self, crd: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/osm-crds")
            .join(crd);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self.apply(&text);
        self.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/meshconfigs.config.openservicemesh.io",
        ])
        .success("wait for the MeshConfig CRD");
    }

    /// Runs the pinned kubectl with this control plane's kubeconfig (and a private cache).
    pub fn kubectl(&self, args: &[&str]) -> Run {
        self.kubectl_stdin(args, None)
    }

    /// As [`kubectl`](Self::kubectl), with `stdin` on standard input (e.g. `apply -f -`).
    pub fn kubectl_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = Command::new(tool("kubectl"));
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn kubectl");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).expect("write kubectl stdin");
        }
        Run::from(child.wait_with_output().expect("kubectl output"))
    }

    /// `kubectl apply -f -` of `manifests`, which must succeed.
    pub fn apply(&self, manifests: &str) -> Run {
        self.kubectl_stdin(&["apply", "-f", "-"], Some(manifests))
            .success("kubectl apply")
    }

    /// Runs the pinned helm against this control plane.
    pub fn helm(&self, args: &[&str]) -> Run {
        let out = Command::new(tool("helm"))
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_CACHE_HOME", self.dir.join("helm/cache"))
            .env("HELM_CONFIG_HOME", self.dir.join("helm/config"))
            .env("HELM_DATA_HOME", self.dir.join("helm/data"))
            .output()
            .expect("run helm");
        Run::from(out)
    }
}

fn wait_for_etcd(etcd: &Watched, port: u16) {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        // etcd answers /health on its client port once it has elected itself leader.
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read as _;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut body = String::new();
            let _ = stream.read_to_string(&mut body);
            if body.contains("\"health\":\"true\"") {
                return;
            }
        }
        if let Some(code) = etcd.exited() {
            panic!(
                "etcd exited (status {code}) before it was healthy\n{}",
                etcd.tail(LOG_TAIL)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("etcd was not healthy within {READY_TIMEOUT:?}\n{}", etcd.tail(LOG_TAIL));
}

/// A running kube-controller-manager (see [`ControlPlane::controller_manager`]).
pub struct ControllerManager(Watched);

impl ControllerManager {
    /// The last lines of its log, for a failure message.
    pub fn log_tail(&self) -> String {
        self.0.tail(LOG_TAIL)
    }
}

/// Prints the control plane's log tails when the test holding it fails (drop during a panic).
pub struct LogsOnFailure<'a>(pub &'a ControlPlane);

impl Drop for LogsOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("control plane logs:\n{}", self.0.log_tails());
        }
    }
}
