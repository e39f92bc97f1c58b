//! Bad input against the real binary over TLS, table-driven: broken JSON, wrong envelopes, wrong
//! shapes at every level of a MeshConfig, nulls at every field, extreme numbers, deep nesting,
//! huge bodies, duplicate keys, long strings, wrong methods, content types and encodings, odd HTTP
//! (1.0, slow headers, smuggling-shaped headers) and old TLS. Each case must get a clear 4xx or an
//! AdmissionReview answer (a denial with a message, or an allowance where the apiserver itself
//! would allow: nulls it prunes) — never a 5xx, a dropped connection or a hang — and a valid
//! review must succeed right after each.

mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use meshconfig_webhook::schema::{ApiVersion, JsonType, Node, Release, Schema};
use serde_json::{Value, json};
use support::{UID, Webhook, meshconfig_v1_2, review};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const V1: &str = "admission.k8s.io/v1";
/// Short timeouts so slow-client cases finish quickly.
const HEADER_TIMEOUT: &str = "1s";
const BODY_TIMEOUT: &str = "1s";
/// A case not answered within this is a hang.
const HANG: Duration = Duration::from_secs(15);
const MIB: usize = 1024 * 1024;

/// What a case sends on a fresh TLS connection.
enum Send {
    /// `POST /validate` with `content-type: application/json`, this body and `connection: close`.
    Json(Vec<u8>),
    /// Bytes written as they are.
    Raw(Vec<u8>),
    /// The first `upto` bytes written in pieces of `chunk` bytes, `pause` apart, then the rest.
    Paced {
        bytes: Vec<u8>,
        upto: usize,
        chunk: usize,
        pause: Duration,
    },
}

/// What a case must get back.
#[derive(Debug)]
enum Expect {
    /// This HTTP status, with a plain-text body starting with this text.
    Http(u16, String),
    /// This HTTP status from the HTTP layer itself (hyper's parse errors carry no body).
    Bare(u16),
    /// HTTP 200 with an AdmissionReview denying the request (uid echoed), its status message
    /// containing this text.
    Denied(String),
    /// HTTP 200 with an AdmissionReview allowing the request (uid echoed).
    Allowed,
    /// The server closes the connection without an answer (a client that never finishes its
    /// request headers), within the header-read timeout.
    Closed,
}

struct Case {
    name: String,
    send: Send,
    expect: Expect,
}

fn case(name: impl Into<String>, send: Send, expect: Expect) -> Case {
    Case {
        name: name.into(),
        send,
        expect,
    }
}

fn http(status: u16, text: &str) -> Expect {
    Expect::Http(status, text.to_owned())
}

fn denied(text: &str) -> Expect {
    Expect::Denied(text.to_owned())
}

/// A review of `object` as a MeshConfig CREATE.
fn create(object: &Value) -> Value {
    review(V1, "CREATE", Some(object), None)
}

fn json_body(v: &Value) -> Send {
    Send::Json(v.to_string().into_bytes())
}

/// The v1.2.4 MeshConfig with the value at `path` (dot-separated, under the object) replaced,
/// creating missing parents.
fn with(path: &str, value: Value) -> Value {
    let mut object = meshconfig_v1_2();
    let mut at = &mut object;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        if !at.get(*p).is_some_and(Value::is_object) {
            at[*p] = json!({});
        }
        at = &mut at[*p];
    }
    at[parts[parts.len() - 1]] = value;
    object
}

/// A review with the value at a JSON pointer replaced.
fn review_with(pointer: &str, value: Value) -> Value {
    let mut r = create(&meshconfig_v1_2());
    match r.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        None => panic!("no {pointer} in the review"),
    }
    r
}

fn review_without(parent: &str, key: &str) -> Value {
    let mut r = create(&meshconfig_v1_2());
    if let Some(map) = r.pointer_mut(parent).and_then(Value::as_object_mut) {
        map.remove(key);
    }
    r
}

/// `POST /validate` over HTTP/1.1 with these extra header lines.
fn post(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn valid_body() -> Vec<u8> {
    create(&meshconfig_v1_2()).to_string().into_bytes()
}

fn invalid_body() -> Vec<u8> {
    create(&with("spec.traffic.enableEgress", json!("no")))
        .to_string()
        .into_bytes()
}

/// Every path of the schema (dot-separated under `spec`) with its node and its parent's required
/// list.
fn schema_paths() -> Vec<(String, &'static Node, bool)> {
    fn walk(prefix: &str, node: &'static Node, out: &mut Vec<(String, &'static Node, bool)>) {
        for (key, child) in &node.props {
            let path = format!("{prefix}.{key}");
            out.push((path.clone(), child, node.required.contains(key)));
            walk(&path, child, out);
        }
    }
    let schema = Schema::get(Release::V1_2, ApiVersion::V1alpha2).expect("the v1.2 v1alpha2 schema");
    let mut out = vec![("spec".to_owned(), &schema.spec, false)];
    walk("spec", &schema.spec, &mut out);
    out
}

