//! AdmissionReview in, AdmissionReview out: decoding (admission.k8s.io/v1 and v1beta1, kube-rs'
//! types), routing by kind, the decision, and encoding the answer with the request's uid and
//! apiVersion.
//!
//! Synchronous and free of I/O: the server hands in the body it read and gets back bytes to send
//! plus a [`Decision`] to log and count. Every field message comes from `validate`/`field`; the
//! texts worded here are about the review itself (unusable reviews, scope, deletion).

use kube_core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use kube_core::gvk::GroupVersionKind;
use kube_core::response::{StatusCause, StatusDetails, StatusSummary};
use kube_core::{DynamicObject, ObjectMeta};
use serde::Deserialize as _;
use serde_json::Value;

use crate::field::{self, FieldError};
use crate::schema::configmap::{CONFIGMAP_GROUP, CONFIGMAP_KIND, CONFIGMAP_NAME};
use crate::schema::{ApiVersion, GROUP, KIND, MESH_CONFIG_NAME, Release, Schema};
use crate::validate;
use crate::validate::UnknownKeys;

mod read;

use read::{OldObject, OnePass};

pub const REVIEW_V1: &str = "admission.k8s.io/v1";
pub const REVIEW_V1BETA1: &str = "admission.k8s.io/v1beta1";
const REVIEW_KIND: &str = "AdmissionReview";
/// The MeshConfig resource (plural), as apimachinery names it in Forbidden errors.
const MESHCONFIG_RESOURCE: &str = "meshconfigs";

/// What the server was configured to enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The OSM release line whose schema applies.
    pub release: Release,
    /// The namespace OSM's control plane reads its MeshConfig from.
    pub mesh_namespace: String,
    /// Deny deleting `osm-mesh-config` in `mesh_namespace`.
    pub protect_delete: bool,
    /// Unknown keys in the `osm-config` ConfigMap (OSM v0.8): deny or only warn.
    pub unknown_configmap_keys: UnknownKeys,
}

/// The outcome class, as counted in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Denied,
    /// The review could not be used (answered with a denial so failurePolicy cannot let it pass).
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Error => "error",
        }
    }
}

/// Which validator a request goes to: the one place where kinds are routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    MeshConfig,
    /// ConfigMaps: only `osm-config` in the mesh namespace (OSM v0.8's configuration) is validated.
    ConfigMap,
    /// Any other kind: allowed untouched.
    Other,
}

impl Route {
    fn of(group: &str, kind: &str) -> Self {
        match (group, kind) {
            (GROUP, KIND) => Self::MeshConfig,
            (CONFIGMAP_GROUP, CONFIGMAP_KIND) => Self::ConfigMap,
            _ => Self::Other,
        }
    }

    /// The `kind` label in metrics (bounded: other kinds are not spelled out).
    pub fn label(self) -> &'static str {
        match self {
            Self::MeshConfig => KIND,
            Self::ConfigMap => CONFIGMAP_KIND,
            Self::Other => "other",
        }
    }
}

/// What was decided about one review, for logs and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub uid: String,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`, or `unknown` for unusable reviews.
    pub operation: &'static str,
    pub route: Route,
    /// `group/version, Kind=…` of the request, as sent.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub user: String,
    pub dry_run: bool,
    pub verdict: Verdict,
    /// Field paths of the errors that denied the request.
    pub denied_fields: Vec<String>,
    pub warnings: Vec<String>,
    /// The denial's message (empty when allowed).
    pub message: String,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.verdict == Verdict::Allowed
    }
}

/// The answer to an admission request body.
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// HTTP 200 with this AdmissionReview (JSON).
    Review { body: Vec<u8>, decision: Box<Decision> },
    /// Not a review we can answer (no uid to echo): HTTP 400 with this text.
    BadRequest(String),
}

/// What a decision reads of an admission request. kube-rs' `AdmissionRequest` holds more (the
/// resource, the user's groups, options): the general path decodes it and keeps this; the one
/// pass checks the rest as kube-rs would decode it and keeps only this.
#[derive(Debug)]
struct Request {
    /// The review's apiVersion and kind, echoed in the answer.
    types: kube_core::TypeMeta,
    uid: String,
    kind: GroupVersionKind,
    name: String,
    namespace: Option<String>,
    operation: Operation,
    user: Option<String>,
    dry_run: bool,
}

impl From<AdmissionRequest<DynamicObject>> for Request {
    fn from(r: AdmissionRequest<DynamicObject>) -> Self {
        Self {
            types: r.types,
            uid: r.uid,
            kind: r.kind,
            name: r.name,
            namespace: r.namespace,
            operation: r.operation,
            user: r.user_info.username,
            dry_run: r.dry_run,
        }
    }
}

/// Decides one admission request body (read whole by the caller).
pub fn review(policy: &Policy, body: &[u8]) -> Reply {
    // The common case is read in one pass: the request's fields typed, `object` into a tree,
    // `oldObject` only scanned (parsed later if a finding needs ratcheting). Anything unusual
    // takes the general path, which words every problem.
    match OnePass::of(body) {
        Some(p) => answer_request(policy, p.request, p.object.as_ref(), &p.old),
        None => review_whole(policy, body),
    }
}

/// [`review`] by the general path alone: the whole body parsed into one tree. Public for the
/// tests and fuzz targets that check both paths give the same answer.
#[doc(hidden)]
pub fn review_whole(policy: &Policy, body: &[u8]) -> Reply {
    let mut raw: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Reply::BadRequest(format!("the request body is not JSON: {e}")),
    };
    let taken = take_objects(&mut raw).map(|(object, old)| (object, OldObject::parsed(old)));
    decide_review(policy, raw, taken)
}

