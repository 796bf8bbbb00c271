//! The API gateway binary.
//!
//! Run: `cargo run --bin api` (listens on `COFFEESHOP_API_PORT`, default 8080).

use std::time::Duration;

use std::sync::{Arc, OnceLock};

use api::{AppState, Metrics, TemporalGuard, View, app};
use platform::{config, shutdown_signal, telemetry, temporal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("api");
    let listener = config::bind("COFFEESHOP_API_PORT", 8080).await?;
    let view = View::connect_lazy(&config::database_url("customercenter")?, 20)?;
    let command_timeout = Duration::from_millis(config::number_or("COFFEESHOP_COMMAND_TIMEOUT_MS", 5_000)?);
    let max_in_flight = config::number_or("COFFEESHOP_MAX_INFLIGHT_COMMANDS", 512)?;
    let kitchen_max_wait_ms = match std::env::var("KITCHEN_MAX_WAIT") {
        Ok(raw) if !raw.trim().is_empty() => domain::KitchenWait::parse(&raw)?,
        _ => domain::KitchenWait::DEFAULT.as_millis() as u64,
    };
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
    let (cell, probe) = (temporal.clone(), guard.clone());
    tokio::spawn(async move {
        if let Ok(client) = temporal::connect().await {
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
