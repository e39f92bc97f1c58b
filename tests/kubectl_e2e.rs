//! End to end with the real kubectl: kubectl → apiserver stand-in (tests/support/apiserver.rs) →
//! AdmissionReview over HTTPS (verifying the development CA) → the real webhook process, and
//! back. Asserts what kubectl prints and its exit code.
//!
//! kubectl is the project's pinned copy in `./bin`; without it these tests fail (`make tools`
//! installs it).

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::apiserver::ApiServer;
use support::{MESH_NAMESPACE, Webhook};

/// The project's pinned kubectl (`./bin`), or a failure saying how to get it.
fn kubectl() -> PathBuf {
    support::tools::tool("kubectl")
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs kubectl against the stand-in with a throw-away kubeconfig and cache.
async fn run_kubectl(api: &ApiServer, args: &[&str]) -> Run {
    let kubectl = kubectl();
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(&kubeconfig, api.kubeconfig(MESH_NAMESPACE)).expect("write kubeconfig");
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        let out = Command::new(&kubectl)
            .args(&args)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", home.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .output()
            .expect("run kubectl");
        drop(home);
        out
    })
    .await
    .expect("kubectl task");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn patch(api: &ApiServer, patch: &str) -> Run {
    run_kubectl(
        api,
        &[
            "patch",
            "meshconfig",
            "osm-mesh-config",
            "-n",
            MESH_NAMESPACE,
            "-p",
            patch,
            "--type=merge",
        ],
    )
    .await
}

/// The stand-in serving `stored` at the versions given, calling `wh`.
async fn apiserver(wh: &Webhook, versions: &[&str], stored: Value) -> ApiServer {
    ApiServer::start(versions, vec![stored], wh.url("/validate"), &wh.ca_pem).await
}