/// The rest of [`review`]: `raw` is the review, without its objects when `taken` holds them.
fn decide_review(policy: &Policy, raw: Value, taken: Option<(Option<Value>, OldObject<'_>)>) -> Reply {
    let api_version = raw.get("apiVersion").and_then(Value::as_str);
    let uid = raw
        .pointer("/request/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty());
    let request = decode(&raw, api_version);
    match request {
        Ok(req) => {
            let whole;
            let (object, old) = match &taken {
                Some((object, old)) => (object.as_ref(), old),
                None => {
                    whole = OldObject::borrowed(raw.pointer("/request/oldObject"));
                    (raw.pointer("/request/object"), &whole)
                }
            };
            answer_request(policy, Request::from(req), object, old)
        }
        Err(problem) => match uid {
            // A uid to echo: answer with a review, so the apiserver does not count a failed call
            // (which failurePolicy Ignore would let pass).
            Some(uid) => unusable_review(api_version, uid, problem),
            None => Reply::BadRequest(problem),
        },
    }
}

/// Decides a decoded request.
fn answer_request(policy: &Policy, req: Request, object: Option<&Value>, old: &OldObject<'_>) -> Reply {
    if req.uid.is_empty() {
        return Reply::BadRequest("the AdmissionReview's request.uid is empty".into());
    }
    let object = object.filter(|v| !v.is_null());
    let answer = decide(policy, &req, object, old);
    answer_review(&req, answer, object.or(old.head()))
}

/// The typed request, or why the body is not a usable review.
fn decode(raw: &Value, api_version: Option<&str>) -> Result<AdmissionRequest<DynamicObject>, String> {
    let kind = raw.get("kind").and_then(Value::as_str);
    match (api_version, kind) {
        (_, Some(k)) if k != REVIEW_KIND => return Err(format!("expected an AdmissionReview, got kind {k:?}")),
        (Some(REVIEW_V1 | REVIEW_V1BETA1), Some(_)) => {}
        (Some(v), Some(_)) => {
            return Err(format!(
                "unsupported AdmissionReview apiVersion {v:?}: expected {REVIEW_V1:?} or {REVIEW_V1BETA1:?}"
            ));
        }
        _ if !raw.is_object() => return Err("expected an AdmissionReview object".into()),
        _ => return Err("not an AdmissionReview: apiVersion and kind are required".into()),
    }
    let review = AdmissionReview::<DynamicObject>::deserialize(raw)
        .map_err(|e| format!("the AdmissionReview cannot be decoded: {e}"))?;
    review
        .try_into()
        .map_err(|_| "the AdmissionReview has no request".to_owned())
}

/// Moves `request.object` and `request.oldObject` out of the review, so that decoding the typed
/// request does not copy them into kube-rs' DynamicObject (the validators read them as parsed).
/// Only when both would decode as a DynamicObject (absent, null, or a map whose `metadata`, if
/// any, is an ObjectMeta: the only ways that decoding fails); otherwise `None` leaves the review
/// whole, so the decode reports the error as before.
fn take_objects(raw: &mut Value) -> Option<(Option<Value>, Option<Value>)> {
    let request = raw.get_mut("request")?.as_object_mut()?;
    let decodes = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(o)) => o.get("metadata").is_none_or(|m| ObjectMeta::deserialize(m).is_ok()),
        Some(_) => false,
    };
    if !decodes(request.get("object")) || !decodes(request.get("oldObject")) {
        return None;
    }
    Some((request.remove("object"), request.remove("oldObject")))
}

/// The decision before it is encoded.
struct Answer {
    route: Route,
    verdict: Verdict,
    status: Option<field::Status>,
    denied_fields: Vec<String>,
    warnings: Vec<String>,
}

