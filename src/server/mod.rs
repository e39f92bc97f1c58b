//! The admission server: HTTPS on `--addr` (`POST /validate`), a plain-HTTP admin port, the
//! certificate reloader, and the shutdown sequence.
//!
//! Defaults live here as constants so the Helm chart's test can check that it agrees with them.

pub mod admin;
pub mod conn;
pub mod tls;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tracing::{debug, error, info, warn};

use crate::admission::{self, Decision, Policy, Reply, Route, Verdict};
use crate::certs;

pub const DEFAULT_WEBHOOK_PORT: u16 = 8443;
pub const DEFAULT_ADMIN_PORT: u16 = 9090;
pub const DEFAULT_ADDR: &str = "0.0.0.0:8443";
pub const DEFAULT_ADMIN_ADDR: &str = "0.0.0.0:9090";
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 20;
pub const DEFAULT_MESH_NAMESPACE: &str = "arc-osm-system";
pub const DEFAULT_SERVICE_NAME: &str = "meshconfig-webhook";
pub const DEFAULT_CERT_DIR: &str = "certs";
pub const DEFAULT_OSM_RELEASE: &str = "1.2";
/// kube-apiserver's limit on a request body (`MaxRequestBodyBytes`, 3 MiB): larger objects are
/// refused before any validation.
pub const APISERVER_MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;
/// The apiserver's own limit: no review of an object it accepted is larger by much.
pub const DEFAULT_MAX_BODY_BYTES: usize = APISERVER_MAX_REQUEST_BYTES;
pub const DEFAULT_CERT_RELOAD_INTERVAL_SECS: u64 = 10;
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Memory for the reviews in progress, their bodies and parsed trees together: a body of the
/// full 3 MiB takes all of it, small reviews run side by side. With the process' own ~12 MiB the
/// peak stays near 80 MiB, inside the chart's 128 Mi limit (`tests/server_bounds.rs`).
pub const REVIEW_MEMORY_BUDGET_BYTES: usize = 64 * 1024 * 1024;
/// What a review costs per byte of body at most: a list of two-byte items (`0,`) becomes 32-byte
/// `serde_json::Value`s, 16×, and the list's buffer grows by doubling (measured: 3 MB of ports
/// peak at 65 MB above the idle process).
pub const REVIEW_BYTES_PER_BODY_BYTE: usize = 24;
/// Review memory no single review takes: small reviews (the apiserver's, of a usual MeshConfig,
/// hold about 60 KiB each) keep running beside the largest one.
pub const REVIEW_MEMORY_RESERVE_BYTES: usize = 8 * 1024 * 1024;
/// How long a review waits for memory before the client gets 503 with Retry-After.
const REVIEW_MEMORY_WAIT: Duration = Duration::from_secs(10);
/// Bodies up to this size are reviewed on the async worker that read them (at most ~0.2 ms of
/// CPU: the apiserver's MeshConfig UPDATE, 5.5 KB, takes ~15 µs); larger ones on a blocking
/// thread.
pub const INLINE_REVIEW_MAX_BYTES: usize = 32 * 1024;

/// Where kube-apiserver sends AdmissionReviews (`clientConfig.service.path`).
pub const ADMISSION_PATH: &str = "/validate";
/// Liveness, on the admin port.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Readiness, on the admin port.
pub const READYZ_PATH: &str = "/readyz";
/// Prometheus metrics, on the admin port.
pub const METRICS_PATH: &str = "/metrics";

/// Where the serving certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A certificate/key pair on disk, re-read every reload interval.
    Files { cert: PathBuf, key: PathBuf },
    /// Development certificates in this directory, created when missing or unusable.
    DevCerts { dir: PathBuf },
}

/// Everything `serve` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub addr: String,
    pub admin_addr: String,
    pub tls: TlsSource,
    pub client_ca_file: Option<PathBuf>,
    pub policy: Policy,
    /// Names the development certificate's in-cluster SANs.
    pub service_name: String,
    pub max_body_bytes: usize,
    pub shutdown_timeout: Duration,
    pub http2: bool,
    pub cert_reload_interval: Duration,
    pub header_read_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
    pub max_in_flight: usize,
}

