//! OSM v0.8's `osm-config` ConfigMap through the real server over TLS: validated in the mesh
//! namespace with the MeshConfig wording, other ConfigMaps untouched, unknown keys per flag.

mod support;

use serde_json::{Value, json};
use support::{UID, Webhook, merged, read_json};

const V1: &str = "admission.k8s.io/v1";

fn osm_config() -> Value {
    read_json("configmap/osm-config-v0.8.4.json")
}

/// A review of a core/v1 ConfigMap (the support helper builds MeshConfig reviews).
fn configmap_review(operation: &str, object: &Value, old: Option<&Value>) -> Value {
    let mut r = support::review(V1, operation, Some(object), old);
    let gvk = json!({"group": "", "version": "v1", "kind": "ConfigMap"});
    let gvr = json!({"group": "", "version": "v1", "resource": "configmaps"});
    r["request"]["kind"] = gvk.clone();
    r["request"]["requestKind"] = gvk;
    r["request"]["resource"] = gvr.clone();
    r["request"]["requestResource"] = gvr;
    r
}

#[tokio::test]
async fn accepts_osm_v0_8_4_default_data() {
    let wh = Webhook::start(&[]);
    let (status, body) = wh.review(&configmap_review("CREATE", &osm_config(), None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["uid"], UID);
    assert_eq!(body["response"]["allowed"], true, "{body}");
}

#[tokio::test]
async fn rejects_bad_values_with_the_invalid_status() {
    let wh = Webhook::start(&[]);
    let old = osm_config();
    let new = merged(&old, json!({"data": {"egress": "yes"}}));
    let (_, body) = wh.review(&configmap_review("UPDATE", &new, Some(&old))).await;
    let r = &body["response"];
    assert_eq!(r["allowed"], false, "{body}");
    assert_eq!(r["status"]["code"], 422);
    assert_eq!(r["status"]["reason"], "Invalid");
    assert_eq!(
        r["status"]["message"],
        "ConfigMap \"osm-config\" is invalid: data.egress: Invalid value: \"yes\": must be a boolean (true or false)"
    );
    assert_eq!(r["status"]["details"]["kind"], "ConfigMap");
    assert_eq!(r["status"]["details"]["causes"][0]["field"], "data.egress");
}

#[tokio::test]
async fn rejects_unknown_keys_unless_told_to_warn() {
    let typo = merged(&osm_config(), json!({"data": {"egres": "true"}}));
    let wh = Webhook::start(&[]);
    let (_, body) = wh.review(&configmap_review("CREATE", &typo, None)).await;
    assert_eq!(body["response"]["allowed"], false, "{body}");
    assert_eq!(
        body["response"]["status"]["details"]["causes"][0]["message"],
        "Forbidden: unknown key; did you mean \"egress\"?"
    );

    let wh = Webhook::start(&["--unknown-configmap-keys", "warn"]);
    let (_, body) = wh.review(&configmap_review("CREATE", &typo, None)).await;
    assert_eq!(body["response"]["allowed"], true, "{body}");
    let warnings = body["response"]["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        warnings.iter().any(|w| w.as_str().is_some_and(|w| w.contains("egres"))),
        "{body}"
    );
}

#[tokio::test]
async fn accepts_other_configmaps_and_other_namespaces_untouched() {
    let wh = Webhook::start(&[]);
    let mut other = merged(&osm_config(), json!({"data": {"egress": "yes"}}));
    other["metadata"]["name"] = json!("my-app-config");
    let (_, body) = wh.review(&configmap_review("CREATE", &other, None)).await;
    assert_eq!(body["response"]["allowed"], true, "{body}");
    assert!(body["response"].get("warnings").is_none(), "{body}");

    let mut elsewhere = merged(&osm_config(), json!({"data": {"egress": "yes"}}));
    elsewhere["metadata"]["namespace"] = json!("default");
    let (_, body) = wh.review(&configmap_review("CREATE", &elsewhere, None)).await;
    assert_eq!(body["response"]["allowed"], true, "{body}");
}

#[tokio::test]
async fn ratchets_configmap_updates_against_the_stored_object() {
    let wh = Webhook::start(&[]);
    let old = merged(&osm_config(), json!({"data": {"tracing_port": "x"}}));
    let new = merged(&old, json!({"data": {"egress": "true"}}));
    let (_, body) = wh.review(&configmap_review("UPDATE", &new, Some(&old))).await;
    assert_eq!(body["response"]["allowed"], true, "{body}");
    let warnings = body["response"]["warnings"].to_string();
    assert!(warnings.contains("data.tracing_port"), "{body}");
}
