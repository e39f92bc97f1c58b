//! The no-op baseline server for the load benchmark (`bench/load.py`): the product's own TLS
//! configuration (`server::tls`), accept loop and HTTP stack (`server::conn`: rustls, hyper-util,
//! axum), answering every `POST /validate` with a fixed allowed AdmissionReview after reading the
//! body, without decoding it. What the webhook costs beyond this is the price of its decisions.
//!
//! Not part of the product. Build: `cargo bench --bench baseline --no-run`; run the executable it
//! prints with
//! `--serve --addr 127.0.0.1:18443 --admin-addr 127.0.0.1:19090 --tls-cert-file tls.crt --tls-key-file tls.key`
//! (`/readyz` on the admin address answers 200 once it serves). Without `--serve` (as
//! `cargo bench` runs every bench target) it prints this usage and exits.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use meshconfig_webhook::server::{self, conn, tls};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What the webhook answers for an allowed review, minus the uid echo.
const ALLOWED: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"b8f0c7e4-3a1d-4c55-9a0e-0c2f1d7e6a03","allowed":true,"status":{}}}"#;

const USAGE: &str = "baseline: no-op admission server for bench/load.py; usage: baseline --serve \
     --addr HOST:PORT --admin-addr HOST:PORT --tls-cert-file FILE --tls-key-file FILE";

struct Args {
    addr: String,
    admin_addr: String,
    cert: String,
    key: String,
}

/// `Ok(None)`: not asked to serve (e.g. run by `cargo bench`).
fn parse_args() -> Result<Option<Args>, String> {
    let mut serve = false;
    let (mut addr, mut admin_addr, mut cert, mut key) = (None, None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let slot = match a.as_str() {
            "--serve" => {
                serve = true;
                continue;
            }
            "--addr" => &mut addr,
            "--admin-addr" => &mut admin_addr,
            "--tls-cert-file" => &mut cert,
            "--tls-key-file" => &mut key,
            // cargo bench's own flags (`--bench`, filters) are ignored.
            _ => continue,
        };
        *slot = Some(it.next().ok_or_else(|| format!("{a} needs a value"))?);
    }
    if !serve {
        return Ok(None);
    }
    match (addr, admin_addr, cert, key) {
        (Some(addr), Some(admin_addr), Some(cert), Some(key)) => Ok(Some(Args {
            addr,
            admin_addr,
            cert,
            key,
        })),
        _ => Err(USAGE.into()),
    }
}

async fn validate(body: Bytes) -> impl IntoResponse {
    // The body is read (as the webhook must) and dropped undecoded.
    drop(body);
    ([(header::CONTENT_TYPE, "application/json")], ALLOWED)
}

async fn run(args: Args) -> Result<(), String> {
    let (reloader, _pair) = tls::Reloader::start(args.cert.as_ref(), args.key.as_ref()).map_err(|e| e.to_string())?;
    let config = tls::server_config(reloader.store(), false, None)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(&args.addr)
        .await
        .map_err(|e| format!("--addr {}: {e}", args.addr))?;
    let admin = TcpListener::bind(&args.admin_addr)
        .await
        .map_err(|e| format!("--admin-addr {}: {e}", args.admin_addr))?;
    let admin_router = Router::new().route(server::READYZ_PATH, get(|| async { "ok\n" }));
    tokio::spawn(async move { axum::serve(admin, admin_router).await });

    let router = Router::new().route(server::ADMISSION_PATH, post(validate));
    // The webhook's defaults (`serve` without flags).
    let limits = conn::ConnLimits {
        handshake_timeout: Duration::from_secs(server::DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECS),
        header_read_timeout: Duration::from_secs(server::DEFAULT_HEADER_READ_TIMEOUT_SECS),
        max_connections: server::DEFAULT_MAX_CONNECTIONS,
        http2: false,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let serving = tokio::spawn(conn::serve(
        listener,
        acceptor,
        router,
        limits,
        stop_rx,
        Duration::from_secs(1),
    ));
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    let _ = serving.await;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    tls::install_default_provider();
    // The same runtime as `serve`: multi-threaded, one worker per core.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baseline: {e}");
            ExitCode::FAILURE
        }
    }
}