impl ServeConfig {
    /// The defaults, serving development certificates from `certs/`.
    pub fn new(policy: Policy) -> Self {
        Self {
            addr: DEFAULT_ADDR.into(),
            admin_addr: DEFAULT_ADMIN_ADDR.into(),
            tls: TlsSource::DevCerts {
                dir: DEFAULT_CERT_DIR.into(),
            },
            client_ca_file: None,
            policy,
            service_name: DEFAULT_SERVICE_NAME.into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            shutdown_timeout: Duration::from_secs(DEFAULT_SHUTDOWN_TIMEOUT_SECS),
            http2: false,
            cert_reload_interval: Duration::from_secs(DEFAULT_CERT_RELOAD_INTERVAL_SECS),
            header_read_timeout: Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT_SECS),
            tls_handshake_timeout: Duration::from_secs(DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECS),
            body_read_timeout: Duration::from_secs(DEFAULT_BODY_READ_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Certificates(#[from] certs::CertError),
    #[error("{0}")]
    Tls(#[from] tls::LoadError),
    #[error("{0}")]
    TlsConfig(String),
    #[error("cannot listen on {flag} {addr}: {source}")]
    Bind {
        flag: &'static str,
        addr: String,
        source: std::io::Error,
    },
}

/// Runs the webhook until `shutdown` resolves, then drains and returns. Errors are start-up
/// failures; a completed drain (even one cut short by the timeout) is `Ok`.
pub async fn serve(config: ServeConfig, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let metrics = Arc::new(admin::Metrics::new());
    let health = Arc::new(admin::Health::new());

    let (cert_path, key_path) = match &config.tls {
        TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSource::DevCerts { dir } => {
            let (paths, how) = certs::ensure(dir, &config.service_name, &config.policy.mesh_namespace)?;
            let verb = match how {
                certs::Provenance::Created => "created",
                certs::Provenance::Reused => "reusing",
            };
            info!(
                ca = %paths.ca.display(),
                cert = %paths.cert.display(),
                "{verb} development certificates; clients verify the webhook with the CA bundle {}",
                paths.ca.display()
            );
            (paths.cert, paths.key)
        }
    };
    let (mut reloader, pair) = tls::Reloader::start(&cert_path, &key_path)?;
    metrics.certificate_in_use(pair.not_after);
    let tls_config = tls::server_config(reloader.store(), config.http2, config.client_ca_file.as_deref())
        .map_err(ServeError::TlsConfig)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config));

    let listener = TcpListener::bind(&config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            flag: "--addr",
            addr: config.addr.clone(),
            source,
        })?;
    let admin_listener = TcpListener::bind(&config.admin_addr)
        .await
        .map_err(|source| ServeError::Bind {
            flag: "--admin-addr",
            addr: config.admin_addr.clone(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_or_else(|_| config.addr.clone(), |a| a.to_string());
    let admin_addr = admin_listener
        .local_addr()
        .map_or_else(|_| config.admin_addr.clone(), |a| a.to_string());

    let (stop_tx, stop_rx) = watch::channel(false);

    // Admin port: stays up through the drain so /readyz reports it.
    let admin_router = admin::router(metrics.clone(), health.clone());
    let (admin_done_tx, mut admin_done_rx) = watch::channel(false);
    let admin_task = tokio::spawn(async move {
        let result = axum::serve(admin_listener, admin_router)
            .with_graceful_shutdown(async move {
                let _ = admin_done_rx.wait_for(|d| *d).await;
            })
            .await;
        if let Err(e) = result {
            error!(error = %e, "admin server failed");
        }
    });

    // Certificate reloader.
    let reload_metrics = metrics.clone();
    let mut reload_stop = stop_rx.clone();
    let interval = config.cert_reload_interval.max(Duration::from_millis(10));
    let reload_task = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = reload_stop.wait_for(|d| *d) => break,
            }
            // File reads are small; a blocking read every few seconds does not stall the runtime.
            match reloader.poll() {
                tls::PollResult::Unchanged | tls::PollResult::StillBroken => {}
                tls::PollResult::Reloaded { not_after } => {
                    reload_metrics.certificate_reloaded(not_after);
                    info!(cert = %reloader.cert_path().display(), not_after, "loaded a new serving certificate");
                }
                tls::PollResult::Failed(reason) => {
                    reload_metrics.certificate_reload_failed();
                    error!(
                        cert = %reloader.cert_path().display(),
                        key = %reloader.key_path().display(),
                        error = %reason,
                        "the changed certificate files cannot be used; still serving the previous certificate"
                    );
                }
            }
        }
    });

