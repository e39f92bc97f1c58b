//! The Helm chart in `charts/meshconfig-webhook`, checked with the real tools: `helm template` for
//! each certificate mode and the main value combinations, `helm lint --strict`,
//! `kubernetes-validate --strict` against the Kubernetes 1.28 and 1.33 schemas, and assertions on
//! the fields the apiserver and the kubelet act on. The flags the Deployment passes are checked
//! against the built binary's `serve --help`, and the ports, body limit and drain timeout against
//! the defaults it prints there.
//!
//! helm and kubernetes-validate come from `.ci/install-tools`; when either is missing the tests
//! fail (never skip) and say so.
//!
//! Not covered here: helm mode's `lookup` of the existing Secret, which keeps the CA across
//! upgrades, needs a cluster (tests/apiserver_e2e.rs upgrades a release on the real control
//! plane). `helm template` never sees a Secret, so every render generates a fresh CA; the tests
//! check that what it generates is a usable CA and serving pair.
//! kubernetes-validate has no schemas for CRD kinds; the cert-manager `Certificate`/`Issuer` and
//! the `ServiceMonitor` and `PrometheusRule` are left out of its input (see `CRD_KINDS`) and
//! checked field by field (the monitoring objects in `chart_monitoring.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use serde_json::{Value, json};

#[path = "support/tools.rs"]
mod tools;

const BIN: &str = env!("CARGO_BIN_EXE_meshconfig-webhook");
const RELEASE: &str = "meshconfig-webhook";
const NAMESPACE: &str = "arc-osm-system";
/// Versions rendered with `--kube-version` and validated with `kubernetes-validate -k`.
const KUBE_VERSIONS: [&str; 2] = ["1.28.0", "1.33.0"];
/// The newest of them, used where the version does not matter.
const KUBE_LATEST: &str = "1.33.0";
/// Kinds defined by CRDs, for which kubernetes-validate ships no schema (apiVersion, kind).
const CRD_KINDS: [(&str, &str); 4] = [
    ("cert-manager.io/v1", "Certificate"),
    ("cert-manager.io/v1", "Issuer"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
];

// ---------------------------------------------------------------------------------------------
// Running the tools

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn chart_dir() -> String {
    repo().join("charts/meshconfig-webhook").display().to_string()
}

fn fixture(name: &str) -> String {
    repo().join("tests/fixtures/chart").join(name).display().to_string()
}

/// Runs one of the project's pinned tools (`./bin`, see `tools`); a missing one fails the test
/// with what to install.
fn run_tool(program: &str, args: &[&str]) -> Output {
    run_program(&tools::tool(program), args)
}

/// Runs a program given by its path.
fn run_program(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", program.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `helm template` in `namespace` for `kube` with extra arguments: the manifests, or helm's
/// error output when it refuses the values.
fn try_template(namespace: &str, kube: &str, extra: &[&str]) -> Result<String, String> {
    let chart = chart_dir();
    let mut args = vec![
        "template",
        RELEASE,
        chart.as_str(),
        "--namespace",
        namespace,
        "--kube-version",
        kube,
    ];
    args.extend_from_slice(extra);
    let out = run_tool("helm", &args);
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

/// The rendered manifests, parsed.
fn render_in(namespace: &str, kube: &str, extra: &[&str]) -> Manifests {
    match try_template(namespace, kube, extra) {
        Ok(yaml) => Manifests::parse(&yaml),
        Err(e) => panic!("helm template {extra:?} (namespace {namespace}, Kubernetes {kube}) failed:\n{e}"),
    }
}

fn render(extra: &[&str]) -> Manifests {
    render_in(NAMESPACE, KUBE_LATEST, extra)
}

/// Asserts that helm refuses the values, with an error mentioning `expect`.
fn assert_refused(kube: &str, extra: &[&str], expect: &str) {
    match try_template(NAMESPACE, kube, extra) {
        Ok(_) => panic!("helm template {extra:?} (Kubernetes {kube}) should have been refused"),
        Err(e) => assert!(
            e.contains(expect),
            "helm template {extra:?}: error should mention {expect:?}:\n{e}"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendered manifests

struct Manifests(Vec<Value>);

impl Manifests {
    fn parse(yaml: &str) -> Self {
        let docs: Vec<Value> = match serde_saphyr::from_multiple(yaml) {
            Ok(d) => d,
            Err(e) => panic!("helm output is not YAML: {e}\n{yaml}"),
        };
        Self(docs.into_iter().filter(|d| !d.is_null()).collect())
    }

    fn all(&self, kind: &str) -> Vec<&Value> {
        self.0.iter().filter(|d| d["kind"] == kind).collect()
    }

    fn has(&self, kind: &str) -> bool {
        !self.all(kind).is_empty()
    }

    fn one(&self, kind: &str) -> &Value {
        match self.all(kind).as_slice() {
            [one] => one,
            other => panic!("expected exactly one {kind}, found {}", other.len()),
        }
    }

    fn named(&self, kind: &str, name: &str) -> &Value {
        match self
            .0
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        {
            Some(d) => d,
            None => panic!("no {kind} named {name}; have {:?}", self.summary()),
        }
    }

    fn summary(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|d| format!("{}/{}", str_of(&d["kind"]), str_of(&d["metadata"]["name"])))
            .collect()
    }

    fn pod_spec(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]
    }

    fn container(&self) -> &Value {
        let containers = arr(&self.pod_spec()["containers"]);
        assert_eq!(containers.len(), 1, "one container");
        &containers[0]
    }

    fn args(&self) -> Vec<String> {
        arr(&self.container()["args"])
            .iter()
            .map(|a| str_of(a).to_owned())
            .collect()
    }

    /// The ValidatingWebhookConfigurations that are Helm hooks for `event` (e.g. `post-install`).
    fn hooks_for(&self, event: &str) -> Vec<&Value> {
        self.all("ValidatingWebhookConfiguration")
            .into_iter()
            .filter(|d| hook_events(d).contains(&event))
            .collect()
    }

    /// The webhook configuration that registers the webhook (the post-install hook).
    fn registration(&self) -> &Value {
        match self.hooks_for("post-install").as_slice() {
            [one] => one,
            other => panic!("expected one post-install webhook configuration, found {}", other.len()),
        }
    }

    /// The empty webhook configuration that removes the registration (the pre-delete hook).
    fn cleanup(&self) -> &Value {
        match self.hooks_for("pre-delete").as_slice() {
            [one] => one,
            other => panic!("expected one pre-delete webhook configuration, found {}", other.len()),
        }
    }

    fn webhooks(&self) -> &[Value] {
        arr(&self.registration()["webhooks"])
    }

    fn webhook(&self, name: &str) -> &Value {
        match self.webhooks().iter().find(|w| w["name"] == name) {
            Some(w) => w,
            None => panic!("no webhook named {name}"),
        }
    }
}

/// The Helm hook events an object is annotated with (`helm.sh/hook`); none for a plain resource.
fn hook_events(d: &Value) -> Vec<&str> {
    d["metadata"]["annotations"]["helm.sh/hook"]
        .as_str()
        .map(|h| h.split(',').map(str::trim).collect())
        .unwrap_or_default()
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn arr(v: &Value) -> &[Value] {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
}

fn strings(v: &Value) -> Vec<&str> {
    arr(v).iter().map(str_of).collect()
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected an unsigned integer, got {v}"))
}

/// The value of `--name=value` in `args`; `Some("")` for a bare `--name`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().find_map(|a| {
        let rest = a.strip_prefix(name)?;
        if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('=')
        }
    })
}

fn flag_value<'a>(args: &'a [String], name: &str) -> &'a str {
    flag(args, name).unwrap_or_else(|| panic!("the Deployment passes no {name}: {args:?}"))
}

/// A container port's number by name.
fn container_port(container: &Value, name: &str) -> u64 {
    match arr(&container["ports"]).iter().find(|p| p["name"] == name) {
        Some(p) => u64_of(&p["containerPort"]),
        None => panic!("no container port named {name}"),
    }
}

/// A probe's or Service's port: a number, or a container port name resolved to its number.
fn resolve_port(container: &Value, port: &Value) -> u64 {
    match port {
        Value::String(name) => container_port(container, name),
        other => u64_of(other),
    }
}

fn port_of_addr(addr: &str) -> u64 {
    match addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()) {
        Some(p) => p,
        None => panic!("not host:port: {addr}"),
    }
}

/// Seconds of a duration as the server's flags take them (`20s`, `1m`, `500ms` rounded up).
fn seconds(d: &str) -> u64 {
    let num = |s: &str| s.parse::<u64>().unwrap_or_else(|_| panic!("not a duration: {d}"));
    if let Some(ms) = d.strip_suffix("ms") {
        num(ms).div_ceil(1000)
    } else if let Some(s) = d.strip_suffix('s') {
        num(s)
    } else if let Some(m) = d.strip_suffix('m') {
        num(m) * 60
    } else {
        num(d)
    }
}