fn cases() -> Vec<Case> {
    let mut c = Vec::new();
    let valid = valid_body();
    let text = String::from_utf8(valid.clone()).expect("utf-8");

    // --- Not JSON, or not quite JSON.
    let not_json = "the request body is not JSON: ";
    for (name, body) in [
        ("empty body", Vec::new()),
        ("a lone brace", b"{".to_vec()),
        ("truncated at half", valid[..valid.len() / 2].to_vec()),
        ("truncated by one byte", valid[..valid.len() - 1].to_vec()),
        ("trailing garbage", [&valid[..], b" x"].concat()),
        ("two documents", [&valid[..], &valid[..]].concat()),
        ("single quotes", text.replace('"', "'").into_bytes()),
        ("a comment", [b"// review\n", &valid[..]].concat()),
        ("a byte-order mark", [&b"\xEF\xBB\xBF"[..], &valid[..]].concat()),
        ("NaN", b"NaN".to_vec()),
        ("a trailing comma", text.replacen('}', ",}", 1).into_bytes()),
        ("non-UTF-8 bytes", b"\xff\xfe\xfd".to_vec()),
        ("a NUL byte inside a string", text.replace(UID, "a\0b").into_bytes()),
        (
            "invalid UTF-8 inside a string",
            [&valid[..20], b"\"x\xC3\x28\":1,", &valid[20..]].concat(),
        ),
        ("a lone surrogate escape", text.replace(UID, "\\ud800").into_bytes()),
        ("a raw control character", text.replace(UID, "a\u{1}b").into_bytes()),
        ("UTF-16", text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        (
            "a number beyond f64",
            text.replacen("\"dryRun\":false", "\"dryRun\":1e400", 1).into_bytes(),
        ),
        (
            "10 000 nested arrays",
            ["[".repeat(10_000), "]".repeat(10_000)].concat().into_bytes(),
        ),
        ("10 000 nested objects in spec", {
            let deep = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
            text.replacen("\"spec\":{", &format!("\"spec\":{{\"deep\":{deep},"), 1)
                .into_bytes()
        }),
    ] {
        let want = if name.starts_with("10 000") {
            "the request body is not JSON: recursion limit exceeded"
        } else {
            not_json
        };
        c.push(case(format!("json: {name}"), Send::Json(body), http(400, want)));
    }

    // --- JSON, but not an AdmissionReview (no uid to answer: 400).
    for (name, body, want) in [
        ("a string", json!("review"), "expected an AdmissionReview object"),
        ("null", Value::Null, "expected an AdmissionReview object"),
        (
            "an array",
            json!([create(&meshconfig_v1_2())]),
            "expected an AdmissionReview object",
        ),
        ("a number", json!(42), "expected an AdmissionReview object"),
        (
            "an empty object",
            json!({}),
            "not an AdmissionReview: apiVersion and kind are required",
        ),
        (
            "a MeshConfig instead of a review",
            meshconfig_v1_2(),
            "expected an AdmissionReview, got kind \"MeshConfig\"",
        ),
        (
            "no request",
            json!({"apiVersion": V1, "kind": "AdmissionReview"}),
            "the AdmissionReview has no request",
        ),
        (
            "request null",
            json!({"apiVersion": V1, "kind": "AdmissionReview", "request": null}),
            "the AdmissionReview has no request",
        ),
        (
            "request an array",
            review_with("/request", json!([])),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "request a string",
            review_with("/request", json!("r")),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "no uid",
            review_without("/request", "uid"),
            "the AdmissionReview cannot be decoded: missing field `uid`",
        ),
        (
            "an empty uid",
            review_with("/request/uid", json!("")),
            "the AdmissionReview's request.uid is empty",
        ),
        (
            "a numeric uid",
            review_with("/request/uid", json!(42)),
            "the AdmissionReview cannot be decoded: invalid type: integer `42`, expected a string",
        ),
        (
            "a response instead of a request",
            json!({"apiVersion": V1, "kind": "AdmissionReview", "response": {"uid": UID, "allowed": true}}),
            "the AdmissionReview cannot be decoded: ",
        ),
    ] {
        c.push(case(format!("envelope: {name}"), json_body(&body), http(400, want)));
    }

    // --- A review with a uid, but unusable: a denial (never allowed by failurePolicy Ignore).
    for (name, body, want) in [
        (
            "apiVersion admission.k8s.io/v2",
            review_with("/apiVersion", json!("admission.k8s.io/v2")),
            "unsupported AdmissionReview apiVersion \"admission.k8s.io/v2\"",
        ),
        (
            "apiVersion a number",
            review_with("/apiVersion", json!(1)),
            "not an AdmissionReview: apiVersion and kind are required",
        ),
        (
            "no apiVersion",
            review_without("", "apiVersion"),
            "not an AdmissionReview: apiVersion and kind are required",
        ),
        (
            "kind AdmissionRequest",
            review_with("/kind", json!("AdmissionRequest")),
            "expected an AdmissionReview, got kind \"AdmissionRequest\"",
        ),
        (
            "no kind",
            review_without("", "kind"),
            "not an AdmissionReview: apiVersion and kind are required",
        ),
        (
            "operation PATCH",
            review_with("/request/operation", json!("PATCH")),
            "unknown variant `PATCH`",
        ),
        (
            "operation lowercase",
            review_with("/request/operation", json!("create")),
            "unknown variant `create`",
        ),
        (
            "operation empty",
            review_with("/request/operation", json!("")),
            "unknown variant ``",
        ),
        (
            "operation a number",
            review_with("/request/operation", json!(1)),
            "the AdmissionReview cannot be decoded: invalid type: integer `1`",
        ),
        (
            "no operation",
            review_without("/request", "operation"),
            "missing field `operation`",
        ),
        (
            "no request.kind",
            review_without("/request", "kind"),
            "missing field `kind`",
        ),
        (
            "request.kind a string",
            review_with("/request/kind", json!("MeshConfig")),
            "the AdmissionReview cannot be decoded: invalid type: string",
        ),
        (
            "request.kind without kind",
            review_without("/request/kind", "kind"),
            "missing field `kind`",
        ),
        (
            "userInfo an array",
            review_with("/request/userInfo", json!([])),
            "the AdmissionReview cannot be decoded: invalid type: sequence",
        ),
        (
            "dryRun a string",
            review_with("/request/dryRun", json!("yes")),
            "the AdmissionReview cannot be decoded: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "object a string",
            review_with("/request/object", json!("osm-mesh-config")),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "object an array",
            review_with("/request/object", json!([meshconfig_v1_2()])),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "object a number",
            review_with("/request/object", json!(1)),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "no object on CREATE",
            review_with("/request/object", Value::Null),
            "the AdmissionReview's request.object is missing",
        ),
        (
            "oldObject a string on UPDATE",
            {
                let mut r = review_with("/request/operation", json!("UPDATE"));
                r["request"]["oldObject"] = json!("old");
                r
            },
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "object of another kind",
            review_with(
                "/request/object",
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "osm-mesh-config", "namespace": "arc-osm-system"}, "spec": {"containers": []}}),
            ),
            "the AdmissionReview's request.object is \"v1\" \"Pod\", but request.kind is \"config.openservicemesh.io/v1alpha2\" \"MeshConfig\"",
        ),
        (
            "object of another group",
            review_with("/request/object/apiVersion", json!("example.com/v1alpha2")),
            "request.object is \"example.com/v1alpha2\" \"MeshConfig\"",
        ),
        (
            "metadata an array",
            review_with("/request/object/metadata", json!([])),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "metadata a string",
            review_with("/request/object/metadata", json!("osm-mesh-config")),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "metadata null",
            review_with("/request/object/metadata", Value::Null),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "labels an array",
            review_with(
                "/request/object/metadata",
                json!({"name": "osm-mesh-config", "labels": ["a"]}),
            ),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "annotations a string",
            review_with(
                "/request/object/metadata",
                json!({"name": "osm-mesh-config", "annotations": "a=b"}),
            ),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "name a number",
            review_with("/request/object/metadata", json!({"name": 1})),
            "the AdmissionReview cannot be decoded: ",
        ),
        (
            "a MeshConfig with an unserved version",
            review_with("/request/kind/version", json!("v9")),
            "apiVersion: Unsupported value: \"config.openservicemesh.io/v9\"",
        ),
    ] {
        c.push(case(format!("review: {name}"), json_body(&body), denied(want)));
    }

    // --- Arrays and strings where objects belong, at every object level of a MeshConfig.
    for (path, node, _) in schema_paths() {
        if !matches!(node.ty, JsonType::Object | JsonType::Map) {
            continue;
        }
        for (label, value) in [("array", json!([])), ("string", json!("x"))] {
            c.push(case(
                format!("shape: {path} a {label}"),
                json_body(&create(&with(&path, value))),
                denied(&format!(
                    "{path}: Invalid value: \"{label}\": {path} in body must be of type object: \"{label}\""
                )),
            ));
        }
    }
    // … and objects where scalars and lists belong.
    for (path, want) in [
        ("spec.traffic.enableEgress", "must be of type boolean: \"object\""),
        ("spec.sidecar.logLevel", "must be of type string: \"object\""),
        ("spec.certificate.certKeyBitSize", "must be of type integer: \"object\""),
        (
            "spec.traffic.outboundPortExclusionList",
            "must be of type array: \"object\"",
        ),
    ] {
        c.push(case(
            format!("shape: {path} an object"),
            json_body(&create(&with(path, json!({"a": 1})))),
            denied(want),
        ));
    }

    // --- null at every field: the apiserver prunes nulls of non-nullable fields before admission,
    // so an optional field set to null is allowed (as it would be stored: absent); a required one
    // is missing. In a list, null is an item of the wrong type.
    for (path, node, required) in schema_paths() {
        let expect = if required {
            denied(&format!("{path}: Required value"))
        } else {
            Expect::Allowed
        };
        c.push(case(
            format!("null: {path}"),
            json_body(&create(&with(&path, Value::Null))),
            expect,
        ));
        if node.ty == JsonType::Array {
            let item = match node.items.as_ref().map(|n| n.ty) {
                Some(JsonType::Integer) => "integer",
                Some(JsonType::Object) => "object",
                _ => "string",
            };
            c.push(case(
                format!("null: {path}[0]"),
                json_body(&create(&with(&path, json!([null])))),
                denied(&format!(
                    "{path}[0]: Invalid value: \"null\": {path}[0] in body must be of type {item}: \"null\""
                )),
            ));
        }
    }
    for (name, pointer) in [
        ("uid", "/request/uid"),
        ("operation", "/request/operation"),
        ("kind", "/request/kind"),
    ] {
        c.push(case(
            format!("null: request.{name}"),
            json_body(&review_with(pointer, Value::Null)),
            denied("the AdmissionReview cannot be decoded: invalid type: null"),
        ));
    }
    // A null uid leaves no uid to answer.
    if let Some(first) = c.iter_mut().find(|k| k.name == "null: request.uid") {
        first.expect = http(
            400,
            "the AdmissionReview cannot be decoded: invalid type: null, expected a string",
        );
    }

    // --- Numbers: beyond i64/u64, floats for integers, negative and huge values.
    let port_list = "spec.traffic.outboundPortExclusionList";
    for (name, path, value, want) in [
        (
            "u64::MAX as a port",
            port_list,
            json!([u64::MAX]),
            // Beyond i64 the apiserver's decoder has a float64: not an integer.
            "spec.traffic.outboundPortExclusionList[0] in body must be of type integer: \"number\"",
        ),
        (
            "i64::MIN as a port",
            port_list,
            json!([i64::MIN]),
            "in body should be greater than or equal to 1",
        ),
        (
            "beyond u64 as a port",
            port_list,
            json!([1.8446744073709552e19]),
            "spec.traffic.outboundPortExclusionList[0]",
        ),
        (
            "a float port",
            port_list,
            json!([80.5]),
            "spec.traffic.outboundPortExclusionList[0] in body must be of type integer: \"number\"",
        ),
        (
            "i64::MAX as key size",
            "spec.certificate.certKeyBitSize",
            json!(i64::MAX),
            "spec.certificate.certKeyBitSize",
        ),
        (
            "a negative key size",
            "spec.certificate.certKeyBitSize",
            json!(-2048),
            "spec.certificate.certKeyBitSize",
        ),
        (
            "a float key size",
            "spec.certificate.certKeyBitSize",
            json!(2048.5),
            "spec.certificate.certKeyBitSize in body must be of type integer: \"number\"",
        ),
        (
            "a 4e4 tracing port as a float with exponent",
            "spec.observability.tracing.port",
            json!(4e4),
            "spec.observability.tracing.port",
        ),
        (
            "a boolean for an integer",
            "spec.sidecar.maxDataPlaneConnections",
            json!(true),
            "must be of type integer: \"boolean\"",
        ),
        (
            "a number for a string",
            "spec.sidecar.logLevel",
            json!(3),
            "must be of type string: \"integer\"",
        ),
        (
            "a huge duration",
            "spec.certificate.serviceCertValidityDuration",
            json!("99999999999999999999h"),
            "spec.certificate.serviceCertValidityDuration: Invalid value: \"99999999999999999999h\"",
        ),
    ] {
        c.push(case(
            format!("number: {name}"),
            json_body(&create(&with(path, value))),
            denied(want),
        ));
    }
    // A float with no fraction is an integer to the apiserver (kube-openapi accepts 2048.0).
    c.push(case(
        "number: 2048.0 as key size",
        Send::Json(
            text.replacen("\"certKeyBitSize\":2048", "\"certKeyBitSize\":2048.0", 1)
                .into_bytes(),
        ),
        Expect::Allowed,
    ));
    c.push(case(
        "number: a 400-digit integer",
        Send::Json(
            text.replacen(
                "\"certKeyBitSize\":2048",
                &format!("\"certKeyBitSize\":{}", "9".repeat(400)),
                1,
            )
            .into_bytes(),
        ),
        http(400, "the request body is not JSON: number out of range"),
    ));

    // --- Deep but legal nesting (under serde_json's 128 levels): answered, unknown fields warned.
    let deep = (0..100).fold(json!(1), |v, _| json!({ "a": v }));
    c.push(case(
        "nesting: 100 levels under an unknown field",
        json_body(&create(&with("spec.unknown", deep))),
        Expect::Allowed,
    ));
    let deep_list = (0..100).fold(json!(1), |v, _| json!([v]));
    c.push(case(
        "nesting: 100 levels in a port list",
        json_body(&create(&with(port_list, json!([deep_list])))),
        denied("spec.traffic.outboundPortExclusionList[0] in body must be of type integer: \"array\""),
    ));

    // --- Duplicate keys: the last one wins, as in Go's encoding/json (what OSM reads).
    let egress_then = |a: &str, b: &str| {
        Send::Json(
            text.replacen(
                "\"enableEgress\":true",
                &format!("\"enableEgress\":{a},\"enableEgress\":{b}"),
                1,
            )
            .into_bytes(),
        )
    };
    c.push(case(
        "duplicates: valid then invalid",
        egress_then("true", "\"no\""),
        denied("spec.traffic.enableEgress: Invalid value: \"string\""),
    ));
    c.push(case(
        "duplicates: invalid then valid",
        egress_then("\"no\"", "true"),
        Expect::Allowed,
    ));
    c.push(case(
        "duplicates: two requests",
        Send::Json(
            format!(
                "{{\"apiVersion\":\"{V1}\",\"kind\":\"AdmissionReview\",\"request\":{{\"uid\":\"x\"}},{}",
                &text[1..]
            )
            .into_bytes(),
        ),
        Expect::Allowed,
    ));
    c.push(case(
        "duplicates: two uids",
        Send::Json(
            text.replacen(
                &format!("\"uid\":\"{UID}\""),
                &format!("\"uid\":\"other\",\"uid\":\"{UID}\""),
                1,
            )
            .into_bytes(),
        ),
        Expect::Allowed,
    ));

    // --- Long strings and keys.
    let long = "x".repeat(MIB);
    c.push(case(
        "long: 1 MiB log level",
        json_body(&create(&with("spec.sidecar.logLevel", json!(long)))),
        denied("spec.sidecar.logLevel: Unsupported value: "),
    ));
    c.push(case(
        "long: 1 MiB duration",
        json_body(&create(&with(
            "spec.certificate.serviceCertValidityDuration",
            json!(long),
        ))),
        denied("spec.certificate.serviceCertValidityDuration: Invalid value: "),
    ));
    c.push(case(
        "long: 1 MiB CIDR",
        json_body(&create(&with(
            "spec.traffic.outboundIPRangeExclusionList",
            json!([long]),
        ))),
        denied("spec.traffic.outboundIPRangeExclusionList[0]"),
    ));
    c.push(case(
        "long: 1 MiB key in spec",
        json_body(&create(&with(&format!("spec.{long}"), json!(1)))),
        Expect::Allowed,
    ));
    c.push(case(
        "long: 1 MiB annotation",
        json_body(&create(&with("metadata.annotations", json!({"a": long})))),
        Expect::Allowed,
    ));
    c.push(case(
        "long: 1 MiB uid",
        Send::Json(text.replace(UID, &long).into_bytes()),
        Expect::Allowed,
    ));
    c.push(case(
        "long: 20 000 unknown keys",
        json_body(&create(&with(
            "spec.sidecar",
            Value::Object((0..20_000).map(|i| (format!("k{i}"), json!(i))).collect()),
        ))),
        Expect::Allowed,
    ));
    c.push(case(
        "long: 20 000 bad ports",
        json_body(&create(&with(port_list, json!(vec![0; 20_000])))),
        // The first 100 errors by path, then the count (tests/server_bounds.rs: the largest).
        denied(", … and 19900 more errors]"),
    ));

    // --- Sizes: 10 MiB refused by its declared length and while streaming; just under the
    // 3 MiB limit is answered.
    let big = create(&with("metadata.annotations", json!({"a": "x".repeat(10 * MIB)})))
        .to_string()
        .into_bytes();
    let too_large = "request body larger than 3145728 bytes (--max-body-bytes)";
    c.push(case(
        "size: 10 MiB with content-length",
        Send::Raw(post("content-type: application/json\r\n", &big)),
        http(413, too_large),
    ));
    c.push(case(
        "size: 10 MiB chunked",
        Send::Raw(chunked("content-type: application/json\r\n", &big)),
        http(413, too_large),
    ));
    let near = create(&with("metadata.annotations", json!({"a": "x".repeat(3 * MIB - 2048)})));
    c.push(case("size: just under 3 MiB", json_body(&near), Expect::Allowed));

    // --- Methods, paths, content types and encodings.
    let ct = "content-type: application/json\r\n";
    for method in ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"] {
        let body = if method == "HEAD" {
            String::new()
        } else {
            format!("method {method} is not allowed on /validate: send an AdmissionReview with POST")
        };
        let expect = if method == "HEAD" {
            Expect::Bare(405)
        } else {
            Expect::Http(405, body)
        };
        c.push(case(
            format!("http: {method}"),
            Send::Raw(format!("{method} /validate HTTP/1.1\r\nhost: 127.0.0.1\r\n{ct}content-length: {}\r\nconnection: close\r\n\r\n{text}", text.len()).into_bytes()),
            expect,
        ));
    }
    c.push(case(
        "http: POST /",
        Send::Raw(post(ct, &valid).replacen_path("/validate", "/")),
        http(404, "/ not found: admission reviews go to POST /validate"),
    ));
    c.push(case(
        "http: POST /validate/",
        Send::Raw(post(ct, &valid).replacen_path("/validate", "/validate/")),
        http(404, "/validate/ not found"),
    ));
    c.push(case(
        "http: a 64 KiB path",
        Send::Raw(post(ct, &valid).replacen_path("/validate", &format!("/{}", "v".repeat(65_536)))),
        Expect::Bare(414),
    ));
    c.push(case(
        "http: the apiserver's timeout query",
        Send::Raw(post(ct, &invalid_body()).replacen_path("/validate", "/validate?timeout=10s")),
        denied("spec.traffic.enableEgress"),
    ));
    let unsupported = |shown: &str| {
        http(
            415,
            &format!("unsupported Content-Type {shown}: an AdmissionReview must be sent as application/json"),
        )
    };
    c.push(case(
        "content-type: missing",
        Send::Raw(post("", &valid)),
        unsupported("(none)"),
    ));
    c.push(case(
        "content-type: text/plain",
        Send::Raw(post("content-type: text/plain\r\n", &valid)),
        unsupported("\"text/plain\""),
    ));
    c.push(case(
        "content-type: application/yaml",
        Send::Raw(post("content-type: application/yaml\r\n", &valid)),
        unsupported("\"application/yaml\""),
    ));
    c.push(case(
        "content-type: json-patch",
        Send::Raw(post("content-type: application/json-patch+json\r\n", &valid)),
        unsupported("\"application/json-patch+json\""),
    ));
    c.push(case(
        "content-type: protobuf",
        Send::Raw(post("content-type: application/vnd.kubernetes.protobuf\r\n", &valid)),
        unsupported("\"application/vnd.kubernetes.protobuf\""),
    ));
    c.push(case(
        "content-type: empty",
        Send::Raw(post("content-type: \r\n", &valid)),
        unsupported("\"\""),
    ));
    c.push(case(
        "content-type: two of them",
        Send::Raw(post(
            "content-type: text/plain\r\ncontent-type: application/json\r\n",
            &valid,
        )),
        unsupported("\"text/plain\""),
    ));
    // What `curl --data @review.json` sends without `-H`: the body is read as JSON all the same
    // (docs/operations.md, "Timeouts and limits"), so a review is answered and a real form is a 400.
    c.push(case(
        "content-type: form-urlencoded review",
        Send::Raw(post("content-type: application/x-www-form-urlencoded\r\n", &valid)),
        Expect::Allowed,
    ));
    c.push(case(
        "content-type: form-urlencoded form",
        Send::Raw(post("content-type: application/x-www-form-urlencoded\r\n", b"a=b&c=d")),
        http(400, "the request body is not JSON: "),
    ));
    c.push(case(
        "content-type: with a charset",
        Send::Raw(post("content-type: application/json; charset=utf-8\r\n", &valid)),
        Expect::Allowed,
    ));
    let gzip_text = "unsupported Content-Encoding \"gzip\": send the AdmissionReview uncompressed";
    let gz = gzip_stored(&valid);
    c.push(case(
        "content-encoding: gzip",
        Send::Raw(post(&format!("{ct}content-encoding: gzip\r\n"), &gz)),
        http(415, gzip_text),
    ));
    c.push(case(
        "content-encoding: gzip, uncompressed body",
        Send::Raw(post(&format!("{ct}content-encoding: gzip\r\n"), &valid)),
        http(415, gzip_text),
    ));
    c.push(case(
        "content-encoding: br",
        Send::Raw(post(&format!("{ct}content-encoding: br\r\n"), &valid)),
        http(415, "unsupported Content-Encoding \"br\""),
    ));
    c.push(case(
        "content-encoding: identity",
        Send::Raw(post(&format!("{ct}content-encoding: identity\r\n"), &valid)),
        Expect::Allowed,
    ));

    // --- HTTP framing.
    c.push(case(
        "framing: HTTP/1.0",
        Send::Raw(
            format!(
                "POST /validate HTTP/1.0\r\n{ct}content-length: {}\r\n\r\n",
                invalid_body().len()
            )
            .into_bytes()
            .into_iter()
            .chain(invalid_body())
            .collect(),
        ),
        denied("spec.traffic.enableEgress"),
    ));
    c.push(case(
        "framing: HTTP/1.0 GET",
        Send::Raw(b"GET /validate HTTP/1.0\r\n\r\n".to_vec()),
        http(405, "method GET is not allowed"),
    ));
    c.push(case(
        "framing: HTTP/0.9",
        Send::Raw(b"GET /validate\r\n\r\n".to_vec()),
        Expect::Bare(400),
    ));
    c.push(case(
        // Without --http2 hyper closes: an HTTP/1 answer would mean nothing to an h2 client.
        "framing: HTTP/2 preface without ALPN",
        Send::Raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()),
        Expect::Closed,
    ));
    c.push(case(
        "framing: garbage request line",
        Send::Raw(b"\x00\x01\x02 / HTTP/1.1\r\n\r\n".to_vec()),
        Expect::Bare(400),
    ));
    c.push(case(
        "framing: a bad content-length",
        Send::Raw(format!("POST /validate HTTP/1.1\r\nhost: a\r\n{ct}content-length: ten\r\n\r\n{text}").into_bytes()),
        Expect::Bare(400),
    ));
    c.push(case(
        // RFC 9112 §6.3: chunked overrides the length, and the connection closes after the answer.
        "framing: content-length and chunked together",
        Send::Raw(format!("POST /validate HTTP/1.1\r\nhost: a\r\n{ct}content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{text}\r\n0\r\n\r\n", text.len()).into_bytes()),
        Expect::Allowed,
    ));
    c.push(case(
        "framing: two content-lengths",
        Send::Raw(
            format!(
                "POST /validate HTTP/1.1\r\nhost: a\r\n{ct}content-length: {}\r\ncontent-length: 5\r\n\r\n{text}",
                text.len()
            )
            .into_bytes(),
        ),
        Expect::Bare(400),
    ));
    c.push(case(
        "framing: a bad chunk size",
        Send::Raw(format!("POST /validate HTTP/1.1\r\nhost: a\r\n{ct}transfer-encoding: chunked\r\nconnection: close\r\n\r\nzz\r\n{text}\r\n0\r\n\r\n").into_bytes()),
        http(400, "reading the request body: "),
    ));
    c.push(case(
        "framing: 200 headers",
        Send::Raw(post(
            &format!(
                "{ct}{}",
                (0..200).fold(String::new(), |mut s, i| {
                    let _ = write!(s, "x-h{i}: v\r\n");
                    s
                })
            ),
            &valid,
        )),
        Expect::Bare(431),
    ));
    c.push(case(
        "framing: a 1 MiB header",
        Send::Raw(post(&format!("{ct}x-big: {}\r\n", "v".repeat(MIB)), &valid)),
        Expect::Bare(431),
    ));
    c.push(case(
        "framing: expect 100-continue",
        Send::Raw(post(&format!("{ct}expect: 100-continue\r\n"), &valid)),
        Expect::Allowed,
    ));

    // --- Slow clients.
    let head_len = post(ct, &valid).len() - valid.len();
    c.push(case(
        "slow: headers two bytes at a time",
        Send::Paced {
            bytes: post(ct, &valid),
            upto: head_len,
            chunk: 2,
            pause: Duration::from_millis(1),
        },
        Expect::Allowed,
    ));
    c.push(case(
        "slow: headers slower than the header-read timeout",
        Send::Paced {
            bytes: post(ct, &valid)[..head_len].to_vec(),
            upto: head_len,
            chunk: 8,
            pause: Duration::from_millis(150),
        },
        Expect::Closed,
    ));
    c.push(case(
        "slow: the body slower than the body-read timeout",
        Send::Paced {
            bytes: post(ct, &valid),
            upto: usize::MAX,
            chunk: head_len + 10,
            pause: Duration::from_millis(1500),
        },
        http(408, "the request body did not arrive within 1s"),
    ));
    c.push(case(
        "slow: a body shorter than its content-length",
        Send::Raw(
            format!(
                "POST /validate HTTP/1.1\r\nhost: a\r\n{ct}content-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len() + 10
            )
            .into_bytes(),
        ),
        http(408, "the request body did not arrive within 1s"),
    ));
    c
}

