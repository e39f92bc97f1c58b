//! A stand-in for kube-apiserver, just enough for `kubectl get|patch|delete meshconfig …`
//! (`patch --type=merge` only): discovery (`/apis`, the group version's resource list; `/api` and
//! `/version` answer 404), GET, PATCH and DELETE of stored MeshConfigs, and the
//! validating-admission step: the patched object (UPDATE) or the stored one (DELETE) goes to the
//! webhook as an admission.k8s.io/v1 review over HTTPS (verifying the webhook's CA), and the
//! answer is turned into what the apiserver returns.
//!
//! Like the real apiserver: a denial is the webhook's Status with its message prefixed
//! `admission webhook "<name>" denied the request: ` and its code kept when ≥ 400 (else 400);
//! warnings become `Warning: 299 - "…"` headers; a failed call (failurePolicy Fail) is a 500
//! `failed calling webhook`. Unlike it: no CRD schema step (the webhook reproduces it), no
//! defaulting, no authentication.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const GROUP: &str = "config.openservicemesh.io";
/// The name of the ValidatingWebhookConfiguration's webhook, as the apiserver quotes it.
pub const WEBHOOK_NAME: &str = "meshconfig-webhook.openservicemesh.io";

/// The stand-in's configuration and store.
struct Inner {
    /// Versions of config.openservicemesh.io served, preferred first.
    versions: Vec<String>,
    /// Stored MeshConfigs by (namespace, name).
    objects: BTreeMap<(String, String), Value>,
    webhook_url: String,
    client: reqwest::Client,
    resource_version: u64,
    /// Every request seen, as `METHOD path?query`.
    requests: Vec<String>,
    /// Every review sent to the webhook.
    reviews: Vec<Value>,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    /// The stored object as served at `version` (the apiserver only rewrites `apiVersion`).
    fn stored(&self, namespace: &str, name: &str, version: &str) -> Option<Value> {
        let mut o = self
            .0
            .lock()
            .expect("state")
            .objects
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()?;
        o["apiVersion"] = json!(format!("{GROUP}/{version}"));
        Some(o)
    }
}

