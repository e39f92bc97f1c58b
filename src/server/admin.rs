//! The admin port (plain HTTP): liveness, readiness and Prometheus metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{HEALTHZ_PATH, METRICS_PATH, READYZ_PATH};

/// Every metric name starts with this (then `_`).
pub const METRIC_PREFIX: &str = "meshconfig_webhook";

/// The metric families exported, full names as scraped (histograms add `_bucket`/`_sum`/`_count`).
pub const METRIC_NAMES: [&str; 8] = [
    "meshconfig_webhook_requests_total",
    "meshconfig_webhook_request_duration_seconds",
    "meshconfig_webhook_denials_total",
    "meshconfig_webhook_warnings_total",
    "meshconfig_webhook_certificate_not_after_seconds",
    "meshconfig_webhook_certificate_reloads_total",
    "meshconfig_webhook_certificate_reload_failures_total",
    "meshconfig_webhook_build_info",
];

/// prometheus-client writes OpenMetrics text, which Prometheus scrapes natively.
const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    kind: &'static str,
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FieldLabels {
    field: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

/// The webhook's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Histogram,
    denials: Family<FieldLabels, Counter>,
    /// The `field` label values in use, to cap how many there are.
    denial_fields: std::sync::Mutex<std::collections::HashSet<String>>,
    warnings: Counter,
    cert_not_after: Gauge,
    cert_reloads: Counter,
    cert_reload_failures: Counter,
}

/// Distinct `field` labels of `denials_total`. Map keys a client chooses (osm-config keys,
/// resource names) reach field paths too; past this many, further fields count as
/// [`OTHER_FIELD`] instead of growing the registry without bound.
pub const MAX_DENIAL_FIELDS: usize = 256;
/// The `field` label for denials past [`MAX_DENIAL_FIELDS`] distinct fields.
pub const OTHER_FIELD: &str = "(other)";

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(METRIC_PREFIX);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Admission requests by operation, kind and decision",
            requests.clone(),
        );
        // A review takes tens of microseconds: start at 50µs, doubling (5 buckets below 1 ms).
        let duration = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "request_duration_seconds",
            "Time from the request's headers to the response, in seconds",
            duration.clone(),
        );
        let denials = Family::<FieldLabels, Counter>::default();
        registry.register(
            "denials",
            "Field errors in denied requests, by field path",
            denials.clone(),
        );
        let warnings = Counter::default();
        registry.register("warnings", "Warnings returned to clients", warnings.clone());
        let cert_not_after = Gauge::default();
        registry.register(
            "certificate_not_after_seconds",
            "Expiry of the serving certificate in use, in seconds since the Unix epoch",
            cert_not_after.clone(),
        );
        let cert_reloads = Counter::default();
        registry.register(
            "certificate_reloads",
            "Serving certificate pairs loaded after start-up",
            cert_reloads.clone(),
        );
        let cert_reload_failures = Counter::default();
        registry.register(
            "certificate_reload_failures",
            "Changed certificate files that could not be loaded (the previous pair stayed in use)",
            cert_reload_failures.clone(),
        );
        let build_info = Family::<VersionLabels, Gauge>::default();
        registry.register("build_info", "Build information (always 1)", build_info.clone());
        build_info
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        Self {
            registry,
            requests,
            duration,
            denials,
            denial_fields: std::sync::Mutex::new(std::collections::HashSet::new()),
            warnings,
            cert_not_after,
            cert_reloads,
            cert_reload_failures,
        }
    }

    /// Counts one request on the admission path.
    pub fn request(&self, operation: &'static str, kind: &'static str, decision: &'static str, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                operation,
                kind,
                decision,
            })
            .inc();
        self.duration.observe(elapsed.as_secs_f64());
    }

    /// Counts a field error that denied a request. List indices are folded (`spec.a[3]` →
    /// `spec.a[*]`), and at most [`MAX_DENIAL_FIELDS`] distinct fields get their own label.
    pub fn denial(&self, field: &str) {
        let folded = fold_indices(field);
        let field = if folded.len() > crate::field::bounds::MAX_FIELD_BYTES {
            // Label values live as long as the process: no megabyte-long invented keys.
            OTHER_FIELD.to_owned()
        } else {
            // A poisoned set is still a valid set.
            let mut known = self.denial_fields.lock().unwrap_or_else(|p| p.into_inner());
            if known.contains(&folded) {
                folded
            } else if known.len() < MAX_DENIAL_FIELDS {
                known.insert(folded.clone());
                folded
            } else {
                OTHER_FIELD.to_owned()
            }
        };
        self.denials.get_or_create(&FieldLabels { field }).inc();
    }

    pub fn warnings(&self, n: usize) {
        if n > 0 {
            self.warnings.inc_by(n as u64);
        }
    }

    pub fn certificate_in_use(&self, not_after: i64) {
        self.cert_not_after.set(not_after);
    }

    pub fn certificate_reloaded(&self, not_after: i64) {
        self.cert_reloads.inc();
        self.certificate_in_use(not_after);
    }

    pub fn certificate_reload_failed(&self) {
        self.cert_reload_failures.inc();
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn fold_indices(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str("[*]");
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Lifecycle state behind `/readyz`.
#[derive(Debug, Default)]
pub struct Health {
    state: AtomicU8,
}

const STARTING: u8 = 0;
const SERVING: u8 = 1;
const SHUTTING_DOWN: u8 = 2;

impl Health {
    pub fn new() -> Self {
        Self::default()
    }

    /// TLS material is loaded and the listener accepts connections.
    pub fn set_serving(&self) {
        // Never go back from shutting down.
        let _ = self
            .state
            .compare_exchange(STARTING, SERVING, Ordering::SeqCst, Ordering::SeqCst);
    }

    pub fn set_shutting_down(&self) {
        self.state.store(SHUTTING_DOWN, Ordering::SeqCst);
    }

    pub fn ready(&self) -> bool {
        self.state.load(Ordering::SeqCst) == SERVING
    }

    fn readiness(&self) -> (StatusCode, &'static str) {
        match self.state.load(Ordering::SeqCst) {
            SERVING => (StatusCode::OK, "ok\n"),
            SHUTTING_DOWN => (StatusCode::SERVICE_UNAVAILABLE, "not ready: shutting down\n"),
            _ => (StatusCode::SERVICE_UNAVAILABLE, "not ready: starting\n"),
        }
    }
}

#[derive(Clone)]
struct AdminState {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router(metrics: Arc<Metrics>, health: Arc<Health>) -> Router {
    Router::new()
        .route(HEALTHZ_PATH, get(|| async { "ok\n" }))
        .route(READYZ_PATH, get(readyz))
        .route(METRICS_PATH, get(metrics_handler))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: the admin port serves /healthz, /readyz and /metrics\n",
            )
        })
        .with_state(AdminState { metrics, health })
}

