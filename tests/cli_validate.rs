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

/// What the apiserver answers with OSM's CRD loaded as kubectl loads it (YAML 1.1: the enum's
/// bare `off` is `false`), measured in tests/apiserver_e2e.rs (its enum walk covers every shipped CRD).
const OFF_REFUSED: &str = "The MeshConfig \"osm-mesh-config\" is invalid: spec.sidecar.logLevel: Unsupported value: \"off\": supported values: \"trace\", \"debug\", \"info\", \"warning\", \"warn\", \"error\", \"critical\", \"false\"\n";
const OFF_UNSETTABLE: &str = "Envoy's level off cannot be set through OSM's CRD at all, quoted or not: the CRD lists it unquoted, and YAML 1.1 (as kubectl, Helm and osm-bootstrap load the CRD) makes that the boolean false; the quietest level it takes is \"critical\"";

#[test]
fn rejects_envoy_level_off_as_the_apiserver_holds_the_crd() {
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
    assert_eq!(text(&out.stdout), OFF_REFUSED);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(stderr, format!("hint: spec.sidecar.logLevel: {OFF_UNSETTABLE}\n"));
    assert!(!stderr.contains("quote it"), "{stderr}");
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
        stderr.contains("Warning: -: document 1: spec.certificate.serviceCertValidityDuration: 30m is under 1h"),
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
fn rejects_unquoted_off_saying_envoys_off_cannot_be_set() {
    let out = run(
        &["validate", "-"],
        Some(&format!("{MC_HEAD}spec:\n  sidecar:\n    logLevel: off\n")),
    );
    assert_eq!(out.status.code(), Some(1));
    // `false` is in the enum the apiserver holds: only the type error, as the apiserver says it.
    assert_eq!(
        text(&out.stdout),
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.sidecar.logLevel: Invalid value: \"boolean\": spec.sidecar.logLevel in body must be of type string: \"boolean\"\n"
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "hint: spec.sidecar.logLevel: YAML 1.1 (as kubectl reads it) makes the unquoted value the boolean false; {OFF_UNSETTABLE}\n"
        )
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
    // The string members the apiserver holds: no "off" for an editor to offer.
    assert_eq!(
        sidecar["logLevel"]["enum"],
        serde_json::json!(["trace", "debug", "info", "warning", "warn", "error", "critical"])
    );
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

// ---- -o json: one entry per document or input, always

#[test]
fn rejects_in_json_every_input_it_cannot_validate_with_an_error_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let typo = dir.path().join("kindtypo.yaml");
    std::fs::write(
        &typo,
        "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfg\nmetadata:\n  name: osm-mesh-config\n",
    )
    .expect("write");
    let typo = typo.to_str().expect("utf-8");
    let out = run(&["validate", "-o", "json", typo], None);
    assert_eq!(out.status.code(), Some(2));
    // The reason is in the JSON, once: nothing about the entry on stderr.
    assert_eq!(text(&out.stderr), "");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v,
        serde_json::json!([{
            "source": typo,
            "name": "osm-mesh-config",
            "allowed": false,
            "status": null,
            "warnings": [],
            "hints": [],
            "skipped": null,
            "error": format!("{typo}: kind \"MeshConfg\" is not a kind of config.openservicemesh.io (\"MeshConfig\", \"MeshRootCertificate\"); did you mean \"MeshConfig\"? (kinds are case-sensitive)"),
        }])
    );

    // An unparseable file among valid ones keeps its place in the array.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "spec: [\n").expect("write");
    let broken = broken.to_str().expect("utf-8");
    let good = fixture("objects/meshconfig-v1.2.4.json");
    let out = run(&["validate", "-o", "json", &good, broken, "/nonexistent.yaml"], None);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let entries = v.as_array().expect("array");
    assert_eq!(entries.len(), 3, "{v:#}");
    assert_eq!(entries[0]["source"], good.as_str());
    assert_eq!(entries[0]["allowed"], true);
    assert_eq!(entries[0]["error"], Value::Null);
    assert_eq!(entries[1]["source"], broken);
    assert_eq!(entries[1]["allowed"], false);
    assert!(
        entries[1]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with(&format!("{broken}:1:7: invalid YAML: "))),
        "{v:#}"
    );
    assert_eq!(entries[2]["source"], "/nonexistent.yaml");
    assert!(
        entries[2]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("/nonexistent.yaml: "))
    );
}

