//! The worker processes: [`serve`] runs one service's Temporal worker with probes and graceful
//! shutdown, on the process plumbing of the `platform` crate. Each binary in `src/bin/` is one
//! service:
//!
//! | binary | task queue | hosts |
//! |---|---|---|
//! | `cafe` | `cafe` | `OrderWorkflow` |
//! | `warehouse` | `warehouse` | `RestockWorkflow`, the warehouse activities |
//! | `kitchen` | `kitchen` | the kitchen activities, the automatic baristas |
//! | `customercenter` | `customercenter` | the view: the projections' ingest route, `projectStock` |

pub mod barista;
pub mod recycle;

pub use platform::{config, health, memory, patiently, shutdown_signal, telemetry, temporal};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use temporalio_client::Client;
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use tokio::sync::watch;

/// The variable that sets a worker's health port.
pub const HEALTH_PORT_VAR: &str = "COFFEESHOP_HEALTH_PORT";

/// How long a stopping worker lets in-flight activities finish.
pub const GRACEFUL_SHUTDOWN: Duration = Duration::from_secs(10);

/// The most rows one pruning statement deletes, so that none holds its locks for long.
pub const PRUNE_BATCH: i64 = 1000;

/// The background task of a service that keeps rows per order: every `config.prune_every` until
/// `stop`, deletes what is past `config.retention` with `prune` (given that age; returns how many
/// rows went), a batch at a time until a batch comes back short. A failure is logged and tried
/// again next time.
pub async fn prune_periodically<F, Fut>(
    service: &'static str,
    config: config::RetentionConfig,
    mut stop: watch::Receiver<bool>,
    prune: F,
) where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = anyhow::Result<u64>>,
{
    let mut every = tokio::time::interval(config.prune_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let mut deleted = 0;
        loop {
            match prune(config.retention).await {
                Ok(n) => {
                    deleted += n;
                    if n < PRUNE_BATCH as u64 || *stop.borrow() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(service, error = %e, "cannot delete rows past COFFEESHOP_RETENTION now; trying again later");
                    break;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(service, deleted, "deleted rows past COFFEESHOP_RETENTION");
        }
    }
}

/// A readiness check: Temporal answers and `db_ping` succeeds.
pub fn readiness<F, Fut>(client: Client, db_ping: F) -> health::ReadinessCheck
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let db_ping = Arc::new(db_ping);
    Arc::new(move || {
        let (client, db_ping) = (client.clone(), db_ping.clone());
        Box::pin(async move {
            if !temporal::is_serving(&client, Duration::from_secs(1)).await {
                return Err("Temporal is not reachable".to_owned());
            }
            match tokio::time::timeout(Duration::from_secs(1), db_ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("database: {e}")),
                Err(_) => Err("database: no answer within 1 s".to_owned()),
            }
        })
    })
}

/// Runs a service's worker until SIGTERM/Ctrl-C: the health server (its port and bounds from
/// `health`), the Temporal worker, and the service's own background tasks, which
/// get a watch channel that turns `true` when it is time to stop. On the signal the worker stops
/// polling and lets in-flight tasks finish (up to [`GRACEFUL_SHUTDOWN`]), then the process exits.
/// When its memory has outgrown `health.recycle` it stops the same way and starts afresh
/// ([`recycle`]).
pub async fn serve<B, BFut>(
    service: &'static str,
    health: &config::HealthConfig,
    client: Client,
    options: WorkerOptions,
    ready: health::ReadinessCheck,
    routes: axum::Router,
    background: B,
) -> anyhow::Result<()>
where
    B: FnOnce(watch::Receiver<bool>) -> BFut,
    BFut: Future<Output = ()> + Send + 'static,
{
    let health_port = health.health_port.unwrap_or(config::default_health_port(service));
    let listener = health.serve.bind(health_port, HEALTH_PORT_VAR).await?;
    let limits = health.serve.limits();
    let recycle = health.recycle.clone();
    let health_addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);

    let mut health_stop = stop_rx.clone();
    let health = tokio::spawn(async move {
        let app = health::router(ready).merge(routes);
        platform::http::serve(listener, app, limits, async move {
            let _ = health_stop.wait_for(|stop| *stop).await;
        })
        .await;
    });
    let background = tokio::spawn(background(stop_rx));

    let runtime = Runtime::from_current_tokio(Default::default())?;
    let mut worker = Worker::new(&runtime, client, options)?;
    let shutdown_worker = worker.shutdown_handle();
    let stop = stop_tx.clone();
    let afresh = Arc::new(AtomicBool::new(false));
    let start_afresh = afresh.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown_signal() => {
                tracing::info!(service, "stopping: finishing in-flight work");
            }
            (warm, now) = recycle::outgrown(&recycle) => {
                tracing::info!(service, warm_mib = warm, now_mib = now,
                    "memory grew past COFFEESHOP_RECYCLE_GROWTH_MIB: finishing in-flight work first");
                start_afresh.store(true, Ordering::SeqCst);
            }
        }
        let _ = stop.send(true);
        shutdown_worker();
    });
    tracing::info!(service, health = %health_addr, "worker running");
    let result = worker.run().await;
    let _ = stop_tx.send(true);
    let _ = background.await;
    health.abort();
    if result.is_ok() && afresh.load(Ordering::SeqCst) {
        tracing::info!(service, "starting afresh");
        return Err(recycle::start_afresh());
    }
    tracing::info!(service, "stopped");
    result.map_err(Into::into)
}
