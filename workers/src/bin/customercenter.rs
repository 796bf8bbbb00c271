//! The customercenter worker: keeps the read model (the view the API's queries read) current. An
//! order's projections arrive on its ingest route (from the cafe worker's local `projectOrder`);
//! a restock's as the `projectStock` activity on the `customercenter` queue.
//!
//! Run: `cargo run --bin customercenter`.

use activities::customercenter::{CustomerCenterActivities, INGEST_ROUTE, ViewDb};
use clap::Parser;
use tracing::Instrument as _;
use domain::{OrderProjection, queues};
use platform::config::DatabaseUrl;
use platform::internal::{InternalKeyConfig, require_key};
use workers::{Service, ServiceConfig, StoreConfig};

/// The customercenter worker's configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
struct Config {
    #[command(flatten)]
    service: ServiceConfig,
    #[command(flatten)]
    store: StoreConfig,
    /// This service's database; default:
    /// `postgres://postgres@127.0.0.1:<COFFEESHOP_PG_PORT>/customercenter` (the embedded PostgreSQL).
    #[arg(
        long,
        env = "CUSTOMERCENTER_DATABASE_URL",
        value_name = "CUSTOMERCENTER_DATABASE_URL"
    )]
    database_url: Option<DatabaseUrl>,
    /// The key the ingest route requires of its caller, the cafe worker.
    #[command(flatten)]
    internal: InternalKeyConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let mut service = Service::connect("customercenter", queues::CUSTOMERCENTER, &config.service).await?;
    let db = service
        .open_store(&config.store, config.database_url.as_ref(), |url| async move {
            Ok(ViewDb::connect(&url, 10).await?)
        })
        .await;
    service.worker().register_activities(CustomerCenterActivities { db: db.clone() });
    // The probes are open to anyone who reaches the port; the ingest route only to the cafe
    // worker.
    let ingest_route = axum::Router::new()
        .route(INGEST_ROUTE, axum::routing::post(ingest).with_state(db.clone()))
        .route_layer(axum::middleware::from_fn_with_state(config.internal.clone(), require_key));
    service.retention(config.store.retention, db).routes(ingest_route);
    service.run().await
}

/// An order's projection, from the cafe worker: `204` once stored (or found stale), `503` when the
/// view cannot take it now (the cafe worker's local activity retries). Served in the order's trace
/// (the cafe sends it in `traceparent`).
async fn ingest(
    axum::extract::State(db): axum::extract::State<ViewDb>,
    headers: axum::http::HeaderMap,
    axum::Json(p): axum::Json<OrderProjection>,
) -> axum::http::StatusCode {
    let span = tracing::info_span!("ingest projection", order_id = %p.order.order_id, status = %p.order.status);
    platform::telemetry::continue_trace(&span, &headers);
    project(db, p).instrument(span).await
}

async fn project(db: ViewDb, p: OrderProjection) -> axum::http::StatusCode {
    match db.project_order(&p).await {
        Ok(()) => {
            tracing::info!(order_id = %p.order.order_id, status = %p.order.status, "order step in the view");
            axum::http::StatusCode::NO_CONTENT
        }
        Err(e) => {
            tracing::warn!(order_id = %p.order.order_id, error = %e, "cannot store a projection now");
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