    // Build the release's schemas now, so the first review does not pay for it after /readyz.
    for version in config.policy.release.api_versions() {
        let _ = crate::schema::Schema::get(config.policy.release, *version);
    }
    let state = WebhookState::new(&config, metrics.clone());
    let router = webhook_router(state);
    let limits = conn::ConnLimits {
        handshake_timeout: config.tls_handshake_timeout,
        header_read_timeout: config.header_read_timeout,
        max_connections: config.max_connections,
        http2: config.http2,
    };
    let serve_task = tokio::spawn(conn::serve(
        listener,
        acceptor,
        router,
        limits,
        stop_rx,
        config.shutdown_timeout,
    ));
    health.set_serving();
    info!(
        addr = %addr,
        admin_addr = %admin_addr,
        path = ADMISSION_PATH,
        osm_release = %config.policy.release,
        mesh_namespace = %config.policy.mesh_namespace,
        protect_delete = config.policy.protect_delete,
        http2 = config.http2,
        mtls = config.client_ca_file.is_some(),
        "serving admission reviews"
    );

    shutdown.await;
    health.set_shutting_down();
    info!(timeout = ?config.shutdown_timeout, "shutting down: not ready, no new connections, draining in-flight requests");
    let _ = stop_tx.send(true);
    match serve_task.await {
        Ok(conn::Drained { abandoned: 0 }) => info!("drained; exiting"),
        Ok(conn::Drained { abandoned }) => {
            warn!(abandoned, timeout = ?config.shutdown_timeout, "shutdown timeout reached; closed remaining connections")
        }
        Err(e) => error!(error = %e, "the accept loop failed"),
    }
    let _ = admin_done_tx.send(true);
    let _ = reload_task.await;
    let _ = admin_task.await;
    Ok(())
}

/// Shared by every admission request.
#[derive(Clone)]
struct WebhookState {
    inner: Arc<WebhookInner>,
}

struct WebhookInner {
    policy: Policy,
    metrics: Arc<admin::Metrics>,
    in_flight: Semaphore,
    max_in_flight: usize,
    /// Reviews decided at once: as many as there are cores, so the memory of the reviews in
    /// progress is bounded by the core count, not by --max-in-flight. Bodies larger than
    /// [`INLINE_REVIEW_MAX_BYTES`] are decided on a blocking thread, so a slow review never holds
    /// a runtime worker.
    reviewing: Arc<Semaphore>,
    /// [`REVIEW_MEMORY_BUDGET_BYTES`] in KiB; a review holds its body's share while it is read
    /// and decided, so neither queued bodies nor parsed trees can exceed it.
    memory: Semaphore,
    max_body_bytes: usize,
    body_read_timeout: Duration,
    #[cfg(debug_assertions)]
    panic_uid: Option<String>,
}

impl WebhookState {
    fn new(config: &ServeConfig, metrics: Arc<admin::Metrics>) -> Self {
        let max_in_flight = config.max_in_flight.max(1);
        Self {
            inner: Arc::new(WebhookInner {
                policy: config.policy.clone(),
                metrics,
                in_flight: Semaphore::new(max_in_flight),
                max_in_flight,
                reviewing: Arc::new(Semaphore::new(review_threads())),
                memory: Semaphore::new(REVIEW_MEMORY_BUDGET_BYTES / 1024),
                max_body_bytes: config.max_body_bytes,
                body_read_timeout: config.body_read_timeout,
                #[cfg(debug_assertions)]
                panic_uid: std::env::var("MESHCONFIG_TEST_PANIC_UID")
                    .ok()
                    .filter(|u| !u.is_empty()),
            }),
        }
    }
}

