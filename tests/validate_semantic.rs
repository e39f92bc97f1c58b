//! The semantic layer and warnings: what OSM would do with each value at runtime, one rule per
//! test, named `accepts_*` / `rejects_*` / `warns_*`, on OSM v1.2.4's preset unless noted.

use meshconfig_webhook::field::{ErrorType, Layer};
use meshconfig_webhook::schema::{ApiVersion, Release, Schema};
use meshconfig_webhook::validate::{self, Outcome};
use serde_json::{Value, json};

fn object(file: &str) -> Value {
    let path = format!("{}/tests/fixtures/objects/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn preset() -> Value {
    object("meshconfig-v1.2.4.json")
}

fn patched(base: &Value, patch: Value) -> Value {
    let mut o = base.clone();
    json_patch::merge(&mut o, &patch);
    o
}

fn check_with(release: Release, version: ApiVersion, base: &Value, patch: Value) -> Outcome {
    let schema = Schema::get(release, version).expect("schema");
    let mut o = patched(base, patch);
    validate::apply_defaults(schema, &mut o);
    validate::meshconfig(schema, &o, None)
}

/// CREATE of the preset with `patch` merged in, release 1.2, v1alpha2.
fn check(patch: Value) -> Outcome {
    check_with(Release::V1_2, ApiVersion::V1alpha2, &preset(), patch)
}

fn messages(o: &Outcome) -> Vec<String> {
    o.errors.iter().map(|e| e.to_string()).collect()
}

#[track_caller]
fn assert_denied(o: &Outcome, expected: &[&str]) {
    assert_eq!(messages(o), expected, "warnings: {:?}", o.warnings);
    assert!(o.errors.iter().all(|e| e.layer == Layer::Semantic), "{:?}", o.errors);
}

#[track_caller]
fn assert_allowed(o: &Outcome) {
    assert!(o.allowed(), "{:?}", messages(o));
}

#[track_caller]
fn assert_warns(o: &Outcome, needle: &str) {
    assert_allowed(o);
    assert!(
        o.warnings.iter().any(|w| w.contains(needle)),
        "no warning containing {needle:?} in {:?}",
        o.warnings
    );
    assert!(
        o.warnings
            .iter()
            .all(|w| w.chars().count() <= meshconfig_webhook::field::bounds::APISERVER_WARNING_ITEM_RUNES),
        "warning the webhook would cut: {:?}",
        o.warnings
    );
}

// ---- presets

#[test]
fn accepts_every_release_preset_as_stored() {
    for (file, release, version) in [
        ("meshconfig-v0.9.2.json", Release::V0_9, ApiVersion::V1alpha1),
        ("meshconfig-v0.10.0.json", Release::V0_10, ApiVersion::V1alpha1),
        ("meshconfig-v0.11.1.json", Release::V0_11, ApiVersion::V1alpha1),
        ("meshconfig-v1.0.0.json", Release::V1_0, ApiVersion::V1alpha1),
        ("meshconfig-v1.1.4.json", Release::V1_1, ApiVersion::V1alpha2),
        ("meshconfig-v1.2.4.json", Release::V1_2, ApiVersion::V1alpha2),
        ("meshconfig-pre-rel-v1.2.json", Release::V1_2, ApiVersion::V1alpha3),
    ] {
        let o = check_with(release, version, &object(file), json!({}));
        assert!(
            o.allowed() && o.warnings.is_empty(),
            "{file}: {:?} {:?}",
            messages(&o),
            o.warnings
        );
    }
}

// ---- durations

#[test]
fn rejects_service_cert_validity_that_go_cannot_parse() {
    assert_denied(
        &check(json!({"spec": {"certificate": {"serviceCertValidityDuration": "24x"}}})),
        &[
            r#"spec.certificate.serviceCertValidityDuration: Invalid value: "24x": time: unknown unit "x" in duration "24x""#,
        ],
    );
    assert_denied(
        &check(json!({"spec": {"certificate": {"serviceCertValidityDuration": "1d"}}})),
        &[
            r#"spec.certificate.serviceCertValidityDuration: Invalid value: "1d": time: unknown unit "d" in duration "1d""#,
        ],
    );
    assert_denied(
        &check(json!({"spec": {"certificate": {"serviceCertValidityDuration": ""}}})),
        &[r#"spec.certificate.serviceCertValidityDuration: Invalid value: "": time: invalid duration """#],
    );
}

/// OSM's certificate manager renews a certificate 30s to 34s before it expires, so one valid for
/// 34s or less is renewed as soon as it is issued (judged by tests/osm_consumer.rs).
#[test]
fn rejects_service_cert_validity_osm_renews_at_once() {
    assert_denied(
        &check(json!({"spec": {"certificate": {"serviceCertValidityDuration": "34s"}}})),
        &[
            r#"spec.certificate.serviceCertValidityDuration: Invalid value: "34s": must be greater than 34s: OSM renews a certificate 30s to 34s before it expires"#,
        ],
    );
    assert_denied(
        &check(json!({"spec": {"certificate": {"serviceCertValidityDuration": "-1h"}}})),
        &[
            r#"spec.certificate.serviceCertValidityDuration: Invalid value: "-1h": must be greater than 34s: OSM renews a certificate 30s to 34s before it expires"#,
        ],
    );
    // OSM issues and renews these as written.
    assert_warns(
        &check(json!({"spec": {"certificate": {"serviceCertValidityDuration": "35s"}}})),
        "is under 1h",
    );
    assert_allowed(&check(
        json!({"spec": {"certificate": {"serviceCertValidityDuration": "1h30m"}}}),
    ));
}

#[test]
fn warns_service_cert_validity_under_one_hour() {
    assert_warns(
        &check(json!({"spec": {"certificate": {"serviceCertValidityDuration": "2m"}}})),
        "is under 1h",
    );
}

#[test]
fn rejects_ingress_gateway_validity_osm_renews_at_once() {
    let gw = |d: &str| {
        json!({"spec": {"certificate": {"ingressGateway": {
            "subjectAltNames": ["gw.osm.cluster.local"], "validityDuration": d,
            "secret": {"name": "gw-cert", "namespace": "arc-osm-system"}}}}})
    };
    assert_allowed(&check(gw("24h")));
    assert_allowed(&check(gw("35s")));
    assert_denied(
        &check(gw("30s")),
        &[
            r#"spec.certificate.ingressGateway.validityDuration: Invalid value: "30s": must be greater than 34s: OSM renews a certificate 30s to 34s before it expires"#,
        ],
    );
    assert_denied(
        &check(gw("1 h")),
        &[
            r#"spec.certificate.ingressGateway.validityDuration: Invalid value: "1 h": time: unknown unit " h" in duration "1 h""#,
        ],
    );
}

#[test]
fn rejects_negative_ext_authz_timeout_and_accepts_zero() {
    let ea = |t: &str| {
        json!({"spec": {"traffic": {"inboundExternalAuthorization": {
            "enable": true, "address": "authz.default.svc.cluster.local", "port": 9191, "timeout": t}}}})
    };
    assert_allowed(&check(ea("0")));
    assert_allowed(&check(ea("1.5s")));
    assert_denied(
        &check(ea("-1s")),
        &[
            r#"spec.traffic.inboundExternalAuthorization.timeout: Invalid value: "-1s": must be greater than or equal to 0s"#,
        ],
    );
}

/// OSM's resync ticker logs and ignores what it cannot parse or what is below its floor:
/// warnings, never denials (judged by tests/osm_consumer.rs).
#[test]
fn warns_resync_intervals_osm_s_ticker_ignores() {
    assert_allowed(&check(json!({"spec": {"sidecar": {"configResyncInterval": "0"}}})));
    assert_allowed(&check(json!({"spec": {"sidecar": {"configResyncInterval": "90s"}}})));
    // "" configures nothing.
    let o = check(json!({"spec": {"sidecar": {"configResyncInterval": ""}}}));
    assert_allowed(&o);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    assert_warns(
        &check(json!({"spec": {"sidecar": {"configResyncInterval": "10s"}}})),
        "minimum resync interval of 30s",
    );
    assert_warns(
        &check(json!({"spec": {"sidecar": {"configResyncInterval": "-5m"}}})),
        "spec.sidecar.configResyncInterval: -5m is below OSM's minimum resync interval of 30s; OSM will not resync",
    );
    assert_warns(
        &check(json!({"spec": {"sidecar": {"configResyncInterval": "5x"}}})),
        r#"spec.sidecar.configResyncInterval: time: unknown unit "x" in duration "5x": OSM's resync ticker logs the error and keeps its interval"#,
    );
    // Up to v0.10 the ticker needs at least a minute.
    let o = check_with(
        Release::V0_10,
        ApiVersion::V1alpha1,
        &object("meshconfig-v0.10.0.json"),
        json!({"spec": {"sidecar": {"configResyncInterval": "45s"}}}),
    );
    assert_warns(&o, "minimum resync interval of 1m0s");
}

// ---- log levels

#[test]
fn rejects_envoy_level_off_and_unknown_levels() {
    // OSM's CRD lists a bare `off`, which YAML 1.1 (as kubectl loads the CRD) makes `false`.
    let supported = r#"supported values: "trace", "debug", "info", "warning", "warn", "error", "critical", "false""#;
    for (level, shown) in [("off", r#""off""#), ("verbose", r#""verbose""#)] {
        let o = check(json!({"spec": {"sidecar": {"logLevel": level}}}));
        assert_eq!(
            messages(&o),
            [format!(
                "spec.sidecar.logLevel: Unsupported value: {shown}: {supported}"
            )]
        );
    }
}

#[test]
fn accepts_osm_log_levels_case_insensitively() {
    for l in ["debug", "INFO", "Warn", "error", "fatal", "panic", "disabled", "trace"] {
        assert_allowed(&check(json!({"spec": {"observability": {"osmLogLevel": l}}})));
    }
}

/// `logger.SetLogLevel` refuses the value and OSM keeps its level: a warning.
#[test]
fn warns_osm_log_levels_osm_ignores() {
    for (level, quoted) in [("loud", r#""loud""#), ("warning", r#""warning""#), ("", r#""""#)] {
        assert_warns(
            &check(json!({"spec": {"observability": {"osmLogLevel": level}}})),
            &format!(
                r#"spec.observability.osmLogLevel: unsupported value {quoted}: OSM logs an error and keeps its log level (supported values: "debug", "info", "warn", "error", "fatal", "panic", "disabled", "trace")"#
            ),
        );
    }
}

// ---- CIDRs

#[test]
fn rejects_cidrs_the_crd_pattern_lets_through() {
    for (bad, list) in [
        ("999.999.999.999/99", "outboundIPRangeExclusionList"),
        ("foo 1.2.3.4/32", "outboundIPRangeExclusionList"),
        ("10.0.0.0/33", "outboundIPRangeInclusionList"),
        ("1.2.3.256/24", "outboundIPRangeInclusionList"),
    ] {
        let o = check(json!({"spec": {"traffic": {list: ["10.0.0.0/8", bad]}}}));
        assert_eq!(o.errors.len(), 1, "{bad}: {:?}", messages(&o));
        assert_eq!(o.errors[0].field, format!("spec.traffic.{list}[1]"));
        assert_eq!(o.errors[0].kind, ErrorType::Invalid);
    }
}

#[test]
fn warns_cidrs_with_host_bits_set() {
    assert_warns(
        &check(json!({"spec": {"traffic": {"outboundIPRangeExclusionList": ["10.1.2.3/8"]}}})),
        "10.1.2.3/8 has host bits set; it means 10.0.0.0/8",
    );
}

// ---- resources

#[test]
fn accepts_kubernetes_quantities() {
    assert_allowed(&check(json!({"spec": {"sidecar": {"resources": {
        "limits": {"cpu": "2", "memory": "128Mi", "ephemeral-storage": "1Gi", "hugepages-2Mi": "0"},
        "requests": {"cpu": "100m", "memory": 67108864}}}}})));
}

#[test]
fn rejects_quantities_kubernetes_cannot_decode() {
    assert_denied(
        &check(json!({"spec": {"sidecar": {"resources": {"limits": {"cpu": "lots"}}}}})),
        &[
            r#"spec.sidecar.resources.limits.cpu: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#,
        ],
    );
}

#[test]
fn rejects_negative_quantities_and_unknown_resource_names() {
    let o = check(json!({"spec": {"sidecar": {"resources": {"requests": {"memory": "-1Mi", "cpus": "1"}}}}}));
    // Both of Kubernetes' resource-name checks apply, as in pod validation.
    assert_denied(
        &o,
        &[
            r#"spec.sidecar.resources.requests.cpus: Invalid value: "cpus": must be a standard resource type or fully qualified"#,
            r#"spec.sidecar.resources.requests.cpus: Invalid value: "cpus": must be a standard resource for containers"#,
            r#"spec.sidecar.resources.requests.memory: Invalid value: "-1Mi": must be greater than or equal to 0"#,
        ],
    );
}

#[test]
fn rejects_requests_above_limits() {
    assert_denied(
        &check(json!({"spec": {"sidecar": {"resources": {"limits": {"cpu": "500m"}, "requests": {"cpu": "1"}}}}})),
        &[
            r#"spec.sidecar.resources.requests.cpu: Invalid value: "1": must be less than or equal to cpu limit of 500m"#,
        ],
    );
}

// ---- images

#[test]
fn accepts_image_references_and_empty_defaults() {
    for img in [
        "",
        "envoyproxy/envoy-distroless:v1.22.2",
        "mcr.microsoft.com/oss/envoyproxy/envoy:v1.22.2@sha256:541d31419b537ef4ed2d5d10e1e1e2f8e8f0a0c5b5d4f4e3c1c2b1a0f9e8d7c6",
        "localhost:5000/init",
    ] {
        assert_allowed(&check(
            json!({"spec": {"sidecar": {"envoyImage": img, "initContainerImage": img}}}),
        ));
    }
}

#[test]
fn rejects_malformed_image_references() {
    let o = check(json!({"spec": {"sidecar": {"envoyImage": "Envoy:latest", "envoyWindowsImage": "envoy:"}}}));
    let fields: Vec<&str> = o.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["spec.sidecar.envoyImage", "spec.sidecar.envoyWindowsImage"],
        "{:?}",
        messages(&o)
    );
    assert!(
        messages(&o)[1].ends_with("invalid reference format"),
        "{:?}",
        messages(&o)
    );
}

// ---- ports and integers

#[test]
fn rejects_tracing_ports_osm_cannot_decode() {
    assert_denied(
        &check(json!({"spec": {"observability": {"tracing": {"enable": true, "port": 40000}}}})),
        &["spec.observability.tracing.port: Invalid value: 40000: must be between 0 and 32767, inclusive"],
    );
    assert!(!check(json!({"spec": {"observability": {"tracing": {"port": -1}}}})).allowed());
    assert_allowed(&check(
        json!({"spec": {"observability": {"tracing": {"enable": true, "port": 32767}}}}),
    ));
    assert_allowed(&check(
        json!({"spec": {"observability": {"tracing": {"enable": true, "port": 0}}}}),
    ));
}

#[test]
fn rejects_cert_key_bit_sizes_outside_2048_to_4096() {
    assert_denied(
        &check(json!({"spec": {"certificate": {"certKeyBitSize": 12}}})),
        &["spec.certificate.certKeyBitSize: Invalid value: 12: must be between 2048 and 4096, inclusive"],
    );
    assert!(!check(json!({"spec": {"certificate": {"certKeyBitSize": 8192}}})).allowed());
    assert_allowed(&check(json!({"spec": {"certificate": {"certKeyBitSize": 4096}}})));
}

/// OSM enforces the limit only when it is positive (pkg/envoy/ads): a negative one means none.
#[test]
fn warns_negative_max_data_plane_connections() {
    assert_warns(
        &check(json!({"spec": {"sidecar": {"maxDataPlaneConnections": -1}}})),
        "spec.sidecar.maxDataPlaneConnections: a negative limit means no limit, as 0 does",
    );
}

/// OSM writes each port list into one iptables multiport rule, which takes at most 15 ports;
/// repeats are merged first.
#[test]
fn rejects_more_than_15_distinct_ports_in_a_list() {
    let ports = |n: u16| json!((1..=n).collect::<Vec<_>>());
    assert_allowed(&check(
        json!({"spec": {"traffic": {"outboundPortExclusionList": ports(15)}}}),
    ));
    assert_denied(
        &check(json!({"spec": {"traffic": {"inboundPortExclusionList": ports(16)}}})),
        &[
            "spec.traffic.inboundPortExclusionList: Too many: 16: must have at most 15 distinct ports: OSM writes them into one iptables multiport rule, which takes 15",
        ],
    );
    let mut repeated: Vec<u16> = (1..=15).collect();
    repeated.push(1);
    assert_warns(
        &check(json!({"spec": {"traffic": {"outboundPortExclusionList": repeated}}})),
        "duplicate port 1",
    );
}

#[test]
fn warns_duplicate_ports() {
    assert_warns(
        &check(json!({"spec": {"traffic": {"outboundPortExclusionList": [80, 443, 80]}}})),
        "spec.traffic.outboundPortExclusionList[2]: duplicate port 80",
    );
}

// ---- TLS

#[test]
fn rejects_min_tls_above_max_and_max_below_tls12() {
    assert_denied(
        &check(json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLSv1_3", "tlsMaxProtocolVersion": "TLSv1_0"}}})),
        &[
            r#"spec.sidecar.tlsMaxProtocolVersion: Unsupported value: "TLSv1_0": supported values: "TLS_AUTO", "TLSv1_2", "TLSv1_3""#,
            r#"spec.sidecar.tlsMinProtocolVersion: Invalid value: "TLSv1_3": must be less than or equal to tlsMaxProtocolVersion ("TLSv1_0")"#,
        ],
    );
    // The CRD default for the maximum (TLSv1_3) counts when the field is absent.
    assert_allowed(&check(
        json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLSv1_3"}}}),
    ));
    assert_allowed(&check(
        json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLS_AUTO", "tlsMaxProtocolVersion": "TLS_AUTO"}}}),
    ));
}

#[test]
fn warns_tls_1_0_as_minimum() {
    assert_warns(
        &check(json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLSv1_0"}}})),
        "TLSv1_0 is deprecated",
    );
}

#[test]
fn rejects_empty_cipher_suites_and_warns_repeats() {
    let o = check(
        json!({"spec": {"sidecar": {"cipherSuites": ["ECDHE-RSA-AES128-GCM-SHA256", "", "ECDHE-RSA-AES128-GCM-SHA256"]}}}),
    );
    assert_denied(
        &o,
        &[r#"spec.sidecar.cipherSuites[1]: Invalid value: "": must be non-empty"#],
    );
    assert!(
        o.warnings
            .iter()
            .any(|w| w == r#"spec.sidecar.cipherSuites[2]: duplicate name "ECDHE-RSA-AES128-GCM-SHA256""#),
        "{:?}",
        o.warnings
    );
}

// ---- external authorization

#[test]
fn rejects_enabled_ext_authz_without_a_target() {
    assert_denied(
        &check(json!({"spec": {"traffic": {"inboundExternalAuthorization": {"enable": true}}}})),
        &[
            "spec.traffic.inboundExternalAuthorization.address: Required value: required when enable is true",
            "spec.traffic.inboundExternalAuthorization.port: Required value: required when enable is true",
        ],
    );
    assert_denied(
        &check(json!({"spec": {"traffic": {"inboundExternalAuthorization": {
            "enable": true, "address": "authz", "port": 9191, "statPrefix": ""}}}})),
        &["spec.traffic.inboundExternalAuthorization.statPrefix: Required value: required when enable is true"],
    );
    // Disabled: nothing is required.
    assert_allowed(&check(
        json!({"spec": {"traffic": {"inboundExternalAuthorization": {"enable": false}}}}),
    ));
}

#[test]
fn rejects_ext_authz_and_tracing_addresses_that_are_not_hosts() {
    let o = check(json!({"spec": {
        "traffic": {"inboundExternalAuthorization": {"enable": true, "address": "http://authz:9191", "port": 9191}},
        "observability": {"tracing": {"enable": true, "address": "Jaeger_Collector", "endpoint": "api/v2/spans"}}}}));
    let fields: Vec<&str> = o.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.observability.tracing.address",
            "spec.observability.tracing.endpoint",
            "spec.traffic.inboundExternalAuthorization.address"
        ],
        "{:?}",
        messages(&o)
    );
    assert!(messages(&o)[1].ends_with("must be an absolute path"));
}

// ---- names

/// Judged by what the init container's shell and iptables do with the name (tests/osm_consumer.rs).
#[test]
fn rejects_interface_names_that_change_osm_s_iptables_rules() {
    let o = check(json!({"spec": {"traffic": {"networkInterfaceExclusionList": [
        "eth0", "averyveryverylongname", "eth 1", "eth$1", "eth0", "eth0:1"]}}}));
    let m = messages(&o);
    assert_eq!(m.len(), 3, "{m:?}");
    assert!(
        m[0].starts_with(r#"spec.traffic.networkInterfaceExclusionList[1]: Invalid value: "averyveryverylongname": "#)
    );
    assert_eq!(
        m[1],
        r#"spec.traffic.networkInterfaceExclusionList[2]: Invalid value: "eth 1": must not contain whitespace: it splits OSM's iptables rule"#
    );
    assert_eq!(
        m[2],
        r#"spec.traffic.networkInterfaceExclusionList[3]: Invalid value: "eth$1": must not contain '"', '$', '`' or two backslashes: OSM's init container passes its iptables rules through /bin/sh and iptables-restore, which read them specially"#
    );
    // A repeat and a name no interface can have are installed as written: warnings.
    for w in [
        r#"spec.traffic.networkInterfaceExclusionList[4]: duplicate interface "eth0""#,
        "spec.traffic.networkInterfaceExclusionList[5]: no network interface can be named so (the kernel refuses '.', '..', '/' and ':'): the rule never matches",
    ] {
        assert!(o.warnings.iter().any(|x| x == w), "no {w:?} in {:?}", o.warnings);
    }
}

#[test]
fn rejects_bad_ingress_gateway_names() {
    let o = check(json!({"spec": {"certificate": {"ingressGateway": {
        "subjectAltNames": ["Gateway.example.com", "*.example.com"], "validityDuration": "24h",
        "secret": {"name": "gw_cert", "namespace": "osm.system"}}}}}));
    let fields: Vec<&str> = o.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.certificate.ingressGateway.secret.name",
            "spec.certificate.ingressGateway.secret.namespace",
            "spec.certificate.ingressGateway.subjectAltNames[0]"
        ],
        "{:?}",
        messages(&o)
    );
    let o = check(json!({"spec": {"certificate": {"ingressGateway": {
        "subjectAltNames": ["gw.example.com"], "validityDuration": "24h", "secret": {"name": "", "namespace": "x"}}}}}));
    assert_denied(&o, &["spec.certificate.ingressGateway.secret.name: Required value"]);
}

// ---- other warnings

#[test]
fn warns_multicluster_mode_on_1_2_only() {
    assert_warns(
        &check(json!({"spec": {"featureFlags": {"enableMulticlusterMode": true}}})),
        "ignored since OSM v1.2",
    );
    let o = check_with(
        Release::V1_1,
        ApiVersion::V1alpha2,
        &object("meshconfig-v1.1.4.json"),
        json!({"spec": {"featureFlags": {"enableMulticlusterMode": true}}}),
    );
    assert!(o.allowed() && o.warnings.is_empty(), "{:?}", o.warnings);
}

#[test]
fn warns_v1alpha1_where_v1alpha2_is_served() {
    let o = check_with(
        Release::V1_2,
        ApiVersion::V1alpha1,
        &object("meshconfig-v1.2.4-v1alpha1.json"),
        json!({}),
    );
    assert_eq!(
        o.warnings,
        [
            "config.openservicemesh.io/v1alpha1 MeshConfig is deprecated; use config.openservicemesh.io/v1alpha2 MeshConfig"
        ]
    );
}

#[test]
fn warns_other_object_names() {
    assert_warns(
        &check(json!({"metadata": {"name": "my-config"}})),
        "OSM reads only the MeshConfig named \"osm-mesh-config\"",
    );
}

// ---- several errors, ordering

#[test]
fn reports_all_errors_of_both_layers_sorted_by_path() {
    let o = check(json!({"spec": {
        "traffic": {"enableEgress": "no", "outboundIPRangeExclusionList": ["1.2.3.4/40"]},
        "certificate": {"serviceCertValidityDuration": "1x", "certKeyBitSize": 1},
        "sidecar": {"logLevel": "loud"}}}));
    let fields: Vec<&str> = o.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.certificate.certKeyBitSize",
            "spec.certificate.serviceCertValidityDuration",
            "spec.sidecar.logLevel",
            "spec.traffic.enableEgress",
            "spec.traffic.outboundIPRangeExclusionList[0]"
        ]
    );
    let status = o.status("osm-mesh-config").expect("denied");
    assert_eq!(status.code, 422);
    assert!(status.message.starts_with(
        "MeshConfig.config.openservicemesh.io \"osm-mesh-config\" is invalid: [spec.certificate.certKeyBitSize: "
    ));
    assert!(
        status
            .kubectl_message()
            .starts_with("The MeshConfig \"osm-mesh-config\" is invalid: \n* spec.certificate.certKeyBitSize: ")
    );
}

#[test]
fn validation_is_deterministic() {
    let p = json!({"spec": {"traffic": {"enableEgress": 1, "outboundPortExclusionList": [0, 99999]}, "sidecar": {"logLevel": 2}}});
    let first = check(p.clone());
    for _ in 0..20 {
        assert_eq!(check(p.clone()), first);
    }
}

// ---- ratcheting

fn update(old_patch: Value, new_patch: Value) -> Outcome {
    let schema = Schema::get(Release::V1_2, ApiVersion::V1alpha2).expect("schema");
    let old = patched(&preset(), old_patch);
    let new = patched(&old, new_patch);
    validate::meshconfig(schema, &new, Some(&old))
}

#[test]
fn accepts_updates_that_keep_an_existing_bad_value_with_a_warning() {
    let o = update(
        json!({"spec": {"certificate": {"serviceCertValidityDuration": "24x"}}}),
        json!({"spec": {"traffic": {"enableEgress": false}}}),
    );
    assert_allowed(&o);
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("spec.certificate.serviceCertValidityDuration") && w.contains("unchanged")),
        "{:?}",
        o.warnings
    );
}

