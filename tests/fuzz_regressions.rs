//! Inputs that once went wrong, kept as regression tests (from the malformed-input corpus and the
//! cargo-fuzz targets under `fuzz/`), and property tests over arbitrary JSON and MeshConfig-shaped
//! values: validation never panics, is deterministic, and ratcheting never denies an UPDATE that
//! changes nothing.
//!
//! A new fuzz finding goes into `FINDINGS` (its bytes, as the target saw them) with a note.

use std::time::{Duration, Instant};

use meshconfig_webhook::admission::{self, Policy, Reply};
use meshconfig_webhook::field::bounds::{APISERVER_WARNING_ITEM_RUNES, MAX_CAUSES, MAX_WARNINGS, webhook_warnings};
use meshconfig_webhook::schema::{JsonType, Node, Release, Schema, SchemaId};
use meshconfig_webhook::validate::{self, Outcome, UnknownKeys};
use proptest::prelude::*;
use serde_json::{Value, json};

fn policy() -> Policy {
    Policy {
        release: Release::LATEST,
        mesh_namespace: "arc-osm-system".into(),
        protect_delete: true,
        unknown_configmap_keys: UnknownKeys::Deny,
    }
}

fn preset() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/objects/meshconfig-v1.2.4.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

fn osm_config() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/configmap/osm-config-v0.8.4.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

fn latest() -> &'static Schema {
    Schema::get(Release::V1_2, meshconfig_webhook::schema::ApiVersion::V1alpha2).expect("schema")
}

/// Runs `f` and fails when it takes longer than `limit` (generous: debug build, shared CPU).
fn within<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < limit, "{what} took {took:?} (limit {limit:?})");
    out
}

/// A request that once went wrong, and the answer it must get now.
struct Finding {
    note: &'static str,
    review: fn() -> Value,
    allowed: bool,
    /// Text the answer's status message must contain.
    message: &'static str,
}

/// Inputs that once went wrong: found by the malformed-input corpus (tests/server_malformed.rs)
/// and a hardening audit; the 10-minute runs of every fuzz target found no crash
/// (docs/fuzzing.md). A new fuzz finding goes here as the review it was, with the answer it must get.
const FINDINGS: &[Finding] = &[
    Finding {
        note: "20 000 ports out of range: quadratic duplicate check and aggregation (13 s)",
        review: || meshconfig_review(json!({"traffic": {"outboundPortExclusionList": vec![0; 20_000]}})),
        allowed: false,
        message: "spec.traffic.outboundPortExclusionList[0]: Invalid value: 0: spec.traffic.outboundPortExclusionList[0] in body should be greater than or equal to 1",
    },
    Finding {
        note: "8 000 bad entries in osm-config's exclusion list: quadratic (239 s, 680 MB)",
        review: || configmap_review(&vec!["x"; 8_000].join(",")),
        allowed: false,
        message: "entry 1 \"x\": must be a valid CIDR value",
    },
    Finding {
        note: "1.5 M invalid ports in 3 MB: a 555 MB answer, 2.45 GB peak memory, 63.5 s",
        review: || meshconfig_review(json!({"traffic": {"outboundPortExclusionList": vec![0; 1_500_000]}})),
        allowed: false,
        message: "… and 1499900 more errors]",
    },
    Finding {
        note: "a 2 MB unknown osm-config key: the closest-key suggestion compared it byte by byte with every known key, and its path was echoed whole",
        review: || {
            let mut r = configmap_review("10.0.0.0/8");
            r["request"]["object"]["data"]["k".repeat(2_000_000)] = json!("v");
            r
        },
        allowed: false,
        message: "data.kkkk",
    },
];

fn meshconfig_review(spec: Value) -> Value {
    let mut object = preset();
    for (section, fields) in spec.as_object().into_iter().flatten() {
        for (k, v) in fields.as_object().into_iter().flatten() {
            object["spec"][section][k] = v.clone();
        }
    }
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "finding",
            "kind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
            "resource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
            "name": "osm-mesh-config",
            "namespace": "arc-osm-system",
            "operation": "CREATE",
            "userInfo": {"username": "fuzz"},
            "object": object,
        }
    })
}

