//! [`Service`]: one worker process, from its configuration to its graceful stop. Every worker
//! binary is the same sequence (connect to Temporal, register, name the store readiness depends
//! on, add routes and background tasks, serve until told to stop); this is that sequence once.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use temporalio_client::Client;
use temporalio_sdk::runtime::RuntimeOptions;
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use tokio::sync::watch;

use crate::config::{DatabaseUrl, HealthConfig, PostgresConfig, RetentionConfig, TemporalConfig};
use crate::metrics::SdkMetrics;
use crate::prune::Retained;
use crate::{GRACEFUL_SHUTDOWN, HEALTH_PORT_VAR, OUTGREW_MEMORY, health, memory_ceiling, shutdown_signal, telemetry, temporal};

/// A store a worker cannot work without: readiness fails while it does not answer.
pub trait Store: Clone + Send + Sync + 'static {
    fn ping(&self) -> impl Future<Output = anyhow::Result<()>> + Send;
}

impl Store for activities::warehouse::WarehouseDb {
    async fn ping(&self) -> anyhow::Result<()> {
        Ok(activities::warehouse::WarehouseDb::ping(self).await?)
    }
}

impl Store for activities::kitchen::KitchenDb {
    async fn ping(&self) -> anyhow::Result<()> {
        Ok(activities::kitchen::KitchenDb::ping(self).await?)
    }
}

impl Store for activities::customercenter::ViewDb {
    async fn ping(&self) -> anyhow::Result<()> {
        Ok(activities::customercenter::ViewDb::ping(self).await?)
    }
}

/// What every worker is configured with: where Temporal is, and its probe server.
#[derive(Debug, clap::Args)]
pub struct ServiceConfig {
    #[command(flatten)]
    pub temporal: TemporalConfig,
    #[command(flatten)]
    pub health: HealthConfig,
}

/// What a worker with a database of its own adds: where the embedded PostgreSQL is (for the
/// default URL) and how long finished rows are kept. The URL itself is the binary's own setting
/// (`<SERVICE>_DATABASE_URL`).
#[derive(Debug, clap::Args)]
pub struct StoreConfig {
    #[command(flatten)]
    pub postgres: PostgresConfig,
    #[command(flatten)]
    pub retention: RetentionConfig,
}