#[test]
fn rejects_updates_that_change_a_value_to_a_bad_one() {
    let o = update(
        json!({"spec": {"certificate": {"serviceCertValidityDuration": "24x"}}}),
        json!({"spec": {"certificate": {"serviceCertValidityDuration": "25x"}}}),
    );
    assert_eq!(o.errors.len(), 1, "{:?}", messages(&o));
}

#[test]
fn rejects_new_bad_values_next_to_ratcheted_ones() {
    let o = update(
        json!({"spec": {"sidecar": {"logLevel": "loud"}}}),
        json!({"spec": {"certificate": {"certKeyBitSize": 12}}}),
    );
    assert_eq!(messages(&o).len(), 1, "{:?}", messages(&o));
    assert_eq!(o.errors[0].field, "spec.certificate.certKeyBitSize");
    assert!(
        o.warnings.iter().any(|w| w.contains("spec.sidecar.logLevel")),
        "{:?}",
        o.warnings
    );
}

#[test]
fn ratchets_cross_field_rules_only_when_both_fields_are_unchanged() {
    let bad = json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLSv1_3", "tlsMaxProtocolVersion": "TLSv1_2"}}});
    assert_allowed(&update(
        bad.clone(),
        json!({"spec": {"sidecar": {"logLevel": "debug"}}}),
    ));
    let o = update(bad, json!({"spec": {"sidecar": {"tlsMaxProtocolVersion": "TLSv1_1"}}}));
    assert!(!o.allowed());
}

