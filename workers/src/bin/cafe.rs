//! The cafe worker: hosts `OrderWorkflow` on the `cafe` task queue, and `projectOrder`, the local
//! activity by which an order's projections reach the customercenter's view.
//!
//! Run: `cargo run --bin cafe` (see the README for its environment variables).

use activities::cafe::CafeActivities;
use clap::Parser;
use domain::queues;
use platform::config::default_health_port;
use platform::internal::InternalKeyConfig;
use workers::{Service, ServiceConfig};
use workflows::OrderWorkflow;

/// The cafe worker's configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
struct Config {
    #[command(flatten)]
    service: ServiceConfig,
    /// Where the customercenter takes projections (its health server).
    #[arg(long, env = "CUSTOMERCENTER_INGEST_URL", value_name = "CUSTOMERCENTER_INGEST_URL",
        default_value_t = format!("http://127.0.0.1:{}", default_health_port("customercenter")))]
    customercenter_ingest_url: String,
    /// The key the customercenter's ingest route requires.
    #[command(flatten)]
    internal: InternalKeyConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let mut service = Service::connect("cafe", queues::CAFE, &config.service).await?;
    // The cafe keeps its orders in Temporal itself (the workflow is the order's record): no store.
    let projections =
        CafeActivities::new(&config.customercenter_ingest_url, config.internal.authorization(), service.tally())?;
    service.worker().register_workflow::<OrderWorkflow>()?.register_activities(projections);
    service.run().await
}