/// `POST /validate` with a chunked body.
fn chunked(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\n{headers}transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    for piece in body.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A valid gzip member holding `data` in stored (uncompressed) deflate blocks.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = u8::from(blocks.peek().is_none());
        let len = block.len() as u16;
        out.push(last);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

trait ReplacePath {
    fn replacen_path(self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplacePath for Vec<u8> {
    /// Replaces the request target in the first line.
    fn replacen_path(self, from: &str, to: &str) -> Vec<u8> {
        let end = self.iter().position(|&b| b == b'\n').unwrap_or(0);
        let line = String::from_utf8_lossy(&self[..end]).replacen(from, to, 1);
        [line.as_bytes(), &self[end..]].concat()
    }
}

/// What came back on the connection.
struct Answer {
    status: Option<u16>,
    head: String,
    body: Vec<u8>,
    elapsed: Duration,
    /// How reading ended when not with a clean close.
    error: Option<String>,
}

/// Sends a case on a fresh TLS connection and reads until the server closes it.
async fn exchange(wh: &Webhook, send: Send) -> Result<Answer, String> {
    let started = Instant::now();
    let stream = support::tls_stream(wh.addr, &wh.ca_pem).await;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let bytes_and_pace = match send {
        Send::Json(body) => (post("content-type: application/json\r\n", &body), None),
        Send::Raw(bytes) => (bytes, None),
        Send::Paced {
            bytes,
            upto,
            chunk,
            pause,
        } => (bytes, Some((upto, chunk, pause))),
    };
    let write = tokio::spawn(async move {
        let (bytes, pace) = bytes_and_pace;
        // Errors are expected when the server answers early and closes (413, 431, …).
        match pace {
            None => {
                let _ = writer.write_all(&bytes).await;
            }
            Some((upto, chunk, pause)) => {
                let upto = upto.min(bytes.len());
                let mut failed = false;
                for piece in bytes[..upto].chunks(chunk) {
                    if writer.write_all(piece).await.is_err() || writer.flush().await.is_err() {
                        failed = true;
                        break;
                    }
                    tokio::time::sleep(pause).await;
                }
                if !failed {
                    let _ = writer.write_all(&bytes[upto..]).await;
                }
            }
        }
        let _ = writer.flush().await;
        writer
    });
    let mut reply = Vec::new();
    let read = tokio::time::timeout(HANG, async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => return None,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                // A close without TLS close_notify, or a reset: the answer (if any) is complete.
                Err(e) => return Some(e.to_string()),
            }
        }
    })
    .await;
    write.abort();
    let Ok(error) = read else {
        return Err(format!("no answer within {HANG:?} (a hang)"));
    };
    let elapsed = started.elapsed();
    // Interim answers (100 Continue) come before the real one.
    while reply.starts_with(b"HTTP/1.1 1")
        && let Some(end) = reply.windows(4).position(|w| w == b"\r\n\r\n")
    {
        reply.drain(..end + 4);
    }
    let (status, head, body) = match reply.windows(4).position(|w| w == b"\r\n\r\n") {
        None => (None, String::from_utf8_lossy(&reply).into_owned(), Vec::new()),
        Some(end) => {
            let head = String::from_utf8_lossy(&reply[..end]).into_owned();
            let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
            (status, head, reply[end + 4..].to_vec())
        }
    };
    Ok(Answer {
        status,
        head,
        body,
        elapsed,
        error,
    })
}

