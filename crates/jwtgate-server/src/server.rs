//! The accept loop: HTTP/1.1 with hyper, head size and idle limits, graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use jwtgate_server::App;

use crate::coarse_timer::CoarseTimer;

/// A request head over this many bytes is answered 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long a connection may take to send a request head (also bounds idle keep-alive).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long in-flight requests may run after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then stops accepting and drains for up to 10 s. A
/// connection accepted while `max_connections` are open is closed at once and counted.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(max_connections.min(Semaphore::MAX_PERMITS)));
    let mut http = hyper::server::conn::http1::Builder::new();
    // The head timeout at a one-second grain: tokio's exact timer per request head cost more
    // than the request.
    http.timer(CoarseTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_HEAD_BYTES + 8192);
    // The handler lives as long as the process: borrowed for 'static, a request's future holds
    // it without touching a shared reference count.
    let app: &'static App = Box::leak(Box::new(app));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
                    app.count_rejected_connection();
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let service = service_fn(move |request| app.handle_from(Some(client), request));
                let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within 10 s");
    }
}

/// Raises the soft open-files limit to the hard one; returns the limit now in force when it is
/// below what `max_connections` connections need (one descriptor each, plus 64 for the rest).
pub(crate) fn raise_open_files_limit(max_connections: usize) -> Option<u64> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?;
    let limit = if soft < hard && rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    let needed = u64::try_from(max_connections).unwrap_or(u64::MAX).saturating_add(64);
    (limit < needed).then_some(limit)
}
