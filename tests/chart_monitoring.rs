//! The chart's monitoring objects (`prometheusRule`, `dashboard`), rendered by the pinned helm and
//! checked against the real server: every metric an alert or a dashboard panel queries is one
//! `meshconfig-webhook serve` exports on `/metrics`, every label it selects or groups by is one
//! those series carry (or one the ServiceMonitor's targets add), and every label value it matches
//! is one the server writes.
//!
//! No promtool runs here (Prometheus is not among the pinned tools): the expressions are tokenized
//! instead, and every identifier outside strings, label matchers, ranges and groupings must be a
//! PromQL function or keyword or an exported metric, so that a misspelt metric or function fails.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;
use support::Webhook;
use support::tools::tool;

/// Labels Prometheus adds to every series of a ServiceMonitor target, and the histogram's bucket
/// label.
const TARGET_LABELS: &[&str] = &[
    "namespace",
    "service",
    "pod",
    "job",
    "instance",
    "endpoint",
    "container",
    "le",
];
/// The one series the alerts use that Prometheus itself writes.
const PROMETHEUS_METRICS: &[&str] = &["up"];
/// PromQL's functions, aggregations and keywords the expressions may use.
const PROMQL: &[&str] = &[
    "absent",
    "and",
    "by",
    "count",
    "histogram_quantile",
    "increase",
    "min",
    "max",
    "or",
    "rate",
    "sum",
    "time",
    "unless",
    "without",
];

fn render() -> Vec<Value> {
    render_with(&[])
}

fn render_with(extra: &[&str]) -> Vec<Value> {
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/meshconfig-webhook");
    let out = Command::new(tool("helm"))
        .args([
            "template",
            "mcw",
            chart,
            "--namespace",
            "arc-osm-system",
            "--set",
            "serviceMonitor.enabled=true",
            "--set",
            "prometheusRule.enabled=true",
            "--set",
            "dashboard.enabled=true",
        ])
        .args(extra)
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<Value> = serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout)).expect("YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// What `/metrics` exports: each sample name (with `_total`, `_bucket`, … as exposed) and the
/// label names and values its samples carry.
struct Exported {
    names: BTreeSet<String>,
    labels: BTreeMap<String, BTreeSet<String>>,
}

async fn exported() -> Exported {
    let wh = Webhook::start(&[]);
    // An allowed and a denied review, so that labelled series exist.
    for fixture in [
        "reviews/meshconfig-create-v1.json",
        "reviews/meshconfig-update-invalid-v1.json",
    ] {
        let (status, _) = wh.review(&support::read_json(fixture)).await;
        assert_eq!(status, 200);
    }
    // And one the server cannot use, so that decision="error" exists too.
    let status = wh
        .client()
        .post(wh.url("/validate"))
        .header("content-type", "application/json")
        .body("not a review")
        .send()
        .await
        .expect("POST")
        .status();
    assert_eq!(status, 400);
    let text = wh.metrics().await;
    let mut names = BTreeSet::new();
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            let (Some(name), Some(kind)) = (it.next(), it.next()) else {
                continue;
            };
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let Some((name, rest)) = line.split_once('{') else {
            if let Some(name) = line.split_whitespace().next() {
                names.insert(name.to_owned());
            }
            continue;
        };
        names.insert(name.to_owned());
        let set = rest.rsplit_once('}').map_or("", |(s, _)| s);
        for pair in set.split(',').filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once('=') {
                labels
                    .entry(k.to_owned())
                    .or_default()
                    .insert(v.trim_matches('"').to_owned());
            }
        }
    }
    Exported { names, labels }
}

