//! The admission endpoint over real TLS (the binary, a client verifying the development CA):
//! review versions, uid echo, decisions, and every HTTP status it answers with.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{UID, Webhook, merged, meshconfig_v0_9, meshconfig_v1_2, review};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const V1: &str = "admission.k8s.io/v1";
const V1BETA1: &str = "admission.k8s.io/v1beta1";

fn response(body: &Value) -> &Value {
    &body["response"]
}

#[tokio::test]
async fn accepts_v1_and_v1beta1_reviews_echoing_uid_and_api_version() {
    let wh = Webhook::start(&[]);
    for version in [V1, V1BETA1] {
        let (status, body) = wh
            .review(&review(version, "CREATE", Some(&meshconfig_v1_2()), None))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apiVersion"], version);
        assert_eq!(body["kind"], "AdmissionReview");
        assert_eq!(response(&body)["uid"], UID);
        assert_eq!(response(&body)["allowed"], true, "{body}");
        assert!(response(&body).get("warnings").is_none(), "{body}");
    }
}

#[tokio::test]
async fn rejects_invalid_meshconfig_with_the_apiservers_invalid_status() {
    let wh = Webhook::start(&[]);
    let bad = merged(&meshconfig_v1_2(), json!({"spec": {"traffic": {"enableEgress": "no"}}}));
    let (status, body) = wh.review(&review(V1, "CREATE", Some(&bad), None)).await;
    assert_eq!(status, 200);
    let r = response(&body);
    assert_eq!(r["uid"], UID);
    assert_eq!(r["allowed"], false);
    assert_eq!(
        r["status"],
        json!({
            "status": "Failure",
            "code": 422,
            "reason": "Invalid",
            "message": "MeshConfig.config.openservicemesh.io \"osm-mesh-config\" is invalid: spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"",
            "details": {
                "name": "osm-mesh-config",
                "group": "config.openservicemesh.io",
                "kind": "MeshConfig",
                "causes": [{
                    "reason": "FieldValueTypeInvalid",
                    "message": "Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"",
                    "field": "spec.traffic.enableEgress",
                }],
            },
        })
    );
}

#[tokio::test]
async fn accepts_valid_changes_with_warnings() {
    let wh = Webhook::start(&[]);
    let old = meshconfig_v1_2();
    let new = merged(&old, json!({"spec": {"sidecar": {"configResyncInterval": "10s"}}}));
    let (_, body) = wh.review(&review(V1, "UPDATE", Some(&new), Some(&old))).await;
    let r = response(&body);
    assert_eq!(r["allowed"], true, "{body}");
    let warnings = r["warnings"].as_array().cloned().unwrap_or_default();
    assert_eq!(warnings.len(), 1, "{body}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap_or("")
            .starts_with("spec.sidecar.configResyncInterval: 10s"),
        "{body}"
    );
}

#[tokio::test]
async fn accepts_unchanged_invalid_values_on_update_and_rejects_them_on_create() {
    let wh = Webhook::start(&[]);
    // Stored before the webhook existed: an invalid duration.
    let stored = merged(
        &meshconfig_v1_2(),
        json!({"spec": {"certificate": {"serviceCertValidityDuration": "24x"}}}),
    );
    let edited = merged(&stored, json!({"spec": {"traffic": {"enableEgress": false}}}));

    let (_, body) = wh.review(&review(V1, "UPDATE", Some(&edited), Some(&stored))).await;
    assert_eq!(response(&body)["allowed"], true, "{body}");
    let warnings = response(&body)["warnings"].to_string();
    assert!(
        warnings.contains("spec.certificate.serviceCertValidityDuration"),
        "{body}"
    );

    let (_, body) = wh.review(&review(V1, "CREATE", Some(&edited), None)).await;
    assert_eq!(response(&body)["allowed"], false, "{body}");
    assert_eq!(
        response(&body)["status"]["details"]["causes"][0]["field"],
        "spec.certificate.serviceCertValidityDuration"
    );

    // Changing the invalid value to another invalid one is denied.
    let worse = merged(
        &stored,
        json!({"spec": {"certificate": {"serviceCertValidityDuration": "25x"}}}),
    );
    let (_, body) = wh.review(&review(V1, "UPDATE", Some(&worse), Some(&stored))).await;
    assert_eq!(response(&body)["allowed"], false, "{body}");
}

