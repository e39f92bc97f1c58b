//! The `validate` and `schema` commands, run as the real binary.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meshconfig-webhook");

fn fixture(rel: &str) -> String {
    format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("MESHCONFIG_OSM_RELEASE")
        .spawn()
        .expect("binary starts");
    if let Some(input) = stdin {
        // The binary may exit before reading (e.g. on a bad flag): a broken pipe is fine then.
        let _ = child.stdin.take().expect("stdin").write_all(input.as_bytes());
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("binary ends")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn rejects_the_documented_osm_example_exactly_as_kubectl_prints_it() {
    let out = run(
        &[
            "validate",
            "--osm-release",
            "0.9",
            "--base",
            &fixture("objects/meshconfig-v0.9.2.json"),
            "--patch",
            r#"{"spec":{"traffic":{"enableEgress":"no"}}}"#,
            "--type",
            "merge",
        ],
        None,
    );
    assert_eq!(
        text(&out.stdout),
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"\n"
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
}

#[test]
fn rejects_each_acceptance_patch_with_a_cause_naming_the_field() {
    for (patch, field) in [
        (
            r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"}}}"#,
            "spec.certificate.serviceCertValidityDuration",
        ),
        (
            r#"{"spec":{"traffic":{"outboundIPRangeExclusionList":["999.999.999.999/99"]}}}"#,
            "spec.traffic.outboundIPRangeExclusionList[0]",
        ),
        (
            r#"{"spec":{"sidecar":{"resources":{"limits":{"cpu":"lots"}}}}}"#,
            "spec.sidecar.resources.limits.cpu",
        ),
        (
            r#"{"spec":{"observability":{"tracing":{"enable":true,"port":40000}}}}"#,
            "spec.observability.tracing.port",
        ),
        (
            r#"{"spec":{"observability":{"osmLogLevel":"loud"}}}"#,
            "spec.observability.osmLogLevel",
        ),
        (
            r#"{"spec":{"traffic":{"inboundExternalAuthorization":{"enable":true}}}}"#,
            "spec.traffic.inboundExternalAuthorization.address",
        ),
        (
            r#"{"spec":{"sidecar":{"tlsMinProtocolVersion":"TLSv1_3","tlsMaxProtocolVersion":"TLSv1_0"}}}"#,
            "spec.sidecar.tlsMinProtocolVersion",
        ),
        (
            r#"{"spec":{"certificate":{"certKeyBitSize":12}}}"#,
            "spec.certificate.certKeyBitSize",
        ),
        (
            r#"{"spec":{"sidecar":{"configResyncInterval":"-5m"}}}"#,
            "spec.sidecar.configResyncInterval",
        ),
    ] {
        let out = run(
            &[
                "validate",
                "-o",
                "json",
                "--base",
                &fixture("objects/meshconfig-v1.2.4.json"),
                "--patch",
                patch,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{patch}: {}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
        assert_eq!(v["allowed"], false);
        assert_eq!(v["status"]["code"], 422);
        assert_eq!(v["status"]["reason"], "Invalid");
        let causes = v["status"]["details"]["causes"].as_array().expect("causes");
        assert!(causes.iter().any(|c| c["field"] == field), "{patch}: {causes:?}");
    }
}

#[test]
fn accepts_envoy_level_off() {
    let out = run(
        &[
            "validate",
            "--base",
            &fixture("objects/meshconfig-v1.2.4.json"),
            "--patch",
            r#"{"spec":{"sidecar":{"logLevel":"off"}}}"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn applies_json_patches_too() {
    let out = run(
        &[
            "validate",
            "--base",
            &fixture("objects/meshconfig-v1.2.4.json"),
            "--type",
            "json",
            "--patch",
            r#"[{"op":"replace","path":"/spec/certificate/certKeyBitSize","value":1024}]"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("spec.certificate.certKeyBitSize: Invalid value: 1024"));
}

#[test]
fn reads_multi_document_yaml_from_stdin_and_prints_warnings_on_stderr() {
    let yaml = r#"
apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata:
  name: osm-mesh-config
  namespace: arc-osm-system
spec:
  certificate:
    serviceCertValidityDuration: 30m
    certKeyBitSize: 2048
---
apiVersion: v1
kind: Service
metadata:
  name: unrelated
---
apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata:
  name: osm-mesh-config
spec:
  sidecar:
    logLevel: off
"#;
    let out = run(&["validate", "-"], Some(yaml));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Warning: spec.certificate.serviceCertValidityDuration: 30m is under 1h"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: -: document 2: skipped Service \"unrelated\""),
        "{stderr}"
    );
    // Unquoted `off` is YAML 1.1's false, as kubectl reads it: the apiserver would reject it.
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("-: document 3:\nThe MeshConfig \"osm-mesh-config\" is invalid: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("spec.sidecar.logLevel: Invalid value: \"boolean\""),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rejects_unusable_input_with_exit_2_naming_file_and_document() {
    let out = run(&["validate", "-"], Some("apiVersion: v1\n---\n- [unclosed\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error: -: invalid YAML"),
        "{}",
        text(&out.stderr)
    );

    let out = run(
        &["validate", "-"],
        Some("{\"kind\":\"MeshConfig\",\"apiVersion\":\"config.openservicemesh.io/v9\"}\n42\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("-: document 1: apiVersion \"config.openservicemesh.io/v9\" is not"),
        "{stderr}"
    );
    assert!(
        stderr.contains("-: document 2: expected an object, found a number"),
        "{stderr}"
    );

    let out = run(&["validate", "/nonexistent/meshconfig.yaml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/nonexistent/meshconfig.yaml: "),
        "{}",
        text(&out.stderr)
    );

    let out = run(
        &[
            "validate",
            "--osm-release",
            "1.0",
            &fixture("objects/meshconfig-v1.2.4.json"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("OSM 1.0 does not serve config.openservicemesh.io/v1alpha2"),
        "{}",
        text(&out.stderr)
    );

    let out = run(&["validate", "--osm-release", "2.0", "-"], Some("{}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unsupported OSM release"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn accepts_valid_files_with_exit_0() {
    let out = run(
        &[
            "validate",
            "--osm-release",
            "0.10",
            &fixture("objects/meshconfig-v0.10.0.json"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("meshconfig.config.openservicemesh.io/osm-mesh-config valid"));
}

#[test]
fn prints_the_json_schema_per_release_and_version() {
    let out = run(&["schema", "--osm-release", "1.2", "--api-version", "v1alpha2"], None);
    assert_eq!(out.status.code(), Some(0));
    let s: Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    let sidecar = &s["properties"]["spec"]["properties"]["sidecar"]["properties"];
    assert_eq!(sidecar["logLevel"]["enum"][7], "off");
    assert_eq!(
        s["properties"]["apiVersion"]["const"],
        "config.openservicemesh.io/v1alpha2"
    );
    assert_eq!(
        s["properties"]["spec"]["properties"]["observability"]["properties"]["tracing"]["properties"]["port"]["maximum"],
        32767
    );

    let out = run(&["schema", "--osm-release", "0.9"], None);
    let s: Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    assert!(s["properties"]["spec"]["properties"]["traffic"]["properties"]["useHTTPSIngress"].is_object());

    let out = run(&["schema", "--osm-release", "0.9", "--api-version", "v1alpha2"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("OSM 0.9 does not serve MeshConfig v1alpha2"));
}
