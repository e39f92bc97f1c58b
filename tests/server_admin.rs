//! The admin port (health, readiness, metrics) and the shutdown sequence of the real process:
//! SIGTERM turns readiness off, closes the listener, lets the in-flight request finish, exits 0.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meshconfig_webhook::server::admin::METRIC_NAMES;
use serde_json::json;
use support::{UID, Webhook, merged, meshconfig_v1_2, review};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn accepts_health_readiness_and_metrics_probes() {
    let wh = Webhook::start(&[]);
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ok\n")] {
        let r = support::http_get(&wh.admin_url(path)).await.expect("GET");
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(r.text().await.expect("text"), body);
    }
    let r = support::http_get(&wh.admin_url("/nope")).await.expect("GET");
    assert_eq!(r.status().as_u16(), 404);

    // One of each decision, one warning.
    let old = meshconfig_v1_2();
    wh.review(&review("admission.k8s.io/v1", "CREATE", Some(&old), None))
        .await;
    let bad = merged(&old, json!({"spec": {"traffic": {"enableEgress": "no"}}}));
    wh.review(&review("admission.k8s.io/v1", "UPDATE", Some(&bad), Some(&old)))
        .await;
    let slow = merged(&old, json!({"spec": {"sidecar": {"configResyncInterval": "10s"}}}));
    wh.review(&review("admission.k8s.io/v1", "UPDATE", Some(&slow), Some(&old)))
        .await;
    wh.review(&json!({"not": "a review"})).await;

    let r = support::http_get(&wh.admin_url("/metrics"))
        .await
        .expect("GET /metrics");
    assert_eq!(
        r.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = r.text().await.expect("text");
    for name in METRIC_NAMES {
        assert!(
            text.contains(&format!("# TYPE {}", name.trim_end_matches("_total"))),
            "{name} missing:\n{text}"
        );
    }
    for line in [
        r#"meshconfig_webhook_requests_total{operation="CREATE",kind="MeshConfig",decision="allowed"} 1"#,
        r#"meshconfig_webhook_requests_total{operation="UPDATE",kind="MeshConfig",decision="denied"} 1"#,
        r#"meshconfig_webhook_requests_total{operation="UPDATE",kind="MeshConfig",decision="allowed"} 1"#,
        r#"meshconfig_webhook_requests_total{operation="unknown",kind="unknown",decision="error"} 1"#,
        r#"meshconfig_webhook_denials_total{field="spec.traffic.enableEgress"} 1"#,
        "meshconfig_webhook_warnings_total 1",
        "meshconfig_webhook_request_duration_seconds_count 4",
        r#"meshconfig_webhook_request_duration_seconds_bucket{le="0.00005"}"#,
        r#"meshconfig_webhook_request_duration_seconds_bucket{le="0.0008"}"#,
        "meshconfig_webhook_certificate_reloads_total 0",
        "meshconfig_webhook_certificate_reload_failures_total 0",
        &format!(
            r#"meshconfig_webhook_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        ),
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
    let not_after: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("meshconfig_webhook_certificate_not_after_seconds "))
        .and_then(|v| v.parse().ok())
        .expect("not_after");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64;
    assert!(not_after > now + 300 * 24 * 3600, "{not_after}");
}

/// The request line and headers of a review whose body is sent separately.
fn head(len: usize) -> String {
    format!(
        "POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
    )
}

async fn readyz(wh: &Webhook) -> Option<(u16, String)> {
    let r = support::http_get(&wh.admin_url("/readyz")).await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

#[tokio::test]
async fn accepts_in_flight_requests_during_the_sigterm_drain() {
    let mut wh = Webhook::start(&["--shutdown-timeout", "10s"]);
    let body = review("admission.k8s.io/v1", "CREATE", Some(&meshconfig_v1_2()), None).to_string();
    let mut stream = support::tls_stream(wh.addr, &wh.ca_pem).await;
    stream.write_all(head(body.len()).as_bytes()).await.expect("write");
    stream.write_all(&body.as_bytes()[..100]).await.expect("write");
    stream.flush().await.expect("flush");
    // Let the server read the headers: the request is then in flight.
    tokio::time::sleep(Duration::from_millis(300)).await;

    wh.sigterm();
    // Not ready as soon as shutdown begins; the admin port stays up through the drain.
    let ready = support::eventually(Duration::from_secs(5), "readiness to turn off", || async {
        readyz(&wh).await.filter(|(code, _)| *code == 503)
    })
    .await;
    assert_eq!(ready.1, "not ready: shutting down\n");
    // No new connections.
    let addr = wh.addr;
    support::eventually(Duration::from_secs(5), "the listener to close", || async move {
        tokio::net::TcpStream::connect(addr).await.is_err().then_some(())
    })
    .await;
    assert!(
        wh.wait(Duration::from_millis(200)).is_none(),
        "exited with a request in flight"
    );

    // The in-flight request completes.
    stream.write_all(&body.as_bytes()[100..]).await.expect("write");
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .await
        .expect("read until the server closes");
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains(&format!(r#""uid":"{UID}","allowed":true"#)), "{reply}");

    let status = wh.wait(Duration::from_secs(5)).expect("exited after the drain");
    assert_eq!(status.code(), Some(0));
    let messages: Vec<String> = wh
        .log_events()
        .iter()
        .filter_map(|e| e["message"].as_str().map(str::to_owned))
        .collect();
    for m in [
        "received a shutdown signal",
        "shutting down: not ready, no new connections, draining in-flight requests",
        "admission decision",
        "drained; exiting",
    ] {
        assert!(messages.iter().any(|x| x == m), "{m:?} not logged: {messages:?}");
    }
}

#[tokio::test]
async fn accepts_sigterm_with_a_stuck_request_and_exits_after_the_shutdown_timeout() {
    let mut wh = Webhook::start(&["--shutdown-timeout", "300ms"]);
    let mut stream = support::tls_stream(wh.addr, &wh.ca_pem).await;
    stream.write_all(head(1000).as_bytes()).await.expect("write");
    stream.write_all(b"{").await.expect("write");
    stream.flush().await.expect("flush");
    // Let the server read the headers: the request is then in flight.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = std::time::Instant::now();
    wh.sigterm();
    let status = wh.wait(Duration::from_secs(5)).expect("exited");
    assert_eq!(status.code(), Some(0));
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    let event = wh
        .log_events()
        .into_iter()
        .find(|e| e["message"] == "shutdown timeout reached; closed remaining connections")
        .expect("the timeout is logged");
    assert_eq!(event["abandoned"], 1);
}

#[tokio::test]
async fn accepts_sigint_like_sigterm() {
    let mut wh = Webhook::start(&[]);
    let ok = std::process::Command::new("kill")
        .arg("-INT")
        .arg(wh.pid().to_string())
        .status()
        .expect("kill");
    assert!(ok.success());
    assert_eq!(wh.wait(Duration::from_secs(5)).and_then(|s| s.code()), Some(0));
}

#[tokio::test]
async fn counts_every_http_level_refusal_as_an_unknown_error_and_names_the_accepted_coding() {
    // docs/operations.md: each HTTP-level refusal counts as
    // requests_total{operation="unknown",kind="unknown",decision="error"}.
    let wh = Webhook::start(&["--max-body-bytes", "1024"]);
    let client = wh.client();
    let review = review("admission.k8s.io/v1", "CREATE", Some(&meshconfig_v1_2()), None).to_string();
    let post = |path: &str| client.post(wh.url(path)).header("content-type", "application/json");
    let cases = [
        (post("/other").body(review.clone()), 404),
        (client.get(wh.url("/validate")), 405),
        (
            client
                .post(wh.url("/validate"))
                .header("content-type", "application/yaml")
                .body(review.clone()),
            415,
        ),
        (
            post("/validate")
                .header("content-encoding", "gzip")
                .body(review.clone()),
            415,
        ),
        (post("/validate").body("x".repeat(2048)), 413),
        (post("/validate").body("not json"), 400),
    ];
    let count = cases.len();
    for (request, status) in cases {
        let r = request.send().await.expect("send");
        assert_eq!(r.status().as_u16(), status);
        if status == 415 {
            // RFC 7694: a 415 for a coding names the codings accepted; for a media type, none.
            let coding = r
                .headers()
                .get("accept-encoding")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let text = r.text().await.expect("text");
            if text.contains("Content-Encoding") {
                assert_eq!(coding.as_deref(), Some("identity"), "{text}");
            } else {
                assert_eq!(coding, None, "{text}");
            }
        }
    }
    let metrics = wh.metrics().await;
    let line =
        format!(r#"meshconfig_webhook_requests_total{{operation="unknown",kind="unknown",decision="error"}} {count}"#);
    assert!(metrics.contains(&line), "{line} missing:\n{metrics}");
}