/// Problems with one expression: unknown identifiers, labels or label values.
fn check(expr: &str, exported: &Exported) -> Vec<String> {
    let mut problems = Vec::new();
    let b = expr.as_bytes();
    let mut rest = String::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => {
                let end = expr[i..].find('}').map_or(b.len(), |e| i + e);
                for m in expr[i + 1..end].split(',').map(str::trim).filter(|m| !m.is_empty()) {
                    let Some((label, value)) = m.split_once('=') else {
                        problems.push(format!("matcher {m:?} has no ="));
                        continue;
                    };
                    let label = label.trim_end_matches(['!', '=', '~']).trim();
                    let value = value.trim_start_matches('~').trim().trim_matches('"');
                    if TARGET_LABELS.contains(&label) {
                        continue;
                    }
                    match exported.labels.get(label) {
                        None => problems.push(format!("label {label:?} is on no exported series")),
                        Some(values) if !values.contains(value) => {
                            problems.push(format!("{label}={value:?}: the server writes only {values:?}"))
                        }
                        Some(_) => {}
                    }
                }
                i = end + 1;
                rest.push(' ');
            }
            b'[' => {
                i = expr[i..].find(']').map_or(b.len(), |e| i + e + 1);
                rest.push(' ');
            }
            b'"' => {
                i = expr[i + 1..].find('"').map_or(b.len(), |e| i + e + 2);
                rest.push(' ');
            }
            c => {
                rest.push(c as char);
                i += 1;
            }
        }
    }
    // Groupings name labels, not metrics.
    let words = rest
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()));
    let mut grouping = false;
    for w in words {
        if grouping {
            if !TARGET_LABELS.contains(&w) && !exported.labels.contains_key(w) {
                problems.push(format!("grouping label {w:?} is on no exported series"));
            }
            grouping = false;
            continue;
        }
        if w == "by" || w == "without" {
            grouping = true;
            continue;
        }
        if !PROMQL.contains(&w) && !PROMETHEUS_METRICS.contains(&w) && !exported.names.contains(w) {
            problems.push(format!("{w:?} is neither a PromQL function nor an exported metric"));
        }
    }
    problems
}