fn configmap_review(list: &str) -> Value {
    let mut cm = osm_config();
    cm["data"]["outbound_ip_range_exclusion_list"] = json!(list);
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "finding",
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "name": "osm-config",
            "namespace": "arc-osm-system",
            "operation": "CREATE",
            "userInfo": {"username": "fuzz"},
            "object": cm,
        }
    })
}

#[test]
fn replays_fuzz_findings() {
    for f in FINDINGS {
        let body = (f.review)().to_string().into_bytes();
        let reply = within(Duration::from_secs(10), f.note, || admission::review(&policy(), &body));
        let Reply::Review { body: out, decision } = reply else {
            panic!("{}: answered 400", f.note);
        };
        assert_eq!(decision.allowed(), f.allowed, "{}: {}", f.note, decision.message);
        assert!(
            decision.message.contains(f.message),
            "{}: {:?} not in {:?}",
            f.note,
            f.message,
            decision.message.chars().take(400).collect::<String>()
        );
        // Bounded: at most MAX_CAUSES causes and the count, whatever the input.
        assert!(out.len() < 200_000, "{}: a {}-byte answer", f.note, out.len());
        assert!(decision.denied_fields.len() <= MAX_CAUSES, "{}", f.note);
        eprintln!("replayed: {} ({} bytes in, {} out)", f.note, body.len(), out.len());
    }
}

// Found by the malformed-input corpus (tests/server_malformed.rs): duplicate checks and the
// error aggregation compared every item with every other, so long lists took quadratic time
// (20 000 ports: 13 s; an 8 000-entry osm-config exclusion list: 239 s and 680 MB).

#[test]
fn validates_long_port_lists_in_linear_time() {
    let mut o = preset();
    o["spec"]["traffic"]["outboundPortExclusionList"] = json!((1..=40_000).collect::<Vec<u32>>());
    let out = within(Duration::from_secs(3), "40 000 distinct ports", || {
        validate::meshconfig(latest(), &o, None)
    });
    // One error for the whole list: more ports than one iptables multiport rule takes.
    let messages: Vec<String> = out.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("spec.traffic.outboundPortExclusionList: Too many: 40000: "),
        "{messages:?}"
    );
    o["spec"]["traffic"]["outboundPortExclusionList"] = json!(vec![0; 20_000]);
    let out = within(Duration::from_secs(5), "20 000 invalid ports", || {
        let out = validate::meshconfig(latest(), &o, None);
        let status = out.status("osm-mesh-config").expect("denied");
        (out, status)
    });
    // The first errors by path, then one cause counting the rest.
    assert_eq!(
        (out.0.errors.len(), out.0.more_errors),
        (MAX_CAUSES, 20_000 - MAX_CAUSES)
    );
    let causes = out.1.details.as_ref().map(|d| d.causes.clone()).unwrap_or_default();
    assert_eq!(causes.len(), MAX_CAUSES + 1);
    assert_eq!(causes[MAX_CAUSES].message, "… and 19900 more errors");
    assert_eq!(causes[MAX_CAUSES].reason, "FieldValueTooMany");
    assert!(
        out.1.message.ends_with(", … and 19900 more errors]"),
        "{}",
        out.1.message
    );
}

#[test]
fn validates_long_cidr_and_name_lists_in_linear_time() {
    let mut o = preset();
    let cidrs: Vec<String> = (0..40_000)
        .map(|i| format!("10.{}.{}.0/24", i / 256 % 256, i % 256))
        .collect();
    o["spec"]["traffic"]["outboundIPRangeExclusionList"] = json!(cidrs);
    o["spec"]["traffic"]["networkInterfaceExclusionList"] =
        json!((0..40_000).map(|i| format!("eth{i}")).collect::<Vec<_>>());
    let out = within(Duration::from_secs(5), "40 000 CIDRs and interface names", || {
        validate::meshconfig(latest(), &o, None)
    });
    // 10.x.y.0/24 for 40 000 values of (x, y) repeats after 65 536: no duplicates here.
    assert!(
        out.warnings.iter().all(|w| !w.contains("duplicate")),
        "{:?}",
        out.warnings.first()
    );
}

