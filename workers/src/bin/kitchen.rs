//! The kitchen worker: the kitchen activities on the `kitchen` queue and the automatic baristas
//! (`KITCHEN_AUTO_BARISTAS`, `KITCHEN_BREW_MS`).
//!
//! Run: `cargo run --bin kitchen`.

use activities::kitchen::{KitchenActivities, KitchenDb};
use clap::Parser;
use domain::queues;
use platform::config::{BaristaConfig, DatabaseUrl, HealthConfig, PostgresConfig, RetentionConfig, TemporalConfig};
use workers::barista::Baristas;
use workers::{Service, patiently};

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
    let mut service = Service::connect("kitchen", queues::KITCHEN, &config.temporal, &config.health).await?;
    let url = config.postgres.url("kitchen", config.database_url.as_ref());
    let db = patiently("kitchen database", || async { Ok(KitchenDb::connect(url.expose(), 10).await?) }).await;
    service.worker().register_activities(KitchenActivities { db: db.clone() });
    let baristas = Baristas {
        count: config.baristas.auto_baristas,
        brew: std::time::Duration::from_millis(config.baristas.brew_ms),
    };
    let (crew_db, crew_client) = (db.clone(), service.client().clone());
    service
        .store(db.clone())
        .retention(config.retention, db)
        .background(move |stop| baristas.run(crew_db, crew_client, stop));
    service.run().await
}