/// The share of [`REVIEW_MEMORY_BUDGET_BYTES`] (in KiB) a review of `body_bytes` holds: at most
/// all of it but the reserve, so a review of any accepted body runs, one large one at a time,
/// with small ones beside it.
fn review_kib(body_bytes: usize) -> u32 {
    let kib = body_bytes.saturating_mul(REVIEW_BYTES_PER_BODY_BYTE).div_ceil(1024);
    let most = (REVIEW_MEMORY_BUDGET_BYTES - REVIEW_MEMORY_RESERVE_BYTES) / 1024;
    u32::try_from(kib.clamp(1, most)).unwrap_or(u32::MAX)
}

/// How many reviews run at once: one per core.
fn review_threads() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

fn webhook_router(state: WebhookState) -> Router {
    Router::new()
        .route(ADMISSION_PATH, any(validate))
        .fallback(not_found)
        .with_state(state)
}

/// Another path: counted and logged as every other HTTP-level refusal (a webhook configuration
/// with a wrong `clientConfig.service.path` shows up here).
async fn not_found(State(state): State<WebhookState>, uri: axum::http::Uri) -> Response {
    let started = Instant::now();
    let response = reject(
        StatusCode::NOT_FOUND,
        format!(
            "{} not found: admission reviews go to POST {ADMISSION_PATH}",
            uri.path()
        ),
    );
    state
        .inner
        .metrics
        .request("unknown", "unknown", Verdict::Error.as_str(), started.elapsed());
    response
}