#[test]
fn reports_a_bounded_number_of_errors_for_a_long_osm_config_list() {
    let mut cm = osm_config();
    let value = vec!["x"; 200_000].join(",");
    cm["data"]["outbound_ip_range_exclusion_list"] = json!(value);
    let out = within(Duration::from_secs(5), "200 000 bad entries", || {
        validate::configmap(&cm, None, UnknownKeys::Deny)
    });
    // Each error repeats the whole value; ten say enough.
    assert_eq!(out.errors.len(), 10);
    assert!(
        out.errors[9].to_string().contains("entry 10 \"x\""),
        "{}",
        out.errors[9]
    );
    let good = vec!["10.0.0.0/8"; 100_000].join(",");
    cm["data"]["outbound_ip_range_exclusion_list"] = json!(good);
    let out = within(Duration::from_secs(5), "100 000 duplicate entries", || {
        validate::configmap(&cm, None, UnknownKeys::Deny)
    });
    assert!(out.allowed());
    assert_eq!(
        (out.warnings.len(), out.more_warnings),
        (MAX_WARNINGS, 99_999 - MAX_WARNINGS)
    );
}

#[test]
fn answers_a_review_of_a_ten_thousand_deep_object_with_a_400() {
    let deep = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let body = format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","object":{deep}}}}}"#
    );
    match admission::review(&policy(), body.as_bytes()) {
        Reply::BadRequest(text) => assert!(
            text.starts_with("the request body is not JSON: recursion limit exceeded"),
            "{text}"
        ),
        Reply::Review { .. } => panic!("decoded a 10 000-deep object"),
    }
}

// --- Properties.

/// Any JSON value, up to a few levels deep, with keys drawn partly from the MeshConfig's own.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("spec".to_owned()),
        Just("metadata".to_owned()),
        Just("data".to_owned()),
        Just("traffic".to_owned()),
        Just("sidecar".to_owned()),
        Just("certificate".to_owned()),
        Just("observability".to_owned()),
        Just("egress".to_owned()),
        Just("outboundPortExclusionList".to_owned()),
        "[a-zA-Z_]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("24h"),
            Just("-5m"),
            Just("10.0.0.0/8"),
            Just("100m"),
            Just("1Gi"),
            Just("debug"),
            Just("TLSv1_2"),
            Just("true"),
            Just("0")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path under `spec` of a schema node, with its node.
fn paths(prefix: &str, node: &'static Node, out: &mut Vec<(String, &'static Node)>) {
    for (key, child) in &node.props {
        let p = format!("{prefix}/{key}");
        out.push((p.clone(), child));
        paths(&p, child, out);
    }
}

/// The v1.2.4 preset with a few schema paths set to arbitrary values (creating parents).
fn shaped_meshconfig() -> impl Strategy<Value = Value> {
    let mut all = Vec::new();
    paths("/spec", &latest().spec, &mut all);
    let all: &'static [(String, &'static Node)] = Vec::leak(all);
    prop::collection::vec((0..all.len(), any_json(), any::<bool>()), 1..6).prop_map(move |edits| {
        let mut o = preset();
        for (i, value, typed) in edits {
            let (path, node) = &all[i];
            // Half the time a value of the schema's own type, to get past the type checks.
            let value = if typed { typed_like(node, value) } else { value };
            set(&mut o, path, value);
        }
        o
    })
}

fn typed_like(node: &Node, v: Value) -> Value {
    match (node.ty, v) {
        (JsonType::Integer, Value::Number(n)) => json!(n.as_i64().unwrap_or(0) % 70_000),
        (JsonType::Integer, _) => json!(443),
        (JsonType::Boolean, v) => json!(v.as_bool().unwrap_or(true)),
        (JsonType::String, Value::String(s)) => json!(s),
        (JsonType::String, _) => json!(node.enum_values.first().copied().unwrap_or("1h")),
        (JsonType::Array, Value::Array(a)) => Value::Array(a),
        (JsonType::Array, v) => json!([v]),
        (JsonType::Object | JsonType::Map, Value::Object(m)) => Value::Object(m),
        (JsonType::Object | JsonType::Map, _) => json!({}),
    }
}

