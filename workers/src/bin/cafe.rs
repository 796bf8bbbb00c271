//! The cafe worker: hosts `OrderWorkflow` on the `cafe` task queue.
//!
//! Run: `cargo run --bin cafe` (see the README for its environment variables).

use domain::queues;
use temporalio_sdk::WorkerOptions;
use workers::{GRACEFUL_SHUTDOWN, readiness, serve, telemetry, temporal};
use workflows::OrderWorkflow;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("cafe");
    let client = temporal::connect().await?;
    let options = WorkerOptions::new(queues::CAFE)
        .register_workflow::<OrderWorkflow>()?
        .graceful_shutdown_period(GRACEFUL_SHUTDOWN)
        .build();
    // The cafe keeps its orders in Temporal itself (the workflow is the order's record).
    let ready = readiness(client.clone(), || async { Ok(()) });
    serve("cafe", 8091, client, options, ready, |_| async {}).await
}
