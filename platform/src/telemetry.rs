//! One tracing setup for every process: `RUST_LOG` filter (default `info`); lines as text (in
//! colour only on a terminal, so log files stay plain) or, with `COFFEESHOP_LOG_FORMAT=json`, one
//! JSON object a line for log shippers. Spans and events carry `order_id`, so one order can be
//! followed across the API and every worker.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The variable that picks the log format: `text` (the default) or `json`.
pub const LOG_FORMAT_VAR: &str = "COFFEESHOP_LOG_FORMAT";

pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let format = std::env::var(LOG_FORMAT_VAR).unwrap_or_default();
    let lines = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match format.as_str() {
        "json" => lines.json().with_current_span(true).with_span_list(false).try_init(),
        _ => lines.with_ansi(std::io::stdout().is_terminal()).try_init(),
    };
    if !matches!(format.as_str(), "" | "text" | "json") {
        tracing::warn!("{LOG_FORMAT_VAR}={format:?} is not text or json; writing text");
    }
    tracing::info!(service, version = env!("CARGO_PKG_VERSION"), "starting");
}