/// Checks an answer against the expectation; `Err` says what is wrong.
fn check(expect: &Expect, a: &Answer) -> Result<(), String> {
    let text = String::from_utf8_lossy(&a.body).into_owned();
    let show = |t: &str| t.chars().take(300).collect::<String>();
    if let Some(s) = a.status
        && s >= 500
    {
        return Err(format!("a {s}: {}", show(&text)));
    }
    match expect {
        Expect::Http(status, prefix) => {
            if a.status != Some(*status) || !text.starts_with(prefix.as_str()) || !text.ends_with('\n') {
                return Err(format!(
                    "want {status} {prefix:?}…, got {:?} {:?} ({:?})",
                    a.status,
                    show(&text),
                    a.error
                ));
            }
            if !a
                .head
                .to_ascii_lowercase()
                .contains("content-type: text/plain; charset=utf-8")
            {
                return Err(format!("not plain text: {}", a.head));
            }
        }
        Expect::Bare(status) => {
            if a.status != Some(*status) {
                return Err(format!(
                    "want {status}, got {:?} {:?} {} ({:?})",
                    a.status,
                    show(&text),
                    a.head,
                    a.error
                ));
            }
        }
        Expect::Closed => {
            if a.status.is_some() || !a.head.is_empty() {
                return Err(format!("want a close without an answer, got {}", a.head));
            }
            if a.elapsed > Duration::from_secs(5) {
                return Err(format!("closed only after {:?}", a.elapsed));
            }
        }
        Expect::Denied(_) | Expect::Allowed => {
            if a.status != Some(200) {
                return Err(format!("want 200, got {:?} {} ({:?})", a.status, show(&text), a.error));
            }
            let v: Value = serde_json::from_slice(&a.body).map_err(|e| format!("not JSON ({e}): {}", show(&text)))?;
            if v["kind"] != "AdmissionReview" {
                return Err(format!("not a review: {}", show(&text)));
            }
            let r = &v["response"];
            if r["uid"].as_str().is_none_or(str::is_empty) {
                return Err(format!("no uid echoed: {}", show(&text)));
            }
            let allowed = r["allowed"].as_bool();
            let message = r["status"]["message"].as_str().unwrap_or("");
            match expect {
                Expect::Allowed if allowed != Some(true) => {
                    return Err(format!("want allowed, got denied: {}", show(message)));
                }
                Expect::Denied(want) if allowed != Some(false) || !message.contains(want.as_str()) => {
                    return Err(format!(
                        "want denied with {want:?}, got allowed={allowed:?} {:?}",
                        show(message)
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_every_malformed_request_with_a_clear_4xx_or_a_review() {
    let wh = Webhook::start(&[
        "--header-read-timeout",
        HEADER_TIMEOUT,
        "--body-read-timeout",
        BODY_TIMEOUT,
    ]);
    let cases = cases();
    let count = cases.len();
    assert!(count >= 60, "only {count} cases");
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for Case { name, send, expect } in cases {
        match exchange(&wh, send).await {
            Ok(answer) => {
                if std::env::var_os("MALFORMED_TIMINGS").is_some() {
                    eprintln!("{:>8.1?} {name}", answer.elapsed);
                }
                if answer.elapsed > slowest.0 {
                    slowest = (answer.elapsed, name.clone());
                }
                if let Err(e) = check(&expect, &answer) {
                    failures.push(format!("{name}: {e}"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        // The server still answers a valid review right after.
        match exchange(&wh, Send::Json(valid_body())).await {
            Ok(a) => {
                if let Err(e) = check(&Expect::Allowed, &a) {
                    failures.push(format!("{name}: the valid review after it: {e}"));
                }
            }
            Err(e) => failures.push(format!("{name}: the valid review after it: {e}")),
        }
    }
    let logs = wh.logs().join("\n");
    assert!(!logs.contains("panicked"), "a panic was logged:\n{logs}");
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // docs/operations.md's "N malformed requests" is this count.
    eprintln!(
        "{count} malformed requests answered; slowest case: {} ({:?})",
        slowest.1, slowest.0
    );
}

/// A TLS ClientHello offering only `version` (no supported_versions extension) and `suites`.
fn client_hello(version: [u8; 2], suites: &[u16]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::new();
    // supported_groups: x25519, secp256r1
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    ext.extend_from_slice(&[0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1, 0, 0, 0];
    hs[1..4].copy_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    record.extend_from_slice(&hs);
    record
}

/// Sends a ClientHello and returns the server's first record (type, and alert description when
/// it is an alert).
async fn first_record(wh: &Webhook, hello: &[u8]) -> (u8, Option<u8>) {
    let mut tcp = tokio::net::TcpStream::connect(wh.addr).await.expect("connect");
    tcp.write_all(hello).await.expect("write");
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while reply.len() < 7 {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(!reply.is_empty(), "the server closed without an alert");
    (reply[0], (reply[0] == 0x15).then(|| reply.get(6).copied()).flatten())
}

#[tokio::test]
async fn rejects_tls_1_1_and_legacy_cipher_suites() {
    let wh = Webhook::start(&[]);
    const ALERT: u8 = 0x15;
    const HANDSHAKE: u8 = 0x16;
    const PROTOCOL_VERSION: u8 = 70;
    const HANDSHAKE_FAILURE: u8 = 40;
    // CBC suites with SHA-1 MACs: all that TLS 1.0/1.1 clients have in common with 1.2 servers.
    let cbc = [0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, 0x000a];
    // TLS 1.1 (and 1.0) ClientHellos: refused with a protocol_version alert.
    for version in [[3, 2], [3, 1]] {
        assert_eq!(
            first_record(&wh, &client_hello(version, &cbc)).await,
            (ALERT, Some(PROTOCOL_VERSION)),
            "TLS {version:?}"
        );
    }
    // TLS 1.2 with only legacy suites: no suite in common.
    assert_eq!(
        first_record(&wh, &client_hello([3, 3], &cbc)).await,
        (ALERT, Some(HANDSHAKE_FAILURE))
    );
    // TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 (the development certificate is ECDSA): a ServerHello.
    let (record, _) = first_record(&wh, &client_hello([3, 3], &[0xc02b])).await;
    assert_eq!(record, HANDSHAKE);
    // The server still serves.
    let (status, body) = wh.review(&create(&meshconfig_v1_2())).await;
    assert_eq!(status, 200, "{body}");
}