#[test]
fn accepts_in_json_skipped_documents_and_warnings_each_said_once() {
    let yaml = format!(
        "{MC_HEAD}  namespace: arc-osm-system\nspec:\n  certificate:\n    serviceCertValidityDuration: 30m\n    certKeyBitSize: 2048\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: unrelated\n"
    );
    let out = run(&["validate", "-o", "json", "-"], Some(&yaml));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "warnings and notes belong in the JSON only");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let entries = v.as_array().expect("array");
    assert_eq!(entries.len(), 2, "{v:#}");
    assert_eq!(entries[0]["allowed"], true);
    assert_eq!(
        entries[0]["warnings"],
        serde_json::json!([
            "spec.certificate.serviceCertValidityDuration: 30m is under 1h: OSM's Vault provider issues whole hours, so it would request 0h"
        ])
    );
    assert_eq!(entries[1]["source"], "-: document 2");
    assert_eq!(entries[1]["name"], "unrelated");
    assert_eq!(entries[1]["allowed"], Value::Null);
    assert_eq!(entries[1]["skipped"], "skipped Service \"unrelated\": not a MeshConfig");
    assert_eq!(entries[1]["error"], Value::Null);

    // An input with nothing in it has its entry too.
    let out = run(&["validate", "-o", "json", "-"], Some("# nothing\n"));
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["source"], "-");
    assert_eq!(v[0]["skipped"], "no documents");
    assert!(
        text(&out.stderr).contains("error: nothing validated"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn accepts_several_files_in_text_with_each_warning_naming_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for name in ["a.yaml", "b.yaml"] {
        let f = dir.path().join(name);
        std::fs::write(
            &f,
            format!("{MC_HEAD}spec:\n  certificate:\n    serviceCertValidityDuration: 30m\n    certKeyBitSize: 2048\n"),
        )
        .expect("write");
        files.push(f.display().to_string());
    }
    let out = run(&["validate", &files[0], &files[1]], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    for f in &files {
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.starts_with(&format!(
                    "Warning: {f}: spec.certificate.serviceCertValidityDuration: 30m is under 1h"
                )))
                .count(),
            1,
            "{stderr}"
        );
    }
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
}

// ---- --mesh-namespace

#[test]
fn accepts_objects_outside_the_mesh_namespace_with_a_warning() {
    let in_ns = |ns: &str| format!("{MC_HEAD}  namespace: {ns}\n");
    let warning = r#"Warning: metadata.namespace: OSM reads the MeshConfig only in its namespace "arc-osm-system" (--mesh-namespace), and only there does the webhook review it; "osm-system" has no effect"#;
    let out = run(&["validate", "-"], Some(&in_ns("osm-system")));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), format!("{warning}\n"));

    // The default is serve's; in the mesh namespace, or with none given (kubectl's context
    // decides then), nothing is said.
    for (args, yaml) in [
        (vec!["validate", "-"], in_ns("arc-osm-system")),
        (vec!["validate", "-"], MC_HEAD.to_owned()),
        (
            vec!["validate", "--mesh-namespace", "osm-system", "-"],
            in_ns("osm-system"),
        ),
    ] {
        let out = run(&args, Some(&yaml));
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
    let out = Command::new(BIN)
        .args(["validate", "-"])
        .env("MESHCONFIG_MESH_NAMESPACE", "osm-system")
        .env_remove("MESHCONFIG_OSM_RELEASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            let _ = c
                .stdin
                .take()
                .expect("stdin")
                .write_all(in_ns("arc-osm-system").as_bytes());
            c.wait_with_output()
        })
        .expect("runs");
    assert!(
        text(&out.stderr).contains(r#"only in its namespace "osm-system" (--mesh-namespace)"#),
        "{}",
        text(&out.stderr)
    );

    // OSM v0.8's ConfigMap likewise.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: osm-config\n  namespace: default\ndata: {}\n";
    let out = run(&["validate", "--unknown-configmap-keys", "warn", "-"], Some(cm));
    assert!(
        text(&out.stderr).contains(r#"Warning: metadata.namespace: OSM reads the osm-config ConfigMap only in its namespace "arc-osm-system" (--mesh-namespace), and only there does the webhook review it; "default" has no effect"#),
        "{}",
        text(&out.stderr)
    );

    let out = run(&["validate", "--mesh-namespace", "Bad_NS", "-"], Some(MC_HEAD));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--mesh-namespace"), "{}", text(&out.stderr));
}
