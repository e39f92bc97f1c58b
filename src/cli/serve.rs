//! `meshconfig-webhook serve`: the admission webhook. Every flag also reads a `MESHCONFIG_*`
//! environment variable.
//!
//! Exit codes: 0 after a shutdown signal and drain, 1 when the server cannot start, 2 for
//! unusable flags.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tracing::{error, info, warn};

use super::UnknownKeysArg;
use crate::admission::Policy;
use crate::schema::Release;
use crate::server::{self, ServeConfig, TlsSource};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the HTTPS admission endpoint (POST /validate).
    /// `host:port`, or `:port` for all addresses.
    #[arg(long, env = "MESHCONFIG_ADDR", default_value = server::DEFAULT_ADDR, value_parser = super::listen_addr)]
    pub addr: String,
    /// Address of the plain-HTTP admin endpoint (/healthz, /readyz, /metrics).
    #[arg(long, env = "MESHCONFIG_ADMIN_ADDR", default_value = server::DEFAULT_ADMIN_ADDR, value_parser = super::listen_addr)]
    pub admin_addr: String,
    /// Serving certificate (PEM chain, leaf first); re-read when it changes. Without it,
    /// development certificates are created under --cert-dir.
    #[arg(long, env = "MESHCONFIG_TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// Private key of --tls-cert-file (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "MESHCONFIG_TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,
    /// Require client certificates signed by this CA bundle (the apiserver's client certificate).
    #[arg(long, env = "MESHCONFIG_CLIENT_CA_FILE")]
    pub client_ca_file: Option<PathBuf>,
    /// Where development certificates are created or reused when no --tls-cert-file is given.
    #[arg(long, env = "MESHCONFIG_CERT_DIR", default_value = server::DEFAULT_CERT_DIR)]
    pub cert_dir: PathBuf,
    /// OSM release line whose MeshConfig schema applies (0.9, 0.10, 0.11, 1.0, 1.1, 1.2).
    #[arg(long, env = "MESHCONFIG_OSM_RELEASE", default_value = server::DEFAULT_OSM_RELEASE)]
    pub osm_release: Release,
    /// Namespace of OSM's control plane; MeshConfigs elsewhere are allowed with a warning.
    #[arg(long, env = "MESHCONFIG_MESH_NAMESPACE", default_value = server::DEFAULT_MESH_NAMESPACE, value_parser = super::dns1123_label)]
    pub mesh_namespace: String,
    /// Name of the webhook's Service (for the development certificate's names).
    #[arg(long, env = "MESHCONFIG_SERVICE_NAME", default_value = server::DEFAULT_SERVICE_NAME, value_parser = super::dns1123_label)]
    pub service_name: String,
    /// Deny deleting the MeshConfig osm-mesh-config in --mesh-namespace.
    #[arg(long, env = "MESHCONFIG_PROTECT_DELETE")]
    pub protect_delete: bool,
    /// Keys of the osm-config ConfigMap (OSM v0.8) that OSM does not read: deny, or only warn.
    #[arg(long, env = "MESHCONFIG_UNKNOWN_CONFIGMAP_KEYS", value_enum, default_value_t = UnknownKeysArg::Deny)]
    pub unknown_configmap_keys: UnknownKeysArg,
    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, env = "MESHCONFIG_MAX_BODY_BYTES", default_value_t = server::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT (Go duration).
    #[arg(long, env = "MESHCONFIG_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = go_duration)]
    pub shutdown_timeout: Duration,
    /// Also offer HTTP/2 (ALPN h2).
    #[arg(long, env = "MESHCONFIG_HTTP2")]
    pub http2: bool,
    /// Log format.
    #[arg(long, env = "MESHCONFIG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,
    /// Log level (trace, debug, info, warn, error, off) or a tracing filter of `target=level`
    /// directives (e.g. `info,meshconfig_webhook=debug`).
    #[arg(long, env = "MESHCONFIG_LOG_LEVEL", default_value = "info", value_parser = log_filter)]
    pub log_level: String,
    /// How often the certificate files are checked for changes (Go duration).
    #[arg(long, env = "MESHCONFIG_CERT_RELOAD_INTERVAL", default_value = "10s", value_parser = go_duration)]
    pub cert_reload_interval: Duration,
    /// Close connections that do not send complete request headers within this time, including
    /// idle keep-alive connections (Go duration).
    #[arg(long, env = "MESHCONFIG_HEADER_READ_TIMEOUT", default_value = "30s", value_parser = go_duration)]
    pub header_read_timeout: Duration,
    /// Close connections that do not complete the TLS handshake within this time (Go duration).
    #[arg(long, env = "MESHCONFIG_TLS_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = go_duration)]
    pub tls_handshake_timeout: Duration,
    /// Answer 408 when a request body does not arrive within this time (Go duration).
    #[arg(long, env = "MESHCONFIG_BODY_READ_TIMEOUT", default_value = "30s", value_parser = go_duration)]
    pub body_read_timeout: Duration,
    /// Most connections open at once; further clients wait to be accepted.
    #[arg(long, env = "MESHCONFIG_MAX_CONNECTIONS", default_value_t = server::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Most admission requests processed at once; further ones get 503.
    #[arg(long, env = "MESHCONFIG_MAX_IN_FLIGHT", default_value_t = server::DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Plain,
    Json,
}