async fn readyz(State(s): State<AdminState>) -> Response {
    s.health.readiness().into_response()
}

async fn metrics_handler(State(s): State<AdminState>) -> Response {
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], s.metrics.encode()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_every_documented_family() {
        let m = Metrics::new();
        m.request("CREATE", "MeshConfig", "denied", Duration::from_micros(70));
        m.denial("spec.traffic.outboundPortExclusionList[3]");
        m.warnings(2);
        m.certificate_reloaded(1_900_000_000);
        m.certificate_reload_failed();
        let text = m.encode();
        for name in METRIC_NAMES {
            assert!(text.contains(&format!("\n{name}")), "{name} missing in\n{text}");
        }
        assert!(text.contains(
            r#"meshconfig_webhook_requests_total{operation="CREATE",kind="MeshConfig",decision="denied"} 1"#
        ));
        assert!(
            text.contains(r#"meshconfig_webhook_denials_total{field="spec.traffic.outboundPortExclusionList[*]"} 1"#)
        );
        assert!(
            text.contains("meshconfig_webhook_request_duration_seconds_bucket{le=\"0.0001\"} 1"),
            "{text}"
        );
        assert!(text.contains("meshconfig_webhook_certificate_not_after_seconds 1900000000"));
        assert!(text.contains(&format!(
            "meshconfig_webhook_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
    }

    #[test]
    fn caps_the_number_of_denial_field_labels() {
        let m = Metrics::new();
        for i in 0..MAX_DENIAL_FIELDS + 10 {
            m.denial(&format!("data.key{i}"));
        }
        m.denial("data.key0");
        let text = m.encode();
        assert!(
            text.contains(r#"meshconfig_webhook_denials_total{field="data.key0"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"meshconfig_webhook_denials_total{field="(other)"} 10"#),
            "{text}"
        );
        assert_eq!(
            text.matches("meshconfig_webhook_denials_total{").count(),
            MAX_DENIAL_FIELDS + 1
        );
    }

    #[test]
    fn folds_list_indices_only() {
        assert_eq!(fold_indices("spec.a[0].b[12]"), "spec.a[*].b[*]");
        assert_eq!(fold_indices("spec.a[x]"), "spec.a[x]");
        assert_eq!(fold_indices("spec.a["), "spec.a[");
        assert_eq!(fold_indices("spec.a[]"), "spec.a[]");
    }

    #[test]
    fn readiness_follows_the_lifecycle() {
        let h = Health::new();
        assert!(!h.ready());
        h.set_serving();
        assert!(h.ready());
        h.set_shutting_down();
        h.set_serving();
        assert!(!h.ready());
        assert_eq!(h.readiness().1, "not ready: shutting down\n");
    }
}
