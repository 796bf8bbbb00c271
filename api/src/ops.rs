//! Operations endpoints: `/healthz` (the process is alive), `/readyz` (Temporal and the view's
//! database answer) and `/metrics` (Prometheus' text format, `metrics.rs`).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, description = "alive")))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: Temporal and the view's database answer.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "ready"), (status = 503, description = "not ready; the body says which part is missing")))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let temporal = match state.temporal() {
        Ok(client) => platform::temporal::is_serving(client, Duration::from_secs(1)).await,
        Err(_) => false,
    };
    let view = matches!(
        tokio::time::timeout(Duration::from_secs(1), state.view.ping()).await,
        Ok(Ok(()))
    );
    let status = if temporal && view {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({"temporal": temporal, "view": view})))
}

/// `GET /metrics`: the API's metrics, the circuit breaker's state read as it is now.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state.metrics.breaker_open.set(i64::from(state.guard.is_open()));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
