//! The customercenter worker: the projection activities that keep the read model (the view the
//! API's queries read) current, on the `customercenter` queue.
//!
//! Run: `cargo run --bin customercenter`.

use activities::customercenter::{CustomerCenterActivities, ViewDb};
use domain::queues;
use temporalio_sdk::WorkerOptions;
use workers::{GRACEFUL_SHUTDOWN, config, patiently, readiness, serve, telemetry, temporal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("customercenter");
    let url = config::database_url("customercenter")?;
    let db = patiently("customercenter database", || async {
        Ok(ViewDb::connect(&url, 10).await?)
    })
    .await;
    let client = temporal::connect().await?;
    let options = WorkerOptions::new(queues::CUSTOMERCENTER)
        .register_activities(CustomerCenterActivities { db: db.clone() })
        .graceful_shutdown_period(GRACEFUL_SHUTDOWN)
        .build();
    let ready = readiness(client.clone(), move || {
        let db = db.clone();
        async move { Ok(db.ping().await?) }
    });
    serve("customercenter", 8094, client, options, ready, |_| async {}).await
}