/// A running stand-in.
pub struct ApiServer {
    pub url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl ApiServer {
    /// Serves `objects` (stored MeshConfigs) at the versions given (preferred first) on a free
    /// loopback port, calling the webhook at `webhook_url` trusting `webhook_ca_pem` only.
    pub async fn start(
        versions: &[&str],
        objects: Vec<Value>,
        webhook_url: String,
        webhook_ca_pem: &[u8],
    ) -> ApiServer {
        let mut store = BTreeMap::new();
        for (i, mut o) in objects.into_iter().enumerate() {
            let ns = o
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned();
            let name = o
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            o["metadata"]["resourceVersion"] = json!((i + 1).to_string());
            o["metadata"]["uid"] = json!(format!("6f1c1b49-0000-4000-8000-{:012}", i + 1));
            o["metadata"]["generation"] = json!(1);
            store.insert((ns, name), o);
        }
        let shared = Shared(Arc::new(Mutex::new(Inner {
            versions: versions.iter().map(|v| v.to_string()).collect(),
            objects: store,
            webhook_url,
            client: super::client_for(webhook_ca_pem),
            resource_version: 100,
            requests: Vec::new(),
            reviews: Vec::new(),
        })));
        let router = Router::new()
            .route("/apis", axum::routing::get(apis))
            .route("/apis/{group}/{version}", axum::routing::get(resources))
            .route(
                "/apis/{group}/{version}/namespaces/{namespace}/meshconfigs/{name}",
                axum::routing::get(get_object).patch(patch_object).delete(delete_object),
            )
            .fallback(not_found)
            .layer(axum::middleware::from_fn_with_state(shared.clone(), record))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        ApiServer { url, shared, task }
    }

    /// The stored object.
    pub fn object(&self, namespace: &str, name: &str) -> Option<Value> {
        self.shared
            .0
            .lock()
            .expect("state")
            .objects
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Requests seen so far (`METHOD path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.shared.0.lock().expect("state").requests.clone()
    }

    /// Reviews sent to the webhook so far.
    pub fn reviews(&self) -> Vec<Value> {
        self.shared.0.lock().expect("state").reviews.clone()
    }

    /// A kubeconfig pointing at this stand-in, namespace `namespace` by default.
    pub fn kubeconfig(&self, namespace: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stand-in\n  cluster:\n    server: {}\ncontexts:\n- name: stand-in\n  context:\n    cluster: stand-in\n    user: admin\n    namespace: {namespace}\ncurrent-context: stand-in\nusers:\n- name: admin\n  user: {{}}\n",
            self.url
        )
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(s): State<Shared>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let uri = request.uri();
    let line = match uri.query() {
        Some(q) => format!("{} {}?{q}", request.method(), uri.path()),
        None => format!("{} {}", request.method(), uri.path()),
    };
    s.0.lock().expect("state").requests.push(line);
    next.run(request).await
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `metav1.Status` for an error the apiserver itself raises.
fn status(code: StatusCode, reason: &str, message: String, details: Option<Value>) -> Response {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(d) = details {
        s["details"] = d;
    }
    json_response(code, &s)
}

async fn not_found(method: Method, uri: Uri) -> Response {
    let _ = method;
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("the server could not find the requested resource ({})", uri.path()),
        None,
    )
}

async fn apis(State(s): State<Shared>) -> Response {
    let versions = s.0.lock().expect("state").versions.clone();
    let gv = |v: &String| json!({"groupVersion": format!("{GROUP}/{v}"), "version": v});
    let list: Vec<Value> = versions.iter().map(gv).collect();
    let preferred = versions.first().map(gv).unwrap_or(Value::Null);
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [{"name": GROUP, "versions": list, "preferredVersion": preferred}],
        }),
    )
}

async fn resources(State(s): State<Shared>, Path((group, version)): Path<(String, String)>, uri: Uri) -> Response {
    let served = s.0.lock().expect("state").versions.contains(&version);
    if group != GROUP || !served {
        return not_found(Method::GET, uri).await;
    }
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": format!("{GROUP}/{version}"),
            "resources": [{
                "name": "meshconfigs",
                "singularName": "meshconfig",
                "namespaced": true,
                "kind": "MeshConfig",
                "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
                "shortNames": ["meshconfig"],
                "storageVersionHash": "aBcDeFgHiJk=",
            }],
        }),
    )
}

fn missing(name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("meshconfigs.{GROUP} {name:?} not found"),
        Some(json!({"name": name, "group": GROUP, "kind": "meshconfigs"})),
    )
}

async fn get_object(
    State(s): State<Shared>,
    Path((_group, version, namespace, name)): Path<(String, String, String, String)>,
) -> Response {
    match s.stored(&namespace, &name, &version) {
        Some(o) => json_response(StatusCode::OK, &o),
        None => missing(&name),
    }
}

async fn patch_object(
    State(s): State<Shared>,
    Path((_group, version, namespace, name)): Path<(String, String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type != "application/merge-patch+json" {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("the stand-in only applies merge patches, got {content_type:?}"),
            None,
        );
    }
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("error decoding patch: {e}"),
                None,
            );
        }
    };
    let Some(old) = s.stored(&namespace, &name, &version) else {
        return missing(&name);
    };
    let mut object = old.clone();
    json_patch::merge(&mut object, &patch);
    let dry_run = dry_run(&uri);
    let target = Target {
        version,
        namespace,
        name,
    };
    let (answer, warnings) = match admit(&s, &target, "UPDATE", &object, &old, dry_run).await {
        Ok(a) => a,
        Err(failed) => return failed,
    };
    let mut response = if answer["allowed"] == true {
        if !dry_run {
            let mut g = s.0.lock().expect("state");
            g.resource_version += 1;
            object["metadata"]["resourceVersion"] = json!(g.resource_version.to_string());
            if old.get("spec") != object.get("spec") {
                let generation = object
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                object["metadata"]["generation"] = json!(generation + 1);
            }
            g.objects.insert((target.namespace, target.name), object.clone());
        }
        json_response(StatusCode::OK, &object)
    } else {
        denial(&answer["status"])
    };
    response.headers_mut().extend(warnings);
    response
}

async fn delete_object(
    State(s): State<Shared>,
    Path((_group, version, namespace, name)): Path<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    let Some(old) = s.stored(&namespace, &name, &version) else {
        return missing(&name);
    };
    let dry_run = dry_run(&uri);
    let target = Target {
        version,
        namespace,
        name,
    };
    let (answer, warnings) = match admit(&s, &target, "DELETE", &Value::Null, &old, dry_run).await {
        Ok(a) => a,
        Err(failed) => return failed,
    };
    let mut response = if answer["allowed"] == true {
        if !dry_run {
            s.0.lock()
                .expect("state")
                .objects
                .remove(&(target.namespace.clone(), target.name.clone()));
        }
        let uid = old.pointer("/metadata/uid").cloned().unwrap_or(Value::Null);
        json_response(
            StatusCode::OK,
            &json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {"name": target.name, "group": GROUP, "kind": "meshconfigs", "uid": uid},
            }),
        )
    } else {
        denial(&answer["status"])
    };
    response.headers_mut().extend(warnings);
    response
}

fn dry_run(uri: &Uri) -> bool {
    uri.query().unwrap_or("").split('&').any(|kv| kv == "dryRun=All")
}

/// The object a request is about.
struct Target {
    version: String,
    namespace: String,
    name: String,
}

/// The validating-admission step: sends the review, returns the webhook's `response` and the
/// warnings as `Warning` headers, or the apiserver's error for a failed call (failurePolicy Fail).
async fn admit(
    s: &Shared,
    t: &Target,
    operation: &str,
    object: &Value,
    old: &Value,
    dry_run: bool,
) -> Result<(Value, HeaderMap), Response> {
    let (url, client, n) = {
        let g = s.0.lock().expect("state");
        (g.webhook_url.clone(), g.client.clone(), g.reviews.len() + 1)
    };
    let uid = format!("a1b2c3d4-0000-4000-8000-{n:012}");
    let options = if operation == "DELETE" {
        "DeleteOptions"
    } else {
        "PatchOptions"
    };
    let review = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": GROUP, "version": t.version, "kind": "MeshConfig"},
            "resource": {"group": GROUP, "version": t.version, "resource": "meshconfigs"},
            "requestKind": {"group": GROUP, "version": t.version, "kind": "MeshConfig"},
            "requestResource": {"group": GROUP, "version": t.version, "resource": "meshconfigs"},
            "name": t.name,
            "namespace": t.namespace,
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": old,
            "dryRun": dry_run,
            "options": {"kind": options, "apiVersion": "meta.k8s.io/v1"},
        }
    });
    s.0.lock().expect("state").reviews.push(review.clone());
    let answer = call_webhook(&client, &url, &review, &uid).await.map_err(|e| {
        status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("Internal error occurred: failed calling webhook {WEBHOOK_NAME:?}: {e}"),
            None,
        )
    })?;
    // The apiserver passes warnings on whether or not the request is allowed.
    let mut warnings = HeaderMap::new();
    for w in answer["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""))) {
            warnings.append(header::WARNING, v);
        }
    }
    Ok((answer, warnings))
}

/// POSTs the review; the webhook's `response`, or why the call failed.
async fn call_webhook(client: &reqwest::Client, url: &str, review: &Value, uid: &str) -> Result<Value, String> {
    let r = client
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, */*")
        .body(review.to_string())
        .send()
        .await
        .map_err(|e| format!("Post {url:?}: {e}"))?;
    let code = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if !code.is_success() {
        return Err(format!("expected response code 200, got {}: {text}", code.as_u16()));
    }
    let reply: Value = serde_json::from_str(&text).map_err(|e| format!("received invalid webhook response: {e}"))?;
    if reply["apiVersion"] != review["apiVersion"] || reply["kind"] != "AdmissionReview" {
        return Err(format!(
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {}, Kind={}",
            reply["apiVersion"], reply["kind"]
        ));
    }
    let response = reply.get("response").cloned().ok_or("webhook response was absent")?;
    if response["uid"] != uid {
        return Err(format!("expected response.uid={uid:?}, got {}", response["uid"]));
    }
    Ok(response)
}

/// `webhookerrors.ToStatusErr`: the webhook's Status, message prefixed, code ≥ 400.
fn denial(result: &Value) -> Response {
    let mut s = if result.is_object() { result.clone() } else { json!({}) };
    let denied_by = format!("admission webhook {WEBHOOK_NAME:?} denied the request");
    let code = s["code"].as_u64().filter(|c| *c >= 400).unwrap_or(400);
    s["code"] = json!(code);
    if matches!(s["status"].as_str(), None | Some("") | Some("Success")) {
        s["status"] = json!("Failure");
    }
    let message = s["message"].as_str().unwrap_or("").to_owned();
    let reason = s["reason"].as_str().unwrap_or("").to_owned();
    s["message"] = json!(if !message.is_empty() {
        format!("{denied_by}: {message}")
    } else if !reason.is_empty() {
        format!("{denied_by}: {reason}")
    } else {
        format!("{denied_by} without explanation")
    });
    s["kind"] = json!("Status");
    s["apiVersion"] = json!("v1");
    if s.get("metadata").is_none() {
        s["metadata"] = json!({});
    }
    let http = u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    json_response(http, &s)
}
