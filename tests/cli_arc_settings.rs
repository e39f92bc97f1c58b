//! The `arc-settings` command, run as the real binary on settings files (tests/fixtures/arc/):
//! one test per kind of mistake the issue lists, and the clean files that must pass.

use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meshconfig-webhook");

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/arc/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `arc-settings` on a fixture, from the fixture directory so the file is named short.
fn run(file: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("arc-settings")
        .arg(file)
        .args(extra)
        .current_dir(fixture(""))
        .env_remove("MESHCONFIG_ARC_EXTENSION_VERSION")
        .output()
        .expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(b: &[u8]) -> Vec<String> {
    text(b).lines().map(str::to_owned).collect()
}

/// Asserts exit code 1 and exactly these stdout lines (one per finding).
fn assert_findings(out: &Output, expected: &[&str]) {
    assert_eq!(lines(&out.stdout), expected, "stderr: {}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

// ---- the input is unusable: exit 2

#[test]
fn rejects_invalid_json_with_line_and_column() {
    // Microsoft's translated tutorial: a trailing comma.
    let out = run("trailing-comma.json", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: trailing-comma.json: invalid JSON at line 3 column 1: trailing comma (az: \"File … is not a valid JSON file\")\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn rejects_an_empty_file() {
    let out = run("empty.json", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: empty.json: the file is empty (az: \"File … is empty\")\n"
    );
}

#[test]
fn rejects_a_file_that_is_not_an_object() {
    let out = run("not-an-object.json", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected a JSON object of settings, found an array"));
}

#[test]
fn rejects_an_unknown_extension_version() {
    let out = run("settings-1.2.6.json", &["--extension-version", "1.0.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("known versions are 0.8.4, 0.9.2, 0.11.1, 1.0.0-1, 1.1.1-1, 1.2.3, 1.2.6"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rejects_a_missing_file() {
    let out = run("no-such-file.json", &[]);
    assert_eq!(out.status.code(), Some(2));
}

// ---- values and keys

#[test]
fn rejects_non_string_values() {
    let out = run("non-string-values.json", &[]);
    assert_findings(
        &out,
        &[
            "osm.osm.enablePermissiveTrafficPolicy: Invalid value: false: must be of type string: the ARM API types every configuration setting as a string",
            "osm.osm.maxDataPlaneConnections: Invalid value: 100: must be of type string: the ARM API types every configuration setting as a string",
        ],
    );
}

#[test]
fn rejects_the_wrong_prefix_naming_the_right_key() {
    // The key one revision of Microsoft's tutorial printed for the v0.8.4 extension.
    let out = run("tutorial-osm-osm-key.json", &["--extension-version", "0.8.4"]);
    assert_findings(
        &out,
        &[
            r#"osm.osm.enablePermissiveTrafficPolicy: Forbidden: wrong prefix: extension 0.8.4 reads "osm.OpenServiceMesh.", so this key is silently ignored; use "osm.OpenServiceMesh.enablePermissiveTrafficPolicy""#,
        ],
    );
    // And the other way round: v0.x keys on a v1.x extension.
    let out = run("settings-0.8.4.json", &["--extension-version", "1.1.1-1"]);
    assert_findings(
        &out,
        &[
            r#"osm.OpenServiceMesh.enablePermissiveTrafficPolicy: Forbidden: wrong prefix: extension 1.1.1-1 reads "osm.osm.", so this key is silently ignored; use "osm.osm.enablePermissiveTrafficPolicy""#,
            r#"osm.OpenServiceMesh.envoyLogLevel: Forbidden: wrong prefix: extension 1.1.1-1 reads "osm.osm.", so this key is silently ignored; use "osm.osm.envoyLogLevel""#,
            r#"osm.OpenServiceMesh.outboundIPRangeExclusionList: Forbidden: wrong prefix: extension 1.1.1-1 reads "osm.osm.", so this key is silently ignored; use "osm.osm.outboundIPRangeExclusionList""#,
        ],
    );
}

#[test]
fn rejects_keys_outside_osm_that_the_wrapper_ignores() {
    let out = run("outside-osm.json", &[]);
    assert_findings(
        &out,
        &[
            "Azure.Cluster.Region: Forbidden: set by Azure Arc itself; do not set it here",
            r#"OpenServiceMesh.enableEgress: Forbidden: ignored: the osm-arc chart passes on only settings that start with "osm.""#,
            r#"alpine.image.tag: Forbidden: ignored: the osm-arc chart passes on only settings that start with "osm.""#,
        ],
    );
    let out = run("outside-osm.json", &["--extension-version", "0.9.2"]);
    assert!(
        text(&out.stdout).contains(r#"OpenServiceMesh.enableEgress: Forbidden: ignored: the osm-arc chart passes on only settings that start with "osm."; did you mean "osm.OpenServiceMesh.enableEgress"?"#),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn rejects_unknown_keys_on_0_8_4_where_helm_accepts_them() {
    let out = run("typo-0.8.4.json", &["--extension-version", "0.8.4"]);
    assert_findings(
        &out,
        &[
            r#"osm.OpenServiceMesh.enablePermisiveTrafficPolicy: Forbidden: unknown setting; did you mean "osm.OpenServiceMesh.enablePermissiveTrafficPolicy"?"#,
            // The wrapper's own dead key (0.6.0 … 0.8.4).
            "osm.OpenServiceMesh.enablePrometheus: Forbidden: unknown setting: OSM v0.8.4 (extension 0.8.4) has no such value",
        ],
    );
}

#[test]
fn rejects_unknown_keys_with_the_closest_key_suggested() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("typo.json");
    std::fs::write(&file, r#"{"osm.osm.enablePermisiveTrafficPolicy": "false"}"#).expect("write");
    let out = run(file.to_str().expect("utf-8 path"), &[]);
    assert_findings(
        &out,
        &[
            r#"osm.osm.enablePermisiveTrafficPolicy: Forbidden: unknown setting; did you mean "osm.osm.enablePermissiveTrafficPolicy"?"#,
        ],
    );
}

#[test]
fn rejects_values_removed_or_renamed_since_the_versions_that_had_them() {
    let out = run("removed-values.json", &[]);
    assert_findings(
        &out,
        &[
            "osm.osm.certificateManager: Forbidden: unknown setting: OSM v1.2.6 (extension 1.2.6) has no such value; it exists in extension versions 0.8.4, 0.9.2",
            "osm.osm.featureFlags.enableMulticlusterMode: Forbidden: unknown setting: OSM v1.2.6 (extension 1.2.6) has no such value; it exists in extension versions 0.9.2, 0.11.1, 1.0.0-1, 1.1.1-1",
            "osm.osm.useHTTPSIngress: Forbidden: unknown setting: OSM v1.2.6 (extension 1.2.6) has no such value; it exists in extension versions 0.8.4, 0.9.2, 0.11.1",
        ],
    );
}

// ---- Helm: --set typing, then the chart's values schema

#[test]
fn rejects_what_helm_typing_and_the_values_schema_reject() {
    let out = run("helm-typing.json", &[]);
    assert_findings(
        &out,
        &[
            r#"osm.osm.enableEgress: Invalid value: "yes": must be of type boolean"#,
            r#"osm.osm.envoyLogLevel: Unsupported value: "verbose": supported values: "trace", "debug", "info", "warning", "warn", "error", "critical", "off""#,
            "osm.osm.inboundPortExclusionList[1]: Invalid value: 0: should be greater than or equal to 1",
            r#"osm.osm.localProxyMode: Unsupported value: "podip": supported values: "Localhost", "PodIP""#,
            // A leading zero keeps it a string.
            r#"osm.osm.maxDataPlaneConnections: Invalid value: "0100": must be of type integer"#,
            "osm.osm.osmController.autoScale.maxReplicas: Invalid value: 11: should be less than or equal to 10",
            // "1" becomes the integer 1; "1000m" would pass.
            r#"osm.osm.osmController.resource.limits.cpu: Invalid value: 1: must be of type string (Helm types "1" as integer)"#,
            // "null" deletes the chart's default of a required value.
            r#"osm.osm.tracing.address: Required value: the chart requires it; "null" deletes the chart's default"#,
        ],
    );
}

#[test]
fn accepts_values_helm_types_as_the_schema_wants() {
    let out = run("settings-1.2.6.json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "settings-1.2.6.json: valid for Azure Arc OSM extension 1.2.6\n"
    );
}

#[test]
fn accepts_no_settings_on_every_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("none.json");
    std::fs::write(&file, "{}").expect("write");
    for v in ["0.8.4", "0.9.2", "0.11.1", "1.0.0-1", "1.1.1-1", "1.2.3", "1.2.6"] {
        let out = run(file.to_str().expect("utf-8 path"), &["--extension-version", v]);
        assert_eq!(out.status.code(), Some(0), "{v}: {}", text(&out.stdout));
        assert!(out.stderr.is_empty(), "{v}: {}", text(&out.stderr));
    }
}

// ---- OSM: the webhook's rules for values that feed the MeshConfig or osm-config

#[test]
fn rejects_meshconfig_backed_values_the_webhook_would_reject() {
    let out = run("semantic-1.2.6.json", &[]);
    assert_findings(
        &out,
        &[
            "osm.osm.certificateProvider.certKeyBitSize: Invalid value: 1024: must be between 2048 and 4096, inclusive",
            r#"osm.osm.certificateProvider.serviceCertValidityDuration: Invalid value: "30s": must be greater than 34s: OSM renews a certificate 30s to 34s before it expires"#,
            r#"osm.osm.networkInterfaceExclusionList[1]: Invalid value: "eth$1": must not contain '"', '$', '`' or two backslashes: OSM's init container passes its iptables rules through /bin/sh and iptables-restore, which read them specially"#,
            // The chart's IP-range pattern has no `^` anchor: Helm lets this through.
            r#"osm.osm.outboundIPRangeExclusionList[1]: Invalid value: "junk1.2.3.4/99": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"#,
        ],
    );
    // What OSM only ignores is a warning, not a finding.
    let stderr = text(&out.stderr);
    for w in [
        r#"Warning: osm.osm.configResyncInterval: time: unknown unit " minutes" in duration "5 minutes": OSM's resync ticker logs the error and keeps its interval"#,
        "Warning: osm.osm.maxDataPlaneConnections: a negative limit means no limit, as 0 does",
    ] {
        assert!(stderr.lines().any(|l| l == w), "no {w:?} in {stderr}");
    }
}

#[test]
fn rejects_osm_config_backed_values_on_0_8_4() {
    let out = run("semantic-0.8.4.json", &["--extension-version", "0.8.4"]);
    assert_findings(
        &out,
        &[
            r#"osm.OpenServiceMesh.envoyLogLevel: Unsupported value: "Debug": supported values: "trace", "debug", "info", "warning", "warn", "error", "critical", "off""#,
            r#"osm.OpenServiceMesh.outboundIPRangeExclusionList: Invalid value: "10.0.0.0/33": entry 1 "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"#,
            r#"osm.OpenServiceMesh.serviceCertValidityDuration: Invalid value: "forever": time: invalid duration "forever""#,
            r#"osm.OpenServiceMesh.tracing.port: Invalid value: "70000": must be between 0 and 65535, inclusive"#,
        ],
    );
}

#[test]
fn rejects_control_plane_quantities_the_apiserver_would_reject() {
    let out = run("quantities.json", &[]);
    assert_findings(
        &out,
        &[
            r#"osm.osm.osmBootstrap.resource.limits.cpu: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#,
            r#"osm.osm.osmController.resource.requests.memory: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi"#,
        ],
    );
}

// ---- settings that only seed the first install

#[test]
fn accepts_meshconfig_backed_settings_with_a_warning_each_and_one_patch_command() {
    let out = run("settings-1.2.6.json", &[]);
    assert_eq!(out.status.code(), Some(0));
    let seeds =
        " of MeshConfig osm-mesh-config on the first install; later az k8s-extension changes to it have no effect";
    assert_eq!(
        lines(&out.stderr),
        [
            format!("Warning: osm.osm.enablePermissiveTrafficPolicy: only seeds spec.traffic.enablePermissiveTrafficPolicyMode{seeds}"),
            format!("Warning: osm.osm.envoyLogLevel: only seeds spec.sidecar.logLevel{seeds}"),
            format!("Warning: osm.osm.outboundPortExclusionList: only seeds spec.traffic.outboundPortExclusionList{seeds}"),
            r#"To change these settings on a running mesh: kubectl patch meshconfig osm-mesh-config -n arc-osm-system --type merge -p '{"spec":{"sidecar":{"logLevel":"debug"},"traffic":{"enablePermissiveTrafficPolicyMode":false,"outboundPortExclusionList":[6379,8080]}}}'"#.to_owned(),
        ]
    );
}

#[test]
fn accepts_osm_config_backed_settings_on_0_8_4_with_the_configmap_patch() {
    let out = run("settings-0.8.4.json", &["--extension-version", "0.8.4"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let err = lines(&out.stderr);
    assert_eq!(err.len(), 4, "{err:?}");
    assert!(err[0].starts_with(
        "Warning: osm.OpenServiceMesh.enablePermissiveTrafficPolicy: renders data.permissive_traffic_policy_mode of ConfigMap osm-config;"
    ));
    assert_eq!(
        err[3],
        r#"To change these settings on a running mesh: kubectl patch configmap osm-config -n arc-osm-system --type merge -p '{"data":{"envoy_log_level":"warning","outbound_ip_range_exclusion_list":"10.0.0.0/8,169.254.169.254/32","permissive_traffic_policy_mode":"false"}}'"#
    );
}

// ---- ARM templates

#[test]
fn rejects_arm_template_settings_against_its_extension_version_default() {
    let out = run("arm-template-0.8.4.json", &[]);
    assert_findings(
        &out,
        &[
            r#"osm.osm.enablePermissiveTrafficPolicy: Forbidden: wrong prefix: extension 0.8.4 reads "osm.OpenServiceMesh.", so this key is silently ignored; use "osm.OpenServiceMesh.enablePermissiveTrafficPolicy""#,
        ],
    );
}

#[test]
fn accepts_arm_template_settings_when_the_flag_overrides_the_version() {
    let out = run("arm-template-0.8.4.json", &["--extension-version", "1.2.6"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stdout),
        "arm-template-0.8.4.json: valid for Azure Arc OSM extension 1.2.6\n"
    );
}

// ---- -o json: one shape for every outcome

#[test]
fn json_output_has_one_shape_for_valid_invalid_and_unusable_input() {
    let keys = [
        "error",
        "errors",
        "extensionVersion",
        "file",
        "patchCommand",
        "valid",
        "warnings",
    ];
    let shape = |v: &Value| {
        let mut k: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
        k.sort_unstable();
        k.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
    };

    let out = run("settings-1.2.6.json", &["-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let ok = json(&out);
    assert_eq!(shape(&ok), keys);
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["extensionVersion"], "1.2.6");
    assert_eq!(ok["warnings"].as_array().map(Vec::len), Some(3));
    assert!(
        ok["patchCommand"]
            .as_str()
            .is_some_and(|c| c.starts_with("kubectl patch meshconfig"))
    );

    let out = run("helm-typing.json", &["-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let bad = json(&out);
    assert_eq!(shape(&bad), keys);
    assert_eq!(bad["valid"], false);
    assert_eq!(bad["errors"][0]["field"], "osm.osm.enableEgress");
    assert_eq!(bad["errors"][0]["reason"], "FieldValueTypeInvalid");
    assert_eq!(
        bad["errors"][0]["message"],
        r#"osm.osm.enableEgress: Invalid value: "yes": must be of type boolean"#
    );

    let out = run("trailing-comma.json", &["-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let unusable = json(&out);
    assert_eq!(shape(&unusable), keys);
    assert_eq!(unusable["valid"], false);
    assert!(
        unusable["error"]
            .as_str()
            .is_some_and(|e| e.contains("line 3 column 1"))
    );
}

#[test]
fn rejects_a_key_named_after_the_meshconfig_field_suggesting_the_setting_that_sets_it() {
    // Named after the MeshConfig's sidecar.logLevel: no typo of any setting, so the suggestion
    // comes from what the settings set.
    let out = run("named-after-the-field.json", &[]);
    assert_findings(
        &out,
        &[
            r#"osm.osm.sidecarLogLevel: Forbidden: unknown setting; did you mean "osm.osm.envoyLogLevel" (it sets the MeshConfig's sidecar.logLevel)?"#,
        ],
    );
}