fn set(o: &mut Value, pointer: &str, value: Value) {
    let mut at = o;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for p in &parts[..parts.len() - 1] {
        if !at.get(*p).is_some_and(Value::is_object) {
            at[*p] = json!({});
        }
        at = &mut at[*p];
    }
    at[parts[parts.len() - 1]] = value;
}

fn check_outcome(a: &Outcome, b: &Outcome) -> Result<(), TestCaseError> {
    prop_assert_eq!(a, b, "not deterministic");
    prop_assert!(a.errors.len() <= MAX_CAUSES && a.warnings.len() <= MAX_WARNINGS);
    for w in webhook_warnings(&a.warnings, a.more_warnings) {
        prop_assert!(
            w.chars().count() <= APISERVER_WARNING_ITEM_RUNES,
            "warning too long: {}",
            w
        );
    }
    if let Some(status) = a.status("osm-mesh-config") {
        prop_assert!(!status.message.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn validation_of_any_json_never_panics_and_is_deterministic(v in any_json()) {
        for id in SchemaId::ALL {
            let Some(schema) = Schema::get(id.release, id.version) else { continue };
            check_outcome(&validate::meshconfig(schema, &v, None), &validate::meshconfig(schema, &v, None))?;
            let unchanged = validate::meshconfig(schema, &v, Some(&v));
            check_outcome(&unchanged, &validate::meshconfig(schema, &v, Some(&v)))?;
            if v.is_object() {
                prop_assert!(unchanged.allowed(), "an UPDATE changing nothing was denied: {:?}", unchanged.errors);
            }
        }
        for keys in [UnknownKeys::Deny, UnknownKeys::Warn] {
            check_outcome(&validate::configmap(&v, None, keys), &validate::configmap(&v, None, keys))?;
            let unchanged = validate::configmap(&v, Some(&v), keys);
            if v.is_object() {
                prop_assert!(unchanged.allowed(), "a ConfigMap UPDATE changing nothing was denied: {:?}", unchanged.errors);
            }
        }
    }

    #[test]
    fn validation_of_meshconfig_shaped_values_never_panics_and_is_deterministic(
        new in shaped_meshconfig(),
        old in shaped_meshconfig(),
    ) {
        let schema = latest();
        for stored in [None, Some(&old), Some(&new)] {
            check_outcome(&validate::meshconfig(schema, &new, stored), &validate::meshconfig(schema, &new, stored))?;
        }
        prop_assert!(validate::meshconfig(schema, &new, Some(&new)).allowed());
    }

    #[test]
    fn reviews_of_any_bytes_are_answered_deterministically(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let answer = |b: &[u8]| match admission::review(&policy(), b) {
            Reply::BadRequest(t) => t.into_bytes(),
            Reply::Review { body, .. } => body,
        };
        prop_assert_eq!(answer(&bytes), answer(&bytes));
    }

    #[test]
    fn reviews_of_shaped_objects_echo_the_uid_and_explain_denials(object in shaped_meshconfig(), op in 0..3usize) {
        let operation = ["CREATE", "UPDATE", "DELETE"][op];
        let body = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u-1",
                "kind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
                "resource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
                "operation": operation,
                "name": "osm-mesh-config",
                "namespace": "arc-osm-system",
                "userInfo": {},
                "object": if operation == "DELETE" { Value::Null } else { object.clone() },
                "oldObject": if operation == "CREATE" { Value::Null } else { preset() },
            }
        });
        match admission::review(&policy(), body.to_string().as_bytes()) {
            Reply::BadRequest(t) => prop_assert!(false, "400 for a well-formed review: {}", t),
            Reply::Review { body, decision } => {
                let out: Value = serde_json::from_slice(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&out["response"]["uid"], "u-1");
                if !decision.allowed() {
                    prop_assert!(!decision.message.is_empty());
                }
            }
        }
    }
}
