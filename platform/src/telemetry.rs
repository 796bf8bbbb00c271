//! One tracing setup for every process: `RUST_LOG` filter (default `info`), compact lines. Spans
//! and events carry `order_id`, so one order can be followed across the API and every worker.

use tracing_subscriber::EnvFilter;

pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
    tracing::info!(service, version = env!("CARGO_PKG_VERSION"), "starting");
}
