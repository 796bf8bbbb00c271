//! The kitchen worker: the kitchen activities on the `kitchen` queue and the automatic baristas
//! (`KITCHEN_AUTO_BARISTAS`, `KITCHEN_BREW_MS`).
//!
//! Run: `cargo run --bin kitchen`.

use activities::kitchen::{KitchenActivities, KitchenDb};
use clap::Parser;
use domain::queues;
use platform::config::{BaristaConfig, DatabaseUrl, HealthConfig, PostgresConfig, RetentionConfig, TemporalConfig};
use temporalio_sdk::WorkerOptions;
use workers::barista::Baristas;
use workers::{GRACEFUL_SHUTDOWN, PRUNE_BATCH, prune_periodically, patiently, readiness, serve, telemetry, temporal};

/// The kitchen worker's configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
struct Config {
    #[command(flatten)]
    temporal: TemporalConfig,
    #[command(flatten)]
    health: HealthConfig,
    #[command(flatten)]
    postgres: PostgresConfig,
    /// This service's database; default: `postgres://postgres@127.0.0.1:<COFFEESHOP_PG_PORT>/kitchen`
    /// (the embedded PostgreSQL).
    #[arg(long, env = "KITCHEN_DATABASE_URL", value_name = "KITCHEN_DATABASE_URL")]
    database_url: Option<DatabaseUrl>,
    #[command(flatten)]
    baristas: BaristaConfig,
    #[command(flatten)]
    retention: RetentionConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init("kitchen");
    let baristas = Baristas {
        count: config.baristas.auto_baristas,
        brew: std::time::Duration::from_millis(config.baristas.brew_ms),
    };
    let url = config.postgres.url("kitchen", config.database_url.as_ref());
    let db = patiently("kitchen database", || async {
        Ok(KitchenDb::connect(url.expose(), 10).await?)
    })
    .await;
    let client = temporal::connect(&config.temporal).await?;
    let options = WorkerOptions::new(queues::KITCHEN)
        .register_activities(KitchenActivities { db: db.clone() })
        .graceful_shutdown_period(GRACEFUL_SHUTDOWN)
        .build();
    let ping_db = db.clone();
    let ready = readiness(client.clone(), move || {
        let db = ping_db.clone();
        async move { Ok(db.ping().await?) }
    });
    let crew_client = client.clone();
    serve(
        "kitchen",
        &config.health,
        client,
        options,
        ready,
        axum::Router::new(),
        move |stop| async move {
            let prune_db = db.clone();
            let prune = prune_periodically("kitchen", config.retention, stop.clone(), move |age| {
                let db = prune_db.clone();
                async move { Ok(db.prune(age, PRUNE_BATCH).await?) }
            });
            tokio::join!(baristas.run(db, crew_client, stop), prune);
        },
    )
    .await
}