type Ping = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;
type Background = Box<dyn FnOnce(watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send>;

/// One service's worker process, built up and then [run](Service::run).
pub struct Service {
    name: &'static str,
    /// Logs and traces; flushed when the service ends.
    telemetry: telemetry::Telemetry,
    health: HealthConfig,
    client: Client,
    options: WorkerOptions,
    metrics: SdkMetrics,
    store: Option<Ping>,
    routes: axum::Router,
    background: Vec<Background>,
}

impl Service {
    /// Starts the service's logs and connects to Temporal (waiting for it); its worker will poll
    /// `queue`.
    pub async fn connect(name: &'static str, queue: &str, config: &ServiceConfig) -> anyhow::Result<Self> {
        let telemetry = telemetry::init(name);
        let metrics = SdkMetrics::start(name)?;
        let client = temporal::connect(&config.temporal).await?;
        Ok(Self {
            name,
            telemetry,
            health: config.health.clone(),
            client,
            options: WorkerOptions::new(queue).graceful_shutdown_period(GRACEFUL_SHUTDOWN).build(),
            metrics,
            store: None,
            routes: axum::Router::new(),
            background: Vec::new(),
        })
    }

    /// The Temporal client, for what the service itself starts or asks (the automatic baristas).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Where the service's activities count what they decided, on this worker's `GET /metrics`.
    pub fn tally(&self) -> Arc<dyn activities::Tally> {
        Arc::new(self.metrics.clone())
    }

    /// Where to register the service's workflows and activities.
    pub fn worker(&mut self) -> &mut WorkerOptions {
        &mut self.options
    }

    /// Connects to the service's database (`url`, else the embedded PostgreSQL's database named
    /// after the service), waiting until it answers; readiness then depends on it.
    pub async fn open_store<S, F, Fut>(&mut self, config: &StoreConfig, url: Option<&DatabaseUrl>, connect: F) -> S
    where
        S: Store,
        F: Fn(String) -> Fut,
        Fut: Future<Output = anyhow::Result<S>>,
    {
        let url = config.postgres.url(self.name, url);
        let what = format!("{} database", self.name);
        let db = crate::patiently(&what, || connect(url.expose().to_owned())).await;
        self.store(db.clone());
        db
    }

    /// The store readiness depends on, besides Temporal.
    pub fn store(&mut self, store: impl Store) -> &mut Self {
        self.store = Some(Arc::new(move || {
            let store = store.clone();
            Box::pin(async move { store.ping().await })
        }));
        self
    }

    /// Routes served beside the probes on the health port.
    pub fn routes(&mut self, routes: axum::Router) -> &mut Self {
        self.routes = std::mem::take(&mut self.routes).merge(routes);
        self
    }

    /// Deletes what `store` keeps per order once it is past `retention` (decision 0003), beside
    /// the worker.
    pub fn retention(&mut self, retention: RetentionConfig, store: impl Retained) -> &mut Self {
        let name = self.name;
        self.background(move |stop| crate::prune::periodically(name, retention, store, stop))
    }

    /// A task that runs beside the worker and ends when its watch turns `true` (the worker is
    /// stopping); the worker waits for it before the process ends.
    pub fn background<F, Fut>(&mut self, task: F) -> &mut Self
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.background.push(Box::new(move |stop| Box::pin(task(stop))));
        self
    }

    /// Runs until SIGTERM/Ctrl-C: the health server (probes, the SDK's metrics and the service's
    /// counts on `GET /metrics`, the service's routes; bounded by the `COFFEESHOP_*` serve
    /// settings), the Temporal worker and the background tasks. On the signal the worker stops
    /// polling and lets in-flight tasks finish (up to [`GRACEFUL_SHUTDOWN`]), the background tasks
    /// end, the process exits. Meanwhile the probe port stays up and readiness answers 503. Past
    /// the memory ceiling (`COFFEESHOP_MAX_RSS_MIB`, [`memory_ceiling`]) it stops the same way and
    /// exits with [`OUTGREW_MEMORY`].
    pub async fn run(self) -> anyhow::Result<()> {
        let Self { name, telemetry: _telemetry, health, client, options, metrics, store, routes, background } = self;
        let port = health.health_port.unwrap_or(crate::config::default_health_port(name));
        let listener = health.serve.bind(port, HEALTH_PORT_VAR).await?;
        let address = listener.local_addr()?;
        let (stop_tx, stop_rx) = watch::channel(false);

        let sdk_telemetry = metrics.telemetry();
        let scrape = axum::routing::get(move || async move { metrics.scrape().await });
        let app = health::router(readiness(client.clone(), store, stop_rx.clone()))
            .route("/metrics", scrape)
            .merge(routes);
        // The probes answer until the worker has drained (readiness 503 meanwhile), then go with
        // the process.
        let probes =
            tokio::spawn(platform::http::serve(listener, app, health.serve.limits(), std::future::pending::<()>()));
        let background: Vec<_> = background.into_iter().map(|task| tokio::spawn(task(stop_rx.clone()))).collect();

        let runtime_options = RuntimeOptions::builder()
            .telemetry_options(sdk_telemetry)
            .build()
            .map_err(|e| anyhow::anyhow!("the SDK's runtime options: {e}"))?;
        let runtime = Runtime::from_current_tokio(runtime_options)?;
        let mut worker = Worker::new(&runtime, client, options)?;
        let shutdown_worker = worker.shutdown_handle();
        let outgrew = Arc::new(AtomicBool::new(false));
        let (stop, outgrew_memory, ceiling) = (stop_tx.clone(), outgrew.clone(), health.memory.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = shutdown_signal() => tracing::info!(service = name, "stopping: finishing in-flight work"),
                now = memory_ceiling::outgrown(&ceiling) => {
                    tracing::warn!(service = name, resident_mib = now, ceiling_mib = ceiling.max_rss_mib,
                        exit_status = OUTGREW_MEMORY,
                        "memory passed COFFEESHOP_MAX_RSS_MIB: finishing in-flight work, then exiting to be restarted");
                    outgrew_memory.store(true, Ordering::SeqCst);
                }
            }
            let _ = stop.send(true);
            shutdown_worker();
        });
        tracing::info!(service = name, health = %address, "worker running");
        let result = worker.run().await;
        let _ = stop_tx.send(true);
        for task in background {
            let _ = task.await;
        }
        probes.abort();
        if result.is_ok() && outgrew.load(Ordering::SeqCst) {
            tracing::warn!(service = name, exit_status = OUTGREW_MEMORY, "stopped: memory ceiling");
            platform::telemetry::flush();
            std::process::exit(OUTGREW_MEMORY);
        }
        tracing::info!(service = name, "stopped");
        result.map_err(Into::into)
    }
}

/// Ready while the worker is not stopping and Temporal and the store (if any) answer, each within
/// a second.
fn readiness(client: Client, store: Option<Ping>, stopping: watch::Receiver<bool>) -> health::ReadinessCheck {
    Arc::new(move || {
        let (client, store, stopping) = (client.clone(), store.clone(), *stopping.borrow());
        Box::pin(async move {
            if stopping {
                return Err("stopping: finishing in-flight work".to_owned());
            }
            if !temporal::is_serving(&client, Duration::from_secs(1)).await {
                return Err("Temporal is not reachable".to_owned());
            }
            let Some(ping) = store else { return Ok(()) };
            match tokio::time::timeout(Duration::from_secs(1), ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("database: {e}")),
                Err(_) => Err("database: no answer within 1 s".to_owned()),
            }
        })
    })
}
