//! The full request path without sockets: AdmissionReview bytes → decision → AdmissionReview
//! bytes (`admission::review`: JSON parse, review decode, validation, encoding), for an allowed
//! and a denied UPDATE of OSM v1.2.4's preset, of the preset as the real apiserver sends it (with
//! managedFields), and of objects 10× and 100× larger.
//!
//! Run: `cargo bench --bench request_path`. Target: ≤ 20 µs median for the preset.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshconfig_webhook::admission::{self, Policy, Reply};
use meshconfig_webhook::schema::Release;
use meshconfig_webhook::validate::UnknownKeys;
#[path = "support/objects.rs"]
mod objects;

use objects::grown;
use serde_json::{Value, json};

/// An UPDATE review as kube-apiserver sends it (object and oldObject), as bytes.
fn review(object: &Value, old: &Value) -> Vec<u8> {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "b8f0c7e4-3a1d-4c55-9a0e-0c2f1d7e6a03",
            "kind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
            "resource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
            "requestKind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
            "requestResource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
            "name": "osm-mesh-config",
            "namespace": "arc-osm-system",
            "operation": "UPDATE",
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": old,
            "dryRun": false,
            "options": {"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"},
        }
    })
    .to_string()
    .into_bytes()
}

/// The allowed and the denied review of one object size: the allowed one changes a value, the
/// denied one sets an unparsable duration.
fn reviews(factor: usize) -> (Vec<u8>, Vec<u8>) {
    let old = grown(factor);
    let mut allowed = old.clone();
    allowed["spec"]["observability"]["osmLogLevel"] = json!("debug");
    let mut denied = old.clone();
    denied["spec"]["certificate"]["serviceCertValidityDuration"] = json!("24x");
    (review(&allowed, &old), review(&denied, &old))
}

/// The UPDATE kube-apiserver v1.37 sent for a `kubectl patch` (recorded by
/// tests/apiserver_e2e.rs: managedFields, options, userInfo.extra), allowed and with a bad duration.
fn recorded() -> (Vec<u8>, Vec<u8>) {
    let text = include_str!("../tests/fixtures/reviews/apiserver-update.json");
    let allowed: Value = serde_json::from_str(text).expect("recorded review");
    let mut denied = allowed.clone();
    denied["request"]["object"]["spec"]["certificate"]["serviceCertValidityDuration"] = json!("24x");
    (allowed.to_string().into_bytes(), denied.to_string().into_bytes())
}

fn bench(c: &mut Criterion) {
    let policy = Policy {
        release: Release::V1_2,
        mesh_namespace: "arc-osm-system".into(),
        protect_delete: false,
        unknown_configmap_keys: UnknownKeys::Deny,
    };
    let mut g = c.benchmark_group("request_path");
    let cases = [
        ("preset", reviews(1)),
        ("apiserver", recorded()),
        ("10x", reviews(10)),
        ("100x", reviews(100)),
    ];
    for (label, (allowed, denied)) in cases {
        for (verdict, body) in [("allowed", allowed), ("denied", denied)] {
            // The bench measures what it claims: check the verdict once, outside the loop.
            match admission::review(&policy, &body) {
                Reply::Review { decision, .. } => {
                    assert_eq!(
                        decision.allowed(),
                        verdict == "allowed",
                        "{label} {verdict}: {decision:?}"
                    )
                }
                Reply::BadRequest(e) => panic!("{label} {verdict}: {e}"),
            }
            g.throughput(Throughput::Bytes(body.len() as u64));
            g.bench_with_input(
                BenchmarkId::new(verdict, format!("{label} ({} B)", body.len())),
                &body,
                |b, body| b.iter(|| admission::review(&policy, black_box(body))),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
