//! The warehouse worker: the warehouse activities and `RestockWorkflow` on the `warehouse` queue.
//! `WAREHOUSE_DATABASE_URL` may be `postgres://…` or `sqlite://…`.
//!
//! Run: `cargo run --bin warehouse`.

use activities::warehouse::{WarehouseActivities, WarehouseDb};
use clap::Parser;
use domain::queues;
use platform::config::{DatabaseUrl, HealthConfig, PostgresConfig, RetentionConfig, TemporalConfig};
use temporalio_sdk::WorkerOptions;
use workers::{GRACEFUL_SHUTDOWN, PRUNE_BATCH, prune_periodically, patiently, readiness, serve, telemetry, temporal};
use workflows::RestockWorkflow;

/// The warehouse worker's configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
struct Config {
    #[command(flatten)]
    temporal: TemporalConfig,
    #[command(flatten)]
    health: HealthConfig,
    #[command(flatten)]
    postgres: PostgresConfig,
    /// This service's database (`postgres://…` or `sqlite://…`); default:
    /// `postgres://postgres@127.0.0.1:<COFFEESHOP_PG_PORT>/warehouse` (the embedded PostgreSQL).
    #[arg(long, env = "WAREHOUSE_DATABASE_URL", value_name = "WAREHOUSE_DATABASE_URL")]
    database_url: Option<DatabaseUrl>,
    #[command(flatten)]
    retention: RetentionConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init("warehouse");
    let url = config.postgres.url("warehouse", config.database_url.as_ref());
    let db = patiently("warehouse database", || async {
        Ok(WarehouseDb::connect(url.expose(), 10).await?)
    })
    .await;
    let client = temporal::connect(&config.temporal).await?;
    let options = WorkerOptions::new(queues::WAREHOUSE)
        .register_workflow::<RestockWorkflow>()?
        .register_activities(WarehouseActivities { db: db.clone() })
        .graceful_shutdown_period(GRACEFUL_SHUTDOWN)
        .build();
    let ping_db = db.clone();
    let ready = readiness(client.clone(), move || {
        let db = ping_db.clone();
        async move { Ok(db.ping().await?) }
    });
    serve(
        "warehouse",
        &config.health,
        client,
        options,
        ready,
        axum::Router::new(),
        move |stop| {
            prune_periodically("warehouse", config.retention, stop, move |age| {
                let db = db.clone();
                async move { Ok(db.prune(age, PRUNE_BATCH).await?) }
            })
        },
    )
    .await
}