/// Standard base64 (what Kubernetes uses for Secret data and caBundle).
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match ALPHABET.iter().position(|a| *a == c) {
            Some(v) => v as u32,
            None => panic!("not base64: {s}"),
        };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn chart_yaml() -> Value {
    let path = repo().join("charts/meshconfig-webhook/Chart.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("Chart.yaml: {e}"))
}

fn values_schema() -> Value {
    let path = repo().join("charts/meshconfig-webhook/values.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("values.schema.json: {e}"))
}

/// The service DNS names the serving certificate must cover.
fn service_dns_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}

// ---------------------------------------------------------------------------------------------
// The binary's `serve --help`

/// `serve --help`, split into one section per option (keyed by its long name).
struct Help(BTreeMap<String, String>);

impl Help {
    fn load() -> Self {
        let out = run_program(Path::new(BIN), &["serve", "--help"]);
        assert!(out.status.success(), "{BIN} serve --help failed: {}", text(&out.stderr));
        Self::parse(&text(&out.stdout))
    }

    /// An option's section starts at a line indented by less than 8 columns whose text starts
    /// with `-` (`  -a, --addr <ADDR>` or `      --addr <ADDR>`); clap indents descriptions and
    /// `- value: …` lists of possible values further.
    fn parse(help: &str) -> Self {
        let mut sections = BTreeMap::new();
        let mut current: Option<(String, String)> = None;
        for line in help.lines() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if indent < 8 && trimmed.starts_with('-') {
                if let Some((name, body)) = current.take() {
                    sections.insert(name, body);
                }
                let long = trimmed
                    .split([' ', ','])
                    .find(|w| w.starts_with("--"))
                    .map(|w| w.split('=').next().unwrap_or(w).to_owned());
                current = long.map(|l| (l, format!("{line}\n")));
            } else if indent < 2 && !trimmed.is_empty() {
                // A heading such as "Options:" ends the previous option.
                if let Some((name, body)) = current.take() {
                    sections.insert(name, body);
                }
            } else if let Some((_, body)) = current.as_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        if let Some((name, body)) = current {
            sections.insert(name, body);
        }
        Self(sections)
    }

    fn section(&self, flag: &str) -> &str {
        match self.0.get(flag) {
            Some(s) => s,
            None => panic!(
                "`serve --help` documents no {flag}; it has {:?}",
                self.0.keys().collect::<Vec<_>>()
            ),
        }
    }

    /// The `[default: …]` clap prints for an option.
    fn default(&self, flag: &str) -> String {
        let section = self.section(flag).split_whitespace().collect::<Vec<_>>().join(" ");
        match section
            .split_once("[default: ")
            .and_then(|(_, rest)| rest.split_once(']'))
        {
            Some((value, _)) => value.to_owned(),
            None => panic!("`serve --help` prints no default for {flag}:\n{section}"),
        }
    }

    /// Possible values, from `[possible values: a, b]` or a `Possible values:` list.
    fn possible_values(&self, flag: &str) -> Option<BTreeSet<String>> {
        let section = self.section(flag);
        let flat = section.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some((_, rest)) = flat.split_once("[possible values: ") {
            let list = rest.split_once(']').map_or(rest, |(l, _)| l);
            return Some(list.split(", ").map(str::to_owned).collect());
        }
        let (_, list) = section.split_once("Possible values:")?;
        Some(
            list.lines()
                .filter_map(|l| l.trim_start().strip_prefix("- "))
                .map(|l| l.split(':').next().unwrap_or(l).trim().to_owned())
                .collect(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Value combinations

struct Combo {
    label: &'static str,
    namespace: &'static str,
    args: Vec<String>,
}

fn combos() -> Vec<Combo> {
    let set = |s: &str| vec!["--set".to_owned(), s.to_owned()];
    let file = |f: &str| vec!["-f".to_owned(), fixture(f)];
    let c = |label, namespace, args| Combo { label, namespace, args };
    vec![
        c("default", NAMESPACE, vec![]),
        c("protect-delete", NAMESPACE, set("webhook.protectDelete=true")),
        c("failure-policy-ignore", NAMESPACE, set("webhook.failurePolicy=Ignore")),
        c("network-policy", NAMESPACE, set("networkPolicy.enabled=true")),
        c("service-monitor", NAMESPACE, set("serviceMonitor.enabled=true")),
        c(
            "monitoring",
            NAMESPACE,
            [
                set("serviceMonitor.enabled=true"),
                set("prometheusRule.enabled=true"),
                set("dashboard.enabled=true"),
            ]
            .concat(),
        ),
        c("different-nodes", NAMESPACE, set("requireDifferentNodes=true")),
        c(
            "no-match-conditions",
            NAMESPACE,
            set("webhook.matchConditions.enabled=false"),
        ),
        c("no-configmaps", NAMESPACE, set("webhook.configMaps.enabled=false")),
        c("single-replica", NAMESPACE, set("replicaCount=1")),
        c("custom-namespace", "mesh-webhooks", set("osm.meshNamespace=osm-system")),
        c("mode-cert-manager", NAMESPACE, file("cert-manager.yaml")),
        c("mode-cert-manager-issuer", NAMESPACE, file("cert-manager-issuer.yaml")),
        c("mode-secret", NAMESPACE, file("secret.yaml")),
        c("everything", NAMESPACE, file("everything.yaml")),
        c("url", NAMESPACE, url_mode("https://127.0.0.1:8443/validate")),
    ]
}

fn combo_args(c: &Combo) -> Vec<&str> {
    c.args.iter().map(String::as_str).collect()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn a_missing_tool_fails_with_the_install_hint() {
    let caught = std::panic::catch_unwind(|| run_tool("helm-not-installed-anywhere", &["version"]));
    let Err(payload) = caught else {
        panic!("running a missing tool must fail")
    };
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("make tools"), "{message}");
}

#[test]
fn helm_lint_strict_passes_for_every_mode() {
    let chart = chart_dir();
    let values = [
        None,
        Some("cert-manager.yaml"),
        Some("cert-manager-issuer.yaml"),
        Some("secret.yaml"),
        Some("everything.yaml"),
    ];
    for kube in KUBE_VERSIONS {
        for v in values {
            let file = v.map(fixture);
            let mut args = vec![
                "lint",
                "--strict",
                chart.as_str(),
                "--namespace",
                NAMESPACE,
                "--kube-version",
                kube,
            ];
            if let Some(f) = &file {
                args.extend(["-f", f.as_str()]);
            }
            let out = run_tool("helm", &args);
            assert!(
                out.status.success(),
                "helm lint --strict with {v:?} (Kubernetes {kube}):\n{}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn manifests_validate_strictly_against_kubernetes_1_28_and_1_33() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    for kube in KUBE_VERSIONS {
        let mut files = Vec::new();
        let mut expected_passes = 0;
        for combo in combos() {
            let m = render_in(combo.namespace, kube, &combo_args(&combo));
            // CRD kinds have no schema in kubernetes-validate; they are checked in the
            // certificate and monitoring tests instead. Anything else unknown must fail.
            let (crds, builtin): (Vec<&Value>, Vec<&Value>) = m.0.iter().partition(|d| {
                CRD_KINDS
                    .iter()
                    .any(|(api, kind)| d["apiVersion"] == *api && d["kind"] == *kind)
            });
            for d in &crds {
                assert!(
                    combo.label.starts_with("mode-cert-manager") || d["apiVersion"] == "monitoring.coreos.com/v1",
                    "{}: unexpected CRD object {}",
                    combo.label,
                    d["kind"]
                );
            }
            expected_passes += builtin.len();
            let body: Vec<String> = builtin.iter().map(|d| d.to_string()).collect();
            let path = dir.path().join(format!("{}-{kube}.yaml", combo.label));
            std::fs::write(&path, body.join("\n---\n")).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.push(path.display().to_string());
        }
        let mut args = vec!["--strict", "-k", kube];
        args.extend(files.iter().map(String::as_str));
        let out = run_tool("kubernetes-validate", &args);
        let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            out.status.success(),
            "kubernetes-validate --strict -k {kube}:\n{report}"
        );
        let problems: Vec<&str> = report.lines().filter(|l| !l.starts_with("INFO ")).collect();
        assert!(
            problems.is_empty(),
            "kubernetes-validate -k {kube} reported:\n{}",
            problems.join("\n")
        );
        let passes = report.lines().filter(|l| l.contains(" passed for resource ")).count();
        assert_eq!(
            passes, expected_passes,
            "every object validated against {kube}:\n{report}"
        );
    }
}

#[test]
fn webhook_configuration_defaults() {
    let m = render(&[]);
    let webhooks = m.webhooks();
    assert_eq!(webhooks.len(), 2, "a MeshConfig and an osm-config ConfigMap webhook");
    for w in webhooks {
        let name = str_of(&w["name"]);
        assert!(
            name.split('.').count() >= 3,
            "Kubernetes wants a webhook name with >= 3 segments: {name}"
        );
        assert_eq!(w["failurePolicy"], "Fail");
        assert_eq!(w["sideEffects"], "None");
        assert_eq!(w["timeoutSeconds"], 5);
        assert_eq!(w["matchPolicy"], "Equivalent");
        assert_eq!(strings(&w["admissionReviewVersions"]), ["v1", "v1beta1"]);
        assert_eq!(
            w["namespaceSelector"],
            serde_json::json!({"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}})
        );
        assert_eq!(
            w["clientConfig"]["service"],
            serde_json::json!({"name": RELEASE, "namespace": NAMESPACE, "path": "/validate", "port": 443})
        );
        assert!(
            w.get("objectSelector").is_none(),
            "no objectSelector: OSM's objects carry no labels to select on"
        );
    }

    let mc = m.webhook("meshconfig-webhook.openservicemesh.io");
    let rules = arr(&mc["rules"]);
    assert_eq!(rules.len(), 1);
    assert_eq!(strings(&rules[0]["apiGroups"]), ["config.openservicemesh.io"]);
    assert_eq!(strings(&rules[0]["apiVersions"]), ["v1alpha1", "v1alpha2", "v1alpha3"]);
    assert_eq!(strings(&rules[0]["resources"]), ["meshconfigs"]);
    assert_eq!(strings(&rules[0]["operations"]), ["CREATE", "UPDATE"]);
    assert!(
        mc.get("matchConditions").is_none(),
        "every MeshConfig in the mesh namespace is reviewed"
    );

    let cm = m.webhook("osm-config.meshconfig-webhook.openservicemesh.io");
    let rules = arr(&cm["rules"]);
    assert_eq!(rules.len(), 1);
    assert_eq!(strings(&rules[0]["apiGroups"]), [""]);
    assert_eq!(strings(&rules[0]["apiVersions"]), ["v1"]);
    assert_eq!(strings(&rules[0]["resources"]), ["configmaps"]);
    assert_eq!(strings(&rules[0]["operations"]), ["CREATE", "UPDATE"]);
    // request.name is set for CREATE (from the object), UPDATE and DELETE alike, unlike
    // object (null on DELETE) and oldObject (null on CREATE).
    assert_eq!(
        cm["matchConditions"],
        serde_json::json!([{"name": "osm-config-only", "expression": "request.name == 'osm-config'"}])
    );
    assert!(!m.args().iter().any(|a| a == "--protect-delete"));
}

#[test]
fn webhook_configuration_follows_the_values() {
    // Delete protection: DELETE is sent, and the server is told to deny it.
    let m = render(&["--set", "webhook.protectDelete=true"]);
    let mc = m.webhook("meshconfig-webhook.openservicemesh.io");
    assert_eq!(
        strings(&arr(&mc["rules"])[0]["operations"]),
        ["CREATE", "UPDATE", "DELETE"]
    );
    assert_eq!(flag(&m.args(), "--protect-delete"), Some(""));
    let cm = m.webhook("osm-config.meshconfig-webhook.openservicemesh.io");
    assert_eq!(strings(&arr(&cm["rules"])[0]["operations"]), ["CREATE", "UPDATE"]);

    let m = render(&["--set", "webhook.failurePolicy=Ignore"]);
    assert!(m.webhooks().iter().all(|w| w["failurePolicy"] == "Ignore"));

    for t in [1, 30] {
        let m = render(&["--set", &format!("webhook.timeoutSeconds={t}")]);
        assert!(m.webhooks().iter().all(|w| w["timeoutSeconds"] == t));
    }

    // Without matchConditions the ConfigMap rule stays (the server ignores other ConfigMaps).
    let m = render(&["--set", "webhook.matchConditions.enabled=false"]);
    let cm = m.webhook("osm-config.meshconfig-webhook.openservicemesh.io");
    assert!(cm.get("matchConditions").is_none());
    assert_eq!(strings(&arr(&cm["rules"])[0]["resources"]), ["configmaps"]);

    let m = render(&["--set", "webhook.configMaps.enabled=false"]);
    assert_eq!(m.webhooks().len(), 1);

    let m = render(&["--set", "webhook.name=meshconfig.example.com"]);
    m.webhook("meshconfig.example.com");
    m.webhook("osm-config.meshconfig.example.com");

    // matchConditions need Kubernetes >= 1.28; older clusters must turn them off.
    assert_refused("1.27.0", &[], "webhook.matchConditions.enabled=false");
    let m = render_in(NAMESPACE, "1.27.0", &["--set", "webhook.matchConditions.enabled=false"]);
    assert!(m.webhooks().iter().all(|w| w.get("matchConditions").is_none()));
    // The preStop sleep action exists from 1.30 on only.
    assert!(m.container().get("lifecycle").is_none());
    let m = render_in(NAMESPACE, "1.28.0", &[]);
    assert!(m.container().get("lifecycle").is_none());
}

#[test]
fn custom_namespaces_reach_every_reference() {
    let m = render_in("mesh-webhooks", KUBE_LATEST, &["--set", "osm.meshNamespace=osm-system"]);
    for d in &m.0 {
        let cluster_scoped = d["kind"] == "ValidatingWebhookConfiguration";
        assert_eq!(
            d["metadata"].get("namespace").is_none(),
            cluster_scoped,
            "{} namespace",
            d["kind"]
        );
        if !cluster_scoped {
            assert_eq!(d["metadata"]["namespace"], "mesh-webhooks", "{}", d["kind"]);
        }
    }
    for w in m.webhooks() {
        assert_eq!(
            w["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "osm-system"
        );
        assert_eq!(w["clientConfig"]["service"]["namespace"], "mesh-webhooks");
    }
    let args = m.args();
    assert_eq!(flag_value(&args, "--mesh-namespace"), "osm-system");
    let service = m.one("Service");
    assert_eq!(
        flag_value(&args, "--service-name"),
        str_of(&service["metadata"]["name"])
    );

    // Another release name: every name follows it.
    let chart = chart_dir();
    let out = run_tool(
        "helm",
        &[
            "template",
            "other",
            chart.as_str(),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBE_LATEST,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = Manifests::parse(&text(&out.stdout));
    let service = str_of(&m.one("Service")["metadata"]["name"]).to_owned();
    assert_eq!(service, "other-meshconfig-webhook");
    assert_eq!(flag_value(&m.args(), "--service-name"), service);
    assert!(
        m.webhooks()
            .iter()
            .all(|w| w["clientConfig"]["service"]["name"] == service.as_str())
    );
}

#[test]
fn deployment_is_restricted_spread_and_sized() {
    let m = render(&[]);
    let deployment = m.one("Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    assert_eq!(
        *selector,
        serde_json::json!({"app.kubernetes.io/name": "meshconfig-webhook", "app.kubernetes.io/instance": RELEASE})
    );

    // Restricted Pod Security Standard, and no fixed UID (OpenShift's restricted SCC picks one).
    let pod = m.pod_spec();
    let c = m.container();
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(strings(&c["securityContext"]["capabilities"]["drop"]), ["ALL"]);
    assert!(c["securityContext"]["capabilities"].get("add").is_none());
    assert_eq!(c["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    for ctx in [&pod["securityContext"], &c["securityContext"]] {
        assert!(
            ctx.get("runAsUser").is_none() && ctx.get("runAsGroup").is_none(),
            "no fixed UID/GID: {ctx}"
        );
        assert!(ctx.get("privileged").is_none_or(|p| *p == false));
    }
    assert!(pod.get("hostNetwork").is_none());

    // No API permissions: no token and no RBAC objects.
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(m.one("ServiceAccount")["automountServiceAccountToken"], false);
    for kind in ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"] {
        assert!(!m.has(kind), "no {kind}");
    }

    // Sized from the measured RSS; no CPU limit.
    assert_eq!(
        c["resources"]["requests"],
        serde_json::json!({"cpu": "20m", "memory": "32Mi"})
    );
    assert_eq!(c["resources"]["limits"], serde_json::json!({"memory": "128Mi"}));

    // Spread across nodes, without blocking scheduling on one-node clusters.
    let spread = arr(&pod["topologySpreadConstraints"]);
    assert_eq!(spread.len(), 1);
    assert_eq!(spread[0]["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(spread[0]["whenUnsatisfiable"], "ScheduleAnyway");
    assert_eq!(spread[0]["maxSkew"], 1);
    assert_eq!(spread[0]["labelSelector"]["matchLabels"], *selector);

    // One pod always stays: PDB and a surge-only rollout.
    let pdb = m.one("PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], *selector);
    assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
    // A single replica gets no PDB (minAvailable 1 would block every drain).
    assert!(!render(&["--set", "replicaCount=1"]).has("PodDisruptionBudget"));

    // Standard labels everywhere.
    for d in &m.0 {
        let labels = &d["metadata"]["labels"];
        for key in [
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by",
        ] {
            assert!(labels.get(key).is_some(), "{} lacks label {key}", d["kind"]);
        }
    }
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert!(
        selector
            .as_object()
            .is_some_and(|s| s.iter().all(|(k, v)| pod_labels[k] == *v))
    );
}

#[test]
fn default_image_is_the_one_the_dockerfile_builds() {
    let chart = chart_yaml();
    let app_version = str_of(&chart["appVersion"]);
    assert_eq!(
        app_version,
        env!("CARGO_PKG_VERSION"),
        "Chart appVersion follows the crate version"
    );
    let m = render(&[]);
    assert_eq!(
        m.container()["image"],
        format!("ghcr.io/meshconfig-webhook/meshconfig-webhook:{app_version}")
    );
    let m = render(&["--set", "image.tag=dev", "--set", "image.pullPolicy=Always"]);
    assert_eq!(
        m.container()["image"],
        "ghcr.io/meshconfig-webhook/meshconfig-webhook:dev"
    );
    assert_eq!(m.container()["imagePullPolicy"], "Always");

    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap_or_else(|e| panic!("Dockerfile: {e}"));
    let froms: Vec<&str> = dockerfile.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(froms[0].starts_with("FROM rust:1-bookworm "), "{froms:?}");
    assert_eq!(froms[1], "FROM gcr.io/distroless/cc-debian12:nonroot");
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(
        dockerfile.lines().any(|l| l == "USER 65532:65532"),
        "numeric non-root user"
    );
    assert!(dockerfile.contains(r#"ENTRYPOINT ["/usr/local/bin/meshconfig-webhook"]"#));
    // The chart's args start with the subcommand, replacing the image's CMD.
    assert_eq!(m.args().first().map(String::as_str), Some("serve"));
    let help = Help::load();
    let expose = format!(
        "EXPOSE {} {}",
        port_of_addr(&help.default("--addr")),
        port_of_addr(&help.default("--admin-addr"))
    );
    assert!(
        dockerfile.lines().any(|l| l == expose),
        "Dockerfile should say {expose}"
    );
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).unwrap_or_else(|e| panic!(".dockerignore: {e}"));
    assert_eq!(
        ignore.lines().find(|l| !l.starts_with('#')),
        Some("*"),
        "allow-list: keys under certs/ never enter the context"
    );
}

#[test]
fn flags_ports_and_timeouts_agree_with_the_binary() {
    let help = Help::load();
    let schema = values_schema();

    for (label, extra) in [
        ("default", vec![]),
        ("everything", vec!["-f".to_owned(), fixture("everything.yaml")]),
    ] {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let m = render(&extra);
        let args = m.args();
        assert_eq!(args[0], "serve");
        let mut seen = BTreeSet::new();
        for a in &args[1..] {
            let name = a.split('=').next().unwrap_or(a);
            assert!(name.starts_with("--"), "{label}: {a}");
            help.section(name);
            assert!(
                seen.insert(name.to_owned()),
                "{label}: {name} passed twice (clap rejects that)"
            );
            if let (Some(possible), Some((_, value))) = (help.possible_values(name), a.split_once('=')) {
                assert!(possible.contains(value), "{label}: {a} is not one of {possible:?}");
            }
        }
    }

    // The chart passes every flag the server has, so that values.yaml is the whole story.
    let m = render(&["-f", &fixture("everything.yaml")]);
    let passed: BTreeSet<String> = m
        .args()
        .iter()
        .skip(1)
        .map(|a| a.split('=').next().unwrap_or(a).to_owned())
        .collect();
    // --cert-dir only matters without --tls-cert-file, which the chart always passes.
    for option in help
        .0
        .keys()
        .filter(|o| !["--help", "--version", "--cert-dir"].contains(&o.as_str()))
    {
        assert!(
            passed.contains(option),
            "serve has {option}, which the chart never passes: add a value for it"
        );
    }

    // Enumerated flags: the schema allows exactly what the binary accepts. clap lists the values
    // of --log-format; --osm-release parses a Release, whose list is the schema table's.
    let releases: BTreeSet<String> = meshconfig_webhook::schema::Release::ALL
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    for (flag_name, pointer, accepted) in [
        (
            "--log-format",
            "/properties/server/properties/logFormat/enum",
            help.possible_values("--log-format"),
        ),
        (
            "--osm-release",
            "/properties/osm/properties/release/then/enum",
            Some(releases),
        ),
    ] {
        let allowed: BTreeSet<String> = match schema.pointer(pointer) {
            Some(v) => strings(v).into_iter().map(str::to_owned).collect(),
            None => panic!("values.schema.json has no {pointer}"),
        };
        let Some(accepted) = accepted else {
            panic!("serve --help lists no possible values for {flag_name}");
        };
        assert_eq!(allowed, accepted, "values.schema.json {pointer} vs serve {flag_name}");
    }

    // Defaults: the chart's ports and limits are the binary's.
    let m = render(&[]);
    let args = m.args();
    let c = m.container();
    for (flag_name, port_name) in [("--addr", "https"), ("--admin-addr", "admin")] {
        let default = help.default(flag_name);
        assert_eq!(flag_value(&args, flag_name), default, "{flag_name}");
        assert_eq!(
            container_port(c, port_name),
            port_of_addr(&default),
            "container port {port_name}"
        );
    }
    let admin_port = port_of_addr(&help.default("--admin-addr"));
    let webhook_port = port_of_addr(&help.default("--addr"));
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(c[probe]["httpGet"]["path"], path);
        assert_eq!(
            resolve_port(c, &c[probe]["httpGet"]["port"]),
            admin_port,
            "{probe} port"
        );
        assert!(
            c[probe]["httpGet"].get("scheme").is_none_or(|s| *s == "HTTP"),
            "admin port is plain HTTP"
        );
    }
    let service = m.one("Service");
    let ports = arr(&service["spec"]["ports"]);
    let by_name = |n: &str| match ports.iter().find(|p| p["name"] == n) {
        Some(p) => p,
        None => panic!("Service has no port {n}"),
    };
    assert_eq!(by_name("https")["port"], 443);
    assert_eq!(resolve_port(c, &by_name("https")["targetPort"]), webhook_port);
    assert_eq!(resolve_port(c, &by_name("admin")["targetPort"]), admin_port);
    for w in m.webhooks() {
        assert_eq!(w["clientConfig"]["service"]["port"], by_name("https")["port"]);
    }
    for flag_name in [
        "--shutdown-timeout",
        "--cert-reload-interval",
        "--header-read-timeout",
        "--tls-handshake-timeout",
        "--body-read-timeout",
    ] {
        assert_eq!(
            seconds(flag_value(&args, flag_name)),
            seconds(&help.default(flag_name)),
            "{flag_name}"
        );
    }
    for flag_name in [
        "--max-body-bytes",
        "--mesh-namespace",
        "--osm-release",
        "--max-connections",
        "--max-in-flight",
    ] {
        assert_eq!(flag_value(&args, flag_name), help.default(flag_name), "{flag_name}");
    }

    // The pod outlives its drain: preStop sleep + --shutdown-timeout < grace period.
    let pod = m.pod_spec();
    let grace = u64_of(&pod["terminationGracePeriodSeconds"]);
    let pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().unwrap_or(0);
    let drain = seconds(flag_value(&args, "--shutdown-timeout"));
    assert!(pre_stop > 0, "preStop sleep on Kubernetes >= 1.30");
    assert!(
        grace > pre_stop + drain,
        "terminationGracePeriodSeconds {grace} <= {pre_stop} + {drain}"
    );
    assert_refused(
        KUBE_LATEST,
        &["--set", "terminationGracePeriodSeconds=25"],
        "terminationGracePeriodSeconds",
    );

    // Values reach the flags.
    let m = render(&["-f", &fixture("everything.yaml")]);
    let args = m.args();
    assert_eq!(flag_value(&args, "--log-format"), "plain");
    assert_eq!(flag_value(&args, "--log-level"), "debug");
    assert_eq!(flag_value(&args, "--header-read-timeout"), "45s");
    assert_eq!(flag_value(&args, "--max-in-flight"), "64");
    assert_eq!(flag(&args, "--protect-delete"), Some(""));
    assert_eq!(flag(&args, "--http2"), Some(""));
    assert_eq!(
        flag_value(&args, "--client-ca-file"),
        "/etc/meshconfig-webhook/client-ca/ca.crt"
    );
    let m = render(&[
        "--set-string",
        "osm.release=0.10",
        "--set",
        "server.port=10443",
        "--set",
        "server.adminPort=10090",
    ]);
    let args = m.args();
    assert_eq!(flag_value(&args, "--osm-release"), "0.10");
    assert_eq!(flag_value(&args, "--addr"), "0.0.0.0:10443");
    assert_eq!(container_port(m.container(), "https"), 10443);
    assert_eq!(flag_value(&args, "--admin-addr"), "0.0.0.0:10090");
    assert_eq!(container_port(m.container(), "admin"), 10090);
}

#[test]
fn defaults_equal_the_server_constants() {
    use meshconfig_webhook::server;
    let m = render(&[]);
    let c = m.container();
    let args = m.args();
    assert_eq!(container_port(c, "https"), u64::from(server::DEFAULT_WEBHOOK_PORT));
    assert_eq!(container_port(c, "admin"), u64::from(server::DEFAULT_ADMIN_PORT));
    assert_eq!(flag_value(&args, "--addr"), server::DEFAULT_ADDR);
    assert_eq!(flag_value(&args, "--admin-addr"), server::DEFAULT_ADMIN_ADDR);
    for (flag_name, secs) in [
        ("--shutdown-timeout", server::DEFAULT_SHUTDOWN_TIMEOUT_SECS),
        ("--cert-reload-interval", server::DEFAULT_CERT_RELOAD_INTERVAL_SECS),
        ("--header-read-timeout", server::DEFAULT_HEADER_READ_TIMEOUT_SECS),
        ("--tls-handshake-timeout", server::DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECS),
        ("--body-read-timeout", server::DEFAULT_BODY_READ_TIMEOUT_SECS),
    ] {
        assert_eq!(seconds(flag_value(&args, flag_name)), secs, "{flag_name}");
    }
    for (flag_name, value) in [
        ("--max-body-bytes", server::DEFAULT_MAX_BODY_BYTES),
        ("--max-connections", server::DEFAULT_MAX_CONNECTIONS),
        ("--max-in-flight", server::DEFAULT_MAX_IN_FLIGHT),
    ] {
        assert_eq!(flag_value(&args, flag_name), value.to_string(), "{flag_name}");
    }
    assert_eq!(flag_value(&args, "--mesh-namespace"), server::DEFAULT_MESH_NAMESPACE);
    assert_eq!(flag_value(&args, "--osm-release"), server::DEFAULT_OSM_RELEASE);
    assert_eq!(flag_value(&args, "--service-name"), server::DEFAULT_SERVICE_NAME);
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], server::HEALTHZ_PATH);
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], server::READYZ_PATH);
    for w in m.webhooks() {
        assert_eq!(w["clientConfig"]["service"]["path"], server::ADMISSION_PATH);
    }
}

/// The certificate files the server reads are the mounted Secret's keys.
fn assert_mounts_tls_secret(m: &Manifests, secret: &str) {
    let pod = m.pod_spec();
    let volume = match arr(&pod["volumes"]).iter().find(|v| v["name"] == "tls") {
        Some(v) => v,
        None => panic!("no tls volume"),
    };
    assert_eq!(volume["secret"]["secretName"], secret);
    assert!(
        volume["secret"].get("items").is_none(),
        "whole Secret, so renewals arrive"
    );
    let mount = match arr(&m.container()["volumeMounts"]).iter().find(|v| v["name"] == "tls") {
        Some(v) => v,
        None => panic!("no tls mount"),
    };
    assert!(
        mount.get("subPath").is_none(),
        "a subPath mount never sees a renewed Secret"
    );
    let dir = str_of(&mount["mountPath"]);
    let args = m.args();
    assert_eq!(flag_value(&args, "--tls-cert-file"), format!("{dir}/tls.crt"));
    assert_eq!(flag_value(&args, "--tls-key-file"), format!("{dir}/tls.key"));
}

#[test]
fn helm_mode_generates_a_ca_and_serving_pair_the_apiserver_accepts() {
    let mut cas = Vec::new();
    for _ in 0..2 {
        let m = render(&[]);
        assert!(!m.has("Certificate") && !m.has("Issuer"));
        let secret = m.one("Secret");
        assert_eq!(secret["type"], "kubernetes.io/tls");
        let name = str_of(&secret["metadata"]["name"]);
        assert_mounts_tls_secret(&m, name);
        let data = &secret["data"];
        let ca_b64 = str_of(&data["ca.crt"]);
        for w in m.webhooks() {
            assert_eq!(w["clientConfig"]["caBundle"], ca_b64, "caBundle is the Secret's CA");
        }
        // Only the hook's own annotations: nothing for cert-manager's cainjector.
        let annotations = m.registration()["metadata"]["annotations"]
            .as_object()
            .map(|a| a.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        assert_eq!(annotations, ["helm.sh/hook", "helm.sh/hook-delete-policy"]);

        let ca_pem = base64_decode(ca_b64);
        let cert_pem = base64_decode(str_of(&data["tls.crt"]));
        let key_pem = base64_decode(str_of(&data["tls.key"]));
        let ca =
            CertificateDer::from_pem_slice(&ca_pem).unwrap_or_else(|e| panic!("ca.crt is not a PEM certificate: {e}"));
        let (_, parsed) = x509_parser::parse_x509_certificate(&ca).unwrap_or_else(|e| panic!("ca.crt: {e}"));
        assert!(parsed.is_ca(), "ca.crt is a CA");
        let leaf = CertificateDer::from_pem_slice(&cert_pem).unwrap_or_else(|e| panic!("tls.crt: {e}"));
        let key = PrivateKeyDer::from_pem_slice(&key_pem).unwrap_or_else(|e| panic!("tls.key: {e}"));

        // The apiserver dials <service>.<namespace>.svc and verifies against caBundle.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(ca.clone())
            .unwrap_or_else(|e| panic!("CA not usable as a root: {e}"));
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .unwrap_or_else(|e| panic!("verifier: {e}"));
        for dns in service_dns_names(RELEASE, NAMESPACE) {
            let server_name = ServerName::try_from(dns.clone()).unwrap_or_else(|e| panic!("{dns}: {e}"));
            verifier
                .verify_server_cert(&leaf, &[], &server_name, &[], UnixTime::now())
                .unwrap_or_else(|e| panic!("tls.crt does not verify for {dns} against ca.crt: {e}"));
        }
        // The key belongs to the certificate (rustls checks the pair).
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|e| panic!("{e}"))
            .with_no_client_auth()
            .with_single_cert(vec![leaf.clone()], key)
            .unwrap_or_else(|e| panic!("tls.key does not fit tls.crt: {e}"));
        cas.push(ca_pem);
    }
    // No lookup without a cluster: each render generates its own CA (in a cluster, upgrades
    // reuse the stored Secret instead).
    assert_ne!(cas[0], cas[1]);

    let m = render(&["--set", "certificates.helm.validityDays=30"]);
    let ca = base64_decode(str_of(&m.one("Secret")["data"]["ca.crt"]));
    let ca = CertificateDer::from_pem_slice(&ca).unwrap_or_else(|e| panic!("{e}"));
    let (_, parsed) = x509_parser::parse_x509_certificate(&ca).unwrap_or_else(|e| panic!("{e}"));
    let validity = parsed.validity().not_after.timestamp() - parsed.validity().not_before.timestamp();
    assert_eq!(validity, 30 * 86_400);
}

#[test]
fn cert_manager_mode_issues_through_a_private_ca_and_injects_it() {
    let m = render(&["-f", &fixture("cert-manager.yaml")]);
    assert!(!m.has("Secret"), "cert-manager writes the Secret");
    let issuers = m.all("Issuer");
    assert_eq!(issuers.len(), 2);
    let selfsigned = m.named("Issuer", "meshconfig-webhook-selfsigned");
    assert_eq!(selfsigned["spec"]["selfSigned"], serde_json::json!({}));
    let ca = m.named("Certificate", "meshconfig-webhook-ca");
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(ca["spec"]["issuerRef"]["name"], "meshconfig-webhook-selfsigned");
    let ca_issuer = m.named("Issuer", "meshconfig-webhook-ca");
    assert_eq!(ca_issuer["spec"]["ca"]["secretName"], ca["spec"]["secretName"]);
    let serving = m.named("Certificate", "meshconfig-webhook-tls");
    assert_eq!(
        serving["spec"]["issuerRef"],
        serde_json::json!({"group": "cert-manager.io", "kind": "Issuer", "name": "meshconfig-webhook-ca"})
    );
    assert_eq!(
        strings(&serving["spec"]["dnsNames"]),
        service_dns_names(RELEASE, NAMESPACE)
    );
    assert!(strings(&serving["spec"]["usages"]).contains(&"server auth"));
    for d in [&serving["spec"]["duration"], &serving["spec"]["renewBefore"]] {
        assert!(str_of(d).ends_with('h'));
    }
    assert_mounts_tls_secret(&m, str_of(&serving["spec"]["secretName"]));
    let vwc = m.registration();
    assert_eq!(
        vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        format!("{NAMESPACE}/meshconfig-webhook-tls")
    );
    for w in m.webhooks() {
        assert!(
            w["clientConfig"].get("caBundle").is_none(),
            "the cainjector fills caBundle"
        );
    }

    // An existing issuer replaces the chart's CA chain.
    let m = render(&["-f", &fixture("cert-manager-issuer.yaml")]);
    assert!(!m.has("Issuer"));
    let serving = m.one("Certificate");
    assert_eq!(
        serving["spec"]["issuerRef"],
        serde_json::json!({"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "corp-ca"})
    );
    assert_mounts_tls_secret(&m, str_of(&serving["spec"]["secretName"]));
}

#[test]
fn secret_mode_uses_the_given_secret_and_ca_bundle() {
    let values_text = std::fs::read_to_string(fixture("secret.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let values: Value = serde_saphyr::from_str(&values_text).unwrap_or_else(|e| panic!("{e}"));
    let pem = str_of(&values["certificates"]["secret"]["caBundle"]).trim().to_owned();
    let name = str_of(&values["certificates"]["secret"]["name"]).to_owned();

    let m = render(&["-f", &fixture("secret.yaml")]);
    for kind in ["Secret", "Certificate", "Issuer"] {
        assert!(!m.has(kind), "secret mode creates no {kind}");
    }
    assert_mounts_tls_secret(&m, &name);
    for w in m.webhooks() {
        let bundle = base64_decode(str_of(&w["clientConfig"]["caBundle"]));
        assert_eq!(
            String::from_utf8_lossy(&bundle),
            pem,
            "caBundle is the given PEM, base64-encoded"
        );
    }
    // Already base64: passed through.
    let b64 = base64_encode(pem.as_bytes());
    let m = render(&[
        "--set",
        "certificates.mode=secret",
        "--set",
        &format!("certificates.secret.name={name}"),
        "--set",
        &format!("certificates.secret.caBundle={b64}"),
    ]);
    assert!(
        m.webhooks()
            .iter()
            .all(|w| w["clientConfig"]["caBundle"] == b64.as_str())
    );
}

#[test]
fn rejects_secret_mode_ca_bundles_that_are_not_certificates_or_hold_a_private_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let out = Command::new(BIN)
        .args(["certs", "--out"])
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("certs: {e}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = dir.path().join("tls.key").display().to_string();
    let ca = dir.path().join("ca.crt").display().to_string();
    let key_pem = std::fs::read(&key).unwrap_or_else(|e| panic!("{e}"));
    let ca_pem = std::fs::read(&ca).unwrap_or_else(|e| panic!("{e}"));
    let secret = [
        "--set",
        "certificates.mode=secret",
        "--set",
        "certificates.secret.name=tls",
    ];
    let with = |extra: &[&str]| -> Vec<String> { secret.iter().chain(extra).map(|s| s.to_string()).collect() };
    let key_b64 = format!("certificates.secret.caBundle={}", base64_encode(&key_pem));
    let both = dir.path().join("both.pem");
    std::fs::write(&both, [ca_pem.clone(), key_pem].concat()).unwrap_or_else(|e| panic!("{e}"));
    let both = both.display().to_string();
    for (extra, expect) in [
        (
            with(&["--set-file", &format!("certificates.secret.caBundle={key}")]),
            "certificates.secret.caBundle holds a private key",
        ),
        (
            with(&["--set", &key_b64]),
            "certificates.secret.caBundle holds a private key",
        ),
        (
            with(&["--set-file", &format!("certificates.secret.caBundle={both}")]),
            "certificates.secret.caBundle holds a private key",
        ),
        (
            with(&["--set", "certificates.secret.caBundle=notacert"]),
            "certificates.secret.caBundle must be PEM CA certificates",
        ),
    ] {
        let args: Vec<&str> = extra.iter().map(String::as_str).collect();
        assert_refused(KUBE_LATEST, &args, expect);
    }
    // The CA certificate itself, as a file or base64, renders.
    let m = render(
        &with(&["--set-file", &format!("certificates.secret.caBundle={ca}")])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let bundle = base64_decode(str_of(&m.webhooks()[0]["clientConfig"]["caBundle"]));
    assert_eq!(
        String::from_utf8_lossy(&bundle).trim(),
        String::from_utf8_lossy(&ca_pem).trim()
    );
}

#[test]
fn rejects_an_unquoted_osm_release_with_a_hint_to_quote_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, "osm:\n  release: 0.10\n").unwrap_or_else(|e| panic!("{e}"));
    let values = values.display().to_string();
    assert_refused(
        KUBE_LATEST,
        &["-f", &values],
        r#"osm.release is the number 0.1, not a release: quote it (release: "0.10" in a values file, --set-string osm.release=0.10 on the command line); unquoted, YAML reads 0.10 as the number 0.1"#,
    );
    std::fs::write(dir.path().join("values.yaml"), "osm:\n  release: \"0.10\"\n").unwrap_or_else(|e| panic!("{e}"));
    let args = render(&["-f", &values]).args();
    assert_eq!(flag_value(&args, "--osm-release"), "0.10");
}

#[test]
fn rejects_an_unquoted_osm_release_citing_the_value_given() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let values = dir.path().join("values.yaml");
    let path = values.display().to_string();
    for (unquoted, message) in [
        // The number is the release as written: quoting it is all there is to say.
        (
            "1.2",
            r#"osm.release is the number 1.2, not a release: quote it (release: "1.2" in a values file, --set-string osm.release=1.2 on the command line)"#,
        ),
        (
            "0.9",
            r#"osm.release is the number 0.9, not a release: quote it (release: "0.9" in a values file, --set-string osm.release=0.9 on the command line)"#,
        ),
        // YAML dropped a trailing zero: cite the release it stands for.
        (
            "1.0",
            r#"osm.release is the number 1, not a release: quote it (release: "1.0" in a values file, --set-string osm.release=1.0 on the command line); unquoted, YAML reads 1.0 as the number 1"#,
        ),
    ] {
        std::fs::write(&values, format!("osm:\n  release: {unquoted}\n")).unwrap_or_else(|e| panic!("{e}"));
        match try_template(NAMESPACE, KUBE_LATEST, &["-f", &path]) {
            Ok(_) => panic!("osm.release: {unquoted} (unquoted) should have been refused"),
            Err(e) => {
                assert!(e.contains(message), "release: {unquoted}: want {message:?}, got:\n{e}");
                assert!(
                    unquoted == "1.0" || !e.contains("0.10"),
                    "release: {unquoted}: the error cites another release:\n{e}"
                );
            }
        }
    }
}

#[test]
fn network_policy_and_service_monitor() {
    let m = render(&[]);
    assert!(!m.has("ServiceMonitor"), "optional, off by default");
    // Secure by default (issue 15): the NetworkPolicy is on without being asked for.
    let np = m.one("NetworkPolicy");
    let selector = &m.one("Deployment")["spec"]["selector"]["matchLabels"];
    assert_eq!(np["spec"]["podSelector"]["matchLabels"], *selector);
    assert_eq!(strings(&np["spec"]["policyTypes"]), ["Ingress", "Egress"]);
    assert!(np["spec"].get("egress").is_none(), "no egress at all");
    let ingress = arr(&np["spec"]["ingress"]);
    assert_eq!(ingress.len(), 2);
    let c = m.container();
    let port_of_rule = |rule: &Value| {
        let ports = arr(&rule["ports"]);
        assert_eq!(ports.len(), 1);
        resolve_port(c, &ports[0]["port"])
    };
    assert_eq!(port_of_rule(&ingress[0]), container_port(c, "https"));
    // By default the webhook port admits addresses outside the pod network and the konnectivity
    // agents of managed control planes, and no other pod.
    assert_eq!(
        ingress[0]["from"],
        json!([
            {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.244.0.0/16"]}},
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
             "podSelector": {"matchLabels": {"app": "konnectivity-agent"}}},
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
             "podSelector": {"matchLabels": {"k8s-app": "konnectivity-agent"}}},
        ])
    );
    // [] admits any source, for clusters where the apiserver's address cannot be known.
    let open = render(&["--set-json", "networkPolicy.webhookFrom=[]"]);
    let open_ingress = arr(&open.one("NetworkPolicy")["spec"]["ingress"]);
    assert!(open_ingress[0].get("from").is_none(), "{open_ingress:?}");
    assert!(!render(&["--set", "networkPolicy.enabled=false"]).has("NetworkPolicy"));
    assert_eq!(port_of_rule(&ingress[1]), container_port(c, "admin"));
    assert!(
        !arr(&ingress[1]["from"]).is_empty(),
        "admin port only from the selected peers"
    );

    // An empty adminFrom closes the admin port instead of opening it to everyone.
    let m = render(&[
        "--set",
        "networkPolicy.enabled=true",
        "--set-json",
        "networkPolicy.adminFrom=[]",
    ]);
    let ingress = arr(&m.one("NetworkPolicy")["spec"]["ingress"]);
    assert_eq!(ingress.len(), 1);
    assert_eq!(port_of_rule(&ingress[0]), container_port(c, "https"));

    let m = render(&[
        "--set",
        "serviceMonitor.enabled=true",
        "--set",
        "serviceMonitor.labels.release=prom",
    ]);
    let sm = m.one("ServiceMonitor");
    assert_eq!(sm["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(sm["metadata"]["labels"]["release"], "prom");
    assert_eq!(
        sm["spec"]["namespaceSelector"]["matchNames"],
        serde_json::json!([NAMESPACE])
    );
    let service = m.one("Service");
    let service_labels = &service["metadata"]["labels"];
    let wanted = sm["spec"]["selector"]["matchLabels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        !wanted.is_empty() && wanted.iter().all(|(k, v)| service_labels[k] == *v),
        "selects the Service"
    );
    let endpoints = arr(&sm["spec"]["endpoints"]);
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["path"], "/metrics");
    assert_eq!(endpoints[0]["scheme"], "http");
    let port = str_of(&endpoints[0]["port"]);
    assert!(
        arr(&service["spec"]["ports"])
            .iter()
            .any(|p| p["name"] == port && p["targetPort"] == "admin")
    );
}

#[test]
fn the_schema_rejects_wrong_types_and_values() {
    let cases: &[(&[&str], &str)] = &[
        (&["--set", "webhook.timeoutSeconds=40"], "/webhook/timeoutSeconds"),
        (&["--set", "webhook.timeoutSeconds=0"], "/webhook/timeoutSeconds"),
        (&["--set", "webhook.timeoutSeconds=five"], "/webhook/timeoutSeconds"),
        (&["--set", "webhook.failurePolicy=Maybe"], "/webhook/failurePolicy"),
        (&["--set", "webhook.protectDelete=yes"], "/webhook/protectDelete"),
        (&["--set", "webhook.name=meshconfig.io"], "/webhook/name"),
        (&["--set", "certificates.mode=vault"], "/certificates/mode"),
        (&["--set", "certificates.mode=secret"], "/certificates/secret"),
        (
            &[
                "--set",
                "certificates.mode=secret",
                "--set",
                "certificates.secret.name=tls",
            ],
            "/certificates/secret/caBundle",
        ),
        (
            &["--set", "certificates.certManager.duration=90d"],
            "/certificates/certManager/duration",
        ),
        (&["--set", "replicaCount=two"], "/replicaCount"),
        (&["--set", "replicaCount=0"], "/replicaCount"),
        (&["--set", "osm.meshNamespace=Arc_OSM"], "/osm/meshNamespace"),
        (&["--set-string", "osm.release=2.0"], "/osm/release"),
        // A YAML number would lose the release's meaning (0.10 → 0.1), so only strings.
        (&["--set-json", "osm.release=1.2"], "osm.release is the number 1.2"),
        (&["--set", "server.logFormat=xml"], "/server/logFormat"),
        (&["--set", "server.port=70000"], "/server/port"),
        (&["--set", "image.pullPolicy=Sometimes"], "/image/pullPolicy"),
        (&["--set", "webhok.timeoutSeconds=5"], "webhok"),
        (&["--set", "webhook.timeout=5"], "timeout"),
    ];
    for (args, expect) in cases {
        assert_refused(KUBE_LATEST, args, expect);
    }
}

#[test]
fn notes_show_a_dry_run_and_the_denial_the_binary_gives() {
    let chart = chart_dir();
    let out = run_tool(
        "helm",
        &[
            "install",
            RELEASE,
            chart.as_str(),
            "--namespace",
            NAMESPACE,
            "--dry-run=client",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let notes = match stdout.split_once("NOTES:") {
        Some((_, n)) => n,
        None => panic!("no NOTES in:\n{stdout}"),
    };
    let command = format!("kubectl patch meshconfig osm-mesh-config -n {NAMESPACE} --type=merge --dry-run=server");
    assert!(notes.contains(&command), "NOTES should show `{command}`:\n{notes}");
    let patch = match notes.split_once("-p '").and_then(|(_, rest)| rest.split_once('\'')) {
        Some((p, _)) => p,
        None => panic!("no -p '<patch>' in NOTES:\n{notes}"),
    };
    let denial = match notes.lines().map(str::trim).find(|l| l.starts_with("The MeshConfig ")) {
        Some(l) => l,
        None => panic!("NOTES show no expected denial:\n{notes}"),
    };

    // What kubectl would print is what the engine says for that patch.
    let base = repo()
        .join("tests/fixtures/objects/meshconfig-v1.2.4.json")
        .display()
        .to_string();
    let out = run_tool(
        BIN,
        &[
            "validate",
            "--osm-release",
            "1.2",
            "--base",
            base.as_str(),
            "--patch",
            patch,
        ],
    );
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "the NOTES' patch must be denied:\n{said}");
    assert!(
        said.lines().any(|l| l.trim() == denial),
        "NOTES promise `{denial}`, the binary says:\n{said}"
    );
}

// ---------------------------------------------------------------------------------------------
// The binary run with the Deployment's arguments and helm mode's certificate

/// A free loopback port (bound and released; the server binds it right after).
fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("no free port: {e}"),
    }
}

/// The server process; killed when dropped, so a failing assertion leaves nothing running.
struct Server {
    child: std::process::Child,
    log: std::path::PathBuf,
    webhook_port: u16,
    admin_port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the binary with the rendered Deployment's arguments, only the listen addresses and
    /// file paths moved into the test's reach; the certificate files are the helm Secret's.
    fn start(m: &Manifests, dir: &Path) -> Self {
        let secret = m.one("Secret");
        for key in ["ca.crt", "tls.crt", "tls.key"] {
            let pem = base64_decode(str_of(&secret["data"][key]));
            std::fs::write(dir.join(key), pem).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        let (webhook_port, admin_port) = (free_port(), free_port());
        let file = |name: &str| dir.join(name).display().to_string();
        let args: Vec<String> = m
            .args()
            .into_iter()
            .map(|a| match a.split_once('=') {
                Some(("--addr", _)) => format!("--addr=127.0.0.1:{webhook_port}"),
                Some(("--admin-addr", _)) => format!("--admin-addr=127.0.0.1:{admin_port}"),
                Some(("--tls-cert-file", _)) => format!("--tls-cert-file={}", file("tls.crt")),
                Some(("--tls-key-file", _)) => format!("--tls-key-file={}", file("tls.key")),
                Some(("--client-ca-file", _)) => format!("--client-ca-file={}", file("ca.crt")),
                _ => a,
            })
            .collect();
        let log = dir.join("server.log");
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}"));
        let err = out.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new(BIN)
            .args(&args)
            .current_dir(dir)
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        let mut server = Self {
            child,
            log,
            webhook_port,
            admin_port,
        };
        server.wait_ready(&args);
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self, args: &[String]) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the binary exited ({status}) with the chart's arguments {args:?}:\n{}",
                    self.log()
                );
            }
            if let Some((200, _)) = self.admin_get("/readyz") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not ready within 20 s:\n{}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn admin_get(&self, path: &str) -> Option<(u16, String)> {
        use std::io::Write as _;
        let mut sock = std::net::TcpStream::connect(("127.0.0.1", self.admin_port)).ok()?;
        write!(
            sock,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        parse_http(&read_all(&mut sock))
    }

    /// POSTs a body to /validate as the apiserver does: HTTPS to the Service's DNS name,
    /// verified against `ca_pem` (the caBundle).
    fn post_review(&self, ca_pem: &[u8], host: &str, body: &str) -> (u16, String) {
        use std::io::Write as _;
        let ca = CertificateDer::from_pem_slice(ca_pem).unwrap_or_else(|e| panic!("{e}"));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).unwrap_or_else(|e| panic!("{e}"));
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|e| panic!("{e}"))
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(host.to_owned()).unwrap_or_else(|e| panic!("{e}"));
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap_or_else(|e| panic!("{e}"));
        let sock = std::net::TcpStream::connect(("127.0.0.1", self.webhook_port)).unwrap_or_else(|e| panic!("{e}"));
        let mut tls = rustls::StreamOwned::new(conn, sock);
        let request = format!(
            "POST /validate HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(request.as_bytes())
            .unwrap_or_else(|e| panic!("TLS to {host} (verified with the caBundle): {e}\n{}", self.log()));
        match parse_http(&read_all(&mut tls)) {
            Some(r) => r,
            None => panic!("no HTTP answer from /validate:\n{}", self.log()),
        }
    }
}

/// Reads until the peer closes (a missing TLS close_notify counts as the end).
fn read_all(r: &mut impl std::io::Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Status and body of an HTTP/1.1 response (Content-Length or chunked).
fn parse_http(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    if !chunked {
        return Some((status, body.to_owned()));
    }
    let mut decoded = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            break;
        }
        decoded.push_str(after.get(..size)?);
        rest = after.get(size + 2..)?;
    }
    Some((status, decoded))
}

#[test]
fn the_binary_runs_with_the_charts_arguments_and_helm_certificate() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let m = render(&["--set", "webhook.protectDelete=true"]);
    let server = Server::start(&m, dir.path());
    assert_eq!(server.admin_get("/healthz").map(|(s, _)| s), Some(200));
    let (status, metrics) = server.admin_get("/metrics").unwrap_or_else(|| panic!("no /metrics"));
    assert_eq!(status, 200);
    assert!(metrics.contains("meshconfig_webhook"), "{metrics}");

    // The apiserver's call: the Service's DNS name, verified with the webhook's caBundle.
    let ca_pem = base64_decode(str_of(&m.webhooks()[0]["clientConfig"]["caBundle"]));
    let service = &m.webhooks()[0]["clientConfig"]["service"];
    let host = format!("{}.{}.svc", str_of(&service["name"]), str_of(&service["namespace"]));
    let base = std::fs::read_to_string(repo().join("tests/fixtures/objects/meshconfig-v1.2.4.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut object: Value = serde_json::from_str(&base).unwrap_or_else(|e| panic!("{e}"));
    object["spec"]["traffic"]["outboundIPRangeExclusionList"] = serde_json::json!(["10.0.0.0/33"]);
    let review = |uid: &str, operation: &str, object: &Value, old: &Value| {
        serde_json::json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": uid,
                "kind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
                "resource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
                "name": "osm-mesh-config",
                "namespace": NAMESPACE,
                "operation": operation,
                "userInfo": {"username": "chart-test"},
                "object": object,
                "oldObject": old,
                "dryRun": true,
            }
        })
        .to_string()
    };
    let (status, body) = server.post_review(&ca_pem, &host, &review("chart-1", "CREATE", &object, &Value::Null));
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(answer["response"]["uid"], "chart-1");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(
        answer["response"]["status"]["message"]
            .to_string()
            .contains("must be a valid CIDR value"),
        "{answer}"
    );

    // --protect-delete, as the chart passes it with webhook.protectDelete.
    let (status, body) = server.post_review(&ca_pem, &host, &review("chart-2", "DELETE", &Value::Null, &object));
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(answer["response"]["uid"], "chart-2");
    assert_eq!(answer["response"]["allowed"], false, "DELETE denied: {answer}");
}

#[test]
fn the_binary_starts_with_every_optional_flag_the_chart_passes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let m = render(&["-f", &fixture("everything.yaml")]);
    let server = Server::start(&m, dir.path());
    assert_eq!(server.admin_get("/readyz").map(|(s, _)| s), Some(200));
}

#[test]
fn rejects_a_grace_period_the_drain_does_not_fit_in() {
    // docs/operations.md's rule, enforced by the chart: terminationGracePeriodSeconds must exceed
    // preStopSleepSeconds + server.shutdownTimeoutSeconds (defaults 5 + 20).
    assert_refused(
        KUBE_LATEST,
        &["--set", "terminationGracePeriodSeconds=25"],
        "terminationGracePeriodSeconds (25) must exceed preStopSleepSeconds (5) + server.shutdownTimeoutSeconds (20), or pods are killed mid-drain",
    );
    render(&["--set", "terminationGracePeriodSeconds=26"]);
}

#[test]
fn rejects_log_levels_the_binary_refuses_and_accepts_those_it_takes() {
    // The values schema accepts exactly what `serve --log-level` parses (levels, target=level).
    // helm --set splits on unescaped commas.
    for bad in ["warning", "verbose", "info\\,foo=loud"] {
        assert_refused(KUBE_LATEST, &["--set", &format!("server.logLevel={bad}")], "logLevel");
    }
    for good in ["debug", "WARN", "info\\,meshconfig_webhook=debug"] {
        let m = render(&["--set", &format!("server.logLevel={good}")]);
        assert_eq!(flag_value(&m.args(), "--log-level"), good.replace('\\', ""));
    }
}

#[test]
fn bounds_malloc_arenas_and_keeps_extra_env() {
    let m = render(&[
        "--set",
        "server.extraEnv[0].name=RUST_BACKTRACE",
        "--set-string",
        "server.extraEnv[0].value=1",
    ]);
    let env: Vec<(&str, &str)> = arr(&m.container()["env"])
        .iter()
        .map(|e| (str_of(&e["name"]), str_of(&e["value"])))
        .collect();
    assert_eq!(
        env,
        [
            ("MALLOC_ARENA_MAX", "2"),
            ("GLIBC_TUNABLES", "glibc.malloc.tcache_count=256"),
            ("RUST_BACKTRACE", "1")
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Enforcement: webhook | policy | both (issue 11)

/// The chart's generated policies (`policies/`) are the generator's current output; regenerate
/// them with `UPDATE_GOLDEN=1 cargo test --test chart policy_files`.
#[test]
fn policy_files_are_the_generators_output() {
    use meshconfig_webhook::policy::{KubeVersion, policy_yaml};
    use meshconfig_webhook::schema::Release;
    let dir = repo().join("charts/meshconfig-webhook/policies");
    for release in Release::ALL {
        for kube in ["1.30", "1.31"] {
            let want = policy_yaml(release, kube.parse::<KubeVersion>().expect("version")).expect("YAML");
            let path = dir.join(format!("osm-{release}-k8s-{kube}.yaml"));
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::create_dir_all(&dir).expect("policies dir");
                std::fs::write(&path, &want).expect("write policy");
            }
            let got = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
            assert!(got == want, "{} is stale (UPDATE_GOLDEN=1 rewrites it)", path.display());
        }
    }
}

const WEBHOOK_KINDS: [&str; 5] = [
    "Deployment",
    "Service",
    "ServiceAccount",
    "Secret",
    "ValidatingWebhookConfiguration",
];

#[test]
fn renders_only_the_policy_for_enforcement_policy() {
    for mode in ["helm", "cert-manager"] {
        let m = render(&[
            "--set",
            "enforcement=policy",
            "--set",
            &format!("certificates.mode={mode}"),
            "--set",
            "networkPolicy.enabled=true",
            "--set",
            "serviceMonitor.enabled=true",
        ]);
        let kinds: Vec<&str> = m.0.iter().map(|d| str_of(&d["kind"])).collect();
        // The one webhook object is the empty cleanup hook, which removes a webhook an earlier
        // revision registered.
        assert_eq!(
            kinds,
            [
                "ValidatingAdmissionPolicy",
                "ValidatingAdmissionPolicyBinding",
                "ValidatingWebhookConfiguration"
            ],
            "{mode}"
        );
        assert_eq!(arr(&m.cleanup()["webhooks"]).len(), 0, "{mode}");
        assert!(
            m.hooks_for("post-install")
                .iter()
                .all(|d| arr(&d["webhooks"]).is_empty())
        );
    }
}

#[test]
fn renders_webhook_and_policy_for_enforcement_both() {
    let m = render(&["--set", "enforcement=both"]);
    for kind in WEBHOOK_KINDS {
        assert!(m.has(kind), "{kind} missing");
    }
    assert!(m.has("ValidatingAdmissionPolicy") && m.has("ValidatingAdmissionPolicyBinding"));
    let webhook = render(&[]);
    assert!(
        !webhook.has("ValidatingAdmissionPolicy"),
        "default is the webhook alone"
    );
    assert!(webhook.has("Deployment"));
}

#[test]
fn renders_the_policy_of_the_release_for_the_cluster_and_binds_the_mesh_namespace() {
    use meshconfig_webhook::policy::{Options, documents};
    for (kube, target) in [("1.30.0", "1.30"), ("1.31.0", "1.31"), (KUBE_LATEST, "1.31")] {
        let m = render_in(
            NAMESPACE,
            kube,
            &[
                "--set",
                "enforcement=policy",
                "--set-string",
                "osm.release=0.10",
                "--set",
                "osm.meshNamespace=osm-system",
            ],
        );
        let [policy, binding] = documents(&Options {
            release: "0.10".parse().expect("release"),
            kube: target.parse().expect("version"),
            mesh_namespace: "osm-system".into(),
        });
        let rendered = m.one("ValidatingAdmissionPolicy");
        assert_eq!(rendered["spec"], policy["spec"], "Kubernetes {kube}");
        assert_eq!(rendered["metadata"]["name"], policy["metadata"]["name"]);
        // The chart's binding says what the generator's says.
        let b = m.one("ValidatingAdmissionPolicyBinding");
        assert_eq!(b["spec"], binding["spec"]);
        assert_eq!(b["metadata"]["name"], binding["metadata"]["name"]);
    }
}

#[test]
fn rejects_enforcement_policy_below_kubernetes_1_30_and_unknown_modes() {
    assert_refused("1.29.0", &["--set", "enforcement=policy"], "needs Kubernetes >= 1.30");
    assert_refused("1.29.0", &["--set", "enforcement=both"], "needs Kubernetes >= 1.30");
    assert_refused(KUBE_LATEST, &["--set", "enforcement=cel"], "enforcement");
    // The webhook alone still renders there.
    assert!(try_template(NAMESPACE, "1.29.0", &[]).is_ok());
}

// ---------------------------------------------------------------------------------------------
// When the webhook is registered, and its removal (docs/install.md, "Why the webhook
// configuration is a Helm hook"); tests/apiserver_e2e.rs runs the same with helm on a real
// apiserver.

#[test]
fn registers_the_webhook_only_as_a_hook_after_the_pods_are_ready() {
    for args in [
        &[][..],
        &["--set", "enforcement=both"],
        &["-f", &fixture("cert-manager.yaml")],
    ] {
        let m = render(args);
        let vwc = m.registration();
        // Post hooks run once --wait has seen every resource ready, never after it timed out.
        assert_eq!(
            hook_events(vwc),
            ["post-install", "post-upgrade", "post-rollback"],
            "{args:?}"
        );
        // The pinned helm is Helm 4, which applies hooks server-side: an upgrade updates the
        // configuration in place. hook-failed never fires for a configuration, so it stays.
        assert_eq!(
            vwc["metadata"]["annotations"]["helm.sh/hook-delete-policy"], "hook-failed",
            "{args:?}"
        );
        // Everything else is a plain resource that helm --wait waits for.
        for d in &m.0 {
            if d["kind"] != "ValidatingWebhookConfiguration" {
                assert!(hook_events(d).is_empty(), "{args:?}: {} is a hook", d["kind"]);
            }
        }
        assert_eq!(m.all("ValidatingWebhookConfiguration").len(), 2, "{args:?}");
    }
}

#[test]
fn removes_the_webhook_configuration_before_uninstall_and_after_a_switch_to_the_policy() {
    let m = render(&[]);
    let cleanup = m.cleanup();
    // Same name: helm deletes the registration before it creates this hook, then deletes this.
    assert_eq!(cleanup["metadata"]["name"], m.registration()["metadata"]["name"]);
    assert_eq!(hook_events(cleanup), ["pre-delete"]);
    assert_eq!(
        cleanup["metadata"]["annotations"]["helm.sh/hook-delete-policy"],
        "before-hook-creation,hook-succeeded"
    );
    assert_eq!(arr(&cleanup["webhooks"]).len(), 0, "the cleanup hook reviews nothing");

    // enforcement=policy: an upgrade or rollback to it removes a webhook registered before.
    let m = render(&["--set", "enforcement=policy"]);
    let cleanup = m.cleanup();
    assert_eq!(
        hook_events(cleanup),
        ["pre-delete", "post-install", "post-upgrade", "post-rollback"]
    );
    assert_eq!(cleanup["metadata"]["name"], RELEASE);
    assert_eq!(arr(&cleanup["webhooks"]).len(), 0);
}

/// Values for url mode: the webhook at `url`, trusted through the secret.yaml fixture's CA.
fn url_mode(url: &str) -> Vec<String> {
    let values_text = std::fs::read_to_string(fixture("secret.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let values: Value = serde_saphyr::from_str(&values_text).unwrap_or_else(|e| panic!("{e}"));
    let pem = str_of(&values["certificates"]["secret"]["caBundle"]).trim().to_owned();
    [
        "--set",
        &format!("webhook.url={url}"),
        "--set",
        "certificates.mode=secret",
        "--set",
        &format!("certificates.secret.caBundle={}", base64_encode(pem.as_bytes())),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn accepts_webhook_url_without_a_secret_name_and_renders_only_the_webhook_configuration() {
    let url = "https://127.0.0.1:8443/validate";
    let args = url_mode(url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let m = render(&args);
    // No Deployment, Service, ServiceAccount, Secret, PodDisruptionBudget or NetworkPolicy:
    // nothing in the cluster serves or mounts anything.
    let kinds: BTreeSet<&str> = m.0.iter().map(|d| str_of(&d["kind"])).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["ValidatingWebhookConfiguration"]),
        "{:?}",
        m.summary()
    );
    for w in m.webhooks() {
        assert_eq!(w["clientConfig"]["url"], url);
        assert!(w["clientConfig"].get("service").is_none());
        assert!(!str_of(&w["clientConfig"]["caBundle"]).is_empty());
    }
    // Also with everything.yaml's in-cluster values, which then have nothing to apply to.
    let mut all = args.clone();
    let everything = fixture("everything.yaml");
    all.extend(["-f", everything.as_str()]);
    let m = render(&all);
    assert!(!m.has("Deployment") && !m.has("Service") && !m.has("ServiceMonitor"));
    // enforcement=both keeps the policy beside the URL's webhook.
    let mut both = args.clone();
    both.extend(["--set", "enforcement=both"]);
    let m = render(&both);
    assert!(m.has("ValidatingAdmissionPolicy") && !m.has("Deployment"));
}

#[test]
fn rejects_webhook_url_with_a_certificate_mode_made_for_the_in_cluster_service() {
    for mode in ["helm", "cert-manager"] {
        assert_refused(
            KUBE_LATEST,
            &[
                "--set",
                "webhook.url=https://127.0.0.1:8443/validate",
                "--set",
                &format!("certificates.mode={mode}"),
            ],
            &format!(
                "webhook.url needs certificates.mode=secret and certificates.secret.caBundle (the CA that signed the certificate of the server at https://127.0.0.1:8443/validate): certificates.mode={mode} makes a certificate for the in-cluster Service, which webhook.url does not use"
            ),
        );
    }
    assert_refused(
        KUBE_LATEST,
        &[
            "--set",
            "webhook.url=https://127.0.0.1:8443/validate",
            "--set",
            "certificates.mode=secret",
        ],
        "/certificates/secret/caBundle",
    );
    // Without webhook.url, secret mode still needs the Secret the pods mount.
    assert_refused(
        KUBE_LATEST,
        &[
            "--set",
            "certificates.mode=secret",
            "--set",
            "certificates.secret.caBundle=x",
        ],
        "/certificates/secret/name",
    );
}

/// `helm install --dry-run=client` with `extra`: the NOTES helm prints.
fn notes(extra: &[&str]) -> String {
    let chart = chart_dir();
    let mut args = vec![
        "install",
        RELEASE,
        chart.as_str(),
        "--namespace",
        NAMESPACE,
        "--dry-run=client",
    ];
    args.extend_from_slice(extra);
    let out = run_tool("helm", &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    match stdout.split_once("NOTES:") {
        Some((_, n)) => n.to_owned(),
        None => panic!("no NOTES in:\n{stdout}"),
    }
}

/// The words of the `serve` command line the NOTES show (backslash continuations joined), after
/// `serve`.
fn notes_serve_flags(notes: &str) -> Vec<String> {
    let joined = notes.replace("\\\n", " ");
    let line = match joined
        .lines()
        .find(|l| l.trim_start().starts_with("cargo run --release -- serve "))
    {
        Some(l) => l,
        None => panic!("NOTES show no `cargo run --release -- serve` line:\n{notes}"),
    };
    let (_, flags) = line.split_once(" serve ").unwrap_or_else(|| panic!("{line}"));
    flags
        .split_whitespace()
        .map(|w| w.trim_matches('\'').to_owned())
        .collect()
}

#[test]
fn notes_in_url_mode_print_serve_with_the_flags_the_deployment_would_pass() {
    for values in [
        vec![],
        vec!["--set", "webhook.protectDelete=true"],
        vec!["-f", "everything.yaml"],
        vec![
            "--set-string",
            "osm.release=0.10",
            "--set",
            "osm.meshNamespace=osm-system",
        ],
        vec![
            "--set",
            "osm.unknownConfigMapKeys=warn",
            "--set",
            "server.maxInFlight=8",
        ],
    ] {
        let values: Vec<String> = values
            .iter()
            .map(|v| {
                if v.ends_with(".yaml") {
                    fixture(v)
                } else {
                    v.to_string()
                }
            })
            .collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let deployment = render(&values).args();
        // The Deployment's flags from --service-name on decide reviews and limits; before it
        // come addresses and certificate paths inside the pod.
        let start = deployment
            .iter()
            .position(|a| a.starts_with("--service-name="))
            .unwrap_or_else(|| panic!("{deployment:?}"));
        let url = url_mode("https://127.0.0.1:8443/validate");
        let mut args: Vec<&str> = values.clone();
        args.extend(url.iter().map(String::as_str));
        let printed = notes_serve_flags(&notes(&args));
        assert_eq!(
            printed[..2],
            ["--addr=127.0.0.1:8443", "--admin-addr=127.0.0.1:9090"],
            "{values:?}"
        );
        assert_eq!(printed[2..], deployment[start + 1..], "{values:?}");
    }
}

#[test]
fn notes_in_url_mode_listen_where_the_url_points() {
    for (url, addr, admin) in [
        ("https://127.0.0.1:8443/validate", "127.0.0.1:8443", "127.0.0.1:9090"),
        ("https://localhost/validate", "localhost:443", "localhost:9090"),
        ("https://[::1]:9443/validate", "[::1]:9443", "[::1]:9090"),
        // A name the apiserver resolves to this machine: listen on every address.
        ("https://dev.example.com:8443/validate", "0.0.0.0:8443", "0.0.0.0:9090"),
    ] {
        let values = url_mode(url);
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let printed = notes_serve_flags(&notes(&values));
        assert_eq!(printed[0], format!("--addr={addr}"), "{url}");
        assert_eq!(printed[1], format!("--admin-addr={admin}"), "{url}");
    }
}

#[test]
fn notes_tell_what_to_do_when_an_install_fails() {
    let n = notes(&[]);
    for expect in [
        "registered by a Helm hook once `--wait` has\n   seen the pods ready",
        "nothing was registered and MeshConfig writes go on unreviewed",
        "helm uninstall meshconfig-webhook -n arc-osm-system",
        "helm upgrade --install meshconfig-webhook <chart> -n arc-osm-system --wait --reuse-values",
    ] {
        assert!(n.contains(expect), "NOTES should say {expect:?}:\n{n}");
    }
}

#[test]
fn notes_for_the_policy_wait_until_it_denies_before_trying_it() {
    let n = notes(&["--set", "enforcement=policy"]);
    let joined = n.replace("\\\n", " ");
    let wait = match joined.lines().map(str::trim).find(|l| l.starts_with("while ")) {
        Some(l) => l,
        None => panic!("the policy NOTES do not wait for the policy:\n{n}"),
    };
    let try_it = match joined
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kubectl patch meshconfig"))
    {
        Some(l) => l,
        None => panic!("no dry run to try in:\n{n}"),
    };
    // The loop runs the very dry run shown next, until the apiserver denies it.
    assert_eq!(wait, format!("while {try_it} >/dev/null 2>&1; do sleep 1; done"));
    assert!(joined.find(wait) < joined.find(&format!("\n   {try_it}\n")));
}

#[test]
fn requires_different_nodes_only_when_asked_and_lets_affinity_replace_it() {
    let m = render(&[]);
    assert!(m.pod_spec()["affinity"].is_null(), "{}", m.pod_spec()["affinity"]);
    let m = render(&["--set", "requireDifferentNodes=true"]);
    let required = &m.pod_spec()["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
    assert_eq!(
        required,
        &json!([{
            "topologyKey": "kubernetes.io/hostname",
            "labelSelector": {"matchLabels": {
                "app.kubernetes.io/name": "meshconfig-webhook",
                "app.kubernetes.io/instance": RELEASE,
            }},
        }])
    );
    // The soft spread stays: it still spreads across zones of nodes the rule allows.
    assert!(!arr(&m.pod_spec()["topologySpreadConstraints"]).is_empty());
    let m = render(&[
        "--set",
        "requireDifferentNodes=true",
        "--set",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=pool",
        "--set",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
    ]);
    assert!(m.pod_spec()["affinity"]["podAntiAffinity"].is_null());
    assert!(m.pod_spec()["affinity"]["nodeAffinity"].is_object());
}

#[test]
fn declares_the_kubernetes_versions_its_templates_need() {
    let chart = std::fs::read_to_string(repo().join("charts/meshconfig-webhook/Chart.yaml")).expect("Chart.yaml");
    assert!(chart.contains("kubeVersion: \">=1.27.0-0\""), "{chart}");
    // matchLabelKeys (topology spread) is what needs 1.27: the chart renders it by default.
    let m = render_in(NAMESPACE, "1.27.0", &["--set", "webhook.matchConditions.enabled=false"]);
    assert!(m.pod_spec()["topologySpreadConstraints"][0]["matchLabelKeys"].is_array());
    let refused = try_template(NAMESPACE, "1.26.0", &[]).expect_err("Kubernetes 1.26 is refused");
    assert!(refused.contains("kubeVersion"), "{refused}");
}