#[tokio::test]
async fn alerts_and_dashboard_query_only_what_the_server_exports() {
    let docs = render();
    let exported = exported().await;
    assert!(
        exported.names.contains("meshconfig_webhook_requests_total"),
        "{:?}",
        exported.names
    );

    let rule = docs
        .iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .expect("a PrometheusRule");
    let mut exprs: Vec<(String, String)> = Vec::new();
    let mut alerts = BTreeSet::new();
    for group in rule["spec"]["groups"].as_array().expect("groups") {
        for r in group["rules"].as_array().expect("rules") {
            let alert = r["alert"].as_str().expect("every rule is an alert").to_owned();
            assert!(r["labels"]["severity"].is_string(), "{alert}: a severity");
            assert!(r["annotations"]["summary"].is_string(), "{alert}: a summary");
            assert!(r["annotations"]["description"].is_string(), "{alert}: a description");
            exprs.push((alert.clone(), r["expr"].as_str().expect("expr").to_owned()));
            alerts.insert(alert);
        }
    }
    // What the chart promises (values.yaml, docs/operations.md "Alerts").
    let promised: BTreeSet<String> = [
        "MeshConfigWebhookNoReadyReplica",
        "MeshConfigWebhookCertificateExpiresSoon",
        "MeshConfigWebhookCertificateReloadFailing",
        "MeshConfigWebhookErrors",
        "MeshConfigWebhookSlow",
    ]
    .map(String::from)
    .into();
    assert_eq!(alerts, promised);

    let dashboard = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["labels"]["grafana_dashboard"] == "1")
        .expect("the dashboard ConfigMap, labelled for Grafana's sidecar");
    let json: Value = serde_json::from_str(dashboard["data"]["meshconfig-webhook.json"].as_str().expect("the JSON"))
        .expect("the dashboard is JSON");
    for panel in json["panels"].as_array().expect("panels") {
        for t in panel["targets"].as_array().expect("targets") {
            let title = format!("panel {:?}", panel["title"].as_str().unwrap_or(""));
            // Grafana's template variables are strings here: `"$namespace"`.
            exprs.push((title, t["expr"].as_str().expect("expr").to_owned()));
        }
    }
    for v in json["templating"]["list"].as_array().expect("variables") {
        if let Some(q) = v["query"].as_str().and_then(|q| q.strip_prefix("label_values(")) {
            let metric = q.split(['{', ',']).next().unwrap_or("").trim();
            assert!(
                exported.names.contains(metric),
                "variable {}: {metric:?} is not exported",
                v["name"]
            );
        }
    }

    let problems: Vec<String> = exprs
        .iter()
        .flat_map(|(what, e)| {
            check(e, &exported)
                .into_iter()
                .map(move |p| format!("{what}: {p}\n  {e}"))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_catches_a_misspelt_metric_label_and_value() {
    let exported = Exported {
        names: ["meshconfig_webhook_requests_total".to_owned()].into(),
        labels: [("decision".to_owned(), ["denied".to_owned()].into())].into(),
    };
    assert!(
        check(
            r#"sum(rate(meshconfig_webhook_requests_total{decision="denied"}[5m]))"#,
            &exported
        )
        .is_empty()
    );
    assert_eq!(
        check("sum(rate(meshconfig_webhook_request_total[5m]))", &exported).len(),
        1
    );
    assert_eq!(
        check(r#"sum(meshconfig_webhook_requests_total{decison="denied"})"#, &exported).len(),
        1
    );
    assert_eq!(
        check(r#"sum(meshconfig_webhook_requests_total{decision="deny"})"#, &exported).len(),
        1
    );
    assert_eq!(
        check("sum by (reason) (meshconfig_webhook_requests_total)", &exported).len(),
        1
    );
    assert_eq!(check("rat(meshconfig_webhook_requests_total[5m])", &exported).len(), 1);
}

/// Each alert of the rendered PrometheusRule: (expr, for, severity).
fn alerts(docs: &[Value]) -> BTreeMap<String, (String, String, String)> {
    let rule = docs
        .iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .expect("a PrometheusRule");
    let mut out = BTreeMap::new();
    for group in rule["spec"]["groups"].as_array().expect("groups") {
        for r in group["rules"].as_array().expect("rules") {
            let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
            out.insert(
                s(&r["alert"]),
                (s(&r["expr"]), s(&r["for"]), s(&r["labels"]["severity"])),
            );
        }
    }
    out
}

#[test]
fn alert_thresholds_and_severities_are_the_values_documented() {
    // The defaults docs/operations.md ("Alerts and a dashboard") and values.yaml state.
    let a = alerts(&render());
    let at = |name: &str| a.get(name).unwrap_or_else(|| panic!("no alert {name}"));
    assert_eq!(at("MeshConfigWebhookNoReadyReplica").1, "5m");
    assert_eq!(at("MeshConfigWebhookNoReadyReplica").2, "critical");
    assert!(
        at("MeshConfigWebhookCertificateExpiresSoon").0.ends_with("< 1209600"),
        "14 days"
    );
    assert!(at("MeshConfigWebhookCertificateReloadFailing").0.contains("[15m]) > 0"));
    assert!(at("MeshConfigWebhookErrors").0.ends_with("> 0.05"));
    assert!(at("MeshConfigWebhookSlow").0.ends_with("> 1"));
    for name in [
        "MeshConfigWebhookCertificateExpiresSoon",
        "MeshConfigWebhookCertificateReloadFailing",
        "MeshConfigWebhookErrors",
        "MeshConfigWebhookSlow",
    ] {
        assert_eq!(at(name).2, "warning", "{name}");
    }
    // And the values move them.
    let a = alerts(&render_with(&[
        "--set",
        "prometheusRule.for=15m",
        "--set",
        "prometheusRule.certificateExpiryDays=30",
        "--set",
        "prometheusRule.errorRatio=0.2",
        "--set",
        "prometheusRule.p99Seconds=2.5",
    ]));
    let at = |name: &str| a.get(name).unwrap_or_else(|| panic!("no alert {name}"));
    assert_eq!(at("MeshConfigWebhookNoReadyReplica").1, "15m");
    assert!(at("MeshConfigWebhookCertificateExpiresSoon").0.ends_with("< 2592000"));
    assert!(at("MeshConfigWebhookErrors").0.ends_with("> 0.2"));
    assert!(at("MeshConfigWebhookSlow").0.ends_with("> 2.5"));
}