#[tokio::test]
async fn accepts_dry_run_requests_with_the_same_decision() {
    let wh = Webhook::start(&[]);
    let bad = merged(&meshconfig_v1_2(), json!({"spec": {"traffic": {"enableEgress": "no"}}}));
    let mut wet = review(V1, "CREATE", Some(&bad), None);
    let (_, wet_body) = wh.review(&wet).await;
    wet["request"]["dryRun"] = json!(true);
    let (_, dry_body) = wh.review(&wet).await;
    assert_eq!(wet_body, dry_body);
    assert_eq!(response(&dry_body)["allowed"], false);
}

#[tokio::test]
async fn accepts_meshconfigs_outside_the_mesh_namespace_with_a_warning() {
    let wh = Webhook::start(&["--mesh-namespace", "osm-system"]);
    let bad = merged(&meshconfig_v1_2(), json!({"spec": {"traffic": {"enableEgress": "no"}}}));
    let (_, body) = wh.review(&review(V1, "CREATE", Some(&bad), None)).await;
    let r = response(&body);
    assert_eq!(r["allowed"], true, "{body}");
    assert_eq!(
        r["warnings"],
        json!([
            r#"OSM ignores MeshConfigs outside namespace "osm-system"; "arc-osm-system/osm-mesh-config" has no effect"#
        ])
    );
}

#[tokio::test]
async fn accepts_flags_from_the_environment() {
    let wh = Webhook::launch(support::Launch {
        env: vec![
            ("MESHCONFIG_MESH_NAMESPACE", "osm-system".into()),
            ("MESHCONFIG_PROTECT_DELETE", "true".into()),
        ],
        ..Default::default()
    })
    .expect("start");
    let (_, body) = wh.review(&review(V1, "CREATE", Some(&meshconfig_v1_2()), None)).await;
    assert!(response(&body)["warnings"].to_string().contains("osm-system"), "{body}");
    let mut stored = meshconfig_v1_2();
    stored["metadata"]["namespace"] = json!("osm-system");
    let (_, body) = wh.review(&review(V1, "DELETE", None, Some(&stored))).await;
    assert_eq!(response(&body)["allowed"], false, "{body}");
}

#[tokio::test]
async fn rejects_deleting_osm_mesh_config_with_protect_delete() {
    let wh = Webhook::start(&["--protect-delete"]);
    let (_, body) = wh.review(&review(V1, "DELETE", None, Some(&meshconfig_v1_2()))).await;
    let r = response(&body);
    assert_eq!(r["allowed"], false, "{body}");
    assert_eq!(r["status"]["code"], 403);
    assert_eq!(r["status"]["reason"], "Forbidden");
    assert_eq!(
        r["status"]["message"],
        "meshconfigs.config.openservicemesh.io \"osm-mesh-config\" is forbidden: OSM falls back to zero-valued defaults (all booleans false, empty strings and lists) without it; edit it instead (deletion is refused because the webhook runs with --protect-delete)"
    );

    // Other MeshConfigs, and osm-mesh-config elsewhere, can go.
    let mut other = meshconfig_v1_2();
    other["metadata"]["name"] = json!("preset-mesh-config");
    let (_, body) = wh.review(&review(V1, "DELETE", None, Some(&other))).await;
    assert_eq!(response(&body)["allowed"], true, "{body}");
    let mut elsewhere = meshconfig_v1_2();
    elsewhere["metadata"]["namespace"] = json!("default");
    let (_, body) = wh.review(&review(V1, "DELETE", None, Some(&elsewhere))).await;
    assert_eq!(response(&body)["allowed"], true, "{body}");
}

#[tokio::test]
async fn accepts_deleting_osm_mesh_config_without_protect_delete() {
    let wh = Webhook::start(&[]);
    let (_, body) = wh.review(&review(V1, "DELETE", None, Some(&meshconfig_v1_2()))).await;
    assert_eq!(response(&body)["allowed"], true, "{body}");
}