impl Answer {
    fn allow(route: Route) -> Self {
        Self {
            route,
            verdict: Verdict::Allowed,
            status: None,
            denied_fields: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn deny(route: Route, verdict: Verdict, status: field::Status) -> Self {
        Self {
            route,
            verdict,
            status: Some(status),
            denied_fields: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

fn decide(policy: &Policy, req: &Request, object: Option<&Value>, old: &OldObject<'_>) -> Answer {
    let route = Route::of(&req.kind.group, &req.kind.kind);
    if route != Route::Other
        && let Some(problem) =
            kind_mismatch(req, "object", object).or_else(|| kind_mismatch(req, "oldObject", old.head()))
    {
        return Answer::deny(route, Verdict::Error, field::Status::bad_request(&problem));
    }
    match route {
        Route::Other => Answer::allow(route),
        Route::MeshConfig => meshconfig(policy, req, object, old),
        Route::ConfigMap => configmap(policy, req, object, old),
    }
}

/// An object whose own `kind` or API group contradicts `request.kind`. The apiserver always sends
/// the object as the kind it names; validating something else as a MeshConfig would allow it
/// with nothing but unknown-field warnings.
fn kind_mismatch(req: &Request, which: &str, object: Option<&Value>) -> Option<String> {
    let object = object?;
    let kind = object.get("kind").and_then(Value::as_str);
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    let group = api_version.map(|v| v.rsplit_once('/').map_or("", |(g, _)| g));
    let same_kind = kind.is_none_or(|k| k == req.kind.kind);
    let same_group = group.is_none_or(|g| g == req.kind.group);
    if same_kind && same_group {
        return None;
    }
    Some(format!(
        "the AdmissionReview's request.{which} is {:?} {:?}, but request.kind is {:?} {:?}",
        field::bounds::echoed(api_version.unwrap_or("")),
        field::bounds::echoed(kind.unwrap_or("")),
        if req.kind.group.is_empty() {
            req.kind.version.clone()
        } else {
            format!("{}/{}", req.kind.group, req.kind.version)
        },
        req.kind.kind
    ))
}

/// OSM v0.8's `osm-config`: validated on CREATE and UPDATE; other ConfigMaps and other operations
/// pass untouched (OSM reads no other ConfigMap).
fn configmap(policy: &Policy, req: &Request, object: Option<&Value>, old: &OldObject<'_>) -> Answer {
    let route = Route::ConfigMap;
    let name = request_name(req, object.or(old.head()));
    let namespace = request_namespace(req, object.or(old.head()));
    let (Operation::Create | Operation::Update) = req.operation else {
        return Answer::allow(route);
    };
    if name != CONFIGMAP_NAME || namespace != policy.mesh_namespace {
        return Answer::allow(route);
    }
    let Some(object) = object else {
        return Answer::deny(
            route,
            Verdict::Error,
            field::Status::bad_request("the AdmissionReview's request.object is missing"),
        );
    };
    answer_from(
        route,
        name,
        ratcheted(req, old, false, |old| {
            validate::configmap(object, old, policy.unknown_configmap_keys)
        }),
    )
}

/// Validates as a CREATE; an UPDATE with errors is validated again against the stored object.
/// The stored object only ratchets (an error about an unchanged value becomes a warning; no
/// other finding depends on it), so an object without errors needs no `oldObject`, and most
/// updates never read it whole.
///
/// For a MeshConfig (`by_section`), what ratchets an error inside a top-level spec section
/// (`spec.<section>.…`) is whether that section, or a value in it, is unchanged: the spec's own
/// equality implies the section's. So when every error lies inside a section, the stored
/// object's other sections and metadata are not read.
fn ratcheted(
    req: &Request,
    old: &OldObject<'_>,
    by_section: bool,
    check: impl Fn(Option<&Value>) -> validate::Outcome,
) -> validate::Outcome {
    let first = check(None);
    if req.operation != Operation::Update || first.errors.is_empty() {
        return first;
    }
    if by_section && let Some(partial) = error_sections(&first).and_then(|names| old.spec_sections(&names)) {
        return check(Some(&partial));
    }
    match old.whole() {
        Some(old) => check(Some(old)),
        None => first,
    }
}

/// The top-level spec sections holding `outcome`'s errors, when every error lies strictly inside
/// one (`spec.<section>.…` or `spec.<section>[…]`). `None` when one does not (an error on `spec`
/// or on a section itself: those ratchet on the whole spec) or when errors were cut at the cap.
fn error_sections(outcome: &validate::Outcome) -> Option<Vec<&str>> {
    if outcome.more_errors > 0 {
        return None;
    }
    let mut names = Vec::new();
    for e in &outcome.errors {
        let rest = e.field.strip_prefix("spec.")?;
        let end = rest.find(['.', '['])?;
        let name = &rest[..end];
        if name.is_empty() {
            return None;
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Some(names)
}

/// An engine outcome as the answer: denied with its Status when it has errors.
fn answer_from(route: Route, name: &str, outcome: validate::Outcome) -> Answer {
    let status = outcome.status(name);
    Answer {
        route,
        verdict: if status.is_some() {
            Verdict::Denied
        } else {
            Verdict::Allowed
        },
        denied_fields: outcome
            .errors
            .iter()
            .map(|e| field::bounds::shown_field(&e.field).into_owned())
            .collect(),
        // At most what the apiserver passes on whole (it cuts and drops beyond 4096 runes).
        warnings: field::bounds::webhook_warnings(&outcome.warnings, outcome.more_warnings),
        status,
    }
}

fn meshconfig(policy: &Policy, req: &Request, object: Option<&Value>, old: &OldObject<'_>) -> Answer {
    let route = Route::MeshConfig;
    let name = request_name(req, object.or(old.head()));
    let namespace = request_namespace(req, object.or(old.head()));
    match req.operation {
        Operation::Connect => Answer::allow(route),
        Operation::Delete => {
            if policy.protect_delete && name == MESH_CONFIG_NAME && namespace == policy.mesh_namespace {
                Answer::deny(
                    route,
                    Verdict::Denied,
                    field::Status::forbidden(GROUP, MESHCONFIG_RESOURCE, name, DELETE_FORBIDDEN),
                )
            } else {
                Answer::allow(route)
            }
        }
        Operation::Create | Operation::Update => {
            if namespace != policy.mesh_namespace {
                let mut a = Answer::allow(route);
                a.warnings.push(format!(
                    "OSM ignores MeshConfigs outside namespace {:?}; {:?} has no effect",
                    policy.mesh_namespace,
                    format!("{namespace}/{name}")
                ));
                return a;
            }
            let Some(object) = object else {
                return Answer::deny(
                    route,
                    Verdict::Error,
                    field::Status::bad_request("the AdmissionReview's request.object is missing"),
                );
            };
            let version = if req.kind.version.is_empty() {
                object
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .and_then(|v| v.rsplit('/').next())
                    .unwrap_or("")
            } else {
                req.kind.version.as_str()
            };
            let Some(schema) = ApiVersion::parse(version).and_then(|v| Schema::get(policy.release, v)) else {
                let served: Vec<String> = policy
                    .release
                    .api_versions()
                    .iter()
                    .map(|v| format!("{GROUP}/{v}"))
                    .collect();
                let e = FieldError::not_supported("apiVersion", format!("{GROUP}/{version}"), &served);
                let status = field::Status::invalid(GROUP, KIND, name, std::slice::from_ref(&e));
                let mut a = Answer::deny(route, Verdict::Denied, status);
                a.denied_fields.push(e.field);
                return a;
            };
            answer_from(
                route,
                name,
                ratcheted(req, old, true, |old| validate::meshconfig(schema, object, old)),
            )
        }
    }
}

/// Why `--protect-delete` refuses a deletion (OSM v1.2.4 `pkg/configurator/client.go` logs
/// "Default config values will be used" and runs with the zero value of every field).
const DELETE_FORBIDDEN: &str = "OSM falls back to zero-valued defaults (all booleans false, empty strings and lists) \
     without it; edit it instead (deletion is refused because the webhook runs with --protect-delete)";

/// The object's name, as echoed in answers and logs: a name longer than any valid one (which
/// only a client other than the apiserver can send) is `<value omitted>`.
fn request_name<'a>(req: &'a Request, object: Option<&'a Value>) -> &'a str {
    let name = if req.name.is_empty() {
        object
            .and_then(|o| o.get("metadata")?.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
    } else {
        &req.name
    };
    field::bounds::echoed(name)
}

/// The object's namespace, bounded as [`request_name`].
fn request_namespace<'a>(req: &'a Request, object: Option<&'a Value>) -> &'a str {
    let namespace = match req.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => ns,
        _ => object
            .and_then(|o| o.get("metadata")?.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or(""),
    };
    field::bounds::echoed(namespace)
}

/// Our `metav1.Status` as kube-rs' type (the response's `status`).
fn to_kube(s: field::Status) -> kube_core::Status {
    kube_core::Status {
        status: Some(StatusSummary::Failure),
        code: s.code,
        message: s.message,
        metadata: None,
        reason: s.reason,
        details: s.details.map(|d| StatusDetails {
            name: d.name,
            group: d.group,
            kind: d.kind,
            uid: String::new(),
            causes: d
                .causes
                .into_iter()
                .map(|c| StatusCause {
                    reason: c.reason,
                    message: c.message,
                    field: c.field,
                })
                .collect(),
            retry_after_seconds: 0,
        }),
    }
}

fn operation_str(op: &Operation) -> &'static str {
    match op {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

fn answer_review(req: &Request, answer: Answer, object: Option<&Value>) -> Reply {
    let decision = Decision {
        uid: req.uid.clone(),
        operation: operation_str(&req.operation),
        route: answer.route,
        kind: gvk_string(&req.kind),
        namespace: request_namespace(req, object).to_owned(),
        name: request_name(req, object).to_owned(),
        user: req.user.clone().unwrap_or_default(),
        dry_run: req.dry_run,
        verdict: answer.verdict,
        denied_fields: answer.denied_fields,
        warnings: answer.warnings,
        message: answer.status.as_ref().map(|s| s.message.clone()).unwrap_or_default(),
    };
    // What `AdmissionResponse::from(&AdmissionRequest)` makes (the type is non-exhaustive).
    let mut response = AdmissionResponse::invalid("");
    response.types = req.types.clone();
    response.uid = req.uid.clone();
    response.allowed = answer.verdict == Verdict::Allowed;
    response.result = Default::default();
    if let Some(status) = answer.status {
        response.result = to_kube(status);
    }
    if !decision.warnings.is_empty() {
        response.warnings = Some(decision.warnings.clone());
    }
    let body = encode(&response.into_review(), &decision.uid, &req.types.api_version);
    Reply::Review {
        body,
        decision: Box::new(decision),
    }
}

/// `group/version, Kind=kind`, as apimachinery prints a GroupVersionKind (built without `format!`,
/// which costs more than the copying, on every review).
fn gvk_string(k: &GroupVersionKind) -> String {
    let mut s = String::with_capacity(k.group.len() + k.version.len() + k.kind.len() + 7);
    s.push_str(&k.group);
    s.push('/');
    s.push_str(&k.version);
    s.push_str(", Kind=");
    s.push_str(&k.kind);
    s
}

fn unusable_review(api_version: Option<&str>, uid: &str, problem: String) -> Reply {
    let status = field::Status::bad_request(&problem);
    error_review(api_version, uid, status, problem)
}

/// A denial for a review the webhook could not judge, echoing the uid so that no failurePolicy
/// lets the object through. Answered in the version asked when known; otherwise v1, the only one
/// current apiservers send.
fn error_review(api_version: Option<&str>, uid: &str, status: field::Status, message: String) -> Reply {
    let api_version = match api_version {
        Some(v @ (REVIEW_V1 | REVIEW_V1BETA1)) => v,
        _ => REVIEW_V1,
    };
    let mut response = AdmissionResponse::invalid(&message);
    response.uid = uid.to_owned();
    response.types.api_version = api_version.to_owned();
    response.result = to_kube(status);
    let body = encode(&response.into_review(), uid, api_version);
    let decision = Decision {
        uid: uid.to_owned(),
        operation: "unknown",
        route: Route::Other,
        kind: String::new(),
        namespace: String::new(),
        name: String::new(),
        user: String::new(),
        dry_run: false,
        verdict: Verdict::Error,
        denied_fields: Vec::new(),
        warnings: Vec::new(),
        message,
    };
    Reply::Review {
        body,
        decision: Box::new(decision),
    }
}

/// The non-empty `request.uid` of a body, if it is JSON and has one.
pub fn request_uid(body: &[u8]) -> Option<String> {
    let raw: Value = serde_json::from_slice(body).ok()?;
    raw.pointer("/request/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}

/// The answer to a review the webhook failed on (a caught panic): a denial echoing the uid, with
/// `apierrors.NewInternalError`'s Status, so no failurePolicy lets the object through unreviewed.
/// `None` when the body has no uid to answer (the server sends HTTP 500 then).
pub fn internal_error(body: &[u8], problem: &str) -> Option<Reply> {
    let raw: Value = serde_json::from_slice(body).ok()?;
    let uid = raw
        .pointer("/request/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())?;
    let status = field::Status::internal_error(problem);
    let message = status.message.clone();
    Some(error_review(
        raw.get("apiVersion").and_then(Value::as_str),
        uid,
        status,
        message,
    ))
}

fn encode(review: &AdmissionReview<DynamicObject>, uid: &str, api_version: &str) -> Vec<u8> {
    serde_json::to_vec(review).unwrap_or_else(|e| {
        // Not reachable with these types; still answer with the uid rather than nothing.
        serde_json::json!({
            "apiVersion": api_version,
            "kind": REVIEW_KIND,
            "response": {"uid": uid, "allowed": false, "status": {"code": 500, "message": format!("encoding the AdmissionReview: {e}")}},
        })
        .to_string()
        .into_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Policy {
        Policy {
            release: Release::LATEST,
            mesh_namespace: "arc-osm-system".into(),
            protect_delete: true,
            unknown_configmap_keys: UnknownKeys::Deny,
        }
    }

    fn meshconfig_object(spec: Value) -> Value {
        json!({
            "apiVersion": "config.openservicemesh.io/v1alpha2",
            "kind": "MeshConfig",
            "metadata": {"name": "osm-mesh-config", "namespace": "arc-osm-system"},
            "spec": spec,
        })
    }

    fn request(api_version: &str, operation: &str, object: Value, old: Value) -> Vec<u8> {
        let ns = object
            .pointer("/metadata/namespace")
            .or(old.pointer("/metadata/namespace"))
            .cloned();
        json!({
            "apiVersion": api_version,
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
                "resource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
                "name": "osm-mesh-config",
                "namespace": ns,
                "operation": operation,
                "userInfo": {"username": "admin"},
                "object": object,
                "oldObject": old,
                "dryRun": false,
            }
        })
        .to_string()
        .into_bytes()
    }

    fn answer(reply: Reply) -> (Value, Decision) {
        match reply {
            Reply::Review { body, decision } => (serde_json::from_slice(&body).expect("json"), *decision),
            Reply::BadRequest(msg) => panic!("unexpected 400: {msg}"),
        }
    }

    #[test]
    fn echoes_uid_and_api_version() {
        for v in [REVIEW_V1, REVIEW_V1BETA1] {
            let body = request(v, "CREATE", meshconfig_object(json!({})), Value::Null);
            let (out, decision) = answer(review(&policy(), &body));
            assert_eq!(out["apiVersion"], v);
            assert_eq!(out["kind"], "AdmissionReview");
            assert_eq!(out["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
            assert_eq!(out["response"]["allowed"], true, "{out}");
            assert_eq!(decision.verdict, Verdict::Allowed);
        }
    }

    #[test]
    fn denies_with_the_engines_status() {
        let body = request(
            REVIEW_V1,
            "CREATE",
            meshconfig_object(json!({"traffic": {"enableEgress": "no"}})),
            Value::Null,
        );
        let (out, decision) = answer(review(&policy(), &body));
        let status = &out["response"]["status"];
        assert_eq!(out["response"]["allowed"], false);
        assert_eq!(status["code"], 422);
        assert_eq!(status["reason"], "Invalid");
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["details"]["kind"], "MeshConfig");
        assert_eq!(status["details"]["name"], "osm-mesh-config");
        assert_eq!(status["details"]["causes"][0]["field"], "spec.traffic.enableEgress");
        assert_eq!(decision.denied_fields, ["spec.traffic.enableEgress"]);
        assert_eq!(decision.verdict, Verdict::Denied);
    }

    #[test]
    fn ratchets_unchanged_invalid_values_on_update() {
        let bad = meshconfig_object(json!({"traffic": {"enableEgress": "no"}}));
        let mut changed = bad.clone();
        changed["spec"]["sidecar"] = json!({"logLevel": "debug"});
        let (out, _) = answer(review(
            &policy(),
            &request(REVIEW_V1, "UPDATE", changed.clone(), bad.clone()),
        ));
        assert_eq!(out["response"]["allowed"], true, "{out}");
        // The same change as a CREATE is denied.
        let (out, _) = answer(review(&policy(), &request(REVIEW_V1, "CREATE", changed, Value::Null)));
        assert_eq!(out["response"]["allowed"], false);
    }

    #[test]
    fn warns_about_objects_outside_the_mesh_namespace() {
        let mut obj = meshconfig_object(json!({"traffic": {"enableEgress": "no"}}));
        obj["metadata"]["namespace"] = json!("default");
        let (out, decision) = answer(review(&policy(), &request(REVIEW_V1, "CREATE", obj, Value::Null)));
        assert_eq!(out["response"]["allowed"], true);
        assert_eq!(
            out["response"]["warnings"][0],
            r#"OSM ignores MeshConfigs outside namespace "arc-osm-system"; "default/osm-mesh-config" has no effect"#
        );
        assert_eq!(decision.warnings.len(), 1);
    }

    #[test]
    fn protects_deletion_only_when_asked() {
        let old = meshconfig_object(json!({}));
        let body = request(REVIEW_V1, "DELETE", Value::Null, old);
        let (out, _) = answer(review(&policy(), &body));
        let status = &out["response"]["status"];
        assert_eq!(out["response"]["allowed"], false);
        assert_eq!(status["code"], 403);
        assert_eq!(status["reason"], "Forbidden");
        assert!(
            status["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(r#"meshconfigs.config.openservicemesh.io "osm-mesh-config" is forbidden: OSM falls back to zero-valued defaults"#),
            "{status}"
        );
        let open = Policy {
            protect_delete: false,
            ..policy()
        };
        let (out, _) = answer(review(&open, &body));
        assert_eq!(out["response"]["allowed"], true);
    }

    #[test]
    fn denies_versions_the_release_does_not_serve() {
        let old_release = Policy {
            release: Release::V0_9,
            ..policy()
        };
        let body = request(REVIEW_V1, "CREATE", meshconfig_object(json!({})), Value::Null);
        let (out, _) = answer(review(&old_release, &body));
        assert_eq!(out["response"]["allowed"], false);
        assert_eq!(
            out["response"]["status"]["message"],
            r#"MeshConfig.config.openservicemesh.io "osm-mesh-config" is invalid: apiVersion: Unsupported value: "config.openservicemesh.io/v1alpha2": supported values: "config.openservicemesh.io/v1alpha1""#
        );
    }

    #[test]
    fn allows_other_kinds() {
        let mut body: Value =
            serde_json::from_slice(&request(REVIEW_V1, "CREATE", json!({"kind": "Pod"}), Value::Null)).expect("json");
        body["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "Pod"});
        let (out, decision) = answer(review(&policy(), body.to_string().as_bytes()));
        assert_eq!(out["response"]["allowed"], true);
        assert_eq!(decision.route, Route::Other);
    }

    #[test]
    fn denies_objects_of_another_kind_than_request_kind() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "osm-mesh-config", "namespace": "arc-osm-system"}});
        let (out, decision) = answer(review(&policy(), &request(REVIEW_V1, "CREATE", pod, Value::Null)));
        assert_eq!(out["response"]["allowed"], false);
        assert_eq!(out["response"]["status"]["code"], 400);
        assert_eq!(
            decision.message,
            r#"the AdmissionReview's request.object is "v1" "Pod", but request.kind is "config.openservicemesh.io/v1alpha2" "MeshConfig""#
        );
        assert_eq!(decision.verdict, Verdict::Error);
        // The old object is checked too; objects without kind or apiVersion are not.
        let mut old = meshconfig_object(json!({}));
        old["apiVersion"] = json!("other.example.com/v1");
        let (out, _) = answer(review(
            &policy(),
            &request(REVIEW_V1, "UPDATE", meshconfig_object(json!({})), old),
        ));
        assert_eq!(out["response"]["allowed"], false, "{out}");
        let bare = json!({"metadata": {"name": "osm-mesh-config", "namespace": "arc-osm-system"}, "spec": {}});
        let (out, _) = answer(review(&policy(), &request(REVIEW_V1, "CREATE", bare, Value::Null)));
        assert_eq!(out["response"]["allowed"], true, "{out}");
    }

    #[test]
    fn answers_internal_errors_with_the_uid_when_there_is_one() {
        let body = request(REVIEW_V1BETA1, "CREATE", meshconfig_object(json!({})), Value::Null);
        assert_eq!(
            request_uid(&body).as_deref(),
            Some("705ab4f5-6393-11e8-b7cc-42010a800002")
        );
        let Some(reply) = internal_error(&body, "boom") else {
            panic!("no review for a body with a uid");
        };
        let (out, decision) = answer(reply);
        assert_eq!(out["apiVersion"], REVIEW_V1BETA1);
        assert_eq!(out["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(out["response"]["allowed"], false);
        let status = &out["response"]["status"];
        assert_eq!(status["code"], 500);
        assert_eq!(status["reason"], "InternalError");
        assert_eq!(status["message"], "Internal error occurred: boom");
        assert_eq!(status["details"]["causes"][0]["message"], "boom");
        assert_eq!(decision.verdict, Verdict::Error);
        for no_uid in [&b"{"[..], br#"{"request":{"uid":""}}"#, b"[]"] {
            assert!(internal_error(no_uid, "boom").is_none());
            assert_eq!(request_uid(no_uid), None);
        }
    }

    #[test]
    fn answers_unusable_reviews_with_a_uid_and_rejects_the_rest() {
        let (out, decision) = answer(review(
            &policy(),
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u1"}}"#,
        ));
        assert_eq!(out["apiVersion"], REVIEW_V1BETA1);
        assert_eq!(out["response"]["uid"], "u1");
        assert_eq!(out["response"]["allowed"], false);
        assert_eq!(out["response"]["status"]["code"], 400);
        assert!(
            decision
                .message
                .starts_with("the AdmissionReview cannot be decoded: missing field"),
            "{}",
            decision.message
        );
        assert_eq!(decision.verdict, Verdict::Error);

        for (body, want) in [
            (&b"{"[..], "the request body is not JSON: "),
            (b"[]", "expected an AdmissionReview object"),
            (
                br#"{"kind":"Pod","apiVersion":"v1"}"#,
                r#"expected an AdmissionReview, got kind "Pod""#,
            ),
            (
                br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v2"}"#,
                "unsupported AdmissionReview apiVersion",
            ),
            (
                br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}"#,
                "the AdmissionReview has no request",
            ),
        ] {
            match review(&policy(), body) {
                Reply::BadRequest(msg) => assert!(msg.starts_with(want), "{msg}"),
                Reply::Review { .. } => panic!("expected 400 for {}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn objects_kube_rs_cannot_decode_are_reported_as_kube_rs_words_it() {
        // The objects are taken out before the typed decode only when that cannot change it.
        for (object, old) in [
            (json!("text"), Value::Null),
            (meshconfig_object(json!({})), json!([1])),
            (json!({"metadata": {"labels": 5}}), Value::Null),
            (json!({"metadata": null}), Value::Null),
            (json!({"metadata": {"creationTimestamp": "yesterday"}}), Value::Null),
        ] {
            let body = request(REVIEW_V1, "UPDATE", object, old);
            let raw: Value = serde_json::from_slice(&body).expect("json");
            let Err(e) = AdmissionReview::<DynamicObject>::deserialize(&raw) else {
                panic!("kube-rs decodes {raw}");
            };
            let (out, decision) = answer(review(&policy(), &body));
            assert_eq!(decision.verdict, Verdict::Error, "{out}");
            assert_eq!(decision.message, format!("the AdmissionReview cannot be decoded: {e}"));
        }
    }

    /// Reviews exactly as kube-apiserver v1.37 sends them for `kubectl create`, `kubectl patch`
    /// and `kubectl patch --dry-run=server` (recorded by tests/apiserver_e2e.rs).
    const RECORDED: [(&str, &str, bool); 3] = [
        (
            "CREATE",
            include_str!("../../tests/fixtures/reviews/apiserver-create.json"),
            false,
        ),
        (
            "UPDATE",
            include_str!("../../tests/fixtures/reviews/apiserver-update.json"),
            false,
        ),
        (
            "UPDATE",
            include_str!("../../tests/fixtures/reviews/apiserver-dry-run-update.json"),
            true,
        ),
    ];

    #[test]
    fn decides_reviews_as_the_apiserver_sends_them() {
        for (operation, text, dry_run) in RECORDED {
            let (out, decision) = answer(review(&policy(), text.as_bytes()));
            assert_eq!(out["response"]["allowed"], true, "{operation}: {out}");
            assert_eq!(out["response"]["uid"], "00000000-0000-0000-0000-000000000000");
            assert_eq!(decision.operation, operation);
            assert_eq!(decision.dry_run, dry_run);
            assert_eq!(decision.user, "e2e-admin");

            let mut bad: Value = serde_json::from_str(text).expect("recorded review");
            bad["request"]["object"]["spec"]["certificate"]["serviceCertValidityDuration"] = json!("24x");
            let (out, decision) = answer(review(&policy(), bad.to_string().as_bytes()));
            assert_eq!(out["response"]["allowed"], false, "{operation}: {out}");
            assert_eq!(decision.denied_fields, ["spec.certificate.serviceCertValidityDuration"]);
        }
    }

    /// The one-pass path answers exactly as the general one, byte for byte, also for the bodies it
    /// hands over (duplicate keys, null or odd metadata, objects that are not maps, DELETE).
    #[test]
    fn the_stored_object_changes_only_errors() {
        // `ratcheted` reads the stored object only when the first check found errors: that is
        // sound only if an object without errors gets the same outcome with or without it.
        let schema = Schema::get(Release::V1_2, ApiVersion::V1alpha2).expect("v1.2 serves v1alpha2");
        let warned = [
            meshconfig_object(json!({"sidecar": {"logLevel": "error", "tyop": 1}})),
            meshconfig_object(json!({"traffic": {"outboundIPRangeExclusionList": ["10.0.0.0/8", "10.0.0.0/8"]}})),
            json!({"apiVersion": "config.openservicemesh.io/v1alpha2", "kind": "MeshConfig",
                   "metadata": {"name": "other", "nmespace": "x"}, "spec": {"x": {"y": 1}}}),
        ];
        let stored = [
            Value::Null,
            meshconfig_object(json!({})),
            meshconfig_object(json!({"sidecar": {"logLevel": "error", "tyop": 1}})),
            meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
        ];
        for object in &warned {
            let create = validate::meshconfig(schema, object, None);
            assert!(create.errors.is_empty() && !create.warnings.is_empty(), "{create:?}");
            for old in stored.iter().filter(|o| !o.is_null()) {
                assert_eq!(
                    validate::meshconfig(schema, object, Some(old)),
                    create,
                    "{object} over {old}"
                );
            }
        }
        let stored: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/configmap/osm-config-v0.8.4.json")).expect("JSON");
        let mut object = stored.clone();
        object["data"]["tyop"] = json!("x");
        object["data"]["outbound_ip_range_exclusion_list"] = json!("10.0.0.0/8,10.0.0.0/8");
        let create = validate::configmap(&object, None, UnknownKeys::Warn);
        assert!(create.errors.is_empty() && create.warnings.len() == 2, "{create:?}");
        let mut tyop = stored.clone();
        tyop["data"]["tyop"] = json!("y");
        for old in [stored, tyop, object.clone()] {
            assert_eq!(validate::configmap(&object, Some(&old), UnknownKeys::Warn), create);
        }
    }

    #[test]
    fn the_one_pass_path_answers_as_the_general_path() {
        let preset = meshconfig_object(json!({"sidecar": {"logLevel": "error"}}));
        let mut bodies: Vec<Vec<u8>> = RECORDED.iter().map(|(_, t, _)| t.as_bytes().to_vec()).collect();
        for (op, object, old) in [
            ("CREATE", preset.clone(), Value::Null),
            ("UPDATE", preset.clone(), preset.clone()),
            (
                "UPDATE",
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
                preset.clone(),
            ),
            (
                "UPDATE",
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
            ),
            (
                "UPDATE",
                preset.clone(),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
            ),
            // Errors in one or two sections, the stored sections equal or not (ratcheting reads
            // only those sections of the stored object).
            (
                "UPDATE",
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"},
                    "traffic": {"outboundIPRangeExclusionList": ["10.0.0.0/33"], "enableEgress": true}})),
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"},
                    "traffic": {"outboundIPRangeExclusionList": ["10.0.0.0/33"]}})),
            ),
            (
                "UPDATE",
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"},
                    "traffic": {"outboundIPRangeExclusionList": ["10.0.0.0/33"]}})),
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"},
                    "traffic": {"outboundIPRangeExclusionList": ["10.0.0.0/33"]}})),
            ),
            (
                "UPDATE",
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
                meshconfig_object(json!({"certificate": null, "sidecar": {"logLevel": "error"}})),
            ),
            (
                "UPDATE",
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
                json!({"apiVersion": "config.openservicemesh.io/v1alpha2", "kind": "MeshConfig",
                       "metadata": {"name": "osm-mesh-config", "namespace": "arc-osm-system"}, "spec": "x"}),
            ),
            (
                "UPDATE",
                meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
                json!({"apiVersion": "config.openservicemesh.io/v1alpha2", "kind": "MeshConfig",
                       "metadata": {"name": "osm-mesh-config", "namespace": "arc-osm-system"}}),
            ),
            (
                "UPDATE",
                meshconfig_object(
                    json!({"certificate": "24x", "sidecar": {"tlsMinProtocolVersion": "TLSv1_3",
                    "tlsMaxProtocolVersion": "TLSv1_2"}}),
                ),
                meshconfig_object(json!({"certificate": "24x", "sidecar": {"tlsMinProtocolVersion": "TLSv1_3"}})),
            ),
            (
                "UPDATE",
                meshconfig_object(json!({"sidecar": {"tlsMinProtocolVersion": "TLSv1_3",
                    "tlsMaxProtocolVersion": "TLSv1_2"}})),
                meshconfig_object(json!({"sidecar": {"tlsMinProtocolVersion": "TLSv1_3"}})),
            ),
            ("UPDATE", preset.clone(), json!({"metadata": null})),
            ("UPDATE", preset.clone(), json!({"metadata": {"name": 5}})),
            ("UPDATE", preset.clone(), json!([1, 2])),
            ("UPDATE", preset.clone(), json!("text")),
            ("UPDATE", json!({"metadata": {"labels": "x"}}), preset.clone()),
            ("DELETE", Value::Null, preset.clone()),
            ("DELETE", Value::Null, json!({"kind": 5})),
        ] {
            bodies.push(request(REVIEW_V1, op, object, old));
        }
        let update = String::from_utf8(request(REVIEW_V1, "UPDATE", preset.clone(), preset)).expect("utf-8");
        let long_number = format!("\"x\":{},\"uid\":", "9".repeat(400));
        for (from, to) in [
            // Repeated keys, a response beside the request.
            ("\"object\":", "\"object\":null,\"object\":"),
            ("\"uid\":", "\"uid\":\"dup\",\"uid\":"),
            ("{", "{\"response\":5,"),
            // Found by the fuzzer: a lone surrogate escape where the one pass only skips.
            ("\"oldObject\":{", "\"oldObject\":{\"x\":\"\\ud800\","),
            ("{", "{\"x\":\"\\udc00\","),
            ("\"operation\":", "\"dryRun\":\"yes\",\"operation\":"),
            ("\"uid\":\"", "\"uid\":\"\\u0041"),
            ("\"metadata\":{", "\"metadata\":{\"name\":\"a\","),
            // Numbers a tree cannot hold (beyond f64) where the one pass only skips: the old
            // object, a field of the review no type reads, managedFields.
            ("\"oldObject\":{", "\"oldObject\":{\"x\":1e400,"),
            ("{", "{\"x\":[-1E+309],"),
            ("\"uid\":", long_number.as_str()),
            (
                "\"metadata\":{",
                "\"metadata\":{\"managedFields\":[{\"fieldsV1\":{\"f:spec\":1e999}}],",
            ),
            // The request's fields the one pass checks and does not keep.
            ("\"resource\":{", "\"resource\":{\"api_version\":\"x\","),
            ("\"resource\":{", "\"resource\":{\"api_version\":5,"),
            ("\"resource\":{\"group\"", "\"resource\":{\"grp\""),
            ("\"resource\":{", "\"requestResource\":null,\"resource\":{"),
            ("\"resource\":{", "\"requestResource\":[],\"resource\":{"),
            (
                "\"resource\":{",
                "\"requestKind\":{\"group\":\"\",\"version\":\"v1\"},\"resource\":{",
            ),
            (
                "\"resource\":{",
                "\"requestKind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"X\",\"y\":[1.5]},\"resource\":{",
            ),
            (
                "\"resource\":{",
                "\"subResource\":null,\"requestSubResource\":\"status\",\"resource\":{",
            ),
            ("\"resource\":{", "\"subResource\":1,\"resource\":{"),
            ("\"userInfo\":{", "\"userInfo\":{\"groups\":[\"a\",null],"),
            (
                "\"userInfo\":{",
                "\"userInfo\":{\"groups\":null,\"uid\":\"u\",\"extra\":{\"k\":[\"v\"]},",
            ),
            ("\"userInfo\":{", "\"userInfo\":{\"extra\":{\"k\":\"v\"},"),
            ("\"userInfo\":{", "\"userInfo\":{\"extra\":[],"),
            ("\"userInfo\":{", "\"userInfo\":{\"username\":null,\"username\":\"b\","),
            (
                "\"userInfo\":{",
                "\"userInfo\":{\"$serde_json::private::RawValue\":\"{}\",",
            ),
            ("\"uid\":", "\"options\":{\"a\":[1e400]},\"uid\":"),
            ("\"uid\":", "\"options\":[true,null,{\"b\":-0.0}],\"uid\":"),
        ] {
            assert!(update.contains(from), "{from}");
            bodies.push(update.replacen(from, to, 1).into_bytes());
        }
        let mut invalid_utf8 = update.replacen("{", "{\"x\":\"@\",", 1).into_bytes();
        if let Some(at) = invalid_utf8.iter().position(|&b| b == b'@') {
            invalid_utf8[at] = 0xff;
        }
        bodies.push(invalid_utf8);
        // A denied update whose stored object repeats `spec` or a section (the last one counts).
        let denied = String::from_utf8(request(
            REVIEW_V1,
            "UPDATE",
            meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
            meshconfig_object(json!({"certificate": {"serviceCertValidityDuration": "24x"}})),
        ))
        .expect("utf-8");
        let (head, stored) = denied.split_at(denied.find("\"oldObject\"").expect("oldObject"));
        for (from, to) in [
            ("\"oldObject\":{", "\"oldObject\":{\"spec\":{\"certificate\":{}},"),
            ("\"spec\":{", "\"spec\":{\"certificate\":{},"),
            ("\"spec\":{", "\"spec\":5,\"spec\":{"),
            ("\"spec\":{", "\"spec\":{},\"spec\":[1],\"x\":{"),
        ] {
            bodies.push(format!("{head}{}", stored.replacen(from, to, 1)).into_bytes());
        }
        bodies.push(b"{\"request\":{\"object\":{}}}".to_vec());
        bodies.push(b"[]".to_vec());
        for (_, text, _) in RECORDED {
            assert!(
                OnePass::of(text.as_bytes()).is_some(),
                "the apiserver's reviews take the one-pass path"
            );
        }
        for body in &bodies {
            for policy in [
                policy(),
                Policy {
                    protect_delete: false,
                    ..policy()
                },
            ] {
                assert_eq!(
                    review(&policy, body),
                    review_whole(&policy, body),
                    "{}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }
}
