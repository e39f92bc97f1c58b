//! The generated ValidatingAdmissionPolicy on a real kube-apiserver (v1.37, `make tools`) with
//! OSM's v1.2.4 MeshConfig CRD: every release line's policy is accepted without type-checking
//! warnings, and the webhook's engine and the policy agree on a shared corpus (the semantic cases
//! of `tests/validate_semantic.rs`, docs/rules.md's CRD-admitted harmful values, every release's
//! preset, and ratcheting updates): same verdict, and the field the policy denies is one the
//! webhook denies. Also: the chart's `enforcement=policy` applied and enforcing, and the CEL cost
//! and time on the grown objects of the benches.

mod support;

#[path = "../benches/support/objects.rs"]
mod objects;

use std::path::Path;
use std::time::{Duration, Instant};

use meshconfig_webhook::policy::{KubeVersion, differences::DIFFERENCES};
use meshconfig_webhook::schema::{ApiVersion, Release, Schema};
use meshconfig_webhook::validate;
use serde_json::{Value, json};
use support::control_plane::{ControlPlane, LogsOnFailure, Run};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A control plane with OSM v1.2.4's MeshConfig CRD established.
fn plane() -> ControlPlane {
    ControlPlane::with_osm_crd("meshconfig-crd-v1.2.4.yaml")
}

/// `meshconfig-webhook policy …`.
fn policy_yaml(release: Release, kube: &str, namespace: &str) -> String {
    let out = std::process::Command::new(support::BIN)
        .args([
            "policy",
            "--osm-release",
            release.as_str(),
            "--kubernetes-version",
            kube,
            "--mesh-namespace",
            namespace,
        ])
        .output()
        .expect("run meshconfig-webhook policy");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Every release line's policy, for each target version, is accepted: the apiserver compiles
/// each expression in the environment it offers new policies (a compile error is a 422), and
/// kube-controller-manager's policy status controller type-checks it against the CRD's schema
/// with no warning in `status.typeChecking`. A planted type error shows the check is live.
#[test]
fn accepts_the_generated_policy_of_every_release_line() {
    let cp = plane();
    let _logs = LogsOnFailure(&cp);
    let kcm = cp.controller_manager("validatingadmissionpolicy-status-controller");
    for kube in ["1.30", "1.31", "1.37"] {
        for release in Release::ALL {
            let yaml = policy_yaml(release, kube, "arc-osm-system");
            let run = cp.kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], Some(&yaml));
            assert!(run.ok(), "OSM {release} for Kubernetes {kube}: {}", run.stderr);
            cp.apply(&yaml);
            let name = meshconfig_webhook::policy::policy_name(release);
            let got = cp.kubectl(&["get", "validatingadmissionpolicy", &name, "-o", "json"]);
            let got: Value = serde_json::from_str(&got.stdout).expect("policy JSON");
            assert_eq!(
                got.pointer("/metadata/labels/meshconfig-webhook~1kubernetes-version"),
                Some(&json!(kube))
            );
            let count = got
                .pointer("/spec/validations")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let kube_version: KubeVersion = kube.parse().expect("version");
            let generated = meshconfig_webhook::policy::validations(release, kube_version).1.len();
            assert_eq!(count, generated, "OSM {release} for Kubernetes {kube}");
            let warnings = type_checking(&cp, &kcm, &name);
            assert!(
                warnings.is_empty(),
                "OSM {release} for Kubernetes {kube}: {warnings:#?}"
            );
        }
    }

    // The same check finds a field the schema does not have.
    let mut planted: Value = serde_yaml_documents(&policy_yaml(Release::V1_2, "1.37", "arc-osm-system"))
        .into_iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .expect("a policy document");
    planted["metadata"]["name"] = json!("planted-type-error");
    planted["spec"]["validations"] = json!([{"expression": "object.spec.traffic.enableEgress == 'yes'"}]);
    cp.apply(&planted.to_string());
    let warnings = type_checking(&cp, &kcm, "planted-type-error");
    assert!(
        warnings.iter().any(|w| w["warning"]
            .as_str()
            .is_some_and(|t| t.contains("no matching overload"))),
        "a bool compared with a string must be reported: {warnings:#?}"
    );
}

