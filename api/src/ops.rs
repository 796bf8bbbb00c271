//! Operations endpoints: `/healthz` (the process is alive) and `/readyz` (Temporal and the view's
//! database answer).

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Json;
use serde_json::{Value, json};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { Json(json!({"status": "ok"})) })).route("/readyz", get(readyz))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let temporal = workers::temporal::is_serving(&state.temporal, Duration::from_secs(1)).await;
    let view = matches!(tokio::time::timeout(Duration::from_secs(1), state.view.ping()).await, Ok(Ok(())));
    let status = if temporal && view { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({"temporal": temporal, "view": view})))
}