/// The levels `--log-level` takes, alone or after `target=`.
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// `--log-level`, checked when flags are parsed: a bare word tracing does not know as a level
/// (`warning`, `verbose`) would be read as a target name and silence every log line, the fatal
/// ones included.
fn log_filter(s: &str) -> Result<String, String> {
    for directive in s.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive.rsplit_once('=').map_or(directive, |(_, l)| l);
        if !LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "unknown log level {level:?}: valid levels are {}, alone or as target=level (e.g. meshconfig_webhook=debug)",
                LOG_LEVELS.join(", ")
            ));
        }
    }
    tracing_subscriber::EnvFilter::try_new(s).map_err(|e| e.to_string())?;
    Ok(s.to_owned())
}

/// A Go `time.ParseDuration` string, as Kubernetes components take durations.
fn go_duration(s: &str) -> Result<Duration, String> {
    let ns = crate::validate::duration::parse(s)?;
    u64::try_from(ns)
        .map(Duration::from_nanos)
        .map_err(|_| format!("negative duration {s:?}"))
}

impl ServeArgs {
    fn config(self) -> ServeConfig {
        let tls = match (self.tls_cert_file, self.tls_key_file) {
            (Some(cert), Some(key)) => TlsSource::Files { cert, key },
            _ => TlsSource::DevCerts { dir: self.cert_dir },
        };
        let policy = Policy {
            release: self.osm_release,
            mesh_namespace: self.mesh_namespace,
            protect_delete: self.protect_delete,
            unknown_configmap_keys: self.unknown_configmap_keys.into(),
        };
        ServeConfig {
            addr: self.addr,
            admin_addr: self.admin_addr,
            tls,
            client_ca_file: self.client_ca_file,
            policy,
            service_name: self.service_name,
            max_body_bytes: self.max_body_bytes,
            shutdown_timeout: self.shutdown_timeout,
            http2: self.http2,
            cert_reload_interval: self.cert_reload_interval,
            header_read_timeout: self.header_read_timeout,
            tls_handshake_timeout: self.tls_handshake_timeout,
            body_read_timeout: self.body_read_timeout,
            max_connections: self.max_connections,
            max_in_flight: self.max_in_flight,
        }
    }
}

pub fn run(args: ServeArgs) -> ExitCode {
    // The guard is held until `run` returns: dropping it writes out the lines still waiting.
    let (writer, _logs) = match super::log_writer::batched(std::io::stderr()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: starting the log writer thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = init_logging(args.log_format, &args.log_level, writer) {
        eprintln!("error: --log-level {:?}: {e}", args.log_level);
        return ExitCode::from(2);
    }
    crate::server::tls::install_default_provider();
    let config = args.config();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    // Handlers are installed before the server starts, so a signal sent as soon as it reports
    // that it serves is never missed (the default action would kill it without a drain).
    let shutdown = {
        let _context = runtime.enter();
        shutdown_signal()
    };
    match runtime.block_on(server::serve(config, shutdown)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %e, "cannot start the webhook");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr from a thread of their own, in batches (`log_writer`): a request only
/// appends its decision line to a buffer; nothing is dropped.
fn init_logging(format: LogFormat, level: &str, writer: super::log_writer::BatchedWriter) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(level).map_err(|e| e.to_string())?;
    // Colours only on a terminal: log collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    let result = match format {
        LogFormat::Plain => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
    };
    result.map_err(|e| e.to_string())
}

/// Installs the SIGTERM (what the kubelet sends) and SIGINT (Ctrl-C) handlers now, in the
/// runtime's context, and resolves on the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let streams = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate()).and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
    };
    async move {
        #[cfg(unix)]
        match streams {
            Ok((mut term, mut int)) => {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                info!(signal = name, "received a shutdown signal");
            }
            Err(e) => {
                warn!(error = %e, "cannot install the SIGTERM handler; shutting down on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
                info!(signal = "SIGINT", "received a shutdown signal");
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            info!(signal = "Ctrl-C", "received a shutdown signal");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flag_defaults_are_the_servers_defaults() {
        use clap::Parser as _;
        let cmd = Cmd::try_parse_from(["serve"]).expect("defaults parse");
        let policy = Policy {
            release: Release::LATEST,
            mesh_namespace: server::DEFAULT_MESH_NAMESPACE.into(),
            protect_delete: false,
            unknown_configmap_keys: crate::validate::UnknownKeys::Deny,
        };
        assert_eq!(cmd.serve.config(), ServeConfig::new(policy));
    }

    #[test]
    fn log_levels_are_checked_when_parsing_flags() {
        for ok in ["info", "WARN", "off", "info,meshconfig_webhook=debug", "hyper=error"] {
            assert_eq!(log_filter(ok).as_deref(), Ok(ok));
        }
        for bad in ["warning", "verbose", "info,hyper=loud", "meshconfig_webhook"] {
            let e = log_filter(bad).expect_err(bad);
            assert!(
                e.contains("valid levels are trace, debug, info, warn, error, off"),
                "{e}"
            );
        }
    }

    #[test]
    fn durations_read_like_kubernetes_flags() {
        assert_eq!(go_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(go_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(go_duration("-1s").is_err());
        assert!(go_duration("10").is_err());
    }
}