/// The policy's `status.typeChecking.expressionWarnings`, once kube-controller-manager has checked
/// its current generation.
fn type_checking(cp: &ControlPlane, kcm: &support::control_plane::ControllerManager, name: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let got = cp.kubectl(&["get", "validatingadmissionpolicy", name, "-o", "json"]);
        let got: Value = serde_json::from_str(&got.stdout).unwrap_or(Value::Null);
        if got.pointer("/status/observedGeneration").is_some()
            && got.pointer("/status/observedGeneration") == got.pointer("/metadata/generation")
        {
            return got
                .pointer("/status/typeChecking/expressionWarnings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kube-controller-manager did not type-check {name} within 60 s:\n{}",
            kcm.log_tail()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The documents of a YAML stream, as JSON values.
fn serde_yaml_documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml).expect("the policy output is YAML")
}

#[test]
fn rejects_a_policy_target_below_1_30() {
    let out = std::process::Command::new(support::BIN)
        .args(["policy", "--kubernetes-version", "1.29"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GA from 1.30"));
    assert!("1.30".parse::<KubeVersion>().is_ok());
}

/// What the apiserver did with a dry-run write.
#[derive(Debug, PartialEq)]
enum Answer {
    Allowed,
    /// Denied by the policy: the field its message names, and the message.
    DeniedAt(String, String),
    /// The policy failed to evaluate (failurePolicy Fail denies): a bug in the generated CEL.
    EvaluationError(String),
    /// Refused before admission (the CRD's own schema): not a policy verdict.
    NotAdmitted(String),
}

fn answer(run: &Run) -> Answer {
    if run.ok() {
        return Answer::Allowed;
    }
    let text = run.stderr.trim();
    match text.split_once("denied request: ") {
        // A CEL runtime error is no verdict of ours: keep all of it for the failure message.
        Some((_, message)) if text.contains("ValidatingAdmissionPolicy") && message.starts_with("expression '") => {
            Answer::EvaluationError(
                message
                    .rsplit("' resulted in error: ")
                    .next()
                    .unwrap_or(message)
                    .to_owned(),
            )
        }
        Some((_, message)) if text.contains("ValidatingAdmissionPolicy") => Answer::DeniedAt(
            message.split(": ").next().unwrap_or_default().to_owned(),
            message.to_owned(),
        ),
        _ => Answer::NotAdmitted(text.to_owned()),
    }
}

/// The webhook's engine on the object the apiserver stores (CRD defaults applied): its errors as
/// (field, message).
fn webhook_errors(release: Release, version: ApiVersion, object: &Value, old: Option<&Value>) -> Vec<(String, String)> {
    let schema = Schema::get(release, version).expect("schema");
    let mut o = object.clone();
    validate::apply_defaults(schema, &mut o);
    let old = old.map(|old| {
        let mut old = old.clone();
        validate::apply_defaults(schema, &mut old);
        old
    });
    validate::meshconfig(schema, &o, old.as_ref())
        .errors
        .into_iter()
        .map(|e| (e.field.clone(), e.to_string()))
        .collect()
}

/// Waits until the policy bound to `ns` denies `probe` (bindings take effect asynchronously).
fn wait_until_enforced(cp: &ControlPlane, probe: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = cp.kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], Some(probe));
        if matches!(answer(&run), Answer::DeniedAt(..) | Answer::EvaluationError(_)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the policy was not enforced within 60s: {run:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn in_namespace(object: &Value, ns: &str) -> Value {
    let mut o = object.clone();
    o["metadata"] = json!({"name": "osm-mesh-config", "namespace": ns});
    o
}

struct Tally {
    agree: usize,
    /// Denials whose message is word for word one of the webhook's.
    same_words: usize,
    denied: usize,
    /// Cases of a documented difference in verdict, not counted in `total`.
    documented: usize,
    total: usize,
    not_admitted: usize,
    disagreements: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: &str, webhook: &[(String, String)], policy: Answer) {
        let agrees = match &policy {
            Answer::NotAdmitted(why) => {
                println!("not admitted by the CRD: {what}: {why}");
                self.not_admitted += 1;
                return;
            }
            Answer::Allowed => webhook.is_empty(),
            Answer::EvaluationError(_) => false,
            Answer::DeniedAt(field, message) => {
                self.denied += 1;
                if webhook.iter().any(|(_, m)| m == message) {
                    self.same_words += 1;
                } else {
                    println!("words differ: {what}:\n  policy  {message}\n  webhook {webhook:?}");
                }
                webhook.iter().any(|(f, _)| f == field)
            }
        };
        self.total += 1;
        if agrees {
            self.agree += 1;
        } else {
            self.disagreements
                .push(format!("{what}: webhook {webhook:?}, policy {policy:?}"));
        }
    }
}

#[test]
fn policy_and_webhook_agree_on_the_corpus() {
    let cp = plane();
    let _logs = LogsOnFailure(&cp);
    let mut tally = Tally {
        agree: 0,
        same_words: 0,
        denied: 0,
        documented: 0,
        total: 0,
        not_admitted: 0,
        disagreements: Vec::new(),
    };
    let corpus: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/policy/corpus.json")).expect("corpus"),
    )
    .expect("corpus JSON");
    let preset = support::meshconfig_v1_2();

    // One namespace per release line, each with its own policy and binding.
    for release in Release::ALL {
        let ns = format!("policy-{}", release.as_str().replace('.', "-"));
        cp.kubectl(&["create", "namespace", &ns]).success("create namespace");
    }
    // An invalid value stored before the policy exists, for the ratcheting cases.
    let stored_bad = in_namespace(
        &support::merged(
            &preset,
            json!({"spec": {"certificate": {"serviceCertValidityDuration": "24x"}}}),
        ),
        "policy-1-2",
    );
    cp.apply(&stored_bad.to_string());
    let mut stored_tls = in_namespace(
        &support::merged(
            &preset,
            json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLSv1_0", "tlsMaxProtocolVersion": "TLSv1_0"}}}),
        ),
        "policy-1-2",
    );
    stored_tls["metadata"]["name"] = json!("tls-stored");
    cp.apply(&stored_tls.to_string());
    for release in Release::ALL {
        let ns = format!("policy-{}", release.as_str().replace('.', "-"));
        cp.apply(&policy_yaml(release, "1.37", &ns));
    }
    let probe = in_namespace(
        &support::merged(&preset, json!({"spec": {"certificate": {"certKeyBitSize": 12}}})),
        "policy-1-2",
    );
    let mut probe = probe;
    probe["metadata"]["name"] = json!("probe");
    wait_until_enforced(&cp, &probe.to_string());

    // The corpus: CREATEs of patched v1.2.4 presets, then the edge cases of the CEL translations.
    let cases = corpus["cases"].as_array().expect("cases");
    let edges = corpus["edges"].as_array().expect("edges");
    for case in cases.iter().chain(edges) {
        let mut object = in_namespace(&support::merged(&preset, case["patch"].clone()), "policy-1-2");
        object["metadata"]["name"] = json!("corpus");
        let webhook = webhook_errors(Release::V1_2, ApiVersion::V1alpha2, &object, None);
        let run = cp.kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], Some(&object.to_string()));
        let what = format!("{} {}", case["source"].as_str().unwrap_or("edge"), case["patch"]);
        match case["difference"].as_str() {
            None => tally.record(&what, &webhook, answer(&run)),
            Some(rule) => {
                let documented = DIFFERENCES.iter().find(|d| d.rule == rule);
                assert!(
                    documented.is_some_and(|d| d.verdict),
                    "{what}: no verdict difference {rule:?}"
                );
                tally.documented += 1;
                println!(
                    "documented difference ({rule}): {what}: webhook {webhook:?}, policy {:?}",
                    answer(&run)
                );
            }
        }
    }

    // Every release's preset, through its own release's policy.
    for (file, release) in [
        ("meshconfig-v0.9.2.json", Release::V0_9),
        ("meshconfig-v0.10.0.json", Release::V0_10),
        ("meshconfig-v0.11.1.json", Release::V0_11),
        ("meshconfig-v1.0.0.json", Release::V1_0),
        ("meshconfig-v1.1.4.json", Release::V1_1),
        ("meshconfig-v1.1.4-v1alpha1.json", Release::V1_1),
        ("meshconfig-v1.2.4.json", Release::V1_2),
        ("meshconfig-v1.2.4-v1alpha1.json", Release::V1_2),
        ("meshconfig-pre-rel-v1.2.json", Release::V1_2),
    ] {
        let preset = support::read_json(&format!("objects/{file}"));
        let version = preset["apiVersion"]
            .as_str()
            .and_then(|v| v.rsplit('/').next())
            .and_then(ApiVersion::parse)
            .expect("apiVersion");
        let ns = format!("policy-{}", release.as_str().replace('.', "-"));
        let mut object = in_namespace(&preset, &ns);
        object["metadata"]["name"] = json!("preset");
        let webhook = webhook_errors(release, version, &object, None);
        // Older releases' fields are unknown to the v1.2.4 CRD: pruned rather than refused.
        let run = cp.kubectl_stdin(
            &["create", "--dry-run=server", "--validate=ignore", "-f", "-"],
            Some(&object.to_string()),
        );
        tally.record(file, &webhook, answer(&run));
    }

    // Ratcheting: the stored "24x" does not block an unrelated change, but a new bad value is denied.
    for patch in [
        json!({"spec": {"traffic": {"enableEgress": false}}}),
        json!({"spec": {"certificate": {"serviceCertValidityDuration": "25x"}}}),
        json!({"spec": {"certificate": {"certKeyBitSize": 12}}}),
    ] {
        let object = support::merged(&stored_bad, patch.clone());
        let webhook = webhook_errors(Release::V1_2, ApiVersion::V1alpha2, &object, Some(&stored_bad));
        let run = cp.kubectl(&[
            "-n",
            "policy-1-2",
            "patch",
            "meshconfig",
            "osm-mesh-config",
            "--dry-run=server",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ]);
        tally.record(&format!("UPDATE {patch}"), &webhook, answer(&run));
    }

    // The TLS rules ratchet on what they read: the stored maximum TLSv1_0 alone stays allowed,
    // a new minimum above it is denied.
    for patch in [
        json!({"spec": {"traffic": {"enableEgress": false}}}),
        json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLSv1_2"}}}),
        json!({"spec": {"sidecar": {"tlsMaxProtocolVersion": "TLSv1_1"}}}),
    ] {
        let object = support::merged(&stored_tls, patch.clone());
        let webhook = webhook_errors(Release::V1_2, ApiVersion::V1alpha2, &object, Some(&stored_tls));
        let run = cp.kubectl(&[
            "-n",
            "policy-1-2",
            "patch",
            "meshconfig",
            "tls-stored",
            "--dry-run=server",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ]);
        tally.record(&format!("UPDATE tls-stored {patch}"), &webhook, answer(&run));
    }

    println!(
        "policy vs webhook: {} of {} cases agree (verdict and denied field); {} of {} denials worded identically; {} cases of documented differences; {} not admitted by the CRD itself",
        tally.agree, tally.total, tally.same_words, tally.denied, tally.documented, tally.not_admitted,
    );
    assert!(tally.total >= 150, "corpus too small: {}", tally.total);
    assert!(
        tally.disagreements.is_empty(),
        "disagreements:\n{}",
        tally.disagreements.join("\n")
    );
}

