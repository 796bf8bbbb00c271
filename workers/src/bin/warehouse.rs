//! The warehouse worker: the warehouse activities and `RestockWorkflow` on the `warehouse` queue.
//! `WAREHOUSE_DATABASE_URL` may be `postgres://…` or `sqlite://…`.
//!
//! Run: `cargo run --bin warehouse`.

use activities::warehouse::{WarehouseActivities, WarehouseDb};
use domain::queues;
use temporalio_sdk::WorkerOptions;
use workers::{GRACEFUL_SHUTDOWN, config, patiently, readiness, serve, telemetry, temporal};
use workflows::RestockWorkflow;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("warehouse");
    let url = config::database_url("warehouse")?;
    let db = patiently("warehouse database", || async {
        Ok(WarehouseDb::connect(&url, 10).await?)
    })
    .await;
    let client = temporal::connect().await?;
    let options = WorkerOptions::new(queues::WAREHOUSE)
        .register_workflow::<RestockWorkflow>()?
        .register_activities(WarehouseActivities { db: db.clone() })
        .graceful_shutdown_period(GRACEFUL_SHUTDOWN)
        .build();
    let ready = readiness(client.clone(), move || {
        let db = db.clone();
        async move { Ok(db.ping().await?) }
    });
    serve("warehouse", 8092, client, options, ready, |_| async {}).await
}
