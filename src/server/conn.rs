//! The TLS accept loop: a connection cap, a handshake timeout, a header-read timeout, HTTP/1.1
//! (and h2 when offered), and a graceful drain on shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
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

/// How long after accept a connection that has not sent a request yet is waited for at shutdown.
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(5);

/// Whether a connection has started its first request (set by the service, awaited at shutdown).
#[derive(Default)]
struct FirstRequest {
    seen: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl FirstRequest {
    fn arrived(&self) {
        if !self.seen.swap(true, std::sync::atomic::Ordering::AcqRel) {
            // notify_one keeps a permit when nobody waits yet.
            self.notify.notify_one();
        }
    }

    async fn wait(&self) {
        if !self.seen.load(std::sync::atomic::Ordering::Acquire) {
            self.notify.notified().await;
        }
    }
}

/// How the drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Connections still open when the drain timeout expired (closed abruptly).
    pub abandoned: usize,
}

/// Accepts TLS connections until `shutdown` turns true, then stops accepting (closing the
/// listener once the connections already queued in the kernel are taken), lets every connection
/// finish its in-flight request (or send the first one it connected for), and returns once all
/// are closed or `drain_timeout` has passed.
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

    // Once shutdown begins, the connections the kernel has already completed (the backlog) are
    // still accepted and served: closing the listener would reset them under their clients.
    let mut draining = false;
    loop {
        // Finished connections are reaped here so the set stays as large as the open ones.
        while conns.try_join_next().is_some() {}
        // At the cap, stop accepting: new clients wait in the kernel's backlog.
        let permit = if draining {
            match slots.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                _ = stopped(&mut shutdown) => {
                    draining = true;
                    continue;
                }
            }
        };
        let accepted = if draining {
            tokio::select! {
                biased;
                r = listener.accept() => r,
                () = std::future::ready(()) => break,
            }
        } else {
            tokio::select! {
                r = listener.accept() => r,
                _ = stopped(&mut shutdown) => {
                    draining = true;
                    continue;
                }
            }
        };
        let (tcp, peer) = match accepted {
            Ok(c) => c,
            Err(_) if draining => break,
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let builder = builder.clone();
        let mut shutdown = shutdown.clone();
        conns.spawn(async move {
            let _permit = permit;
            let accepted = tokio::time::Instant::now();
            let _ = tcp.set_nodelay(true);
            // A handshake in progress when shutdown begins is finished (bounded by its timeout):
            // the client connected before the listener closed and is about to send a request.
            let tls = match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    debug!(%peer, timeout = ?limits.handshake_timeout, "TLS handshake timed out");
                    return;
                }
            };
            let first_request = Arc::new(FirstRequest::default());
            let seen = first_request.clone();
            let service = hyper::service::service_fn(move |request| {
                seen.arrived();
                tower::ServiceExt::oneshot(router.clone(), request)
            });
            let conn = builder.serve_connection(TokioIo::new(tls), service);
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stopped(&mut shutdown) => {
                    // As Go's Server.Shutdown does: a connection that has not sent its first
                    // request yet is not idle but about to be used; wait for that request (up to
                    // 5s from accept, as Go) instead of closing it under the client.
                    let deadline = accepted + limits.header_read_timeout.min(FIRST_REQUEST_GRACE);
                    let early = tokio::select! {
                        r = conn.as_mut() => Some(r),
                        _ = first_request.wait() => None,
                        _ = tokio::time::sleep_until(deadline) => None,
                    };
                    match early {
                        Some(r) => r,
                        None => {
                            // Finish the request in progress (if any), then close.
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    }
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
