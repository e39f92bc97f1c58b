//! OSM v0.8's `osm-config` ConfigMap: every key with valid and invalid values, every error kind
//! with its exact wording, unknown keys (deny and warn), required keys on CREATE and UPDATE,
//! ratcheting, and the `validate` command on ConfigMap documents.
//!
//! `tests/fixtures/configmap/osm-config-v0.8.4.json` restates the ConfigMap OSM v0.8.4's chart
//! installs with default values (in Azure Arc's namespace); every case starts from its `data`.

use std::path::{Path, PathBuf};
use std::process::Command;

use meshconfig_webhook::field::bounds::APISERVER_WARNING_ITEM_RUNES;
use meshconfig_webhook::schema::configmap::{KEYS, ValueKind};
use meshconfig_webhook::validate::{self, Outcome, UnknownKeys};
use serde_json::{Value, json};

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/configmap")
        .join(name)
}

fn fixture(name: &str) -> Value {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn defaults() -> Value {
    fixture("osm-config-v0.8.4.json")
}

/// The default ConfigMap with `patch` merged into `data` (RFC 7386: `null` removes a key).
fn with(patch: Value) -> Value {
    let mut cm = defaults();
    json_patch::merge(&mut cm["data"], &patch);
    cm
}

fn create(object: &Value) -> Outcome {
    checked(validate::configmap(object, None, UnknownKeys::Deny))
}

fn update(object: &Value, old: &Value) -> Outcome {
    checked(validate::configmap(object, Some(old), UnknownKeys::Deny))
}

/// Every outcome of this file passes through here: our warnings reach kubectl whole (the
/// webhook cuts longer ones to the apiserver's limit).
fn checked(o: Outcome) -> Outcome {
    for w in &o.warnings {
        assert!(
            w.chars().count() <= APISERVER_WARNING_ITEM_RUNES,
            "warning too long ({}): {w}",
            w.chars().count()
        );
    }
    assert_eq!((o.group, o.kind), ("", "ConfigMap"));
    o
}

fn errors(o: &Outcome) -> Vec<String> {
    o.errors.iter().map(ToString::to_string).collect()
}

const BOOL: &str = "must be a boolean (true or false)";
const LOG_LEVELS: &str = r#"supported values: "trace", "debug", "info", "warning", "warn", "error", "critical", "off""#;
const CIDR: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// `data` patch → exact errors (sorted by path) and warnings.
struct Case {
    patch: Value,
    errors: Vec<String>,
    warnings: Vec<String>,
}

fn ok(patch: Value) -> Case {
    Case {
        patch,
        errors: Vec::new(),
        warnings: Vec::new(),
    }
}

fn err(patch: Value, errors: &[&str]) -> Case {
    Case {
        patch,
        errors: errors.iter().map(|s| (*s).to_owned()).collect(),
        warnings: Vec::new(),
    }
}

fn warn(patch: Value, warnings: &[&str]) -> Case {
    Case {
        patch,
        errors: Vec::new(),
        warnings: warnings.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Ext-authz enabled with a complete target, so cases can vary one key of it.
fn extauthz(extra: Value) -> Value {
    let mut p = json!({
        "inbound_extauthz_enable": "true",
        "inbound_extauthz_address": "ext-authz.authz.svc.cluster.local",
        "inbound_extauthz_port": "9191",
        "inbound_extauthz_statprefix": "inboundExtAuthz",
    });
    json_patch::merge(&mut p, &extra);
    p
}

fn key_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // Every boolean key: a true form, a false form and a word Go's ParseBool rejects.
    for d in KEYS.iter().filter(|d| d.kind == ValueKind::Bool) {
        let key = d.key;
        if key != "inbound_extauthz_enable" {
            cases.push(ok(json!({ key: "True" })));
        }
        cases.push(ok(json!({ key: "0" })));
        cases.push(err(
            json!({ key: "no" }),
            &[&format!(r#"data.{key}: Invalid value: "no": {BOOL}"#)],
        ));
    }
    cases.extend([
        // ---- booleans (the loop in `every_bool_key_takes_gos_parsebool_forms` covers every key)
        ok(json!({"egress": "true"})),
        err(
            json!({"egress": "yes"}),
            &[&format!(r#"data.egress: Invalid value: "yes": {BOOL}"#)],
        ),
        err(
            json!({"egress": ""}),
            &[&format!(r#"data.egress: Invalid value: "": {BOOL}"#)],
        ),
        err(
            json!({"tracing_enable": " true"}),
            &[&format!(
                r#"data.tracing_enable: Invalid value: " true": {BOOL}"#
            )],
        ),
        err(
            json!({"inbound_extauthz_failuremodeallow": "on"}),
            &[&format!(
                r#"data.inbound_extauthz_failuremodeallow: Invalid value: "on": {BOOL}"#
            )],
        ),
        // ---- envoy_log_level: exact, case-sensitive
        ok(json!({"envoy_log_level": "trace"})),
        ok(json!({"envoy_log_level": "off"})),
        err(
            json!({"envoy_log_level": "ERROR"}),
            &[&format!(
                r#"data.envoy_log_level: Unsupported value: "ERROR": {LOG_LEVELS}"#
            )],
        ),
        // Empty is OSM's default, "error" (judged by tests/osm_consumer.rs).
        ok(json!({"envoy_log_level": ""})),
        // ---- service_cert_validity_duration: Go duration longer than the rotor's 34s lead, warn < 1h
        ok(json!({"service_cert_validity_duration": "1h30m"})),
        ok(json!({"service_cert_validity_duration": "8760h"})),
        warn(
            json!({"service_cert_validity_duration": "2m"}),
            &[
                "data.service_cert_validity_duration: 2m is under 1h: OSM's Vault provider issues whole hours, so it would request 0h",
            ],
        ),
        err(
            json!({"service_cert_validity_duration": "24x"}),
            &[
                r#"data.service_cert_validity_duration: Invalid value: "24x": time: unknown unit "x" in duration "24x""#,
            ],
        ),
        err(
            json!({"service_cert_validity_duration": "24"}),
            &[
                r#"data.service_cert_validity_duration: Invalid value: "24": time: missing unit in duration "24""#,
            ],
        ),
        err(
            json!({"service_cert_validity_duration": ""}),
            &[
                r#"data.service_cert_validity_duration: Invalid value: "": time: invalid duration """#,
            ],
        ),
        // OSM's rotor renews a certificate 30s plus 1-4s before it expires.
        err(
            json!({"service_cert_validity_duration": "34s"}),
            &[
                r#"data.service_cert_validity_duration: Invalid value: "34s": must be greater than 34s: OSM renews a certificate 30s to 34s before it expires"#,
            ],
        ),
        err(
            json!({"service_cert_validity_duration": "-24h"}),
            &[
                r#"data.service_cert_validity_duration: Invalid value: "-24h": must be greater than 34s: OSM renews a certificate 30s to 34s before it expires"#,
            ],
        ),
        // ---- config_resync_interval: a Go duration (OSM stops the ticker on what it cannot parse); below v0.8's 1m floor it never runs
        ok(json!({"config_resync_interval": "0"})),
        ok(json!({"config_resync_interval": "0s"})),
        ok(json!({"config_resync_interval": "1m"})),
        warn(
            json!({"config_resync_interval": "30s"}),
            &[
                "data.config_resync_interval: 30s is below OSM's minimum resync interval of 1m0s; OSM will not resync",
            ],
        ),
        // Below the floor, negative ones included, v0.8's ticker stops, as documented: a warning.
        warn(
            json!({"config_resync_interval": "-1s"}),
            &["data.config_resync_interval: -1s is below OSM's minimum resync interval of 1m0s; OSM will not resync"],
        ),
        err(
            json!({"config_resync_interval": "5 m"}),
            &[
                r#"data.config_resync_interval: Invalid value: "5 m": time: unknown unit " m" in duration "5 m""#,
            ],
        ),
        // ---- inbound_extauthz_timeout: ≥ 0
        ok(json!({"inbound_extauthz_timeout": "1s"})),
        ok(json!({"inbound_extauthz_timeout": "0"})),
        err(
            json!({"inbound_extauthz_timeout": "-1ms"}),
            &[
                r#"data.inbound_extauthz_timeout: Invalid value: "-1ms": must be greater than or equal to 0s"#,
            ],
        ),
        err(
            json!({"inbound_extauthz_timeout": "1"}),
            &[
                r#"data.inbound_extauthz_timeout: Invalid value: "1": time: missing unit in duration "1""#,
            ],
        ),
        // ---- tracing_port: Go Atoi, 0 (= 9411) … 65535
        ok(json!({"tracing_port": "9411"})),
        ok(json!({"tracing_port": "0"})),
        ok(json!({"tracing_port": "65535"})),
        ok(json!({"tracing_port": "+80"})),
        err(
            json!({"tracing_port": "65536"}),
            &[
                r#"data.tracing_port: Invalid value: "65536": must be between 0 and 65535, inclusive"#,
            ],
        ),
        err(
            json!({"tracing_port": "-1"}),
            &[r#"data.tracing_port: Invalid value: "-1": must be between 0 and 65535, inclusive"#],
        ),
        err(
            json!({"tracing_port": "9411.0"}),
            &[
                r#"data.tracing_port: Invalid value: "9411.0": strconv.Atoi: parsing "9411.0": invalid syntax"#,
            ],
        ),
        err(
            json!({"tracing_port": ""}),
            &[r#"data.tracing_port: Invalid value: "": strconv.Atoi: parsing "": invalid syntax"#],
        ),
        err(
            json!({"tracing_port": "99999999999999999999"}),
            &[
                r#"data.tracing_port: Invalid value: "99999999999999999999": strconv.Atoi: parsing "99999999999999999999": value out of range"#,
            ],
        ),
        // ---- tracing_address: a host; empty means the default
        ok(json!({"tracing_address": "jaeger.osm-system.svc.cluster.local"})),
        ok(json!({"tracing_address": "10.0.0.7"})),
        ok(json!({"tracing_address": ""})),
        err(
            json!({"tracing_address": "Jaeger"}),
            &[
                r#"data.tracing_address: Invalid value: "Jaeger": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
            ],
        ),
        err(
            json!({"tracing_address": "10.0.0.256"}),
            &[
                r#"data.tracing_address: Invalid value: "10.0.0.256": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#,
            ],
        ),
        // ---- tracing_endpoint: a URL path; empty means the default
        ok(json!({"tracing_endpoint": "/api/v2/spans"})),
        ok(json!({"tracing_endpoint": ""})),
        err(
            json!({"tracing_endpoint": "api/v2/spans"}),
            &[r#"data.tracing_endpoint: Invalid value: "api/v2/spans": must be an absolute path"#],
        ),
        // ---- outbound_ip_range_exclusion_list: comma-separated strict IPv4 CIDRs
        ok(json!({"outbound_ip_range_exclusion_list": "10.0.0.0/8"})),
        ok(json!({"outbound_ip_range_exclusion_list": "10.0.0.0/8,192.168.0.0/16"})),
        ok(json!({"outbound_ip_range_exclusion_list": " 10.0.0.0/8 ,\t172.16.0.0/12 , 0.0.0.0/0"})),
        warn(
            json!({"outbound_ip_range_exclusion_list": "10.0.0.1/8"}),
            &[
                "data.outbound_ip_range_exclusion_list: entry 1 10.0.0.1/8 has host bits set; it means 10.0.0.0/8",
            ],
        ),
        warn(
            json!({"outbound_ip_range_exclusion_list": "10.0.0.0/8, 10.0.0.0/8"}),
            &["data.outbound_ip_range_exclusion_list: entry 2 duplicates IP range 10.0.0.0/8"],
        ),
        err(
            json!({"outbound_ip_range_exclusion_list": "10.0.0.0/8,"}),
            &[
                r#"data.outbound_ip_range_exclusion_list: Invalid value: "10.0.0.0/8,": entry 2: must not be empty"#,
            ],
        ),
        err(
            json!({"outbound_ip_range_exclusion_list": "10.0.0.0/8, bogus"}),
            &[&format!(
                r#"data.outbound_ip_range_exclusion_list: Invalid value: "10.0.0.0/8, bogus": entry 2 "bogus": {CIDR}"#
            )],
        ),
        err(
            json!({"outbound_ip_range_exclusion_list": "10.0.0.0/33,,010.0.0.0/8"}),
            &[
                &format!(
                    r#"data.outbound_ip_range_exclusion_list: Invalid value: "10.0.0.0/33,,010.0.0.0/8": entry 1 "10.0.0.0/33": {CIDR}"#
                ),
                r#"data.outbound_ip_range_exclusion_list: Invalid value: "10.0.0.0/33,,010.0.0.0/8": entry 2: must not be empty"#,
                &format!(
                    r#"data.outbound_ip_range_exclusion_list: Invalid value: "10.0.0.0/33,,010.0.0.0/8": entry 3 "010.0.0.0/8": {CIDR}"#
                ),
            ],
        ),
        err(
            json!({"outbound_ip_range_exclusion_list": "10.0.0.1"}),
            &[&format!(
                r#"data.outbound_ip_range_exclusion_list: Invalid value: "10.0.0.1": entry 1 "10.0.0.1": {CIDR}"#
            )],
        ),
        err(
            json!({"outbound_ip_range_exclusion_list": "fd00::/8"}),
            &[
                r#"data.outbound_ip_range_exclusion_list: Invalid value: "fd00::/8": entry 1 "fd00::/8": must be an IPv4 CIDR (OSM's iptables rules are IPv4-only)"#,
            ],
        ),
        // OSM reads an empty list as no ranges.
        ok(json!({"outbound_ip_range_exclusion_list": ""})),
        // ---- ext-authz: enable ⇒ address and port
        ok(extauthz(json!({}))),
        ok(extauthz(
            json!({"inbound_extauthz_address": "10.1.2.3", "inbound_extauthz_port": "65535"}),
        )),
        ok(json!({"inbound_extauthz_port": "0", "inbound_extauthz_address": ""})),
        ok(json!({"inbound_extauthz_port": ""})),
        Case {
            patch: json!({"inbound_extauthz_enable": "true"}),
            errors: vec![
                "data.inbound_extauthz_address: Required value: required when inbound_extauthz_enable is true".into(),
                "data.inbound_extauthz_port: Required value: required when inbound_extauthz_enable is true".into(),
            ],
            warnings: vec![
                "data.inbound_extauthz_statprefix: empty while inbound_extauthz_enable is true; Envoy needs a stat prefix"
                    .into(),
            ],
        },
        err(
            extauthz(json!({"inbound_extauthz_address": "", "inbound_extauthz_port": null})),
            &[
                "data.inbound_extauthz_address: Required value: required when inbound_extauthz_enable is true",
                "data.inbound_extauthz_port: Required value: required when inbound_extauthz_enable is true",
            ],
        ),
        err(
            extauthz(json!({"inbound_extauthz_port": "0"})),
            &[
                r#"data.inbound_extauthz_port: Invalid value: "0": must be between 1 and 65535, inclusive"#,
            ],
        ),
        err(
            extauthz(json!({"inbound_extauthz_port": "70000"})),
            &[
                r#"data.inbound_extauthz_port: Invalid value: "70000": must be between 1 and 65535, inclusive"#,
            ],
        ),
        err(
            json!({"inbound_extauthz_port": "70000"}),
            &[
                r#"data.inbound_extauthz_port: Invalid value: "70000": must be between 0 and 65535, inclusive"#,
            ],
        ),
        err(
            json!({"inbound_extauthz_port": "http"}),
            &[
                r#"data.inbound_extauthz_port: Invalid value: "http": strconv.Atoi: parsing "http": invalid syntax"#,
            ],
        ),
        err(
            extauthz(json!({"inbound_extauthz_address": "authz:9191"})),
            &[
                r#"data.inbound_extauthz_address: Invalid value: "authz:9191": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
            ],
        ),
        // An invalid enable is not "true": only its own error.
        err(
            json!({"inbound_extauthz_enable": "yes"}),
            &[&format!(
                r#"data.inbound_extauthz_enable: Invalid value: "yes": {BOOL}"#
            )],
        ),
        ok(json!({"inbound_extauthz_statprefix": ""})),
        warn(
            extauthz(json!({"inbound_extauthz_statprefix": null})),
            &[
                "data.inbound_extauthz_statprefix: empty while inbound_extauthz_enable is true; Envoy needs a stat prefix",
            ],
        ),
        // ---- values that are not strings (offline input; the apiserver cannot decode them)
        err(
            json!({"egress": false}),
            &[
                r#"data.egress: Invalid value: "boolean": data.egress in body must be of type string: "boolean""#,
            ],
        ),
        err(
            json!({"tracing_port": 9411}),
            &[
                r#"data.tracing_port: Invalid value: "integer": data.tracing_port in body must be of type string: "integer""#,
            ],
        ),
        err(
            json!({"outbound_ip_range_exclusion_list": ["10.0.0.0/8"]}),
            &[
                r#"data.outbound_ip_range_exclusion_list: Invalid value: "array": data.outbound_ip_range_exclusion_list in body must be of type string: "array""#,
            ],
        ),
        // ---- unknown keys
        err(
            json!({"egres": "true"}),
            &[r#"data.egres: Forbidden: unknown key; did you mean "egress"?"#],
        ),
        err(
            json!({"tracing-enable": "true"}),
            &[r#"data.tracing-enable: Forbidden: unknown key; did you mean "tracing_enable"?"#],
        ),
        err(
            json!({"max_data_plane_connections": "0"}),
            &["data.max_data_plane_connections: Forbidden: unknown key"],
        ),
        err(
            json!({"egres": 1}),
            &[
                r#"data.egres: Forbidden: unknown key; did you mean "egress"?"#,
                r#"data.egres: Invalid value: "integer": data.egres in body must be of type string: "integer""#,
            ],
        ),
        // ---- default keys are required
        err(json!({"egress": null}), &["data.egress: Required value"]),
        err(
            json!({"envoy_log_level": null, "tracing_enable": null}),
            &[
                "data.envoy_log_level: Required value",
                "data.tracing_enable: Required value",
            ],
        ),
        ok(json!({"inbound_extauthz_enable": null})),
    ]);
    cases
}

#[test]
fn the_v0_8_defaults_are_allowed_without_warnings() {
    for name in ["osm-config-v0.8.4.json", "osm-config-v0.8.0.json"] {
        let cm = fixture(name);
        let o = create(&cm);
        assert_eq!(errors(&o), Vec::<String>::new(), "{name}");
        assert_eq!(o.warnings, Vec::<String>::new(), "{name}");
        assert!(o.status("osm-config").is_none());
        let o = update(&cm, &cm);
        assert!(o.allowed() && o.warnings.is_empty(), "{name}: {o:?}");
    }
}

#[test]
fn the_fixture_restates_the_key_table_defaults() {
    let data = defaults()["data"].clone();
    let from_table: serde_json::Map<String, Value> = KEYS
        .iter()
        .filter_map(|d| d.default.map(|v| (d.key.to_owned(), Value::from(v))))
        .collect();
    assert_eq!(data, Value::Object(from_table));
    assert_eq!(defaults()["metadata"]["namespace"], "arc-osm-system");
}

#[test]
fn every_key_case() {
    let mut failures = Vec::new();
    for (i, c) in key_cases().into_iter().enumerate() {
        let o = create(&with(c.patch.clone()));
        if errors(&o) != c.errors || o.warnings != c.warnings {
            failures.push(format!(
                "case {i} {}:\n  want errors   {:#?}\n  got errors    {:#?}\n  want warnings {:#?}\n  got warnings  {:#?}",
                c.patch,
                c.errors,
                errors(&o),
                c.warnings,
                o.warnings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_key_of_the_table_has_valid_and_invalid_cases() {
    let cases = key_cases();
    for d in KEYS {
        let touches = |c: &&Case| c.patch.get(d.key).is_some_and(|v| !v.is_null());
        let valid = cases.iter().filter(touches).any(|c| c.errors.is_empty());
        // A free-form key has no invalid string value; a non-string one is invalid for every key.
        let invalid = d.kind == ValueKind::Text || cases.iter().filter(touches).any(|c| !c.errors.is_empty());
        assert!(
            valid && invalid,
            "{}: valid case {valid}, invalid case {invalid}",
            d.key
        );
    }
}

#[test]
fn every_bool_key_takes_gos_parsebool_forms() {
    let forms = [
        "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False",
    ];
    let bools: Vec<&str> = KEYS
        .iter()
        .filter(|d| d.kind == ValueKind::Bool)
        .map(|d| d.key)
        .collect();
    assert_eq!(bools.len(), 9);
    for key in bools {
        for form in forms {
            // Enabling ext-authz needs its target.
            let base = if key == "inbound_extauthz_enable" {
                extauthz(json!({}))
            } else {
                json!({})
            };
            let mut patch = base;
            patch[key] = json!(form);
            let o = create(&with(patch));
            assert!(o.allowed() && o.warnings.is_empty(), "{key}={form}: {o:?}");
        }
        for bad in ["yes", "no", "on", "tRUE", "2", ""] {
            let o = create(&with(json!({ key: bad })));
            assert_eq!(
                errors(&o),
                [format!("data.{key}: Invalid value: {bad:?}: {BOOL}")],
                "{key}={bad}"
            );
        }
    }
}

#[test]
fn the_status_and_kubectl_text_name_the_configmap() {
    let o = create(&with(json!({"egress": "yes"})));
    let st = o.status("osm-config").expect("denied");
    assert_eq!(st.code, 422);
    assert_eq!(st.reason, "Invalid");
    assert_eq!(
        st.message,
        r#"ConfigMap "osm-config" is invalid: data.egress: Invalid value: "yes": must be a boolean (true or false)"#
    );
    assert_eq!(
        st.kubectl_message(),
        "The ConfigMap \"osm-config\" is invalid: data.egress: Invalid value: \"yes\": must be a boolean (true or false)\n"
    );
    let details = st.details.as_ref().expect("details");
    assert_eq!(
        (details.group.as_str(), details.kind.as_str(), details.name.as_str()),
        ("", "ConfigMap", "osm-config")
    );
    assert_eq!(details.causes[0].reason, "FieldValueInvalid");
    assert_eq!(details.causes[0].field, "data.egress");
    let json = serde_json::to_value(&st).expect("serializes");
    assert!(
        json["details"].get("group").is_none(),
        "the core group is omitted: {json}"
    );

    // Several errors: sorted by path, bracketed in the message, bulleted by kubectl.
    let o = create(&with(
        json!({"egress": null, "egres": "true", "envoy_log_level": "loud"}),
    ));
    let st = o.status("osm-config").expect("denied");
    assert_eq!(
        st.kubectl_message(),
        format!(
            "The ConfigMap \"osm-config\" is invalid: \n\
             * data.egres: Forbidden: unknown key; did you mean \"egress\"?\n\
             * data.egress: Required value\n\
             * data.envoy_log_level: Unsupported value: \"loud\": {LOG_LEVELS}\n"
        )
    );
    let reasons: Vec<&str> = st
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .map(|c| c.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        ["FieldValueForbidden", "FieldValueRequired", "FieldValueNotSupported"]
    );
}

#[test]
fn unknown_keys_only_warn_in_warn_mode() {
    let cm = with(json!({"egres": "true", "custom_annotation": "x"}));
    let o = checked(validate::configmap(&cm, None, UnknownKeys::Warn));
    assert!(o.allowed(), "{o:?}");
    assert_eq!(
        o.warnings,
        [
            "data.custom_annotation: unknown key",
            r#"data.egres: unknown key; did you mean "egress"?"#
        ]
    );
    // Warn mode does not excuse other errors, nor a non-string value under an unknown key.
    let cm = with(json!({"egres": true, "egress": "yes"}));
    let o = checked(validate::configmap(&cm, None, UnknownKeys::Warn));
    assert_eq!(
        errors(&o),
        [
            r#"data.egres: Invalid value: "boolean": data.egres in body must be of type string: "boolean""#.to_owned(),
            format!(r#"data.egress: Invalid value: "yes": {BOOL}"#),
        ]
    );
    assert_eq!(o.warnings, [r#"data.egres: unknown key; did you mean "egress"?"#]);
}

#[test]
fn missing_default_keys_are_denied_on_create_and_update() {
    let nine = [
        "data.egress: Required value",
        "data.enable_debug_server: Required value",
        "data.enable_privileged_init_container: Required value",
        "data.envoy_log_level: Required value",
        "data.permissive_traffic_policy_mode: Required value",
        "data.prometheus_scraping: Required value",
        "data.service_cert_validity_duration: Required value",
        "data.tracing_enable: Required value",
        "data.use_https_ingress: Required value",
    ];
    let mut no_data = defaults();
    if let Some(m) = no_data.as_object_mut() {
        m.remove("data");
    }
    assert_eq!(errors(&create(&no_data)), nine);
    let mut null_data = defaults();
    null_data["data"] = Value::Null;
    assert_eq!(errors(&create(&null_data)), nine);
    let mut empty = defaults();
    empty["data"] = json!({});
    assert_eq!(errors(&create(&empty)), nine);
    assert_eq!(errors(&update(&empty, &defaults())), nine);

    // UPDATE removing a key, or changing data while a key stays missing: denied.
    let without_egress = with(json!({"egress": null}));
    assert_eq!(
        errors(&update(&without_egress, &defaults())),
        ["data.egress: Required value"]
    );
    let changed = with(json!({"egress": null, "enable_debug_server": "true"}));
    assert_eq!(
        errors(&update(&changed, &without_egress)),
        ["data.egress: Required value"]
    );

    // UPDATE that leaves data as it was (a label change): the old gap only warns.
    let mut relabelled = without_egress.clone();
    relabelled["metadata"]["labels"] = json!({"team": "mesh"});
    let o = update(&relabelled, &without_egress);
    assert!(o.allowed(), "{o:?}");
    assert_eq!(
        o.warnings,
        ["unchanged invalid value kept: data.egress: Required value"]
    );
}

#[test]
fn updates_ratchet_unchanged_values() {
    let old = with(json!({"egress": "yes", "tracing_port": "x", "egres": "1"}));
    // Another key changes; the stored invalid values and the stored unknown key only warn.
    let new = with(json!({"egress": "yes", "tracing_port": "x", "egres": "0", "enable_debug_server": "true"}));
    let o = update(&new, &old);
    assert!(o.allowed(), "{o:?}");
    assert_eq!(
        o.warnings,
        [
            r#"unchanged invalid value kept: data.egres: Forbidden: unknown key; did you mean "egress"?"#,
            &format!(r#"unchanged invalid value kept: data.egress: Invalid value: "yes": {BOOL}"#),
            r#"unchanged invalid value kept: data.tracing_port: Invalid value: "x": strconv.Atoi: parsing "x": invalid syntax"#,
        ]
    );
    // Changing an invalid value to another invalid one is denied; fixing it is allowed.
    let o = update(&with(json!({"egress": "no", "tracing_port": "x", "egres": "1"})), &old);
    assert_eq!(errors(&o), [format!(r#"data.egress: Invalid value: "no": {BOOL}"#)]);
    let o = update(
        &with(json!({"egress": "false", "tracing_port": "9411", "egres": null})),
        &old,
    );
    assert!(o.allowed() && o.warnings.is_empty(), "{o:?}");
    // A new invalid value on CREATE of the same object is denied.
    assert_eq!(errors(&create(&old)).len(), 3);

    // The cross-key rule ratchets only when enable and the missing key are both unchanged.
    let enabled = with(json!({"inbound_extauthz_enable": "true", "inbound_extauthz_port": "9191"}));
    let o = update(
        &with(json!({"inbound_extauthz_enable": "true", "inbound_extauthz_port": "9191", "egress": "true"})),
        &enabled,
    );
    assert!(o.allowed(), "{o:?}");
    assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
    let o = update(&enabled, &defaults());
    assert_eq!(
        errors(&o),
        ["data.inbound_extauthz_address: Required value: required when inbound_extauthz_enable is true"]
    );
}

#[test]
fn malformed_objects_get_type_errors() {
    let o = create(&json!(["not", "an", "object"]));
    assert_eq!(
        errors(&o),
        [r#"body: Invalid value: "array": body in body must be of type object: "array""#]
    );
    let mut cm = defaults();
    cm["data"] = json!("egress=true");
    let o = create(&cm);
    assert_eq!(
        errors(&o),
        [r#"data: Invalid value: "string": data in body must be of type object: "string""#]
    );
}

#[test]
fn other_names_warn_that_osm_ignores_them() {
    let mut cm = defaults();
    cm["metadata"]["name"] = json!("osm-config-backup");
    let o = create(&cm);
    assert!(o.allowed());
    assert_eq!(
        o.warnings,
        [r#"metadata.name: OSM v0.8 reads only the ConfigMap named "osm-config"; "osm-config-backup" has no effect"#]
    );
}

#[test]
fn every_key_set_to_a_tuned_valid_value_is_allowed() {
    let text = std::fs::read_to_string(fixture_path("osm-config-tuned.yaml")).expect("fixture");
    let cm: Value = serde_saphyr::from_str(&text).expect("yaml");
    let data = cm["data"].as_object().expect("data");
    for d in KEYS {
        assert!(data.contains_key(d.key), "the tuned fixture lacks {}", d.key);
    }
    let o = create(&cm);
    assert!(o.allowed() && o.warnings.is_empty(), "{o:?}");
}

// ---- the `validate` command

fn cli(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshconfig-webhook"));
    cmd.arg("validate")
        .args(args)
        .env_remove("MESHCONFIG_UNKNOWN_CONFIGMAP_KEYS")
        .env_remove("MESHCONFIG_OSM_RELEASE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_validate_command_checks_osm_config_and_skips_other_configmaps() {
    let valid = fixture_path("osm-config-v0.8.4.json");
    let (code, stdout, _) = cli(&[valid.to_str().unwrap_or_default()], &[]);
    assert_eq!(code, 0);
    assert_eq!(stdout, format!("configmap/osm-config valid ({})\n", valid.display()));

    let invalid = fixture_path("osm-config-invalid.yaml");
    let file = invalid.to_str().unwrap_or_default();
    let (code, stdout, stderr) = cli(&[file], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stdout,
        "The ConfigMap \"osm-config\" is invalid: \n\
         * data.egres: Forbidden: unknown key; did you mean \"egress\"?\n\
         * data.egress: Invalid value: \"yes\": must be a boolean (true or false)\n\
         * data.service_cert_validity_duration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\"\n"
    );
    assert!(
        stderr.contains(&format!(
            "note: {file}: document 2: skipped ConfigMap \"some-other-config\": not the osm-config ConfigMap"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("document 3: skipped Secret"), "{stderr}");

    // Warn mode, by flag and by environment: the typo becomes a warning; the other errors stay.
    for (args, env) in [
        (vec!["--unknown-configmap-keys", "warn", file], vec![]),
        (vec![file], vec![("MESHCONFIG_UNKNOWN_CONFIGMAP_KEYS", "warn")]),
    ] {
        let (code, stdout, stderr) = cli(&args, &env);
        assert_eq!(code, 1);
        assert!(
            stderr.contains("Warning: data.egres: unknown key; did you mean \"egress\"?\n"),
            "{stderr}"
        );
        assert!(!stdout.contains("egres:"), "{stdout}");
    }
    let (code, _, stderr) = cli(&["--unknown-configmap-keys", "ignore", file], &[]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn the_validate_command_ratchets_configmap_patches() {
    let base = fixture_path("osm-config-v0.8.4.json");
    let base = base.to_str().unwrap_or_default();
    let (code, stdout, _) = cli(&["--base", base, "--patch", r#"{"data":{"egress":"True"}}"#], &[]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("configmap/osm-config valid"), "{stdout}");
    let (code, stdout, _) = cli(
        &["--base", base, "--patch", r#"{"data":{"egress":null}}"#, "-o", "json"],
        &[],
    );
    assert_eq!(code, 1);
    let all: Value = serde_json::from_str(&stdout).expect("json");
    // One entry per document, always an array.
    let out = &all[0];
    assert_eq!(
        out["status"]["message"],
        r#"ConfigMap "osm-config" is invalid: data.egress: Required value"#
    );
    assert_eq!(out["allowed"], false);
}

#[test]
fn rejects_an_unquoted_off_in_osm_config_with_the_quoted_spelling_as_a_hint() {
    // YAML 1.1 (kubectl) reads the unquoted words as booleans; ConfigMap data are strings.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("osm-config.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: osm-config\n  namespace: arc-osm-system\ndata:\n  envoy_log_level: off\n  egress: yes\n  tracing_address: on\n",
    )
    .expect("write");
    let (code, stdout, stderr) = cli(
        &["--unknown-configmap-keys", "warn", file.to_str().unwrap_or_default()],
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(r#"* data.envoy_log_level: Invalid value: "boolean": data.envoy_log_level in body must be of type string: "boolean""#),
        "{stdout}"
    );
    for hint in [
        // v0.8 passes the level to Envoy verbatim: quoted, "off" is right.
        r#"hint: data.envoy_log_level: YAML 1.1 (as kubectl reads it) makes the unquoted value the boolean false, and ConfigMap data are strings; quote it: envoy_log_level: "off""#,
        r#"hint: data.egress: YAML 1.1 (as kubectl reads it) makes the unquoted value the boolean true, and ConfigMap data are strings; quote it: egress: "true""#,
        "hint: data.tracing_address: YAML 1.1 (as kubectl reads it) makes unquoted on/off/yes/no booleans; quote the value if a string is meant",
    ] {
        assert!(stderr.lines().any(|l| l == hint), "no {hint:?} in\n{stderr}");
    }
}
