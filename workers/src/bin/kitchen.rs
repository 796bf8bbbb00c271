//! The kitchen worker: the kitchen activities on the `kitchen` queue and the automatic baristas
//! (`KITCHEN_AUTO_BARISTAS`, `KITCHEN_BREW_MS`).
//!
//! Run: `cargo run --bin kitchen`.

use activities::kitchen::{KitchenActivities, KitchenDb};
use clap::Parser;
use domain::queues;
use platform::config::{BaristaConfig, DatabaseUrl};
use workers::barista::Baristas;
use workers::{Service, ServiceConfig, StoreConfig};

/// The kitchen worker's configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
struct Config {
    #[command(flatten)]
    service: ServiceConfig,
    #[command(flatten)]
    store: StoreConfig,
    /// This service's database; default: `postgres://postgres@127.0.0.1:<COFFEESHOP_PG_PORT>/kitchen`
    /// (the embedded PostgreSQL).
    #[arg(long, env = "KITCHEN_DATABASE_URL", value_name = "KITCHEN_DATABASE_URL")]
    database_url: Option<DatabaseUrl>,
    #[command(flatten)]
    baristas: BaristaConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let mut service = Service::connect("kitchen", queues::KITCHEN, &config.service).await?;
    let db = service
        .open_store(&config.store, config.database_url.as_ref(), |url| async move {
            Ok(KitchenDb::connect(&url, 10).await?)
        })
        .await;
    service.worker().register_activities(KitchenActivities { db: db.clone() });
    let baristas = Baristas {
        count: config.baristas.auto_baristas,
        brew: std::time::Duration::from_millis(config.baristas.brew_ms),
    };
    let (crew_db, crew_client) = (db.clone(), service.client().clone());
    service
        .retention(config.store.retention, db)
        .background(move |stop| baristas.run(crew_db, crew_client, stop));
    service.run().await
}