/// The CEL cost budget (per expression 1,000,000, per policy evaluation 10,000,000) on the largest
/// MeshConfig the webhook is measured with (`benches`: the v1.2.4 preset grown 100×, 400-item
/// lists and 100 extended resources): it must be admitted, and the margin is how much further
/// the object can grow before the apiserver stops evaluating.
#[test]
fn measures_the_cost_margin_on_the_largest_meshconfig() {
    let cp = plane();
    let _logs = LogsOnFailure(&cp);
    cp.kubectl(&["create", "namespace", "policy-cost"])
        .success("create namespace");
    cp.apply(&policy_yaml(Release::V1_2, "1.37", "policy-cost"));
    let mut probe = in_namespace(
        &support::merged(
            &support::meshconfig_v1_2(),
            json!({"spec": {"certificate": {"certKeyBitSize": 12}}}),
        ),
        "policy-cost",
    );
    probe["metadata"]["name"] = json!("probe");
    wait_until_enforced(&cp, &probe.to_string());
    let mut exhausted_at = None;
    // Kept short: the test is about the margin, docs/policy.md has the figures.
    for factor in [1, 10, 100, 400] {
        let object = in_namespace(&objects::grown(factor), "policy-cost");
        let webhook = webhook_errors(Release::V1_2, ApiVersion::V1alpha2, &object, None);
        let started = Instant::now();
        let run = cp.kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], Some(&object.to_string()));
        let took = started.elapsed();
        let size = object.to_string().len();
        match answer(&run) {
            Answer::Allowed => {
                assert!(webhook.is_empty(), "grown({factor}): {webhook:?}");
                println!("grown({factor}): {size} bytes, admitted within the CEL cost budget in {took:.1?}");
            }
            Answer::EvaluationError(e) if e.contains("cost") || e.contains("budget") => {
                println!("grown({factor}): {size} bytes, out of CEL cost budget after {took:.1?}: {e}");
                exhausted_at = Some(factor);
                break;
            }
            // Still within the budget but slower than the request deadline.
            Answer::NotAdmitted(e) if e.contains("Timeout") => {
                println!("grown({factor}): {size} bytes, request deadline exceeded after {took:.1?}");
                exhausted_at = Some(factor);
                break;
            }
            other => panic!("grown({factor}): unexpected {other:?} (webhook {webhook:?})"),
        }
        assert!(factor < 100 || exhausted_at.is_none());
    }
    println!(
        "CEL cost margin: the largest measured MeshConfig (grown(100)) is admitted; evaluation stops at {}",
        exhausted_at.map_or("no factor up to grown(400)".to_owned(), |f| format!(
            "grown({f}), {}x larger",
            f / 100
        ))
    );
}

