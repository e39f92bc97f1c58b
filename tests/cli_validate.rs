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
            r#"{"spec":{"traffic":{"networkInterfaceExclusionList":["eth$1"]}}}"#,
            "spec.traffic.networkInterfaceExclusionList[0]",
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
            r#"{"spec":{"traffic":{"outboundPortExclusionList":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}}}"#,
            "spec.traffic.outboundPortExclusionList",
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
        let all: Value = serde_json::from_slice(&out.stdout).expect("json output");
        let v = &all[0];
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
        text(&out.stderr).contains("error: -:3:3: invalid YAML: "),
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

const MC_HEAD: &str =
    "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata:\n  name: osm-mesh-config\n";

#[test]
fn rejects_unknown_fields_by_default_naming_the_closest_field() {
    let yaml = format!(
        "{MC_HEAD}spec:\n  sidecar:\n    confgResyncInterval: 1m\n  traffic:\n    enableEgres: true\n  tracing:\n    enable: true\n"
    );
    let out = run(&["validate", "-"], Some(&yaml));
    let stdout = text(&out.stdout);
    for line in [
        r#"* spec.sidecar.confgResyncInterval: Forbidden: unknown field; did you mean "spec.sidecar.configResyncInterval"?"#,
        r#"* spec.traffic.enableEgres: Forbidden: unknown field; did you mean "spec.traffic.enableEgress"?"#,
        // Put at the wrong level: the field of that name elsewhere.
        r#"* spec.tracing: Forbidden: unknown field; did you mean "spec.observability.tracing"?"#,
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let out = run(
        &["validate", "-"],
        Some(&format!("{MC_HEAD}  labelz: {{}}\nsepc: {{}}\n")),
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(r#"* metadata.labelz: Forbidden: unknown field; did you mean "metadata.labels"?"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"* sepc: Forbidden: unknown field; did you mean "spec"?"#),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn accepts_unknown_fields_when_told_to_warn_or_ignore_and_ratchets_stored_ones() {
    let yaml = format!("{MC_HEAD}spec:\n  traffic:\n    enableEgres: true\n");
    let out = run(&["validate", "--unknown-fields", "warn", "-"], Some(&yaml));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("Warning: unknown field \"spec.traffic.enableEgres\""));

    let out = run(&["validate", "--unknown-fields", "ignore", "-"], Some(&yaml));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(!text(&out.stderr).contains("enableEgres"), "{}", text(&out.stderr));

    // An unknown field already stored does not block an unrelated change (ratcheting).
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base.yaml");
    std::fs::write(&base, &yaml).expect("write base");
    let base = base.display().to_string();
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--patch",
            r#"{"spec":{"sidecar":{"logLevel":"debug"}}}"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("unknown field"), "{}", text(&out.stderr));
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--patch",
            r#"{"spec":{"sidecar":{"logLevl":"debug"}}}"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

#[test]
fn rejects_a_kind_typo_suggesting_the_kind_meant() {
    let out = run(
        &["validate", "-"],
        Some("apiVersion: config.openservicemesh.io/v1alpha2\nkind: Meshconfig\nmetadata:\n  name: osm-mesh-config\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            r#"error: -: kind "Meshconfig" is not a kind of config.openservicemesh.io ("MeshConfig", "MeshRootCertificate"); did you mean "MeshConfig"?"#
        ),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &["validate", "-"],
        Some("apiVersion: v1\nkind: Configmap\nmetadata:\n  name: osm-config\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(r#"error: -: unknown kind "Configmap"; did you mean "ConfigMap"?"#),
        "{}",
        text(&out.stderr)
    );
    // The group's other kind is not a typo.
    let out = run(
        &["validate", "-"],
        Some(&format!(
            "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshRootCertificate\nmetadata:\n  name: r\n---\n{MC_HEAD}"
        )),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn rejects_input_with_nothing_to_validate_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").expect("write");
    let comments = dir.path().join("comments.yaml");
    std::fs::write(&comments, "# nothing here\n---\n# nor here\n").expect("write");
    let other = dir.path().join("service.yaml");
    std::fs::write(&other, "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n").expect("write");
    for (args, stdin) in [
        (vec!["validate", "-"], Some("")),
        (vec!["validate", "-"], Some("\n\n")),
        (vec!["validate", empty.to_str().expect("utf-8")], None),
        (vec!["validate", comments.to_str().expect("utf-8")], None),
        (vec!["validate", other.to_str().expect("utf-8")], None),
    ] {
        let out = run(&args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("error: nothing validated: no MeshConfig and no osm-config ConfigMap in "),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = run(&["validate", "-"], Some(""));
    assert!(
        text(&out.stderr).contains("ConfigMap in standard input"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &["validate", "-"],
        Some("metadata:\n  name: osm-mesh-config\nspec: {}\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error: -: the document has no kind"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rejects_unquoted_off_with_the_yaml_1_1_hint() {
    let out = run(
        &["validate", "-"],
        Some(&format!("{MC_HEAD}spec:\n  sidecar:\n    logLevel: off\n")),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            r#"hint: spec.sidecar.logLevel: YAML 1.1 (as kubectl reads it) makes an unquoted off the boolean false; quote it: logLevel: "off""#
        ),
        "{}",
        text(&out.stderr)
    );
    // JSON has no such trap: no hint.
    let out = run(
        &["validate", "-"],
        Some(
            r#"{"apiVersion":"config.openservicemesh.io/v1alpha2","kind":"MeshConfig","metadata":{"name":"osm-mesh-config"},"spec":{"sidecar":{"logLevel":false}}}"#,
        ),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stderr).contains("hint:"), "{}", text(&out.stderr));
}

#[test]
fn rejects_patch_type_mismatches_with_the_type_to_use() {
    let base = fixture("objects/meshconfig-v1.2.4.json");
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--patch",
            r#"[{"op":"replace","path":"/spec/certificate/certKeyBitSize","value":1024}]"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error: --patch: an array is a JSON patch (RFC 6902): use --type json"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--type",
            "json",
            "--patch",
            r#"{"spec":{}}"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("use --type merge"), "{}", text(&out.stderr));
}

#[test]
fn accepts_yaml_patches_as_kubectl_patch_does() {
    let base = fixture("objects/meshconfig-v1.2.4.json");
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--patch",
            "spec:\n  certificate:\n    certKeyBitSize: 12\n",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("spec.certificate.certKeyBitSize: Invalid value: 12"));
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--patch",
            "{spec: {sidecar: {logLevel: debug}}}",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--type",
            "json",
            "--patch=- op: replace\n  path: /spec/sidecar/logLevel\n  value: debug\n",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn rejects_a_json_patch_that_does_not_apply_as_kubectl_words_it() {
    let base = fixture("objects/meshconfig-v1.2.4.json");
    let out = run(
        &[
            "validate",
            "--base",
            &base,
            "--type",
            "json",
            "--patch",
            r#"[{"op":"remove","path":"/spec/nope/x"}]"#,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "The request is invalid: the server rejected our request due to an error in our request\n"
    );
    assert!(
        text(&out.stderr).contains(r#"hint: --patch operation 1 (remove "/spec/nope/x") does not apply: "#),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rejects_yaml_errors_in_plain_words_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dup = dir.path().join("dup.yaml");
    std::fs::write(&dup, format!("{MC_HEAD}spec:\n  sidecar: {{}}\n  sidecar: {{}}\n")).expect("write");
    let out = run(&["validate", dup.to_str().expect("utf-8")], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: {}:7:3: invalid YAML: duplicate mapping key",
            dup.display()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("DuplicateKeyPolicy") && !stderr.contains("<input>"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");

    let many = "a: 1\n---\n".repeat(1100);
    let out = run(&["validate", "-"], Some(&many));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("invalid YAML: more than 1024 documents in one input"),
        "{stderr}"
    );
    assert!(!stderr.contains("budget"), "{stderr}");
}

#[test]
fn rejects_objects_over_the_apiservers_request_limit() {
    let mut obj: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("objects/meshconfig-v1.2.4.json")).expect("fixture"))
            .expect("json");
    obj["metadata"]["annotations"] = serde_json::json!({ "big": "x".repeat(3 * 1024 * 1024) });
    let out = run(&["validate", "-"], Some(&obj.to_string()));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "Error from server (RequestEntityTooLarge): Request entity too large: limit is 3145728\n"
    );
    assert!(text(&out.stderr).contains("refuses request bodies over 3 MiB"));
}

#[test]
fn accepts_json_output_as_one_array_shape_always() {
    let one = fixture("objects/meshconfig-v1.2.4.json");
    for args in [
        vec!["validate", "-o", "json", &one],
        vec!["validate", "-o", "json", &one, &one],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(0));
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        let docs = v.as_array().expect("always an array");
        assert_eq!(docs.len(), args.len() - 3);
        assert!(docs.iter().all(|d| d["allowed"] == true));
    }
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

#[test]
fn accepts_a_reader_that_closes_the_pipe_early() {
    // `validate … | head`: more output than a pipe buffers, and nobody reading it.
    let doc = format!("{MC_HEAD}---\n");
    let input = doc.repeat(600);
    let mut child = Command::new(BIN)
        .args(["validate", "-o", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    drop(child.stdout.take());
    let _ = child.stdin.take().expect("stdin").write_all(input.as_bytes());
    let out = child.wait_with_output().expect("binary ends");
    assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
}