fn context(api: &ApiServer, run: &Run) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}\nrequests: {:#?}",
        run.code,
        run.stdout,
        run.stderr,
        api.requests()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_the_seed_patch_on_osm_0_9_as_kubectl_shows_it() {
    let wh = Webhook::start(&["--osm-release", "0.9"]);
    let stored = support::meshconfig_v0_9();
    let api = apiserver(&wh, &["v1alpha1"], stored.clone()).await;

    let run = patch(&api, r#"{"spec":{"traffic":{"enableEgress":"no"}}}"#).await;
    let ctx = context(&api, &run);
    assert_eq!(
        run.stderr,
        "The MeshConfig \"osm-mesh-config\" is invalid: spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"\n",
        "{ctx}"
    );
    assert_eq!(run.stdout, "", "{ctx}");
    assert_eq!(run.code, Some(1), "{ctx}");

    // The webhook saw an UPDATE of the v1alpha1 object, with the stored object as oldObject.
    let reviews = api.reviews();
    assert_eq!(reviews.len(), 1, "{ctx}");
    let request = &reviews[0]["request"];
    assert_eq!(request["operation"], "UPDATE");
    assert_eq!(request["kind"]["version"], "v1alpha1");
    assert_eq!(request["object"]["spec"]["traffic"]["enableEgress"], "no");
    assert_eq!(request["oldObject"]["spec"], stored["spec"]);
    // What kubectl asked for after discovery: the object, then the merge patch.
    let object = "/apis/config.openservicemesh.io/v1alpha1/namespaces/arc-osm-system/meshconfigs/osm-mesh-config";
    assert!(
        api.requests().ends_with(&[
            format!("GET {object}"),
            format!("PATCH {object}?fieldManager=kubectl-patch")
        ]),
        "{ctx}"
    );
    // Nothing was stored.
    assert_eq!(
        api.object(MESH_NAMESPACE, "osm-mesh-config").map(|o| o["spec"].clone()),
        Some(stored["spec"].clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_a_patch_with_two_semantic_errors_as_a_bullet_list() {
    let wh = Webhook::start(&[]);
    let api = apiserver(&wh, &["v1alpha2", "v1alpha1"], support::meshconfig_v1_2()).await;

    let run = patch(
        &api,
        r#"{"spec":{"certificate":{"serviceCertValidityDuration":"24x"},"traffic":{"outboundIPRangeExclusionList":["10.0.0.0/33"]}}}"#,
    )
    .await;
    let ctx = context(&api, &run);
    assert_eq!(
        run.stderr,
        concat!(
            "The MeshConfig \"osm-mesh-config\" is invalid: \n",
            "* spec.certificate.serviceCertValidityDuration: Invalid value: \"24x\": time: unknown unit \"x\" in duration \"24x\"\n",
            "* spec.traffic.outboundIPRangeExclusionList[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n",
        ),
        "{ctx}"
    );
    assert_eq!(run.code, Some(1), "{ctx}");
    assert_eq!(api.reviews()[0]["request"]["kind"]["version"], "v1alpha2", "{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_a_patch_and_kubectl_shows_the_webhooks_warning() {
    let wh = Webhook::start(&[]);
    let api = apiserver(&wh, &["v1alpha2", "v1alpha1"], support::meshconfig_v1_2()).await;

    let run = patch(&api, r#"{"spec":{"sidecar":{"configResyncInterval":"10s"}}}"#).await;
    let ctx = context(&api, &run);
    assert_eq!(
        run.stderr,
        "Warning: spec.sidecar.configResyncInterval: 10s is below OSM's minimum resync interval of 30s; OSM will not resync\n",
        "{ctx}"
    );
    assert_eq!(
        run.stdout, "meshconfig.config.openservicemesh.io/osm-mesh-config patched\n",
        "{ctx}"
    );
    assert_eq!(run.code, Some(0), "{ctx}");
    let stored = api.object(MESH_NAMESPACE, "osm-mesh-config").expect("stored");
    assert_eq!(stored["spec"]["sidecar"]["configResyncInterval"], "10s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_kubectl_get_of_the_unchanged_object_after_a_denied_patch() {
    let wh = Webhook::start(&[]);
    let api = apiserver(&wh, &["v1alpha2"], support::meshconfig_v1_2()).await;
    let run = patch(&api, r#"{"spec":{"traffic":{"enableEgress":"no"}}}"#).await;
    let ctx = context(&api, &run);
    assert!(
        run.stderr
            .starts_with("The MeshConfig \"osm-mesh-config\" is invalid: "),
        "{ctx}"
    );
    let run = run_kubectl(
        &api,
        &[
            "get",
            "meshconfig",
            "osm-mesh-config",
            "-o",
            "jsonpath={.spec.traffic.enableEgress}",
        ],
    )
    .await;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "true"),
        "{}",
        context(&api, &run)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_deleting_osm_mesh_config_with_protect_delete_as_kubectl_shows_it() {
    let wh = Webhook::start(&["--protect-delete"]);
    let api = apiserver(&wh, &["v1alpha2"], support::meshconfig_v1_2()).await;
    let run = run_kubectl(&api, &["delete", "meshconfig", "osm-mesh-config", "-n", MESH_NAMESPACE]).await;
    let ctx = context(&api, &run);
    assert_eq!(
        run.stderr,
        concat!(
            "Error from server (Forbidden): admission webhook \"meshconfig-webhook.openservicemesh.io\" denied the request: ",
            "meshconfigs.config.openservicemesh.io \"osm-mesh-config\" is forbidden: OSM falls back to zero-valued defaults ",
            "(all booleans false, empty strings and lists) without it; edit it instead ",
            "(deletion is refused because the webhook runs with --protect-delete)\n",
        ),
        "{ctx}"
    );
    assert_eq!(run.code, Some(1), "{ctx}");
    assert!(api.object(MESH_NAMESPACE, "osm-mesh-config").is_some(), "{ctx}");
    assert_eq!(api.reviews()[0]["request"]["operation"], "DELETE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_deleting_osm_mesh_config_without_protect_delete() {
    let wh = Webhook::start(&[]);
    let api = apiserver(&wh, &["v1alpha2"], support::meshconfig_v1_2()).await;
    let run = run_kubectl(
        &api,
        &[
            "delete",
            "meshconfig",
            "osm-mesh-config",
            "-n",
            MESH_NAMESPACE,
            "--wait=false",
        ],
    )
    .await;
    let ctx = context(&api, &run);
    assert_eq!(
        run.stdout, "meshconfig.config.openservicemesh.io \"osm-mesh-config\" deleted\n",
        "{ctx}"
    );
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{ctx}");
    assert!(api.object(MESH_NAMESPACE, "osm-mesh-config").is_none(), "{ctx}");
}
