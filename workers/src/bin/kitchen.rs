//! The kitchen worker: the kitchen activities on the `kitchen` queue, and the automatic baristas
//! (`KITCHEN_AUTO_BARISTAS`, `KITCHEN_BREW_MS`).
//!
//! Run: `cargo run --bin kitchen`.

use activities::kitchen::{KitchenActivities, KitchenDb};
use domain::queues;
use temporalio_sdk::WorkerOptions;
use workers::barista::Baristas;
use workers::{GRACEFUL_SHUTDOWN, config, patiently, readiness, serve, telemetry, temporal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("kitchen");
    let baristas = Baristas::from_env()?;
    let url = config::database_url("kitchen")?;
    let db = patiently("kitchen database", || async { Ok(KitchenDb::connect(&url, 10).await?) }).await;
    let client = temporal::connect().await?;
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
    serve("kitchen", 8093, client, options, ready, move |stop| {
        baristas.run(db, crew_client, stop)
    })
    .await
}