/// A plain-text response (HTTP errors that are not reviews).
fn plain(status: StatusCode, text: String) -> Response {
    let mut text = text;
    text.push('\n');
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

async fn validate(State(state): State<WebhookState>, request: Request) -> Response {
    let started = Instant::now();
    let s = &state.inner;
    match handle(s, request).await {
        Ok((response, decision)) => {
            s.metrics.request(
                decision.operation,
                decision.route.label(),
                decision.verdict.as_str(),
                started.elapsed(),
            );
            for f in &decision.denied_fields {
                s.metrics.denial(f);
            }
            s.metrics.warnings(decision.warnings.len());
            log_decision(&decision);
            response
        }
        Err(response) => {
            s.metrics
                .request("unknown", "unknown", Verdict::Error.as_str(), started.elapsed());
            response
        }
    }
}

/// The admission path: HTTP checks, then the review. `Err` is an HTTP error response.
async fn handle(s: &Arc<WebhookInner>, request: Request) -> Result<(Response, Box<Decision>), Response> {
    let (parts, body) = request.into_parts();
    if parts.method != Method::POST {
        let mut r = reject(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "method {} is not allowed on {ADMISSION_PATH}: send an AdmissionReview with POST",
                parts.method
            ),
        );
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Err(r);
    }
    if let Err(found) = json_content_type(&parts.headers) {
        return Err(reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Type {found}: an AdmissionReview must be sent as application/json"),
        ));
    }
    if let Some(coding) = content_encoding(&parts.headers) {
        // The apiserver never compresses webhook requests; decoding gzip would only add a
        // decompression-bomb path. RFC 7694: 415 naming the codings accepted.
        let mut r = reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {coding:?}: send the AdmissionReview uncompressed"),
        );
        r.headers_mut()
            .insert(header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        return Err(r);
    }
    let Ok(_permit) = s.in_flight.try_acquire() else {
        let mut r = reject(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many admission reviews in flight (--max-in-flight {}); retry",
                s.max_in_flight
            ),
        );
        // client-go (the apiserver's webhook client) retries a 5xx carrying Retry-After.
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Err(r);
    };
    let too_large = || {
        reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {} bytes (--max-body-bytes)", s.max_body_bytes),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > s.max_body_bytes as u64) {
        return Err(too_large());
    }
    // Memory before reading: the declared length (the apiserver always sends one), or the most
    // a body may have.
    let body_bytes = declared.map_or(s.max_body_bytes, |n| n as usize);
    let Ok(Ok(_memory)) = tokio::time::timeout(REVIEW_MEMORY_WAIT, s.memory.acquire_many(review_kib(body_bytes))).await
    else {
        let mut r = reject(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the reviews in progress use the webhook's memory ({} MiB) for over {REVIEW_MEMORY_WAIT:?}; retry",
                REVIEW_MEMORY_BUDGET_BYTES / (1024 * 1024)
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Err(r);
    };
    let bytes = match read_body(body, s.max_body_bytes, s.body_read_timeout).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return Err(too_large()),
        Err(BodyError::Timeout) => {
            return Err(reject(
                StatusCode::REQUEST_TIMEOUT,
                format!("the request body did not arrive within {:?}", s.body_read_timeout),
            ));
        }
        Err(BodyError::Read(e)) => {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                format!("reading the request body: {e}"),
            ));
        }
    };
    // The review itself is CPU work, at most one per core at a time, while the in-flight slot
    // stays held. A small body (any MeshConfig review an apiserver sends) is decided right here
    // in tens of µs, less than a hand-off to a blocking thread costs; a larger one (up to a
    // second for the largest) goes to a blocking thread, so it never holds an async worker.
    let reply = match s.reviewing.clone().acquire_owned().await {
        Ok(permit) if bytes.len() <= INLINE_REVIEW_MAX_BYTES => {
            let _permit = permit;
            review_catching_panics(s, &bytes)
        }
        Ok(permit) => {
            let inner = s.clone();
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                review_catching_panics(&inner, &bytes)
            })
            .await
            .unwrap_or_else(|e| Err(format!("the review task failed: {e}")))
        }
        Err(e) => Err(format!("the review pool is closed: {e}")),
    };
    match reply {
        Ok(Reply::Review { body, decision }) => {
            let response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
            Ok((response, decision))
        }
        Ok(Reply::BadRequest(text)) => Err(reject(StatusCode::BAD_REQUEST, text)),
        Err(text) => Err(reject(StatusCode::INTERNAL_SERVER_ERROR, text)),
    }
}

/// `admission::review`, with a panic (a bug) turned into an answer instead of a dropped
/// connection: a denial with an InternalError Status echoing the uid when the body has one, else
/// `Err` with the text for an HTTP 500. Neither lets the object through unreviewed, whatever the
/// failurePolicy.
fn review_catching_panics(s: &WebhookInner, bytes: &[u8]) -> Result<Reply, String> {
    let run = || {
        #[cfg(debug_assertions)]
        inject_panic(s, bytes);
        admission::review(&s.policy, bytes)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(reply) => Ok(reply),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|m| (*m).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_owned());
            let problem = format!("the webhook panicked while reviewing this request: {what}");
            error!(
                panic = %what,
                uid = admission::request_uid(bytes).as_deref().unwrap_or(""),
                "caught a panic while reviewing a request; answered with an internal error"
            );
            admission::internal_error(bytes, &problem).ok_or(problem)
        }
    }
}

/// Test-only fault injection, compiled into debug builds only: a review whose uid equals
/// `MESHCONFIG_TEST_PANIC_UID` panics inside the handler (tests/server_faults.rs).
#[cfg(debug_assertions)]
fn inject_panic(s: &WebhookInner, bytes: &[u8]) {
    if let Some(uid) = &s.panic_uid
        && admission::request_uid(bytes).as_deref() == Some(uid.as_str())
    {
        panic!("injected by MESHCONFIG_TEST_PANIC_UID for uid {uid}");
    }
}