/// The chart with `enforcement=policy`, rendered for this apiserver's version and applied: only
/// the policy objects, and the mesh namespace's MeshConfigs are checked.
#[test]
fn accepts_the_charts_policy_mode_and_enforces_it() {
    let cp = plane();
    let _logs = LogsOnFailure(&cp);
    let chart = repo().join("charts/meshconfig-webhook");
    let rendered = cp
        .helm(&[
            "template",
            "meshconfig-webhook",
            chart.to_str().expect("UTF-8 path"),
            "--namespace",
            "meshconfig-webhook",
            "--kube-version",
            "1.37.2",
            "--set",
            "enforcement=policy",
            "--set",
            "osm.meshNamespace=chart-mesh",
        ])
        .success("helm template");
    cp.kubectl(&["create", "namespace", "chart-mesh"])
        .success("create namespace");
    cp.apply(&rendered.stdout);
    let mut probe = in_namespace(
        &support::merged(
            &support::meshconfig_v1_2(),
            json!({"spec": {"certificate": {"serviceCertValidityDuration": "24x"}}}),
        ),
        "chart-mesh",
    );
    probe["metadata"]["name"] = json!("osm-mesh-config");
    wait_until_enforced(&cp, &probe.to_string());
    let run = cp.kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], Some(&probe.to_string()));
    assert_eq!(
        run.stderr.trim(),
        "The meshconfigs \"osm-mesh-config\" is invalid: : ValidatingAdmissionPolicy 'meshconfig-osm-1.2' with binding 'meshconfig-osm-1.2' denied request: spec.certificate.serviceCertValidityDuration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\""
    );
    // Other namespaces are not bound.
    let elsewhere = in_namespace(&probe, "default");
    let run = cp.kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], Some(&elsewhere.to_string()));
    assert!(run.ok(), "{}", run.stderr);

    // Installed with helm instead, its NOTES show a dry run and the denial this apiserver gives.
    cp.kubectl_stdin(&["delete", "-f", "-"], Some(&rendered.stdout))
        .success("delete the applied objects");
    cp.apply(&in_namespace(&support::meshconfig_v1_2(), "chart-mesh").to_string());
    let install = cp
        .helm(&[
            "install",
            "meshconfig-webhook",
            chart.to_str().expect("UTF-8 path"),
            "--namespace",
            "default",
            "--set",
            "enforcement=policy",
            "--set",
            "osm.meshNamespace=chart-mesh",
        ])
        .success("helm install");
    wait_until_enforced(&cp, &probe.to_string());
    let notes = install.stdout.split_once("NOTES:").map(|(_, n)| n).expect("NOTES");
    let patch = notes
        .split_once("-p '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(p, _)| p)
        .expect("a -p '<patch>' in the NOTES");
    let denial = notes
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("The meshconfigs "))
        .expect("an expected denial in the NOTES");
    let run = cp.kubectl(&[
        "patch",
        "meshconfig",
        "osm-mesh-config",
        "-n",
        "chart-mesh",
        "--type=merge",
        "--dry-run=server",
        "-p",
        patch,
    ]);
    assert_eq!(run.stderr.trim(), denial);
}