#[tokio::test]
async fn accepts_other_kinds_and_connect() {
    let wh = Webhook::start(&["--protect-delete"]);
    let mut pod = review(
        V1,
        "CREATE",
        Some(&json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})),
        None,
    );
    pod["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "Pod"});
    pod["request"]["resource"] = json!({"group": "", "version": "v1", "resource": "pods"});
    let (_, body) = wh.review(&pod).await;
    assert_eq!(response(&body)["allowed"], true, "{body}");

    let mut connect = review(V1, "CONNECT", None, Some(&meshconfig_v1_2()));
    connect["request"]["oldObject"] = Value::Null;
    let (_, body) = wh.review(&connect).await;
    assert_eq!(response(&body)["allowed"], true, "{body}");
}

#[tokio::test]
async fn rejects_api_versions_the_release_does_not_serve() {
    let wh = Webhook::start(&["--osm-release", "0.9"]);
    let (_, body) = wh.review(&review(V1, "CREATE", Some(&meshconfig_v1_2()), None)).await;
    assert_eq!(response(&body)["allowed"], false, "{body}");
    assert_eq!(
        response(&body)["status"]["details"]["causes"][0],
        json!({
            "reason": "FieldValueNotSupported",
            "message": "Unsupported value: \"config.openservicemesh.io/v1alpha2\": supported values: \"config.openservicemesh.io/v1alpha1\"",
            "field": "apiVersion",
        })
    );
    // Its own version is validated with its own schema.
    let (_, body) = wh.review(&review(V1, "CREATE", Some(&meshconfig_v0_9()), None)).await;
    assert_eq!(response(&body)["allowed"], true, "{body}");
}

#[tokio::test]
async fn accepts_unusable_reviews_that_carry_a_uid_with_a_denial() {
    let wh = Webhook::start(&[]);
    let mut broken = review(V1BETA1, "CREATE", Some(&meshconfig_v1_2()), None);
    broken["request"]["operation"] = json!("EXPLODE");
    let (status, body) = wh.review(&broken).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["apiVersion"], V1BETA1);
    let r = response(&body);
    assert_eq!(r["uid"], UID);
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 400);
    assert_eq!(r["status"]["reason"], "BadRequest");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("the AdmissionReview cannot be decoded: unknown variant `EXPLODE`"),
        "{body}"
    );
}

/// Sends `body` with `content_type` and returns (status, text).
async fn raw_post(wh: &Webhook, method: reqwest::Method, content_type: Option<&str>, body: Vec<u8>) -> (u16, String) {
    let mut req = wh.client().request(method, wh.url("/validate")).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.text().await.expect("text"))
}

#[tokio::test]
async fn rejects_unusable_bodies_with_400_and_clear_text() {
    let wh = Webhook::start(&[]);
    let cases: [(&[u8], &str); 4] = [
        (b"{\"apiVersion\":", "the request body is not JSON: EOF while parsing a value at line 1 column 14\n"),
        (b"{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}", "expected an AdmissionReview, got kind \"Pod\"\n"),
        (
            b"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}",
            "the AdmissionReview has no request\n",
        ),
        (
            b"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"operation\":\"CREATE\"}}",
            "the AdmissionReview cannot be decoded: missing field `uid`\n",
        ),
    ];
    for (body, want) in cases {
        let (status, text) = raw_post(&wh, reqwest::Method::POST, Some("application/json"), body.to_vec()).await;
        assert_eq!((status, text.as_str()), (400, want));
    }
}

