//! The customercenter worker: the projection activities that keep the read model (the view the
//! API's queries read) current, on the `customercenter` queue.
//!
//! Run: `cargo run --bin customercenter`.

use activities::customercenter::{CustomerCenterActivities, ViewDb};
use clap::Parser;
use domain::{OrderProjection, queues};
use platform::config::{DatabaseUrl, HealthConfig, PostgresConfig, TemporalConfig, default_health_port};
use temporalio_sdk::WorkerOptions;
use workers::{GRACEFUL_SHUTDOWN, patiently, readiness, serve, telemetry, temporal};

/// The customercenter worker's configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
struct Config {
    #[command(flatten)]
    temporal: TemporalConfig,
    #[command(flatten)]
    health: HealthConfig,
    #[command(flatten)]
    postgres: PostgresConfig,
    /// This service's database.
    #[arg(
        long,
        env = "CUSTOMERCENTER_DATABASE_URL",
        value_name = "CUSTOMERCENTER_DATABASE_URL"
    )]
    database_url: Option<DatabaseUrl>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init("customercenter");
    let url = config.postgres.url("customercenter", config.database_url.as_ref());
    let db = patiently("customercenter database", || async {
        Ok(ViewDb::connect(url.expose(), 10).await?)
    })
    .await;
    let client = temporal::connect(&config.temporal).await?;
    let options = WorkerOptions::new(queues::CUSTOMERCENTER)
        .register_activities(CustomerCenterActivities { db: db.clone() })
        .graceful_shutdown_period(GRACEFUL_SHUTDOWN)
        .build();
    let db_for_ingest = db.clone();
    let ready = readiness(client.clone(), move || {
        let db = db.clone();
        async move { Ok(db.ping().await?) }
    });
    serve(
        "customercenter",
        config
            .health
            .health_port
            .unwrap_or(default_health_port("customercenter")),
        client,
        options,
        ready,
        // The cafe worker's local activities hand projections over here.
        workers::ingest_route(domain::ingest::ORDER, move |p: OrderProjection| {
            let db = db_for_ingest.clone();
            async move { db.project_order(&p).await }
        }),
        |_| async {},
    )
    .await
}
