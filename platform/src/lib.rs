//! The process plumbing every process of the system shares, below both the workers and the API:
//! configuration from the environment, telemetry, the patient Temporal connection and its health
//! check, the probe server, the shutdown signal. It depends on neither the workflows nor the
//! activities, so the gateway does not link any service's store.

pub mod config;
pub mod health;
pub mod http;
pub mod internal;
pub mod memory;
pub mod postgres;
pub mod telemetry;
pub mod temporal;

use std::future::Future;
use std::time::Duration;

/// Retries `attempt` with a capped backoff until it succeeds, logging each failure: a process
/// started before its database waits for it.
pub async fn patiently<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut delay = Duration::from_millis(100);
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(e) => {
                tracing::warn!(error = %e, "{what} not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
