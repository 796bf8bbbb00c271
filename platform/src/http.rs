//! The HTTP server every process answers with (the API, and each worker's probe port): hyper's
//! HTTP/1 connection, configured so that no client can hold a connection or memory for long.
//!
//! | phase | bound | then |
//! |---|---|---|
//! | request head (line and headers) | [`Limits::read_timeout`] | the connection is closed |
//! | an idle keep-alive connection | [`Limits::read_timeout`] (waiting for the next head) | closed |
//! | head size | [`Limits::max_header_bytes`] | `431`, closed |
//! | each wait for body bytes | [`Limits::read_timeout`] | the body fails; the API answers `408` |
//! | the whole request, head received to answer ready | [`Limits::request_timeout`] | `408`, closed |
//!
//! A streamed answer (the live updates) is not bounded: it is the server that writes it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// How long, and how much, a client may take (see the module's table).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub read_timeout: Duration,
    pub request_timeout: Duration,
    pub max_header_bytes: usize,
}

/// How long a stopping server lets open connections finish.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish (up to
/// a few seconds). Handlers can read the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    allow_many_connections();
    let mut connection = http1::Builder::new();
    connection
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .max_header_size(limits.max_header_bytes);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: let some connections end first.
                    tracing::warn!(error = %e, "cannot accept a connection now");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |request| answer(app.clone(), peer, limits, request));
        let served = graceful.watch(connection.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away, stalls or sends garbage ends its own connection; nothing to
            // report beyond what hyper answered it.
            let _ = served.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::info!("stopped with connections still open (live streams)");
    }
}

/// Raises this process's limit of open files to the most the system allows it (each connection
/// is one), as a server should: the usual default soft limit, 1,024, is a burst of clients.
fn allow_many_connections() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::warn!(error = %e, soft, "cannot raise the open-files limit");
    }
}

async fn answer(
    app: Router,
    peer: SocketAddr,
    limits: Limits,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let mut request = request.map(|body| Body::new(TimeoutBody::new(limits.read_timeout, body)));
    request.extensions_mut().insert(ConnectInfo(peer));
    match tokio::time::timeout(limits.request_timeout, app.oneshot(request)).await {
        Ok(answered) => answered,
        Err(_) => Ok(request_timeout(limits.request_timeout)),
    }
}

/// `408` as a problem document, closing the connection.
fn request_timeout(after: Duration) -> Response<Body> {
    let body = format!(
        r#"{{"type":"https://coffeeshop.example/problems/request-timeout","title":"Request timeout","status":408,"detail":"the request was not received and answered within {} s; send it again"}}"#,
        after.as_secs_f32()
    );
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Whether `error` (a body that failed to arrive) is the read timeout of [`serve`].
pub fn is_read_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
}
