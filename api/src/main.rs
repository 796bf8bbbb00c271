//! The API gateway binary.
//!
//! Run: `cargo run --bin api` (listens on `COFFEESHOP_API_PORT`, default 8080); `--help` lists
//! every variable it reads.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use api::{AppState, Metrics, TemporalGuard, View, app};
use clap::Parser;
use platform::config::{DatabaseUrl, PostgresConfig, TemporalConfig};
use platform::{config, shutdown_signal, telemetry, temporal};

/// The API's configuration, from the environment (or the matching flags).
#[derive(Debug, Parser)]
#[command(about = "The CoffeeShop REST gateway")]
struct Config {
    #[command(flatten)]
    temporal: TemporalConfig,
    #[command(flatten)]
    postgres: PostgresConfig,
    #[arg(
        long,
        env = "COFFEESHOP_API_PORT",
        value_name = "COFFEESHOP_API_PORT",
        default_value_t = 8080
    )]
    port: u16,
    /// The customercenter's view, which the API reads.
    #[arg(
        long,
        env = "CUSTOMERCENTER_DATABASE_URL",
        value_name = "CUSTOMERCENTER_DATABASE_URL"
    )]
    customercenter_database_url: Option<DatabaseUrl>,
    /// How long a command may wait on Temporal before a 503.
    #[arg(
        long,
        env = "COFFEESHOP_COMMAND_TIMEOUT_MS",
        value_name = "COFFEESHOP_COMMAND_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    command_timeout_ms: u64,
    /// Commands allowed to wait on Temporal at once; more are shed with 503.
    #[arg(
        long,
        env = "COFFEESHOP_MAX_INFLIGHT_COMMANDS",
        value_name = "COFFEESHOP_MAX_INFLIGHT_COMMANDS",
        default_value_t = 512
    )]
    max_inflight_commands: usize,
    /// How long a Queued order may wait for a barista (`30m`, `90s`; `0` = no limit).
    #[arg(long, env = "KITCHEN_MAX_WAIT", value_name = "KITCHEN_MAX_WAIT", default_value = "30m",
        value_parser = |raw: &str| domain::KitchenWait::parse(raw).map_err(|e| e.problem))]
    kitchen_max_wait: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init("api");
    let listener = config::bind(config.port, "COFFEESHOP_API_PORT").await?;
    let view_url = config
        .postgres
        .url("customercenter", config.customercenter_database_url.as_ref());
    let view = View::connect_lazy(view_url.expose(), 20)?;
    let command_timeout = Duration::from_millis(config.command_timeout_ms);
    let max_in_flight = config.max_inflight_commands;
    let kitchen_max_wait_ms = config.kitchen_max_wait;
    let metrics = Metrics::new();
    let guard = Arc::new(TemporalGuard::new(
        command_timeout,
        Duration::from_secs(2),
        max_in_flight,
        metrics.commands_shed.clone(),
    ));
    // Serve at once (health, reads, 503 for commands) and reach Temporal in the background, so the
    // API is alive and observable even while Temporal is not there yet.
    let temporal = Arc::new(OnceLock::new());
    let (cell, probe, temporal_config) = (temporal.clone(), guard.clone(), config.temporal.clone());
    tokio::spawn(async move {
        if let Ok(client) = temporal::connect(&temporal_config).await {
            probe.spawn_probe(client.clone(), Duration::from_millis(500));
            let _ = cell.set(client);
            tracing::info!("connected to Temporal");
        }
    });
    let state = AppState {
        temporal,
        view,
        guard,
        metrics,
        kitchen_max_wait_ms,
    };
    tracing::info!(addr = %listener.local_addr()?, "api listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("api stopped");
    Ok(())
}
