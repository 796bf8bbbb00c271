//! `/kitchen/tickets`: the kitchen board (from the view) and the barista's actions (workflow
//! updates, refused with 409 when not valid now).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Json;
use domain::{OrderId, OrderStatus, order_workflow_id};
use serde::Deserialize;
use temporalio_client::WorkflowExecuteUpdateOptions;
use workflows::OrderWorkflow;

use crate::commands::{UpdateOutcome, bounded, classify};
use crate::orders::finished_or_unknown;
use crate::view::OrderView;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/kitchen/tickets", get(board))
        .route("/kitchen/tickets/{order_id}/start", post(start))
        .route("/kitchen/tickets/{order_id}/complete", post(complete))
}

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    pub status: Option<String>,
    pub limit: Option<i64>,
}

async fn board(
    State(state): State<AppState>,
    query: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let Query(q) = query?;
    let status = match q.status.as_deref() {
        None => OrderStatus::Queued,
        Some(raw) => OrderStatus::parse(raw).ok_or_else(|| {
            ApiError::bad_request(format!("status must be one of Queued, Brewing, Completed, ... not {raw:?}"))
        })?,
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be from 1 to 500"));
    }
    Ok(Json(state.view.board(status, limit).await.map_err(ApiError::unavailable)?))
}

#[derive(Clone, Copy)]
enum Action {
    Start,
    Complete,
}

async fn start(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<OrderView>, ApiError> {
    act(&state, &raw, Action::Start).await
}

async fn complete(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<OrderView>, ApiError> {
    act(&state, &raw, Action::Complete).await
}

async fn act(state: &AppState, raw: &str, action: Action) -> Result<Json<OrderView>, ApiError> {
    let id = OrderId::parse(raw).map_err(|_| ApiError::not_found(format!("ticket {raw:?}")))?;
    let handle = state.temporal.get_workflow_handle::<OrderWorkflow>(order_workflow_id(&id));
    let options = WorkflowExecuteUpdateOptions::default();
    let result = match action {
        Action::Start => bounded(state, handle.execute_update(OrderWorkflow::start_brewing, (), options)).await?,
        Action::Complete => bounded(state, handle.execute_update(OrderWorkflow::complete_production, (), options)).await?,
    };
    match classify(result)? {
        UpdateOutcome::Done(order) => Ok(Json(order.into())),
        UpdateOutcome::Refused(why) => Err(ApiError::Conflict { detail: why }),
        UpdateOutcome::NoWorkflow => finished_or_unknown(state, &id).await,
    }
}
