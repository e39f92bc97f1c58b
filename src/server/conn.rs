//! The TLS accept loop: a connection cap, a handshake timeout, a header-read timeout, HTTP/1.1
//! (and h2 when offered), and a graceful drain on shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

/// Limits applied to every connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub handshake_timeout: Duration,
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub http2: bool,
}

/// Resolves once shutdown has begun (also when it began before this call).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, never held across an await.
    let _ = rx.wait_for(|down| *down).await;
}

/// How the drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Connections still open when the drain timeout expired (closed abruptly).
    pub abandoned: usize,
}

/// Accepts TLS connections until `shutdown` turns true, then stops accepting (closing the
/// listener), lets every connection finish its in-flight request, and returns once all are closed
/// or `drain_timeout` has passed.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    limits: ConnLimits,
    mut shutdown: watch::Receiver<bool>,
    drain_timeout: Duration,
) -> Drained {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(if limits.http2 { builder } else { builder.http1_only() });
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut conns = JoinSet::new();

    loop {
        // Finished connections are reaped here so the set stays as large as the open ones.
        while conns.try_join_next().is_some() {}
        // At the cap, stop accepting: new clients wait in the kernel's backlog.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped(&mut shutdown) => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let builder = builder.clone();
        let mut shutdown = shutdown.clone();
        conns.spawn(async move {
            let _permit = permit;
            let _ = tcp.set_nodelay(true);
            let tls = tokio::select! {
                r = tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)) => match r {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        debug!(%peer, timeout = ?limits.handshake_timeout, "TLS handshake timed out");
                        return;
                    }
                },
                _ = stopped(&mut shutdown) => return,
            };
            let conn = builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(router));
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stopped(&mut shutdown) => {
                    // Finish the request in progress (if any), then close.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);

    let drained = tokio::time::timeout(drain_timeout, async { while conns.join_next().await.is_some() {} }).await;
    let abandoned = if drained.is_ok() { 0 } else { conns.len() };
    conns.abort_all();
    Drained { abandoned }
}