#[tokio::test]
async fn rejects_wrong_methods_with_405() {
    let wh = Webhook::start(&[]);
    for method in [reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE] {
        let r = wh
            .client()
            .request(method.clone(), wh.url("/validate"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 405);
        assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
        assert_eq!(
            r.text().await.expect("text"),
            format!("method {method} is not allowed on /validate: send an AdmissionReview with POST\n")
        );
    }
}

#[tokio::test]
async fn rejects_wrong_content_types_with_415() {
    let wh = Webhook::start(&[]);
    let body = review(V1, "CREATE", Some(&meshconfig_v1_2()), None)
        .to_string()
        .into_bytes();
    for (ct, shown) in [
        (Some("application/yaml"), "\"application/yaml\""),
        (Some("text/plain"), "\"text/plain\""),
        (None, "(none)"),
    ] {
        let (status, text) = raw_post(&wh, reqwest::Method::POST, ct, body.clone()).await;
        assert_eq!(status, 415, "{ct:?}");
        assert_eq!(
            text,
            format!("unsupported Content-Type {shown}: an AdmissionReview must be sent as application/json\n")
        );
    }
    // A charset parameter, and curl's default for -d, are fine.
    for ct in ["application/json; charset=utf-8", "application/x-www-form-urlencoded"] {
        let (status, text) = raw_post(&wh, reqwest::Method::POST, Some(ct), body.clone()).await;
        assert_eq!(status, 200, "{ct}: {text}");
    }
}

#[tokio::test]
async fn rejects_bodies_over_max_body_bytes_with_413() {
    let wh = Webhook::start(&["--max-body-bytes", "4096"]);
    let mut big = review(V1, "CREATE", Some(&meshconfig_v1_2()), None);
    big["request"]["object"]["metadata"]["annotations"] = json!({"pad": "x".repeat(5000)});
    let want = "request body larger than 4096 bytes (--max-body-bytes)\n";
    // Declared by Content-Length.
    let (status, text) = raw_post(
        &wh,
        reqwest::Method::POST,
        Some("application/json"),
        big.to_string().into_bytes(),
    )
    .await;
    assert_eq!((status, text.as_str()), (413, want));
    // Chunked, no length announced: cut off while reading.
    let mut stream = support::tls_stream(wh.addr, &wh.ca_pem).await;
    let mut request =
        b"POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for chunk in big.to_string().as_bytes().chunks(1000) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&request).await.expect("write");
    let reply = read_response(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 413 Payload Too Large\r\n"), "{reply}");
    assert!(reply.ends_with(&format!("\r\n\r\n{want}")), "{reply}");
    // At the limit is fine.
    let (status, _) = raw_post(
        &wh,
        reqwest::Method::POST,
        Some("application/json"),
        review(V1, "CREATE", Some(&meshconfig_v1_2()), None)
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 200);
}

/// Reads one HTTP/1.1 response with a Content-Length body from a raw stream.
async fn read_response<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> String {
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&reply).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|n| n.trim().parse::<usize>())
                })
                .and_then(Result::ok)
                .unwrap_or(0);
            if reply.len() >= end + 4 + len {
                return text;
            }
        }
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "connection closed: {text}");
        reply.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn rejects_requests_over_max_in_flight_with_503() {
    let wh = Webhook::start(&["--max-in-flight", "1"]);
    // Hold the only slot: headers sent, body still coming.
    let mut held = support::tls_stream(wh.addr, &wh.ca_pem).await;
    let body = review(V1, "CREATE", Some(&meshconfig_v1_2()), None).to_string();
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    held.write_all(head.as_bytes()).await.expect("write");
    held.write_all(&body.as_bytes()[..10]).await.expect("write");
    held.flush().await.expect("flush");
    // Once the server has read those headers, other requests are turned away.
    let (status, text) = support::eventually(Duration::from_secs(5), "a 503", || {
        let body = body.clone();
        let wh = &wh;
        async move {
            let r = raw_post(wh, reqwest::Method::POST, Some("application/json"), body.into_bytes()).await;
            (r.0 == 503).then_some(r)
        }
    })
    .await;
    assert_eq!(
        text,
        "too many admission reviews in flight (--max-in-flight 1); retry\n"
    );
    assert_eq!(status, 503);

    // The held request still completes.
    held.write_all(&body.as_bytes()[10..]).await.expect("write");
    let reply = read_response(&mut held).await;
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains(UID), "{reply}");
    let (status, _) = raw_post(&wh, reqwest::Method::POST, Some("application/json"), body.into_bytes()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rejects_other_paths_with_404() {
    let wh = Webhook::start(&[]);
    let r = wh.client().post(wh.url("/mutate")).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        r.text().await.expect("text"),
        "/mutate not found: admission reviews go to POST /validate\n"
    );
    // Counted and logged as every HTTP-level refusal (docs/operations.md, "metrics and logs").
    let m = wh.metrics().await;
    assert!(
        m.contains(r#"meshconfig_webhook_requests_total{operation="unknown",kind="unknown",decision="error"} 1"#),
        "{m}"
    );
    let event = support::eventually(Duration::from_secs(5), "the 404 log line", || async {
        wh.log_events()
            .into_iter()
            .find(|e| e["message"] == "rejected a request on the admission path")
    })
    .await;
    assert_eq!(event["level"], "WARN");
    assert_eq!(event["status"], 404);
}

#[tokio::test]
async fn accepts_requests_and_logs_each_decision() {
    let wh = Webhook::start(&[]);
    let bad = merged(&meshconfig_v1_2(), json!({"spec": {"traffic": {"enableEgress": "no"}}}));
    wh.review(&review(V1, "UPDATE", Some(&bad), Some(&meshconfig_v1_2())))
        .await;
    let event = support::eventually(Duration::from_secs(5), "the decision log line", || async {
        wh.log_events()
            .into_iter()
            .find(|e| e["message"] == "admission decision")
    })
    .await;
    assert_eq!(event["uid"], UID);
    assert_eq!(event["user"], "kubernetes-admin");
    assert_eq!(event["operation"], "UPDATE");
    assert_eq!(event["namespace"], "arc-osm-system");
    assert_eq!(event["name"], "osm-mesh-config");
    assert_eq!(event["allowed"], false);
    assert_eq!(event["denied"], "spec.traffic.enableEgress");
    // `reason`, as docs/operations.md lists among the decision's fields: the Status message.
    assert_eq!(
        event["reason"],
        "MeshConfig.config.openservicemesh.io \"osm-mesh-config\" is invalid: spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\""
    );
}

#[tokio::test]
async fn accepts_the_fixture_reviews_with_their_documented_decisions() {
    // tests/fixtures/reviews/ holds ready-made reviews for `curl --json @…` against a local server.
    let wh = Webhook::start(&[]);
    for (file, api_version, allowed) in [
        ("reviews/meshconfig-create-v1.json", V1, true),
        ("reviews/meshconfig-create-v1beta1.json", V1BETA1, true),
        ("reviews/meshconfig-update-invalid-v1.json", V1, false),
        ("reviews/meshconfig-delete-v1.json", V1, true),
        // Recorded from kube-apiserver v1.37 by tests/apiserver_e2e.rs.
        ("reviews/apiserver-create.json", V1, true),
        ("reviews/apiserver-update.json", V1, true),
        ("reviews/apiserver-dry-run-update.json", V1, true),
    ] {
        let sent = support::read_json(file);
        let (status, body) = wh.review(&sent).await;
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(body["apiVersion"], api_version, "{file}");
        assert_eq!(response(&body)["uid"], sent["request"]["uid"], "{file}");
        assert_eq!(response(&body)["allowed"], allowed, "{file}: {body}");
    }
}

#[tokio::test]
async fn answers_the_readme_quick_start_review_exactly_as_the_readme_shows() {
    // The README's quick start posts a fixture with curl and shows the answer: both must hold.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme.find("## Quick start").expect("a quick start section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let curl = section
        .lines()
        .skip_while(|l| !l.starts_with("curl "))
        .take_while(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(curl.contains("https://127.0.0.1:8443/validate"), "{curl}");
    let fixture = curl
        .split_whitespace()
        .find_map(|w| w.strip_prefix("@tests/fixtures/"))
        .expect("curl --data @tests/fixtures/…");
    let block = section.split("```json\n").nth(1).expect("the answer as a json block");
    let shown: Value =
        serde_json::from_str(&block[..block.find("```").expect("end of block")]).expect("the answer is JSON");

    let wh = Webhook::start(&[]);
    let (status, body) = wh.review(&support::read_json(fixture)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, shown, "the README's quick start shows another answer");
    // It shows a semantic denial: a value the CRD's schema admits (a string), not a type error
    // that a real apiserver would refuse before any webhook.
    let causes = body["response"]["status"]["details"]["causes"]
        .as_array()
        .expect("causes");
    assert!(
        causes
            .iter()
            .all(|c| c["reason"] == "FieldValueInvalid"
                && !c["message"].as_str().unwrap_or("").contains("must be of type")),
        "{causes:?}"
    );
}