#[test]
fn accepts_a_minimum_change_beside_a_stored_maximum_its_own_rule_rejects() {
    // Stored: TLSv1_0 as maximum (denied on CREATE). Changing only the minimum must not be denied
    // for the maximum nobody touched; the maximum's error is kept as a warning.
    let o = update(
        json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLS_AUTO", "tlsMaxProtocolVersion": "TLSv1_0"}}}),
        json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLSv1_0"}}}),
    );
    assert_allowed(&o);
    assert!(
        o.warnings.iter().any(|w| w.starts_with(
            "unchanged invalid value kept: spec.sidecar.tlsMaxProtocolVersion: Unsupported value: \"TLSv1_0\""
        )),
        "{:?}",
        o.warnings
    );
    // Changing the maximum to another value the rule rejects is denied.
    let o = update(
        json!({"spec": {"sidecar": {"tlsMinProtocolVersion": "TLS_AUTO", "tlsMaxProtocolVersion": "TLSv1_0"}}}),
        json!({"spec": {"sidecar": {"tlsMaxProtocolVersion": "TLSv1_1"}}}),
    );
    assert_eq!(messages(&o).len(), 1, "{:?}", messages(&o));
}

// ---- Unknown fields: what `validate` denies by default and the webhook only warns about.

fn check_unknown(patch: Value, unknown: validate::UnknownFields, old: Option<&Value>) -> Outcome {
    let schema = Schema::get(Release::V1_2, ApiVersion::V1alpha2).expect("schema");
    let mut o = patched(&preset(), patch);
    validate::apply_defaults(schema, &mut o);
    validate::meshconfig_with(schema, &o, old, unknown)
}

