//! The warehouse worker: the warehouse activities and `RestockWorkflow` on the `warehouse` queue.
//! `WAREHOUSE_DATABASE_URL` may be `postgres://…` or `sqlite://…`.
//!
//! Run: `cargo run --bin warehouse`.

use activities::warehouse::{WarehouseActivities, WarehouseDb};
use clap::Parser;
use domain::queues;
use platform::config::DatabaseUrl;
use workers::{Service, ServiceConfig, StoreConfig, WarehouseRetention};
use workflows::RestockWorkflow;

/// The warehouse worker's configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
struct Config {
    #[command(flatten)]
    service: ServiceConfig,
    #[command(flatten)]
    store: StoreConfig,
    /// This service's database (`postgres://…` or `sqlite://…`); default:
    /// `postgres://postgres@127.0.0.1:<COFFEESHOP_PG_PORT>/warehouse` (the embedded PostgreSQL).
    #[arg(long, env = "WAREHOUSE_DATABASE_URL", value_name = "WAREHOUSE_DATABASE_URL")]
    database_url: Option<DatabaseUrl>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let mut service = Service::connect("warehouse", queues::WAREHOUSE, &config.service).await?;
    let db = service
        .open_store(&config.store, config.database_url.as_ref(), |url| async move {
            Ok(WarehouseDb::connect(&url, 10).await?)
        })
        .await;
    let activities = WarehouseActivities { db: db.clone(), tally: service.tally() };
    service.worker().register_workflow::<RestockWorkflow>()?.register_activities(activities);
    let retention = WarehouseRetention { db: db.clone(), temporal: service.client().clone() };
    service.retention(config.store.retention, retention);
    service.run().await
}