fn reject(status: StatusCode, text: String) -> Response {
    warn!(status = status.as_u16(), reason = %text, "rejected a request on the admission path");
    plain(status, text)
}

/// `application/json`, with any parameters. `application/x-www-form-urlencoded` is accepted too:
/// it is what `curl -d @review.json` sends, and the body is parsed as JSON either way.
fn json_content_type(headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("(none)".into());
    };
    let text = value.to_str().unwrap_or("");
    let essence = text.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json")
        || essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        Ok(())
    } else {
        Err(format!("{text:?}"))
    }
}

/// A `Content-Encoding` other than `identity`, as sent.
fn content_encoding(headers: &HeaderMap) -> Option<String> {
    let mut codings = headers.get_all(header::CONTENT_ENCODING).iter().flat_map(|v| {
        let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
        text.split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
            .collect::<Vec<_>>()
    });
    codings.next()
}

enum BodyError {
    TooLarge,
    Timeout,
    Read(String),
}

async fn read_body(body: Body, max: usize, timeout: Duration) -> Result<bytes::Bytes, BodyError> {
    match tokio::time::timeout(timeout, Limited::new(body, max).collect()).await {
        Err(_) => Err(BodyError::Timeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Ok(Err(e)) => Err(BodyError::Read(e.to_string())),
    }
}

fn log_decision(d: &Decision) {
    match (d.verdict, d.route, d.operation) {
        (Verdict::Error, _, _) => {
            warn!(uid = %d.uid, reason = %d.message, "answered an unusable AdmissionReview with a denial")
        }
        (_, Route::Other, _) | (_, _, "CONNECT") => debug!(
            uid = %d.uid,
            user = %d.user,
            operation = d.operation,
            kind = %d.kind,
            namespace = %d.namespace,
            name = %d.name,
            "allowed: not validated by this webhook"
        ),
        (Verdict::Allowed, _, _) => info!(
            uid = %d.uid,
            user = %d.user,
            operation = d.operation,
            namespace = %d.namespace,
            name = %d.name,
            dry_run = d.dry_run,
            allowed = true,
            warnings = d.warnings.len(),
            "admission decision"
        ),
        (Verdict::Denied, _, _) => info!(
            uid = %d.uid,
            user = %d.user,
            operation = d.operation,
            namespace = %d.namespace,
            name = %d.name,
            dry_run = d.dry_run,
            allowed = false,
            denied = %d.denied_fields.join(","),
            warnings = d.warnings.len(),
            reason = %d.message,
            "admission decision"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's defaults for the latest release.
    fn test_config() -> ServeConfig {
        ServeConfig::new(Policy {
            release: crate::schema::Release::LATEST,
            mesh_namespace: DEFAULT_MESH_NAMESPACE.into(),
            protect_delete: false,
            unknown_configmap_keys: crate::validate::UnknownKeys::Deny,
        })
    }

    #[test]
    fn accepts_json_content_types_only() {
        let mut h = HeaderMap::new();
        assert_eq!(json_content_type(&h), Err("(none)".into()));
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/x-www-form-urlencoded",
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ok));
            assert_eq!(json_content_type(&h), Ok(()), "{ok}");
        }
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml"));
        assert_eq!(json_content_type(&h), Err("\"application/yaml\"".into()));
    }

    #[test]
    fn refuses_compressed_bodies_only() {
        let mut h = HeaderMap::new();
        assert_eq!(content_encoding(&h), None);
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("identity"));
        assert_eq!(content_encoding(&h), None);
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("identity, gzip"));
        assert_eq!(content_encoding(&h).as_deref(), Some("gzip"));
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(content_encoding(&h).as_deref(), Some("br"));
    }

    #[tokio::test]
    async fn answers_overload_with_503_and_retry_after() {
        use tower::ServiceExt as _;
        let mut config = test_config();
        config.max_in_flight = 1;
        let state = WebhookState::new(&config, Arc::new(admin::Metrics::new()));
        let _held = state.inner.in_flight.try_acquire().expect("the only slot");
        let request = Request::builder()
            .method(Method::POST)
            .uri(ADMISSION_PATH)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("request");
        let response = webhook_router(state.clone())
            .oneshot(request)
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        // client-go retries a 5xx that carries Retry-After (k8s.io/client-go/rest checkWait).
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
    }

    // Paused time: the 10 s wait passes at once, and only once nothing else can run.
    #[tokio::test(start_paused = true)]
    async fn answers_a_review_that_waits_too_long_for_memory_with_503_and_retry_after() {
        use tower::ServiceExt as _;
        let config = test_config();
        let state = WebhookState::new(&config, Arc::new(admin::Metrics::new()));
        let kib = u32::try_from(REVIEW_MEMORY_BUDGET_BYTES / 1024).expect("fits");
        let held = state.inner.memory.try_acquire_many(kib).expect("all the review memory");
        let request = || {
            Request::builder()
                .method(Method::POST)
                .uri(ADMISSION_PATH)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, "2")
                .body(Body::from("{}"))
                .expect("request")
        };
        let started = tokio::time::Instant::now();
        let response = webhook_router(state.clone())
            .oneshot(request())
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(started.elapsed(), REVIEW_MEMORY_WAIT, "it waited, then gave up");
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
        assert_eq!(
            String::from_utf8_lossy(&body),
            "the reviews in progress use the webhook's memory (64 MiB) for over 10s; retry\n"
        );
        // Memory back: the same request gets past the wait, and its body is read (and refused
        // as no AdmissionReview).
        drop(held);
        let started = tokio::time::Instant::now();
        let response = webhook_router(state).oneshot(request()).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(started.elapsed() < REVIEW_MEMORY_WAIT);
    }

    #[cfg(debug_assertions)]
    #[test]
    fn turns_a_panic_in_the_review_into_an_internal_error_denial() {
        let config = test_config();
        let mut inner = WebhookInner {
            policy: config.policy.clone(),
            metrics: Arc::new(admin::Metrics::new()),
            in_flight: Semaphore::new(1),
            max_in_flight: 1,
            reviewing: Arc::new(Semaphore::new(1)),
            memory: Semaphore::new(REVIEW_MEMORY_BUDGET_BYTES / 1024),
            max_body_bytes: config.max_body_bytes,
            body_read_timeout: config.body_read_timeout,
            panic_uid: Some("boom".into()),
        };
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"boom"}}"#;
        let Ok(Reply::Review { body: out, decision }) = review_catching_panics(&inner, body) else {
            panic!("the panic was not answered with a review");
        };
        assert_eq!(decision.verdict, Verdict::Error);
        let out: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(out["response"]["uid"], "boom");
        assert_eq!(out["response"]["allowed"], false);
        assert_eq!(out["response"]["status"]["code"], 500);
        assert_eq!(
            out["response"]["status"]["message"],
            "Internal error occurred: the webhook panicked while reviewing this request: injected by MESHCONFIG_TEST_PANIC_UID for uid boom"
        );
        // Other reviews are answered as usual.
        inner.panic_uid = None;
        assert!(matches!(review_catching_panics(&inner, body), Ok(Reply::Review { .. })));
    }

    #[test]
    fn a_review_of_any_accepted_body_fits_the_memory_budget() {
        let most_kib = (REVIEW_MEMORY_BUDGET_BYTES - REVIEW_MEMORY_RESERVE_BYTES) / 1024;
        // The preset's 2.6 KB review: over 100 of them fit in the reserve alone.
        assert_eq!(review_kib(2_600), 61);
        assert_eq!(review_kib(0), 1);
        // The largest body takes all but the reserve (it is 72 MiB by the estimate): one at a
        // time, small ones beside it, and a larger --max-body-bytes still gets a review.
        assert_eq!(review_kib(DEFAULT_MAX_BODY_BYTES) as usize, most_kib);
        assert_eq!(review_kib(usize::MAX) as usize, most_kib);
        assert!(2 * most_kib > REVIEW_MEMORY_BUDGET_BYTES / 1024);
    }
}