#[test]
fn rejects_unknown_fields_when_denied_naming_the_field_meant() {
    let o = check_unknown(
        json!({"spec": {"traffic": {"enableEgres": true}, "tracing": {}, "bogusField": 1}, "metadata": {"labelz": {}}}),
        validate::UnknownFields::Deny,
        None,
    );
    assert_eq!(
        messages(&o),
        [
            r#"metadata.labelz: Forbidden: unknown field; did you mean "metadata.labels"?"#,
            "spec.bogusField: Forbidden: unknown field",
            r#"spec.tracing: Forbidden: unknown field; did you mean "spec.observability.tracing"?"#,
            r#"spec.traffic.enableEgres: Forbidden: unknown field; did you mean "spec.traffic.enableEgress"?"#,
        ]
    );
    assert!(
        !o.warnings.iter().any(|w| w.contains("unknown field")),
        "{:?}",
        o.warnings
    );
}

#[test]
fn warns_about_unknown_fields_in_the_webhooks_default_and_ignores_them_when_told() {
    let patch = json!({"spec": {"traffic": {"enableEgres": true}}});
    let o = check(patch.clone());
    assert!(o.allowed(), "{:?}", messages(&o));
    assert!(
        o.warnings
            .contains(&r#"unknown field "spec.traffic.enableEgres""#.to_owned())
    );
    let o = check_unknown(patch, validate::UnknownFields::Ignore, None);
    assert!(o.allowed() && !o.warnings.iter().any(|w| w.contains("enableEgres")));
}

#[test]
fn accepts_an_unknown_field_already_stored_with_a_warning_when_denied() {
    let stored = patched(&preset(), json!({"spec": {"traffic": {"enableEgres": true}}}));
    let o = check_unknown(
        json!({"spec": {"traffic": {"enableEgres": true}, "sidecar": {"logLevel": "debug"}}}),
        validate::UnknownFields::Deny,
        Some(&stored),
    );
    assert!(o.allowed(), "{:?}", messages(&o));
    assert!(
        o.warnings.iter().any(|w| w.contains("spec.traffic.enableEgres")),
        "{:?}",
        o.warnings
    );
}

#[test]
fn rejects_a_misplaced_field_suggesting_only_a_unique_name() {
    let o = check_unknown(
        json!({"spec": {"sidecar": {"enable": true}}}),
        validate::UnknownFields::Deny,
        None,
    );
    // `enable` is a field of tracing and of ext-authz: no guess.
    assert_eq!(messages(&o), ["spec.sidecar.enable: Forbidden: unknown field"]);
}

/// Every Arc extension's preset, as osm-bootstrap turns it into `osm-mesh-config` (the spec is
/// the ConfigMap's JSON), is allowed without warnings by its release's schema: osm-bootstrap exits
/// fatally when its write is denied. (`tests/apiserver_e2e.rs` runs OSM's own bootstrap on the
/// real apiserver for the releases whose code the Go module proxy serves.)
#[test]
fn accepts_every_arc_extensions_preset_as_osm_bootstrap_creates_it() {
    for (version, release, api) in [
        ("0.9.2", Release::V0_9, ApiVersion::V1alpha1),
        ("0.11.1", Release::V0_11, ApiVersion::V1alpha1),
        ("1.0.0-1", Release::V1_0, ApiVersion::V1alpha1),
        ("1.1.1-1", Release::V1_1, ApiVersion::V1alpha2),
        ("1.2.3", Release::V1_2, ApiVersion::V1alpha2),
        ("1.2.6", Release::V1_2, ApiVersion::V1alpha2),
    ] {
        let path = format!(
            "{}/tests/fixtures/arc/presets/preset-mesh-config-{version}.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let cm: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let json = cm["data"]["preset-mesh-config.json"]
            .as_str()
            .expect("the preset's JSON");
        let spec: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut o = json!({
            "apiVersion": format!("config.openservicemesh.io/{}", api.as_str()),
            "kind": "MeshConfig",
            "metadata": {"name": "osm-mesh-config", "namespace": "arc-osm-system"},
            "spec": spec,
        });
        let schema = Schema::get(release, api).expect("schema");
        validate::apply_defaults(schema, &mut o);
        let out = validate::meshconfig(schema, &o, None);
        assert!(out.allowed(), "Arc {version}: {:?}", messages(&out));
        assert!(out.warnings.is_empty(), "Arc {version}: {:?}", out.warnings);
    }
}
